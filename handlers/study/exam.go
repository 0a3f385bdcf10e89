package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Completion tests (结业测试): an administrator sets a test for the members of his part of the org tree
// (questions by type and tags, a time limit, a pass mark, a number of attempts, when it is open); a
// member takes it in chat (考试) or in the mini-program, one attempt at a time. A failed attempt puts him
// in remedial study (remedial.go) until he passes a retake.

// Errors of completion tests, checked with errors.Is.
var (
	// ErrExamNotFound: no such exam for this member (or viewer), or no such attempt. It wraps
	// scope.ErrNotFound, so the console answers it 404.
	ErrExamNotFound = fmt.Errorf("study: no such exam: %w", scope.ErrNotFound)
	// ErrExamClosed: the exam is not open now.
	ErrExamClosed = errors.New("study: the exam is not open")
	// ErrExamPassed: the member passed the exam already.
	ErrExamPassed = errors.New("study: the exam is passed already")
	// ErrNoAttemptsLeft: the member used every attempt.
	ErrNoAttemptsLeft = errors.New("study: no attempts left")
	// ErrTimeUp: the attempt's time limit has passed; it is finished as it stood.
	ErrTimeUp = errors.New("study: the exam's time is up")
	// ErrAttemptFinished: the attempt is finished and takes no more answers.
	ErrAttemptFinished = errors.New("study: the attempt is finished")
)

// Limits of an exam.
const (
	maxExamQuestionsPerType = 50
	maxExamQuestions        = 100
	maxExamMinutes          = 600
	maxExamAttempts         = 10
	maxExamTitleRunes       = 128
)

// ObjectExam is the audit log's object of exams.
const ObjectExam = "exam"

// Exams is the completion tests of the study capability.
type Exams struct {
	s    *Service
	bank *bank.Service
	con  *console.Service // audits exams made, answers the console API's errors; nil in tests of the service
}

// NewExams makes the completion tests of s; con audits what administrators do (nil: not audited).
func NewExams(s *Service, con *console.Service) *Exams {
	return &Exams{s: s, bank: bank.New(s.db, s.log, s.now), con: con}
}

// ExamInput is a new exam.
type ExamInput struct {
	OrgID       uint
	Title       string
	Quota       map[string]int // question type → count
	Tags        []string       // none: any
	TimeLimit   int            // minutes; 0 = none
	PassMark    int            // percent
	MaxAttempts int
	OpensAt     time.Time // zero: now
	ClosesAt    time.Time
}

// CreateExam makes an exam for the org in.OrgID and its subtree. Only administrators make exams, and
// only for orgs in their scope (scope.ErrForbidden outside it); the bank must hold enough questions
// for the quota. The exam is audited when the service has a console.
func (e *Exams) CreateExam(ctx context.Context, v *console.Viewer, in ExamInput) (*models.Exam, error) {
	if !v.IsAdmin() {
		return nil, console.ErrNotAllowed
	}
	s := e.s
	var org models.Org
	if err := s.db.WithContext(ctx).Where("id = ?", in.OrgID).Limit(1).Find(&org).Error; err != nil {
		return nil, fmt.Errorf("study: create exam: org %d: %w", in.OrgID, err)
	}
	if org.ID == 0 {
		return nil, console.Invalid("org_id", "没有这个组织")
	}
	if err := v.Scope.Check(org.Path); err != nil {
		return nil, err
	}
	ex, err := e.checkInput(ctx, in)
	if err != nil {
		return nil, err
	}
	ex.OrgID, ex.CreatedBy = org.ID, v.Username
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit(clause.Associations).Create(ex).Error; err != nil {
			return fmt.Errorf("study: create exam: %w", err)
		}
		if e.con == nil {
			return nil
		}
		return e.con.Record(ctx, tx, v, console.Change{
			Action: console.ActionCreate, Object: ObjectExam, ObjectID: ex.ID, OrgPath: org.Path,
			Summary: fmt.Sprintf("新建结业测试 #%d：%s（%s）", ex.ID, ex.Title, org.Path), After: toAPIExam(ex, org.Path),
		})
	})
	if err != nil {
		return nil, err
	}
	return ex, nil
}

