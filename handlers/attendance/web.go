package attendance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Web is the attendance part's console pages and JSON API: check-in records, places (list, create,
// edit, deactivate, import), duty rules, and the county calendar (holidays, 调休, farm seasons). Every
// page and call is limited to the viewer's part of the org tree; a village secretary manages his
// village's places, administrators those of their subtree and the rules and calendars.
type Web struct {
	svc *Service
	con *console.Service
}

// NewWeb builds the console pages and adds the menu entry.
func NewWeb(s *Service, con *console.Service) *Web {
	con.AddNav(console.NavItem{Key: "attendance", Label: "签到", Href: "/console/attendance/checkins", Order: 50})
	return &Web{svc: s, con: con}
}

// recorder writes the viewer's changes to the audit log.
func (h *Web) recorder(c *gin.Context) Recorder {
	v := console.ViewerOf(c)
	return func(ctx context.Context, tx *gorm.DB, ch console.Change) error { return h.con.Record(ctx, tx, v, ch) }
}

// idOf reads an id ("" = 0); anything else is "not found".
func idOf(s string) (uint, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(n), nil
}

// pathID reads the :id of the route.
func pathID(c *gin.Context) (uint, error) {
	id, err := idOf(c.Param("id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	return id, err
}

// orgFilter is ?org= as an org of the viewer's scope (nil when not given).
func (h *Web) orgFilter(c *gin.Context, val string) (*OrgRef, error) {
	id, err := idOf(val)
	if err != nil || id == 0 {
		return nil, err
	}
	org, err := h.svc.scopedOrg(c.Request.Context(), h.svc.db, console.ViewerOf(c).Scope, id)
	if err != nil {
		return nil, err
	}
	return &org, nil
}

// pageOrg is the org a rule or calendar page is about: ?org= (in the scope), else the viewer's own,
// else (a viewer of the whole installation) the first county.
func (h *Web) pageOrg(c *gin.Context, val string) (uint, error) {
	id, err := idOf(val)
	if err != nil || id != 0 {
		return id, err
	}
	sc := console.ViewerOf(c).Scope
	if !sc.All {
		return sc.OrgID, nil
	}
	var ids []uint
	if err := h.svc.db.WithContext(c.Request.Context()).Model(&models.Org{}).Where("level = ?", models.LevelCounty).
		Order("path").Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("attendance: first county: %w", err)
	}
	if len(ids) == 0 {
		return 0, scope.ErrNotFound
	}
	return ids[0], nil
}

// rel is an org path below the viewer's own org ("花溪镇/郭沟村" for the county's viewer).
func rel(sc scope.Scope, path string) string {
	if sc.All || sc.Path == "" || path == sc.Path {
		return path
	}
	return strings.TrimPrefix(path, sc.Path+"/")
}

// ---- check-in records ----

type checkInsPage struct {
	Q        console.ListQuery
	Day      string
	Today    string
	F        checkInForm
	Rows     []CheckInRow
	Pager    console.Pager
	Orgs     []OrgRef
	Statuses []struct{ Value, Label string }
	Scope    scope.Scope
	console.FormErr
}

type checkInForm struct {
	Day, Org, Status string
	Flagged          bool
}

// Rel is an org path below the viewer's own org.
func (p checkInsPage) Rel(path string) string { return rel(p.Scope, path) }

var checkStatusChoices = []struct{ Value, Label string }{
	{models.CheckOK, "有效"}, {models.CheckPending, "外勤待审核"}, {models.CheckRefused, "已驳回"},
}

// checkInFilter reads the list's filters.
func (h *Web) checkInFilter(c *gin.Context, q console.ListQuery) (CheckInFilter, checkInForm, error) {
	form := checkInForm{Day: q.Get("day"), Org: q.Get("org"), Status: q.Get("status"), Flagged: q.Get("flagged") != ""}
	f := CheckInFilter{Day: h.svc.Today(), Flagged: form.Flagged}
	if form.Day != "" {
		day, err := checkDay("day", "日期", form.Day)
		if err != nil {
			return f, form, err
		}
		f.Day = day
	}
	form.Day = f.Day
	switch form.Status {
	case "", models.CheckOK, models.CheckPending, models.CheckRefused:
		f.Status = form.Status
	default:
		return f, form, console.Invalid("status", "状态不对")
	}
	org, err := h.orgFilter(c, form.Org)
	f.Org = org
	return f, form, err
}

// CheckInsPage is GET /console/attendance/checkins?day=&org=&status=&flagged=: a day's check-ins and
// check-outs of the viewer's part of the tree (today by default).
func (h *Web) CheckInsPage(c *gin.Context) {
	q := console.ParseList(c)
	v := console.ViewerOf(c)
	p := checkInsPage{Q: q, Today: h.svc.Today(), Statuses: checkStatusChoices, Scope: v.Scope}
	f, form, err := h.checkInFilter(c, q)
	p.F, p.Day = form, f.Day
	status := http.StatusOK
	var ie *console.InputError
	switch {
	case errors.As(err, &ie):
		p.Err, status = ie, http.StatusBadRequest
	case err != nil:
		h.con.Fail(c, err)
		return
	default:
		var total int64
		if p.Rows, total, err = h.svc.CheckIns(c.Request.Context(), v.Scope, f, q.Offset(), q.PerPage); err != nil {
			h.con.Fail(c, err)
			return
		}
		p.Pager = q.Pager(total)
	}
	if p.Orgs, err = h.svc.Orgs(c.Request.Context(), v.Scope); err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, status, "attendance_checkins", "attendance", "签到记录", p)
}

// ---- places ----

type placesPage struct {
	Q     console.ListQuery
	F     struct{ Org, Active, Q string }
	Rows  []Place
	Orgs  []OrgRef
	Scope scope.Scope
}

// Rel is an org path below the viewer's own org.
func (p placesPage) Rel(path string) string { return rel(p.Scope, path) }

// PlacesPage is GET /console/attendance/places?org=&active=&q=.
func (h *Web) PlacesPage(c *gin.Context) {
	q := console.ParseList(c)
	v := console.ViewerOf(c)
	p := placesPage{Q: q, Scope: v.Scope}
	p.F.Org, p.F.Active, p.F.Q = q.Get("org"), q.Get("active"), q.Q
	f := PlaceFilter{Q: q.Q}
	switch p.F.Active {
	case "yes", "no":
		a := p.F.Active == "yes"
		f.Active = &a
	}
	var err error
	if f.Org, err = h.orgFilter(c, p.F.Org); err == nil {
		if p.Rows, err = h.svc.Places(c.Request.Context(), v.Scope, f); err == nil {
			p.Orgs, err = h.svc.Orgs(c.Request.Context(), v.Scope)
		}
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "attendance_places", "attendance", "签到地点", p)
}

type placeForm struct {
	OrgID, Name, Lat, Lng, Radius string
}

type placeFormPage struct {
	Place *Place // nil: a new place
	Form  placeForm
	Orgs  []OrgRef
	Scope scope.Scope
	console.FormErr
}

// Rel is an org path below the viewer's own org.
func (p placeFormPage) Rel(path string) string { return rel(p.Scope, path) }

func placeFormFromPost(c *gin.Context) placeForm {
	f := func(n string) string { return strings.TrimSpace(c.PostForm(n)) }
	return placeForm{OrgID: f("org_id"), Name: f("name"), Lat: f("lat"), Lng: f("lng"), Radius: f("radius")}
}

// parse reads the form's numbers.
func (f placeForm) parse() (lat, lng float64, radius int, err error) {
	if lat, err = ParseCoord(f.Lat); err != nil {
		return 0, 0, 0, console.Invalid("lat", "纬度应为数字，例如 29.906")
	}
	if lng, err = ParseCoord(f.Lng); err != nil {
		return 0, 0, 0, console.Invalid("lng", "经度应为数字，例如 103.372")
	}
	radius = DefaultRadius
	if f.Radius != "" {
		if radius, err = strconv.Atoi(f.Radius); err != nil {
			return 0, 0, 0, console.Invalid("radius", "签到范围应为整数米数（%d–%d）", MinRadius, MaxRadius)
		}
	}
	return lat, lng, radius, nil
}

func (h *Web) renderPlaceForm(c *gin.Context, p placeFormPage, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	v := console.ViewerOf(c)
	p.Scope = v.Scope
	var lerr error
	if p.Orgs, lerr = h.svc.Orgs(c.Request.Context(), v.Scope); lerr != nil {
		h.con.Fail(c, lerr)
		return
	}
	title := "新增签到地点"
	if p.Place != nil {
		title = "签到地点：" + p.Place.Name
	}
	h.con.Page(c, status, "attendance_place_form", "attendance", title, p)
}

// NewPlacePage is GET /console/attendance/places/new?org=.
func (h *Web) NewPlacePage(c *gin.Context) {
	f := placeForm{OrgID: c.Query("org"), Radius: strconv.Itoa(DefaultRadius)}
	if f.OrgID == "" {
		if sc := console.ViewerOf(c).Scope; !sc.All {
			f.OrgID = strconv.FormatUint(uint64(sc.OrgID), 10)
		}
	}
	h.renderPlaceForm(c, placeFormPage{Form: f}, nil)
}

// CreatePlaceSubmit is POST /console/attendance/places.
func (h *Web) CreatePlaceSubmit(c *gin.Context) {
	form := placeFormFromPost(c)
	orgID, err := idOf(form.OrgID)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	lat, lng, radius, err := form.parse()
	var p *Place
	if err == nil {
		p, err = h.svc.CreatePlace(c.Request.Context(), console.ViewerOf(c).Scope, PlaceInput{OrgID: orgID, Name: form.Name,
			Lat: lat, Lng: lng, Radius: radius}, h.recorder(c))
	}
	var ie *console.InputError
	switch {
	case errors.As(err, &ie):
		h.renderPlaceForm(c, placeFormPage{Form: form}, err)
	case err != nil:
		h.con.Fail(c, err)
	default:
		h.con.Redirect(c, "/console/attendance/places?org="+strconv.FormatUint(uint64(p.OrgID), 10), "已添加签到地点「"+p.Name+"」")
	}
}

// EditPlacePage is GET /console/attendance/places/:id.
func (h *Web) EditPlacePage(c *gin.Context) {
	id, err := pathID(c)
	var p *Place
	if err == nil {
		p, err = h.svc.Place(c.Request.Context(), console.ViewerOf(c).Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderPlaceForm(c, placeFormPage{Place: p, Form: formOfPlace(p)}, nil)
}

func formOfPlace(p *Place) placeForm {
	return placeForm{OrgID: strconv.FormatUint(uint64(p.OrgID), 10), Name: p.Name,
		Lat: strconv.FormatFloat(p.Lat, 'f', -1, 64), Lng: strconv.FormatFloat(p.Lng, 'f', -1, 64), Radius: strconv.Itoa(p.Radius)}
}

// UpdatePlaceSubmit is POST /console/attendance/places/:id (name, coordinates, radius; the org stays).
func (h *Web) UpdatePlaceSubmit(c *gin.Context) {
	ctx, sc := c.Request.Context(), console.ViewerOf(c).Scope
	id, err := pathID(c)
	var cur *Place
	if err == nil {
		cur, err = h.svc.Place(ctx, sc, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	form := placeFormFromPost(c)
	lat, lng, radius, err := form.parse()
	changed := false
	if err == nil {
		_, changed, err = h.svc.UpdatePlace(ctx, sc, id, PlaceChange{Name: &form.Name, Lat: &lat, Lng: &lng, Radius: &radius}, h.recorder(c))
	}
	var ie *console.InputError
	switch {
	case errors.As(err, &ie):
		h.renderPlaceForm(c, placeFormPage{Place: cur, Form: form}, err)
	case err != nil:
		h.con.Fail(c, err)
	default:
		msg := "没有改动"
		if changed {
			msg = "已保存签到地点「" + strings.TrimSpace(form.Name) + "」"
		}
		h.con.Redirect(c, "/console/attendance/places?org="+strconv.FormatUint(uint64(cur.OrgID), 10), msg)
	}
}

// DeactivatePlace is POST /console/attendance/places/:id/deactivate; ActivatePlace undoes it.
func (h *Web) DeactivatePlace(c *gin.Context) { h.setActive(c, false) }

// ActivatePlace is POST /console/attendance/places/:id/activate.
func (h *Web) ActivatePlace(c *gin.Context) { h.setActive(c, true) }

func (h *Web) setActive(c *gin.Context, active bool) {
	id, err := pathID(c)
	var p *Place
	if err == nil {
		p, _, err = h.svc.UpdatePlace(c.Request.Context(), console.ViewerOf(c).Scope, id, PlaceChange{Active: &active}, h.recorder(c))
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	msg := "已停用签到地点「" + p.Name + "」，在这里不能再签到"
	if active {
		msg = "已启用签到地点「" + p.Name + "」"
	}
	h.con.Redirect(c, "/console/attendance/places?org="+strconv.FormatUint(uint64(p.OrgID), 10), msg)
}

// ---- import ----

type placesImportPage struct {
	Result  *ImportResult
	File    string
	Scope   scope.Scope
	Example string
	console.FormErr
}

func (h *Web) renderImport(c *gin.Context, status int, p placesImportPage) {
	p.Scope = console.ViewerOf(c).Scope
	p.Example = "洪雅县/花溪镇/郭沟村"
	if !p.Scope.All && p.Scope.Path != "" {
		p.Example = p.Scope.Path
	}
	h.con.Page(c, status, "attendance_places_import", "attendance", "导入签到地点", p)
}

// ImportPlacesPage is GET /console/attendance/places/import.
func (h *Web) ImportPlacesPage(c *gin.Context) { h.renderImport(c, http.StatusOK, placesImportPage{}) }

// ImportPlacesSubmit is POST /console/attendance/places/import (multipart, field "file"): rows of orgs
// outside the viewer's part of the tree are refused by line.
func (h *Web) ImportPlacesSubmit(c *gin.Context) {
	fh, err := c.FormFile("file")
	if err != nil {
		h.renderImport(c, http.StatusBadRequest, placesImportPage{FormErr: console.FormErr{Err: &console.InputError{Field: "file", Message: "请选择要导入的文件（CSV 或 xlsx）"}}})
		return
	}
	f, err := fh.Open()
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	defer f.Close()
	res, err := h.svc.ImportPlaces(c.Request.Context(), console.ViewerOf(c).Scope, f, fh.Filename, h.recorder(c))
	if reason, ok := FileReason(err); ok {
		h.renderImport(c, http.StatusBadRequest, placesImportPage{File: fh.Filename, FormErr: console.FormErr{Err: &console.InputError{Field: "file", Message: reason}}})
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderImport(c, http.StatusOK, placesImportPage{Result: res, File: fh.Filename})
}

// ImportTemplate is GET /console/attendance/places/import/template.csv: the header and an example row.
func (h *Web) ImportTemplate(c *gin.Context) {
	example := "洪雅县/花溪镇/郭沟村"
	if sc := console.ViewerOf(c).Scope; !sc.All && sc.Path != "" {
		example = sc.Path
	}
	body := "\ufeff" + strings.Join(PlacesHeader, ",") + "\n" + example + "," + lastName(example) + "村委会,29.906012,103.372034,300\n"
	c.Header("Content-Disposition", `attachment; filename="places-template.csv"; filename*=UTF-8''%E7%AD%BE%E5%88%B0%E5%9C%B0%E7%82%B9%E6%A8%A1%E6%9D%BF.csv`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(body))
}

// ---- duty rules ----

type rulesPage struct {
	*RuleSetting
	Form     ruleForm
	Orgs     []OrgRef
	Admin    bool
	Weekdays []weekday
	console.FormErr
}

type weekday struct {
	N    int
	Name string
}

type ruleForm struct {
	WorkDays                               string
	OnDuty, OffDuty, LateGrace, EarlyGrace string
}

// HasDay reports whether the form's work days include ISO weekday n.
func (f ruleForm) HasDay(n int) bool { return strings.ContainsRune(f.WorkDays, rune('0'+n)) }

// WorkDaysText is the rule's work days as people read them.
func (p rulesPage) WorkDaysText() string { return WorkDaysText(p.Rule.WorkDays) }

func ruleFormOf(r models.DutyRule) ruleForm {
	return ruleForm{WorkDays: r.WorkDays, OnDuty: r.OnDuty, OffDuty: r.OffDuty,
		LateGrace: strconv.Itoa(r.LateGrace), EarlyGrace: strconv.Itoa(r.EarlyGrace)}
}

func (h *Web) renderRules(c *gin.Context, r *RuleSetting, form *ruleForm, err error) {
	status := http.StatusOK
	p := rulesPage{RuleSetting: r, Admin: console.ViewerOf(c).IsAdmin()}
	for n := 1; n <= 7; n++ {
		p.Weekdays = append(p.Weekdays, weekday{n, WeekdayNames[n]})
	}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = ruleFormOf(r.Rule)
	}
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	var lerr error
	if p.Orgs, lerr = h.svc.Orgs(c.Request.Context(), console.ViewerOf(c).Scope); lerr != nil {
		h.con.Fail(c, lerr)
		return
	}
	h.con.Page(c, status, "attendance_rules", "attendance", "值班规则", p)
}

// RulesPage is GET /console/attendance/rules?org=: the duty rule of an org of the viewer's scope,
// where it is inherited from, and (for administrators) the form that changes it.
func (h *Web) RulesPage(c *gin.Context) {
	id, err := h.pageOrg(c, c.Query("org"))
	var r *RuleSetting
	if err == nil {
		r, err = h.svc.RuleSetting(c.Request.Context(), console.ViewerOf(c).Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderRules(c, r, nil, nil)
}

// RulesSubmit is POST /console/attendance/rules (administrators): the form's rule for org_id, or with
// inherit=1 no rule of its own.
func (h *Web) RulesSubmit(c *gin.Context) {
	v := console.ViewerOf(c)
	if !v.IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return
	}
	ctx := c.Request.Context()
	id, err := idOf(c.PostForm("org_id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	var cur *RuleSetting
	if err == nil {
		cur, err = h.svc.RuleSetting(ctx, v.Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	form := ruleForm{WorkDays: strings.Join(c.PostFormArray("work_days"), ""), OnDuty: strings.TrimSpace(c.PostForm("on_duty")),
		OffDuty: strings.TrimSpace(c.PostForm("off_duty")), LateGrace: strings.TrimSpace(c.PostForm("late_grace")),
		EarlyGrace: strings.TrimSpace(c.PostForm("early_grace"))}
	ch := RuleChange{Inherit: c.PostForm("inherit") != ""}
	if !ch.Inherit {
		late, err1 := strconv.Atoi(form.LateGrace)
		early, err2 := strconv.Atoi(form.EarlyGrace)
		if err1 != nil || err2 != nil {
			h.renderRules(c, cur, &form, console.Invalid("late_grace", "宽限分钟数应为整数"))
			return
		}
		ch.Rule = models.DutyRule{WorkDays: form.WorkDays, OnDuty: form.OnDuty, OffDuty: form.OffDuty, LateGrace: late, EarlyGrace: early}
	}
	_, changed, err := h.svc.SaveRule(ctx, v.Scope, id, ch, h.recorder(c))
	if errors.Is(err, ErrBadRule) {
		h.renderRules(c, cur, &form, console.Invalid("rule", "%s", strings.TrimPrefix(err.Error(), ErrBadRule.Error()+": ")))
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	msg := "没有改动"
	switch {
	case changed && ch.Inherit:
		msg = "已恢复继承上级的值班规则"
	case changed:
		msg = "已保存值班规则"
	}
	h.con.Redirect(c, "/console/attendance/rules?org="+strconv.FormatUint(uint64(id), 10), msg)
}

// ---- county calendar ----

type holidaysPage struct {
	*Calendar
	Counties []OrgRef // the counties of the viewer's scope, to switch between
	OrgID    uint
	CanSet   bool // an administrator of the county
	Form     struct{ Day, Name, SeasonName, StartDay, EndDay, Days string }
	console.FormErr
}

// WeekdayOf is the weekday of a day, as people read it.
func (holidaysPage) WeekdayOf(day string) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return ""
	}
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	return WeekdayNames[wd]
}

func (h *Web) renderHolidays(c *gin.Context, orgID uint, p holidaysPage, err error) {
	status := http.StatusOK
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	v := console.ViewerOf(c)
	cal, cerr := h.svc.CountyCalendar(c.Request.Context(), v.Scope, orgID)
	var orgs []OrgRef
	if cerr == nil {
		orgs, cerr = h.svc.Orgs(c.Request.Context(), v.Scope)
	}
	if cerr != nil {
		h.con.Fail(c, cerr)
		return
	}
	for _, o := range orgs {
		if o.Level == models.LevelCounty {
			p.Counties = append(p.Counties, o)
		}
	}
	p.Calendar, p.OrgID = cal, orgID
	p.CanSet = v.IsAdmin() && v.Scope.Contains(cal.County.Path)
	h.con.Page(c, status, "attendance_holidays", "attendance", "节假日与农忙假", p)
}

// HolidaysPage is GET /console/attendance/holidays?org=: the holidays, 调休 working days and farm-season
// leave periods of the county of an org in the viewer's scope.
func (h *Web) HolidaysPage(c *gin.Context) {
	id, err := h.pageOrg(c, c.Query("org"))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderHolidays(c, id, holidaysPage{}, nil)
}

// countyForm is the form's org_id, which must be a county of the scope.
func (h *Web) countyForm(c *gin.Context) (uint, bool) {
	if !console.ViewerOf(c).IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return 0, false
	}
	id, err := idOf(c.PostForm("org_id"))
	if err == nil && id == 0 {
		err = scope.ErrNotFound
	}
	if err != nil {
		h.con.Fail(c, err)
		return 0, false
	}
	return id, true
}

func holidaysLink(orgID uint) string {
	return "/console/attendance/holidays?org=" + strconv.FormatUint(uint64(orgID), 10)
}

// AddHolidaySubmit is POST /console/attendance/holidays (county administrators): day, name, workday=1
// for a 调休 working day.
func (h *Web) AddHolidaySubmit(c *gin.Context) {
	id, ok := h.countyForm(c)
	if !ok {
		return
	}
	hol := models.Holiday{Day: c.PostForm("day"), Name: c.PostForm("name"), Workday: c.PostForm("workday") != ""}
	err := h.svc.AddHoliday(c.Request.Context(), console.ViewerOf(c).Scope, id, hol, h.recorder(c))
	var ie *console.InputError
	if errors.As(err, &ie) {
		p := holidaysPage{}
		p.Form.Day, p.Form.Name = hol.Day, hol.Name
		h.renderHolidays(c, id, p, err)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, holidaysLink(id), "已添加 "+strings.TrimSpace(hol.Day)+" "+strings.TrimSpace(hol.Name))
}

// DeleteHolidaySubmit is POST /console/attendance/holidays/:id/delete.
func (h *Web) DeleteHolidaySubmit(c *gin.Context) {
	if !console.ViewerOf(c).IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return
	}
	id, err := pathID(c)
	var county uint
	if err == nil {
		county, err = h.svc.DeleteHoliday(c.Request.Context(), console.ViewerOf(c).Scope, id, h.recorder(c))
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, holidaysLink(county), "已删除")
}

// AddSeasonSubmit is POST /console/attendance/seasons (county administrators).
func (h *Web) AddSeasonSubmit(c *gin.Context) {
	id, ok := h.countyForm(c)
	if !ok {
		return
	}
	days, _ := strconv.Atoi(strings.TrimSpace(c.PostForm("days")))
	f := models.FarmSeason{Name: c.PostForm("season_name"), StartDay: c.PostForm("start_day"), EndDay: c.PostForm("end_day"), Days: days}
	err := h.svc.AddSeason(c.Request.Context(), console.ViewerOf(c).Scope, id, f, h.recorder(c))
	var ie *console.InputError
	if errors.As(err, &ie) {
		p := holidaysPage{}
		p.Form.SeasonName, p.Form.StartDay, p.Form.EndDay, p.Form.Days = f.Name, f.StartDay, f.EndDay, c.PostForm("days")
		h.renderHolidays(c, id, p, err)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, holidaysLink(id), "已添加农忙假「"+strings.TrimSpace(f.Name)+"」")
}

// DeleteSeasonSubmit is POST /console/attendance/seasons/:id/delete.
func (h *Web) DeleteSeasonSubmit(c *gin.Context) {
	if !console.ViewerOf(c).IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return
	}
	id, err := pathID(c)
	var county uint
	if err == nil {
		county, err = h.svc.DeleteSeason(c.Request.Context(), console.ViewerOf(c).Scope, id, h.recorder(c))
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, holidaysLink(county), "已删除")
}
