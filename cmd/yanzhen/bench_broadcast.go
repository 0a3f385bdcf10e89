package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

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
	mass := fs.Bool("mass", false, "send by mass send (群发: tag the recipients, one sendall, delete the tag) instead of one by one")
	tagRate := fs.Float64("tag-rate", 0, "with --mass: tag and mass-send API calls per second (0: unlimited)")
	child := fs.Bool("child", false, "(internal) run as the worker process")
	fakeURL := fs.String("fake", "", "(internal) the fake WeChat API the worker sends to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, log, db, err := cf.loadDB(std)
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
		if *mass {
			// No MASSSENDJOBFINISH reaches the bench: the tag is deleted a second after the send.
			o.Mass, o.TagRate, o.TagKeep = wx, *tagRate, time.Second
			if *tagRate == 0 {
				o.TagRate = -1
			}
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
			"--batch", strconv.Itoa(*batch), "--log-level", "warn", "--mass="+strconv.FormatBool(*mass),
			"--tag-rate", strconv.FormatFloat(*tagRate, 'f', -1, 64))
		c.Env = append(os.Environ(), "YANZHEN_DATABASE_URL="+cfg.DatabaseURL, "YANZHEN_REDIS_URL="+redisURL)
		c.Stdout, c.Stderr = std.err, std.err
		return c, c.Start()
	}

	// Earlier runs' recipients would only make this one's tables bigger.
	db.WithContext(ctx).Exec("DELETE FROM deliveries WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE org_path = ?)", broadcast.LoadCounty)
	db.WithContext(ctx).Exec("DELETE FROM broadcast_orgs WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE org_path = ?)", broadcast.LoadCounty)
	db.WithContext(ctx).Exec("DELETE FROM broadcast_masses WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE org_path = ?)", broadcast.LoadCounty)
	db.WithContext(ctx).Exec("DELETE FROM broadcasts WHERE org_path = ?", broadcast.LoadCounty)
	// Earlier mass runs' monthly counts would send this one's recipients one by one.
	db.WithContext(ctx).Exec("DELETE FROM mass_quotas WHERE member_id IN (SELECT id FROM members WHERE phone LIKE ?)", "199%")
	channel := broadcast.ChannelDirect
	if *mass {
		channel = broadcast.ChannelMass
	}
	b, err := svc.Create(ctx, nil, broadcast.NoticeInput{OrgPaths: []string{broadcast.LoadCounty}, Text: "压测通知：请忽略。", Channel: channel})
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
		if *mass { // killed while tagging
			var job models.BroadcastMass
			db.WithContext(ctx).Where("broadcast_id = ?", b.ID).Limit(1).Find(&job)
			sent = int64(job.Tagged)
		} else {
			db.WithContext(ctx).Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ?", b.ID, models.DeliverySent).Count(&sent)
		}
		if *kill && !killed && float64(sent) >= *killAt*float64(bound) {
			w.Process.Signal(syscall.SIGKILL)
			w.Wait()
			killed, sentAtKill = true, sent
			fmt.Fprintf(std.err, "bench: worker killed with SIGKILL at %d sent; starting another\n", sent)
			if w, err = startWorker(); err != nil {
				return err
			}
		}
		if cur.Status == models.BroadcastDone && !*mass {
			break
		}
		if cur.Status == models.BroadcastDone {
			var job models.BroadcastMass
			db.WithContext(ctx).Where("broadcast_id = ?", b.ID).Limit(1).Find(&job)
			if job.TagDeletedAt != nil {
				break
			}
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
	if *mass { // one sendall: every row has its time
		fmt.Fprintf(std.out, "sent %d failed %d skipped %d queued %d\n", f.Counts.Sent, f.Counts.Failed, f.Counts.Skipped, f.Counts.Queued)
	} else {
		fmt.Fprintf(std.out, "sent %d failed %d skipped %d queued %d in %s: %.0f deliveries/s (rate limit %s)\n", f.Counts.Sent, f.Counts.Failed,
			f.Counts.Skipped, f.Counts.Queued, span.Round(time.Millisecond), float64(f.Counts.Sent)/max(span.Seconds(), 0.001), rateName(*rate))
	}
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
	if *mass {
		return benchMassReport(ctx, std, db, b.ID, fake)
	}
	return nil
}

// benchMassReport prints how a mass broadcast went: the time to tag, send, record and delete its tag,
// and the WeChat API calls it took.
func benchMassReport(ctx context.Context, std stdio, db *gorm.DB, id uint, fake *wxfake.Server) error {
	var b models.Broadcast
	var job models.BroadcastMass
	if err := db.WithContext(ctx).Take(&b, id).Error; err != nil {
		return err
	}
	if err := db.WithContext(ctx).Take(&job, "broadcast_id = ?", id).Error; err != nil {
		return err
	}
	since := func(from time.Time, to *time.Time) string {
		if to == nil {
			return "-"
		}
		return to.Sub(from).Round(time.Millisecond).String()
	}
	fmt.Fprintf(std.out, "mass: tagged %d (sorted and tagged in %s after the expansion), sendall %s after tagging, recorded sent %s after it, tag untagged (%d) and deleted %s after that\n",
		job.Tagged, since(*b.ExpandedAt, job.TaggedAt), since(*job.TaggedAt, job.SentAt), since(*job.SentAt, b.FinishedAt), job.Untagged,
		since(*b.FinishedAt, job.TagDeletedAt))
	fmt.Fprintf(std.out, "mass: from recording to sendall %s, to all recorded %s\n", since(b.CreatedAt, job.SentAt), since(b.CreatedAt, b.FinishedAt))
	st := fake.Stats()
	var line strings.Builder
	total := 0
	for _, api := range []string{wxfake.APITagsCreate, wxfake.APITagsGet, wxfake.APIBatchTagging, wxfake.APIMassSendAll, wxfake.APIBatchUntagging,
		wxfake.APITagsDelete} {
		if n := st.Calls[api]; n > 0 {
			total += n
			fmt.Fprintf(&line, " %s=%d", api[strings.LastIndexByte(api, '/')+1:], n)
		}
	}
	fmt.Fprintf(std.out, "mass: tag and mass-send API calls %d (the job counted %d):%s; one by one: template=%d custom=%d\n", total, job.Calls,
		line.String(), st.Calls[wxfake.APITemplateSend], st.Calls[wxfake.APICustomSend])
	return nil
}

func rateName(r float64) string {
	if r <= 0 {
		return "none"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}
