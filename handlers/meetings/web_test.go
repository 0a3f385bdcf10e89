package meetings_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// newForm is the new meeting form of 郭沟村 as a secretary fills it in.
func newForm(e *consoletest.Env, date, start, end string) url.Values {
	return url.Values{"org_id": {itoa(orgID(e.T, e.App.DB(), guogou))}, "type": {models.MeetingLecture}, "title": {"学习新党章"},
		"place": {"村党群服务中心"}, "date": {date}, "start": {start}, "end": {end}}
}

// TestCreateByForm: the new meeting form defaults to every active member of the village; the
// secretary may leave some out; wrong input is shown back with a clear message and nothing is made.
func TestCreateByForm(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	res, page := c.Get("/console/meetings/new")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("new meeting page: %d", res.StatusCode)
	}
	for _, name := range []string{"张国华", "李秀英", "王德明", "刘桂兰"} {
		if !strings.Contains(page, name) {
			t.Errorf("the form does not offer %s", name)
		}
	}
	if strings.Contains(page, "陈志强") {
		t.Error("the form offers a member of another village")
	}
	if n := strings.Count(page, `name="member_id"`); n != 4 || strings.Count(page, " checked>") != 4 {
		t.Errorf("the form should tick the 4 members by default: %d boxes", n)
	}

	count := func() int64 {
		var n int64
		e.App.DB().Model(&models.Meeting{}).Where("type = ?", models.MeetingLecture).Count(&n)
		return n
	}
	before := count()
	for _, tc := range []struct {
		name string
		edit func(url.Values)
		want string
	}{
		{"no place", func(v url.Values) { v.Set("place", " ") }, "请填写会议地点"},
		{"bad date", func(v url.Values) { v.Set("date", "11/21") }, "日期应为"},
		{"bad time", func(v url.Values) { v.Set("start", "下午") }, "开始时间应为"},
		{"bad type", func(v url.Values) { v.Set("type", "座谈会") }, "请选择会议类型"},
		{"too long", func(v url.Values) { v.Set("start", "06:00"); v.Set("end", "23:00") }, "最长 12 小时"},
		{"nobody", func(v url.Values) { v.Set("attendees", "1"); v.Del("member_id") }, "请至少选择一名参会人员"},
		{"running", func(v url.Values) { v.Set("date", "2026-11-20"); v.Set("start", "09:00"); v.Set("end", "11:00") }, "会议已经开始但还没结束"},
		{"outsider", func(v url.Values) {
			v.Set("attendees", "1")
			v["member_id"] = []string{itoa(memberID(t, e.App.DB(), "王德明")), itoa(memberID(t, e.App.DB(), "陈志强"))}
		}, "不在你管理范围内"},
	} {
		v := newForm(e, "2026-11-25", "09:00", "10:30")
		tc.edit(v)
		res, page := c.PostForm("/console/meetings", v)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d, want 400 with %q\n%.300s", tc.name, res.StatusCode, tc.want, page)
		}
		if !strings.Contains(page, "村党群服务中心") && tc.name != "no place" {
			t.Errorf("%s: the form lost what was typed", tc.name)
		}
	}
	if count() != before {
		t.Fatal("a wrong form made a meeting")
	}

	// Leave 刘桂兰 out.
	v := newForm(e, "2026-11-25", "09:00", "10:30")
	v.Set("attendees", "1")
	for _, n := range []string{"张国华", "李秀英", "王德明"} {
		v.Add("member_id", itoa(memberID(t, e.App.DB(), n)))
	}
	res, _ = c.PostForm("/console/meetings", v)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/meetings/") {
		t.Fatalf("create: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var m models.Meeting
	e.App.DB().Where("type = ?", models.MeetingLecture).Order("id DESC").Take(&m)
	got := getMeeting(t, e, m.ID)
	if got.Expected != 3 || got.status("刘桂兰") != "(not expected)" || got.BackEntered || len(got.Code) != 6 {
		t.Errorf("created: %+v", got)
	}
	var audit int64
	e.App.DB().Model(&models.AuditEntry{}).Where("object = ? AND object_id = ? AND username = ?", "meeting", itoa(m.ID), consoletest.Secretary).Count(&audit)
	if audit != 1 {
		t.Errorf("%d audit entries for the creation", audit)
	}
	// The list shows it, filtered by type and month.
	_, list := c.Get("/console/meetings?type=" + url.QueryEscape(models.MeetingLecture) + "&month=2026-11")
	if !strings.Contains(list, "学习新党章") || !strings.Contains(list, "2026-11-25 09:00–10:30") {
		t.Errorf("list lacks the meeting\n%.600s", list)
	}
	_, list = c.Get("/console/meetings?month=2026-12")
	if strings.Contains(list, "学习新党章") {
		t.Error("the month filter shows November's meeting in December")
	}
	if res, _ := c.Get("/console/meetings?month=12月"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed month: %d, want 400", res.StatusCode)
	}
}

