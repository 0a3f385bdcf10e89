package broadcast

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Web is the broadcast capability's console pages and JSON API. Administrators make and manage
// broadcasts for their part of the tree; anyone may look at a broadcast that reached his part, and
// sees only his people's figures.
type Web struct {
	s   *Service
	con *console.Service
	// window is the engine's in-flight window: at most this many people may get a notice twice after
	// a server was killed (the page says so beside the possible duplicates).
	window int
	// paused is the engine's Paused: whether every server has stopped sending for now, and why.
	paused func(context.Context) (time.Duration, string)
}

// NewWeb makes the pages and puts 群发 in the console's menu. eng is the engine that sends (its
// in-flight window is shown beside the possible duplicates, its pauses on a sending broadcast).
func NewWeb(s *Service, con *console.Service, eng *Engine) *Web {
	con.AddNav(console.NavItem{Key: "broadcasts", Label: "群发", Href: "/console/broadcasts", Order: 60})
	return &Web{s: s, con: con, window: eng.InFlightWindow(), paused: eng.Paused}
}

// pauseOf is why and how much longer every server has stopped sending, when b is sending and has
// recipients waiting; zero otherwise.
func (h *Web) pauseOf(ctx context.Context, b *models.Broadcast, queued int64) (time.Duration, string) {
	if b.Status != models.BroadcastSending || queued == 0 {
		return 0, ""
	}
	return h.paused(ctx)
}

// aboutLeft is a pause's remaining time as people read it: 约 5 秒, 约 10 分钟.
func aboutLeft(d time.Duration) string {
	if d < time.Minute {
		return "约 " + strconv.Itoa(int(max((d+time.Second-1)/time.Second, 1))) + " 秒"
	}
	return "约 " + strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " 分钟"
}

// row is a broadcast in a list, with the viewer's figures.
type row struct {
	models.Broadcast
	Counts
	StatusName string
	Audience   string
}

// rowOf is b as a viewer with scope sc sees it: the audience's orgs outside his part of the tree are
// not named.
func (h *Web) rowOf(sc scope.Scope, b *models.Broadcast, c Counts) row {
	paths, more := OrgsFor(sc, b)
	var roles []string
	if b.Roles != "" {
		roles = strings.Split(b.Roles, ",")
	}
	aud := audienceText(paths, roles)
	if more {
		aud += "（及其他单位）"
	}
	return row{Broadcast: *b, Counts: c, StatusName: StatusNames[b.Status], Audience: aud}
}

// Active reports whether the broadcast may still change by itself (the page refreshes then).
func (r row) Active() bool {
	return r.Status == models.BroadcastScheduled || r.Status == models.BroadcastSending ||
		(r.Status == models.BroadcastCancelled && r.FinishedAt == nil)
}

// StatusClass is the tag color of the state.
func (r row) StatusClass() string {
	switch r.Status {
	case models.BroadcastDone:
		return "ok"
	case models.BroadcastPending, models.BroadcastPaused:
		return "warn"
	case models.BroadcastCancelled:
		return "bad"
	}
	return ""
}

type listPage struct {
	Rows  []row
	Pager console.Pager
	Admin bool
}

// ListPage is GET /console/broadcasts: the broadcasts that reached the viewer's part of the tree.
func (h *Web) ListPage(c *gin.Context) {
	v := console.ViewerOf(c)
	q := console.ParseList(c)
	rows, total, err := h.list(c, v, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Page(c, http.StatusOK, "broadcasts", "broadcasts", "群发通知", listPage{Rows: rows, Pager: q.Pager(total), Admin: v.IsAdmin()})
}

func (h *Web) list(c *gin.Context, v *console.Viewer, offset, limit int) ([]row, int64, error) {
	ctx := c.Request.Context()
	bs, total, err := h.s.List(ctx, v.Scope, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]row, len(bs))
	for i := range bs {
		p, err := h.s.Progress(ctx, v.Scope, bs[i].ID, false)
		if err != nil {
			return nil, 0, err
		}
		rows[i] = h.rowOf(v.Scope, &bs[i], p.Counts)
	}
	return rows, total, nil
}

