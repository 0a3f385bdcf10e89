package roster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
	"github.com/yanzhen/yanzhen/web"
)

// View is the roster as one console viewer or API caller may see and change it: the org subtree of a
// scope. Its methods are the only way the console and the API touch orgs and members, and every query
// they run carries the scope's filter. A member outside the scope is scope.ErrNotFound; an org outside
// it, named as the target of a change, is scope.ErrForbidden.
type View struct {
	s     *Service
	sc    scope.Scope
	hooks Hooks
}

// Hooks are what a View calls besides the database.
type Hooks struct {
	// Record writes an audit entry in the transaction of the change it records (console.Service.Record
	// with the viewer). Nil: changes are not audited.
	Record func(ctx context.Context, tx *gorm.DB, ch console.Change) error
	// Identities is the bot's identity cache: a change to a bound member (name, role, org, active)
	// drops his cached identity once it commits, so the bot sees it at once. Nil: the cache lives out
	// its TTL (kv.IdentityTTL).
	Identities IdentityCache
	// MemberDeactivated runs in the transaction that deactivates a member: his console login (if he
	// has one) stops with him. Nil: nothing else happens.
	MemberDeactivated func(ctx context.Context, tx *gorm.DB, memberID uint) error
}

// IdentityCache forgets the cached member of a WeChat user (bot.Store).
type IdentityCache interface {
	InvalidateIdentity(ctx context.Context, channel, openID string) error
}

// In is the roster seen through sc.
func (s *Service) In(sc scope.Scope) *View { return &View{s: s, sc: sc} }

// With is the view with hooks.
func (v *View) With(h Hooks) *View {
	c := *v
	c.hooks = h
	return &c
}

// Scope is the view's scope.
func (v *View) Scope() scope.Scope { return v.sc }

// Objects of the audit log written by the view.
const (
	ObjectMember = "member"
	ObjectOrg    = "org"
	ObjectRoster = "roster"
)

// Sorts of member lists; the first is the default.
const (
	SortName    = "name"
	SortOrg     = "org"
	SortRole    = "role"
	SortBound   = "bound"
	SortCreated = "created"
)

// MemberSorts lists the sorts of member lists, the default first.
var MemberSorts = []string{SortName, SortOrg, SortRole, SortBound, SortCreated}

// MaxExportRows bounds an export (a county has a few thousand members).
const MaxExportRows = 100_000

// MemberFilter selects members. Zero values select everything.
type MemberFilter struct {
	Q      string // a substring of the name or the phone number
	OrgID  uint   // that org and everything under it
	Role   string
	Bound  *bool // WeChat bound (on either channel)
	Active *bool
}

// MemberQuery is a filtered, sorted page of members.
type MemberQuery struct {
	MemberFilter
	Sort   string // one of MemberSorts ("" = SortName)
	Desc   bool
	Offset int
	Limit  int // 0 = all (up to MaxExportRows)
}

