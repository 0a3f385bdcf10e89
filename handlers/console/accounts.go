package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Limits of account fields.
const (
	minUsername    = 2
	maxUsername    = 32
	maxDisplayName = 32
	minPassword    = 8
	maxPassword    = 72 // bytes: bcrypt ignores the rest
)

// RoleNames are the console roles as users read them.
var RoleNames = map[string]string{models.ConsoleAdmin: "管理员", models.ConsoleSecretary: "书记"}

// accountRoleName is an account's role as users read it; an administrator of the whole installation is
// a 系统管理员.
func accountRoleName(role string, orgID *uint) string {
	if role == models.ConsoleAdmin && orgID == nil {
		return "系统管理员"
	}
	if n, ok := RoleNames[role]; ok {
		return n
	}
	return role
}

// accountRow is an account as lists, pages and the API show it: with its org's path and the name of
// the roster member it is linked to.
type accountRow struct {
	ID          uint
	Username    string
	DisplayName string
	Role        string
	OrgID       *uint
	OrgPath     string // "" = the whole installation
	MemberID    *uint
	MemberName  string
	MemberRole  string
	Active      bool
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleName is the role as users read it.
func (a accountRow) RoleName() string { return accountRoleName(a.Role, a.OrgID) }

// OrgName is the org as users read it.
func (a accountRow) OrgName() string {
	if a.OrgID == nil {
		return "全部（整个系统）"
	}
	return a.OrgPath
}

const accountColumns = "accounts.id, accounts.username, accounts.display_name, accounts.role, accounts.org_id, " +
	"COALESCE(orgs.path, '') AS org_path, accounts.member_id, COALESCE(members.name, '') AS member_name, " +
	"COALESCE(members.role, '') AS member_role, accounts.active, accounts.last_login_at, accounts.created_at, accounts.updated_at"

// accountsIn is the accounts the viewer may see (those of orgs in his scope; accounts without an org
// only for a viewer of the whole installation), joined with their org and member.
func (s *Service) accountsIn(ctx context.Context, v *Viewer) *gorm.DB {
	return s.db.WithContext(ctx).Table("accounts").
		Joins("LEFT JOIN orgs ON orgs.id = accounts.org_id").
		Joins("LEFT JOIN members ON members.id = accounts.member_id").
		Scopes(v.Scope.ByOrg("accounts.org_id"))
}

// accountSorts are the columns a list of accounts sorts by (the first is the default).
var accountSorts = map[string]string{
	"org":        "COALESCE(orgs.path, '')",
	"username":   "accounts.username",
	"name":       "accounts.display_name",
	"role":       "accounts.role",
	"active":     "accounts.active",
	"last_login": "CASE WHEN accounts.last_login_at IS NULL THEN 1 ELSE 0 END, accounts.last_login_at",
	"created":    "accounts.created_at",
}

func parseAccountList(c *gin.Context) ListQuery {
	return ParseList(c, "org", "username", "name", "role", "active", "last_login", "created")
}

// filterAccounts applies a list's q (username, display name or member name), role and active filters.
func filterAccounts(db *gorm.DB, q ListQuery) (*gorm.DB, error) {
	if q.Q != "" {
		like := likeContains(strings.ToLower(q.Q))
		db = db.Where("(LOWER(accounts.username) LIKE ? ESCAPE '!' OR LOWER(accounts.display_name) LIKE ? ESCAPE '!' OR COALESCE(members.name, '') LIKE ? ESCAPE '!')", like, like, likeContains(q.Q))
	}
	switch r := q.Get("role"); r {
	case "":
	case models.ConsoleAdmin, models.ConsoleSecretary:
		db = db.Where("accounts.role = ?", r)
	default:
		return nil, Invalid("role", "角色只能是 admin 或 secretary。")
	}
	switch a := q.Get("active"); a {
	case "":
	case "1", "true", "yes":
		db = db.Where("accounts.active = ?", true)
	case "0", "false", "no":
		db = db.Where("accounts.active = ?", false)
	default:
		return nil, Invalid("active", "状态只能是 1（启用）或 0（停用）。")
	}
	return db, nil
}

// likeContains is the LIKE pattern (with ESCAPE '!') of the strings that contain s.
func likeContains(s string) string {
	return "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s) + "%"
}

// listAccounts is one page of the accounts the viewer may see (limit < 0: every row).
func (s *Service) listAccounts(ctx context.Context, v *Viewer, q ListQuery, limit int) ([]accountRow, int64, error) {
	base, err := filterAccounts(s.accountsIn(ctx, v), q)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := base.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("console: count accounts: %w", err)
	}
	order := accountSorts[q.Sort]
	if q.Desc {
		order += " DESC"
	}
	db := base.Session(&gorm.Session{}).Select(accountColumns).Order(order).Order("accounts.id")
	if limit >= 0 {
		db = db.Offset(q.Offset()).Limit(limit)
	}
	var rows []accountRow
	if err := db.Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("console: list accounts: %w", err)
	}
	return rows, total, nil
}

