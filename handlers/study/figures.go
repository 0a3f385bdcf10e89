package study

// Study figures for the console: progress of a part of the org tree for a day or a period, per unit
// (the orgs right under the one looked at), per day, per question tag and per member. Activity
// (tasks completed of those published, training hours toward the yearly target) always comes with
// outcome (accuracy of the answers, by tag), and each rate is coloured green, yellow or red by the
// county's Thresholds. Every query takes the viewer's scope.Scope and goes through its filters, and
// aggregates in SQL (GROUP BY org, day, tag or member): the Go side only rolls orgs up into units.
// A period's past days are read from the nightly daily summary where it has run (summary.go), the
// others from the tasks.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Period is a range of days, both ends included ("2006-01-02" in YANZHEN_TZ). Preset says how it was
// chosen: one day, this week (Monday to today), this month, this year, or a range typed in.
type Period struct {
	From, To string
	Preset   string
}

// Period presets.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
	PeriodYear  = "year"
	PeriodRange = "range"
)

// MaxPeriodDays bounds a period: a year's figures are the most anyone asks for.
const MaxPeriodDays = 366

// PresetPeriod is the period of a preset that ends today (PeriodDay: today).
func (s *Service) PresetPeriod(preset string) Period {
	now := s.now().In(s.loc)
	today := now.Format(dayLayout)
	p := Period{From: today, To: today, Preset: preset}
	switch preset {
	case PeriodWeek:
		back := (int(now.Weekday()) + 6) % 7 // days since Monday
		p.From = addDays(today, -back)
	case PeriodMonth:
		p.From = now.Format("2006-01") + "-01"
	case PeriodYear:
		p.From = now.Format("2006") + "-01-01"
	default:
		p.Preset = PeriodDay
	}
	return p
}

// Days is how many days the period spans.
func (p Period) Days() int {
	from, err1 := time.Parse(dayLayout, p.From)
	to, err2 := time.Parse(dayLayout, p.To)
	if err1 != nil || err2 != nil || to.Before(from) {
		return 0
	}
	return int(to.Sub(from).Hours()/24) + 1
}

// Label is the period as people read it: "2026-11-20", "本月（2026-11-01 至 2026-11-20）".
func (p Period) Label() string {
	if p.From == p.To {
		return p.From
	}
	name := map[string]string{PeriodWeek: "本周", PeriodMonth: "本月", PeriodYear: "今年"}[p.Preset]
	if name == "" {
		return p.From + " 至 " + p.To
	}
	return name + "（" + p.From + " 至 " + p.To + "）"
}

// Status colours of a rate, as the console's tags are named (green, yellow, red), and StatusNone when
// there is nothing to rate (no task published, no answer given).
const (
	StatusOK   = "ok"
	StatusWarn = "warn"
	StatusBad  = "bad"
	StatusNone = "none"
)

// StatusNames are the statuses as users read them.
var StatusNames = map[string]string{StatusOK: "良好", StatusWarn: "一般", StatusBad: "落后", StatusNone: "无任务"}

// Thresholds colour the rates, in percent: a rate at or above Green is green, at or above Yellow
// yellow, else red. Completion is tasks completed of those published; accuracy is right answers of
// those given. A unit's or a member's status is the worse of the two, so that finishing every task
// with wrong answers does not look green (study time alone is not the measure of people). They are a
// county's choice, saved with the county's study rule.
type Thresholds struct {
	CompletionGreen  int `json:"completion_green"`
	CompletionYellow int `json:"completion_yellow"`
	AccuracyGreen    int `json:"accuracy_green"`
	AccuracyYellow   int `json:"accuracy_yellow"`
}

// DefaultThresholds: completion ≥ 80 % green, ≥ 50 % yellow; accuracy ≥ 80 % green, ≥ 60 % yellow
// (60 is the usual pass mark of a party-knowledge test).
func DefaultThresholds() Thresholds {
	return Thresholds{CompletionGreen: 80, CompletionYellow: 50, AccuracyGreen: 80, AccuracyYellow: 60}
}

// Validate checks that each pair lies in 0–100 with yellow at most green.
func (t Thresholds) Validate() error {
	ok := func(g, y int) bool { return 0 <= y && y <= g && g <= 100 }
	if !ok(t.CompletionGreen, t.CompletionYellow) || !ok(t.AccuracyGreen, t.AccuracyYellow) {
		return fmt.Errorf("%w: thresholds must be 0–100, yellow at most green", ErrBadRule)
	}
	return nil
}

