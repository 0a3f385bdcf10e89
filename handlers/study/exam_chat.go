package study

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Chat texts of completion tests.
const (
	textNoExams       = "目前没有需要参加的结业测试。"
	textExamList      = "📝 你的结业测试："
	textExamPick      = "\n回复「考试 序号」开始，如：考试 1"
	textExamStart     = "📝 结业测试《%s》开始，共%d题，%d分及格%s。\n\n"
	textExamResume    = "📝 接着考《%s》：\n\n"
	textExamRecorded  = "已记录。\n\n"
	textExamTimeUp    = "⏰ 时间到了，没答的题按答错算。\n"
	textExamPassed    = "✅ 通过了，祝贺你！"
	textExamFailed    = "❌ 没有通过。"
	textExamRemedial  = "已为你安排回炉补课，之后可以补考"
	textExamNoRetake  = "补考次数已用完，请联系村书记。"
	textExamPassedYet = "《%s》你已经通过了 ✅"
	textExamNoLeft    = "《%s》的考试次数已用完。"
	textExamClosed    = "这场测试现在不在开放时间内。"
	textExamBadPick   = "没有这个序号。"
	textExamHint      = "这是结业测试的题目，请按题目下方的提示作答；想先做别的，发送对应的命令即可，之后回复「考试」接着考。"

	stepExam = "study.exam"
)

// Register adds the completion tests to the bot: 考试 / 结业测试 list the member's open exams, or start
// (or resume) the one he can take; with a number ("考试 2") the exam of that line. Answers then go to
// the exam step, one question per message.
func (e *Exams) Register(r *bot.Router) {
	r.Handle("考试", e.handleExam, bot.Help(130, "考试 — 结业测试"))
	r.Handle("结业测试", e.handleExam)
	r.Step(stepExam, e.handleExamAnswer)
}

// examStep is the pending question of an attempt.
type examStep struct {
	Exam  uint   `json:"e"`
	N     int    `json:"n"`
	Index int    `json:"i"`
	Kind  string `json:"k"`
	Opts  int    `json:"o,omitempty"`
}

// handleExam: 考试 / 结业测试 [序号].
func (e *Exams) handleExam(ctx context.Context, c *bot.Context) error {
	// An attempt whose time ran out since: its result first.
	done, err := e.Settle(ctx, c.Member.ID)
	if err != nil {
		return err
	}
	if len(done) > 0 {
		c.ClearStep()
		return c.Text(examResultText(&done[0]))
	}
	list, err := e.OpenExams(ctx, c.Member.ID)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		c.ClearStep()
		return c.Text(textNoExams)
	}
	if c.Args != "" {
		k, err := strconv.Atoi(strings.TrimSpace(c.Args))
		if err != nil || k < 1 || k > len(list) {
			return c.Text(textExamBadPick + "\n\n" + examListText(list))
		}
		return e.startExam(ctx, c, &list[k-1])
	}
	var takeable []*ExamStatus
	for i := range list {
		if list[i].Current != nil { // an attempt in progress goes on
			return e.startExam(ctx, c, &list[i])
		}
		if list[i].CanTake() {
			takeable = append(takeable, &list[i])
		}
	}
	if len(takeable) == 1 {
		return e.startExam(ctx, c, takeable[0])
	}
	return c.Text(examListText(list))
}

// startExam starts or resumes the member's attempt at an exam and asks its next question.
func (e *Exams) startExam(ctx context.Context, c *bot.Context, st *ExamStatus) error {
	v, started, err := e.StartAttempt(ctx, c.Member.ID, st.Exam.ID)
	switch {
	case errors.Is(err, ErrExamPassed):
		return c.Text(fmt.Sprintf(textExamPassedYet, st.Exam.Title))
	case errors.Is(err, ErrNoAttemptsLeft):
		return c.Text(fmt.Sprintf(textExamNoLeft, st.Exam.Title))
	case errors.Is(err, ErrExamClosed), errors.Is(err, ErrExamNotFound):
		return c.Text(textExamClosed)
	case errors.Is(err, ErrNoQuestions):
		return c.Text(textNoQuestions)
	case err != nil:
		return err
	}
	lead := fmt.Sprintf(textExamResume, v.Exam.Title)
	if started || v.Answered == 0 {
		limit := ""
		if v.Exam.TimeLimit > 0 {
			limit = fmt.Sprintf("，限时%d分钟", v.Exam.TimeLimit)
		}
		lead = fmt.Sprintf(textExamStart, v.Exam.Title, v.Total, v.Exam.PassMark, limit)
	}
	if v.Next < 0 { // every question answered, not yet finished
		return e.finishChat(ctx, c, v.Exam.ID, v.N, "")
	}
	return e.ask(c, v, v.Next, lead)
}

