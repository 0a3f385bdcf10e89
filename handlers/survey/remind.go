package survey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Reminders: a round tells every member of the audience who has not finished (and has WeChat bound)
// to answer; from the second round on, each village's 书记 (bound members of role 书记 of that org) also
// gets the list of his people who have not answered, bound or not. A round is started by an
// administrator (at most MaxRemind rounds, an hour apart) or by the daily job "survey.remind" (every
// RemindEvery days, at most RemindMax rounds). Each reminder is a claim row (survey × round × member ×
// kind) written before anything is sent, so nobody gets two in a round, whoever runs it and however
// often; a row is sent by whoever moves it from claimed to sending.

// Reminder texts.
const (
	remindText      = "📋 问卷《%s》还没填写，截止 %s。\n回复「问卷」接着填，几分钟就好。"
	remindTitle     = "问卷提醒"
	escalateText    = "%s还有 %d 人未填《%s》：%s"
	escalateNames   = 30 // names listed in a message to the 书记
	minManualGap    = time.Hour
	reasonNoTeller  = "无法发送"
	claimed         = "claimed"
	sending         = "sending"
	sent            = "sent"
	failed          = "failed"
	RemindJobAt     = "10:00" // the daily job's time: mornings, when people read their phones
	remindBatchSize = 500
)

// RemindNow starts a reminder round of survey id for an administrator who manages it: the claims are
// written now, the messages go out in the background. It returns the round and how many members are
// reminded.
func (s *Service) RemindNow(ctx context.Context, v *console.Viewer, id uint) (int, int, error) {
	sv, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return 0, 0, err
	}
	if !Manages(v, &sv.Survey) {
		return 0, 0, console.ErrNotAllowed
	}
	now := s.now()
	switch {
	case !sv.OpenAt(now):
		return 0, 0, console.Invalid("status", "问卷不在收集中，不能提醒")
	case sv.Rounds >= MaxRemind:
		return 0, 0, console.Invalid("status", "已经提醒了 %d 轮，不能再提醒了", sv.Rounds)
	case sv.LastRemindAt != nil && now.Sub(*sv.LastRemindAt) < minManualGap:
		return 0, 0, console.Invalid("status", "%d 分钟前刚提醒过，请过一小时再提醒", int(now.Sub(*sv.LastRemindAt).Minutes()))
	}
	round, n, err := s.startRound(ctx, sv)
	if err != nil {
		return 0, 0, err
	}
	if err := s.record(ctx, nil, v, console.Change{Action: console.ActionUpdate, Object: "survey", ObjectID: id, OrgPath: sv.OrgPath,
		Summary: fmt.Sprintf("提醒未填写问卷《%s》的 %d 人（第 %d 轮）", sv.Title, n, round)}); err != nil {
		return 0, 0, err
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Hour)
		defer cancel()
		if err := s.sendRound(bg, sv, round); err != nil {
			s.log.ErrorContext(bg, "survey: reminders", "survey", id, "round", round, "err", err)
		}
	}()
	return round, n, nil
}