// form is the new-notice form as typed.
type form struct {
	Orgs          []string // org ids
	Roles         []string
	Title         string
	Text          string
	Link          string
	SendAt        string // datetime-local, in the console's time zone
	NeedsApproval bool
	Channel       string // ChannelAuto, ChannelMass or ChannelDirect
}

// Has reports whether a value was chosen (for checkboxes and the multiple select).
func (f form) Has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

type orgChoice struct {
	ID    uint
	Path  string
	Level int
}

type newPage struct {
	Form      form
	Orgs      []orgChoice
	AllRoles  []string
	MaxText   int
	IDString  func(uint) string
	Formatted string
	console.FormErr
	MassFrom int // ChannelAuto's threshold (0: never)
}

func (h *Web) orgChoices(c *gin.Context, sc scope.Scope) ([]orgChoice, error) {
	var out []orgChoice
	err := h.s.db.WithContext(c.Request.Context()).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, path, level").
		Order("path").Limit(5000).Scan(&out).Error
	return out, err
}

func (h *Web) renderNew(c *gin.Context, status int, f form, err error) {
	p := newPage{Form: f, AllRoles: models.Roles, MaxText: MaxText, IDString: func(id uint) string { return strconv.FormatUint(uint64(id), 10) },
		MassFrom: h.s.massAt}
	if p.Form.Channel == "" {
		p.Form.Channel = ChannelAuto
	}
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err = ie
	}
	var lerr error
	if p.Orgs, lerr = h.orgChoices(c, console.ViewerOf(c).Scope); lerr != nil {
		h.con.Fail(c, lerr)
		return
	}
	h.con.Page(c, status, "broadcast_new", "broadcasts", "新建群发通知", p)
}

// NewPage is GET /console/broadcasts/new (administrators): the new-notice form.
func (h *Web) NewPage(c *gin.Context) {
	h.renderNew(c, http.StatusOK, form{}, nil)
}

// CreateSubmit is POST /console/broadcasts (administrators): records the notice; it goes out at its
// time (or after approval). A wrong form comes back with what was typed and the error.
func (h *Web) CreateSubmit(c *gin.Context) {
	c.Request.ParseForm()
	f := form{Orgs: c.PostFormArray("org_id"), Roles: c.PostFormArray("role"), Title: strings.TrimSpace(c.PostForm("title")),
		Text: strings.TrimSpace(c.PostForm("text")), Link: strings.TrimSpace(c.PostForm("link")),
		SendAt: strings.TrimSpace(c.PostForm("send_at")), NeedsApproval: c.PostForm("needs_approval") != "", Channel: c.PostForm("channel")}
	in := NoticeInput{Roles: f.Roles, Title: f.Title, Text: f.Text, Link: f.Link, NeedsApproval: f.NeedsApproval, Channel: f.Channel}
	for _, s := range f.Orgs {
		id, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			h.renderNew(c, http.StatusBadRequest, f, console.Invalid("orgs", "所选的组织不对"))
			return
		}
		in.OrgIDs = append(in.OrgIDs, uint(id))
	}
	if f.SendAt != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", f.SendAt, h.con.Location())
		if err != nil {
			h.renderNew(c, http.StatusBadRequest, f, console.Invalid("send_at", "发送时间不对，应为 2026-01-31 08:00 这样的格式"))
			return
		}
		in.SendAt = t
	}
	b, err := h.s.Create(c.Request.Context(), console.ViewerOf(c), in)
	if err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			h.renderNew(c, http.StatusBadRequest, f, err)
			return
		}
		h.con.Fail(c, err)
		return
	}
	msg := "已创建，将在发送时间发出"
	if b.NeedsApproval {
		msg = "已创建，等待另一位管理员审批后发出"
	} else if !b.SendAt.After(h.s.now()) {
		msg = "已创建，几秒内开始发送"
	}
	if b.Channel == models.SendMass {
		msg += "（按标签群发）"
	}
	h.con.Redirect(c, "/console/broadcasts/"+strconv.FormatUint(uint64(b.ID), 10), msg)
}

