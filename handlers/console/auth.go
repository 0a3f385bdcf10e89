package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// HashPassword hashes a console password with bcrypt.
func (s *Service) HashPassword(pw string) (string, error) {
	cost := s.cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if len(pw) > 72 {
		return "", fmt.Errorf("console: password longer than 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("console: hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the username is unknown, so that a wrong username and a wrong
// password take the same time.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("yanzhen-no-such-user"), bcrypt.DefaultCost)

// Login checks a username and password from address ip. Too many failures lock the account and the
// address for kv.LoginLockTTL (ErrLocked); a success resets both counters.
func (s *Service) Login(ctx context.Context, username, password, ip string) (*Viewer, error) {
	username = strings.TrimSpace(username)
	acctKey := kv.LoginFailKey("acct", strings.ToLower(username))
	ipKey := kv.LoginFailKey("ip", ip)
	fails, err := s.rdb.MGet(ctx, acctKey, ipKey).Result()
	if err != nil {
		return nil, fmt.Errorf("console: login counters: %w", err)
	}
	if count(fails[0]) >= MaxFailsPerAccount || count(fails[1]) >= MaxFailsPerIP {
		return nil, ErrLocked
	}
	var a models.Account
	err = s.db.WithContext(ctx).Preload("Org").Where("username = ?", username).Take(&a).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	case err != nil:
		return nil, fmt.Errorf("console: find account: %w", err)
	}
	if err != nil || !a.Active || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		pipe := s.rdb.TxPipeline()
		for _, k := range []string{acctKey, ipKey} {
			pipe.Incr(ctx, k)
			pipe.ExpireNX(ctx, k, kv.LoginLockTTL)
		}
		if _, perr := pipe.Exec(ctx); perr != nil {
			s.log.WarnContext(ctx, "console: count failed login", "err", perr)
		}
		return nil, ErrBadLogin
	}
	if err := s.rdb.Del(ctx, acctKey, ipKey).Err(); err != nil {
		s.log.WarnContext(ctx, "console: reset login counters", "err", err)
	}
	now := s.now()
	s.db.WithContext(ctx).Model(&models.Account{}).Where("id = ?", a.ID).Update("last_login_at", now)
	v, err := viewerOf(&a)
	if err != nil {
		return nil, err
	}
	v.IP = ip
	return v, nil
}

func count(v any) int {
	s, _ := v.(string)
	n, _ := strconv.Atoi(s)
	return n
}

// EnsureAdmin creates the bootstrap administrator (scope: the whole installation) unless an account
// with that username exists. It reports whether it created one.
func (s *Service) EnsureAdmin(ctx context.Context, username, password string) (bool, error) {
	return s.ensureAccount(ctx, models.Account{Username: username, DisplayName: "系统管理员", Role: models.ConsoleAdmin, Active: true}, password)
}

func (s *Service) ensureAccount(ctx context.Context, a models.Account, password string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.Account{}).Where("username = ?", a.Username).Count(&n).Error; err != nil {
		return false, fmt.Errorf("console: find account %s: %w", a.Username, err)
	}
	if n > 0 {
		return false, nil
	}
	h, err := s.HashPassword(password)
	if err != nil {
		return false, err
	}
	a.PasswordHash = h
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return false, nil
		}
		return false, fmt.Errorf("console: create account %s: %w", a.Username, err)
	}
	return true, nil
}

// session is what Redis holds for a logged-in browser.
type session struct {
	AccountID uint
	CSRF      string
	Hash      string // of the cookie: the session's Redis key
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewSession starts a session for an account and returns its cookie value.
func (s *Service) NewSession(ctx context.Context, accountID uint) (string, error) {
	tok := randomToken(32)
	now := s.now().Unix()
	hash := tokenHash(tok)
	key := kv.SessionKey(hash)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, key, "a", accountID, "c", randomToken(24), "t", now, "i", now)
	pipe.Expire(ctx, key, kv.SessionIdleTTL)
	pipe.SAdd(ctx, kv.AccountSessionsKey(accountID), hash)
	pipe.Expire(ctx, kv.AccountSessionsKey(accountID), kv.SessionMaxAge)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("console: save session: %w", err)
	}
	return tok, nil
}

