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
func requestModels() []any { return []any{&AttendRequest{}, &RequestQuota{}} }

// RequestQuota is a county's limits on requests, set in the console by its administrators; a county
// without a row uses DefaultLeaveDays and DefaultMakeupsPerMonth. It applies to every member under the
// county (OrgID).
type RequestQuota struct {
	OrgID          uint   `gorm:"primaryKey;autoIncrement:false"`
	LeaveDays      int    `gorm:"not null"` // days of leave per member per calendar year
	MakeupPerMonth int    `gorm:"not null"` // make-up (补卡) requests per member per month
	UpdatedBy      string `gorm:"size:64"`
	UpdatedAt      time.Time
}

// Default request quotas (a county that set none).
const (
	DefaultLeaveDays       = 21
	DefaultMakeupsPerMonth = 3
)
