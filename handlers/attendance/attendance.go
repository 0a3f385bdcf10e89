// Package attendance is duty and meeting check-in. So far it records the locations WeChat reports
// (the LOCATION event an official account receives when a user opens it, and location messages), the
// raw material of geofenced check-in; each report is committed to the database before the reply, in
// group commits shared by concurrent requests.
package attendance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/batch"
	"github.com/yanzhen/yanzhen/models"
)

// Service records location reports.
type Service struct {
	db      *gorm.DB
	log     *slog.Logger
	now     func() time.Time
	reports *batch.Writer[models.LocationReport]
}

// New starts the service's batch writer; Close stops it.
func New(db *gorm.DB, log *slog.Logger, now func() time.Time) *Service {
	s := &Service{db: db, log: log, now: now}
	writers := 4
	if models.Dialect(db) == "sqlite" {
		writers = 1 // one writer at a time anyway
	}
	s.reports = batch.New(s.insertReports, 500, writers)
	return s
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

// Register adds the location routes to the bot.
func (s *Service) Register(r *bot.Router) {
	// WeChat sends LOCATION events by itself: record them quietly and answer `success`. Unbound users'
	// locations are not kept, and they get no how-to-bind text for an event they did not send.
	r.Handle(bot.Event(bot.EventLocation), func(ctx context.Context, c *bot.Context) error {
		if c.Member == nil {
			return nil
		}
		return s.RecordLocation(ctx, c.Member.ID, c.Msg)
	}, bot.Public())
	r.Handle(bot.OnLocation, func(ctx context.Context, c *bot.Context) error {
		if err := s.RecordLocation(ctx, c.Member.ID, c.Msg); err != nil {
			return err
		}
		return c.Text("收到你的位置，已记录。")
	})
}
