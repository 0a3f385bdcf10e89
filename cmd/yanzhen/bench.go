package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/config"
)

// cmdBench is the project's load generator: `yanzhen bench webhook` sends WeChat-exact pushes (signed,
// encrypted in safe mode, fresh timestamps, distinct MsgIds) to a webhook and reports throughput and
// latency. scripts/bench-readpath.sh runs it against Yanzhen and the SDK echo server in one run.
func cmdBench(ctx context.Context, std stdio, args []string) error {
	if len(args) > 0 && args[0] == "broadcast" { // bench_broadcast.go
		return cmdBenchBroadcast(ctx, std, args[1:])
	}
	if len(args) > 0 && args[0] == "county" { // bench_county.go
		return cmdBenchCounty(ctx, std, args[1:])
	}
	if len(args) == 0 || args[0] != "webhook" {
		return usageError("bench webhook [flags]")
	}
	fs := newFlagSet("bench webhook", std)
	var urls, dupTo stringList
	fs.Var(&urls, "url", "webhook URL (repeat to spread the messages over several servers, round robin; default http://127.0.0.1:8080/wechat/oa)")
	fs.Var(&dupTo, "dup-to", "(testing) also send every message, unchanged, to this URL at the same time, as a WeChat retry landing on another server, and compare the replies (repeatable)")
	appID := fs.String("appid", envOr("YANZHEN_OA_APPID", config.DemoOAAppID), "AppID")
	token := fs.String("token", envOr("YANZHEN_OA_TOKEN", config.DemoOAToken), "Token")
	aesKey := fs.String("aeskey", envOr("YANZHEN_OA_AES_KEY", config.DemoOAAESKey), "EncodingAESKey")
	modeName := fs.String("mode", "safe", "plain, compat or safe")
	conns := fs.Int("conns", 64, "concurrent connections")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	count := fs.Int64("count", 0, "stop after this many messages (0: send for --duration)")
	rate := fs.Int("rate", 0, "messages per second in all (0: as fast as the server answers)")
	kind := fs.String("kind", "text", "text (a bound member's keyword) or location (LOCATION events, the write path)")
	text := fs.String("text", "帮助", "the text of text messages")
	users := fs.Int("users", 1000, "how many distinct users (openids o_bench_0 … o_bench_N-1) send")
	bindFile := fs.String("bind", "", "CSV of 姓名,手机号,绑定码 (the output of `yanzhen import roster`): bind users to these codes first")
	show := fs.Bool("show", false, "print every reply (`reply \"…\"`, quoted), for a handful of messages")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	mode, err := wxclient.ParseMode(*modeName)
	if err != nil {
		return usageError(err.Error())
	}
	if *conns < 1 || *users < 1 || *count < 0 {
		return usageError("--conns and --users must be at least 1, --count at least 0")
	}
	if len(urls) == 0 {
		urls = stringList{"http://127.0.0.1:8080/wechat/oa"}
	}
	hosts := len(urls) + len(dupTo)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxIdleConns: *conns * hosts}}
	msgIDs := wxclient.NewSequence(time.Now().UnixNano())
	newClient := func(u string) (*wxclient.Client, error) {
		return wxclient.New(wxclient.Config{URL: u, AppID: *appID, Token: *token, AESKey: *aesKey, AppUser: "gh_bench",
			Mode: mode, HTTP: hc, MsgIDs: msgIDs})
	}
	spec := loadSpec{conns: *conns, d: *duration, rate: *rate, count: *count}
	for _, u := range urls {
		c, err := newClient(u)
		if err != nil {
			return err
		}
		spec.clients = append(spec.clients, c)
	}
	for _, u := range dupTo {
		c, err := newClient(u)
		if err != nil {
			return err
		}
		spec.dups = append(spec.dups, c)
	}
	client := spec.clients[0]
	if *bindFile != "" {
		n, err := benchBind(ctx, client, *bindFile, *conns)
		if err != nil {
			return err
		}
		fmt.Fprintf(std.err, "bench: bound %d users\n", n)
	}

	// Events have no MsgId: WeChat tells them apart by user and CreateTime, so each gets its own second.
	var eventTime atomic.Int64
	eventTime.Store(time.Now().Add(-60 * 24 * time.Hour).Unix())
	spec.build = func(i int) *wxclient.Message {
		user := "o_bench_" + strconv.Itoa(i%*users)
		if *kind == "location" {
			m := client.LocationEvent(user, 29.9061, 103.3692, 30)
			m.CreateTime = eventTime.Add(1)
			return m
		}
		return client.Text(user, *text)
	}
	if *show {
		spec.show = std.out
	}

	res := runLoad(ctx, spec)
	fmt.Fprintf(std.out, "rps %.1f\n", res.rps())
	fmt.Fprintf(std.out, "requests %d ok %d errors %d busy %d duration %s conns %d rate %d kind %s mode %s\n",
		res.total, res.ok, res.errors, res.busy, res.elapsed.Round(time.Millisecond), *conns, *rate, *kind, mode)
	p := res.percentiles(50, 90, 99, 99.9, 100)
	fmt.Fprintf(std.out, "latency p50 %s p90 %s p99 %s p99.9 %s max %s\n", p[0], p[1], p[2], p[3], p[4])
	if len(urls) > 1 {
		for i, u := range urls {
			fmt.Fprintf(std.out, "url %s ok %d\n", u, res.perURL[i])
		}
	}
	if len(dupTo) > 0 {
		fmt.Fprintf(std.out, "dups %d same %d differ %d\n", res.dups, res.dupSame, res.dups-res.dupSame)
		if res.dupDiff != "" {
			fmt.Fprintf(std.err, "bench: first differing retry: %s\n", res.dupDiff)
		}
	}
	if res.firstErr != nil {
		fmt.Fprintf(std.err, "bench: first error: %v\n", res.firstErr)
	}
	return nil
}

