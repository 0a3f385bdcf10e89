package reports

// Figures of a part of the org tree for a period, per unit (the orgs right under the one looked at),
// per day and per member. Every query takes the viewer's scope.Scope and goes through its filters, and
// aggregates in SQL (GROUP BY org path, day or member): the Go side only rolls orgs up into units.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// aggregate selects the Counts of a GROUP BY on attendance_days.
var aggregate = func() string {
	n := func(cond, as string) string { return "SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END) AS " + as }
	st := func(status string) string { return "attendance_days.status = '" + status + "'" }
	return strings.Join([]string{
		n(st(models.DayPresent), "n_present"), n(st(models.DayLate), "n_late"), n(st(models.DayEarlyLeave), "n_early"),
		n(st(models.DayAbsent), "n_absent"), n(st(models.DayLeave), "n_leave"), n(st(models.DayOffsite), "n_offsite"),
		n(st(models.DayRest), "n_rest"), n("attendance_days.late", "n_late_days"), n("attendance_days.early", "n_early_days"),
		n("attendance_days.flagged", "n_flagged"),
	}, ", ")
}()

// countsRow is one row of an aggregate, by org path, day or member.
type countsRow struct {
	OrgPath    string
	Day        string
	MemberID   uint
	NPresent   int64
	NLate      int64
	NEarly     int64
	NAbsent    int64
	NLeave     int64
	NOffsite   int64
	NRest      int64
	NLateDays  int64
	NEarlyDays int64
	NFlagged   int64
}

func (r countsRow) counts() Counts {
	return Counts{Present: r.NPresent, Late: r.NLate, EarlyLeave: r.NEarly, Absent: r.NAbsent, Leave: r.NLeave,
		Offsite: r.NOffsite, Rest: r.NRest, LateDays: r.NLateDays, EarlyDays: r.NEarlyDays, Flagged: r.NFlagged}
}

// Unit is the figures of one unit: an org right under the one looked at, with everything under it
// (or that org's own members, "本级").
type Unit struct {
	OrgRef
	Own      bool // the looked-at org's own members, not a unit under it
	Children bool // the unit has orgs under it (the page drills down into it)
	Members  int64
	Counts
	Status string
}

// DayFigures are the figures of one day of a period.
type DayFigures struct {
	Day string
	Counts
	Status string
}

// MemberFigures are one member's figures for a period.
type MemberFigures struct {
	ID      uint
	Name    string
	Role    string
	OrgID   uint
	OrgPath string
	Counts
	Status string
}

// Report is the attendance of an org's subtree (or, for a viewer of the whole installation, of every
// county) for a period.
type Report struct {
	Period     Period
	Root       *OrgRef  // the org looked at; nil: the whole installation, in counties
	Trail      []OrgRef // the orgs above Root in the viewer's scope, top first (breadcrumbs)
	Units      []Unit
	Total      Unit
	Days       []DayFigures    // per day, for a period of more than one day
	Members    []MemberFigures // with Report's members option, or when Root has no org under it
	Thresholds Thresholds      // of Root's county
	Leaf       bool            // Root has no org under it: the members are the units
}

// ReportOptions choose what a report holds beyond its units.
type ReportOptions struct {
	Members bool // each member of the subtree (a village's page, exports)
}