// checkInput validates a new exam (a console.InputError naming the field) and makes its row.
func (e *Exams) checkInput(ctx context.Context, in ExamInput) (*models.Exam, error) {
	now := e.s.now()
	title := strings.TrimSpace(in.Title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return nil, console.Invalid("title", "请填写测试名称")
	case n > maxExamTitleRunes:
		return nil, console.Invalid("title", "测试名称最多 %d 个字", maxExamTitleRunes)
	}
	if len(in.Quota) == 0 {
		return nil, console.Invalid("quota", "请给出各题型的题数，如 {\"单选\":5,\"判断\":5}")
	}
	quota := map[string]int{}
	total := 0
	for t, n := range in.Quota {
		nt := bank.NormalizeType(t)
		if nt == "" {
			return nil, console.Invalid("quota", "题型应为%s之一", strings.Join(models.QuestionTypes, "、"))
		}
		if n < 1 || n > maxExamQuestionsPerType {
			return nil, console.Invalid("quota", "每种题型 1–%d 题", maxExamQuestionsPerType)
		}
		quota[nt] += n
		total += n
	}
	if total > maxExamQuestions {
		return nil, console.Invalid("quota", "一次测试最多 %d 题", maxExamQuestions)
	}
	var tags []string
	for _, t := range in.Tags {
		tags = append(tags, splitTags(t)...)
	}
	switch {
	case in.TimeLimit < 0 || in.TimeLimit > maxExamMinutes:
		return nil, console.Invalid("time_limit_minutes", "限时 0–%d 分钟（0 为不限时）", maxExamMinutes)
	case in.PassMark < 1 || in.PassMark > 100:
		return nil, console.Invalid("pass_mark", "及格分 1–100")
	case in.MaxAttempts < 1 || in.MaxAttempts > maxExamAttempts:
		return nil, console.Invalid("max_attempts", "最多可考 1–%d 次", maxExamAttempts)
	}
	opens := in.OpensAt
	if opens.IsZero() {
		opens = now
	}
	switch {
	case in.ClosesAt.IsZero():
		return nil, console.Invalid("closes_at", "请填写截止时间")
	case !in.ClosesAt.After(opens):
		return nil, console.Invalid("closes_at", "截止时间应晚于开始时间")
	case !in.ClosesAt.After(now):
		return nil, console.Invalid("closes_at", "截止时间已经过了")
	}
	for _, t := range models.QuestionTypes {
		n := quota[t]
		if n == 0 {
			continue
		}
		got, err := e.bank.Pick(ctx, nil, bank.PickFilter{Tags: tags, Types: []string{t}, N: n})
		if err != nil {
			return nil, err
		}
		if len(got) < n {
			return nil, console.Invalid("quota", "题库里符合条件的%s题只有 %d 道，不够 %d 道", t, len(got), n)
		}
	}
	qb, _ := json.Marshal(quota)
	return &models.Exam{
		Title: title, Quota: string(qb), Tags: strings.Join(tags, ","), TimeLimit: in.TimeLimit, PassMark: in.PassMark,
		MaxAttempts: in.MaxAttempts, OpensAt: opens.UTC(), ClosesAt: in.ClosesAt.UTC(), CreatedAt: now, UpdatedAt: now,
	}, nil
}

// quotaOf reads an exam's quota, in the order of models.QuestionTypes.
func quotaOf(ex *models.Exam) []typeCount {
	var m map[string]int
	_ = json.Unmarshal([]byte(ex.Quota), &m)
	var out []typeCount
	for _, t := range models.QuestionTypes {
		if m[t] > 0 {
			out = append(out, typeCount{t, m[t]})
		}
	}
	return out
}

type typeCount struct {
	Type  string
	Count int
}

func questionCount(ex *models.Exam) int {
	n := 0
	for _, tc := range quotaOf(ex) {
		n += tc.Count
	}
	return n
}