// MemberRow is a member as the console and the API show him.
type MemberRow struct {
	ID        uint
	Name      string
	Phone     string
	Role      string
	OrgID     uint
	OrgPath   string
	OABound   bool // WeChat official account
	MPBound   bool // mini-program
	BoundAt   *time.Time
	BindCode  *string
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Bound reports whether any WeChat identity is linked to the member.
func (m *MemberRow) Bound() bool { return m.OABound || m.MPBound }

// Code is the member's bind code, "" when he has none (bound, or inactive without one).
func (m *MemberRow) Code() string {
	if m.BindCode == nil {
		return ""
	}
	return *m.BindCode
}

// OrgName is the last name of the member's org path.
func (m *MemberRow) OrgName() string { return m.OrgPath[strings.LastIndexByte(m.OrgPath, '/')+1:] }

// memberColumns are the columns of a MemberRow, from members joined with orgs.
const memberColumns = "members.id, members.name, members.phone, members.role, members.org_id, orgs.path AS org_path, " +
	"(members.oa_open_id IS NOT NULL) AS oa_bound, (members.mp_open_id IS NOT NULL) AS mp_bound, " +
	"members.bound_at, members.bind_code, members.active, members.created_at, members.updated_at"

const boundSQL = "(members.oa_open_id IS NOT NULL OR members.mp_open_id IS NOT NULL)"

// memberOrder is the ORDER BY of each sort; %[1]s is the direction. Ties end on the id, so a
// descending list is exactly an ascending one reversed, and pages never overlap.
var memberOrder = map[string]string{
	SortName: "members.name %[1]s, members.id %[1]s",
	SortOrg:  "orgs.path %[1]s, members.name %[1]s, members.id %[1]s",
	SortRole: "CASE members.role WHEN '" + models.RoleAdmin + "' THEN 1 WHEN '" + models.RoleSecretary +
		"' THEN 2 WHEN '" + models.RoleAide + "' THEN 3 ELSE 4 END %[1]s, orgs.path %[1]s, members.name %[1]s, members.id %[1]s",
	// Unbound members last either way (databases disagree on where NULLs sort).
	SortBound:   "CASE WHEN members.bound_at IS NULL THEN 1 ELSE 0 END, members.bound_at %[1]s, members.id %[1]s",
	SortCreated: "members.created_at %[1]s, members.id %[1]s",
}

// members is the scoped, filtered query of members joined with their orgs.
func (v *View) members(db *gorm.DB, f MemberFilter) (*gorm.DB, error) {
	q := db.Table("members").Joins("JOIN orgs ON orgs.id = members.org_id").Scopes(v.sc.Orgs)
	if f.OrgID != 0 {
		org, err := v.org(db, f.OrgID)
		if err != nil {
			return nil, err
		}
		q = q.Scopes(scope.Under(org.ID, org.Path).Orgs)
	}
	if s := strings.TrimSpace(f.Q); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		if digits := phoneDigits(s); digits != "" {
			q = q.Where("(LOWER(members.name) LIKE ? ESCAPE '!' OR members.phone LIKE ? ESCAPE '!')", like, "%"+digits+"%")
		} else {
			q = q.Where("LOWER(members.name) LIKE ? ESCAPE '!'", like)
		}
	}
	if f.Role != "" {
		role := bot.Normalize(f.Role)
		if !models.ValidRole(role) {
			return nil, console.Invalid("role", "角色应为%s之一", strings.Join(models.Roles, "、"))
		}
		q = q.Where("members.role = ?", role)
	}
	if f.Bound != nil {
		if *f.Bound {
			q = q.Where(boundSQL)
		} else {
			q = q.Where("NOT " + boundSQL)
		}
	}
	if f.Active != nil {
		q = q.Where("members.active = ?", *f.Active)
	}
	return q, nil
}

// Members lists a page of the scope's members and counts all that match.
func (v *View) Members(ctx context.Context, mq MemberQuery) ([]MemberRow, int64, error) {
	db := v.s.db.WithContext(ctx)
	q, err := v.members(db, mq.MemberFilter)
	if err != nil {
		return nil, 0, err
	}
	order, ok := memberOrder[mq.Sort]
	if !ok {
		order = memberOrder[SortName]
	}
	dir := "ASC"
	if mq.Desc {
		dir = "DESC"
	}
	limit := mq.Limit
	if limit <= 0 || limit > MaxExportRows {
		limit = MaxExportRows
	}
	var rows []MemberRow
	err = q.Select(memberColumns).Order(fmt.Sprintf(order, dir)).Offset(max(mq.Offset, 0)).Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("roster: list members: %w", err)
	}
	total := int64(mq.Offset + len(rows))
	if len(rows) == limit || (len(rows) == 0 && mq.Offset > 0) {
		// The page is full or past the end: count them all.
		if q, err = v.members(db, mq.MemberFilter); err != nil {
			return nil, 0, err
		}
		if err := q.Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("roster: count members: %w", err)
		}
	}
	return rows, total, nil
}