// colour is the status of part/whole against green and yellow (percent), in integers so that 80 %
// is green at exactly 80 %.
func colour(part, whole int64, green, yellow int) string {
	switch {
	case whole <= 0:
		return StatusNone
	case part*100 >= int64(green)*whole:
		return StatusOK
	case part*100 >= int64(yellow)*whole:
		return StatusWarn
	}
	return StatusBad
}

// statusRank orders the statuses from nothing to rate to red.
var statusRank = map[string]int{StatusNone: 0, StatusOK: 1, StatusWarn: 2, StatusBad: 3}

// worse of two statuses (StatusNone only when both are).
func worse(a, b string) string {
	if statusRank[b] > statusRank[a] {
		return b
	}
	return a
}

// StudyThresholds is a county's Thresholds (OrgID is the county). Without a row, DefaultThresholds.
type StudyThresholds = models.StudyThresholds

func thresholdsOfRow(r StudyThresholds) Thresholds {
	return Thresholds{CompletionGreen: r.CompletionGreen, CompletionYellow: r.CompletionYellow,
		AccuracyGreen: r.AccuracyGreen, AccuracyYellow: r.AccuracyYellow}
}

// thresholdsOf are the thresholds of the counties at paths, by path (counties without a row left out).
func (s *Service) thresholdsOf(ctx context.Context, db *gorm.DB, paths []string) (map[string]Thresholds, error) {
	out := map[string]Thresholds{}
	if len(paths) == 0 {
		return out, nil
	}
	var rows []struct {
		StudyThresholds
		Path string
	}
	err := db.WithContext(ctx).Table("study_thresholds t").Select("t.*, o.path").Joins("JOIN orgs o ON o.id = t.org_id").
		Where("o.path IN ?", paths).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("study: thresholds: %w", err)
	}
	for _, r := range rows {
		out[r.Path] = thresholdsOfRow(r.StudyThresholds)
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

// OrgRef names an org.
type OrgRef = scope.OrgRef

func refOf(o *models.Org) OrgRef { return scope.RefOf(o) }

// narrow is the viewer's scope narrowed to root's subtree (nil: not narrowed).
func narrow(sc scope.Scope, root *OrgRef) scope.Narrowed {
	if root == nil {
		return sc.Narrow(0, "")
	}
	return sc.Narrow(root.ID, root.Path)
}

// Counts are the task and answer figures of a unit, a day or a member.
type Counts struct {
	Published int64 // tasks published (one per member and day)
	Completed int64 // of them completed
	Answered  int64 // answers given
	Right     int64 // of them right
}

func (c *Counts) add(o Counts) {
	c.Published += o.Published
	c.Completed += o.Completed
	c.Answered += o.Answered
	c.Right += o.Right
}

// CompletionRate is completed / published (0–1); ok false when nothing was published.
func (c Counts) CompletionRate() (float64, bool) { return ratio(c.Completed, c.Published) }

// Accuracy is right / answered (0–1); ok false when nothing was answered.
func (c Counts) Accuracy() (float64, bool) { return ratio(c.Right, c.Answered) }

// CompletionPct and AccuracyPct are the rates as pages show them ("83%", "—" when there is none).
func (c Counts) CompletionPct() string { return pctText(c.Completed, c.Published) }
func (c Counts) AccuracyPct() string   { return pctText(c.Right, c.Answered) }

func ratio(part, whole int64) (float64, bool) {
	if whole <= 0 {
		return 0, false
	}
	return float64(part) / float64(whole), true
}

func pctText(part, whole int64) string {
	r, ok := ratio(part, whole)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", r*100)
}

// pct1 is a rate in percent with one decimal (charts and exports); nil when there is none.
func pct1(part, whole int64) any {
	r, ok := ratio(part, whole)
	if !ok {
		return nil
	}
	return float64(int64(r*1000+0.5)) / 10
}

// Hours are training hours this year toward the yearly target, summed over members.
type Hours struct {
	Minutes       int64 // credited this year
	TargetMinutes int64 // the members' targets, in minutes
}

// Share is the part of the target done (0–1); 0 without a target.
func (h Hours) Share() float64 {
	if h.TargetMinutes <= 0 {
		return 0
	}
	return float64(h.Minutes) / float64(h.TargetMinutes)
}

// UnitFigures are the figures of one unit: an org right under the one looked at, with everything
// under it (or that org's own members, "本级").
type UnitFigures struct {
	OrgRef
	Own      bool // the looked-at org's own members and tasks, not a unit under it
	Children bool // the unit has orgs under it (the page drills down into it)
	Members  int64
	Counts
	Hours
	Status, CompletionStatus, AccuracyStatus string
}

// AvgHours and AvgTarget are hours per member.
func (u UnitFigures) AvgHours() float64  { return perMember(u.Minutes, u.Members) }
func (u UnitFigures) AvgTarget() float64 { return perMember(u.TargetMinutes, u.Members) }

func perMember(minutes, members int64) float64 {
	if members == 0 {
		return 0
	}
	return float64(int64(float64(minutes)/60/float64(members)*10+0.5)) / 10
}

func (u *UnitFigures) rate(t Thresholds) {
	u.CompletionStatus = colour(u.Completed, u.Published, t.CompletionGreen, t.CompletionYellow)
	u.AccuracyStatus = colour(u.Right, u.Answered, t.AccuracyGreen, t.AccuracyYellow)
	u.Status = worse(u.CompletionStatus, u.AccuracyStatus)
}

// DayFigures are the figures of one day of a period.
type DayFigures struct {
	Day string
	Counts
}

// TagFigures are the answers to the questions with one tag ("" = questions without a tag), and their
// accuracy: how well the tag's knowledge is mastered.
type TagFigures struct {
	Tag      string
	Answered int64
	Right    int64
	Status   string
}

// AccuracyPct is the tag's accuracy as pages show it.
func (t TagFigures) AccuracyPct() string { return pctText(t.Right, t.Answered) }

// Overview is the study progress of an org's subtree (or, for a viewer of the whole installation,
// of every county) for a period.
type Overview struct {
	Period     Period
	Root       *OrgRef  // the org looked at; nil: the whole installation, in counties
	Trail      []OrgRef // the orgs above Root in the viewer's scope, top first (breadcrumbs)
	Units      []UnitFigures
	Total      UnitFigures
	Days       []DayFigures // per day, for a period of more than one day
	Tags       []TagFigures // weakest first
	Thresholds Thresholds   // of Root's county
	Year       int          // the year of the hours
	YearPace   float64      // the share of the year gone by today (hours "on pace": target × YearPace)
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
	rest := path[len(root.Path)+1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return root.Path + "/" + rest
}

// countsRow is one row of a task aggregate, by org or by day.
type countsRow struct {
	OrgID     uint
	Day       string
	Published int64
	Completed int64
	Answered  int64
	NRight    int64
}

func (r countsRow) counts() Counts {
	return Counts{Published: r.Published, Completed: r.Completed, Answered: r.Answered, Right: r.NRight}
}

// taskAggregate selects the task figures of a GROUP BY.
const taskAggregate = "COUNT(*) AS published, " +
	"COALESCE(SUM(CASE WHEN study_tasks.completed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS completed, " +
	"COALESCE(SUM(study_tasks.answered), 0) AS answered, COALESCE(SUM(study_tasks.right_answers), 0) AS n_right"

// ProgressOverview is the study progress of the subtree of the org rootID (0: the viewer's own org)
// for period p, by unit, by day and by question tag.
func (s *Service) ProgressOverview(ctx context.Context, sc scope.Scope, rootID uint, p Period) (*Overview, error) {
	var ov *Overview
	err := s.customPlans(ctx, func(s *Service) (err error) {
		ov, err = s.progressOverview(ctx, sc, rootID, p)
		return err
	})
	return ov, err
}

func (s *Service) progressOverview(ctx context.Context, sc scope.Scope, rootID uint, p Period) (*Overview, error) {
	root, err := s.rootOrg(ctx, sc, rootID)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	in := narrow(sc, root)
	now := s.now().In(s.loc)
	ov := &Overview{Period: p, Root: root, Year: now.Year()}
	start := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, s.loc)
	ov.YearPace = float64(now.YearDay()) / float64(start.AddDate(1, 0, -1).YearDay())

	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(in.Orgs).Select("id, name, path, level").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("study: progress orgs: %w", err)
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
		ov.Trail, err = s.trail(ctx, sc, root)
		if err != nil {
			return nil, err
		}
	}
	cpaths := make([]string, 0, len(counties))
	for c := range counties {
		cpaths = append(cpaths, c)
	}
	ts, err := s.thresholdsOf(ctx, db, cpaths)
	if err != nil {
		return nil, err
	}
	ov.Thresholds = DefaultThresholds()
	if root != nil {
		ov.Thresholds = thresholdsFor(ts, root.Path)
	}

	units := map[string]*UnitFigures{}
	unit := func(path string) *UnitFigures {
		up := unitOf(root, path)
		u := units[up]
		if u == nil {
			u = &UnitFigures{OrgRef: OrgRef{Path: up, Name: up[strings.LastIndexByte(up, '/')+1:]}}
			if o := byPath[up]; o != nil {
				u.OrgRef = refOf(o)
			}
			u.Own = root != nil && up == root.Path
			units[up] = u
		}
		return u
	}
	for _, o := range orgs { // every unit shows, members or not
		if root == nil || o.Path != root.Path {
			u := unit(o.Path)
			u.Children = u.Children || o.Path != u.Path
		}
	}

	var members []struct {
		OrgID   uint
		Role    string
		N       int64
		Minutes int64
	}
	err = db.Table("members").Scopes(in.Members).
		Select("members.org_id, members.role, COUNT(*) AS n, "+
			"COALESCE(SUM(CASE WHEN study_stats.year = ? THEN study_stats.year_minutes ELSE 0 END), 0) AS minutes", ov.Year).
		Joins("LEFT JOIN study_stats ON study_stats.member_id = members.id").
		Where("members.active = ?", true).Group("members.org_id, members.role").Scan(&members).Error
	if err != nil {
		return nil, fmt.Errorf("study: progress members: %w", err)
	}
	for _, m := range members {
		path, ok := pathOf[m.OrgID]
		if !ok {
			continue
		}
		u := unit(path)
		u.Members += m.N
		u.Minutes += m.Minutes
		u.TargetMinutes += m.N * int64(s.HoursTarget(m.Role)) * 60
	}

	// Past days from the daily summary (summary.go), the others (today) from the tasks.
	summarised, live, err := s.periodParts(ctx, db, p)
	if err != nil {
		return nil, err
	}
	var tags []tagRow
	if len(live) > 0 {
		taskOrg := s.taskOrgColumn(span(live))
		tasks := db.Table("study_tasks").Scopes(in.ByOrg(taskOrg), inDays("study_tasks.day", live))
		var byOrg []countsRow
		if err := tasks.Session(&gorm.Session{}).Select(taskOrg + " AS org_id, " + taskAggregate).
			Clauses(clause.GroupBy{Columns: []clause.Column{{Name: taskOrg, Raw: true}}}).Scan(&byOrg).Error; err != nil {
			return nil, fmt.Errorf("study: progress tasks: %w", err)
		}
		for _, r := range byOrg {
			if path, ok := pathOf[r.OrgID]; ok {
				unit(path).Counts.add(r.counts())
			}
		}
		if p.From != p.To {
			var byDay []countsRow
			if err := tasks.Session(&gorm.Session{}).Select("study_tasks.day, " + taskAggregate).
				Group("study_tasks.day").Order("study_tasks.day").Scan(&byDay).Error; err != nil {
				return nil, fmt.Errorf("study: progress by day: %w", err)
			}
			for _, r := range byDay {
				ov.Days = append(ov.Days, DayFigures{Day: r.Day, Counts: r.counts()})
			}
		}
		if tags, err = tagRows(db.Table("study_answers").
			Joins("JOIN study_tasks ON study_tasks.id = study_answers.task_id").
			Scopes(in.ByOrg(taskOrg), inDays("study_tasks.day", live))); err != nil {
			return nil, err
		}
	}
	if len(summarised) > 0 {
		// The units' rows (each its subtree) and the whole's: the org looked at, or every county.
		var unitIDs, top []uint
		for _, u := range units {
			if !u.Own && u.ID != 0 {
				unitIDs = append(unitIDs, u.ID)
			}
		}
		if root != nil {
			unitIDs, top = append(unitIDs, root.ID), []uint{root.ID}
		} else {
			top = unitIDs
		}
		sum, err := s.readSummary(ctx, db, unitIDs, top, summarised, p.From != p.To)
		if err != nil {
			return nil, err
		}
		var under Counts // the units' subtrees together: the rest of root's is its own
		for _, u := range units {
			if !u.Own && u.ID != 0 {
				c := sum.byOrg[u.ID]
				u.Counts.add(c)
				under.add(c)
			}
		}
		if root != nil {
			own := sum.byOrg[root.ID]
			own.Published -= under.Published
			own.Completed -= under.Completed
			own.Answered -= under.Answered
			own.Right -= under.Right
			if own != (Counts{}) {
				unit(root.Path).Counts.add(own)
			}
		}
		ov.Days = mergeDays(ov.Days, sum.byDay)
		tags = append(tags, sum.tags...)
	}
	ov.Tags = rateTags(tags, ov.Thresholds)

	for _, u := range units {
		if u.Own && u.Members == 0 && u.Published == 0 && len(units) > 1 {
			continue // an office with nobody on the roster is no unit
		}
		if u.Own && len(units) > 1 {
			u.Name += "（本级）"
		}
		u.rate(thresholdsFor(ts, u.Path))
		ov.Units = append(ov.Units, *u)
		ov.Total.Members += u.Members
		ov.Total.Counts.add(u.Counts)
		ov.Total.Minutes += u.Minutes
		ov.Total.TargetMinutes += u.TargetMinutes
	}
	sort.Slice(ov.Units, func(i, j int) bool { return ov.Units[i].Path < ov.Units[j].Path })
	if root != nil {
		ov.Total.OrgRef = *root
	} else {
		ov.Total.Name = "全部"
	}
	ov.Total.rate(ov.Thresholds)
	return ov, nil
}

