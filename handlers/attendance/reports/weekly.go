package reports

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// The weekly summary: every Monday morning (the job "attendance.weekly" at 08:00; on other days it
// does nothing) last week's attendance goes to each bound village secretary (书记: his village, with
// the names of those absent) and each bound administrator member of a town or a county (管理员 on the
// roster at a town or the county: its villages or towns, weakest first). Console accounts have no
// WeChat, so the roster's 管理员 stand for the town administrators. A models.AttendanceDigest row is
// claimed per member and week before anything is sent, so nobody gets two, whatever the processes do.

// WeeklyJob is the job's name in the scheduler; WeeklyAt its time on Mondays.
const (
	WeeklyJob = "attendance.weekly"
	WeeklyAt  = "08:00"
)

// recipient is a member who gets a weekly summary.
type recipient struct {
	ID     uint
	Name   string
	Role   string
	OpenID string
	OrgID  uint
}

// WeeklyResult counts a weekly run.
type WeeklyResult struct {
	Sent, Claimed, Failed int // sent now; done before (or by another process); refused or unreachable
}

// Weekly sends last week's summaries when day (today, "2006-01-02") is a Monday; on other days it does
// nothing. Retryable failures release their claims and make the error, so that the scheduler runs it
// again later that day.
func (s *Service) Weekly(ctx context.Context, day string) error {
	_, err := s.SendWeekly(ctx, day)
	return err
}

// SendWeekly is Weekly with its counts.
func (s *Service) SendWeekly(ctx context.Context, day string) (WeeklyResult, error) {
	var res WeeklyResult
	t, err := time.Parse(dayLayout, day)
	if err != nil || t.Weekday() != time.Monday {
		return res, nil
	}
	if s.notify == nil {
		return res, errors.New("reports: weekly summary: no notifier configured")
	}
	week := PeriodOf(PeriodWeek, addDays(day, -7))
	rs, err := s.recipients(ctx)
	if err != nil || len(rs) == 0 {
		return res, err
	}
	sums, err := s.weekFigures(ctx, week)
	if err != nil {
		return res, err
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.OpenID
	}
	last, err := s.notify.LastSeen(ctx, ids)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, r := range rs {
		note, ok := sums.notice(r, week)
		if !ok {
			continue
		}
		switch err := s.tell(ctx, r, week.From, last[r.OpenID], note); {
		case errors.Is(err, errClaimed):
			res.Claimed++
		case errors.Is(err, errRefused):
			res.Failed++
		case err != nil:
			errs = append(errs, err)
		default:
			res.Sent++
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("reports: weekly summary: %d not sent, retrying later: %w", len(errs), errors.Join(errs...))
	}
	s.log.InfoContext(ctx, "reports: weekly summaries", "week", week.From, "sent", res.Sent, "before", res.Claimed, "failed", res.Failed)
	return res, nil
}

var (
	errClaimed = errors.New("reports: summary already sent")
	errRefused = errors.New("reports: summary refused")
)

// tell claims the member's summary of the week and sends it.
func (s *Service) tell(ctx context.Context, r recipient, week string, last time.Time, note notify.Notice) error {
	db := s.db.WithContext(ctx)
	claim := models.AttendanceDigest{MemberID: r.ID, Week: week, OrgID: r.OrgID, Status: models.DigestSending, Via: "",
		CreatedAt: s.now(), UpdatedAt: s.now()}
	res := db.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&claim)
	if res.Error != nil {
		return fmt.Errorf("reports: claim summary of member %d: %w", r.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return errClaimed
	}
	out, err := s.notify.TellSeen(ctx, r.OpenID, last, note)
	status := models.DigestSent
	switch {
	case err == nil:
	case notify.Permanent(err):
		status = models.DigestFailed
	case !notify.NotDelivered(err):
		status = models.DigestUnknown // it may have arrived: not sent twice
	default: // retryable: release the claim for the next run
		if derr := db.Where("id = ?", claim.ID).Delete(&models.AttendanceDigest{}).Error; derr != nil {
			return errors.Join(err, fmt.Errorf("reports: release summary claim: %w", derr))
		}
		return err
	}
	if uerr := db.Model(&models.AttendanceDigest{}).Where("id = ?", claim.ID).
		Updates(map[string]any{"status": status, "via": out.Via, "err_code": out.Code, "updated_at": s.now()}).Error; uerr != nil {
		s.log.WarnContext(ctx, "reports: summary outcome not recorded", "member", r.ID, "err", uerr)
	}
	if status != models.DigestSent {
		s.log.InfoContext(ctx, "reports: summary not delivered", "member", r.ID, "status", status, "code", out.Code, "err", err)
		return errRefused
	}
	return nil
}

// recipients are the bound, active secretaries of villages and administrators of towns and counties.
func (s *Service) recipients(ctx context.Context) ([]recipient, error) {
	var rs []recipient
	err := s.db.WithContext(ctx).Table("members").Select("members.id, members.name, members.role, members.oa_open_id AS open_id, members.org_id").
		Joins("JOIN orgs ON orgs.id = members.org_id").
		Where("members.active = ? AND members.oa_open_id IS NOT NULL", true).
		Where("members.role = ? OR (members.role = ? AND orgs.level < ?)", models.RoleSecretary, models.RoleAdmin, models.LevelVillage).
		Order("members.id").Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("reports: weekly recipients: %w", err)
	}
	return rs, nil
}