// pageData is the broadcast page.
type pageData struct {
	row
	Progress   *Progress
	Recipients []Recipient
	Pager      console.Pager
	Filter     string
	Manages    bool
	CanApprove bool
	Window     int
	Q          console.ListQuery
	// Reads: notices carry personal links, so who read them is known. RemindOf is the notice a
	// reminder reminds of; Reminders the reminders of a notice; NoRemind why 提醒未读 is not offered
	// now ("" when it is).
	Reads     bool
	RemindOf  uint
	Reminders []models.Broadcast
	NoRemind  string
	Mass      *models.BroadcastMass // its mass send, when it has one and the viewer sees the whole audience
	// Pause: why every server has stopped sending for now (WeChat out of reach, busy, a quota used up)
	// while this broadcast has people waiting, and PauseLeft how much longer; "" when it is not.
	Pause, PauseLeft string
}

// Unread is how many of the viewer's recipients WeChat took have not opened their link (at least 0).
func (p pageData) Unread() int64 { return max(p.Progress.Sent-p.Progress.Read, 0) }

// Pct is part of the whole in percent (for the progress bar).
func (p pageData) Pct(part int64) int64 {
	if t := p.Progress.Total(); t > 0 {
		return part * 100 / t
	}
	return 0
}

// Filters are the recipient lists the page offers.
func (p pageData) Filters() [][2]string {
	f := [][2]string{{"", "全部"}, {models.DeliveryFailed, "失败"}, {models.DeliveryQueued, "排队中"},
		{models.DeliverySent, "已送达"}, {models.DeliverySkipped, "未绑定微信"}}
	if p.Reads || p.Kind == models.BroadcastSurvey {
		f = append(f, [2]string{TallyRead, "已读"}, [2]string{FilterUnread, "已送达未读"})
	}
	return f
}

// Rate is part of whole in percent, one decimal ("—" when whole is 0), at most 100%.
func (p pageData) Rate(part, whole int64) string {
	if whole <= 0 {
		return "—"
	}
	return strconv.FormatFloat(min(float64(part)*100/float64(whole), 100), 'f', 1, 64) + "%"
}

// DeliveryName is a recipient's state as people read it.
func (p pageData) DeliveryName(s string) string { return DeliveryNames[s] }

func idParam(c *gin.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, scope.ErrNotFound
	}
	return uint(id), nil
}

