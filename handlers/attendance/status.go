package attendance

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// The daily status (models.AttendanceDay) of every member and day, computed from what counts:
//
//   - a rest day (not a work day of the member's duty rule, or a holiday of his county; a 调休 working
//     day is a work day) is "rest", whatever else happened;
//   - approved leave (AttendRequest leave, From..To inclusive) covering a work day is "leave";
//   - else, with no counted check-in or check-out (CheckIn status ok: inside the geofence, an approved
//     off-site record or an approved make-up), "absent";
//   - else the first counted check-in and the last counted check-out decide: a missing check-in or one
//     later than the tolerance is late, a missing check-out or one earlier than the tolerance is early;
//     the status is "offsite" when the day's first counted check-in (or, with none, its check-out) was
//     off-site, else "late" if late (late wins over early; both flags are kept), else "early_leave" if
//     early, else "present".
//
// Flagged says a counted record of the day carries a suspicion flag. Rows are upserted by (member, day),
// so a run is idempotent and a past day can be recomputed after an approval.

// statusBatch is how many AttendanceDay rows one upsert writes (13 columns each).
const statusBatch = 500

// idChunk bounds the ids of one IN (...) list.
const idChunk = 1000

// StatusJob is the daily status job's work for the day it runs on: yesterday's status for everyone.
func (s *Service) StatusJob(ctx context.Context, today string) error {
	return s.Recompute(ctx, nil, addDays(today, -1))
}

