package attendance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// RuleSetting is the duty rule of the org with this id, if it is in the scope (scope.ErrNotFound
// otherwise).
func (s *Service) RuleSetting(ctx context.Context, sc scope.Scope, orgID uint) (*RuleSetting, error) {
	org, err := s.scopedOrg(ctx, s.db, sc, orgID)
	if err != nil {
		return nil, err
	}
	return ruleSetting(ctx, s.db, org)
}

// RuleChange is an edit of an org's duty rule: a rule of its own, or (Inherit) none, so that the rule
// above it applies again.
type RuleChange struct {
	Rule    models.DutyRule
	Inherit bool
}

// ruleAudit is what the audit log keeps of an org's rule.
type ruleAudit struct {
	Org        string `json:"org"`
	Inherits   string `json:"inherits_from,omitempty"`
	WorkDays   string `json:"work_days,omitempty"`
	OnDuty     string `json:"on_duty,omitempty"`
	OffDuty    string `json:"off_duty,omitempty"`
	LateGrace  int    `json:"late_grace,omitempty"`
	EarlyGrace int    `json:"early_grace,omitempty"`
}

func auditOfRule(r *RuleSetting) ruleAudit {
	if !r.Own {
		from := r.From
		if from == "" {
			from = "默认规则"
		}
		return ruleAudit{Org: r.Org.Path, Inherits: from}
	}
	return ruleAudit{Org: r.Org.Path, WorkDays: r.Rule.WorkDays, OnDuty: r.Rule.OnDuty, OffDuty: r.Rule.OffDuty,
		LateGrace: r.Rule.LateGrace, EarlyGrace: r.Rule.EarlyGrace}
}

// SaveRule makes ch the duty rule of the org with this id (in the scope: scope.ErrNotFound otherwise),
// recorded with before and after in the same transaction. It returns whether anything changed.
func (s *Service) SaveRule(ctx context.Context, sc scope.Scope, orgID uint, ch RuleChange, record Recorder) (*RuleSetting, bool, error) {
	if !ch.Inherit {
		if err := ValidateRule(&ch.Rule); err != nil {
			return nil, false, err
		}
	}
	var after *RuleSetting
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		org, err := s.scopedOrg(ctx, tx, sc, orgID)
		if err != nil {
			return err
		}
		before, err := ruleSetting(ctx, tx, org)
		if err != nil {
			return err
		}
		if ch.Inherit {
			if err := tx.Where("org_id = ?", org.ID).Delete(&models.DutyRule{}).Error; err != nil {
				return fmt.Errorf("attendance: drop duty rule of org %d: %w", org.ID, err)
			}
		} else {
			now := s.now()
			r := ch.Rule
			r.ID, r.OrgID, r.CreatedAt, r.UpdatedAt = 0, org.ID, now, now
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "org_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"work_days", "on_duty", "off_duty", "late_grace", "early_grace", "updated_at"}),
			}).Create(&r).Error; err != nil {
				return fmt.Errorf("attendance: set duty rule of org %d: %w", org.ID, err)
			}
		}
		if after, err = ruleSetting(ctx, tx, org); err != nil {
			return err
		}
		b, a := auditOfRule(before), auditOfRule(after)
		if b == a {
			return nil
		}
		changed = true
		action, verb := console.ActionUpdate, "修改值班规则："
		switch {
		case !before.Own && after.Own:
			action, verb = console.ActionCreate, "设定值班规则："
		case before.Own && !after.Own:
			verb = "恢复继承值班规则："
		}
		return record(ctx, tx, console.Change{Action: action, Object: ObjectRule, ObjectID: org.ID, OrgPath: org.Path,
			Summary: verb + org.Path, Before: b, After: a})
	})
	if err != nil {
		return nil, false, err
	}
	return after, changed, nil
}

// Calendar is a county's holidays, 调休 working days and farm-season leave periods.
type Calendar struct {
	County   OrgRef
	Holidays []models.Holiday
	Seasons  []models.FarmSeason
}

