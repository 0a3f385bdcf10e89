package broadcast_test

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
)

const publicURL = "https://yz.example.gov.cn"

// open fetches a public page as a phone would (no session), and returns its status, body and headers.
func open(t *testing.T, e *consoletest.Env, path string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// linkIn is the personal link at the end of the last chat message to openID (its path on this server).
func linkIn(t *testing.T, e *consoletest.Env, openID string) string {
	t.Helper()
	texts := e.Fake.TextsTo(openID)
	if len(texts) == 0 {
		t.Fatalf("nothing told to %s", openID)
	}
	last := texts[len(texts)-1]
	u := last[strings.LastIndexByte(last, '\n')+1:]
	path, ok := strings.CutPrefix(u, publicURL)
	if !ok || !strings.HasPrefix(path, "/n/") {
		t.Fatalf("%s was told %q: no notice link at the end", openID, last)
	}
	return path
}

type readCounts struct {
	Counts struct {
		Sent     int64   `json:"sent"`
		Read     int64   `json:"read"`
		ReadRate float64 `json:"read_rate"`
	} `json:"counts"`
	Units []struct {
		Path   string `json:"path"`
		Counts struct {
			Sent     int64   `json:"sent"`
			Read     int64   `json:"read"`
			ReadRate float64 `json:"read_rate"`
		} `json:"counts"`
	} `json:"units"`
	RemindOf uint `json:"remind_of"`
	ID       uint `json:"id"`
}

func readsOf(t *testing.T, e *consoletest.Env, user string, id uint) readCounts {
	t.Helper()
	var out readCounts
	if st, body := e.API(e.Token(user), http.MethodGet, "/api/v1/broadcasts/"+itoa(id), nil, &out); st != http.StatusOK {
		t.Fatalf("broadcast %d as %s: %d %s", id, user, st, body)
	}
	return out
}

func readAt(t *testing.T, e *consoletest.Env, id uint, name string) *time.Time {
	t.Helper()
	var d models.Delivery
	if err := e.App.DB().Joins("JOIN members m ON m.id = deliveries.member_id").Where("deliveries.broadcast_id = ? AND m.name = ?", id, name).
		Take(&d).Error; err != nil {
		t.Fatalf("delivery of %d to %s: %v", id, name, err)
	}
	return d.ReadAt
}

// readTally is the read tally of broadcast id, summed over its orgs.
func readTally(t *testing.T, e *consoletest.Env, id uint) int64 {
	t.Helper()
	var n int64
	e.App.DB().Model(&models.BroadcastTally{}).Where("broadcast_id = ? AND status = ?", id, broadcast.TallyRead).Select("COALESCE(SUM(n), 0)").Row().Scan(&n)
	return n
}

// TestNoticeRead: with personal links, each recipient's message carries his own link to the notice's
// page in place of the notice's link; the page shows the text escaped, the time, the sender and
// 查看原文; the first opening marks him read (once: opening again changes nothing), a forged, expired
// or other kind of token marks nobody; the figures (API, console page, per village, a secretary's
// part) count the reads, and 已送达未读 lists who has not opened it. 提醒未读 then goes to the unread
// only, and opening the reminder marks the notice read too; a second reminder is refused.
func TestNoticeRead(t *testing.T) {
	e := consoletest.New(t)
	key := linktoken.Key(consoletest.OA.Secret, consoletest.OA.AESKey)
	e.App.BroadcastService().UseNoticeLinks(key, publicURL+"/")
	e.BindSeen("o_zhang", "张国华") // 郭沟村
	e.BindSeen("o_chen", "陈志强")  // 双河村
	e.BindSeen("o_yang", "杨丽华")  // 双河村
	const text = `请周五前报送材料 <script>alert(1)</script>`
	var b readCounts
	if st, body := e.API(e.Token(consoletest.County), http.MethodPost, "/api/v1/broadcasts",
		map[string]any{"org_paths": []string{"洪雅县/花溪镇"}, "title": "材料报送", "text": text, "link": "https://example.com/rules?a=1&b=2"}, &b); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	runUntil(t, e, b.ID, models.BroadcastDone)

	zhang := linkIn(t, e, "o_zhang")
	if msg := e.Fake.TextsTo("o_zhang")[0]; strings.Contains(msg, "example.com") || !strings.HasPrefix(msg, "请周五前报送材料") {
		t.Fatalf("the message keeps the notice's own link or lost its text: %q", msg)
	}
	if linkIn(t, e, "o_chen") == zhang {
		t.Fatal("two recipients got one link")
	}
	if r := readsOf(t, e, consoletest.County, b.ID); r.Counts.Sent != 3 || r.Counts.Read != 0 {
		t.Fatalf("before anyone opened it: %+v", r.Counts)
	}

	st, page, h := open(t, e, zhang)
	if st != http.StatusOK || strings.Contains(page, "<script>alert(1)</script>") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		!strings.Contains(page, "材料报送") || !strings.Contains(page, "查看原文") || !strings.Contains(page, `href="https://example.com/rules?a=1&amp;b=2"`) ||
		!strings.Contains(page, "花溪镇") || !strings.Contains(page, "2026-11-20") || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("notice page: %d %v\n%s", st, h, page)
	}
	first := readAt(t, e, b.ID, "张国华")
	if first == nil || readTally(t, e, b.ID) != 1 {
		t.Fatalf("not marked read: %v, tally %d", first, readTally(t, e, b.ID))
	}
	e.Clock.Add(time.Hour)
	if st, _, _ := open(t, e, zhang); st != http.StatusOK {
		t.Fatalf("second opening: %d", st)
	}
	if again := readAt(t, e, b.ID, "张国华"); again == nil || !again.Equal(*first) || readTally(t, e, b.ID) != 1 {
		t.Fatalf("the second opening changed it: %v → %v, tally %d", first, again, readTally(t, e, b.ID))
	}

	// Forged (张国华's token with 陈志强's id under the old signature), expired, of another kind, garbage.
	db := e.App.DB()
	var chen models.Member
	db.Where("name = ?", "陈志强").Take(&chen)
	tok := strings.TrimPrefix(zhang, "/n/")
	body64, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body64)
	forged := append([]byte{raw[0]}, binary.AppendUvarint(nil, uint64(b.ID))...)
	forged = binary.AppendUvarint(forged, uint64(chen.ID))
	forged = binary.AppendUvarint(forged, uint64(e.Clock.Now().Add(time.Hour).Unix()))
	signer := linktoken.New(key, e.Clock.Now)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/n/" + base64.RawURLEncoding.EncodeToString(forged) + "." + sig, http.StatusForbidden},
		{"/n/" + signer.Sign(linktoken.Survey, b.ID, chen.ID, e.Clock.Now().Add(time.Hour)), http.StatusForbidden},
		{"/n/" + linktoken.New([]byte("another key"), nil).Sign(linktoken.Notice, b.ID, chen.ID, e.Clock.Now().Add(time.Hour)), http.StatusForbidden},
		{"/n/garbage", http.StatusForbidden},
		{"/n/" + signer.Sign(linktoken.Notice, b.ID, chen.ID, e.Clock.Now().Add(-time.Minute)), http.StatusGone},
	} {
		if st, page, _ := open(t, e, c.path); st != c.want || strings.Contains(page, "请周五前报送材料") {
			t.Errorf("%s: %d, want %d without the notice\n%.300s", c.path, st, c.want, page)
		}
	}
	if readAt(t, e, b.ID, "陈志强") != nil || readTally(t, e, b.ID) != 1 {
		t.Fatal("a bad token marked 陈志强 read")
	}

	// The figures: the county's, per village; the 郭沟村 secretary sees his village only.
	r := readsOf(t, e, consoletest.County, b.ID)
	units := map[string][3]float64{}
	for _, u := range r.Units {
		units[u.Path] = [3]float64{float64(u.Counts.Sent), float64(u.Counts.Read), u.Counts.ReadRate}
	}
	if r.Counts.Read != 1 || r.Counts.ReadRate != 33.3 || units["洪雅县/花溪镇/郭沟村"] != [3]float64{1, 1, 100} || units["洪雅县/花溪镇/双河村"] != [3]float64{2, 0, 0} {
		t.Fatalf("county figures: %+v %v", r.Counts, units)
	}
	if sec := readsOf(t, e, consoletest.Secretary, b.ID); sec.Counts.Sent != 1 || sec.Counts.Read != 1 || len(sec.Units) != 1 {
		t.Fatalf("the secretary's figures: %+v", sec)
	}
	county := e.Login(consoletest.County)
	pagePath := "/console/broadcasts/" + itoa(b.ID)
	if res, body := county.Get(pagePath); res.StatusCode != http.StatusOK || !strings.Contains(body, "已读 · 33.3%") || !strings.Contains(body, "提醒未读") {
		t.Fatalf("console page: %d\n%.3000s", res.StatusCode, body)
	}
	if _, body := county.Get(pagePath + "?status=unread"); !strings.Contains(body, "陈志强") || !strings.Contains(body, "杨丽华") || strings.Contains(body, ">张国华<") {
		t.Fatalf("the unread list:\n%.3000s", body)
	}
	if _, body := county.Get(pagePath + "?status=read"); strings.Contains(body, "陈志强") || !strings.Contains(body, ">张国华<") {
		t.Fatalf("the read list:\n%.3000s", body)
	}

	// 提醒未读: to 陈志强 and 杨丽华 only; 陈志强 opens the reminder: both read.
	tok2 := e.Token(consoletest.County)
	var rem readCounts
	if st, body := e.API(tok2, http.MethodPost, "/api/v1/broadcasts/"+itoa(b.ID)+"/remind", nil, &rem); st != http.StatusCreated || rem.RemindOf != b.ID {
		t.Fatalf("remind: %d %s", st, body)
	}
	runUntil(t, e, rem.ID, models.BroadcastDone)
	var reminded []string
	db.Table("deliveries d").Joins("JOIN members m ON m.id = d.member_id").Where("d.broadcast_id = ?", rem.ID).Order("m.name").Pluck("m.name", &reminded)
	if strings.Join(reminded, ",") != "杨丽华,陈志强" || len(e.Fake.TextsTo("o_zhang")) != 1 {
		t.Fatalf("reminded %v (张国华 told %d times)", reminded, len(e.Fake.TextsTo("o_zhang")))
	}
	if msg := e.Fake.TextsTo("o_chen")[1]; !strings.HasPrefix(msg, "（提醒）请周五前报送材料") {
		t.Fatalf("reminder text %q", msg)
	}
	if st, page, _ := open(t, e, linkIn(t, e, "o_chen")); st != http.StatusOK || !strings.Contains(page, "请周五前报送材料") || strings.Contains(page, "（提醒）") {
		t.Fatalf("reminder page: %d\n%.500s", st, page)
	}
	if readAt(t, e, b.ID, "陈志强") == nil || readAt(t, e, rem.ID, "陈志强") == nil || readTally(t, e, b.ID) != 2 || readTally(t, e, rem.ID) != 1 {
		t.Fatal("opening the reminder did not mark the notice and the reminder read")
	}
	if st, body := e.API(tok2, http.MethodPost, "/api/v1/broadcasts/"+itoa(b.ID)+"/remind", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, "一小时") {
		t.Fatalf("a second reminder at once: %d %s", st, body)
	}
	if st, body := e.API(tok2, http.MethodPost, "/api/v1/broadcasts/"+itoa(rem.ID)+"/remind", nil, nil); st != http.StatusBadRequest {
		t.Fatalf("a reminder of a reminder: %d %s", st, body)
	}
	if st, _ := e.API(e.Token(consoletest.Secretary), http.MethodPost, "/api/v1/broadcasts/"+itoa(b.ID)+"/remind", nil, nil); st != http.StatusForbidden {
		t.Fatalf("a secretary reminded: %d", st)
	}
}

