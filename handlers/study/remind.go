package study

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
)

// The evening reminder: at his rule's RemindAt (default 20:00) a member who has not finished today's
// task gets one reminder on the official account: a customer-service message while he is within 48
// hours of his last message, otherwise a template message (when one is configured). A reminder row
// (models.StudyReminder) is claimed before anything is sent, so nobody gets two for a day; a WeChat
// refusal that is about the person (not following, a bad openid, no authorization left) stops his
// reminders until he writes again (models.RemindStop). Which way a reminder takes, and what WeChat's
// answers mean, is package notify's (the Notifier every notice goes through); the claims, the retries
// and the stops are the reminder's.

// Reminder texts.
const (
	textRemind = "今天的学习还没完成，回复「学习」继续，几分钟就好 📖"
	// the template message's fields; a template for it has first, keyword1, keyword2 and remark
	templateFirst  = "今天的学习还没完成"
	templateRemark = "回复「学习」继续，几分钟就好 📖"
)

// RemindSender is what reminders go out through (bot/wechat/wxapi.Client): the customer-service API
// (the bot's Sender) and template messages.
type RemindSender = notify.Sender

// RemindOptions configure the evening reminder.
type RemindOptions struct {
	Sender RemindSender
	// LastMessages tells who wrote within 48 hours; nil: nobody did (every reminder is a template).
	LastMessages *LastMessages
	// TemplateID is the official account's template for reminders outside the 48-hour window; "" =
	// those members are skipped (counted). TemplateURL is the page it opens ("" = none).
	TemplateID, TemplateURL string
	// Workers bounds the sends in flight; 0 = 8.
	Workers int
}

// Reminders is the evening reminder of the study capability.
type Reminders struct {
	s      *Service
	o      RemindOptions
	notify *notify.Notifier // its own: the reminder's template, on the service's clock
}

// NewReminders makes the evening reminder of s.
func NewReminders(s *Service, o RemindOptions) *Reminders {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	no := notify.Options{Sender: o.Sender, TemplateID: o.TemplateID, Now: s.now}
	if o.LastMessages != nil { // a nil *LastMessages in the interface would not be nil
		no.LastSeen = o.LastMessages
	}
	return &Reminders{s: s, o: o, notify: notify.New(no)}
}

// dueMember is a member with an unfinished task today, as the reminder sees him.
type dueMember struct {
	ID        uint
	OpenID    string
	Path      string
	StoppedAt *time.Time // his reminders are stopped since
}

// remindOutcome is what one member's reminder came to.
type remindOutcome int

const (
	remindSent    remindOutcome = iota + 1
	remindClaimed               // someone else reminded him (or is doing it)
	remindNoWay                 // outside the 48-hour window and no template: nothing sent
	remindRefused               // WeChat refused for good (or may have taken it: not retried)
	remindRetry                 // a retryable failure: the claim was released
)