// countyOf is the county above (or at) an org of the scope.
func (s *Service) countyOf(ctx context.Context, db *gorm.DB, sc scope.Scope, orgID uint) (OrgRef, error) {
	org, err := s.scopedOrg(ctx, db, sc, orgID)
	if err != nil {
		return OrgRef{}, err
	}
	if rootOf(org.Path) == org.Path {
		return org, nil
	}
	var c models.Org
	if err := db.WithContext(ctx).Where("path = ?", rootOf(org.Path)).Take(&c).Error; err != nil {
		return OrgRef{}, fmt.Errorf("attendance: county of %s: %w", org.Path, err)
	}
	return OrgRef{ID: c.ID, Name: c.Name, Path: c.Path, Level: c.Level}, nil
}

// CountyCalendar is the calendar of the county of an org in the scope (read by everyone under the
// county: a village's secretary sees his county's holidays).
func (s *Service) CountyCalendar(ctx context.Context, sc scope.Scope, orgID uint) (*Calendar, error) {
	county, err := s.countyOf(ctx, s.db, sc, orgID)
	if err != nil {
		return nil, err
	}
	cal := &Calendar{County: county}
	if err := s.db.WithContext(ctx).Where("org_id = ?", county.ID).Order("day").Find(&cal.Holidays).Error; err != nil {
		return nil, fmt.Errorf("attendance: holidays of %s: %w", county.Path, err)
	}
	if err := s.db.WithContext(ctx).Where("org_id = ?", county.ID).Order("start_day").Find(&cal.Seasons).Error; err != nil {
		return nil, fmt.Errorf("attendance: farm seasons of %s: %w", county.Path, err)
	}
	return cal, nil
}

// scopedCounty is a county in the scope: holidays and seasons are changed only by its administrators.
func (s *Service) scopedCounty(ctx context.Context, tx *gorm.DB, sc scope.Scope, id uint) (OrgRef, error) {
	org, err := s.scopedOrg(ctx, tx, sc, id)
	if err != nil {
		return OrgRef{}, err
	}
	if rootOf(org.Path) != org.Path {
		return OrgRef{}, console.Invalid("org_id", "节假日和农忙假由县里统一设定")
	}
	return org, nil
}

// checkDay reads a day "YYYY-MM-DD" of a form field.
func checkDay(field, label, day string) (string, error) {
	t, err := time.Parse(dayLayout, strings.TrimSpace(day))
	if err != nil {
		return "", console.Invalid(field, "%s应为日期，如 2026-10-01", label)
	}
	return t.Format(dayLayout), nil
}

func checkName(field, label, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", console.Invalid(field, "请填写%s", label)
	case utf8.RuneCountInString(name) > 64:
		return "", console.Invalid(field, "%s最多 64 个字", label)
	}
	return name, nil
}

// AddHoliday adds a holiday (or, with Workday, a 调休 working day) to a county of the scope. A past
// day's statuses are recomputed.
func (s *Service) AddHoliday(ctx context.Context, sc scope.Scope, countyID uint, h models.Holiday, record Recorder) error {
	var err error
	if h.Day, err = checkDay("day", "日期", h.Day); err != nil {
		return err
	}
	if h.Name, err = checkName("name", "名称（如 国庆节）", h.Name); err != nil {
		return err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		county, err := s.scopedCounty(ctx, tx, sc, countyID)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.Holiday{}).Where("org_id = ? AND day = ?", county.ID, h.Day).Count(&n).Error; err != nil {
			return fmt.Errorf("attendance: holiday: %w", err)
		}
		if n > 0 {
			return console.Invalid("day", "%s 已经设置过了，要改请先删除", h.Day)
		}
		h.ID, h.OrgID, h.CreatedAt = 0, county.ID, s.now()
		if err := tx.Create(&h).Error; err != nil {
			return fmt.Errorf("attendance: add holiday: %w", err)
		}
		kind := "节假日"
		if h.Workday {
			kind = "调休上班日"
		}
		return record(ctx, tx, console.Change{Action: console.ActionCreate, Object: ObjectHoliday, ObjectID: h.ID, OrgPath: county.Path,
			Summary: fmt.Sprintf("设定%s：%s %s %s", kind, county.Path, h.Day, h.Name), After: h})
	})
	if err != nil {
		return err
	}
	return s.recomputePast(ctx, h.Day)
}

