package study_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

const remindText = "今天的学习还没完成，回复「学习」继续，几分钟就好 📖"

// remindAt moves the server's clock to hh:mm of the day it shows.
func remindAt(env *consoletest.Env, hh, mm int) {
	now := env.Clock.Now().In(env.App.Config().Location)
	y, m, d := now.Date()
	env.Clock.Add(time.Date(y, m, d, hh, mm, 0, 0, env.App.Config().Location).Sub(now))
}

// runJobs runs the server's daily jobs due at the clock's time, as a tick of the scheduler does.
func runJobs(t *testing.T, env *consoletest.Env) {
	t.Helper()
	if err := env.App.Scheduler().RunDue(context.Background(), env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
}

// callsTo are the recorded calls of the fake WeChat API to api for openID.
func callsTo(env *consoletest.Env, api, openID string) []wxfake.Call {
	var out []wxfake.Call
	for _, c := range env.Fake.CallsTo(api) {
		if len(c.To) == 1 && c.To[0] == openID {
			out = append(out, c)
		}
	}
	return out
}

// reminders counts the reminder texts openID got.
func reminders(env *consoletest.Env, openID string) int {
	n := 0
	for _, s := range env.Fake.TextsTo(openID) {
		if s == remindText {
			n++
		}
	}
	return n
}

// finishToday answers every question of today's task in chat.
func finishToday(t *testing.T, env *consoletest.Env, ch *chatter) {
	t.Helper()
	reply := ch.say("学习")
	for strings.Contains(reply, "第") && !strings.Contains(reply, "完成") {
		reply = ch.say(rightAnswer(t, env.App.DB(), prompt(t, reply)))
	}
	mustContain(t, "the end of the task", reply, "完成")
}

// TestEveningReminderGoesOnceToThoseNotDone: at 20:00 the members bound on the official account who
// have not finished today's task get one customer-service message; whoever finished gets nothing, and
// running the job (or Remind) again that evening sends nothing more.
func TestEveningReminderGoesOnceToThoseNotDone(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	runJobs(t, env) // 09:30: today's tasks
	zhang := newChatter(env, "o-zhang", "张国华")
	li := newChatter(env, "o-li", "李秀英")
	newChatter(env, "o-wang", "王德明")
	finishToday(t, env, zhang)
	sh := prompt(t, li.say("学习"))
	li.say(rightAnswer(t, db, sh)) // one answer of five
	for _, id := range []string{"o-zhang", "o-li", "o-wang"} {
		env.WaitWrote(id)
	}

	remindAt(env, 19, 59)
	runJobs(t, env)
	if n := len(env.Fake.CallsTo(wxfake.APICustomSend)); n != 0 {
		t.Fatalf("%d customer-service messages before 20:00", n)
	}
	remindAt(env, 20, 0)
	runJobs(t, env)
	if reminders(env, "o-li") != 1 || reminders(env, "o-wang") != 1 || reminders(env, "o-zhang") != 0 {
		t.Fatalf("reminders: li %d, wang %d, zhang %d; want 1, 1, 0", reminders(env, "o-li"), reminders(env, "o-wang"), reminders(env, "o-zhang"))
	}
	if n := len(env.Fake.CallsTo(wxfake.APICustomSend)); n != 2 {
		t.Fatalf("%d customer-service messages, want 2 (unbound members get none)", n)
	}
	var rows []models.StudyReminder
	db.Order("member_id").Find(&rows)
	if len(rows) != 2 || rows[0].Status != models.ReminderSent || rows[0].Via != models.ReminderViaText {
		t.Fatalf("reminder rows: %+v", rows)
	}

	// Again the same evening: the job is done for the day, and Remind itself finds everyone reminded.
	remindAt(env, 20, 30)
	runJobs(t, env)
	r := study.NewReminders(newService(env), study.RemindOptions{Sender: env.App.WeChat(),
		LastMessages: study.NewLastMessages(env.App.Redis().Client, env.Clock.Now, testenv.Logger())})
	sent, skipped, err := r.Remind(context.Background(), newService(env).Today())
	if err != nil || sent != 0 || skipped != 0 {
		t.Fatalf("second Remind: sent %d, skipped %d, %v", sent, skipped, err)
	}
	if reminders(env, "o-li") != 1 || reminders(env, "o-wang") != 1 {
		t.Fatal("a second reminder went out")
	}
	// A reminder is for today only.
	if _, _, err := r.Remind(context.Background(), "2026-11-19"); err == nil {
		t.Fatal("Remind of yesterday did not fail")
	}
}

// TestRemindersStopAfterAPermanentRefusalUntilHeWritesAgain: 43004 (not following) stops a member's
// reminders on the following days; once he writes again they resume. A member outside the 48-hour
// window, with no template configured, is skipped (nothing is sent).
func TestRemindersStopAfterAPermanentRefusalUntilHeWritesAgain(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	newChatter(env, "o-zhang", "张国华")
	li := newChatter(env, "o-li", "李秀英")
	env.WaitWrote("o-zhang")
	env.WaitWrote("o-li")
	env.Fake.SetUserError("o-li", 43004)

	day1 := svc.Today()
	runJobs(t, env)
	remindAt(env, 20, 0)
	runJobs(t, env)
	if reminders(env, "o-zhang") != 1 || len(callsTo(env, wxfake.APICustomSend, "o-li")) != 1 {
		t.Fatalf("day 1: zhang %d reminders, li %d tries", reminders(env, "o-zhang"), len(callsTo(env, wxfake.APICustomSend, "o-li")))
	}
	var stop models.RemindStop
	if err := db.Take(&stop, "member_id = ?", memberID(t, db, "李秀英")).Error; err != nil || stop.ErrCode != 43004 {
		t.Fatalf("li's reminders are not stopped: %+v %v", stop, err)
	}
	var failed models.StudyReminder
	db.Take(&failed, "member_id = ? AND day = ?", memberID(t, db, "李秀英"), day1)
	if failed.Status != models.ReminderFailed || failed.ErrCode != 43004 {
		t.Fatalf("li's reminder row: %+v", failed)
	}

	// Day 2: li gets nothing (not even a try); zhang, 34.5 hours after his last message, a text.
	setDay(env, svc.Today())
	env.Clock.Add(24 * time.Hour)
	runJobs(t, env)
	remindAt(env, 20, 0)
	runJobs(t, env)
	if n := len(env.Fake.Calls()); n == 0 {
		t.Fatal("no calls recorded at all")
	}
	for _, api := range []string{wxfake.APICustomSend, wxfake.APITemplateSend} {
		if n := len(callsTo(env, api, "o-li")); api == wxfake.APICustomSend && n != 1 || api == wxfake.APITemplateSend && n != 0 {
			t.Fatalf("day 2: %d calls to %s for li after 43004", n, api)
		}
	}
	if reminders(env, "o-zhang") != 2 {
		t.Fatalf("day 2: zhang has %d reminders, want 2", reminders(env, "o-zhang"))
	}

	// Day 3: li follows again and writes; zhang has been silent for 58 hours: outside the window, and
	// the server has no template, so he is skipped.
	env.Fake.SetUserError("o-li", 0)
	setDay(env, svc.Today())
	env.Clock.Add(24 * time.Hour)
	runJobs(t, env)
	mustContain(t, "li writes again", li.say("积分"), "积分")
	env.WaitWrote("o-li")
	remindAt(env, 20, 0)
	runJobs(t, env)
	if reminders(env, "o-li") != 1 {
		t.Fatalf("day 3: li has %d reminders after writing again, want 1", reminders(env, "o-li"))
	}
	if reminders(env, "o-zhang") != 2 || len(callsTo(env, wxfake.APITemplateSend, "o-zhang")) != 0 {
		t.Fatal("day 3: zhang, outside the window with no template, was sent something")
	}
	var n int64
	db.Model(&models.RemindStop{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d stops left after li wrote again", n)
	}
}

// TestReminderFallsBackToTheTemplateAndRetries: with a template configured, 45015 (window closed) on
// the customer-service message falls back to the template; a member outside the window gets the
// template at once; a village reminded at 21:00 is not reminded at 20:00; a retryable failure releases
// the claim, and the next run sends it, once.
func TestReminderFallsBackToTheTemplateAndRetries(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	runJobs(t, env)
	newChatter(env, "o-zhang", "张国华")
	newChatter(env, "o-li", "李秀英")
	newChatter(env, "o-chen", "陈志强")
	for _, id := range []string{"o-zhang", "o-li", "o-chen"} {
		env.WaitWrote(id)
	}
	// li's window is closed: no record of a message.
	env.App.Redis().Del(context.Background(), kv.LastMessageKey(bot.ChannelOA, "o-li"))
	// chen's village is reminded at 21:00.
	rule := study.DefaultRule()
	rule.RemindAt = "21:00"
	if err := svc.SetRule(context.Background(), orgID(t, db, "洪雅县/花溪镇/双河村"), rule); err != nil {
		t.Fatal(err)
	}
	lm := study.NewLastMessages(env.App.Redis().Client, env.Clock.Now, testenv.Logger())
	t.Cleanup(lm.Close)
	r := study.NewReminders(svc, study.RemindOptions{Sender: env.App.WeChat(), LastMessages: lm, TemplateID: "TPL_REMIND", Workers: 4})

	remindAt(env, 20, 0)
	env.Fake.Fail(wxfake.APICustomSend, 45015, 1) // zhang's text: the window closed after all
	sent, skipped, err := r.Remind(context.Background(), svc.Today())
	if err != nil || sent != 2 || skipped != 0 {
		t.Fatalf("20:00: sent %d, skipped %d, err %v; want 2 sent", sent, skipped, err)
	}
	for _, id := range []string{"o-zhang", "o-li"} {
		ok := 0
		for _, c := range callsTo(env, wxfake.APITemplateSend, id) {
			if c.OK() {
				ok++
				mustContain(t, "the template", c.Text, "TPL_REMIND", "今天的学习还没完成")
			}
		}
		if ok != 1 {
			t.Fatalf("%s got %d templates, want 1", id, ok)
		}
	}
	if len(callsTo(env, wxfake.APICustomSend, "o-li")) != 0 {
		t.Fatal("li, outside the window, was sent a customer-service message")
	}
	if len(env.Fake.CallsTo(wxfake.APICustomSend)) != 1 || len(env.Fake.TextsTo("o-chen")) != 0 {
		t.Fatal("chen was reminded before his village's 21:00")
	}

	// 21:00, chen's time: WeChat is busy once; the claim is released and the next run sends it, once.
	remindAt(env, 21, 0)
	env.Fake.Fail(wxfake.APICustomSend, -1, 1)
	if sent, _, err := r.Remind(context.Background(), svc.Today()); err == nil || sent != 0 {
		t.Fatalf("21:00 with WeChat busy: sent %d, %v; want a retryable error", sent, err)
	}
	if sent, _, err := r.Remind(context.Background(), svc.Today()); err != nil || sent != 1 || reminders(env, "o-chen") != 1 {
		t.Fatalf("21:00 again: sent %d, %v; chen has %d reminders", sent, err, reminders(env, "o-chen"))
	}
	if sent, _, err := r.Remind(context.Background(), svc.Today()); err != nil || sent != 0 {
		t.Fatalf("21:00 a third time: sent %d, %v", sent, err)
	}
	var rows []models.StudyReminder
	db.Order("member_id").Find(&rows)
	vias := map[string]int{}
	for _, r := range rows {
		if r.Status == models.ReminderSent {
			vias[r.Via]++
		}
	}
	if len(rows) != 3 || vias[models.ReminderViaTemplate] != 2 || vias[models.ReminderViaText] != 1 {
		t.Fatalf("reminder rows: %+v", rows)
	}
	if _, _, err := study.NewReminders(svc, study.RemindOptions{}).Remind(context.Background(), svc.Today()); err == nil {
		t.Fatal("Remind without a sender did not fail")
	}
}

// TestManyRemindersGoOutInParallel: 600 members due at once are all reminded, once each, through the
// bounded workers.
func TestManyRemindersGoOutInParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("many members")
	}
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	org := orgID(t, db, "洪雅县/花溪镇/郭沟村")
	const n = 600
	ms := make([]models.Member, n)
	for i := range ms {
		id := fmt.Sprintf("o-many-%d", i)
		ms[i] = models.Member{Name: fmt.Sprintf("成员%d", i), Phone: fmt.Sprintf("17000%06d", i), Role: models.RoleMember, OrgID: org, OAOpenID: &id, Active: true}
	}
	if err := db.CreateInBatches(ms, 200).Error; err != nil {
		t.Fatal(err)
	}
	publish(t, svc, svc.Today())
	lm := study.NewLastMessages(env.App.Redis().Client, env.Clock.Now, testenv.Logger())
	for i := range ms {
		lm.Record(bot.ChannelOA, *ms[i].OAOpenID, env.Clock.Now())
	}
	lm.Close() // written
	remindAt(env, 20, 0)
	r := study.NewReminders(svc, study.RemindOptions{Sender: env.App.WeChat(), LastMessages: study.NewLastMessages(env.App.Redis().Client, env.Clock.Now, testenv.Logger())})
	start := time.Now()
	sent, skipped, err := r.Remind(context.Background(), svc.Today())
	if err != nil || sent != n || skipped != 0 {
		t.Fatalf("sent %d, skipped %d, %v; want %d sent", sent, skipped, err, n)
	}
	t.Logf("%d reminders in %v", n, time.Since(start))
	seen := map[string]int{}
	for _, c := range env.Fake.CallsTo(wxfake.APICustomSend) {
		seen[c.To[0]]++
	}
	for i := range ms {
		if seen[*ms[i].OAOpenID] != 1 {
			t.Fatalf("%s got %d reminders", *ms[i].OAOpenID, seen[*ms[i].OAOpenID])
		}
	}
	if sent, _, err := r.Remind(context.Background(), svc.Today()); err != nil || sent != 0 {
		t.Fatalf("again: sent %d, %v", sent, err)
	}
}

// TestReminderJobWaitsForLaterVillages: the daily job reminds the villages due at 20:00, waits for a
// village whose rule says 21:00, and reminds it then. With a clock that stands still (a test's) it
// does not wait forever.
func TestReminderJobWaitsForLaterVillages(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	rule := study.DefaultRule()
	rule.RemindAt = "21:00"
	if err := svc.SetRule(context.Background(), orgID(t, db, "洪雅县/花溪镇/双河村"), rule); err != nil {
		t.Fatal(err)
	}
	runJobs(t, env)
	newChatter(env, "o-zhang", "张国华")
	newChatter(env, "o-chen", "陈志强")
	env.WaitWrote("o-zhang")
	env.WaitWrote("o-chen")
	lm := study.NewLastMessages(env.App.Redis().Client, env.Clock.Now, testenv.Logger())
	t.Cleanup(lm.Close)
	r := study.NewReminders(svc, study.RemindOptions{Sender: env.App.WeChat(), LastMessages: lm})

	remindAt(env, 20, 0)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // a clock that runs: a minute every 50 ms
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				env.Clock.Add(time.Minute)
			}
		}
	}()
	err := r.RunDay(context.Background(), svc.Today())
	close(stop)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	if reminders(env, "o-zhang") != 1 || reminders(env, "o-chen") != 1 {
		t.Fatalf("zhang %d, chen %d reminders; want 1 each", reminders(env, "o-zhang"), reminders(env, "o-chen"))
	}
	if h := env.Clock.Now().In(env.App.Config().Location).Hour(); h != 21 {
		t.Fatalf("the job ended at %v, want 21:xx", env.Clock.Now())
	}

	// The next day through the server's job, the clock standing still at 20:00: 20:00's village only.
	nextDay(t, env, svc)
	remindAt(env, 20, 0)
	runJobs(t, env)
	if reminders(env, "o-zhang") != 2 || reminders(env, "o-chen") != 1 {
		t.Fatalf("day 2: zhang %d, chen %d reminders; want 2, 1", reminders(env, "o-zhang"), reminders(env, "o-chen"))
	}
}

// TestAServerStartedLateStillReminds: a server that first runs at 20:30 publishes and reminds in one
// go; the member whose task did not exist yet is reminded all the same.
func TestAServerStartedLateStillReminds(t *testing.T) {
	env := consoletest.New(t)
	newChatter(env, "o-zhang", "张国华")
	env.WaitWrote("o-zhang")
	remindAt(env, 20, 30)
	runJobs(t, env)
	if n := reminders(env, "o-zhang"); n != 1 {
		t.Fatalf("reminders: %d, want 1", n)
	}
}
