package survey

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

// Chat texts.
const (
	textNone       = "现在没有需要你填写的问卷 👍"
	textAllDone    = "你已经填完了全部问卷，谢谢 ✅"
	textPick       = "回复序号开始填写，如：1"
	textResume     = "接着上次的进度：\n\n"
	textThanks     = "✅ 问卷《%s》已提交，谢谢你的参与！"
	textClosed     = "问卷《%s》已经截止了，答案没有提交。"
	textDoneBefore = "问卷《%s》你已经提交过了，谢谢 ✅"
	textFirst      = "已经是第一题了。\n\n"
	textRequired   = "这题必答，请回答后再继续。"
	textPaused     = "已保存你的回答，发送「问卷」随时接着填。"
	textAnonymous  = "（匿名问卷：结果里不会出现你的名字）"
	textGone       = "这份问卷找不到了，发送「问卷」看看还有哪些。"

	stepPick   = "survey.pick"
	stepAnswer = "survey.answer"
	menuKey    = "SURVEYS"

	maxReplyBytes = 2000 // under WeChat's 2,048-byte text limit
)

// Register adds the chat routes: 问卷 and the SURVEYS menu list the member's open surveys (or start the
// only one), and the steps take the pick and the answers.
func (s *Service) Register(r *bot.Router) {
	s.helpFor = r.HelpLines
	r.Handle("问卷", s.handleList, bot.Help(300, "问卷 — 填写待完成的问卷"))
	r.Handle(bot.Menu(menuKey), s.handleList)
	r.Step(stepPick, s.handlePick)
	r.Step(stepAnswer, s.handleAnswer)
}

// pickData is the pending list: the surveys by the number shown.
type pickData struct {
	IDs []uint `json:"i"`
}

// answerData is the pending question.
type answerData struct {
	S uint `json:"s"`
	Q int  `json:"q"`
}

// handleList: 问卷.
func (s *Service) handleList(ctx context.Context, c *bot.Context) error {
	open, err := s.OpenFor(ctx, c.Member)
	if err != nil {
		return err
	}
	var todo []OpenSurvey
	for _, o := range open {
		if !o.Done {
			todo = append(todo, o)
		}
	}
	switch {
	case len(open) == 0:
		c.ClearStep()
		return c.Text(textNone)
	case len(todo) == 0:
		c.ClearStep()
		return c.Text(textAllDone)
	case len(todo) == 1:
		return s.start(ctx, c, todo[0].ID)
	}
	var b strings.Builder
	b.WriteString("📋 待填写的问卷：")
	ids := make([]uint, len(todo))
	for i, o := range todo {
		ids[i] = o.ID
		fmt.Fprintf(&b, "\n%d. 《%s》截止 %s", i+1, o.Title, s.deadlineText(o.Deadline))
		if o.Answered > 0 {
			fmt.Fprintf(&b, "（已答%d题）", o.Answered)
		}
	}
	if done := len(open) - len(todo); done > 0 {
		fmt.Fprintf(&b, "\n另有 %d 份已完成 ✅", done)
	}
	b.WriteString("\n\n" + textPick)
	if err := c.SetStep(stepPick, pickData{IDs: ids}, 0); err != nil {
		return err
	}
	return c.Text(fit(b.String()))
}

// handlePick takes the number of a listed survey; anything else goes on to the other routes.
func (s *Service) handlePick(ctx context.Context, c *bot.Context) error {
	if c.Member == nil || c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	var d pickData
	if err := c.StepData(&d); err != nil || len(d.IDs) == 0 {
		c.ClearStep()
		return bot.ErrPass
	}
	n, err := strconv.Atoi(strings.TrimSpace(c.Norm))
	if err != nil {
		return bot.ErrPass
	}
	if n < 1 || n > len(d.IDs) {
		return c.Text(fmt.Sprintf("请回复 1-%d 之间的序号", len(d.IDs)))
	}
	return s.start(ctx, c, d.IDs[n-1])
}

// start shows the survey's first unanswered question (or the one he was at).
func (s *Service) start(ctx context.Context, c *bot.Context, id uint) error {
	p, err := s.Progress(ctx, id, c.Member)
	if err != nil {
		return s.chatErr(c, id, "", err)
	}
	sv := p.Survey
	if p.Done {
		c.ClearStep()
		return c.Text(fmt.Sprintf(textDoneBefore, sv.Title))
	}
	if !sv.OpenAt(s.now()) {
		c.ClearStep()
		return c.Text(fmt.Sprintf(textClosed, sv.Title))
	}
	s.seen(ctx, sv.ID, c.Member.ID, false) // opened in the chat: read
	vis := visible(sv.Qs, p.Answers)
	seq := p.Cursor
	lead := textResume
	if seq == 0 || !vis[seq] {
		if len(p.Answers) == 0 {
			lead = s.introText(sv)
			seq = nextSeq(sv.Qs, p.Answers, 0)
		} else {
			seq = nextSeq(sv.Qs, p.Answers, seq)
			if seq == 0 {
				seq = nextSeq(sv.Qs, p.Answers, 0)
			}
		}
	}
	if seq == 0 { // a survey without questions cannot happen (Check), but never loop
		c.ClearStep()
		return c.Text(textGone)
	}
	return s.ask(c, sv, p.Answers, seq, lead)
}

