// Package meetings is 三会一课 and the branches' other meetings: a secretary (or an administrator above
// him) creates a meeting with its type, time, place and expected attendees; members check in with
// 「签到 CODE」, by scanning the meeting's QR code (scene meet:ID) or in the mini-program, inside the
// check-in window; the console shows who is present, late, absent or excused, takes the secretary's
// marks and the minutes and photos, exports the attendance, and flags branches whose meetings are
// overdue.
//
// Rules (chosen here):
//   - check-in opens CheckInOpensBefore (30 min) before the start and closes at the end; a check-in
//     later than LateAfter (10 min) after the start is late; an expected attendee not checked in by
//     the end is absent (缺席), unless the secretary recorded an excused absence (请假);
//   - codes are 6 digits without a leading zero, unique among the meetings that have not ended; an
//     ended meeting's code is still recognized for a week (to answer "已经结束");
//   - a meeting created with its start already past is back-entered (补录): it gets no code and no QR
//     code, and only the console records its attendance; one that has started but not ended cannot
//     be entered at all (its check-ins would be lost);
//   - the expected attendees default to the org's active members (not its subtree's);
//   - attachments (minutes, photos) are JPEG, PNG, WebP, PDF or .docx, at most 5 MB each and 30 per
//     meeting, kept in the database (Yanzhen has no data directory);
//   - frequencies (frequency.go) apply to branches, the orgs at village level and below.
package meetings

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The check-in window and lateness.
const (
	CheckInOpensBefore = 30 * time.Minute // members may check in this long before the start
	LateAfter          = 10 * time.Minute // a check-in later than start + LateAfter is late
)

// Limits of a meeting.
const (
	MaxDuration   = 12 * time.Hour
	MaxAhead      = 366 * 24 * time.Hour // a meeting may be planned up to a year ahead
	MaxBack       = 2 * 366 * 24 * time.Hour
	MaxAttendees  = 2000
	maxTitleRunes = 100
	maxPlaceRunes = 100
	maxNoteRunes  = 200
)

// QRCreator makes a temporary WeChat QR code for a scene (bot/wechat/wxapi.Client).
type QRCreator interface {
	CreateQRScene(ctx context.Context, scene string, expire time.Duration) (ticket, url string, err error)
}

// Options are what the meetings part needs.
type Options struct {
	DB       *gorm.DB
	Redis    redis.UniversalClient // caches the meetings' QR urls; nil: none
	Log      *slog.Logger
	Now      func() time.Time
	Location *time.Location
	QR       QRCreator        // nil: pages show the code only
	Console  *console.Service // nil: no console pages (chat and mini-program only)
}

// Service is the meetings capability.
type Service struct {
	db  *gorm.DB
	rdb redis.UniversalClient
	log *slog.Logger
	now func() time.Time
	loc *time.Location
	qr  QRCreator
	con *console.Service
}

// New makes the service; with a console it also puts 会议 in the console's menu.
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
	s := &Service{db: o.DB, rdb: o.Redis, log: o.Log, now: o.Now, loc: o.Location, qr: o.QR, con: o.Console}
	if s.con != nil {
		s.con.AddNav(console.NavItem{Key: "meetings", Label: "会议", Href: "/console/meetings", Order: 45})
	}
	return s
}

// ErrNotFound: no such meeting (or not in the viewer's scope).
var ErrNotFound = scope.ErrNotFound

// Input is a new meeting as a secretary describes it.
type Input struct {
	OrgID     uint
	Type      string
	Title     string
	Place     string
	StartAt   time.Time
	EndAt     time.Time
	MemberIDs []uint // nil: every active member of the org
}

// MeetingRow is a meeting with its org and attendance counts, as lists show it.
type MeetingRow struct {
	models.Meeting
	OrgPath  string
	Expected int // attendees
	Present  int // present + late
	Late     int
	Excused  int
}

// Absent is how many expected attendees did not come (or have not come yet, before the end).
func (r *MeetingRow) Absent() int { return r.Expected - r.Present - r.Excused }

// Unit is the org's name as members read it: the path without the county ("花溪镇郭沟村").
func (r *MeetingRow) Unit() string { return unitName(r.OrgPath) }