// startRound takes the next round of sv (only one process gets it) and claims its reminders.
func (s *Service) startRound(ctx context.Context, sv *Survey) (int, int, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	round := sv.Rounds + 1
	res := db.Model(&models.Survey{}).Where("id = ? AND rounds = ?", sv.ID, sv.Rounds).
		Updates(map[string]any{"rounds": round, "last_remind_at": now})
	if res.Error != nil {
		return 0, 0, fmt.Errorf("survey: start round of %d: %w", sv.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, 0, ErrState // another administrator or process started it
	}
	sv.Rounds, sv.LastRemindAt = round, &now
	insert, ignore := insertIgnore(db)
	q := insert + ` survey_reminders (survey_id, round, member_id, kind, status, via, err_code, reason, created_at, updated_at)
SELECT ?, ?, members.id, ?, ?, '', 0, '', ?, ? FROM members
WHERE members.active = ? AND members.oa_open_id IS NOT NULL
  AND members.org_id IN (SELECT id FROM orgs WHERE path = ? OR path LIKE ? ESCAPE '!')
  AND NOT EXISTS (SELECT 1 FROM survey_finishes f WHERE f.survey_id = ? AND f.member_id = members.id)`
	args := []any{sv.ID, round, models.SurveyRemindMember, claimed, now, now, true, sv.OrgPath, scope.SubtreeLike(sv.OrgPath), sv.ID}
	if sv.Roles != "" {
		q += " AND members.role IN ?"
		args = append(args, strings.Split(sv.Roles, ","))
	}
	res = db.Exec(q+ignore, args...)
	if res.Error != nil {
		return 0, 0, fmt.Errorf("survey: claim reminders of %d: %w", sv.ID, res.Error)
	}
	return round, int(res.RowsAffected), nil
}

// insertIgnore is "INSERT … ON CONFLICT DO NOTHING" on every dialect.
func insertIgnore(db *gorm.DB) (prefix, suffix string) {
	if db.Dialector.Name() == "mysql" {
		return "INSERT IGNORE INTO", ""
	}
	return "INSERT INTO", " ON CONFLICT DO NOTHING"
}

// sendRound sends the claimed reminders of a round, then (from round 2) the lists to the 书记.
func (s *Service) sendRound(ctx context.Context, sv *Survey, round int) error {
	note := notify.Notice{Title: remindTitle, Text: fmt.Sprintf(remindText, clip(sv.Title, 60), s.deadlineText(sv.Deadline)),
		Kind: clip("问卷《"+sv.Title+"》", 20), Status: "未填写", Remark: "回复「问卷」接着填，截止 " + s.deadlineText(sv.Deadline)}
	if err := s.sendClaimed(ctx, sv, round, models.SurveyRemindMember, func(uint) notify.Notice { return note }); err != nil {
		return err
	}
	if round < 2 {
		return nil
	}
	return s.escalate(ctx, sv, round)
}

// sendClaimed sends the reminders of one kind still claimed in a round, in batches, a few at a time.
func (s *Service) sendClaimed(ctx context.Context, sv *Survey, round int, kind string, noteFor func(memberID uint) notify.Notice) error {
	db := s.db.WithContext(ctx)
	var after uint
	for {
		var rows []struct {
			MemberID uint
			OpenID   *string `gorm:"column:oa_open_id"`
		}
		err := db.Table("survey_reminders r").Select("r.member_id, m.oa_open_id").Joins("JOIN members m ON m.id = r.member_id").
			Where("r.survey_id = ? AND r.round = ? AND r.kind = ? AND r.status = ? AND r.member_id > ?", sv.ID, round, kind, claimed, after).
			Order("r.member_id").Limit(remindBatchSize).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("survey: reminders of %d: %w", sv.ID, err)
		}
		if len(rows) == 0 {
			return nil
		}
		after = rows[len(rows)-1].MemberID
		jobs := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < s.workers; w++ {
			wg.Go(func() {
				for i := range jobs {
					r := rows[i]
					open := ""
					if r.OpenID != nil {
						open = *r.OpenID
					}
					s.sendOne(ctx, sv.ID, round, kind, r.MemberID, open, noteFor(r.MemberID))
				}
			})
		}
		for i := range rows {
			if ctx.Err() != nil {
				break
			}
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// sendOne takes one claimed reminder (claimed → sending), sends it and records how it went.
func (s *Service) sendOne(ctx context.Context, surveyID uint, round int, kind string, memberID uint, openID string, note notify.Notice) {
	db := s.db.WithContext(ctx)
	key := db.Model(&models.SurveyReminder{}).Where("survey_id = ? AND round = ? AND member_id = ? AND kind = ?", surveyID, round, memberID, kind)
	res := key.Where("status = ?", claimed).Updates(map[string]any{"status": sending, "updated_at": s.now()})
	if res.Error != nil || res.RowsAffected == 0 {
		return // another process has it, or the database failed: it stays claimed for the next run
	}
	upd := map[string]any{"status": sent, "updated_at": s.now()}
	if s.teller == nil {
		upd["status"], upd["reason"] = failed, reasonNoTeller
	} else if r, err := s.teller.Tell(ctx, openID, note); err != nil {
		upd["status"], upd["via"], upd["err_code"], upd["reason"] = failed, r.Via, int(r.Code), clip(reasonOf(err), 60)
	} else {
		upd["via"] = r.Via
	}
	err := db.Model(&models.SurveyReminder{}).Where("survey_id = ? AND round = ? AND member_id = ? AND kind = ?", surveyID, round, memberID, kind).
		Updates(upd).Error
	if err != nil {
		s.log.WarnContext(ctx, "survey: reminder outcome not recorded", "survey", surveyID, "member", memberID, "err", err)
	}
}

// reasonOf is why a reminder failed, in a few words.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, notify.ErrNoWay):
		return "超过48小时且未配置模板消息"
	case notify.AboutPerson(notify.Code(err)):
		return "对方未关注或无法接收"
	}
	return err.Error()
}

// escalate tells each village's 书记 who of his people has not answered.
func (s *Service) escalate(ctx context.Context, sv *Survey, round int) error {
	pending, _, err := s.Pending(ctx, &sv.Survey, scope.Under(sv.OrgID, sv.OrgPath), 0)
	if err != nil {
		return err
	}
	byOrg := map[string][]string{}
	for _, p := range pending {
		byOrg[p.OrgPath] = append(byOrg[p.OrgPath], p.Name)
	}
	if len(byOrg) == 0 {
		return nil
	}
	paths := make([]string, 0, len(byOrg))
	for p := range byOrg {
		paths = append(paths, p)
	}
	db := s.db.WithContext(ctx)
	var secs []struct {
		ID   uint
		Path string
	}
	for i := 0; i < len(paths); i += 500 {
		var part []struct {
			ID   uint
			Path string
		}
		err := db.Table("members").Joins("JOIN orgs o ON o.id = members.org_id").Select("members.id, o.path").
			Where("members.active = ? AND members.role = ? AND members.oa_open_id IS NOT NULL AND o.path IN ?", true, models.RoleSecretary, paths[i:min(i+500, len(paths))]).
			Scan(&part).Error
		if err != nil {
			return fmt.Errorf("survey: secretaries: %w", err)
		}
		secs = append(secs, part...)
	}
	if len(secs) == 0 {
		return nil
	}
	now := s.now()
	notes := map[uint]notify.Notice{}
	claims := make([]models.SurveyReminder, 0, len(secs))
	for _, sec := range secs {
		names := byOrg[sec.Path]
		list := strings.Join(names[:min(len(names), escalateNames)], "、")
		if len(names) > escalateNames {
			list += fmt.Sprintf(" 等 %d 人", len(names))
		}
		village := sec.Path[strings.LastIndexByte(sec.Path, '/')+1:]
		notes[sec.ID] = notify.Notice{Title: remindTitle, Text: fit(fmt.Sprintf(escalateText, village, len(names), clip(sv.Title, 40), list) +
			"\n请提醒他们回复「问卷」填写，截止 " + s.deadlineText(sv.Deadline) + "。"),
			Kind: clip("问卷《"+sv.Title+"》", 20), Status: fmt.Sprintf("%s %d 人未填", village, len(names)), Remark: clip(list, 60)}
		claims = append(claims, models.SurveyReminder{SurveyID: sv.ID, Round: round, MemberID: sec.ID, Kind: models.SurveyRemindSecretary,
			Status: claimed, CreatedAt: now, UpdatedAt: now})
	}
	if err := db.Clauses(onConflictNothing).CreateInBatches(&claims, 500).Error; err != nil {
		return fmt.Errorf("survey: claim escalations of %d: %w", sv.ID, err)
	}
	return s.sendClaimed(ctx, sv, round, models.SurveyRemindSecretary, func(id uint) notify.Notice { return notes[id] })
}

// RunDay is the daily job "survey.remind": it drops the drafts of ended surveys, finishes rounds a
// stopped process left half sent, and starts the scheduled rounds that are due today.
func (s *Service) RunDay(ctx context.Context, day string) error {
	if n, err := s.DropDrafts(ctx); err != nil {
		return err
	} else if n > 0 {
		s.log.InfoContext(ctx, "survey: dropped the drafts of ended surveys", "drafts", n)
	}
	now := s.now()
	today, err := time.ParseInLocation("2006-01-02", day, s.loc)
	if err != nil {
		return fmt.Errorf("survey: day %q: %w", day, err)
	}
	var svs []models.Survey
	if err := s.db.WithContext(ctx).Where("status = ? AND deadline > ? AND rounds < remind_max AND remind_every > 0", models.SurveyOpen, now).
		Find(&svs).Error; err != nil {
		return fmt.Errorf("survey: due reminders: %w", err)
	}
	var errs []error
	for _, m := range svs {
		sv, err := s.Get(ctx, m.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		last := sv.OpenedAt
		if sv.LastRemindAt != nil {
			last = sv.LastRemindAt
		}
		if last == nil {
			continue
		}
		l := last.In(s.loc)
		lastDay := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc)
		if today.Sub(lastDay) < time.Duration(sv.RemindEvery)*24*time.Hour-time.Hour { // an hour for DST-free zones' rounding
			continue
		}
		round, n, err := s.startRound(ctx, sv)
		if errors.Is(err, ErrState) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.InfoContext(ctx, "survey: scheduled reminders", "survey", sv.ID, "round", round, "members", n)
		if err := s.sendRound(ctx, sv, round); err != nil {
			errs = append(errs, err)
		}
	}
	// Rounds left half sent by a process that stopped: their claimed rows.
	var left []struct {
		SurveyID uint
		Round    int
	}
	if err := s.db.WithContext(ctx).Model(&models.SurveyReminder{}).Select("DISTINCT survey_id, round").
		Where("status = ? AND created_at < ?", claimed, now.Add(-10*time.Minute)).Scan(&left).Error; err != nil {
		errs = append(errs, fmt.Errorf("survey: unsent reminders: %w", err))
	}
	for _, l := range left {
		sv, err := s.Get(ctx, l.SurveyID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sv.OpenAt(now) {
			if err := s.sendRound(ctx, sv, l.Round); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

var onConflictNothing = clause.OnConflict{DoNothing: true}
