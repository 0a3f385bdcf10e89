package schedule

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/kv"
)

// States of a job today, in JobStatus.Today.
const (
	StatePending  = "pending"  // not run yet today: due at NextDue, or due now if that has passed
	StateRunning  = "running"  // a process (Owner) is running it
	StateRetrying = "retrying" // failed today; retried at NextDue
	StateDone     = "done"     // done today; next due tomorrow
)

// JobStatus is what a health or console page shows of one job, across every process.
type JobStatus struct {
	Name     string
	Due      time.Time // today's due time
	Today    string    // one of the State constants; "" when Redis could not be read
	Attempts int       // runs started today
	Owner    string    // the process running it (StateRunning) or that ran it last today
	// NextDue is when the job is next due to start: today's time (in the past: at the next tick), the
	// retry time, or tomorrow's time; zero while running.
	NextDue time.Time

	LastDay      string        // the last day the job was done ("" if not within a month)
	LastRunAt    time.Time     // when that run finished
	LastDuration time.Duration // how long it took
	LastError    string        // the latest failure on any day; compare LastErrorAt with LastRunAt
	LastErrorAt  time.Time
}

// Status reports every job, in the order they were added. When Redis cannot be read it returns what the scheduler
// knows by itself (names and due times) with the error.
func (s *Scheduler) Status(ctx context.Context) ([]JobStatus, error) {
	now := s.now().In(s.loc)
	day := now.Format(dayLayout)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, s.loc).Format(dayLayout)
	jobs := s.snapshot()

	pipe := s.rdb.Pipeline()
	days := make([]*redis.MapStringStringCmd, len(jobs))
	sums := make([]*redis.MapStringStringCmd, len(jobs))
	for i, e := range jobs {
		days[i] = pipe.HGetAll(ctx, kv.ScheduleDayKey(e.Name, day))
		sums[i] = pipe.HGetAll(ctx, kv.ScheduleJobKey(e.Name))
	}
	var rerr error
	if len(jobs) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			rerr = fmt.Errorf("schedule: status: %w", err)
		}
	}

	out := make([]JobStatus, 0, len(jobs))
	for i, e := range jobs {
		st := JobStatus{Name: e.Name}
		due, err := s.dueOn(e, day)
		if err != nil {
			st.LastError = err.Error()
			out = append(out, st)
			continue
		}
		st.Due, st.NextDue = due, due
		if rerr != nil {
			out = append(out, st)
			continue
		}
		d, sum := days[i].Val(), sums[i].Val()
		st.Attempts, _ = strconv.Atoi(d["n"])
		st.Owner = d["o"]
		switch d["s"] {
		case "":
			st.Today = StatePending
		case "run":
			st.Today, st.NextDue = StateRunning, time.Time{}
		case "fail":
			st.Today, st.NextDue = StateRetrying, fromMillis(d["r"], s.loc)
		case "done":
			st.Today, st.NextDue = StateDone, time.Time{}
			if next, err := s.dueOn(e, tomorrow); err == nil {
				st.NextDue = next
			}
		}
		st.LastDay = sum["day"]
		st.LastRunAt = fromMillis(sum["at"], s.loc)
		if ms, err := strconv.ParseInt(sum["dur"], 10, 64); err == nil {
			st.LastDuration = time.Duration(ms) * time.Millisecond
		}
		st.LastError = sum["err"]
		st.LastErrorAt = fromMillis(sum["errat"], s.loc)
		out = append(out, st)
	}
	return out, rerr
}
