package meetings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// Outcome is how a member's check-in went. Only OutcomeOK changed anything.
type Outcome string

// Outcomes of a check-in.
const (
	OutcomeOK          Outcome = "ok"
	OutcomeTwice       Outcome = "already_checked_in"
	OutcomeEarly       Outcome = "not_open"     // the window has not opened yet
	OutcomeEnded       Outcome = "ended"        // the meeting is over
	OutcomeNotExpected Outcome = "not_expected" // not on the meeting's list
	OutcomeBackEntered Outcome = "back_entered" // a 补录 meeting: the secretary records attendance
	OutcomeNoMeeting   Outcome = "no_meeting"   // no meeting with that code (or id)
	OutcomeBadCode     Outcome = "bad_code"     // not 6 digits
	OutcomeWrongCode   Outcome = "wrong_code"   // the mini-program sent a code that is not this meeting's
)

// Result is a check-in's outcome with what its reply needs.
type Result struct {
	Outcome Outcome
	Meeting *models.Meeting
	OrgPath string
	At      *time.Time // this check-in; for OutcomeTwice the earlier one (nil when the secretary marked him)
	Late    bool
	Rank    int // he is the Rank-th to arrive
	Code    string
}

// codeRecall: an ended meeting's code is still recognized this long (to answer "已经结束" rather than
// "没有这个会议"), unless a newer meeting took it.
const codeRecall = 7 * 24 * time.Hour

// NormalizeCode reads a check-in code as people type it ("482 913", "４８２９１３"): the digits, if
// there are exactly 6 and nothing else.
func NormalizeCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == ' ' || r == '\u3000' || r == '-':
		default:
			return "", false
		}
	}
	if b.Len() != 6 {
		return "", false
	}
	return b.String(), true
}

// CheckInByCode checks the member in to the meeting with this code: the one whose check-in is open
// (preferring one that expects him, should two share the code), else the next upcoming one, else the
// latest that ended.
func (s *Service) CheckInByCode(ctx context.Context, memberID uint, code, source string) (*Result, error) {
	code, ok := NormalizeCode(code)
	if !ok {
		return &Result{Outcome: OutcomeBadCode}, nil
	}
	now := s.now().UTC() // SQLite compares times as text: always UTC
	var ms []models.Meeting
	if err := s.db.WithContext(ctx).Where("code = ? AND end_at > ?", code, now.Add(-codeRecall)).
		Order("start_at").Limit(20).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("meetings: meetings with code: %w", err)
	}
	var open, upcoming, ended []*models.Meeting
	for i := range ms {
		switch PhaseAt(&ms[i], now) {
		case PhaseOpen:
			open = append(open, &ms[i])
		case PhaseUpcoming:
			upcoming = append(upcoming, &ms[i])
		default:
			ended = append(ended, &ms[i])
		}
	}
	var m *models.Meeting
	switch {
	case len(open) == 1:
		m = open[0]
	case len(open) > 1:
		m = open[0]
		for _, o := range open {
			var n int64
			if err := s.db.WithContext(ctx).Model(&models.MeetingAttendee{}).Where("meeting_id = ? AND member_id = ?", o.ID, memberID).
				Count(&n).Error; err != nil {
				return nil, fmt.Errorf("meetings: attendee: %w", err)
			}
			if n > 0 {
				m = o
				break
			}
		}
	case len(upcoming) > 0:
		m = upcoming[0]
	case len(ended) > 0:
		m = ended[len(ended)-1]
	default:
		return &Result{Outcome: OutcomeNoMeeting, Code: code}, nil
	}
	return s.checkIn(ctx, m, memberID, source)
}

// CheckInMeeting checks the member in to meeting id (a QR scan: the code is in the QR code). With a
// code (the mini-program), it must be the meeting's.
func (s *Service) CheckInMeeting(ctx context.Context, memberID, id uint, code *string, source string) (*Result, error) {
	var m models.Meeting
	err := s.db.WithContext(ctx).Take(&m, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &Result{Outcome: OutcomeNoMeeting}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("meetings: meeting %d: %w", id, err)
	}
	if code != nil && !m.BackEntered {
		c, ok := NormalizeCode(*code)
		if !ok {
			return &Result{Outcome: OutcomeBadCode, Meeting: &m}, nil
		}
		if c != m.Code {
			return &Result{Outcome: OutcomeWrongCode, Meeting: &m}, nil
		}
	}
	return s.checkIn(ctx, &m, memberID, source)
}

