package study

import (
	"context"

	"github.com/yanzhen/yanzhen/models"
)

// Progress is where a member stands in today's task.
type Progress struct {
	TaskID   uint64
	Day      string
	Answered int
	Right    int
	Total    int
	Next     *Prompt  // the next unanswered question; nil when done
	Summary  *Summary // when done
}

// TodayTask is the member's task of today and the question to answer next, or its summary when it is
// done. The task is made now if the morning's publishing has not reached him (ErrNoQuestions when
// the bank has nothing to draw).
func (s *Service) TodayTask(ctx context.Context, memberID uint) (*Progress, error) {
	t, err := s.todayTask(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.progress(ctx, t)
}

func (s *Service) progress(ctx context.Context, t *models.StudyTask) (*Progress, error) {
	p := &Progress{TaskID: t.ID, Day: t.Day, Answered: t.Answered, Right: t.RightAnswers, Total: t.Total}
	items, err := decodeItems(t.Items)
	if err != nil {
		return nil, err
	}
	if i := firstOpen(items); i < len(items) {
		if p.Next, err = s.promptAt(ctx, s.db, t, items, i); err != nil {
			return nil, err
		}
		return p, nil
	}
	if p.Summary, err = s.summary(ctx, s.db, t); err != nil {
		return nil, err
	}
	return p, nil
}