// Report is the attendance of the subtree of the org rootID (0: the viewer's own) for period p.
func (s *Service) Report(ctx context.Context, sc scope.Scope, rootID uint, p Period, o ReportOptions) (*Report, error) {
	root, err := s.rootOrg(ctx, sc, rootID)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	in := narrow(sc, root)
	rep := &Report{Period: p, Root: root}
	// The two aggregates over the period's days are the report's cost: they run while the orgs and
	// members are read, each on its own connection.
	aggs := s.startAggregates(ctx, in, p)

	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(in.Orgs).Select("id, name, path, level").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("reports: orgs: %w", err)
	}
	pathOf := make(map[uint]string, len(orgs))
	byPath := make(map[string]*models.Org, len(orgs))
	counties := map[string]bool{}
	for i := range orgs {
		pathOf[orgs[i].ID] = orgs[i].Path
		byPath[orgs[i].Path] = &orgs[i]
		counties[rootOf(orgs[i].Path)] = true
	}
	if root != nil {
		if rep.Trail, err = s.trail(ctx, sc, root); err != nil {
			return nil, err
		}
	}
	ts, err := s.thresholdsOf(ctx, keys(counties))
	if err != nil {
		return nil, err
	}
	rep.Thresholds = DefaultThresholds()
	if root != nil {
		rep.Thresholds = thresholdsFor(ts, root.Path)
	}

	units := map[string]*Unit{}
	unit := func(path string) *Unit {
		up := unitOf(root, path)
		u := units[up]
		if u == nil {
			u = &Unit{OrgRef: OrgRef{Path: up, Name: last(up)}}
			if o := byPath[up]; o != nil {
				u.OrgRef = refOf(o)
			}
			u.Own = root != nil && up == root.Path
			units[up] = u
		}
		return u
	}
	for _, o := range orgs { // every unit shows, figures or not
		if root == nil || o.Path != root.Path {
			u := unit(o.Path)
			u.Children = u.Children || o.Path != u.Path
		}
	}
	rep.Leaf = root != nil && len(units) == 0

	var members []struct {
		OrgID uint
		N     int64
	}
	if err := db.Table("members").Scopes(in.Members).Select("members.org_id, COUNT(*) AS n").
		Where("members.active = ?", true).Group("members.org_id").Scan(&members).Error; err != nil {
		return nil, fmt.Errorf("reports: members: %w", err)
	}
	for _, m := range members {
		if path, ok := pathOf[m.OrgID]; ok {
			unit(path).Members += m.N
		}
	}

	if err := aggs.wait(); err != nil {
		return nil, err
	}
	for _, r := range aggs.byOrg {
		unit(r.OrgPath).Counts.add(r.counts())
	}
	for _, r := range aggs.byDay {
		c := r.counts()
		rep.Days = append(rep.Days, DayFigures{Day: r.Day, Counts: c, Status: rep.Thresholds.Colour(c.Attended(), c.Expected())})
	}

	for _, u := range units {
		if u.Own && u.Members == 0 && u.WorkDays() == 0 && len(units) > 1 {
			continue // an office with nobody on the roster is no unit
		}
		if u.Own && len(units) > 1 {
			u.Name += "（本级）"
		}
		u.Status = thresholdsFor(ts, u.Path).Colour(u.Attended(), u.Expected())
		rep.Units = append(rep.Units, *u)
		rep.Total.Members += u.Members
		rep.Total.Counts.add(u.Counts)
	}
	sort.Slice(rep.Units, func(i, j int) bool { return rep.Units[i].Path < rep.Units[j].Path })
	if root != nil {
		rep.Total.OrgRef = *root
	} else {
		rep.Total.Name = "全部"
	}
	if rep.Leaf { // a village: its own members are all there is
		if u := units[root.Path]; u != nil {
			rep.Total.Members, rep.Total.Counts = u.Members, u.Counts
		}
		rep.Units = nil
	}
	rep.Total.Status = rep.Thresholds.Colour(rep.Total.Attended(), rep.Total.Expected())
	if o.Members || rep.Leaf {
		if rep.Members, err = s.memberFigures(ctx, in, p, ts); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// aggregates are the period's days of a subtree summed by org path and by day (for a period of more
// than one day).
type aggregates struct {
	byOrg, byDay []countsRow
	done         chan struct{}
	err          error
}

func (a *aggregates) wait() error {
	<-a.done
	return a.err
}

// startAggregates runs the two aggregates concurrently on PostgreSQL (one after the other elsewhere:
// SQLite has one connection that matters).
func (s *Service) startAggregates(ctx context.Context, in scope.Narrowed, p Period) *aggregates {
	a := &aggregates{done: make(chan struct{})}
	days := func(db *gorm.DB) *gorm.DB {
		return db.Table("attendance_days").Scopes(in.ByPath("attendance_days.org_path")).
			Where("attendance_days.day >= ? AND attendance_days.day <= ?", p.From, p.To)
	}
	byOrg := func() error {
		return s.planned(ctx, func(db *gorm.DB) error {
			if err := days(db).Select("attendance_days.org_path, " + aggregate).Group("attendance_days.org_path").Scan(&a.byOrg).Error; err != nil {
				return fmt.Errorf("reports: figures by org: %w", err)
			}
			return nil
		})
	}
	byDay := func() error {
		if p.From == p.To {
			return nil
		}
		return s.planned(ctx, func(db *gorm.DB) error {
			if err := days(db).Select("attendance_days.day, " + aggregate).Group("attendance_days.day").
				Order("attendance_days.day").Scan(&a.byDay).Error; err != nil {
				return fmt.Errorf("reports: figures by day: %w", err)
			}
			return nil
		})
	}
	go func() {
		defer close(a.done)
		if models.Dialect(s.db) != "postgres" {
			a.err = errors.Join(byOrg(), byDay())
			return
		}
		dayErr := make(chan error, 1)
		go func() { dayErr <- byDay() }()
		a.err = errors.Join(byOrg(), <-dayErr)
	}()
	return a
}

// planned runs fn on a connection whose queries, on PostgreSQL, are planned for their own parameters
// (see customPlans).
func (s *Service) planned(ctx context.Context, fn func(db *gorm.DB) error) error {
	if models.Dialect(s.db) != "postgres" {
		return fn(s.db.WithContext(ctx))
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return fmt.Errorf("reports: plan the queries: %w", err)
		}
		return fn(tx)
	})
}