// Recompute rewrites the daily status of these members (nil: every active member) for day
// "YYYY-MM-DD".
func (s *Service) Recompute(ctx context.Context, memberIDs []uint, day string) error {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("attendance: recompute: bad day %q", day)
	}
	if memberIDs != nil && len(memberIDs) == 0 {
		return nil
	}
	start := time.Now()
	db := s.db.WithContext(ctx)
	members, err := s.statusMembers(db, memberIDs)
	if err != nil {
		return err
	}
	rs, err := loadRules(ctx, s.db, nil)
	if err != nil {
		return err
	}
	cal, err := loadCalendar(ctx, s.db, day, nil)
	if err != nil {
		return err
	}
	onLeave, err := s.leaveOn(db, memberIDs, day)
	if err != nil {
		return err
	}
	checks, err := s.countedOn(db, memberIDs, day)
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]models.AttendanceDay, 0, len(members))
	for _, m := range members {
		rule, _ := rs.forPath(m.Path)
		row := models.AttendanceDay{MemberID: m.ID, Day: day, OrgID: m.OrgID, OrgPath: m.Path, Role: m.Role, UpdatedAt: now}
		work, _ := cal.workDay(rule, rootOf(m.Path), day)
		dayStatus(&row, rule, work, onLeave[m.ID], checks[m.ID], s.loc)
		rows = append(rows, row)
	}
	for i := 0; i < len(rows); i += statusBatch {
		batch := rows[i:min(i+statusBatch, len(rows))]
		err := db.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "member_id"}, {Name: "day"}},
			DoUpdates: clause.AssignmentColumns([]string{"org_id", "org_path", "role", "status", "late", "early",
				"in_at", "out_at", "flagged", "updated_at"}),
		}).Create(&batch).Error
		if err != nil {
			return fmt.Errorf("attendance: write status of %s: %w", day, err)
		}
	}
	s.log.InfoContext(ctx, "attendance: daily status computed", "day", day, "members", len(rows), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// dayStatus fills the status of one member's day.
func dayStatus(row *models.AttendanceDay, rule models.DutyRule, work, leave bool, cs []models.CheckIn, loc *time.Location) {
	var in, out *models.CheckIn
	for i := range cs {
		c := &cs[i]
		if c.Flags != "" {
			row.Flagged = true
		}
		switch c.Kind {
		case models.CheckKindIn:
			if in == nil || c.At.Before(in.At) {
				in = c
			}
		case models.CheckKindOut:
			if out == nil || c.At.After(out.At) {
				out = c
			}
		}
	}
	if in != nil {
		t := in.At
		row.InAt = &t
	}
	if out != nil {
		t := out.At
		row.OutAt = &t
	}
	switch {
	case !work:
		row.Status = models.DayRest
		return
	case leave:
		row.Status = models.DayLeave
		return
	case in == nil && out == nil:
		row.Status = models.DayAbsent
		return
	}
	row.Late = in == nil || lateness(rule, models.CheckKindIn, row.Day, in.At, loc) > 0
	row.Early = out == nil || lateness(rule, models.CheckKindOut, row.Day, out.At, loc) > 0
	first := in
	if first == nil {
		first = out
	}
	switch {
	case first.RequestID != nil && first.Source != models.CheckSourceMakeup:
		row.Status = models.DayOffsite
	case row.Late:
		row.Status = models.DayLate
	case row.Early:
		row.Status = models.DayEarlyLeave
	default:
		row.Status = models.DayPresent
	}
}

// statusMember is a member as the status job needs him.
type statusMember struct {
	ID    uint
	Role  string
	OrgID uint
	Path  string
}

func (s *Service) statusMembers(db *gorm.DB, ids []uint) ([]statusMember, error) {
	var out []statusMember
	err := inChunks(ids, func(chunk []uint) error {
		var part []statusMember
		q := db.Table("members m").Select("m.id, m.role, m.org_id, o.path").Joins("JOIN orgs o ON o.id = m.org_id")
		if chunk == nil {
			q = q.Where("m.active = ?", true)
		} else {
			q = q.Where("m.id IN ?", chunk)
		}
		if err := q.Order("m.id").Scan(&part).Error; err != nil {
			return fmt.Errorf("attendance: members for status: %w", err)
		}
		out = append(out, part...)
		return nil
	})
	return out, err
}

// leaveOn are the members with approved leave covering day.
func (s *Service) leaveOn(db *gorm.DB, ids []uint, day string) (map[uint]bool, error) {
	out := map[uint]bool{}
	err := inChunks(ids, func(chunk []uint) error {
		var got []uint
		// "from" and "to" are reserved words: let GORM quote them for the dialect.
		q := db.Model(&models.AttendRequest{}).Where("kind = ? AND state = ?", models.RequestLeave, models.RequestApproved).
			Where(clause.Lte{Column: clause.Column{Name: "from"}, Value: day}).
			Where(clause.Gte{Column: clause.Column{Name: "to"}, Value: day})
		if chunk != nil {
			q = q.Where("member_id IN ?", chunk)
		}
		if err := q.Distinct().Pluck("member_id", &got).Error; err != nil {
			return fmt.Errorf("attendance: leave on %s: %w", day, err)
		}
		for _, id := range got {
			out[id] = true
		}
		return nil
	})
	return out, err
}

// countedOn are the counted (ok) check-ins and check-outs of day, by member.
func (s *Service) countedOn(db *gorm.DB, ids []uint, day string) (map[uint][]models.CheckIn, error) {
	out := map[uint][]models.CheckIn{}
	err := inChunks(ids, func(chunk []uint) error {
		var cs []models.CheckIn
		q := db.Select("member_id, kind, at, source, request_id, flags").Where("day = ? AND status = ?", day, models.CheckOK)
		if chunk != nil {
			q = q.Where("member_id IN ?", chunk)
		}
		if err := q.Find(&cs).Error; err != nil {
			return fmt.Errorf("attendance: check-ins of %s: %w", day, err)
		}
		for _, c := range cs {
			out[c.MemberID] = append(out[c.MemberID], c)
		}
		return nil
	})
	return out, err
}

// inChunks calls f with ids in chunks of idChunk, or once with nil when ids is nil (no filter).
func inChunks(ids []uint, f func(chunk []uint) error) error {
	if ids == nil {
		return f(nil)
	}
	for i := 0; i < len(ids); i += idChunk {
		if err := f(ids[i:min(i+idChunk, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}
