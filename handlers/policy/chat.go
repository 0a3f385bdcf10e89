package policy

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Chat texts.
const (
	textAskHint = "请在「问」后面写上你的问题，如：\n问 村书记每年培训要达到多少学时"
	// minQuestion: fewer letters than this ("嗯", "好的", "谢谢") is no question: the fallback answers
	// with the router's help line instead.
	minQuestion = 4
	// maxQuestion is what PolicyQuestion.Text holds.
	maxQuestion = 1000
)

// questionLike: a message the bot did not otherwise understand is taken for a question to hand to a
// person only when it reads like one; other chat ("收到了，辛苦") gets the help line, not the inbox.
var questionLike = regexp.MustCompile(`[?？吗呢]|多少|什么|怎么|怎样|如何|哪|几|是否|能否|可否|可不可以|能不能|有没有|为什么|请问|咨询|规定|标准|要求|条件|政策|办法|补贴|待遇`)

// Register adds the policy Q&A to the chat: "问 …" asks explicitly; any other text the bot does not
// understand (the router's fallback) is asked too.
func (s *Service) Register(r *bot.Router) {
	r.Handle("问", s.handleAsk, bot.GluedArgs(), bot.Help(300, "问 … — 政策问答，如：问 村书记每年培训多少学时"))
	r.Fallback(s.handleFallback)
}

// handleAsk answers "问 QUESTION".
func (s *Service) handleAsk(ctx context.Context, c *bot.Context) error {
	q := asked(c.Msg.Text)
	if letters(c.Args) == 0 || letters(q) == 0 {
		return c.Text(textAskHint)
	}
	a, err := s.Ask(ctx, askerOf(c), q)
	if err != nil {
		return err
	}
	return c.Text(a.Text)
}

// handleFallback answers a text no other route took: a question gets the knowledge base's answer; a
// very short text, a non-text message, or chat that is no question and has no answer gets the
// router's help line.
func (s *Service) handleFallback(ctx context.Context, c *bot.Context) error {
	q := strings.TrimSpace(c.Msg.Text)
	if c.Msg.Kind != bot.KindText || letters(q) < minQuestion {
		return c.Text(bot.TextUnknown)
	}
	kb, err := s.Current(ctx)
	if err != nil {
		return err
	}
	a := kb.Answer(q)
	if a.Kind == AnswerNone && !questionLike.MatchString(q) {
		return c.Text(bot.TextUnknown)
	}
	if err := s.record(ctx, askerOf(c), q, a); err != nil {
		return err
	}
	return c.Text(a.Text)
}

// asked is the question of "问 QUESTION" as the user wrote it (c.Args is normalized for routing;
// the inbox shows people what was sent).
func asked(text string) string {
	text = strings.TrimSpace(text)
	for _, kw := range []string{"问", "問"} {
		if rest, ok := strings.CutPrefix(text, kw); ok {
			return strings.TrimLeft(rest, " \t\u3000:：,，")
		}
	}
	return text
}

// Asker is who asked a question, and where to send a person's answer later.
type Asker struct {
	MemberID uint
	OrgID    uint
	OrgPath  string
	Channel  string // bot.ChannelOA or bot.ChannelMP
	OpenID   string
}

func askerOf(c *bot.Context) Asker {
	a := Asker{Channel: c.Msg.Channel, OpenID: c.Msg.OpenID}
	if m := c.Member; m != nil {
		a.MemberID, a.OrgID, a.OrgPath = m.ID, m.OrgID, m.OrgPath
	}
	return a
}

// Ask answers a question from the current knowledge base and logs it (models.PolicyQuestion): answered,
// or open for a person when nothing fits.
func (s *Service) Ask(ctx context.Context, who Asker, question string) (*Answer, error) {
	kb, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	a := kb.Answer(question)
	if err := s.record(ctx, who, question, a); err != nil {
		return nil, err
	}
	return a, nil
}

// record logs a question with what the bot answered.
func (s *Service) record(ctx context.Context, who Asker, question string, a *Answer) error {
	q := models.PolicyQuestion{
		MemberID: who.MemberID, OrgID: who.OrgID, OrgPath: who.OrgPath, Channel: who.Channel, OpenID: who.OpenID,
		Text: clip(question, maxQuestion), State: models.AskOpen, Score: a.Confidence, AskedAt: s.now(),
	}
	switch a.Kind {
	case AnswerFAQ:
		q.State, q.FAQID, q.Reply = models.AskAnswered, &a.FAQ.ID, a.Text
	case AnswerPassage:
		q.State, q.PassageID, q.Reply = models.AskAnswered, &a.Passage.ID, a.Text
	}
	if err := s.db.WithContext(ctx).Create(&q).Error; err != nil {
		return fmt.Errorf("policy: log question: %w", err)
	}
	return nil
}

// letters counts the letters and digits of s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}
