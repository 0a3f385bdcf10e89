package study

// The study figures' daily summary. A county's year is 1.6 million tasks and several million answers:
// summing them for every look at the console's study page took about a second. Past days do not change
// (only today's task takes answers, and tasks are made for today only), so a nightly job summarises
// each past day once into per-org rows (models.StudyOrgDay, models.StudyOrgDayTags), each org's row
// covering its whole subtree, and marks the day done (models.StudySummaryDay) in the same transaction.
// The figures then read, for the days of a period that are marked, the rows of the org looked at and
// of its units (a few hundred rows for a year), and for the other days (today, and yesterday until the
// job has run) the tasks themselves, as before. Both give the same numbers; the summary is rebuildable
// from the tasks at any time (RebuildSummary), e.g. after an org moved in the tree or a question's tags
// were edited, which the rows of past days otherwise keep as they were.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// SummaryAt is when the nightly job summarises the days before today: after midnight's last answers
// to yesterday's tasks have committed, before the boards' rebuild.
const SummaryAt = "02:30"

// summaryChunkDays bounds the days summarised in one transaction (a first run catches up on every
// past day, a chunk at a time; an interrupted run keeps the chunks it finished).
const summaryChunkDays = 31

// dayRange is a range of days, both ends included.
type dayRange struct{ from, to string }

