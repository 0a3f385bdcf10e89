// Package attendance is duty check-in: each village has check-in places (a point and a radius, the
// geofence) and a duty rule (work days, on- and off-duty times, tolerance) inherited down the org tree;
// counties keep holidays and farm-season leave periods. A member checks in and out by chat (签到 /
// 签退, then a location message or the LOCATION event WeChat reports) or from the mini-program; inside
// the geofence the check-in counts, outside it is refused or, with a reason, recorded as off-site (外勤)
// for the secretary to approve. Suspicious records are flagged, never dropped. A daily job computes
// every member's status of the day (present, late, early leave, absent, on leave, off-site, rest day),
// and recomputes a past day after an approval.
//
// It also records the locations WeChat reports by itself (the LOCATION event an official account
// receives when a user opens it), each committed to the database before the reply, in group commits
// shared by concurrent requests.
package attendance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/batch"
	"github.com/yanzhen/yanzhen/models"
)

// ErrNoMeetings is what Options.MeetingCode returns when no meeting check-in is wired: "签到 CODE"
// then gets a friendly "not available".
var ErrNoMeetings = errors.New("attendance: meeting check-in is not available")

// Options configure the service.
type Options struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Now      func() time.Time // nil = time.Now
	Location *time.Location   // YANZHEN_TZ; nil = Asia/Shanghai
	// MeetingCode checks the member in to the meeting with this code ("签到 CODE"); nil or
	// ErrNoMeetings: meeting check-in is not available.
	MeetingCode func(ctx context.Context, c *bot.Context, code string) error
	// OffsiteFiled is told, after the commit, of each new off-site request (the requests part tells
	// the village's secretaries); nil: nobody is told.
	OffsiteFiled func(ctx context.Context, requestID uint)
}

// Service is the attendance capability.
type Service struct {
	db          *gorm.DB
	log         *slog.Logger
	now         func() time.Time
	loc         *time.Location
	meetingCode func(ctx context.Context, c *bot.Context, code string) error
	offsite     func(ctx context.Context, requestID uint)
	reports     *batch.Writer[models.LocationReport]
}

// New starts the service's batch writer; Close stops it.
func New(o Options) *Service {
	s := &Service{db: o.DB, log: o.Log, now: o.Now, loc: o.Location, meetingCode: o.MeetingCode, offsite: o.OffsiteFiled}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
			s.loc = loc
		} else {
			s.loc = time.Local
		}
	}
	writers := 4
	if models.Dialect(s.db) == "sqlite" {
		writers = 1 // one writer at a time anyway
	}
	s.reports = batch.New(s.insertReports, 500, writers)
	return s
}

// Today is the day of the service's clock in YANZHEN_TZ ("2026-11-20").
func (s *Service) Today() string { return s.now().In(s.loc).Format(dayLayout) }

// Location is the time zone of days and duty times.
func (s *Service) Location() *time.Location { return s.loc }

// OrgRef is an org as pages and the API name it.
type OrgRef struct {
	ID    uint   `json:"id"`
	Name  string `json:"name"`
	Path  string `json:"path"`
	Level int    `json:"level"`
}

// Close writes what is queued.
func (s *Service) Close() { s.reports.Close() }

// insertReports writes one batch; a retried event (same dedup key) is written once.
func (s *Service) insertReports(ctx context.Context, rs []models.LocationReport) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedup_key"}}, DoNothing: true}).
		CreateInBatches(rs, 500).Error
	if err != nil {
		return fmt.Errorf("attendance: insert %d location reports: %w", len(rs), err)
	}
	return nil
}

// RecordLocation stores one location report durably.
func (s *Service) RecordLocation(ctx context.Context, memberID uint, m *bot.Message) error {
	at := m.Time()
	if m.CreateTime == 0 {
		at = s.now()
	}
	return s.reports.Add(ctx, models.LocationReport{
		MemberID: memberID, OpenID: m.OpenID, Lat: m.Lat, Lng: m.Lng, Precision: m.Precision,
		DedupKey: m.Channel + ":" + m.DedupID(), At: at, CreatedAt: s.now(),
	})
}
