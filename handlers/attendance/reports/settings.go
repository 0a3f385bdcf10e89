package reports

import (
	"context"
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// ObjectSettings is the audit log's object of a change to a county's report settings.
const ObjectSettings = "attendance_settings"

// thresholdsOf are the saved settings of the counties at paths, by path (counties without a row left
// out).
func (s *Service) settingsOf(ctx context.Context, paths []string) (map[string]models.AttendanceThresholds, error) {
	out := map[string]models.AttendanceThresholds{}
	if len(paths) == 0 {
		return out, nil
	}
	var rows []struct {
		models.AttendanceThresholds
		Path string
	}
	err := s.db.WithContext(ctx).Table("attendance_thresholds t").Select("t.*, o.path").Joins("JOIN orgs o ON o.id = t.org_id").
		Where("o.path IN ?", paths).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reports: thresholds: %w", err)
	}
	for _, r := range rows {
		out[r.Path] = r.AttendanceThresholds
	}
	return out, nil
}

// thresholdsOf are the thresholds of the counties at paths, by path (counties without a row left out).
func (s *Service) thresholdsOf(ctx context.Context, paths []string) (map[string]Thresholds, error) {
	rows, err := s.settingsOf(ctx, paths)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Thresholds, len(rows))
	for p, r := range rows {
		out[p] = Thresholds{Green: r.Green, Yellow: r.Yellow}
	}
	return out, nil
}

// thresholdsFor is the thresholds of the county of path.
func thresholdsFor(ts map[string]Thresholds, path string) Thresholds {
	if t, ok := ts[rootOf(path)]; ok {
		return t
	}
	return DefaultThresholds()
}

// Settings are a county's report settings: its thresholds and whether its board is public.
type Settings struct {
	County      OrgRef     `json:"county"`
	Thresholds  Thresholds `json:"thresholds"`
	BoardPublic bool       `json:"board_public"`
	Own         bool       `json:"own"` // saved (else the defaults)
}

// Settings are the settings of the county of the org with this id (0: the viewer's), if that county is
// in the scope (scope.ErrNotFound otherwise: only a county's and the installation's viewers see them).
func (s *Service) Settings(ctx context.Context, sc scope.Scope, orgID uint) (*Settings, error) {
	county, err := s.countyIn(ctx, sc, orgID)
	if err != nil {
		return nil, err
	}
	return s.settings(ctx, county)
}

// countyIn is the county of the org with this id (0: the viewer's own), in the scope.
func (s *Service) countyIn(ctx context.Context, sc scope.Scope, orgID uint) (*OrgRef, error) {
	org, err := s.rootOrg(ctx, sc, orgID)
	if err != nil {
		return nil, err
	}
	if org == nil { // the whole installation: its first county
		var orgs []models.Org
		if err := s.db.WithContext(ctx).Model(&models.Org{}).Select("id, name, path, level").
			Where("parent_id IS NULL").Order("path").Limit(1).Find(&orgs).Error; err != nil {
			return nil, fmt.Errorf("reports: counties: %w", err)
		}
		if len(orgs) == 0 {
			return nil, scope.ErrNotFound
		}
		ref := refOf(&orgs[0])
		return &ref, nil
	}
	if c := rootOf(org.Path); c != org.Path {
		if !sc.Contains(c) {
			return nil, scope.ErrNotFound
		}
		return s.orgByPath(ctx, c)
	}
	return org, nil
}

func (s *Service) settings(ctx context.Context, county *OrgRef) (*Settings, error) {
	rows, err := s.settingsOf(ctx, []string{county.Path})
	if err != nil {
		return nil, err
	}
	out := &Settings{County: *county, Thresholds: DefaultThresholds()}
	if r, ok := rows[county.Path]; ok {
		out.Thresholds, out.BoardPublic, out.Own = Thresholds{Green: r.Green, Yellow: r.Yellow}, r.BoardPublic, true
	}
	return out, nil
}

// Recorder writes a change to the audit log in the transaction that makes it (console.Record).
type Recorder func(ctx context.Context, tx *gorm.DB, ch console.Change) error

// SaveSettings saves a county's thresholds and board switch (the county in the scope: scope.ErrNotFound
// otherwise; an org that is no county: ErrBadSetting) and records the change with record in the same
// transaction. It returns the settings after, and whether anything changed.
func (s *Service) SaveSettings(ctx context.Context, sc scope.Scope, countyID uint, t Thresholds, boardPublic bool, record Recorder) (*Settings, bool, error) {
	county, err := s.scopedOrg(ctx, sc, countyID)
	if err != nil {
		return nil, false, err
	}
	if rootOf(county.Path) != county.Path {
		return nil, false, fmt.Errorf("%w: thresholds and the board are a county's", ErrBadSetting)
	}
	if err := t.Validate(); err != nil {
		return nil, false, err
	}
	var after *Settings
	changed := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		in := &Service{db: tx, log: s.log, now: s.now, loc: s.loc}
		before, err := in.settings(ctx, county)
		if err != nil {
			return err
		}
		row := models.AttendanceThresholds{OrgID: county.ID, Green: t.Green, Yellow: t.Yellow, BoardPublic: boardPublic, UpdatedAt: s.now()}
		if err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"green", "yellow", "board_public", "updated_at"}),
		}).Create(&row).Error; err != nil {
			return fmt.Errorf("reports: save settings of %s: %w", county.Path, err)
		}
		if after, err = in.settings(ctx, county); err != nil {
			return err
		}
		b, a := *before, *after
		b.Own, a.Own = false, false
		if reflect.DeepEqual(b, a) {
			return nil
		}
		changed = true
		return record(ctx, tx, console.Change{Action: console.ActionUpdate, Object: ObjectSettings, ObjectID: county.ID,
			OrgPath: county.Path, Summary: "修改考勤设置：" + county.Path, Before: b, After: a})
	})
	if err != nil {
		return nil, false, err
	}
	return after, changed, nil
}
