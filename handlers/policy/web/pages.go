package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// tabs are the policy pages' own menu, under 政策问答.
type tab struct {
	Key, Label, Href string
}

var tabs = []tab{
	{"inbox", "党员提问", "/console/policy"},
	{"faqs", "常见问题", "/console/policy/faqs"},
	{"docs", "政策文件", "/console/policy/docs"},
}

// frame is what every policy page has: the tab bar and whether the viewer may change things.
type frame struct {
	Tab   string
	Tabs  []tab
	Admin bool
}

func frameOf(c *gin.Context, key string) frame {
	return frame{Tab: key, Tabs: tabs, Admin: console.ViewerOf(c).IsAdmin()}
}

func questionLink(id uint) string {
	return "/console/policy/questions/" + strconv.FormatUint(uint64(id), 10)
}
func faqLink(id uint) string { return "/console/policy/faqs/" + strconv.FormatUint(uint64(id), 10) }
func docLink(id uint) string { return "/console/policy/docs/" + strconv.FormatUint(uint64(id), 10) }

// parseInbox reads the inbox's filters: state (open, replied or all; default open), org (an org of
// the viewer's scope) and q.
func (h *Web) parseInbox(c *gin.Context, q console.ListQuery) (Inbox, string, error) {
	f := Inbox{State: q.Get("state"), Q: q.Q}
	switch f.State {
	case "":
		f.State = ShowOpen
	case ShowOpen, ShowReplied, ShowAll:
	default:
		return f, "", console.Invalid("state", "状态应为 open（待答复）、replied（已答复）或 all（全部）")
	}
	org := q.Get("org")
	if org != "" {
		id, err := strconv.ParseUint(org, 10, 32)
		if err != nil || id == 0 {
			return f, org, console.Invalid("org", "组织编号「%s」不对", clip(org, 20))
		}
		if f.Org, err = h.orgRef(c.Request.Context(), console.ViewerOf(c).Scope, uint(id)); err != nil {
			return f, org, err
		}
	}
	return f, org, nil
}

// inboxPage is GET /console/policy.
type inboxPage struct {
	frame
	Q       console.ListQuery
	F       Inbox
	OrgID   string
	Rows    []QuestionRow
	Pager   console.Pager
	Orgs    []OrgRef
	Overdue int64
	Now     time.Time
	Scope   scope.Scope
}

// Rel is an org path below the viewer's own org.
func (p inboxPage) Rel(path string) string { return relPath(p.Scope, path) }

// Link is a question's page.
func (inboxPage) Link(id uint) string { return questionLink(id) }

// StateLink is the list with another state filter.
func (p inboxPage) StateLink(state string) string { return p.Q.With("state", state, "page", "") }

