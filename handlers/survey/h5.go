package survey

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// The mobile H5 form at /s/TOKEN: the link in a member's notification (LinkFor) opens it in WeChat's
// browser. The signed token names the survey and the member, so the page needs no login and no
// cookie; holding the link is the permission, until it expires. The page is its own mobile template
// (web/templates/survey_form.html, not the console's layout), a plain form that works without
// JavaScript: every question shows, with its skip condition written out; a small script hides the
// questions whose condition is not met. 「保存」 keeps the answers as a draft (the chat and the
// mini-program see them), 「提交」 makes them final.

// h5Question is one question of the form as shown.
type h5Question struct {
	Question
	Chosen map[int]bool
	Value  string // a number's or a text's value as typed
	Err    string
	Cond   string // the skip condition as people read it
}

// Checked reports whether option n is chosen.
func (q h5Question) Checked(n int) bool { return q.Chosen[n] }

// Scale lists a rating's values.
func (q h5Question) ScaleValues() []int {
	out := make([]int, q.Scale)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// h5Page is the data of the form's template.
type h5Page struct {
	Title     string
	Intro     string
	Name      string // the member, so that he sees whose form it is
	Deadline  string
	Anonymous bool
	Action    string
	Questions []h5Question
	Message   string // a whole-page message instead of the form (thanks, closed, invalid link)
	Retry     string // with Message: a link that opens the form again (through web OAuth)
	Done      bool
	Error     string
	Saved     bool
}

// renderH5 writes the form's page.
func (s *Service) renderH5(c *gin.Context, status int, p h5Page) {
	var buf bytes.Buffer
	if err := s.con.Renderer().Block(&buf, "survey_form", "survey_h5", p); err != nil {
		s.log.ErrorContext(c.Request.Context(), "survey: render form", "err", err)
		c.String(http.StatusInternalServerError, "出错了，请稍后再试。")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "no-referrer") // the token must not leak to other sites
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// h5Member checks the link and loads the member and his progress; false when the page was answered.
func (s *Service) h5Member(c *gin.Context) (*bot.Member, *Progress, bool) {
	sid, mid, err := s.ParseToken(c.Param("token"))
	switch {
	case errors.Is(err, ErrExpiredLink) && inWeChat(c) && s.oauth.on():
		// In WeChat's browser the member can be recognised by web OAuth instead.
		if c.Request.Method == http.MethodGet {
			s.startOAuth(c, sid)
			return nil, nil, false
		}
		s.renderH5(c, http.StatusGone, h5Page{Title: "链接已过期", Message: "这个链接已经过期了，这次的答案没有保存。请点下面重新打开问卷。",
			Retry: "/s/survey/" + strconv.FormatUint(uint64(sid), 10)})
		return nil, nil, false
	case errors.Is(err, ErrExpiredLink):
		s.renderH5(c, http.StatusGone, h5Page{Title: "链接已过期", Message: "这个链接已经过期了。请在公众号里回复「问卷」接着填写。"})
		return nil, nil, false
	case err != nil:
		s.renderH5(c, http.StatusForbidden, h5Page{Title: "链接无效", Message: "这个链接无效。请从公众号的通知里重新打开，或回复「问卷」填写。"})
		return nil, nil, false
	}
	ctx := c.Request.Context()
	m, err := s.memberOf(ctx, mid)
	if err == nil && c.Request.Method == http.MethodGet {
		s.seen(ctx, sid, m.ID, false) // opened the link his message carried: read
	}
	if err == nil {
		var p *Progress
		if p, err = s.Progress(ctx, sid, m); err == nil {
			if p.Done {
				s.renderH5(c, http.StatusOK, h5Page{Title: p.Survey.Title, Message: "你已经提交过这份问卷了，谢谢 ✅", Done: true})
				return nil, nil, false
			}
			if !p.Survey.OpenAt(s.now()) {
				s.renderH5(c, http.StatusGone, h5Page{Title: p.Survey.Title, Message: "这份问卷已经截止了。"})
				return nil, nil, false
			}
			return m, p, true
		}
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotInvited) {
		s.renderH5(c, http.StatusNotFound, h5Page{Title: "找不到问卷", Message: "这份问卷找不到了，请在公众号里回复「问卷」看看。"})
		return nil, nil, false
	}
	s.log.ErrorContext(ctx, "survey: form", "err", err)
	s.renderH5(c, http.StatusInternalServerError, h5Page{Title: "出错了", Message: "出错了，请稍后再试。"})
	return nil, nil, false
}

// h5PageOf builds the form from the answers.
func (s *Service) h5PageOf(c *gin.Context, m *bot.Member, sv *Survey, answers map[int]Answer, typed map[int]string) h5Page {
	p := h5Page{Title: sv.Title, Intro: sv.Intro, Name: m.Name, Deadline: s.deadlineText(sv.Deadline), Anonymous: sv.Anonymous,
		Action: "/s/" + c.Param("token")}
	for _, q := range sv.Qs {
		hq := h5Question{Question: q, Chosen: map[int]bool{}}
		a := answers[q.Seq]
		for _, ch := range a.Choices {
			hq.Chosen[ch] = true
		}
		switch {
		case typed[q.Seq] != "":
			hq.Value = typed[q.Seq]
		case q.Kind == models.SurveyNumber && a.Num != nil:
			hq.Value = num(*a.Num)
		case q.Kind == models.SurveyText:
			hq.Value = a.Text
		}
		if q.ShowIfSeq > 0 {
			if cq := sv.Question(q.ShowIfSeq); cq != nil && q.ShowIfOption <= len(cq.Options) {
				hq.Cond = fmt.Sprintf("第%d题选「%s」时回答", cq.Seq, cq.Options[q.ShowIfOption-1])
			}
		}
		p.Questions = append(p.Questions, hq)
	}
	return p
}

// FormPage is GET /s/:token.
func (s *Service) FormPage(c *gin.Context) {
	m, p, ok := s.h5Member(c)
	if !ok {
		return
	}
	s.renderH5(c, http.StatusOK, s.h5PageOf(c, m, p.Survey, p.Answers, nil))
}

// readH5 reads the posted answers: q1=2 (single, rating), q2=1&q2=3 (multiple), q3=… (number, text).
// typed keeps what was typed for numbers, to show it again when it is not a number.
func readH5(c *gin.Context, sv *Survey) (map[int]Answer, map[int]string, map[int]string) {
	answers := map[int]Answer{}
	typed := map[int]string{}
	bad := map[int]string{}
	for _, q := range sv.Qs {
		key := "q" + strconv.Itoa(q.Seq)
		var a Answer
		switch q.Kind {
		case models.SurveySingle, models.SurveyMulti, models.SurveyRating:
			for _, v := range c.PostFormArray(key) {
				n, err := strconv.Atoi(v)
				if err != nil {
					bad[q.Seq] = "选项不对，请重新选择"
					continue
				}
				a.Choices = append(a.Choices, n)
			}
		case models.SurveyNumber:
			v := strings.TrimSpace(c.PostForm(key))
			typed[q.Seq] = v
			if v != "" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					bad[q.Seq] = "请填一个数字"
					continue
				}
				a.Num = &f
			}
		default:
			a.Text = strings.TrimSpace(c.PostForm(key))
			typed[q.Seq] = a.Text
		}
		answers[q.Seq] = a
	}
	return answers, typed, bad
}

