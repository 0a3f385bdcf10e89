package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// clock is the injected clock every scheduler of a test shares.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// at is a time of day on day in Asia/Shanghai.
func at(day, hhmmss string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", day+" "+hhmmss, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// runs counts the runs of jobs by job and day, across schedulers.
type runs struct {
	mu sync.Mutex
	n  map[string]int
}

// job returns a Run that counts its calls; fail, if set, decides the outcome of the n-th call (1-based)
// of that job on that day.
func (r *runs) job(name string, fail func(n int) error) func(context.Context, string) error {
	return func(_ context.Context, day string) error {
		r.mu.Lock()
		if r.n == nil {
			r.n = map[string]int{}
		}
		r.n[name+" "+day]++
		n := r.n[name+" "+day]
		r.mu.Unlock()
		if fail != nil {
			return fail(n)
		}
		return nil
	}
}

func (r *runs) count(name, day string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[name+" "+day]
}

func (r *runs) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := 0
	for _, n := range r.n {
		sum += n
	}
	return sum
}

// clients connects n clients to one Redis for the test, as n processes would.
func clients(t *testing.T, n int) []redis.UniversalClient {
	t.Helper()
	base := testenv.Redis(t)
	out := []redis.UniversalClient{base.Client}
	for len(out) < n {
		c := redis.NewClient(base.Options())
		t.Cleanup(func() { c.Close() })
		out = append(out, c)
	}
	return out
}

func newScheduler(t *testing.T, rdb redis.UniversalClient, clk *clock, jobs ...Job) *Scheduler {
	t.Helper()
	s := New(rdb, testenv.Logger(), shanghai, clk.Now)
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// tickAll has every scheduler tick `each` times at once, and returns their errors.
func tickAll(scheds []*Scheduler, each int) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, s := range scheds {
		for range each {
			wg.Go(func() {
				if err := s.Tick(context.Background()); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOncePerDayAcrossProcesses(t *testing.T) {
	for _, procs := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d processes", procs), func(t *testing.T) {
			clk := &clock{}
			var got runs
			var scheds []*Scheduler
			for _, rdb := range clients(t, procs) {
				scheds = append(scheds, newScheduler(t, rdb, clk,
					Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)},
					Job{Name: "study.remind", When: func(string) (int, int) { return 20, 0 }, Run: got.job("study.remind", nil)},
				))
			}
			steps := []struct {
				time            string
				publish, remind int
			}{
				{"00:00:00", 0, 0},
				{"06:59:59", 0, 0},
				{"07:00:00", 1, 0},
				{"07:00:01", 1, 0},
				{"12:00:00", 1, 0},
				{"19:59:59", 1, 0},
				{"20:00:00", 1, 1},
				{"23:59:59", 1, 1},
			}
			first := at("2025-03-03", "00:00:00") // a Monday
			for d := range 7 {
				day := first.AddDate(0, 0, d).Format(dayLayout)
				for _, st := range steps {
					clk.Set(at(day, st.time))
					if err := tickAll(scheds, 3); err != nil {
						t.Fatalf("%s %s: %v", day, st.time, err)
					}
					if p, r := got.count("study.publish", day), got.count("study.remind", day); p != st.publish || r != st.remind {
						t.Fatalf("%s %s: publish ran %d times, remind %d; want %d and %d", day, st.time, p, r, st.publish, st.remind)
					}
				}
			}
			if n := got.total(); n != 14 {
				t.Fatalf("runs in the week = %d, want 14", n)
			}
		})
	}
}

