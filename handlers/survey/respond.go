package survey

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Where an answer came from.
const (
	ViaChat = "chat"
	ViaH5   = "h5"
	ViaMP   = "mp"
)

// OpenSurvey is an open survey of a member, with how far he got.
type OpenSurvey struct {
	models.Survey
	Done     bool
	Answered int // answers of his draft
}

// OpenFor lists the open surveys the member is invited to, deadline first.
func (s *Service) OpenFor(ctx context.Context, m *bot.Member) ([]OpenSurvey, error) {
	db := s.db.WithContext(ctx)
	var svs []models.Survey
	err := db.Where("status = ? AND deadline > ? AND org_path IN ?", models.SurveyOpen, s.now(), ancestors(m.OrgPath)).
		Order("deadline, id").Limit(100).Find(&svs).Error
	if err != nil {
		return nil, fmt.Errorf("survey: open for %d: %w", m.ID, err)
	}
	var out []OpenSurvey
	var ids []uint
	for _, sv := range svs {
		x := Survey{Survey: sv}
		if x.invites(m.Role, m.OrgPath) {
			out = append(out, OpenSurvey{Survey: sv})
			ids = append(ids, sv.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var done []uint
	if err := db.Model(&models.SurveyFinish{}).Where("member_id = ? AND survey_id IN ?", m.ID, ids).Pluck("survey_id", &done).Error; err != nil {
		return nil, fmt.Errorf("survey: finished of %d: %w", m.ID, err)
	}
	var counts []struct {
		SurveyID uint
		N        int
	}
	err = db.Table("survey_answers a").Select("r.survey_id, COUNT(DISTINCT a.question_id) AS n").
		Joins("JOIN survey_responses r ON r.id = a.response_id").
		Where("r.member_id = ? AND r.survey_id IN ? AND r.done = ?", m.ID, ids, false).Group("r.survey_id").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("survey: drafts of %d: %w", m.ID, err)
	}
	for i := range out {
		for _, d := range done {
			if out[i].ID == d {
				out[i].Done = true
			}
		}
		for _, c := range counts {
			if out[i].ID == c.SurveyID {
				out[i].Answered = c.N
			}
		}
	}
	return out, nil
}

// Progress is a member's response to a survey as it stands.
type Progress struct {
	Survey     *Survey
	ResponseID uint64 // his draft (0: none yet)
	Answers    map[int]Answer
	Cursor     int // the question he is at (0: not started)
	Done       bool
}

// Progress loads survey id and the member's answers to it. ErrNotFound when there is no such survey or
// it is a draft; ErrNotInvited when he is not in its audience.
func (s *Service) Progress(ctx context.Context, id uint, m *bot.Member) (*Progress, error) {
	sv, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if sv.Status == models.SurveyDraft {
		return nil, ErrNotFound
	}
	if !sv.invites(m.Role, m.OrgPath) {
		return nil, ErrNotInvited
	}
	return s.progress(s.db.WithContext(ctx), sv, m.ID)
}

func (s *Service) progress(db *gorm.DB, sv *Survey, memberID uint) (*Progress, error) {
	p := &Progress{Survey: sv, Answers: map[int]Answer{}}
	var n int64
	if err := db.Model(&models.SurveyFinish{}).Where("survey_id = ? AND member_id = ?", sv.ID, memberID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("survey: finish of %d: %w", memberID, err)
	}
	p.Done = n > 0
	var r models.SurveyResponse
	err := db.Where("survey_id = ? AND member_id = ?", sv.ID, memberID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("survey: response of %d: %w", memberID, err)
	}
	p.ResponseID, p.Cursor = r.ID, r.Cursor
	p.Answers, err = answersOf(db, sv, r.ID)
	return p, err
}

// answersOf reads a response's answers by question position.
func answersOf(db *gorm.DB, sv *Survey, responseID uint64) (map[int]Answer, error) {
	var rows []models.SurveyAnswer
	if err := db.Where("response_id = ?", responseID).Order("question_id, pos").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("survey: answers of response %d: %w", responseID, err)
	}
	return collect(sv, rows), nil
}

// collect groups answer rows (of one response) by question position.
func collect(sv *Survey, rows []models.SurveyAnswer) map[int]Answer {
	seqOf := make(map[uint]int, len(sv.Qs))
	for _, q := range sv.Qs {
		seqOf[q.ID] = q.Seq
	}
	out := map[int]Answer{}
	for _, r := range rows {
		seq := seqOf[r.QuestionID]
		q := sv.Question(seq)
		if q == nil {
			continue
		}
		a := out[seq]
		switch {
		case q.IsChoice() || q.Kind == models.SurveyRating:
			a.Choices = append(a.Choices, r.Choice)
		case q.Kind == models.SurveyNumber:
			a.Num = r.Num
		default:
			a.Text = r.Text
		}
		out[seq] = a
	}
	return out
}

// rowsOf are the answer rows of one answer.
func rowsOf(surveyID uint, responseID uint64, q *Question, a Answer) []models.SurveyAnswer {
	switch {
	case q.IsChoice() || q.Kind == models.SurveyRating:
		rows := make([]models.SurveyAnswer, len(a.Choices))
		for i, c := range a.Choices {
			rows[i] = models.SurveyAnswer{ResponseID: responseID, QuestionID: q.ID, Pos: i, SurveyID: surveyID, Choice: c}
		}
		return rows
	case q.Kind == models.SurveyNumber:
		return []models.SurveyAnswer{{ResponseID: responseID, QuestionID: q.ID, SurveyID: surveyID, Num: a.Num}}
	}
	return []models.SurveyAnswer{{ResponseID: responseID, QuestionID: q.ID, SurveyID: surveyID, Text: a.Text}}
}

// writable loads the survey for an answer of member m: open, he is invited and has not finished.
func (s *Service) writable(ctx context.Context, id uint, m *bot.Member) (*Survey, error) {
	sv, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if sv.Status == models.SurveyDraft {
		return nil, ErrNotFound
	}
	if !sv.invites(m.Role, m.OrgPath) {
		return nil, ErrNotInvited
	}
	if !sv.OpenAt(s.now()) {
		return nil, ErrClosed
	}
	return sv, nil
}

// draft returns the member's draft response (making it), failing with ErrDone once he finished.
func (s *Service) draft(tx *gorm.DB, sv *Survey, m *bot.Member, via string) (uint64, error) {
	var n int64
	if err := tx.Model(&models.SurveyFinish{}).Where("survey_id = ? AND member_id = ?", sv.ID, m.ID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("survey: finish of %d: %w", m.ID, err)
	}
	if n > 0 {
		return 0, ErrDone
	}
	var ids []uint64
	if err := tx.Model(&models.SurveyResponse{}).Where("survey_id = ? AND member_id = ?", sv.ID, m.ID).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("survey: response of %d: %w", m.ID, err)
	}
	if len(ids) > 0 {
		return ids[0], nil
	}
	now := s.now()
	mid := m.ID
	r := models.SurveyResponse{SurveyID: sv.ID, MemberID: &mid, OrgID: m.OrgID, Via: via, StartedAt: &now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return 0, fmt.Errorf("survey: start response of %d: %w", m.ID, err)
	}
	if r.ID != 0 {
		return r.ID, nil
	}
	// Another message of his made it at the same moment.
	if err := tx.Model(&models.SurveyResponse{}).Where("survey_id = ? AND member_id = ?", sv.ID, m.ID).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
		return 0, fmt.Errorf("survey: response of %d: %v", m.ID, err)
	}
	return ids[0], nil
}

