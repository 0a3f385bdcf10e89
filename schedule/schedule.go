// Package schedule runs daily jobs once a day across every `yanzhen serve` process sharing one Redis.
//
// A job is due each day at a time of day in the scheduler's location. Every process ticks (Run wakes at
// the next due time, and at least once a minute); the first process to claim a due job for the day in
// Redis runs it, the others see the claim and skip it. The claim is a lease: its owner renews it while
// the job runs and marks the day done when the job succeeds, after which the job never runs again that
// day. A failed run releases the claim with a backoff, so the same or another process retries it later
// that day. A process that dies mid-run stops renewing, and once its lease ends another process takes
// the run over.
//
// Jobs must be idempotent for their day: a run is repeated after a crash, after a lease lost to another
// process (its owner could not reach Redis for a whole lease), or when the done marker could not be
// written. Catch-up covers today only: a process started at 09:00 runs today's 07:00 job if nobody has,
// but a day that has ended is never run late: a daily study task or an evening reminder for yesterday,
// arriving the next morning, helps nobody, and a capability that must cover a gap can do it in today's
// run. Likewise retries of a failing job stop at midnight.
//
// Leases and backoffs are read against the injected clock, so the processes' clocks must agree (NTP)
// to well within the lease (60 s).
package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Job is work due once a day.
type Job struct {
	// Name identifies the job in Redis keys, logs and Status: letters, digits, '.', '_' and '-', by
	// convention "<capability>.<what>" (study.publish).
	Name string
	// At is the time of day the job is due, "HH:MM" (24-hour) in the scheduler's location.
	At string
	// When, if set, is used instead of At: the time of day the job is due on day (YYYY-MM-DD), e.g.
	// read from configuration. It is called on every tick, so it should be cheap. Differences between
	// orgs belong inside Run: schedule a job at the earliest time and let it skip orgs not yet due.
	When func(day string) (hour, minute int)
	// Run does the day's work. It must be idempotent for day (see the package doc) and stop when ctx
	// ends: at shutdown, or when the lease was lost to another process.
	Run func(ctx context.Context, day string) error
}

// Defaults of a Scheduler.
const (
	// Lease is how long a claim stays valid without renewal: a run whose process died is taken over
	// this long after its last renewal.
	Lease = 60 * time.Second
	// RenewEvery is how often a running job's lease is renewed.
	RenewEvery = 10 * time.Second
	// FirstBackoff is the wait before retrying a failed run; it doubles with each failure of the day,
	// up to MaxBackoff.
	FirstBackoff = time.Minute
	MaxBackoff   = 30 * time.Minute
	// MaxSleep bounds Run's sleep, so a changed clock, a released claim or an expired lease is noticed
	// within a minute.
	MaxSleep = time.Minute
)

const dayLayout = "2006-01-02"

// Scheduler runs registered jobs once a day, in cooperation with the Schedulers of other processes on
// the same Redis.
type Scheduler struct {
	rdb redis.UniversalClient
	log *slog.Logger
	loc *time.Location
	now func() time.Time
	id  string // this process, as it appears in claims and logs

	lease        time.Duration
	renewEvery   time.Duration
	firstBackoff time.Duration
	maxBackoff   time.Duration
	maxSleep     time.Duration
	errorWait    time.Duration // Run's sleep after Redis failed
	writeTimeout time.Duration // for recording an outcome after ctx ended

	mu      sync.Mutex
	jobs    []*entry
	running map[string]bool // name + " " + day of the runs going in this process
	runs    sync.WaitGroup
	wake    chan struct{} // a local run ended: Run looks again at once
}

type entry struct {
	Job
	when func(day string) (hour, minute int)
}

// New returns a Scheduler of the jobs added to it. Days and times of day are read in loc; now is the
// clock (nil: time.Now).
func New(rdb redis.UniversalClient, log *slog.Logger, loc *time.Location, now func() time.Time) *Scheduler {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.Local
	}
	host, _ := os.Hostname()
	return &Scheduler{
		rdb: rdb, log: log, loc: loc, now: now,
		id:           host + ":" + strconv.Itoa(os.Getpid()) + ":" + randomHex(3),
		lease:        Lease,
		renewEvery:   RenewEvery,
		firstBackoff: FirstBackoff,
		maxBackoff:   MaxBackoff,
		maxSleep:     MaxSleep,
		errorWait:    10 * time.Second,
		writeTimeout: 5 * time.Second,
		running:      map[string]bool{},
		wake:         make(chan struct{}, 1),
	}
}

