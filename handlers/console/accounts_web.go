package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
)

// maxMemberChoices bounds the roster members offered when creating an account.
const maxMemberChoices = 2000

// orgChoice is an org offered by an account form.
type orgChoice struct {
	ID    uint
	Path  string
	Label string // the full path: village names repeat across towns
}

// memberChoice is a roster member who may get an account.
type memberChoice struct {
	ID                  uint
	Name, Role, OrgPath string
}

// orgChoices are the orgs of the viewer's scope, in tree order.
func (s *Service) orgChoices(ctx context.Context, v *Viewer) ([]orgChoice, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Scopes(v.Scope.Orgs).Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("console: orgs for a form: %w", err)
	}
	out := make([]orgChoice, len(orgs))
	for i, o := range orgs {
		out[i] = orgChoice{ID: o.ID, Path: o.Path, Label: o.Path}
	}
	return out, nil
}

// memberChoices are the active 书记 and 管理员 of the viewer's scope who have no account yet.
func (s *Service) memberChoices(ctx context.Context, v *Viewer) ([]memberChoice, error) {
	var ms []models.Member
	err := s.db.WithContext(ctx).Preload("Org").Scopes(v.Scope.Members).
		Where("members.role IN ? AND members.active = ?", []string{models.RoleSecretary, models.RoleAdmin}, true).
		Where("members.id NOT IN (SELECT member_id FROM accounts WHERE member_id IS NOT NULL)").
		Order("members.id").Limit(maxMemberChoices).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("console: members for a form: %w", err)
	}
	out := make([]memberChoice, len(ms))
	for i, m := range ms {
		out[i] = memberChoice{ID: m.ID, Name: m.Name, Role: m.Role, OrgPath: m.Org.Path}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OrgPath < out[j].OrgPath })
	return out, nil
}

// parseOrgChoice reads an org field of a form: "" (not given), "all" (the whole installation) or an
// org id.
func parseOrgChoice(val string) (OrgChoice, error) {
	switch val = strings.TrimSpace(val); val {
	case "":
		return OrgChoice{}, nil
	case "all":
		return OrgChoice{Set: true}, nil
	}
	id, err := strconv.ParseUint(val, 10, 32)
	if err != nil || id == 0 {
		return OrgChoice{}, Invalid("org_id", "请从列表里选择组织。")
	}
	u := uint(id)
	return OrgChoice{Set: true, ID: &u}, nil
}

func parseOptionalID(field, val string) (*uint, error) {
	if val = strings.TrimSpace(val); val == "" {
		return nil, nil
	}
	id, err := strconv.ParseUint(val, 10, 32)
	if err != nil || id == 0 {
		return nil, Invalid(field, "请从列表里选择。")
	}
	u := uint(id)
	return &u, nil
}

// ---- list ----

type accountsPage struct {
	Q     ListQuery
	Pager Pager
	Rows  []accountRow
	Err   string
}

func (p accountsPage) PageError() string { return p.Err }

// AccountsPage is GET /console/accounts.
func (s *Service) AccountsPage(c *gin.Context) {
	q := parseAccountList(c)
	q.PerPage = min(q.PerPage, 200)
	p := accountsPage{Q: q}
	rows, total, err := s.listAccounts(c.Request.Context(), ViewerOf(c), q, q.PerPage)
	status := http.StatusOK
	if err != nil {
		if !formError(err, &p.Err, new(string)) {
			s.Fail(c, err)
			return
		}
		status = http.StatusBadRequest
	}
	p.Rows, p.Pager = rows, q.Pager(total)
	s.Page(c, status, "accounts", "accounts", "账号", p)
}