// Remind reminds the members due now (their rule's RemindAt has come) who have not finished day's
// task, are bound to the official account and have not been reminded for day. day must be today:
// a reminder for another day helps nobody. It returns how many reminders went out and how many due
// members were not reached (outside the 48-hour window without a template, refused by WeChat, or
// stopped). Retryable failures release their claims and make the error, so that the scheduler runs it
// again later; so does any other failure (of the database), after the run has gone through everyone.
func (r *Reminders) Remind(ctx context.Context, day string) (sent, skipped int, err error) {
	s := r.s
	if r.o.Sender == nil {
		return 0, 0, errors.New("study: remind: no sender configured")
	}
	if today := s.Today(); day != today {
		return 0, 0, fmt.Errorf("study: remind: %s is not today (%s)", day, today)
	}
	now := s.now()
	members, notDue, err := r.due(ctx, day, now)
	if err != nil {
		return 0, 0, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.OpenID
	}
	last, err := r.notify.LastSeen(ctx, ids) // once for the run: each send is told when he last wrote
	if err != nil {
		return 0, 0, err
	}

	// Members whose reminders were stopped stay stopped unless they wrote since.
	var stopped int
	todo := members[:0]
	for _, m := range members {
		if m.StoppedAt != nil {
			if at, ok := last[m.OpenID]; !ok || !at.After(*m.StoppedAt) {
				stopped++
				continue
			}
			if err := s.db.WithContext(ctx).Where("member_id = ?", m.ID).Delete(&models.RemindStop{}).Error; err != nil {
				return 0, 0, fmt.Errorf("study: remind: clear the stop of member %d: %w", m.ID, err)
			}
		}
		todo = append(todo, m)
	}

	var (
		mu       sync.Mutex
		counts   = map[remindOutcome]int{}
		via      = map[string]int{}
		firstErr error
		failures int
		wg       sync.WaitGroup
		work     = make(chan dueMember)
	)
	for range min(r.o.Workers, len(todo)) {
		wg.Go(func() {
			for m := range work {
				out, how, err := r.remindOne(ctx, m, day, last[m.OpenID], now)
				mu.Lock()
				counts[out]++
				if out == remindSent {
					via[how]++
				}
				if err != nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, m := range todo {
		if ctx.Err() != nil {
			break
		}
		work <- m
	}
	close(work)
	wg.Wait()

	sent = counts[remindSent]
	skipped = counts[remindNoWay] + counts[remindRefused] + stopped
	s.log.InfoContext(ctx, "study: evening reminders", "day", day, "sent", sent, "text", via[models.ReminderViaText],
		"template", via[models.ReminderViaTemplate], "no_way", counts[remindNoWay], "refused", counts[remindRefused],
		"stopped", stopped, "retry", counts[remindRetry], "not_due_yet", notDue)
	switch {
	case ctx.Err() != nil:
		return sent, skipped, ctx.Err()
	case failures > 0:
		return sent, skipped, fmt.Errorf("study: remind %s: %d reminders failed (%d wait for a retry): %w", day, failures, counts[remindRetry], firstErr)
	}
	return sent, skipped, nil
}

// due lists the members to remind now on day, and counts those whose rule's time has not come.
func (r *Reminders) due(ctx context.Context, day string, now time.Time) ([]dueMember, int, error) {
	s := r.s
	db := s.db.WithContext(ctx)
	var rows []dueMember
	err := db.Table("members m").
		Select("m.id, m.oa_open_id AS open_id, o.path, rs.at AS stopped_at").
		Joins("JOIN orgs o ON o.id = m.org_id").
		Joins("JOIN study_tasks t ON t.member_id = m.id AND t.day = ?", day).
		Joins("LEFT JOIN remind_stops rs ON rs.member_id = m.id").
		Where("m.active = ? AND m.oa_open_id IS NOT NULL AND t.completed_at IS NULL", true).
		Where("NOT EXISTS (SELECT 1 FROM study_reminders sr WHERE sr.member_id = m.id AND sr.day = ?)", day).
		Order("m.id").Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("study: remind %s: members: %w", day, err)
	}
	if len(rows) == 0 {
		return nil, 0, nil
	}
	rs, err := s.loadRules(ctx, db, nil)
	if err != nil {
		return nil, 0, err
	}
	clock := now.In(s.loc).Format("15:04")
	out, notDue := rows[:0], 0
	for _, m := range rows {
		if m.OpenID == "" {
			continue
		}
		if rs.forPath(m.Path).RemindAt > clock {
			notDue++
			continue
		}
		out = append(out, m)
	}
	return out, notDue, nil
}

// remindOne claims and sends one member's reminder. how is the channel it went through.
func (r *Reminders) remindOne(ctx context.Context, m dueMember, day string, last, now time.Time) (out remindOutcome, how string, err error) {
	db := r.s.db.WithContext(ctx)
	claim := db.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&models.StudyReminder{
		MemberID: m.ID, Day: day, Status: models.ReminderSending, CreatedAt: now, UpdatedAt: now,
	})
	if claim.Error != nil {
		return remindRetry, "", fmt.Errorf("study: remind member %d: claim: %w", m.ID, claim.Error)
	}
	if claim.RowsAffected == 0 {
		return remindClaimed, "", nil
	}
	release := func() error {
		// context.WithoutCancel: a claim must be released even when the run is being stopped.
		err := r.s.db.WithContext(context.WithoutCancel(ctx)).Where("member_id = ? AND day = ? AND status = ?", m.ID, day, models.ReminderSending).
			Delete(&models.StudyReminder{}).Error
		if err != nil {
			return fmt.Errorf("study: remind member %d: release the claim: %w", m.ID, err)
		}
		return nil
	}

	res, sendErr := r.notify.TellSeen(ctx, m.OpenID, last, notify.Notice{
		Title: templateFirst, Text: textRemind, Kind: "每日学习（" + day + "）", Status: "未完成", Remark: templateRemark,
		URL: r.o.TemplateURL,
	})
	if errors.Is(sendErr, notify.ErrNoWay) {
		return remindNoWay, "", release()
	}
	how = viaOf(res.Via)

	bg := context.WithoutCancel(ctx) // what was sent is recorded even when the run is being stopped
	if sendErr == nil {
		if err := r.setReminder(bg, m.ID, day, models.ReminderSent, how, 0); err != nil {
			// It went out; the row stays claimed, which is all that keeps a second one away.
			r.s.log.ErrorContext(ctx, "study: reminder sent but not recorded", "member", m.ID, "err", err)
		}
		return remindSent, how, nil
	}
	code := res.Code
	if !notify.Permanent(sendErr) {
		if !notify.NotDelivered(sendErr) {
			// No answer (a timeout): WeChat may have delivered it. The claim stays, so that he never
			// gets two; he may get none today.
			if err := r.setReminder(bg, m.ID, day, models.ReminderFailed, how, 0); err != nil {
				return remindRefused, "", err
			}
			r.s.log.WarnContext(ctx, "study: reminder's delivery unknown, not retried", "member", m.ID, "via", how, "err", sendErr)
			return remindRefused, "", nil
		}
		if err := release(); err != nil {
			return remindRetry, "", errors.Join(sendErr, err)
		}
		return remindRetry, "", fmt.Errorf("study: remind member %d: %w", m.ID, sendErr)
	}
	// Permanent: never retried. When it is about the person, his reminders stop until he writes.
	if err := r.setReminder(bg, m.ID, day, models.ReminderFailed, how, int(code)); err != nil {
		return remindRefused, "", err
	}
	if notify.AboutPerson(code) {
		err := r.s.db.WithContext(bg).Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "member_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"err_code", "at"}),
		}).Create(&models.RemindStop{MemberID: m.ID, ErrCode: int(code), At: now.UTC()}).Error
		if err != nil {
			return remindRefused, "", fmt.Errorf("study: remind member %d: stop: %w", m.ID, err)
		}
		r.s.log.InfoContext(ctx, "study: reminders stopped for a member", "member", m.ID, "errcode", code)
	} else {
		r.s.log.ErrorContext(ctx, "study: reminder refused", "member", m.ID, "via", how, "err", sendErr)
	}
	return remindRefused, "", nil
}

