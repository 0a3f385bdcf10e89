package study

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Web is the study capability's part of the web console and the JSON API: progress by unit and by
// member for a day or a period (with Excel exports), a member's study, and the study rule editor.
// Every request sees the figures of its viewer's scope; looking at a member's study is audited.
type Web struct {
	study *Service
	bank  *bank.Service // the tags the rule editor offers
	con   *console.Service
}

// NewWeb makes the study pages and API calls and puts 学习 in the console's menu.
func NewWeb(s *Service, con *console.Service) (*Web, error) {
	con.AddNav(console.NavItem{Key: "study", Label: "学习", Href: "/console/study", Order: 35})
	return &Web{study: s, bank: bank.New(s.db, s.log, s.now), con: con}, nil
}

// periodParams are the query parameters that choose a period.
var periodParams = []string{"period", "day", "from", "to"}

// periodOf reads the period of a request: ?period=week|month|year (ending today), ?from=&to= (a
// range), ?day= (one day); without any, the preset def.
func (h *Web) periodOf(q console.ListQuery, def string) (Period, error) {
	preset, day, from, to := q.Get("period"), q.Get("day"), q.Get("from"), q.Get("to")
	valid := func(field, d string) error {
		if _, err := time.Parse(dayLayout, d); err != nil {
			return console.Invalid(field, "日期「%s」不对，应为 2026-01-31 这样的格式", truncateRunes(d, 20))
		}
		return nil
	}
	switch {
	case from != "" || to != "":
		if from == "" {
			from = to
		}
		if to == "" {
			to = h.study.Today()
		}
		if err := valid("from", from); err != nil {
			return Period{}, err
		}
		if err := valid("to", to); err != nil {
			return Period{}, err
		}
		p := Period{From: from, To: to, Preset: PeriodRange}
		if from > to {
			return p, console.Invalid("from", "开始日期晚于结束日期")
		}
		if p.Days() > MaxPeriodDays {
			return p, console.Invalid("from", "时段最长 %d 天", MaxPeriodDays)
		}
		return p, nil
	case preset == PeriodWeek || preset == PeriodMonth || preset == PeriodYear:
		return h.study.PresetPeriod(preset), nil
	case day != "":
		if err := valid("day", day); err != nil {
			return Period{}, err
		}
		return Period{From: day, To: day, Preset: PeriodDay}, nil
	case preset == PeriodDay:
		return h.study.PresetPeriod(PeriodDay), nil
	case preset == "":
		return h.study.PresetPeriod(def), nil
	}
	return Period{}, console.Invalid("period", "时段应为 day、week、month 或 year")
}

// periodChoice is one of the period links above a page.
type periodChoice struct {
	Label, Href string
	On          bool
}

// periodView is what the period picker of a page needs.
type periodView struct {
	Period  Period
	Choices []periodChoice
	Q       console.ListQuery
}

func (h *Web) periodView(q console.ListQuery, p Period) periodView {
	today := h.study.Today()
	v := periodView{Period: p, Q: q}
	for _, c := range []struct{ preset, label string }{{PeriodDay, "今天"}, {PeriodWeek, "本周"}, {PeriodMonth, "本月"}, {PeriodYear, "今年"}} {
		href := q.With("period", c.preset, "day", "", "from", "", "to", "", "page", "")
		on := p.Preset == c.preset && (c.preset != PeriodDay || p.From == today)
		v.Choices = append(v.Choices, periodChoice{Label: c.label, Href: href, On: on})
	}
	return v
}

// Hidden are the parameters a form of the page carries along (everything but the form's own fields
// and the page).
func (q periodView) Hidden(own ...string) [][2]string {
	skip := map[string]bool{"page": true}
	for _, o := range own {
		skip[o] = true
	}
	var out [][2]string
	keys := make([]string, 0, len(q.Q.Values))
	for k := range q.Q.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !skip[k] {
			out = append(out, [2]string{k, q.Q.Get(k)})
		}
	}
	return out
}