// Member is one member of the scope; scope.ErrNotFound when there is none with that id in it.
func (v *View) Member(ctx context.Context, id uint) (*MemberRow, error) {
	return v.memberRow(v.s.db.WithContext(ctx), id)
}

func (v *View) memberRow(db *gorm.DB, id uint) (*MemberRow, error) {
	var rows []MemberRow
	err := db.Table("members").Joins("JOIN orgs ON orgs.id = members.org_id").Scopes(v.sc.Orgs).
		Where("members.id = ?", id).Select(memberColumns).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("roster: member %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, scope.ErrNotFound
	}
	return &rows[0], nil
}

// MemberInput is a new member.
type MemberInput struct {
	Name, Phone, Role string
	OrgID             uint
}

// MemberChange is a change of a member; nil fields stay as they are. A new OrgID moves him.
type MemberChange struct {
	Name, Phone, Role *string
	OrgID             *uint
	Active            *bool
}

// memberRecord is a member as the audit log keeps him, before and after a change.
type memberRecord struct {
	ID      uint   `json:"id"`
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Role    string `json:"role"`
	OrgID   uint   `json:"org_id"`
	OrgPath string `json:"org_path"`
	Active  bool   `json:"active"`
	Bound   bool   `json:"bound"`
}

func recordOf(m *models.Member, orgPath string) memberRecord {
	return memberRecord{ID: m.ID, Name: m.Name, Phone: m.Phone, Role: m.Role, OrgID: m.OrgID, OrgPath: orgPath,
		Active: m.Active, Bound: m.Bound()}
}

// CreateMember adds a member to an org of the scope (scope.ErrForbidden outside it) with a fresh bind
// code. Bad input is a console.InputError naming the field.
func (v *View) CreateMember(ctx context.Context, in MemberInput) (*MemberRow, error) {
	name, phone, role, err := checkMember(in.Name, in.Phone, in.Role)
	if err != nil {
		return nil, err
	}
	var id uint
	err = v.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		org, err := v.targetOrg(tx, in.OrgID, "org_id")
		if err != nil {
			return err
		}
		if err := phoneFree(tx, phone, 0); err != nil {
			return err
		}
		codes, err := freshCodes(tx, 1)
		if err != nil {
			return err
		}
		now := v.s.now()
		m := &models.Member{Name: name, Phone: phone, Role: role, OrgID: org.ID, BindCode: &codes[0], Active: true,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Omit(clause.Associations).Create(m).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return console.Invalid("phone", "手机号已存在")
			}
			return fmt.Errorf("roster: create member: %w", err)
		}
		id = m.ID
		return v.record(ctx, tx, console.Change{
			Action: console.ActionCreate, Object: ObjectMember, ObjectID: m.ID, OrgPath: org.Path,
			Summary: fmt.Sprintf("新增人员 %s（%s，%s）", name, role, org.Path), After: recordOf(m, org.Path),
		})
	})
	if err != nil {
		return nil, err
	}
	return v.Member(ctx, id)
}