// accountRowByID is one account the viewer may see, or scope.ErrNotFound.
func (s *Service) accountRowByID(ctx context.Context, v *Viewer, id uint) (*accountRow, error) {
	var rows []accountRow
	if err := s.accountsIn(ctx, v).Select(accountColumns).Where("accounts.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("console: load account %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, scope.ErrNotFound
	}
	return &rows[0], nil
}

// OrgChoice is the org given for an account: not given (Set false), none (ID nil: the whole
// installation), or one org.
type OrgChoice struct {
	Set bool
	ID  *uint
}

// AccountInput is a new console account.
type AccountInput struct {
	Username    string
	DisplayName string // "" with a member: the member's name
	Role        string // "" with a member: from the member's role
	Org         OrgChoice
	MemberID    *uint
	Password    string
}

// AccountChange is an edit of an account: nil fields (and an unset Org) stay as they are.
type AccountChange struct {
	DisplayName *string
	Role        *string
	Org         OrgChoice
	Active      *bool
	Password    *string
}

// accountAudit is an account as the audit log keeps it: never the password or its hash.
type accountAudit struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Org         string `json:"org"` // the org's path; "" = the whole installation
	MemberID    *uint  `json:"member_id,omitempty"`
	Active      bool   `json:"active"`
	Password    string `json:"password,omitempty"` // "已设置" / "已重置" / "已修改" when set or changed
}

func auditOfAccount(a *models.Account, orgPath string) accountAudit {
	return accountAudit{Username: a.Username, DisplayName: a.DisplayName, Role: a.Role, Org: orgPath, MemberID: a.MemberID, Active: a.Active}
}

func checkUsername(u string) error {
	n := utf8.RuneCountInString(u)
	if n < minUsername || n > maxUsername {
		return Invalid("username", "用户名需要 %d 到 %d 个字符。", minUsername, maxUsername)
	}
	for _, r := range u {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_.-@", r) {
			return Invalid("username", "用户名只能包含字母、数字和 _ . - @，不能有空格。")
		}
	}
	return nil
}

func checkPassword(field, pw string) error {
	if utf8.RuneCountInString(pw) < minPassword {
		return Invalid(field, "密码至少 %d 位。", minPassword)
	}
	if len(pw) > maxPassword {
		return Invalid(field, "密码太长了（最多 %d 个英文字符）。", maxPassword)
	}
	if strings.TrimSpace(pw) == "" {
		return Invalid(field, "密码不能全是空格。")
	}
	return nil
}

func checkDisplayName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" {
		return "", Invalid("display_name", "请填写姓名或单位名称。")
	}
	if utf8.RuneCountInString(n) > maxDisplayName {
		return "", Invalid("display_name", "姓名最多 %d 个字。", maxDisplayName)
	}
	return n, nil
}

// orgFor resolves an org choice for the viewer: nil for the whole installation (only a viewer who has
// it himself), or an org in his scope (scope.ErrForbidden outside it).
func (s *Service) orgFor(db *gorm.DB, v *Viewer, ch OrgChoice) (*models.Org, error) {
	if ch.ID == nil {
		if !v.Scope.All {
			return nil, scope.ErrForbidden
		}
		return nil, nil
	}
	var o models.Org
	err := db.Where("id = ?", *ch.ID).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Invalid("org_id", "没有这个组织。")
	}
	if err != nil {
		return nil, fmt.Errorf("console: load org %d: %w", *ch.ID, err)
	}
	if err := v.Scope.Check(o.Path); err != nil {
		return nil, err
	}
	return &o, nil
}

