package roster

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// ErrOrgNotFound: no org has that path.
var ErrOrgNotFound = errors.New("roster: org not found")

// openIDColumn is the members column holding a channel's openid.
func openIDColumn(channel string) (string, error) {
	switch channel {
	case bot.ChannelOA:
		return "oa_open_id", nil
	case bot.ChannelMP:
		return "mp_open_id", nil
	}
	return "", fmt.Errorf("%w %q", ErrBadChannel, channel)
}

// Bind links the WeChat user openid on channel (bot.ChannelOA or bot.ChannelMP) to the member holding
// code, and uses the code up. The code is matched case-insensitively, full-width folded. Errors:
// ErrCodeInvalid (unknown or already used), ErrMemberInactive, and ErrAlreadyBound, returned together
// with the member this openid is already bound to.
func (s *Service) Bind(ctx context.Context, channel, openID, code string) (*models.Member, error) {
	col, err := openIDColumn(channel)
	if err != nil {
		return nil, err
	}
	if openID == "" {
		return nil, errors.New("roster: bind: empty openid")
	}
	db := s.db.WithContext(ctx)
	if m, err := s.memberBy(db, col, openID); err != nil {
		return nil, err
	} else if m != nil && m.Active {
		return m, ErrAlreadyBound
	} else if m != nil {
		// Bound to a member who has left the roster: the router already treats this user as unbound
		// (and so would refuse him 解绑), so let the new binding take the openid over.
		err := db.Model(&models.Member{}).Where("id = ? AND active = ? AND "+col+" = ?", m.ID, false, openID).
			Update(col, nil).Error
		if err != nil {
			return nil, fmt.Errorf("roster: bind: release openid of inactive member %d: %w", m.ID, err)
		}
	}
	if code = NormalizeCode(code); code == "" {
		return nil, ErrCodeInvalid
	}
	var m models.Member
	switch err := db.Where("bind_code = ?", code).Take(&m).Error; {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, ErrCodeInvalid
	case err != nil:
		return nil, fmt.Errorf("roster: bind: find code: %w", err)
	case !m.Active:
		return nil, ErrMemberInactive
	}
	// One conditional UPDATE both binds and consumes the code: of two binds racing with one code, the
	// second finds bind_code already NULL and changes nothing.
	now := s.now()
	upd := db.Model(&models.Member{}).
		Where("id = ? AND bind_code = ? AND active = ? AND "+col+" IS NULL", m.ID, code, true).
		Updates(map[string]any{col: openID, "bind_code": nil, "bound_at": now, "updated_at": now})
	switch {
	case errors.Is(upd.Error, gorm.ErrDuplicatedKey):
		// The same openid was bound a moment ago with another code.
		if other, err := s.memberBy(db, col, openID); err == nil && other != nil {
			return other, ErrAlreadyBound
		}
		return nil, ErrAlreadyBound
	case upd.Error != nil:
		return nil, fmt.Errorf("roster: bind member %d: %w", m.ID, upd.Error)
	case upd.RowsAffected == 0:
		return nil, ErrCodeInvalid
	}
	bound, err := s.memberBy(db, "id", m.ID)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "roster: bound", "member", m.ID, "channel", channel)
	return bound, nil
}

// Unbind unlinks the WeChat user openid on channel from his member and gives the member a fresh bind
// code (unless he still has one), so he or his secretary can bind again. ErrNotBound if he is not
// bound.
func (s *Service) Unbind(ctx context.Context, channel, openID string) (*models.Member, error) {
	col, err := openIDColumn(channel)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	for attempt := 0; ; attempt++ {
		m, err := s.memberBy(db, col, openID)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, ErrNotBound
		}
		other := "mp_open_id"
		if col == other {
			other = "oa_open_id"
		}
		updates := map[string]any{
			col:          nil,
			"bound_at":   gorm.Expr("CASE WHEN " + other + " IS NULL THEN NULL ELSE bound_at END"),
			"updated_at": s.now(),
		}
		if m.BindCode == nil && m.Active {
			codes, err := freshCodes(db, 1)
			if err != nil {
				return nil, err
			}
			updates["bind_code"] = gorm.Expr("COALESCE(bind_code, ?)", codes[0])
		}
		// One statement, guarded by the openid: a concurrent unbind of the same user changes nothing.
		upd := db.Model(&models.Member{}).Where("id = ? AND "+col+" = ?", m.ID, openID).Updates(updates)
		switch {
		case errors.Is(upd.Error, gorm.ErrDuplicatedKey) && attempt < 3:
			continue // the fresh code was taken in the meantime: draw another
		case upd.Error != nil:
			return nil, fmt.Errorf("roster: unbind member %d: %w", m.ID, upd.Error)
		case upd.RowsAffected == 0:
			return nil, ErrNotBound
		}
		s.log.InfoContext(ctx, "roster: unbound", "member", m.ID, "channel", channel)
		return s.memberBy(db, "id", m.ID)
	}
}