func relPath(sc scope.Scope, path string) string {
	if sc.All || sc.Path == "" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, sc.Path+"/"); ok {
		return rest
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

// InboxPage is GET /console/policy: the questions the bot could not answer, asked in the viewer's
// part of the org tree; open ones waiting more than a day are flagged and come first.
func (h *Web) InboxPage(c *gin.Context) {
	q := console.ParseList(c)
	f, org, err := h.parseInbox(c, q)
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
	p := inboxPage{frame: frameOf(c, "inbox"), Q: q, F: f, OrgID: org, Rows: rows, Pager: q.Pager(total), Now: h.now(), Scope: sc}
	if p.Overdue, err = h.waiting(ctx, sc, f, overdue); err != nil {
		h.con.Fail(c, err)
		return
	}
	if c.GetHeader("HX-Target") != "table" {
		if p.Orgs, err = h.orgChoices(ctx, sc); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	h.con.Page(c, http.StatusOK, "policy_inbox", "policy", "政策问答", p)
}

// questionPage is GET /console/policy/questions/:id.
type questionPage struct {
	frame
	Q         *QuestionRow
	Answer    string // the answer form's text (kept after an error)
	MaxAnswer int
	Now       time.Time
	Scope     scope.Scope
	FAQ       *models.PolicyFAQ // an active FAQ with this question, if any
	Signature string
	console.FormErr
}

// Rel is an org path below the viewer's own org.
func (p questionPage) Rel(path string) string { return relPath(p.Scope, path) }

// renderQuestion shows a question; err (an InputError of the answer form) makes it a 400 that keeps
// the answer.
func (h *Web) renderQuestion(c *gin.Context, id uint, answer string, err error) {
	status := http.StatusOK
	p := questionPage{frame: frameOf(c, "inbox"), Answer: answer, MaxAnswer: MaxAnswer, Now: h.now(), Scope: console.ViewerOf(c).Scope,
		Signature: h.o.Signature}
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	ctx := c.Request.Context()
	q, qerr := h.question(ctx, p.Scope, id)
	if qerr != nil {
		h.con.Fail(c, qerr)
		return
	}
	p.Q = q
	if q.State == models.AskReplied {
		if fid, ferr := sameQuestion(h.db.WithContext(ctx), clip(oneLine(q.Text), MaxFAQQuestion), 0); ferr != nil {
			h.con.Fail(c, ferr)
			return
		} else if fid != 0 {
			if p.FAQ, ferr = h.faq(ctx, nil, fid); ferr != nil {
				h.con.Fail(c, ferr)
				return
			}
		}
	}
	h.con.Page(c, status, "policy_question", "policy", fmt.Sprintf("第 %d 号提问", q.ID), p)
}

// QuestionPage is GET /console/policy/questions/:id: the question, who asked it and where, the
// answer form (administrators) and, once answered, how the answer went and 转为常见问题.
func (h *Web) QuestionPage(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderQuestion(c, id, "", nil)
}

// ReplySubmit is POST /console/policy/questions/:id/reply (administrators): records the answer (field
// answer) and sends it to the asker.
func (h *Web) ReplySubmit(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	answer, seen := c.PostForm("answer"), cleanText(c.PostForm("seen")) // the answer the page showed, as stored
	r, err := h.Reply(c.Request.Context(), console.ViewerOf(c), id, answer, &seen)
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			h.renderQuestion(c, id, answer, err)
			return
		}
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, questionLink(id), "已保存答复。"+r.Question.Delivery)
}

// QuestionFAQSubmit is POST /console/policy/questions/:id/faq (administrators): 转为常见问题, the
// question and its answer become an FAQ in one click; the FAQ's page opens to add other phrasings.
func (h *Web) QuestionFAQSubmit(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	f, made, refreshErr, err := h.FAQFromQuestion(c.Request.Context(), console.ViewerOf(c), id)
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			h.renderQuestion(c, id, "", err)
			return
		}
		h.con.Fail(c, err)
		return
	}
	msg := "已经有这条常见问题，没有重复添加。"
	if made {
		msg = "已转为常见问题，机器人以后会直接回答。可以在下面补充其他问法。" + refreshNote(refreshErr)
	}
	h.con.Redirect(c, faqLink(f.ID), msg)
}

// refreshNote is what the editor is told when the index did not take his change yet.
func refreshNote(err error) string {
	if err == nil {
		return ""
	}
	return "（问答索引暂时没有更新，机器人可能要稍后才用上这次修改。）"
}

// faqsPage is GET /console/policy/faqs.
type faqsPage struct {
	frame
	Q      console.ListQuery
	Active string
	Rows   []models.PolicyFAQ
	Pager  console.Pager
}

// Any reports whether the list is filtered.
func (p faqsPage) Any() bool { return p.Q.Q != "" || p.Active != "" }

// Short cuts a text to one line of the list.
func (faqsPage) Short(s string, n int) string { return clip(oneLine(s), n) }

// Alternatives is how many other phrasings an FAQ has.
func (faqsPage) Alternatives(f models.PolicyFAQ) int { return len(AlternativeList(&f)) }

// Link is an FAQ's page.
func (faqsPage) Link(id uint) string { return faqLink(id) }

// parseActive reads an active=yes|no filter.
func parseActive(s string) (*bool, error) {
	switch strings.ToLower(s) {
	case "":
		return nil, nil
	case "yes", "true", "1":
		t := true
		return &t, nil
	case "no", "false", "0":
		f := false
		return &f, nil
	}
	return nil, console.Invalid("active", "active 应为 yes 或 no")
}