// checkIn records the member's arrival at m if he is expected and the window is open.
func (s *Service) checkIn(ctx context.Context, m *models.Meeting, memberID uint, source string) (*Result, error) {
	db := s.db.WithContext(ctx)
	r := &Result{Meeting: m, Code: m.Code}
	if err := db.Model(&models.Org{}).Where("id = ?", m.OrgID).Pluck("path", &r.OrgPath).Error; err != nil {
		return nil, fmt.Errorf("meetings: org of %d: %w", m.ID, err)
	}
	if m.BackEntered {
		r.Outcome = OutcomeBackEntered
		return r, nil
	}
	var a models.MeetingAttendee
	err := db.Where("meeting_id = ? AND member_id = ?", m.ID, memberID).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		r.Outcome = OutcomeNotExpected
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("meetings: attendee %d of %d: %w", memberID, m.ID, err)
	}
	if a.Status == models.MeetingPresent || a.Status == models.MeetingLate {
		r.Outcome, r.At, r.Late = OutcomeTwice, a.At, a.Status == models.MeetingLate
		return r, nil
	}
	now := s.now()
	switch PhaseAt(m, now) {
	case PhaseUpcoming:
		r.Outcome = OutcomeEarly
		return r, nil
	case PhaseEnded:
		r.Outcome = OutcomeEnded
		return r, nil
	}
	status := models.MeetingPresent
	if now.After(m.StartAt.Add(LateAfter)) {
		status = models.MeetingLate
	}
	at := now.UTC()
	// Only a member not yet checked in changes: two deliveries at once (the chat and the mini-program)
	// record one arrival.
	res := db.Model(&models.MeetingAttendee{}).
		Where("id = ? AND status NOT IN ?", a.ID, []string{models.MeetingPresent, models.MeetingLate}).
		Updates(map[string]any{"status": status, "at": at, "source": source, "note": "", "marked_by": "", "updated_at": at})
	if res.Error != nil {
		return nil, fmt.Errorf("meetings: check in %d at %d: %w", memberID, m.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		if err := db.Take(&a, a.ID).Error; err != nil {
			return nil, fmt.Errorf("meetings: attendee %d: %w", a.ID, err)
		}
		r.Outcome, r.At, r.Late = OutcomeTwice, a.At, a.Status == models.MeetingLate
		return r, nil
	}
	// Everyone there so far, himself included (two arriving at once may both count each other).
	var rank int64
	if err := db.Model(&models.MeetingAttendee{}).
		Where("meeting_id = ? AND status IN ?", m.ID, []string{models.MeetingPresent, models.MeetingLate}).
		Count(&rank).Error; err != nil {
		return nil, fmt.Errorf("meetings: rank at %d: %w", m.ID, err)
	}
	r.Outcome, r.At, r.Late, r.Rank = OutcomeOK, &at, status == models.MeetingLate, int(rank)
	return r, nil
}

// Text is the reply to a check-in, for the chat and the mini-program alike.
func (s *Service) Text(r *Result) string {
	switch r.Outcome {
	case OutcomeOK:
		t := fmt.Sprintf("签到成功：%s %s（%s），你是第 %d 位到场。", unitName(r.OrgPath), r.Meeting.Type, s.when(r.Meeting.StartAt), r.Rank)
		if r.Late {
			t += fmt.Sprintf("会议 %s 开始，本次记为迟到。", r.Meeting.StartAt.In(s.loc).Format("15:04"))
		}
		return t
	case OutcomeTwice:
		if r.At == nil {
			return "书记已经登记你出席了这次会议，不用再签到。"
		}
		return fmt.Sprintf("你已经签到过了（%s）。", r.At.In(s.loc).Format("15:04"))
	case OutcomeEarly:
		opens := OpensAt(r.Meeting).In(s.loc)
		if y, m, d := s.now().In(s.loc).Date(); y == opens.Year() && m == opens.Month() && d == opens.Day() {
			return fmt.Sprintf("会议签到还没开始（%s 开放）。", opens.Format("15:04"))
		}
		return fmt.Sprintf("会议签到还没开始（%s 开放）。", s.when(opens))
	case OutcomeEnded:
		return "这次会议已经结束，不能再签到了。如有疑问请联系书记。"
	case OutcomeNotExpected:
		return "你不在这次会议的参会名单里，如有疑问请联系书记。"
	case OutcomeBackEntered:
		return "这次会议是补录的，出席情况由书记登记，不用签到。"
	case OutcomeNoMeeting:
		if r.Code != "" {
			return fmt.Sprintf("没有找到签到码为 %s 的会议，请核对后再发。", r.Code)
		}
		return "没有找到这次会议，可能已被删除，请联系书记。"
	case OutcomeBadCode:
		return "会议签到码是 6 位数字，例如：签到 482913。"
	case OutcomeWrongCode:
		return "签到码不对，请核对会场公布的 6 位签到码。"
	}
	return "签到没有成功，请稍后再试。"
}