// UpdateMember changes a member of the scope (scope.ErrNotFound outside it); a move needs the target
// org in the scope too (scope.ErrForbidden). It returns the member as he is now and the audit actions
// the change made (none when nothing changed): console.ActionUpdate for name, phone or role,
// ActionMove, ActionDeactivate or ActionActivate, each recorded with the member before and after.
func (v *View) UpdateMember(ctx context.Context, id uint, ch MemberChange) (*MemberRow, []string, error) {
	var actions []string
	var forget []wechatID // whose cached identity is stale after the change
	err := v.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		actions, forget = nil, nil
		m, org, err := v.lockMember(tx, id)
		if err != nil {
			return err
		}
		before := recordOf(m, org.Path)
		updates := map[string]any{}
		var edits []string
		if ch.Name != nil || ch.Phone != nil || ch.Role != nil {
			name, phone, role := m.Name, m.Phone, m.Role
			if ch.Name != nil {
				name = *ch.Name
			}
			if ch.Phone != nil {
				phone = *ch.Phone
			}
			if ch.Role != nil {
				role = *ch.Role
			}
			if name, phone, role, err = checkMember(name, phone, role); err != nil {
				return err
			}
			if name != m.Name {
				edits = append(edits, fmt.Sprintf("姓名 %s→%s", m.Name, name))
				updates["name"], m.Name = name, name
			}
			if phone != m.Phone {
				if err := phoneFree(tx, phone, m.ID); err != nil {
					return err
				}
				edits = append(edits, fmt.Sprintf("手机号 %s→%s", web.MaskPhone(m.Phone), web.MaskPhone(phone)))
				updates["phone"], m.Phone = phone, phone
			}
			if role != m.Role {
				edits = append(edits, fmt.Sprintf("角色 %s→%s", m.Role, role))
				updates["role"], m.Role = role, role
			}
		}
		target := org
		if ch.OrgID != nil && *ch.OrgID != m.OrgID {
			if target, err = v.targetOrg(tx, *ch.OrgID, "org_id"); err != nil {
				return err
			}
			updates["org_id"], m.OrgID = target.ID, target.ID
		}
		activeChanged := ch.Active != nil && *ch.Active != m.Active
		if activeChanged {
			updates["active"], m.Active = *ch.Active, *ch.Active
			if m.Active && !m.Bound() && m.BindCode == nil {
				codes, err := freshCodes(tx, 1)
				if err != nil {
					return err
				}
				updates["bind_code"], m.BindCode = codes[0], &codes[0]
			}
		}
		if len(updates) == 0 {
			return nil
		}
		m.UpdatedAt = v.s.now()
		updates["updated_at"] = m.UpdatedAt
		if err := tx.Model(&models.Member{}).Where("id = ?", m.ID).Updates(updates).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return console.Invalid("phone", "手机号已存在")
			}
			return fmt.Errorf("roster: update member %d: %w", m.ID, err)
		}
		after := recordOf(m, target.Path)
		var changes []console.Change
		if len(edits) > 0 {
			changes = append(changes, console.Change{Action: console.ActionUpdate,
				Summary: fmt.Sprintf("修改人员 %s：%s", m.Name, strings.Join(edits, "，"))})
		}
		if target.ID != org.ID {
			changes = append(changes, console.Change{Action: console.ActionMove,
				Summary: fmt.Sprintf("调动人员 %s：%s → %s", m.Name, org.Path, target.Path)})
		}
		if activeChanged && m.Active {
			changes = append(changes, console.Change{Action: console.ActionActivate,
				Summary: fmt.Sprintf("启用人员 %s（%s）", m.Name, target.Path)})
		} else if activeChanged {
			changes = append(changes, console.Change{Action: console.ActionDeactivate,
				Summary: fmt.Sprintf("停用人员 %s（%s）", m.Name, target.Path)})
			if v.hooks.MemberDeactivated != nil {
				if err := v.hooks.MemberDeactivated(ctx, tx, m.ID); err != nil {
					return err
				}
			}
		}
		for _, c := range changes {
			c.Object, c.ObjectID, c.OrgPath, c.Before, c.After = ObjectMember, m.ID, target.Path, before, after
			if err := v.record(ctx, tx, c); err != nil {
				return err
			}
			actions = append(actions, c.Action)
		}
		// The bot caches who a WeChat user is (name, role, org, and that he is active).
		if len(changes) > 0 {
			forget = wechatIDs(m.OAOpenID, m.MPOpenID)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	v.forget(ctx, forget)
	row, err := v.Member(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return row, actions, nil
}

// SetActive deactivates or reactivates a member of the scope. A deactivated member keeps his data but
// can no longer use the bot (nor bind); a reactivated unbound member gets a bind code if he has none.
func (v *View) SetActive(ctx context.Context, id uint, active bool) (*MemberRow, error) {
	row, _, err := v.UpdateMember(ctx, id, MemberChange{Active: &active})
	return row, err
}

// NewBindCode replaces the bind code of an active, unbound member of the scope with a fresh one (the
// old code stops working: it may have been seen by someone else).
func (v *View) NewBindCode(ctx context.Context, id uint) (*MemberRow, error) {
	err := v.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, org, err := v.lockMember(tx, id)
		if err != nil {
			return err
		}
		// A member bound on one channel (the official account, say) may get a code for the other (the
		// mini-program); only a member bound on both needs none.
		switch {
		case m.OAOpenID != nil && m.MPOpenID != nil:
			return console.Invalid("bind_code", "%s 的公众号和小程序都已绑定，不需要绑定码", m.Name)
		case !m.Active:
			return console.Invalid("bind_code", "%s 已停用，请先启用", m.Name)
		}
		codes, err := freshCodes(tx, 1)
		if err != nil {
			return err
		}
		upd := tx.Model(&models.Member{}).
			Where("id = ? AND (oa_open_id IS NULL OR mp_open_id IS NULL)", m.ID).
			Updates(map[string]any{"bind_code": codes[0], "updated_at": v.s.now()})
		switch {
		case upd.Error != nil:
			return fmt.Errorf("roster: new bind code of member %d: %w", m.ID, upd.Error)
		case upd.RowsAffected == 0: // bound a moment ago
			return console.Invalid("bind_code", "%s 的公众号和小程序都已绑定，不需要绑定码", m.Name)
		}
		rec := recordOf(m, org.Path)
		return v.record(ctx, tx, console.Change{
			Action: console.ActionUpdate, Object: ObjectMember, ObjectID: m.ID, OrgPath: org.Path,
			Summary: fmt.Sprintf("重新生成绑定码：%s（%s）", m.Name, org.Path), Before: rec, After: rec,
		})
	})
	if err != nil {
		return nil, err
	}
	return v.Member(ctx, id)
}

