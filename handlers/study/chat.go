package study

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Chat texts.
const (
	textNoQuestions = "题库里还没有题目，今天的学习暂时无法开始。请联系管理员导入题目。"
	textStart       = "📚 今日学习开始，共%d题，答完有积分。\n\n"
	textResume      = "接着上次的进度：\n\n"
	textNewDay      = "昨天的题目已经结束了，来看今天的：\n\n"
	textDoneToday   = "今天的学习已完成 ✅\n"
	textDoneNow     = "🎉 今天的学习完成了！\n"
	textSeeYou      = "\n明天再来！发送「积分」查看你的成绩。"
	textRight       = "✅ 回答正确！"
	textMastered    = "✅ 回答正确！这道错题已经掌握了 👍"
	textWrong       = "❌ 答错了，正确答案："
	textToBook      = "（已记入错题本，过几天再练）"
	textAnsweredYet = "（这题已经答过了）"
	textHintLetter  = "请回复选项前的字母，如：A"
	textHintJudge   = "这是判断题，请回复「对」或「错」"
	textHintSingle  = "这是单选题，只选一个字母，如：A"
	textHintAnswer  = "没看懂这个答案，请按题目下方的提示作答。"
	textRankingOff  = "本县没有开启积分排行。\n你今年的积分是 %d，发送「积分」查看详情。"
	textNotRanked   = "你今年还没有积分，完成每日学习就能上榜。"
	textNotDoneYet  = "\n今天的学习还没完成，发送「学习」就能接着做。"
	textRemedial    = "【回炉补课】" // before an extra question of remedial study

	stepAnswer = "study.answer"

	// menuStudy and menuStats are the custom-menu keys of the study buttons.
	menuStudy = "STUDY_TODAY"
	menuStats = "MY_STATS"

	// maxExplanationRunes keeps feedback short on a phone screen.
	maxExplanationRunes = 80
	// maxReplyBytes stays under WeChat's 2,048-byte limit of a text message.
	maxReplyBytes = 2000
	// boardSize is how many lines each board shows in chat.
	boardSize = 10
)

// Register adds the study routes: 学习 / 今日学习 / the STUDY_TODAY menu start or resume today's task
// (the answers then go to the answer step), 积分 / 我的 / the MY_STATS menu show the member's figures,
// 排行 the boards of his village and town.
func (s *Service) Register(r *bot.Router) {
	s.helpLines = r.HelpLines
	r.Handle("学习", s.handleStudy, bot.Help(100, "学习 — 今日学习，每天几道题"))
	r.Handle("今日学习", s.handleStudy)
	r.Handle(bot.Menu(menuStudy), s.handleStudy)
	r.Handle("积分", s.handleStats, bot.Help(110, "积分 — 我的积分、连续学习和学时"))
	r.Handle("我的", s.handleStats)
	r.Handle(bot.Menu(menuStats), s.handleStats)
	r.Handle("排行", s.handleBoard, bot.Help(120, "排行 — 本村、本镇积分排行"))
	r.Handle("排行榜", s.handleBoard)
	r.Step(stepAnswer, s.handleAnswer)
}

// stepData is the pending question of the answer step: enough to read the answer without the database.
type stepData struct {
	Task uint64 `json:"t"`
	Q    uint   `json:"q"`
	Kind string `json:"k"`
	N    int    `json:"n,omitempty"` // options of a choice question
}

// handleStudy starts or resumes today's task.
func (s *Service) handleStudy(ctx context.Context, c *bot.Context) error {
	return s.showToday(ctx, c, "")
}

// showToday shows today's next question (and waits for its answer) or, when done, the summary.
func (s *Service) showToday(ctx context.Context, c *bot.Context, lead string) error {
	p, err := s.TodayTask(ctx, c.Member.ID)
	if errors.Is(err, ErrNoQuestions) {
		c.ClearStep()
		return c.Text(textNoQuestions)
	}
	if err != nil {
		return err
	}
	if p.Next == nil {
		c.ClearStep()
		return c.Text(lead + textDoneToday + summaryText(p.Summary, s.HoursTarget(c.Member.Role)) + textSeeYou)
	}
	if lead == "" {
		lead = textResume
		if p.Answered == 0 {
			lead = fmt.Sprintf(textStart, p.Total)
		}
	}
	if err := s.waitFor(c, p.Next); err != nil {
		return err
	}
	return c.Text(fit(lead, promptText(p.Next)))
}