// customPlans runs fn on a service whose queries, on PostgreSQL, are planned for their own
// parameters. The driver keeps each statement prepared, and after five runs PostgreSQL may switch it
// to a generic plan, which cannot see how many tasks a scope's path pattern and a period select: in
// the county benchmark every figure query then read the whole month, ten times slower. SET LOCAL
// lasts for the read-only transaction fn runs in. Setting it for every connection (in the DSN) was
// measured and rejected: the write path's simple statements then cost ~75 % more server time each
// (docs/PERFORMANCE.md).
func (s *Service) customPlans(ctx context.Context, fn func(s *Service) error) error {
	if models.Dialect(s.db) != "postgres" {
		return fn(s)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return fmt.Errorf("study: plan the figures' queries: %w", err)
		}
		return fn(s.withTx(tx))
	})
}

// taskOrgColumn is the tasks' org column as the scope filters of a period's queries name it. SQLite's
// planner walks the org index whenever the scope's list of orgs is there, reading every task the
// scope ever had; for a short period the day index reads far fewer (a county's day: 5,000 tasks
// instead of all of them), so there the unary + hides the org index. PostgreSQL plans from its
// statistics.
func (s *Service) taskOrgColumn(p Period) string {
	if models.Dialect(s.db) == "sqlite" && p.Days() <= 31 {
		return "+study_tasks.org_id"
	}
	return "study_tasks.org_id"
}

