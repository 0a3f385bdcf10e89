package study_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// newExam sets an exam for the whole demo county through the console's API, as its administrator.
func newExam(t *testing.T, env *consoletest.Env, title string, quota map[string]int, limit, passMark, attempts int) uint {
	t.Helper()
	var ex struct {
		ID uint `json:"id"`
	}
	st, body := env.API(env.Token(consoletest.County), http.MethodPost, "/api/v1/exams", map[string]any{
		"org_id": orgID(t, env.App.DB(), "洪雅县"), "title": title, "quota": quota, "tags": []string{"党章"},
		"time_limit_minutes": limit, "pass_mark": passMark, "max_attempts": attempts, "closes_at": env.Clock.Now().AddDate(0, 1, 0),
	}, &ex)
	if st != http.StatusCreated {
		t.Fatalf("create exam: %d %s", st, body)
	}
	return ex.ID
}

// takeExam sends 考试 and answers every question, rightly while right(i), and returns the last reply.
func takeExam(t *testing.T, env *consoletest.Env, ch *chatter, right func(i int) bool) string {
	t.Helper()
	reply := ch.say("考试")
	for i := 0; promptRe.MatchString(reply); i++ {
		sh := prompt(t, reply)
		if q := question(t, env.App.DB(), sh.stem); !strings.Contains(q.Tags, "党章") {
			t.Fatalf("exam question %q is not tagged 党章", sh.stem)
		}
		if right(i) {
			reply = ch.say(rightAnswer(t, env.App.DB(), sh))
		} else {
			reply = ch.say(wrongAnswer(t, env.App.DB(), sh))
		}
	}
	return reply
}

// taskItems are the questions of a member's task of a day.
func taskItems(t *testing.T, env *consoletest.Env, name, day string) []models.Question {
	t.Helper()
	db := env.App.DB()
	var task models.StudyTask
	if err := db.Take(&task, "member_id = ? AND day = ?", memberID(t, db, name), day).Error; err != nil {
		t.Fatalf("task of %s on %s: %v", name, day, err)
	}
	var items []struct {
		Q uint `json:"q"`
	}
	if err := json.Unmarshal([]byte(task.Items), &items); err != nil {
		t.Fatal(err)
	}
	if task.Total != len(items) {
		t.Fatalf("task total %d, %d items", task.Total, len(items))
	}
	qs := make([]models.Question, len(items))
	for i, it := range items {
		db.Take(&qs[i], it.Q)
	}
	return qs
}

// nextDay moves the clock to 08:00 of the next day and runs the morning's jobs (publishing).
func nextDay(t *testing.T, env *consoletest.Env, svc *study.Service) string {
	t.Helper()
	setDay(env, svc.Today())
	env.Clock.Add(24 * time.Hour)
	runJobs(t, env)
	return svc.Today()
}

