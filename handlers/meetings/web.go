package meetings

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The console pages of meetings. Every page sees the meetings of its viewer's scope; a meeting outside
// it is "not found".

// idParam is a numeric path parameter; anything else is not found.
func idParam(c *gin.Context, name string) (uint, error) {
	id, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// OrgOption is an org a viewer may choose.
type OrgOption struct {
	ID   uint
	Path string
}

// orgOptions are the orgs of the viewer's scope, by path.
func (s *Service) orgOptions(ctx context.Context, sc scope.Scope) ([]OrgOption, error) {
	var os []OrgOption
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id", "path").Order("path").Scan(&os).Error; err != nil {
		return nil, fmt.Errorf("meetings: orgs: %w", err)
	}
	return os, nil
}

// rel is an org path below the viewer's own org ("郭沟村" for a town's administrator).
func rel(sc scope.Scope, path string) string {
	if sc.All || sc.Path == "" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, sc.Path+"/"); ok {
		return rest
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

// listForm is the list's filters as typed.
type listForm struct {
	Org, Type, Month string
}

// parseList reads the list's filters: org (an org id: its subtree), type, month (YYYY-MM).
func (s *Service) parseList(q console.ListQuery) (Filter, listForm, error) {
	form := listForm{Org: q.Get("org"), Type: q.Get("type"), Month: q.Get("month")}
	var f Filter
	if form.Org != "" {
		id, err := strconv.ParseUint(form.Org, 10, 32)
		if err != nil || id == 0 {
			return f, form, console.Invalid("org", "组织编号不对")
		}
		f.OrgID = uint(id)
	}
	if form.Type != "" {
		if !models.ValidMeetingType(form.Type) {
			return f, form, console.Invalid("type", "会议类型应为 %s 之一", strings.Join(models.MeetingTypes, "、"))
		}
		f.Type = form.Type
	}
	if form.Month != "" {
		t, err := time.ParseInLocation("2006-01", form.Month, s.loc)
		if err != nil {
			return f, form, console.Invalid("month", "月份应为 2026-11 这样的格式")
		}
		f.From, f.To = t, t.AddDate(0, 1, 0)
	}
	return f, form, nil
}

// listPage is GET /console/meetings.
type listPage struct {
	Q     console.ListQuery
	F     listForm
	Rows  []MeetingRow
	Pager console.Pager
	Orgs  []OrgOption
	Types []string
	Scope scope.Scope
	Now   time.Time
	loc   *time.Location
}

// Rel is an org path as the viewer reads it.
func (p listPage) Rel(path string) string { return rel(p.Scope, path) }

// Span is a meeting's time: "2026-11-21 14:30–16:00".
func (p listPage) Span(m *models.Meeting) string { return span(m, p.loc) }

// PhaseName is where a meeting stands, in Chinese.
func (p listPage) PhaseName(m *models.Meeting) string { return phaseName(m, p.Now) }

func span(m *models.Meeting, loc *time.Location) string {
	st, en := m.StartAt.In(loc), m.EndAt.In(loc)
	if st.Format("2006-01-02") == en.Format("2006-01-02") {
		return st.Format("2006-01-02 15:04") + "–" + en.Format("15:04")
	}
	return st.Format("2006-01-02 15:04") + " – " + en.Format("2006-01-02 15:04")
}

func phaseName(m *models.Meeting, now time.Time) string {
	if m.BackEntered {
		return "补录"
	}
	switch PhaseAt(m, now) {
	case PhaseUpcoming:
		return "未开始"
	case PhaseOpen:
		return "签到中"
	}
	return "已结束"
}

// ListPage is GET /console/meetings: the meetings of the viewer's part of the tree, newest first,
// filtered by org, type and month.
func (s *Service) ListPage(c *gin.Context) {
	q := console.ParseList(c)
	f, form, err := s.parseList(q)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	v := console.ViewerOf(c)
	rows, total, err := s.List(c.Request.Context(), v.Scope, f, q.Offset(), q.PerPage)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	p := listPage{Q: q, F: form, Rows: rows, Pager: q.Pager(total), Types: models.MeetingTypes, Scope: v.Scope, Now: s.now(), loc: s.loc}
	if p.Orgs, err = s.orgOptions(c.Request.Context(), v.Scope); err != nil {
		s.con.Fail(c, err)
		return
	}
	s.con.Page(c, http.StatusOK, "meetings", "meetings", "会议", p)
}

// newForm is the new meeting form as typed.
type newForm struct {
	OrgID              uint
	Type, Title, Place string
	Date, Start, End   string
	Checked            map[uint]bool // nil: every member ticked
	AttendeesGiven     bool          // the form listed the org's members
	memberIDs          []uint
	startAt, endAt     time.Time
	parseErr           error
}

// MemberOption is a member the form offers as an attendee.
type MemberOption struct {
	ID         uint
	Name, Role string
}

// newPage is GET /console/meetings/new and the form of POST /console/meetings.
type newPage struct {
	Orgs    []OrgOption
	Org     *OrgOption
	Members []MemberOption
	Form    newForm
	Types   []string
	Scope   scope.Scope
	console.FormErr
}

// Rel is an org path as the viewer reads it.
func (p newPage) Rel(path string) string { return rel(p.Scope, path) }

// IsChecked reports whether a member's box is ticked.
func (p newPage) IsChecked(id uint) bool { return p.Form.Checked == nil || p.Form.Checked[id] }

// renderNew shows the new meeting form for the form's org (the viewer's own when he has one org).
func (s *Service) renderNew(c *gin.Context, status int, form newForm, ferr *console.InputError) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	p := newPage{Form: form, Types: models.MeetingTypes, Scope: v.Scope, FormErr: console.FormErr{Err: ferr}}
	var err error
	if p.Orgs, err = s.orgOptions(ctx, v.Scope); err != nil {
		s.con.Fail(c, err)
		return
	}
	if p.Form.OrgID == 0 && len(p.Orgs) == 1 {
		p.Form.OrgID = p.Orgs[0].ID
	}
	if p.Form.OrgID != 0 {
		for i := range p.Orgs {
			if p.Orgs[i].ID == p.Form.OrgID {
				p.Org = &p.Orgs[i]
			}
		}
		if p.Org == nil {
			s.con.Fail(c, scope.ErrForbidden)
			return
		}
		if err := s.db.WithContext(ctx).Model(&models.Member{}).Where("org_id = ? AND active = ?", p.Org.ID, true).
			Select("id", "name", "role").Order("id").Scan(&p.Members).Error; err != nil {
			s.con.Fail(c, fmt.Errorf("meetings: members of %d: %w", p.Org.ID, err))
			return
		}
	}
	if p.Form.Type == "" {
		p.Form.Type = models.MeetingCommittee
	}
	s.con.Page(c, status, "meeting_form", "meetings", "新建会议", p)
}

