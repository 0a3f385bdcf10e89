package study

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// MemberStats is what 积分 shows a member.
type MemberStats struct {
	Year        int
	Points      int // all points ever
	YearPoints  int
	Streak      int // as of today (0 once a day was missed)
	BestStreak  int
	DoneToday   bool
	YearMinutes int
	TargetHours int // his role's yearly target
	YearAnswers int
	YearRight   int
	// Ranking: whether his county shows boards to members; then his place on the boards of his org and
	// its parent (0: not on it), named.
	Ranking bool
	Ranks   []OrgRank
}

// OrgRank is a member's place on one org's board.
type OrgRank struct {
	OrgID   uint
	OrgName string
	Rank    int
}

// memberInfo is who a member is, for the figures that depend on role and org.
type memberInfo struct {
	ID    uint
	Name  string
	Role  string
	OrgID uint
	Path  string
}

func (s *Service) member(ctx context.Context, memberID uint) (*memberInfo, error) {
	var ms []memberInfo
	if err := s.db.WithContext(ctx).Table("members m").Select("m.id, m.name, m.role, m.org_id, o.path").
		Joins("JOIN orgs o ON o.id = m.org_id").Where("m.id = ?", memberID).Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("study: member %d: %w", memberID, err)
	}
	if len(ms) == 0 {
		return nil, ErrNotFound
	}
	return &ms[0], nil
}

// Stats are a member's figures: points, streak, training hours toward his target, answers and
// accuracy this year, and, when his county shows boards, his ranks in his village and town.
func (s *Service) Stats(ctx context.Context, memberID uint) (*MemberStats, error) {
	m, err := s.member(ctx, memberID)
	if err != nil {
		return nil, err
	}
	st, err := s.stats(ctx, s.db, memberID)
	if err != nil {
		return nil, err
	}
	now := s.now().In(s.loc)
	out := &MemberStats{
		Year: now.Year(), Points: st.Points, YearPoints: s.yearFigure(st, st.YearPoints), Streak: s.liveStreak(st),
		BestStreak: st.BestStreak, DoneToday: st.LastDay == s.Today(), YearMinutes: s.yearFigure(st, st.YearMinutes),
		TargetHours: s.HoursTarget(m.Role),
	}
	// Answer times are stored in UTC: SQLite compares them as text.
	start := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, s.loc)
	var counts struct{ N, R int }
	if err := s.db.WithContext(ctx).Model(&models.StudyAnswer{}).
		Select("COUNT(*) AS n, COALESCE(SUM(CASE WHEN correct THEN 1 ELSE 0 END), 0) AS r").
		Where("member_id = ? AND at >= ? AND at < ?", memberID, start.UTC(), start.AddDate(1, 0, 0).UTC()).Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("study: answers of member %d: %w", memberID, err)
	}
	out.YearAnswers, out.YearRight = counts.N, counts.R
	rule, err := s.RuleFor(ctx, m.Path)
	if err != nil {
		return nil, err
	}
	if out.Ranking = rule.PublicRanking; out.Ranking {
		if out.Ranks, err = s.ranks(ctx, m, out.Year); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ranks are a member's places on the boards of his org and its parent (his village and town).
func (s *Service) ranks(ctx context.Context, m *memberInfo, year int) ([]OrgRank, error) {
	paths := ancestors(m.Path)
	if len(paths) > 2 {
		paths = paths[:2]
	}
	ids, err := s.orgIDs(ctx, paths)
	if err != nil {
		return nil, err
	}
	var out []OrgRank
	for i, id := range ids {
		rank, _, err := s.Rank(ctx, id, year, m.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, OrgRank{OrgID: id, OrgName: lastName(paths[i]), Rank: rank})
	}
	return out, nil
}

func lastName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

// RebuildStats recomputes a member's totals from the ledger (points, this year's points and minutes)
// and his completed tasks (streak, best streak, last day), and writes them.
func (s *Service) RebuildStats(ctx context.Context, memberID uint) error {
	return s.rebuildStats(ctx, s.db, memberID)
}

func (s *Service) rebuildStats(ctx context.Context, db *gorm.DB, memberID uint) error {
	db = db.WithContext(ctx)
	year := s.now().In(s.loc).Year()
	var sums []struct {
		Kind   string
		Year   int
		Amount int
	}
	if err := db.Model(&models.LedgerEntry{}).Select("kind, year, SUM(amount) AS amount").
		Where("member_id = ?", memberID).Group("kind, year").Scan(&sums).Error; err != nil {
		return fmt.Errorf("study: rebuild totals of member %d: %w", memberID, err)
	}
	st := models.StudyStats{MemberID: memberID, Year: year, UpdatedAt: s.now()}
	for _, r := range sums {
		switch {
		case r.Kind == models.LedgerPoints:
			st.Points += r.Amount
			if r.Year == year {
				st.YearPoints += r.Amount
			}
		case r.Kind == models.LedgerMinutes && r.Year == year:
			st.YearMinutes += r.Amount
		}
	}
	var days []string
	if err := db.Model(&models.StudyTask{}).Where("member_id = ? AND completed_at IS NOT NULL", memberID).
		Order("day").Pluck("day", &days).Error; err != nil {
		return fmt.Errorf("study: rebuild totals of member %d: tasks: %w", memberID, err)
	}
	for i, d := range days {
		if i > 0 && days[i-1] == addDays(d, -1) {
			st.Streak++
		} else {
			st.Streak = 1
		}
		st.BestStreak = max(st.BestStreak, st.Streak)
		st.LastDay = d
	}
	err := db.Omit(clause.Associations).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "member_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"streak", "best_streak", "last_day", "points", "year",
			"year_points", "year_minutes", "updated_at"}),
	}).Create(&st).Error
	if err != nil {
		return fmt.Errorf("study: rebuild totals of member %d: %w", memberID, err)
	}
	return nil
}
