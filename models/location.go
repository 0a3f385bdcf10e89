package models

import "time"

// LocationReport is a location WeChat reported for a member (the LOCATION event an official account
// receives when a user opens it, or a location message) that completed nothing by itself. Attendance
// uses the latest ones; raw coordinates are personal data and are purged after a retention period.
type LocationReport struct {
	ID        uint64    `gorm:"primaryKey"`
	MemberID  uint      `gorm:"not null;index:idx_loc_member_time"`
	OpenID    string    `gorm:"size:64;not null"`
	Lat       float64   `gorm:"not null"`
	Lng       float64   `gorm:"not null"`
	Precision float64   `gorm:"not null"`
	DedupKey  string    `gorm:"size:128;not null;uniqueIndex"` // the message's dedup key: a retried event writes once
	At        time.Time `gorm:"not null;index:idx_loc_member_time"`
	CreatedAt time.Time
}