// waitFor makes the member's next message go to the answer step, until the end of the day.
func (s *Service) waitFor(c *bot.Context, p *Prompt) error {
	now := s.now().In(s.loc)
	y, m, d := now.Date()
	ttl := time.Date(y, m, d+1, 0, 0, 0, 0, s.loc).Sub(now)
	if ttl < time.Minute {
		ttl = time.Minute
	}
	return c.SetStep(stepAnswer, stepData{Task: p.TaskID, Q: p.Question.ID, Kind: p.Question.Type, N: len(p.Options)}, ttl)
}

// handleAnswer takes the answer to the pending question. Anything that is not an answer passes on to
// the other routes, and the question keeps waiting.
func (s *Service) handleAnswer(ctx context.Context, c *bot.Context) error {
	if c.Member == nil {
		c.ClearStep()
		return bot.ErrPass
	}
	if c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	var st stepData
	if err := c.StepData(&st); err != nil || st.Task == 0 {
		c.ClearStep()
		return bot.ErrPass
	}
	given, v := readAnswer(st.Kind, st.N, c.Norm, func(text string) bool {
		var lines []string
		if s.helpLines != nil {
			lines = s.helpLines(c.Member.Role)
		}
		return isCommandText(text, lines)
	})
	switch v {
	case notAnswer:
		return bot.ErrPass
	case needHint:
		if st.Kind == models.QuestionJudge {
			return c.Text(textHintJudge)
		}
		if st.Kind == models.QuestionSingle && len(given) > 1 {
			return c.Text(textHintSingle)
		}
		return c.Text(textHintLetter)
	}
	res, err := s.Answer(ctx, c.Member.ID, st.Task, st.Q, given)
	switch {
	case errors.Is(err, ErrTaskClosed), errors.Is(err, ErrNotFound):
		return s.showToday(ctx, c, textNewDay)
	case errors.Is(err, ErrNotAnAnswer):
		return c.Text(textHintAnswer)
	case err != nil:
		return err
	}
	fb := feedbackText(res)
	if res.Next != nil {
		if err := s.waitFor(c, res.Next); err != nil {
			return err
		}
		return c.Text(fitFeedback(fb, res.Explanation, promptText(res.Next)))
	}
	c.ClearStep()
	return c.Text(fitFeedback(fb, res.Explanation, textDoneNow+summaryText(res.Summary, s.HoursTarget(c.Member.Role))+textSeeYou))
}

// handleStats: 积分 / 我的.
func (s *Service) handleStats(ctx context.Context, c *bot.Context) error {
	ms, err := s.Stats(ctx, c.Member.ID)
	if err != nil {
		return err
	}
	return c.Text(statsText(c.Member.Name, ms))
}

// handleBoard: 排行 shows the top of his village's and town's boards and his places, when his county
// shows boards.
func (s *Service) handleBoard(ctx context.Context, c *bot.Context) error {
	ms, err := s.Stats(ctx, c.Member.ID)
	if err != nil {
		return err
	}
	if !ms.Ranking {
		return c.Text(fmt.Sprintf(textRankingOff, ms.YearPoints))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "🏆 %d年积分排行", ms.Year)
	for _, r := range ms.Ranks {
		entries, err := s.Board(ctx, r.OrgID, ms.Year, boardSize)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n【%s】", r.OrgName)
		if len(entries) == 0 {
			b.WriteString("\n还没有人上榜")
		}
		for _, e := range entries {
			fmt.Fprintf(&b, "\n%d. %s %d分", e.Rank, e.Name, e.Points)
		}
	}
	b.WriteString("\n\n")
	if ranks := rankLine(ms.Ranks); ranks != "" {
		fmt.Fprintf(&b, "你的排名：%s（今年 %d 分）", ranks, ms.YearPoints)
	} else {
		b.WriteString(textNotRanked)
	}
	return c.Text(fit("", b.String()))
}

// promptText shows a question: progress, type, stem, lettered options and how to answer.
func promptText(p *Prompt) string {
	var b strings.Builder
	if p.Remedial {
		b.WriteString(textRemedial)
	}
	fmt.Fprintf(&b, "第%d题/共%d题 · %s", p.Index+1, p.Total, p.Question.Type)
	if p.Review {
		b.WriteString("（错题回顾）")
	}
	b.WriteString("\n")
	b.WriteString(strings.TrimSpace(p.Question.Stem))
	for i, o := range p.Options {
		fmt.Fprintf(&b, "\n%c. %s", 'A'+i, strings.TrimSpace(o))
	}
	b.WriteString("\n👉 ")
	switch p.Question.Type {
	case models.QuestionSingle:
		b.WriteString("回复选项字母，如：A")
	case models.QuestionMulti:
		b.WriteString("多选题，回复所有正确选项，如：BD")
	case models.QuestionJudge:
		b.WriteString("回复「对」或「错」")
	default:
		b.WriteString("直接回复所填内容")
	}
	return b.String()
}

