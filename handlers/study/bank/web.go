package bank

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
)

// Web is the question bank's part of the web console and the JSON API. Every logged-in viewer may
// browse the bank; editing, retiring and importing are for administrators, and audited under the
// administrator's own part of the org tree (so that he finds his changes in his audit log).
type Web struct {
	bank *Service
	con  *console.Service
}

// NewWeb makes the bank's console pages and API calls, and puts 题库 in the console's menu.
func NewWeb(bank *Service, con *console.Service) *Web {
	con.AddNav(console.NavItem{Key: "questions", Label: "题库", Href: "/console/questions", Order: 40})
	return &Web{bank: bank, con: con}
}

// editor is the bank as the request's viewer changes it: administrators only (console.ErrNotAllowed,
// answered 403, for the others), every change audited.
func (h *Web) editor(c *gin.Context) (*Service, error) {
	v := console.ViewerOf(c)
	if !v.IsAdmin() {
		return nil, console.ErrNotAllowed
	}
	return h.bank.Audited(func(ctx context.Context, tx *gorm.DB, ch console.Change) error {
		ch.OrgPath = v.Scope.Path
		return h.con.Record(ctx, tx, v, ch)
	}), nil
}

// idParam is the :id of the path; a malformed one is not found.
func idParam(c *gin.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, ErrNotFound
	}
	return uint(id), nil
}

// Row is a question as the console shows it.
type Row struct{ models.Question }

// Short is the stem cut to one line of the list.
func (r Row) Short() string { return clip(strings.Join(strings.Fields(r.Stem), " "), 40) }

// Accuracy is Correct/Attempts as a percentage, "—" before the first answer.
func (r Row) Accuracy() string {
	if r.Attempts == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", float64(r.Correct)*100/float64(r.Attempts))
}

// TagList is the question's tags.
func (r Row) TagList() []string { return Tags(&r.Question) }

// Choice is an option as the question page shows it.
type Choice struct {
	Letter, Text string
	Right        bool
}

// Choices are the options with their letters, the right ones marked.
func (r Row) Choices() []Choice {
	opts := Options(&r.Question)
	out := make([]Choice, len(opts))
	for i, o := range opts {
		l := Letter(i)
		out[i] = Choice{Letter: l, Text: o, Right: strings.Contains(r.Answer, l)}
	}
	return out
}

// AnswerText is the answer as people read it: the letters, 对 or 错, or the accepted texts.
func (r Row) AnswerText() string {
	if r.Type == models.QuestionBlank {
		return strings.Join(Alternatives(&r.Question), " / ")
	}
	return r.Answer
}

func rows(qs []models.Question) []Row {
	out := make([]Row, len(qs))
	for i := range qs {
		out[i] = Row{qs[i]}
	}
	return out
}

// filterForm is the list's filters as the user typed them (for the form and the export).
type filterForm struct {
	Q, Type, Tag, Active string
}

func (f filterForm) Any() bool { return f.Q != "" || f.Type != "" || f.Tag != "" || f.Active != "" }

// parseFilter reads the list's filters: q, type, tag and active (yes or no).
func parseFilter(q console.ListQuery) (Filter, filterForm, error) {
	form := filterForm{Q: q.Q, Type: q.Get("type"), Tag: q.Get("tag"), Active: q.Get("active")}
	f := Filter{Q: form.Q, Type: form.Type, Tag: form.Tag}
	switch strings.ToLower(form.Active) {
	case "":
	case "yes", "true", "1":
		t := true
		f.Active = &t
	case "no", "false", "0":
		n := false
		f.Active = &n
	default:
		return f, form, console.Invalid("active", "active 应为 yes 或 no")
	}
	return f, form, nil
}

// questionsPage is GET /console/questions.
type questionsPage struct {
	Q     console.ListQuery
	F     filterForm
	Rows  []Row
	Pager console.Pager
	Types []string
	Tags  []TagCount
	Admin bool
}

