package requests

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

// Web is the requests' console pages (请假审批: the list, a request with its approve / reject forms,
// the county's quota) and JSON API. Every request sees only its viewer's part of the org tree.
type Web struct {
	s   *Service
	con *console.Service
}

// NewWeb makes the pages and puts 请假审批 in the console's menu.
func NewWeb(s *Service, con *console.Service) *Web {
	con.AddNav(console.NavItem{Key: "requests", Label: "请假审批", Href: "/console/requests", Order: 48})
	return &Web{s: s, con: con}
}

// States and kinds as the filters offer them.
var (
	stateChoices = []string{models.RequestPending, models.RequestApproved, models.RequestRejected, models.RequestCanceled}
	kindChoices  = []string{models.RequestLeave, models.RequestMakeup, models.RequestOffsite}
)

// filterForm is the list's filters as typed.
type filterForm struct {
	State, Kind, Org, Month string
}

// orgChoice is an org of the filter.
type orgChoice struct {
	ID   uint
	Path string
}

// filterOf reads and checks the filters.
func (h *Web) filterOf(c *gin.Context, q console.ListQuery) (filterForm, Filter, error) {
	ff := filterForm{State: q.Get("state"), Kind: q.Get("kind"), Org: q.Get("org"), Month: q.Get("month")}
	f := Filter{State: ff.State, Kind: ff.Kind, Month: ff.Month}
	if f.State != "" && !contains(stateChoices, f.State) {
		return ff, f, console.Invalid("state", "状态应为 pending、approved、rejected 或 canceled")
	}
	if f.Kind != "" && !contains(kindChoices, f.Kind) {
		return ff, f, console.Invalid("kind", "类型应为 leave、makeup 或 offsite")
	}
	if f.Month != "" {
		if _, err := time.Parse("2006-01", f.Month); err != nil {
			return ff, f, console.Invalid("month", "月份应为 2026-11 这样的格式")
		}
	}
	if ff.Org != "" {
		id, err := strconv.ParseUint(ff.Org, 10, 32)
		if err != nil || id == 0 {
			return ff, f, scope.ErrNotFound
		}
		var o models.Org
		err = h.s.db.WithContext(c.Request.Context()).Model(&models.Org{}).Scopes(console.ViewerOf(c).Scope.Orgs).
			Where("id = ?", id).Take(&o).Error
		if err != nil {
			return ff, f, scope.ErrNotFound
		}
		f.Org = o.Path
	}
	return ff, f, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// listPage is GET /console/requests.
type listPage struct {
	Rows    []Row
	Pager   console.Pager
	Q       console.ListQuery
	F       filterForm
	Orgs    []orgChoice
	States  []string
	Kinds   []string
	Pending int64
	Loc     *time.Location
	console.FormErr
}

// StateName, KindName and What are for the template.
func (listPage) StateName(s string) string { return StateName(s) }
func (listPage) KindName(s string) string  { return KindName(s) }
func (p listPage) What(r Row) string       { return r.What(p.Loc) }

// Rel is an org path below the viewer's own (the county part is the same on every line).
func (listPage) Rel(path string) string {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// ListPage is GET /console/requests: the requests of the viewer's part of the tree, pending first,
// filtered by state, kind, org and month.
func (h *Web) ListPage(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	q := console.ParseList(c)
	p := listPage{Q: q, States: stateChoices, Kinds: kindChoices, Loc: h.s.loc}
	ff, f, err := h.filterOf(c, q)
	p.F = ff
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	} else {
		var total int64
		if p.Rows, total, err = h.s.List(ctx, v.Scope, f, q.Offset(), q.PerPage); err != nil {
			h.con.Fail(c, err)
			return
		}
		p.Pager = q.Pager(total)
	}
	if err := h.s.db.WithContext(ctx).Model(&models.AttendRequest{}).Joins("JOIN orgs ON orgs.id = attend_requests.org_id").
		Scopes(v.Scope.ByPath("orgs.path")).Where("attend_requests.state = ?", models.RequestPending).Count(&p.Pending).Error; err != nil {
		h.con.Fail(c, fmt.Errorf("requests: count pending: %w", err))
		return
	}
	if err := h.s.db.WithContext(ctx).Model(&models.Org{}).Scopes(v.Scope.Orgs).Select("id, path").Order("path").
		Find(&p.Orgs).Error; err != nil {
		h.con.Fail(c, fmt.Errorf("requests: orgs: %w", err))
		return
	}
	h.con.Page(c, status, "requests_list", "requests", "请假审批", p)
}

// showPage is GET /console/requests/:id.
type showPage struct {
	R     *Row
	Use   *LeaveUse
	Loc   *time.Location
	CanDo bool // pending, and not the viewer's own
	console.FormErr
}

func (showPage) StateName(s string) string { return StateName(s) }
func (showPage) KindName(s string) string  { return KindName(s) }
func (showPage) CheckKindName(s string) string {
	return CheckKindName(s)
}
func (p showPage) What() string { return p.R.What(p.Loc) }

func requestID(c *gin.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// RequestPage is GET /console/requests/:id: one request, the member's leave this year, and (while
// pending) the approve and reject forms.
func (h *Web) RequestPage(c *gin.Context) {
	h.renderRequest(c, nil)
}

func (h *Web) renderRequest(c *gin.Context, ferr *console.InputError) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	id, err := requestID(c)
	var r *Row
	if err == nil {
		r, err = h.s.Get(ctx, v.Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	p := showPage{R: r, Loc: h.s.loc, CanDo: r.State == models.RequestPending && (v.MemberID == nil || *v.MemberID != r.MemberID)}
	if r.Kind == models.RequestLeave {
		use, err := h.s.LeaveUseOf(ctx, r.MemberID, r.OrgPath, parseDay(r.From).Year())
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		p.Use = &use
	}
	status := http.StatusOK
	if ferr != nil {
		p.Err, status = ferr, http.StatusBadRequest
	}
	h.con.Page(c, status, "requests_show", "requests", KindName(r.Kind)+"申请", p)
}

// decider is the console viewer as a decider.
func decider(v *console.Viewer) Decider {
	d := Decider{Viewer: v, By: v.Username}
	if v.MemberID != nil {
		d.Self = *v.MemberID
	}
	return d
}

// ApproveSubmit is POST /console/requests/:id/approve (note optional).
func (h *Web) ApproveSubmit(c *gin.Context) { h.decideSubmit(c, true) }

// RejectSubmit is POST /console/requests/:id/reject (note optional).
func (h *Web) RejectSubmit(c *gin.Context) { h.decideSubmit(c, false) }

func (h *Web) decideSubmit(c *gin.Context, approve bool) {
	v := console.ViewerOf(c)
	id, err := requestID(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out, err := h.s.Decide(c.Request.Context(), v.Scope, id, approve, c.PostForm("note"), decider(v))
	var de *DecidedError
	switch {
	case errors.As(err, &de):
		h.con.Redirect(c, "/console/requests/"+c.Param("id"), "这条申请已经处理过了（"+StateName(de.Req.State)+"），没有改动。")
		return
	case err != nil:
		if msg, ok := refusalText(err); ok {
			h.renderRequest(c, &console.InputError{Field: "note", Message: msg})
			return
		}
		h.con.Fail(c, err)
		return
	}
	msg := "已批准"
	if !approve {
		msg = "已驳回"
	}
	msg += "：" + out.Req.MemberName + " " + KindName(out.Req.Kind) + " " + out.Req.What(h.s.loc)
	if out.Told {
		msg += "，已通知本人。"
	} else {
		msg += "。本人没有收到通知（未绑定微信或不在可通知范围内）。"
	}
	h.con.Redirect(c, "/console/requests?state=pending", msg)
}

// quotaPage is GET /console/requests/quota.
type quotaPage struct {
	Quota    *Quota
	Counties []orgChoice
	CanEdit  bool
	Form     struct{ LeaveDays, MakeupPerMonth string }
	console.FormErr
}

// quotaCounty is the county the quota page is about: ?org= (or the form's org_id) among the
// viewer's counties, else the county of the viewer's own org.
func (h *Web) quotaCounty(c *gin.Context, idText string) (*Quota, []orgChoice, error) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	var counties []orgChoice
	if v.Scope.All {
		if err := h.s.db.WithContext(ctx).Model(&models.Org{}).Where("parent_id IS NULL").Select("id, path").Order("path").
			Find(&counties).Error; err != nil {
			return nil, nil, fmt.Errorf("requests: counties: %w", err)
		}
	} else {
		var o models.Org
		if err := h.s.db.WithContext(ctx).Where("path = ?", rootOf(v.Scope.Path)).Take(&o).Error; err != nil {
			return nil, nil, fmt.Errorf("requests: county of %s: %w", v.Scope.Path, err)
		}
		counties = []orgChoice{{ID: o.ID, Path: o.Path}}
	}
	if len(counties) == 0 {
		return nil, nil, scope.ErrNotFound
	}
	pick := counties[0]
	if idText != "" {
		id, err := strconv.ParseUint(idText, 10, 32)
		found := false
		for _, cc := range counties {
			if err == nil && uint64(cc.ID) == id {
				pick, found = cc, true
			}
		}
		if !found {
			return nil, nil, scope.ErrNotFound
		}
	}
	q, err := h.s.QuotaOf(ctx, pick.Path)
	return q, counties, err
}

func (h *Web) renderQuota(c *gin.Context, q *Quota, counties []orgChoice, leave, makeups string, ferr *console.InputError) {
	v := console.ViewerOf(c)
	p := quotaPage{Quota: q, Counties: counties, CanEdit: v.IsAdmin() && v.Scope.Contains(q.County)}
	p.Form.LeaveDays, p.Form.MakeupPerMonth = strconv.Itoa(q.LeaveDays), strconv.Itoa(q.MakeupPerMonth)
	if ferr != nil {
		p.Form.LeaveDays, p.Form.MakeupPerMonth = leave, makeups
	}
	status := http.StatusOK
	if ferr != nil {
		p.Err, status = ferr, http.StatusBadRequest
	}
	h.con.Page(c, status, "requests_quota", "requests", "请假额度", p)
}

// QuotaPage is GET /console/requests/quota?org=: a county's leave and make-up quota; its
// administrators change it there.
func (h *Web) QuotaPage(c *gin.Context) {
	q, counties, err := h.quotaCounty(c, c.Query("org"))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderQuota(c, q, counties, "", "", nil)
}

// QuotaSubmit is POST /console/requests/quota (the county's administrators): leave_days,
// makeup_per_month for org_id.
func (h *Web) QuotaSubmit(c *gin.Context) {
	v := console.ViewerOf(c)
	q, counties, err := h.quotaCounty(c, c.PostForm("org_id"))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	leave, makeups := strings.TrimSpace(c.PostForm("leave_days")), strings.TrimSpace(c.PostForm("makeup_per_month"))
	ld, err1 := strconv.Atoi(leave)
	mk, err2 := strconv.Atoi(makeups)
	switch {
	case err1 != nil:
		h.renderQuota(c, q, counties, leave, makeups, &console.InputError{Field: "leave_days", Message: "每年请假天数应为整数"})
		return
	case err2 != nil:
		h.renderQuota(c, q, counties, leave, makeups, &console.InputError{Field: "makeup_per_month", Message: "每月补卡次数应为整数"})
		return
	}
	changed, err := h.s.SetQuota(c.Request.Context(), v, q.CountyID, ld, mk)
	var ie *console.InputError
	if errors.As(err, &ie) {
		h.renderQuota(c, q, counties, leave, makeups, ie)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	msg := "没有改动"
	if changed {
		msg = fmt.Sprintf("已保存：%s 每人每年可请假 %d 天，每月可补卡 %d 次。", q.County, ld, mk)
	}
	h.con.Redirect(c, "/console/requests/quota?org="+strconv.FormatUint(uint64(q.CountyID), 10), msg)
}

// ---- JSON API

// APIRequest is a request in the API.
type APIRequest struct {
	ID         uint       `json:"id"`
	Kind       string     `json:"kind"`
	State      string     `json:"state"`
	MemberID   uint       `json:"member_id"`
	MemberName string     `json:"member_name"`
	OrgID      uint       `json:"org_id"`
	OrgPath    string     `json:"org_path"`
	From       string     `json:"from"`
	To         string     `json:"to,omitempty"`
	Days       int        `json:"days"`
	CheckKind  string     `json:"check_kind,omitempty"`
	At         *time.Time `json:"at,omitempty"`
	CheckInID  *uint64    `json:"checkin_id,omitempty"`
	Reason     string     `json:"reason"`
	Note       string     `json:"note,omitempty"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

func (h *Web) toAPI(r *Row) APIRequest {
	loc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		x := t.In(h.s.loc)
		return &x
	}
	return APIRequest{ID: r.ID, Kind: r.Kind, State: r.State, MemberID: r.MemberID, MemberName: r.MemberName, OrgID: r.OrgID,
		OrgPath: r.OrgPath, From: r.From, To: r.To, Days: r.Days(), CheckKind: r.CheckKind, At: loc(r.At), CheckInID: r.CheckInID,
		Reason: r.Reason, Note: r.Note, DecidedBy: r.DecidedBy, DecidedAt: loc(r.DecidedAt), CreatedAt: r.CreatedAt.In(h.s.loc)}
}

type apiList struct {
	Items   []APIRequest `json:"items"`
	Total   int64        `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

// APIList is GET /api/v1/attendance/requests: the same filters and order as the console's list.
func (h *Web) APIList(c *gin.Context) {
	q := console.ParseList(c)
	_, f, err := h.filterOf(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	rows, total, err := h.s.List(c.Request.Context(), console.ViewerOf(c).Scope, f, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiList{Items: make([]APIRequest, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = h.toAPI(&rows[i])
	}
	c.JSON(http.StatusOK, out)
}

type apiDecision struct {
	Note string `json:"note"`
}

type apiDecided struct {
	APIRequest
	Told bool `json:"told"` // the member was told (in the chat or by a template message)
}

// APIApprove is POST /api/v1/attendance/requests/:id/approve {"note"}.
func (h *Web) APIApprove(c *gin.Context) { h.apiDecide(c, true) }

// APIReject is POST /api/v1/attendance/requests/:id/reject {"note"}.
func (h *Web) APIReject(c *gin.Context) { h.apiDecide(c, false) }

func (h *Web) apiDecide(c *gin.Context, approve bool) {
	v := console.ViewerOf(c)
	id, err := requestID(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiDecision
	if c.Request.ContentLength != 0 {
		if err := console.DecodeJSON(c, &in); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	out, err := h.s.Decide(c.Request.Context(), v.Scope, id, approve, in.Note, decider(v))
	var de *DecidedError
	switch {
	case errors.As(err, &de):
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": "conflict",
			"message": "这条申请已经处理过了（" + StateName(de.Req.State) + "），没有改动。"})
		return
	case err != nil:
		if msg, ok := refusalText(err); ok {
			h.con.Fail(c, console.Invalid("", "%s", msg))
			return
		}
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiDecided{APIRequest: h.toAPI(out.Req), Told: out.Told})
}