// unitName drops the county from an org path and joins the rest: "洪雅县/花溪镇/郭沟村" → "花溪镇郭沟村".
func unitName(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 1 {
		parts = parts[1:]
	}
	return strings.Join(parts, "")
}

// Phase is where a meeting stands at t.
type Phase string

// Phases of a meeting.
const (
	PhaseUpcoming Phase = "upcoming" // check-in not open yet
	PhaseOpen     Phase = "open"     // check-in open
	PhaseEnded    Phase = "ended"
)

// PhaseAt is the meeting's phase at t.
func PhaseAt(m *models.Meeting, t time.Time) Phase {
	switch {
	case t.Before(m.StartAt.Add(-CheckInOpensBefore)):
		return PhaseUpcoming
	case t.Before(m.EndAt):
		return PhaseOpen
	}
	return PhaseEnded
}

// OpensAt is when check-in opens.
func OpensAt(m *models.Meeting) time.Time { return m.StartAt.Add(-CheckInOpensBefore) }

// statusAt is the attendance status as people read it at t: an attendee still expected after the
// end is absent.
func statusAt(m *models.Meeting, status string, t time.Time) string {
	if status == models.MeetingExpected && !t.Before(m.EndAt) {
		return models.MeetingAbsent
	}
	return status
}

// StatusNames are the attendance statuses in Chinese.
var StatusNames = map[string]string{
	models.MeetingExpected: "未到",
	models.MeetingPresent:  "出席",
	models.MeetingLate:     "迟到",
	models.MeetingExcused:  "请假",
	models.MeetingAbsent:   "缺席",
}

// SourceNames are the ways of recording attendance in Chinese.
var SourceNames = map[string]string{
	models.MeetingSourceCode:      "签到码",
	models.MeetingSourceQR:        "扫码",
	models.MeetingSourceMP:        "小程序",
	models.MeetingSourceSecretary: "书记登记",
}

// validate checks a new meeting's fields (not its org or attendees) against the clock.
func (s *Service) validate(in *Input) error {
	in.Title, in.Place = strings.TrimSpace(in.Title), strings.TrimSpace(in.Place)
	now := s.now()
	switch {
	case !models.ValidMeetingType(in.Type):
		return console.Invalid("type", "请选择会议类型：%s", strings.Join(models.MeetingTypes, "、"))
	case utf8.RuneCountInString(in.Title) > maxTitleRunes:
		return console.Invalid("title", "会议主题最多 %d 个字", maxTitleRunes)
	case in.Place == "":
		return console.Invalid("place", "请填写会议地点")
	case utf8.RuneCountInString(in.Place) > maxPlaceRunes:
		return console.Invalid("place", "会议地点最多 %d 个字", maxPlaceRunes)
	case in.StartAt.IsZero():
		return console.Invalid("start_at", "请填写开始时间")
	case in.EndAt.IsZero():
		return console.Invalid("end_at", "请填写结束时间")
	case !in.EndAt.After(in.StartAt):
		return console.Invalid("end_at", "结束时间应晚于开始时间")
	case in.EndAt.Sub(in.StartAt) > MaxDuration:
		return console.Invalid("end_at", "一次会议最长 %d 小时", int(MaxDuration.Hours()))
	case in.StartAt.After(now.Add(MaxAhead)):
		return console.Invalid("start_at", "最多提前一年安排会议")
	case in.StartAt.Before(now.Add(-MaxBack)):
		return console.Invalid("start_at", "只能补录两年内的会议")
	case in.StartAt.Before(now) && in.EndAt.After(now):
		// Back-entered meetings have no check-in, so one still running would lose its members'
		// check-ins: enter it when it is over, or with a start not yet past.
		return console.Invalid("start_at", "会议已经开始但还没结束：请在会议结束后补录，或把开始时间设在现在之后")
	}
	return nil
}

