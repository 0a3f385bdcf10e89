package study

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/yanzhen/yanzhen/models"
)

// PublishDue makes the day's tasks of the members whose rule's publish time has come (by the
// service's clock), and returns how many it made. Members of orgs that publish later keep waiting (or
// get theirs on demand when they start studying earlier).
func (s *Service) PublishDue(ctx context.Context, day string) (int, error) {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return 0, fmt.Errorf("study: publish: bad day %q", day)
	}
	db := s.db.WithContext(ctx)
	rs, err := s.loadRules(ctx, db, nil)
	if err != nil {
		return 0, err
	}
	due := s.clockOn(day)
	var ts []target
	if err := db.Table("members m").Select("m.id, m.org_id, o.path").Joins("JOIN orgs o ON o.id = m.org_id").
		Where("m.active = ?", true).
		Where("NOT EXISTS (SELECT 1 FROM study_tasks t WHERE t.member_id = m.id AND t.day = ?)", day).
		Order("m.id").Scan(&ts).Error; err != nil {
		return 0, fmt.Errorf("study: publish %s: members: %w", day, err)
	}
	ids := make([]uint, 0, len(ts))
	for _, t := range ts {
		if rs.forPath(t.Path).PublishAt <= due {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return s.publish(ctx, day, ids)
}

// clockOn is the service's time of day ("15:04") on day: "24:00" once day is over, "" before it begins.
func (s *Service) clockOn(day string) string {
	now := s.now().In(s.loc)
	switch today := now.Format(dayLayout); {
	case today > day:
		return "24:00"
	case today < day:
		return ""
	}
	return now.Format("15:04")
}

// FirstPublishAt is when the publish job is due on day: the earliest PublishAt of the rules, or the
// default's (the scheduler's When, read at each tick; a database that does not answer gives the
// default).
func (s *Service) FirstPublishAt(day string) (hour, minute int) {
	first := DefaultRule().PublishAt
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var earliest []string
	if err := s.db.WithContext(ctx).Model(&models.StudyRule{}).Order("publish_at").Limit(1).Pluck("publish_at", &earliest).Error; err == nil &&
		len(earliest) == 1 && validClock(earliest[0]) && earliest[0] < first {
		first = earliest[0]
	}
	return int(first[0]-'0')*10 + int(first[1]-'0'), int(first[3]-'0')*10 + int(first[4]-'0')
}

// PublishDay is the daily publish job: it publishes for the orgs due now, then waits for each later
// PublishAt of the rules today and publishes those, and returns when every rule's time has come (or
// at the first failure, for the scheduler to retry the day).
func (s *Service) PublishDay(ctx context.Context, day string) error {
	for {
		n, err := s.PublishDue(ctx, day)
		if err != nil {
			return err
		}
		s.log.InfoContext(ctx, "study: published the daily task", "day", day, "tasks", n)
		next, ok, err := s.nextPublishAt(ctx, day)
		if err != nil || !ok {
			return err
		}
		reached, err := waitClock(ctx, s.now, next)
		if err != nil {
			return err
		}
		if !reached {
			s.log.WarnContext(ctx, "study: the clock stands still: later publish times of today are not waited for", "day", day, "next", next)
			return nil
		}
	}
}

// nextPublishAt is the next PublishAt of a rule after now, today.
func (s *Service) nextPublishAt(ctx context.Context, day string) (time.Time, bool, error) {
	var times []string
	if err := s.db.WithContext(ctx).Model(&models.StudyRule{}).Distinct("publish_at").Pluck("publish_at", &times).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("study: publish: rule times: %w", err)
	}
	times = append(times, DefaultRule().PublishAt)
	sort.Strings(times)
	now := s.clockOn(day)
	for _, hm := range times {
		if hm <= now || !validClock(hm) {
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