// memberRoleToConsole is the console role a roster member's login gets by default.
var memberRoleToConsole = map[string]string{models.RoleSecretary: models.ConsoleSecretary, models.RoleAdmin: models.ConsoleAdmin}

// CreateAccount makes a console account as administrator v and returns its id.
func (s *Service) CreateAccount(ctx context.Context, v *Viewer, in AccountInput) (uint, error) {
	if !v.IsAdmin() {
		return 0, ErrNotAllowed
	}
	in.Username = strings.TrimSpace(in.Username)
	if err := checkUsername(in.Username); err != nil {
		return 0, err
	}
	var id uint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var member *models.Member
		if in.MemberID != nil {
			var m models.Member
			err := tx.Preload("Org").Scopes(v.Scope.Members).Where("members.id = ?", *in.MemberID).Take(&m).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("member_id", "没有找到这名成员，或不在你的管理范围内。")
			}
			if err != nil {
				return fmt.Errorf("console: load member %d: %w", *in.MemberID, err)
			}
			if m.Role != models.RoleSecretary && m.Role != models.RoleAdmin {
				return Invalid("member_id", "只有书记和管理员可以开通后台账号，%s是%s。", m.Name, m.Role)
			}
			if !m.Active {
				return Invalid("member_id", "%s已停用，不能开通后台账号。", m.Name)
			}
			var n int64
			if err := tx.Model(&models.Account{}).Where("member_id = ?", m.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("console: account of member %d: %w", m.ID, err)
			}
			if n > 0 {
				return Invalid("member_id", "%s已经有后台账号了。", m.Name)
			}
			member = &m
		}

		var org *models.Org
		switch {
		case in.Org.Set:
			o, err := s.orgFor(tx, v, in.Org)
			if err != nil {
				return err
			}
			org = o
		case member != nil:
			org = &member.Org
		default:
			return Invalid("org_id", "请选择账号所属的组织。")
		}

		if in.Role == "" && member != nil {
			in.Role = memberRoleToConsole[member.Role]
		}
		if in.Role != models.ConsoleAdmin && in.Role != models.ConsoleSecretary {
			return Invalid("role", "请选择角色：管理员或书记。")
		}
		if org == nil && in.Role != models.ConsoleAdmin {
			return Invalid("org_id", "书记账号必须属于一个组织。")
		}
		if strings.TrimSpace(in.DisplayName) == "" && member != nil {
			in.DisplayName = member.Name
		}
		name, err := checkDisplayName(in.DisplayName)
		if err != nil {
			return err
		}
		if err := checkPassword("password", in.Password); err != nil {
			return err
		}

		var n int64
		if err := tx.Model(&models.Account{}).Where("LOWER(username) = ?", strings.ToLower(in.Username)).Count(&n).Error; err != nil {
			return fmt.Errorf("console: find account %s: %w", in.Username, err)
		}
		if n > 0 {
			return Invalid("username", "用户名「%s」已被使用，请换一个。", in.Username)
		}
		hash, err := s.HashPassword(in.Password)
		if err != nil {
			return err
		}
		now := s.now()
		a := models.Account{Username: in.Username, DisplayName: name, PasswordHash: hash, Role: in.Role, Active: true, CreatedAt: now, UpdatedAt: now}
		orgPath := ""
		if org != nil {
			a.OrgID, orgPath = &org.ID, org.Path
		}
		if member != nil {
			a.MemberID = &member.ID
		}
		if err := tx.Omit("Org").Create(&a).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return Invalid("username", "用户名「%s」已被使用，或这名成员已经有账号了。", in.Username)
			}
			return fmt.Errorf("console: create account %s: %w", a.Username, err)
		}
		id = a.ID
		after := auditOfAccount(&a, orgPath)
		after.Password = "已设置"
		return s.Record(ctx, tx, v, Change{Action: ActionCreate, Object: "account", ObjectID: a.ID, OrgPath: orgPath,
			Summary: fmt.Sprintf("新建账号 %s（%s · %s）", a.Username, accountRoleName(a.Role, a.OrgID), orgLabel(orgPath)), After: after})
	})
	return id, err
}

