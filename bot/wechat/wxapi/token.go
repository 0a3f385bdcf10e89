package wxapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/kv"
)

// TokenSource hands out one app's access token, shared through Redis by every process of Yanzhen.
//
// It adds what the SDK's StableAccessToken lacks: a cross-process lock (kv.AccessTokenLockKey), so
// one process fetches while the others wait for the shared token, and Invalidate, for a token WeChat
// rejected. It uses the stable-token API without force_refresh, which hands every caller the current
// token, so a normal fetch after a 40001 is right and never invalidates another process's token.
//
// It satisfies the SDK's credential.AccessTokenContextHandle, so SDK objects can share the token.
type TokenSource struct {
	app  config.WeChatApp
	rdb  redis.UniversalClient
	call *caller

	sem  chan struct{} // one fetching goroutine per process; waits respect the context
	wait time.Duration // how long to wait for another process's fetch before giving up
	poll time.Duration

	// The last failed fetch, read and written only while holding sem: goroutines queued behind a
	// failure get it at once instead of each asking WeChat again.
	lastErr   error
	lastErrAt time.Time
}

// failMemory is how long a failed fetch is answered from memory.
const failMemory = time.Second

func newTokenSource(app config.WeChatApp, rdb redis.UniversalClient, c *caller) *TokenSource {
	return &TokenSource{
		app:  app,
		rdb:  rdb,
		call: c,
		sem:  make(chan struct{}, 1),
		wait: kv.TokenLockTTL + 2*time.Second,
		poll: 25 * time.Millisecond,
	}
}

// AppID is the app whose token this is.
func (ts *TokenSource) AppID() string { return ts.app.AppID }

// GetAccessToken is Token with a background context (the SDK's credential.AccessTokenHandle).
func (ts *TokenSource) GetAccessToken() (string, error) {
	return ts.Token(context.Background())
}

// GetAccessTokenContext is Token (the SDK's credential.AccessTokenContextHandle).
func (ts *TokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	return ts.Token(ctx)
}

// Token returns the shared token, fetching it when no process has it yet.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, err := ts.cached(ctx); err != nil || tok != "" {
		return tok, err
	}
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ts.unavailable(ctx.Err())
	}
	defer func() { <-ts.sem }()

	if ts.lastErr != nil && time.Since(ts.lastErrAt) < failMemory {
		return "", ts.lastErr
	}
	deadline := time.Now().Add(ts.wait)
	for {
		if tok, err := ts.cached(ctx); err != nil || tok != "" {
			return tok, err
		}
		lock := randomHex(16)
		ok, err := ts.rdb.SetNX(ctx, kv.AccessTokenLockKey(ts.app.AppID), lock, kv.TokenLockTTL).Result()
		if err != nil {
			return "", ts.unavailable(err)
		}
		if ok {
			tok, err := ts.fetchLocked(ctx, lock)
			switch {
			case err == nil:
				ts.lastErr = nil
			case ctx.Err() == nil: // not just this caller giving up
				ts.lastErr, ts.lastErrAt = err, time.Now()
			}
			return tok, err
		}
		if time.Now().After(deadline) {
			return "", ts.unavailable(errors.New("another process held the refresh lock too long"))
		}
		t := time.NewTimer(ts.poll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", ts.unavailable(ctx.Err())
		}
	}
}

// fetchLocked asks WeChat for the token while holding the Redis lock, and shares it.
func (ts *TokenSource) fetchLocked(ctx context.Context, lock string) (string, error) {
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		unlockScript.Run(uctx, ts.rdb, []string{kv.AccessTokenLockKey(ts.app.AppID)}, lock)
	}()
	// Another process may have shared a token between our read and taking the lock.
	if tok, err := ts.cached(ctx); err != nil || tok != "" {
		return tok, err
	}
	var res struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	err := ts.call.do(ctx, http.MethodPost, APIStableToken, nil, map[string]any{
		"grant_type":    "client_credential",
		"appid":         ts.app.AppID,
		"secret":        ts.app.Secret,
		"force_refresh": false,
	}, &res)
	if err == nil && res.AccessToken == "" {
		err = &TransportError{API: APIStableToken, Err: errors.New("answer has no access_token")}
	}
	if err != nil {
		ts.call.log.Warn("wechat access token fetch failed", "appid", ts.app.AppID, "err", err)
		return "", ts.unavailable(err)
	}
	if err := ts.rdb.Set(ctx, kv.AccessTokenKey(ts.app.AppID), res.AccessToken, tokenTTL(res.ExpiresIn)).Err(); err != nil {
		// The token works; other processes will fetch the same one from the stable-token API.
		ts.call.log.Warn("wechat access token not shared", "appid", ts.app.AppID, "err", err)
	}
	ts.call.log.Info("wechat access token fetched", "appid", ts.app.AppID, "expires_in", res.ExpiresIn)
	return res.AccessToken, nil
}

// Invalidate drops the shared token, so the next Token fetches one.
func (ts *TokenSource) Invalidate(ctx context.Context) error {
	if err := ts.rdb.Del(ctx, kv.AccessTokenKey(ts.app.AppID)).Err(); err != nil {
		return ts.unavailable(err)
	}
	return nil
}

// invalidateIf drops the shared token only if it is still tok: when many calls see a 40001 at once,
// the first drops it and the others keep the fresh one.
func (ts *TokenSource) invalidateIf(ctx context.Context, tok string) error {
	if err := unlockScript.Run(ctx, ts.rdb, []string{kv.AccessTokenKey(ts.app.AppID)}, tok).Err(); err != nil {
		return ts.unavailable(err)
	}
	return nil
}

func (ts *TokenSource) cached(ctx context.Context) (string, error) {
	tok, err := ts.rdb.Get(ctx, kv.AccessTokenKey(ts.app.AppID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", ts.unavailable(err)
	}
	return tok, nil
}

func (ts *TokenSource) unavailable(err error) error {
	return fmt.Errorf("wxapi: token for %s: %w: %w", ts.app.AppID, ErrTokenUnavailable, err)
}

// tokenTTL: WeChat hands out a new stable token in the old one's last 5 minutes, so the shared copy
// expires then.
func tokenTTL(expiresIn int64) time.Duration {
	d := time.Duration(expiresIn) * time.Second
	if d > 10*time.Minute {
		return d - 5*time.Minute
	}
	return max(d/2, time.Second)
}

// unlockScript deletes KEYS[1] only if it still holds ARGV[1].
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
