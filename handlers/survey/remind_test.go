package survey_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

func textsTo(e *consoletest.Env, openID string) []string { return e.Fake.TextsTo(openID) }

func countReminders(t *testing.T, e *consoletest.Env, surveyID uint, round int, kind, status string) int64 {
	t.Helper()
	var n int64
	e.App.DB().Model(&models.SurveyReminder{}).Where("survey_id = ? AND round = ? AND kind = ? AND status = ?", surveyID, round, kind, status).Count(&n)
	return n
}

// TestReminders: a manual round reminds the bound members who have not finished, once each; a second
// round within the hour is refused; the second round also tells the village's 书记 who has not
// answered; the daily job runs scheduled rounds every RemindEvery days up to RemindMax.
func TestReminders(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, guogou), "questions_text": "填空* 建议",
		"remind_every": 1, "remind_max": 3, "deadline": e.Clock.Now().Add(7 * 24 * time.Hour)})
	// Bound (and within the 48-hour window, having written): 王德明 answers, 刘桂兰 and 张国华 do not.
	for _, b := range [][2]string{{"o-wang", "王德明"}, {"o-liu", "刘桂兰"}, {"o-zhang", "张国华"}} {
		e.BindAs(b[0], b[1])
	}
	chat(t, e, "o-wang", "问卷", "待填写")
	chat(t, e, "o-wang", "1", "第1题")
	chat(t, e, "o-wang", "路面要修", "已提交")

	// Who wrote within 48 hours reaches Redis with the next flush (a second): the reminders go as
	// customer-service messages to those.
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range []string{"o-liu", "o-zhang"} {
		for e.App.Redis().Client.Exists(t.Context(), kv.LastMessageKey("oa", id)).Val() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s's last message never reached Redis", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	tok := e.Token(consoletest.County)
	var out struct{ Round, Members int }
	if st, body := e.API(tok, http.MethodPost, "/api/v1/surveys/"+itoa(sv.ID)+"/remind", nil, &out); st != http.StatusOK || out.Round != 1 || out.Members != 2 {
		t.Fatalf("remind: %d %s %+v", st, body, out)
	}
	e.App.Surveys().Wait()
	if n := countReminders(t, e, sv.ID, 1, models.SurveyRemindMember, "sent"); n != 2 {
		t.Fatalf("%d reminders sent", n)
	}
	if got := textsTo(e, "o-liu"); len(got) == 0 || !strings.Contains(got[len(got)-1], "问卷《道路满意度》还没填写") {
		t.Fatalf("刘桂兰 got %q", got)
	}
	for _, s := range textsTo(e, "o-wang") {
		if strings.Contains(s, "还没填写") {
			t.Fatal("the member who answered was reminded")
		}
	}
	// Again within the hour: refused, nothing sent.
	before := len(e.Fake.CallsTo(wxfake.APICustomSend))
	if st, body := e.API(tok, http.MethodPost, "/api/v1/surveys/"+itoa(sv.ID)+"/remind", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, "刚提醒过") {
		t.Fatalf("second round at once: %d %s", st, body)
	}
	// The secretary cannot remind (not an administrator).
	if st, _ := e.API(e.Token(consoletest.Secretary), http.MethodPost, "/api/v1/surveys/"+itoa(sv.ID)+"/remind", nil, nil); st != http.StatusForbidden {
		t.Fatalf("secretary reminded: %d", st)
	}
	if after := len(e.Fake.CallsTo(wxfake.APICustomSend)); after != before {
		t.Fatalf("%d messages sent by refused rounds", after-before)
	}

	// The next day the daily job runs round 2: members again, and 张国华 (书记) gets his village's list,
	// which includes the unbound 李秀英.
	e.Clock.Add(24 * time.Hour)
	day := e.Clock.Now().Format("2006-01-02")
	if err := e.App.Surveys().RunDay(t.Context(), day); err != nil {
		t.Fatal(err)
	}
	if n := countReminders(t, e, sv.ID, 2, models.SurveyRemindMember, "sent"); n != 2 {
		t.Fatalf("round 2: %d reminders", n)
	}
	if n := countReminders(t, e, sv.ID, 2, models.SurveyRemindSecretary, "sent"); n != 1 {
		t.Fatalf("round 2: %d escalations", n)
	}
	var list string
	for _, s := range textsTo(e, "o-zhang") {
		if strings.HasPrefix(s, "郭沟村还有") {
			list = s
		}
	}
	if !strings.Contains(list, "郭沟村还有 3 人未填《道路满意度》") || !strings.Contains(list, "李秀英") || !strings.Contains(list, "刘桂兰") ||
		!strings.Contains(list, "张国华") || strings.Contains(list, "王德明") {
		t.Fatalf("the secretary's list: %q", list)
	}
	// The same day again: nothing new (once per member per round, and the round is not due).
	before = len(e.Fake.CallsTo(wxfake.APICustomSend))
	if err := e.App.Surveys().RunDay(t.Context(), day); err != nil {
		t.Fatal(err)
	}
	if after := len(e.Fake.CallsTo(wxfake.APICustomSend)); after != before {
		t.Fatalf("the job sent %d more the same day", after-before)
	}
	// Round 3 the next day, then no more (remind_max 3).
	for i := 0; i < 2; i++ {
		e.Clock.Add(24 * time.Hour)
		if err := e.App.Surveys().RunDay(t.Context(), e.Clock.Now().Format("2006-01-02")); err != nil {
			t.Fatal(err)
		}
	}
	var s models.Survey
	db.Take(&s, sv.ID)
	if s.Rounds != 3 {
		t.Fatalf("%d rounds, want 3", s.Rounds)
	}
}
