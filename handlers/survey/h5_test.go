package survey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/survey"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

func h5(t *testing.T, e *consoletest.Env, method, path string, form url.Values) (int, string) {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, e.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, e.URL+path, nil)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

func finished(t *testing.T, e *consoletest.Env, surveyID, memberID uint) bool {
	t.Helper()
	var n int64
	e.App.DB().Model(&models.SurveyFinish{}).Where("survey_id = ? AND member_id = ?", surveyID, memberID).Count(&n)
	return n > 0
}

// TestH5Form: the link's signed token opens the member's own form; bad answers come back with a hint and
// nothing final; 保存 keeps a draft the chat resumes; 提交 is final. An expired link and a forged one
// (another member's id under the old signature, or a signature by another key) change nothing.
func TestH5Form(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	s := e.App.Surveys()
	wang, liu := memberID(t, db, "王德明"), memberID(t, db, "刘桂兰")
	link := s.LinkFor(sv.ID, wang, e.Clock.Now().Add(time.Hour))
	if !strings.HasPrefix(link, "/s/") {
		t.Fatalf("link %q", link)
	}

	st, body := h5(t, e, http.MethodGet, link, nil)
	if st != http.StatusOK || !strings.Contains(body, "王德明") || !strings.Contains(body, "您对村里的道路满意吗") ||
		!strings.Contains(body, `name="q2"`) || !strings.Contains(body, "第1题选「不满意」时回答") || strings.Contains(body, "layout") {
		t.Fatalf("form: %d\n%.600s", st, body)
	}

	// A number out of range: 400, the hint, the typed answers kept, nothing final.
	st, body = h5(t, e, http.MethodPost, link, url.Values{"q1": {"3"}, "q2": {"1"}, "q3": {"5"}, "q4": {"99"}, "action": {"submit"}})
	if st != http.StatusBadRequest || !strings.Contains(body, "请填 0~20 之间的数字") || !strings.Contains(body, `value="99"`) || finished(t, e, sv.ID, wang) {
		t.Fatalf("bad number: %d\n%.800s", st, body)
	}
	// A required question left empty on submit.
	st, body = h5(t, e, http.MethodPost, link, url.Values{"q1": {"3"}, "action": {"submit"}})
	if st != http.StatusBadRequest || !strings.Contains(body, "第2题是必答题") || finished(t, e, sv.ID, wang) {
		t.Fatalf("missing required: %d\n%.800s", st, body)
	}
	// 保存: a draft, which the chat resumes.
	st, body = h5(t, e, http.MethodPost, link, url.Values{"q1": {"3"}, "q2": {"2"}, "action": {"save"}})
	if st != http.StatusOK || !strings.Contains(body, "已保存") {
		t.Fatalf("save: %d\n%.600s", st, body)
	}
	e.BindAs("o-wang", "王德明")
	chat(t, e, "o-wang", "问卷", "《道路满意度》", "已答2题")
	// 提交 from the form: q2 answered, the rest given; final.
	st, body = h5(t, e, http.MethodPost, link, url.Values{"q1": {"3"}, "q2": {"2", "3"}, "q3": {"5"}, "q4": {"4"}, "q5": {"希望修路灯"}, "action": {"submit"}})
	if st != http.StatusOK || !strings.Contains(body, "已提交") || !finished(t, e, sv.ID, wang) {
		t.Fatalf("submit: %d\n%.600s", st, body)
	}
	st, body = h5(t, e, http.MethodGet, link, nil)
	if !strings.Contains(body, "已经提交过") {
		t.Fatalf("after submit: %d %.300s", st, body)
	}
	st, _ = h5(t, e, http.MethodPost, link, url.Values{"q1": {"1"}, "action": {"submit"}})
	res := getSurvey(t, e, consoletest.County, sv.ID)
	if res.Results.Finished != 1 || res.Results.Questions[0].Options[2].N != 1 || res.Results.Questions[1].Answered != 1 {
		t.Fatalf("a second submit changed the results (%d): %+v", st, res.Results)
	}

	// Expired: genuine but past its time (the clock moved on): 410, nothing saved.
	old := s.LinkFor(sv.ID, liu, e.Clock.Now().Add(time.Minute))
	e.Clock.Add(2 * time.Minute)
	if st, body := h5(t, e, http.MethodGet, old, nil); st != http.StatusGone || !strings.Contains(body, "过期") {
		t.Fatalf("expired link: %d %.300s", st, body)
	}
	if st, _ := h5(t, e, http.MethodPost, old, url.Values{"q1": {"1"}, "q3": {"3"}, "action": {"submit"}}); st != http.StatusGone || finished(t, e, sv.ID, liu) {
		t.Fatalf("expired link submitted: %d", st)
	}

	// Forged: 王德明's token with 刘桂兰's id in it keeps the old signature; a token signed by another key.
	tok := strings.TrimPrefix(s.LinkFor(sv.ID, wang, e.Clock.Now().Add(time.Hour)), "/s/")
	body64, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body64)
	forged := []byte{raw[0]}
	forged = binary.AppendUvarint(forged, uint64(sv.ID))
	forged = binary.AppendUvarint(forged, uint64(liu))
	forged = binary.AppendUvarint(forged, uint64(e.Clock.Now().Add(time.Hour).Unix()))
	other := survey.New(survey.Options{DB: db, Now: e.Clock.Now, LinkKey: []byte("another key")})
	for _, p := range []string{
		"/s/" + base64.RawURLEncoding.EncodeToString(forged) + "." + sig,
		other.LinkFor(sv.ID, liu, e.Clock.Now().Add(time.Hour)),
		"/s/garbage", "/s/" + tok + "x",
	} {
		if st, body := h5(t, e, http.MethodPost, p, url.Values{"q1": {"1"}, "q3": {"3"}, "action": {"submit"}}); st != http.StatusForbidden || !strings.Contains(body, "链接无效") {
			t.Fatalf("forged %s: %d %.300s", p, st, body)
		}
	}
	if finished(t, e, sv.ID, liu) {
		t.Fatal("a forged link submitted 刘桂兰's response")
	}
}