func orgLabel(path string) string {
	if path == "" {
		return "整个系统"
	}
	return path
}

// UpdateAccount edits an account of administrator v's scope (scope.ErrNotFound outside it). An
// administrator cannot move an account outside his scope, nor change his own role, org or state.
func (s *Service) UpdateAccount(ctx context.Context, v *Viewer, id uint, ch AccountChange) error {
	if !v.IsAdmin() {
		return ErrNotAllowed
	}
	var passwordReset bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a models.Account
		err := tx.Preload("Org").Scopes(v.Scope.ByOrg("accounts.org_id")).Where("accounts.id = ?", id).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return scope.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("console: load account %d: %w", id, err)
		}
		oldPath := ""
		if a.Org != nil {
			oldPath = a.Org.Path
		}
		before := auditOfAccount(&a, oldPath)
		self := a.ID == v.AccountID
		updates := map[string]any{}

		if ch.DisplayName != nil {
			name, err := checkDisplayName(*ch.DisplayName)
			if err != nil {
				return err
			}
			if name != a.DisplayName {
				a.DisplayName, updates["display_name"] = name, name
			}
		}
		if ch.Role != nil && *ch.Role != a.Role {
			if *ch.Role != models.ConsoleAdmin && *ch.Role != models.ConsoleSecretary {
				return Invalid("role", "请选择角色：管理员或书记。")
			}
			if self {
				return Invalid("role", "不能修改自己的角色，请让上级管理员修改。")
			}
			a.Role, updates["role"] = *ch.Role, *ch.Role
		}
		newPath := oldPath
		if ch.Org.Set && !sameID(ch.Org.ID, a.OrgID) {
			if self {
				return Invalid("org_id", "不能修改自己所属的组织，请让上级管理员修改。")
			}
			org, err := s.orgFor(tx, v, ch.Org)
			if err != nil {
				return err
			}
			if org == nil {
				a.OrgID, newPath = nil, ""
			} else {
				a.OrgID, newPath = &org.ID, org.Path
			}
			updates["org_id"] = a.OrgID
		}
		if a.OrgID == nil && a.Role != models.ConsoleAdmin {
			return Invalid("org_id", "书记账号必须属于一个组织。")
		}
		if ch.Active != nil && *ch.Active != a.Active {
			if self && !*ch.Active {
				return Invalid("active", "不能停用自己的账号。")
			}
			a.Active, updates["active"] = *ch.Active, *ch.Active
		}
		if ch.Password != nil && *ch.Password != "" {
			if err := checkPassword("password", *ch.Password); err != nil {
				return err
			}
			hash, err := s.HashPassword(*ch.Password)
			if err != nil {
				return err
			}
			updates["password_hash"], passwordReset = hash, true
		}
		if len(updates) == 0 {
			return nil
		}
		updates["updated_at"] = s.now()
		if err := tx.Model(&models.Account{}).Where("id = ?", a.ID).Updates(updates).Error; err != nil {
			return fmt.Errorf("console: update account %d: %w", a.ID, err)
		}

		after := auditOfAccount(&a, newPath)
		action, what := ActionUpdate, "修改账号"
		switch {
		case ch.Active != nil && updates["active"] != nil && !a.Active:
			action, what = ActionDeactivate, "停用账号"
		case ch.Active != nil && updates["active"] != nil:
			action, what = ActionActivate, "启用账号"
		case newPath != oldPath:
			action, what = ActionMove, "调动账号"
		case passwordReset && len(updates) == 2: // the password and updated_at
			what = "重置密码"
		}
		if passwordReset {
			after.Password = "已重置"
		}
		return s.Record(ctx, tx, v, Change{Action: action, Object: "account", ObjectID: a.ID, OrgPath: commonPath(oldPath, newPath),
			Summary: fmt.Sprintf("%s %s（%s）", what, a.Username, a.DisplayName), Before: before, After: after})
	})
	if err == nil && passwordReset {
		// Whoever knew the old password is logged out everywhere (the admin's own browser excepted).
		keep := ""
		if id == v.AccountID {
			keep = v.session
		}
		if err := s.EndAccountSessions(ctx, id, keep); err != nil {
			s.log.WarnContext(ctx, "console: end sessions after a password reset", "account", id, "err", err)
		}
	}
	return err
}

