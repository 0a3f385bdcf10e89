package requests_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/attendance/requests"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The tests run on the demo county with the server's clock at Friday 2026-11-20 09:30. 郭沟村: 张国华
// (书记, console login guogou), 王德明 and 刘桂兰 (党员); 双河村: 陈志强 (书记), 杨丽华.

type env struct {
	*consoletest.Env
}

func newEnv(t *testing.T) *env {
	e := &env{consoletest.New(t)}
	e.BindSeen("o-wang", "王德明")
	e.BindSeen("o-zhang", "张国华")
	return e
}

// say sends a chat text as the WeChat user and returns the bot's answer.
func (e *env) say(openID, text string) string {
	e.T.Helper()
	return e.Send(e.OA().Text(openID, text))
}

// told reports whether the user was sent a customer-service text containing want.
func (e *env) told(openID, want string) bool {
	for _, s := range e.Fake.TextsTo(openID) {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

func (e *env) memberID(name string) uint {
	e.T.Helper()
	var m models.Member
	if err := e.App.DB().Where("name = ?", name).Take(&m).Error; err != nil {
		e.T.Fatalf("member %s: %v", name, err)
	}
	return m.ID
}

func (e *env) requestsOf(name string) []models.AttendRequest {
	e.T.Helper()
	var rs []models.AttendRequest
	if err := e.App.DB().Where("member_id = ?", e.memberID(name)).Order("id").Find(&rs).Error; err != nil {
		e.T.Fatal(err)
	}
	return rs
}

func wantIn(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", what, got, w)
		}
	}
}

func TestLeaveAskedAndDecidedInTheChat(t *testing.T) {
	e := newEnv(t)
	got := e.say("o-wang", "请假 11月25日-11月27日 农忙")
	wantIn(t, "leave", got, "✅ 请假申请已提交：11月25日-11月27日（3天），事由：农忙。", "已通知书记审批",
		"今年已请 3 天（其中 3 天待审批），还可请 18 天。")
	if !e.told("o-zhang", "郭沟村 王德明 申请请假 11月25日-27日（农忙）。回复「审批」处理。") {
		t.Fatalf("the secretary was not told: %q", e.Fake.TextsTo("o-zhang"))
	}
	wantIn(t, "glued leave", e.say("o-wang", "请假明天到县里开会"), "✅ 请假申请已提交：11月21日（1天），事由：到县里开会。")

	got = e.say("o-zhang", "审批")
	wantIn(t, "queue", got, "待审批 2 条：\n1. 王德明 请假 11/25-11/27（3天）农忙\n2. 王德明 请假 11/21 到县里开会", "同意 1")
	got = e.say("o-zhang", "同意 1")
	wantIn(t, "approve", got, "✅ 已同意 1. 王德明 请假 11月25日-11月27日，已通知本人。", "还有 1 条待审批")
	if !e.told("o-wang", "你的请假申请（11月25日-11月27日）已批准。\n今年已请 4 天（其中 1 天待审批），还可请 17 天。") {
		t.Errorf("the member was not told: %q", e.Fake.TextsTo("o-wang"))
	}
	// Deciding again changes nothing and says so.
	wantIn(t, "approve again", e.say("o-zhang", "同意 1"), "第 1 条已经处理过了（已批准）。")
	got = e.say("o-zhang", "拒绝 2 那天要开党员大会")
	wantIn(t, "reject", got, "❌ 已拒绝 2. 王德明 请假 11月21日，已通知本人。", "全部处理完了")
	if !e.told("o-wang", "你的请假申请（11月21日）未获批准。理由：那天要开党员大会") {
		t.Errorf("the member was not told of the rejection: %q", e.Fake.TextsTo("o-wang"))
	}
	// The step is over: 同意 1 is no decision any more (and changes nothing).
	if got := e.say("o-zhang", "同意 1"); strings.Contains(got, "已同意") {
		t.Errorf("after the queue was done: %q", got)
	}

	rs := e.requestsOf("王德明")
	if len(rs) != 2 || rs[0].State != models.RequestApproved || rs[1].State != models.RequestRejected || rs[1].Note != "那天要开党员大会" {
		t.Fatalf("requests: %+v", rs)
	}
	if want := fmt.Sprintf("member:%d", e.memberID("张国华")); rs[0].DecidedBy != want || rs[0].DecidedAt == nil {
		t.Errorf("decided by %q at %v, want %s", rs[0].DecidedBy, rs[0].DecidedAt, want)
	}
	// Both decisions are audited, under the secretary's console account (guogou is linked to him).
	var audits []models.AuditEntry
	e.App.DB().Where("object = ?", requests.ObjectRequest).Order("id").Find(&audits)
	if len(audits) != 2 || audits[0].Username != consoletest.Secretary || !strings.Contains(audits[0].Summary, "批准请假：郭沟村 王德明 11月25日-11月27日") ||
		audits[0].OrgPath != "洪雅县/花溪镇/郭沟村" {
		t.Errorf("audit: %+v", audits)
	}
	// The API refuses to decide it again: 409, nothing changes.
	tok := e.Token(consoletest.County)
	if st, body := e.API(tok, "POST", fmt.Sprintf("/api/v1/attendance/requests/%d/reject", rs[0].ID), map[string]string{"note": "x"}, nil); st != http.StatusConflict ||
		!strings.Contains(body, "已经处理过了") {
		t.Errorf("reject an approved request: %d %s", st, body)
	}
	if rs := e.requestsOf("王德明"); rs[0].State != models.RequestApproved {
		t.Errorf("state after the 409: %s", rs[0].State)
	}

	got = e.say("o-wang", "我的请假")
	wantIn(t, "mine", got, "1. 请假 11/21 到县里开会 未批准", "2. 请假 11/25-11/27（3天）农忙 已批准", "今年已请 3 天，还可请 18 天。")
	if strings.Contains(got, "撤销") {
		t.Errorf("nothing pending, yet: %q", got)
	}
}

