package roster

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/web"
)

// The JSON API's shapes (server/openapi/roster.json documents them). They differ from the models on
// purpose: lists mask phone numbers, and bind codes show only while they can be used.

type apiOrg struct {
	ID       uint   `json:"id"`
	ParentID *uint  `json:"parent_id"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Level    int    `json:"level"`
	Members  int64  `json:"members"` // active members of the org and everything under it
	Bound    int64  `json:"bound"`   // of which have bound WeChat
}

func toAPIOrg(o *OrgNode) apiOrg {
	return apiOrg{ID: o.ID, ParentID: o.ParentID, Name: o.Name, Path: o.Path, Level: o.Level, Members: o.Members, Bound: o.Bound}
}

type apiOrgInput struct {
	ParentID uint   `json:"parent_id"`
	Name     string `json:"name"`
}

type apiMember struct {
	ID        uint       `json:"id"`
	Name      string     `json:"name"`
	Phone     string     `json:"phone"` // masked (138****1234) in lists
	Role      string     `json:"role"`
	OrgID     uint       `json:"org_id"`
	OrgPath   string     `json:"org_path"`
	Bound     bool       `json:"bound"`
	BoundAt   *time.Time `json:"bound_at"`
	BindCode  string     `json:"bind_code,omitempty"` // while unbound and active
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func toAPIMember(m *MemberRow, fullPhone bool) apiMember {
	out := apiMember{ID: m.ID, Name: m.Name, Phone: m.Phone, Role: m.Role, OrgID: m.OrgID, OrgPath: m.OrgPath,
		Bound: m.Bound(), BoundAt: m.BoundAt, Active: m.Active, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	if !fullPhone {
		out.Phone = web.MaskPhone(m.Phone)
	}
	if m.Active && !m.Bound() {
		out.BindCode = m.Code()
	}
	return out
}

type apiMemberList struct {
	Items   []apiMember `json:"items"`
	Total   int64       `json:"total"`
	Page    int         `json:"page"`
	PerPage int         `json:"per_page"`
}

type apiMemberInput struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Role  string `json:"role"`
	OrgID uint   `json:"org_id"`
}

type apiMemberPatch struct {
	Name   *string `json:"name"`
	Phone  *string `json:"phone"`
	Role   *string `json:"role"`
	OrgID  *uint   `json:"org_id"`
	Active *bool   `json:"active"`
}

type apiRowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type apiUnbound struct {
	ID       uint   `json:"id"`
	Name     string `json:"name"`
	OrgPath  string `json:"org_path"`
	BindCode string `json:"bind_code"`
}

type apiImportResult struct {
	Created   int           `json:"created"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Errors    []apiRowError `json:"errors"`
	Unbound   []apiUnbound  `json:"unbound"` // the file's members who have not bound WeChat, with their codes
}

// APIOrgs is GET /api/v1/orgs: the orgs of the caller's scope, flat, by path, with member counts.
func (h *Web) APIOrgs(c *gin.Context) {
	all, _, err := h.view(c).OrgTree(c.Request.Context())
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := make([]apiOrg, len(all))
	for i, o := range all {
		out[i] = toAPIOrg(o)
	}
	c.JSON(http.StatusOK, out)
}

// APIOrg is GET /api/v1/orgs/:id.
func (h *Web) APIOrg(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	o, err := h.view(c).Org(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIOrg(o))
}

// APICreateOrg is POST /api/v1/orgs (administrators): {"parent_id", "name"}.
func (h *Web) APICreateOrg(c *gin.Context) {
	var in apiOrgInput
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	o, err := h.view(c).CreateOrg(c.Request.Context(), in.ParentID, in.Name)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/orgs/"+strconv.FormatUint(uint64(o.ID), 10))
	c.JSON(http.StatusCreated, toAPIOrg(o))
}

// APIMembers is GET /api/v1/members: the same filters, sorts and pages as the console's list, phone
// numbers masked.
func (h *Web) APIMembers(c *gin.Context) {
	q := console.ParseList(c, MemberSorts...)
	f, _, err := parseFilter(q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	rows, total, err := h.view(c).Members(c.Request.Context(), MemberQuery{MemberFilter: f, Sort: q.Sort, Desc: q.Desc, Offset: q.Offset(), Limit: q.PerPage})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiMemberList{Items: make([]apiMember, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = toAPIMember(&rows[i], false)
	}
	c.JSON(http.StatusOK, out)
}

// APIMember is GET /api/v1/members/:id: one member with his full phone number (audited).
func (h *Web) APIMember(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	m, err := h.view(c).Member(c.Request.Context(), id)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if err := h.recordView(c, m, "API 查看人员"); err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIMember(m, true))
}

// APICreateMember is POST /api/v1/members.
func (h *Web) APICreateMember(c *gin.Context) {
	var in apiMemberInput
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	m, err := h.view(c).CreateMember(c.Request.Context(), MemberInput{Name: in.Name, Phone: in.Phone, Role: in.Role, OrgID: in.OrgID})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/members/"+strconv.FormatUint(uint64(m.ID), 10))
	c.JSON(http.StatusCreated, toAPIMember(m, true))
}

// APIUpdateMember is PATCH /api/v1/members/:id: name, phone, role, org_id (a move), active.
func (h *Web) APIUpdateMember(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiMemberPatch
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	m, _, err := h.view(c).UpdateMember(c.Request.Context(), id, MemberChange{Name: in.Name, Phone: in.Phone, Role: in.Role, OrgID: in.OrgID, Active: in.Active})
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIMember(m, true))
}

// APIImport is POST /api/v1/members/import: a roster file (multipart field "file") imported into the
// caller's scope. Row errors still answer 200 (the good rows are imported); a bad file is a 400.
func (h *Web) APIImport(c *gin.Context) {
	res, _, err := h.importFile(c, h.view(c))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiImportResult{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged,
		Errors: make([]apiRowError, len(res.Errors)), Unbound: make([]apiUnbound, len(res.Unbound))}
	for i, e := range res.Errors {
		out.Errors[i] = apiRowError{Line: e.Line, Reason: e.Reason}
	}
	for i, u := range res.Unbound {
		out.Unbound[i] = apiUnbound{ID: u.ID, Name: u.Name, OrgPath: u.OrgPath, BindCode: u.BindCode}
	}
	c.JSON(http.StatusOK, out)
}
