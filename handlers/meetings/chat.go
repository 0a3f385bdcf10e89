package meetings

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// textUnbound answers a check-in of a user who has not bound his WeChat to the roster.
const textUnbound = "你还没有绑定党员花名册，绑定后才能签到。请发送「绑定 绑定码」（绑定码向村书记索取），再签到一次。"

// SceneMeeting is the QR scene prefix of a meeting's check-in QR code: "meet:ID".
const SceneMeeting = "meet"

// Register adds the meetings' chat routes. 「签到 CODE」 belongs to the duty check-in's 签到 keyword,
// which hands the code to CodeCheckIn (the server wires that hook).
func (s *Service) Register(r *bot.Router) {
	// Public: scanning is on purpose, so an unbound user is told how to bind, not answered `success`.
	r.Handle(bot.Scene(SceneMeeting), s.handleScene, bot.Public())
	r.Handle("会议", s.handleMine, bot.Help(210, "会议 — 我近期要参加的会议"))
}

// CodeCheckIn answers 「签到 CODE」: the member checks in to the meeting with that code.
func (s *Service) CodeCheckIn(ctx context.Context, c *bot.Context, code string) error {
	if c.Member == nil {
		return c.Text(textUnbound)
	}
	r, err := s.CheckInByCode(ctx, c.Member.ID, code, models.MeetingSourceCode)
	if err != nil {
		return err
	}
	return c.Text(s.Text(r))
}

// handleScene: a member scanned a meeting's QR code (scene meet:ID), as a follower (SCAN) or while
// following (subscribe).
func (s *Service) handleScene(ctx context.Context, c *bot.Context) error {
	if c.Member == nil {
		return c.Text(textUnbound)
	}
	id, err := strconv.ParseUint(c.Args, 10, 32)
	if err != nil || id == 0 {
		return c.Text(s.Text(&Result{Outcome: OutcomeNoMeeting}))
	}
	r, err := s.CheckInMeeting(ctx, c.Member.ID, uint(id), nil, models.MeetingSourceQR)
	if err != nil {
		return err
	}
	return c.Text(s.Text(r))
}

// maxMineListed: the chat lists at most this many upcoming meetings.
const maxMineListed = 5

// handleMine lists the member's meetings that have not ended.
func (s *Service) handleMine(ctx context.Context, c *bot.Context) error {
	ms, err := s.Upcoming(ctx, c.Member.ID, maxMineListed)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return c.Text("近期没有需要你参加的会议。")
	}
	var b strings.Builder
	b.WriteString("你近期要参加的会议：")
	for i := range ms {
		m := &ms[i]
		fmt.Fprintf(&b, "\n%d. %s %s %s，%s", i+1, s.when(m.StartAt), unitName(m.OrgPath), m.Type, m.Place)
		switch m.Status {
		case models.MeetingPresent, models.MeetingLate:
			b.WriteString("（已签到）")
		case models.MeetingExcused:
			b.WriteString("（已请假）")
		}
	}
	b.WriteString("\n到会场后发送「签到 签到码」或扫会场二维码签到。")
	return c.Text(b.String())
}

// MyMeeting is a meeting a member is expected at, with his attendance.
type MyMeeting struct {
	models.Meeting
	OrgPath string
	Status  string
	At      *time.Time
}

// Upcoming is the member's meetings that have not ended, soonest first (limit 0: all).
func (s *Service) Upcoming(ctx context.Context, memberID uint, limit int) ([]MyMeeting, error) {
	var rows []MyMeeting
	q := s.db.WithContext(ctx).Table("meetings").
		Select("meetings.*, orgs.path AS org_path, meeting_attendees.status AS status, meeting_attendees.at AS at").
		Joins("JOIN meeting_attendees ON meeting_attendees.meeting_id = meetings.id").
		Joins("JOIN orgs ON orgs.id = meetings.org_id").
		Where("meeting_attendees.member_id = ? AND meetings.end_at > ?", memberID, s.now().UTC()).
		Order("meetings.start_at, meetings.id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("meetings: upcoming of %d: %w", memberID, err)
	}
	return rows, nil
}