// tagRow is the answers to the questions of one tag list.
type tagRow struct {
	Tags     string
	Answered int64
	NRight   int64
}

// tagRows groups the answers of q (study_answers joined as the caller filtered them) by the tag lists
// of their questions, in SQL.
func tagRows(q *gorm.DB) ([]tagRow, error) {
	var rows []tagRow
	err := q.Joins("JOIN questions ON questions.id = study_answers.question_id").
		Select("questions.tags AS tags, COUNT(*) AS answered, " +
			"COALESCE(SUM(CASE WHEN study_answers.correct THEN 1 ELSE 0 END), 0) AS n_right").
		Group("questions.tags").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("study: accuracy by tag: %w", err)
	}
	return rows, nil
}

// tagFigures groups the answers of q (study_answers joined as the caller filtered them) by the tags of
// their questions: weakest first.
func (s *Service) tagFigures(ctx context.Context, q *gorm.DB, t Thresholds) ([]TagFigures, error) {
	rows, err := tagRows(q)
	if err != nil {
		return nil, err
	}
	return rateTags(rows, t), nil
}

// rateTags turns answers by tag list into figures per tag (a list's answers count for each of its
// tags), weakest first.
func rateTags(rows []tagRow, t Thresholds) []TagFigures {
	byTag := map[string]*TagFigures{}
	for _, r := range rows {
		tags := splitTags(r.Tags)
		if len(tags) == 0 {
			tags = []string{""}
		}
		for _, tag := range tags {
			f := byTag[tag]
			if f == nil {
				f = &TagFigures{Tag: tag}
				byTag[tag] = f
			}
			f.Answered += r.Answered
			f.Right += r.NRight
		}
	}
	out := make([]TagFigures, 0, len(byTag))
	for _, f := range byTag {
		f.Status = colour(f.Right, f.Answered, t.AccuracyGreen, t.AccuracyYellow)
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := ratio(out[i].Right, out[i].Answered)
		b, _ := ratio(out[j].Right, out[j].Answered)
		if a != b {
			return a < b
		}
		return out[i].Tag < out[j].Tag
	})
	return out
}

