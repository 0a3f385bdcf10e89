package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/internal/batch"
	"github.com/yanzhen/yanzhen/kv"
)

// Dedup record values (kv.DedupKey): pending while the first delivery runs, then the reply.
const (
	dedupPending = ""   // the first delivery is still running
	dedupAsync   = "a"  // the first delivery answered `success` and sends its reply later
	dedupReply   = "r:" // prefix of the stored reply (Reply.marshal)
	identNone    = "-"  // cached "this openid is not bound"
)

// session is what one Redis round trip tells about a message before it is handled.
type session struct {
	claimed   bool   // this delivery is the first: handle it
	prior     string // when not claimed: the dedup record as found
	identity  string // cached identity ("" = not cached)
	state     string // pending conversation step ("" = none)
	dedupKey  string
	identKey  string
	stateKey  string
	fromCache bool
}

// Store keeps the router's per-user state in Redis: dedup records, the identity cache and
// conversation steps. The two calls every message makes (begin and finish) are pipelined across
// concurrent messages: under load one write and one read to Redis serve many webhook requests, which
// is most of the read path's cost otherwise (two syscalls and a wake-up per round trip).
type Store struct {
	rdb  redis.UniversalClient
	pipe *batch.Writer[[]redis.Cmder]
}

// NewStore wraps a Redis client. Close stops its pipeline.
func NewStore(rdb redis.UniversalClient) *Store {
	s := &Store{rdb: rdb}
	s.pipe = batch.New(s.execGroups, 256, 2)
	return s
}

// Close stops the pipeline after what is queued.
func (s *Store) Close() { s.pipe.Close() }

// execGroups sends the commands of many messages in one pipeline. Each command carries its own result
// or error; the returned error only says the round trip itself failed.
func (s *Store) execGroups(ctx context.Context, groups [][]redis.Cmder) error {
	pipe := s.rdb.Pipeline()
	for _, g := range groups {
		for _, c := range g {
			pipe.Process(ctx, c)
		}
	}
	_, err := pipe.Exec(ctx)
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// do runs cmds in the shared pipeline and returns the first error other than redis.Nil.
func (s *Store) do(ctx context.Context, cmds ...redis.Cmder) error {
	if err := s.pipe.Add(ctx, cmds); err != nil {
		return err
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// begin claims the message and reads identity and state, in one pipelined round trip.
func (s *Store) begin(ctx context.Context, m *Message) (*session, error) {
	ss := &session{
		dedupKey: kv.DedupKey(m.Channel, m.DedupID()),
		identKey: kv.IdentityKey(m.Channel, m.OpenID),
		stateKey: kv.StateKey(m.Channel, m.OpenID),
	}
	// SET NX GET would be one command, but Redis 6 refuses it; SET NX then GET in one pipeline is the
	// same round trip and works everywhere.
	claim := redis.NewStatusCmd(ctx, "set", ss.dedupKey, dedupPending, "ex", int(kv.DedupTTL/time.Second), "nx")
	current := redis.NewStringCmd(ctx, "get", ss.dedupKey)
	ident := redis.NewStringCmd(ctx, "get", ss.identKey)
	state := redis.NewStringCmd(ctx, "get", ss.stateKey)
	if err := s.do(ctx, claim, current, ident, state); err != nil {
		return nil, err
	}
	ss.claimed = claim.Err() == nil // redis.Nil: the key existed
	if !ss.claimed {
		ss.prior, _ = current.Result()
	}
	ss.identity, _ = ident.Result()
	ss.state, _ = state.Result()
	return ss, nil
}

// finish records the reply for retries and saves identity and state changes, in one round trip.
func (s *Store) finish(ctx context.Context, ss *session, record string, identity string, state *State, clearState bool) error {
	cmds := make([]redis.Cmder, 1, 3)
	cmds[0] = redis.NewStatusCmd(ctx, "set", ss.dedupKey, record, "xx", "keepttl")
	if identity != "" {
		cmds = append(cmds, redis.NewStatusCmd(ctx, "set", ss.identKey, identity, "ex", int(kv.IdentityTTL/time.Second)))
	}
	switch {
	case state != nil:
		b, _ := json.Marshal(state)
		ttl := state.TTL
		if ttl <= 0 {
			ttl = kv.StateTTL
		}
		cmds = append(cmds, redis.NewStatusCmd(ctx, "set", ss.stateKey, b, "px", ttl.Milliseconds()))
	case clearState:
		cmds = append(cmds, redis.NewIntCmd(ctx, "del", ss.stateKey))
	}
	return s.do(ctx, cmds...)
}

// release forgets a claim whose handling failed, so WeChat's retry runs the message again.
func (s *Store) release(ctx context.Context, ss *session) error {
	return s.rdb.Del(ctx, ss.dedupKey).Err()
}

// wait polls the dedup record of a message another delivery is handling until it holds a reply or
// the deadline passes.
func (s *Store) wait(ctx context.Context, ss *session, deadline time.Time) (string, error) {
	record := ss.prior
	for delay := 5 * time.Millisecond; record == dedupPending; {
		if time.Now().Add(delay).After(deadline) {
			return record, context.DeadlineExceeded
		}
		select {
		case <-ctx.Done():
			return record, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 100*time.Millisecond {
			delay *= 2
		}
		v, err := s.rdb.Get(ctx, ss.dedupKey).Result()
		switch {
		case errors.Is(err, redis.Nil):
			// The first delivery failed and released its claim; this retry may not run it as well
			// (WeChat will send another), so it reports the failure.
			return record, errReleased
		case err != nil:
			return record, err
		}
		record = v
	}
	return record, nil
}

var errReleased = errors.New("bot: first delivery failed")

// InvalidateIdentity drops the cached identity of openid on channel (after bind, unbind, a move).
func (s *Store) InvalidateIdentity(ctx context.Context, channel, openID string) error {
	return s.rdb.Del(ctx, kv.IdentityKey(channel, openID)).Err()
}

func encodeIdentity(m *Member) string {
	if m == nil {
		return identNone
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeIdentity(s string) (*Member, bool) {
	if s == identNone {
		return nil, true
	}
	var m Member
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil, false
	}
	return &m, true
}

func jsonUnmarshalString(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// signatureScript binds a plaintext push's signature to the first message it carried: SET NX for
// the timestamp window; an existing binding to another message is a forged body (0).
var signatureScript = redis.NewScript(`
if redis.call("SET", KEYS[1], ARGV[1], "NX", "EX", ARGV[2]) then return 1 end
if redis.call("GET", KEYS[1]) == ARGV[1] then return 1 end
return 0
`)

// BindSignature reports whether the plaintext push signed sig may carry the message msgID: the first
// message under a signature binds it (for kv.DedupTTL, longer than the timestamp window), and the same
// message again (WeChat's retry, a replay) is allowed; another message under it is not. WeChat signs
// only timestamp and nonce in plaintext mode, so without this a captured query string would carry any
// body for five minutes.
func (s *Store) BindSignature(ctx context.Context, channel, sig, msgID string) (bool, error) {
	n, err := signatureScript.Run(ctx, s.rdb, []string{kv.SignatureKey(channel, sig)}, msgID, int(kv.DedupTTL/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("bot: bind signature: %w", err)
	}
	return n == 1, nil
}