// ask shows question i of an attempt and waits for its answer.
func (e *Exams) ask(c *bot.Context, v *AttemptView, i int, lead string) error {
	q := v.Questions[i]
	ttl := 12 * time.Hour
	if v.DueAt != nil {
		ttl = max(v.DueAt.Sub(e.s.now())+5*time.Minute, time.Minute)
	}
	if err := c.SetStep(stepExam, examStep{Exam: v.Exam.ID, N: v.N, Index: i, Kind: q.Question.Type, Opts: len(q.Options)}, ttl); err != nil {
		return err
	}
	p := &Prompt{Index: i, Total: v.Total, Question: q.Question, Options: q.Options}
	text := promptText(p)
	if v.DueAt != nil {
		left := int(v.DueAt.Sub(e.s.now()).Minutes() + 0.999)
		text += fmt.Sprintf("\n⏱ 还剩约%d分钟", max(left, 1))
	}
	return c.Text(fit(lead, text))
}

// handleExamAnswer takes the answer to the pending exam question; anything else passes on to the
// other routes and the question keeps waiting.
func (e *Exams) handleExamAnswer(ctx context.Context, c *bot.Context) error {
	if c.Member == nil {
		c.ClearStep()
		return bot.ErrPass
	}
	if c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	var st examStep
	if err := c.StepData(&st); err != nil || st.Exam == 0 {
		c.ClearStep()
		return bot.ErrPass
	}
	given, v := readAnswer(st.Kind, st.Opts, c.Norm, func(text string) bool {
		var lines []string
		if e.s.helpLines != nil {
			lines = e.s.helpLines(c.Member.Role)
		}
		return text == "结业测试" || isCommandText(text, lines)
	})
	switch v {
	case notAnswer:
		return bot.ErrPass
	case needHint:
		if st.Kind == models.QuestionSingle && len(given) > 1 {
			return c.Text(textHintSingle)
		}
		return c.Text(textHintLetter)
	}
	p, err := e.AnswerExam(ctx, c.Member.ID, st.Exam, st.N, st.Index, given)
	switch {
	case errors.Is(err, ErrTimeUp):
		return e.finishChat(ctx, c, st.Exam, st.N, "")
	case errors.Is(err, ErrNotAnAnswer):
		return c.Text(textExamHint)
	case errors.Is(err, ErrAttemptFinished), errors.Is(err, ErrExamNotFound), errors.Is(err, ErrNotFound):
		c.ClearStep()
		return bot.ErrPass
	case err != nil:
		return err
	}
	if p.Next < 0 {
		return e.finishChat(ctx, c, st.Exam, st.N, textExamRecorded)
	}
	view, err := e.Attempt(ctx, c.Member.ID, st.Exam, st.N)
	if err != nil {
		return err
	}
	if view.Finished || view.Next < 0 {
		return e.finishChat(ctx, c, st.Exam, st.N, textExamRecorded)
	}
	return e.ask(c, view, view.Next, textExamRecorded)
}

// finishChat finishes an attempt and shows its result.
func (e *Exams) finishChat(ctx context.Context, c *bot.Context, examID uint, n int, lead string) error {
	res, err := e.Finish(ctx, c.Member.ID, examID, n)
	if err != nil {
		return err
	}
	c.ClearStep()
	return c.Text(lead + examResultText(res))
}

// examResultText shows a finished attempt: score, pass or fail, and what follows a fail.
func examResultText(r *ExamResult) string {
	var b strings.Builder
	if r.TimeUp {
		b.WriteString(textExamTimeUp)
	}
	fmt.Fprintf(&b, "📝 《%s》第%d次测试结束\n得分 %d 分（%d 分及格），答对 %d/%d 题\n", r.Title, r.N, r.Score, r.PassMark, r.Right, r.Total)
	if r.Passed {
		b.WriteString(textExamPassed)
		return b.String()
	}
	b.WriteString(textExamFailed)
	if r.AttemptsLeft > 0 {
		fmt.Fprintf(&b, "%s（还可以考 %d 次），回复「考试」补考。", textExamRemedial, r.AttemptsLeft)
	} else {
		b.WriteString("已为你安排回炉补课。" + textExamNoRetake)
	}
	return b.String()
}

// examListText lists the member's open exams with how he stands.
func examListText(list []ExamStatus) string {
	var b strings.Builder
	b.WriteString(textExamList)
	canPick := false
	for i, st := range list {
		fmt.Fprintf(&b, "\n%d. 《%s》%d题，%d分及格", i+1, st.Exam.Title, st.Questions, st.Exam.PassMark)
		switch {
		case st.Passed:
			b.WriteString(" ✅已通过")
		case st.Current != nil:
			b.WriteString(" ✏️考试中")
			canPick = true
		case st.AttemptsLeft == 0:
			b.WriteString(" 次数已用完")
		default:
			if st.BestScore != nil {
				fmt.Fprintf(&b, " 最高%d分", *st.BestScore)
			}
			fmt.Fprintf(&b, "，还可考%d次", st.AttemptsLeft)
			canPick = true
		}
	}
	if canPick {
		b.WriteString(textExamPick)
	}
	return b.String()
}