// examItem is one question of an attempt, as ExamAttempt.Items stores it.
type examItem struct {
	Q     uint   `json:"q"`
	Order []int  `json:"o,omitempty"` // the option shown as letter i is the bank's option Order[i]
	A     string `json:"a,omitempty"` // the answer given, in the bank's terms; "" while unanswered
}

func decodeExamItems(s string) ([]examItem, error) {
	var items []examItem
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return nil, fmt.Errorf("study: attempt items: %w", err)
	}
	return items, nil
}

func encodeExamItems(items []examItem) string {
	b, _ := json.Marshal(items)
	return string(b)
}

// ExamStatus is an open exam as a member sees it.
type ExamStatus struct {
	Exam         models.Exam
	Questions    int
	AttemptsUsed int
	AttemptsLeft int
	Passed       bool
	BestScore    *int                // of his finished attempts
	Current      *models.ExamAttempt // his attempt in progress
}

// CanTake reports whether he may start or resume an attempt.
func (st *ExamStatus) CanTake() bool { return st.Current != nil || (!st.Passed && st.AttemptsLeft > 0) }

// OpenExams are the exams open now for a member (set for his org or one above it), with how he
// stands in each, the earliest closing first. Attempts whose time ran out are finished first.
func (e *Exams) OpenExams(ctx context.Context, memberID uint) ([]ExamStatus, error) {
	if _, err := e.Settle(ctx, memberID); err != nil {
		return nil, err
	}
	s := e.s
	m, err := s.member(ctx, memberID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var exams []models.Exam
	if err := s.db.WithContext(ctx).Where("org_id IN (SELECT id FROM orgs WHERE path IN ?)", ancestors(m.Path)).
		Where("opens_at <= ? AND closes_at > ?", now, now).Order("closes_at, id").Find(&exams).Error; err != nil {
		return nil, fmt.Errorf("study: open exams of member %d: %w", memberID, err)
	}
	if len(exams) == 0 {
		return nil, nil
	}
	ids := make([]uint, len(exams))
	for i := range exams {
		ids[i] = exams[i].ID
	}
	var attempts []models.ExamAttempt
	if err := s.db.WithContext(ctx).Select("id, member_id, exam_id, n, total, answered, right_answers, score, passed, started_at, due_at, finished_at").
		Where("member_id = ? AND exam_id IN ?", memberID, ids).Order("n").Find(&attempts).Error; err != nil {
		return nil, fmt.Errorf("study: attempts of member %d: %w", memberID, err)
	}
	out := make([]ExamStatus, len(exams))
	for i := range exams {
		st := ExamStatus{Exam: exams[i], Questions: questionCount(&exams[i])}
		for j := range attempts {
			a := &attempts[j]
			if a.ExamID != exams[i].ID {
				continue
			}
			st.AttemptsUsed++
			switch {
			case a.FinishedAt == nil:
				st.Current = a
			case st.BestScore == nil || a.Score > *st.BestScore:
				score := a.Score
				st.BestScore = &score
			}
			st.Passed = st.Passed || a.Passed
		}
		st.AttemptsLeft = max(exams[i].MaxAttempts-st.AttemptsUsed, 0)
		out[i] = st
	}
	return out, nil
}

// memberExam is an exam the member may see (set for his org or above), ErrExamNotFound otherwise.
func (e *Exams) memberExam(ctx context.Context, db *gorm.DB, memberID, examID uint) (*models.Exam, error) {
	m, err := e.s.member(ctx, memberID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrExamNotFound
	}
	if err != nil {
		return nil, err
	}
	var exams []models.Exam
	if err := db.WithContext(ctx).Where("id = ? AND org_id IN (SELECT id FROM orgs WHERE path IN ?)", examID, ancestors(m.Path)).
		Limit(1).Find(&exams).Error; err != nil {
		return nil, fmt.Errorf("study: exam %d: %w", examID, err)
	}
	if len(exams) == 0 {
		return nil, ErrExamNotFound
	}
	return &exams[0], nil
}

// ExamQuestion is one question of an attempt as the member sees it.
type ExamQuestion struct {
	Index    int
	Question models.Question
	Options  []string // choice questions: in the member's order, lettered A, B, C, ...
	Given    string   // his answer as he sees it ("" while unanswered)
}

// AttemptView is an attempt as the member sees it: no right answers until it is finished.
type AttemptView struct {
	Exam      models.Exam
	N         int
	Total     int
	Answered  int
	StartedAt time.Time
	DueAt     *time.Time
	Finished  bool
	Questions []ExamQuestion
	Next      int // the first unanswered question; -1 when every one is answered
}

// StartAttempt starts the member's next attempt at an exam, or resumes the one in progress. An
// attempt whose time ran out is finished first (and a new one started, when he has attempts left).
// Errors: ErrExamNotFound, ErrExamClosed, ErrExamPassed, ErrNoAttemptsLeft, ErrNoQuestions.
func (e *Exams) StartAttempt(ctx context.Context, memberID, examID uint) (view *AttemptView, started bool, err error) {
	s := e.s
	if _, err := e.Settle(ctx, memberID); err != nil {
		return nil, false, err
	}
	ex, err := e.memberExam(ctx, s.db, memberID, examID)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	var attempts []models.ExamAttempt
	if err := s.db.WithContext(ctx).Where("member_id = ? AND exam_id = ?", memberID, examID).Order("n").Find(&attempts).Error; err != nil {
		return nil, false, fmt.Errorf("study: attempts of member %d at exam %d: %w", memberID, examID, err)
	}
	var previous []uint
	for i := range attempts {
		a := &attempts[i]
		if a.Passed {
			return nil, false, ErrExamPassed
		}
		if a.FinishedAt == nil { // started while the exam was open: it may be finished within its time
			v, err := e.view(ctx, ex, a)
			return v, false, err
		}
		items, _ := decodeExamItems(a.Items)
		for _, it := range items {
			previous = append(previous, it.Q)
		}
	}
	if !examOpen(ex, now) {
		return nil, false, ErrExamClosed
	}
	if len(attempts) >= ex.MaxAttempts {
		return nil, false, ErrNoAttemptsLeft
	}
	n := len(attempts) + 1
	items, err := e.drawExam(ctx, ex, memberID, n, previous)
	if err != nil {
		return nil, false, err
	}
	a := models.ExamAttempt{MemberID: memberID, ExamID: examID, N: n, Items: encodeExamItems(items), Total: len(items),
		StartedAt: now.UTC()}
	if ex.TimeLimit > 0 {
		due := now.Add(time.Duration(ex.TimeLimit) * time.Minute).UTC()
		a.DueAt = &due
	}
	res := s.db.WithContext(ctx).Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&a)
	if res.Error != nil {
		return nil, false, fmt.Errorf("study: start attempt %d of member %d at exam %d: %w", n, memberID, examID, res.Error)
	}
	if res.RowsAffected == 0 { // started at the same moment by another request: that one
		if err := s.db.WithContext(ctx).Where("member_id = ? AND exam_id = ? AND n = ?", memberID, examID, n).Take(&a).Error; err != nil {
			return nil, false, fmt.Errorf("study: read attempt %d of member %d at exam %d: %w", n, memberID, examID, err)
		}
		v, err := e.view(ctx, ex, &a)
		return v, false, err
	}
	v, err := e.view(ctx, ex, &a)
	return v, true, err
}

