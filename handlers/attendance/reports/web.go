package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Web is the reports' part of the web console and the JSON API: the report by unit and member with
// trend charts and an Excel export, a member's days, the public board and the county's settings.
// Every request sees the figures of its viewer's scope (the board, on purpose, the viewer's county);
// looking at a member's days and exporting are audited.
type Web struct {
	s   *Service
	con *console.Service
}

// NewWeb makes the pages and API calls and puts 考勤 in the console's menu.
func NewWeb(s *Service, con *console.Service) *Web {
	con.AddNav(console.NavItem{Key: "attendance_report", Label: "考勤", Href: "/console/attendance/report", Order: 40})
	return &Web{s: s, con: con}
}

// periodOf reads ?period=day|week|month (default month) and ?date= (default yesterday, the latest day
// with figures).
func (h *Web) periodOf(q console.ListQuery) (Period, error) {
	kind, date := q.Get("period"), q.Get("date")
	switch kind {
	case "":
		kind = PeriodMonth
	case PeriodDay, PeriodWeek, PeriodMonth:
	default:
		return Period{}, console.Invalid("period", "时段应为 day（日）、week（周）或 month（月）")
	}
	if date == "" {
		date = h.s.Yesterday()
	} else if t, err := time.Parse(dayLayout, date); err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return Period{}, console.Invalid("date", "日期「%s」不对，应为 2026-01-31 这样的格式", clipRunes(date, 20))
	}
	return PeriodOf(kind, date), nil
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// idOf reads an id parameter; "" is 0, anything else that is no id is not found.
func idOf(s string) (uint, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// picker is what the period picker of a page needs.
type picker struct {
	Period  Period
	Q       console.ListQuery
	Choices []choice
	Prev    string
	Next    string // "" when the next period has not begun
}

type choice struct {
	Label, Href string
	On          bool
}

func (h *Web) picker(q console.ListQuery, p Period) picker {
	v := picker{Period: p, Q: q}
	for _, c := range []struct{ kind, label string }{{PeriodDay, "日"}, {PeriodWeek, "周"}, {PeriodMonth, "月"}} {
		v.Choices = append(v.Choices, choice{Label: c.label, Href: q.With("period", c.kind, "date", p.Date, "page", ""), On: p.Kind == c.kind})
	}
	v.Prev = q.With("period", p.Kind, "date", p.Shift(-1), "page", "")
	if next := p.Shift(1); next <= h.s.Today() {
		v.Next = q.With("period", p.Kind, "date", next, "page", "")
	}
	return v
}

// Hidden are the parameters the date form carries along.
func (v picker) Hidden() [][2]string {
	var out [][2]string
	ks := make([]string, 0, len(v.Q.Values))
	for k := range v.Q.Values {
		if k != "date" && k != "page" && k != "period" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	for _, k := range ks {
		out = append(out, [2]string{k, v.Q.Get(k)})
	}
	return append(out, [2]string{"period", v.Period.Kind})
}

// keepPeriod is a query string with the period of q (and the extra pairs).
func keepPeriod(p Period, kv ...string) string {
	v := url.Values{"period": {p.Kind}, "date": {p.Date}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return "?" + v.Encode()
}

// unitSorts are the sorts of the unit table: the attendance rate (weakest first) is the default.
var unitSorts = []string{"rate", "name", "members", "absent", "flagged"}

// memberSorts are the sorts of the member table: by org and roster order by default (no ranking).
var memberSorts = []string{"org", "name", "rate", "absent", "flagged"}

func sortBy[T any](rows []T, q console.ListQuery, less map[string]func(a, b T) bool) {
	by := less[q.Sort]
	if by == nil {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if q.Desc {
			return by(rows[j], rows[i])
		}
		return by(rows[i], rows[j])
	})
}

func sortUnits(rows []Unit, q console.ListQuery) {
	sortBy(rows, q, map[string]func(a, b Unit) bool{
		"rate":    func(a, b Unit) bool { return a.sortRate() < b.sortRate() },
		"name":    func(a, b Unit) bool { return a.Path < b.Path },
		"members": func(a, b Unit) bool { return a.Members < b.Members },
		"absent":  func(a, b Unit) bool { return a.Absent < b.Absent },
		"flagged": func(a, b Unit) bool { return a.Flagged < b.Flagged },
	})
}

func sortMembers(rows []MemberFigures, q console.ListQuery) {
	sortBy(rows, q, map[string]func(a, b MemberFigures) bool{
		"org": func(a, b MemberFigures) bool {
			if a.OrgPath != b.OrgPath {
				return a.OrgPath < b.OrgPath
			}
			return a.ID < b.ID
		},
		"name":    func(a, b MemberFigures) bool { return a.Name < b.Name },
		"rate":    func(a, b MemberFigures) bool { return a.sortRate() < b.sortRate() },
		"absent":  func(a, b MemberFigures) bool { return a.Absent < b.Absent },
		"flagged": func(a, b MemberFigures) bool { return a.Flagged < b.Flagged },
	})
}

// report reads the page's org, view and period and computes its figures.
func (h *Web) report(c *gin.Context, q console.ListQuery, members bool) (*Report, error) {
	p, err := h.periodOf(q)
	if err != nil {
		return nil, err
	}
	root, err := idOf(q.Get("org"))
	if err != nil {
		return nil, err
	}
	return h.s.Report(c.Request.Context(), console.ViewerOf(c).Scope, root, p, ReportOptions{Members: members})
}

// reportPage is GET /console/attendance/report.
type reportPage struct {
	*Report
	Q           console.ListQuery
	Picker      picker
	Units       []Unit
	MemberRows  []MemberFigures
	Pager       console.Pager
	ShowMembers bool // the table lists members, not units
	Definition  string
	Admin       bool // may open the county's settings
	Scope       scope.Scope
}

// UnitLink is where a unit's name leads: into it, or to its members when there is nothing under it.
func (p reportPage) UnitLink(u Unit) string {
	if u.Own {
		return p.Q.With("org", idText(u.ID), "view", "members", "page", "", "sort", "", "dir", "")
	}
	return p.Q.With("org", idText(u.ID), "view", "", "page", "", "sort", "", "dir", "")
}

// OrgLink is the page about another org (0: the viewer's own), same period.
func (p reportPage) OrgLink(id uint) string {
	return "/console/attendance/report" + keepPeriod(p.Period, "org", idText(id))
}

// MembersLink is the member table of the page's org.
func (p reportPage) MembersLink() string {
	return p.Q.With("view", "members", "page", "", "sort", "", "dir", "")
}

// UnitsLink is the unit table of the page's org.
func (p reportPage) UnitsLink() string {
	return p.Q.With("view", "", "page", "", "sort", "", "dir", "")
}

// MemberLink is a member's days, same period.
func (p reportPage) MemberLink(id uint) string {
	return "/console/attendance/report/members/" + idText(id) + keepPeriod(p.Period)
}

// BoardLink is the board for the same period.
func (p reportPage) BoardLink() string { return "/console/attendance/board" + keepPeriod(p.Period) }

// SettingsLink is the settings of the page's county.
func (p reportPage) SettingsLink() string {
	if p.Root == nil {
		return "/console/attendance/report/settings"
	}
	return "/console/attendance/report/settings?org=" + idText(p.Root.ID)
}

// Rel is an org path below the page's org.
func (p reportPage) Rel(path string) string {
	if p.Root != nil {
		if rest, ok := strings.CutPrefix(path, p.Root.Path+"/"); ok {
			return rest
		}
	}
	return last(path)
}

// UnitKind is what the units are, as the page names them.
func (p reportPage) UnitKind() string {
	if p.Root == nil {
		return "县"
	}
	switch p.Root.Level {
	case models.LevelCounty:
		return "乡镇"
	case models.LevelTown:
		return "村（社区）"
	}
	return "单位"
}

// StatusName is a status as users read it.
func (reportPage) StatusName(s string) string { return StatusNames[s] }

func idText(id uint) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(id), 10)
}

