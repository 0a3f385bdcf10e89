package models

import "time"

// Attendance models shared by the attendance parts: check-ins (duty), requests a secretary decides
// (leave, make-up, off-site) and the computed daily status that reports read. Places, duty rules and
// holidays are added here by the check-in part; meetings live in meeting.go.

// Check-in kinds and statuses.
const (
	CheckKindIn  = "in"  // 签到 (on duty)
	CheckKindOut = "out" // 签退 (off duty)

	CheckOK      = "ok"      // inside a place's geofence, or an approved make-up / off-site record
	CheckPending = "pending" // off-site (外勤) waiting for the secretary
	CheckRefused = "refused" // an off-site record the secretary rejected

	CheckSourceChat   = "chat"   // location message or LOCATION event after 签到/签退
	CheckSourceMP     = "mp"     // mini-program coordinates
	CheckSourceMakeup = "makeup" // an approved 补卡 request
)

// CheckIn is one duty check-in or check-out of a member. Day is the local date "YYYY-MM-DD" in
// YANZHEN_TZ. Flags lists what looked suspicious (comma-separated: "speed", "same_coords", "mock"),
// shown to the secretary, never silently dropped.
type CheckIn struct {
	ID        uint64    `gorm:"primaryKey"`
	MemberID  uint      `gorm:"not null;index:idx_checkin_member_day"`
	OrgID     uint      `gorm:"not null;index:idx_checkin_org_day"`
	Day       string    `gorm:"size:10;not null;index:idx_checkin_member_day;index:idx_checkin_org_day"`
	Kind      string    `gorm:"size:8;not null"`
	At        time.Time `gorm:"not null"`
	PlaceID   *uint
	Lat       float64
	Lng       float64
	Accuracy  float64 // metres, as reported
	Distance  float64 // metres to the nearest place
	Status    string  `gorm:"size:16;not null"`
	Source    string  `gorm:"size:16;not null"`
	Reason    string  `gorm:"size:200"` // why off-site
	Flags     string  `gorm:"size:64"`
	DedupKey  string  `gorm:"size:128;uniqueIndex"` // the WeChat message that completed it: a retry writes once
	RequestID *uint   // the AttendRequest behind an off-site or make-up record
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Daily statuses, computed by the daily status job for every member and day.
const (
	DayPresent    = "present"     // 出勤
	DayLate       = "late"        // 迟到
	DayEarlyLeave = "early_leave" // 早退 (also late and early: late wins the status, both counted)
	DayAbsent     = "absent"      // 缺勤
	DayLeave      = "leave"       // 请假
	DayOffsite    = "offsite"     // 外勤 (approved)
	DayRest       = "rest"        // 休息日 (not a work day, or a holiday)
)

// AttendanceDay is one member's computed status for one day. It is rewritten (idempotently) by the
// daily status job and recomputed for a past day after an approval. OrgID and OrgPath are the member's
// org on that day, so that reports filter by subtree without a join.
type AttendanceDay struct {
	ID        uint64     `gorm:"primaryKey"`
	MemberID  uint       `gorm:"not null;uniqueIndex:idx_attday_member_day"`
	Day       string     `gorm:"size:10;not null;uniqueIndex:idx_attday_member_day;index:idx_attday_day_path"`
	OrgID     uint       `gorm:"not null;index"`
	OrgPath   string     `gorm:"size:512;not null;index:idx_attday_day_path"`
	Role      string     `gorm:"size:16;not null"`
	Status    string     `gorm:"size:16;not null"`
	Late      bool       `gorm:"not null;default:false"`
	Early     bool       `gorm:"not null;default:false"`
	InAt      *time.Time // first check-in that counted
	OutAt     *time.Time // last check-out that counted
	Flagged   bool       `gorm:"not null;default:false"` // a counted record carries a suspicion flag
	UpdatedAt time.Time
}

// attendanceModels are migrated by Migrate (see migrate.go).
func attendanceModels() []any {
	return []any{&CheckIn{}, &AttendanceDay{}}
}