type loadResult struct {
	total, ok, errors, busy int64
	perURL                  []int64 // ok by URL
	dups, dupSame           int64   // retries sent to the --dup-to URLs, and those answered as the first
	dupDiff                 string  // the first retry answered otherwise
	elapsed                 time.Duration
	latencies               []time.Duration
	firstErr                error
}

func (r *loadResult) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r *loadResult) percentiles(ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(r.latencies) == 0 {
		return out
	}
	slices.Sort(r.latencies)
	for i, p := range ps {
		idx := int(float64(len(r.latencies)-1) * p / 100)
		out[i] = r.latencies[idx].Round(10 * time.Microsecond)
	}
	return out
}

// loadSpec is what runLoad sends: message i (from 1) built by build, to clients[i mod len] (they differ
// only in URL), and at the same time, unchanged, to every dup; for d, or until count messages.
type loadSpec struct {
	clients, dups []*wxclient.Client
	build         func(i int) *wxclient.Message
	conns         int
	d             time.Duration
	rate          int
	count         int64
	show          io.Writer // not nil: every reply is printed to it
}

// replyKey is what two answers to one message must share: the HTTP status and the reply's kind and
// content (not its CreateTime, nonce or encryption).
func replyKey(r *wxclient.Result, err error) string {
	switch {
	case err != nil:
		return "error: " + err.Error()
	case r.Status != http.StatusOK:
		return "HTTP " + strconv.Itoa(r.Status)
	case r.Reply == nil:
		return "(no reply)"
	}
	return fmt.Sprintf("%s %q %v", r.Reply.MsgType, r.Reply.Content, r.Reply.Articles)
}