// TestNoReadsWithoutLinks: without the server's public address notices carry no personal link (the
// notice's own link stays in the message), the page offers no 提醒未读 and the API refuses it.
func TestNoReadsWithoutLinks(t *testing.T) {
	e := consoletest.New(t)
	e.BindSeen("o_zhang", "张国华")
	var b readCounts
	if st, body := e.API(e.Token(consoletest.County), http.MethodPost, "/api/v1/broadcasts",
		map[string]any{"org_paths": []string{"洪雅县/花溪镇/郭沟村"}, "text": "开会", "link": "https://example.com/x"}, &b); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	runUntil(t, e, b.ID, models.BroadcastDone)
	if got := e.Fake.TextsTo("o_zhang"); len(got) != 1 || got[0] != "开会\nhttps://example.com/x" {
		t.Fatalf("told %q", got)
	}
	if _, body := e.Login(consoletest.County).Get("/console/broadcasts/" + itoa(b.ID)); strings.Contains(body, "提醒未读") {
		t.Fatal("提醒未读 offered without links")
	}
	if st, body := e.API(e.Token(consoletest.County), http.MethodPost, "/api/v1/broadcasts/"+itoa(b.ID)+"/remind", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, "YANZHEN_PUBLIC_URL") {
		t.Fatalf("remind without links: %d %s", st, body)
	}
}