func TestCatchUpRunsTodayOnly(t *testing.T) {
	rdb := clients(t, 1)[0]
	clk := &clock{}
	var got runs
	s := newScheduler(t, rdb, clk,
		Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)},
		Job{Name: "study.remind", At: "20:00", Run: got.job("study.remind", nil)},
	)
	// Nobody ran on the 3rd; a process starts at 09:00 on the 4th.
	clk.Set(at("2025-03-04", "09:00:00"))
	if err := s.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", "2025-03-04"); n != 1 {
		t.Fatalf("today's 07:00 job ran %d times at 09:00, want 1", n)
	}
	if n := got.count("study.remind", "2025-03-04"); n != 0 {
		t.Fatalf("today's 20:00 job ran %d times at 09:00, want 0", n)
	}
	if got.count("study.publish", "2025-03-03")+got.count("study.remind", "2025-03-03") != 0 {
		t.Fatal("yesterday's missed jobs ran")
	}
}

func TestFailedRunRetriedAfterBackoff(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	var got runs
	// Fails on its first two calls, by whichever process, then succeeds.
	flaky := got.job("study.publish", func(n int) error {
		if n <= 2 {
			return fmt.Errorf("boom %d", n)
		}
		return nil
	})
	var scheds []*Scheduler
	for _, rdb := range clients(t, 2) {
		scheds = append(scheds, newScheduler(t, rdb, clk, Job{Name: "study.publish", At: "07:00", Run: flaky}))
	}
	const day = "2025-03-03"
	steps := []struct {
		time  string
		calls int
		err   bool
	}{
		{"07:00:00", 1, true},  // fails: retry after 1 minute
		{"07:00:59", 1, false}, // backing off
		{"07:01:00", 2, true},  // fails again: retry after 2 minutes
		{"07:02:59", 2, false},
		{"07:03:00", 3, false}, // succeeds
		{"07:30:00", 3, false},
		{"23:59:59", 3, false},
	}
	for _, st := range steps {
		clk.Set(at(day, st.time))
		err := tickAll(scheds, 2)
		if (err != nil) != st.err {
			t.Fatalf("%s: tick error = %v, want an error: %v", st.time, err, st.err)
		}
		if n := got.count("study.publish", day); n != st.calls {
			t.Fatalf("%s: %d calls, want %d", st.time, n, st.calls)
		}
		if st.time == "07:00:59" {
			status, err := scheds[1].Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st := status[0]; st.Today != StateRetrying || st.Attempts != 1 || !st.NextDue.Equal(at(day, "07:01:00")) || st.LastError != "boom 1" {
				t.Fatalf("status while backing off = %+v", st)
			}
		}
	}
}

func TestPanickingJobIsAFailure(t *testing.T) {
	clk := &clock{}
	var got runs
	s := newScheduler(t, clients(t, 1)[0], clk, Job{Name: "study.publish", At: "07:00",
		Run: got.job("study.publish", func(n int) error {
			if n == 1 {
				panic("nil map")
			}
			return nil
		})})
	clk.Set(at("2025-03-03", "07:00:00"))
	if err := s.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "panic: nil map") {
		t.Fatalf("tick error = %v, want the panic", err)
	}
	clk.Set(at("2025-03-03", "07:01:00"))
	if err := s.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", "2025-03-03"); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}

func TestTakeOverAfterLeaseExpires(t *testing.T) {
	ctx := context.Background()
	rdb := clients(t, 1)[0]
	clk := &clock{}
	var got runs
	s := newScheduler(t, rdb, clk, Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)})
	const day = "2025-03-03"
	key := kv.ScheduleDayKey("study.publish", day)
	// A process claimed the run at 07:00:30 and died: its lease ends a minute later.
	leaseEnd := at(day, "07:01:30")
	if err := rdb.HSet(ctx, key, "s", "run", "o", "ghost", "l", millis(leaseEnd), "n", 1).Err(); err != nil {
		t.Fatal(err)
	}

	clk.Set(leaseEnd.Add(-time.Millisecond))
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", day); n != 0 {
		t.Fatalf("ran %d times while the lease was live", n)
	}
	status, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := status[0]; st.Today != StateRunning || st.Owner != "ghost" || !st.NextDue.IsZero() {
		t.Fatalf("status under the ghost's lease = %+v", st)
	}

	clk.Set(leaseEnd)
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", day); n != 1 {
		t.Fatalf("ran %d times after the lease ended, want 1", n)
	}
	if v, _ := rdb.HGet(ctx, key, "n").Result(); v != "2" {
		t.Fatalf("attempts = %q, want 2", v)
	}

	// The done marker holds, against this process, a late tick, and the ghost coming back.
	clk.Set(at(day, "23:00:00"))
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", day); n != 1 {
		t.Fatalf("ran %d times after done", n)
	}
	if ok, err := s.finish(ctx, "study.publish", day, "ghost", clk.Now(), time.Second); err != nil || ok {
		t.Fatalf("the ghost's late finish = %v, %v; want refused", ok, err)
	}
	status, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := status[0]; st.Today != StateDone || st.LastDay != day || !strings.Contains(st.LastError, "ghost") {
		t.Fatalf("status after the take-over = %+v", st)
	}
}