// memberBy loads the member whose column col equals v, with his org; nil if none.
func (s *Service) memberBy(db *gorm.DB, col string, v any) (*models.Member, error) {
	var ms []models.Member
	if err := db.Preload("Org").Where(col+" = ?", v).Limit(1).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("roster: find member by %s: %w", col, err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return &ms[0], nil
}

// MemberByOpenID is the identity of the active member bound to openid on channel, or (nil, nil) when
// there is none. It is the router's identity lookup on a cache miss: one query on a unique index.
func (s *Service) MemberByOpenID(ctx context.Context, channel, openID string) (*bot.Member, error) {
	col, err := openIDColumn(channel)
	if err != nil {
		return nil, err
	}
	var rows []bot.Member
	err = s.db.WithContext(ctx).Raw(
		"SELECT m.id, m.name, m.role, m.org_id, o.path AS org_path FROM members m JOIN orgs o ON o.id = m.org_id"+
			" WHERE m."+col+" = ? AND m.active = ?", openID, true).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("roster: member by openid: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// subtree restricts a members query to the org subtree at path ("" = everything). It reports
// ErrOrgNotFound for a path no org has.
func (s *Service) subtree(db *gorm.DB, q *gorm.DB, path string) (*gorm.DB, error) {
	if path == "" {
		return q, nil
	}
	canon, _, err := ParseOrgPath(path)
	if err != nil {
		return nil, err
	}
	var n int64
	if err := db.Model(&models.Org{}).Where("path = ?", canon).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("roster: find org: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s", ErrOrgNotFound, canon)
	}
	return q.Scopes(scope.Under(0, canon).Members), nil
}

// EnsureBindCodes gives every active member of the org subtree at orgPath ("" = all) who has no WeChat
// bound and no bind code a fresh one. It returns how many codes it issued.
func (s *Service) EnsureBindCodes(ctx context.Context, orgPath string) (int, error) {
	db := s.db.WithContext(ctx)
	q, err := s.subtree(db, db.Model(&models.Member{}).
		Where("members.active = ? AND members.oa_open_id IS NULL AND members.mp_open_id IS NULL AND members.bind_code IS NULL", true),
		orgPath)
	if err != nil {
		return 0, err
	}
	var ms []*models.Member
	if err := q.Find(&ms).Error; err != nil {
		return 0, fmt.Errorf("roster: members without a bind code: %w", err)
	}
	if err := s.assignCodes(db, ms); err != nil {
		return 0, err
	}
	return len(ms), nil
}

// assignCodes gives each member (unbound, without a code) a fresh code, and sets it on ms. A member who
// got bound or coded in the meantime is left alone and reloaded.
func (s *Service) assignCodes(db *gorm.DB, ms []*models.Member) error {
	if len(ms) == 0 {
		return nil
	}
	codes, err := freshCodes(db, len(ms))
	if err != nil {
		return err
	}
	for i, m := range ms {
		upd := db.Table("members").
			Where("id = ? AND bind_code IS NULL AND oa_open_id IS NULL AND mp_open_id IS NULL", m.ID).
			Update("bind_code", codes[i])
		if upd.Error != nil {
			return fmt.Errorf("roster: set bind code of member %d: %w", m.ID, upd.Error)
		}
		if upd.RowsAffected == 1 {
			m.BindCode = &codes[i]
			continue
		}
		if err := db.Take(m, m.ID).Error; err != nil {
			return fmt.Errorf("roster: reload member %d: %w", m.ID, err)
		}
	}
	return nil
}

// UnboundMembers lists the active members of the org subtree at orgPath ("" = all) who have no WeChat
// bound, with their bind codes (issuing the missing ones first), ordered by org and name: the rows of
// a printable bind sheet.
func (s *Service) UnboundMembers(ctx context.Context, orgPath string) ([]UnboundMember, error) {
	if _, err := s.EnsureBindCodes(ctx, orgPath); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	q, err := s.subtree(db, db.Table("members").
		Select("members.id, members.name, members.phone, members.role, orgs.path AS org_path, members.bind_code").
		Joins("JOIN orgs ON orgs.id = members.org_id").
		Where("members.active = ? AND members.oa_open_id IS NULL AND members.mp_open_id IS NULL AND members.bind_code IS NOT NULL", true),
		orgPath)
	if err != nil {
		return nil, err
	}
	var out []UnboundMember
	if err := q.Order("orgs.path, members.name, members.id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("roster: list unbound members: %w", err)
	}
	return out, nil
}
