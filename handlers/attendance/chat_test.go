package attendance_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

func wants(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Fatalf("%s: reply lacks %q:\n%s", what, p, got)
		}
	}
}

// TestDutyCheckInByChat: 签到 asks for the location; outside the fence is refused with the distance
// and nothing is kept; inside is recorded with distance and time and judged by the county's rule
// (09:00, 15 minutes: 09:30 is late); a second 签到 records nothing; 签退 is completed by a LOCATION
// event (with its accuracy) on the edge of the fence; bad coordinates are refused and nothing is kept.
func TestDutyCheckInByChat(t *testing.T) {
	e := consoletest.New(t) // Friday 2026-11-20 09:30
	ch := newChat(t, e, "o-wang", "王德明")

	wants(t, "签到", ch.text("签到"), "请发送你的位置", "+ 号")
	wants(t, "2 km away", ch.at(2000), "你距离郭沟村村委会 2 公里，超出签到范围（300 米）", "外勤 原因")
	if n := len(ch.checkIns()); n != 0 {
		t.Fatalf("a refused check-in was recorded: %d", n)
	}
	// The refusal keeps the check-in open: a location from inside completes it.
	p := demoPlace(t, e)
	inside := ch.c.Location(ch.openID, p.Lat+100/metresPerDegree, p.Lng, 15, "村委会")
	got := ch.send(inside)
	wants(t, "inside", got, "✅ 签到成功", "郭沟村村委会（距离 100 米）", "11-20 09:30", "迟到 30 分钟（上班时间 09:00）")
	cs := ch.checkIns()
	if len(cs) != 1 || cs[0].Status != models.CheckOK || cs[0].Kind != models.CheckKindIn || cs[0].Source != models.CheckSourceChat ||
		cs[0].Distance < 99 || cs[0].Distance > 101 || cs[0].Accuracy != 0 || cs[0].Day != "2026-11-20" || cs[0].OrgID != ch.member.OrgID ||
		cs[0].PlaceID == nil || cs[0].Flags != "" {
		t.Fatalf("check-in = %+v", cs)
	}
	// WeChat's retry of that location message: one record, the same reply.
	if again := ch.e.Send(inside); again != got {
		t.Fatalf("retry answered %q", again)
	}
	wants(t, "again", ch.text("签到"), "你今天 09:30 已经在郭沟村村委会签到了", "签退")
	if n := len(ch.checkIns()); n != 1 {
		t.Fatalf("%d check-ins after a second 签到", n)
	}

	// A LOCATION event WeChat sends by itself, with nothing pending: recorded quietly.
	if got := ch.event(5000, 40); got != "success" {
		t.Fatalf("a lone LOCATION event got %q", got)
	}
	if n := len(ch.checkIns()); n != 1 || count(t, e, "location_reports", "member_id = ?", ch.member.ID) == 0 {
		t.Fatalf("a lone LOCATION event: %d check-ins, reports %d", n, count(t, e, "location_reports", "member_id = ?", ch.member.ID))
	}

	// 签退 at 16:30 (early by 30 minutes), completed by a LOCATION event 299 m away: on the edge, inside.
	setClock(t, e, "2026-11-20", "16:30")
	wants(t, "签退", ch.text("签退"), "签退：请发送你的位置")
	// Bad coordinates first: refused, nothing kept, the check-out still waits.
	wants(t, "0,0", ch.send(ch.c.Location(ch.openID, 0, 0, 15, "")), "位置无效", "没有记录")
	wants(t, "lat 95", ch.send(ch.c.Location(ch.openID, 95, 103.3, 15, "")), "位置无效")
	// A LOCATION event whose latitude is no number never reaches the bot: the webhook refuses it (400).
	bad := ch.c.LocationEvent(ch.openID, 29.9, 103.3, 20)
	bad.Latitude = "abc"
	res, err := ch.c.Send(context.Background(), bad)
	if err != nil || res.Status != http.StatusBadRequest {
		t.Fatalf("LOCATION event with latitude abc: %v %+v", err, res)
	}
	if n := len(ch.checkIns()); n != 1 {
		t.Fatalf("bad coordinates were recorded: %d check-ins", n)
	}
	got = ch.event(299, 25)
	wants(t, "edge", got, "✅ 签退成功", "距离 299 米", "早退 30 分钟（下班时间 17:00）")
	cs = ch.checkIns()
	if len(cs) != 2 || cs[1].Kind != models.CheckKindOut || cs[1].Accuracy != 25 || cs[1].Status != models.CheckOK {
		t.Fatalf("check-out = %+v", cs[len(cs)-1])
	}
	// Just past the edge: refused.
	ch.text("签退")
	wants(t, "301 m", ch.event(301, 10), "你距离郭沟村村委会 301 米，超出签到范围（300 米）")
	wants(t, "取消", ch.text("取消"), "已取消")
	if n := len(ch.checkIns()); n != 2 {
		t.Fatalf("%d check-ins after a refusal", n)
	}

	// The menu's one button: 签退 once checked in.
	e.Clock.Add(60 * 60e9)
	wants(t, "menu", ch.send(ch.c.Click(ch.openID, "CHECK_IN")), "签退：请发送你的位置")
	wants(t, "17:31", ch.at(10), "✅ 签退成功", "按时下班")

	// The day's status: the first check-in (late) and the last check-out (on time).
	if err := service(t, e).Recompute(context.Background(), nil, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	d := dayOf(t, e, ch.member.ID, "2026-11-20")
	if d.Status != models.DayLate || !d.Late || d.Early || d.InAt == nil || d.OutAt == nil || d.OrgPath != village || d.Role != models.RoleMember {
		t.Fatalf("status = %+v", d)
	}
}

// TestMeetingCodeIsNoDutyCheckIn: 签到 with a code goes to the meeting check-in, never asks for a
// location.
func TestMeetingCodeIsNoDutyCheckIn(t *testing.T) {
	e := consoletest.New(t)
	ch := newChat(t, e, "o-liu", "刘桂兰")
	got := ch.text("签到 ZZZZ99")
	if strings.Contains(got, "请发送你的位置") || got == "success" {
		t.Fatalf("签到 CODE: %q", got)
	}
	// A location now completes nothing.
	wants(t, "location", ch.at(0), "要签到请先发送「签到」")
	if n := len(ch.checkIns()); n != 0 {
		t.Fatalf("%d check-ins", n)
	}
}

// TestOffsiteRestDayAndStatus: outside with a reason is an off-site check-in waiting for approval
// (a pending record and its request); the day's status counts only approved records; leave approved
// after the day and an approved off-site record change the day when it is recomputed; a weekend and a
// county holiday are rest days, a 调休 Saturday a work day.
func TestOffsiteRestDayAndStatus(t *testing.T) {
	e := consoletest.New(t)
	ctx := context.Background()
	svc := service(t, e)
	li := newChat(t, e, "o-li", "李秀英")
	liu := newChat(t, e, "o-liu", "刘桂兰")
	zhang := newChat(t, e, "o-zhang", "张国华")

	e.WaitWrote("o-zhang") // the secretary wrote: he is told of the off-site request in the chat
	wants(t, "外勤 alone", li.text("外勤 开会"), "先发送「签到」")
	li.text("签到")
	wants(t, "outside", li.at(1200), "你距离郭沟村村委会 1.2 公里")
	wants(t, "no reason", li.text("外勤"), "请写明外勤原因")
	wants(t, "offsite", li.text("外勤：到镇上开会"), "📝 已提交外勤签到，等待村书记审核", "原因：到镇上开会", "1.2 公里")
	cs := li.checkIns()
	if len(cs) != 1 || cs[0].Status != models.CheckPending || cs[0].Reason != "到镇上开会" || cs[0].RequestID == nil {
		t.Fatalf("off-site check-in = %+v", cs)
	}
	var req models.AttendRequest
	if err := e.App.DB().Take(&req, *cs[0].RequestID).Error; err != nil {
		t.Fatal(err)
	}
	if req.Kind != models.RequestOffsite || req.State != models.RequestPending || req.CheckInID == nil || *req.CheckInID != cs[0].ID ||
		req.OrgID != li.member.OrgID || req.MemberID != li.member.ID || req.Reason != "到镇上开会" {
		t.Fatalf("off-site request = %+v", req)
	}
	if told := e.Fake.TextsTo("o-zhang"); len(told) != 1 || !strings.Contains(told[0], "李秀英 申请外勤") || !strings.Contains(told[0], "回复「审批」处理") {
		t.Fatalf("the secretary was told %q", told)
	}
	zhang.text("签到")
	zhang.at(0)

	day := "2026-11-20"
	if err := svc.Recompute(ctx, nil, day); err != nil {
		t.Fatal(err)
	}
	if d := dayOf(t, e, li.member.ID, day); d.Status != models.DayAbsent {
		t.Fatalf("pending off-site counts: %+v", d)
	}
	if d := dayOf(t, e, liu.member.ID, day); d.Status != models.DayAbsent {
		t.Fatalf("刘桂兰 = %+v", d)
	}
	var n int64
	e.App.DB().Model(&models.AttendanceDay{}).Where("day = ?", day).Count(&n)
	var active int64
	e.App.DB().Model(&models.Member{}).Where("active = ?", true).Count(&active)
	if n != active {
		t.Fatalf("%d statuses for %d active members", n, active)
	}

	// The next day the secretary approves the off-site record, and 刘桂兰's leave for yesterday; the
	// requests part then asks for the day again (the recompute hook).
	setClock(t, e, "2026-11-21", "10:00")
	e.App.DB().Model(&models.CheckIn{}).Where("id = ?", cs[0].ID).Update("status", models.CheckOK)
	e.App.DB().Model(&models.AttendRequest{}).Where("id = ?", req.ID).Update("state", models.RequestApproved)
	leave := models.AttendRequest{MemberID: liu.member.ID, OrgID: liu.member.OrgID, Kind: models.RequestLeave, State: models.RequestApproved,
		From: "2026-11-19", To: day, Reason: "家里农活"}
	if err := e.App.DB().Create(&leave).Error; err != nil {
		t.Fatal(err)
	}
	if err := svc.Recompute(ctx, []uint{li.member.ID, liu.member.ID}, day); err != nil {
		t.Fatal(err)
	}
	if d := dayOf(t, e, li.member.ID, day); d.Status != models.DayOffsite || d.InAt == nil {
		t.Fatalf("approved off-site = %+v", d)
	}
	if d := dayOf(t, e, liu.member.ID, day); d.Status != models.DayLeave {
		t.Fatalf("leave approved after the day = %+v", d)
	}
	// Recomputing everyone again changes nothing (idempotent).
	if err := svc.Recompute(ctx, nil, day); err != nil {
		t.Fatal(err)
	}
	if d := dayOf(t, e, liu.member.ID, day); d.Status != models.DayLeave {
		t.Fatalf("after a second run = %+v", d)
	}
	e.App.DB().Model(&models.AttendanceDay{}).Where("day = ?", day).Count(&n)
	if n != active {
		t.Fatalf("%d statuses after a second run", n)
	}

	// Saturday: a rest day. Checking in is still recorded, and said so.
	zhang.text("签到")
	wants(t, "Saturday", zhang.at(20), "✅ 签到成功", "今天是休息日，已记录")
	// The county's holiday on Monday and a 调休 working Sunday, set in the console.
	admin := e.Login(consoletest.County)
	var county models.Org
	e.App.DB().Where("path = ?", "洪雅县").Take(&county)
	for _, f := range []map[string]string{{"day": "2026-11-23", "name": "县庆"}, {"day": "2026-11-22", "name": "县庆调休", "workday": "1"}} {
		v := map[string][]string{"org_id": {itoa(county.ID)}, "day": {f["day"]}, "name": {f["name"]}}
		if f["workday"] != "" {
			v["workday"] = []string{"1"}
		}
		if res, body := admin.PostForm("/console/attendance/holidays", v); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/console/attendance/holidays") {
			t.Fatalf("add holiday: %d %s", res.StatusCode, body)
		}
	}
	setClock(t, e, "2026-11-22", "08:50")
	zhang.text("签到")
	wants(t, "调休 Sunday", zhang.at(20), "✅ 签到成功", "按时到岗")
	setClock(t, e, "2026-11-23", "08:50")
	zhang.text("签到")
	wants(t, "holiday", zhang.at(20), "今天是县庆，已记录")
	// The daily job of the 24th computes the 23rd: a rest day for everyone of the county.
	setClock(t, e, "2026-11-24", "01:30")
	if err := svc.StatusJob(ctx, "2026-11-24"); err != nil {
		t.Fatal(err)
	}
	if d := dayOf(t, e, zhang.member.ID, "2026-11-23"); d.Status != models.DayRest || d.InAt == nil {
		t.Fatalf("holiday = %+v", d)
	}
	if d := dayOf(t, e, liu.member.ID, "2026-11-23"); d.Status != models.DayRest {
		t.Fatalf("holiday = %+v", d)
	}
	// A holiday added for a day that is over recomputes it at once.
	if err := svc.Recompute(ctx, nil, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	admin = e.Login(consoletest.County) // days later: a new session
	if res, body := admin.PostForm("/console/attendance/holidays", map[string][]string{"org_id": {itoa(county.ID)}, "day": {"2026-11-20"}, "name": {"补放假"}}); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/console/attendance/holidays") {
		t.Fatalf("add a past holiday: %d %s", res.StatusCode, body)
	}
	if d := dayOf(t, e, liu.member.ID, "2026-11-20"); d.Status != models.DayRest {
		t.Fatalf("a past day made a holiday = %+v", d)
	}
}

