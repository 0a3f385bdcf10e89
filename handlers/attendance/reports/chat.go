package reports

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Register adds 考勤 to the bot: a village secretary gets his village's attendance today, anyone else
// his own attendance this week.
func (s *Service) Register(r *bot.Router) {
	r.Handle("考勤", s.handleAttendance, bot.Help(215, "考勤 — 考勤情况（书记看本村今日，其他人看本人本周）"))
}

func (s *Service) handleAttendance(ctx context.Context, c *bot.Context) error {
	if c.Member.Role == models.RoleSecretary {
		t, err := s.VillageToday(ctx, c.Member.OrgID)
		if err != nil {
			return err
		}
		return c.Text(t.Text())
	}
	w, err := s.MemberWeek(ctx, c.Member.ID)
	if err != nil {
		return err
	}
	return c.Text(w.Text())
}

// maxNames bounds the names a chat line lists (a phone screen).
const maxNames = 10

// names lists names as a chat line does: "李四、王五", "…等 12 人".
func names(ns []string) string {
	if len(ns) <= maxNames {
		return strings.Join(ns, "、")
	}
	return strings.Join(ns[:maxNames], "、") + fmt.Sprintf(" 等 %d 人", len(ns))
}

// Today is a village's attendance today, from the live check-ins (the daily status of today is
// computed tonight): who is expected (the active members of the village), who checked in, who is on
// approved leave, who has not come.
type Today struct {
	Org       OrgRef
	Day       string
	Expected  int
	In        int      // checked in (on leave or not)
	Late      int      // of them late, when LateKnown
	LateKnown bool     // the duty rules could tell
	Leave     []string // on approved leave, not checked in
	Missing   []string // neither
}

// Text is the summary as the chat shows it.
func (t *Today) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s 今日考勤（%s）\n应到 %d 人，已签到 %d 人", t.Org.Name, shortDay(t.Day), t.Expected, t.In)
	if t.LateKnown && t.Late > 0 {
		fmt.Fprintf(&b, "（迟到 %d）", t.Late)
	}
	if len(t.Leave) > 0 {
		fmt.Fprintf(&b, "\n请假 %d 人：%s", len(t.Leave), names(t.Leave))
	}
	switch {
	case t.Expected == 0:
		b.WriteString("\n本村花名册上还没有人。")
	case len(t.Missing) > 0:
		fmt.Fprintf(&b, "\n未签到 %d 人：%s", len(t.Missing), names(t.Missing))
	default:
		b.WriteString("\n应到的人都已签到 👍")
	}
	return b.String()
}

// rosterMember is an active member as the today-summary needs him.
type rosterMember struct {
	ID    uint
	Name  string
	OrgID uint
}

// VillageToday is today's attendance of the org with this id (a village: its members and those of the
// orgs under it).
func (s *Service) VillageToday(ctx context.Context, orgID uint) (*Today, error) {
	org, err := s.scopedOrg(ctx, scope.Everything(), orgID)
	if err != nil {
		return nil, err
	}
	day := s.Today()
	db := s.db.WithContext(ctx)
	var ms []rosterMember
	if err := db.Table("members").Scopes(scope.Under(org.ID, org.Path).Members).Select("members.id, members.name, members.org_id").
		Where("members.active = ?", true).Order("members.id").Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("reports: members of %s: %w", org.Path, err)
	}
	t := &Today{Org: *org, Day: day, Expected: len(ms), LateKnown: s.lateIn != nil}
	if len(ms) == 0 {
		return t, nil
	}
	ids := make([]uint, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	firstIn, err := s.firstCheckIns(ctx, ids, day)
	if err != nil {
		return nil, err
	}
	onLeave, err := s.onLeave(ctx, ids, day)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		at, in := firstIn[m.ID]
		switch {
		case in:
			t.In++
			if s.lateIn != nil {
				late, err := s.lateIn(ctx, m.OrgID, day, at)
				if err != nil {
					return nil, err
				}
				if late {
					t.Late++
				}
			}
		case onLeave[m.ID]:
			t.Leave = append(t.Leave, m.Name)
		default:
			t.Missing = append(t.Missing, m.Name)
		}
	}
	return t, nil
}

// firstCheckIns are the members' first counted check-in (kind in, status ok) of day, by member.
func (s *Service) firstCheckIns(ctx context.Context, ids []uint, day string) (map[uint]time.Time, error) {
	var rows []struct {
		MemberID uint
		At       time.Time
	}
	if err := s.db.WithContext(ctx).Model(&models.CheckIn{}).Select("member_id, at").
		Where("member_id IN ? AND day = ? AND kind = ? AND status = ?", ids, day, models.CheckKindIn, models.CheckOK).
		Order("at").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("reports: check-ins of %s: %w", day, err)
	}
	out := make(map[uint]time.Time, len(rows))
	for _, r := range rows {
		if _, ok := out[r.MemberID]; !ok {
			out[r.MemberID] = r.At
		}
	}
	return out, nil
}

