package study

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// Prompt is one question of a task as the member sees it.
type Prompt struct {
	TaskID   uint64
	Index    int // 0-based position in the task
	Total    int
	Review   bool // from the wrong-answer book
	Remedial bool // an extra question of remedial study (回炉补课)
	Question models.Question
	Options  []string // choice questions: the options in the member's order, lettered A, B, C, ...

	order []int // the item's option order
}

// Summary is a completed task with what it earned and where the member stands.
type Summary struct {
	Day         string
	Right       int
	Total       int
	Points      int // credited for the task, streak bonus included
	Bonus       int // of which the streak bonus
	Streak      int // consecutive days, today included
	YearMinutes int // training minutes credited this year
}

// Result is the outcome of one answer.
type Result struct {
	TaskID      uint64
	QuestionID  uint
	Correct     bool
	Duplicate   bool   // this question of the task was answered before: nothing changed
	Given       string // the answer as recorded, in the member's letters for choice questions
	Answer      string // the right answer, in the member's letters for choice questions
	Explanation string
	Review      bool // the question came from the wrong-answer book
	Mastered    bool // ... and is now mastered
	Answered    int  // answered questions of the task, this one included
	Right       int
	Total       int
	Next        *Prompt  // the next unanswered question; nil when the task is done
	Summary     *Summary // when the task is done
}

// reviewIntervals: a wrong answer brings the question back the next day (stage 0); answered right when
// due, it comes back 3 days later (stage 1), then 7 days later (stage 2); right then, it is mastered.
var reviewIntervals = [...]int{1, 3, 7}

// Answer scores one answer to a question of a member's task: given is option letters in the member's
// order ("A", "bd", "Ａ"), 对/错, or a blank's text. In one transaction it records the answer, updates
// the task's progress, the wrong-answer book and the bank's counters, and, when the task is complete,
// credits the points (capped), the streak bonus and the training minutes to the ledger and the
// member's totals. Answering a question of the task again changes nothing and returns the first
// answer's result (Duplicate). Only today's task takes answers (ErrTaskClosed).
func (s *Service) Answer(ctx context.Context, memberID uint, taskID uint64, questionID uint, given string) (*Result, error) {
	var (
		res   *Result
		board *boardUpdate
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		res, board, err = s.answer(ctx, tx, memberID, taskID, questionID, given)
		return err
	})
	if err != nil {
		return nil, err
	}
	if board != nil {
		s.updateBoards(ctx, board)
	}
	return res, nil
}