func (r *Reminders) setReminder(ctx context.Context, memberID uint, day, status, via string, code int) error {
	err := r.s.db.WithContext(ctx).Model(&models.StudyReminder{}).Where("member_id = ? AND day = ?", memberID, day).
		UpdateColumns(map[string]any{"status": status, "via": via, "err_code": code, "updated_at": r.s.now()}).Error
	if err != nil {
		return fmt.Errorf("study: remind member %d: record: %w", memberID, err)
	}
	return nil
}

// viaOf is the reminder row's channel of a notice's (the same words, kept apart: the row's are stored).
func viaOf(via string) string {
	switch via {
	case notify.ViaText:
		return models.ReminderViaText
	case notify.ViaTemplate:
		return models.ReminderViaTemplate
	}
	return via
}

// FirstAt is when the reminder job is due on day: the earliest RemindAt of the rules, or the
// default's. It is the scheduler's When, read at every tick (one small query); a database that does not
// answer gives the default.
func (r *Reminders) FirstAt(day string) (hour, minute int) {
	first := DefaultRule().RemindAt
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var earliest []string
	if err := r.s.db.WithContext(ctx).Model(&models.StudyRule{}).Order("remind_at").Limit(1).Pluck("remind_at", &earliest).Error; err == nil &&
		len(earliest) == 1 && validClock(earliest[0]) && earliest[0] < first {
		first = earliest[0]
	}
	return int(first[0]-'0')*10 + int(first[1]-'0'), int(first[3]-'0')*10 + int(first[4]-'0')
}

// RunDay is the daily job: it reminds the members due now, then waits for each later RemindAt of the
// rules today and reminds those, and returns when every rule's time has come (or at the first failure,
// for the scheduler to retry the day). The scheduler renews the job's lease while it waits.
func (r *Reminders) RunDay(ctx context.Context, day string) error {
	for {
		// Tasks due by now exist before anyone is reminded of them (a server started late in the day
		// runs the publish and reminder jobs at once).
		if _, err := r.s.PublishDue(ctx, day); err != nil {
			return err
		}
		if _, _, err := r.Remind(ctx, day); err != nil {
			return err
		}
		next, ok, err := r.nextAt(ctx, day)
		if err != nil || !ok {
			return err
		}
		reached, err := r.waitUntil(ctx, next)
		if err != nil {
			return err
		}
		if !reached {
			r.s.log.WarnContext(ctx, "study: the clock stands still: later reminders of today are not waited for", "day", day, "next", next)
			return nil
		}
	}
}

// nextAt is the next RemindAt of a rule after now, today.
func (r *Reminders) nextAt(ctx context.Context, day string) (time.Time, bool, error) {
	s := r.s
	var times []string
	if err := s.db.WithContext(ctx).Model(&models.StudyRule{}).Distinct("remind_at").Pluck("remind_at", &times).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("study: remind: rule times: %w", err)
	}
	times = append(times, DefaultRule().RemindAt)
	sort.Strings(times)
	now := s.now().In(s.loc)
	for _, hm := range times {
		if hm <= now.Format("15:04") || !validClock(hm) {
			continue
		}
		d, err := time.ParseInLocation(dayLayout+" 15:04", day+" "+hm, s.loc)
		if err != nil {
			continue
		}
		return d, true, nil
	}
	return time.Time{}, false, nil
}

// waitUntil sleeps until the service's clock reaches t (see waitClock).
func (r *Reminders) waitUntil(ctx context.Context, t time.Time) (reached bool, err error) {
	return waitClock(ctx, r.s.now, t)
}

// waitClock sleeps until the clock now reaches t, looking at it every second. A clock that stands
// still meanwhile is no wall clock (a test's, a simulation's) and would never get there: then it
// returns reached false.
func waitClock(ctx context.Context, now func() time.Time, t time.Time) (reached bool, err error) {
	for {
		before := now()
		d := t.Sub(before)
		if d <= 0 {
			return true, nil
		}
		step := min(d, time.Second)
		timer := time.NewTimer(step)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, ctx.Err()
		case <-timer.C:
		}
		if now().Sub(before) < step/2 {
			return false, nil
		}
	}
}
