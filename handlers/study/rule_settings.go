package study

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// ObjectRule is the audit log's object of a change to an org's study rule (its county's thresholds
// included).
const ObjectRule = "study_rule"

// RuleSetting is an org's study rule as its editor shows it: the rule that applies to its members,
// where that rule comes from, and its county's choices (public ranking, thresholds).
type RuleSetting struct {
	Org           OrgRef
	Rule          models.StudyRule // the rule that applies (PublicRanking: the county's)
	Own           bool             // the org has a rule of its own
	From          string           // the path of the org whose rule applies; "" = DefaultRule
	County        string           // the county's path
	Thresholds    Thresholds       // the county's
	OwnThresholds bool             // the county saved its thresholds (else DefaultThresholds)
}

// IsCounty reports whether the org is a county: public ranking and thresholds are set there.
func (r *RuleSetting) IsCounty() bool { return r.Org.Path == r.County }

// RuleSetting is the study rule of the org with this id, if it is in the scope (scope.ErrNotFound
// otherwise).
func (s *Service) RuleSetting(ctx context.Context, sc scope.Scope, orgID uint) (*RuleSetting, error) {
	org, err := s.scopedOrg(ctx, sc, orgID)
	if err != nil {
		return nil, err
	}
	return s.ruleSetting(ctx, s.db, org)
}

func (s *Service) ruleSetting(ctx context.Context, db *gorm.DB, org *OrgRef) (*RuleSetting, error) {
	rs, err := s.loadRules(ctx, db, ancestors(org.Path))
	if err != nil {
		return nil, err
	}
	out := &RuleSetting{Org: *org, Rule: rs.forPath(org.Path), County: rootOf(org.Path)}
	for _, p := range ancestors(org.Path) { // nearest first, as forPath reads them
		if _, ok := rs[p]; ok {
			out.From, out.Own = p, p == org.Path
			break
		}
	}
	ts, err := s.thresholdsOf(ctx, db, []string{out.County})
	if err != nil {
		return nil, err
	}
	out.Thresholds, out.OwnThresholds = thresholdsFor(ts, out.County), len(ts) > 0
	return out, nil
}

// RuleChange is an edit of an org's study rule: a rule of its own, or (Inherit) none, so that the
// rule above it applies again; and, for a county, its thresholds (nil: unchanged).
type RuleChange struct {
	Rule       models.StudyRule
	Inherit    bool
	Thresholds *Thresholds
}

// Recorder writes a change to the audit log in the transaction that makes it (console.Record).
type Recorder func(ctx context.Context, tx *gorm.DB, ch console.Change) error

// ruleSnapshot is what the audit log keeps of an org's rule: its own rule (nil when it inherits) and,
// for a county, its thresholds.
type ruleSnapshot struct {
	Org        string      `json:"org"`
	Rule       *ruleFields `json:"rule"`
	Inherits   string      `json:"inherits_from,omitempty"` // when Rule is nil: whose rule applies
	Thresholds *Thresholds `json:"thresholds,omitempty"`
}

type ruleFields struct {
	QuestionsPerTask int    `json:"questions_per_task"`
	Tags             string `json:"tags"`
	ReviewPerTask    int    `json:"review_per_task"`
	PublishAt        string `json:"publish_at"`
	RemindAt         string `json:"remind_at"`
	PointsPerRight   int    `json:"points_per_right"`
	DailyPointsCap   int    `json:"daily_points_cap"`
	StreakBonus      int    `json:"streak_bonus"`
	StreakBonusMax   int    `json:"streak_bonus_max"`
	MinutesPerTask   int    `json:"minutes_per_task"`
	PublicRanking    *bool  `json:"public_ranking,omitempty"` // a county's only: it is read there
}