// introText opens a survey in the chat.
func (s *Service) introText(sv *Survey) string {
	var b strings.Builder
	fmt.Fprintf(&b, "📋 《%s》共%d题，截止 %s", sv.Title, len(sv.Qs), s.deadlineText(sv.Deadline))
	if sv.Intro != "" {
		b.WriteString("\n" + sv.Intro)
	}
	if sv.Anonymous {
		b.WriteString("\n" + textAnonymous)
	}
	b.WriteString("\n\n")
	return b.String()
}

// ask shows question seq and makes the next message its answer.
func (s *Service) ask(c *bot.Context, sv *Survey, answers map[int]Answer, seq int, lead string) error {
	ttl := sv.Deadline.Sub(s.now())
	if ttl > 24*time.Hour {
		ttl = 24 * time.Hour // the draft keeps the place: 问卷 resumes after the step has gone
	}
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := c.SetStep(stepAnswer, answerData{S: sv.ID, Q: seq}, ttl); err != nil {
		return err
	}
	return c.Text(fit(lead + promptText(sv, sv.Question(seq), answers[seq])))
}

// promptText shows a question: position, kind, text, numbered options and how to answer.
func promptText(sv *Survey, q *Question, given Answer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "第%d题/共%d题 · %s", q.Seq, len(sv.Qs), q.KindName())
	if q.Required {
		b.WriteString("（必答）")
	}
	b.WriteString("\n" + q.Text)
	for i, o := range q.Options {
		fmt.Fprintf(&b, "\n%d. %s", i+1, o)
	}
	b.WriteString("\n👉 ")
	switch q.Kind {
	case models.SurveySingle:
		b.WriteString("回复序号，如：1")
	case models.SurveyMulti:
		fmt.Fprintf(&b, "回复选中的序号，如：1 3（%s）", q.Rule())
	case models.SurveyRating:
		fmt.Fprintf(&b, "回复 1-%d 的数字，%d 分最好", q.Scale, q.Scale)
	case models.SurveyNumber:
		b.WriteString("回复一个数字")
		if r := q.Rule(); r != "" {
			b.WriteString("（" + r + "）")
		}
	default:
		b.WriteString("直接回复你的回答")
	}
	if !given.Empty() {
		fmt.Fprintf(&b, "\n已答：%s（重答可修改，回复「下一题」保留）", clip(answerText(q, given), 40))
	} else if !q.Required {
		b.WriteString("\n不想答可回复「跳过」")
	}
	if q.Seq > 1 {
		b.WriteString("\n回复「上一题」返回修改")
	}
	return b.String()
}

// Words of the answer step.
var (
	wordsBack  = map[string]bool{"上一题": true, "上题": true, "返回": true, "上一个": true}
	wordsNext  = map[string]bool{"下一题": true, "下题": true}
	wordsSkip  = map[string]bool{"跳过": true, "不答": true, "略过": true}
	wordsPause = map[string]bool{"暂停": true, "退出": true, "稍后": true, "以后再填": true}
)

// handleAnswer takes the answer to the pending question.
func (s *Service) handleAnswer(ctx context.Context, c *bot.Context) error {
	if c.Member == nil || c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	var d answerData
	if err := c.StepData(&d); err != nil || d.S == 0 {
		c.ClearStep()
		return bot.ErrPass
	}
	text := strings.TrimSpace(c.Norm)
	p, err := s.Progress(ctx, d.S, c.Member)
	if err != nil {
		return s.chatErr(c, d.S, "", err)
	}
	sv := p.Survey
	q := sv.Question(d.Q)
	switch {
	case p.Done:
		c.ClearStep()
		return c.Text(fmt.Sprintf(textDoneBefore, sv.Title))
	case !sv.OpenAt(s.now()):
		c.ClearStep()
		return c.Text(fmt.Sprintf(textClosed, sv.Title))
	case q == nil:
		c.ClearStep()
		return c.Text(textGone)
	case wordsBack[text]:
		prev := prevSeq(sv.Qs, p.Answers, q.Seq)
		if prev == 0 {
			return s.ask(c, sv, p.Answers, q.Seq, textFirst)
		}
		if _, err := s.Save(ctx, sv.ID, c.Member, nil, prev, ViaChat); err != nil {
			return s.chatErr(c, sv.ID, sv.Title, err)
		}
		return s.ask(c, sv, p.Answers, prev, "")
	case wordsPause[text]:
		c.ClearStep()
		return c.Text(textPaused)
	case wordsNext[text] && !p.Answers[q.Seq].Empty():
		return s.advance(ctx, c, sv, p.Answers, q.Seq)
	case wordsSkip[text]:
		if q.Required {
			return s.ask(c, sv, p.Answers, q.Seq, textRequired+"\n\n")
		}
		p, err = s.Save(ctx, sv.ID, c.Member, map[int]Answer{q.Seq: {}}, q.Seq, ViaChat)
		if err != nil {
			return s.chatErr(c, sv.ID, sv.Title, err)
		}
		return s.advance(ctx, c, sv, p.Answers, q.Seq)
	case s.isCommand(c.Member.Role, text):
		return bot.ErrPass // another keyword: the question keeps waiting
	}
	a, ok := parseChat(q, text)
	if !ok {
		return c.Text(hintFor(q))
	}
	p, err = s.Save(ctx, sv.ID, c.Member, map[int]Answer{q.Seq: a}, q.Seq, ViaChat)
	var ae *AnswerError
	if errors.As(err, &ae) {
		return c.Text(ae.Hint + "，请重新回复。")
	}
	if err != nil {
		return s.chatErr(c, sv.ID, sv.Title, err)
	}
	return s.advance(ctx, c, sv, p.Answers, q.Seq)
}