func (s *Service) answer(ctx context.Context, tx *gorm.DB, memberID uint, taskID uint64, questionID uint, given string) (*Result, *boardUpdate, error) {
	now := s.now()
	today := now.In(s.loc).Format(dayLayout)
	t, err := s.lockTask(tx, memberID, taskID, now)
	if err != nil {
		return nil, nil, err
	}
	items, err := decodeItems(t.Items)
	if err != nil {
		return nil, nil, err
	}
	idx := -1
	for i, it := range items {
		if it.Q == questionID {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, nil, ErrNotFound
	}
	it := &items[idx]
	if !it.Done && t.Day != today {
		return nil, nil, ErrTaskClosed
	}
	// The question and the one to ask next, in one read.
	wasDone := it.Done
	it.Done = true
	next := firstOpen(items)
	it.Done = wasDone
	ids := []uint{questionID}
	if next < len(items) {
		ids = append(ids, items[next].Q)
	}
	var qs []models.Question
	if err := tx.Where("id IN ?", ids).Find(&qs).Error; err != nil {
		return nil, nil, fmt.Errorf("study: answer: read questions: %w", err)
	}
	var q, nq *models.Question
	for i := range qs {
		switch qs[i].ID {
		case questionID:
			q = &qs[i]
		case ids[len(ids)-1]:
			nq = &qs[i]
		}
	}
	if q == nil {
		return nil, nil, fmt.Errorf("study: answer: question %d is gone", questionID)
	}
	res := &Result{TaskID: t.ID, QuestionID: q.ID, Review: it.Review, Explanation: q.Explanation,
		Answer: shownAnswer(q, it.Order, q.Answer)}
	if next < len(items) {
		res.Next = &Prompt{TaskID: t.ID, Index: next, Total: t.Total, Review: items[next].Review, Remedial: items[next].Remedial,
			order: items[next].Order}
		if nq != nil {
			res.Next.Question = *nq
			s.fillOptions(res.Next)
		} else {
			res.Next.Question.ID = items[next].Q // gone from the bank: asked by its id only
		}
	}

	if it.Done { // answered before: the same result, no change
		return s.duplicate(ctx, tx, res, t, q, it)
	}
	correct, norm := s.bank.Check(q, toBankLetters(q, it.Order, given))
	if norm == "" {
		return nil, nil, ErrNotAnAnswer
	}
	ins := tx.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&models.StudyAnswer{
		TaskID: t.ID, QuestionID: q.ID, MemberID: memberID, Given: truncateRunes(norm, 64), Correct: correct, Review: it.Review, At: now.UTC(),
	})
	if ins.Error != nil {
		return nil, nil, fmt.Errorf("study: answer: record: %w", ins.Error)
	}
	if ins.RowsAffected == 0 { // recorded although the task did not say so: the first answer stands
		return s.duplicate(ctx, tx, res, t, q, it)
	}
	res.Correct, res.Given = correct, shownAnswer(q, it.Order, norm)
	if res.Mastered, err = s.updateBook(ctx, tx, memberID, q.ID, correct, it.Review, today, now); err != nil {
		return nil, nil, err
	}

	it.Done, it.Right = true, correct
	t.Answered++
	if correct {
		t.RightAnswers++
	}
	t.Next = firstOpen(items)
	var board *boardUpdate
	if t.Answered >= t.Total && t.CompletedAt == nil {
		if board, err = s.credit(ctx, tx, t, now); err != nil {
			return nil, nil, err
		}
	}
	err = tx.Model(&models.StudyTask{}).Where("id = ?", t.ID).UpdateColumns(map[string]any{
		"items": encodeItems(items), "next": t.Next, "answered": t.Answered, "right_answers": t.RightAnswers,
		"points": t.Points, "bonus": t.Bonus, "completed_at": t.CompletedAt, "updated_at": now,
	}).Error
	if err != nil {
		return nil, nil, fmt.Errorf("study: answer: update task %d: %w", t.ID, err)
	}
	// The bank's counters last: a popular question's row is the one many members' transactions share,
	// so it is held for the shortest time.
	if err := s.bank.Record(ctx, tx, q.ID, correct); err != nil {
		return nil, nil, err
	}
	var st *models.StudyStats
	if board != nil {
		st = board.stats
	}
	if err := s.finishResult(ctx, tx, res, t, st); err != nil {
		return nil, nil, err
	}
	return res, board, nil
}

// lockTask reads a member's task for update, so that answers to one task queue up: SELECT … FOR
// UPDATE on PostgreSQL and MySQL; on SQLite a write first, so the transaction holds the database's
// write lock before it reads anything (a read lock cannot always be upgraded later).
func (s *Service) lockTask(tx *gorm.DB, memberID uint, taskID uint64, now time.Time) (*models.StudyTask, error) {
	var ts []models.StudyTask
	q := tx.Where("id = ? AND member_id = ?", taskID, memberID)
	if lockingSupported(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	} else {
		r := tx.Model(&models.StudyTask{}).Where("id = ? AND member_id = ?", taskID, memberID).UpdateColumn("updated_at", now)
		if r.Error != nil {
			return nil, fmt.Errorf("study: answer: lock task %d: %w", taskID, r.Error)
		}
	}
	if err := q.Limit(1).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("study: answer: read task %d: %w", taskID, err)
	}
	if len(ts) == 0 {
		return nil, ErrNotFound
	}
	return &ts[0], nil
}

// duplicate is the result of a question answered before, from its recorded answer.
func (s *Service) duplicate(ctx context.Context, tx *gorm.DB, res *Result, t *models.StudyTask, q *models.Question, it *item) (*Result, *boardUpdate, error) {
	var a models.StudyAnswer
	if err := tx.Where("task_id = ? AND question_id = ?", t.ID, q.ID).Take(&a).Error; err != nil {
		return nil, nil, fmt.Errorf("study: answer: read earlier answer: %w", err)
	}
	res.Duplicate, res.Correct, res.Given = true, a.Correct, shownAnswer(q, it.Order, a.Given)
	if err := s.finishResult(ctx, tx, res, t, nil); err != nil {
		return nil, nil, err
	}
	return res, nil, nil
}