// memberFigures are the figures of every member of the subtree for the period: the active members of
// its orgs, and anyone with days in it (a member who moved away or left keeps his days here).
func (s *Service) memberFigures(ctx context.Context, in scope.Narrowed, p Period, ts map[string]Thresholds) ([]MemberFigures, error) {
	db := s.db.WithContext(ctx)
	var rows []countsRow
	if err := s.planned(ctx, func(db *gorm.DB) error {
		return db.Table("attendance_days").Scopes(in.ByPath("attendance_days.org_path")).
			Where("attendance_days.day >= ? AND attendance_days.day <= ?", p.From, p.To).
			Select("attendance_days.member_id, " + aggregate).Group("attendance_days.member_id").Scan(&rows).Error
	}); err != nil {
		return nil, fmt.Errorf("reports: figures by member: %w", err)
	}
	ids := make([]uint, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.MemberID)
	}
	var ms []struct {
		ID    uint
		Name  string
		Role  string
		OrgID uint
		Path  string
	}
	q := db.Table("members").Select("members.id, members.name, members.role, members.org_id, orgs.path").
		Joins("JOIN orgs ON orgs.id = members.org_id")
	if len(ids) > 0 {
		q = q.Where("(members.active = ? AND members.org_id IN (?)) OR members.id IN ?", true,
			db.Table("orgs").Select("orgs.id").Scopes(in.Orgs), ids)
	} else {
		q = q.Scopes(in.Members).Where("members.active = ?", true)
	}
	if err := q.Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("reports: members: %w", err)
	}
	byID := make(map[uint]Counts, len(rows))
	for _, r := range rows {
		byID[r.MemberID] = r.counts()
	}
	out := make([]MemberFigures, 0, len(ms))
	for _, m := range ms {
		f := MemberFigures{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.Path, Counts: byID[m.ID]}
		f.Status = thresholdsFor(ts, m.Path).Colour(f.Attended(), f.Expected())
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OrgPath != out[j].OrgPath {
			return out[i].OrgPath < out[j].OrgPath
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DayRow is one member's day as the member page shows it.
type DayRow struct {
	Day     string
	Status  string
	Late    bool
	Early   bool
	InAt    *time.Time
	OutAt   *time.Time
	Flagged bool
	OrgPath string
}

// MemberDetail is one member's attendance for a period: his figures and his days.
type MemberDetail struct {
	MemberFigures
	Active     bool
	Days       []DayRow // newest first
	Thresholds Thresholds
}

// Member is the attendance of the member with this id, if he is in the scope (scope.ErrNotFound
// otherwise), for period p: only his days in orgs of the scope count.
func (s *Service) Member(ctx context.Context, sc scope.Scope, id uint, p Period) (*MemberDetail, error) {
	db := s.db.WithContext(ctx)
	var ms []struct {
		ID     uint
		Name   string
		Role   string
		OrgID  uint
		Path   string
		Active bool
	}
	if err := db.Table("members").Scopes(sc.Members).Select("members.id, members.name, members.role, members.org_id, orgs.path, members.active").
		Joins("JOIN orgs ON orgs.id = members.org_id").Where("members.id = ?", id).Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("reports: member %d: %w", id, err)
	}
	if len(ms) == 0 {
		return nil, scope.ErrNotFound
	}
	m := ms[0]
	var rows []models.AttendanceDay
	if err := db.Model(&models.AttendanceDay{}).Scopes(sc.ByPath("attendance_days.org_path")).
		Where("member_id = ? AND day >= ? AND day <= ?", id, p.From, p.To).Order("day DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reports: days of member %d: %w", id, err)
	}
	ts, err := s.thresholdsOf(ctx, []string{rootOf(m.Path)})
	if err != nil {
		return nil, err
	}
	d := &MemberDetail{MemberFigures: MemberFigures{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.Path},
		Active: m.Active, Thresholds: thresholdsFor(ts, m.Path)}
	for _, r := range rows {
		d.Counts.add(dayCounts(&r))
		d.Days = append(d.Days, DayRow{Day: r.Day, Status: r.Status, Late: r.Late, Early: r.Early, InAt: r.InAt, OutAt: r.OutAt,
			Flagged: r.Flagged, OrgPath: r.OrgPath})
	}
	d.Status = d.Thresholds.Colour(d.Attended(), d.Expected())
	return d, nil
}

