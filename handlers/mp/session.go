package mp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/kv"
)

// Session tokens look like yzm_<43 characters>: the prefix tells them from console API tokens (yzt_).
const tokenPrefix = "yzm_"

// errNoSession: no token, a malformed one, or one whose session ended.
var errNoSession = errors.New("mp: no session")

// session is a logged-in mini-program user.
type session struct {
	OpenID string
	Hash   string // of the token: the session's Redis key
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// newSession starts a session for a mini-program openid and returns its token (shown once: Redis
// keeps only its hash).
func (s *Service) newSession(ctx context.Context, openID string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	key := kv.MPSessionKey(tokenHash(tok))
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, key, "o", openID, "e", s.now().Add(kv.MPSessionTTL).Unix())
	pipe.Expire(ctx, key, kv.MPSessionTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("mp: save session: %w", err)
	}
	return tok, nil
}

// sessionOf loads the session of a token; errNoSession when there is none or it has ended by the
// server's clock (Redis's TTL ends it too, by the wall clock).
func (s *Service) sessionOf(ctx context.Context, tok string) (*session, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 128 {
		return nil, errNoSession
	}
	hash := tokenHash(tok)
	key := kv.MPSessionKey(hash)
	vals, err := s.rdb.HMGet(ctx, key, "o", "e").Result()
	if err != nil {
		return nil, fmt.Errorf("mp: load session: %w", err)
	}
	openID, _ := vals[0].(string)
	deadline, _ := vals[1].(string)
	if openID == "" {
		return nil, errNoSession
	}
	if e, _ := strconv.ParseInt(deadline, 10, 64); !s.now().Before(time.Unix(e, 0)) {
		if err := s.rdb.Del(ctx, key).Err(); err != nil {
			s.log.WarnContext(ctx, "mp: drop ended session", "err", err)
		}
		return nil, errNoSession
	}
	return &session{OpenID: openID, Hash: hash}, nil
}

// endSession logs a session out.
func (s *Service) endSession(ctx context.Context, sess *session) error {
	if err := s.rdb.Del(ctx, kv.MPSessionKey(sess.Hash)).Err(); err != nil {
		return fmt.Errorf("mp: end session: %w", err)
	}
	return nil
}

// allowLogin counts a login from address ip and reports whether it is within LoginsPerWindow.
func (s *Service) allowLogin(ctx context.Context, ip string) (bool, error) {
	key := kv.MPLoginRateKey(ip)
	pipe := s.rdb.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.ExpireNX(ctx, key, kv.MPLoginWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("mp: count login: %w", err)
	}
	return n.Val() <= LoginsPerWindow, nil
}

// bindSubjects are the counters of wrong bind codes a mini-program bind counts against.
func bindSubjects(openID, ip string) []roster.Subject {
	return []roster.Subject{roster.UserSubject("mp", openID), roster.IPSubject(ip), roster.AllSubject()}
}

// forgetIdentity drops the bot's cached identity of a mini-program user whose binding changed.
func (s *Service) forgetIdentity(ctx context.Context, openID string) {
	if s.ids == nil {
		return
	}
	if err := s.ids.InvalidateIdentity(ctx, bot.ChannelMP, openID); err != nil {
		s.log.WarnContext(ctx, "mp: drop cached identity", "err", err)
	}
}

// boundMember is the member whose mini-program openid this is, active or not.
type boundMember struct {
	bot.Member
	Active bool
}

// memberByOpenID finds the member bound to a mini-program openid, active or not; nil when none is.
// One query on a unique index, on every member call: a member deactivated on the console loses the
// member API at once.
func (s *Service) memberByOpenID(ctx context.Context, openID string) (*boundMember, error) {
	var rows []struct {
		ID      uint
		Name    string
		Role    string
		OrgID   uint
		OrgPath string
		Active  bool
	}
	err := s.db.WithContext(ctx).Raw(
		"SELECT m.id, m.name, m.role, m.org_id, o.path AS org_path, m.active FROM members m JOIN orgs o ON o.id = m.org_id"+
			" WHERE m.mp_open_id = ?", openID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("mp: member by openid: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &boundMember{Member: bot.Member{ID: r.ID, Name: r.Name, Role: r.Role, OrgID: r.OrgID, OrgPath: r.OrgPath}, Active: r.Active}, nil
}