// feedbackText says whether the answer was right, and the right answer when not.
func feedbackText(r *Result) string {
	var b strings.Builder
	if r.Duplicate {
		b.WriteString(textAnsweredYet)
	}
	switch {
	case r.Correct && r.Mastered:
		b.WriteString(textMastered)
	case r.Correct:
		b.WriteString(textRight)
	default:
		b.WriteString(textWrong + r.Answer)
		if !r.Duplicate {
			b.WriteString(textToBook)
		}
	}
	return b.String()
}

// summaryText shows a completed task: score, points (with the streak bonus), streak and training
// hours toward the target.
func summaryText(s *Summary, targetHours int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "答对 %d/%d 题，积分 +%d", s.Right, s.Total, s.Points)
	if s.Bonus > 0 {
		fmt.Fprintf(&b, "（含连续学习奖励 +%d）", s.Bonus)
	}
	fmt.Fprintf(&b, "\n已连续学习 %d 天\n", s.Streak)
	b.WriteString(hoursLine(s.YearMinutes, targetHours))
	return b.String()
}

// hoursLine is "今年学时 12.5/56 小时" and a progress bar.
func hoursLine(minutes, targetHours int) string {
	pct := 100
	if targetHours > 0 {
		pct = minutes * 100 / (targetHours * 60)
	}
	line := "今年学时 " + hours(minutes) + "/" + strconv.Itoa(targetHours) + " 小时\n" + progressBar(pct)
	if pct >= 100 {
		line += " 已达标 🎉"
	}
	return line
}

// hours writes minutes as hours rounded to one decimal, without a trailing ".0" ("0.3", "12", "1.8").
func hours(minutes int) string {
	tenths := (max(minutes, 0)*10 + 30) / 60
	if tenths%10 == 0 {
		return strconv.Itoa(tenths / 10)
	}
	return strconv.Itoa(tenths/10) + "." + strconv.Itoa(tenths%10)
}

// progressBar is ten cells and a percentage: "▓▓▓░░░░░░░ 30%".
func progressBar(pct int) string {
	pct = max(0, pct)
	filled := min(pct/10, 10)
	return strings.Repeat("▓", filled) + strings.Repeat("░", 10-filled) + " " + strconv.Itoa(pct) + "%"
}

// statsText is 积分's answer.
func statsText(name string, ms *MemberStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "📊 %s的学习\n", name)
	fmt.Fprintf(&b, "积分 %d（今年 %d）\n", ms.Points, ms.YearPoints)
	fmt.Fprintf(&b, "连续学习 %d 天", ms.Streak)
	if ms.BestStreak > ms.Streak {
		fmt.Fprintf(&b, "（最长 %d 天）", ms.BestStreak)
	}
	b.WriteString("\n" + hoursLine(ms.YearMinutes, ms.TargetHours) + "\n")
	if ms.YearAnswers == 0 {
		b.WriteString("今年还没有答题")
	} else {
		fmt.Fprintf(&b, "今年答题 %d 道，正确率 %d%%", ms.YearAnswers, ms.YearRight*100/ms.YearAnswers)
	}
	if ms.Ranking {
		if ranks := rankLine(ms.Ranks); ranks != "" {
			b.WriteString("\n排名：" + ranks)
		}
	}
	if !ms.DoneToday {
		b.WriteString(textNotDoneYet)
	}
	return b.String()
}

// rankLine is "郭沟村第1名，花溪镇第3名" for the boards he is on ("" for none).
func rankLine(rs []OrgRank) string {
	var parts []string
	for _, r := range rs {
		if r.Rank > 0 {
			parts = append(parts, r.OrgName+"第"+strconv.Itoa(r.Rank)+"名")
		}
	}
	return strings.Join(parts, "，")
}

// fitFeedback joins feedback, explanation and what follows into one message that fits WeChat's limit:
// the explanation is shortened first, then dropped.
func fitFeedback(feedback, explanation, rest string) string {
	explanation = strings.TrimSpace(explanation)
	if explanation != "" {
		if utf8.RuneCountInString(explanation) > maxExplanationRunes {
			explanation = truncateRunes(explanation, maxExplanationRunes-1) + "…"
		}
		if t := feedback + "\n解析：" + explanation + "\n\n" + rest; len(t) <= maxReplyBytes {
			return t
		}
	}
	return fit(feedback+"\n\n", rest)
}

// fit joins lead and body, cutting the body if the message would not fit WeChat's limit.
func fit(lead, body string) string {
	t := lead + body
	if len(t) <= maxReplyBytes {
		return t
	}
	cut := maxReplyBytes - len("…")
	for cut > 0 && !utf8.RuneStart(t[cut]) {
		cut--
	}
	return t[:cut] + "…"
}