func examOpen(ex *models.Exam, now time.Time) bool {
	return !now.Before(ex.OpensAt) && now.Before(ex.ClosesAt)
}

// drawExam draws an attempt's questions by the exam's quota, each type in turn, avoiding the
// questions of the member's earlier attempts while the bank has others. The draw is seeded by member,
// exam and attempt.
func (e *Exams) drawExam(ctx context.Context, ex *models.Exam, memberID uint, n int, previous []uint) ([]examItem, error) {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(uint64(memberID), 10) + "|exam|" + strconv.FormatUint(uint64(ex.ID), 10) + "|" + strconv.Itoa(n)))
	seed := h.Sum64()
	tags := splitTags(ex.Tags)
	var qs []models.Question
	for _, tc := range quotaOf(ex) {
		got, err := e.bank.Pick(ctx, nil, bank.PickFilter{Tags: tags, Types: []string{tc.Type}, Exclude: previous, N: tc.Count, Seed: int64(seed)})
		if err != nil {
			return nil, err
		}
		if len(got) < tc.Count { // retakes see questions again once the new ones run out
			ids := make([]uint, len(got))
			for i := range got {
				ids[i] = got[i].ID
			}
			more, err := e.bank.Pick(ctx, nil, bank.PickFilter{Tags: tags, Types: []string{tc.Type}, Exclude: ids, N: tc.Count - len(got), Seed: int64(seed) + 1})
			if err != nil {
				return nil, err
			}
			got = append(got, more...)
		}
		if len(got) < tc.Count {
			return nil, fmt.Errorf("%w: exam %d needs %d %s questions, the bank has %d", ErrNoQuestions, ex.ID, tc.Count, tc.Type, len(got))
		}
		qs = append(qs, got...)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	items := make([]examItem, len(qs))
	for i := range qs {
		items[i] = examItem{Q: qs[i].ID}
		if m := len(e.s.bank.Options(&qs[i])); m > 1 && (qs[i].Type == models.QuestionSingle || qs[i].Type == models.QuestionMulti) {
			items[i].Order = rng.Perm(m)
		}
	}
	return items, nil
}