func sameID(a, b *uint) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// commonPath is the lowest org that holds both paths ("" if there is none): the audit entry of a move
// is read by those who saw the account before and after it.
func commonPath(a, b string) string {
	if a == b {
		return a
	}
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] && as[n] != "" {
		n++
	}
	return strings.Join(as[:n], "/")
}

// ChangeOwnPassword changes the viewer's password after checking his current one. His other sessions
// stay logged in.
func (s *Service) ChangeOwnPassword(ctx context.Context, v *Viewer, current, next, again string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a models.Account
		if err := tx.Preload("Org").Where("id = ?", v.AccountID).Take(&a).Error; err != nil {
			return fmt.Errorf("console: load account %d: %w", v.AccountID, err)
		}
		if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
			return Invalid("current", "当前密码不对。")
		}
		if err := checkPassword("new", next); err != nil {
			return err
		}
		if next != again {
			return Invalid("again", "两次输入的新密码不一样。")
		}
		if next == current {
			return Invalid("new", "新密码不能和当前密码一样。")
		}
		hash, err := s.HashPassword(next)
		if err != nil {
			return err
		}
		if err := tx.Model(&models.Account{}).Where("id = ?", a.ID).
			Updates(map[string]any{"password_hash": hash, "updated_at": s.now()}).Error; err != nil {
			return fmt.Errorf("console: change password of %d: %w", a.ID, err)
		}
		return s.Record(ctx, tx, v, Change{Action: ActionUpdate, Object: "account", ObjectID: a.ID, OrgPath: v.Scope.Path,
			Summary: a.Username + " 修改了自己的密码", After: map[string]string{"password": "已修改"}})
	})
	if err == nil {
		// Other browsers logged in with the old password are logged out; this one stays.
		if err := s.EndAccountSessions(ctx, v.AccountID, v.session); err != nil {
			s.log.WarnContext(ctx, "console: end other sessions after a password change", "account", v.AccountID, "err", err)
		}
	}
	return err
}

// ---- JSON API ----

// APIMe is the caller of the API.
type APIMe struct {
	AccountID   uint   `json:"account_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`      // admin | secretary
	RoleName    string `json:"role_name"` // 系统管理员 | 管理员 | 书记
	ScopeAll    bool   `json:"scope_all"` // the whole installation
	ScopePath   string `json:"scope_path"`
	MemberID    *uint  `json:"member_id"`
	ViaToken    bool   `json:"via_token"`
}

// APIAccount is a console account in the API.
type APIAccount struct {
	ID          uint       `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	RoleName    string     `json:"role_name"`
	OrgID       *uint      `json:"org_id"` // null: the whole installation
	OrgPath     string     `json:"org_path"`
	MemberID    *uint      `json:"member_id"`
	MemberName  string     `json:"member_name"`
	Active      bool       `json:"active"`
	LastLoginAt *time.Time `json:"last_login_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// APIAccountCreate is the body of POST /api/v1/accounts.
type APIAccountCreate struct {
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	OrgID       OptionalID `json:"org_id"` // absent: the member's org; null: the whole installation
	MemberID    *uint      `json:"member_id"`
	Password    string     `json:"password"`
}

// APIAccountPatch is the body of PATCH /api/v1/accounts/:id: absent fields stay as they are.
type APIAccountPatch struct {
	DisplayName *string    `json:"display_name"`
	Role        *string    `json:"role"`
	OrgID       OptionalID `json:"org_id"`
	Active      *bool      `json:"active"`
	Password    *string    `json:"password"`
}

// OptionalID is a JSON id that may be absent (Set false), null or a number.
type OptionalID struct {
	Set bool
	ID  *uint
}

// UnmarshalJSON is only called when the field is present.
func (o *OptionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.ID = nil
		return nil
	}
	var id uint
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	o.ID = &id
	return nil
}

