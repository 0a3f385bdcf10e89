package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
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
	if len(args) == 0 || args[0] != "webhook" {
		return usageError("bench webhook [flags]")
	}
	fs := newFlagSet("bench webhook", std)
	url := fs.String("url", "http://127.0.0.1:8080/wechat/oa", "webhook URL")
	appID := fs.String("appid", envOr("YANZHEN_OA_APPID", config.DemoOAAppID), "AppID")
	token := fs.String("token", envOr("YANZHEN_OA_TOKEN", config.DemoOAToken), "Token")
	aesKey := fs.String("aeskey", envOr("YANZHEN_OA_AES_KEY", config.DemoOAAESKey), "EncodingAESKey")
	modeName := fs.String("mode", "safe", "plain, compat or safe")
	conns := fs.Int("conns", 64, "concurrent connections")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	rate := fs.Int("rate", 0, "messages per second in all (0: as fast as the server answers)")
	kind := fs.String("kind", "text", "text (a bound member's keyword) or location (LOCATION events, the write path)")
	text := fs.String("text", "帮助", "the text of text messages")
	users := fs.Int("users", 1000, "how many distinct users (openids o_bench_0 … o_bench_N-1) send")
	bindFile := fs.String("bind", "", "CSV of 姓名,手机号,绑定码 (the output of `yanzhen import roster`): bind users to these codes first")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	mode, err := wxclient.ParseMode(*modeName)
	if err != nil {
		return usageError(err.Error())
	}
	if *conns < 1 || *users < 1 {
		return usageError("--conns and --users must be at least 1")
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxIdleConns: *conns}}
	client, err := wxclient.New(wxclient.Config{URL: *url, AppID: *appID, Token: *token, AESKey: *aesKey, AppUser: "gh_bench",
		Mode: mode, HTTP: hc, MsgIDs: wxclient.NewSequence(time.Now().UnixNano())})
	if err != nil {
		return err
	}
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
	build := func(i int) *wxclient.Message {
		user := "o_bench_" + strconv.Itoa(i%*users)
		if *kind == "location" {
			m := client.LocationEvent(user, 29.9061, 103.3692, 30)
			m.CreateTime = eventTime.Add(1)
			return m
		}
		return client.Text(user, *text)
	}

	res := runLoad(ctx, client, build, *conns, *duration, *rate)
	fmt.Fprintf(std.out, "rps %.1f\n", res.rps())
	fmt.Fprintf(std.out, "requests %d ok %d errors %d busy %d duration %s conns %d rate %d kind %s mode %s\n",
		res.total, res.ok, res.errors, res.busy, res.elapsed.Round(time.Millisecond), *conns, *rate, *kind, mode)
	p := res.percentiles(50, 90, 99, 99.9, 100)
	fmt.Fprintf(std.out, "latency p50 %s p90 %s p99 %s p99.9 %s max %s\n", p[0], p[1], p[2], p[3], p[4])
	if res.firstErr != nil {
		fmt.Fprintf(std.err, "bench: first error: %v\n", res.firstErr)
	}
	return nil
}

type loadResult struct {
	total, ok, errors, busy int64
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

// runLoad sends from conns workers for d. With rate > 0 each worker keeps a schedule and latency is
// measured from the scheduled time, so a server that falls behind shows it (no coordinated omission).
func runLoad(ctx context.Context, c *wxclient.Client, build func(i int) *wxclient.Message, conns int, d time.Duration, rate int) *loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu  sync.Mutex
		res loadResult
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
				firstErr              error
				req                   wxclient.Request
				interval              time.Duration
				next                  = time.Now()
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
				i := int(seq.Add(1))
				if err := c.EncodeTo(&req, build(i)); err != nil {
					firstErr = err
					errs++
					continue
				}
				r, err := c.Do(context.WithoutCancel(ctx), &req)
				total++
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
					lat = append(lat, time.Since(sent))
				}
			}
			mu.Lock()
			res.total += total
			res.ok += ok
			res.errors += errs
			res.busy += busy
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
