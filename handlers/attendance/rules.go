package attendance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// DefaultRule is the duty rule of an org that has none, nor any ancestor: Monday to Friday, on duty
// 09:00–17:00, 15 minutes of tolerance each way.
func DefaultRule() models.DutyRule {
	return models.DutyRule{WorkDays: "12345", OnDuty: "09:00", OffDuty: "17:00", LateGrace: 15, EarlyGrace: 15}
}

// ErrBadRule wraps every reason a duty rule is refused; the text after it is Chinese, for the form.
var ErrBadRule = errors.New("attendance: bad rule")

// maxGrace bounds the tolerance: more than two hours is no duty time at all.
const maxGrace = 120

// ValidateRule checks a rule and normalizes its work days (sorted digits, no repeats).
func ValidateRule(r *models.DutyRule) error {
	days := normalizeWorkDays(r.WorkDays)
	switch {
	case days == "":
		return fmt.Errorf("%w: 至少选择一个工作日", ErrBadRule)
	case !validClock(r.OnDuty) || !validClock(r.OffDuty):
		return fmt.Errorf("%w: 时间应为 时:分，如 09:00", ErrBadRule)
	case r.OffDuty <= r.OnDuty:
		return fmt.Errorf("%w: 下班时间应晚于上班时间", ErrBadRule)
	case r.LateGrace < 0 || r.LateGrace > maxGrace || r.EarlyGrace < 0 || r.EarlyGrace > maxGrace:
		return fmt.Errorf("%w: 迟到、早退的宽限应在 0–%d 分钟之间", ErrBadRule, maxGrace)
	}
	r.WorkDays = days
	return nil
}

// normalizeWorkDays keeps the ISO weekday digits 1–7 of s, sorted, once each; "" when there is none or
// anything else is in s.
func normalizeWorkDays(s string) string {
	var seen [8]bool
	for _, c := range s {
		if c < '1' || c > '7' {
			return ""
		}
		seen[c-'0'] = true
	}
	var b strings.Builder
	for d := 1; d <= 7; d++ {
		if seen[d] {
			b.WriteByte(byte('0' + d))
		}
	}
	return b.String()
}

func validClock(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	for _, c := range s[:2] + s[3:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	return h < 24 && m < 60
}

// WeekdayNames are the ISO weekdays as the console shows them (index 1–7).
var WeekdayNames = [8]string{"", "周一", "周二", "周三", "周四", "周五", "周六", "周日"}

// WorkDaysText is a rule's work days as people read them: "周一至周五", "周一、周三、周六".
func WorkDaysText(days string) string {
	switch days {
	case "12345":
		return "周一至周五"
	case "123456":
		return "周一至周六"
	case "1234567":
		return "每天"
	}
	var parts []string
	for _, c := range days {
		if c >= '1' && c <= '7' {
			parts = append(parts, WeekdayNames[c-'0'])
		}
	}
	return strings.Join(parts, "、")
}

// rules are duty rules by the path of their org.
type rules map[string]models.DutyRule

// loadRules reads the rules of the orgs at paths (nil: every rule).
func loadRules(ctx context.Context, db *gorm.DB, paths []string) (rules, error) {
	type row struct {
		models.DutyRule
		Path string
	}
	var rows []row
	q := db.WithContext(ctx).Table("duty_rules r").Select("r.*, o.path").Joins("JOIN orgs o ON o.id = r.org_id")
	if paths != nil {
		q = q.Where("o.path IN ?", paths)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("attendance: load duty rules: %w", err)
	}
	rs := make(rules, len(rows))
	for _, r := range rows {
		rs[r.Path] = r.DutyRule
	}
	return rs, nil
}

// forPath is the rule of the org at path and the path of the org it comes from ("" = DefaultRule).
func (rs rules) forPath(path string) (models.DutyRule, string) {
	for _, p := range ancestors(path) { // nearest first
		if r, ok := rs[p]; ok {
			return r, p
		}
	}
	return DefaultRule(), ""
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

// lastName is the last element of an org path ("洪雅县/花溪镇/郭沟村" → "郭沟村").
func lastName(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// calendar is the holidays and 调休 working days of counties, by county path and day.
type calendar map[string]map[string]models.Holiday

// loadCalendar reads the holidays of one day (day "" = all days) of the counties at paths (nil: all).
func loadCalendar(ctx context.Context, db *gorm.DB, day string, counties []string) (calendar, error) {
	type row struct {
		models.Holiday
		Path string
	}
	var rows []row
	q := db.WithContext(ctx).Table("holidays h").Select("h.*, o.path").Joins("JOIN orgs o ON o.id = h.org_id")
	if day != "" {
		q = q.Where("h.day = ?", day)
	}
	if counties != nil {
		q = q.Where("o.path IN ?", counties)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("attendance: load holidays: %w", err)
	}
	cal := calendar{}
	for _, r := range rows {
		if cal[r.Path] == nil {
			cal[r.Path] = map[string]models.Holiday{}
		}
		cal[r.Path][r.Day] = r.Holiday
	}
	return cal, nil
}

// workDay reports whether day is a work day under rule r in the county at county: a holiday is a rest
// day, a 调休 working day is a work day, other days follow the rule's weekdays. why names the holiday
// or "休息日".
func (cal calendar) workDay(r models.DutyRule, county, day string) (bool, string) {
	if h, ok := cal[county][day]; ok {
		return h.Workday, h.Name
	}
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return false, ""
	}
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	return strings.ContainsRune(r.WorkDays, rune('0'+wd)), "休息日"
}

// dayLayout is how days are written: "2006-01-02" in YANZHEN_TZ.
const dayLayout = "2006-01-02"

// addDays moves a day string by n days.
func addDays(day string, n int) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(dayLayout)
}

// clockOn is the time of day "HH:MM" on day, in loc.
func clockOn(day, hhmm string, loc *time.Location) time.Time {
	t, _ := time.ParseInLocation(dayLayout+" 15:04", day+" "+hhmm, loc)
	return t
}

// RuleSetting is an org's duty rule as the editor shows it: the rule that applies and where from.
type RuleSetting struct {
	Org  OrgRef
	Rule models.DutyRule
	Own  bool   // the org has a rule of its own
	From string // the path of the org whose rule applies; "" = DefaultRule
}

// FromName is where the rule comes from, as people read it ("继承自 洪雅县").
func (r *RuleSetting) FromName() string {
	switch {
	case r.Own:
		return "本级规则"
	case r.From == "":
		return "系统默认规则"
	}
	return "继承自 " + r.From
}

// ruleSetting is the rule of org.
func ruleSetting(ctx context.Context, db *gorm.DB, org OrgRef) (*RuleSetting, error) {
	rs, err := loadRules(ctx, db, ancestors(org.Path))
	if err != nil {
		return nil, err
	}
	r, from := rs.forPath(org.Path)
	return &RuleSetting{Org: org, Rule: r, Own: from == org.Path, From: from}, nil
}