// lockMember loads a member of the scope and his org for a change (locking his row where the database
// can).
func (v *View) lockMember(tx *gorm.DB, id uint) (*models.Member, *models.Org, error) {
	var ms []models.Member
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Scopes(v.sc.Members).
		Where("members.id = ?", id).Limit(1).Find(&ms).Error
	if err != nil {
		return nil, nil, fmt.Errorf("roster: load member %d: %w", id, err)
	}
	if len(ms) == 0 {
		return nil, nil, scope.ErrNotFound
	}
	var org models.Org
	if err := tx.Take(&org, ms[0].OrgID).Error; err != nil {
		return nil, nil, fmt.Errorf("roster: org of member %d: %w", id, err)
	}
	return &ms[0], &org, nil
}

// wechatID is a WeChat user on a channel.
type wechatID struct{ channel, openID string }

// wechatIDs are a member's WeChat users (his openids, nil when unbound).
func wechatIDs(oa, mp *string) []wechatID {
	var ids []wechatID
	if oa != nil {
		ids = append(ids, wechatID{bot.ChannelOA, *oa})
	}
	if mp != nil {
		ids = append(ids, wechatID{bot.ChannelMP, *mp})
	}
	return ids
}

// forget drops the cached identities of WeChat users after a change to their member committed. A
// failure only delays the change reaching the bot by kv.IdentityTTL, so it is logged, not returned.
func (v *View) forget(ctx context.Context, ids []wechatID) {
	if v.hooks.Identities == nil {
		return
	}
	for _, id := range ids {
		if err := v.hooks.Identities.InvalidateIdentity(ctx, id.channel, id.openID); err != nil {
			v.s.log.WarnContext(ctx, "roster: could not drop a cached identity; it expires by itself", "channel", id.channel, "err", err)
		}
	}
}