// TestBackEntered: a meeting entered after its start is 补录: no code, no check-in, the secretary
// records attendance, and 补录 shows in the list, the page, the API and the export.
func TestBackEntered(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	res, _ := c.PostForm("/console/meetings", newForm(e, "2026-11-18", "14:30", "16:00"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("back-entry: %d", res.StatusCode)
	}
	var m models.Meeting
	e.App.DB().Where("type = ?", models.MeetingLecture).Order("id DESC").Take(&m)
	if !m.BackEntered || m.Code != "" {
		t.Fatalf("back-entered meeting: %+v", m)
	}
	e.BindAs("oa-wang", "王德明")
	if got, want := e.Send(e.OA().Scan("oa-wang", fmt.Sprintf("meet:%d", m.ID), "")), "这次会议是补录的，出席情况由书记登记，不用签到。"; got != want {
		t.Errorf("scan of a back-entered meeting: %q, want %q", got, want)
	}
	if got := getMeeting(t, e, m.ID); got.Present != 0 || !got.BackEntered || got.Phase != "back_entered" {
		t.Fatalf("after the scan: %+v", got)
	}

	mark := func(name, status, note string) (int, string) {
		res, body := c.PostForm(fmt.Sprintf("/console/meetings/%d/attendance", m.ID),
			url.Values{"member_id": {itoa(memberID(t, e.App.DB(), name))}, "status": {status}, "note": {note}})
		return res.StatusCode, body
	}
	for name, st := range map[string]string{"王德明": models.MeetingPresent, "张国华": models.MeetingPresent, "李秀英": models.MeetingLate} {
		if code, body := mark(name, st, ""); code != http.StatusSeeOther {
			t.Fatalf("mark %s %s: %d\n%.300s", name, st, code, body)
		}
	}
	if code, body := mark("刘桂兰", models.MeetingExcused, ""); code != http.StatusBadRequest || !strings.Contains(body, "请填写请假事由") {
		t.Errorf("excused without a reason: %d", code)
	}
	if code, _ := mark("刘桂兰", models.MeetingExcused, "外出务工"); code != http.StatusSeeOther {
		t.Errorf("excused: %d", code)
	}
	if code, body := mark("陈志强", models.MeetingPresent, ""); code != http.StatusBadRequest || !strings.Contains(body, "不在本次会议的参会名单里") {
		t.Errorf("marking someone not expected: %d", code)
	}
	got := getMeeting(t, e, m.ID)
	if got.Present != 3 || got.Late != 1 || got.Excused != 1 || got.Absent != 0 {
		t.Errorf("counts after marking: %+v", got)
	}
	for _, a := range got.Attendees {
		if a.Name == "刘桂兰" && (a.Note != "外出务工" || a.Source != models.MeetingSourceSecretary) {
			t.Errorf("the excused absence: %+v", a)
		}
	}
	var audits int64
	e.App.DB().Model(&models.AuditEntry{}).Where("object = ? AND object_id = ?", "meeting_attendance", itoa(m.ID)).Count(&audits)
	if audits != 4 {
		t.Errorf("%d audit entries for 4 marks", audits)
	}

	_, list := c.Get("/console/meetings")
	if !strings.Contains(list, "补录") {
		t.Error("the list does not flag 补录")
	}
	_, page := c.Get(fmt.Sprintf("/console/meetings/%d", m.ID))
	if !strings.Contains(page, "补录") || strings.Contains(page, "<svg") {
		t.Error("the page does not flag 补录, or shows a QR code")
	}
	res, body := c.Get(fmt.Sprintf("/console/meetings/%d/export.xlsx", m.ID))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "%E8%A1%A5%E5%BD%95") { // 补录
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	cells := xlsxCells(t, body)
	for _, s := range []string{"补录", "王德明", "出席", "迟到", "请假", "外出务工", "书记登记"} {
		if !strings.Contains(cells, s) {
			t.Errorf("the export lacks %q", s)
		}
	}
	var exports int64
	e.App.DB().Model(&models.AuditEntry{}).Where("action = ? AND username = ?", "export", consoletest.Secretary).Count(&exports)
	if exports != 1 {
		t.Errorf("%d export audit entries", exports)
	}
}

// TestMarkBeforeStart: before a meeting starts the secretary can only record an excused absence; a
// member excused beforehand who comes after all checks in.
func TestMarkBeforeStart(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	c := e.Login(consoletest.Secretary)
	c.Get(fmt.Sprintf("/console/meetings/%d", m.ID))
	post := func(status, note string) int {
		res, _ := c.PostForm(fmt.Sprintf("/console/meetings/%d/attendance", m.ID),
			url.Values{"member_id": {itoa(memberID(t, e.App.DB(), "王德明"))}, "status": {status}, "note": {note}})
		return res.StatusCode
	}
	if code := post(models.MeetingPresent, ""); code != http.StatusBadRequest {
		t.Errorf("present before the start: %d, want 400", code)
	}
	if code := post(models.MeetingExcused, "住院"); code != http.StatusSeeOther {
		t.Errorf("excused before the start: %d", code)
	}
	if got := getMeeting(t, e, m.ID); got.status("王德明") != models.MeetingExcused {
		t.Fatalf("not excused: %+v", got)
	}
	e.BindAs("oa-wang", "王德明")
	setClock(e, at(e, 11, 21, 14, 30))
	if got := e.Send(e.OA().Text("oa-wang", "签到 "+m.Code)); !strings.HasPrefix(got, "签到成功") {
		t.Errorf("check-in after an excused absence: %q", got)
	}
	if got := getMeeting(t, e, m.ID); got.status("王德明") != models.MeetingPresent || got.Excused != 0 {
		t.Errorf("after checking in: %+v", got)
	}
}

func xlsxCells(t *testing.T, body string) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("not an xlsx: %v", err)
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

// TestCodesUnique: meetings that have not ended never share a code.
func TestCodesUnique(t *testing.T) {
	e := consoletest.New(t)
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		m := createMeeting(t, e, consoletest.Secretary, committee(e))
		if len(m.Code) != 6 || m.Code[0] == '0' || seen[m.Code] {
			t.Fatalf("meeting %d: code %q (seen: %v)", i, m.Code, seen[m.Code])
		}
		seen[m.Code] = true
	}
}

// TestScreenCount: the projection page refreshes its count as an htmx fragment, without asking
// WeChat for the QR code again.
func TestScreenCount(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	e.BindAs("oa-wang", "王德明")
	setClock(e, at(e, 11, 21, 14, 0))
	e.Send(e.OA().Text("oa-wang", "签到 "+m.Code))
	c := e.Login(consoletest.Secretary)
	req, _ := http.NewRequest(http.MethodGet, e.URL+fmt.Sprintf("/console/meetings/%d/screen", m.ID), nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "count")
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	if got := strings.TrimSpace(buf.String()); res.StatusCode != http.StatusOK || got != "已到 <strong>1</strong> / 应到 4 人" {
		t.Errorf("count fragment: %d %q", res.StatusCode, got)
	}
}