// TestFailedExamBringsRemedialStudyUntilTheRetakeIsPassed: a failed completion test puts the member in
// remedial study (extra questions of the failed tags in his next days' tasks); the retake passed, the
// extra questions stop. The console lists the exam with its results.
func TestFailedExamBringsRemedialStudyUntilTheRetakeIsPassed(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	examID := newExam(t, env, "党章结业测试", map[string]int{"单选": 2, "判断": 2}, 30, 75, 2)
	runJobs(t, env)
	zhang := newChatter(env, "o-zhang", "张国华")

	reply := takeExam(t, env, zhang, func(int) bool { return false })
	mustContain(t, "the failed attempt", reply, "《党章结业测试》第1次测试结束", "得分 0 分（75 分及格），答对 0/4 题", "❌ 没有通过",
		"已为你安排回炉补课，之后可以补考", "还可以考 1 次")
	var rem models.RemedialStudy
	if err := db.Take(&rem, "member_id = ? AND exam_id = ?", memberID(t, db, "张国华"), examID).Error; err != nil || rem.Tags != "党章" {
		t.Fatalf("remedial study: %+v %v", rem, err)
	}
	// The exam's four wrong answers count in the questions' accuracy and go to his wrong-answer book.
	var book, attempts int64
	db.Model(&models.WrongItem{}).Where("member_id = ?", memberID(t, db, "张国华")).Count(&book)
	db.Model(&models.Question{}).Select("COALESCE(SUM(attempts), 0)").Row().Scan(&attempts)
	if book < 4 || attempts < 4 {
		t.Fatalf("after a failed exam of 4 questions: %d in the wrong-answer book, %d attempts counted", book, attempts)
	}

	// The next day his task has 3 questions more, all of the failed tag; others' tasks are as before.
	day2 := nextDay(t, env, svc)
	qs := taskItems(t, env, "张国华", day2)
	if len(qs) != 8 {
		t.Fatalf("task in remedial study: %d questions, want 5 + 3", len(qs))
	}
	for _, q := range qs[5:] {
		if q.Tags != "党章" {
			t.Fatalf("remedial question %d is tagged %q", q.ID, q.Tags)
		}
	}
	if n := len(taskItems(t, env, "李秀英", day2)); n != 5 {
		t.Fatalf("another member's task has %d questions", n)
	}
	mustContain(t, "the remedial task in chat", zhang.say("学习"), "第1题/共8题")

	reply = takeExam(t, env, zhang, func(int) bool { return true })
	mustContain(t, "the retake", reply, "第2次测试结束", "得分 100 分", "✅ 通过了")
	var n int64
	db.Model(&models.RemedialStudy{}).Count(&n)
	if n != 0 {
		t.Fatal("remedial study goes on after the retake was passed")
	}
	day3 := nextDay(t, env, svc)
	if n := len(taskItems(t, env, "张国华", day3)); n != 5 {
		t.Fatalf("the day after passing: %d questions, want 5", n)
	}
	mustContain(t, "考试 after passing", zhang.say("结业测试"), "党章结业测试", "✅已通过")

	// The console: the county sees the exam with its results; so does the town (the exam is set above
	// it); a secretary of another village sees no one's results.
	type row struct {
		Title   string `json:"title"`
		OrgPath string `json:"org_path"`
		Results struct {
			Members, Attempts, InProgress, Passed int
			PassRate                              *float64 `json:"pass_rate"`
		} `json:"results"`
	}
	var list struct{ Items []row }
	for _, who := range []string{consoletest.County, consoletest.Town} {
		if st, body := env.API(env.Token(who), http.MethodGet, "/api/v1/exams", nil, &list); st != http.StatusOK || len(list.Items) != 1 {
			t.Fatalf("%s: GET /api/v1/exams: %d %s", who, st, body)
		}
		r := list.Items[0]
		if r.Title != "党章结业测试" || r.OrgPath != "洪雅县" || r.Results.Members != 1 || r.Results.Attempts != 2 || r.Results.Passed != 1 ||
			r.Results.PassRate == nil || *r.Results.PassRate != 1 {
			t.Fatalf("%s: exam row %+v", who, r)
		}
	}
	var audit int64
	db.Model(&models.AuditEntry{}).Where("object = ? AND action = ?", study.ObjectExam, "create").Count(&audit)
	if audit != 1 {
		t.Fatalf("%d audit entries of the exam's creation", audit)
	}
}

