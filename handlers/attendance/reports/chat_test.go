package reports_test

import (
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestChatSecretaryToday: a secretary's 考勤 is his village today from the live check-ins: pending,
// refused and yesterday's check-ins do not count, nor check-outs; approved leave covering today does,
// pending or rejected leave does not.
func TestChatSecretaryToday(t *testing.T) {
	e := consoletest.New(t) // Friday 2026-11-20, 09:30
	e.BindAs("o-zhang", "张国华")
	oa := e.OA()

	got := e.Send(oa.Text("o-zhang", "考勤"))
	if want := "郭沟村 今日考勤（11月20日）\n应到 4 人，已签到 0 人\n未签到 4 人：张国华、李秀英、王德明、刘桂兰"; got != want {
		t.Errorf("nobody yet:\n%s\nwant\n%s", got, want)
	}

	checkIn(t, e, "张国华", "2026-11-20", "08:50", models.CheckKindIn, models.CheckOK)
	checkIn(t, e, "张国华", "2026-11-20", "09:20", models.CheckKindIn, models.CheckOK) // twice: once
	checkIn(t, e, "李秀英", "2026-11-20", "09:10", models.CheckKindIn, models.CheckOK)
	checkIn(t, e, "刘桂兰", "2026-11-20", "09:12", models.CheckKindIn, models.CheckPending) // off-site, not yet approved
	checkIn(t, e, "刘桂兰", "2026-11-19", "08:40", models.CheckKindIn, models.CheckOK)      // yesterday
	checkIn(t, e, "王德明", "2026-11-20", "09:00", models.CheckKindOut, models.CheckOK)     // a check-out is no check-in
	leave(t, e, "王德明", "2026-11-19", "2026-11-21", models.RequestApproved)
	leave(t, e, "刘桂兰", "2026-11-20", "2026-11-20", models.RequestPending)
	leave(t, e, "李秀英", "2026-11-20", "2026-11-20", models.RequestApproved)          // on leave but came: she came
	checkIn(t, e, "陈志强", "2026-11-20", "08:30", models.CheckKindIn, models.CheckOK) // another village

	got = e.Send(oa.Text("o-zhang", "考勤"))
	if want := "郭沟村 今日考勤（11月20日）\n应到 4 人，已签到 2 人\n请假 1 人：王德明\n未签到 1 人：刘桂兰"; got != want {
		t.Errorf("today:\n%s\nwant\n%s", got, want)
	}

	// 09:25 is past the county's 09:00 with its 15 minutes of tolerance: late.
	checkIn(t, e, "刘桂兰", "2026-11-20", "09:25", models.CheckKindIn, models.CheckOK)
	got = e.Send(oa.Text("o-zhang", "考勤"))
	if want := "郭沟村 今日考勤（11月20日）\n应到 4 人，已签到 3 人（迟到 1）\n请假 1 人：王德明\n应到的人都已签到 👍"; got != want {
		t.Errorf("all in:\n%s\nwant\n%s", got, want)
	}
}

// TestChatMemberWeek: anyone else's 考勤 is his own week: the computed days from Monday to yesterday,
// and today live.
func TestChatMemberWeek(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("o-wang", "王德明")
	e.BindAs("o-li", "李秀英")
	seedDays(t, e, "王德明", []string{"2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"}, "PLAV")
	seedDays(t, e, "王德明", []string{"2026-11-13"}, "A") // last week: not this week's
	leave(t, e, "王德明", "2026-11-19", "2026-11-20", models.RequestApproved)
	oa := e.OA()
	got := e.Send(oa.Text("o-wang", "考勤"))
	if want := "你本周的考勤（11月16日-11月20日）\n出勤 2 天（迟到 1 天），请假 1 天，缺勤 1 天\n今天：请假"; got != want {
		t.Errorf("王德明:\n%s\nwant\n%s", got, want)
	}

	got = e.Send(oa.Text("o-li", "考勤"))
	if want := "你本周的考勤（11月16日-11月20日）\n今天：还未签到，发送「签到」打卡"; got != want {
		t.Errorf("李秀英, nothing yet:\n%s\nwant\n%s", got, want)
	}
	checkIn(t, e, "李秀英", "2026-11-20", "08:52", models.CheckKindIn, models.CheckOK)
	if got, want := e.Send(oa.Text("o-li", "考勤")), "你本周的考勤（11月16日-11月20日）\n今天：08:52 已签到，还未签退"; got != want {
		t.Errorf("李秀英, in:\n%s\nwant\n%s", got, want)
	}
	checkIn(t, e, "李秀英", "2026-11-20", "17:31", models.CheckKindOut, models.CheckOK)
	if got, want := e.Send(oa.Text("o-li", "考勤")), "你本周的考勤（11月16日-11月20日）\n今天：08:52 已签到，17:31 已签退"; got != want {
		t.Errorf("李秀英, out:\n%s\nwant\n%s", got, want)
	}
}
