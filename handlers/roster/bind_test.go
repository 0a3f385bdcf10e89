package roster

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// seed imports a small roster and returns the bind codes by phone.
func seed(t *testing.T, s *Service) map[string]string {
	t.Helper()
	res, err := s.Import(context.Background(), csvFile("姓名,手机号,角色,组织",
		"张国华,13800001001,书记,洪雅县/花溪镇/郭沟村",
		"李秀英,13800001002,党建专干,洪雅县/花溪镇/郭沟村",
		"王德明,13800001003,党员,洪雅县/花溪镇/双河村",
		"周建平,13800001004,管理员,洪雅县",
	), "seed.csv")
	if err != nil || len(res.Errors) != 0 {
		t.Fatalf("seed: %+v, %v", res, err)
	}
	codes := map[string]string{}
	for _, u := range res.Unbound {
		codes[u.Phone] = u.BindCode
	}
	return codes
}

func TestNewCodeAndNormalize(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		c := newCode()
		if NormalizeCode(c) != c {
			t.Fatalf("code %q does not survive NormalizeCode", c)
		}
		seen[c] = true
	}
	if len(seen) != 10000 {
		t.Fatalf("%d distinct codes of 10000", len(seen))
	}
	for in, want := range map[string]string{
		"k7m2q9tx":    "K7M2Q9TX",
		" K7M2-Q9TX ": "K7M2Q9TX",
		"Ｋ７Ｍ２Ｑ９ＴＸ":    "K7M2Q9TX",
		"K7M2 Q9TX":   "K7M2Q9TX",
		"K7M2Q9T":     "",
		"K7M2Q9TXX":   "",
		"K0M2Q9TX":    "", // 0 is not in the alphabet
		"KIM2Q9TX":    "",
		"":            "",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBindCodesUniqueAndOneTime(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	codes := seed(t, s)
	if len(codes) != 4 {
		t.Fatalf("codes = %v", codes)
	}
	distinct := map[string]bool{}
	for _, c := range codes {
		distinct[c] = true
	}
	if len(distinct) != 4 {
		t.Fatalf("codes not unique: %v", codes)
	}

	code := codes["13800001002"]
	m, err := s.Bind(ctx, bot.ChannelOA, "o-li", " ＿"+code[:4]+"-"+lower(code[4:]))
	if !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("garbled code: %v", err)
	}
	m, err = s.Bind(ctx, bot.ChannelOA, "o-li", lower(code[:4])+" "+code[4:])
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "李秀英" || m.OAOpenID == nil || *m.OAOpenID != "o-li" || m.BindCode != nil || m.BoundAt == nil || m.Org.Path != "洪雅县/花溪镇/郭沟村" {
		t.Fatalf("bound member = %+v", m)
	}
	// Used up.
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-other", code); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("second use of a code: %v, want ErrCodeInvalid", err)
	}
	// This WeChat is bound already: say to whom.
	m, err = s.Bind(ctx, bot.ChannelOA, "o-li", codes["13800001003"])
	if !errors.Is(err, ErrAlreadyBound) || m == nil || m.Name != "李秀英" {
		t.Fatalf("bind a bound openid: %+v, %v", m, err)
	}
	if m := memberByPhone(t, db, "13800001003"); m.BindCode == nil || m.Bound() {
		t.Fatal("a refused bind must leave the other member's code alone")
	}
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-x", "ZZZZZZZZ"); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("unknown code: %v", err)
	}
	if _, err := s.Bind(ctx, "sms", "o-x", codes["13800001003"]); !errors.Is(err, ErrBadChannel) {
		t.Fatalf("bad channel: %v", err)
	}

	// The mini-program channel sets its own openid.
	m, err = s.Bind(ctx, bot.ChannelMP, "mp-wang", codes["13800001003"])
	if err != nil || m.MPOpenID == nil || *m.MPOpenID != "mp-wang" || m.OAOpenID != nil {
		t.Fatalf("mp bind = %+v, %v", m, err)
	}

	// An inactive member cannot bind.
	db.Model(&models.Member{}).Where("phone = ?", "13800001004").Update("active", false)
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-zhou", codes["13800001004"]); !errors.Is(err, ErrMemberInactive) {
		t.Fatalf("inactive: %v", err)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestBindConcurrentOneWinner(t *testing.T) {
	s, db, _ := newService(t)
	code := seed(t, s)["13800001001"]
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		others  []error
	)
	start := make(chan struct{})
	for i := range 10 {
		openID := "o-" + string(rune('a'+i))
		wg.Go(func() {
			<-start
			_, err := s.Bind(context.Background(), bot.ChannelOA, openID, code)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				winners = append(winners, openID)
			} else {
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d winners: %v (errors %v)", len(winners), winners, others)
	}
	for _, err := range others {
		if !errors.Is(err, ErrCodeInvalid) {
			t.Fatalf("loser got %v, want ErrCodeInvalid", err)
		}
	}
	m := memberByPhone(t, db, "13800001001")
	if m.OAOpenID == nil || *m.OAOpenID != winners[0] || m.BindCode != nil {
		t.Fatalf("member = %+v, winner %s", m, winners[0])
	}
}

func TestUnbindIssuesNewCode(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	codes := seed(t, s)
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-zhang", codes["13800001001"]); err != nil {
		t.Fatal(err)
	}
	m, err := s.Unbind(ctx, bot.ChannelOA, "o-zhang")
	if err != nil {
		t.Fatal(err)
	}
	if m.OAOpenID != nil || m.BoundAt != nil || m.BindCode == nil || *m.BindCode == codes["13800001001"] {
		t.Fatalf("unbound member = %+v", m)
	}
	if _, err := s.Unbind(ctx, bot.ChannelOA, "o-zhang"); !errors.Is(err, ErrNotBound) {
		t.Fatalf("second unbind: %v", err)
	}
	if id, _ := s.MemberByOpenID(ctx, bot.ChannelOA, "o-zhang"); id != nil {
		t.Fatalf("identity after unbind = %+v", id)
	}
	// The old code stays dead; the new one binds (another WeChat, say a new phone).
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-new", codes["13800001001"]); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("old code after unbind: %v", err)
	}
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-new", *m.BindCode); err != nil {
		t.Fatal(err)
	}

	// Unbinding one channel keeps the other, and issues a code for the unbound channel.
	if _, err := s.Bind(ctx, bot.ChannelMP, "mp-li", codes["13800001002"]); err != nil {
		t.Fatal(err)
	}
	db.Model(&models.Member{}).Where("phone = ?", "13800001002").Update("oa_open_id", "o-li")
	m, err = s.Unbind(ctx, bot.ChannelMP, "mp-li")
	if err != nil || m.MPOpenID != nil || m.OAOpenID == nil || m.BoundAt == nil {
		t.Fatalf("unbind mp only = %+v, %v", m, err)
	}
}