// NewPage is GET /console/meetings/new[?org=ID].
func (s *Service) NewPage(c *gin.Context) {
	var form newForm
	if o := c.Query("org"); o != "" {
		id, err := strconv.ParseUint(o, 10, 32)
		if err != nil || id == 0 {
			s.con.Fail(c, scope.ErrNotFound)
			return
		}
		form.OrgID = uint(id)
	}
	form.Date = s.now().In(s.loc).Format("2006-01-02")
	s.renderNew(c, http.StatusOK, form, nil)
}

// formFromPost reads the new meeting form.
func (s *Service) formFromPost(c *gin.Context) newForm {
	f := func(name string) string { return strings.TrimSpace(c.PostForm(name)) }
	form := newForm{Type: f("type"), Title: f("title"), Place: f("place"), Date: f("date"), Start: f("start"), End: f("end")}
	if id, err := strconv.ParseUint(f("org_id"), 10, 32); err == nil {
		form.OrgID = uint(id)
	}
	if c.PostForm("attendees") != "" { // the form lists the org's members: what is ticked is the list
		form.AttendeesGiven = true
		form.Checked = map[uint]bool{}
		form.memberIDs = []uint{}
		for _, v := range c.PostFormArray("member_id") {
			if id, err := strconv.ParseUint(v, 10, 32); err == nil && id > 0 {
				form.Checked[uint(id)] = true
				form.memberIDs = append(form.memberIDs, uint(id))
			}
		}
	}
	form.startAt, form.endAt, form.parseErr = s.parseTimes(form.Date, form.Start, form.End)
	return form
}

