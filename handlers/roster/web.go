package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/qrsvg"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// QRCreator makes WeChat QR codes (bot/wechat/wxapi.Client); expire 0 makes a permanent one.
type QRCreator interface {
	CreateQRScene(ctx context.Context, scene string, expire time.Duration) (ticket, url string, err error)
}

// WebOptions are what the roster's console pages and API calls need.
type WebOptions struct {
	Roster     *Service
	Console    *console.Service
	QR         QRCreator             // nil: bind sheets without QR codes
	Redis      redis.UniversalClient // caches the bind QR codes' urls; nil: no cache
	Identities IdentityCache         // the bot's identity cache (bot.Store); nil: changes reach the bot within kv.IdentityTTL
	Log        *slog.Logger
}

// Web is the roster part of the web console and the JSON API: orgs, members, import, export and bind
// sheets, each request seeing the roster through the View of its viewer's scope.
type Web struct {
	roster *Service
	con    *console.Service
	qr     QRCreator
	rdb    redis.UniversalClient
	ids    IdentityCache
	log    *slog.Logger
}

// NewWeb makes the roster's console pages and API calls.
func NewWeb(o WebOptions) *Web {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Web{roster: o.Roster, con: o.Console, qr: o.QR, rdb: o.Redis, ids: o.Identities, log: o.Log}
}

// view is the roster as the request's viewer sees it, auditing his changes.
func (h *Web) view(c *gin.Context) *View {
	v := console.ViewerOf(c)
	return h.roster.In(v.Scope).With(Hooks{
		Record: func(ctx context.Context, tx *gorm.DB, ch console.Change) error {
			return h.con.Record(ctx, tx, v, ch)
		},
		Identities: h.ids,
		MemberDeactivated: func(ctx context.Context, tx *gorm.DB, memberID uint) error {
			return h.con.DeactivateMemberAccounts(ctx, tx, v, memberID)
		},
	})
}

