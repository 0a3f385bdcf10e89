package models

import "time"

// Roles, as they are written in roster files and shown to users.
const (
	RoleAide      = "党建专干"
	RoleSecretary = "书记"
	RoleMember    = "党员"
	RoleAdmin     = "管理员"
)

// Roles lists the valid roles.
var Roles = []string{RoleAide, RoleSecretary, RoleMember, RoleAdmin}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Member is a person on the roster. Phone is the natural key of roster imports. OAOpenID / MPOpenID
// are set while the member's WeChat is bound; BindCode is the one-time code that binds it (nil once
// used). Pointers make the unique indexes ignore unset values.
type Member struct {
	ID        uint    `gorm:"primaryKey"`
	Name      string  `gorm:"size:64;not null"`
	Phone     string  `gorm:"size:20;not null;uniqueIndex"`
	Role      string  `gorm:"size:16;not null;index"`
	OrgID     uint    `gorm:"not null;index"`
	Org       Org     `gorm:"constraint:OnDelete:RESTRICT"`
	OAOpenID  *string `gorm:"column:oa_open_id;size:64;uniqueIndex"`
	MPOpenID  *string `gorm:"column:mp_open_id;size:64;uniqueIndex"`
	UnionID   *string `gorm:"size:64;index"`
	BindCode  *string `gorm:"size:16;uniqueIndex"`
	BoundAt   *time.Time
	Active    bool `gorm:"not null;default:true"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Bound reports whether any WeChat identity is linked to the member.
func (m *Member) Bound() bool { return m.OAOpenID != nil || m.MPOpenID != nil }
