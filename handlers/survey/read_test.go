package survey_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
)

// sendOut runs the broadcast engine until the survey's notice has gone out, and returns its broadcast.
func sendOut(t *testing.T, e *consoletest.Env, surveyID uint) models.Broadcast {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.App.Broadcasts().Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var b models.Broadcast
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		e.App.DB().Where("kind = ? AND payload = ?", models.BroadcastSurvey, `{"survey_id":`+itoa(surveyID)+`}`).Take(&b)
		if b.Status == models.BroadcastDone {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survey's broadcast is %q", b.Status)
		}
	}
}

func delivery(t *testing.T, e *consoletest.Env, broadcastID uint, name string) models.Delivery {
	t.Helper()
	var d models.Delivery
	if err := e.App.DB().Joins("JOIN members m ON m.id = deliveries.member_id").Where("deliveries.broadcast_id = ? AND m.name = ?", broadcastID, name).
		Take(&d).Error; err != nil {
		t.Fatalf("delivery to %s: %v", name, err)
	}
	return d
}

func tally(t *testing.T, e *consoletest.Env, broadcastID uint, status string) int64 {
	t.Helper()
	var n int64
	e.App.DB().Model(&models.BroadcastTally{}).Where("broadcast_id = ? AND status = ?", broadcastID, status).Select("COALESCE(SUM(n), 0)").Row().Scan(&n)
	return n
}

type reachOut struct {
	Results struct {
		Received int64   `json:"received"`
		Read     int64   `json:"read"`
		ReadRate float64 `json:"read_rate"`
		Finished int64   `json:"finished"`
		Units    []struct {
			OrgPath  string  `json:"org_path"`
			Received int64   `json:"received"`
			Read     int64   `json:"read"`
			ReadRate float64 `json:"read_rate"`
		} `json:"units"`
	} `json:"results"`
}

