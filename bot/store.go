package bot

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

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
// conversation steps. Every method is one round trip.
type Store struct {
	rdb redis.UniversalClient
}

// NewStore wraps a Redis client.
func NewStore(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// begin claims the message and reads identity and state, in one pipelined round trip.
func (s *Store) begin(ctx context.Context, m *Message) (*session, error) {
	ss := &session{
		dedupKey: kv.DedupKey(m.Channel, m.DedupID()),
		identKey: kv.IdentityKey(m.Channel, m.OpenID),
		stateKey: kv.StateKey(m.Channel, m.OpenID),
	}
	pipe := s.rdb.Pipeline()
	claim := pipe.SetNX(ctx, ss.dedupKey, dedupPending, kv.DedupTTL)
	current := pipe.Get(ctx, ss.dedupKey)
	ident := pipe.Get(ctx, ss.identKey)
	state := pipe.Get(ctx, ss.stateKey)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	// SET NX GET would be one command, but Redis 6 refuses it; SETNX then GET in one pipeline is the
	// same round trip and works everywhere.
	claimed, err := claim.Result()
	if err != nil {
		return nil, err
	}
	ss.claimed = claimed
	if !claimed {
		ss.prior, _ = current.Result()
	}
	ss.identity, _ = ident.Result()
	ss.state, _ = state.Result()
	return ss, nil
}

// finish records the reply for retries and saves identity and state changes, in one round trip.
func (s *Store) finish(ctx context.Context, ss *session, record string, identity string, state *State, clearState bool) error {
	pipe := s.rdb.Pipeline()
	pipe.SetArgs(ctx, ss.dedupKey, record, redis.SetArgs{Mode: "XX", KeepTTL: true})
	if identity != "" {
		pipe.Set(ctx, ss.identKey, identity, kv.IdentityTTL)
	}
	switch {
	case state != nil:
		b, _ := json.Marshal(state)
		ttl := state.TTL
		if ttl <= 0 {
			ttl = kv.StateTTL
		}
		pipe.Set(ctx, ss.stateKey, b, ttl)
	case clearState:
		pipe.Del(ctx, ss.stateKey)
	}
	_, err := pipe.Exec(ctx)
	return err
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
