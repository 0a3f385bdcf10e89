package study_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestDuplicateDeliveriesOfAnAnswerCountOnce: WeChat delivers one answer three times (the same MsgId);
// it is scored once and every delivery gets the same reply. Answer itself is idempotent too.
func TestDuplicateDeliveriesOfAnAnswerCountOnce(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	svc := newService(env)
	publish(t, svc, svc.Today())
	zh := newChatter(env, "o-zhang", "张国华")
	me := memberID(t, db, "张国华")

	sh := prompt(t, zh.say("学习"))
	msg := zh.c.Text(zh.openID, wrongAnswer(t, db, sh)) // a wrong answer also touches the wrong-answer book
	replies := make([]string, 3)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = env.Send(msg) // the same *Message: same MsgId and CreateTime
		}()
	}
	wg.Wait()
	if replies[0] != replies[1] || replies[1] != replies[2] {
		t.Fatalf("replies differ: %q", replies)
	}
	mustContain(t, "the answer", replies[0], "❌", "第2题/共5题")

	q := question(t, db, sh.stem)
	var answers, misses int64
	db.Model(&models.StudyAnswer{}).Where("member_id = ?", me).Count(&answers)
	db.Model(&models.WrongItem{}).Where("member_id = ? AND question_id = ? AND misses = 1", me, q.ID).Count(&misses)
	var task models.StudyTask
	db.Take(&task, "member_id = ?", me)
	if answers != 1 || misses != 1 || q.Attempts != 1 || q.Correct != 0 || task.Answered != 1 || task.Next != 1 {
		t.Fatalf("after 3 deliveries: %d answers, wrong item %d, attempts %d/%d, task %d answered (next %d); want one of each",
			answers, misses, q.Correct, q.Attempts, task.Answered, task.Next)
	}

	// The same answer through the service again: the first result, nothing changed.
	res, err := svc.Answer(context.Background(), me, task.ID, q.ID, rightAnswer(t, db, sh))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Duplicate || res.Correct || res.Answered != 1 || res.Next == nil || res.Next.Index != 1 {
		t.Fatalf("repeated answer: %+v", res)
	}
	if q2 := question(t, db, sh.stem); q2.Attempts != 1 {
		t.Fatalf("a repeated answer counted: attempts %d", q2.Attempts)
	}
	// Someone else's task, or a question not in it: not found.
	if _, err := svc.Answer(context.Background(), me+1, task.ID, q.ID, "A"); !errors.Is(err, study.ErrNotFound) {
		t.Fatalf("answering another member's task: %v", err)
	}
	if _, err := svc.Answer(context.Background(), me, task.ID, 999999, "A"); !errors.Is(err, study.ErrNotFound) {
		t.Fatalf("answering a question not in the task: %v", err)
	}
}

// TestPublishIsIdempotentAndLateMembersGetTheirTaskOnDemand: publishing twice makes nothing new; a
// member added after the morning's publishing, and a member who starts before it ran, get their task
// when they send 学习.
func TestPublishIsIdempotentAndLateMembersGetTheirTaskOnDemand(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	svc := newService(env)
	day := svc.Today()

	// Before the bank has questions: nothing to publish, and 学习 says so.
	retireAll(t, db)
	if n := publish(t, svc, day); n != 0 {
		t.Fatalf("published %d tasks with an empty bank", n)
	}
	early := newChatter(env, "o-early", "王德明")
	mustContain(t, "学习 with an empty bank", early.say("学习"), "题库里还没有题目")

	addQuestions(t, db, 30)
	// 王德明 starts before the morning's publishing runs: his task is made on demand.
	mustContain(t, "学习 before publishing", early.say("学习"), "第1题/共5题")
	if n := publish(t, svc, day); n != 39 {
		t.Fatalf("first publish made %d tasks, want 39 (40 demo members, one already has his)", n)
	}
	if n := publish(t, svc, day); n != 0 {
		t.Fatalf("second publish made %d tasks, want 0", n)
	}

	// A member added at noon, bound, starts studying: his task is made then.
	code := "NEWM2345"
	late := models.Member{Name: "新党员", Phone: "13900000001", Role: models.RoleMember,
		OrgID: orgID(t, db, "洪雅县/花溪镇/郭沟村"), BindCode: &code, Active: true}
	if err := db.Create(&late).Error; err != nil {
		t.Fatal(err)
	}
	newcomer := newChatter(env, "o-late", "新党员")
	mustContain(t, "学习 of a member added today", newcomer.say("学习"), "今日学习开始，共5题", "第1题/共5题")
	var n int64
	db.Model(&models.StudyTask{}).Where("day = ?", day).Count(&n)
	if n != 41 {
		t.Fatalf("%d tasks today, want 41", n)
	}
	if n := publish(t, svc, day); n != 0 {
		t.Fatalf("publish after the on-demand task made %d", n)
	}

	// The draw is reproducible: a member's task made again (as if it had not been) is the same.
	var task models.StudyTask
	db.Take(&task, "member_id = ? AND day = ?", late.ID, day)
	db.Delete(&task)
	p, err := svc.TodayTask(ctx, late.ID)
	if err != nil {
		t.Fatal(err)
	}
	var again models.StudyTask
	db.Take(&again, p.TaskID)
	if again.Items != task.Items {
		t.Fatalf("the same member and day drew %s, then %s", task.Items, again.Items)
	}

	// Inactive members get none.
	db.Model(&models.Member{}).Where("id = ?", late.ID).Update("active", false)
	db.Delete(&again)
	if n := publish(t, svc, day); n != 0 {
		t.Fatalf("publish made %d tasks for an inactive member", n)
	}
	if _, err := svc.Publish(ctx, "2026-13-01"); err == nil {
		t.Fatal("publish accepted a bad day")
	}
}