// weekSums are last week's figures of every org (its subtree), the absences of each member, and what
// is needed to name them.
type weekSums struct {
	orgs     map[uint]*models.Org
	children map[uint][]*models.Org
	sums     map[string]*Counts // by org path: the org's subtree
	absent   map[string][]absence
	ts       map[string]Thresholds
}

type absence struct {
	Name string
	Days int64
}

func (s *Service) weekFigures(ctx context.Context, week Period) (*weekSums, error) {
	db := s.db.WithContext(ctx)
	w := &weekSums{orgs: map[uint]*models.Org{}, children: map[uint][]*models.Org{}, sums: map[string]*Counts{}, absent: map[string][]absence{}}
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Select("id, parent_id, name, path, level").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("reports: orgs: %w", err)
	}
	counties := map[string]bool{}
	for i := range orgs {
		o := &orgs[i]
		w.orgs[o.ID] = o
		if o.ParentID != nil {
			w.children[*o.ParentID] = append(w.children[*o.ParentID], o)
		}
		counties[rootOf(o.Path)] = true
	}
	var err error
	if w.ts, err = s.thresholdsOf(ctx, keys(counties)); err != nil {
		return nil, err
	}
	err = s.customPlans(ctx, func(s *Service) error {
		db := s.db.WithContext(ctx)
		var rows []countsRow
		if err := db.Table("attendance_days").Where("attendance_days.day >= ? AND attendance_days.day <= ?", week.From, week.To).
			Select("attendance_days.org_path, " + aggregate).Group("attendance_days.org_path").Scan(&rows).Error; err != nil {
			return fmt.Errorf("reports: week figures: %w", err)
		}
		for _, r := range rows {
			for _, p := range ancestors(r.OrgPath) {
				c := w.sums[p]
				if c == nil {
					c = &Counts{}
					w.sums[p] = c
				}
				c.add(r.counts())
			}
		}
		var abs []struct {
			OrgPath string
			Name    string
			N       int64
		}
		if err := db.Table("attendance_days").Select("attendance_days.org_path, members.name, COUNT(*) AS n").
			Joins("JOIN members ON members.id = attendance_days.member_id").
			Where("attendance_days.day >= ? AND attendance_days.day <= ? AND attendance_days.status = ?", week.From, week.To, models.DayAbsent).
			Group("attendance_days.org_path, attendance_days.member_id, members.name").Scan(&abs).Error; err != nil {
			return fmt.Errorf("reports: week absences: %w", err)
		}
		for _, a := range abs {
			w.absent[a.OrgPath] = append(w.absent[a.OrgPath], absence{Name: a.Name, Days: a.N})
		}
		return nil
	})
	return w, err
}