// runLoad sends from conns workers for d. With rate > 0 each worker keeps a schedule and latency is
// measured from the scheduled time, so a server that falls behind shows it (no coordinated omission).
func runLoad(ctx context.Context, spec loadSpec) *loadResult {
	ctx, cancel := context.WithTimeout(ctx, spec.d)
	defer cancel()
	conns, rate := spec.conns, spec.rate
	var (
		mu  sync.Mutex
		res = loadResult{perURL: make([]int64, len(spec.clients))}
		seq atomic.Int64
		wg  sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var (
				lat                   []time.Duration
				ok, errs, busy, total int64
				perURL                = make([]int64, len(spec.clients))
				dups, dupSame         int64
				dupDiff               string
				firstErr              error
				req                   wxclient.Request
				interval              time.Duration
				next                  = time.Now()
				dupRes                = make([]string, len(spec.dups))
			)
			if rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(conns) / float64(rate))
				next = start.Add(time.Duration(w) * interval / time.Duration(conns))
			}
			for ctx.Err() == nil {
				sent := time.Now()
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							continue
						}
					}
					sent = next
					next = next.Add(interval)
				}
				i := seq.Add(1)
				if spec.count > 0 && i > spec.count {
					break
				}
				target := int(i % int64(len(spec.clients)))
				c := spec.clients[target]
				if err := c.EncodeTo(&req, spec.build(int(i))); err != nil {
					firstErr = err
					errs++
					continue
				}
				// The retries go out while the first delivery runs, as WeChat's may.
				var dwg sync.WaitGroup
				for k, d := range spec.dups {
					dwg.Go(func() {
						r, err := d.Do(context.WithoutCancel(ctx), &req)
						dupRes[k] = replyKey(r, err)
					})
				}
				r, err := c.Do(context.WithoutCancel(ctx), &req)
				dwg.Wait()
				total++
				if len(spec.dups) > 0 {
					first := replyKey(r, err)
					for _, got := range dupRes {
						dups++
						if got == first {
							dupSame++
						} else if dupDiff == "" {
							dupDiff = fmt.Sprintf("first %s, retry %s", first, got)
						}
					}
				}
				if spec.show != nil {
					mu.Lock()
					fmt.Fprintf(spec.show, "reply %s\n", strconv.Quote(replyText(r, err)))
					mu.Unlock()
				}
				switch {
				case err != nil || r.Status != http.StatusOK:
					errs++
					if firstErr == nil {
						if err == nil {
							err = fmt.Errorf("HTTP %d: %.200s", r.Status, r.Response)
						}
						firstErr = err
					}
				case r.Reply != nil && r.Reply.Content == bot.TextBusy:
					busy++
				default:
					ok++
					perURL[target]++
					lat = append(lat, time.Since(sent))
				}
			}
			mu.Lock()
			res.total += total
			res.ok += ok
			res.errors += errs
			res.busy += busy
			for k, n := range perURL {
				res.perURL[k] += n
			}
			res.dups += dups
			res.dupSame += dupSame
			if res.dupDiff == "" {
				res.dupDiff = dupDiff
			}
			res.latencies = append(res.latencies, lat...)
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return &res
}

// replyText is a reply's text for --show: the content of a text reply, the articles of a news reply.
func replyText(r *wxclient.Result, err error) string {
	if err != nil || r.Status != http.StatusOK || r.Reply == nil {
		return replyKey(r, err)
	}
	if r.Reply.MsgType == "text" {
		return r.Reply.Content
	}
	return replyKey(r, err)
}

// benchBind binds user i to the i-th code of a roster import's output.
func benchBind(ctx context.Context, c *wxclient.Client, path string, conns int) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return 0, fmt.Errorf("bench: %s: %w", path, err)
	}
	if len(rows) > 0 && len(rows[0]) == 3 && rows[0][2] == "绑定码" {
		rows = rows[1:]
	}
	var (
		wg       sync.WaitGroup
		bound    atomic.Int64
		firstErr atomic.Value
	)
	sem := make(chan struct{}, conns)
	for i, row := range rows {
		if len(row) < 3 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(user, code string) {
			defer func() { <-sem; wg.Done() }()
			r, err := c.Send(ctx, c.Text(user, "绑定 "+code))
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("HTTP %d", r.Status)
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			bound.Add(1)
		}("o_bench_"+strconv.Itoa(i), row[2])
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return int(bound.Load()), errors.Join(errors.New("bench: binding failed"), err)
	}
	return int(bound.Load()), nil
}