// TestRankingBoardsAndTheCountySwitch: 排行 shows the village's and the town's boards and the member's
// places; RebuildBoards rebuilds them from the ledger; a county that turns public ranking off shows
// members only their own figures.
func TestRankingBoardsAndTheCountySwitch(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	publish(t, svc, svc.Today())

	finish := func(ch *chatter, mistakes int) {
		t.Helper()
		r := ch.say("学习")
		for {
			sh := prompt(t, r)
			ans := rightAnswer(t, db, sh)
			if sh.index <= mistakes {
				ans = wrongAnswer(t, db, sh)
			}
			r = ch.say(ans)
			if sh.index == sh.total {
				return
			}
		}
	}
	li := newChatter(env, "o-li", "李秀英")     // 郭沟村
	zh := newChatter(env, "o-zhang", "张国华")  // 郭沟村
	chen := newChatter(env, "o-chen", "陈志强") // 双河村, 花溪镇 too
	finish(li, 1)                            // 8 points
	finish(zh, 0)                            // 10
	finish(chen, 3)                          // 4

	r := li.say("排行")
	mustContain(t, "排行", r, "🏆 2026年积分排行", "【郭沟村】\n1. 张国华 10分\n2. 李秀英 8分\n【花溪镇】",
		"【花溪镇】\n1. 张国华 10分\n2. 李秀英 8分\n3. 陈志强 4分", "你的排名：郭沟村第2名，花溪镇第2名（今年 8 分）")
	mustContain(t, "积分", chen.say("积分"), "排名：双河村第1名，花溪镇第3名")
	mustContain(t, "排行 of a member without points", newChatter(env, "o-wang", "王德明").say("排行"), textNotRanked)

	// Lost boards come back from the ledger, the same.
	if err := env.App.Redis().FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	board, _ := svc.Board(ctx, orgID(t, db, "洪雅县"), 2026, 10)
	if len(board) != 0 {
		t.Fatalf("board after the flush: %+v", board)
	}
	if err := svc.RebuildBoards(ctx, 2026); err != nil {
		t.Fatal(err)
	}
	board, err := svc.Board(ctx, orgID(t, db, "洪雅县"), 2026, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(board) != 2 || board[0].Name != "张国华" || board[0].Points != 10 || board[1].Rank != 2 {
		t.Fatalf("county board after the rebuild: %+v", board)
	}
	mustContain(t, "排行 after the rebuild", li.say("排行"), "你的排名：郭沟村第2名，花溪镇第2名")

	// The county turns public ranking off: only his own figures.
	rule := study.DefaultRule()
	rule.PublicRanking = false
	if err := svc.SetRule(ctx, orgID(t, db, "洪雅县"), rule); err != nil {
		t.Fatal(err)
	}
	// A village rule cannot turn it back on: it is the county's decision.
	rule.PublicRanking = true
	if err := svc.SetRule(ctx, orgID(t, db, "洪雅县/花溪镇/郭沟村"), rule); err != nil {
		t.Fatal(err)
	}
	r = li.say("排行")
	mustContain(t, "排行 with ranking off", r, "本县没有开启积分排行", "你今年的积分是 8")
	if r := li.say("积分"); containsAny(r, "排名", "张国华") {
		t.Fatalf("积分 with ranking off shows ranks:\n%s", r)
	}
}

const textNotRanked = "你今年还没有积分，完成每日学习就能上榜。"

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// TestYesterdaysQuestionLeadsToToday: a question left waiting overnight takes no answer the next day;
// the member gets today's task instead (made on demand, before any publishing).
func TestYesterdaysQuestionLeadsToToday(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	svc := newService(env)
	setDay(env, "2026-11-20")
	wang := newChatter(env, "o-wang", "王德明")
	sh := prompt(t, wang.say("学习"))
	var yesterday models.StudyTask
	db.Take(&yesterday, "member_id = ? AND day = ?", memberID(t, db, "王德明"), "2026-11-20")

	setDay(env, "2026-11-21")
	r := wang.say(rightAnswer(t, db, sh))
	mustContain(t, "an answer to yesterday's question", r, "昨天的题目已经结束了，来看今天的", "第1题/共5题")
	var n int64
	db.Model(&models.StudyAnswer{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d answers recorded for yesterday's task", n)
	}
	if _, err := svc.Answer(context.Background(), yesterday.MemberID, yesterday.ID, question(t, db, sh.stem).ID, "A"); !errors.Is(err, study.ErrTaskClosed) {
		t.Fatalf("answering yesterday's task: %v", err)
	}
}

// TestConcurrentAnswersToOneTask: the questions of one task answered at once (the mini-program and the
// chat, say) are all recorded, and the task is credited once.
func TestConcurrentAnswersToOneTask(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	svc := newService(env)
	me := memberID(t, db, "刘桂兰")
	p, err := svc.TodayTask(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	var task models.StudyTask
	db.Take(&task, p.TaskID)
	var items []struct {
		Q uint `json:"q"`
	}
	json.Unmarshal([]byte(task.Items), &items)
	var wg sync.WaitGroup
	errs := make([]error, 2*len(items))
	for i := range errs {
		wg.Add(1)
		go func() { // each question twice: a double submit
			defer wg.Done()
			_, errs[i] = svc.Answer(ctx, me, task.ID, items[i/2].Q, "对")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, study.ErrNotAnAnswer) {
			t.Fatal(err)
		}
	}
	db.Take(&task, p.TaskID)
	var answers, ledger int64
	db.Model(&models.StudyAnswer{}).Where("task_id = ?", task.ID).Count(&answers)
	db.Model(&models.LedgerEntry{}).Where("member_id = ?", me).Count(&ledger)
	if int(answers) != task.Answered {
		t.Fatalf("%d answers, task says %d", answers, task.Answered)
	}
	// 对 is an answer only to 判断 questions; the others stay open.
	if task.Answered == task.Total && (task.CompletedAt == nil || ledger == 0) || task.Answered < task.Total && ledger != 0 {
		t.Fatalf("task %+v, %d ledger entries", task, ledger)
	}
	// Finish it concurrently with the right letters and texts: credited once.
	for _, it := range items {
		wg.Add(2)
		for k := 0; k < 2; k++ {
			go func() {
				defer wg.Done()
				q := models.Question{}
				db.Take(&q, it.Q)
				ans := map[string]string{models.QuestionSingle: "A", models.QuestionMulti: "AB", models.QuestionJudge: "对", models.QuestionBlank: "填"}[q.Type]
				if _, err := svc.Answer(ctx, me, task.ID, it.Q, ans); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	db.Take(&task, p.TaskID)
	db.Model(&models.LedgerEntry{}).Where("member_id = ?", me).Count(&ledger)
	var st models.StudyStats
	db.Take(&st, "member_id = ?", me)
	if task.Answered != task.Total || task.CompletedAt == nil || ledger < 1 || ledger > 2 || st.YearMinutes != 15 || st.Streak != 1 {
		t.Fatalf("after finishing: task %+v, %d ledger entries, totals %+v", task, ledger, st)
	}
}

// TestLedgerNeverCountsASourceTwice: a task whose credit is already in the ledger (a repaired or
// hand-edited database) is not credited again, and the totals follow the ledger.
func TestLedgerNeverCountsASourceTwice(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	svc := newService(env)
	me := memberID(t, db, "赵永福")
	p, err := svc.TodayTask(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	day := svc.Today()
	earlier := models.LedgerEntry{MemberID: me, Kind: models.LedgerPoints, Source: "task:" + strconv.FormatUint(p.TaskID, 10),
		Amount: 3, Day: day, Year: 2026}
	if err := db.Omit("Member").Create(&earlier).Error; err != nil {
		t.Fatal(err)
	}
	var task models.StudyTask
	db.Take(&task, p.TaskID)
	var items []struct {
		Q uint `json:"q"`
	}
	json.Unmarshal([]byte(task.Items), &items)
	for _, it := range items {
		var q models.Question
		db.Take(&q, it.Q)
		ans := map[string]string{models.QuestionSingle: "A", models.QuestionMulti: "AB", models.QuestionJudge: "对", models.QuestionBlank: "填"}[q.Type]
		if _, err := svc.Answer(ctx, me, task.ID, it.Q, ans); err != nil {
			t.Fatal(err)
		}
	}
	var entries []models.LedgerEntry
	db.Where("member_id = ? AND kind = ?", me, models.LedgerPoints).Find(&entries)
	var st models.StudyStats
	db.Take(&st, "member_id = ?", me)
	if len(entries) != 1 || entries[0].Amount != 3 || st.Points != 3 || st.YearPoints != 3 {
		t.Fatalf("ledger %+v, totals %+v: want the earlier credit alone", entries, st)
	}
}