func TestMemberByOpenID(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	codes := seed(t, s)
	if id, err := s.MemberByOpenID(ctx, bot.ChannelOA, "o-nobody"); id != nil || err != nil {
		t.Fatalf("unbound = %+v, %v", id, err)
	}
	bound, err := s.Bind(ctx, bot.ChannelOA, "o-wang", codes["13800001003"])
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.MemberByOpenID(ctx, bot.ChannelOA, "o-wang")
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Member{ID: bound.ID, Name: "王德明", Role: models.RoleMember, OrgID: bound.OrgID, OrgPath: "洪雅县/花溪镇/双河村"}
	if id == nil || *id != want {
		t.Fatalf("identity = %+v, want %+v", id, want)
	}
	if id, _ := s.MemberByOpenID(ctx, bot.ChannelMP, "o-wang"); id != nil {
		t.Fatal("an OA openid must not match on the mini-program channel")
	}
	db.Model(&models.Member{}).Where("id = ?", bound.ID).Update("active", false)
	if id, _ := s.MemberByOpenID(ctx, bot.ChannelOA, "o-wang"); id != nil {
		t.Fatal("an inactive member has no identity")
	}
	// Such a user may bind to another member: the inactive one lets go of the openid.
	m, err := s.Bind(ctx, bot.ChannelOA, "o-wang", codes["13800001004"])
	if err != nil || m.Name != "周建平" {
		t.Fatalf("bind after leaving the roster: %+v, %v", m, err)
	}
	if old := memberByPhone(t, db, "13800001003"); old.OAOpenID != nil {
		t.Fatal("the inactive member kept the openid")
	}
}

func TestUnboundMembers(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	codes := seed(t, s)
	if _, err := s.Bind(ctx, bot.ChannelOA, "o-zhang", codes["13800001001"]); err != nil {
		t.Fatal(err)
	}
	// A member created outside the import has no code yet: listing issues one.
	var village models.Org
	db.Where("path = ?", "洪雅县/花溪镇/郭沟村").Take(&village)
	db.Create(&models.Member{Name: "郭晓燕", Phone: "13800001005", Role: models.RoleMember, OrgID: village.ID, Active: true})

	list, err := s.UnboundMembers(ctx, "洪雅县/花溪镇/郭沟村")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].OrgPath != "洪雅县/花溪镇/郭沟村" {
		t.Fatalf("village list = %+v", list)
	}
	for _, u := range list {
		if u.BindCode == "" || u.Name == "张国华" {
			t.Fatalf("entry %+v", u)
		}
	}
	town, err := s.UnboundMembers(ctx, "洪雅县/花溪镇")
	if err != nil || len(town) != 3 {
		t.Fatalf("town list = %+v, %v", town, err)
	}
	all, err := s.UnboundMembers(ctx, "")
	if err != nil || len(all) != 4 {
		t.Fatalf("all = %+v, %v", all, err)
	}
	if _, err := s.UnboundMembers(ctx, "洪雅县/花溪"); !errors.Is(err, ErrOrgNotFound) {
		t.Fatalf("unknown org (a prefix of a name, not of a path): %v", err)
	}
	if n, err := s.EnsureBindCodes(ctx, ""); n != 0 || err != nil {
		t.Fatalf("EnsureBindCodes after listing = %d, %v", n, err)
	}
}
