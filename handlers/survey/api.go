package survey

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/models"
)

// APISurvey is a survey in the console API.
type APISurvey struct {
	ID          uint       `json:"id"`
	Title       string     `json:"title"`
	Intro       string     `json:"intro"`
	OrgID       uint       `json:"org_id"`
	OrgPath     string     `json:"org_path"`
	Roles       []string   `json:"roles"`
	Anonymous   bool       `json:"anonymous"`
	Status      string     `json:"status"`
	Deadline    time.Time  `json:"deadline"`
	RemindEvery int        `json:"remind_every"`
	RemindMax   int        `json:"remind_max"`
	Rounds      int        `json:"reminder_rounds"`
	Responses   int        `json:"responses"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	Questions   []Question `json:"questions,omitempty"`
	Results     *APIResult `json:"results,omitempty"`
}

// APIResult is a survey's results in the caller's part of the tree. Text answers carry no names
// (names are for the console's pages of named surveys only).
type APIResult struct {
	OrgPath   string        `json:"org_path"`
	Audience  int64         `json:"audience"`
	Finished  int64         `json:"finished"`
	Rate      float64       `json:"rate"`
	Status    string        `json:"status"`
	Received  int64         `json:"received"`  // the survey's notice reached them
	Read      int64         `json:"read"`      // opened it (the form, the chat, the mini-program) or answered
	ReadRate  float64       `json:"read_rate"` // Read of Received, in percent
	Units     []APIUnit     `json:"units"`
	Questions []APIQuestion `json:"questions"`
}

// APIUnit is one unit's response rate.
type APIUnit struct {
	OrgID    uint    `json:"org_id"`
	OrgPath  string  `json:"org_path"`
	Audience int64   `json:"audience"`
	Finished int64   `json:"finished"`
	Rate     float64 `json:"rate"`
	Status   string  `json:"status"`
	Received int64   `json:"received"`
	Read     int64   `json:"read"`
	ReadRate float64 `json:"read_rate"`
}

// APIQuestion is one question's results.
type APIQuestion struct {
	Seq      int         `json:"seq"`
	Answered int64       `json:"answered"`
	Options  []APIOption `json:"options,omitempty"`
	Mean     *float64    `json:"mean,omitempty"`
	Texts    []string    `json:"texts,omitempty"`
}

// APIOption is one option's count.
type APIOption struct {
	Value int    `json:"value"`
	Label string `json:"label"`
	N     int64  `json:"n"`
}

func (s *Service) apiSurvey(sv *models.Survey, now time.Time) APISurvey {
	x := Survey{Survey: *sv}
	roles := x.RoleList()
	if roles == nil {
		roles = []string{}
	}
	return APISurvey{ID: sv.ID, Title: sv.Title, Intro: sv.Intro, OrgID: sv.OrgID, OrgPath: sv.OrgPath, Roles: roles,
		Anonymous: sv.Anonymous, Status: x.StatusAt(now), Deadline: sv.Deadline.In(s.loc), RemindEvery: sv.RemindEvery,
		RemindMax: sv.RemindMax, Rounds: sv.Rounds, Responses: sv.Responses, CreatedBy: sv.CreatedBy, CreatedAt: sv.CreatedAt.In(s.loc)}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func apiResult(r *Results) *APIResult {
	out := &APIResult{OrgPath: r.Scope.Path, Audience: r.Audience, Finished: r.Finished, Rate: round1(r.Rate()), Status: r.Status(),
		Received: r.Received, Read: r.Read, ReadRate: round1(r.ReadRate()), Units: []APIUnit{}, Questions: []APIQuestion{}}
	if r.Scope.All {
		out.OrgPath = r.Survey.OrgPath
	}
	for _, u := range r.Units {
		out.Units = append(out.Units, APIUnit{OrgID: u.OrgID, OrgPath: u.Path, Audience: u.Audience, Finished: u.Finished,
			Rate: round1(u.Rate()), Status: u.Status(), Received: u.Received, Read: u.Read, ReadRate: round1(u.ReadRate())})
	}
	for _, q := range r.Questions {
		aq := APIQuestion{Seq: q.Seq, Answered: q.Answered, Mean: q.Mean}
		for _, o := range q.Options {
			aq.Options = append(aq.Options, APIOption{Value: o.Value, Label: o.Label, N: o.N})
		}
		for _, t := range q.Texts {
			aq.Texts = append(aq.Texts, t.Text)
		}
		out.Questions = append(out.Questions, aq)
	}
	return out
}

// APIList is GET /api/v1/surveys.
func (s *Service) APIList(c *gin.Context) {
	q := console.ParseList(c)
	rows, total, err := s.List(c.Request.Context(), console.ViewerOf(c).Scope, q.Offset(), q.PerPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := console.ListResponse[APISurvey]{Items: []APISurvey{}, Total: total, Page: q.Page, PerPage: q.PerPage}
	now := s.now()
	for i := range rows {
		out.Items = append(out.Items, s.apiSurvey(&rows[i], now))
	}
	c.JSON(http.StatusOK, out)
}

// APIInput is a new survey in the API: questions as objects (Question) or in the builder's text format.
type APIInput struct {
	Title         string     `json:"title"`
	Intro         string     `json:"intro"`
	OrgID         uint       `json:"org_id"`
	Roles         []string   `json:"roles"`
	Anonymous     bool       `json:"anonymous"`
	Deadline      time.Time  `json:"deadline"`
	RemindEvery   int        `json:"remind_every"`
	RemindMax     int        `json:"remind_max"`
	Questions     []Question `json:"questions"`
	QuestionsText string     `json:"questions_text"`
}

// APICreate is POST /api/v1/surveys.
func (s *Service) APICreate(c *gin.Context) {
	var in APIInput
	if err := console.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	qs := in.Questions
	if in.QuestionsText != "" {
		if len(qs) > 0 {
			s.fail(c, console.Invalid("questions", "questions 和 questions_text 只能给一个"))
			return
		}
		var err error
		if qs, err = ParseQuestions(in.QuestionsText); err != nil {
			s.fail(c, err)
			return
		}
	}
	sv, err := s.Create(c.Request.Context(), console.ViewerOf(c), Input{Title: in.Title, Intro: in.Intro, OrgID: in.OrgID, Roles: in.Roles,
		Anonymous: in.Anonymous, Deadline: in.Deadline, RemindEvery: in.RemindEvery, RemindMax: in.RemindMax, Questions: qs})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := s.apiSurvey(&sv.Survey, s.now())
	out.Questions = sv.Qs
	c.JSON(http.StatusCreated, out)
}

// APIGet is GET /api/v1/surveys/:id: the survey, its questions and its results in the caller's part
// (?org= narrows them to an org of it).
func (s *Service) APIGet(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	sv, sc, ok := s.surveyIn(c, v)
	if !ok {
		return
	}
	res, err := s.Results(ctx, sv, sc, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := s.apiSurvey(&sv.Survey, s.now())
	out.Questions = sv.Qs
	out.Results = apiResult(res)
	c.JSON(http.StatusOK, out)
}

// APISend is POST /api/v1/surveys/:id/send: open the survey and send it as a broadcast.
func (s *Service) APISend(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	bid, err := s.Send(c.Request.Context(), console.ViewerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"broadcast_id": bid})
}

// APIRemind is POST /api/v1/surveys/:id/remind: a reminder round now.
func (s *Service) APIRemind(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	round, n, err := s.RemindNow(c.Request.Context(), console.ViewerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"round": round, "members": n})
}

// The mini-program's member API.

type mpError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// mpFail answers the member's errors.
func (s *Service) mpFail(c *gin.Context, err error) {
	var ae *AnswerError
	var ie *IncompleteError
	var in *console.InputError
	switch {
	case errors.As(err, &ae):
		c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: "invalid", Message: fmt.Sprintf("第%d题：%s", ae.Seq, ae.Hint), Field: fmt.Sprintf("answers.%d", ae.Seq)})
	case errors.As(err, &ie):
		c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: "incomplete", Message: fmt.Sprintf("第%d题是必答题", ie.Seq), Field: fmt.Sprintf("answers.%d", ie.Seq)})
	case errors.As(err, &in):
		c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: "invalid", Message: in.Message, Field: in.Field})
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotInvited):
		c.AbortWithStatusJSON(http.StatusNotFound, mpError{Error: "not_found", Message: "没有这份问卷。"})
	case errors.Is(err, ErrDone):
		c.AbortWithStatusJSON(http.StatusConflict, mpError{Error: "done", Message: "你已经提交过这份问卷了。"})
	case errors.Is(err, ErrClosed):
		c.AbortWithStatusJSON(http.StatusGone, mpError{Error: "closed", Message: "这份问卷已经截止了。"})
	default:
		s.log.ErrorContext(c.Request.Context(), "survey: mini-program request failed", "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, mpError{Error: "internal", Message: "出错了，请稍后再试。"})
	}
}

// mpSurvey is a survey in the member's list.
type mpSurvey struct {
	ID        uint      `json:"id"`
	Title     string    `json:"title"`
	Deadline  time.Time `json:"deadline"`
	Anonymous bool      `json:"anonymous"`
	Questions int       `json:"questions,omitempty"`
	Done      bool      `json:"done"`
	Answered  int       `json:"answered"`
}

// MPList is GET /api/v1/mp/surveys: the member's open surveys, deadline first.
func (s *Service) MPList(c *gin.Context) {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpFail(c, errors.New("survey: mini-program route without mp.Service.Auth"))
		return
	}
	open, err := s.OpenFor(c.Request.Context(), m)
	if err != nil {
		s.mpFail(c, err)
		return
	}
	out := struct {
		Items []mpSurvey `json:"items"`
	}{Items: []mpSurvey{}}
	for _, o := range open {
		out.Items = append(out.Items, mpSurvey{ID: o.ID, Title: o.Title, Deadline: o.Deadline.In(s.loc), Anonymous: o.Anonymous, Done: o.Done, Answered: o.Answered})
	}
	c.JSON(http.StatusOK, out)
}

// mpAnswer is one answer in the mini-program's API, by question position.
type mpAnswer struct {
	Question int `json:"question"`
	Answer
}

// mpDetail is a survey with the member's answers.
type mpDetail struct {
	mpSurvey
	Intro     string     `json:"intro"`
	Items     []Question `json:"items"`
	Answers   []mpAnswer `json:"answers"`
	Next      int        `json:"next"` // the first asked question without an answer (0: none)
	Submitted bool       `json:"submitted"`
}

func (s *Service) mpDetail(p *Progress) mpDetail {
	sv := p.Survey
	d := mpDetail{mpSurvey: mpSurvey{ID: sv.ID, Title: sv.Title, Deadline: sv.Deadline.In(s.loc), Anonymous: sv.Anonymous, Questions: len(sv.Qs),
		Done: p.Done, Answered: len(p.Answers)}, Intro: sv.Intro, Items: sv.Qs, Answers: []mpAnswer{}, Submitted: p.Done}
	vis := visible(sv.Qs, p.Answers)
	for _, q := range sv.Qs {
		if a, ok := p.Answers[q.Seq]; ok && !a.Empty() {
			d.Answers = append(d.Answers, mpAnswer{Question: q.Seq, Answer: a})
		} else if d.Next == 0 && vis[q.Seq] && !p.Done {
			d.Next = q.Seq
		}
	}
	return d
}

// MPGet is GET /api/v1/mp/surveys/:id: the questions (with their skip conditions) and his answers.
func (s *Service) MPGet(c *gin.Context) {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpFail(c, errors.New("survey: mini-program route without mp.Service.Auth"))
		return
	}
	id, err := idParam(c, "id")
	if err != nil {
		s.mpFail(c, ErrNotFound)
		return
	}
	p, err := s.Progress(c.Request.Context(), id, m)
	if err != nil {
		s.mpFail(c, err)
		return
	}
	if !p.Done {
		s.seen(c.Request.Context(), id, m.ID, false) // opened in the mini-program: read
	}
	c.JSON(http.StatusOK, s.mpDetail(p))
}

// mpAnswersInput is the body of POST /api/v1/mp/surveys/:id/answers.
type mpAnswersInput struct {
	Answers []mpAnswer `json:"answers"`
	Submit  bool       `json:"submit"`
}

// MPAnswer is POST /api/v1/mp/surveys/:id/answers: save answers (an empty one clears it) and, with
// submit, hand the response in.
func (s *Service) MPAnswer(c *gin.Context) {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpFail(c, errors.New("survey: mini-program route without mp.Service.Auth"))
		return
	}
	id, err := idParam(c, "id")
	if err != nil {
		s.mpFail(c, ErrNotFound)
		return
	}
	var in mpAnswersInput
	if err := console.DecodeJSON(c, &in); err != nil {
		s.mpFail(c, err)
		return
	}
	ctx := c.Request.Context()
	answers := make(map[int]Answer, len(in.Answers))
	for _, a := range in.Answers {
		answers[a.Question] = a.Answer
	}
	if len(answers) > 0 || !in.Submit {
		if _, err := s.Save(ctx, id, m, answers, 0, ViaMP); err != nil {
			s.mpFail(c, err)
			return
		}
	}
	if in.Submit {
		if err := s.Finish(ctx, id, m); err != nil {
			s.mpFail(c, err)
			return
		}
	}
	p, err := s.Progress(ctx, id, m)
	if err != nil {
		s.mpFail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.mpDetail(p))
}