// ReportPage is GET /console/attendance/report: the rate and the counts by status by unit (or by
// member, for a village or with ?view=members) for a day, a week or a month, with the trend and the
// units' rates as charts.
func (h *Web) ReportPage(c *gin.Context) {
	q := console.ParseList(c)
	showMembers := q.Get("view") == "members"
	rep, err := h.report(c, q, showMembers)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	showMembers = showMembers || rep.Leaf
	v := console.ViewerOf(c)
	page := reportPage{Report: rep, Picker: h.picker(q, rep.Period), ShowMembers: showMembers, Definition: Definition,
		Admin: v.IsAdmin() && (v.Scope.All || rep.Root != nil && v.Scope.Contains(rootOf(rep.Root.Path))), Scope: v.Scope}
	if showMembers {
		q = console.ParseList(c, memberSorts...)
		rows := append([]MemberFigures(nil), rep.Members...)
		sortMembers(rows, q)
		page.Pager = q.Pager(int64(len(rows)))
		page.MemberRows = rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))]
	} else {
		q = console.ParseList(c, unitSorts...)
		q.PerPage = min(q.PerPage, 100)
		rows := append([]Unit(nil), rep.Units...)
		sortUnits(rows, q)
		page.Pager = q.Pager(int64(len(rows)))
		page.Units = rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))]
	}
	page.Q = q
	title := "考勤统计"
	if rep.Root != nil {
		title = rep.Root.Name + "考勤统计"
	}
	h.con.Page(c, http.StatusOK, "attendance_report", "attendance_report", title, page)
}

