package bank

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// The JSON API's shapes (server/openapi/questions.json documents them): options and tags as arrays,
// the accuracy computed.

type apiQuestion struct {
	ID          uint      `json:"id"`
	Type        string    `json:"type"`
	Stem        string    `json:"stem"`
	Options     []string  `json:"options"`
	Answer      string    `json:"answer"`
	Explanation string    `json:"explanation"`
	Tags        []string  `json:"tags"`
	Active      bool      `json:"active"`
	Attempts    int64     `json:"attempts"`
	Correct     int64     `json:"correct"`
	Accuracy    *float64  `json:"accuracy"` // correct / attempts, null before the first answer
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toAPIQuestion(q *models.Question) apiQuestion {
	out := apiQuestion{ID: q.ID, Type: q.Type, Stem: q.Stem, Options: nonNil(Options(q)), Answer: q.Answer,
		Explanation: q.Explanation, Tags: nonNil(Tags(q)), Active: q.Active, Attempts: q.Attempts, Correct: q.Correct,
		CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
	if q.Attempts > 0 {
		a := float64(q.Correct) / float64(q.Attempts)
		out.Accuracy = &a
	}
	return out
}

type apiQuestionList struct {
	Items   []apiQuestion `json:"items"`
	Total   int64         `json:"total"`
	Page    int           `json:"page"`
	PerPage int           `json:"per_page"`
}

type apiQuestionPatch struct {
	Type        *string   `json:"type"`
	Stem        *string   `json:"stem"`
	Options     *[]string `json:"options"`
	Answer      *string   `json:"answer"`
	Explanation *string   `json:"explanation"`
	Tags        *[]string `json:"tags"`
	Active      *bool     `json:"active"`
}

type apiRowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type apiImportResult struct {
	Created   int           `json:"created"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Errors    []apiRowError `json:"errors"`
}

// APIQuestions is GET /api/v1/questions: the same filters, sorts and pages as the console's list.
func (h *Web) APIQuestions(c *gin.Context) {
	q := console.ParseList(c, Sorts...)
	f, _, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	qs, total, err := h.bank.List(c.Request.Context(), Query{Filter: f, Sort: q.Sort, Desc: q.Desc, Offset: q.Offset(), Limit: q.PerPage})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiQuestionList{Items: make([]apiQuestion, len(qs)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range qs {
		out.Items[i] = toAPIQuestion(&qs[i])
	}
	c.JSON(http.StatusOK, out)
}

// APIQuestion is GET /api/v1/questions/:id.
func (h *Web) APIQuestion(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	q, err := h.bank.Get(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIQuestion(q))
}

// APIUpdateQuestion is PATCH /api/v1/questions/:id (administrators): any of type, stem, options,
// answer, explanation, tags (checked together, as the console's form is) and active (retire or
// restore).
func (h *Web) APIUpdateQuestion(c *gin.Context) {
	id, err := idParam(c)
	var ed *Service
	if err == nil {
		ed, err = h.editor(c)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiQuestionPatch
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	q, err := h.bank.Get(ctx, id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if in.Type != nil || in.Stem != nil || in.Options != nil || in.Answer != nil || in.Explanation != nil || in.Tags != nil {
		ch := Input{Type: q.Type, Stem: q.Stem, Options: Options(q), Answer: q.Answer, Explanation: q.Explanation, Tags: Tags(q)}
		if in.Type != nil {
			ch.Type = *in.Type
		}
		if in.Stem != nil {
			ch.Stem = *in.Stem
		}
		if in.Options != nil {
			ch.Options = *in.Options
		}
		if in.Answer != nil {
			ch.Answer = *in.Answer
		}
		if in.Explanation != nil {
			ch.Explanation = *in.Explanation
		}
		if in.Tags != nil {
			ch.Tags = *in.Tags
		}
		if q, _, err = ed.Update(ctx, id, ch); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	if in.Active != nil {
		if q, _, err = ed.SetActive(ctx, id, *in.Active); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, toAPIQuestion(q))
}

// APIImport is POST /api/v1/questions/import (administrators): a question bank file (multipart field
// "file"). Row errors still answer 200 (the good rows are imported); a bad file is a 400.
func (h *Web) APIImport(c *gin.Context) {
	ed, err := h.editor(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	res, _, err := importFile(c, ed)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiImportResult{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged,
		Errors: make([]apiRowError, len(res.Errors))}
	for i, e := range res.Errors {
		out.Errors[i] = apiRowError{Line: e.Line, Reason: e.Reason}
	}
	c.JSON(http.StatusOK, out)
}