// view is an attempt as the member sees it.
func (e *Exams) view(ctx context.Context, ex *models.Exam, a *models.ExamAttempt) (*AttemptView, error) {
	items, err := decodeExamItems(a.Items)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.Q
	}
	qs, err := e.bank.Questions(ctx, nil, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[uint]*models.Question, len(qs))
	for i := range qs {
		byID[qs[i].ID] = &qs[i]
	}
	v := &AttemptView{Exam: *ex, N: a.N, Total: a.Total, StartedAt: a.StartedAt, DueAt: a.DueAt, Finished: a.FinishedAt != nil, Next: -1}
	for i, it := range items {
		eq := ExamQuestion{Index: i}
		if q := byID[it.Q]; q != nil {
			eq.Question = *q
			p := &Prompt{Question: *q, order: it.Order}
			e.s.fillOptions(p)
			eq.Options = p.Options
			if it.A != "" {
				eq.Given = shownAnswer(q, it.Order, it.A)
			}
		} else {
			eq.Question.ID = it.Q // gone from the bank: asked by its id only
		}
		if it.A != "" {
			v.Answered++
		} else if v.Next < 0 {
			v.Next = i
		}
		v.Questions = append(v.Questions, eq)
	}
	return v, nil
}

// Attempt is the member's attempt n at an exam as he sees it (ErrExamNotFound when there is none).
func (e *Exams) Attempt(ctx context.Context, memberID, examID uint, n int) (*AttemptView, error) {
	ex, err := e.memberExam(ctx, e.s.db, memberID, examID)
	if err != nil {
		return nil, err
	}
	var as []models.ExamAttempt
	if err := e.s.db.WithContext(ctx).Where("member_id = ? AND exam_id = ? AND n = ?", memberID, examID, n).Limit(1).Find(&as).Error; err != nil {
		return nil, fmt.Errorf("study: attempt %d of member %d at exam %d: %w", n, memberID, examID, err)
	}
	if len(as) == 0 {
		return nil, ErrExamNotFound
	}
	return e.view(ctx, ex, &as[0])
}

// ExamProgress is where an attempt stands after an answer.
type ExamProgress struct {
	Answered int
	Total    int
	Next     int // the first unanswered question; -1 when every one is answered
}

