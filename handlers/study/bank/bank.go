// Package bank is the question bank of the study capability: 单选, 多选, 判断 and 填空 questions with
// their explanations and tags, imported from CSV or XLSX (idempotent on the normalized stem), browsed,
// edited and retired on the console, drawn at random for study tasks, and the one place that says
// whether an answer is right (Check) and counts answers (Record).
//
// Questions are not org-scoped: there is one bank per installation. Every logged-in viewer may read
// it; only administrators change it.
package bank

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/scope"
)

// ErrNotFound is a question that does not exist. It wraps scope.ErrNotFound, so the console answers it
// 404.
var ErrNotFound = fmt.Errorf("bank: no such question: %w", scope.ErrNotFound)

// ObjectQuestion is the audit log's object of every change to the bank.
const ObjectQuestion = "question"

// Audit writes an audit entry in the transaction of the change it records (console.Service.Record
// with the viewer who made it).
type Audit func(ctx context.Context, tx *gorm.DB, ch console.Change) error

// Service owns the questions.
type Service struct {
	db    *gorm.DB
	log   *slog.Logger
	now   func() time.Time
	audit Audit // nil: changes are not audited (the command line, the demo, tests)
}

// New makes the question bank.
func New(db *gorm.DB, log *slog.Logger, now func() time.Time) *Service {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, now: now}
}

// Audited is the bank whose changes (Import, Update, SetActive) are written to the audit log by a,
// each in the transaction of the change.
func (s *Service) Audited(a Audit) *Service {
	c := *s
	c.audit = a
	return &c
}

func (s *Service) record(ctx context.Context, tx *gorm.DB, ch console.Change) error {
	if s.audit == nil {
		return nil
	}
	ch.Object = ObjectQuestion
	return s.audit(ctx, tx, ch)
}

// dbOr is tx, or the service's database when tx is nil.
func (s *Service) dbOr(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if tx == nil {
		return s.db.WithContext(ctx)
	}
	return tx.WithContext(ctx)
}

// StemKey is the natural key of a stem (models.Question.StemKey): the SHA-256 of the stem with
// full-width forms folded, letters lower-cased and all white space removed, so that a stem retyped with
// other spacing or punctuation widths is the same question.
func StemKey(stem string) string {
	sum := sha256.Sum256([]byte(stemNorm(stem)))
	return hex.EncodeToString(sum[:])
}

func stemNorm(stem string) string {
	s := width.Fold.String(stem)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\ufeff' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
