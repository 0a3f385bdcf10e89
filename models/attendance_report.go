package models

import "time"

// AttendanceThresholds are a county's choices for attendance reports (OrgID is the county): the
// attendance rate (percent) at or above Green is green, at or above Yellow yellow, else red; and
// whether its public board (晾晒) of every village's rate is shown to every viewer of the county.
// Without a row, the reports' defaults apply and the board is off: national rules discourage
// rankings of people, so a county turns it on by choice.
type AttendanceThresholds struct {
	OrgID       uint `gorm:"primaryKey;autoIncrement:false"`
	Org         Org  `gorm:"constraint:OnDelete:CASCADE"`
	Green       int  `gorm:"not null"`
	Yellow      int  `gorm:"not null"`
	BoardPublic bool `gorm:"not null;default:false"`
	UpdatedAt   time.Time
}

// AttendanceDigest is the weekly attendance summary pushed to one member (a village's 书记, a town's
// 管理员) for one week (Week: its Monday, "2006-01-02"). The row is claimed before anything is sent
// and member and week are unique, so nobody gets two summaries of a week, whatever the processes do;
// a retryable failure deletes it again so that a later run retries.
type AttendanceDigest struct {
	ID        uint64 `gorm:"primaryKey"`
	MemberID  uint   `gorm:"not null;uniqueIndex:idx_attdigest_member_week,priority:1"`
	Member    Member `gorm:"constraint:OnDelete:CASCADE"`
	Week      string `gorm:"size:10;not null;uniqueIndex:idx_attdigest_member_week,priority:2;index"`
	OrgID     uint   `gorm:"not null"` // the org summarized
	Status    string `gorm:"size:8;not null"`
	Via       string `gorm:"size:8;not null"`
	ErrCode   int64  `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Weekly digest statuses.
const (
	DigestSending = "sending" // claimed, being sent
	DigestSent    = "sent"
	DigestFailed  = "failed"  // refused for good, or no way to reach him
	DigestUnknown = "unknown" // the send timed out: it may have arrived, so it is not repeated
)

// reportModels are migrated by Migrate (see migrate.go).
func reportModels() []any { return []any{&AttendanceThresholds{}, &AttendanceDigest{}} }