// FAQsPage is GET /console/policy/faqs: the FAQs, searched and filtered.
func (h *Web) FAQsPage(c *gin.Context) {
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
	h.con.Page(c, http.StatusOK, "policy_faqs", "policy", "常见问题",
		faqsPage{frame: frameOf(c, "faqs"), Q: q, Active: q.Get("active"), Rows: rows, Pager: q.Pager(total)})
}

// faqPage is the page of one FAQ, and its form (new or edit).
type faqPage struct {
	frame
	ID        uint // 0: a new FAQ
	FAQ       *models.PolicyFAQ
	In        FAQInput
	FromID    uint // the question it is made from (a new FAQ)
	MaxAnswer int
	console.FormErr
}

// Action is where the form posts.
func (p faqPage) Action() string {
	if p.ID == 0 {
		return "/console/policy/faqs"
	}
	return faqLink(p.ID)
}

// AlternativeList are the FAQ's other phrasings.
func (p faqPage) AlternativeList() []string { return AlternativeList(p.FAQ) }

func (h *Web) renderFAQ(c *gin.Context, p faqPage, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	p.frame, p.MaxAnswer = frameOf(c, "faqs"), MaxFAQAnswer
	title := "新建常见问题"
	if p.ID != 0 {
		title = fmt.Sprintf("常见问题第 %d 条", p.ID)
	}
	h.con.Page(c, status, "policy_faq", "policy", title, p)
}

// NewFAQPage is GET /console/policy/faqs/new (administrators); ?from=ID fills it with a question of
// the inbox and its answer.
func (h *Web) NewFAQPage(c *gin.Context) {
	v, err := admin(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := faqPage{}
	if from := c.Query("from"); from != "" {
		id, perr := strconv.ParseUint(from, 10, 32)
		if perr != nil || id == 0 {
			h.con.Fail(c, ErrNotFound)
			return
		}
		q, err := h.question(c.Request.Context(), v.Scope, uint(id))
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		p.FromID, p.In = q.ID, FAQInput{Question: clip(oneLine(q.Text), MaxFAQQuestion), Answer: q.Reply, Source: h.o.Signature + "答复"}
	}
	h.renderFAQ(c, p, nil)
}

func faqForm(c *gin.Context) FAQInput {
	return FAQInput{Question: c.PostForm("question"), Alternatives: c.PostForm("alternatives"),
		Answer: c.PostForm("answer"), Source: c.PostForm("source")}
}

// CreateFAQSubmit is POST /console/policy/faqs (administrators).
func (h *Web) CreateFAQSubmit(c *gin.Context) {
	in := faqForm(c)
	f, refreshErr, err := h.CreateFAQ(c.Request.Context(), console.ViewerOf(c), in)
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			from, _ := strconv.ParseUint(c.PostForm("from"), 10, 32)
			h.renderFAQ(c, faqPage{In: in, FromID: uint(from)}, err)
			return
		}
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, faqLink(f.ID), "已添加常见问题，机器人以后会直接回答。"+refreshNote(refreshErr))
}

// FAQPage is GET /console/policy/faqs/:id: the FAQ; administrators edit it here.
func (h *Web) FAQPage(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	f, err := h.faq(c.Request.Context(), nil, id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderFAQ(c, faqPage{ID: f.ID, FAQ: f, In: FAQInput{Question: f.Question, Alternatives: f.Alternatives,
		Answer: f.Answer, Source: f.Source}}, nil)
}

// UpdateFAQSubmit is POST /console/policy/faqs/:id (administrators).
func (h *Web) UpdateFAQSubmit(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	in := faqForm(c)
	_, changed, refreshErr, err := h.UpdateFAQ(c.Request.Context(), console.ViewerOf(c), id,
		FAQChange{Question: &in.Question, Alternatives: &in.Alternatives, Answer: &in.Answer, Source: &in.Source})
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			f, ferr := h.faq(c.Request.Context(), nil, id)
			if ferr != nil {
				h.con.Fail(c, ferr)
				return
			}
			h.renderFAQ(c, faqPage{ID: id, FAQ: f, In: in}, err)
			return
		}
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, faqLink(id), pick(changed, "已保存修改。"+refreshNote(refreshErr), "没有改动。"))
}