// TestSurveyRead: opening the form (GET) marks the member read on the survey's broadcast, once; a
// forged or expired link marks nobody; starting the survey in the chat is read too, and finishing it
// read and answered; the results (API, console page) and the broadcast's figures count them per
// village.
func TestSurveyRead(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	for _, p := range [][2]string{{"o-wang", "王德明"}, {"o-liu", "刘桂兰"}, {"o-yang", "杨丽华"}} {
		e.BindSeen(p[0], p[1])
	}
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	b := sendOut(t, e, sv.ID)
	s := e.App.Surveys()
	wang, liu := memberID(t, db, "王德明"), memberID(t, db, "刘桂兰")

	link := s.LinkFor(sv.ID, wang, e.Clock.Now().Add(time.Hour))
	if st, body := h5(t, e, http.MethodGet, link, nil); st != http.StatusOK || !strings.Contains(body, "王德明") {
		t.Fatalf("form: %d %.300s", st, body)
	}
	first := delivery(t, e, b.ID, "王德明").ReadAt
	if first == nil || tally(t, e, b.ID, broadcast.TallyRead) != 1 {
		t.Fatalf("opening the form: read %v, tally %d", first, tally(t, e, b.ID, broadcast.TallyRead))
	}
	e.Clock.Add(time.Minute)
	h5(t, e, http.MethodGet, link, nil)
	if again := delivery(t, e, b.ID, "王德明").ReadAt; !again.Equal(*first) || tally(t, e, b.ID, broadcast.TallyRead) != 1 {
		t.Fatalf("opened again: %v → %v, tally %d", first, again, tally(t, e, b.ID, broadcast.TallyRead))
	}

	// 刘桂兰's links: forged (signed by another key), of another kind, expired: nobody read.
	other := linktoken.New([]byte("another key"), e.Clock.Now)
	notice := linktoken.New(linktoken.Key(consoletest.OA.Secret, consoletest.OA.AESKey), e.Clock.Now)
	for _, p := range []string{
		"/s/" + other.Sign(linktoken.Survey, sv.ID, liu, e.Clock.Now().Add(time.Hour)),
		"/s/" + notice.Sign(linktoken.Notice, sv.ID, liu, e.Clock.Now().Add(time.Hour)),
		s.LinkFor(sv.ID, liu, e.Clock.Now().Add(-time.Second)),
	} {
		if st, _ := h5(t, e, http.MethodGet, p, nil); st != http.StatusForbidden && st != http.StatusGone {
			t.Errorf("%s: %d", p, st)
		}
	}
	if d := delivery(t, e, b.ID, "刘桂兰"); d.ReadAt != nil {
		t.Fatalf("a bad link marked 刘桂兰 read: %+v", d)
	}

	// 刘桂兰 in the chat: starting is read; 王德明 submits the form: answered.
	chat(t, e, "o-liu", "问卷", "待填写")
	chat(t, e, "o-liu", "1", "第1题")
	if d := delivery(t, e, b.ID, "刘桂兰"); d.ReadAt == nil || d.AnsweredAt != nil {
		t.Fatalf("started in the chat: %+v", d)
	}
	if st, body := h5(t, e, http.MethodPost, link, url.Values{"q1": {"1"}, "q3": {"4"}, "action": {"submit"}}); st != http.StatusOK {
		t.Fatalf("submit: %d %.300s", st, body)
	}
	if d := delivery(t, e, b.ID, "王德明"); d.AnsweredAt == nil || !d.ReadAt.Equal(*first) {
		t.Fatalf("submitted: %+v", d)
	}
	if tally(t, e, b.ID, broadcast.TallyRead) != 2 || tally(t, e, b.ID, broadcast.TallyAnswered) != 1 {
		t.Fatalf("tallies: read %d answered %d", tally(t, e, b.ID, broadcast.TallyRead), tally(t, e, b.ID, broadcast.TallyAnswered))
	}

	// The figures: 郭沟村 2 of 2 reached read; 双河村 (杨丽华 reached) 0 of 1.
	var out reachOut
	if st, body := e.API(e.Token(consoletest.Town), http.MethodGet, "/api/v1/surveys/"+itoa(sv.ID), nil, &out); st != http.StatusOK {
		t.Fatalf("results: %d %s", st, body)
	}
	units := map[string][3]float64{}
	for _, u := range out.Results.Units {
		units[u.OrgPath] = [3]float64{float64(u.Received), float64(u.Read), u.ReadRate}
	}
	if r := out.Results; r.Received != 3 || r.Read != 2 || r.ReadRate != 66.7 || r.Finished != 1 ||
		units[guogou] != [3]float64{2, 2, 100} || units[shuanghe] != [3]float64{1, 0, 0} {
		t.Fatalf("results: %+v %v", r, units)
	}
	if res, body := e.Login(consoletest.Town).Get("/console/surveys/" + itoa(sv.ID)); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, "收到通知") || !strings.Contains(body, "已读 · 66.7%") {
		t.Fatalf("results page: %d\n%.3000s", res.StatusCode, body)
	}
	var bc struct {
		Counts struct {
			Read     int64 `json:"read"`
			Answered int64 `json:"answered"`
		} `json:"counts"`
	}
	if st, body := e.API(e.Token(consoletest.County), http.MethodGet, "/api/v1/broadcasts/"+itoa(b.ID), nil, &bc); st != http.StatusOK ||
		bc.Counts.Read != 2 || bc.Counts.Answered != 1 {
		t.Fatalf("the broadcast's figures: %d %s", st, body)
	}
}

const weChatUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"

// phone is WeChat's browser: it keeps cookies, sends WeChat's User-Agent and does not follow redirects
// (the test looks at each).
type phone struct {
	t  *testing.T
	cl *consoletest.Client
}

func (p phone) get(u string) (*http.Response, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("User-Agent", weChatUA)
	res, err := p.cl.HTTP.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestOAuth: /s/survey/ID sends WeChat's browser to the authorize page (the fake's here) with the