func (v *View) record(ctx context.Context, tx *gorm.DB, ch console.Change) error {
	if v.hooks.Record == nil {
		return nil
	}
	return v.hooks.Record(ctx, tx, ch)
}

// checkMember checks and normalizes a member's name, phone number and role.
func checkMember(name, phone, role string) (string, string, string, error) {
	name = normalizeName(name)
	switch {
	case name == "":
		return "", "", "", console.Invalid("name", "请填写姓名")
	case utf8.RuneCountInString(name) > 64:
		return "", "", "", console.Invalid("name", "姓名太长（最多64个字）")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", "", "", console.Invalid("name", "姓名含有不可见字符")
	}
	if strings.TrimSpace(phone) == "" {
		return "", "", "", console.Invalid("phone", "请填写手机号")
	}
	p, ok := NormalizePhone(phone)
	if !ok {
		return "", "", "", console.Invalid("phone", "手机号「%s」不是有效的手机号（应为1开头的11位数字）", truncateRunes(strings.TrimSpace(phone), 20))
	}
	r := bot.Normalize(role)
	if !models.ValidRole(r) {
		return "", "", "", console.Invalid("role", "请选择角色（%s）", strings.Join(models.Roles, "、"))
	}
	return name, p, r, nil
}

// phoneFree is an InputError when another member (of any org: phone numbers are unique) has phone.
func phoneFree(tx *gorm.DB, phone string, self uint) error {
	var n int64
	if err := tx.Model(&models.Member{}).Where("phone = ? AND id <> ?", phone, self).Count(&n).Error; err != nil {
		return fmt.Errorf("roster: check phone: %w", err)
	}
	if n > 0 {
		return console.Invalid("phone", "手机号已存在")
	}
	return nil
}

// OrgNode is an org of the scope with the active members of its subtree (the org and everything under
// it) and how many of them have bound WeChat.
type OrgNode struct {
	ID       uint
	ParentID *uint
	Name     string
	Path     string
	Level    int
	Members  int64
	Bound    int64
	Children []*OrgNode `gorm:"-"`
}

// Unbound is how many active members of the subtree have not bound WeChat.
func (o *OrgNode) Unbound() int64 { return o.Members - o.Bound }

// Orgs lists the orgs of the scope by path, without counts (for choosing one).
func (v *View) Orgs(ctx context.Context) ([]*OrgNode, error) {
	var orgs []*OrgNode
	err := v.s.db.WithContext(ctx).Model(&models.Org{}).Scopes(v.sc.Orgs).
		Select("orgs.id, orgs.parent_id, orgs.name, orgs.path, orgs.level").Scan(&orgs).Error
	if err != nil {
		return nil, fmt.Errorf("roster: list orgs: %w", err)
	}
	// In Go, not SQL: the tree order must not depend on the database's collation.
	sort.Slice(orgs, func(i, j int) bool { return pathLess(orgs[i].Path, orgs[j].Path) })
	return orgs, nil
}

// pathLess orders org paths so that an org comes right before its subtree.
func pathLess(a, b string) bool {
	return strings.ReplaceAll(a, "/", "\x00") < strings.ReplaceAll(b, "/", "\x00")
}

// OrgTree is the org tree of the scope with member counts: the orgs by path, each with its children,
// and the roots (orgs whose parent is outside the scope).
func (v *View) OrgTree(ctx context.Context) (all, roots []*OrgNode, err error) {
	all, err = v.Orgs(ctx)
	if err != nil {
		return nil, nil, err
	}
	var counts []struct {
		OrgID          uint
		Members, Bound int64
	}
	err = v.s.db.WithContext(ctx).Model(&models.Member{}).Scopes(v.sc.Members).Where("members.active = ?", true).
		Select("members.org_id, COUNT(*) AS members, SUM(CASE WHEN " + boundSQL + " THEN 1 ELSE 0 END) AS bound").
		Group("members.org_id").Scan(&counts).Error
	if err != nil {
		return nil, nil, fmt.Errorf("roster: count members by org: %w", err)
	}
	byID := make(map[uint]*OrgNode, len(all))
	for _, o := range all {
		byID[o.ID] = o
	}
	for _, c := range counts {
		for o := byID[c.OrgID]; o != nil; {
			o.Members += c.Members
			o.Bound += c.Bound
			if o.ParentID == nil {
				break
			}
			o = byID[*o.ParentID]
		}
	}
	for _, o := range all { // parents come first in path order, so children stay in order
		if p := parentIn(byID, o); p != nil {
			p.Children = append(p.Children, o)
		} else {
			roots = append(roots, o)
		}
	}
	return all, roots, nil
}

func parentIn(byID map[uint]*OrgNode, o *OrgNode) *OrgNode {
	if o.ParentID == nil {
		return nil
	}
	return byID[*o.ParentID]
}

// Org is one org of the scope with its counts; scope.ErrNotFound outside it.
func (v *View) Org(ctx context.Context, id uint) (*OrgNode, error) {
	db := v.s.db.WithContext(ctx)
	org, err := v.org(db, id)
	if err != nil {
		return nil, err
	}
	n := &OrgNode{ID: org.ID, ParentID: org.ParentID, Name: org.Name, Path: org.Path, Level: org.Level}
	var c struct{ Members, Bound int64 }
	err = db.Model(&models.Member{}).Scopes(scope.Under(org.ID, org.Path).Members).Where("members.active = ?", true).
		Select("COUNT(*) AS members, COALESCE(SUM(CASE WHEN " + boundSQL + " THEN 1 ELSE 0 END), 0) AS bound").
		Scan(&c).Error
	if err != nil {
		return nil, fmt.Errorf("roster: count members of org %d: %w", id, err)
	}
	n.Members, n.Bound = c.Members, c.Bound
	return n, nil
}

// org loads an org of the scope; scope.ErrNotFound outside it.
func (v *View) org(db *gorm.DB, id uint) (*models.Org, error) {
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(v.sc.Orgs).Where("orgs.id = ?", id).Limit(1).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("roster: org %d: %w", id, err)
	}
	if len(orgs) == 0 {
		return nil, scope.ErrNotFound
	}
	return &orgs[0], nil
}

// targetOrg is the org a change puts something in: scope.ErrForbidden outside the scope (for the
// whole installation's scope, an InputError: the org does not exist).
func (v *View) targetOrg(tx *gorm.DB, id uint, field string) (*models.Org, error) {
	if id == 0 {
		return nil, console.Invalid(field, "请选择组织")
	}
	org, err := v.org(tx, id)
	if errors.Is(err, scope.ErrNotFound) {
		if v.sc.All {
			return nil, console.Invalid(field, "组织不存在")
		}
		return nil, scope.ErrForbidden
	}
	return org, err
}

// CreateOrg adds an org named name under the org parentID of the scope (scope.ErrForbidden outside
// it).
func (v *View) CreateOrg(ctx context.Context, parentID uint, name string) (*OrgNode, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, console.Invalid("name", "请填写组织名称")
	case strings.ContainsAny(name, "/／"):
		return nil, console.Invalid("name", "名称里不能有“/”，只填这一级的名称")
	}
	var node *OrgNode
	err := v.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		parent, err := v.targetOrg(tx, parentID, "parent_id")
		if err != nil {
			return err
		}
		names, reason := splitOrgPath(parent.Path + "/" + name)
		if reason != "" {
			return console.Invalid("name", "%s", reason)
		}
		path := strings.Join(names, "/")
		var n int64
		if err := tx.Model(&models.Org{}).Where("path = ?", path).Count(&n).Error; err != nil {
			return fmt.Errorf("roster: check org: %w", err)
		}
		if n > 0 {
			return console.Invalid("name", "%s 下已有「%s」", parent.Name, names[len(names)-1])
		}
		org, err := v.s.EnsureOrgPath(ctx, tx, path)
		if err != nil {
			return err
		}
		node = &OrgNode{ID: org.ID, ParentID: org.ParentID, Name: org.Name, Path: org.Path, Level: org.Level}
		return v.record(ctx, tx, console.Change{
			Action: console.ActionCreate, Object: ObjectOrg, ObjectID: org.ID, OrgPath: org.Path,
			Summary: "新建组织 " + org.Path,
			After:   map[string]any{"id": org.ID, "parent_id": org.ParentID, "name": org.Name, "path": org.Path, "level": org.Level},
		})
	})
	if err != nil {
		return nil, err
	}
	return node, nil
}