var jobName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Add registers a job. It fails on a bad or duplicate name, a missing Run, or an At that is not HH:MM
// when When is nil.
func (s *Scheduler) Add(job Job) error {
	if !jobName.MatchString(job.Name) {
		return fmt.Errorf("schedule: job name %q: want letters, digits, '.', '_' or '-'", job.Name)
	}
	if job.Run == nil {
		return fmt.Errorf("schedule: job %s: no Run", job.Name)
	}
	e := &entry{Job: job, when: job.When}
	if e.when == nil {
		h, m, err := ParseTimeOfDay(job.At)
		if err != nil {
			return fmt.Errorf("schedule: job %s: %w", job.Name, err)
		}
		e.when = func(string) (int, int) { return h, m }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.jobs {
		if o.Name == job.Name {
			return fmt.Errorf("schedule: job %s added twice", job.Name)
		}
	}
	s.jobs = append(s.jobs, e)
	return nil
}

// ParseTimeOfDay reads "HH:MM" (24-hour), for At and for configuration that feeds When.
func ParseTimeOfDay(hhmm string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil || len(hhmm) != 5 {
		return 0, 0, fmt.Errorf("time of day %q: want HH:MM, 00:00 to 23:59", hhmm)
	}
	return t.Hour(), t.Minute(), nil
}

// Tick runs the jobs due now (see RunDue).
func (s *Scheduler) Tick(ctx context.Context) error { return s.RunDue(ctx, s.now()) }

// RunDue runs every job whose time today (the day of now in the scheduler's location) has passed and
// which no process has done today, unless another process is running it or it is waiting for a retry.
// It returns when the runs it started have ended, with their errors and Redis's. now decides the day,
// what is due and the claims; renewals and the outcome's timestamps read the scheduler's clock, so now
// should be close to it (Tick passes the clock itself).
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) error {
	runs, _, err := s.start(ctx, now)
	errs := []error{err}
	for _, r := range runs {
		<-r.done
		errs = append(errs, r.err)
	}
	return errors.Join(errs...)
}

// Run ticks until ctx ends: at each job's next due time, after a local run ends, and at least every
// MaxSleep, so that a changed clock is noticed within that (timers follow the monotonic clock, not the
// wall clock). Before returning it waits for the runs it started, whose contexts end with ctx.
func (s *Scheduler) Run(ctx context.Context) {
	defer s.runs.Wait()
	s.log.Info("schedule: started", "jobs", s.names(), "owner", s.id, "location", s.loc.String())
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		_, next, _ := s.start(ctx, s.now()) // failures are logged by start and the runs
		timer.Reset(min(max(next.Sub(s.now()), time.Second), s.maxSleep))
	}
}

// run is one job run started by this process.
type run struct {
	done chan struct{}
	err  error
}

// start claims the due jobs and starts the claimed ones. It returns the runs started, the time it next
// has something to do (at most maxSleep ahead), and the claims' errors, already logged.
func (s *Scheduler) start(ctx context.Context, now time.Time) ([]*run, time.Time, error) {
	now = now.In(s.loc)
	day := now.Format(dayLayout)
	next := now.Add(s.maxSleep)
	var (
		runs []*run
		errs []error
	)
	for _, e := range s.snapshot() {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		due, err := s.dueOn(e, day)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if now.Before(due) {
			next = earlier(next, due)
			continue
		}
		if s.isRunning(e.Name, day) {
			continue
		}
		c, err := s.claim(ctx, e.Name, day, now)
		if err != nil {
			errs = append(errs, err)
			next = earlier(next, now.Add(s.errorWait))
			continue
		}
		switch c.outcome {
		case claimRun:
			runs = append(runs, s.launch(ctx, e, day, c))
		case claimHeld, claimWait:
			next = earlier(next, c.until)
		}
	}
	err := errors.Join(errs...)
	if err != nil && ctx.Err() == nil {
		s.log.Error("schedule: tick failed; no job runs without its claim", "day", day, "err", err)
	}
	return runs, next, err
}

// dueOn is the time e is due on day.
func (s *Scheduler) dueOn(e *entry, day string) (time.Time, error) {
	d, err := time.ParseInLocation(dayLayout, day, s.loc)
	if err != nil {
		return time.Time{}, err
	}
	h, m := e.when(day)
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return time.Time{}, fmt.Errorf("schedule: job %s: time of day %02d:%02d on %s is out of range", e.Name, h, m, day)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, s.loc), nil
}

// launch runs a claimed job in its own goroutine.
func (s *Scheduler) launch(ctx context.Context, e *entry, day string, c claim) *run {
	r := &run{done: make(chan struct{})}
	s.setRunning(e.Name, day, true)
	s.runs.Go(func() {
		defer func() {
			s.setRunning(e.Name, day, false)
			close(r.done)
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}()
		r.err = s.execute(ctx, e, day, c)
	})
	return r
}