func TestRenewedLeaseIsNotTakenOver(t *testing.T) {
	ctx := context.Background()
	rdbs := clients(t, 2)
	clk := &clock{}
	var got runs
	started, release := make(chan struct{}), make(chan struct{})
	slow := func(ctx context.Context, day string) error {
		got.job("study.publish", nil)(ctx, day)
		close(started)
		<-release
		return nil
	}
	a := newScheduler(t, rdbs[0], clk, Job{Name: "study.publish", At: "07:00", Run: slow})
	a.renewEvery = 2 * time.Millisecond
	b := newScheduler(t, rdbs[1], clk, Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)})
	const day = "2025-03-03"

	clk.Set(at(day, "07:00:00"))
	done := make(chan error, 1)
	go func() { done <- a.Tick(ctx) }()
	<-started
	// Ten minutes on, the first lease is long over, but the owner keeps renewing it.
	clk.Set(at(day, "07:10:00"))
	renewed := millis(at(day, "07:10:00").Add(Lease))
	eventually(t, "the lease to be renewed", func() bool {
		v, _ := rdbs[1].HGet(ctx, kv.ScheduleDayKey("study.publish", day), "l").Result()
		return v == renewed
	})
	if err := b.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := b.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", day); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

func TestLostLeaseStopsTheRun(t *testing.T) {
	ctx := context.Background()
	rdb := clients(t, 1)[0]
	clk := &clock{}
	started := make(chan struct{})
	s := newScheduler(t, rdb, clk, Job{Name: "study.publish", At: "07:00", Run: func(ctx context.Context, _ string) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	s.renewEvery = 2 * time.Millisecond
	const day = "2025-03-03"
	key := kv.ScheduleDayKey("study.publish", day)

	clk.Set(at(day, "07:00:00"))
	done := make(chan error, 1)
	go func() { done <- s.Tick(ctx) }()
	<-started
	// Another process took the claim over (as if this one had been cut off from Redis for a lease).
	if err := rdb.HSet(ctx, key, "o", "intruder").Err(); err != nil {
		t.Fatal(err)
	}
	var err error
	eventually(t, "the run to stop", func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	})
	if !errors.Is(err, errLeaseLost) {
		t.Fatalf("tick error = %v, want the lost lease", err)
	}
	// The claim stays the intruder's: a stopped run does not release it.
	if v := rdb.HGetAll(ctx, key).Val(); v["s"] != "run" || v["o"] != "intruder" {
		t.Fatalf("claim after the lost lease = %v", v)
	}
}

func TestShutdownReleasesTheClaimAtOnce(t *testing.T) {
	rdbs := clients(t, 2)
	clk := &clock{}
	var got runs
	started := make(chan struct{})
	a := newScheduler(t, rdbs[0], clk, Job{Name: "study.publish", At: "07:00", Run: func(ctx context.Context, _ string) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	b := newScheduler(t, rdbs[1], clk, Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)})
	clk.Set(at("2025-03-03", "07:00:00"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Tick(ctx) }()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("tick error = %v, want canceled", err)
	}
	// Same instant: no backoff after a shutdown.
	if err := b.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", "2025-03-03"); n != 1 {
		t.Fatalf("the other process ran it %d times, want 1", n)
	}
}

