// Package roster is the party-member roster and WeChat identity: the org tree (county → town →
// village), members and their roles, importing them from CSV or XLSX, one-time bind codes that link a
// WeChat user to a member, and the chat routes that bind, unbind and greet.
package roster

import (
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
)

// Service is the router's identity lookup.
var _ bot.Identities = (*Service)(nil)

// Errors of binding, checked with errors.Is.
var (
	ErrCodeInvalid    = errors.New("roster: bind code unknown or already used")
	ErrAlreadyBound   = errors.New("roster: this WeChat user is already bound to a member")
	ErrMemberInactive = errors.New("roster: member is not active")
	ErrNotBound       = errors.New("roster: this WeChat user is not bound")
	ErrBadChannel     = errors.New("roster: unknown channel")
)

// Service owns the org tree, the members and their WeChat bindings.
type Service struct {
	db    *gorm.DB
	log   *slog.Logger
	now   func() time.Time
	guard *BindGuard // wrong bind codes in the chat; nil: not counted (commands and tests without Redis)
}

// New makes the roster service.
func New(db *gorm.DB, log *slog.Logger, now func() time.Time) *Service {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, now: now}
}

// UseGuard makes the chat's 绑定 CODE (and bind:CODE scenes) count wrong codes and refuse users over
// the limit.
func (s *Service) UseGuard(g *BindGuard) { s.guard = g }

// UnboundMember is a member with no WeChat bound yet, and the code that binds him: a row of the
// import's output, the printable bind sheet and the demo log.
type UnboundMember struct {
	ID       uint
	Name     string
	Phone    string
	Role     string
	OrgPath  string
	BindCode string
}
