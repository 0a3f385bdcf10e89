package models

import "time"

// Request kinds and states: what a member asks his village secretary to decide.
const (
	RequestLeave   = "leave"   // 请假: From..To days, Reason
	RequestMakeup  = "makeup"  // 补卡: Day, CheckKind, At (the time he says he was there), Reason
	RequestOffsite = "offsite" // 外勤: the pending CheckIn (CheckInID), Reason

	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
	RequestCanceled = "canceled"
)

// AttendRequest is a leave, make-up (补卡) or off-site (外勤) request. OrgID is the member's village:
// the secretaries of that org (and administrators above it) decide.
type AttendRequest struct {
	ID        uint   `gorm:"primaryKey"`
	MemberID  uint   `gorm:"not null;index"`
	OrgID     uint   `gorm:"not null;index:idx_attreq_org_state"`
	Kind      string `gorm:"size:16;not null"`
	State     string `gorm:"size:16;not null;index:idx_attreq_org_state"`
	From      string `gorm:"size:10"` // leave: first day "YYYY-MM-DD"; make-up: the day
	To        string `gorm:"size:10"` // leave: last day (inclusive)
	CheckKind string `gorm:"size:8"`  // make-up: in / out
	At        *time.Time
	CheckInID *uint64 // off-site: the pending check-in
	Reason    string  `gorm:"size:200;not null"`
	DecidedBy string  `gorm:"size:64"` // who decided: a console username or "member:ID" (a secretary in the chat)
	DecidedAt *time.Time
	Note      string `gorm:"size:200"` // the decider's remark
	CreatedAt time.Time
	UpdatedAt time.Time
}

// requestModels are migrated by Migrate (see migrate.go).
func requestModels() []any { return []any{&AttendRequest{}} }
