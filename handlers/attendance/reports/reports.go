// Package reports is the attendance reports: rates and counts by status per member, village, town and
// county for a day, a week or a month, coloured green, yellow or red by the county's thresholds, with
// trend charts and Excel exports in the console; the public board (晾晒) of every village's rate, which
// each county switches on or off; `考勤` in the chat (a secretary's village today, anyone else's own
// week); and the summary of last week pushed every Monday morning to each secretary and town
// administrator.
//
// Figures of past days read only models.AttendanceDay, the daily status the attendance job writes each
// night (with orgs and members for names); today has no rows until that job runs, so the chat's
// today-summary reads today's live check-ins, members and approved leave instead.
//
// The attendance rate of a set of member-days is
//
//	attended ÷ expected, attended = present + late + early_leave + offsite,
//	expected = work days − leave = attended + absent,
//
// where work days are the member-days that are not rest days (weekends, holidays). A day on approved
// leave is neither attended nor missed. With nothing expected there is no rate (status "none").
package reports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Definition is the attendance rate as pages and the API state it.
const Definition = "出勤率 = 实到人天 ÷ 应到人天；实到 = 正常 + 迟到 + 早退 + 外勤，应到 = 工作日人天 − 请假人天（= 实到 + 缺勤）；休息日不计。"

// ErrBadSetting: thresholds out of range, or set on an org that is no county. Nothing is saved.
var ErrBadSetting = errors.New("reports: bad setting")

// Teller sends notices to members outside a conversation (notify.Notifier).
type Teller interface {
	LastSeen(ctx context.Context, openIDs []string) (map[string]time.Time, error)
	TellSeen(ctx context.Context, openID string, last time.Time, note notify.Notice) (notify.Result, error)
}

// LateFunc says whether a first check-in at `at` on day is late by the duty rule of the org (the
// check-in part knows the rules). The chat's today-summary counts late members with it.
type LateFunc func(ctx context.Context, orgID uint, day string, at time.Time) (bool, error)

// Options configure the service.
type Options struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Now      func() time.Time // nil = time.Now
	Location *time.Location   // YANZHEN_TZ; nil = time.Local
	Notifier Teller           // the weekly summary; nil = none is sent
	LateIn   LateFunc         // nil: the today-summary does not count late members
}

// Service computes the reports.
type Service struct {
	db     *gorm.DB
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	notify Teller
	lateIn LateFunc
}

// New makes the service.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return &Service{db: o.DB, log: o.Log, now: o.Now, loc: o.Location, notify: o.Notifier, lateIn: o.LateIn}
}

// SetLateIn sets how the today-summary tells late check-ins (wired after the check-in part is built).
func (s *Service) SetLateIn(f LateFunc) { s.lateIn = f }

const dayLayout = "2006-01-02"

// Today is the day of the service's clock in YANZHEN_TZ.
func (s *Service) Today() string { return s.now().In(s.loc).Format(dayLayout) }

// Yesterday is the latest day the daily status job has computed: the default day of the reports.
func (s *Service) Yesterday() string { return addDays(s.Today(), -1) }

// addDays moves a valid day string by n days.
func addDays(day string, n int) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(dayLayout)
}

// Period kinds.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"  // Monday to Sunday
	PeriodMonth = "month" // the calendar month
)

// Period is the day, the week (Monday to Sunday) or the calendar month that holds Date; From and To
// are its first and last days. Days after yesterday have no figures yet, so a period that has not
// ended holds the days so far.
type Period struct {
	Kind     string `json:"kind"`
	Date     string `json:"date"`
	From, To string
}