// TestExamTimeLimitAndAttempts: after the time limit an answer is not taken and the attempt is scored
// as it stood (unanswered = wrong); an attempt left running is scored when he comes back; once every
// attempt is used, no more are started.
func TestExamTimeLimitAndAttempts(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	exams := study.NewExams(svc, nil)
	examID := newExam(t, env, "限时测试", map[string]int{"判断": 2}, 5, 100, 2)
	zhang := newChatter(env, "o-zhang", "张国华")
	me := memberID(t, db, "张国华")

	reply := zhang.say("考试")
	mustContain(t, "the start", reply, "结业测试《限时测试》开始，共2题，100分及格，限时5分钟", "第1题/共2题", "还剩约5分钟")
	reply = zhang.say(rightAnswer(t, db, prompt(t, reply)))
	mustContain(t, "the first answer", reply, "已记录", "第2题/共2题")
	env.Clock.Add(6 * time.Minute)
	reply = zhang.say(rightAnswer(t, db, prompt(t, reply)))
	mustContain(t, "an answer after the limit", reply, "⏰ 时间到了", "得分 50 分", "答对 1/2 题", "❌ 没有通过", "还可以考 1 次")
	var a models.ExamAttempt
	db.Take(&a, "member_id = ? AND exam_id = ? AND n = 1", me, examID)
	if a.Answered != 1 || a.FinishedAt == nil || a.DueAt == nil || !a.FinishedAt.Equal(*a.DueAt) || a.Passed {
		t.Fatalf("attempt after the limit: %+v", a)
	}

	// The second attempt, left running past its limit: 考试 shows its result.
	mustContain(t, "the retake", zhang.say("考试"), "第1题/共2题")
	env.Clock.Add(10 * time.Minute)
	mustContain(t, "考试 after the limit", zhang.say("考试"), "⏰ 时间到了", "第2次测试结束", "得分 0 分", "补考次数已用完")
	mustContain(t, "考试 with no attempts left", zhang.say("考试"), "次数已用完")
	if _, _, err := exams.StartAttempt(context.Background(), me, examID); !errors.Is(err, study.ErrNoAttemptsLeft) {
		t.Fatalf("a third attempt: %v", err)
	}
	if _, err := exams.AnswerExam(context.Background(), me, examID, 2, 0, "对"); !errors.Is(err, study.ErrAttemptFinished) {
		t.Fatalf("an answer to a finished attempt: %v", err)
	}
	tags, err := svc.RemedialTags(context.Background(), me)
	if err != nil || len(tags) != 1 || tags[0] != "党章" {
		t.Fatalf("remedial tags after two fails: %q %v", tags, err)
	}
}

// exMP is a mini-program client of the exam API.
type exMP struct {
	t   *testing.T
	env *consoletest.Env
	tok string
}

func (m exMP) call(method, path string, in, out any, want int) string {
	m.t.Helper()
	st, body := m.env.API(m.tok, method, path, in, out)
	if st != want {
		m.t.Fatalf("%s %s: %d %s, want %d", method, path, st, body, want)
	}
	return body
}