// Create makes a meeting for an org in the viewer's scope (403 outside it) with its expected
// attendees (the org's active members by default), and records it in the audit log.
func (s *Service) Create(ctx context.Context, v *console.Viewer, in Input) (*models.Meeting, error) {
	if err := s.validate(&in); err != nil {
		return nil, err
	}
	if in.OrgID == 0 {
		return nil, console.Invalid("org_id", "请选择组织")
	}
	var m *models.Meeting
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var org models.Org
		if err := tx.Take(&org, in.OrgID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return console.Invalid("org_id", "没有这个组织")
			}
			return fmt.Errorf("meetings: org %d: %w", in.OrgID, err)
		}
		if err := v.Scope.Check(org.Path); err != nil {
			return err
		}
		ids, err := s.attendeeIDs(tx, v, org.ID, in.MemberIDs)
		if err != nil {
			return err
		}
		now := s.now().UTC() // SQLite compares times as text: always UTC
		m = &models.Meeting{OrgID: org.ID, Type: in.Type, Title: in.Title, Place: in.Place, StartAt: in.StartAt.UTC(),
			EndAt: in.EndAt.UTC(), BackEntered: in.StartAt.Before(now), CreatedBy: v.Username}
		if !m.BackEntered {
			if m.Code, err = newCode(tx, now); err != nil {
				return err
			}
		}
		if err := tx.Create(m).Error; err != nil {
			return fmt.Errorf("meetings: create: %w", err)
		}
		as := make([]models.MeetingAttendee, len(ids))
		for i, id := range ids {
			as[i] = models.MeetingAttendee{MeetingID: m.ID, MemberID: id, Status: models.MeetingExpected}
		}
		if len(as) > 0 {
			if err := tx.CreateInBatches(as, 500).Error; err != nil {
				return fmt.Errorf("meetings: attendees of %d: %w", m.ID, err)
			}
		}
		summary := fmt.Sprintf("新建会议：%s %s（%s），应到 %d 人", unitName(org.Path), m.Type, s.when(m.StartAt), len(ids))
		if m.BackEntered {
			summary += "（补录）"
		}
		return s.con.Record(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: "meeting", ObjectID: m.ID,
			OrgPath: org.Path, Summary: summary, After: auditOf(m, len(ids))})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

type meetingAudit struct {
	Type        string    `json:"type"`
	Title       string    `json:"title,omitempty"`
	Place       string    `json:"place"`
	StartAt     time.Time `json:"start_at"`
	EndAt       time.Time `json:"end_at"`
	BackEntered bool      `json:"back_entered"`
	Expected    int       `json:"expected"`
}

func auditOf(m *models.Meeting, expected int) meetingAudit {
	return meetingAudit{Type: m.Type, Title: m.Title, Place: m.Place, StartAt: m.StartAt, EndAt: m.EndAt,
		BackEntered: m.BackEntered, Expected: expected}
}

// attendeeIDs are the expected attendees: the given members (each active and in the viewer's scope)
// or, with none given, every active member of the org.
func (s *Service) attendeeIDs(tx *gorm.DB, v *console.Viewer, orgID uint, given []uint) ([]uint, error) {
	var ids []uint
	if given == nil {
		if err := tx.Model(&models.Member{}).Where("org_id = ? AND active = ?", orgID, true).Order("id").Pluck("id", &ids).Error; err != nil {
			return nil, fmt.Errorf("meetings: members of org %d: %w", orgID, err)
		}
		if len(ids) == 0 {
			return nil, console.Invalid("org_id", "这个组织还没有在册人员，请先在花名册里添加")
		}
		return ids, nil
	}
	seen := map[uint]bool{}
	for _, id := range given {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, console.Invalid("member_ids", "请至少选择一名参会人员")
	}
	if len(ids) > MaxAttendees {
		return nil, console.Invalid("member_ids", "参会人员最多 %d 人", MaxAttendees)
	}
	var n int64
	if err := tx.Model(&models.Member{}).Scopes(v.Scope.Members).Where("members.id IN ? AND members.active = ?", ids, true).
		Count(&n).Error; err != nil {
		return nil, fmt.Errorf("meetings: check attendees: %w", err)
	}
	if int(n) != len(ids) {
		return nil, console.Invalid("member_ids", "参会人员中有不在你管理范围内或已停用的人员")
	}
	return ids, nil
}

// newCode is a 6-digit code no meeting that has not ended uses. Two meetings made at the same moment
// could still draw the same code (1 in 900,000 per pair); check-in then picks the meeting that
// expects the member.
func newCode(tx *gorm.DB, now time.Time) (string, error) {
	for range 50 {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return "", fmt.Errorf("meetings: random code: %w", err)
		}
		code := fmt.Sprintf("%06d", 100000+n.Int64()) // no leading zero: spreadsheets and people drop it
		var used int64
		if err := tx.Model(&models.Meeting{}).Where("code = ? AND end_at > ?", code, now).Count(&used).Error; err != nil {
			return "", fmt.Errorf("meetings: check code: %w", err)
		}
		if used == 0 {
			return code, nil
		}
	}
	return "", errors.New("meetings: no free meeting code after 50 tries")
}

