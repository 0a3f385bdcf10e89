// Package study is the daily study task: every morning each active member gets a few questions from
// the question bank (with the ones he got wrong coming back on later days), answers them in chat one at
// a time (or, later, in one call from the mini-program), and earns points, a streak and training
// minutes toward his yearly target; village, town and county leaderboards follow the points.
//
// Scoring lives in one place (Answer): the answer, the bank's counters, the wrong-answer book, the
// ledger and the member's running totals change in one transaction, and a repeated answer changes
// nothing. The question bank itself (import, console, answer matching) is package bank.
package study

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/models"
)

// Errors, checked with errors.Is.
var (
	// ErrNotFound: no such task of this member, or the question is not in it.
	ErrNotFound = errors.New("study: no such task or question")
	// ErrTaskClosed: the task is of another day than today; only today's task takes answers.
	ErrTaskClosed = errors.New("study: the task is not today's")
	// ErrNoQuestions: the bank has no question the member's rule can draw.
	ErrNoQuestions = errors.New("study: no questions to draw")
	// ErrNotAnAnswer: what was given is no answer of the question's kind (letters to a 判断, nothing);
	// nothing is recorded.
	ErrNotAnAnswer = errors.New("study: not an answer to this question")
)

// Bank is what the study capability needs of the question bank (package bank): whether an answer is
// right, the options of a question, and counting answers in the scoring transaction.
type Bank interface {
	// Check says whether given (option letters in the bank's order, 对/错, or a blank's text) is the
	// right answer, and returns it normalized for storing ("" when it is no answer of that kind).
	Check(q *models.Question, given string) (correct bool, normalized string)
	// Options are a choice question's options in the bank's order (A, B, C, ...).
	Options(q *models.Question) []string
	// Record counts one answer to the question (Attempts, and Correct when right) in tx.
	Record(ctx context.Context, tx *gorm.DB, questionID uint, correct bool) error
}

// questionBank is package bank as the study capability uses it.
type questionBank struct{ *bank.Service }

func (questionBank) Check(q *models.Question, given string) (bool, string) {
	return bank.Check(q, given)
}
func (questionBank) Options(q *models.Question) []string { return bank.Options(q) }

// Options configure the service.
type Options struct {
	DB       *gorm.DB
	Redis    redis.UniversalClient // the leaderboards; nil = none (publishing, tests)
	Log      *slog.Logger
	Now      func() time.Time // the clock of "today", streaks and years; nil = time.Now
	Location *time.Location   // YANZHEN_TZ; nil = Asia/Shanghai
	Bank     Bank             // nil = package bank on DB
	// HoursTarget is the yearly training target per role, in hours; nil = DefaultHoursTarget().
	HoursTarget map[string]int
}

// DefaultHoursTarget is the yearly training target per role: 56 hours for secretaries and party-
// building aides (as committee members), 32 for members. Roles not listed get TargetOtherRoles.
func DefaultHoursTarget() map[string]int {
	return map[string]int{
		models.RoleSecretary: 56,
		models.RoleAide:      56,
		models.RoleMember:    32,
		models.RoleAdmin:     32,
	}
}

// TargetOtherRoles is the yearly target, in hours, of a role DefaultHoursTarget does not list.
const TargetOtherRoles = 32

// Service is the study capability.
type Service struct {
	db      *gorm.DB
	rdb     redis.UniversalClient
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	bank    Bank
	targets map[string]int

	helpLines func(role string) []string // the router's 帮助 lines, set by Register
}

// New makes the service. It starts nothing: publishing is called by the scheduler (or on demand).
func New(opts Options) *Service {
	s := &Service{db: opts.DB, rdb: opts.Redis, log: opts.Log, now: opts.Now, loc: opts.Location, bank: opts.Bank, targets: opts.HoursTarget}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
			s.loc = loc
		} else {
			s.loc = time.Local
		}
	}
	if s.bank == nil {
		s.bank = questionBank{bank.New(s.db, s.log, s.now)}
	}
	if s.targets == nil {
		s.targets = DefaultHoursTarget()
	}
	return s
}

// HoursTarget is the yearly training target of a role, in hours.
func (s *Service) HoursTarget(role string) int {
	if h, ok := s.targets[role]; ok {
		return h
	}
	return TargetOtherRoles
}

// dayLayout is how days are written: tasks, ledger and wrong items use "2006-01-02" strings in
// YANZHEN_TZ, which sort and compare as dates.
const dayLayout = "2006-01-02"

// Today is the day of the service's clock in YANZHEN_TZ ("2026-11-21").
func (s *Service) Today() string { return s.now().In(s.loc).Format(dayLayout) }

// addDays moves a day string by n days (the caller's days are valid: they come from the clock or the
// database).
func addDays(day string, n int) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(dayLayout)
}

// yearOf is the year of a day string.
func yearOf(day string) int {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return 0
	}
	return t.Year()
}

// isPostgres / lockRow: PostgreSQL and MySQL take row locks with SELECT … FOR UPDATE; SQLite has one
// writer at a time anyway and does not know the clause.
func lockingSupported(db *gorm.DB) bool { return models.Dialect(db) != "sqlite" }