func TestCancelAPendingRequest(t *testing.T) {
	e := newEnv(t)
	e.say("o-wang", "请假 下周一 培训")
	e.say("o-wang", "补卡 昨天 签到 8:20 忘带手机")
	got := e.say("o-wang", "我的请假")
	wantIn(t, "mine", got, "1. 补卡 11/19 签到 08:20 忘带手机 待审批", "2. 请假 11/23 培训 待审批", "回复「撤销 1」")
	wantIn(t, "cancel", e.say("o-wang", "撤销 2"), "已撤销：请假 11月23日。")
	wantIn(t, "cancel again", e.say("o-wang", "撤销 2"), "第 2 条已撤销，不能撤销了。")
	wantIn(t, "no such", e.say("o-wang", "撤销 9"), "没有第 9 条")
	rs := e.requestsOf("王德明")
	if rs[0].State != models.RequestCanceled || rs[1].State != models.RequestPending {
		t.Fatalf("states: %s %s", rs[0].State, rs[1].State)
	}
	// A withdrawn request is out of the secretary's queue and gives the days back.
	got = e.say("o-zhang", "审批")
	if strings.Contains(got, "培训") || !strings.Contains(got, "补卡 11/19 签到 08:20") {
		t.Errorf("queue: %q", got)
	}
	wantIn(t, "usage", e.say("o-wang", "请假"), "请假 11月25日-11月27日 农忙", "今年已请 0 天，还可请 21 天。")
}