// when is a meeting's start as chat texts give it: "11月21日 14:30".
func (s *Service) when(t time.Time) string {
	t = t.In(s.loc)
	return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), t.Format("15:04"))
}

// Filter selects meetings of a list.
type Filter struct {
	OrgID uint      // its subtree
	Type  string    // "" = any
	From  time.Time // start at or after (zero: any)
	To    time.Time // start before (zero: any)
}

// List is the meetings in the viewer's scope matching f, newest first, with their counts.
func (s *Service) List(ctx context.Context, sc scope.Scope, f Filter, offset, limit int) ([]MeetingRow, int64, error) {
	q := s.db.WithContext(ctx).Model(&models.Meeting{}).Scopes(sc.ByOrg("meetings.org_id"))
	if f.OrgID != 0 {
		var org models.Org
		if err := s.db.WithContext(ctx).Take(&org, f.OrgID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, 0, scope.ErrNotFound
			}
			return nil, 0, fmt.Errorf("meetings: org %d: %w", f.OrgID, err)
		}
		if !sc.Contains(org.Path) {
			return nil, 0, scope.ErrForbidden
		}
		q = q.Scopes(scope.Under(org.ID, org.Path).ByOrg("meetings.org_id"))
	}
	if f.Type != "" {
		q = q.Where("meetings.type = ?", f.Type)
	}
	if !f.From.IsZero() {
		q = q.Where("meetings.start_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("meetings.start_at < ?", f.To.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("meetings: count: %w", err)
	}
	var ms []models.Meeting
	q = q.Order("meetings.start_at DESC, meetings.id DESC").Offset(offset)
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&ms).Error; err != nil {
		return nil, 0, fmt.Errorf("meetings: list: %w", err)
	}
	rows, err := s.rows(ctx, ms)
	return rows, total, err
}

// rows adds the org paths and attendance counts to meetings.
func (s *Service) rows(ctx context.Context, ms []models.Meeting) ([]MeetingRow, error) {
	rows := make([]MeetingRow, len(ms))
	if len(ms) == 0 {
		return rows, nil
	}
	ids := make([]uint, len(ms))
	orgIDs := make([]uint, 0, len(ms))
	for i := range ms {
		ids[i] = ms[i].ID
		orgIDs = append(orgIDs, ms[i].OrgID)
	}
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Select("id", "path").Where("id IN ?", orgIDs).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("meetings: orgs: %w", err)
	}
	paths := make(map[uint]string, len(orgs))
	for _, o := range orgs {
		paths[o.ID] = o.Path
	}
	var counts []struct {
		MeetingID uint
		Status    string
		N         int
	}
	if err := s.db.WithContext(ctx).Model(&models.MeetingAttendee{}).Select("meeting_id, status, COUNT(*) AS n").
		Where("meeting_id IN ?", ids).Group("meeting_id, status").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("meetings: counts: %w", err)
	}
	byID := make(map[uint]*MeetingRow, len(ms))
	for i := range ms {
		rows[i] = MeetingRow{Meeting: ms[i], OrgPath: paths[ms[i].OrgID]}
		byID[ms[i].ID] = &rows[i]
	}
	for _, c := range counts {
		r := byID[c.MeetingID]
		r.Expected += c.N
		switch c.Status {
		case models.MeetingPresent:
			r.Present += c.N
		case models.MeetingLate:
			r.Present += c.N
			r.Late += c.N
		case models.MeetingExcused:
			r.Excused += c.N
		}
	}
	return rows, nil
}

// Get is one meeting in the viewer's scope (ErrNotFound otherwise) with its counts.
func (s *Service) Get(ctx context.Context, sc scope.Scope, id uint) (*MeetingRow, error) {
	var m models.Meeting
	err := s.db.WithContext(ctx).Scopes(sc.ByOrg("meetings.org_id")).Take(&m, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meetings: get %d: %w", id, err)
	}
	rows, err := s.rows(ctx, []models.Meeting{m})
	if err != nil {
		return nil, err
	}
	return &rows[0], nil
}