func snapshotOf(r *RuleSetting) ruleSnapshot {
	out := ruleSnapshot{Org: r.Org.Path}
	if r.Own {
		out.Rule = &ruleFields{QuestionsPerTask: r.Rule.QuestionsPerTask, Tags: r.Rule.Tags, ReviewPerTask: r.Rule.ReviewPerTask,
			PublishAt: r.Rule.PublishAt, RemindAt: r.Rule.RemindAt, PointsPerRight: r.Rule.PointsPerRight,
			DailyPointsCap: r.Rule.DailyPointsCap, StreakBonus: r.Rule.StreakBonus, StreakBonusMax: r.Rule.StreakBonusMax,
			MinutesPerTask: r.Rule.MinutesPerTask}
		if r.IsCounty() {
			pr := r.Rule.PublicRanking
			out.Rule.PublicRanking = &pr
		}
	} else {
		out.Inherits = r.From
		if out.Inherits == "" {
			out.Inherits = "默认规则"
		}
	}
	if r.IsCounty() && r.OwnThresholds {
		t := r.Thresholds
		out.Thresholds = &t
	}
	return out
}

// SaveRule makes ch the study rule of the org with this id (in the scope: scope.ErrNotFound
// otherwise), and records the change with record in the same transaction, before and after. The
// rule is checked by ValidateRule and the thresholds by Thresholds.Validate (ErrBadRule); thresholds
// are a county's only. A town's or a village's rule keeps the county's public ranking (it is read
// from the county anyway). It returns the setting after the change, and whether anything changed.
func (s *Service) SaveRule(ctx context.Context, sc scope.Scope, orgID uint, ch RuleChange, record Recorder) (*RuleSetting, bool, error) {
	org, err := s.scopedOrg(ctx, sc, orgID)
	if err != nil {
		return nil, false, err
	}
	if !ch.Inherit {
		ch.Rule.Tags = strings.Join(splitTags(ch.Rule.Tags), ",")
		if err := ValidateRule(&ch.Rule); err != nil {
			return nil, false, err
		}
	}
	if ch.Thresholds != nil {
		if rootOf(org.Path) != org.Path {
			return nil, false, fmt.Errorf("%w: thresholds are a county's", ErrBadRule)
		}
		if err := ch.Thresholds.Validate(); err != nil {
			return nil, false, err
		}
	}
	var after *RuleSetting
	changed := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.ruleSetting(ctx, tx, org)
		if err != nil {
			return err
		}
		switch {
		case ch.Inherit:
			if err := tx.Where("org_id = ?", org.ID).Delete(&models.StudyRule{}).Error; err != nil {
				return fmt.Errorf("study: drop rule of org %d: %w", org.ID, err)
			}
		default:
			if !before.IsCounty() {
				ch.Rule.PublicRanking = before.Rule.PublicRanking
			}
			if err := s.withTx(tx).SetRule(ctx, org.ID, ch.Rule); err != nil {
				return err
			}
		}
		if ch.Thresholds != nil {
			row := StudyThresholds{OrgID: org.ID, CompletionGreen: ch.Thresholds.CompletionGreen,
				CompletionYellow: ch.Thresholds.CompletionYellow, AccuracyGreen: ch.Thresholds.AccuracyGreen,
				AccuracyYellow: ch.Thresholds.AccuracyYellow, UpdatedAt: s.now()}
			err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "org_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"completion_green", "completion_yellow", "accuracy_green", "accuracy_yellow", "updated_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("study: set thresholds of org %d: %w", org.ID, err)
			}
		}
		if after, err = s.ruleSetting(ctx, tx, org); err != nil {
			return err
		}
		b, a := snapshotOf(before), snapshotOf(after)
		if reflect.DeepEqual(b, a) {
			return nil
		}
		changed = true
		action, verb := console.ActionUpdate, "修改学习规则"
		switch {
		case !before.Own && after.Own:
			action, verb = console.ActionCreate, "设定学习规则"
		case before.Own && !after.Own:
			verb = "恢复继承学习规则"
		}
		return record(ctx, tx, console.Change{Action: action, Object: ObjectRule, ObjectID: org.ID, OrgPath: org.Path,
			Summary: verb + "：" + org.Path, Before: b, After: a})
	})
	if err != nil {
		return nil, false, err
	}
	return after, changed, nil
}

// withTx is the service on a transaction, for the writes that commit with their audit record.
func (s *Service) withTx(tx *gorm.DB) *Service {
	c := *s
	c.db = tx
	return &c
}
