package meetings_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/handlers/meetings"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestCheckIn: the whole way of a meeting's check-in through the webhook: by code and by QR scene,
// before the window, twice, by someone not expected, late, and after the end; the console's attendance
// afterwards.
func TestCheckIn(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	if m.BackEntered || len(m.Code) != 6 || m.Expected != 4 {
		t.Fatalf("new meeting: %+v", m)
	}
	e.BindAs("oa-wang", "王德明")
	e.BindAs("oa-liu", "刘桂兰")
	e.BindAs("oa-zhang", "张国华")
	e.BindAs("oa-chen", "陈志强") // 双河村's secretary: not expected
	oa := e.OA()
	send := func(openID, text string) string { t.Helper(); return e.Send(oa.Text(openID, text)) }
	code := "签到 " + m.Code

	// The day before: check-in has not opened, and nothing is recorded.
	if got, want := send("oa-wang", code), "会议签到还没开始（11月21日 14:00 开放）。"; got != want {
		t.Errorf("the day before: %q, want %q", got, want)
	}
	setClock(e, at(e, 11, 21, 13, 59))
	if got, want := send("oa-wang", code), "会议签到还没开始（14:00 开放）。"; got != want {
		t.Errorf("a minute early: %q, want %q", got, want)
	}
	if got := getMeeting(t, e, m.ID); got.Present != 0 || got.status("王德明") != models.MeetingExpected {
		t.Fatalf("an early check-in was recorded: %+v", got)
	}

	// In the window: by code (the first), twice, and by someone not on the list.
	setClock(e, at(e, 11, 21, 14, 5))
	if got, want := send("oa-wang", code), "签到成功：花溪镇郭沟村 支部委员会（11月21日 14:30），你是第 1 位到场。"; got != want {
		t.Errorf("check-in by code: %q, want %q", got, want)
	}
	setClock(e, at(e, 11, 21, 14, 9))
	if got, want := send("oa-wang", "签到"+m.Code), "你已经签到过了（14:05）。"; got != want {
		t.Errorf("twice: %q, want %q", got, want)
	}
	if got, want := send("oa-chen", code), "你不在这次会议的参会名单里，如有疑问请联系书记。"; got != want {
		t.Errorf("not expected: %q, want %q", got, want)
	}

	// By QR scene: a follower scans (SCAN), late.
	setClock(e, at(e, 11, 21, 14, 41))
	scene := fmt.Sprintf("meet:%d", m.ID)
	if got, want := e.Send(oa.Scan("oa-liu", scene, "")), "签到成功：花溪镇郭沟村 支部委员会（11月21日 14:30），你是第 2 位到场。会议 14:30 开始，本次记为迟到。"; got != want {
		t.Errorf("check-in by QR: %q, want %q", got, want)
	}
	e.Clock.Add(time.Minute) // a scan a minute later is a new event, not WeChat's retry of the first
	if got, want := e.Send(oa.Scan("oa-liu", scene, "")), "你已经签到过了（14:41）。"; got != want {
		t.Errorf("QR twice: %q, want %q", got, want)
	}
	if got, want := e.Send(oa.Scan("oa-chen", scene, "")), "你不在这次会议的参会名单里，如有疑问请联系书记。"; got != want {
		t.Errorf("QR not expected: %q, want %q", got, want)
	}
	// Someone not yet following scans it: he must bind first, and nothing is recorded.
	if got := e.Send(oa.Subscribe("oa-stranger", scene)); !strings.Contains(got, "绑定「") && !strings.Contains(got, "绑定 绑定码") {
		t.Errorf("an unbound follower scanning: %q", got)
	}

	// After the end: closed.
	setClock(e, at(e, 11, 21, 16, 0))
	if got, want := send("oa-zhang", code), "这次会议已经结束，不能再签到了。如有疑问请联系书记。"; got != want {
		t.Errorf("after the end: %q, want %q", got, want)
	}
	if got, want := e.Send(oa.Scan("oa-zhang", scene, "")), "这次会议已经结束，不能再签到了。如有疑问请联系书记。"; got != want {
		t.Errorf("QR after the end: %q, want %q", got, want)
	}

	got := getMeeting(t, e, m.ID)
	want := map[string]string{"王德明": models.MeetingPresent, "刘桂兰": models.MeetingLate, "张国华": models.MeetingAbsent,
		"李秀英": models.MeetingAbsent, "陈志强": "(not expected)"}
	for name, st := range want {
		if got.status(name) != st {
			t.Errorf("%s: %s, want %s", name, got.status(name), st)
		}
	}
	if got.Present != 2 || got.Late != 1 || got.Absent != 2 || got.Phase != "ended" {
		t.Errorf("counts: %+v", got)
	}
	for _, a := range got.Attendees {
		switch a.Name {
		case "王德明":
			if a.Source != models.MeetingSourceCode || a.At == nil || !a.At.Equal(at(e, 11, 21, 14, 5)) {
				t.Errorf("王德明's record: %+v", a)
			}
		case "刘桂兰":
			if a.Source != models.MeetingSourceQR {
				t.Errorf("刘桂兰's record: %+v", a)
			}
		}
	}
	var n int64
	e.App.DB().Model(&models.MeetingAttendee{}).Where("meeting_id = ?", m.ID).Count(&n)
	if n != 4 {
		t.Errorf("%d attendee rows, want the 4 expected", n)
	}

	// The console shows it: present, late, absent.
	c := e.Login(consoletest.Secretary)
	res, page := c.Get(fmt.Sprintf("/console/meetings/%d", m.ID))
	if res.StatusCode != 200 {
		t.Fatalf("meeting page: %d", res.StatusCode)
	}
	for _, s := range []string{"王德明", "出席", "迟到", "缺席", "签到码", "扫码", m.Code} {
		if !strings.Contains(page, s) {
			t.Errorf("meeting page lacks %q", s)
		}
	}
}

