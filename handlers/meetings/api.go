package meetings

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/models"
)

// The JSON API of meetings (console tokens) and the mini-program's member calls. server/openapi/
// meetings.json documents both.

type apiMeeting struct {
	ID          uint      `json:"id"`
	OrgID       uint      `json:"org_id"`
	OrgPath     string    `json:"org_path"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Place       string    `json:"place"`
	StartAt     time.Time `json:"start_at"`
	EndAt       time.Time `json:"end_at"`
	CheckInOpen time.Time `json:"checkin_opens_at"`
	Code        string    `json:"code"` // "" for a back-entered meeting
	BackEntered bool      `json:"back_entered"`
	Phase       string    `json:"phase"`
	Expected    int       `json:"expected"`
	Present     int       `json:"present"`
	Late        int       `json:"late"`
	Excused     int       `json:"excused"`
	Absent      int       `json:"absent"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Service) apiMeetingOf(r *MeetingRow) apiMeeting {
	now := s.now()
	phase := string(PhaseAt(&r.Meeting, now))
	if r.BackEntered {
		phase = "back_entered"
	}
	absent := 0
	if !now.Before(r.EndAt) {
		absent = r.Absent()
	}
	return apiMeeting{ID: r.ID, OrgID: r.OrgID, OrgPath: r.OrgPath, Type: r.Type, Title: r.Title, Place: r.Place,
		StartAt: r.StartAt, EndAt: r.EndAt, CheckInOpen: OpensAt(&r.Meeting), Code: r.Code, BackEntered: r.BackEntered,
		Phase: phase, Expected: r.Expected, Present: r.Present, Late: r.Late, Excused: r.Excused, Absent: absent,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}

type apiMeetingList struct {
	Items   []apiMeeting `json:"items"`
	Total   int64        `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

type apiAttendee struct {
	MemberID uint       `json:"member_id"`
	Name     string     `json:"name"`
	Role     string     `json:"role"`
	OrgPath  string     `json:"org_path"`
	Status   string     `json:"status"`
	At       *time.Time `json:"checked_in_at"`
	Source   string     `json:"source"`
	Note     string     `json:"note"`
}

type apiMeetingDetail struct {
	apiMeeting
	Attendees []apiAttendee `json:"attendees"`
}

type apiMeetingInput struct {
	OrgID     uint      `json:"org_id"`
	Type      string    `json:"type"`
	Title     string    `json:"title"`
	Place     string    `json:"place"`
	StartAt   time.Time `json:"start_at"`
	EndAt     time.Time `json:"end_at"`
	MemberIDs []uint    `json:"member_ids"`
}

// APIList is GET /api/v1/meetings[?org=&type=&month=&page=&per_page=].
func (s *Service) APIList(c *gin.Context) {
	q := console.ParseList(c)
	f, _, err := s.parseList(q)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	rows, total, err := s.List(c.Request.Context(), console.ViewerOf(c).Scope, f, q.Offset(), q.PerPage)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	out := apiMeetingList{Items: make([]apiMeeting, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i := range rows {
		out.Items[i] = s.apiMeetingOf(&rows[i])
	}
	c.JSON(http.StatusOK, out)
}

// APIGet is GET /api/v1/meetings/:id: the meeting with its attendance.
func (s *Service) APIGet(c *gin.Context) {
	m, ok := s.meeting(c)
	if !ok {
		return
	}
	s.apiDetail(c, http.StatusOK, m)
}

func (s *Service) apiDetail(c *gin.Context, status int, m *MeetingRow) {
	as, err := s.Attendees(c.Request.Context(), &m.Meeting)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	out := apiMeetingDetail{apiMeeting: s.apiMeetingOf(m), Attendees: make([]apiAttendee, len(as))}
	for i := range as {
		a := &as[i]
		out.Attendees[i] = apiAttendee{MemberID: a.MemberID, Name: a.Name, Role: a.Role, OrgPath: a.OrgPath, Status: a.Shown,
			At: a.At, Source: a.Source, Note: a.Note}
	}
	c.JSON(status, out)
}

// APICreate is POST /api/v1/meetings: a meeting for an org in the caller's scope; member_ids
// omitted: every active member of the org.
func (s *Service) APICreate(c *gin.Context) {
	var in apiMeetingInput
	if err := console.DecodeJSON(c, &in); err != nil {
		s.con.Fail(c, err)
		return
	}
	v := console.ViewerOf(c)
	m, err := s.Create(c.Request.Context(), v, Input{OrgID: in.OrgID, Type: in.Type, Title: in.Title, Place: in.Place,
		StartAt: in.StartAt, EndAt: in.EndAt, MemberIDs: in.MemberIDs})
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	row, err := s.Get(c.Request.Context(), v.Scope, m.ID)
	if err != nil {
		s.con.Fail(c, err)
		return
	}
	s.apiDetail(c, http.StatusCreated, row)
}

// Mini-program shapes.

type mpMeeting struct {
	ID          uint       `json:"id"`
	OrgPath     string     `json:"org_path"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Place       string     `json:"place"`
	StartAt     time.Time  `json:"start_at"`
	EndAt       time.Time  `json:"end_at"`
	CheckInOpen time.Time  `json:"checkin_opens_at"`
	Open        bool       `json:"checkin_open"` // check-in is open now
	BackEntered bool       `json:"back_entered"`
	Status      string     `json:"status"` // his attendance: expected, present, late, excused, absent
	At          *time.Time `json:"checked_in_at"`
}

type mpMeetingList struct {
	Items []mpMeeting `json:"items"`
}

type mpCheckInInput struct {
	Code string `json:"code"`
}

type mpCheckIn struct {
	Status  string    `json:"status"` // present or late
	At      time.Time `json:"checked_in_at"`
	Rank    int       `json:"rank"`
	Message string    `json:"message"`
}

type mpError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// MPList is GET /api/v1/mp/meetings: the member's meetings that have not ended, soonest first (no
// codes: the code is given out in the room).
func (s *Service) MPList(c *gin.Context) {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpFail(c, errors.New("meetings: mini-program route without mp.Service.Auth"))
		return
	}
	ms, err := s.Upcoming(c.Request.Context(), m.ID, 0)
	if err != nil {
		s.mpFail(c, err)
		return
	}
	now := s.now()
	out := mpMeetingList{Items: make([]mpMeeting, len(ms))}
	for i := range ms {
		x := &ms[i]
		out.Items[i] = mpMeeting{ID: x.ID, OrgPath: x.OrgPath, Type: x.Type, Title: x.Title, Place: x.Place, StartAt: x.StartAt,
			EndAt: x.EndAt, CheckInOpen: OpensAt(&x.Meeting), Open: !x.BackEntered && PhaseAt(&x.Meeting, now) == PhaseOpen,
			BackEntered: x.BackEntered, Status: statusAt(&x.Meeting, x.Status, now), At: x.At}
	}
	c.JSON(http.StatusOK, out)
}