// account's appid, the callback and a signed state also kept in a cookie; WeChat comes back with a
// code, which gives the openid; its member gets a fresh link to his own form. A state that is not
// genuine, not this browser's or expired is 400; an openid nobody bound gets the bind page; a code
// WeChat refuses, a friendly 400. An expired link in WeChat's browser takes the OAuth path (elsewhere it
// says it expired; posted, it offers to reopen).
func TestOAuth(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	e.BindAs("o-wang", "王德明")
	e.Fake.SetOAuthUser("o-wang")
	p := phone{t, e.NewClient()}

	start := func(p phone) (state, authorize string) {
		t.Helper()
		res, _ := p.get(e.URL + "/s/survey/" + itoa(sv.ID))
		loc := res.Header.Get("Location")
		u, err := url.Parse(loc)
		if res.StatusCode != http.StatusFound || err != nil || !strings.HasSuffix(loc, "#wechat_redirect") ||
			!strings.HasPrefix(loc, e.App.Config().WeChatAPIBase+wxfake.PathOAuthAuthorize+"?appid="+consoletest.OA.AppID+"&redirect_uri=") {
			t.Fatalf("start: %d %q", res.StatusCode, loc)
		}
		q := u.Query()
		if q.Get("redirect_uri") != e.URL+"/s/oauth" || q.Get("scope") != "snsapi_base" || q.Get("response_type") != "code" || len(q.Get("state")) > 128 {
			t.Fatalf("authorize query %v", q)
		}
		return q.Get("state"), loc
	}

	// The whole round trip, through the fake's authorize page.
	_, authorize := start(p)
	res, _ := p.get(authorize)
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(back, e.URL+"/s/oauth?") {
		t.Fatalf("authorize: %d %q", res.StatusCode, back)
	}
	res, _ = p.get(back)
	form := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(form, "/s/") {
		t.Fatalf("callback: %d %q", res.StatusCode, form)
	}
	if res, body := p.get(e.URL + form); res.StatusCode != http.StatusOK || !strings.Contains(body, "王德明") || !strings.Contains(body, "您对村里的道路满意吗") {
		t.Fatalf("the form after OAuth: %d %.300s", res.StatusCode, body)
	}
	if sid, mid, err := e.App.Surveys().ParseToken(strings.TrimPrefix(form, "/s/")); err != nil || sid != sv.ID || mid != memberID(t, db, "王德明") {
		t.Fatalf("the fresh link: %d %d %v", sid, mid, err)
	}
	// The code was used: the same callback again is refused (the state's cookie is gone).
	if res, _ := p.get(back); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the callback again: %d", res.StatusCode)
	}

	// Bad states: garbage, altered, another browser's, expired.
	state, _ := start(p)
	e.Fake.AddOAuthCode("c1", "o-wang")
	raw, _ := hex.DecodeString(state)
	altered := []byte(string(raw))
	altered[3] ^= 1
	for _, c := range []struct {
		name  string
		p     phone
		state string
	}{
		{"garbage", p, "garbage"},
		{"empty", p, ""},
		{"altered", p, hex.EncodeToString(altered)},
		{"another browser's", phone{t, e.NewClient()}, state},
	} {
		if res, body := c.p.get(e.URL + "/s/oauth?code=c1&state=" + url.QueryEscape(c.state)); res.StatusCode != http.StatusBadRequest || strings.Contains(body, "王德明") {
			t.Errorf("%s state: %d %.200s", c.name, res.StatusCode, body)
		}
	}
	e.Clock.Add(11 * time.Minute)
	if res, _ := p.get(e.URL + "/s/oauth?code=c1&state=" + state); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired state: %d", res.StatusCode)
	}

	// An openid nobody bound: the bind page. A code WeChat refuses: 400, with a way back.
	e.Fake.AddOAuthCode("c-stranger", "o-stranger")
	state, _ = start(p)
	if res, body := p.get(e.URL + "/s/oauth?code=c-stranger&state=" + state); res.StatusCode != http.StatusOK || !strings.Contains(body, "绑定") || strings.Contains(body, "<form") {
		t.Fatalf("unbound: %d %.400s", res.StatusCode, body)
	}
	state, _ = start(p)
	if res, body := p.get(e.URL + "/s/oauth?code=nosuchcode&state=" + state); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "/s/survey/"+itoa(sv.ID)) {
		t.Fatalf("refused code: %d %.400s", res.StatusCode, body)
	}

	// An expired link: in WeChat's browser, the OAuth path; elsewhere, the page that says so.
	s := e.App.Surveys()
	old := s.LinkFor(sv.ID, memberID(t, db, "王德明"), e.Clock.Now().Add(time.Minute))
	e.Clock.Add(2 * time.Minute)
	res, _ = p.get(e.URL + old)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.Contains(loc, wxfake.PathOAuthAuthorize) {
		t.Fatalf("expired link in WeChat: %d %q", res.StatusCode, loc)
	}
	if st, body := h5(t, e, http.MethodGet, old, nil); st != http.StatusGone || !strings.Contains(body, "过期") {
		t.Fatalf("expired link elsewhere: %d %.300s", st, body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.URL+old, strings.NewReader(url.Values{"q1": {"1"}, "action": {"submit"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", weChatUA)
	res, err := p.cl.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusGone || !strings.Contains(string(body), `href="/s/survey/`+itoa(sv.ID)+`"`) || finished(t, e, sv.ID, memberID(t, db, "王德明")) {
		t.Fatalf("expired link posted in WeChat: %d %.400s", res.StatusCode, body)
	}
	// A survey id that is no number.
	if res, _ := p.get(e.URL + "/s/survey/abc"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("/s/survey/abc: %d", res.StatusCode)
	}
}