func TestDaysFollowTheSchedulersLocation(t *testing.T) {
	ctx := context.Background()
	rdb := clients(t, 1)[0]
	clk := &clock{}
	var got runs
	s := newScheduler(t, rdb, clk, Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)})

	// 07:00 in Shanghai (UTC+8) is 23:00 UTC the day before; the clock speaks UTC.
	clk.Set(time.Date(2025, 3, 9, 22, 59, 59, 0, time.UTC))
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.total(); n != 0 {
		t.Fatalf("ran %d times at 06:59:59 Shanghai", n)
	}
	clk.Set(time.Date(2025, 3, 9, 23, 0, 0, 0, time.UTC))
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.count("study.publish", "2025-03-10"); n != 1 {
		t.Fatalf("runs for 2025-03-10 = %d, want 1 (runs in all: %d)", n, got.total())
	}
	if v, _ := rdb.HGet(ctx, kv.ScheduleDayKey("study.publish", "2025-03-10"), "s").Result(); v != "done" {
		t.Fatalf("day key of 2025-03-10: s = %q, want done", v)
	}
	if n, _ := rdb.Exists(ctx, kv.ScheduleDayKey("study.publish", "2025-03-09")).Result(); n != 0 {
		t.Fatal("a key for the UTC date was written")
	}
}

func TestRedisOutage(t *testing.T) {
	closedServer := func(t *testing.T) redis.UniversalClient {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		r, err := kv.Open(context.Background(), "redis://"+mr.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		mr.Close()
		return r.Client
	}
	for name, connect := range map[string]func(*testing.T) redis.UniversalClient{
		"dead port":     deadPort,
		"closed server": closedServer,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{}
			clk.Set(at("2025-03-03", "09:00:00"))
			var got runs
			s := newScheduler(t, connect(t), clk, Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)})
			if err := s.Tick(ctx); err == nil {
				t.Fatal("tick without Redis succeeded")
			}
			if n := got.total(); n != 0 {
				t.Fatalf("ran %d times without a claim", n)
			}
			status, err := s.Status(ctx)
			if err == nil {
				t.Fatal("status without Redis succeeded")
			}
			if len(status) != 1 || status[0].Today != "" || !status[0].Due.Equal(at("2025-03-03", "07:00:00")) {
				t.Fatalf("status without Redis = %+v", status)
			}
		})
	}

	t.Run("gone during the run", func(t *testing.T) {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		r, err := kv.Open(context.Background(), "redis://"+mr.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		clk := &clock{}
		clk.Set(at("2025-03-03", "09:00:00"))
		s := newScheduler(t, r.Client, clk, Job{Name: "study.publish", At: "07:00", Run: func(context.Context, string) error {
			mr.Close()
			return nil
		}})
		if err := s.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "record done") {
			t.Fatalf("tick error = %v, want the done marker not written", err)
		}
	})
}

// deadPort is a client of a port nobody listens on, failing as fast as kv.Open's clients do.
func deadPort(t *testing.T) redis.UniversalClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: 1, DialerRetries: 1})
	t.Cleanup(func() { c.Close() })
	return c
}

// recorder keeps the messages logged, for waiting on what Run did.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}

func (r *recorder) saw(msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == msg {
			return true
		}
	}
	return false
}