func TestLeaveRefusalsAndTheQuota(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ say, want string }{
		{"请假 家里有事", requests.TextLeaveHow},
		{"请假 11月31日", "没有11月31日这一天"},
		{"请假 11月27日-11月25日", "早于开始日期"},
		{"请假 11月1日 农忙", "只能补请 7 天以内的假"},
		{"请假 11月25日-12月31日", "一次最多请 30 天假"},
		{"补卡 昨天 8:20", "补卡要说明补签到还是签退"},
		{"补卡", requests.TextMakeupHow},
	} {
		wantIn(t, tc.say, e.say("o-wang", tc.say), tc.want)
	}
	if rs := e.requestsOf("王德明"); len(rs) != 0 {
		t.Fatalf("refused input stored requests: %+v", rs)
	}
	wantIn(t, "first", e.say("o-wang", "请假 11月25日 体检"), "✅")
	wantIn(t, "overlap", e.say("o-wang", "请假 11月24日-11月26日"), "和你已有的请假（11月25日，待审批）重叠了")

	// The county sets 5 days a year; a town administrator and a secretary may not.
	var county models.Org
	e.App.DB().Where("path = ?", "洪雅县").Take(&county)
	form := func() url.Values {
		return url.Values{"org_id": {fmt.Sprint(county.ID)}, "leave_days": {"5"}, "makeup_per_month": {"2"}}
	}
	for _, user := range []string{consoletest.Town, consoletest.Secretary} {
		res, body := e.Login(user).PostForm("/console/requests/quota", form())
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s set the county's quota: %d %.200s", user, res.StatusCode, body)
		}
	}
	if n := countRows(e, &models.RequestQuota{}); n != 0 {
		t.Fatalf("quota rows: %d", n)
	}
	admin := e.Login(consoletest.County)
	bad := url.Values{"org_id": {fmt.Sprint(county.ID)}, "leave_days": {"四天"}, "makeup_per_month": {"2"}}
	if res, body := admin.PostForm("/console/requests/quota", bad); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "每年请假天数应为整数") ||
		!strings.Contains(body, `value="四天"`) {
		t.Errorf("bad quota: %d %.300s", res.StatusCode, body)
	}
	if res, body := admin.PostForm("/console/requests/quota", form()); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set quota: %d %.300s", res.StatusCode, body)
	}
	_, page := admin.Get("/console/requests/quota")
	wantIn(t, "quota page", page, "已保存：洪雅县 每人每年可请假 5 天，每月可补卡 2 次。", "每名党员每年可请假 <strong>5</strong> 天")
	var audit models.AuditEntry
	if err := e.App.DB().Where("object = ?", "request_quota").Take(&audit).Error; err != nil || !strings.Contains(audit.After, `"leave_days":5`) {
		t.Errorf("quota not audited: %+v %v", audit, err)
	}
	_, page = e.Login(consoletest.Secretary).Get("/console/requests/quota")
	wantIn(t, "secretary's quota page", page, "额度由县里的管理员设定")

	wantIn(t, "up to the quota", e.say("o-wang", "请假 11月30日-12月3日 走亲戚"), "今年已请 5 天（其中 5 天待审批），还可请 0 天。")
	got := e.say("o-wang", "请假 12月10日")
	wantIn(t, "over the quota", got, "2026年每人可请 5 天假，你已请 5 天（含待审批），这次 1 天超出了额度，不能提交。")
	if rs := e.requestsOf("王德明"); len(rs) != 2 {
		t.Fatalf("requests after the refusal: %d", len(rs))
	}

	// Lowered below what is pending: the approval is refused with the reason, and nothing changes.
	e.App.DB().Model(&models.RequestQuota{}).Where("org_id = ?", county.ID).Update("leave_days", 3)
	e.say("o-zhang", "审批")
	got = e.say("o-zhang", "全部同意")
	wantIn(t, "approve over the quota", got, "✅ 已同意 1. 王德明 请假 11月25日", "第 2 条：王德明 2026年已批准请假 1 天，再批这 4 天会超过每年 3 天的额度，不能批准。")
	if rs := e.requestsOf("王德明"); rs[1].State != models.RequestPending {
		t.Errorf("over-quota request: %s", rs[1].State)
	}
}

func countRows(e *env, model any) int64 {
	var n int64
	e.App.DB().Model(model).Count(&n)
	return n
}