// Save records answers of member m to survey id (by question position; an empty answer clears one) in
// his draft, and moves his cursor to cursor (0: leave it). Answers are checked first: an *AnswerError
// names the first that does not fit, and nothing is saved.
func (s *Service) Save(ctx context.Context, id uint, m *bot.Member, answers map[int]Answer, cursor int, via string) (*Progress, error) {
	sv, err := s.writable(ctx, id, m)
	if err != nil {
		return nil, err
	}
	seqs := make([]int, 0, len(answers))
	clean := make(map[int]Answer, len(answers))
	for seq, a := range answers {
		q := sv.Question(seq)
		if q == nil {
			return nil, &AnswerError{Seq: seq, Hint: fmt.Sprintf("没有第%d题", seq)}
		}
		if !a.Empty() {
			if a, err = checkAnswer(q, a); err != nil {
				return nil, err
			}
		}
		clean[seq] = a
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	var p *Progress
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rid, err := s.draft(tx, sv, m, via)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			q := sv.Question(seq)
			if err := tx.Where("response_id = ? AND question_id = ?", rid, q.ID).Delete(&models.SurveyAnswer{}).Error; err != nil {
				return fmt.Errorf("survey: clear answer: %w", err)
			}
			if a := clean[seq]; !a.Empty() {
				if err := tx.Create(rowsOf(sv.ID, rid, q, a)).Error; err != nil {
					return fmt.Errorf("survey: save answer: %w", err)
				}
			}
		}
		if cursor > 0 {
			if err := tx.Model(&models.SurveyResponse{}).Where("id = ?", rid).Update("cursor", cursor).Error; err != nil {
				return fmt.Errorf("survey: cursor: %w", err)
			}
		}
		p, err = s.progress(tx, sv, m.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// IncompleteError: a required question that is asked has no answer.
type IncompleteError struct{ Seq int }

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("survey: question %d is required", e.Seq)
}

// Finish submits member m's response to survey id: every asked, required question must have an answer
// (*IncompleteError names the first that has none). Answers to questions no longer asked (their
// condition changed) are dropped. It is final: ErrDone afterwards.
func (s *Service) Finish(ctx context.Context, id uint, m *bot.Member) error {
	sv, err := s.writable(ctx, id, m)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rid, err := s.draft(tx, sv, m, "")
		if err != nil {
			return err
		}
		answers, err := answersOf(tx, sv, rid)
		if err != nil {
			return err
		}
		if seq := missing(sv.Qs, answers); seq != 0 {
			return &IncompleteError{Seq: seq}
		}
		if len(answers) == 0 && len(sv.Qs) > 0 {
			return &IncompleteError{Seq: nextSeq(sv.Qs, answers, 0)}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.SurveyFinish{SurveyID: sv.ID, MemberID: m.ID, OrgID: m.OrgID, FinishedAt: now})
		if res.Error != nil {
			return fmt.Errorf("survey: finish: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrDone
		}
		vis := visible(sv.Qs, answers)
		final := rid
		if sv.Anonymous {
			// The finished response goes to a row that names nobody; the draft that named him goes.
			final = randomID()
			r := models.SurveyResponse{ID: final, SurveyID: sv.ID, OrgID: m.OrgID, Done: true}
			if err := tx.Create(&r).Error; err != nil {
				return fmt.Errorf("survey: anonymous response: %w", err)
			}
			if err := tx.Where("response_id = ?", rid).Delete(&models.SurveyAnswer{}).Error; err != nil {
				return fmt.Errorf("survey: drop draft answers: %w", err)
			}
			if err := tx.Delete(&models.SurveyResponse{}, rid).Error; err != nil {
				return fmt.Errorf("survey: drop draft: %w", err)
			}
			var rows []models.SurveyAnswer
			for _, q := range sv.Qs {
				if a, ok := answers[q.Seq]; ok && vis[q.Seq] && !a.Empty() {
					rows = append(rows, rowsOf(sv.ID, final, &q, a)...)
				}
			}
			if len(rows) > 0 {
				if err := tx.Create(&rows).Error; err != nil {
					return fmt.Errorf("survey: anonymous answers: %w", err)
				}
			}
		} else {
			for _, q := range sv.Qs {
				if _, ok := answers[q.Seq]; ok && !vis[q.Seq] {
					if err := tx.Where("response_id = ? AND question_id = ?", rid, q.ID).Delete(&models.SurveyAnswer{}).Error; err != nil {
						return fmt.Errorf("survey: drop hidden answer: %w", err)
					}
				}
			}
			err := tx.Model(&models.SurveyResponse{}).Where("id = ?", rid).
				Updates(map[string]any{"done": true, "submitted_at": now, "org_id": m.OrgID}).Error
			if err != nil {
				return fmt.Errorf("survey: submit: %w", err)
			}
		}
		if err := tally(tx, sv, m.OrgID, answers, vis); err != nil {
			return err
		}
		return tx.Model(&models.Survey{}).Where("id = ?", sv.ID).UpdateColumn("responses", gorm.Expr("responses + 1")).Error
	})
	if err != nil {
		return err
	}
	// The broadcasts that carried the survey to him: read and answered (best effort, for their figures).
	s.seen(ctx, sv.ID, m.ID, true)
	return nil
}

