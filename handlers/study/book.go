package study

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// History is a page of a member's tasks up to today, newest first, and how many there are.
func (s *Service) History(ctx context.Context, memberID uint, offset, limit int) ([]models.StudyTask, int64, error) {
	q := s.db.WithContext(ctx).Model(&models.StudyTask{}).Where("member_id = ? AND day <= ?", memberID, s.Today()).
		Session(&gorm.Session{})
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("study: history of member %d: %w", memberID, err)
	}
	var ts []models.StudyTask
	if err := q.Omit("items").Order("day DESC").Offset(offset).Limit(limit).Find(&ts).Error; err != nil {
		return nil, 0, fmt.Errorf("study: history of member %d: %w", memberID, err)
	}
	return ts, total, nil
}

// BookItem is a question in a member's wrong-answer book.
type BookItem struct {
	models.WrongItem
	Question models.Question
}

// WrongBook is a page of a member's wrong-answer book, the questions due first, and how many there
// are: the questions not mastered yet, of those still in the bank (a retired question is not asked
// again, so it is no longer studied).
func (s *Service) WrongBook(ctx context.Context, memberID uint, offset, limit int) ([]BookItem, int64, error) {
	db := s.db.WithContext(ctx)
	q := db.Model(&models.WrongItem{}).Joins("JOIN questions ON questions.id = wrong_items.question_id").
		Where("wrong_items.member_id = ? AND wrong_items.mastered_at IS NULL AND questions.active = ?", memberID, true).
		Session(&gorm.Session{})
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("study: wrong-answer book of member %d: %w", memberID, err)
	}
	var ws []models.WrongItem
	if err := q.Select("wrong_items.*").Order("wrong_items.due_day, wrong_items.id").Offset(offset).Limit(limit).
		Find(&ws).Error; err != nil {
		return nil, 0, fmt.Errorf("study: wrong-answer book of member %d: %w", memberID, err)
	}
	ids := make([]uint, len(ws))
	for i, w := range ws {
		ids[i] = w.QuestionID
	}
	var qs []models.Question
	if len(ids) > 0 {
		if err := db.Where("id IN ?", ids).Find(&qs).Error; err != nil {
			return nil, 0, fmt.Errorf("study: wrong-answer book of member %d: questions: %w", memberID, err)
		}
	}
	byID := make(map[uint]models.Question, len(qs))
	for _, q := range qs {
		byID[q.ID] = q
	}
	out := make([]BookItem, 0, len(ws))
	for _, w := range ws {
		if q, ok := byID[w.QuestionID]; ok {
			out = append(out, BookItem{WrongItem: w, Question: q})
		}
	}
	return out, total, nil
}
