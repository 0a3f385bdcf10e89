package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/policy"
)

// policyParts are the App's fields of this part.
type policyParts struct {
	policy *policy.Service // the policy Q&A: knowledge base, index, answers in chat
}

// wirePolicy builds the policy Q&A, registers "问 …" and the chat's fallback, gives the console its
// import and refresh hooks, and loads the demo corpus with the demo data.
func (a *App) wirePolicy() error {
	a.policy = policy.New(policy.Options{DB: a.db, Log: a.log, Now: a.now, Dir: PolicyIndexDir(a.cfg)})
	a.policy.Register(a.router)
	a.hooks.importPolicy = func(ctx context.Context, name string, r io.Reader) (PolicyImport, error) {
		res, err := a.policy.Import(ctx, name, r)
		if err != nil {
			return PolicyImport{}, err
		}
		if res.Changed {
			// This process answers from the new document at once; the others on their next question.
			if err := a.policy.Warm(ctx); err != nil {
				a.log.WarnContext(ctx, "policy: index not reloaded after import", "err", err)
			}
		}
		return PolicyImport{DocID: res.DocID, Title: res.Title, Passages: res.Passages, Changed: res.Changed}, nil
	}
	a.hooks.refreshPolicy = a.policy.Refresh
	a.demo = append(a.demo, func(ctx context.Context) error {
		n, err := a.policy.LoadDemo(ctx)
		if err != nil || n == 0 {
			return err
		}
		a.log.Info("demo: loaded the policy corpus (ask in the chat: 问 村书记每年培训要达到多少学时)", "documents", n)
		return a.policy.Warm(ctx)
	})
	// Load (or build) the index now rather than at the first question. A database that cannot be read
	// yet is no reason not to start: the first question tries again.
	if err := a.policy.Warm(context.Background()); err != nil {
		a.log.Warn("policy: index not loaded at start-up", "err", err)
	}
	return nil
}

// PolicyIndexDir is where this server keeps its policy index snapshot: YANZHEN_INDEX_DIR, else a
// folder next to the SQLite database, else one under the system's temp folder named after the
// database, so that servers of different databases on one machine never share a folder.
func PolicyIndexDir(cfg *config.Config) string {
	if cfg.IndexDir != "" {
		return cfg.IndexDir
	}
	if dialect, _ := config.DatabaseDialect(cfg.DatabaseURL); dialect == "sqlite" {
		path := cfg.DatabaseURL[strings.Index(cfg.DatabaseURL, "://")+3:]
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path != "" && path != ":memory:" && !strings.HasPrefix(path, "file::memory:") {
			return filepath.Join(filepath.Dir(path), "yanzhen-index")
		}
	}
	sum := sha256.Sum256([]byte(cfg.DatabaseURL))
	return filepath.Join(os.TempDir(), "yanzhen-index-"+hex.EncodeToString(sum[:6]))
}

// Policy is the policy Q&A (tests and commands).
func (a *App) Policy() *policy.Service { return a.policy }

// policyRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
// The policy console's pages are policyConsoleRoutes'; this part answers in the chat only.
func (a *App) policyRoutes(con, api, mpapi *gin.RouterGroup) {}
