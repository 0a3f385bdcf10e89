package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

var allScope = scope.Everything()

// The engine's tests run it against the fake WeChat API on a real database and Redis (testenv), with
// a roster seeded straight into the database.

var testApp = config.WeChatApp{AppID: "wxbroadcasttest01", Secret: "s"}

// seen is a LastSeen that says who wrote within 48 hours.
type seen map[string]time.Time

func (s seen) Last(_ context.Context, _ string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, id := range ids {
		if t, ok := s[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}

// seed makes a county of towns × villages with n members in all, every tenth of them unbound (no
// openid); member i's openid is "o_i". It returns the member ids in order.
func seed(t testing.TB, db *gorm.DB, county string, towns, villages, n int) {
	t.Helper()
	root := models.Org{Name: county, Path: county, Level: models.LevelCounty}
	if err := db.Create(&root).Error; err != nil {
		t.Fatal(err)
	}
	var leaves []models.Org
	for i := range towns {
		town := models.Org{ParentID: &root.ID, Name: fmt.Sprintf("镇%d", i), Path: fmt.Sprintf("%s/镇%d", county, i), Level: models.LevelTown}
		if err := db.Create(&town).Error; err != nil {
			t.Fatal(err)
		}
		for j := range villages {
			v := models.Org{ParentID: &town.ID, Name: fmt.Sprintf("村%d", j), Path: fmt.Sprintf("%s/村%d", town.Path, j), Level: models.LevelVillage}
			if err := db.Create(&v).Error; err != nil {
				t.Fatal(err)
			}
			leaves = append(leaves, v)
		}
	}
	ms := make([]models.Member, 0, n)
	for i := range n {
		m := models.Member{Name: fmt.Sprintf("党员%d", i), Phone: fmt.Sprintf("139%08d", i), Role: models.RoleMember,
			OrgID: leaves[i%len(leaves)].ID, Active: true}
		if i%10 == 0 {
			m.Role = models.RoleSecretary
		}
		if i%10 != 9 {
			id := "o_" + strconv.Itoa(i)
			m.OAOpenID = &id
		}
		ms = append(ms, m)
	}
	if err := db.Omit("Org").CreateInBatches(ms, 1000).Error; err != nil {
		t.Fatal(err)
	}
}

// rig is an engine's surroundings: database, Redis, the fake WeChat API and a notifier on it.
type rig struct {
	db       *gorm.DB
	dbURL    string
	rdb      *kv.Redis
	redisURL string
	fake     *wxfake.Server
	fakeURL  string
	svc      *Service
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{dbURL: testenv.DatabaseURL(t), rdb: testenv.Redis(t), fake: wxfake.New()}
	var err error
	if r.db, err = models.Open(r.dbURL, testenv.Logger()); err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(r.db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := r.db.DB(); err == nil {
			s.Close()
		}
	})
	o := r.rdb.Options()
	r.redisURL = fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
	srv := httptest.NewServer(r.fake)
	t.Cleanup(srv.Close)
	r.fakeURL = srv.URL
	r.svc = New(r.db, testenv.Logger(), time.Now, nil)
	return r
}

// teller is the notifier every test engine sends through: template messages ("tpl") except to the
// users in the window.
func teller(rdb *kv.Redis, fakeURL string, in seen) *notify.Notifier {
	wxapi.Configure(fakeURL, nil)
	wx := wxapi.New(wxapi.Options{OA: testApp, Redis: rdb.Client, Log: testenv.Logger()})
	return notify.New(notify.Options{Sender: wx, LastSeen: in, TemplateID: "tpl"})
}

// fastOptions make retries, leases and polls short enough for a test.
func fastOptions(rdb *kv.Redis, t Teller) EngineOptions {
	return EngineOptions{Redis: rdb.Client, Teller: t, Rate: 1500, Burst: 20, MaxAttempts: 3, Backoff: 100 * time.Millisecond,
		ClaimLease: 10 * time.Second, HandOut: 3 * time.Second, SendTimeout: time.Second, Poll: 100 * time.Millisecond,
		OwnerLease: 2 * time.Second}
}

// waitFinal polls until broadcast id has no queued recipient and is done, or fails after d.
func waitFinal(t *testing.T, svc *Service, id uint, d time.Duration) *Progress {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		p, err := svc.Progress(context.Background(), allScope, id, true)
		if err != nil {
			t.Fatal(err)
		}
		var b models.Broadcast
		svc.db.Take(&b, id)
		if p.Queued == 0 && b.Status == models.BroadcastDone {
			return p
		}
		if time.Now().After(deadline) {
			var stuck []models.Delivery
			svc.db.Where("broadcast_id = ? AND status = ?", id, models.DeliveryQueued).Limit(3).Find(&stuck)
			t.Fatalf("broadcast %d not done after %s: %s %+v; now %s, queued e.g. %+v", id, d, b.Status, p.Counts, time.Now(), stuck)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTenThousandWithFailures: a notice to 10,000 members, with WeChat refusing some for good (43004),
// some over and over (45047), some never answering in time, and a burst of "system busy" (-1):
// every recipient ends final with the right reason, the rate limit holds at the fake, nobody gets it
// twice, and the customer-service message goes to those who wrote within 48 hours.
func TestTenThousandWithFailures(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 4, 10, 10000)
	in := seen{}
	for i := 0; i < 10000; i += 7 {
		in["o_"+strconv.Itoa(i)] = time.Now().Add(-time.Hour)
	}
	refused, quota, slow := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := 1; i < 10000; i += 10 {
		switch {
		case i%30 == 1:
			refused["o_"+strconv.Itoa(i)] = true
			r.fake.SetUserError("o_"+strconv.Itoa(i), notify.CodeNotFollowing)
		case i%30 == 11:
			quota["o_"+strconv.Itoa(i)] = true
			r.fake.SetUserError("o_"+strconv.Itoa(i), notify.CodeQuotaUsed)
		case i%600 == 21:
			slow["o_"+strconv.Itoa(i)] = true
			r.fake.SetUserDelay("o_"+strconv.Itoa(i), 10*time.Second) // far beyond the 1 s timeout, even under -race
		}
	}
	r.fake.Fail(wxfake.APITemplateSend, -1, 5)

	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "请于周五前完成党费缴纳。", Link: "https://example.com/n/1"})
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(r.svc, fastOptions(r.rdb, teller(r.rdb, r.fakeURL, in)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	p := waitFinal(t, r.svc, b.ID, 90*time.Second)
	cancel()
	<-done

	if p.Total() != 10000 || p.Skipped != 1000 {
		t.Fatalf("counts %+v, want 10,000 recipients of whom 1,000 skipped", p.Counts)
	}
	wantFailed := int64(len(refused) + len(quota) + len(slow))
	if p.Failed != wantFailed || p.Sent != 9000-wantFailed {
		t.Fatalf("counts %+v, want %d failed", p.Counts, wantFailed)
	}
	refusals := map[string]int{}
	for _, c := range r.fake.Calls() {
		if c.ErrCode == 43004 && len(c.To) == 1 {
			refusals[c.To[0]]++
		}
	}
	var rows []models.Delivery
	r.db.Where("broadcast_id = ?", b.ID).Find(&rows)
	for _, d := range rows {
		switch {
		case d.OpenID == "":
			if d.Status != models.DeliverySkipped || d.Reason != reasonUnbound {
				t.Fatalf("unbound member %d: %s %q", d.MemberID, d.Status, d.Reason)
			}
		case refused[d.OpenID]:
			if d.Status != models.DeliveryFailed || d.ErrCode != 43004 || refusals[d.OpenID] != 1 || !strings.Contains(d.Reason, "取消关注") {
				t.Fatalf("43004 %s: %+v, refused %d times (never retried after it, with the reason)", d.OpenID, d, refusals[d.OpenID])
			}
		case quota[d.OpenID]:
			if d.Status != models.DeliveryFailed || d.ErrCode != 45047 || d.Attempts != 3 || !strings.HasPrefix(d.Reason, "重试次数用完") {
				t.Fatalf("45047 %s: %+v (retried, then retries used up)", d.OpenID, d)
			}
		case slow[d.OpenID]:
			if d.Status != models.DeliveryFailed || d.Attempts != 3 || !strings.Contains(d.Reason, "超时") || !d.Unsure {
				t.Fatalf("timeout %s: %+v", d.OpenID, d)
			}
		default:
			if d.Status != models.DeliverySent {
				t.Fatalf("%s: %+v", d.OpenID, d)
			}
			want := notify.ViaTemplate
			if _, ok := in[d.OpenID]; ok {
				want = notify.ViaText
			}
			if d.Via != want {
				t.Fatalf("%s went by %q, want %q", d.OpenID, d.Via, want)
			}
		}
	}
	// A send that timed out at our end but went through at WeChat's may be repeated: never uncounted.
	dup := map[string]int{}
	for _, d := range rows {
		dup[d.OpenID] = d.Dup
	}
	got := r.fake.Delivered()
	for id, n := range got {
		if n-1 > dup[id] {
			t.Fatalf("%s got the notice %d times (%d counted as possible duplicates)", id, n, dup[id])
		}
	}
	if len(got) != int(p.Sent) {
		t.Fatalf("the fake delivered %d, the database says %d sent", len(got), p.Sent)
	}
	// The limiter admits at most 1,500·3 + 20 calls in any 3 s; the fake sees them up to a few
	// hundred milliseconds late on a loaded machine (under -race), so 200 ms of admissions are allowed
	// on top. Without the limit (Rate 150,000) this engine sent 6,534 in 3 s on the 2-core machine.
	most := r.fake.MaxInWindow(3 * time.Second)
	t.Logf("most calls in 3 s: %d (most in one clock second %d)", most, r.fake.MaxPerSecond())
	if most > 1500*3+20+300 {
		t.Fatalf("%d calls in 3 s: the rate limit (1,500/s, burst 20) was exceeded", most)
	}
	var texts []string
	for _, c := range r.fake.CallsTo(wxfake.APICustomSend) {
		if c.OK() {
			texts = append(texts, c.Text)
		}
	}
	if len(texts) == 0 || texts[0] != "请于周五前完成党费缴纳。\nhttps://example.com/n/1" {
		t.Fatalf("customer-service texts: %d, first %q", len(texts), texts)
	}
}

// TestKilledWorkerLosesNobody: a process sending a broadcast is killed with SIGKILL in the middle;
// another one takes over: every recipient ends sent, duplicates are within the in-flight window and
// counted.
func TestKilledWorkerLosesNobody(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	r := newRig(t)
	seed(t, r.db, "测试县", 2, 10, 6000)
	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "今晚八点开会。"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEngineProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "YZ_BC_CHILD=1", "YZ_BC_DB="+r.dbURL, "YZ_BC_REDIS="+r.redisURL, "YZ_BC_FAKE="+r.fakeURL)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once about a third has gone out.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n := len(r.fake.Delivered()); n >= 1800 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the child sent too little:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := len(r.fake.Delivered())
	if before >= 5400 {
		t.Fatalf("the child finished (%d sent) before it was killed", before)
	}

	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, nil))
	o.SendTimeout = 10 * time.Second // no timeouts: every duplicate is the kill's
	eng := NewEngine(r.svc, o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { eng.Run(ctx) })
	p := waitFinal(t, r.svc, b.ID, 90*time.Second)
	cancel()
	wg.Wait()
	if p.Sent != 5400 || p.Skipped != 600 || p.Failed != 0 {
		t.Fatalf("after the restart: %+v, want 5,400 sent and 600 skipped", p.Counts)
	}
	dups := 0
	for _, n := range r.fake.Delivered() {
		if n > 1 {
			dups += n - 1
		}
	}
	if len(r.fake.Delivered()) != 5400 {
		t.Fatalf("the fake delivered to %d users, want 5,400", len(r.fake.Delivered()))
	}
	window := eng.InFlightWindow()
	if dups > window || int64(dups) > p.Dup {
		t.Fatalf("duplicates: %d at the fake, %d counted, in-flight window %d", dups, p.Dup, window)
	}
	t.Logf("killed after %d sent; %d duplicates at the fake, %d counted as possible, window %d", before, dups, p.Dup, window)
}