// AccountsExport is GET /console/accounts/export.xlsx with the list's filters and sort.
func (s *Service) AccountsExport(c *gin.Context) {
	v := ViewerOf(c)
	q := parseAccountList(c)
	rows, _, err := s.listAccounts(c.Request.Context(), v, q, -1)
	if err != nil {
		s.Fail(c, err)
		return
	}
	t := xlsxout.Table{Title: "后台账号", Filters: []xlsxout.Filter{{Name: "范围", Value: scopeLabel(v)}},
		Columns: []string{"用户名", "姓名", "角色", "组织", "花名册成员", "状态", "最近登录", "创建时间"}}
	if q.Q != "" {
		t.Filters = append(t.Filters, xlsxout.Filter{Name: "关键词", Value: q.Q})
	}
	if r := q.Get("role"); r != "" {
		t.Filters = append(t.Filters, xlsxout.Filter{Name: "角色", Value: RoleNames[r]})
	}
	if a := q.Get("active"); a != "" {
		t.Filters = append(t.Filters, xlsxout.Filter{Name: "状态", Value: activeName(a == "1" || a == "true" || a == "yes")})
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Username, r.DisplayName, r.RoleName(), r.OrgName(), r.MemberName, activeName(r.Active), r.LastLoginAt, r.CreatedAt})
	}
	s.SendXLSX(c, "后台账号", t)
}

func activeName(active bool) string {
	if active {
		return "启用"
	}
	return "停用"
}

// ---- new ----

// accountFormValues are the values of an account form, kept when it is shown again after an error.
type accountFormValues struct {
	Username, DisplayName, Role, Org, Member, Active string
}

type newAccountPage struct {
	Values  accountFormValues
	Orgs    []orgChoice
	Members []memberChoice
	CanAll  bool // the viewer may make accounts for the whole installation
	Err     string
	Field   string
}

func (p newAccountPage) PageError() string { return p.Err }

func (s *Service) renderNewAccount(c *gin.Context, status int, p newAccountPage) {
	v := ViewerOf(c)
	var err error
	if p.Orgs, err = s.orgChoices(c.Request.Context(), v); err != nil {
		s.Fail(c, err)
		return
	}
	if p.Members, err = s.memberChoices(c.Request.Context(), v); err != nil {
		s.Fail(c, err)
		return
	}
	p.CanAll = v.Scope.All
	s.Page(c, status, "account_form", "accounts", "新建账号", p)
}

// NewAccountPage is GET /console/accounts/new (?member=ID preselects a roster member).
func (s *Service) NewAccountPage(c *gin.Context) {
	s.renderNewAccount(c, http.StatusOK, newAccountPage{Values: accountFormValues{Member: c.Query("member")}})
}

// CreateAccountSubmit is POST /console/accounts.
func (s *Service) CreateAccountSubmit(c *gin.Context) {
	vals := accountFormValues{Username: c.PostForm("username"), DisplayName: c.PostForm("display_name"),
		Role: c.PostForm("role"), Org: c.PostForm("org_id"), Member: c.PostForm("member_id")}
	in := AccountInput{Username: vals.Username, DisplayName: vals.DisplayName, Role: vals.Role, Password: c.PostForm("password")}
	var err error
	in.Org, err = parseOrgChoice(vals.Org)
	if err == nil {
		in.MemberID, err = parseOptionalID("member_id", vals.Member)
	}
	var id uint
	if err == nil {
		id, err = s.CreateAccount(c.Request.Context(), ViewerOf(c), in)
	}
	if err != nil {
		p := newAccountPage{Values: vals}
		if !formError(err, &p.Err, &p.Field) {
			s.Fail(c, err)
			return
		}
		s.renderNewAccount(c, http.StatusBadRequest, p)
		return
	}
	s.Redirect(c, fmt.Sprintf("/console/accounts/%d", id),
		fmt.Sprintf("账号 %s 已创建。请把用户名和初始密码告诉本人，并提醒他登录后在「我的账号」里修改密码。", strings.TrimSpace(in.Username)))
}

// ---- one account ----