// MemberFilter selects the members of the per-member figures: an org's subtree, a role, a status
// (after the figures: StatusOK, StatusWarn, StatusBad or StatusNone) and a name.
type MemberFilter struct {
	OrgID  uint
	Role   string
	Status string
	Q      string
}

// MemberFigures are one member's figures for a period, with his hours and streak as of today.
type MemberFigures struct {
	ID      uint
	Name    string
	Role    string
	OrgID   uint
	OrgPath string
	Counts
	Points      int64 // credited in the period
	YearMinutes int64
	TargetHours int
	Streak      int // as of today

	Status, CompletionStatus, AccuracyStatus string
}

// Hours is his hours this year toward his target.
func (m MemberFigures) Hours() Hours {
	return Hours{Minutes: m.YearMinutes, TargetMinutes: int64(m.TargetHours) * 60}
}

// YearHours is his hours this year, with one decimal.
func (m MemberFigures) YearHours() float64 { return perMember(m.YearMinutes, 1) }

func (m *MemberFigures) rate(t Thresholds) {
	m.CompletionStatus = colour(m.Completed, m.Published, t.CompletionGreen, t.CompletionYellow)
	m.AccuracyStatus = colour(m.Right, m.Answered, t.AccuracyGreen, t.AccuracyYellow)
	m.Status = worse(m.CompletionStatus, m.AccuracyStatus)
}