// dayCounts are the counts of one member-day.
func dayCounts(r *models.AttendanceDay) Counts {
	var c Counts
	switch r.Status {
	case models.DayPresent:
		c.Present = 1
	case models.DayLate:
		c.Late = 1
	case models.DayEarlyLeave:
		c.EarlyLeave = 1
	case models.DayAbsent:
		c.Absent = 1
	case models.DayLeave:
		c.Leave = 1
	case models.DayOffsite:
		c.Offsite = 1
	case models.DayRest:
		c.Rest = 1
	}
	if r.Late {
		c.LateDays = 1
	}
	if r.Early {
		c.EarlyDays = 1
	}
	if r.Flagged {
		c.Flagged = 1
	}
	return c
}

// DayStatusNames are the daily statuses as users read them.
var DayStatusNames = map[string]string{
	models.DayPresent: "正常", models.DayLate: "迟到", models.DayEarlyLeave: "早退", models.DayAbsent: "缺勤",
	models.DayLeave: "请假", models.DayOffsite: "外勤", models.DayRest: "休息",
}

// unitOf is the path of the unit an org at path belongs to: the org right under root on its way
// (root itself for root's own). With no root, the county.
func unitOf(root *OrgRef, path string) string {
	if root == nil {
		return rootOf(path)
	}
	if path == root.Path {
		return path
	}
	return prefixAt(path, depth(root.Path)+1)
}

// customPlans runs fn on a service whose queries, on PostgreSQL, are planned for their own
// parameters (as handlers/study does): the driver keeps each statement prepared, and after five runs
// PostgreSQL may switch to a generic plan that cannot see how many days a scope's path pattern and a
// period select. SET LOCAL lasts for the read-only transaction fn runs in.
func (s *Service) customPlans(ctx context.Context, fn func(s *Service) error) error {
	if models.Dialect(s.db) != "postgres" {
		return fn(s)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return fmt.Errorf("reports: plan the queries: %w", err)
		}
		c := *s
		c.db = tx
		return fn(&c)
	})
}

// orgByPath is the org at path (scope.ErrNotFound when there is none).
func (s *Service) orgByPath(ctx context.Context, path string) (*OrgRef, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Select("id, name, path, level").
		Where("path = ?", path).Limit(1).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("reports: org %s: %w", path, err)
	}
	if len(orgs) == 0 {
		return nil, scope.ErrNotFound
	}
	ref := refOf(&orgs[0])
	return &ref, nil
}

// narrow is the viewer's scope narrowed to root's subtree (nil: not narrowed).
func narrow(sc scope.Scope, root *OrgRef) scope.Narrowed {
	if root == nil {
		return sc.Narrow(0, "")
	}
	return sc.Narrow(root.ID, root.Path)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scopedOrg, rootOrg and trail are scope's org lookups on this service's database.
func (s *Service) scopedOrg(ctx context.Context, sc scope.Scope, id uint) (*OrgRef, error) {
	return scope.FindOrg(ctx, s.db, sc, id)
}

func (s *Service) rootOrg(ctx context.Context, sc scope.Scope, id uint) (*OrgRef, error) {
	return scope.RootOrg(ctx, s.db, sc, id)
}

func (s *Service) trail(ctx context.Context, sc scope.Scope, root *OrgRef) ([]OrgRef, error) {
	return scope.Trail(ctx, s.db, sc, root)
}