// TestCheckInCodes: codes that are malformed or no meeting's, and a retried delivery answered once.
func TestCheckInCodes(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	e.BindAs("oa-wang", "王德明")
	oa := e.OA()
	other := "123456"
	if other == m.Code {
		other = "654321"
	}
	for _, tc := range []struct{ text, want string }{
		{"签到 " + other, "没有找到签到码为 " + other + " 的会议，请核对后再发。"},
		{"签到 12345", "会议签到码是 6 位数字，例如：签到 482913。"},
		{"签到 1234567", "会议签到码是 6 位数字，例如：签到 482913。"},
	} {
		if got := e.Send(oa.Text("oa-wang", tc.text)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.text, got, tc.want)
		}
	}
	// Full-width digits and spaces are read too; WeChat's retries of one message check in once.
	setClock(e, at(e, 11, 21, 14, 20))
	full := "签到 " + strings.Map(func(r rune) rune { return r - '0' + '０' }, m.Code[:3]) + " " + m.Code[3:]
	msg := oa.Text("oa-wang", full)
	first := e.Send(msg)
	if !strings.HasPrefix(first, "签到成功") {
		t.Fatalf("full-width code: %q", first)
	}
	if again := e.Send(msg); again != first {
		t.Errorf("a retried delivery: %q, want the same reply %q", again, first)
	}
}

// TestNormalizeCode is the code parser's table.
func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"482913", "482913", true},
		{" 482 913 ", "482913", true},
		{"４８２９１３", "482913", true},
		{"482-913", "482913", true},
		{"48291", "", false},
		{"4829130", "", false},
		{"48291a", "", false},
		{"", "", false},
		{"签到482913", "", false},
	} {
		got, ok := meetings.NormalizeCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestQRCode: the meeting page's QR code is a temporary WeChat QR code of scene meet:ID, made once
// and cached.
func TestQRCode(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	c := e.Login(consoletest.Secretary)
	for range 2 {
		for _, p := range []string{"", "/screen"} {
			res, page := c.Get(fmt.Sprintf("/console/meetings/%d%s", m.ID, p))
			if res.StatusCode != 200 || !strings.Contains(page, "<svg") || !strings.Contains(page, m.Code) {
				t.Fatalf("GET meeting%s: %d, QR or code missing\n%.500s", p, res.StatusCode, page)
			}
		}
	}
	calls := e.Fake.CallsTo(wxapi.APIQRCodeCreate)
	if len(calls) != 1 {
		t.Fatalf("%d QR codes made, want 1 (cached)", len(calls))
	}
	body := string(calls[0].Body)
	if !strings.Contains(body, fmt.Sprintf(`"scene_str":"meet:%d"`, m.ID)) || !strings.Contains(body, "QR_STR_SCENE") {
		t.Errorf("QR request: %s", body)
	}
}