// keepPeriod is a query string with the period parameters of q (and the extra pairs).
func keepPeriod(q console.ListQuery, kv ...string) string {
	v := url.Values{}
	for _, k := range periodParams {
		if x := q.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if enc := v.Encode(); enc != "" {
		return "?" + enc
	}
	return ""
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

// unitSorts are the sorts of the unit table: completion rate (weakest first) is the default.
var unitSorts = []string{"completion", "accuracy", "name", "members", "hours"}

// sortRate is a rate for sorting: nothing to rate sorts before 0 %.
func sortRate(part, whole int64) float64 {
	if r, ok := ratio(part, whole); ok {
		return r
	}
	return -1
}

// sortRows sorts rows by the list query's column (less by column name) and direction.
func sortRows[T any](rows []T, q console.ListQuery, less map[string]func(a, b T) bool) {
	by := less[q.Sort]
	sort.SliceStable(rows, func(i, j int) bool {
		if q.Desc {
			return by(rows[j], rows[i])
		}
		return by(rows[i], rows[j])
	})
}

func sortUnitFigures(rows []UnitFigures, q console.ListQuery) {
	less := map[string]func(a, b UnitFigures) bool{
		"completion": func(a, b UnitFigures) bool {
			return sortRate(a.Completed, a.Published) < sortRate(b.Completed, b.Published)
		},
		"accuracy": func(a, b UnitFigures) bool { return sortRate(a.Right, a.Answered) < sortRate(b.Right, b.Answered) },
		"name":     func(a, b UnitFigures) bool { return a.Path < b.Path },
		"members":  func(a, b UnitFigures) bool { return a.Members < b.Members },
		"hours":    func(a, b UnitFigures) bool { return a.Share() < b.Share() },
	}
	sortRows(rows, q, less)
}

// overview reads the page's org and period and computes its figures.
func (h *Web) overview(c *gin.Context, q console.ListQuery) (*Overview, error) {
	p, err := h.periodOf(q, PeriodDay)
	if err != nil {
		return nil, err
	}
	root, err := idOf(q.Get("org"))
	if err != nil {
		return nil, err
	}
	return h.study.ProgressOverview(c.Request.Context(), console.ViewerOf(c).Scope, root, p)
}

// progressPage is GET /console/study.
type progressPage struct {
	*Overview
	Q      console.ListQuery
	Picker periodView
	Rows   []UnitFigures
	Pager  console.Pager
}

// UnitLink is where a unit's name leads: into it, or to its members when there is nothing under it.
func (p progressPage) UnitLink(u UnitFigures) string {
	if u.Children && !u.Own && u.ID != 0 {
		return p.Q.With("org", strconv.FormatUint(uint64(u.ID), 10), "page", "", "sort", "", "dir", "")
	}
	return p.MembersLink(u.ID)
}

// MembersLink is the member list of an org (0: the page's) for the same period.
func (p progressPage) MembersLink(orgID uint) string {
	org := ""
	if orgID != 0 {
		org = strconv.FormatUint(uint64(orgID), 10)
	}
	return "/console/study/members" + keepPeriod(p.Q, "org", org)
}

// OrgLink is the page about another org (0: the viewer's own), same period.
func (p progressPage) OrgLink(orgID uint) string {
	org := ""
	if orgID != 0 {
		org = strconv.FormatUint(uint64(orgID), 10)
	}
	return "/console/study" + keepPeriod(p.Q, "org", org)
}

// UnitKind is what the units are, as the page names them.
func (p progressPage) UnitKind() string {
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

// PaceHours are the hours per member that are on pace for the yearly target by today.
func (p progressPage) PaceHours() float64 { return p.Total.AvgTarget() * p.YearPace }

// ProgressPage is GET /console/study: completion, accuracy and hours by unit for a day or a period,
// with charts, accuracy by question tag, and a sortable, paginated table.
func (h *Web) ProgressPage(c *gin.Context) {
	q := console.ParseList(c, unitSorts...)
	q.PerPage = min(q.PerPage, 100)
	ov, err := h.overview(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	rows := append([]UnitFigures(nil), ov.Units...)
	sortUnitFigures(rows, q)
	pager := q.Pager(int64(len(rows)))
	rows = rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))]
	title := "学习情况"
	if ov.Root != nil {
		title = ov.Root.Name + "学习情况"
	}
	h.con.Page(c, http.StatusOK, "study", "study", title,
		progressPage{Overview: ov, Q: q, Picker: h.periodView(q, ov.Period), Rows: rows, Pager: pager})
}

// thresholdsText is the thresholds as a line of an export's header.
func thresholdsText(t Thresholds) string {
	return fmt.Sprintf("完成率≥%d%%为良好、≥%d%%为一般，正确率≥%d%%为良好、≥%d%%为一般，状态取两者中较差的",
		t.CompletionGreen, t.CompletionYellow, t.AccuracyGreen, t.AccuracyYellow)
}

// scopeFilter is the viewer's scope as an export's filter.
func scopeFilter(sc scope.Scope) xlsxout.Filter {
	if sc.All {
		return xlsxout.Filter{Name: "范围", Value: "全部"}
	}
	return xlsxout.Filter{Name: "范围", Value: sc.Path}
}

// ProgressExport is GET /console/study/export.xlsx: the unit table of the page (every row, its sort),
// with the org, the period and the thresholds in the header; audited.
func (h *Web) ProgressExport(c *gin.Context) {
	q := console.ParseList(c, unitSorts...)
	ov, err := h.overview(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	rows := append([]UnitFigures(nil), ov.Units...)
	sortUnitFigures(rows, q)
	filters := []xlsxout.Filter{scopeFilter(console.ViewerOf(c).Scope)}
	if ov.Root != nil {
		filters = append(filters, xlsxout.Filter{Name: "单位", Value: ov.Root.Path})
	}
	filters = append(filters, xlsxout.Filter{Name: "时段", Value: ov.Period.Label()},
		xlsxout.Filter{Name: "状态标准", Value: thresholdsText(ov.Thresholds)})
	t := xlsxout.Table{
		Title:   "学习情况",
		Filters: filters,
		Columns: []string{"单位", "组织路径", "在册人数", "应完成（人次）", "已完成", "完成率（%）", "作答题数", "答对题数",
			"正确率（%）", fmt.Sprintf("%d年人均学时", ov.Year), "人均目标学时", "学时进度（%）", "状态"},
	}
	row := func(u UnitFigures) []any {
		return []any{u.Name, u.Path, u.Members, u.Published, u.Completed, pct1(u.Completed, u.Published), u.Answered, u.Right,
			pct1(u.Right, u.Answered), u.AvgHours(), u.AvgTarget(), pct1(u.Minutes, u.TargetMinutes), StatusNames[u.Status]}
	}
	for _, u := range rows {
		t.Rows = append(t.Rows, row(u))
	}
	total := ov.Total
	total.Name, total.Path = "合计", ov.Total.Path
	t.Rows = append(t.Rows, row(total))
	h.con.SendXLSX(c, "学习情况", t)
}

// memberSorts are the sorts of the member table: by org and name by default (a roster, not a ranking).
var memberSorts = []string{"org", "name", "completion", "accuracy", "points", "hours", "streak"}

func sortMemberFigures(rows []MemberFigures, q console.ListQuery) {
	less := map[string]func(a, b MemberFigures) bool{
		"org": func(a, b MemberFigures) bool {
			if a.OrgPath != b.OrgPath {
				return a.OrgPath < b.OrgPath
			}
			return a.ID < b.ID
		},
		"name": func(a, b MemberFigures) bool { return a.Name < b.Name },
		"completion": func(a, b MemberFigures) bool {
			return sortRate(a.Completed, a.Published) < sortRate(b.Completed, b.Published)
		},
		"accuracy": func(a, b MemberFigures) bool { return sortRate(a.Right, a.Answered) < sortRate(b.Right, b.Answered) },
		"points":   func(a, b MemberFigures) bool { return a.Points < b.Points },
		"hours":    func(a, b MemberFigures) bool { return a.Hours().Share() < b.Hours().Share() },
		"streak":   func(a, b MemberFigures) bool { return a.Streak < b.Streak },
	}
	sortRows(rows, q, less)
}

// memberForm is the member list's filters as typed.
type memberForm struct{ Org, Role, Status, Q string }

// statusChoices are the statuses the member filter offers.
var statusChoices = []struct{ Value, Label string }{
	{StatusOK, StatusNames[StatusOK]}, {StatusWarn, StatusNames[StatusWarn]}, {StatusBad, StatusNames[StatusBad]}, {StatusNone, StatusNames[StatusNone]},
}

// memberFilter reads ?org=&role=&status=&q=.
func memberFilter(q console.ListQuery) (MemberFilter, memberForm, error) {
	form := memberForm{Org: q.Get("org"), Role: q.Get("role"), Status: q.Get("status"), Q: q.Q}
	f := MemberFilter{Role: form.Role, Status: form.Status, Q: form.Q}
	if form.Org != "" {
		id, err := strconv.ParseUint(form.Org, 10, 32)
		if err != nil || id == 0 {
			return f, form, console.Invalid("org", "组织编号「%s」不对", truncateRunes(form.Org, 20))
		}
		f.OrgID = uint(id)
	}
	if f.Role != "" && !models.ValidRole(f.Role) {
		return f, form, console.Invalid("role", "角色应为 %s", strings.Join(models.Roles, "、"))
	}
	if _, ok := StatusNames[f.Status]; f.Status != "" && !ok {
		return f, form, console.Invalid("status", "状态应为 ok、warn、bad 或 none")
	}
	return f, form, nil
}

// members reads the member list's period and filters and computes its rows, sorted.
func (h *Web) members(c *gin.Context, q console.ListQuery) (Period, MemberFilter, memberForm, []MemberFigures, error) {
	p, err := h.periodOf(q, PeriodMonth)
	if err != nil {
		return p, MemberFilter{}, memberForm{}, nil, err
	}
	f, form, err := memberFilter(q)
	if err != nil {
		return p, f, form, nil, err
	}
	rows, err := h.study.ProgressMembers(c.Request.Context(), console.ViewerOf(c).Scope, p, f)
	if err != nil {
		return p, f, form, nil, err
	}
	sortMemberFigures(rows, q)
	return p, f, form, rows, nil
}

// orgChoices are the orgs of the viewer's scope, for the filters.
func (h *Web) orgChoices(c *gin.Context) ([]OrgRef, error) {
	var orgs []models.Org
	if err := h.study.db.WithContext(c.Request.Context()).Model(&models.Org{}).Scopes(console.ViewerOf(c).Scope.Orgs).
		Select("id, name, path, level").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("study: orgs: %w", err)
	}
	out := make([]OrgRef, len(orgs))
	for i := range orgs {
		out[i] = refOf(&orgs[i])
	}
	return out, nil
}

// studyMembersPage is GET /console/study/members.
type studyMembersPage struct {
	Q        console.ListQuery
	Picker   periodView
	F        memberForm
	Rows     []MemberFigures
	Pager    console.Pager
	Orgs     []OrgRef
	Roles    []string
	Statuses []struct{ Value, Label string }
	Scope    scope.Scope
}

// Rel is an org path below the viewer's own org.
func (p studyMembersPage) Rel(path string) string {
	if p.Scope.All || p.Scope.Path == "" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, p.Scope.Path+"/"); ok {
		return rest
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

// MemberLink is a member's study page, same period.
func (p studyMembersPage) MemberLink(id uint) string {
	return "/console/study/members/" + strconv.FormatUint(uint64(id), 10) + keepPeriod(p.Q)
}

// StatusName is a status as users read it.
func (studyMembersPage) StatusName(s string) string { return StatusNames[s] }

// MembersPage is GET /console/study/members: each member's figures for the period, filtered by org,
// role, status and name, sorted and paginated.
func (h *Web) MembersPage(c *gin.Context) {
	q := console.ParseList(c, memberSorts...)
	p, _, form, rows, err := h.members(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	pager := q.Pager(int64(len(rows)))
	rows = rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))]
	page := studyMembersPage{Q: q, Picker: h.periodView(q, p), F: form, Rows: rows, Pager: pager, Roles: models.Roles,
		Statuses: statusChoices, Scope: console.ViewerOf(c).Scope}
	if c.GetHeader("HX-Target") != "table" {
		if page.Orgs, err = h.orgChoices(c); err != nil {
			h.con.Fail(c, err)
			return
		}
	}
	h.con.Page(c, http.StatusOK, "study_members", "study", "人员学习情况", page)
}

// MembersExport is GET /console/study/members/export.xlsx: the filtered member list, every row, with
// the filters and the period in the header; audited.
func (h *Web) MembersExport(c *gin.Context) {
	q := console.ParseList(c, memberSorts...)
	p, f, form, rows, err := h.members(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	sc := console.ViewerOf(c).Scope
	filters := []xlsxout.Filter{scopeFilter(sc), {Name: "时段", Value: p.Label()}}
	if f.OrgID != 0 {
		org, err := h.study.scopedOrg(c.Request.Context(), sc, f.OrgID)
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		filters = append(filters, xlsxout.Filter{Name: "组织", Value: org.Path})
	}
	if f.Role != "" {
		filters = append(filters, xlsxout.Filter{Name: "角色", Value: f.Role})
	}
	if f.Status != "" {
		filters = append(filters, xlsxout.Filter{Name: "状态", Value: StatusNames[f.Status]})
	}
	if form.Q != "" {
		filters = append(filters, xlsxout.Filter{Name: "搜索", Value: form.Q})
	}
	t := xlsxout.Table{
		Title:   "人员学习情况",
		Filters: filters,
		Columns: []string{"姓名", "角色", "组织", "应完成（天）", "已完成（天）", "完成率（%）", "作答题数", "答对题数", "正确率（%）",
			"时段积分", "今年学时", "年度目标学时", "连续学习（天）", "状态"},
	}
	for _, m := range rows {
		t.Rows = append(t.Rows, []any{m.Name, m.Role, m.OrgPath, m.Published, m.Completed, pct1(m.Completed, m.Published),
			m.Answered, m.Right, pct1(m.Right, m.Answered), m.Points, m.YearHours(), m.TargetHours, m.Streak, StatusNames[m.Status]})
	}
	h.con.SendXLSX(c, "人员学习情况", t)
}

// studyMemberPage is GET /console/study/members/:id.
type studyMemberPage struct {
	*MemberDetail
	Picker periodView
}

// StatusName is a status as users read it.
func (studyMemberPage) StatusName(s string) string { return StatusNames[s] }

// KindName names a ledger kind.
func (studyMemberPage) KindName(kind string) string {
	if kind == models.LedgerMinutes {
		return "学时（分钟）"
	}
	return "积分"
}

// MemberPage is GET /console/study/members/:id: one member's days, accuracy by tag, wrong-answer
// book and ledger for the period. It is personal data: the look is audited.
func (h *Web) MemberPage(c *gin.Context) {
	q := console.ParseList(c)
	id, err := idOf(c.Param("id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	var p Period
	if err == nil {
		p, err = h.periodOf(q, PeriodMonth)
	}
	var d *MemberDetail
	if err == nil {
		d, err = h.study.ProgressMember(c.Request.Context(), console.ViewerOf(c).Scope, id, p)
	}
	if err == nil {
		err = h.con.Record(c.Request.Context(), nil, console.ViewerOf(c), console.Change{
			Action: console.ActionView, Object: "member", ObjectID: d.ID, OrgPath: d.OrgPath,
			Summary: fmt.Sprintf("查看学习情况：%s（%s，%s）", d.Name, d.OrgPath, p.Label()),
		})
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "study_member", "study", d.Name+"的学习情况", studyMemberPage{MemberDetail: d, Picker: h.periodView(q, p)})
}

// chartValue is a rate in percent for a chart, "-" (ECharts' gap) when there is none.
func chartValue(part, whole int64) any {
	if v := pct1(part, whole); v != nil {
		return v
	}
	return "-"
}

// percentAxis is the value axis of a chart of rates.
var percentAxis = map[string]any{"type": "value", "min": 0, "max": 100, "axisLabel": map[string]any{"formatter": "{value}%"}}

// UnitChart is the ECharts option of completion rate beside accuracy, by unit.
func (p progressPage) UnitChart() map[string]any {
	names := make([]string, len(p.Units))
	completion := make([]any, len(p.Units))
	accuracy := make([]any, len(p.Units))
	for i, u := range p.Units { // path order
		names[i], completion[i], accuracy[i] = u.Name, chartValue(u.Completed, u.Published), chartValue(u.Right, u.Answered)
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": []string{"完成率", "正确率"}},
		"grid":    map[string]any{"left": 8, "right": 24, "bottom": 8, "top": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "rotate": 30}},
		"yAxis":   percentAxis,
		"color":   []string{"#c8161d", "#1f9d55"},
		"series": []map[string]any{
			{"name": "完成率", "type": "bar", "data": completion},
			{"name": "正确率", "type": "bar", "data": accuracy},
		},
	}
}

// DayChart is the ECharts option of completion rate and accuracy day by day through the period.
func (p progressPage) DayChart() map[string]any {
	days := make([]string, len(p.Days))
	completion := make([]any, len(p.Days))
	accuracy := make([]any, len(p.Days))
	for i, d := range p.Days {
		days[i], completion[i], accuracy[i] = d.Day[5:], chartValue(d.Completed, d.Published), chartValue(d.Right, d.Answered)
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": []string{"完成率", "正确率"}},
		"grid":    map[string]any{"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "boundaryGap": false, "data": days},
		"yAxis":   percentAxis,
		"color":   []string{"#c8161d", "#1f9d55"},
		"series": []map[string]any{
			{"name": "完成率", "type": "line", "data": completion, "connectNulls": true},
			{"name": "正确率", "type": "line", "data": accuracy, "connectNulls": true},
		},
	}
}

// StatusName is a status as users read it.
func (progressPage) StatusName(s string) string { return StatusNames[s] }