func TestRun(t *testing.T) {
	t.Run("runs due jobs until the context ends", func(t *testing.T) {
		clk := &clock{}
		clk.Set(at("2025-03-03", "08:00:00"))
		var got runs
		s := newScheduler(t, clients(t, 1)[0], clk,
			Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)},
			Job{Name: "study.remind", At: "20:00", Run: got.job("study.remind", nil)},
		)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { s.Run(ctx); close(stopped) }()
		eventually(t, "the 07:00 job to run", func() bool { return got.count("study.publish", "2025-03-03") == 1 })
		cancel()
		eventually(t, "Run to return", func() bool {
			select {
			case <-stopped:
				return true
			default:
				return false
			}
		})
		if n := got.total(); n != 1 {
			t.Fatalf("runs = %d, want 1", n)
		}
	})

	t.Run("survives a dead Redis", func(t *testing.T) {
		rdb := deadPort(t)
		clk := &clock{}
		clk.Set(at("2025-03-03", "08:00:00"))
		rec := &recorder{}
		var got runs
		s := New(rdb, slog.New(rec), shanghai, clk.Now)
		if err := s.Add(Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { s.Run(ctx); close(stopped) }()
		eventually(t, "the failed tick to be logged", func() bool { return rec.saw("schedule: tick failed; no job runs without its claim") })
		cancel()
		eventually(t, "Run to return", func() bool {
			select {
			case <-stopped:
				return true
			default:
				return false
			}
		})
		if n := got.total(); n != 0 {
			t.Fatalf("ran %d times without Redis", n)
		}
	})
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	var got runs
	s := newScheduler(t, clients(t, 1)[0], clk,
		Job{Name: "study.publish", At: "07:00", Run: got.job("study.publish", nil)},
		Job{Name: "study.remind", When: func(day string) (int, int) {
			if day == "2025-03-04" {
				return 21, 30 // e.g. configured later on some day
			}
			return 20, 0
		}, Run: got.job("study.remind", nil)},
	)
	clk.Set(at("2025-03-03", "06:00:00"))
	status, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := status[0]; st.Name != "study.publish" || st.Today != StatePending || !st.NextDue.Equal(at("2025-03-03", "07:00:00")) || st.LastDay != "" {
		t.Fatalf("publish before 07:00 = %+v", st)
	}

	clk.Set(at("2025-03-03", "20:00:00"))
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	status, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range status {
		if st.Today != StateDone || st.Attempts != 1 || st.LastDay != "2025-03-03" || !st.LastRunAt.Equal(clk.Now()) || st.LastError != "" {
			t.Fatalf("%s after its run = %+v", st.Name, st)
		}
	}
	if !status[0].NextDue.Equal(at("2025-03-04", "07:00:00")) || !status[1].NextDue.Equal(at("2025-03-04", "21:30:00")) {
		t.Fatalf("next due = %v and %v", status[0].NextDue, status[1].NextDue)
	}
}

func TestAdd(t *testing.T) {
	run := func(context.Context, string) error { return nil }
	s := New(nil, testenv.Logger(), shanghai, nil)
	if err := s.Add(Job{Name: "study.publish", At: "07:00", Run: run}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		job  Job
	}{
		{"duplicate", Job{Name: "study.publish", At: "08:00", Run: run}},
		{"no name", Job{At: "07:00", Run: run}},
		{"colon in name", Job{Name: "study:publish", At: "07:00", Run: run}},
		{"space in name", Job{Name: "study publish", At: "07:00", Run: run}},
		{"no run", Job{Name: "a", At: "07:00"}},
		{"no time", Job{Name: "b", Run: run}},
		{"one-digit hour", Job{Name: "c", At: "7:00", Run: run}},
		{"hour 24", Job{Name: "d", At: "24:00", Run: run}},
		{"seconds", Job{Name: "e", At: "07:00:00", Run: run}},
	} {
		if err := s.Add(c.job); err == nil {
			t.Errorf("%s: added", c.name)
		}
	}
	if err := s.Add(Job{Name: "study.remind", When: func(string) (int, int) { return 20, 0 }, Run: run}); err != nil {
		t.Fatalf("a job with When only: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	s := New(nil, testenv.Logger(), shanghai, nil)
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i, w := range want {
		if got := s.backoff(i + 1); got != w {
			t.Errorf("backoff after failure %d = %v, want %v", i+1, got, w)
		}
	}
	if got := s.backoff(1000); got != MaxBackoff {
		t.Errorf("backoff after failure 1000 = %v", got)
	}
}
