package study

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/kv"
)

// LastMessages records when each WeChat user last wrote (kv.LastMessageKey), for the evening
// reminder: a customer-service message reaches a user only within 48 hours of his last message, and
// the bot keeps no such record. The server wraps its router with Wrap. A message costs a map write
// under a mutex; once a second the users who wrote are set in Redis in one pipelined round trip, so
// recording never delays a reply and adds no Redis call per message. A crash loses the last second's
// records: the worst that follows is a template message where a customer-service one would have done.
type LastMessages struct {
	rdb   redis.UniversalClient
	now   func() time.Time
	log   *slog.Logger
	every time.Duration
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	pending map[lastKey]int64 // unix seconds of the latest message since the last flush
	dropped int
	closed  bool
}

type lastKey struct{ channel, openID string }

// lastMessageFlush is how often the records go to Redis; lastMessagePending bounds the users held
// between two flushes (more are dropped, and counted in the log).
const (
	lastMessageFlush   = time.Second
	lastMessagePending = 200_000
)

// NewLastMessages starts the recorder on Redis with the clock now (nil: time.Now). Close stops it.
func NewLastMessages(rdb redis.UniversalClient, now func() time.Time, log *slog.Logger) *LastMessages {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	l := &LastMessages{rdb: rdb, now: now, log: log, every: lastMessageFlush, stop: make(chan struct{}), done: make(chan struct{}),
		pending: map[lastKey]int64{}}
	go l.loop()
	return l
}

// Dispatcher handles one inbound message (bot.Router; bot/wechat.Dispatcher).
type Dispatcher interface {
	Dispatch(ctx context.Context, m *bot.Message) bot.Result
}

// Wrap records the sender of every message d dispatches. Events (a menu click, a follow, a location
// report) are not recorded: they open no 48-hour window. Nor are WeChat's retries of a message.
func (l *LastMessages) Wrap(d Dispatcher) Dispatcher { return lastMessageDispatcher{d, l} }

type lastMessageDispatcher struct {
	d Dispatcher
	l *LastMessages
}

func (w lastMessageDispatcher) Dispatch(ctx context.Context, m *bot.Message) bot.Result {
	res := w.d.Dispatch(ctx, m)
	if m.Kind != bot.KindEvent && !res.DedupHit && m.OpenID != "" {
		at := w.l.now()
		if ct := m.Time(); m.CreateTime > 0 && ct.Before(at) {
			at = ct // the window runs from WeChat's stamp of the message
		}
		w.l.Record(m.Channel, m.OpenID, at)
	}
	return res
}

// Record notes "openID wrote on channel at at"; it goes to Redis with the next flush.
func (l *LastMessages) Record(channel, openID string, at time.Time) {
	k, sec := lastKey{channel, openID}, at.Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
	case len(l.pending) >= lastMessagePending:
		l.dropped++
	case sec > l.pending[k]:
		l.pending[k] = sec
	}
}

// Close writes what is pending and stops the recorder.
func (l *LastMessages) Close() {
	l.mu.Lock()
	was := l.closed
	l.closed = true
	l.mu.Unlock()
	if !was {
		close(l.stop)
	}
	<-l.done
}

func (l *LastMessages) loop() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush()
			return
		case <-t.C:
			l.flush()
		}
	}
}

// flush sets the pending records in Redis.
func (l *LastMessages) flush() {
	l.mu.Lock()
	pending, dropped := l.pending, l.dropped
	if len(pending) == 0 {
		// Nothing to write; the map stays in use by Record, so it must not be read after Unlock.
		l.dropped = 0
		l.mu.Unlock()
		l.warnDropped(dropped)
		return
	}
	l.pending = make(map[lastKey]int64, len(pending))
	l.dropped = 0
	l.mu.Unlock()
	l.warnDropped(dropped)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pipe := l.rdb.Pipeline()
	for k, at := range pending {
		pipe.Set(ctx, kv.LastMessageKey(k.channel, k.openID), at, kv.ChatWindowTTL)
		if pipe.Len() >= 1000 {
			if _, err := pipe.Exec(ctx); err != nil {
				l.log.Warn("study: last messages not recorded", "users", len(pending), "err", err)
				return
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		l.log.Warn("study: last messages not recorded", "users", len(pending), "err", err)
	}
}

func (l *LastMessages) warnDropped(dropped int) {
	if dropped > 0 {
		l.log.Warn("study: too many users wrote within a second: last messages not recorded", "dropped", dropped)
	}
}

// Last reads when each of openIDs last wrote on channel; users with no message in the last 48 hours
// are missing from the map.
func (l *LastMessages) Last(ctx context.Context, channel string, openIDs []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(openIDs))
	const chunk = 500
	for start := 0; start < len(openIDs); start += chunk {
		ids := openIDs[start:min(start+chunk, len(openIDs))]
		pipe := l.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.Get(ctx, kv.LastMessageKey(channel, id))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("study: read last messages: %w", err)
		}
		for i, c := range cmds {
			v, err := c.Result()
			if err != nil {
				continue // redis.Nil: none within the window
			}
			if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[ids[i]] = time.Unix(sec, 0)
			}
		}
	}
	return out, nil
}
