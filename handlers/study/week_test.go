package study_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestStudyWeekInChat plays a member's weeks through the signed webhook: publishing each morning,
// answering right and wrong, an interruption and a resume at the same question, a streak that grows,
// breaks on a missed day and recovers, a wrong answer coming back 1, 3 and 7 days later until it is
// mastered, the daily cap and the streak bonus in the ledger, and training hours toward the target.
func TestStudyWeekInChat(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 60)
	svc := newService(env)
	// 4 points per right answer and a cap of 18: a perfect day is capped (20 → 18) and leaves no room
	// for a streak bonus; a day with one mistake earns 16 and room for up to 2 bonus points.
	rule := study.DefaultRule()
	rule.PointsPerRight, rule.DailyPointsCap = 4, 18
	if err := svc.SetRule(ctx, orgID(t, db, "洪雅县"), rule); err != nil {
		t.Fatal(err)
	}
	li := newChatter(env, "o-li", "李秀英") // 党建专干: 56 hours a year
	me := memberID(t, db, "李秀英")

	// answerAll answers the questions from the one in reply on, rightly except those wrong says, and
	// returns the last reply (the summary).
	answerAll := func(reply string, wrong func(sh shown) bool) string {
		t.Helper()
		for {
			sh := prompt(t, reply)
			ans := rightAnswer(t, db, sh)
			if wrong != nil && wrong(sh) {
				ans = wrongAnswer(t, db, sh)
			}
			reply = li.say(ans)
			if sh.index == sh.total {
				return reply
			}
		}
	}
	var qw, qx string // the stems of the two questions he gets wrong

	// Day 1: a right answer, a wrong one, then 帮助 in the middle, and 学习 resumes at question 3.
	setDay(env, "2026-11-20")
	if n := publish(t, svc, "2026-11-20"); n != 40 {
		t.Fatalf("published %d tasks, want one for each of the 40 demo members", n)
	}
	r := li.say("学习")
	mustContain(t, "学习", r, "今日学习开始，共5题", "第1题/共5题")
	sh := prompt(t, r)
	r = li.say(rightAnswer(t, db, sh))
	mustContain(t, "right answer", r, "✅ 回答正确", "解析：", "第2题/共5题")
	sh = prompt(t, r)
	qw = sh.stem
	r = li.say(wrongAnswer(t, db, sh))
	mustContain(t, "wrong answer", r, "❌ 答错了，正确答案："+rightAnswer(t, db, sh), "错题本", "第3题/共5题")
	third := prompt(t, r)
	mustContain(t, "帮助 while a question waits", li.say("帮助"), "学习 — 今日学习")
	r = li.say("学习")
	mustContain(t, "学习 again", r, "接着上次的进度", "第3题/共5题", third.stem)
	if again := prompt(t, r); strings.Join(again.options, "|") != strings.Join(third.options, "|") {
		t.Fatalf("options changed order on resume: %q, then %q", third.options, again.options)
	}
	r = answerAll(r, nil)
	mustContain(t, "day 1 summary", r, "今天的学习完成了", "答对 4/5 题，积分 +16\n", "已连续学习 1 天", "今年学时 0.3/56 小时", "░░░░░░░░░░ 0%")
	mustContain(t, "学习 when done", li.say("学习"), "今天的学习已完成 ✅", "答对 4/5 题")

	// Day 2: the wrong question comes back first (day + 1); a new mistake; the streak bonus.
	setDay(env, "2026-11-21")
	publish(t, svc, "2026-11-21")
	r = li.say("今日学习")
	sh = prompt(t, r)
	if sh.stem != qw || !sh.review || sh.index != 1 {
		t.Fatalf("day 2 starts with %+v, want the review of %q", sh, qw)
	}
	r = answerAll(r, func(sh shown) bool {
		if sh.index == 2 {
			qx = sh.stem
			return true
		}
		return false
	})
	mustContain(t, "day 2 summary", r, "答对 4/5 题，积分 +17（含连续学习奖励 +1）", "已连续学习 2 天")

	// Day 3: qx comes back, qw does not (it is due 3 days after its review); a perfect day is capped.
	setDay(env, "2026-11-22")
	publish(t, svc, "2026-11-22")
	r = li.say("学习")
	if sh := prompt(t, r); sh.stem != qx || !sh.review {
		t.Fatalf("day 3 starts with %+v, want the review of %q", sh, qx)
	}
	r = answerAll(r, nil)
	mustContain(t, "day 3 summary", r, "答对 5/5 题，积分 +18\n", "已连续学习 3 天")
	mustContain(t, "积分 on day 3", li.say("积分"), "积分 51（今年 51）", "连续学习 3 天", "今年学时 0.8/56 小时", "今年答题 15 道，正确率 86%")

	// Day 4: published, missed. Day 5: the streak is broken, qw is due again (3 days after day 2).
	setDay(env, "2026-11-23")
	publish(t, svc, "2026-11-23")
	setDay(env, "2026-11-24")
	publish(t, svc, "2026-11-24")
	mustContain(t, "积分 after a missed day", li.say("积分"), "连续学习 0 天（最长 3 天）", "今天的学习还没完成")
	r = li.say("学习")
	if sh := prompt(t, r); sh.stem != qw || !sh.review {
		t.Fatalf("day 5 starts with %+v, want the review of %q", sh, qw)
	}
	r = answerAll(r, nil)
	mustContain(t, "day 5 summary", r, "积分 +18\n", "已连续学习 1 天")

	// Day 6: qx wrong again at its review: back to the start (the next day). Day 7: right.
	setDay(env, "2026-11-25")
	publish(t, svc, "2026-11-25")
	r = answerAll(li.say("学习"), func(sh shown) bool { return sh.stem == qx })
	mustContain(t, "day 6 summary", r, "答对 4/5 题，积分 +17（含连续学习奖励 +1）", "已连续学习 2 天")
	setDay(env, "2026-11-26")
	publish(t, svc, "2026-11-26")
	r = li.say("学习")
	if sh := prompt(t, r); sh.stem != qx || !sh.review {
		t.Fatalf("day 7 starts with %+v, want the review of %q (wrong again yesterday)", sh, qx)
	}
	r = answerAll(r, nil)
	mustContain(t, "day 7 summary", r, "积分 +18\n", "已连续学习 3 天")

	// A week later qw is due for its last review (7 days after day 5); right, it is mastered.
	setDay(env, "2026-12-01")
	publish(t, svc, "2026-12-01")
	r = li.say("学习")
	mastered := false
	for {
		sh := prompt(t, r)
		r = li.say(rightAnswer(t, db, sh))
		if sh.stem == qw {
			if !sh.review {
				t.Fatalf("qw on 12-01 is not a review: %+v", sh)
			}
			mustContain(t, "qw's last review", r, "这道错题已经掌握了")
			mastered = true
		}
		if sh.index == sh.total {
			break
		}
	}
	if !mastered {
		t.Fatal("qw did not come back on 12-01")
	}
	mustContain(t, "12-01 summary", r, "积分 +18\n", "已连续学习 1 天")
	setDay(env, "2026-12-02")
	publish(t, svc, "2026-12-02")

	// qw came back as a review exactly 1, 3 and 7 days after each step, and not since.
	var tasks []models.StudyTask
	if err := db.Where("member_id = ?", me).Order("day").Find(&tasks).Error; err != nil {
		t.Fatal(err)
	}
	qwID, qxID := question(t, db, qw).ID, question(t, db, qx).ID
	var qwDays, qxDays, asNew []string
	for _, tk := range tasks {
		var items []struct {
			Q uint `json:"q"`
			R bool `json:"r"`
		}
		json.Unmarshal([]byte(tk.Items), &items)
		for _, it := range items {
			switch {
			case it.Q == qwID && it.R:
				qwDays = append(qwDays, tk.Day)
			case it.Q == qxID && it.R:
				qxDays = append(qxDays, tk.Day)
			case it.Q == qwID || it.Q == qxID:
				asNew = append(asNew, tk.Day)
			}
		}
	}
	// Drawn as new questions only the days they were first got wrong: never while in the book.
	if got := strings.Join(asNew, ","); got != "2026-11-20,2026-11-21" {
		t.Fatalf("qw and qx were drawn as new questions on %s", got)
	}
	if got := strings.Join(qwDays, ","); got != "2026-11-21,2026-11-24,2026-12-01" {
		t.Fatalf("qw came back on %s, want 2026-11-21,2026-11-24,2026-12-01", got)
	}
	if got := strings.Join(qxDays, ","); got != "2026-11-22,2026-11-25,2026-11-26,2026-12-01" {
		t.Fatalf("qx came back on %s", got)
	}
	var w models.WrongItem
	if err := db.Where("member_id = ? AND question_id = ?", me, qwID).Take(&w).Error; err != nil {
		t.Fatal(err)
	}
	if w.MasteredAt == nil || w.Misses != 1 {
		t.Fatalf("qw's wrong item: %+v, want mastered after one miss", w)
	}
	w = models.WrongItem{}
	if err := db.Where("member_id = ? AND question_id = ?", me, qxID).Take(&w).Error; err != nil {
		t.Fatal(err)
	}
	if w.MasteredAt != nil || w.Misses != 2 || w.Stage != 2 || w.DueDay != "2026-12-08" {
		t.Fatalf("qx's wrong item: %+v, want stage 2 due 2026-12-08 after two misses", w)
	}

	// The ledger: one points and one minutes entry per completed task, streak bonuses by day.
	var ledger []models.LedgerEntry
	if err := db.Where("member_id = ?", me).Order("id").Find(&ledger).Error; err != nil {
		t.Fatal(err)
	}
	points, minutes := 0, 0
	var bonuses []string
	for _, e := range ledger {
		switch {
		case e.Kind == models.LedgerMinutes:
			minutes += e.Amount
			if e.Amount != 15 || !strings.HasPrefix(e.Source, "task:") {
				t.Fatalf("minutes entry %+v", e)
			}
		case strings.HasPrefix(e.Source, "streak:"):
			points += e.Amount
			bonuses = append(bonuses, e.Source[len("streak:"):]+"+"+itoa(e.Amount))
		default:
			points += e.Amount
			if e.Amount > 18 {
				t.Fatalf("a task earned %d points over the cap of 18", e.Amount)
			}
		}
	}
	if points != 16+17+18+18+17+18+18 || minutes != 7*15 {
		t.Fatalf("ledger: %d points, %d minutes; want 122 and 105", points, minutes)
	}
	if got := strings.Join(bonuses, ","); got != "2026-11-21+1,2026-11-25+1" {
		t.Fatalf("streak bonuses %s", got)
	}
	var st models.StudyStats
	if err := db.Take(&st, "member_id = ?", me).Error; err != nil {
		t.Fatal(err)
	}
	if st.Points != 122 || st.YearPoints != 122 || st.YearMinutes != 105 || st.Streak != 1 || st.BestStreak != 3 || st.LastDay != "2026-12-01" {
		t.Fatalf("totals %+v", st)
	}
	// The totals are what the ledger and the tasks say.
	if err := svc.RebuildStats(ctx, me); err != nil {
		t.Fatal(err)
	}
	var rebuilt models.StudyStats
	db.Take(&rebuilt, "member_id = ?", me)
	rebuilt.UpdatedAt = st.UpdatedAt
	if rebuilt != st {
		t.Fatalf("rebuilt totals %+v, kept %+v", rebuilt, st)
	}
	mustContain(t, "积分 at the end", li.say("积分"), "积分 122（今年 122）", "连续学习 1 天（最长 3 天）",
		"今年学时 1.8/56 小时\n░░░░░░░░░░ 3%", "今年答题 35 道，正确率 91%", "排名：郭沟村第1名，花溪镇第1名")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