// parseTimes reads a date and two clock times (the end may be past midnight: the next day).
func (s *Service) parseTimes(date, start, end string) (time.Time, time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", date, s.loc)
	if err != nil {
		return time.Time{}, time.Time{}, console.Invalid("date", "日期应为 2026-11-21 这样的格式")
	}
	clock := func(field, label, v string) (time.Time, error) {
		t, err := time.Parse("15:04", v)
		if err != nil {
			return time.Time{}, console.Invalid(field, "%s应为 14:30 这样的时间", label)
		}
		return time.Date(d.Year(), d.Month(), d.Day(), t.Hour(), t.Minute(), 0, 0, s.loc), nil
	}
	st, err := clock("start", "开始时间", start)
	if err != nil {
		return st, st, err
	}
	en, err := clock("end", "结束时间", end)
	if err != nil {
		return st, en, err
	}
	if !en.After(st) {
		en = en.AddDate(0, 0, 1)
	}
	return st, en, nil
}

// CreateSubmit is POST /console/meetings.
func (s *Service) CreateSubmit(c *gin.Context) {
	form := s.formFromPost(c)
	fail := func(err error) {
		if ie, ok := err.(*console.InputError); ok {
			s.renderNew(c, http.StatusBadRequest, form, ie)
			return
		}
		s.con.Fail(c, err)
	}
	if form.parseErr != nil {
		fail(form.parseErr)
		return
	}
	in := Input{OrgID: form.OrgID, Type: form.Type, Title: form.Title, Place: form.Place, StartAt: form.startAt, EndAt: form.endAt}
	if form.AttendeesGiven {
		in.MemberIDs = form.memberIDs
	}
	m, err := s.Create(c.Request.Context(), console.ViewerOf(c), in)
	if err != nil {
		fail(inputFieldsOfForm(err))
		return
	}
	flash := "会议已创建，签到码 " + m.Code + "。"
	if m.BackEntered {
		flash = "会议已补录，请在下方登记出席情况。"
	}
	s.con.Redirect(c, fmt.Sprintf("/console/meetings/%d", m.ID), flash)
}

// inputFieldsOfForm maps the service's field names to the form's (start_at → start, ...).
func inputFieldsOfForm(err error) error {
	if ie, ok := err.(*console.InputError); ok {
		switch ie.Field {
		case "start_at":
			return &console.InputError{Field: "start", Message: ie.Message}
		case "end_at":
			return &console.InputError{Field: "end", Message: ie.Message}
		case "member_ids":
			return &console.InputError{Field: "member_id", Message: ie.Message}
		}
	}
	return err
}

// meetingPage is GET /console/meetings/:id.
type meetingPage struct {
	M         *MeetingRow
	Span      string
	Phase     string
	Opens     string
	QR        template.HTML
	QRNote    string
	Attendees []AttendeeRow
	Files     []FileRow
	Statuses  []statusOption
	Scope     scope.Scope
	Started   bool
	MaxMB     int
	Err       string
}

type statusOption struct{ Value, Name string }

// PageError is the page's error banner.
func (p meetingPage) PageError() string { return p.Err }

// Rel is an org path as the viewer reads it.
func (p meetingPage) Rel(path string) string { return rel(p.Scope, path) }

// markOptions are the statuses the console can set.
var markOptions = []statusOption{
	{models.MeetingPresent, "出席"}, {models.MeetingLate, "迟到"}, {models.MeetingExcused, "请假"},
	{models.MeetingAbsent, "缺席"}, {models.MeetingExpected, "未到（清除登记）"},
}

func (s *Service) meeting(c *gin.Context) (*MeetingRow, bool) {
	id, err := idParam(c, "id")
	if err == nil {
		var m *MeetingRow
		if m, err = s.Get(c.Request.Context(), console.ViewerOf(c).Scope, id); err == nil {
			return m, true
		}
	}
	s.con.Fail(c, err)
	return nil, false
}