// chartValue is a rate for a chart, "-" (ECharts' gap) when there is none.
func chartValue(c Counts) any {
	if v := c.Rate1(); v != nil {
		return *v
	}
	return "-"
}

var percentAxis = map[string]any{"type": "value", "min": 0, "max": 100, "axisLabel": map[string]any{"formatter": "{value}%"}}

// TrendChart is the ECharts option of the rate day by day, with absences as bars.
func (p reportPage) TrendChart() map[string]any {
	days := make([]string, len(p.Days))
	rate := make([]any, len(p.Days))
	absent := make([]any, len(p.Days))
	for i, d := range p.Days {
		days[i], rate[i], absent[i] = d.Day[5:], chartValue(d.Counts), d.Absent
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": []string{"出勤率", "缺勤人数"}},
		"grid":    map[string]any{"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": days},
		"yAxis":   []any{percentAxis, map[string]any{"type": "value", "minInterval": 1, "splitLine": map[string]any{"show": false}}},
		"color":   []string{"#c8161d", "#999999"},
		"series": []map[string]any{
			{"name": "出勤率", "type": "line", "data": rate, "connectNulls": true},
			{"name": "缺勤人数", "type": "bar", "yAxisIndex": 1, "data": absent, "barMaxWidth": 16},
		},
	}
}

// UnitChart is the ECharts option of the units' rates.
func (p reportPage) UnitChart() map[string]any {
	names := make([]string, len(p.Report.Units))
	rate := make([]any, len(p.Report.Units))
	for i, u := range p.Report.Units { // path order
		names[i], rate[i] = u.Name, chartValue(u.Counts)
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 8, "right": 24, "bottom": 8, "top": 24, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "rotate": 30}},
		"yAxis":   percentAxis,
		"color":   []string{"#c8161d"},
		"series":  []map[string]any{{"name": "出勤率", "type": "bar", "data": rate}},
	}
}

// StatusChart is the ECharts option of the member-days by status.
func (p reportPage) StatusChart() map[string]any {
	t := p.Total.Counts
	data := []map[string]any{}
	for _, s := range []struct {
		name string
		n    int64
	}{{"正常", t.Present}, {"迟到", t.Late}, {"早退", t.EarlyLeave}, {"外勤", t.Offsite}, {"请假", t.Leave}, {"缺勤", t.Absent}} {
		if s.n > 0 {
			data = append(data, map[string]any{"name": s.name, "value": s.n})
		}
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "item", "formatter": "{b}：{c} 人天（{d}%）"},
		"color":   []string{"#1f9d55", "#d69e2e", "#dd6b20", "#3182ce", "#718096", "#c8161d"},
		"series":  []map[string]any{{"type": "pie", "radius": []string{"40%", "70%"}, "data": data}},
	}
}

// memberPage is GET /console/attendance/report/members/:id.
type memberPage struct {
	*MemberDetail
	Picker     picker
	Definition string
}

// StatusName is a rate's status as users read it; DayName a day's status.
func (memberPage) StatusName(s string) string { return StatusNames[s] }
func (memberPage) DayName(s string) string    { return DayStatusNames[s] }

// DayClass is the tag colour of a day's status.
func (memberPage) DayClass(s string) string {
	switch s {
	case models.DayPresent, models.DayOffsite:
		return StatusOK
	case models.DayLate, models.DayEarlyLeave:
		return StatusWarn
	case models.DayAbsent:
		return StatusBad
	}
	return StatusNone
}

// MemberPage is GET /console/attendance/report/members/:id: one member's days in the period. It is
// personal data: the look is audited.
func (h *Web) MemberPage(c *gin.Context) {
	q := console.ParseList(c)
	id, err := idOf(c.Param("id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	var p Period
	if err == nil {
		p, err = h.periodOf(q)
	}
	var d *MemberDetail
	if err == nil {
		d, err = h.s.Member(c.Request.Context(), console.ViewerOf(c).Scope, id, p)
	}
	if err == nil {
		err = h.con.Record(c.Request.Context(), nil, console.ViewerOf(c), console.Change{
			Action: console.ActionView, Object: "member", ObjectID: d.ID, OrgPath: d.OrgPath,
			Summary: fmt.Sprintf("查看考勤：%s（%s，%s）", d.Name, d.OrgPath, p.Label()),
		})
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "attendance_report_member", "attendance_report", d.Name+"的考勤",
		memberPage{MemberDetail: d, Picker: h.picker(q, p), Definition: Definition})
}

// boardPage is GET /console/attendance/board.
type boardPage struct {
	*Board
	Picker   picker
	Counties []OrgRef // for a viewer of the whole installation
	Admin    bool
}

// StatusName is a status as users read it.
func (boardPage) StatusName(s string) string { return StatusNames[s] }

// Chart is the ECharts option of the villages' rates.
func (p boardPage) Chart() map[string]any {
	names := make([]string, len(p.Villages))
	rate := make([]any, len(p.Villages))
	colours := map[string]string{StatusOK: "#1f9d55", StatusWarn: "#d69e2e", StatusBad: "#c8161d", StatusNone: "#a0aec0"}
	for i, v := range p.Villages {
		names[i] = v.Name
		rate[i] = map[string]any{"value": chartValue(v.Counts), "itemStyle": map[string]any{"color": colours[v.Status]}}
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 8, "right": 24, "bottom": 8, "top": 24, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "rotate": 30}},
		"yAxis":   percentAxis,
		"series":  []map[string]any{{"name": "出勤率", "type": "bar", "data": rate}},
	}
}