// Unbound lists the active members of the org subtree at orgID (scope.ErrNotFound outside the scope)
// who have no WeChat bound, with their bind codes (issuing the missing ones): the slips of a bind
// sheet.
func (v *View) Unbound(ctx context.Context, orgID uint) (*OrgNode, []UnboundMember, error) {
	org, err := v.org(v.s.db.WithContext(ctx), orgID)
	if err != nil {
		return nil, nil, err
	}
	ms, err := v.s.UnboundMembers(ctx, org.Path)
	if err != nil {
		return nil, nil, err
	}
	return &OrgNode{ID: org.ID, ParentID: org.ParentID, Name: org.Name, Path: org.Path, Level: org.Level}, ms, nil
}

// Import imports a roster file into the scope: rows of orgs outside it, or with the phone number of a
// member outside it, are refused as row errors. The import is audited (ActionImport) in its own
// transaction.
func (v *View) Import(ctx context.Context, r io.Reader, filename string) (*ImportResult, error) {
	res, err := v.s.Import(ctx, r, filename, WithinScope(v.sc), afterImport(func(tx *gorm.DB, res *ImportResult) error {
		errs := make([]map[string]any, len(res.Errors))
		for i, e := range res.Errors {
			errs[i] = map[string]any{"line": e.Line, "reason": e.Reason}
		}
		return v.record(ctx, tx, console.Change{
			Action: console.ActionImport, Object: ObjectRoster, OrgPath: v.sc.Path,
			Summary: fmt.Sprintf("导入花名册 %s：新增 %d，更新 %d，未变 %d，错误 %d 行",
				filename, res.Created, res.Updated, res.Unchanged, len(res.Errors)),
			After: map[string]any{"file": filename, "created": res.Created, "updated": res.Updated,
				"unchanged": res.Unchanged, "errors": errs},
		})
	}))
	if err != nil {
		return nil, err
	}
	// Updated members may be bound: their cached identities are stale now.
	if len(res.updated) > 0 && v.hooks.Identities != nil {
		type openIDs struct{ OA, MP *string }
		var bound []openIDs
		for start := 0; start < len(res.updated); start += 500 {
			var chunk []openIDs
			err := v.s.db.WithContext(ctx).Table("members").Select("oa_open_id AS oa, mp_open_id AS mp").
				Where("id IN ? AND "+boundSQL, res.updated[start:min(start+500, len(res.updated))]).Scan(&chunk).Error
			if err != nil {
				v.s.log.WarnContext(ctx, "roster: import: find bound members to refresh", "err", err)
				break
			}
			bound = append(bound, chunk...)
		}
		var forget []wechatID
		for _, b := range bound {
			forget = append(forget, wechatIDs(b.OA, b.MP)...)
		}
		v.forget(ctx, forget)
	}
	return res, nil
}

// escapeLike escapes s for LIKE ... ESCAPE '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// phoneDigits is the digits of s when s looks like (part of) a phone number: digits with spaces,
// dashes or a leading +; "" otherwise.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '+':
		default:
			return ""
		}
	}
	return b.String()
}