// RetireFAQ is POST /console/policy/faqs/:id/retire (administrators): the bot no longer answers with it.
func (h *Web) RetireFAQ(c *gin.Context) { h.setFAQActive(c, false) }

// RestoreFAQ is POST /console/policy/faqs/:id/restore (administrators).
func (h *Web) RestoreFAQ(c *gin.Context) { h.setFAQActive(c, true) }

func (h *Web) setFAQActive(c *gin.Context, active bool) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	_, _, refreshErr, err := h.UpdateFAQ(c.Request.Context(), console.ViewerOf(c), id, FAQChange{Active: &active})
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			h.con.Redirect(c, faqLink(id), ie.Message)
			return
		}
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, faqLink(id), pick(active, "已恢复，机器人又会用这条回答。", "已停用，机器人不再用这条回答。")+refreshNote(refreshErr))
}

// docsPage is GET /console/policy/docs (and the upload's answer).
type docsPage struct {
	frame
	Q       console.ListQuery
	Rows    []models.PolicyDoc
	Pager   console.Pager
	Enabled bool   // the knowledge base takes uploads
	File    string // the file just uploaded, when it failed
	console.FormErr
}

// Link is a document's page.
func (docsPage) Link(id uint) string { return docLink(id) }

func (h *Web) renderDocs(c *gin.Context, file string, err error) {
	status := http.StatusOK
	p := docsPage{frame: frameOf(c, "docs"), Enabled: h.o.Import != nil, File: file}
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	p.Q = console.ParseList(c)
	rows, total, lerr := h.listDocs(c.Request.Context(), p.Q.Offset(), p.Q.PerPage)
	if lerr != nil {
		h.con.Fail(c, lerr)
		return
	}
	p.Rows, p.Pager = rows, p.Q.Pager(total)
	h.con.Page(c, status, "policy_docs", "policy", "政策文件", p)
}

// DocsPage is GET /console/policy/docs: the knowledge base's documents and, for administrators, the
// upload form.
func (h *Web) DocsPage(c *gin.Context) { h.renderDocs(c, "", nil) }

// UploadDocSubmit is POST /console/policy/docs (administrators): imports a .txt or .md file (field
// file); the same file name again replaces that document.
func (h *Web) UploadDocSubmit(c *gin.Context) {
	v := console.ViewerOf(c)
	if !v.IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		h.renderDocs(c, "", console.Invalid("file", "请选择要上传的文件（.txt 或 .md）"))
		return
	}
	res, err := h.ImportDoc(c.Request.Context(), v, fh)
	switch {
	case errors.Is(err, ErrNotEnabled):
		h.renderDocs(c, fh.Filename, console.Invalid("file", "政策文件导入未启用：知识库还没有接入，请联系系统管理员"))
		return
	case err != nil:
		h.renderDocs(c, fh.Filename, err)
		return
	}
	msg := fmt.Sprintf("已导入《%s》，共 %d 段，机器人现在就能引用。", res.Title, res.Passages)
	if !res.Changed {
		msg = fmt.Sprintf("《%s》之前导入过，内容没有变化。", res.Title)
	}
	h.con.Redirect(c, docLink(res.DocID), msg)
}

// docPage is GET /console/policy/docs/:id.
type docPage struct {
	frame
	Doc      *models.PolicyDoc
	Q        console.ListQuery
	Passages []models.PolicyPassage
	Pager    console.Pager
}

// DocPage is GET /console/policy/docs/:id: the document and its passages, in order.
func (h *Web) DocPage(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	d, err := h.doc(ctx, id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	q := console.ParseList(c)
	ps, total, err := h.passages(ctx, d.ID, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "policy_doc", "policy", d.Title,
		docPage{frame: frameOf(c, "docs"), Doc: d, Q: q, Passages: ps, Pager: q.Pager(total)})
}