// idParam is the :id of the path; a malformed one is not found.
func idParam(c *gin.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// filterForm is the member list's filters as the user typed them (for the form and the export).
type filterForm struct {
	Q, Org, Role, Bound, Active string
}

// parseFilter reads the member list's filters: q, org (an org id: its subtree), role, bound and
// active (yes or no).
func parseFilter(q console.ListQuery) (MemberFilter, filterForm, error) {
	form := filterForm{Q: q.Q, Org: q.Get("org"), Role: q.Get("role"), Bound: q.Get("bound"), Active: q.Get("active")}
	f := MemberFilter{Q: form.Q, Role: form.Role}
	if form.Org != "" {
		id, err := strconv.ParseUint(form.Org, 10, 32)
		if err != nil {
			return f, form, console.Invalid("org", "组织编号「%s」不对", truncateRunes(form.Org, 20))
		}
		f.OrgID = uint(id)
	}
	var err error
	if f.Bound, err = yesNo("bound", form.Bound); err != nil {
		return f, form, err
	}
	if f.Active, err = yesNo("active", form.Active); err != nil {
		return f, form, err
	}
	return f, form, nil
}

// yesNo reads a yes/no filter ("" = either).
func yesNo(field, s string) (*bool, error) {
	var b bool
	switch strings.ToLower(s) {
	case "":
		return nil, nil
	case "yes", "true", "1":
		b = true
	case "no", "false", "0":
		b = false
	default:
		return nil, console.Invalid(field, "%s 应为 yes 或 no", field)
	}
	return &b, nil
}

// membersPage is GET /console/members.
type membersPage struct {
	Q        console.ListQuery
	F        filterForm
	Rows     []MemberRow
	Pager    console.Pager
	Orgs     []*OrgNode
	Roles    []string
	Scope    scope.Scope
	SheetOrg uint // the org whose bind sheet 打印绑定码 prints (0: choose one on the org tree)
}

// Rel is an org path as the viewer reads it: below his own org ("郭沟村" for a town's administrator).
func (p membersPage) Rel(path string) string { return relPath(p.Scope, path) }

func relPath(sc scope.Scope, path string) string {
	if sc.All || sc.Path == "" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, sc.Path+"/"); ok {
		return rest
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

// MembersPage is GET /console/members: the roster, searched, filtered, sorted and paginated in SQL.
func (h *Web) MembersPage(c *gin.Context) {
	q := console.ParseList(c, MemberSorts...)
	f, form, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	view := h.view(c)
	rows, total, err := view.Members(c.Request.Context(), MemberQuery{MemberFilter: f, Sort: q.Sort, Desc: q.Desc, Offset: q.Offset(), Limit: q.PerPage})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := membersPage{Q: q, F: form, Rows: rows, Pager: q.Pager(total), Roles: models.Roles, Scope: view.Scope(),
		SheetOrg: f.OrgID}
	if p.SheetOrg == 0 && !p.Scope.All {
		p.SheetOrg = p.Scope.OrgID
	}
	if c.GetHeader("HX-Target") != "table" { // the filters form needs the orgs; the table fragment does not
		if p.Orgs, err = view.Orgs(c.Request.Context()); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	h.con.Page(c, http.StatusOK, "members", "members", "花名册", p)
}

// exportColumns are the columns of the roster export.
var exportColumns = []string{"姓名", "手机号", "角色", "组织", "微信绑定", "绑定时间", "绑定码", "状态", "录入时间"}

// MembersExport is GET /console/members/export.xlsx: the filtered list, every page, with phone
// numbers whole for county and town administrators and masked for everybody else
// (console.Viewer.ExportPhone); audited.
func (h *Web) MembersExport(c *gin.Context) {
	q := console.ParseList(c, MemberSorts...)
	f, form, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	view := h.view(c)
	rows, _, err := view.Members(c.Request.Context(), MemberQuery{MemberFilter: f, Sort: q.Sort, Desc: q.Desc})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	sc := view.Scope()
	var filters []xlsxout.Filter
	where := sc.Path
	if !sc.All {
		filters = append(filters, xlsxout.Filter{Name: "范围", Value: sc.Path})
	}
	if f.OrgID != 0 {
		org, err := view.Org(c.Request.Context(), f.OrgID)
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		where = org.Path
		filters = append(filters, xlsxout.Filter{Name: "组织", Value: org.Path})
	}
	if form.Q != "" {
		filters = append(filters, xlsxout.Filter{Name: "搜索", Value: form.Q})
	}
	if form.Role != "" {
		filters = append(filters, xlsxout.Filter{Name: "角色", Value: form.Role})
	}
	if f.Bound != nil {
		filters = append(filters, xlsxout.Filter{Name: "微信绑定", Value: pick(*f.Bound, "已绑定", "未绑定")})
	}
	if f.Active != nil {
		filters = append(filters, xlsxout.Filter{Name: "状态", Value: pick(*f.Active, "在册", "已停用")})
	}
	table := xlsxout.Table{Title: "花名册", Filters: filters, Columns: exportColumns, Rows: make([][]any, len(rows))}
	viewer := console.ViewerOf(c)
	for i := range rows {
		m := &rows[i]
		code := ""
		if m.Active && !m.Bound() {
			code = m.Code()
		}
		table.Rows[i] = []any{m.Name, viewer.ExportPhone(m.Phone), m.Role, m.OrgPath, pick(m.Bound(), "已绑定", "未绑定"), m.BoundAt,
			code, pick(m.Active, "在册", "已停用"), m.CreatedAt}
	}
	now := h.con.Now().In(h.con.Location())
	var buf bytes.Buffer
	if err := xlsxout.Write(&buf, table, now); err != nil {
		h.con.Fail(c, err)
		return
	}
	desc := make([]string, len(filters))
	byName := make(map[string]string, len(filters))
	for i, fl := range filters {
		desc[i] = fl.Name + "=" + fl.Value
		byName[fl.Name] = fl.Value
	}
	summary := fmt.Sprintf("导出花名册 %d 人", len(rows))
	if len(desc) > 0 {
		summary += "（" + strings.Join(desc, "；") + "）"
	}
	// No file leaves without its audit entry.
	err = h.con.Record(c.Request.Context(), nil, viewer, console.Change{
		Action: console.ActionExport, Object: ObjectMember, OrgPath: where, Summary: summary,
		After: map[string]any{"filters": byName, "rows": len(rows)},
	})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", xlsxout.ContentDisposition(xlsxout.FileName("花名册", now)))
	c.Data(http.StatusOK, xlsxout.ContentType, buf.Bytes())
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// memberPage is GET /console/members/:id.
type memberPage struct {
	M     *MemberRow
	Scope scope.Scope
}

// MemberPage is GET /console/members/:id: the member with his full phone number (audited as a look at
// personal data).
func (h *Web) MemberPage(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	view := h.view(c)
	m, err := view.Member(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if err := h.recordView(c, m, "查看人员详情"); err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "member", "members", m.Name, memberPage{M: m, Scope: view.Scope()})
}

// recordView writes that the viewer looked at a member's personal data.
func (h *Web) recordView(c *gin.Context, m *MemberRow, what string) error {
	return h.con.Record(c.Request.Context(), nil, console.ViewerOf(c), console.Change{
		Action: console.ActionView, Object: ObjectMember, ObjectID: m.ID, OrgPath: m.OrgPath,
		Summary: fmt.Sprintf("%s：%s（%s）", what, m.Name, m.OrgPath),
	})
}

// memberFormPage is the form that adds or edits a member.
type memberFormPage struct {
	ID                uint // 0: a new member
	Name, Phone, Role string
	OrgID             uint
	Orgs              []*OrgNode
	Roles             []string
	console.FormErr
}

// Action is where the form posts.
func (p memberFormPage) Action() string {
	if p.ID == 0 {
		return "/console/members"
	}
	return "/console/members/" + strconv.FormatUint(uint64(p.ID), 10)
}

// formPage renders the member form; with err (an InputError) as a 400 that keeps the input.
func (h *Web) formPage(c *gin.Context, view *View, p memberFormPage, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	orgs, oerr := view.Orgs(c.Request.Context())
	if oerr != nil {
		h.con.Fail(c, oerr)
		return
	}
	p.Orgs, p.Roles = orgs, models.Roles
	if p.OrgID == 0 && len(orgs) == 1 {
		p.OrgID = orgs[0].ID
	}
	title := "新增人员"
	if p.ID != 0 {
		title = "修改人员信息"
	}
	h.con.Page(c, status, "member_form", "members", title, p)
}

// NewMemberPage is GET /console/members/new (?org=ID chooses the org).
func (h *Web) NewMemberPage(c *gin.Context) {
	p := memberFormPage{Role: models.RoleMember}
	if id, err := strconv.ParseUint(c.Query("org"), 10, 32); err == nil {
		p.OrgID = uint(id)
	}
	h.formPage(c, h.view(c), p, nil)
}

// memberForm reads the member form.
func memberForm(c *gin.Context) memberFormPage {
	p := memberFormPage{Name: c.PostForm("name"), Phone: c.PostForm("phone"), Role: c.PostForm("role")}
	if id, err := strconv.ParseUint(c.PostForm("org_id"), 10, 32); err == nil {
		p.OrgID = uint(id)
	}
	return p
}

// CreateMemberSubmit is POST /console/members.
func (h *Web) CreateMemberSubmit(c *gin.Context) {
	view := h.view(c)
	p := memberForm(c)
	m, err := view.CreateMember(c.Request.Context(), MemberInput{Name: p.Name, Phone: p.Phone, Role: p.Role, OrgID: p.OrgID})
	if err != nil {
		h.formPage(c, view, p, err)
		return
	}
	h.con.Redirect(c, memberLink(m.ID), fmt.Sprintf("已新增 %s，绑定码 %s", m.Name, m.Code()))
}

func memberLink(id uint) string { return "/console/members/" + strconv.FormatUint(uint64(id), 10) }

// EditMemberPage is GET /console/members/:id/edit (shows the full phone number: audited).
func (h *Web) EditMemberPage(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	view := h.view(c)
	m, err := view.Member(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if err := h.recordView(c, m, "修改人员时查看"); err != nil {
		h.con.Fail(c, err)
		return
	}
	h.formPage(c, view, memberFormPage{ID: m.ID, Name: m.Name, Phone: m.Phone, Role: m.Role, OrgID: m.OrgID}, nil)
}

// UpdateMemberSubmit is POST /console/members/:id: name, phone, role and org (a new org moves him).
func (h *Web) UpdateMemberSubmit(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	view := h.view(c)
	p := memberForm(c)
	p.ID = id
	ch := MemberChange{Name: &p.Name, Phone: &p.Phone, Role: &p.Role}
	if p.OrgID != 0 {
		ch.OrgID = &p.OrgID
	}
	m, actions, err := view.UpdateMember(c.Request.Context(), id, ch)
	if err != nil {
		h.formPage(c, view, p, err)
		return
	}
	flash := "没有改动"
	if len(actions) > 0 {
		flash = "已保存 " + m.Name + " 的信息"
	}
	for _, a := range actions {
		if a == console.ActionMove {
			flash = fmt.Sprintf("已保存，%s 已调到 %s", m.Name, relPath(view.Scope(), m.OrgPath))
		}
	}
	h.con.Redirect(c, memberLink(m.ID), flash)
}

// DeactivateMember is POST /console/members/:id/deactivate.
func (h *Web) DeactivateMember(c *gin.Context) { h.setActive(c, false) }

// ActivateMember is POST /console/members/:id/activate.
func (h *Web) ActivateMember(c *gin.Context) { h.setActive(c, true) }

func (h *Web) setActive(c *gin.Context, active bool) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	m, err := h.view(c).SetActive(c.Request.Context(), id, active)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	flash := "已停用 " + m.Name + "，他将不能再使用公众号的功能"
	if active {
		flash = "已启用 " + m.Name
	}
	h.con.Redirect(c, memberLink(m.ID), flash)
}

// NewBindCodeSubmit is POST /console/members/:id/bindcode.
func (h *Web) NewBindCodeSubmit(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	m, err := h.view(c).NewBindCode(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, memberLink(m.ID), fmt.Sprintf("已为 %s 生成新的绑定码 %s，旧的绑定码作废", m.Name, m.Code()))
}

// orgsPage is GET /console/orgs.
type orgsPage struct {
	Roots    []*OrgNode
	All      []*OrgNode
	Admin    bool
	ParentID uint
	Name     string
	console.FormErr
	Scope scope.Scope
}

// OrgsPage is GET /console/orgs: the org tree of the viewer's scope with member counts.
func (h *Web) OrgsPage(c *gin.Context) {
	p := orgsPage{}
	if id, err := strconv.ParseUint(c.Query("parent"), 10, 32); err == nil {
		p.ParentID = uint(id)
	}
	h.orgsPage(c, p, nil)
}

func (h *Web) orgsPage(c *gin.Context, p orgsPage, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	view := h.view(c)
	all, roots, err := view.OrgTree(c.Request.Context())
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p.All, p.Roots, p.Admin, p.Scope = all, roots, console.ViewerOf(c).IsAdmin(), view.Scope()
	if p.ParentID == 0 && len(roots) > 0 {
		p.ParentID = roots[0].ID
	}
	h.con.Page(c, status, "orgs", "orgs", "组织", p)
}

// CreateOrgSubmit is POST /console/orgs (administrators): a child org under an org of the scope.
func (h *Web) CreateOrgSubmit(c *gin.Context) {
	p := orgsPage{Name: c.PostForm("name")}
	if id, err := strconv.ParseUint(c.PostForm("parent_id"), 10, 32); err == nil {
		p.ParentID = uint(id)
	}
	org, err := h.view(c).CreateOrg(c.Request.Context(), p.ParentID, p.Name)
	if err != nil {
		h.orgsPage(c, p, err)
		return
	}
	h.con.Redirect(c, "/console/orgs", "已新增组织 "+org.Path)
}

// importPage is GET and POST /console/import.
type importPage struct {
	File    string
	Result  *ImportResult
	Err     string
	Example string // an org path to show in the instructions
	Scope   scope.Scope
}

func (p importPage) PageError() string { return p.Err }

// example is an org path for the instructions and the template file: the viewer's own org, made a
// village path when it is higher.
func example(sc scope.Scope) string {
	switch strings.Count(sc.Path, "/") {
	case 0:
		if sc.Path == "" {
			return "洪雅县/花溪镇/郭沟村"
		}
		return sc.Path + "/某某镇/某某村"
	case 1:
		return sc.Path + "/某某村"
	}
	return sc.Path
}

// ImportPage is GET /console/import.
func (h *Web) ImportPage(c *gin.Context) {
	sc := console.ViewerOf(c).Scope
	h.con.Page(c, http.StatusOK, "import", "import", "导入花名册", importPage{Example: example(sc), Scope: sc})
}

// ImportSubmit is POST /console/import: imports the file (field "file") into the viewer's scope and
// shows what happened, row errors by line; the good rows are imported.
func (h *Web) ImportSubmit(c *gin.Context) {
	view := h.view(c)
	p := importPage{Example: example(view.Scope()), Scope: view.Scope()}
	res, file, err := h.importFile(c, view)
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err = ie.Message
		h.con.Page(c, http.StatusBadRequest, "import", "import", "导入花名册", p)
		return
	}
	p.File, p.Result = file, res
	h.con.Page(c, http.StatusOK, "import", "import", "导入花名册", p)
}

// importFile imports the uploaded file; a missing or unreadable file is an InputError.
func (h *Web) importFile(c *gin.Context, view *View) (*ImportResult, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", console.Invalid("file", "请选择要导入的文件（CSV 或 Excel .xlsx）")
	}
	if fh.Size > maxFileSize {
		return nil, fh.Filename, console.Invalid("file", "文件太大（超过 %d MB）", maxFileSize>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fh.Filename, fmt.Errorf("roster: open upload: %w", err)
	}
	defer f.Close()
	res, err := view.Import(c.Request.Context(), f, fh.Filename)
	if errors.Is(err, ErrBadFile) {
		return nil, fh.Filename, console.Invalid("file", "%s", strings.TrimPrefix(err.Error(), ErrBadFile.Error()+": "))
	}
	return res, fh.Filename, err
}

// ImportTemplate is GET /console/import/template.csv: the header row and one example row, UTF-8 with
// a BOM so that Excel opens it right.
func (h *Web) ImportTemplate(c *gin.Context) {
	body := "\ufeff" + strings.Join(Header, ",") + "\r\n" +
		"张三,13800138000," + models.RoleMember + "," + example(console.ViewerOf(c).Scope) + "\r\n"
	c.Header("Content-Disposition", xlsxout.ContentDisposition("花名册导入模板.csv"))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(body))
}

// bindSheetPage is GET /console/orgs/:id/bindsheet.
type bindSheetPage struct {
	Org      *OrgNode
	Slips    []bindSlip
	QRFailed bool // some slips have no QR code
}

type bindSlip struct {
	Name, Village, Code string
	QR                  template.HTML // "" when it could not be made
}

// bindQRSize is the printed QR code's size in CSS pixels (about 3.5 cm).
const bindQRSize = 132

// BindSheet is GET /console/orgs/:id/bindsheet: a printable sheet of the org subtree's unbound active
// members, each with his bind code and a QR code to scan (a permanent WeChat QR scene bind:CODE).
func (h *Web) BindSheet(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	org, ms, err := h.view(c).Unbound(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	codes := make([]string, len(ms))
	for i, m := range ms {
		codes[i] = m.BindCode
	}
	urls := h.bindQRs(c.Request.Context(), codes)
	p := bindSheetPage{Org: org, Slips: make([]bindSlip, len(ms))}
	for i, m := range ms {
		s := bindSlip{Name: m.Name, Village: m.OrgPath[strings.LastIndexByte(m.OrgPath, '/')+1:], Code: m.BindCode}
		if u := urls[m.BindCode]; u != "" {
			if s.QR, err = qrsvg.SVG(u, bindQRSize); err != nil {
				h.log.WarnContext(c.Request.Context(), "roster: bind sheet QR", "err", err)
			}
		}
		if s.QR == "" {
			p.QRFailed = true
		}
		p.Slips[i] = s
	}
	err = h.con.Record(c.Request.Context(), nil, console.ViewerOf(c), console.Change{
		Action: console.ActionExport, Object: ObjectRoster, ObjectID: org.ID, OrgPath: org.Path,
		Summary: fmt.Sprintf("打印绑定码：%s 未绑定 %d 人", org.Path, len(ms)),
	})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "bindsheet", "orgs", "绑定码 · "+org.Name, p)
}

// bindQRs returns the url (QR content) of the permanent WeChat QR code of each code (scene bind:CODE):
// from the cache (kv.BindQRKey), else made now and cached. Codes WeChat could not make one for are
// missing; after the first failure no more are asked for (WeChat is likely down or refusing).
func (h *Web) bindQRs(ctx context.Context, codes []string) map[string]string {
	urls := make(map[string]string, len(codes))
	if h.rdb != nil {
		for start := 0; start < len(codes); start += 500 {
			chunk := codes[start:min(start+500, len(codes))]
			keys := make([]string, len(chunk))
			for i, code := range chunk {
				keys[i] = kv.BindQRKey(code)
			}
			vals, err := h.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				h.log.WarnContext(ctx, "roster: read cached bind QR codes", "err", err)
				break
			}
			for i, v := range vals {
				if s, ok := v.(string); ok && s != "" {
					urls[chunk[i]] = s
				}
			}
		}
	}
	var missing []string
	for _, code := range codes {
		if urls[code] == "" {
			missing = append(missing, code)
		}
	}
	if len(missing) == 0 || h.qr == nil {
		return urls
	}

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		made   = map[string]string{}
		failed atomic.Bool
		wg     sync.WaitGroup
		slots  = make(chan struct{}, 4) // WeChat calls at a time
	)
	for _, code := range missing {
		if failed.Load() {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if failed.Load() {
				return
			}
			_, u, err := h.qr.CreateQRScene(ctx, "bind:"+code, 0)
			if err != nil || u == "" {
				if !failed.Swap(true) {
					h.log.WarnContext(ctx, "roster: WeChat did not make a bind QR code; the sheet shows codes only", "err", err)
				}
				return
			}
			mu.Lock()
			made[code] = u
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(made) == 0 {
		return urls
	}
	var pipe redis.Pipeliner
	if h.rdb != nil {
		pipe = h.rdb.Pipeline()
	}
	for code, u := range made {
		urls[code] = u
		if pipe != nil {
			pipe.Set(ctx, kv.BindQRKey(code), u, kv.BindQRTTL)
		}
	}
	if pipe != nil {
		if _, err := pipe.Exec(ctx); err != nil {
			h.log.WarnContext(ctx, "roster: cache bind QR codes", "err", err)
		}
	}
	return urls
}