// AttendeeRow is one expected attendee with his attendance as people read it.
type AttendeeRow struct {
	models.MeetingAttendee
	Name    string
	Role    string
	OrgPath string
	Shown   string // the status at the time of the request (expected → absent after the end)
}

// StatusName is the status in Chinese.
func (a *AttendeeRow) StatusName() string { return StatusNames[a.Shown] }

// SourceName is how it was recorded, in Chinese.
func (a *AttendeeRow) SourceName() string { return SourceNames[a.Source] }

// Attendees is the attendance of a meeting (already scope-checked): checked-in first by time, then
// the others by name.
func (s *Service) Attendees(ctx context.Context, m *models.Meeting) ([]AttendeeRow, error) {
	var rows []AttendeeRow
	err := s.db.WithContext(ctx).Table("meeting_attendees").
		Select("meeting_attendees.*, members.name AS name, members.role AS role, orgs.path AS org_path").
		Joins("JOIN members ON members.id = meeting_attendees.member_id").
		Joins("JOIN orgs ON orgs.id = members.org_id").
		Where("meeting_attendees.meeting_id = ?", m.ID).
		Order("CASE WHEN meeting_attendees.at IS NULL THEN 1 ELSE 0 END, meeting_attendees.at, members.name, members.id").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("meetings: attendees of %d: %w", m.ID, err)
	}
	now := s.now()
	for i := range rows {
		rows[i].Shown = statusAt(m, rows[i].Status, now)
	}
	return rows, nil
}

// Mark records a member's attendance by the console: excused (with a reason), or, for a meeting
// that has started, present, late or absent; "expected" undoes a mark. Members check in themselves
// except at back-entered meetings, where only the console records attendance.
func (s *Service) Mark(ctx context.Context, v *console.Viewer, meetingID, memberID uint, status, note string) error {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxNoteRunes {
		return console.Invalid("note", "备注最多 %d 个字", maxNoteRunes)
	}
	if _, ok := StatusNames[status]; !ok {
		return console.Invalid("status", "请选择出席、迟到、请假或缺席")
	}
	row, err := s.Get(ctx, v.Scope, meetingID)
	if err != nil {
		return err
	}
	m := &row.Meeting
	now := s.now()
	switch status {
	case models.MeetingPresent, models.MeetingLate, models.MeetingAbsent:
		if now.Before(m.StartAt) {
			return console.Invalid("status", "会议还没开始，只能先登记请假")
		}
	case models.MeetingExcused:
		if note == "" {
			return console.Invalid("note", "请填写请假事由")
		}
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a models.MeetingAttendee
		err := tx.Where("meeting_id = ? AND member_id = ?", m.ID, memberID).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return console.Invalid("member_id", "这个人不在本次会议的参会名单里")
		}
		if err != nil {
			return fmt.Errorf("meetings: attendee %d of %d: %w", memberID, m.ID, err)
		}
		before := a
		a.Status, a.Note, a.MarkedBy, a.Source = status, note, v.Username, models.MeetingSourceSecretary
		if status != models.MeetingPresent && status != models.MeetingLate {
			a.At = nil // a check-in time stays with a present or late mark; the secretary's own has none
		}
		if status == models.MeetingExpected {
			a.Source, a.MarkedBy = "", ""
		}
		if err := tx.Model(&a).Select("status", "at", "source", "note", "marked_by", "updated_at").Updates(&a).Error; err != nil {
			return fmt.Errorf("meetings: mark %d of %d: %w", memberID, m.ID, err)
		}
		var name string
		tx.Model(&models.Member{}).Where("id = ?", memberID).Pluck("name", &name)
		return s.con.Record(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "meeting_attendance", ObjectID: m.ID,
			OrgPath: row.OrgPath, Summary: fmt.Sprintf("会议考勤：%s %s（%s）%s 记为%s", row.Unit(), m.Type, s.when(m.StartAt), name, StatusNames[status]),
			Before: map[string]any{"member_id": memberID, "status": before.Status, "note": before.Note},
			After:  map[string]any{"member_id": memberID, "status": a.Status, "note": a.Note}})
	})
}