// AnswerExam records the member's answer to question index (0-based) of his attempt n at an exam:
// option letters in his order, 对/错, or a blank's text. Until the attempt is finished an answer may be
// changed. After the time limit nothing is recorded: the attempt is finished as it stood (ErrTimeUp).
// ErrNotAnAnswer when given is no answer of the question's kind.
func (e *Exams) AnswerExam(ctx context.Context, memberID, examID uint, n, index int, given string) (*ExamProgress, error) {
	s := e.s
	var (
		out     *ExamProgress
		timedUp bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		ex, a, err := e.lockAttempt(ctx, tx, memberID, examID, n)
		if err != nil {
			return err
		}
		if a.FinishedAt != nil {
			return ErrAttemptFinished
		}
		if a.DueAt != nil && now.After(*a.DueAt) {
			if _, err := e.finish(ctx, tx, ex, a, now); err != nil {
				return err
			}
			timedUp = true
			return nil
		}
		items, err := decodeExamItems(a.Items)
		if err != nil {
			return err
		}
		if index < 0 || index >= len(items) {
			return ErrNotFound
		}
		it := &items[index]
		var q models.Question
		if err := tx.Take(&q, it.Q).Error; err != nil {
			return fmt.Errorf("study: exam answer: question %d: %w", it.Q, err)
		}
		if !choiceInRange(&q, s.bank.Options(&q), given) {
			return ErrNotAnAnswer
		}
		_, norm := s.bank.Check(&q, toBankLetters(&q, it.Order, given))
		if norm == "" {
			return ErrNotAnAnswer
		}
		if it.A == "" {
			a.Answered++
		}
		it.A = truncateRunes(norm, 64)
		if err := tx.Model(&models.ExamAttempt{}).Where("id = ?", a.ID).
			UpdateColumns(map[string]any{"items": encodeExamItems(items), "answered": a.Answered}).Error; err != nil {
			return fmt.Errorf("study: exam answer: update attempt %d: %w", a.ID, err)
		}
		out = &ExamProgress{Answered: a.Answered, Total: a.Total, Next: -1}
		for i, it := range items {
			if it.A == "" {
				out.Next = i
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if timedUp {
		return nil, ErrTimeUp
	}
	return out, nil
}

// choiceInRange reports whether given is a choice question's answer at all: letters of its options,
// one for 单选 (a letter past the options, or two to a 单选, is a slip to ask again about, not a wrong
// answer). Other questions pass.
func choiceInRange(q *models.Question, options []string, given string) bool {
	if q.Type != models.QuestionSingle && q.Type != models.QuestionMulti {
		return true
	}
	ls := letters(given)
	if ls == "" || q.Type == models.QuestionSingle && len(ls) != 1 {
		return false
	}
	for _, l := range ls {
		if int(l-'A') >= len(options) {
			return false
		}
	}
	return true
}

// lockAttempt reads an exam and the member's attempt n at it, the attempt locked for update (as
// lockTask does).
func (e *Exams) lockAttempt(ctx context.Context, tx *gorm.DB, memberID, examID uint, n int) (*models.Exam, *models.ExamAttempt, error) {
	q := tx.Where("member_id = ? AND exam_id = ? AND n = ?", memberID, examID, n)
	if lockingSupported(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	} else { // SQLite: a write first, before anything is read in the transaction
		r := tx.Model(&models.ExamAttempt{}).Where("member_id = ? AND exam_id = ? AND n = ?", memberID, examID, n).
			UpdateColumn("answered", gorm.Expr("answered"))
		if r.Error != nil {
			return nil, nil, fmt.Errorf("study: lock attempt %d of member %d at exam %d: %w", n, memberID, examID, r.Error)
		}
	}
	ex, err := e.memberExam(ctx, tx, memberID, examID)
	if err != nil {
		return nil, nil, err
	}
	var as []models.ExamAttempt
	if err := q.Limit(1).Find(&as).Error; err != nil {
		return nil, nil, fmt.Errorf("study: read attempt %d of member %d at exam %d: %w", n, memberID, examID, err)
	}
	if len(as) == 0 {
		return nil, nil, ErrExamNotFound
	}
	return ex, &as[0], nil
}

// ExamResult is a finished attempt.
type ExamResult struct {
	ExamID       uint
	Title        string
	N            int
	Score        int // percent
	Right        int
	Total        int
	PassMark     int
	Passed       bool
	TimeUp       bool // finished by the time limit
	AttemptsLeft int
	Remedial     bool // failed: he is in remedial study now
}

// Finish ends the member's attempt n at an exam and scores it: unanswered questions count wrong. A
// pass ends his remedial study for the exam; a fail starts it, with the tags of the questions he
// missed. Finishing a finished attempt returns its result.
func (e *Exams) Finish(ctx context.Context, memberID, examID uint, n int) (*ExamResult, error) {
	var res *ExamResult
	err := e.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := e.s.now()
		ex, a, err := e.lockAttempt(ctx, tx, memberID, examID, n)
		if err != nil {
			return err
		}
		res, err = e.finish(ctx, tx, ex, a, now)
		return err
	})
	return res, err
}

// Settle finishes the member's attempts whose time ran out, and returns their results.
func (e *Exams) Settle(ctx context.Context, memberID uint) ([]ExamResult, error) {
	var due []models.ExamAttempt
	if err := e.s.db.WithContext(ctx).Select("exam_id, n").
		Where("member_id = ? AND finished_at IS NULL AND due_at IS NOT NULL AND due_at < ?", memberID, e.s.now().UTC()).
		Find(&due).Error; err != nil {
		return nil, fmt.Errorf("study: attempts of member %d past their time: %w", memberID, err)
	}
	var out []ExamResult
	for _, a := range due {
		res, err := e.Finish(ctx, memberID, a.ExamID, a.N)
		if err != nil {
			return nil, err
		}
		out = append(out, *res)
	}
	return out, nil
}

// finish scores an attempt in tx (its row locked) unless it is finished, and enrolls the member in
// remedial study or ends it.
func (e *Exams) finish(ctx context.Context, tx *gorm.DB, ex *models.Exam, a *models.ExamAttempt, now time.Time) (*ExamResult, error) {
	var used int64
	if err := tx.Model(&models.ExamAttempt{}).Where("member_id = ? AND exam_id = ?", a.MemberID, a.ExamID).Count(&used).Error; err != nil {
		return nil, fmt.Errorf("study: count attempts: %w", err)
	}
	res := &ExamResult{ExamID: ex.ID, Title: ex.Title, N: a.N, Total: a.Total, PassMark: ex.PassMark,
		AttemptsLeft: max(ex.MaxAttempts-int(used), 0)}
	if a.FinishedAt != nil {
		res.Score, res.Right, res.Passed = a.Score, a.RightAnswers, a.Passed
		res.TimeUp = a.DueAt != nil && !a.FinishedAt.Before(*a.DueAt)
		var n int64
		if !a.Passed {
			if err := tx.Model(&models.RemedialStudy{}).Where("member_id = ? AND exam_id = ?", a.MemberID, a.ExamID).Count(&n).Error; err != nil {
				return nil, fmt.Errorf("study: remedial study: %w", err)
			}
		}
		res.Remedial = n > 0
		return res, nil
	}
	items, err := decodeExamItems(a.Items)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.Q
	}
	qs, err := e.bank.Questions(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[uint]*models.Question, len(qs))
	for i := range qs {
		byID[qs[i].ID] = &qs[i]
	}
	examTags := splitTags(ex.Tags)
	day := now.In(e.s.loc).Format(dayLayout)
	var missed []string // tags of the questions he missed, in the order met
	for _, it := range items {
		q := byID[it.Q]
		if q == nil {
			continue
		}
		correct := false
		if it.A != "" {
			correct, _ = e.s.bank.Check(q, it.A)
		}
		// An exam answer counts like a daily one: in the question's accuracy and, when wrong (or left
		// unanswered), in the member's wrong-answer book.
		if err := e.s.bank.Record(ctx, tx, q.ID, correct); err != nil {
			return nil, err
		}
		if _, err := e.s.updateBook(ctx, tx, a.MemberID, q.ID, correct, false, day, now); err != nil {
			return nil, err
		}
		if correct {
			res.Right++
			continue
		}
		for _, t := range splitTags(q.Tags) {
			if (len(examTags) == 0 || slices.Contains(examTags, t)) && !slices.Contains(missed, t) {
				missed = append(missed, t)
			}
		}
	}
	if res.Total > 0 {
		res.Score = res.Right * 100 / res.Total
	}
	res.Passed = res.Score >= ex.PassMark
	finished := now.UTC()
	if a.DueAt != nil && now.After(*a.DueAt) {
		finished, res.TimeUp = a.DueAt.UTC(), true
	}
	if err := tx.Model(&models.ExamAttempt{}).Where("id = ?", a.ID).UpdateColumns(map[string]any{
		"right_answers": res.Right, "score": res.Score, "passed": res.Passed, "finished_at": finished,
	}).Error; err != nil {
		return nil, fmt.Errorf("study: finish attempt %d: %w", a.ID, err)
	}
	if res.Passed {
		if err := tx.Where("member_id = ? AND exam_id = ?", a.MemberID, a.ExamID).Delete(&models.RemedialStudy{}).Error; err != nil {
			return nil, fmt.Errorf("study: end remedial study: %w", err)
		}
		return res, nil
	}
	if len(missed) == 0 {
		missed = examTags // every question he missed was gone from the bank, or had no tag
	}
	err = tx.Omit(clause.Associations).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "member_id"}, {Name: "exam_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"tags", "updated_at"}),
	}).Create(&models.RemedialStudy{MemberID: a.MemberID, ExamID: a.ExamID, Tags: strings.Join(missed, ","), CreatedAt: now, UpdatedAt: now}).Error
	if err != nil {
		return nil, fmt.Errorf("study: start remedial study: %w", err)
	}
	res.Remedial = true
	return res, nil
}

