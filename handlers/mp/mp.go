// Package mp is the mini-program's member API under /api/v1/mp: login with the code of wx.login, a
// session token of Yanzhen's own, binding the mini-program's openid to the roster with the same
// one-time bind codes as the official account, and the middleware that hands other capabilities the
// member behind a call.
//
// A capability adds a member route with one line in server/routes.go, behind Auth:
//
//	mpapi.GET("/study/today", a.mpAPI.Auth(), a.study.MPToday)
//
// and its handler reads the caller with mp.MemberOf(c).
package mp

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/models"
)

// Limits of the API.
const (
	// LoginsPerWindow: logins one client address may make per kv.MPLoginWindow. A village office's
	// wifi or a carrier's NAT puts many members behind one address, and a training session may have a
	// whole village open the mini-program at once; wx.login itself is silent and cached for
	// kv.MPSessionTTL, so an honest client logs in about once a week.
	LoginsPerWindow = 60
)

// WeChat exchanges a wx.login code for the user's openid (bot/wechat/wxapi.Client).
type WeChat interface {
	Code2Session(ctx context.Context, code string) (openID, unionID, sessionKey string, err error)
}

// Binder binds a WeChat openid to the roster member holding a bind code (handlers/roster.Service).
type Binder interface {
	Bind(ctx context.Context, channel, openID, code string) (*models.Member, error)
}

// IdentityCache is the bot's openid → member cache (bot.Store), dropped after a binding so that the
// mini-program's customer-service chat knows the member at once.
type IdentityCache interface {
	InvalidateIdentity(ctx context.Context, channel, openID string) error
}

// Options are what the mini-program API needs.
type Options struct {
	DB         *gorm.DB
	Redis      redis.UniversalClient
	WeChat     WeChat
	Roster     Binder
	Identities IdentityCache // nil: the bot sees a new binding within kv.IdentityTTL
	Log        *slog.Logger
	Now        func() time.Time
}

// Service is the mini-program API: its sessions, login, binding and the member middleware.
type Service struct {
	db     *gorm.DB
	rdb    redis.UniversalClient
	wx     WeChat
	roster Binder
	ids    IdentityCache
	log    *slog.Logger
	now    func() time.Time
	guard  *roster.BindGuard // wrong bind codes, counted per user, per address and overall
}

// New makes the mini-program API.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.DB, rdb: o.Redis, wx: o.WeChat, roster: o.Roster, ids: o.Identities, log: o.Log, now: o.Now,
		guard: roster.NewBindGuard(o.Redis, o.Log)}
}
