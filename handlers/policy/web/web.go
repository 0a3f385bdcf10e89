// Package web is the policy Q&A's part of the web console and the JSON API: the inbox of questions
// the bot could not answer (scoped to the asker's org), where an administrator answers and the answer
// goes back to the asker in WeChat; the FAQ editor; and the policy documents with their passages.
//
// Who may do what:
//   - the inbox: every viewer sees the questions asked in his part of the org tree; county and town
//     administrators answer them. Village secretaries read only: the answer speaks for the party
//     organization department ("——组织部"), so it comes from the administrators who own the FAQ.
//   - documents and FAQs are one per installation, like the question bank: every viewer reads them,
//     administrators change them, and every change is audited under the administrator's own org.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Audit log objects of this part.
const (
	ObjectQuestion = "policy_question"
	ObjectFAQ      = "policy_faq"
	ObjectDoc      = "policy_doc"
)

// Errors of the policy console.
var (
	// ErrNotFound is a question, FAQ or document that does not exist (or is outside the viewer's
	// scope): answered 404.
	ErrNotFound = fmt.Errorf("policy: %w", scope.ErrNotFound)
	// ErrNotEnabled: the knowledge base's importer is not wired in this build.
	ErrNotEnabled = errors.New("policy: document import is not enabled")
)

// Imported is the outcome of importing one document (server.PolicyImport).
type Imported struct {
	DocID    uint
	Title    string
	Passages int
	Changed  bool // false: the same text was imported before, nothing changed
}

// Importer imports (or re-imports) one document named name (its file name, the natural key). A
// document it cannot read is a console.InputError saying why (field "file"); ErrNotEnabled: there is
// no knowledge base to import into.
type Importer func(ctx context.Context, name string, r io.Reader) (Imported, error)

// Notifier tells a member something outside a conversation (notify.Notifier).
type Notifier interface {
	Tell(ctx context.Context, openID string, note notify.Notice) (notify.Result, error)
}

// Options configure the policy console.
type Options struct {
	Console *console.Service
	DB      *gorm.DB
	Log     *slog.Logger
	Now     func() time.Time
	// Notifier sends a person's answer to the asker; nil: answers are recorded but not sent.
	Notifier Notifier
	// Import imports an uploaded document; nil: uploads answer "未启用".
	Import Importer
	// Refresh brings the Q&A index up to date after an FAQ changed; nil: nothing to refresh.
	Refresh func(ctx context.Context) error
	// Signature ends every answer sent to a member ("" = "组织部").
	Signature string
}

// Web is the policy console's pages and API calls.
type Web struct {
	o   Options
	con *console.Service
	db  *gorm.DB
	log *slog.Logger
	now func() time.Time
}

// New makes the policy console and puts 政策问答 in the console's menu.
func New(o Options) *Web {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Signature == "" {
		o.Signature = "组织部"
	}
	o.Console.AddNav(console.NavItem{Key: "policy", Label: "政策问答", Href: "/console/policy", Order: 45})
	return &Web{o: o, con: o.Console, db: o.DB, log: o.Log, now: o.Now}
}

// admin is the viewer when he may change things here (answers, FAQs, documents); otherwise
// console.ErrNotAllowed (403).
func admin(c *gin.Context) (*console.Viewer, error) {
	v := console.ViewerOf(c)
	if !v.IsAdmin() {
		return nil, console.ErrNotAllowed
	}
	return v, nil
}

// idParam is the :id of the path; a malformed one is not found.
func idParam(c *gin.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, ErrNotFound
	}
	return uint(id), nil
}

// refresh brings the Q&A index up to date after an FAQ change. The change is saved either way; a
// failure is logged and reported to the editor (the index catches up at the next refresh).
func (h *Web) refresh(ctx context.Context) error {
	if h.o.Refresh == nil {
		return nil
	}
	if err := h.o.Refresh(ctx); err != nil {
		h.log.ErrorContext(ctx, "policy: refresh the index after an FAQ change", "err", err)
		return err
	}
	return nil
}

// runes is the number of characters of s.
func runes(s string) int { return utf8.RuneCountInString(s) }

// clip cuts s to n characters, the last one an ellipsis when it was longer.
func clip(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// oneLine is s with its white space runs made single spaces (list cells, template fields).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cleanText trims s and makes every line end a plain \n (browsers send form values with \r\n).
func cleanText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
}

// likeEscape escapes s for a LIKE pattern with ESCAPE '!'.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}
