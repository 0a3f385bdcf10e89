package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/kv"
)

// Wrong bind codes are counted in Redis for kv.BindFailTTL per subject: a WeChat user, a client address
// (the mini-program's bind), and everyone together, so that guessing codes is infeasible (8 characters
// of 31: with a county's 5,000 live codes, about 1.7e8 guesses per hit, against at most
// BindFailsPerWindowAll a quarter of an hour from every account together: years).
const (
	BindFailsPerUser = 10   // per WeChat user (openid), official account or mini-program
	BindFailsPerIP   = 30   // per client address (mini-program)
	BindFailsAll     = 2000 // everyone together: beyond it nobody binds until the window passes
)

// TextBindLocked is what a refused user is told.
const TextBindLocked = "绑定码错误次数太多，请15分钟后再试，或找村书记核对绑定码。"

// Subject is one counter of wrong bind codes and its limit.
type Subject struct {
	Key string // kv.BindFailKey(...)
	Max int
}

// UserSubject, IPSubject and AllSubject are the counters of a WeChat user (per channel), a client
// address and everyone.
func UserSubject(channel, openID string) Subject {
	return Subject{kv.BindFailKey(channel, openID), BindFailsPerUser}
}
func IPSubject(ip string) Subject { return Subject{kv.BindFailKey("ip", ip), BindFailsPerIP} }
func AllSubject() Subject         { return Subject{kv.BindFailKey("all", "-"), BindFailsAll} }

// BindGuard counts wrong bind codes and refuses binding to subjects over their limit.
type BindGuard struct {
	rdb redis.UniversalClient
	log *slog.Logger
}

// NewBindGuard makes a guard on Redis.
func NewBindGuard(rdb redis.UniversalClient, log *slog.Logger) *BindGuard {
	if log == nil {
		log = slog.Default()
	}
	return &BindGuard{rdb: rdb, log: log}
}

// Refused reports whether any subject reached its limit. The counters may live in different Redis
// Cluster slots: a plain pipeline, not MGET.
func (g *BindGuard) Refused(ctx context.Context, subjects ...Subject) (bool, error) {
	pipe := g.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(subjects))
	for i, s := range subjects {
		cmds[i] = pipe.Get(ctx, s.Key)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("roster: bind failure counters: %w", err)
	}
	for i, s := range subjects {
		if n, _ := cmds[i].Int(); n >= s.Max {
			return true, nil
		}
	}
	return false, nil
}

// Fail counts one wrong code against every subject. A failure to count is logged: the user still got
// his answer.
func (g *BindGuard) Fail(ctx context.Context, subjects ...Subject) {
	pipe := g.rdb.Pipeline()
	for _, s := range subjects {
		pipe.Incr(ctx, s.Key)
		pipe.ExpireNX(ctx, s.Key, kv.BindFailTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		g.log.WarnContext(ctx, "roster: count failed bind", "err", err)
	}
}
