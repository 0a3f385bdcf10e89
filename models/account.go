package models

import "time"

// Console roles. An account's scope is the subtree of its org; its role says what it may change there.
const (
	// ConsoleAdmin manages the roster, console accounts and everything else in its subtree (a county or
	// town organization department).
	ConsoleAdmin = "admin"
	// ConsoleSecretary sees and manages the people of his subtree (a village secretary), but not
	// console accounts.
	ConsoleSecretary = "secretary"
)

// Account is a console login: the bootstrap administrator, or a 书记 / 管理员 member given a login
// (MemberID set). OrgID is the root of everything the account may see; nil (only for administrators,
// e.g. the bootstrap administrator) is the whole installation.
type Account struct {
	ID           uint   `gorm:"primaryKey"`
	Username     string `gorm:"size:64;not null;uniqueIndex"`
	DisplayName  string `gorm:"size:64;not null"`
	PasswordHash string `gorm:"size:128;not null"`
	Role         string `gorm:"size:16;not null"`
	OrgID        *uint  `gorm:"index"`
	Org          *Org   `gorm:"constraint:OnDelete:RESTRICT"`
	MemberID     *uint  `gorm:"uniqueIndex"`
	Active       bool   `gorm:"not null;default:true"`
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIToken lets automation call /api/v1 as an account. Only the SHA-256 of the token is stored; the
// token itself is shown once when it is made.
type APIToken struct {
	ID         uint    `gorm:"primaryKey"`
	AccountID  uint    `gorm:"not null;index"`
	Account    Account `gorm:"constraint:OnDelete:CASCADE"`
	Name       string  `gorm:"size:64;not null"`
	Hash       string  `gorm:"size:64;not null;uniqueIndex"`
	Prefix     string  `gorm:"size:16;not null"` // the token's first characters, to recognise it in a list
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// AuditEntry records one change made in the console or the API, or one look at or export of personal
// data: who, what, when, and the object before and after (JSON).
type AuditEntry struct {
	ID        uint64    `gorm:"primaryKey"`
	At        time.Time `gorm:"not null;index"`
	AccountID *uint     `gorm:"index"`
	Username  string    `gorm:"size:64;not null"`
	OrgPath   string    `gorm:"size:512;not null;index"` // the org the object belongs to: who may read the entry
	Action    string    `gorm:"size:32;not null"`
	Object    string    `gorm:"size:32;not null"`
	ObjectID  string    `gorm:"size:64;not null"`
	Summary   string    `gorm:"size:256;not null"`
	Before    string    `gorm:"type:text"`
	After     string    `gorm:"type:text"`
	IP        string    `gorm:"size:64;not null"`
}