// MPCheckIn is POST /api/v1/mp/meetings/:id/checkin {code}: the code shows he is in the room.
func (s *Service) MPCheckIn(c *gin.Context) {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpFail(c, errors.New("meetings: mini-program route without mp.Service.Auth"))
		return
	}
	id, err := idParam(c, "id")
	if err != nil {
		c.AbortWithStatusJSON(http.StatusNotFound, mpError{Error: string(OutcomeNoMeeting), Message: s.Text(&Result{Outcome: OutcomeNoMeeting})})
		return
	}
	var in mpCheckInInput
	if err := console.DecodeJSON(c, &in); err != nil {
		var ie *console.InputError
		if errors.As(err, &ie) {
			c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: "invalid", Message: ie.Message, Field: ie.Field})
			return
		}
		s.mpFail(c, err)
		return
	}
	code := strings.TrimSpace(in.Code)
	if code == "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: "invalid", Message: "请填写会场公布的 6 位签到码。", Field: "code"})
		return
	}
	r, err := s.CheckInMeeting(c.Request.Context(), m.ID, id, &code, models.MeetingSourceMP)
	if err != nil {
		s.mpFail(c, err)
		return
	}
	msg := s.Text(r)
	switch r.Outcome {
	case OutcomeOK:
		status := models.MeetingPresent
		if r.Late {
			status = models.MeetingLate
		}
		c.JSON(http.StatusOK, mpCheckIn{Status: status, At: *r.At, Rank: r.Rank, Message: msg})
		return
	case OutcomeBadCode, OutcomeWrongCode:
		c.AbortWithStatusJSON(http.StatusBadRequest, mpError{Error: string(r.Outcome), Message: msg, Field: "code"})
	case OutcomeNoMeeting, OutcomeNotExpected:
		// A meeting he is not expected at is "not found" for him, as the console's scope does.
		c.AbortWithStatusJSON(http.StatusNotFound, mpError{Error: string(r.Outcome), Message: msg})
	default: // twice, not open yet, ended, back-entered
		c.AbortWithStatusJSON(http.StatusConflict, mpError{Error: string(r.Outcome), Message: msg})
	}
}

func (s *Service) mpFail(c *gin.Context, err error) {
	s.log.ErrorContext(c.Request.Context(), "meetings: mini-program request failed", "path", c.Request.URL.Path, "err", err)
	c.AbortWithStatusJSON(http.StatusInternalServerError, mpError{Error: "internal", Message: "出错了，请稍后再试。"})
}