// QuestionsPage is GET /console/questions: the bank, searched, filtered, sorted and paginated in SQL.
func (h *Web) QuestionsPage(c *gin.Context) {
	q := console.ParseList(c, Sorts...)
	f, form, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	qs, total, err := h.bank.List(ctx, Query{Filter: f, Sort: q.Sort, Desc: q.Desc, Offset: q.Offset(), Limit: q.PerPage})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := questionsPage{Q: q, F: form, Rows: rows(qs), Pager: q.Pager(total), Types: models.QuestionTypes,
		Admin: console.ViewerOf(c).IsAdmin()}
	if c.GetHeader("HX-Target") != "table" { // the filters form needs the tags; the table fragment does not
		if p.Tags, err = h.bank.TagCounts(ctx); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	h.con.Page(c, http.StatusOK, "questions", "questions", "题库", p)
}

// QuestionsExport is GET /console/questions/export.xlsx: the filtered list, every page, with the
// filters in the sheet's header; audited (console.SendXLSX).
func (h *Web) QuestionsExport(c *gin.Context) {
	q := console.ParseList(c, Sorts...)
	f, form, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	qs, _, err := h.bank.List(c.Request.Context(), Query{Filter: f, Sort: q.Sort, Desc: q.Desc})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var filters []xlsxout.Filter
	if form.Q != "" {
		filters = append(filters, xlsxout.Filter{Name: "搜索", Value: form.Q})
	}
	if f.Type != "" {
		filters = append(filters, xlsxout.Filter{Name: "题型", Value: NormalizeType(f.Type)})
	}
	if f.Tag != "" {
		filters = append(filters, xlsxout.Filter{Name: "标签", Value: f.Tag})
	}
	if f.Active != nil {
		filters = append(filters, xlsxout.Filter{Name: "状态", Value: pick(*f.Active, "在用", "已停用")})
	}
	nopts := 4
	for i := range qs {
		nopts = max(nopts, len(Options(&qs[i])))
	}
	cols := []string{"编号", "题型", "题干"}
	for i := range nopts {
		cols = append(cols, "选项"+Letter(i))
	}
	cols = append(cols, "答案", "解析", "标签", "作答次数", "答对次数", "正确率", "状态")
	t := xlsxout.Table{Title: "题库", Filters: filters, Columns: cols, Rows: make([][]any, len(qs))}
	for i := range qs {
		r := Row{qs[i]}
		cells := []any{r.ID, r.Type, r.Stem}
		opts := Options(&r.Question)
		for j := range nopts {
			if j < len(opts) {
				cells = append(cells, opts[j])
			} else {
				cells = append(cells, "")
			}
		}
		acc := ""
		if r.Attempts > 0 {
			acc = r.Accuracy()
		}
		t.Rows[i] = append(cells, r.Answer, r.Explanation, strings.Join(r.TagList(), "，"), r.Attempts, r.Correct, acc,
			pick(r.Active, "在用", "已停用"))
	}
	h.con.SendXLSX(c, "题库", t)
}

// questionPage is GET /console/questions/:id.
type questionPage struct {
	Q     Row
	Admin bool
}

// QuestionPage is GET /console/questions/:id: the whole question, its answer, explanation and accuracy.
func (h *Web) QuestionPage(c *gin.Context) {
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
	h.con.Page(c, http.StatusOK, "question", "questions", fmt.Sprintf("第 %d 题", q.ID),
		questionPage{Q: Row{*q}, Admin: console.ViewerOf(c).IsAdmin()})
}

func questionLink(id uint) string { return "/console/questions/" + strconv.FormatUint(uint64(id), 10) }

// formOption is an option field of the form.
type formOption struct{ Letter, Text string }

// questionForm is the form that edits a question.
type questionForm struct {
	ID                              uint
	Type, Stem, Answer, Explanation string
	Tags                            string
	Options                         []formOption
	Types                           []string
	console.FormErr
}

// Action is where the form posts.
func (p questionForm) Action() string { return questionLink(p.ID) + "/edit" }

// withOptions fills the option fields: the given ones and at least one empty more (at least A–D).
func (p questionForm) withOptions(opts []string) questionForm {
	n := min(max(4, len(opts)+1), 26)
	p.Options = make([]formOption, n)
	for i := range n {
		p.Options[i].Letter = Letter(i)
		if i < len(opts) {
			p.Options[i].Text = opts[i]
		}
	}
	return p
}

// formPage renders the form; with err (an InputError) as a 400 that keeps the input.
func (h *Web) formPage(c *gin.Context, p questionForm, opts []string, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	p = p.withOptions(opts)
	p.Types = models.QuestionTypes
	h.con.Page(c, status, "question_form", "questions", fmt.Sprintf("修改第 %d 题", p.ID), p)
}

// EditQuestionPage is GET /console/questions/:id/edit (administrators).
func (h *Web) EditQuestionPage(c *gin.Context) {
	id, err := idParam(c)
	if err == nil {
		_, err = h.editor(c)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	q, err := h.bank.Get(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.formPage(c, questionForm{ID: q.ID, Type: q.Type, Stem: q.Stem, Answer: q.Answer,
		Explanation: q.Explanation, Tags: strings.Join(Tags(q), "，")}, Options(q), nil)
}

// UpdateQuestionSubmit is POST /console/questions/:id/edit (administrators).
func (h *Web) UpdateQuestionSubmit(c *gin.Context) {
	id, err := idParam(c)
	var ed *Service
	if err == nil {
		ed, err = h.editor(c)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := questionForm{ID: id, Type: c.PostForm("type"), Stem: c.PostForm("stem"), Answer: c.PostForm("answer"),
		Explanation: c.PostForm("explanation"), Tags: c.PostForm("tags")}
	opts := c.PostFormArray("option")
	q, changed, err := ed.Update(c.Request.Context(), id, Input{Type: p.Type, Stem: p.Stem, Options: opts,
		Answer: p.Answer, Explanation: p.Explanation, Tags: []string{p.Tags}})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			h.con.Fail(c, err)
			return
		}
		for len(opts) > 0 && strings.TrimSpace(opts[len(opts)-1]) == "" {
			opts = opts[:len(opts)-1]
		}
		h.formPage(c, p, opts, err)
		return
	}
	h.con.Redirect(c, questionLink(q.ID), pick(changed, "已保存修改", "没有改动"))
}

// RetireQuestion is POST /console/questions/:id/retire (administrators).
func (h *Web) RetireQuestion(c *gin.Context) { h.setActive(c, false) }

// RestoreQuestion is POST /console/questions/:id/restore (administrators).
func (h *Web) RestoreQuestion(c *gin.Context) { h.setActive(c, true) }

func (h *Web) setActive(c *gin.Context, active bool) {
	id, err := idParam(c)
	var ed *Service
	if err == nil {
		ed, err = h.editor(c)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	q, _, err := ed.SetActive(c.Request.Context(), id, active)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, questionLink(q.ID), pick(active, "已恢复这道题，学习时又会抽到它", "已停用这道题，学习时不会再抽到它，答题记录保留"))
}

// importPage is GET and POST /console/questions/import.
type importPage struct {
	File   string
	Result *ImportResult
	Err    string
	Header string
}

func (p importPage) PageError() string { return p.Err }

// ImportPage is GET /console/questions/import (administrators).
func (h *Web) ImportPage(c *gin.Context) {
	if _, err := h.editor(c); err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "questions_import", "questions", "导入题库", importPage{Header: strings.Join(Header, ",")})
}

// ImportSubmit is POST /console/questions/import (administrators): imports the file (field "file") and
// shows what happened, row errors by line; the good rows are imported.
func (h *Web) ImportSubmit(c *gin.Context) {
	ed, err := h.editor(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := importPage{Header: strings.Join(Header, ",")}
	res, file, err := importFile(c, ed)
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.File, p.Err = file, ie.Message
		h.con.Page(c, http.StatusBadRequest, "questions_import", "questions", "导入题库", p)
		return
	}
	p.File, p.Result = file, res
	h.con.Page(c, http.StatusOK, "questions_import", "questions", "导入题库", p)
}

// importFile imports the uploaded file (multipart field "file"); a missing or unreadable file is an
// InputError.
func importFile(c *gin.Context, ed *Service) (*ImportResult, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", console.Invalid("file", "请选择要导入的文件（CSV 或 Excel .xlsx）")
	}
	if fh.Size > table.MaxSize {
		return nil, fh.Filename, console.Invalid("file", "文件太大（超过 %d MB）", table.MaxSize>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fh.Filename, fmt.Errorf("bank: open upload: %w", err)
	}
	defer f.Close()
	res, err := ed.Import(c.Request.Context(), f, fh.Filename)
	if errors.Is(err, table.ErrBadFile) {
		return nil, fh.Filename, console.Invalid("file", "%s", table.Reason(err))
	}
	return res, fh.Filename, err
}

// templateRows are the example rows of the template file, one per type.
var templateRows = []string{
	"单选,中国共产党成立于哪一年？,1919年,1921年,1927年,1949年,B,1921年7月，中共一大召开。,党史",
	"多选,“三会一课”中的“三会”是指哪些？,支部党员大会,支部委员会,党小组会,党课,ABC,,组织生活",
	"判断,党员可以不参加党的组织生活。,,,,,错,每个党员都必须参加党的组织生活。,党章",
	"填空,中国共产党的最高理想和最终目标是实现____。,,,,,共产主义,,党章",
}

// ImportTemplate is GET /console/questions/import/template.csv: the header and one example row of each
// type, UTF-8 with a BOM so that Excel opens it right.
func (h *Web) ImportTemplate(c *gin.Context) {
	body := "\ufeff" + strings.Join(Header, ",") + "\r\n" + strings.Join(templateRows, "\r\n") + "\r\n"
	c.Header("Content-Disposition", xlsxout.ContentDisposition("题库导入模板.csv"))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(body))
}