// Page is GET /console/broadcasts/:id: the state, progress by state and by village, why some failed,
// and the recipients (the viewer's people only); ?status= filters them. htmx refreshes the
// "progress" block while it runs.
func (h *Web) Page(c *gin.Context) {
	v := console.ViewerOf(c)
	id, err := idParam(c)
	var b *models.Broadcast
	if err == nil {
		b, err = h.s.ForViewer(c.Request.Context(), v, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	q := console.ParseList(c)
	d := pageData{Manages: Manages(v, b), Window: h.window, Q: q, Filter: q.Get("status")}
	d.CanApprove = d.Manages && b.Status == models.BroadcastPending && (b.CreatedByID == nil || *b.CreatedByID != v.AccountID)
	if d.Progress, err = h.s.Progress(c.Request.Context(), v.Scope, id, true); err != nil {
		h.con.Fail(c, err)
		return
	}
	d.row = h.rowOf(v.Scope, b, d.Progress.Counts)
	if d.Mass, err = h.massFor(c.Request.Context(), v.Scope, b); err != nil {
		h.con.Fail(c, err)
		return
	}
	if left, why := h.pauseOf(c.Request.Context(), b, d.Progress.Queued); left > 0 {
		d.Pause, d.PauseLeft = why, aboutLeft(left)
	}
	if _, ok := DeliveryNames[d.Filter]; !ok && d.Filter != TallyRead && d.Filter != FilterUnread {
		d.Filter = ""
	}
	d.Reads = h.s.TracksReads() && b.Kind == models.BroadcastNotice && b.Channel != models.SendMass // mass recipients share one message: no personal link
	d.RemindOf = remindOf(b)
	if d.Reads && d.RemindOf == 0 {
		if d.Reminders, err = h.s.Reminders(c.Request.Context(), id); err != nil {
			h.con.Fail(c, err)
			return
		}
		if d.Manages {
			d.NoRemind = h.s.CanRemind(b, d.Reminders)
		}
	}
	var total int64
	if d.Recipients, total, err = h.s.Recipients(c.Request.Context(), v.Scope, id, d.Filter, q.Offset(), q.PerPage, &d.Progress.Counts); err != nil {
		h.con.Fail(c, err)
		return
	}
	d.Pager = q.Pager(total)
	h.con.Page(c, http.StatusOK, "broadcast", "broadcasts", "群发通知 #"+c.Param("id"), d)
}

// action runs a change and goes back to the broadcast's page with a message.
func (h *Web) action(c *gin.Context, do func(*Service, *gin.Context, *console.Viewer, uint) (*models.Broadcast, error), done string) {
	id, err := idParam(c)
	if err == nil {
		_, err = do(h.s, c, console.ViewerOf(c), id)
	}
	if errors.Is(err, ErrState) {
		h.con.Redirect(c, "/console/broadcasts/"+c.Param("id"), "现在的状态不能这样操作，请刷新后再看")
		return
	}
	var ie *console.InputError
	if errors.As(err, &ie) {
		h.con.Redirect(c, "/console/broadcasts/"+c.Param("id"), ie.Message)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, "/console/broadcasts/"+c.Param("id"), done)
}

func pause(s *Service, c *gin.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	return s.Pause(c.Request.Context(), v, id)
}
func resume(s *Service, c *gin.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	return s.Resume(c.Request.Context(), v, id)
}
func cancel(s *Service, c *gin.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	return s.Cancel(c.Request.Context(), v, id)
}
func approve(s *Service, c *gin.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	return s.Approve(c.Request.Context(), v, id)
}

// PauseSubmit, ResumeSubmit, CancelSubmit and ApproveSubmit are POST /console/broadcasts/:id/… for
// administrators whose part of the tree holds the whole audience.
func (h *Web) PauseSubmit(c *gin.Context)  { h.action(c, pause, "已暂停") }
func (h *Web) ResumeSubmit(c *gin.Context) { h.action(c, resume, "已继续发送") }
func (h *Web) CancelSubmit(c *gin.Context) {
	h.action(c, cancel, "已取消，还没发出的不再发送")
}
func (h *Web) ApproveSubmit(c *gin.Context) { h.action(c, approve, "已审批，将按时发出") }

// API shapes.

type apiCounts struct {
	Queued    int64 `json:"queued"`
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
	Cancelled int64 `json:"cancelled"`
	Total     int64 `json:"total"`
	// PossibleDuplicates: sends after an attempt whose outcome was unknown (a timeout, a worker
	// killed): some of these people may have it twice.
	PossibleDuplicates int64 `json:"possible_duplicates"`
	// Read: opened the page their message linked to (a notice's page, a survey's form), or answered;
	// ReadRate: Read of Sent in percent (one decimal, at most 100). Answered: a survey's, answered.
	Read     int64   `json:"read"`
	ReadRate float64 `json:"read_rate"`
	Answered int64   `json:"answered"`
	// Tagged: of Queued, tagged for a mass send that has not gone yet.
	Tagged int64 `json:"tagged"`
}

func countsOf(c Counts) apiCounts {
	return apiCounts{Queued: c.Queued, Sent: c.Sent, Failed: c.Failed, Skipped: c.Skipped, Cancelled: c.Cancelled, Total: c.Total(), PossibleDuplicates: c.Dup,
		Read: c.Read, ReadRate: float64(int64(c.ReadRate()*10+0.5)) / 10, Answered: c.Answered, Tagged: c.Tagged}
}

type apiBroadcast struct {
	ID            uint       `json:"id"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`
	Title         string     `json:"title"`
	Text          string     `json:"text"`
	Link          string     `json:"link"`
	Orgs          []string   `json:"orgs"`
	Roles         []string   `json:"roles"`
	SendAt        time.Time  `json:"send_at"`
	NeedsApproval bool       `json:"needs_approval"`
	ApprovedBy    string     `json:"approved_by"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	Counts        apiCounts  `json:"counts"`
	RemindOf      uint       `json:"remind_of,omitempty"` // a reminder to those who had not read this notice
	Channel       string     `json:"channel"`             // mass (群发 by tag) or direct
}

func toAPI(sc scope.Scope, b *models.Broadcast, c Counts) apiBroadcast {
	out := apiBroadcast{ID: b.ID, Kind: b.Kind, Status: b.Status, Title: b.Title, Text: b.Text, Link: b.Link, Orgs: []string{}, Roles: []string{},
		SendAt: b.SendAt, NeedsApproval: b.NeedsApproval, ApprovedBy: b.ApprovedBy, CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt,
		StartedAt: b.StartedAt, FinishedAt: b.FinishedAt, Counts: countsOf(c), RemindOf: remindOf(b),
		Channel: ChannelDirect}
	if b.Channel == models.SendMass {
		out.Channel = ChannelMass
	}
	paths, _ := OrgsFor(sc, b)
	out.Orgs = append(out.Orgs, paths...)
	if b.Roles != "" {
		out.Roles = strings.Split(b.Roles, ",")
	}
	return out
}

type apiReason struct {
	Status  string `json:"status"`
	ErrCode int    `json:"errcode"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

type apiUnit struct {
	OrgID uint      `json:"org_id"`
	Path  string    `json:"path"`
	Count apiCounts `json:"counts"`
}

type apiDetail struct {
	apiBroadcast
	Reasons []apiReason `json:"reasons"`
	Units   []apiUnit   `json:"units"`
	Mass    *apiMass    `json:"mass"` // its mass send (web_mass.go); null when none, or not the caller's to see
	Paused  *apiPause   `json:"paused"`
}

// apiPause: every server has stopped sending for now while this broadcast has people waiting; they
// stay queued and go out once it ends.
type apiPause struct {
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
}

type apiList struct {
	Items []apiBroadcast `json:"items"`
	Total int64          `json:"total"`
}

type apiInput struct {
	OrgIDs        []uint     `json:"org_ids"`
	OrgPaths      []string   `json:"org_paths"`
	Roles         []string   `json:"roles"`
	Title         string     `json:"title"`
	Text          string     `json:"text"`
	Link          string     `json:"link"`
	SendAt        *time.Time `json:"send_at"`
	NeedsApproval bool       `json:"needs_approval"`
	Channel       string     `json:"channel"` // auto (default), mass or direct
}

// APIList is GET /api/v1/broadcasts: the broadcasts that reached the caller's part of the tree, with
// his people's figures.
func (h *Web) APIList(c *gin.Context) {
	v := console.ViewerOf(c)
	q := console.ParseList(c)
	bs, total, err := h.s.List(c.Request.Context(), v.Scope, q.Offset(), q.PerPage)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiList{Items: []apiBroadcast{}, Total: total}
	for i := range bs {
		p, err := h.s.Progress(c.Request.Context(), v.Scope, bs[i].ID, false)
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		out.Items = append(out.Items, toAPI(v.Scope, &bs[i], p.Counts))
	}
	c.JSON(http.StatusOK, out)
}

// APICreate is POST /api/v1/broadcasts (administrators): a notice to org subtrees (by id or path) of
// the caller's part of the tree.
func (h *Web) APICreate(c *gin.Context) {
	var in apiInput
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	ni := NoticeInput{OrgIDs: in.OrgIDs, OrgPaths: in.OrgPaths, Roles: in.Roles, Title: in.Title, Text: in.Text, Link: in.Link, NeedsApproval: in.NeedsApproval,
		Channel: in.Channel}
	if in.SendAt != nil {
		ni.SendAt = *in.SendAt
	}
	b, err := h.s.Create(c.Request.Context(), console.ViewerOf(c), ni)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toAPI(console.ViewerOf(c).Scope, b, Counts{}))
}

// APIGet is GET /api/v1/broadcasts/:id: a broadcast with the caller's people's figures, by state, by
// reason of failure and by org.
func (h *Web) APIGet(c *gin.Context) {
	v := console.ViewerOf(c)
	id, err := idParam(c)
	var b *models.Broadcast
	if err == nil {
		b, err = h.s.ForViewer(c.Request.Context(), v, id)
	}
	var p *Progress
	if err == nil {
		p, err = h.s.Progress(c.Request.Context(), v.Scope, id, true)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiDetail{apiBroadcast: toAPI(v.Scope, b, p.Counts), Reasons: []apiReason{}, Units: []apiUnit{}}
	job, err := h.massFor(c.Request.Context(), v.Scope, b)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out.Mass = toAPIMass(job)
	if left, why := h.pauseOf(c.Request.Context(), b, p.Queued); left > 0 {
		out.Paused = &apiPause{Reason: why, Until: time.Now().Add(left).Truncate(time.Second)}
	}
	for _, r := range p.Reasons {
		out.Reasons = append(out.Reasons, apiReason{Status: r.Status, ErrCode: r.ErrCode, Reason: r.Reason, Count: r.N})
	}
	for _, u := range p.Units {
		out.Units = append(out.Units, apiUnit{OrgID: u.OrgID, Path: u.Path, Count: countsOf(u.Counts)})
	}
	c.JSON(http.StatusOK, out)
}

func (h *Web) apiAction(c *gin.Context, do func(*Service, *gin.Context, *console.Viewer, uint) (*models.Broadcast, error)) {
	id, err := idParam(c)
	var b *models.Broadcast
	if err == nil {
		b, err = do(h.s, c, console.ViewerOf(c), id)
	}
	if errors.Is(err, ErrState) {
		err = console.Invalid("status", "现在的状态（%s）不能这样操作", h.statusName(c, id))
	}
	var p *Progress
	if err == nil {
		p, err = h.s.Progress(c.Request.Context(), console.ViewerOf(c).Scope, id, false)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPI(console.ViewerOf(c).Scope, b, p.Counts))
}

func (h *Web) statusName(c *gin.Context, id uint) string {
	b, err := h.s.Get(c.Request.Context(), id)
	if err != nil {
		return "未知"
	}
	return StatusNames[b.Status]
}

// APIPause, APIResume, APICancel and APIApprove are POST /api/v1/broadcasts/:id/… (administrators
// whose part of the tree holds the whole audience).
func (h *Web) APIPause(c *gin.Context)   { h.apiAction(c, pause) }
func (h *Web) APIResume(c *gin.Context)  { h.apiAction(c, resume) }
func (h *Web) APICancel(c *gin.Context)  { h.apiAction(c, cancel) }
func (h *Web) APIApprove(c *gin.Context) { h.apiAction(c, approve) }

// RemindSubmit is POST /console/broadcasts/:id/remind (administrators whose part of the tree holds the
// whole audience): 提醒未读, a reminder to those the notice reached who have not opened it; the page of
// the reminder follows.
func (h *Web) RemindSubmit(c *gin.Context) {
	id, err := idParam(c)
	var r *models.Broadcast
	if err == nil {
		r, err = h.s.RemindUnread(c.Request.Context(), console.ViewerOf(c), id)
	}
	var ie *console.InputError
	if errors.As(err, &ie) {
		h.con.Redirect(c, "/console/broadcasts/"+c.Param("id"), ie.Message)
		return
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.con.Redirect(c, "/console/broadcasts/"+strconv.FormatUint(uint64(r.ID), 10), "已创建提醒，几秒内开始发给未读的人")
}

// APIRemind is POST /api/v1/broadcasts/:id/remind: the same (201 with the reminder; 400 with the reason
// when it cannot be sent now).
func (h *Web) APIRemind(c *gin.Context) {
	id, err := idParam(c)
	var r *models.Broadcast
	if err == nil {
		r, err = h.s.RemindUnread(c.Request.Context(), console.ViewerOf(c), id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toAPI(console.ViewerOf(c).Scope, r, Counts{}))
}