// renderMeeting shows a meeting's page (status and an error banner after a failed change).
func (s *Service) renderMeeting(c *gin.Context, status int, m *MeetingRow, errText string) {
	ctx := c.Request.Context()
	now := s.now()
	p := meetingPage{M: m, Span: span(&m.Meeting, s.loc), Phase: phaseName(&m.Meeting, now),
		Opens: OpensAt(&m.Meeting).In(s.loc).Format("15:04"), Statuses: markOptions, Scope: console.ViewerOf(c).Scope,
		Started: !now.Before(m.StartAt), MaxMB: MaxFileSize >> 20, Err: errText}
	var err error
	if p.Attendees, err = s.Attendees(ctx, &m.Meeting); err != nil {
		s.con.Fail(c, err)
		return
	}
	if p.Files, err = s.Files(ctx, m.ID); err != nil {
		s.con.Fail(c, err)
		return
	}
	p.QR, p.QRNote = s.QR(ctx, &m.Meeting, 200)
	title := m.Type
	if m.Title != "" {
		title += " · " + m.Title
	}
	s.con.Page(c, status, "meeting", "meetings", title, p)
}

// MeetingPage is GET /console/meetings/:id: the meeting, its code and QR code, the attendance with
// the secretary's marks, and the attachments.
func (s *Service) MeetingPage(c *gin.Context) {
	m, ok := s.meeting(c)
	if !ok {
		return
	}
	s.renderMeeting(c, http.StatusOK, m, "")
}

// screenPage is GET /console/meetings/:id/screen.
type screenPage struct {
	M      *MeetingRow
	Span   string
	QR     template.HTML
	QRNote string
	Open   bool
}

// ScreenPage is GET /console/meetings/:id/screen: the code and QR code big, for a projector; the
// count refreshes by itself (htmx asks for the "count" fragment).
func (s *Service) ScreenPage(c *gin.Context) {
	m, ok := s.meeting(c)
	if !ok {
		return
	}
	p := screenPage{M: m, Span: span(&m.Meeting, s.loc), Open: !m.BackEntered && PhaseAt(&m.Meeting, s.now()) != PhaseEnded}
	if c.GetHeader("HX-Target") != "count" {
		p.QR, p.QRNote = s.QR(c.Request.Context(), &m.Meeting, 420)
	}
	title := unitName(m.OrgPath) + " " + m.Type
	s.con.Page(c, http.StatusOK, "meeting_screen", "meetings", title, p)
}

// MarkSubmit is POST /console/meetings/:id/attendance: member_id, status, note.
func (s *Service) MarkSubmit(c *gin.Context) {
	m, ok := s.meeting(c)
	if !ok {
		return
	}
	memberID, err := strconv.ParseUint(c.PostForm("member_id"), 10, 32)
	if err != nil {
		s.renderMeeting(c, http.StatusBadRequest, m, "请选择人员")
		return
	}
	err = s.Mark(c.Request.Context(), console.ViewerOf(c), m.ID, uint(memberID), c.PostForm("status"), c.PostForm("note"))
	if ie, ok := err.(*console.InputError); ok {
		s.renderMeeting(c, http.StatusBadRequest, m, ie.Message)
		return
	}
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	s.con.Redirect(c, fmt.Sprintf("/console/meetings/%d#attendance", m.ID), "已登记。")
}

// UploadSubmit is POST /console/meetings/:id/files: one file (field "file"), minutes or a photo.
func (s *Service) UploadSubmit(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	v := console.ViewerOf(c)
	m, err := s.Get(c.Request.Context(), v.Scope, id)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	name, data, err := readUpload(c)
	if err == nil {
		_, err = s.AddFile(c.Request.Context(), v, m.ID, name, data)
	}
	if ie, ok := err.(*console.InputError); ok {
		s.renderMeeting(c, http.StatusBadRequest, m, ie.Message)
		return
	}
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	s.con.Redirect(c, fmt.Sprintf("/console/meetings/%d#files", m.ID), "已上传："+name)
}

