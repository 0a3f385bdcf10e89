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

// CheckPlace is where the members of an org check in: a point (GCJ-02, as WeChat reports
// coordinates in China) and a radius in metres (100–3,000, default 300). Places are never deleted,
// only deactivated, so that old check-ins keep their place. (OrgID, Name) is the natural key of
// `yanzhen import places`.
type CheckPlace struct {
	ID        uint    `gorm:"primaryKey"`
	OrgID     uint    `gorm:"not null;uniqueIndex:idx_place_org_name"`
	Name      string  `gorm:"size:64;not null;uniqueIndex:idx_place_org_name"`
	Lat       float64 `gorm:"not null"`
	Lng       float64 `gorm:"not null"`
	Radius    int     `gorm:"not null"` // metres
	Active    bool    `gorm:"not null;default:true"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DutyRule says when the members of an org's subtree are on duty. Like StudyRule, the nearest
// ancestor's rule applies whole (the org's own, its town's, its county's), else the attendance
// capability's default. WorkDays lists ISO weekdays as digits ("12345": Monday to Friday); times are
// "HH:MM" in YANZHEN_TZ.
type DutyRule struct {
	ID         uint   `gorm:"primaryKey"`
	OrgID      uint   `gorm:"not null;uniqueIndex"`
	WorkDays   string `gorm:"size:7;not null"`
	OnDuty     string `gorm:"size:5;not null"`
	OffDuty    string `gorm:"size:5;not null"`
	LateGrace  int    `gorm:"not null"` // minutes after OnDuty that still count as on time
	EarlyGrace int    `gorm:"not null"` // minutes before OffDuty that still count as on time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Holiday is a day of a county's calendar that differs from its duty rule: a holiday (a rest day even
// on a work day), or with Workday a 调休 working day (a work day even on a weekend). OrgID is the
// county.
type Holiday struct {
	ID        uint   `gorm:"primaryKey"`
	OrgID     uint   `gorm:"not null;uniqueIndex:idx_holiday_org_day"`
	Day       string `gorm:"size:10;not null;uniqueIndex:idx_holiday_org_day"`
	Name      string `gorm:"size:64;not null"`
	Workday   bool   `gorm:"not null;default:false"`
	CreatedAt time.Time
}

// FarmSeason is a county's farm-season leave period (农忙假): StartDay..EndDay inclusive, during which each
// member may take up to Days days of leave by rota. The leave itself is an AttendRequest; the period
// tells the secretary (and the leave part) what the county allows. (Not From/To: reserved words in SQL.)
type FarmSeason struct {
	ID        uint   `gorm:"primaryKey"`
	OrgID     uint   `gorm:"not null;index"`
	Name      string `gorm:"size:64;not null"`
	StartDay  string `gorm:"size:10;not null"` // first day "YYYY-MM-DD"
	EndDay    string `gorm:"size:10;not null"` // last day, inclusive
	Days      int    `gorm:"not null"`
	CreatedAt time.Time
}

// attendanceModels are migrated by Migrate (see migrate.go).
func attendanceModels() []any {
	return []any{&CheckIn{}, &AttendanceDay{}, &CheckPlace{}, &DutyRule{}, &Holiday{}, &FarmSeason{}}
}