// finishResult fills in the progress and, when the task is done, the summary (with the member's
// totals st, read when nil).
func (s *Service) finishResult(ctx context.Context, tx *gorm.DB, res *Result, t *models.StudyTask, st *models.StudyStats) error {
	res.Answered, res.Right, res.Total = t.Answered, t.RightAnswers, t.Total
	if t.Answered < t.Total {
		return nil
	}
	res.Next = nil
	if st == nil {
		var err error
		if st, err = s.stats(ctx, tx, t.MemberID); err != nil {
			return err
		}
	}
	res.Summary = s.summaryOf(t, st)
	return nil
}

func firstOpen(items []item) int {
	for i, it := range items {
		if !it.Done {
			return i
		}
	}
	return len(items)
}

// updateBook keeps the wrong-answer book: a wrong answer (re)opens the question at stage 0, due the
// next day; a right answer to a due review moves it on, and after the last stage it is mastered.
func (s *Service) updateBook(ctx context.Context, tx *gorm.DB, memberID, questionID uint, correct, review bool, day string, now time.Time) (mastered bool, err error) {
	if !correct {
		w := models.WrongItem{MemberID: memberID, QuestionID: questionID, Stage: 0, DueDay: addDays(day, reviewIntervals[0]),
			Misses: 1, LastWrong: day, CreatedAt: now, UpdatedAt: now}
		err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "member_id"}, {Name: "question_id"}},
			DoUpdates: clause.Assignments(map[string]any{
				"stage": 0, "due_day": w.DueDay, "misses": gorm.Expr("wrong_items.misses + 1"), "last_wrong": day,
				"mastered_at": nil, "updated_at": now,
			}),
		}).Create(&w).Error
		if err != nil {
			return false, fmt.Errorf("study: wrong-answer book: add question %d: %w", questionID, err)
		}
		return false, nil
	}
	if !review {
		return false, nil
	}
	var ws []models.WrongItem
	if err := tx.Where("member_id = ? AND question_id = ? AND mastered_at IS NULL AND due_day <= ?", memberID, questionID, day).
		Limit(1).Find(&ws).Error; err != nil {
		return false, fmt.Errorf("study: wrong-answer book: read: %w", err)
	}
	if len(ws) == 0 {
		return false, nil
	}
	w := ws[0]
	set := map[string]any{"updated_at": now}
	if next := w.Stage + 1; next < len(reviewIntervals) {
		set["stage"], set["due_day"] = next, addDays(day, reviewIntervals[next])
	} else {
		set["mastered_at"], mastered = now, true
	}
	if err := tx.Model(&models.WrongItem{}).Where("id = ?", w.ID).UpdateColumns(set).Error; err != nil {
		return false, fmt.Errorf("study: wrong-answer book: advance: %w", err)
	}
	return mastered, nil
}

// toBankLetters turns choice letters in the member's order into the bank's letters; other answers
// pass unchanged.
func toBankLetters(q *models.Question, order []int, given string) string {
	if (q.Type != models.QuestionSingle && q.Type != models.QuestionMulti) || order == nil {
		return given
	}
	ls := letters(given)
	if ls == "" {
		return given
	}
	out := make([]byte, 0, len(ls))
	for _, l := range []byte(ls) {
		i := int(l - 'A')
		if i >= len(order) {
			return given // not an option: the bank says it is wrong
		}
		out = append(out, byte('A'+order[i]))
	}
	return sortLetters(string(out))
}

// shownAnswer is an answer in the bank's terms as the member sees it: choice letters in his order; the
// first accepted text of a blank.
func shownAnswer(q *models.Question, order []int, bankAnswer string) string {
	switch q.Type {
	case models.QuestionSingle, models.QuestionMulti:
		ls := letters(bankAnswer)
		if order == nil || ls == "" {
			return ls
		}
		pos := make(map[int]int, len(order)) // bank index → shown index
		for shown, b := range order {
			pos[b] = shown
		}
		out := make([]byte, 0, len(ls))
		for _, l := range []byte(ls) {
			if shown, ok := pos[int(l-'A')]; ok {
				out = append(out, byte('A'+shown))
			}
		}
		return sortLetters(string(out))
	case models.QuestionJudge:
		if w := judgeWord(bankAnswer); w != "" {
			return w
		}
		return bankAnswer
	}
	alt, _, _ := strings.Cut(bankAnswer, "|")
	return strings.TrimSpace(alt)
}