// TestTokens: the token round-trips, is refused with another key or when altered, and expires.
func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := survey.New(survey.Options{Now: clock, LinkKey: survey.LinkKey("secret", "aes")})
	tok := s.Token(7, 42, now.Add(time.Hour))
	if sid, mid, err := s.ParseToken(tok); err != nil || sid != 7 || mid != 42 {
		t.Fatalf("round trip: %d %d %v", sid, mid, err)
	}
	if _, _, err := survey.New(survey.Options{Now: clock, LinkKey: survey.LinkKey("secret2", "aes")}).ParseToken(tok); err != survey.ErrBadLink {
		t.Fatalf("another key: %v", err)
	}
	for _, bad := range []string{"", ".", tok[:len(tok)-1], "x" + tok, strings.Replace(tok, ".", "", 1), tok + "." + tok} {
		if _, _, err := s.ParseToken(bad); err != survey.ErrBadLink {
			t.Errorf("%q: %v", bad, err)
		}
	}
	now = now.Add(time.Hour)
	if _, _, err := s.ParseToken(tok); err != survey.ErrExpiredLink {
		t.Fatalf("expired: %v", err)
	}
}

// TestAnonymousResults: an anonymous survey's responses keep no member and no time; the results page,
// the API and the export show no name next to any answer (only who has not finished is listed).
func TestAnonymousResults(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "干部作风评议", "org_id": orgID(t, db, guogou), "anonymous": true,
		"questions_text": "单选* 您对村干部作风满意吗？\n- 满意\n- 不满意\n填空 想说的话"})
	s := e.App.Surveys()
	// 王德明 in the chat, 刘桂兰 on the form; 张国华 and 李秀英 do not answer.
	e.BindAs("o-wang", "王德明")
	chat(t, e, "o-wang", "问卷", "待填写")
	chat(t, e, "o-wang", "1", "匿名问卷")
	chat(t, e, "o-wang", "2", "第2题")
	chat(t, e, "o-wang", "王德明说路太窄", "已提交")
	link := s.LinkFor(sv.ID, memberID(t, db, "刘桂兰"), e.Clock.Now().Add(time.Hour))
	if st, body := h5(t, e, http.MethodPost, link, url.Values{"q1": {"1"}, "q2": {"刘桂兰说很好"}, "action": {"submit"}}); st != http.StatusOK {
		t.Fatalf("form: %d %.300s", st, body)
	}

	// Stored apart from the people: no member, no time, random ids; the finishes name them.
	var rs []models.SurveyResponse
	db.Where("survey_id = ?", sv.ID).Find(&rs)
	if len(rs) != 2 {
		t.Fatalf("%d responses", len(rs))
	}
	for _, r := range rs {
		if r.MemberID != nil || r.SubmittedAt != nil || r.StartedAt != nil || r.ID < 1<<52 || !r.Done || r.Via != "" {
			t.Fatalf("anonymous response keeps a trace: %+v", r)
		}
	}
	var fins int64
	db.Model(&models.SurveyFinish{}).Where("survey_id = ?", sv.ID).Count(&fins)
	if fins != 2 {
		t.Fatalf("%d finishes", fins)
	}

	respondents := []string{"王德明", "刘桂兰"}
	noNames := func(what, body string) {
		t.Helper()
		for _, n := range respondents {
			if strings.Contains(body, n+"，") || strings.Contains(body, n+"\t") || strings.Contains(body, `"`+n+`"`) || strings.Contains(body, "<td>"+n+"</td>") {
				t.Errorf("%s shows the respondent %s:\n%.2000s", what, n, body)
			}
		}
	}
	for _, user := range []string{consoletest.County, consoletest.Secretary} {
		c := e.Login(user)
		res, body := c.Get("/console/surveys/" + itoa(sv.ID))
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "王德明说路太窄") || !strings.Contains(body, "张国华") {
			t.Fatalf("page as %s: %d (want the answers and who has not answered)\n%.500s", user, res.StatusCode, body)
		}
		noNames("the page as "+user, body)
		status, api := e.API(e.Token(user), http.MethodGet, "/api/v1/surveys/"+itoa(sv.ID), nil, nil)
		if status != http.StatusOK || !strings.Contains(api, "刘桂兰说很好") {
			t.Fatalf("API as %s: %d %.300s", user, status, api)
		}
		noNames("the API as "+user, api)

		res, xlsx := c.Get("/console/surveys/" + itoa(sv.ID) + "/export.xlsx")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %.300s", res.StatusCode, xlsx)
		}
		cells := xlsxCells(t, xlsx)
		if !strings.Contains(cells, "王德明说路太窄") || !strings.Contains(cells, "Q1 编码") || strings.Contains(cells, "姓名") || strings.Contains(cells, "提交时间") {
			t.Fatalf("export:\n%s", cells)
		}
		for _, n := range respondents {
			if strings.Contains(strings.ReplaceAll(cells, n+"说", ""), n) {
				t.Errorf("the export as %s names %s:\n%s", user, n, cells)
			}
		}
	}
}