// ListResponse is a page of a list in the API.
type ListResponse[T any] struct {
	Items   []T   `json:"items"`
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
}

func (s *Service) apiAccount(a *accountRow) APIAccount {
	out := APIAccount{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Role: a.Role, RoleName: a.RoleName(),
		OrgID: a.OrgID, OrgPath: a.OrgPath, MemberID: a.MemberID, MemberName: a.MemberName, Active: a.Active,
		CreatedAt: a.CreatedAt.In(s.loc), UpdatedAt: a.UpdatedAt.In(s.loc)}
	if a.LastLoginAt != nil {
		t := a.LastLoginAt.In(s.loc)
		out.LastLoginAt = &t
	}
	return out
}

// DecodeJSON reads a JSON request body (at most 64 KiB, no unknown fields) into v; what is wrong with
// it is an InputError naming the field. Every API call with a JSON body reads it through here.
func DecodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return Invalid(ute.Field, "字段 %s 的类型不对。", ute.Field)
		case errors.Is(err, io.EOF):
			return Invalid("", "请求体是空的，需要一个 JSON 对象。")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return Invalid(f, "不认识的字段 %s。", f)
		}
		return Invalid("", "请求体不是有效的 JSON。")
	}
	return nil
}

// pathID reads a numeric path parameter; anything else is "not found".
func pathID(c *gin.Context, name string) (uint, error) {
	id, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// MeAPI is GET /api/v1/me.
func (s *Service) MeAPI(c *gin.Context) {
	v := ViewerOf(c)
	c.JSON(http.StatusOK, APIMe{AccountID: v.AccountID, Username: v.Username, DisplayName: v.DisplayName, Role: v.Role,
		RoleName: v.RoleName(), ScopeAll: v.Scope.All, ScopePath: v.Scope.Path, MemberID: v.MemberID, ViaToken: v.ViaToken})
}

// AccountsAPI is GET /api/v1/accounts: ?q=&role=&active=&sort=&dir=&page=&per_page=.
func (s *Service) AccountsAPI(c *gin.Context) {
	q := parseAccountList(c)
	rows, total, err := s.listAccounts(c.Request.Context(), ViewerOf(c), q, q.PerPage)
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := ListResponse[APIAccount]{Items: make([]APIAccount, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = s.apiAccount(&rows[i])
	}
	c.JSON(http.StatusOK, out)
}

// AccountAPI is GET /api/v1/accounts/:id.
func (s *Service) AccountAPI(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.Fail(c, err)
		return
	}
	a, err := s.accountRowByID(c.Request.Context(), ViewerOf(c), id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.apiAccount(a))
}

// CreateAccountAPI is POST /api/v1/accounts.
func (s *Service) CreateAccountAPI(c *gin.Context) {
	var in APIAccountCreate
	if err := DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	v := ViewerOf(c)
	id, err := s.CreateAccount(c.Request.Context(), v, AccountInput{Username: in.Username, DisplayName: in.DisplayName, Role: in.Role,
		Org: OrgChoice(in.OrgID), MemberID: in.MemberID, Password: in.Password})
	if err != nil {
		s.Fail(c, err)
		return
	}
	a, err := s.accountRowByID(c.Request.Context(), v, id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/accounts/%d", id))
	c.JSON(http.StatusCreated, s.apiAccount(a))
}

// UpdateAccountAPI is PATCH /api/v1/accounts/:id.
func (s *Service) UpdateAccountAPI(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.Fail(c, err)
		return
	}
	var in APIAccountPatch
	if err := DecodeJSON(c, &in); err != nil {
		s.Fail(c, err)
		return
	}
	v := ViewerOf(c)
	ch := AccountChange{DisplayName: in.DisplayName, Role: in.Role, Org: OrgChoice(in.OrgID), Active: in.Active, Password: in.Password}
	if ch.Password != nil && *ch.Password == "" {
		s.Fail(c, Invalid("password", "密码至少 %d 位。", minPassword))
		return
	}
	if err := s.UpdateAccount(c.Request.Context(), v, id, ch); err != nil {
		s.Fail(c, err)
		return
	}
	a, err := s.accountRowByID(c.Request.Context(), v, id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.apiAccount(a))
}
