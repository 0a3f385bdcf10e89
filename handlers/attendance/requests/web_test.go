package requests_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/attendance/requests"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// offsite makes an off-site check-in waiting for the secretary and its request, as the check-in part
// does.
func offsite(t *testing.T, e *env, name, day string) (models.CheckIn, models.AttendRequest) {
	t.Helper()
	var m models.Member
	e.App.DB().Where("name = ?", name).Take(&m)
	at, _ := time.ParseInLocation("2006-01-02 15:04", day+" 08:50", e.App.Config().Location)
	ci := models.CheckIn{MemberID: m.ID, OrgID: m.OrgID, Day: day, Kind: models.CheckKindIn, At: at, Status: models.CheckPending,
		Source: models.CheckSourceChat, Reason: "到镇里开会", DedupKey: "test:" + name + day}
	if err := e.App.DB().Create(&ci).Error; err != nil {
		t.Fatal(err)
	}
	r := models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestOffsite, State: models.RequestPending, From: day,
		CheckKind: models.CheckKindIn, At: &at, CheckInID: &ci.ID, Reason: "到镇里开会"}
	if err := e.App.DB().Create(&r).Error; err != nil {
		t.Fatal(err)
	}
	return ci, r
}

func TestConsoleListAndOffsiteDecisions(t *testing.T) {
	e := newEnv(t)
	wantIn(t, "leave", e.say("o-wang", "请假 11月25日-11月27日 农忙"), "✅")
	ci1, r1 := offsite(t, e, "王德明", "2026-11-19")
	ci2, r2 := offsite(t, e, "刘桂兰", "2026-11-19")
	// The check-in part has the secretaries told of its off-site records.
	if n, err := e.App.Requests().TellNew(context.Background(), r1.ID); err != nil || n != 1 ||
		!e.told("o-zhang", "郭沟村 王德明 申请外勤 11月19日 签到 08:50（到镇里开会）。回复「审批」处理。") {
		t.Errorf("TellNew: %d %v %q", n, err, e.Fake.TextsTo("o-zhang"))
	}

	c := e.Login(consoletest.County)
	res, page := c.Get("/console/requests")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", res.StatusCode)
	}
	wantIn(t, "list", page, "现在有 <strong>3</strong> 条待审批", "王德明", "刘桂兰", "11月25日-11月27日", "11月19日 签到 08:50", "请假审批")
	if res, body := c.Get("/console/requests?month=2026-13x"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "月份应为 2026-11 这样的格式") {
		t.Errorf("bad month: %d", res.StatusCode)
	}
	if _, body := c.Get("/console/requests?kind=offsite&month=2026-11"); strings.Contains(body, "农忙") || !strings.Contains(body, "刘桂兰") {
		t.Errorf("kind filter: %.3000s", body)
	}
	if _, body := c.Get("/console/requests?month=2026-12"); strings.Contains(body, "王德明") {
		t.Errorf("month filter shows November")
	}

	// Approve one off-site record in the console, reject the other through the API.
	res, _ = c.PostForm(fmt.Sprintf("/console/requests/%d/approve", r1.ID), url.Values{"note": {"情况属实"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	_, page = c.Get("/console/requests?state=pending")
	wantIn(t, "flash", page, "已批准：王德明 外勤 11月19日 签到 08:50，已通知本人。")
	tok := e.Token(consoletest.County)
	if st, body := e.API(tok, "POST", fmt.Sprintf("/api/v1/attendance/requests/%d/reject", r2.ID), map[string]string{"note": "没有会议记录"}, nil); st != http.StatusOK {
		t.Fatalf("reject: %d %s", st, body)
	}
	var got1, got2 models.CheckIn
	e.App.DB().Take(&got1, ci1.ID)
	e.App.DB().Take(&got2, ci2.ID)
	if got1.Status != models.CheckOK || got2.Status != models.CheckRefused {
		t.Fatalf("off-site check-ins: %s %s", got1.Status, got2.Status)
	}
	if !e.told("o-wang", "你的外勤打卡（11月19日 签到 08:50）已确认。留言：情况属实") {
		t.Errorf("member not told: %q", e.Fake.TextsTo("o-wang"))
	}
	// The API's bad input: unknown fields, a bad filter.
	if st, body := e.API(tok, "POST", "/api/v1/attendance/requests/999999/approve", map[string]string{"remark": "x"}, nil); st != http.StatusBadRequest ||
		!strings.Contains(body, "remark") {
		t.Errorf("unknown field: %d %s", st, body)
	}
	if st, _ := e.API(tok, "POST", "/api/v1/attendance/requests/999999/approve", nil, nil); st != http.StatusNotFound {
		t.Errorf("no such request: %d", st)
	}
	if st, body := e.API(tok, "GET", "/api/v1/attendance/requests?state=maybe", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, `"field":"state"`) {
		t.Errorf("bad state: %d %s", st, body)
	}
	var list struct {
		Items []requests.APIRequest `json:"items"`
		Total int                   `json:"total"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/attendance/requests", nil, &list); st != http.StatusOK || list.Total != 3 || list.Items[0].State != models.RequestPending ||
		list.Items[0].Days != 3 || list.Items[0].From != "2026-11-25" || list.Items[0].To != "2026-11-27" {
		t.Errorf("API list (pending first): %d %s", st, body)
	}
	// Page by page: the pending one, then the decided ones, newest first.
	var ids []uint
	for page := 1; page <= 3; page++ {
		if st, body := e.API(tok, "GET", fmt.Sprintf("/api/v1/attendance/requests?per_page=1&page=%d", page), nil, &list); st != http.StatusOK || len(list.Items) != 1 {
			t.Fatalf("page %d: %d %s", page, st, body)
		}
		ids = append(ids, list.Items[0].ID)
	}
	if want := fmt.Sprint([]uint{e.requestsOf("王德明")[0].ID, r2.ID, r1.ID}); fmt.Sprint(ids) != want {
		t.Errorf("pages: %v, want %s", ids, want)
	}
}

// TestApprovalRecomputesPastDays: approving leave that began before today has the status of the past
// days rewritten (today's and later are left to the daily job), once; so does a make-up.
func TestApprovalRecomputesPastDays(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var calls []string
	svc := requests.New(requests.Options{DB: e.App.DB(), Log: testenv.Logger(), Now: e.Clock.Now, Location: e.App.Config().Location,
		Recompute: func(_ context.Context, ids []uint, day string) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, fmt.Sprint(ids, day))
			return nil
		}})
	ctx := context.Background()
	wang := e.memberID("王德明")
	spec, err := requests.ParseLeave("11月18日-11月21日 生病", svc.Today())
	if err != nil {
		t.Fatal(err)
	}
	made, err := svc.RequestLeave(ctx, wang, spec)
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.Decide(ctx, scope.Everything(), made.Req.ID, true, "", requests.Decider{By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprint([]uint{wang}, "2026-11-18"), fmt.Sprint([]uint{wang}, "2026-11-19")}
	if fmt.Sprint(calls) != fmt.Sprint(want) || len(out.Recomputed) != 2 {
		t.Fatalf("recomputed %v (%v), want %v", calls, out.Recomputed, want)
	}
	if _, err := svc.Decide(ctx, scope.Everything(), made.Req.ID, true, "", requests.Decider{By: "test"}); err == nil {
		t.Fatal("deciding twice succeeded")
	}
	if len(calls) != 2 {
		t.Fatalf("a second decision recomputed again: %v", calls)
	}
}

// TestApprovedLeaveShowsInThePastDaysStatus: through the server, with the attendance part's daily
// status: yesterday (a Thursday, a work day) was absent; leave approved today makes it leave.
func TestApprovedLeaveShowsInThePastDaysStatus(t *testing.T) {
	e := newEnv(t)
	wantIn(t, "leave", e.say("o-wang", "请假 昨天 生病了"), "✅ 请假申请已提交：11月19日（1天）")
	e.say("o-zhang", "审批")
	wantIn(t, "approve", e.say("o-zhang", "同意 1"), "✅ 已同意")
	var day models.AttendanceDay
	if err := e.App.DB().Where("member_id = ? AND day = ?", e.memberID("王德明"), "2026-11-19").Take(&day).Error; err != nil {
		t.Fatalf("no status for the day: %v", err)
	}
	if day.Status != models.DayLeave {
		t.Fatalf("status %s, want leave", day.Status)
	}
}

// TestConcurrentDecisionsDecideOnce: five deciders approve one make-up at the same moment: one wins,
// the others are told it was decided, and one check-in is written.
func TestConcurrentDecisionsDecideOnce(t *testing.T) {
	e := newEnv(t)
	wantIn(t, "makeup", e.say("o-wang", "补卡 昨天 签退 17:30 忘了"), "✅")
	id := e.requestsOf("王德明")[0].ID
	svc := e.App.Requests()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := svc.Decide(context.Background(), scope.Everything(), id, i%2 == 0, "", requests.Decider{By: fmt.Sprint("d", i)})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		var de *requests.DecidedError
		switch {
		case err == nil:
			won++
		case !errorsAs(err, &de):
			t.Errorf("decision failed: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d decisions won, want 1", won)
	}
	var n int64
	e.App.DB().Model(&models.CheckIn{}).Where("dedup_key = ?", fmt.Sprintf("makeup:%d", id)).Count(&n)
	if r := e.requestsOf("王德明")[0]; r.State == models.RequestApproved && n != 1 || r.State == models.RequestRejected && n != 0 {
		t.Fatalf("state %s with %d check-ins", r.State, n)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