// tally counts a finished response's choice and rating answers (value 0: answered at all).
func tally(tx *gorm.DB, sv *Survey, orgID uint, answers map[int]Answer, vis map[int]bool) error {
	var rows []models.SurveyTally
	for _, q := range sv.Qs {
		a, ok := answers[q.Seq]
		if !ok || !vis[q.Seq] || a.Empty() {
			continue
		}
		if a.Num != nil { // its own statement: the sum adds this number (no dialect's "excluded" needed)
			err := tx.Clauses(clause.OnConflict{
				Columns:   tallyKey,
				DoUpdates: clause.Assignments(map[string]any{"n": gorm.Expr("survey_tallies.n + 1"), "sum": gorm.Expr("survey_tallies.sum + ?", *a.Num)}),
			}).Create(&models.SurveyTally{SurveyID: sv.ID, QuestionID: q.ID, OrgID: orgID, Value: 0, N: 1, Sum: *a.Num}).Error
			if err != nil {
				return fmt.Errorf("survey: tally: %w", err)
			}
			continue
		}
		rows = append(rows, models.SurveyTally{SurveyID: sv.ID, QuestionID: q.ID, OrgID: orgID, Value: 0, N: 1})
		if q.IsChoice() || q.Kind == models.SurveyRating {
			for _, c := range a.Choices {
				rows = append(rows, models.SurveyTally{SurveyID: sv.ID, QuestionID: q.ID, OrgID: orgID, Value: c, N: 1})
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   tallyKey,
		DoUpdates: clause.Assignments(map[string]any{"n": gorm.Expr("survey_tallies.n + 1")}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("survey: tally: %w", err)
	}
	return nil
}

var tallyKey = []clause.Column{{Name: "survey_id"}, {Name: "question_id"}, {Name: "org_id"}, {Name: "value"}}

// randomID is the id of an anonymous response: random, far above any serial id, so its order tells
// nothing.
func randomID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return 1<<52 | binary.BigEndian.Uint64(b[:])>>12
}

// payloadOf is the Payload of a survey's broadcasts.
func payloadOf(id uint) string { return fmt.Sprintf(`{"survey_id":%d}`, id) }

// DropDrafts deletes the drafts of surveys past their deadline or closed ("partial answers kept until
// the deadline").
func (s *Service) DropDrafts(ctx context.Context) (int64, error) {
	db := s.db.WithContext(ctx)
	ended := db.Model(&models.Survey{}).Select("id").Where("status = ? OR deadline <= ?", models.SurveyClosed, s.now())
	drafts := db.Model(&models.SurveyResponse{}).Select("id").Where("done = ? AND survey_id IN (?)", false, ended)
	if err := db.Where("response_id IN (?)", drafts).Delete(&models.SurveyAnswer{}).Error; err != nil {
		return 0, fmt.Errorf("survey: drop draft answers: %w", err)
	}
	res := db.Where("done = ? AND survey_id IN (?)", false, ended).Delete(&models.SurveyResponse{})
	if res.Error != nil {
		return 0, fmt.Errorf("survey: drop drafts: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// memberOf loads a member as the bot knows him (for the H5 form, whose link names him).
func (s *Service) memberOf(ctx context.Context, id uint) (*bot.Member, error) {
	var m models.Member
	err := s.db.WithContext(ctx).Preload("Org").Where("id = ? AND active = ?", id, true).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("survey: member %d: %w", id, err)
	}
	return &bot.Member{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.Org.Path}, nil
}
