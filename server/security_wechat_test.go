package server

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/kv"
)

// What the WeChat webhook tests elsewhere cover (server_test.go, bot/wechat): a bad signature or
// msg_signature (401), a timestamp outside the 5-minute window (403), another app's message (401),
// and three concurrent deliveries of one MsgId (one effect, one reply). These tests add the replay of
// a captured request after the dedup record expired, and a forged body under a captured signature.

// movableClock is a server clock tests move forward together with the embedded Redis's TTLs.
type movableClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}
func (c *movableClock) add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// knownGap skips a test of a weakness that is reported but not yet fixed (it is in a package this
// change does not own); YANZHEN_TEST_KNOWN_GAPS=1 runs it, and it must pass once the fix lands.
func knownGap(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("YANZHEN_TEST_KNOWN_GAPS") == "" {
		t.Skip("known gap, reported: " + what + " (YANZHEN_TEST_KNOWN_GAPS=1 runs it)")
	}
}

func replayHarness(t *testing.T) (*harness, *miniredis.Miniredis, *movableClock, *atomic.Int32) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mr.Close)
	clock := &movableClock{}
	h := newHarnessWith(t, "redis://"+mr.Addr()+"/0", Options{Now: clock.Now})
	var runs atomic.Int32
	h.app.Router().Handle("记一笔", func(_ context.Context, c *bot.Context) error {
		runs.Add(1)
		return c.Text("记下了")
	}, bot.Public())
	return h, mr, clock, &runs
}

// A captured request replayed while its dedup record lives has no second effect (the record outlives
// WeChat's own retries).
func TestReplayWithinTheDedupWindowHasNoSecondEffect(t *testing.T) {
	h, mr, clock, runs := replayHarness(t)
	for _, mode := range []wxclient.Mode{wxclient.Plain, wxclient.Safe} {
		runs.Store(0)
		c := h.oa(mode)
		req, err := c.Encode(c.Text("o-victim-"+mode.String(), "记一笔"))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if res, err := c.Do(context.Background(), req); err != nil || res.Status != 200 {
				t.Fatalf("%s delivery %d: %v %+v", mode, i, err, res)
			}
			clock.add(20 * time.Second)
			mr.FastForward(20 * time.Second)
		}
		if runs.Load() != 1 {
			t.Fatalf("%s: %d effects of one captured request replayed within %v", mode, runs.Load(), kv.DedupTTL)
		}
	}
}

// A captured request replayed at any time inside the 5-minute timestamp window has no second effect:
// the dedup record outlives the window (kv.DedupTTL), and later the timestamp is refused. Replayed
// 4.5 minutes later (inside the window: a 60 s record would have let it through) and 6.5 minutes later.
func TestReplayAfterTheDedupWindowHasNoSecondEffect(t *testing.T) {
	h, mr, clock, runs := replayHarness(t)
	c := h.oa(wxclient.Safe)
	req, err := c.Encode(c.Text("o-victim", "记一笔"))
	if err != nil {
		t.Fatal(err)
	}
	c.Do(context.Background(), req)
	for _, step := range []time.Duration{4*time.Minute + 30*time.Second, 2 * time.Minute} {
		clock.add(step)
		mr.FastForward(step)
		res, err := c.Do(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if runs.Load() != 1 {
			t.Fatalf("a replay was dispatched again (status %d): %d effects", res.Status, runs.Load())
		}
	}
}

// In plaintext mode WeChat's signature covers only timestamp and nonce, not the body: a captured query
// string must not carry a different, forged message (another openid, another text).
func TestForgedBodyUnderACapturedSignatureIsRefused(t *testing.T) {
	h, _, _, runs := replayHarness(t)
	c := h.oa(wxclient.Plain)
	real, err := c.Encode(c.Text("o-victim", "帮助"))
	if err != nil {
		t.Fatal(err)
	}
	c.Do(context.Background(), real)
	forged, err := c.Encode(c.Text("o-someone-else", "记一笔"))
	if err != nil {
		t.Fatal(err)
	}
	forged.Query = real.Query // the attacker has the query string, not the token
	res, err := c.Do(context.Background(), forged)
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 0 {
		t.Fatalf("a forged body under a captured signature was dispatched (status %d)", res.Status)
	}
}

// In safe mode the forged body does not verify: msg_signature covers the encrypted message.
func TestForgedBodyInSafeModeIsRefused(t *testing.T) {
	h, _, _, runs := replayHarness(t)
	c := h.oa(wxclient.Safe)
	real, err := c.Encode(c.Text("o-victim", "帮助"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := c.Encode(c.Text("o-someone-else", "记一笔"))
	if err != nil {
		t.Fatal(err)
	}
	forged.Query = real.Query
	res, err := c.Do(context.Background(), forged)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 401 || runs.Load() != 0 {
		t.Fatalf("forged safe-mode body: status %d, %d effects", res.Status, runs.Load())
	}
	if m := h.member("o-someone-else"); m != nil {
		t.Fatal("the forged request bound a member")
	}
}
