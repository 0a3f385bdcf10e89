package study

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// Sheet is a member's task of one day with all its questions at once, as the mini-program shows it
// (the chat asks them one at a time: Progress).
type Sheet struct {
	TaskID   uint64
	Day      string
	Answered int
	Right    int
	Total    int
	Items    []SheetItem // in the task's order
	Summary  *Summary    // when every question is answered
}

// SheetItem is one question of a Sheet.
type SheetItem struct {
	Question models.Question // only its ID when it is gone from the bank
	Review   bool            // from the wrong-answer book
	Remedial bool            // an extra question of remedial study (回炉补课)
	Options  []string        // choice questions: the options in the member's order, lettered A, B, C, ...
	Done     bool            // answered
	Correct  bool
	Given    string // when answered: the answer as recorded, in the member's letters for choice questions
	Answer   string // when answered: the right answer, in the member's letters for choice questions
}

// TodaySheet is the member's task of today with all its questions. The task is made now if the
// morning's publishing has not reached him (ErrNoQuestions when the bank has nothing to draw).
func (s *Service) TodaySheet(ctx context.Context, memberID uint) (*Sheet, error) {
	t, err := s.todayTask(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.sheet(ctx, t)
}

// SheetOf is the member's task of day ("2006-01-02") with all its questions; ErrNotFound when he has
// none that day. Nothing is made.
func (s *Service) SheetOf(ctx context.Context, memberID uint, day string) (*Sheet, error) {
	t, err := s.taskOf(ctx, memberID, day)
	if err != nil {
		return nil, err
	}
	return s.sheet(ctx, t)
}

func (s *Service) sheet(ctx context.Context, t *models.StudyTask) (*Sheet, error) {
	items, err := decodeItems(t.Items)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.Q
	}
	var qs []models.Question
	if err := db.Where("id IN ?", ids).Find(&qs).Error; err != nil {
		return nil, fmt.Errorf("study: sheet of task %d: questions: %w", t.ID, err)
	}
	byID := make(map[uint]*models.Question, len(qs))
	for i := range qs {
		byID[qs[i].ID] = &qs[i]
	}
	var as []models.StudyAnswer
	if err := db.Where("task_id = ?", t.ID).Find(&as).Error; err != nil {
		return nil, fmt.Errorf("study: sheet of task %d: answers: %w", t.ID, err)
	}
	given := make(map[uint]*models.StudyAnswer, len(as))
	for i := range as {
		given[as[i].QuestionID] = &as[i]
	}

	sh := &Sheet{TaskID: t.ID, Day: t.Day, Answered: t.Answered, Right: t.RightAnswers, Total: t.Total,
		Items: make([]SheetItem, len(items))}
	for i, it := range items {
		p := &Prompt{order: it.Order}
		p.Question.ID = it.Q
		if q := byID[it.Q]; q != nil {
			p.Question = *q
			s.fillOptions(p)
		}
		si := SheetItem{Question: p.Question, Review: it.Review, Remedial: it.Remedial, Options: p.Options, Done: it.Done, Correct: it.Right}
		if it.Done {
			si.Answer = shownAnswer(&p.Question, it.Order, p.Question.Answer)
			if a := given[it.Q]; a != nil {
				si.Correct, si.Given = a.Correct, shownAnswer(&p.Question, it.Order, a.Given)
			}
		}
		sh.Items[i] = si
	}
	if firstOpen(items) == len(items) {
		if sh.Summary, err = s.summary(ctx, s.db, t); err != nil {
			return nil, err
		}
	}
	return sh, nil
}

// Given is one answer of a batch: option letters in the member's order, 对/错, or a blank's text.
type Given struct {
	QuestionID uint
	Answer     string
}

// AnswerError is the answer of a batch that was refused, and why: ErrNotFound (the question is not in
// the task), ErrTaskClosed or ErrNotAnAnswer (checked with errors.Is).
type AnswerError struct {
	Index      int // in the batch
	QuestionID uint
	Err        error
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("study: answer %d (question %d): %v", e.Index, e.QuestionID, e.Err)
}

func (e *AnswerError) Unwrap() error { return e.Err }

// AnswerAll scores answers to questions of one task, in the order given, with the code that scores
// the chat's answers one at a time (Answer), all in one transaction: every answer counts or, when one
// is refused (an *AnswerError says which), none does. An answer to a question answered before changes
// nothing and gets its first result (Duplicate). The last result holds the task's progress after the
// batch, and its summary when the task is done.
func (s *Service) AnswerAll(ctx context.Context, memberID uint, taskID uint64, answers []Given) ([]*Result, error) {
	results := make([]*Result, len(answers))
	var board *boardUpdate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, g := range answers {
			res, b, err := s.answer(ctx, tx, memberID, taskID, g.QuestionID, g.Answer)
			switch {
			case errors.Is(err, ErrNotFound), errors.Is(err, ErrTaskClosed), errors.Is(err, ErrNotAnAnswer):
				return &AnswerError{Index: i, QuestionID: g.QuestionID, Err: err}
			case err != nil:
				return err
			}
			results[i] = res
			if b != nil {
				board = b
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if board != nil {
		s.updateBoards(ctx, board)
	}
	return results, nil
}