func TestMakeupApprovedWritesACheckIn(t *testing.T) {
	e := newEnv(t)
	got := e.say("o-wang", "补卡 昨天 签到 8:20 忘带手机")
	wantIn(t, "makeup", got, "✅ 补卡申请已提交：11月19日 签到 08:20，事由：忘带手机。", "本月还可补卡 2 次。")
	if !e.told("o-zhang", "郭沟村 王德明 申请补卡 11月19日 签到 08:20（忘带手机）") {
		t.Errorf("secretary not told: %q", e.Fake.TextsTo("o-zhang"))
	}
	wantIn(t, "queue", e.say("o-zhang", "审批"), "1. 王德明 补卡 11/19 签到 08:20 忘带手机")
	wantIn(t, "approve", e.say("o-zhang", "同意"), "✅ 已同意 1. 王德明 补卡 11月19日 签到 08:20，已通知本人。")
	if !e.told("o-wang", "你的补卡申请（11月19日 签到 08:20）已批准。") {
		t.Errorf("member not told: %q", e.Fake.TextsTo("o-wang"))
	}
	r := e.requestsOf("王德明")[0]
	var cis []models.CheckIn
	e.App.DB().Where("member_id = ?", e.memberID("王德明")).Find(&cis)
	loc := e.App.Config().Location
	if len(cis) != 1 || cis[0].Source != models.CheckSourceMakeup || cis[0].Status != models.CheckOK || cis[0].Kind != models.CheckKindIn ||
		cis[0].Day != "2026-11-19" || cis[0].At.In(loc).Format("2006-01-02 15:04") != "2026-11-19 08:20" ||
		cis[0].DedupKey != fmt.Sprintf("makeup:%d", r.ID) || cis[0].RequestID == nil || *cis[0].RequestID != r.ID || cis[0].OrgID != r.OrgID {
		t.Fatalf("check-ins: %+v", cis)
	}
	wantIn(t, "made up already", e.say("o-wang", "补卡 昨天 签到 9:00"), "11月19日已经有签到记录了，不用补卡。")

	// Without a time, the make-up is recorded at the end of duty (the default rule: 17:00); decided in
	// the console by the village's secretary.
	wantIn(t, "no time", e.say("o-wang", "补卡 前天 签退"), "（没写时间，按上班时间记）", "本月还可补卡 1 次。")
	wantIn(t, "duplicate", e.say("o-wang", "补卡 前天 签退 忘了"), "11月18日的签退补卡已经申请过了（待审批）。")
	id := e.requestsOf("王德明")[1].ID
	c := e.Login(consoletest.Secretary)
	_, page := c.Get(fmt.Sprintf("/console/requests/%d", id))
	wantIn(t, "request page", page, "王德明", "11月18日 签退", "批准")
	res, _ := c.PostForm(fmt.Sprintf("/console/requests/%d/approve", id), url.Values{"note": {"下次注意"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	var ci models.CheckIn
	if err := e.App.DB().Where("dedup_key = ?", fmt.Sprintf("makeup:%d", id)).Take(&ci).Error; err != nil ||
		ci.At.In(loc).Format("2006-01-02 15:04") != "2026-11-18 17:00" || ci.Kind != models.CheckKindOut {
		t.Fatalf("make-up without a time: %+v %v", ci, err)
	}
	if !e.told("o-wang", "你的补卡申请（11月18日 签退）已批准。留言：下次注意") {
		t.Errorf("member not told: %q", e.Fake.TextsTo("o-wang"))
	}

	// The month's quota: 3 by default.
	wantIn(t, "third", e.say("o-wang", "补卡 11月17日 签到 8:00"), "本月还可补卡 0 次。")
	wantIn(t, "fourth", e.say("o-wang", "补卡 11月16日 签到 8:00"), "11月已申请补卡 3 次，每月最多 3 次，不能再申请了。")
}

func TestSecretaryDecidesOnlyHisVillage(t *testing.T) {
	e := newEnv(t)
	e.BindSeen("o-yang", "杨丽华") // 双河村
	e.BindSeen("o-chen", "陈志强") // 双河村 书记
	wantIn(t, "yang", e.say("o-yang", "请假 明天 看病"), "✅")
	wantIn(t, "wang", e.say("o-wang", "请假 后天 农忙"), "✅")
	yang, wang := e.requestsOf("杨丽华")[0].ID, e.requestsOf("王德明")[0].ID
	if e.told("o-zhang", "杨丽华") || !e.told("o-chen", "双河村 杨丽华 申请请假 11月21日（看病）") {
		t.Errorf("secretaries told: zhang %q, chen %q", e.Fake.TextsTo("o-zhang"), e.Fake.TextsTo("o-chen"))
	}

	// Chat: each secretary's queue holds his village's requests only.
	got := e.say("o-zhang", "审批")
	if strings.Contains(got, "杨丽华") || !strings.Contains(got, "王德明") {
		t.Errorf("郭沟村's queue: %q", got)
	}
	got = e.say("o-chen", "审批")
	if strings.Contains(got, "王德明") || !strings.Contains(got, "杨丽华") {
		t.Errorf("双河村's queue: %q", got)
	}
	if got := e.say("o-wang", "审批"); got != bot.TextNoRole {
		t.Errorf("a member's 审批: %q", got)
	}
	// Nor can the service be made to: another village's request is not found.
	svc := e.App.Requests()
	m, _ := e.App.Roster().MemberByOpenID(context.Background(), bot.ChannelOA, "o-zhang")
	_, err := svc.Decide(context.Background(), scopeOf(m), yang, true, "", requests.Decider{By: "member:x", Self: m.ID})
	if err != requests.ErrNotFound {
		t.Errorf("deciding another village's request: %v", err)
	}

	// Console and API, as 郭沟村's secretary: 双河村's request neither shows nor changes.
	c := e.Login(consoletest.Secretary)
	if _, page := c.Get("/console/requests"); strings.Contains(page, "杨丽华") || !strings.Contains(page, "王德明") {
		t.Errorf("list shows: %.2000s", page)
	}
	if res, _ := c.Get(fmt.Sprintf("/console/requests/%d", yang)); res.StatusCode != http.StatusNotFound {
		t.Errorf("other village's request page: %d", res.StatusCode)
	}
	if res, _ := c.PostForm(fmt.Sprintf("/console/requests/%d/approve", yang), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("approve other village's request: %d", res.StatusCode)
	}
	tok := e.Token(consoletest.Secretary)
	var list struct {
		Items []requests.APIRequest `json:"items"`
		Total int                   `json:"total"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/attendance/requests", nil, &list); st != http.StatusOK || list.Total != 1 || list.Items[0].ID != wang {
		t.Errorf("API list: %d %s", st, body)
	}
	if st, _ := e.API(tok, "POST", fmt.Sprintf("/api/v1/attendance/requests/%d/approve", yang), nil, nil); st != http.StatusNotFound {
		t.Errorf("API approve other village's request: %d", st)
	}
	if r := e.requestsOf("杨丽华")[0]; r.State != models.RequestPending {
		t.Fatalf("the other village's request changed: %s", r.State)
	}
	// The town sees and decides both.
	ttok := e.Token(consoletest.Town)
	if st, body := e.API(ttok, "GET", "/api/v1/attendance/requests?state=pending", nil, &list); st != http.StatusOK || list.Total != 2 {
		t.Errorf("town's list: %d %s", st, body)
	}
	var decided struct {
		requests.APIRequest
		Told bool `json:"told"`
	}
	if st, body := e.API(ttok, "POST", fmt.Sprintf("/api/v1/attendance/requests/%d/approve", yang), map[string]string{"note": "好好休息"}, &decided); st != http.StatusOK ||
		decided.State != models.RequestApproved || !decided.Told || decided.DecidedBy != consoletest.Town {
		t.Errorf("town approves: %d %s", st, body)
	}
	if !e.told("o-yang", "你的请假申请（11月21日）已批准。留言：好好休息") {
		t.Errorf("yang not told: %q", e.Fake.TextsTo("o-yang"))
	}
}

func TestASecretarysOwnRequestGoesUp(t *testing.T) {
	e := newEnv(t)
	got := e.say("o-zhang", "请假 明天 到县里开会")
	wantIn(t, "own", got, "✅", "你的申请由上级在管理后台审批。")
	if got := e.say("o-zhang", "审批"); got != "目前没有待审批的申请 👍" {
		t.Errorf("his own request in his queue: %q", got)
	}
	id := e.requestsOf("张国华")[0].ID
	c := e.Login(consoletest.Secretary) // linked to 张国华
	_, page := c.Get(fmt.Sprintf("/console/requests/%d", id))
	wantIn(t, "own page", page, "这是你自己的申请，由上级审批。")
	res, body := c.PostForm(fmt.Sprintf("/console/requests/%d/approve", id), nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "不能审批自己的申请") {
		t.Errorf("approving his own: %d %.300s", res.StatusCode, body)
	}
	res, _ = e.Login(consoletest.Town).PostForm(fmt.Sprintf("/console/requests/%d/approve", id), nil)
	if res.StatusCode != http.StatusSeeOther || e.requestsOf("张国华")[0].State != models.RequestApproved {
		t.Errorf("the town approves: %d", res.StatusCode)
	}
}

func scopeOf(m *bot.Member) scope.Scope { return scope.Under(m.OrgID, m.OrgPath) }