// memberRow is a member with his period's task figures and his running totals.
type memberRow struct {
	ID          uint
	Name        string
	Role        string
	OrgID       uint
	Path        string
	Active      bool
	Published   int64
	Completed   int64
	Answered    int64
	NRight      int64
	Streak      int
	LastDay     string
	StatsYear   int
	YearMinutes int64
}

// memberColumns are a member, his task figures of the period (t) and his totals (study_stats).
const memberColumns = "members.id, members.name, members.role, members.org_id, orgs.path, members.active, " +
	"COALESCE(t.published, 0) AS published, COALESCE(t.completed, 0) AS completed, " +
	"COALESCE(t.answered, 0) AS answered, COALESCE(t.n_right, 0) AS n_right, " +
	"COALESCE(study_stats.streak, 0) AS streak, COALESCE(study_stats.last_day, '') AS last_day, " +
	"COALESCE(study_stats.year, 0) AS stats_year, COALESCE(study_stats.year_minutes, 0) AS year_minutes"

// memberQuery selects the members that filter keeps (filter is applied to a query on members), each
// with his task figures of the period, summed per member id in a subquery, and his totals.
func (s *Service) memberQuery(db *gorm.DB, p Period, filter func(*gorm.DB) *gorm.DB) *gorm.DB {
	tasks := db.Table("study_tasks").Select("study_tasks.member_id, "+taskAggregate).
		Where("study_tasks.day >= ? AND study_tasks.day <= ?", p.From, p.To).
		Where("study_tasks.member_id IN (?)", db.Table("members").Scopes(filter).Select("members.id")).
		Group("study_tasks.member_id")
	return db.Table("members").Scopes(filter).Select(memberColumns).
		Joins("JOIN orgs ON orgs.id = members.org_id").
		Joins("LEFT JOIN (?) t ON t.member_id = members.id", tasks).
		Joins("LEFT JOIN study_stats ON study_stats.member_id = members.id")
}

func (s *Service) figuresOf(r memberRow, points int64, ts map[string]Thresholds) MemberFigures {
	m := MemberFigures{ID: r.ID, Name: r.Name, Role: r.Role, OrgID: r.OrgID, OrgPath: r.Path,
		Counts: Counts{Published: r.Published, Completed: r.Completed, Answered: r.Answered, Right: r.NRight},
		Points: points, TargetHours: s.HoursTarget(r.Role)}
	st := models.StudyStats{Streak: r.Streak, LastDay: r.LastDay, Year: r.StatsYear, YearMinutes: int(r.YearMinutes)}
	m.YearMinutes, m.Streak = int64(s.yearFigure(&st, st.YearMinutes)), s.liveStreak(&st)
	m.rate(thresholdsFor(ts, r.Path))
	return m
}