// TestEngineProcess is the process TestKilledWorkerLosesNobody kills: an engine on the parent's
// database, Redis and fake WeChat API, running until killed.
func TestEngineProcess(t *testing.T) {
	if os.Getenv("YZ_BC_CHILD") == "" {
		t.Skip("run by TestKilledWorkerLosesNobody")
	}
	db, err := models.Open(os.Getenv("YZ_BC_DB"), testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := kv.Open(context.Background(), os.Getenv("YZ_BC_REDIS"))
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions(rdb, teller(rdb, os.Getenv("YZ_BC_FAKE"), nil))
	o.Rate, o.SendTimeout = 2000, 10*time.Second
	NewEngine(New(db, testenv.Logger(), time.Now, nil), o).Run(context.Background())
}

// TestPersonalLinks: a broadcast whose kind gives personal links (a survey's) tells each recipient
// his own link, in the chat text and the template message alike; a notice keeps its one link.
func TestPersonalLinks(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 1, 2, 20)
	in := seen{"o_1": time.Now().Add(-time.Hour)} // o_1 in the 48-hour window: a chat text; others: templates
	var county models.Org
	r.db.Where("path = ?", "测试县").Take(&county)
	b := models.Broadcast{Kind: models.BroadcastSurvey, Title: "问卷调查", Text: "请填写问卷。", Payload: `{"survey_id":7}`,
		OrgPath: "测试县", Status: models.BroadcastScheduled, SendAt: time.Now(), CreatedBy: "test",
		Orgs: []models.BroadcastOrg{{OrgID: county.ID, Path: "测试县"}}}
	if err := r.db.Omit("Orgs.Org").Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, in))
	var asked []string
	o.PersonalLinks = func(_ context.Context, id uint, kind, payload string) (func(uint) string, error) {
		asked = append(asked, fmt.Sprintf("%d %s %s", id-b.ID, kind, payload))
		if kind != models.BroadcastSurvey {
			return nil, nil
		}
		return func(m uint) string { return fmt.Sprintf("https://yz.example/s/m%d", m) }, nil
	}
	eng := NewEngine(r.svc, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	waitFinal(t, r.svc, b.ID, 30*time.Second)
	cancel()
	<-done

	var m1 models.Member
	r.db.Where("oa_open_id = ?", "o_1").Take(&m1)
	if got := r.fake.TextsTo("o_1"); len(got) != 1 || !strings.HasSuffix(got[0], fmt.Sprintf("\nhttps://yz.example/s/m%d", m1.ID)) {
		t.Fatalf("o_1 was told %q", got)
	}
	links := map[string]bool{}
	for _, c := range r.fake.CallsTo(wxfake.APITemplateSend) {
		var body struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(body.URL, "https://yz.example/s/m") || links[body.URL] {
			t.Fatalf("template message with url %q (seen before: %v)", body.URL, links[body.URL])
		}
		links[body.URL] = true
	}
	if len(links) != 17 { // 20 members, 2 with no WeChat bound, 1 told in the chat
		t.Fatalf("%d personal template links, want 17", len(links))
	}
	if len(asked) == 0 || asked[0] != `0 survey {"survey_id":7}` {
		t.Fatalf("PersonalLinks asked %q", asked)
	}
}