// board reads the board's county and period.
func (h *Web) board(c *gin.Context, q console.ListQuery) (*Board, error) {
	p, err := h.periodOf(q)
	if err != nil {
		return nil, err
	}
	county, err := idOf(q.Get("county"))
	if err != nil {
		return nil, err
	}
	return h.s.BoardOf(c.Request.Context(), console.ViewerOf(c).Scope, county, p)
}

// BoardPage is GET /console/attendance/board: the public board (晾晒) of the viewer's county.
func (h *Web) BoardPage(c *gin.Context) {
	q := console.ParseList(c)
	b, err := h.board(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	v := console.ViewerOf(c)
	page := boardPage{Board: b, Picker: h.picker(q, b.Period), Admin: v.IsAdmin() && v.Scope.Contains(b.County.Path)}
	if v.Scope.All {
		if page.Counties, err = h.s.Counties(c.Request.Context()); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	h.con.Page(c, http.StatusOK, "attendance_report_board", "attendance_report", b.County.Name+"考勤晾晒", page)
}

// settingsPage is GET and POST /console/attendance/report/settings.
type settingsPage struct {
	*Settings
	Green, Yellow string // as typed
	console.FormErr
}

// SettingsPage is GET /console/attendance/report/settings?org=: the thresholds and the board switch of
// the county of org (default the viewer's). Administrators of the county only.
func (h *Web) SettingsPage(c *gin.Context) {
	org, err := idOf(c.Query("org"))
	var set *Settings
	if err == nil {
		set, err = h.s.Settings(c.Request.Context(), console.ViewerOf(c).Scope, org)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "attendance_report_settings", "attendance_report", "考勤设置",
		settingsPage{Settings: set, Green: strconv.Itoa(set.Thresholds.Green), Yellow: strconv.Itoa(set.Thresholds.Yellow)})
}

// SettingsSubmit is POST /console/attendance/report/settings: saves a county's thresholds and board
// switch (audited). A wrong number is shown back on the form and saves nothing.
func (h *Web) SettingsSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	id, err := idOf(c.PostForm("org_id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	var set *Settings
	if err == nil {
		set, err = h.s.Settings(ctx, v.Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	page := settingsPage{Settings: set, Green: strings.TrimSpace(c.PostForm("green")), Yellow: strings.TrimSpace(c.PostForm("yellow"))}
	public := c.PostForm("board_public") != ""
	t, err := parseThresholds(page.Green, page.Yellow)
	if err == nil {
		_, _, err = h.s.SaveSettings(ctx, v.Scope, set.County.ID, t, public,
			func(ctx context.Context, tx *gorm.DB, ch console.Change) error { return h.con.Record(ctx, tx, v, ch) })
		if errors.Is(err, ErrBadSetting) {
			err = console.Invalid("green", "出勤率线应在 0–100 之间，一般线不高于良好线")
		}
	}
	var ie *console.InputError
	if errors.As(err, &ie) {
		page.Err, page.BoardPublic = ie, public
		h.con.Page(c, http.StatusBadRequest, "attendance_report_settings", "attendance_report", "考勤设置", page)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, "/console/attendance/report?org="+idText(set.County.ID), "考勤设置已保存。")
}

func parseThresholds(green, yellow string) (Thresholds, error) {
	g, err := strconv.Atoi(green)
	if err != nil {
		return Thresholds{}, console.Invalid("green", "「良好线」应为 0–100 的整数")
	}
	y, err := strconv.Atoi(yellow)
	if err != nil {
		return Thresholds{}, console.Invalid("yellow", "「一般线」应为 0–100 的整数")
	}
	t := Thresholds{Green: g, Yellow: y}
	if t.Validate() != nil {
		return t, console.Invalid("green", "出勤率线应在 0–100 之间，一般线不高于良好线")
	}
	return t, nil
}

// scopeFilter is the viewer's scope as an export's filter.
func scopeFilter(sc scope.Scope) xlsxout.Filter {
	if sc.All {
		return xlsxout.Filter{Name: "范围", Value: "全部"}
	}
	return xlsxout.Filter{Name: "范围", Value: sc.Path}
}