// SummariseDay is the nightly job of day: it summarises every day before day, from the first day with
// tasks, that is not summarised yet (yesterday, normally; everything on a first run or after a gap).
func (s *Service) SummariseDay(ctx context.Context, day string) error {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("study: summarise: bad day %q", day)
	}
	db := s.db.WithContext(ctx)
	var first struct{ Day *string }
	if err := db.Model(&models.StudyTask{}).Select("MIN(day) AS day").Where("day < ?", day).Scan(&first).Error; err != nil {
		return fmt.Errorf("study: summarise: first day: %w", err)
	}
	if first.Day == nil {
		return nil
	}
	var done []string
	if err := db.Model(&models.StudySummaryDay{}).Where("day >= ? AND day < ?", *first.Day, day).Pluck("day", &done).Error; err != nil {
		return fmt.Errorf("study: summarise: days done: %w", err)
	}
	_, missing := splitDays(dayRange{*first.Day, addDays(day, -1)}, done)
	for _, r := range missing {
		for _, c := range chunks(r, summaryChunkDays) {
			if err := s.summarise(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// RebuildSummary summarises the days from..to again from the tasks (days before today only; later
// ones are ignored, the figures read them live).
func (s *Service) RebuildSummary(ctx context.Context, from, to string) error {
	_, err1 := time.Parse(dayLayout, from)
	_, err2 := time.Parse(dayLayout, to)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("study: rebuild summary: bad days %q–%q", from, to)
	}
	if last := addDays(s.Today(), -1); to > last {
		to = last
	}
	if from > to {
		return nil
	}
	for _, c := range chunks(dayRange{from, to}, summaryChunkDays) {
		if err := s.summarise(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// summarise writes the summary of the days of r (replacing what was there) and marks them done, in
// one transaction. The tasks and answers are grouped by day and task org in SQL and rolled up the
// tree here.
func (s *Service) summarise(ctx context.Context, r dayRange) error {
	start := time.Now()
	db := s.db.WithContext(ctx)
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Select("id, path").Find(&orgs).Error; err != nil {
		return fmt.Errorf("study: summarise: orgs: %w", err)
	}
	idOf := make(map[string]uint, len(orgs))
	for _, o := range orgs {
		idOf[o.Path] = o.ID
	}
	upCache := make(map[uint][]uint, len(orgs))
	for _, o := range orgs {
		for _, p := range ancestors(o.Path) {
			if id, ok := idOf[p]; ok {
				upCache[o.ID] = append(upCache[o.ID], id)
			}
		}
	}
	// A task of an org that is gone is in nobody's figures (the live queries drop it with the scope).
	up := func(orgID uint) []uint { return upCache[orgID] }

	var taskRows []countsRow
	if err := db.Table("study_tasks").Select("study_tasks.day, study_tasks.org_id, "+taskAggregate).
		Where("study_tasks.day >= ? AND study_tasks.day <= ?", r.from, r.to).
		Group("study_tasks.day, study_tasks.org_id").Scan(&taskRows).Error; err != nil {
		return fmt.Errorf("study: summarise %s–%s: tasks: %w", r.from, r.to, err)
	}
	type orgDay struct {
		org uint
		day string
	}
	days := map[orgDay]*models.StudyOrgDay{}
	perDay := map[string]int64{}
	for _, t := range taskRows {
		perDay[t.Day] += t.Published
		for _, id := range up(t.OrgID) {
			k := orgDay{id, t.Day}
			row := days[k]
			if row == nil {
				row = &models.StudyOrgDay{OrgID: id, Day: t.Day}
				days[k] = row
			}
			row.Published += t.Published
			row.Completed += t.Completed
			row.Answered += t.Answered
			row.NRight += t.NRight
		}
	}

	var tagRows []struct {
		Day      string
		OrgID    uint
		Tags     string
		Answered int64
		NRight   int64
	}
	if err := db.Table("study_answers").
		Joins("JOIN study_tasks ON study_tasks.id = study_answers.task_id").
		Joins("JOIN questions ON questions.id = study_answers.question_id").
		Select("study_tasks.day, study_tasks.org_id, questions.tags, COUNT(*) AS answered, "+
			"COALESCE(SUM(CASE WHEN study_answers.correct THEN 1 ELSE 0 END), 0) AS n_right").
		Where("study_tasks.day >= ? AND study_tasks.day <= ?", r.from, r.to).
		Group("study_tasks.day, study_tasks.org_id, questions.tags").Scan(&tagRows).Error; err != nil {
		return fmt.Errorf("study: summarise %s–%s: answers by tag: %w", r.from, r.to, err)
	}
	type orgDayTags struct {
		orgDay
		tags string
	}
	tags := map[orgDayTags]*models.StudyOrgDayTags{}
	for _, t := range tagRows {
		for _, id := range up(t.OrgID) {
			k := orgDayTags{orgDay{id, t.Day}, t.Tags}
			row := tags[k]
			if row == nil {
				row = &models.StudyOrgDayTags{OrgID: id, Day: t.Day, Tags: t.Tags}
				tags[k] = row
			}
			row.Answered += t.Answered
			row.NRight += t.NRight
		}
	}

	dayRows := make([]models.StudyOrgDay, 0, len(days))
	for _, row := range days {
		dayRows = append(dayRows, *row)
	}
	tagRowsOut := make([]models.StudyOrgDayTags, 0, len(tags))
	for _, row := range tags {
		tagRowsOut = append(tagRowsOut, *row)
	}
	// In key order: an org's rows of the chunk share pages, which the figures' reads of one org's
	// year then touch a few of (in map order they touched a page per row).
	sort.Slice(dayRows, func(i, j int) bool {
		a, b := dayRows[i], dayRows[j]
		return a.OrgID < b.OrgID || a.OrgID == b.OrgID && a.Day < b.Day
	})
	sort.Slice(tagRowsOut, func(i, j int) bool {
		a, b := tagRowsOut[i], tagRowsOut[j]
		if a.OrgID != b.OrgID {
			return a.OrgID < b.OrgID
		}
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		return a.Tags < b.Tags
	})
	now := s.now().UTC()
	var marks []models.StudySummaryDay
	for d := r.from; d <= r.to; d = addDays(d, 1) {
		marks = append(marks, models.StudySummaryDay{Day: d, Tasks: perDay[d], SummarisedAt: now})
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&models.StudyOrgDay{}, &models.StudyOrgDayTags{}, &models.StudySummaryDay{}} {
			if err := tx.Where("day >= ? AND day <= ?", r.from, r.to).Delete(m).Error; err != nil {
				return err
			}
		}
		if len(dayRows) > 0 {
			if err := tx.Omit(clause.Associations).CreateInBatches(dayRows, 2000).Error; err != nil {
				return err
			}
		}
		if len(tagRowsOut) > 0 {
			if err := tx.Omit(clause.Associations).CreateInBatches(tagRowsOut, 2000).Error; err != nil {
				return err
			}
		}
		return tx.CreateInBatches(marks, 500).Error
	})
	if err != nil {
		return fmt.Errorf("study: summarise %s–%s: write: %w", r.from, r.to, err)
	}
	s.log.InfoContext(ctx, "study: summarised", "from", r.from, "to", r.to, "org_days", len(dayRows),
		"tag_rows", len(tagRowsOut), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// periodParts splits a period into the days read from the summary and those read from the tasks:
// today (and later) always from the tasks, past days from the summary when they are marked done.
func (s *Service) periodParts(ctx context.Context, db *gorm.DB, p Period) (summarised, live []dayRange, err error) {
	last := addDays(s.Today(), -1)
	if p.To < last {
		last = p.To
	}
	if p.From > last {
		return nil, []dayRange{{p.From, p.To}}, nil
	}
	var done []string
	if err := db.WithContext(ctx).Model(&models.StudySummaryDay{}).Where("day >= ? AND day <= ?", p.From, last).
		Pluck("day", &done).Error; err != nil {
		return nil, nil, fmt.Errorf("study: summarised days: %w", err)
	}
	summarised, live = splitDays(dayRange{p.From, p.To}, done)
	return summarised, live, nil
}

// splitDays splits r into the ranges of days in done and those of the others, in order.
func splitDays(r dayRange, done []string) (in, out []dayRange) {
	set := make(map[string]bool, len(done))
	for _, d := range done {
		set[d] = true
	}
	add := func(rs []dayRange, d string) []dayRange {
		if n := len(rs); n > 0 && addDays(rs[n-1].to, 1) == d {
			rs[n-1].to = d
			return rs
		}
		return append(rs, dayRange{d, d})
	}
	for d := r.from; d <= r.to; d = addDays(d, 1) {
		if set[d] {
			in = add(in, d)
		} else {
			out = add(out, d)
		}
	}
	return in, out
}

// chunks cuts r into ranges of at most n days.
func chunks(r dayRange, n int) []dayRange {
	var out []dayRange
	for from := r.from; from <= r.to; from = addDays(from, n) {
		to := addDays(from, n-1)
		if to > r.to {
			to = r.to
		}
		out = append(out, dayRange{from, to})
	}
	return out
}

// inDays limits a query to rows whose day (column col) is in one of rs (rs not empty).
func inDays(col string, rs []dayRange) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		cond := db.Session(&gorm.Session{NewDB: true})
		for i, r := range rs {
			if i == 0 {
				cond = cond.Where(col+" >= ? AND "+col+" <= ?", r.from, r.to)
			} else {
				cond = cond.Or(col+" >= ? AND "+col+" <= ?", r.from, r.to)
			}
		}
		return db.Where(cond)
	}
}

// span is the range from the first day of rs to the last.
func span(rs []dayRange) Period { return Period{From: rs[0].from, To: rs[len(rs)-1].to} }

// summaryFigures are the figures of the summarised days of a period: by org (of the orgs asked for,
// each with its subtree), by day and by tag list (both of the top orgs' subtrees together).
type summaryFigures struct {
	byOrg map[uint]Counts
	byDay map[string]Counts
	tags  []tagRow
}

// readSummary reads the summary rows of orgs (the units looked at) and top (the orgs whose subtrees
// make the whole: the org looked at, or every county) for the days of rs. The ids come from the
// viewer's scoped org list, so the rows are inside his scope by construction.
func (s *Service) readSummary(ctx context.Context, db *gorm.DB, orgs, top []uint, rs []dayRange, wantDays bool) (*summaryFigures, error) {
	out := &summaryFigures{byOrg: map[uint]Counts{}, byDay: map[string]Counts{}}
	if len(orgs) > 0 {
		var rows []countsRow
		if err := db.Model(&models.StudyOrgDay{}).Scopes(inDays("day", rs)).Where("org_id IN ?", orgs).
			Select("org_id, SUM(published) AS published, SUM(completed) AS completed, SUM(answered) AS answered, SUM(n_right) AS n_right").
			Group("org_id").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("study: summary by org: %w", err)
		}
		for _, r := range rows {
			out.byOrg[r.OrgID] = r.counts()
		}
	}
	if len(top) == 0 {
		return out, nil
	}
	if wantDays {
		var rows []countsRow
		if err := db.Model(&models.StudyOrgDay{}).Scopes(inDays("day", rs)).Where("org_id IN ?", top).
			Select("day, SUM(published) AS published, SUM(completed) AS completed, SUM(answered) AS answered, SUM(n_right) AS n_right").
			Group("day").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("study: summary by day: %w", err)
		}
		for _, r := range rows {
			out.byDay[r.Day] = r.counts()
		}
	}
	if err := db.Model(&models.StudyOrgDayTags{}).Scopes(inDays("day", rs)).Where("org_id IN ?", top).
		Select("tags, SUM(answered) AS answered, SUM(n_right) AS n_right").Group("tags").Scan(&out.tags).Error; err != nil {
		return nil, fmt.Errorf("study: summary by tag: %w", err)
	}
	return out, nil
}

// mergeDays adds the summary's days to the live ones, in day order.
func mergeDays(live []DayFigures, sum map[string]Counts) []DayFigures {
	if len(sum) == 0 {
		return live
	}
	for d, c := range sum {
		live = append(live, DayFigures{Day: d, Counts: c})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Day < live[j].Day })
	return live
}