// PeriodOf is the period of kind that holds date (a valid "2006-01-02"); an unknown kind is a day.
func PeriodOf(kind, date string) Period {
	t, err := time.Parse(dayLayout, date)
	if err != nil {
		t = time.Now()
		date = t.Format(dayLayout)
	}
	p := Period{Kind: kind, Date: date, From: date, To: date}
	switch kind {
	case PeriodWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		mon := t.AddDate(0, 0, -back)
		p.From, p.To = mon.Format(dayLayout), mon.AddDate(0, 0, 6).Format(dayLayout)
	case PeriodMonth:
		first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		p.From, p.To = first.Format(dayLayout), first.AddDate(0, 1, -1).Format(dayLayout)
	default:
		p.Kind = PeriodDay
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

// Label is the period as people read it: "2026-11-20", "2026-11-16 至 2026-11-22", "2026年11月".
func (p Period) Label() string {
	switch p.Kind {
	case PeriodMonth:
		return p.From[:4] + "年" + strings.TrimPrefix(p.From[5:7], "0") + "月"
	case PeriodWeek:
		return p.From + " 至 " + p.To
	}
	return p.From
}

// Short is the period in a chat line: "11月20日", "11月16日-11月22日".
func (p Period) Short() string {
	if p.From == p.To {
		return shortDay(p.From)
	}
	return shortDay(p.From) + "-" + shortDay(p.To)
}

// shortDay is "11月20日" of "2026-11-20".
func shortDay(day string) string {
	if len(day) != 10 {
		return day
	}
	return strings.TrimPrefix(day[5:7], "0") + "月" + strings.TrimPrefix(day[8:], "0") + "日"
}

// Shift is the date of the period n periods later (earlier for n < 0), same kind.
func (p Period) Shift(n int) string {
	t, err := time.Parse(dayLayout, p.From)
	if err != nil {
		return p.Date
	}
	switch p.Kind {
	case PeriodWeek:
		return t.AddDate(0, 0, 7*n).Format(dayLayout)
	case PeriodMonth:
		return t.AddDate(0, n, 0).Format(dayLayout)
	}
	return t.AddDate(0, 0, n).Format(dayLayout)
}

// Status colours of a rate, named as the console's tags are (green, yellow, red), and StatusNone when
// nothing was expected.
const (
	StatusOK   = "ok"
	StatusWarn = "warn"
	StatusBad  = "bad"
	StatusNone = "none"
)

// StatusNames are the statuses as users read them.
var StatusNames = map[string]string{StatusOK: "良好", StatusWarn: "一般", StatusBad: "落后", StatusNone: "无数据"}

// Thresholds colour attendance rates, in percent: at or above Green green, at or above Yellow
// yellow, else red. A county's choice (models.AttendanceThresholds).
type Thresholds struct {
	Green  int `json:"green"`
	Yellow int `json:"yellow"`
}

// DefaultThresholds: 95 % green (about one missed day in a month of 22 work days), 85 % yellow (three).
func DefaultThresholds() Thresholds { return Thresholds{Green: 95, Yellow: 85} }

// Validate checks 0 ≤ yellow ≤ green ≤ 100.
func (t Thresholds) Validate() error {
	if t.Yellow < 0 || t.Yellow > t.Green || t.Green > 100 {
		return fmt.Errorf("%w: thresholds must be 0–100, yellow at most green", ErrBadSetting)
	}
	return nil
}

// Colour is the status of a rate part/whole, in integers so that 95 % is green at exactly 95 %.
func (t Thresholds) Colour(part, whole int64) string {
	switch {
	case whole <= 0:
		return StatusNone
	case part*100 >= int64(t.Green)*whole:
		return StatusOK
	case part*100 >= int64(t.Yellow)*whole:
		return StatusWarn
	}
	return StatusBad
}

// Text is the thresholds as a line of a page or an export's header.
func (t Thresholds) Text() string {
	return fmt.Sprintf("出勤率≥%d%%为良好、≥%d%%为一般，低于%d%%为落后", t.Green, t.Yellow, t.Yellow)
}

// Counts are the member-days of a member, an org or a day by status.
type Counts struct {
	Present    int64 `json:"present"`
	Late       int64 `json:"late"`        // status late (late and early: late)
	EarlyLeave int64 `json:"early_leave"` // status early_leave
	Absent     int64 `json:"absent"`
	Leave      int64 `json:"leave"`
	Offsite    int64 `json:"offsite"`
	Rest       int64 `json:"rest"`
	LateDays   int64 `json:"late_days"`  // days with a late check-in, whatever the status
	EarlyDays  int64 `json:"early_days"` // days with an early check-out
	Flagged    int64 `json:"flagged"`    // days whose counted records carry a suspicion flag
}

func (c *Counts) add(o Counts) {
	c.Present += o.Present
	c.Late += o.Late
	c.EarlyLeave += o.EarlyLeave
	c.Absent += o.Absent
	c.Leave += o.Leave
	c.Offsite += o.Offsite
	c.Rest += o.Rest
	c.LateDays += o.LateDays
	c.EarlyDays += o.EarlyDays
	c.Flagged += o.Flagged
}

// WorkDays are the member-days that are no rest day.
func (c Counts) WorkDays() int64 {
	return c.Present + c.Late + c.EarlyLeave + c.Absent + c.Leave + c.Offsite
}

// Attended are the member-days present, late, early or off-site.
func (c Counts) Attended() int64 { return c.Present + c.Late + c.EarlyLeave + c.Offsite }

// Expected are the work days less those on leave.
func (c Counts) Expected() int64 { return c.WorkDays() - c.Leave }

// Rate is attended ÷ expected (0–1); ok false when nothing was expected.
func (c Counts) Rate() (float64, bool) {
	if e := c.Expected(); e > 0 {
		return float64(c.Attended()) / float64(e), true
	}
	return 0, false
}

// RatePct is the rate as pages show it: "93%", "—" when there is none.
func (c Counts) RatePct() string {
	r, ok := c.Rate()
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", r*100)
}

// Rate1 is the rate in percent with one decimal (charts, exports, the API); nil when there is none.
func (c Counts) Rate1() *float64 {
	r, ok := c.Rate()
	if !ok {
		return nil
	}
	v := float64(int64(r*1000+0.5)) / 10
	return &v
}

// sortRate is the rate for sorting: no rate sorts before 0 %.
func (c Counts) sortRate() float64 {
	if r, ok := c.Rate(); ok {
		return r
	}
	return -1
}

// OrgRef names an org.
type OrgRef = scope.OrgRef

func refOf(o *models.Org) OrgRef { return scope.RefOf(o) }

// rootOf is the county of an org path.
func rootOf(path string) string {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// ancestors are path and the paths above it, nearest first.
func ancestors(path string) []string {
	out := []string{path}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '/' {
			out = append(out, path[:i])
		}
	}
	return out
}

// depth is the number of names in a path.
func depth(path string) int { return strings.Count(path, "/") + 1 }

// prefixAt is the path cut to its first n names.
func prefixAt(path string, n int) string {
	i := 0
	for k := 0; k < len(path); k++ {
		if path[k] == '/' {
			i++
			if i == n {
				return path[:k]
			}
		}
	}
	return path
}

// last is the last name of a path.
func last(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }
