package study

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// DefaultRule is the rule of an org that has none, nor any ancestor: 5 questions a day, 2 of them at
// most from the wrong-answer book, published at 07:00 and reminded at 20:00, 2 points per right answer
// up to 20 a day, +1 point per day of streak from its second day (at most +5), 15 training minutes per
// completed task, public ranking on.
func DefaultRule() models.StudyRule {
	return models.StudyRule{
		QuestionsPerTask: 5, ReviewPerTask: 2, PublishAt: "07:00", RemindAt: "20:00",
		PointsPerRight: 2, DailyPointsCap: 20, StreakBonus: 1, StreakBonusMax: 5, MinutesPerTask: 15,
		PublicRanking: true,
	}
}

// ErrBadRule wraps every reason SetRule refuses a rule.
var ErrBadRule = errors.New("study: bad rule")

// maxQuestionsPerTask bounds a task: one message per question, and a day's study should stay short.
const maxQuestionsPerTask = 50

// ValidateRule checks a rule's values.
func ValidateRule(r *models.StudyRule) error {
	switch {
	case r.QuestionsPerTask < 1 || r.QuestionsPerTask > maxQuestionsPerTask:
		return fmt.Errorf("%w: questions per task must be 1–%d", ErrBadRule, maxQuestionsPerTask)
	case r.ReviewPerTask < 0 || r.ReviewPerTask > r.QuestionsPerTask:
		return fmt.Errorf("%w: review items must be 0–%d", ErrBadRule, r.QuestionsPerTask)
	case !validClock(r.PublishAt) || !validClock(r.RemindAt):
		return fmt.Errorf("%w: times must be HH:MM", ErrBadRule)
	case r.PointsPerRight < 0 || r.DailyPointsCap < 0 || r.StreakBonus < 0 || r.StreakBonusMax < 0 || r.MinutesPerTask < 0:
		return fmt.Errorf("%w: points and minutes must not be negative", ErrBadRule)
	}
	return nil
}

func validClock(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	for _, c := range s[:2] + s[3:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return h < 24 && m < 60
}

// SetRule gives an org (and the subtree under it without a rule of its own) a rule.
func (s *Service) SetRule(ctx context.Context, orgID uint, r models.StudyRule) error {
	if err := ValidateRule(&r); err != nil {
		return err
	}
	r.ID, r.OrgID, r.Tags = 0, orgID, strings.Join(splitTags(r.Tags), ",")
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Omit(clause.Associations).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "org_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"questions_per_task", "tags", "review_per_task", "publish_at",
			"remind_at", "points_per_right", "daily_points_cap", "streak_bonus", "streak_bonus_max",
			"minutes_per_task", "public_ranking", "updated_at"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("study: set rule of org %d: %w", orgID, err)
	}
	return nil
}

// rules are study rules by the path of their org.
type rules map[string]models.StudyRule

// loadRules reads the rules of the orgs at paths (nil: every rule).
func (s *Service) loadRules(ctx context.Context, db *gorm.DB, paths []string) (rules, error) {
	type row struct {
		models.StudyRule
		Path string
	}
	var rows []row
	q := db.WithContext(ctx).Table("study_rules r").Select("r.*, o.path").Joins("JOIN orgs o ON o.id = r.org_id")
	if paths != nil {
		q = q.Where("o.path IN ?", paths)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: load rules: %w", err)
	}
	rs := make(rules, len(rows))
	for _, r := range rows {
		rs[r.Path] = r.StudyRule
	}
	return rs, nil
}

// forPath is the rule of the org at path: its own, or its nearest ancestor's, or DefaultRule. Its
// PublicRanking is the county's (the root of the path).
func (rs rules) forPath(path string) models.StudyRule {
	rule := DefaultRule()
	for _, p := range ancestors(path) { // nearest first
		if r, ok := rs[p]; ok {
			rule = r
			break
		}
	}
	county := DefaultRule()
	if r, ok := rs[rootOf(path)]; ok {
		county = r
	}
	rule.PublicRanking = county.PublicRanking
	return rule
}

// ruleFor is the rule of one org path, read from the database.
func (s *Service) ruleFor(ctx context.Context, db *gorm.DB, path string) (models.StudyRule, error) {
	rs, err := s.loadRules(ctx, db, ancestors(path))
	if err != nil {
		return models.StudyRule{}, err
	}
	return rs.forPath(path), nil
}

// RuleFor is the rule that applies to the members of the org at path (PublicRanking: the county's).
func (s *Service) RuleFor(ctx context.Context, orgPath string) (models.StudyRule, error) {
	return s.ruleFor(ctx, s.db, orgPath)
}

// ancestors of "a/b/c" are "a/b/c", "a/b", "a": the org itself first.
func ancestors(path string) []string {
	out := []string{path}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '/' {
			out = append(out, path[:i])
		}
	}
	return out
}

func rootOf(path string) string {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// splitTags reads a comma list (ASCII or full-width commas, 、 too), trimmed, without empties.
func splitTags(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' })
	out := f[:0]
	for _, t := range f {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
