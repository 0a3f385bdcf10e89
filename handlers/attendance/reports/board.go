package reports

import (
	"context"
	"fmt"
	"sort"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The public board (晾晒) lists every village of a county with its attendance rate for a period,
// coloured by the county's thresholds: the rate only, never a person. Each county switches it on or
// off (off by default): when on, every viewer of the county sees it (a village secretary too, the
// other villages included, which is the board's point), in the console, the API and the
// mini-program; when off, only viewers whose scope holds the whole county (its administrators) see it,
// as a preview. Villages are listed by town and name, not ranked.

// BoardRow is one village of the board.
type BoardRow struct {
	OrgRef
	Town string // the town's name
	Counts
	Status string
}

// Board is a county's board for a period.
type Board struct {
	County     OrgRef
	Period     Period
	Public     bool // the county switched it on
	Preview    bool // off, shown to an administrator of the county only
	Thresholds Thresholds
	Villages   []BoardRow
	Total      Counts
}

// Visible reports whether the viewer sees the villages.
func (b *Board) Visible() bool { return b.Public || b.Preview }

// BoardOf is the board of the county of the viewer (countyID picks one for a viewer of several
// counties, 0: his own or the first) for period p. When the county's board is off and the viewer is
// no viewer of the whole county, it has no villages (Visible false).
func (s *Service) BoardOf(ctx context.Context, sc scope.Scope, countyID uint, p Period) (*Board, error) {
	county, err := s.boardCounty(ctx, sc, countyID)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, county)
	if err != nil {
		return nil, err
	}
	b := &Board{County: *county, Period: p, Public: set.BoardPublic, Thresholds: set.Thresholds}
	b.Preview = !b.Public && sc.Contains(county.Path)
	if !b.Visible() {
		return b, nil
	}
	err = s.customPlans(ctx, func(s *Service) error { return s.boardRows(ctx, b) })
	return b, err
}

// MemberBoard is the board of a member's county (the mini-program): nil villages when it is off.
func (s *Service) MemberBoard(ctx context.Context, orgPath string, p Period) (*Board, error) {
	county, err := s.orgByPath(ctx, rootOf(orgPath))
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, county)
	if err != nil {
		return nil, err
	}
	b := &Board{County: *county, Period: p, Public: set.BoardPublic, Thresholds: set.Thresholds}
	if !b.Public {
		return b, nil
	}
	err = s.customPlans(ctx, func(s *Service) error { return s.boardRows(ctx, b) })
	return b, err
}

// boardCounty is the county a viewer's board shows: the county of his org (outside his scope when he
// is below it, on purpose), or for a viewer of the whole installation the one he chose or the first.
func (s *Service) boardCounty(ctx context.Context, sc scope.Scope, countyID uint) (*OrgRef, error) {
	if !sc.All {
		c, err := s.orgByPath(ctx, rootOf(sc.Path))
		if err != nil {
			return nil, err
		}
		if countyID != 0 && countyID != c.ID {
			return nil, scope.ErrNotFound
		}
		return c, nil
	}
	q := s.db.WithContext(ctx).Model(&models.Org{}).Select("id, name, path, level").Where("parent_id IS NULL")
	if countyID != 0 {
		q = q.Where("id = ?", countyID)
	}
	var orgs []models.Org
	if err := q.Order("path").Limit(1).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("reports: board county: %w", err)
	}
	if len(orgs) == 0 {
		return nil, scope.ErrNotFound
	}
	ref := refOf(&orgs[0])
	return &ref, nil
}

// Counties are the counties a viewer of the whole installation may choose between.
func (s *Service) Counties(ctx context.Context) ([]OrgRef, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Select("id, name, path, level").
		Where("parent_id IS NULL").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("reports: counties: %w", err)
	}
	out := make([]OrgRef, len(orgs))
	for i := range orgs {
		out[i] = refOf(&orgs[i])
	}
	return out, nil
}

// boardRows fills the villages of b: the county's orgs at the village level, each with the days of
// its subtree.
func (s *Service) boardRows(ctx context.Context, b *Board) error {
	db := s.db.WithContext(ctx)
	in := scope.Under(b.County.ID, b.County.Path)
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(in.Orgs).Select("id, name, path, level").
		Where("level <= ?", models.LevelVillage).Order("path").Find(&orgs).Error; err != nil {
		return fmt.Errorf("reports: board orgs: %w", err)
	}
	rows := map[string]*BoardRow{}
	names := map[string]string{}
	for i := range orgs {
		o := &orgs[i]
		names[o.Path] = o.Name
		if o.Level == models.LevelVillage {
			rows[o.Path] = &BoardRow{OrgRef: refOf(o)}
		}
	}
	var byOrg []countsRow
	if err := db.Table("attendance_days").Scopes(in.ByPath("attendance_days.org_path")).
		Where("attendance_days.day >= ? AND attendance_days.day <= ?", b.Period.From, b.Period.To).
		Select("attendance_days.org_path, " + aggregate).Group("attendance_days.org_path").Scan(&byOrg).Error; err != nil {
		return fmt.Errorf("reports: board figures: %w", err)
	}
	for _, r := range byOrg {
		if depth(r.OrgPath) < models.LevelVillage {
			continue // a town's or the county's own staff: no village
		}
		if v := rows[prefixAt(r.OrgPath, models.LevelVillage)]; v != nil {
			v.Counts.add(r.counts())
		}
	}
	for _, v := range rows {
		v.Town = names[prefixAt(v.Path, models.LevelTown)]
		v.Status = b.Thresholds.Colour(v.Attended(), v.Expected())
		b.Villages = append(b.Villages, *v)
		b.Total.add(v.Counts)
	}
	sort.Slice(b.Villages, func(i, j int) bool { return b.Villages[i].Path < b.Villages[j].Path })
	return nil
}