type accountPage struct {
	Account *accountRow
	Self    bool
	Values  accountFormValues
	Orgs    []orgChoice
	CanAll  bool
	Tokens  []tokenView
	Recent  []auditRow
	Err     string
	Field   string
}

func (p accountPage) PageError() string { return p.Err }

// renderAccount shows account id with its edit form (values from p.Values when set).
func (s *Service) renderAccount(c *gin.Context, status int, id uint, p accountPage) {
	v := ViewerOf(c)
	a, err := s.accountRowByID(c.Request.Context(), v, id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	p.Account, p.Self, p.CanAll = a, a.ID == v.AccountID, v.Scope.All
	if p.Values == (accountFormValues{}) {
		p.Values = accountFormValues{DisplayName: a.DisplayName, Role: a.Role, Org: "all", Active: "1"}
		if a.OrgID != nil {
			p.Values.Org = strconv.FormatUint(uint64(*a.OrgID), 10)
		}
		if !a.Active {
			p.Values.Active = "0"
		}
	}
	if p.Orgs, err = s.orgChoices(c.Request.Context(), v); err != nil {
		s.Fail(c, err)
		return
	}
	if p.Tokens, err = s.tokensOf(c.Request.Context(), a.ID); err != nil {
		s.Fail(c, err)
		return
	}
	f := auditFilter{Object: "account", ObjectID: strconv.FormatUint(uint64(a.ID), 10)}
	if p.Recent, _, err = s.listAudit(c.Request.Context(), v, f, 0, 10, false); err != nil {
		s.Fail(c, err)
		return
	}
	s.Page(c, status, "account", "accounts", a.DisplayName, p)
}

// AccountPage is GET /console/accounts/:id.
func (s *Service) AccountPage(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.renderAccount(c, http.StatusOK, id, accountPage{})
}

// UpdateAccountSubmit is POST /console/accounts/:id: display name, role, org, state, and a new
// password when one is given. Fields left out of the form (disabled for one's own account) stay.
func (s *Service) UpdateAccountSubmit(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.Fail(c, err)
		return
	}
	var ch AccountChange
	var vals accountFormValues
	if n, ok := c.GetPostForm("display_name"); ok {
		vals.DisplayName, ch.DisplayName = n, &n
	}
	if r, ok := c.GetPostForm("role"); ok {
		vals.Role, ch.Role = r, &r
	}
	if a, ok := c.GetPostForm("active"); ok {
		active := a == "1"
		vals.Active, ch.Active = a, &active
	}
	if pw := c.PostForm("password"); pw != "" {
		ch.Password = &pw
	}
	if o, ok := c.GetPostForm("org_id"); ok {
		vals.Org = o
		ch.Org, err = parseOrgChoice(o)
		if err == nil && !ch.Org.Set {
			err = Invalid("org_id", "请选择账号所属的组织。")
		}
	}
	if err == nil {
		err = s.UpdateAccount(c.Request.Context(), ViewerOf(c), id, ch)
	}
	if err != nil {
		p := accountPage{Values: vals}
		if !formError(err, &p.Err, &p.Field) {
			s.Fail(c, err)
			return
		}
		s.renderAccount(c, http.StatusBadRequest, id, p)
		return
	}
	s.Redirect(c, fmt.Sprintf("/console/accounts/%d", id), "已保存。")
}

// ---- my account ----

// ChangePasswordSubmit is POST /console/me/password: current, new, again.
func (s *Service) ChangePasswordSubmit(c *gin.Context) {
	err := s.ChangeOwnPassword(c.Request.Context(), ViewerOf(c), c.PostForm("current"), c.PostForm("new"), c.PostForm("again"))
	if err != nil {
		var p mePage
		if !formError(err, &p.Err, &p.Field) {
			s.Fail(c, err)
			return
		}
		s.renderMe(c, http.StatusBadRequest, p)
		return
	}
	s.Redirect(c, "/console/me", "密码已修改，下次登录请用新密码。")
}