// DeleteHoliday removes a holiday of a county in the scope; it returns the county's id.
func (s *Service) DeleteHoliday(ctx context.Context, sc scope.Scope, id uint, record Recorder) (uint, error) {
	var h models.Holiday
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&h, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return scope.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("attendance: holiday %d: %w", id, err)
		}
		county, err := s.scopedCounty(ctx, tx, sc, h.OrgID)
		if err != nil {
			return err
		}
		if err := tx.Delete(&models.Holiday{}, id).Error; err != nil {
			return fmt.Errorf("attendance: delete holiday %d: %w", id, err)
		}
		return record(ctx, tx, console.Change{Action: console.ActionDeactivate, Object: ObjectHoliday, ObjectID: id, OrgPath: county.Path,
			Summary: fmt.Sprintf("删除节假日设定：%s %s %s", county.Path, h.Day, h.Name), Before: h})
	})
	if err != nil {
		return 0, err
	}
	return h.OrgID, s.recomputePast(ctx, h.Day)
}

// recomputePast recomputes everyone's status of day when it is over (a changed calendar changes it).
func (s *Service) recomputePast(ctx context.Context, day string) error {
	if day >= s.Today() {
		return nil
	}
	return s.Recompute(ctx, nil, day)
}

// maxSeasonDays bounds a farm season's leave days.
const maxSeasonDays = 90

// AddSeason adds a farm-season leave period to a county of the scope.
func (s *Service) AddSeason(ctx context.Context, sc scope.Scope, countyID uint, f models.FarmSeason, record Recorder) error {
	var err error
	if f.Name, err = checkName("season_name", "名称（如 春耕农忙假）", f.Name); err != nil {
		return err
	}
	if f.StartDay, err = checkDay("start_day", "开始日期", f.StartDay); err != nil {
		return err
	}
	if f.EndDay, err = checkDay("end_day", "结束日期", f.EndDay); err != nil {
		return err
	}
	switch {
	case f.EndDay < f.StartDay:
		return console.Invalid("end_day", "结束日期不能早于开始日期")
	case f.Days < 1 || f.Days > maxSeasonDays:
		return console.Invalid("days", "每人可休天数应在 1–%d 天之间", maxSeasonDays)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		county, err := s.scopedCounty(ctx, tx, sc, countyID)
		if err != nil {
			return err
		}
		f.ID, f.OrgID, f.CreatedAt = 0, county.ID, s.now()
		if err := tx.Create(&f).Error; err != nil {
			return fmt.Errorf("attendance: add farm season: %w", err)
		}
		return record(ctx, tx, console.Change{Action: console.ActionCreate, Object: ObjectSeason, ObjectID: f.ID, OrgPath: county.Path,
			Summary: fmt.Sprintf("设定农忙假：%s %s（%s 至 %s，每人 %d 天）", county.Path, f.Name, f.StartDay, f.EndDay, f.Days), After: f})
	})
}

// DeleteSeason removes a farm-season period of a county in the scope; it returns the county's id.
func (s *Service) DeleteSeason(ctx context.Context, sc scope.Scope, id uint, record Recorder) (uint, error) {
	var f models.FarmSeason
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&f, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return scope.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("attendance: farm season %d: %w", id, err)
		}
		county, err := s.scopedCounty(ctx, tx, sc, f.OrgID)
		if err != nil {
			return err
		}
		if err := tx.Delete(&models.FarmSeason{}, id).Error; err != nil {
			return fmt.Errorf("attendance: delete farm season %d: %w", id, err)
		}
		return record(ctx, tx, console.Change{Action: console.ActionDeactivate, Object: ObjectSeason, ObjectID: id, OrgPath: county.Path,
			Summary: fmt.Sprintf("删除农忙假：%s %s", county.Path, f.Name), Before: f})
	})
	return f.OrgID, err
}