// sessionOf loads the session of a cookie value, checking its idle and absolute deadlines against the
// clock, and slides its idle deadline (at most once a minute).
func (s *Service) sessionOf(ctx context.Context, tok string) (*session, error) {
	if tok == "" || len(tok) > 128 {
		return nil, ErrNoSession
	}
	key := kv.SessionKey(tokenHash(tok))
	vals, err := s.rdb.HMGet(ctx, key, "a", "c", "t", "i").Result()
	if err != nil {
		return nil, fmt.Errorf("console: load session: %w", err)
	}
	if vals[0] == nil || vals[1] == nil {
		return nil, ErrNoSession
	}
	now := s.now()
	created, seen := int64(count(vals[2])), int64(count(vals[3]))
	if now.Sub(time.Unix(created, 0)) > kv.SessionMaxAge || now.Sub(time.Unix(seen, 0)) > kv.SessionIdleTTL {
		s.rdb.Del(ctx, key)
		return nil, ErrNoSession
	}
	if now.Unix()-seen >= 60 {
		pipe := s.rdb.Pipeline()
		pipe.HSet(ctx, key, "i", now.Unix())
		pipe.Expire(ctx, key, kv.SessionIdleTTL)
		if _, err := pipe.Exec(ctx); err != nil {
			s.log.WarnContext(ctx, "console: slide session", "err", err)
		}
	}
	id, _ := strconv.ParseUint(vals[0].(string), 10, 64)
	return &session{AccountID: uint(id), CSRF: vals[1].(string), Hash: tokenHash(tok)}, nil
}

// EndAccountSessions logs an account out everywhere (its password was reset), except the session
// whose hash is keep (the browser that changed its own password; "" = none).
func (s *Service) EndAccountSessions(ctx context.Context, accountID uint, keep string) error {
	set := kv.AccountSessionsKey(accountID)
	hashes, err := s.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return fmt.Errorf("console: sessions of account %d: %w", accountID, err)
	}
	pipe := s.rdb.Pipeline()
	for _, h := range hashes {
		if h != keep {
			pipe.Del(ctx, kv.SessionKey(h))
			pipe.SRem(ctx, set, h)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("console: end sessions of account %d: %w", accountID, err)
	}
	return nil
}

// EndSession logs a browser out.
func (s *Service) EndSession(ctx context.Context, tok string) error {
	if tok == "" {
		return nil
	}
	return s.rdb.Del(ctx, kv.SessionKey(tokenHash(tok))).Err()
}

// viewerByAccount loads an active account's viewer.
func (s *Service) viewerByAccount(ctx context.Context, id uint) (*Viewer, error) {
	var a models.Account
	err := s.db.WithContext(ctx).Preload("Org").Where("id = ? AND active = ?", id, true).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("console: load account %d: %w", id, err)
	}
	return viewerOf(&a)
}

// API tokens look like yzt_<43 characters>.
const apiTokenPrefix = "yzt_"

// NewAPIToken makes an API token for an account and returns it (shown once; only its hash is kept).
func (s *Service) NewAPIToken(ctx context.Context, accountID uint, name string, expires *time.Time) (string, *models.APIToken, error) {
	tok := apiTokenPrefix + randomToken(32)
	t := &models.APIToken{AccountID: accountID, Name: name, Hash: tokenHash(tok), Prefix: tok[:10], ExpiresAt: expires, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return "", nil, fmt.Errorf("console: create API token: %w", err)
	}
	return tok, t, nil
}

// viewerByAPIToken authenticates an API call.
func (s *Service) viewerByAPIToken(ctx context.Context, tok string) (*Viewer, error) {
	if !strings.HasPrefix(tok, apiTokenPrefix) || len(tok) > 128 {
		return nil, ErrBadToken
	}
	var t models.APIToken
	err := s.db.WithContext(ctx).Where("hash = ?", tokenHash(tok)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("console: find API token: %w", err)
	}
	now := s.now()
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(tokenHash(tok))) != 1 || (t.ExpiresAt != nil && now.After(*t.ExpiresAt)) {
		return nil, ErrBadToken
	}
	v, err := s.viewerByAccount(ctx, t.AccountID)
	if errors.Is(err, ErrNoSession) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now)
	}
	v.ViaToken = true
	return v, nil
}

// sessionCookieAge: the browser keeps the cookie as long as the session can live at most.
const sessionCookieAge = 12 * time.Hour