func sortLetters(s string) string {
	b := []byte(s)
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	return string(b)
}

// promptAt is item i of a task as the member sees it.
func (s *Service) promptAt(ctx context.Context, db *gorm.DB, t *models.StudyTask, items []item, i int) (*Prompt, error) {
	p := &Prompt{TaskID: t.ID, Index: i, Total: t.Total, Review: items[i].Review, Remedial: items[i].Remedial, order: items[i].Order}
	if err := db.WithContext(ctx).Take(&p.Question, items[i].Q).Error; err != nil {
		return nil, fmt.Errorf("study: read question %d: %w", items[i].Q, err)
	}
	s.fillOptions(p)
	return p, nil
}

// fillOptions puts a choice question's options in the member's order.
func (s *Service) fillOptions(p *Prompt) {
	p.Options = nil
	if p.Question.Type != models.QuestionSingle && p.Question.Type != models.QuestionMulti {
		return
	}
	opts := s.bank.Options(&p.Question)
	if len(p.order) != len(opts) {
		p.Options = opts
		return
	}
	p.Options = make([]string, len(opts))
	for shown, b := range p.order {
		p.Options[shown] = opts[b]
	}
}

// boardUpdate is what a credit changes on the leaderboards: the member's points this year.
type boardUpdate struct {
	memberID uint
	path     string
	year     int
	points   int
	stats    *models.StudyStats // the member's totals after the credit
}

// credit completes a task: points for its right answers (capped by the day's limit), the streak bonus
// (within the same limit) and the training minutes go to the ledger, each with the task or the day as
// its source, and to the member's totals.
func (s *Service) credit(ctx context.Context, tx *gorm.DB, t *models.StudyTask, now time.Time) (*boardUpdate, error) {
	var who struct {
		Path string
	}
	if err := tx.Table("members m").Select("o.path").Joins("JOIN orgs o ON o.id = m.org_id").
		Where("m.id = ?", t.MemberID).Take(&who).Error; err != nil {
		return nil, fmt.Errorf("study: credit: member %d: %w", t.MemberID, err)
	}
	rule, err := s.ruleFor(ctx, tx, who.Path)
	if err != nil {
		return nil, err
	}
	st, err := s.lockStats(ctx, tx, t.MemberID)
	if err != nil {
		return nil, err
	}
	year := yearOf(t.Day)
	if st.Year != year {
		st.Year, st.YearPoints, st.YearMinutes = year, 0, 0
	}
	switch st.LastDay {
	case t.Day: // cannot happen (one task a day), but must not count the day twice
	case addDays(t.Day, -1):
		st.Streak++
	default:
		st.Streak = 1
	}
	st.LastDay = t.Day
	st.BestStreak = max(st.BestStreak, st.Streak)

	points, bonus := dayPoints(rule, t.RightAnswers, st.Streak)
	src := "task:" + strconv.FormatUint(t.ID, 10)
	var entries []models.LedgerEntry
	for _, e := range []models.LedgerEntry{
		{Kind: models.LedgerPoints, Source: src, Amount: points},
		{Kind: models.LedgerPoints, Source: "streak:" + t.Day, Amount: bonus},
		{Kind: models.LedgerMinutes, Source: src, Amount: rule.MinutesPerTask},
	} {
		if e.Amount > 0 {
			e.MemberID, e.Day, e.Year, e.CreatedAt = t.MemberID, t.Day, year, now
			entries = append(entries, e)
		}
	}
	repaired := false
	if len(entries) > 0 {
		r := tx.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&entries)
		if r.Error != nil {
			return nil, fmt.Errorf("study: credit task %d: %w", t.ID, r.Error)
		}
		if int(r.RowsAffected) != len(entries) {
			// Some of it was credited before (the task lock makes this a repaired or hand-edited
			// database): never twice, and the totals are taken from the ledger instead.
			s.log.WarnContext(ctx, "study: task credited before", "task", t.ID)
			entries, repaired = nil, true
		}
	}
	for _, e := range entries {
		if e.Kind == models.LedgerPoints {
			st.Points += e.Amount
			st.YearPoints += e.Amount
		} else {
			st.YearMinutes += e.Amount
		}
	}
	st.UpdatedAt = now
	if err := tx.Model(&models.StudyStats{}).Where("member_id = ?", st.MemberID).UpdateColumns(map[string]any{
		"streak": st.Streak, "best_streak": st.BestStreak, "last_day": st.LastDay, "points": st.Points,
		"year": st.Year, "year_points": st.YearPoints, "year_minutes": st.YearMinutes, "updated_at": st.UpdatedAt,
	}).Error; err != nil {
		return nil, fmt.Errorf("study: credit: update totals of member %d: %w", st.MemberID, err)
	}
	if repaired {
		if err := s.rebuildStats(ctx, tx, t.MemberID); err != nil {
			return nil, err
		}
		if st, err = s.stats(ctx, tx, t.MemberID); err != nil {
			return nil, err
		}
	}
	t.Points, t.Bonus, t.CompletedAt = points+bonus, bonus, &now
	return &boardUpdate{memberID: t.MemberID, path: who.Path, year: year, points: st.YearPoints, stats: st}, nil
}

