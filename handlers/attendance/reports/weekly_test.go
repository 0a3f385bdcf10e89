package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// runJobs runs the server's daily jobs due at the clock's time, as a tick of the scheduler does. Other
// parts' jobs may fail on this seed; this part's must not.
func runJobs(t *testing.T, e *consoletest.Env) {
	t.Helper()
	if err := e.App.Scheduler().RunDue(context.Background(), e.Clock.Now()); err != nil && strings.Contains(err.Error(), "reports:") {
		t.Fatal(err)
	}
}

// at moves the clock to day hh:mm.
func at(t *testing.T, e *consoletest.Env, day, hhmm string) {
	t.Helper()
	want, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, e.App.Config().Location)
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Add(want.Sub(e.Clock.Now()))
}

// TestWeeklySummary: on Monday at 08:00 the bound secretaries get their village's last week and the
// town administrators (管理员 members of a town) their town's, once, however often the job runs; on
// other days the job sends nothing; a member outside the 48-hour window (no template configured) is
// counted as failed and not retried; a refusal WeChat may retry releases the claim.
func TestWeeklySummary(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e) // Monday 11-16 to Thursday 11-19
	code := "TWNADM23"
	town := models.Member{Name: "花溪镇管理员", Phone: "13900000001", Role: models.RoleAdmin, OrgID: orgID(t, e, "洪雅县/花溪镇"), BindCode: &code, Active: true}
	if err := e.App.DB().Omit("Org").Create(&town).Error; err != nil {
		t.Fatal(err)
	}

	// Friday: two secretaries bind, and stay silent since (outside the 48-hour window on Monday)
	at(t, e, "2026-11-20", "10:00")
	e.BindAs("o-guo", "郭晓燕") // 五龙村 书记
	e.BindAs("o-ma", "马文斌")  // 杨村 书记: no days seeded, nothing to say

	// Sunday is no Monday: nothing at 08:00
	at(t, e, "2026-11-22", "08:05")
	runJobs(t, e)
	if n := len(e.Fake.CallsTo(wxfake.APICustomSend)); n != 0 {
		t.Fatalf("%d messages on a Sunday", n)
	}
	// Sunday evening: these write (the 48-hour window)
	at(t, e, "2026-11-22", "20:00")
	e.BindAs("o-zhang", "张国华")   // 郭沟村 书记
	e.BindAs("o-chen", "陈志强")    // 双河村 书记
	e.BindAs("o-town", "花溪镇管理员") // 花溪镇 管理员
	e.BindAs("o-li", "李秀英")      // 党建专干: no summary
	for _, o := range []string{"o-zhang", "o-chen", "o-town", "o-li"} {
		e.WaitWrote(o)
	}

	at(t, e, "2026-11-23", "07:59")
	runJobs(t, e)
	if n := len(e.Fake.TextsTo("o-zhang")); n != 0 {
		t.Fatalf("sent before 08:00")
	}
	at(t, e, "2026-11-23", "08:00")
	runJobs(t, e)

	zhang := e.Fake.TextsTo("o-zhang")
	if len(zhang) != 1 {
		t.Fatalf("张国华 got %d summaries", len(zhang))
	}
	want := "郭沟村 上周考勤（11月16日-11月22日）\n出勤率 79%（落后）\n应到 14 人天，实到 11（迟到 1，早退 1），请假 2，缺勤 3\n" +
		"缺勤：刘桂兰 2 天、王德明 1 天\n回复「考勤」看今天"
	if zhang[0] != want {
		t.Errorf("secretary's summary:\n%s\nwant\n%s", zhang[0], want)
	}
	chen := e.Fake.TextsTo("o-chen")
	if len(chen) != 1 || !strings.Contains(chen[0], "双河村 上周考勤") || !strings.Contains(chen[0], "出勤率 100%（良好）") || strings.Contains(chen[0], "缺勤：") {
		t.Errorf("双河村's summary: %q", chen)
	}
	townTexts := e.Fake.TextsTo("o-town")
	wantTown := "花溪镇 上周考勤（11月16日-11月22日）\n出勤率 88%（一般）\n应到 26 人天，实到 23（迟到 1，早退 1），请假 2，缺勤 3\n" +
		"落后 1 个村：郭沟村 79%\n良好 1 个村\n回复「考勤」看今天"
	if len(townTexts) != 1 || townTexts[0] != wantTown {
		t.Errorf("town's summary:\n%q\nwant\n%q", townTexts, wantTown)
	}
	for _, o := range []string{"o-li", "o-guo", "o-ma"} {
		if n := len(e.Fake.TextsTo(o)); n != 0 {
			t.Errorf("%s got %d summaries", o, n)
		}
	}
	// 郭晓燕 (outside the window, no template configured): claimed as failed, not retried; 马文斌's
	// village has no days: no claim
	var rows []models.AttendanceDigest
	e.App.DB().Order("member_id").Find(&rows)
	status := map[string]int{}
	for _, r := range rows {
		status[r.Status+"/"+r.Via]++
		if r.Week != "2026-11-16" {
			t.Errorf("digest week %s", r.Week)
		}
	}
	if status["sent/text"] != 3 || status["failed/"] != 1 || len(rows) != 4 {
		t.Errorf("digests: %v", status)
	}

	// again (another process, a retry): nothing twice
	if _, err := e.App.AttendanceReports().SendWeekly(context.Background(), "2026-11-23"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Fake.TextsTo("o-zhang")); n != 1 {
		t.Errorf("张国华 got %d summaries after a second run", n)
	}

	// a retryable refusal releases the claim: the next run sends it
	e.App.DB().Where("1 = 1").Delete(&models.AttendanceDigest{})
	e.Fake.Fail(wxfake.APICustomSend, -1, 10) // system busy
	res, err := e.App.AttendanceReports().SendWeekly(context.Background(), "2026-11-23")
	if err == nil || res.Sent != 0 {
		t.Fatalf("busy WeChat: %+v %v", res, err)
	}
	var n int64
	e.App.DB().Model(&models.AttendanceDigest{}).Where("status = ?", models.DigestSending).Count(&n)
	if n != 0 {
		t.Errorf("%d claims left after retryable failures", n)
	}
	e.Fake.Fail(wxfake.APICustomSend, -1, 0)
	if res, err = e.App.AttendanceReports().SendWeekly(context.Background(), "2026-11-23"); err != nil || res.Sent != 3 {
		t.Errorf("after WeChat recovered: %+v %v", res, err)
	}
	if _, err := e.App.AttendanceReports().SendWeekly(context.Background(), "2026-11-24"); err != nil {
		t.Errorf("a Tuesday: %v", err)
	}
}