// onLeave are the members with approved leave covering day.
func (s *Service) onLeave(ctx context.Context, ids []uint, day string) (map[uint]bool, error) {
	var rows []uint
	if err := s.db.WithContext(ctx).Model(&models.AttendRequest{}).Distinct("member_id").
		Where("member_id IN ? AND kind = ? AND state = ?", ids, models.RequestLeave, models.RequestApproved).
		Where(clause.Lte{Column: clause.Column{Table: "attend_requests", Name: "from"}, Value: day}).
		Where(clause.Gte{Column: clause.Column{Table: "attend_requests", Name: "to"}, Value: day}).
		Pluck("member_id", &rows).Error; err != nil {
		return nil, fmt.Errorf("reports: leave on %s: %w", day, err)
	}
	out := make(map[uint]bool, len(rows))
	for _, id := range rows {
		out[id] = true
	}
	return out, nil
}

// Week is a member's own attendance this week: the computed days from Monday to yesterday, and today
// live.
type Week struct {
	Period  Period // Monday to today
	Counts         // Monday to yesterday
	Days    int    // days computed
	InAt    *time.Time
	OutAt   *time.Time
	OnLeave bool // approved leave covers today
	loc     *time.Location
}

// Text is the week as the chat shows it.
func (w *Week) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "你本周的考勤（%s）", w.Period.Short())
	if w.Days > 0 {
		fmt.Fprintf(&b, "\n出勤 %d 天", w.Attended())
		if w.LateDays > 0 || w.EarlyDays > 0 {
			var parts []string
			if w.LateDays > 0 {
				parts = append(parts, fmt.Sprintf("迟到 %d 天", w.LateDays))
			}
			if w.EarlyDays > 0 {
				parts = append(parts, fmt.Sprintf("早退 %d 天", w.EarlyDays))
			}
			fmt.Fprintf(&b, "（%s）", strings.Join(parts, "，"))
		}
		fmt.Fprintf(&b, "，请假 %d 天，缺勤 %d 天", w.Leave, w.Absent)
		if w.Offsite > 0 {
			fmt.Fprintf(&b, "，其中外勤 %d 天", w.Offsite)
		}
	}
	b.WriteString("\n今天：")
	hm := func(t *time.Time) string { return t.In(w.loc).Format("15:04") }
	switch {
	case w.InAt != nil && w.OutAt != nil:
		fmt.Fprintf(&b, "%s 已签到，%s 已签退", hm(w.InAt), hm(w.OutAt))
	case w.InAt != nil:
		fmt.Fprintf(&b, "%s 已签到，还未签退", hm(w.InAt))
	case w.OnLeave:
		b.WriteString("请假")
	default:
		b.WriteString("还未签到，发送「签到」打卡")
	}
	return b.String()
}

// MemberWeek is the member's attendance this week.
func (s *Service) MemberWeek(ctx context.Context, memberID uint) (*Week, error) {
	today := s.Today()
	p := PeriodOf(PeriodWeek, today)
	p.To = today
	w := &Week{Period: p, loc: s.loc}
	db := s.db.WithContext(ctx)
	var rows []models.AttendanceDay
	if err := db.Model(&models.AttendanceDay{}).Select("day, status, late, early, flagged").
		Where("member_id = ? AND day >= ? AND day < ?", memberID, p.From, today).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reports: week of member %d: %w", memberID, err)
	}
	for i := range rows {
		w.Counts.add(dayCounts(&rows[i]))
	}
	w.Days = len(rows)
	var ins []models.CheckIn
	if err := db.Model(&models.CheckIn{}).Select("kind, at").
		Where("member_id = ? AND day = ? AND status = ?", memberID, today, models.CheckOK).Order("at").Find(&ins).Error; err != nil {
		return nil, fmt.Errorf("reports: today's check-ins of member %d: %w", memberID, err)
	}
	for i := range ins {
		at := ins[i].At
		switch ins[i].Kind {
		case models.CheckKindIn:
			if w.InAt == nil {
				w.InAt = &at
			}
		case models.CheckKindOut:
			w.OutAt = &at // the last one counts
		}
	}
	leave, err := s.onLeave(ctx, []uint{memberID}, today)
	if err != nil {
		return nil, err
	}
	w.OnLeave = leave[memberID]
	return w, nil
}