// readUpload reads the form's file, refusing a body larger than the limit before reading it all.
// The CSRF middleware has parsed the form already when the token came as a form field; the body's
// limit then is the request's, so the size is checked again on the file itself.
func readUpload(c *gin.Context) (string, []byte, error) {
	if c.Request.ContentLength > MaxFileSize+(64<<10) {
		return "", nil, console.Invalid("file", "文件太大：最大 %d MB，请压缩后再传", MaxFileSize>>20)
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxFileSize+(64<<10))
	fh, err := c.FormFile("file")
	if err != nil {
		if strings.Contains(err.Error(), "too large") {
			return "", nil, console.Invalid("file", "文件太大：最大 %d MB，请压缩后再传", MaxFileSize>>20)
		}
		return "", nil, console.Invalid("file", "请选择要上传的文件")
	}
	if fh.Size > MaxFileSize {
		return fh.Filename, nil, console.Invalid("file", "文件太大：最大 %d MB，请压缩后再传", MaxFileSize>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return fh.Filename, nil, fmt.Errorf("meetings: open upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fh.Filename, nil, fmt.Errorf("meetings: read upload: %w", err)
	}
	return fh.Filename, data, nil
}

// FileDownload is GET /console/meetings/:id/files/:fid: photos shown inline, documents downloaded.
func (s *Service) FileDownload(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	fid, err := idParam(c, "fid")
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	f, err := s.File(c.Request.Context(), console.ViewerOf(c), id, fid)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	disp := "attachment"
	if f.Kind == models.MeetingFilePhoto {
		disp = "inline"
	}
	c.Header("Content-Disposition", disp+"; filename*=UTF-8''"+url.PathEscape(f.Name))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, f.ContentType, f.Data)
}

// exportColumns are the columns of a meeting's attendance export.
var exportColumns = []string{"姓名", "角色", "组织", "出席情况", "签到时间", "签到方式", "备注", "登记人"}

// Export is GET /console/meetings/:id/export.xlsx: the meeting's attendance (audited).
func (s *Service) Export(c *gin.Context) {
	m, ok := s.meeting(c)
	if !ok {
		return
	}
	as, err := s.Attendees(c.Request.Context(), &m.Meeting)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	title := fmt.Sprintf("%s %s %s", unitName(m.OrgPath), m.Type, m.StartAt.In(s.loc).Format("2006-01-02 15:04"))
	if m.BackEntered {
		title += "（补录）"
	}
	t := xlsxout.Table{Title: title, Columns: exportColumns, Rows: make([][]any, len(as)), Filters: []xlsxout.Filter{
		{Name: "组织", Value: m.OrgPath}, {Name: "类型", Value: m.Type}, {Name: "时间", Value: span(&m.Meeting, s.loc)},
		{Name: "地点", Value: m.Place}, {Name: "补录", Value: pick(m.BackEntered, "是", "否")},
	}}
	if m.Title != "" {
		t.Filters = append(t.Filters, xlsxout.Filter{Name: "主题", Value: m.Title})
	}
	for i := range as {
		a := &as[i]
		t.Rows[i] = []any{a.Name, a.Role, a.OrgPath, a.StatusName(), a.At, a.SourceName(), a.Note, a.MarkedBy}
	}
	base := "会议签到_" + unitName(m.OrgPath) + "_" + m.Type
	if m.BackEntered {
		base += "_补录"
	}
	s.con.SendXLSX(c, base, t)
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// overduePage is GET /console/meetings/overdue.
type overduePage struct {
	Rows        []BranchDue
	Frequencies []Frequency
	All         bool
	Branches    int
	Scope       scope.Scope
	loc         *time.Location
}

// Rel is an org path as the viewer reads it.
func (p overduePage) Rel(path string) string { return rel(p.Scope, path) }

// Date is a last meeting's date.
func (p overduePage) Date(t *time.Time) string {
	if t == nil {
		return "从未召开"
	}
	return t.In(p.loc).Format("2006-01-02")
}

// OverduePage is GET /console/meetings/overdue[?all=1]: each branch's last meeting of every type,
// overdue ones flagged 逾期; by default only the branches with something overdue.
func (s *Service) OverduePage(c *gin.Context) {
	v := console.ViewerOf(c)
	all := c.Query("all") != ""
	rows, err := s.Overdue(c.Request.Context(), v.Scope, false)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	p := overduePage{Rows: rows, Frequencies: Frequencies, All: all, Branches: len(rows), Scope: v.Scope, loc: s.loc}
	if !all {
		p.Rows = nil
		for _, r := range rows {
			if r.Overdue > 0 {
				p.Rows = append(p.Rows, r)
			}
		}
	}
	s.con.Page(c, http.StatusOK, "meetings_overdue", "meetings", "会议逾期提醒", p)
}