// counts of the subtree at path.
func (w *weekSums) counts(path string) Counts {
	if c := w.sums[path]; c != nil {
		return *c
	}
	return Counts{}
}

// notice is the summary of r's org; false when there is nothing to say (an org without members' days).
func (w *weekSums) notice(r recipient, week Period) (notify.Notice, bool) {
	org := w.orgs[r.OrgID]
	if org == nil {
		return notify.Notice{}, false
	}
	t := thresholdsFor(w.ts, org.Path)
	c := w.counts(org.Path)
	if c.WorkDays() == 0 {
		return notify.Notice{}, false
	}
	status := "出勤率 " + c.RatePct() + "（" + StatusNames[t.Colour(c.Attended(), c.Expected())] + "）"
	var b strings.Builder
	fmt.Fprintf(&b, "%s 上周考勤（%s）\n%s\n应到 %d 人天，实到 %d", org.Name, week.Short(), status, c.Expected(), c.Attended())
	if c.LateDays > 0 || c.EarlyDays > 0 {
		fmt.Fprintf(&b, "（迟到 %d，早退 %d）", c.LateDays, c.EarlyDays)
	}
	fmt.Fprintf(&b, "，请假 %d，缺勤 %d", c.Leave, c.Absent)
	if org.Level >= models.LevelVillage || len(w.children[org.ID]) == 0 {
		var abs []absence
		for p, as := range w.absent {
			if scope.Under(org.ID, org.Path).Contains(p) {
				abs = append(abs, as...)
			}
		}
		sort.Slice(abs, func(i, j int) bool {
			if abs[i].Days != abs[j].Days {
				return abs[i].Days > abs[j].Days
			}
			return abs[i].Name < abs[j].Name
		})
		if len(abs) > 0 {
			ns := make([]string, len(abs))
			for i, a := range abs {
				ns[i] = fmt.Sprintf("%s %d 天", a.Name, a.Days)
			}
			fmt.Fprintf(&b, "\n缺勤：%s", names(ns))
		}
	} else {
		w.unitLines(&b, org, t)
	}
	return notify.Notice{
		Title:  "上周考勤汇总",
		Text:   b.String() + "\n回复「考勤」看今天",
		Kind:   org.Name + " " + week.Short(),
		Status: status,
		Remark: "回复「考勤」查看今日考勤",
	}, true
}

// unitLines lists the units under org by colour, weakest first: red and yellow by name and rate, green
// as a count.
func (w *weekSums) unitLines(b *strings.Builder, org *models.Org, t Thresholds) {
	type unit struct {
		name string
		c    Counts
	}
	by := map[string][]unit{}
	for _, ch := range w.children[org.ID] {
		c := w.counts(ch.Path)
		st := t.Colour(c.Attended(), c.Expected())
		by[st] = append(by[st], unit{ch.Name, c})
	}
	kind := "个村"
	if org.Level < models.LevelTown {
		kind = "个乡镇"
	}
	for _, st := range []string{StatusBad, StatusWarn} {
		us := by[st]
		if len(us) == 0 {
			continue
		}
		sort.Slice(us, func(i, j int) bool { return us[i].c.sortRate() < us[j].c.sortRate() })
		ns := make([]string, len(us))
		for i, u := range us {
			ns[i] = u.name + " " + u.c.RatePct()
		}
		fmt.Fprintf(b, "\n%s %d %s：%s", StatusNames[st], len(us), kind, names(ns))
	}
	if n := len(by[StatusOK]); n > 0 {
		fmt.Fprintf(b, "\n良好 %d %s", n, kind)
	}
}