// TestExamInTheMiniProgram: list, start (and resume), answer, refusals, the time limit and the result.
func TestExamInTheMiniProgram(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	examID := newExam(t, env, "小程序测试", map[string]int{"单选": 1, "判断": 2}, 10, 60, 1)
	var m models.Member
	db.Take(&m, "name = ?", "王德明")
	env.Fake.AddSession("code-wang", "mp-wang", "")
	var login struct {
		Token string `json:"token"`
	}
	mp := exMP{t, env, ""}
	mp.call(http.MethodPost, "/api/v1/mp/login", map[string]string{"code": "code-wang"}, &login, http.StatusOK)
	mp.tok = login.Token
	mp.call(http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": *m.BindCode}, nil, http.StatusOK)

	var list struct {
		Items []struct {
			ID             uint `json:"id"`
			Questions      int  `json:"questions"`
			AttemptsLeft   int  `json:"attempts_left"`
			CurrentAttempt *int `json:"current_attempt"`
			Passed         bool `json:"passed"`
		} `json:"items"`
	}
	mp.call(http.MethodGet, "/api/v1/mp/exams", nil, &list, http.StatusOK)
	if len(list.Items) != 1 || list.Items[0].ID != examID || list.Items[0].Questions != 3 || list.Items[0].AttemptsLeft != 1 || list.Items[0].CurrentAttempt != nil {
		t.Fatalf("open exams: %+v", list.Items)
	}
	type attempt struct {
		N         int        `json:"n"`
		Total     int        `json:"total"`
		DueAt     *time.Time `json:"due_at"`
		Next      *int       `json:"next_index"`
		Questions []struct {
			Index   int      `json:"index"`
			Type    string   `json:"type"`
			Stem    string   `json:"stem"`
			Options []string `json:"options"`
			Answer  *string  `json:"answer"`
		} `json:"questions"`
	}
	var a, again attempt
	base := fmt.Sprintf("/api/v1/mp/exams/%d/attempts", examID)
	mp.call(http.MethodPost, base, nil, &a, http.StatusCreated)
	mp.call(http.MethodPost, base, nil, &again, http.StatusOK)
	if a.N != 1 || a.Total != 3 || again.N != 1 || a.DueAt == nil || !a.DueAt.Equal(env.Clock.Now().Add(10*time.Minute)) ||
		a.Questions[0].Type != models.QuestionSingle || len(a.Questions[0].Options) != 4 || a.Questions[0].Answer != nil {
		t.Fatalf("attempt: %+v / %+v", a, again)
	}
	for i, q := range a.Questions {
		if again.Questions[i].Stem != q.Stem || strings.Join(again.Questions[i].Options, "|") != strings.Join(q.Options, "|") {
			t.Fatal("the resumed attempt shows other questions or another option order")
		}
	}
	answers := base + "/1/answers"
	right := func(i int) string {
		q := a.Questions[i]
		return rightAnswer(t, db, shown{kind: q.Type, stem: q.Stem, options: q.Options})
	}
	var p struct {
		Answered int  `json:"answered"`
		Next     *int `json:"next_index"`
	}
	for _, slip := range []string{"E", "AB", "xyz", ""} { // to the 单选: asked again, not scored
		mp.call(http.MethodPost, answers, map[string]any{"index": 0, "answer": slip}, nil, http.StatusBadRequest)
	}
	mp.call(http.MethodPost, answers, map[string]any{"index": 0, "answer": right(0)}, &p, http.StatusOK)
	if p.Answered != 1 || p.Next == nil || *p.Next != 1 {
		t.Fatalf("after the first answer: %+v", p)
	}
	mp.call(http.MethodPost, answers, map[string]any{"index": 1, "answer": "ABC"}, nil, http.StatusBadRequest)
	mp.call(http.MethodPost, answers, map[string]any{"index": 9, "answer": "对"}, nil, http.StatusBadRequest)
	mp.call(http.MethodPost, answers, map[string]any{"answer": "对"}, nil, http.StatusBadRequest)
	mp.call(http.MethodPost, fmt.Sprintf("/api/v1/mp/exams/%d/attempts/2/answers", examID), map[string]any{"index": 0, "answer": "对"}, nil, http.StatusNotFound)
	mp.call(http.MethodPost, "/api/v1/mp/exams/999999/attempts", nil, nil, http.StatusNotFound)
	mp.call(http.MethodPost, answers, map[string]any{"index": 1, "answer": right(1)}, &p, http.StatusOK)

	env.Clock.Add(11 * time.Minute)
	body := mp.call(http.MethodPost, answers, map[string]any{"index": 2, "answer": right(2)}, nil, http.StatusConflict)
	mustContain(t, "an answer after the limit", body, `"error":"time_up"`)
	var res struct {
		Score, Right, Total int
		Passed              bool
		TimeUp              bool `json:"time_up"`
		AttemptsLeft        int  `json:"attempts_left"`
		Remedial            bool
	}
	mp.call(http.MethodPost, base+"/1/finish", nil, &res, http.StatusOK)
	if res.Score != 66 || res.Right != 2 || res.Total != 3 || !res.Passed || res.AttemptsLeft != 0 || res.Remedial {
		t.Fatalf("result: %+v", res)
	}
	body = mp.call(http.MethodPost, base, nil, nil, http.StatusConflict)
	mustContain(t, "a start after passing", body, `"error":"passed"`)
	mp.call(http.MethodGet, "/api/v1/mp/exams", nil, &list, http.StatusOK)
	if !list.Items[0].Passed || list.Items[0].CurrentAttempt != nil {
		t.Fatalf("open exams after passing: %+v", list.Items)
	}
}

// TestCreatingExams: only administrators, only in their part of the tree, only with questions enough.
func TestCreatingExams(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	closes := env.Clock.Now().AddDate(0, 0, 7)
	exam := func(org string, quota map[string]int) map[string]any {
		return map[string]any{"org_id": orgID(t, db, org), "title": "测试", "quota": quota, "tags": []string{"党章"}, "closes_at": closes}
	}
	for _, c := range []struct {
		who   string
		body  map[string]any
		want  int
		field string
	}{
		{consoletest.Secretary, exam("洪雅县/花溪镇/郭沟村", map[string]int{"判断": 2}), http.StatusForbidden, ""},
		{consoletest.Town, exam("洪雅县/止戈镇", map[string]int{"判断": 2}), http.StatusForbidden, ""},
		{consoletest.Town, exam("洪雅县/花溪镇", map[string]int{"填空": 2}), http.StatusBadRequest, "quota"}, // 党章 has no 填空
		{consoletest.Town, exam("洪雅县/花溪镇", map[string]int{"问答": 2}), http.StatusBadRequest, "quota"},
		{consoletest.Town, map[string]any{"org_id": orgID(t, db, "洪雅县/花溪镇"), "title": "测试", "quota": map[string]int{"判断": 2}}, http.StatusBadRequest, "closes_at"},
		{consoletest.Town, exam("洪雅县/花溪镇", map[string]int{"判断": 2}), http.StatusCreated, ""},
	} {
		st, body := env.API(env.Token(c.who), http.MethodPost, "/api/v1/exams", c.body, nil)
		if st != c.want || c.field != "" && !strings.Contains(body, `"field":"`+c.field+`"`) {
			t.Errorf("%s %v: %d %s, want %d %s", c.who, c.body, st, body, c.want, c.field)
		}
	}
	var n int64
	db.Model(&models.Exam{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d exams made, want 1", n)
	}
	// A member of another town does not see the town's exam.
	guo := newChatter(env, "o-guo", "郭晓燕") // 止戈镇/五龙村
	mustContain(t, "考试 in another town", guo.say("考试"), "目前没有需要参加的结业测试")
	zhang := newChatter(env, "o-zhang", "张国华") // 花溪镇
	mustContain(t, "考试 in the town", zhang.say("考试"), "结业测试《测试》开始")
}

// TestRemedialQuestionsAreLabelled: the extra questions of remedial study say so, in chat before the
// question (【回炉补课】) and in the mini-program's task ("remedial": true); the day's own questions do not.
func TestRemedialQuestionsAreLabelled(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	svc := newService(env)
	newExam(t, env, "党章结业测试", map[string]int{"单选": 2, "判断": 2}, 30, 75, 2)
	runJobs(t, env)
	zhang := newChatter(env, "o-zhang", "张国华")
	mustContain(t, "the failed attempt", takeExam(t, env, zhang, func(int) bool { return false }), "已为你安排回炉补课")
	day2 := nextDay(t, env, svc)
	want := taskItems(t, env, "张国华", day2)
	if len(want) != 8 {
		t.Fatalf("task in remedial study: %d questions, want 5 + 3", len(want))
	}

	// The mini-program's task, before any answer.
	tok := mpsBind(t, env, "mp-zhang", "张国华")
	var today struct {
		Items []struct {
			ID       uint  `json:"id"`
			Remedial *bool `json:"remedial"`
		} `json:"items"`
	}
	mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	if len(today.Items) != 8 {
		t.Fatalf("mini-program task: %d items", len(today.Items))
	}
	for i, it := range today.Items {
		if it.ID != want[i].ID || it.Remedial == nil || *it.Remedial != (i >= 5) {
			t.Fatalf("mini-program item %d (question %d): remedial %v, want %v", i, it.ID, it.Remedial, i >= 5)
		}
	}

	// In chat, question by question: the label comes with the extra questions only, from 学习 and
	// from the feedback that asks the next one.
	reply := zhang.say("学习")
	for i := 0; i < 8; i++ {
		sh := prompt(t, reply)
		if sh.index != i+1 || sh.stem != want[i].Stem {
			t.Fatalf("question %d: got %d %q", i+1, sh.index, sh.stem)
		}
		head := fmt.Sprintf("【回炉补课】第%d题/共8题", i+1)
		if got := strings.Contains(reply, head); got != (i >= 5) {
			t.Fatalf("question %d labelled %v, want %v:\n%s", i+1, got, i >= 5, reply)
		}
		reply = zhang.say(rightAnswer(t, db, sh))
	}
	mustContain(t, "the task done", reply, "今天的学习完成了", "答对 8/8 题")
	if strings.Contains(reply, "回炉补课") {
		t.Fatalf("the summary is labelled:\n%s", reply)
	}
}
