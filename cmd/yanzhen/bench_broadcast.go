package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
)

// benchApp is the official account the load test's worker processes send as (any app will do for the
// fake WeChat API).
var benchApp = config.WeChatApp{AppID: "wxbenchbroadcast1", Secret: "bench"}

// cmdBenchBroadcast is `yanzhen bench broadcast`: it seeds a roster of --members members (once), runs a
// fake WeChat API in this process, records a notice to all of them and lets a worker process (this
// binary with --child: the broadcast engine alone, as in `yanzhen serve`) deliver it; with --kill it
// kills that process with SIGKILL in the middle and starts another. It reports how long the audience
// took to expand, the delivery rate, recipients lost, duplicates against the in-flight window, and the
// results page's query time. See docs/PERFORMANCE.md.
func cmdBenchBroadcast(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("bench broadcast", std)
	var cf commonFlags
	cf.register(fs)
	members := fs.Int("members", 600000, "members in the load county (seeded once)")
	rate := fs.Float64("rate", 0, "sends per second across workers (0: unlimited)")
	kill := fs.Bool("kill", false, "kill the worker with SIGKILL at --kill-at of the way and start another")
	killAt := fs.Float64("kill-at", 0.4, "when to kill, as a share of the recipients sent")
	workers := fs.Int("workers", 0, "queue readers per worker process (0: the engine's default)")
	senders := fs.Int("senders", 0, "sends in flight per reader (0: the engine's default)")
	batch := fs.Int("batch", 0, "recipients per queue entry (0: the engine's default)")
	child := fs.Bool("child", false, "(internal) run as the worker process")
	fakeURL := fs.String("fake", "", "(internal) the fake WeChat API the worker sends to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, log, err := cf.load(std)
	if err != nil {
		return err
	}
	db, err := openDB(cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	svc := broadcast.New(db, log, time.Now, nil)

	if *child {
		rdb, err := kv.Open(ctx, cfg.RedisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		wxapi.Configure(*fakeURL, nil)
		wx := wxapi.New(wxapi.Options{OA: benchApp, Redis: rdb.Client, Log: log})
		o := broadcast.EngineOptions{Redis: rdb.Client, Teller: notify.New(notify.Options{Sender: wx, TemplateID: "bench"}),
			Rate: *rate, Workers: *workers, Senders: *senders, Batch: *batch, Poll: 500 * time.Millisecond, OwnerLease: 5 * time.Second,
			ClaimLease: 10 * time.Second}
		if *rate == 0 {
			o.Rate = -1
		}
		broadcast.NewEngine(svc, o).Run(ctx)
		return nil
	}

	// The Redis the workers share: the configured one, or an embedded one in this process.
	rdb, err := kv.Open(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	redisURL := cfg.RedisURL
	if redisURL == "" {
		redisURL = "redis://" + rdb.Options().Addr + "/0"
	}
	rdb.Del(ctx, kv.BroadcastQueueKey) // a fresh queue: entries of earlier runs would only slow this one

	start := time.Now()
	if err := broadcast.SeedLoad(ctx, db, *members, std.err); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "bench: roster of %d ready in %s\n", *members, time.Since(start).Round(time.Millisecond))

	fake := wxfake.New()
	fake.KeepCalls(false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fakeSrv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go fakeSrv.Serve(ln)
	defer fakeSrv.Close()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	startWorker := func() (*exec.Cmd, error) {
		c := exec.Command(exe, "bench", "broadcast", "--child", "--fake", "http://"+ln.Addr().String(),
			"--rate", strconv.FormatFloat(*rate, 'f', -1, 64), "--workers", strconv.Itoa(*workers), "--senders", strconv.Itoa(*senders),
			"--batch", strconv.Itoa(*batch), "--log-level", "warn")
		c.Env = append(os.Environ(), "YANZHEN_DATABASE_URL="+cfg.DatabaseURL, "YANZHEN_REDIS_URL="+redisURL)
		c.Stdout, c.Stderr = std.err, std.err
		return c, c.Start()
	}

	// Earlier runs' recipients would only make this one's tables bigger.
	db.WithContext(ctx).Exec("DELETE FROM deliveries WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE org_path = ?)", broadcast.LoadCounty)
	db.WithContext(ctx).Exec("DELETE FROM broadcast_orgs WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE org_path = ?)", broadcast.LoadCounty)
	db.WithContext(ctx).Exec("DELETE FROM broadcasts WHERE org_path = ?", broadcast.LoadCounty)
	b, err := svc.Create(ctx, nil, broadcast.NoticeInput{OrgPaths: []string{broadcast.LoadCounty}, Text: "压测通知：请忽略。"})
	if err != nil {
		return err
	}
	fmt.Fprintf(std.err, "bench: broadcast %d recorded\n", b.ID)
	w, err := startWorker()
	if err != nil {
		return err
	}
	defer func() { w.Process.Signal(syscall.SIGTERM); w.Wait() }()

	var killed bool
	var sentAtKill int64
	var expanded time.Duration
	bound := int64(*members - *members/10)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		var cur models.Broadcast
		if err := db.WithContext(ctx).Take(&cur, b.ID).Error; err != nil {
			return err
		}
		if expanded == 0 && cur.ExpandedAt != nil {
			expanded = cur.ExpandedAt.Sub(cur.CreatedAt)
			fmt.Fprintf(std.err, "bench: audience of %d expanded and queued in %s\n", cur.Recipients, expanded.Round(time.Millisecond))
		}
		var sent int64
		db.WithContext(ctx).Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ?", b.ID, models.DeliverySent).Count(&sent)
		if *kill && !killed && float64(sent) >= *killAt*float64(bound) {
			w.Process.Signal(syscall.SIGKILL)
			w.Wait()
			killed, sentAtKill = true, sent
			fmt.Fprintf(std.err, "bench: worker killed with SIGKILL at %d sent; starting another\n", sent)
			if w, err = startWorker(); err != nil {
				return err
			}
		}
		if cur.Status == models.BroadcastDone {
			break
		}
	}

	f, err := svc.Figures(ctx, b.ID)
	if err != nil {
		return err
	}
	delivered := fake.Delivered()
	var dups int64
	for _, n := range delivered {
		dups += int64(n - 1)
	}
	lost := bound - int64(len(delivered))
	span := f.LastSent.Sub(f.FirstSent)
	fmt.Fprintf(std.out, "recipients %d expanded_and_queued %s\n", f.Recipients, f.Expanded.Round(time.Millisecond))
	fmt.Fprintf(std.out, "sent %d failed %d skipped %d queued %d in %s: %.0f deliveries/s (rate limit %s)\n", f.Counts.Sent, f.Counts.Failed,
		f.Counts.Skipped, f.Counts.Queued, span.Round(time.Millisecond), float64(f.Counts.Sent)/max(span.Seconds(), 0.001), rateName(*rate))
	fmt.Fprintf(std.out, "fake: most calls in one second %d\n", fake.MaxPerSecond())
	window := *workers
	if window == 0 {
		window = 4
	}
	if *batch == 0 {
		window *= 100
	} else {
		window *= *batch
	}
	fmt.Fprintf(std.out, "killed %v (at %d sent) lost %d duplicates %d (counted as possible %d, in-flight window %d)\n",
		killed, sentAtKill, lost, dups, f.Counts.Dup, window)
	fmt.Fprintf(std.out, "results page queries: median %s, worst of 5 %s\n", f.ResultsPage.Round(time.Millisecond), f.ResultsPageWorst.Round(time.Millisecond))
	return nil
}

func rateName(r float64) string {
	if r <= 0 {
		return "none"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}