var errLeaseLost = errors.New("lease lost to another process")

// execute runs a claimed job while renewing its lease, and records the outcome.
func (s *Scheduler) execute(ctx context.Context, e *entry, day string, c claim) error {
	log := s.log.With("job", e.Name, "day", day, "attempt", c.attempt, "owner", c.owner)
	if c.takenFrom != "" {
		msg := "lease of " + c.takenFrom + " expired before the run finished"
		log.Warn("schedule: taking over a run whose process stopped renewing its lease", "previous_owner", c.takenFrom)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.writeTimeout)
		s.noteError(wctx, e.Name, msg, s.now())
		cancel()
	}

	log.Info("schedule: job started")
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenewing := s.renew(jctx, cancel, log, e.Name, day, c.owner, c.until)
	began := time.Now()
	err := runSafely(jctx, e, day, log)
	took := time.Since(began)
	stopRenewing()
	if cause := context.Cause(jctx); err != nil && errors.Is(cause, errLeaseLost) {
		err = fmt.Errorf("%w (%w)", err, cause)
	}

	// Record the outcome even when ctx has ended (shutdown).
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), s.writeTimeout)
	defer wcancel()
	finished := s.now()
	if err == nil {
		kept, ferr := s.finish(wctx, e.Name, day, c.owner, finished, took)
		if ferr != nil {
			log.Error("schedule: job done, but the done marker was not written: it runs again after its lease", "duration", took, "err", ferr)
			return fmt.Errorf("schedule: %s %s: record done: %w", e.Name, day, ferr)
		}
		if !kept {
			log.Warn("schedule: job done after its lease passed to another process, which runs it too", "duration", took)
		}
		log.Info("schedule: job done", "duration", took)
		s.noteDone(wctx, e.Name, day, finished, took)
		return nil
	}

	retry, shutdown := finished.Add(s.backoff(c.attempt)), ctx.Err() != nil
	if shutdown {
		retry = finished // not the job's fault: another process may take it at once
	}
	released, ferr := s.fail(wctx, e.Name, day, c.owner, retry, err.Error())
	switch {
	case ferr != nil:
		log.Error("schedule: job failed, and the failure was not recorded: it is retried after its lease", "duration", took, "err", err, "record_err", ferr)
	case !released:
		log.Error("schedule: job failed after its lease passed to another process", "duration", took, "err", err)
	case shutdown:
		log.Warn("schedule: job stopped by shutdown; released for another process", "duration", took, "err", err)
	default:
		log.Error("schedule: job failed", "duration", took, "err", err, "retry_at", retry)
	}
	s.noteError(wctx, e.Name, err.Error(), finished)
	return fmt.Errorf("schedule: %s %s: %w", e.Name, day, err)
}

// runSafely runs the job, turning a panic into an error: a scheduled job must not bring the server down.
func runSafely(ctx context.Context, e *entry, day string, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("schedule: job panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return e.Run(ctx, day)
}

// renew keeps the lease of a running job until the returned stop is called. When the claim has passed
// to another process, or the lease ends while Redis cannot be reached, it cancels the job: from then on
// another process may run it.
func (s *Scheduler) renew(ctx context.Context, cancel context.CancelCauseFunc, log *slog.Logger, job, day, owner string, until time.Time) (stop func()) {
	quit := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(s.renewEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := s.now()
			ok, err := s.extend(ctx, job, day, owner, now.Add(s.lease))
			switch {
			case err == nil && ok:
				until = now.Add(s.lease)
			case err == nil:
				log.Error("schedule: claim taken over by another process; stopping this run")
				cancel(errLeaseLost)
				return
			case !now.Before(until):
				log.Error("schedule: lease ended while Redis was unreachable; stopping this run", "err", err)
				cancel(fmt.Errorf("%w: %w", errLeaseLost, err))
				return
			default:
				log.Warn("schedule: lease not renewed", "err", err, "lease_until", until)
			}
		}
	}()
	return func() {
		close(quit)
		<-stopped
	}
}

// backoff is the wait after the attempt-th failure of a day.
func (s *Scheduler) backoff(attempt int) time.Duration {
	d := s.firstBackoff
	for i := 1; i < attempt && d < s.maxBackoff; i++ {
		d *= 2
	}
	return min(d, s.maxBackoff)
}

func (s *Scheduler) snapshot() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*entry(nil), s.jobs...)
}

func (s *Scheduler) names() []string {
	var names []string
	for _, e := range s.snapshot() {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}

func (s *Scheduler) isRunning(job, day string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[job+" "+day]
}

func (s *Scheduler) setRunning(job, day string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.running[job+" "+day] = true
	} else {
		delete(s.running, job+" "+day)
	}
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
