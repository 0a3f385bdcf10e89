package schedule

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/kv"
)

// A job's day lives in one Redis hash, kv.ScheduleDayKey, changed only by the scripts below, so each
// step is atomic and touches one key (Redis Cluster safe). Its states:
//
//	(none) ──claim──▶ run ──finish──▶ done        (never leaves done)
//	                   │ ──fail────▶ fail ──claim after r──▶ run
//	                   └── lease l passed ──claim──▶ run (taken over)
//
// The claim is SET NX extended with what SET NX cannot do atomically: take over an expired lease and
// respect a retry time. Times are unix milliseconds from the callers' clocks, compared, never computed,
// in Lua.

// claimScript: KEYS[1] day key; ARGV owner, now, lease until, TTL seconds.
// Returns {"run", attempt, previous owner if taken over} | {"held", lease until} | {"wait", retry at}
// | {"done"}.
var claimScript = redis.NewScript(`
local s = redis.call('HGET', KEYS[1], 's')
if s == 'done' then return {'done'} end
local now = tonumber(ARGV[2])
local prev = ''
if s == 'run' then
  local l = redis.call('HGET', KEYS[1], 'l') or '0'
  if now < (tonumber(l) or 0) then return {'held', l} end
  prev = redis.call('HGET', KEYS[1], 'o') or '?'
elseif s == 'fail' then
  local r = redis.call('HGET', KEYS[1], 'r') or '0'
  if now < (tonumber(r) or 0) then return {'wait', r} end
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 's', 'run', 'o', ARGV[1], 'l', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {'run', tostring(n), prev}
`)

// renewScript: KEYS[1] day key; ARGV owner, new lease until. 1 if renewed, 0 if the claim is not ours.
var renewScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 's') ~= 'run' or redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[2])
return 1
`)

// finishScript: KEYS[1] day key; ARGV owner, finished, duration ms, TTL seconds. Marks the day done
// unless it is done already or another process has claimed it since: 1 if marked, 0 if not.
var finishScript = redis.NewScript(`
local s = redis.call('HGET', KEYS[1], 's')
if s == 'done' then return 0 end
if s == 'run' and redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', 'done', 'o', ARGV[1], 't', ARGV[2], 'd', ARGV[3])
redis.call('HDEL', KEYS[1], 'l', 'r')
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
`)

// failScript: KEYS[1] day key; ARGV owner, retry at, error. Releases our claim until the retry time:
// 1 if released, 0 if the claim is no longer ours.
var failScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 's') ~= 'run' or redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', 'fail', 'r', ARGV[2], 'e', ARGV[3])
redis.call('HDEL', KEYS[1], 'l')
return 1
`)

const (
	claimRun  = "run"  // ours: run it
	claimHeld = "held" // another process runs it, its lease lasts until `until`
	claimWait = "wait" // failed earlier today; retry not before `until`
	claimDone = "done" // done today
)

type claim struct {
	outcome   string
	owner     string    // claimRun: this run's owner value
	attempt   int       // claimRun: attempts today, this one included
	until     time.Time // claimRun: our lease; claimHeld: theirs; claimWait: the retry time
	takenFrom string    // claimRun: the owner whose lease expired, if any
}

func (s *Scheduler) claim(ctx context.Context, job, day string, now time.Time) (claim, error) {
	owner := s.id + "/" + randomHex(3)
	until := now.Add(s.lease)
	res, err := claimScript.Run(ctx, s.rdb, []string{kv.ScheduleDayKey(job, day)},
		owner, millis(now), millis(until), int64(kv.ScheduleDayTTL/time.Second)).StringSlice()
	if err != nil {
		return claim{}, fmt.Errorf("schedule: claim %s %s: %w", job, day, err)
	}
	if len(res) == 0 {
		return claim{}, fmt.Errorf("schedule: claim %s %s: empty answer", job, day)
	}
	c := claim{outcome: res[0]}
	switch {
	case c.outcome == claimRun && len(res) == 3:
		c.owner, c.until, c.takenFrom = owner, until, res[2]
		c.attempt, _ = strconv.Atoi(res[1])
	case (c.outcome == claimHeld || c.outcome == claimWait) && len(res) == 2:
		c.until = fromMillis(res[1], s.loc)
	case c.outcome == claimDone:
	default:
		return claim{}, fmt.Errorf("schedule: claim %s %s: unexpected answer %q", job, day, res)
	}
	return c, nil
}

func (s *Scheduler) extend(ctx context.Context, job, day, owner string, until time.Time) (bool, error) {
	n, err := renewScript.Run(ctx, s.rdb, []string{kv.ScheduleDayKey(job, day)}, owner, millis(until)).Int()
	return n == 1, err
}

func (s *Scheduler) finish(ctx context.Context, job, day, owner string, at time.Time, took time.Duration) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, []string{kv.ScheduleDayKey(job, day)},
		owner, millis(at), took.Milliseconds(), int64(kv.ScheduleDayTTL/time.Second)).Int()
	return n == 1, err
}

func (s *Scheduler) fail(ctx context.Context, job, day, owner string, retry time.Time, msg string) (bool, error) {
	n, err := failScript.Run(ctx, s.rdb, []string{kv.ScheduleDayKey(job, day)}, owner, millis(retry), clip(msg)).Int()
	return n == 1, err
}

// noteDone and noteError keep the job's summary across days for Status. They only inform: a failure
// is logged, never returned.
func (s *Scheduler) noteDone(ctx context.Context, job, day string, at time.Time, took time.Duration) {
	s.note(ctx, job, "day", day, "at", millis(at), "dur", took.Milliseconds())
}

func (s *Scheduler) noteError(ctx context.Context, job, msg string, at time.Time) {
	s.note(ctx, job, "err", clip(msg), "errat", millis(at))
}

func (s *Scheduler) note(ctx context.Context, job string, fields ...any) {
	key := kv.ScheduleJobKey(job)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields...)
		p.Expire(ctx, key, kv.ScheduleJobTTL)
		return nil
	})
	if err != nil {
		s.log.Warn("schedule: job status not recorded", "job", job, "err", err)
	}
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func fromMillis(v string, loc *time.Location) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).In(loc)
}

// clip bounds an error message kept in Redis.
func clip(msg string) string {
	const limit = 500
	if len(msg) <= limit {
		return msg
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