// ExamResults are how the members in a scope did at an exam.
type ExamResults struct {
	Members    int      // members who took it
	Attempts   int      // attempts, finished or not
	InProgress int      // attempts not finished
	Passed     int      // members who passed
	PassRate   *float64 // Passed / Members; nil before anyone took it
}

// ExamRow is an exam as the console lists it, with its results in the viewer's scope.
type ExamRow struct {
	Exam    models.Exam
	OrgPath string
	Results ExamResults
}

// ListExams lists the exams that concern a scope: set for an org in it, or above it (their results
// then count the scope's members only), the latest first.
func (e *Exams) ListExams(ctx context.Context, sc scope.Scope) ([]ExamRow, error) {
	db := e.s.db.WithContext(ctx)
	q := db.Table("exams").Select("exams.*, orgs.path AS org_path").Joins("JOIN orgs ON orgs.id = exams.org_id")
	switch {
	case sc.All:
	case sc.Path == "":
		return nil, nil
	default:
		q = q.Where("(orgs.path = ? OR orgs.path LIKE ? ESCAPE '!' OR orgs.path IN ?)", sc.Path, scope.SubtreeLike(sc.Path), ancestors(sc.Path))
	}
	var rows []struct {
		models.Exam
		OrgPath string
	}
	if err := q.Order("exams.id DESC").Limit(1000).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: list exams: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]uint, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var counts []struct {
		ExamID     uint
		Members    int
		Attempts   int
		InProgress int
		Passed     int
	}
	err := db.Table("exam_attempts a").Joins("JOIN members ON members.id = a.member_id").
		Select("a.exam_id, COUNT(DISTINCT a.member_id) AS members, COUNT(*) AS attempts, "+
			"COALESCE(SUM(CASE WHEN a.finished_at IS NULL THEN 1 ELSE 0 END), 0) AS in_progress, "+
			"COUNT(DISTINCT CASE WHEN a.passed THEN a.member_id END) AS passed").
		Where("a.exam_id IN ?", ids).Scopes(sc.Members).Group("a.exam_id").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("study: exam results: %w", err)
	}
	byExam := make(map[uint]ExamResults, len(counts))
	for _, c := range counts {
		r := ExamResults{Members: c.Members, Attempts: c.Attempts, InProgress: c.InProgress, Passed: c.Passed}
		if c.Members > 0 {
			rate := float64(c.Passed) / float64(c.Members)
			r.PassRate = &rate
		}
		byExam[c.ExamID] = r
	}
	out := make([]ExamRow, len(rows))
	for i, r := range rows {
		out[i] = ExamRow{Exam: r.Exam, OrgPath: r.OrgPath, Results: byExam[r.ID]}
	}
	return out, nil
}