// advance shows the next question after seq, or submits the response after the last.
func (s *Service) advance(ctx context.Context, c *bot.Context, sv *Survey, answers map[int]Answer, seq int) error {
	if next := nextSeq(sv.Qs, answers, seq); next != 0 {
		if _, err := s.Save(ctx, sv.ID, c.Member, nil, next, ViaChat); err != nil {
			return s.chatErr(c, sv.ID, sv.Title, err)
		}
		return s.ask(c, sv, answers, next, "")
	}
	err := s.Finish(ctx, sv.ID, c.Member)
	var ie *IncompleteError
	if errors.As(err, &ie) {
		if _, err := s.Save(ctx, sv.ID, c.Member, nil, ie.Seq, ViaChat); err != nil {
			return s.chatErr(c, sv.ID, sv.Title, err)
		}
		return s.ask(c, sv, answers, ie.Seq, fmt.Sprintf("第%d题还没有回答：\n\n", ie.Seq))
	}
	if err != nil {
		return s.chatErr(c, sv.ID, sv.Title, err)
	}
	c.ClearStep()
	return c.Text(fmt.Sprintf(textThanks, sv.Title))
}

// chatErr answers the errors a member can meet; others go to the router's error line.
func (s *Service) chatErr(c *bot.Context, id uint, title string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotInvited):
		c.ClearStep()
		return c.Text(textGone)
	case errors.Is(err, ErrClosed):
		c.ClearStep()
		return c.Text(fmt.Sprintf(textClosed, title))
	case errors.Is(err, ErrDone):
		c.ClearStep()
		return c.Text(fmt.Sprintf(textDoneBefore, title))
	}
	return err
}

// hintFor is the short hint for a reply that is not an answer to q.
func hintFor(q *Question) string {
	switch q.Kind {
	case models.SurveySingle:
		return fmt.Sprintf("请回复选项前的序号（1-%d），如：1", len(q.Options))
	case models.SurveyMulti:
		return fmt.Sprintf("请回复选中的序号，用空格隔开，如：1 3（%s）", q.Rule())
	case models.SurveyRating:
		return fmt.Sprintf("请回复 1-%d 的数字打分", q.Scale)
	case models.SurveyNumber:
		return "请回复一个数字，如：3"
	}
	return "请直接回复你的回答"
}

// commandWords are chat commands that are not answers, besides the keywords of the 帮助 lines.
var commandWords = map[string]bool{
	"帮助": true, "学习": true, "今日学习": true, "积分": true, "我的": true, "排行": true, "签到": true, "签退": true,
	"解绑": true, "问卷": true, "菜单": true, "考勤": true,
}

// isCommand reports whether text is another chat command (a known word, or a help line's keyword with
// or without arguments).
func (s *Service) isCommand(role, text string) bool {
	if commandWords[text] || strings.HasPrefix(text, "绑定 ") || strings.HasPrefix(text, "问 ") {
		return true
	}
	if s.helpFor == nil {
		return false
	}
	for _, l := range s.helpFor(role) {
		kw, _, _ := strings.Cut(l, " ")
		if kw != "" && (text == kw || strings.HasPrefix(text, kw+" ")) {
			return true
		}
	}
	return false
}

// fit cuts a reply to WeChat's limit.
func fit(t string) string {
	if len(t) <= maxReplyBytes {
		return t
	}
	cut := maxReplyBytes - len("…")
	for cut > 0 && t[cut]&0xC0 == 0x80 {
		cut--
	}
	return t[:cut] + "…"
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
