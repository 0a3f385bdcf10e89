package models

import "time"

// Meetings (三会一课 and others) and their attendance. Owned by the meetings part.

// Meeting types, as secretaries name them.
const (
	MeetingGeneral   = "支部党员大会"
	MeetingCommittee = "支部委员会"
	MeetingGroup     = "党小组会"
	MeetingLecture   = "党课"
	MeetingThemeDay  = "主题党日"
)

// MeetingTypes lists the valid meeting types, in the order forms offer them.
var MeetingTypes = []string{MeetingCommittee, MeetingGeneral, MeetingGroup, MeetingLecture, MeetingThemeDay}

// ValidMeetingType reports whether t is one of MeetingTypes.
func ValidMeetingType(t string) bool {
	for _, x := range MeetingTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Meeting is one meeting of an org, held from StartAt to EndAt at Place. Members check in with Code
// (6 digits, unique among meetings that have not ended) or by scanning its QR code (scene meet:ID).
// A meeting entered with a start already in the past is BackEntered (补录): it has no code, and only
// the secretary records its attendance.
type Meeting struct {
	ID          uint      `gorm:"primaryKey"`
	OrgID       uint      `gorm:"not null;index:idx_meeting_org_start"`
	Type        string    `gorm:"size:16;not null"`
	Title       string    `gorm:"size:100;not null"` // the topic; may be empty
	Place       string    `gorm:"size:100;not null"`
	StartAt     time.Time `gorm:"not null;index:idx_meeting_org_start;index:idx_meeting_start"`
	EndAt       time.Time `gorm:"not null;index"`
	Code        string    `gorm:"size:6;not null;index"` // "" for a back-entered meeting
	BackEntered bool      `gorm:"not null"`
	CreatedBy   string    `gorm:"size:64;not null"` // the console username
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Attendance statuses of a meeting's expected attendee. An attendee still MeetingExpected when the
// meeting has ended was absent (缺席); MeetingAbsent is an absence the secretary recorded himself (for a
// back-entered meeting).
const (
	MeetingExpected = "expected" // 未到 (yet)
	MeetingPresent  = "present"  // 出席
	MeetingLate     = "late"     // 迟到
	MeetingExcused  = "excused"  // 请假 (excused absence)
	MeetingAbsent   = "absent"   // 缺席, recorded by the secretary
)

// How an attendance was recorded.
const (
	MeetingSourceCode      = "code"      // 签到 CODE in the chat
	MeetingSourceQR        = "qr"        // scanned the meeting's QR code
	MeetingSourceMP        = "mp"        // the mini-program, with the code
	MeetingSourceSecretary = "secretary" // marked on the console
)

// MeetingAttendee is one member expected at a meeting, and how he attended.
type MeetingAttendee struct {
	ID        uint64     `gorm:"primaryKey"`
	MeetingID uint       `gorm:"not null;uniqueIndex:idx_meetatt_meeting_member"`
	MemberID  uint       `gorm:"not null;uniqueIndex:idx_meetatt_meeting_member;index"`
	Status    string     `gorm:"size:16;not null"`
	At        *time.Time // when he checked in (present / late)
	Source    string     `gorm:"size:16;not null"`
	Note      string     `gorm:"size:200;not null"` // the secretary's remark (an excused absence's reason)
	MarkedBy  string     `gorm:"size:64;not null"`  // the console username who marked it last
	UpdatedAt time.Time
}

// Kinds of meeting files.
const (
	MeetingFilePhoto    = "photo"    // a photo of the meeting
	MeetingFileDocument = "document" // minutes (会议记录) as PDF or Word
)

// MeetingFile is an attachment of a meeting: minutes or a photo, kept in the database (small files
// only: the upload limit is checked by the meetings part), since Yanzhen has no data directory.
type MeetingFile struct {
	ID          uint   `gorm:"primaryKey"`
	MeetingID   uint   `gorm:"not null;index"`
	Kind        string `gorm:"size:16;not null"`
	Name        string `gorm:"size:200;not null"`
	ContentType string `gorm:"size:100;not null"`
	Size        int    `gorm:"not null"`
	Data        []byte `gorm:"not null"`
	UploadedBy  string `gorm:"size:64;not null"`
	CreatedAt   time.Time
}

// meetingModels are migrated by Migrate (see migrate.go).
func meetingModels() []any { return []any{&Meeting{}, &MeetingAttendee{}, &MeetingFile{}} }
