package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// The JSON API's shapes (server/openapi/policy_console.json documents them).

type apiQuestion struct {
	ID         uint       `json:"id"`
	MemberID   uint       `json:"member_id"`
	MemberName string     `json:"member_name"`
	OrgID      uint       `json:"org_id"`
	OrgPath    string     `json:"org_path"`
	Channel    string     `json:"channel"`
	Text       string     `json:"text"`
	State      string     `json:"state"`
	Overdue    bool       `json:"overdue"`
	AskedAt    time.Time  `json:"asked_at"`
	Reply      string     `json:"reply"`
	RepliedBy  string     `json:"replied_by"`
	RepliedAt  *time.Time `json:"replied_at"`
	Delivery   string     `json:"delivery"`
}

func toAPIQuestion(q *QuestionRow) apiQuestion {
	return apiQuestion{ID: q.ID, MemberID: q.MemberID, MemberName: q.MemberName, OrgID: q.OrgID, OrgPath: q.OrgPath,
		Channel: q.Channel, Text: q.Text, State: q.State, Overdue: q.Overdue, AskedAt: q.AskedAt, Reply: q.Reply,
		RepliedBy: q.RepliedBy, RepliedAt: q.RepliedAt, Delivery: q.Delivery}
}

type apiQuestionList struct {
	Items   []apiQuestion `json:"items"`
	Total   int64         `json:"total"`
	Overdue int64         `json:"overdue"`
	Page    int           `json:"page"`
	PerPage int           `json:"per_page"`
}

type apiReplyInput struct {
	Answer  string `json:"answer"`
	Replace bool   `json:"replace"` // answer a question already answered again (a correction or a retry)
}

type apiReplyResult struct {
	Question  apiQuestion `json:"question"`
	Delivered bool        `json:"delivered"`
	Via       string      `json:"via"`
}

type apiFAQ struct {
	ID           uint      `json:"id"`
	Question     string    `json:"question"`
	Alternatives []string  `json:"alternatives"`
	Answer       string    `json:"answer"`
	Source       string    `json:"source"`
	Active       bool      `json:"active"`
	UpdatedBy    string    `json:"updated_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toAPIFAQ(f *models.PolicyFAQ) apiFAQ {
	alts := AlternativeList(f)
	if alts == nil {
		alts = []string{}
	}
	return apiFAQ{ID: f.ID, Question: f.Question, Alternatives: alts, Answer: f.Answer, Source: f.Source,
		Active: f.Active, UpdatedBy: f.UpdatedBy, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

type apiFAQList struct {
	Items   []apiFAQ `json:"items"`
	Total   int64    `json:"total"`
	Page    int      `json:"page"`
	PerPage int      `json:"per_page"`
}

type apiFAQInput struct {
	Question     string   `json:"question"`
	Alternatives []string `json:"alternatives"`
	Answer       string   `json:"answer"`
	Source       string   `json:"source"`
}

type apiFAQPatch struct {
	Question     *string   `json:"question"`
	Alternatives *[]string `json:"alternatives"`
	Answer       *string   `json:"answer"`
	Source       *string   `json:"source"`
	Active       *bool     `json:"active"`
}

func joinLines(ls []string) string { return strings.Join(ls, "\n") }

// APIQuestions is GET /api/v1/policy/questions: the inbox with the console's filters (state, org, q)
// and order (overdue first), paginated.
func (h *Web) APIQuestions(c *gin.Context) {
	q := console.ParseList(c)
	f, _, err := h.parseInbox(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	ctx, sc := c.Request.Context(), console.ViewerOf(c).Scope
	rows, total, overdue, err := h.listQuestions(ctx, sc, f, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiQuestionList{Items: make([]apiQuestion, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = toAPIQuestion(&rows[i])
	}
	if out.Overdue, err = h.waiting(ctx, sc, f, overdue); err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// APIReply is POST /api/v1/policy/questions/:id/reply (administrators): {"answer": "…"}. The answer is
// recorded and sent to the asker; delivered and via say whether it reached him (200 either way: the
// answer is saved, question.delivery says why it did not arrive). A question answered already is
// answered again only with "replace": true.
func (h *Web) APIReply(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiReplyInput
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	var expect *string
	if !in.Replace {
		none := ""
		expect = &none
	}
	r, err := h.Reply(c.Request.Context(), console.ViewerOf(c), id, in.Answer, expect)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiReplyResult{Question: toAPIQuestion(r.Question), Delivered: r.Via != "", Via: r.Via})
}

// APIFAQs is GET /api/v1/policy/faqs: the FAQs, searched (q) and filtered (active), paginated.
func (h *Web) APIFAQs(c *gin.Context) {
	q := console.ParseList(c)
	active, err := parseActive(q.Get("active"))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	rows, total, err := h.listFAQs(c.Request.Context(), FAQFilter{Q: q.Q, Active: active}, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiFAQList{Items: make([]apiFAQ, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = toAPIFAQ(&rows[i])
	}
	c.JSON(http.StatusOK, out)
}

// APICreateFAQ is POST /api/v1/policy/faqs (administrators): 201 with the FAQ.
func (h *Web) APICreateFAQ(c *gin.Context) {
	var in apiFAQInput
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	f, _, err := h.CreateFAQ(c.Request.Context(), console.ViewerOf(c), FAQInput{Question: in.Question,
		Alternatives: joinLines(in.Alternatives), Answer: in.Answer, Source: in.Source})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toAPIFAQ(f))
}

// APIUpdateFAQ is PATCH /api/v1/policy/faqs/:id (administrators): any of question, alternatives,
// answer, source and active (retire or restore).
func (h *Web) APIUpdateFAQ(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiFAQPatch
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	ch := FAQChange{Question: in.Question, Answer: in.Answer, Source: in.Source, Active: in.Active}
	if in.Alternatives != nil {
		alts := joinLines(*in.Alternatives)
		ch.Alternatives = &alts
	}
	f, _, _, err := h.UpdateFAQ(c.Request.Context(), console.ViewerOf(c), id, ch)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIFAQ(f))
}