// TestSuspiciousFlags: the same coordinates as a check-in of another day, an impossible speed since
// the previous check-in, and a mocked location are flagged, still recorded, and mark the day.
func TestSuspiciousFlags(t *testing.T) {
	e := consoletest.New(t)
	ch := newChat(t, e, "o-wang", "王德明")
	p := demoPlace(t, e)
	lat, lng := p.Lat+0.000123, p.Lng-0.000456
	ch.text("签到")
	wants(t, "day 1", ch.send(ch.c.Location(ch.openID, lat, lng, 15, "")), "✅ 签到成功")
	if cs := ch.checkIns(); cs[0].Flags != "" {
		t.Fatalf("first check-in flagged: %q", cs[0].Flags)
	}
	// Ten minutes later, 40 km away (off-site): 240 km/h.
	e.Clock.Add(10 * 60e9)
	ch.text("签退")
	ch.at(40000)
	wants(t, "speed", ch.text("外勤 去市里送材料"), "已提交外勤签退", "需要村书记核实")
	// The next day at the very same coordinates.
	setClock(t, e, "2026-11-23", "08:40")
	ch.text("签到")
	wants(t, "same coords", ch.send(ch.c.Location(ch.openID, lat, lng, 15, "")), "✅ 签到成功", "需要村书记核实")
	cs := ch.checkIns()
	if len(cs) != 3 || cs[1].Flags != "speed" || cs[2].Flags != "same_coords" {
		t.Fatalf("flags = %q %q", cs[1].Flags, cs[2].Flags)
	}
	if err := service(t, e).Recompute(context.Background(), []uint{ch.member.ID}, "2026-11-23"); err != nil {
		t.Fatal(err)
	}
	if d := dayOf(t, e, ch.member.ID, "2026-11-23"); !d.Flagged {
		t.Fatalf("flagged day = %+v", d)
	}
	// The console's list of records to look at.
	c := e.Login(consoletest.Secretary)
	res, body := c.Get("/console/attendance/checkins?day=2026-11-23&flagged=1")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "王德明") || !strings.Contains(body, "坐标与往日完全相同") {
		t.Fatalf("flagged list: %d\n%s", res.StatusCode, body)
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }
