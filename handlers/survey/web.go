package survey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The console pages of surveys. Every page sees the surveys reaching its viewer's part of the tree;
// results are limited to his people (ResultScope).

// idParam is a numeric path parameter; anything else is not found.
func idParam(c *gin.Context, name string) (uint, error) {
	id, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// fail answers an error of a page or an API call, with the survey's own errors in Chinese.
func (s *Service) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ErrLocked):
		err = console.Invalid("questions", "已经有人作答，题目、对象和匿名设置不能再改；可以改标题、说明、截止时间和提醒")
	case errors.Is(err, ErrState):
		err = console.Invalid("status", "问卷当前的状态不能这样操作，请刷新页面")
	}
	s.con.Fail(c, err)
}

// OrgOption is an org the form offers.
type OrgOption struct {
	ID   uint
	Path string
}

func (s *Service) orgOptions(ctx context.Context, sc scope.Scope) ([]OrgOption, error) {
	var os []OrgOption
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id", "path").Order("path").Limit(5000).Scan(&os).Error; err != nil {
		return nil, fmt.Errorf("survey: orgs: %w", err)
	}
	return os, nil
}

// listRow is a survey in the list.
type listRow struct {
	models.Survey
	State string
}

// listPage is GET /console/surveys.
type listPage struct {
	Rows    []listRow
	Pager   console.Pager
	IsAdmin bool
}

// StateName is a state in Chinese.
func (listPage) StateName(st string) string { return StatusNames[st] }

// ListPage is GET /console/surveys: the surveys reaching the viewer's part of the tree, newest first.
func (s *Service) ListPage(c *gin.Context) {
	q := console.ParseList(c)
	v := console.ViewerOf(c)
	rows, total, err := s.List(c.Request.Context(), v.Scope, q.Offset(), q.PerPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := listPage{Pager: q.Pager(total), IsAdmin: v.IsAdmin()}
	now := s.now()
	for _, r := range rows {
		sv := Survey{Survey: r}
		p.Rows = append(p.Rows, listRow{Survey: r, State: sv.StatusAt(now)})
	}
	s.con.Page(c, http.StatusOK, "surveys", "surveys", "问卷", p)
}

// form is the builder's form as typed.
type form struct {
	ID                     uint
	Title, Intro           string
	OrgID                  uint
	Roles                  map[string]bool
	Anonymous              bool
	Deadline               string // datetime-local "2006-01-02T15:04"
	RemindEvery, RemindMax string
	Questions              string
}

// editPage is the builder: GET /console/surveys/new, GET /console/surveys/:id/edit and their forms.
type editPage struct {
	Form   form
	Orgs   []OrgOption
	Roles  []string
	Locked bool // answers exist: only the title, intro, deadline and reminders change
	console.FormErr
}

// HasRole reports whether a role's box is ticked.
func (p editPage) HasRole(r string) bool { return p.Form.Roles[r] }

const formTime = "2006-01-02T15:04"

// formOf fills the form from a survey.
func (s *Service) formOf(sv *Survey) form {
	f := form{ID: sv.ID, Title: sv.Title, Intro: sv.Intro, OrgID: sv.OrgID, Roles: map[string]bool{}, Anonymous: sv.Anonymous,
		Deadline: sv.Deadline.In(s.loc).Format(formTime), RemindEvery: strconv.Itoa(sv.RemindEvery),
		RemindMax: strconv.Itoa(sv.RemindMax), Questions: FormatQuestions(sv.Qs)}
	for _, r := range sv.RoleList() {
		f.Roles[r] = true
	}
	return f
}

// readForm reads the posted builder form into the form (as typed) and an Input.
func (s *Service) readForm(c *gin.Context) (form, Input, error) {
	f := form{Title: c.PostForm("title"), Intro: c.PostForm("intro"), Roles: map[string]bool{}, Anonymous: c.PostForm("anonymous") != "",
		Deadline: strings.TrimSpace(c.PostForm("deadline")), RemindEvery: strings.TrimSpace(c.PostForm("remind_every")),
		RemindMax: strings.TrimSpace(c.PostForm("remind_max")), Questions: c.PostForm("questions")}
	in := Input{Title: f.Title, Intro: f.Intro, Anonymous: f.Anonymous}
	for _, r := range c.PostFormArray("role") {
		f.Roles[r] = true
		in.Roles = append(in.Roles, r)
	}
	if id, err := strconv.ParseUint(c.PostForm("org_id"), 10, 32); err == nil {
		f.OrgID, in.OrgID = uint(id), uint(id)
	}
	if f.Deadline != "" {
		t, err := time.ParseInLocation(formTime, f.Deadline, s.loc)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02 15:04", f.Deadline, s.loc); err != nil {
				return f, in, console.Invalid("deadline", "截止时间应为 2026-11-27 18:00 这样的格式")
			}
		}
		in.Deadline = t
	}
	var err error
	if in.RemindEvery, err = atoiOr0(f.RemindEvery); err != nil {
		return f, in, console.Invalid("remind_every", "提醒间隔应为天数")
	}
	if in.RemindMax, err = atoiOr0(f.RemindMax); err != nil {
		return f, in, console.Invalid("remind_max", "提醒次数应为数字")
	}
	qs, err := ParseQuestions(f.Questions)
	if err != nil {
		return f, in, err
	}
	in.Questions = qs
	return f, in, nil
}

func atoiOr0(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// renderEdit shows the builder.
func (s *Service) renderEdit(c *gin.Context, status int, p editPage, err error) {
	var ie *console.InputError
	if err != nil && !errors.As(err, &ie) {
		s.fail(c, err)
		return
	}
	p.FormErr = console.FormErr{Err: ie}
	v := console.ViewerOf(c)
	var oerr error
	if p.Orgs, oerr = s.orgOptions(c.Request.Context(), v.Scope); oerr != nil {
		s.fail(c, oerr)
		return
	}
	p.Roles = models.Roles
	title := "新建问卷"
	if p.Form.ID != 0 {
		title = "修改问卷"
	}
	s.con.Page(c, status, "survey_edit", "surveys", title, p)
}

// NewPage is GET /console/surveys/new.
func (s *Service) NewPage(c *gin.Context) {
	f := form{Roles: map[string]bool{}, Deadline: s.now().In(s.loc).AddDate(0, 0, 7).Format("2006-01-02") + "T18:00",
		RemindEvery: "2", RemindMax: "2"}
	if id, err := strconv.ParseUint(c.Query("org"), 10, 32); err == nil {
		f.OrgID = uint(id)
	}
	s.renderEdit(c, http.StatusOK, editPage{Form: f}, nil)
}

// CreateSubmit is POST /console/surveys.
func (s *Service) CreateSubmit(c *gin.Context) {
	f, in, err := s.readForm(c)
	if err == nil {
		var sv *Survey
		if sv, err = s.Create(c.Request.Context(), console.ViewerOf(c), in); err == nil {
			s.con.Redirect(c, fmt.Sprintf("/console/surveys/%d", sv.ID), "问卷已保存。检查无误后点「发布并通知」发给大家。")
			return
		}
	}
	s.renderEdit(c, http.StatusBadRequest, editPage{Form: f}, err)
}

// EditPage is GET /console/surveys/:id/edit.
func (s *Service) EditPage(c *gin.Context) {
	sv, err := s.managed(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	locked, err := s.HasAnswers(c.Request.Context(), sv.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderEdit(c, http.StatusOK, editPage{Form: s.formOf(sv), Locked: locked}, nil)
}

// UpdateSubmit is POST /console/surveys/:id.
func (s *Service) UpdateSubmit(c *gin.Context) {
	sv, err := s.managed(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f, in, err := s.readForm(c)
	f.ID = sv.ID
	if err == nil {
		if _, err = s.Update(c.Request.Context(), console.ViewerOf(c), sv.ID, in); err == nil {
			s.con.Redirect(c, fmt.Sprintf("/console/surveys/%d", sv.ID), "问卷已修改。")
			return
		}
	}
	if errors.Is(err, ErrLocked) {
		err = console.Invalid("questions", "已经有人作答，题目、对象和匿名设置不能再改；可以改标题、说明、截止时间和提醒")
	}
	locked, _ := s.HasAnswers(c.Request.Context(), sv.ID)
	s.renderEdit(c, http.StatusBadRequest, editPage{Form: f, Locked: locked}, err)
}

// managed loads the survey of the path for a viewer who manages it (404 outside his scope, 403 when he
// only sees it).
func (s *Service) managed(c *gin.Context) (*Survey, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	v := console.ViewerOf(c)
	sv, err := s.ForViewer(c.Request.Context(), v, id)
	if err != nil {
		return nil, err
	}
	if !Manages(v, &sv.Survey) {
		return nil, console.ErrNotAllowed
	}
	return sv, nil
}

// surveyPage is GET /console/surveys/:id: the survey, its results in the viewer's part, who has not
// answered, and the actions of its administrators.
type surveyPage struct {
	*Results
	State    string
	Manages  bool
	Locked   bool
	Org      string // the drill-down org id ("" = the viewer's whole part)
	Pending  []Pending
	Left     int64 // pending members in the scope
	Reminded int
	Link     string // a sample H5 link for the viewer's own member, when he has one
	loc      *time.Location
}

// StateName is the survey's state in Chinese.
func (p surveyPage) StateName() string { return StatusNames[p.State] }

// RateName is a rate status in Chinese.
func (surveyPage) RateName(st string) string { return RateNames[st] }

// RateClass is the tag class of a rate status.
func (surveyPage) RateClass(st string) string {
	switch st {
	case Green:
		return "ok"
	case Yellow:
		return "warn"
	}
	return "bad"
}

// Pct is part of total in percent, one decimal.
func (surveyPage) Pct(part, total int64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(float64(part)*100/float64(total), 'f', 1, 64) + "%"
}

// Num is a number as read.
func (surveyPage) Num(f *float64) string {
	if f == nil {
		return "—"
	}
	return strconv.FormatFloat(*f, 'f', 1, 64)
}

// Deadline is the deadline in local time.
func (p surveyPage) Deadline() string { return p.Survey.Deadline.In(p.loc).Format("2006-01-02 15:04") }

// Count is a unit's cross-tab count of an option.
func (surveyPage) Count(u Unit, value int) int64 { return u.Counts[value] }

// Chart is the ECharts option of a question's counts.
func (surveyPage) Chart(q QuestionResult) map[string]any {
	names := make([]string, len(q.Options))
	ns := make([]int64, len(q.Options))
	for i, o := range q.Options {
		names[i], ns[i] = clip(o.Label, 12), o.N
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 8, "right": 8, "bottom": 8, "top": 16, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0}},
		"yAxis":   map[string]any{"type": "value", "minInterval": 1},
		"color":   []string{"#c0392b"},
		"series":  []map[string]any{{"name": "人数", "type": "bar", "data": ns}},
	}
}

// RateChart is the ECharts option of the units' response rates.
func (p surveyPage) RateChart() map[string]any {
	names := make([]string, len(p.Units))
	rates := make([]map[string]any, len(p.Units))
	colors := map[string]string{Green: "#1f9d55", Yellow: "#e6a23c", Red: "#c0392b"}
	for i, u := range p.Units {
		names[i] = u.Name()
		rates[i] = map[string]any{"value": int(u.Rate()*10+0.5) / 10, "itemStyle": map[string]any{"color": colors[u.Status()]}}
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 8, "right": 8, "bottom": 8, "top": 16, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "rotate": 30}},
		"yAxis":   map[string]any{"type": "value", "max": 100, "axisLabel": map[string]any{"formatter": "{value}%"}},
		"series":  []map[string]any{{"name": "填写率", "type": "bar", "data": rates}},
	}
}

// pendingShown is how many of those who have not answered the page lists.
const pendingShown = 100

// scopeFor is the result scope of a viewer for a survey, narrowed to ?org= when given (it must be in
// the scope: 403 otherwise).
// surveyIn reads the survey of the :id parameter that the viewer may see and the part of its results
// he sees (?org= narrows it); ok false when the answer (404/403) has been written.
func (s *Service) surveyIn(c *gin.Context, v *console.Viewer) (*Survey, scope.Scope, bool) {
	ctx := c.Request.Context()
	id, err := idParam(c, "id")
	var sv *Survey
	if err == nil {
		sv, err = s.ForViewer(ctx, v, id)
	}
	var sc scope.Scope
	if err == nil {
		sc, err = s.scopeFor(ctx, v, sv, c.Query("org"))
	}
	if err != nil {
		s.fail(c, err)
		return nil, sc, false
	}
	return sv, sc, true
}

func (s *Service) scopeFor(ctx context.Context, v *console.Viewer, sv *Survey, orgParam string) (scope.Scope, error) {
	sc, ok := ResultScope(v.Scope, &sv.Survey)
	if !ok {
		return sc, ErrNotFound
	}
	if orgParam == "" {
		return sc, nil
	}
	id, err := strconv.ParseUint(orgParam, 10, 32)
	if err != nil || id == 0 {
		return sc, console.Invalid("org", "组织编号不对")
	}
	var o models.Org
	if err := s.db.WithContext(ctx).Take(&o, id).Error; err != nil {
		return sc, scope.ErrForbidden
	}
	if err := sc.Check(o.Path); err != nil {
		return sc, err
	}
	return scope.Under(o.ID, o.Path), nil
}

// Page is GET /console/surveys/:id (?org= drills down, ?q= picks the cross-tab question).
func (s *Service) Page(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	sv, sc, ok := s.surveyIn(c, v)
	if !ok {
		return
	}
	cross, _ := strconv.Atoi(c.Query("q"))
	if cross == 0 {
		for _, q := range sv.Qs {
			if q.IsChoice() {
				cross = q.Seq
				break
			}
		}
	}
	res, err := s.Results(ctx, sv, sc, cross)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := surveyPage{Results: res, State: sv.StatusAt(s.now()), Manages: Manages(v, &sv.Survey), Org: c.Query("org"), loc: s.loc, Reminded: sv.Rounds}
	if p.Locked, err = s.HasAnswers(ctx, sv.ID); err != nil {
		s.fail(c, err)
		return
	}
	if sv.Status != models.SurveyDraft {
		if p.Pending, p.Left, err = s.Pending(ctx, &sv.Survey, sc, pendingShown); err != nil {
			s.fail(c, err)
			return
		}
	}
	if v.MemberID != nil && sv.invitesID(ctx, s, *v.MemberID) {
		p.Link = s.LinkFor(sv.ID, *v.MemberID, sv.Deadline)
	}
	s.con.Page(c, http.StatusOK, "survey", "surveys", sv.Title, p)
}

// invitesID reports whether member id is in the survey's audience (for the viewer's own link).
func (sv *Survey) invitesID(ctx context.Context, s *Service, id uint) bool {
	m, err := s.memberOf(ctx, id)
	return err == nil && sv.Status == models.SurveyOpen && sv.invites(m.Role, m.OrgPath)
}

// SendSubmit is POST /console/surveys/:id/send: open the survey and send it as a broadcast.
func (s *Service) SendSubmit(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	bid, err := s.Send(c.Request.Context(), console.ViewerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.con.Redirect(c, fmt.Sprintf("/console/surveys/%d", id), fmt.Sprintf("问卷已发布，通知正在群发（群发 #%d）。", bid))
}

// CloseSubmit is POST /console/surveys/:id/close.
func (s *Service) CloseSubmit(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Close(c.Request.Context(), console.ViewerOf(c), id); err != nil {
		s.fail(c, err)
		return
	}
	s.con.Redirect(c, fmt.Sprintf("/console/surveys/%d", id), "问卷已结束，不再收集回答。")
}

// RemindSubmit is POST /console/surveys/:id/remind: a reminder round now, to those in the viewer's
// part who have not answered (sent in the background).
func (s *Service) RemindSubmit(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	round, n, err := s.RemindNow(c.Request.Context(), console.ViewerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := fmt.Sprintf("第 %d 轮提醒已开始，发给 %d 位还没填写的人。", round, n)
	if n == 0 {
		msg = "大家都填完了，不需要提醒。"
	}
	s.con.Redirect(c, fmt.Sprintf("/console/surveys/%d", id), msg)
}

// MorePending reports whether more people have not answered than the page lists.
func (p surveyPage) MorePending() bool { return p.Left > int64(len(p.Pending)) }