// dayPoints are the points of a completed task with right answers on the streak's day: per right
// answer up to the daily cap, and the streak bonus from the streak's second day (per day, up to its
// maximum, and within what the cap leaves).
func dayPoints(rule models.StudyRule, right, streak int) (points, bonus int) {
	points = max(min(right*rule.PointsPerRight, rule.DailyPointsCap), 0)
	if streak > 1 {
		bonus = max(min(rule.StreakBonus*(streak-1), rule.StreakBonusMax, rule.DailyPointsCap-points), 0)
	}
	return points, bonus
}

// lockStats reads a member's totals for update, making the row on first use.
func (s *Service) lockStats(ctx context.Context, tx *gorm.DB, memberID uint) (*models.StudyStats, error) {
	read := func() ([]models.StudyStats, error) {
		q := tx.Where("member_id = ?", memberID)
		if lockingSupported(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var sts []models.StudyStats
		if err := q.Limit(1).Find(&sts).Error; err != nil {
			return nil, fmt.Errorf("study: totals of member %d: %w", memberID, err)
		}
		return sts, nil
	}
	sts, err := read()
	if err != nil || len(sts) == 1 {
		return firstOf(sts), err
	}
	err = tx.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&models.StudyStats{MemberID: memberID, UpdatedAt: s.now()}).Error
	if err != nil {
		return nil, fmt.Errorf("study: totals of member %d: %w", memberID, err)
	}
	if sts, err = read(); err == nil && len(sts) == 0 {
		err = fmt.Errorf("study: totals of member %d: not made", memberID)
	}
	return firstOf(sts), err
}

func firstOf(sts []models.StudyStats) *models.StudyStats {
	if len(sts) == 0 {
		return nil
	}
	return &sts[0]
}

// summary is a completed task's summary with the member's streak as of today.
func (s *Service) summary(ctx context.Context, db *gorm.DB, t *models.StudyTask) (*Summary, error) {
	st, err := s.stats(ctx, db, t.MemberID)
	if err != nil {
		return nil, err
	}
	return s.summaryOf(t, st), nil
}

func (s *Service) summaryOf(t *models.StudyTask, st *models.StudyStats) *Summary {
	return &Summary{Day: t.Day, Right: t.RightAnswers, Total: t.Total, Points: t.Points, Bonus: t.Bonus,
		Streak: s.liveStreak(st), YearMinutes: s.yearFigure(st, st.YearMinutes)}
}

// stats reads a member's totals (zero when he has none yet).
func (s *Service) stats(ctx context.Context, db *gorm.DB, memberID uint) (*models.StudyStats, error) {
	var sts []models.StudyStats
	if err := db.WithContext(ctx).Where("member_id = ?", memberID).Limit(1).Find(&sts).Error; err != nil {
		return nil, fmt.Errorf("study: totals of member %d: %w", memberID, err)
	}
	if len(sts) == 0 {
		return &models.StudyStats{MemberID: memberID}, nil
	}
	return &sts[0], nil
}

// liveStreak is the streak as of today: it holds while the last completed day is today or yesterday,
// and is 0 once a day was missed.
func (s *Service) liveStreak(st *models.StudyStats) int {
	today := s.Today()
	if st.LastDay == today || st.LastDay == addDays(today, -1) {
		return st.Streak
	}
	return 0
}

// yearFigure is v when st's year figures are of this year, else 0.
func (s *Service) yearFigure(st *models.StudyStats, v int) int {
	if st.Year != s.now().In(s.loc).Year() {
		return 0
	}
	return v
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
