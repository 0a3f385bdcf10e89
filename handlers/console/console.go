// Package console is the frame of the web console and the JSON API: console accounts, login by password
// or by scanning a QR code in WeChat, sessions in Redis, CSRF protection, login rate limits, the viewer's
// scope, page rendering, the audit log, and the dashboard. Capabilities add their pages and API calls
// to the server's route table behind the middleware this package provides.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
	"github.com/yanzhen/yanzhen/web"
)

// Errors of the console, checked with errors.Is.
var (
	ErrBadLogin   = errors.New("console: wrong username or password")
	ErrLocked     = errors.New("console: too many failed logins")
	ErrNoSession  = errors.New("console: no valid session")
	ErrBadToken   = errors.New("console: invalid API token")
	ErrCSRF       = errors.New("console: missing or wrong CSRF token")
	ErrNotAllowed = errors.New("console: your role may not do this")
)

// Limits of failed logins within kv.LoginLockTTL. An address gets more tries than an account because
// a whole town office may sit behind one address.
const (
	MaxFailsPerAccount = 5
	MaxFailsPerIP      = 20
)

// QRCreator makes a temporary WeChat QR code for a scene (bot/wechat/wxapi.Client).
type QRCreator interface {
	CreateQRScene(ctx context.Context, scene string, expire time.Duration) (ticket, url string, err error)
}

// Options configure the console.
type Options struct {
	DB       *gorm.DB
	Redis    redis.UniversalClient
	Log      *slog.Logger
	Now      func() time.Time
	Location *time.Location
	QR       QRCreator // nil: no QR login
	// BcryptCost: 0 = bcrypt.DefaultCost. Tests lower it.
	BcryptCost int
}

// Service is the console frame.
type Service struct {
	db     *gorm.DB
	rdb    redis.UniversalClient
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	qr     QRCreator
	cost   int
	render *web.Renderer
	static *web.Static
	nav    []NavItem
}

// New builds the console: it parses the templates and loads the static assets.
func New(o Options) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	static, err := web.NewStatic()
	if err != nil {
		return nil, err
	}
	render, err := web.NewRenderer(o.Location, static)
	if err != nil {
		return nil, err
	}
	s := &Service{db: o.DB, rdb: o.Redis, log: o.Log, now: o.Now, loc: o.Location, qr: o.QR,
		cost: o.BcryptCost, render: render, static: static}
	s.nav = []NavItem{
		{Key: "dashboard", Label: "首页", Href: "/console/", Order: 0},
		{Key: "orgs", Label: "组织", Href: "/console/orgs", Order: 10},
		{Key: "members", Label: "花名册", Href: "/console/members", Order: 20},
		{Key: "import", Label: "导入", Href: "/console/import", Order: 30},
		{Key: "accounts", Label: "账号", Href: "/console/accounts", Order: 900, AdminOnly: true},
		{Key: "audit", Label: "操作日志", Href: "/console/audit", Order: 910, AdminOnly: true},
	}
	return s, nil
}

// Static serves /console/static/.
func (s *Service) Static() *web.Static { return s.static }

// Renderer executes the console's templates.
func (s *Service) Renderer() *web.Renderer { return s.render }

// DB is the database the console's scoped queries run on.
func (s *Service) DB() *gorm.DB { return s.db }

// Now is the console's clock.
func (s *Service) Now() time.Time { return s.now() }

// Location is the time zone pages and exports show times in.
func (s *Service) Location() *time.Location { return s.loc }

// NavItem is an entry of the console's main menu.
type NavItem struct {
	Key, Label, Href string
	Order            int
	AdminOnly        bool
}

// AddNav adds a capability's entry to the main menu (called by the wiring before serving).
func (s *Service) AddNav(item NavItem) {
	s.nav = append(s.nav, item)
	for i := len(s.nav) - 1; i > 0 && s.nav[i].Order < s.nav[i-1].Order; i-- {
		s.nav[i], s.nav[i-1] = s.nav[i-1], s.nav[i]
	}
}

func (s *Service) navFor(v *Viewer) []NavItem {
	out := make([]NavItem, 0, len(s.nav))
	for _, n := range s.nav {
		if !n.AdminOnly || v.IsAdmin() {
			out = append(out, n)
		}
	}
	return out
}

// Viewer is who is looking: a logged-in account (by session or API token) and its scope.
type Viewer struct {
	AccountID   uint
	Username    string
	DisplayName string
	Role        string // models.ConsoleAdmin or models.ConsoleSecretary
	MemberID    *uint
	Scope       scope.Scope
	ViaToken    bool   // an API token, not a browser session
	IP          string // the client's address, for the audit log
	session     string // the hash of the browser session's cookie ("" for API tokens)
}

// IsAdmin reports whether the viewer may manage console accounts in his scope.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role == models.ConsoleAdmin }

// RoleName is the role as users read it.
func (v *Viewer) RoleName() string {
	if v.Role == models.ConsoleAdmin {
		if v.Scope.All {
			return "系统管理员"
		}
		return "管理员"
	}
	return "书记"
}

// viewerOf builds the viewer of an account (with its org loaded).
func viewerOf(a *models.Account) (*Viewer, error) {
	v := &Viewer{AccountID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Role: a.Role, MemberID: a.MemberID}
	switch {
	case a.OrgID == nil && a.Role == models.ConsoleAdmin:
		v.Scope = scope.Everything()
	case a.OrgID == nil || a.Org == nil:
		return nil, fmt.Errorf("console: account %d has no org", a.ID)
	default:
		v.Scope = scope.Under(a.Org.ID, a.Org.Path)
	}
	if v.DisplayName == "" {
		v.DisplayName = a.Username
	}
	return v, nil
}