// FormSubmit is POST /s/:token: 保存 (action=save) keeps a draft, 提交 submits.
func (s *Service) FormSubmit(c *gin.Context) {
	m, p, ok := s.h5Member(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	sv := p.Survey
	answers, typed, bad := readH5(c, sv)
	vis := visible(sv.Qs, answers)
	// Answers to questions that are not asked are not checked (the script may have hidden a question
	// that still holds an old answer); Finish drops them.
	again := func(status int, msg string, seq int, hint string) {
		page := s.h5PageOf(c, m, sv, answers, typed)
		page.Error = msg
		for i := range page.Questions {
			if page.Questions[i].Seq == seq {
				page.Questions[i].Err = hint
			}
			if h, ok := bad[page.Questions[i].Seq]; ok {
				page.Questions[i].Err = h
			}
		}
		s.renderH5(c, status, page)
	}
	for seq := range bad {
		if vis[seq] {
			again(http.StatusBadRequest, "有的回答需要修改，请看标红的题。", 0, "")
			return
		}
		delete(answers, seq)
	}
	for seq, a := range answers {
		if !vis[seq] && !a.Empty() {
			answers[seq] = Answer{}
		}
	}
	_, err := s.Save(ctx, sv.ID, m, answers, 0, ViaH5)
	var ae *AnswerError
	if errors.As(err, &ae) {
		again(http.StatusBadRequest, fmt.Sprintf("第%d题：%s", ae.Seq, ae.Hint), ae.Seq, ae.Hint)
		return
	}
	if err == nil && c.PostForm("action") != "save" {
		err = s.Finish(ctx, sv.ID, m)
	}
	var ie *IncompleteError
	switch {
	case errors.As(err, &ie):
		again(http.StatusBadRequest, fmt.Sprintf("第%d题是必答题，请回答后再提交。", ie.Seq), ie.Seq, "必答")
	case errors.Is(err, ErrDone):
		s.renderH5(c, http.StatusOK, h5Page{Title: sv.Title, Message: "你已经提交过这份问卷了，谢谢 ✅", Done: true})
	case errors.Is(err, ErrClosed):
		s.renderH5(c, http.StatusGone, h5Page{Title: sv.Title, Message: "这份问卷已经截止了，答案没有提交。"})
	case err != nil:
		s.log.ErrorContext(ctx, "survey: form submit", "err", err)
		again(http.StatusInternalServerError, "出错了，请稍后再试。", 0, "")
	case c.PostForm("action") == "save":
		page := s.h5PageOf(c, m, sv, answers, typed)
		page.Saved = true
		s.renderH5(c, http.StatusOK, page)
	default:
		s.renderH5(c, http.StatusOK, h5Page{Title: sv.Title, Message: "✅ 问卷已提交，谢谢你的参与！", Done: true})
	}
}
