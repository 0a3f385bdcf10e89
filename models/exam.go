package models

import "time"

// Exam is a completion test (结业测试) for the members of an org's subtree: questions drawn from the
// bank by Quota (a JSON object of question type → count, e.g. {"单选":5,"判断":5}) among the questions
// with any of Tags (comma list; empty = any), answered within TimeLimit minutes (0 = no limit), passed
// at PassMark percent, taken at most MaxAttempts times, open from OpensAt until ClosesAt.
type Exam struct {
	ID          uint      `gorm:"primaryKey"`
	OrgID       uint      `gorm:"not null;index"`
	Org         Org       `gorm:"constraint:OnDelete:CASCADE"`
	Title       string    `gorm:"size:128;not null"`
	Quota       string    `gorm:"size:512;not null"`
	Tags        string    `gorm:"size:512;not null"`
	TimeLimit   int       `gorm:"not null"` // minutes
	PassMark    int       `gorm:"not null"` // percent
	MaxAttempts int       `gorm:"not null"`
	OpensAt     time.Time `gorm:"not null"`
	ClosesAt    time.Time `gorm:"not null;index"`
	CreatedBy   string    `gorm:"size:64;not null"` // the console username
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ExamAttempt is one member's N-th attempt at an exam (member, exam and N are unique, so two starts at
// once make one attempt). Items is a JSON array of the questions in the order asked, each with the
// member's shuffled option order and his answer (in the bank's terms) once given. Score is the percent
// of right answers once finished; an unanswered question counts wrong. DueAt is when the time limit
// ends (nil: no limit).
type ExamAttempt struct {
	ID           uint64    `gorm:"primaryKey"`
	MemberID     uint      `gorm:"not null;uniqueIndex:idx_exam_attempt_member_exam_n,priority:1"`
	Member       Member    `gorm:"constraint:OnDelete:CASCADE"`
	ExamID       uint      `gorm:"not null;uniqueIndex:idx_exam_attempt_member_exam_n,priority:2;index"`
	Exam         Exam      `gorm:"constraint:OnDelete:CASCADE"`
	N            int       `gorm:"not null;uniqueIndex:idx_exam_attempt_member_exam_n,priority:3"`
	Items        string    `gorm:"type:text;not null"`
	Total        int       `gorm:"not null"`
	Answered     int       `gorm:"not null"`
	RightAnswers int       `gorm:"not null"` // set when finished
	Score        int       `gorm:"not null"` // percent, set when finished
	Passed       bool      `gorm:"not null"`
	StartedAt    time.Time `gorm:"not null"`
	DueAt        *time.Time
	FinishedAt   *time.Time
}

// RemedialStudy (回炉补课) is a member who failed an exam: his daily study tasks get extra questions
// with Tags (comma list; empty = any) while the exam is open, until he passes a retake.
type RemedialStudy struct {
	ID        uint64 `gorm:"primaryKey"`
	MemberID  uint   `gorm:"not null;uniqueIndex:idx_remedial_member_exam,priority:1"`
	Member    Member `gorm:"constraint:OnDelete:CASCADE"`
	ExamID    uint   `gorm:"not null;uniqueIndex:idx_remedial_member_exam,priority:2"`
	Exam      Exam   `gorm:"constraint:OnDelete:CASCADE"`
	Tags      string `gorm:"size:512;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// The evening study reminder's models live here beside the exam's, both being the study capability's
// additions to the daily task.

// Reminder states.
const (
	ReminderSending = "sending" // claimed: being sent (or the process died while sending: never resent)
	ReminderSent    = "sent"
	ReminderFailed  = "failed" // WeChat refused it for good (ErrCode)
)

// Reminder channels.
const (
	ReminderViaText     = "text"     // a customer-service message, inside the 48-hour window
	ReminderViaTemplate = "template" // a template message, outside it
)

// StudyReminder is the evening reminder of one member on one day (Day "2006-01-02" in YANZHEN_TZ).
// The row is claimed before anything is sent, and member and day are unique, so a member never gets
// two reminders for a day; a retryable failure deletes it again so that a later run retries.
type StudyReminder struct {
	ID        uint64 `gorm:"primaryKey"`
	MemberID  uint   `gorm:"not null;uniqueIndex:idx_study_reminder_member_day,priority:1"`
	Member    Member `gorm:"constraint:OnDelete:CASCADE"`
	Day       string `gorm:"size:10;not null;uniqueIndex:idx_study_reminder_member_day,priority:2;index"`
	Status    string `gorm:"size:8;not null"`
	Via       string `gorm:"size:8;not null"`
	ErrCode   int    `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RemindStop is a member who gets no more reminders: WeChat refused one for good because of him
// (ErrCode 43004 not following, 40003 bad openid, 43101 no authorization left), At then. It ends when
// he writes to the official account again.
type RemindStop struct {
	MemberID uint      `gorm:"primaryKey;autoIncrement:false"`
	Member   Member    `gorm:"constraint:OnDelete:CASCADE"`
	ErrCode  int       `gorm:"not null"`
	At       time.Time `gorm:"not null"`
}