// pointsIn sums the points credited in the period to the members that members selects, by member.
func (s *Service) pointsIn(db *gorm.DB, p Period, members *gorm.DB) (map[uint]int64, error) {
	var rows []struct {
		MemberID uint
		Points   int64
	}
	err := db.Table("ledger_entries").Select("member_id, SUM(amount) AS points").
		Where("kind = ? AND year >= ? AND year <= ? AND day >= ? AND day <= ?", models.LedgerPoints, yearOf(p.From), yearOf(p.To), p.From, p.To).
		Where("member_id IN (?)", members).Group("member_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("study: points in period: %w", err)
	}
	out := make(map[uint]int64, len(rows))
	for _, r := range rows {
		out[r.MemberID] = r.Points
	}
	return out, nil
}

// ProgressMembers are the figures of each active member in the scope (and f) for period p, by org
// path and name.
func (s *Service) ProgressMembers(ctx context.Context, sc scope.Scope, p Period, f MemberFilter) ([]MemberFigures, error) {
	var out []MemberFigures
	err := s.customPlans(ctx, func(s *Service) (err error) {
		out, err = s.progressMembers(ctx, sc, p, f)
		return err
	})
	return out, err
}

func (s *Service) progressMembers(ctx context.Context, sc scope.Scope, p Period, f MemberFilter) ([]MemberFigures, error) {
	db := s.db.WithContext(ctx)
	var org *OrgRef
	if f.OrgID != 0 {
		var err error
		if org, err = s.scopedOrg(ctx, sc, f.OrgID); err != nil {
			return nil, err
		}
	}
	in := narrow(sc, org)
	filter := func(q *gorm.DB) *gorm.DB {
		q = q.Scopes(in.Members).Where("members.active = ?", true)
		if f.Role != "" {
			q = q.Where("members.role = ?", f.Role)
		}
		if f.Q != "" {
			q = q.Where("members.name LIKE ? ESCAPE '!'", "%"+likeEscaper.Replace(f.Q)+"%")
		}
		return q
	}
	var rows []memberRow
	if err := s.memberQuery(db, p, filter).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: members' progress: %w", err)
	}
	points, err := s.pointsIn(db, p, db.Table("members").Scopes(filter).Select("members.id"))
	if err != nil {
		return nil, err
	}
	counties := map[string]bool{}
	for _, r := range rows {
		counties[rootOf(r.Path)] = true
	}
	cpaths := make([]string, 0, len(counties))
	for c := range counties {
		cpaths = append(cpaths, c)
	}
	ts, err := s.thresholdsOf(ctx, db, cpaths)
	if err != nil {
		return nil, err
	}
	out := make([]MemberFigures, 0, len(rows))
	for _, r := range rows {
		m := s.figuresOf(r, points[r.ID], ts)
		if f.Status == "" || f.Status == m.Status {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OrgPath != out[j].OrgPath {
			return out[i].OrgPath < out[j].OrgPath
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// TaskDay is one day's task of a member.
type TaskDay struct {
	ID           uint64
	Day          string
	Total        int
	Answered     int
	RightAnswers int
	Points       int
	Bonus        int
	CompletedAt  *time.Time
}

// LedgerLine is one credit of points or minutes, with its source as people read it.
type LedgerLine struct {
	Day    string
	Kind   string // models.LedgerPoints or models.LedgerMinutes
	Amount int
	Source string // as stored: "task:123", "streak:2026-11-21", ...
	Label  string // "完成 2026-11-20 的学习", "连续学习奖励（2026-11-21）"
}

// MemberDetail is one member's study for a period: his figures, his days, his accuracy by tag, his
// wrong-answer book and the ledger of his credits.
type MemberDetail struct {
	MemberFigures
	Active        bool
	YearPoints    int
	BestStreak    int
	Tasks         []TaskDay // newest first
	Tags          []TagFigures
	WrongOpen     int64 // questions in his wrong-answer book
	WrongDue      int64 // of them due today or earlier
	WrongMastered int64 // questions he got wrong once and has mastered since
	Ledger        []LedgerLine
	LedgerMore    bool // more lines than MaxLedgerLines in the period
	PeriodMinutes int64
}

// MaxLedgerLines bounds the ledger shown on a member's page (a year of daily credits fits).
const MaxLedgerLines = 800

// ProgressMember is the study of the member with this id, if he is in the scope (scope.ErrNotFound
// otherwise), for period p.
func (s *Service) ProgressMember(ctx context.Context, sc scope.Scope, id uint, p Period) (*MemberDetail, error) {
	var d *MemberDetail
	err := s.customPlans(ctx, func(s *Service) (err error) {
		d, err = s.progressMember(ctx, sc, id, p)
		return err
	})
	return d, err
}

func (s *Service) progressMember(ctx context.Context, sc scope.Scope, id uint, p Period) (*MemberDetail, error) {
	db := s.db.WithContext(ctx)
	var rows []memberRow
	this := func(q *gorm.DB) *gorm.DB { return q.Scopes(sc.Members).Where("members.id = ?", id) }
	if err := s.memberQuery(db, p, this).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: member %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, scope.ErrNotFound
	}
	r := rows[0]
	points, err := s.pointsIn(db, p, db.Table("members").Select("members.id").Where("members.id = ?", id))
	if err != nil {
		return nil, err
	}
	ts, err := s.thresholdsOf(ctx, db, []string{rootOf(r.Path)})
	if err != nil {
		return nil, err
	}
	st, err := s.stats(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	d := &MemberDetail{MemberFigures: s.figuresOf(r, points[id], ts), Active: r.Active,
		YearPoints: s.yearFigure(st, st.YearPoints), BestStreak: st.BestStreak}
	if err := db.Model(&models.StudyTask{}).Select("id, day, total, answered, right_answers, points, bonus, completed_at").
		Where("member_id = ? AND day >= ? AND day <= ?", id, p.From, p.To).Order("day DESC").Scan(&d.Tasks).Error; err != nil {
		return nil, fmt.Errorf("study: tasks of member %d: %w", id, err)
	}
	if d.Tags, err = s.tagFigures(ctx, db.Table("study_answers").
		Joins("JOIN study_tasks ON study_tasks.id = study_answers.task_id").
		Where("study_answers.member_id = ? AND study_tasks.day >= ? AND study_tasks.day <= ?", id, p.From, p.To),
		thresholdsFor(ts, r.Path)); err != nil {
		return nil, err
	}
	var book struct{ Open, Due, Mastered int64 }
	if err := db.Model(&models.WrongItem{}).Select("COALESCE(SUM(CASE WHEN mastered_at IS NULL THEN 1 ELSE 0 END), 0) AS open, "+
		"COALESCE(SUM(CASE WHEN mastered_at IS NULL AND due_day <= ? THEN 1 ELSE 0 END), 0) AS due, "+
		"COALESCE(SUM(CASE WHEN mastered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS mastered", s.Today()).
		Where("member_id = ?", id).Scan(&book).Error; err != nil {
		return nil, fmt.Errorf("study: wrong-answer book of member %d: %w", id, err)
	}
	d.WrongOpen, d.WrongDue, d.WrongMastered = book.Open, book.Due, book.Mastered

	var entries []models.LedgerEntry
	if err := db.Model(&models.LedgerEntry{}).Select("id, kind, source, amount, day").
		Where("member_id = ? AND year >= ? AND year <= ? AND day >= ? AND day <= ?", id, yearOf(p.From), yearOf(p.To), p.From, p.To).
		Order("day DESC, id DESC").Limit(MaxLedgerLines + 1).Find(&entries).Error; err != nil {
		return nil, fmt.Errorf("study: ledger of member %d: %w", id, err)
	}
	if len(entries) > MaxLedgerLines {
		entries, d.LedgerMore = entries[:MaxLedgerLines], true
	}
	dayOfTask := make(map[string]string, len(d.Tasks))
	for _, t := range d.Tasks {
		dayOfTask[fmt.Sprint(t.ID)] = t.Day
	}
	for _, e := range entries {
		d.Ledger = append(d.Ledger, LedgerLine{Day: e.Day, Kind: e.Kind, Amount: e.Amount, Source: e.Source,
			Label: sourceLabel(e.Source, e.Day, dayOfTask)})
	}
	var minutes struct{ N int64 }
	if err := db.Model(&models.LedgerEntry{}).Select("COALESCE(SUM(amount), 0) AS n").
		Where("member_id = ? AND kind = ? AND year >= ? AND year <= ? AND day >= ? AND day <= ?",
			id, models.LedgerMinutes, yearOf(p.From), yearOf(p.To), p.From, p.To).Scan(&minutes).Error; err != nil {
		return nil, fmt.Errorf("study: minutes of member %d: %w", id, err)
	}
	d.PeriodMinutes = minutes.N
	return d, nil
}

// sourceLabel is a ledger source as people read it.
func sourceLabel(source, day string, dayOfTask map[string]string) string {
	kind, ref, _ := strings.Cut(source, ":")
	switch kind {
	case "task":
		if d, ok := dayOfTask[ref]; ok {
			day = d
		}
		return "完成 " + day + " 的每日学习"
	case "streak":
		return "连续学习奖励（" + ref + "）"
	}
	return source
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