// TestNamedExport: a named survey's export has the name, org, time, codes and labels of each response,
// only the viewer's part of the tree, and is in the audit log.
func TestNamedExport(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	s := e.App.Surveys()
	for _, name := range []string{"王德明", "杨丽华"} { // 郭沟村, 双河村
		link := s.LinkFor(sv.ID, memberID(t, db, name), e.Clock.Now().Add(time.Hour))
		if st, body := h5(t, e, http.MethodPost, link, url.Values{"q1": {"3"}, "q2": {"1", "3"}, "q3": {"4"}, "action": {"submit"}}); st != http.StatusOK {
			t.Fatalf("%s: %d %.300s", name, st, body)
		}
	}
	c := e.Login(consoletest.Town)
	_, xlsx := c.Get("/console/surveys/" + itoa(sv.ID) + "/export.xlsx")
	cells := xlsxCells(t, xlsx)
	for _, want := range []string{"姓名", "王德明", "杨丽华", "1;3", "路灯；绿化", "不满意"} {
		if !strings.Contains(cells, want) {
			t.Fatalf("export lacks %q:\n%s", want, cells)
		}
	}
	sec := e.Login(consoletest.Secretary) // 郭沟村's secretary: his village's part only
	_, xlsx = sec.Get("/console/surveys/" + itoa(sv.ID) + "/export.xlsx")
	if cells := xlsxCells(t, xlsx); !strings.Contains(cells, "王德明") || strings.Contains(cells, "杨丽华") {
		t.Fatalf("the secretary's export:\n%s", cells)
	}
	var n int64
	db.Model(&models.AuditEntry{}).Where("action = ? AND summary LIKE ?", "export", "%道路满意度%").Count(&n)
	if n != 2 {
		t.Fatalf("%d export audit entries", n)
	}
}

func xlsxCells(t *testing.T, body string) string {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not an xlsx: %v\n%.300s", err, body)
	}
	defer f.Close()
	var sb strings.Builder
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for _, r := range rows {
			sb.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return sb.String()
}

// TestPersonalLinks: with the server's public address configured, a survey's broadcast gives each
// recipient his own link, signed for him until the deadline; without it, or for a notice, none.
func TestPersonalLinks(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	payload := fmt.Sprintf(`{"survey_id":%d}`, sv.ID)
	ctx := context.Background()
	if f, err := e.App.Surveys().PersonalLinks(ctx, models.BroadcastSurvey, payload); f != nil || err != nil {
		t.Fatalf("no public address: %v %v", f != nil, err)
	}
	key := survey.LinkKey("secret", "aes")
	s := survey.New(survey.Options{DB: db, Now: e.Clock.Now, LinkKey: key, BaseURL: "https://yz.example.gov.cn/"})
	if f, err := s.PersonalLinks(ctx, models.BroadcastNotice, ""); f != nil || err != nil {
		t.Fatalf("a notice: %v %v", f != nil, err)
	}
	if _, err := s.PersonalLinks(ctx, models.BroadcastSurvey, "{}"); err == nil {
		t.Fatal("a survey broadcast without a survey id was taken")
	}
	f, err := s.PersonalLinks(ctx, models.BroadcastSurvey, payload)
	if err != nil || f == nil {
		t.Fatalf("links: %v", err)
	}
	wang := memberID(t, db, "王德明")
	link := f(wang)
	tok, ok := strings.CutPrefix(link, "https://yz.example.gov.cn/s/")
	if !ok {
		t.Fatalf("link %q", link)
	}
	if sid, mid, err := s.ParseToken(tok); err != nil || sid != sv.ID || mid != wang {
		t.Fatalf("token of %q: survey %d member %d %v", link, sid, mid, err)
	}
	if f(wang+1) == link {
		t.Fatal("two members got one link")
	}
}
