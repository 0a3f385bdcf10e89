package broadcast

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter is the send rate shared by every server process: a GCRA (generic cell rate algorithm) in
// one small Lua script on Redis, as go-redis/redis_rate does it, so that no new module is needed. The
// state is one number (the theoretical arrival time of the next send), so a hundred processes cost
// Redis nothing; the clock is Redis's own (TIME), so processes with different clocks agree.
type Limiter struct {
	rdb   redis.UniversalClient
	key   string
	rate  float64 // sends per second; 0 = unlimited
	burst int
}

// NewLimiter limits sends to rate per second with bursts of at most burst (at least 1).
func NewLimiter(rdb redis.UniversalClient, key string, rate float64, burst int) *Limiter {
	return &Limiter{rdb: rdb, key: key, rate: rate, burst: max(burst, 1)}
}

// Unlimited reports whether the limiter lets everything through.
func (l *Limiter) Unlimited() bool { return l == nil || l.rate <= 0 }

// gcraScript grants up to ARGV[3] sends at once. KEYS[1] holds the theoretical arrival time (µs);
// ARGV[1] is the emission interval (µs per send), ARGV[2] the burst. It returns {granted, wait µs}:
// wait is how long until one more would be granted when none was.
var gcraScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tat = tonumber(redis.call("GET", KEYS[1]) or "0")
if tat < now then tat = now end
local tolerance = burst * interval
local n = math.floor((now + tolerance - tat) / interval)
if n > want then n = want end
if n <= 0 then
  return {0, tat + interval - tolerance - now}
end
tat = tat + n * interval
redis.call("SET", KEYS[1], string.format("%d", tat), "PX", math.floor((tat - now) / 1000) + 1000)
return {n, 0}
`)

// Take waits until it may send at least one message and returns how many (1..want) it may send now.
func (l *Limiter) Take(ctx context.Context, want int) (int, error) {
	if l.Unlimited() || want <= 0 {
		return want, nil
	}
	interval := int64(math.Max(1, 1e6/l.rate))
	for {
		res, err := gcraScript.Run(ctx, l.rdb, []string{l.key}, interval, l.burst, want).Int64Slice()
		if err != nil {
			return 0, fmt.Errorf("broadcast: rate limit: %w", err)
		}
		if len(res) == 2 && res[0] > 0 {
			return int(res[0]), nil
		}
		wait := time.Duration(1000) * time.Microsecond
		if len(res) == 2 && res[1] > 0 {
			wait = time.Duration(res[1]) * time.Microsecond
		}
		t := time.NewTimer(min(wait, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}
