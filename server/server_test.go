package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// Test credentials: not the demo ones, so the server talks to the test's own fake WeChat API.
var (
	testOA = config.WeChatApp{AppID: "wxtestoa000000001", Secret: "oa-secret", Token: "oatoken", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	testMP = config.WeChatApp{AppID: "wxtestmp000000002", Secret: "mp-secret", Token: "mptoken", AESKey: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"}
)

type harness struct {
	t     testing.TB
	app   *App
	srv   *httptest.Server
	fake  *wxfake.Server
	codes []roster.UnboundMember // demo members with their bind codes
}

// newHarness wires a real server (real database and Redis from testenv, or redisURL if given) in
// front of a fake WeChat API, with the demo county loaded.
func newHarness(t testing.TB, redisURL string) *harness {
	return newHarnessWith(t, redisURL, Options{})
}

func newHarnessWith(t testing.TB, redisURL string, opts Options) *harness {
	t.Helper()
	fake := wxfake.New()
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(fakeSrv.Close)
	if redisURL == "" {
		redisURL = testenv.RedisURL(t)
	}
	vars := map[string]string{
		"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": redisURL, "YANZHEN_INDEX_DIR": t.TempDir(),
		"YANZHEN_OA_APPID": testOA.AppID, "YANZHEN_OA_SECRET": testOA.Secret, "YANZHEN_OA_TOKEN": testOA.Token, "YANZHEN_OA_AES_KEY": testOA.AESKey,
		"YANZHEN_MP_APPID": testMP.AppID, "YANZHEN_MP_SECRET": testMP.Secret, "YANZHEN_MP_TOKEN": testMP.Token, "YANZHEN_MP_AES_KEY": testMP.AESKey,
		"YANZHEN_WECHAT_API_BASE": fakeSrv.URL,
	}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(context.Background(), cfg, testenv.Logger(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	demo, err := app.Roster().LoadDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, app: app, srv: srv, fake: fake, codes: demo.Members}
}

func (h *harness) client(path string, app config.WeChatApp, mode wxclient.Mode, format wxclient.Format) *wxclient.Client {
	h.t.Helper()
	c, err := wxclient.New(wxclient.Config{URL: h.srv.URL + path, AppID: app.AppID, Token: app.Token, AESKey: app.AESKey,
		AppUser: "gh_test", Mode: mode, Format: format, MsgIDs: wxclient.NewSequence(time.Now().UnixNano())})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) oa(mode wxclient.Mode) *wxclient.Client {
	return h.client("/wechat/oa", testOA, mode, wxclient.XML)
}

// send posts msg and returns the reply text ("success" when there is none), failing on any error.
func (h *harness) send(c *wxclient.Client, msg *wxclient.Message) string {
	h.t.Helper()
	res, err := c.Send(context.Background(), msg)
	if err != nil {
		h.t.Fatalf("send: %v", err)
	}
	if res.Status != http.StatusOK {
		h.t.Fatalf("status %d: %s", res.Status, res.Response)
	}
	if res.Reply == nil {
		return "success"
	}
	return res.Reply.Content
}

func (h *harness) member(openID string) *models.Member {
	var m models.Member
	if err := h.app.DB().Where("oa_open_id = ?", openID).First(&m).Error; err != nil {
		return nil
	}
	return &m
}

func TestVerificationGET(t *testing.T) {
	h := newHarness(t, "")
	for _, c := range []*wxclient.Client{h.oa(wxclient.Plain), h.client("/wechat/mp", testMP, wxclient.Safe, wxclient.JSON)} {
		body, status, err := c.Verify(context.Background(), "echo-4711")
		if err != nil || status != 200 || body != "echo-4711" {
			t.Fatalf("%s verify: %q %d %v", c.URL, body, status, err)
		}
		if _, status, _ := c.Verify(context.Background(), "x", wxclient.WithBadSignature()); status != http.StatusUnauthorized {
			t.Fatalf("%s verify with a bad signature: %d, want 401", c.URL, status)
		}
	}
}

func TestTextBindAndHelpInEveryMode(t *testing.T) {
	h := newHarness(t, "")
	for i, mode := range []wxclient.Mode{wxclient.Plain, wxclient.Compat, wxclient.Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			c := h.oa(mode)
			user, m := "o-user-"+mode.String(), h.codes[i+1]
			if got := h.send(c, c.Text(user, "帮助")); !strings.Contains(got, "绑定") {
				t.Fatalf("unbound 帮助: %q, want how to bind", got)
			}
			if got := h.send(c, c.Text(user, "绑定 "+strings.ToLower(m.BindCode))); !strings.Contains(got, m.Name) {
				t.Fatalf("绑定: %q, want a greeting naming %s", got, m.Name)
			}
			if db := h.member(user); db == nil || db.Name != m.Name || db.BindCode != nil {
				t.Fatalf("after bind the database has %+v", db)
			}
			if got := h.send(c, c.Text(user, "幫助")); !strings.Contains(got, m.Name) || !strings.Contains(got, "解绑") {
				t.Fatalf("bound 帮助: %q, want his name and what he can do", got)
			}
		})
	}
}

func TestSubscribeAndScanWithBindScene(t *testing.T) {
	h := newHarness(t, "")
	c := h.oa(wxclient.Safe)
	a, b := h.codes[0], h.codes[1]
	if got := h.send(c, c.Subscribe("o-sub", "bind:"+a.BindCode)); !strings.Contains(got, a.Name) {
		t.Fatalf("subscribe with bind scene: %q", got)
	}
	if got := h.send(c, c.Scan("o-scan", "bind:"+b.BindCode, "")); !strings.Contains(got, b.Name) {
		t.Fatalf("SCAN with bind scene: %q", got)
	}
	if h.member("o-sub") == nil || h.member("o-scan") == nil {
		t.Fatal("QR-scene binds not in the database")
	}
	// The code is one-time: a second user scanning the same code is refused.
	if got := h.send(c, c.Scan("o-late", "bind:"+a.BindCode, "")); h.member("o-late") != nil || strings.Contains(got, a.Name+"，") {
		t.Fatalf("a used code bound again: %q", got)
	}
	// 解绑 asks for confirmation, then frees the WeChat.
	h.send(c, c.Text("o-scan", "解绑"))
	h.send(c, c.Text("o-scan", "是"))
	if h.member("o-scan") != nil {
		t.Fatal("解绑 did not unbind")
	}
}

func TestMenuClickAndLocation(t *testing.T) {
	h := newHarness(t, "")
	h.app.Router().Handle(bot.Menu("TEST_MENU"), func(_ context.Context, c *bot.Context) error {
		return c.Text("menu for " + c.Member.Name)
	})
	c := h.oa(wxclient.Safe)
	m := h.codes[2]
	h.send(c, c.Text("o-loc", "绑定 "+m.BindCode))
	if got := h.send(c, c.Click("o-loc", "TEST_MENU")); got != "menu for "+m.Name {
		t.Fatalf("menu click: %q", got)
	}
	if got := h.send(c, c.Click("o-loc", "NO_SUCH_KEY")); got != bot.TextNoMenu {
		t.Fatalf("unknown menu key: %q", got)
	}
	if got := h.send(c, c.Click("o-unbound", "TEST_MENU")); !strings.Contains(got, "绑定") {
		t.Fatalf("unbound menu click: %q, want how to bind", got)
	}
	if got := h.send(c, c.LocationEvent("o-loc", 29.9061, 103.3692, 65)); got != "success" {
		t.Fatalf("LOCATION event: %q, want success", got)
	}
	// A location with no 签到/签退 pending is kept as a report, and the reply says how to check in.
	if got := h.send(c, c.Location("o-loc", 29.9062, 103.3693, 15, "郭沟村村委会")); !strings.Contains(got, "收到你的位置") || !strings.Contains(got, "签到") {
		t.Fatalf("location message: %q", got)
	}
	var reports []models.LocationReport
	h.app.DB().Order("id").Find(&reports)
	if len(reports) != 2 || reports[0].Lat != 29.9061 || reports[0].Precision != 65 || reports[1].Lng != 103.3693 {
		t.Fatalf("location reports: %+v", reports)
	}
}

func TestBadRequestsAreRejectedAndChangeNothing(t *testing.T) {
	h := newHarness(t, "")
	safe, plain := h.oa(wxclient.Safe), h.oa(wxclient.Plain)
	code := h.codes[0].BindCode
	bind := func(c *wxclient.Client) *wxclient.Message { return c.Text("o-attacker", "绑定 "+code) }
	cases := []struct {
		name string
		c    *wxclient.Client
		opts []wxclient.Option
		want int
	}{
		{"bad signature", plain, []wxclient.Option{wxclient.WithBadSignature()}, 401},
		{"bad msg_signature", safe, []wxclient.Option{wxclient.WithBadMsgSignature()}, 401},
		{"stale timestamp", safe, []wxclient.Option{wxclient.WithTime(time.Now().Add(-10 * time.Minute))}, 403},
		{"future timestamp", plain, []wxclient.Option{wxclient.WithTime(time.Now().Add(10 * time.Minute))}, 403},
		{"broken XML", plain, []wxclient.Option{wxclient.WithBody([]byte("<xml><FromUserName>o</Fro"))}, 400},
		{"broken XML inside the envelope", safe, []wxclient.Option{wxclient.WithPlain([]byte("<xml><MsgType>text"))}, 400},
		{"not XML at all", plain, []wxclient.Option{wxclient.WithBody([]byte("hello"))}, 400},
		{"empty body", plain, []wxclient.Option{wxclient.WithBody([]byte{})}, 400},
		{"another app's message", safe, []wxclient.Option{wxclient.WithAppID("wxsomeoneelse0001")}, 401},
		{"10 MB body", plain, []wxclient.Option{wxclient.WithBody(bytes.Repeat([]byte("<xml>"), 2<<20))}, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.c.Send(context.Background(), bind(tc.c), tc.opts...)
			if err != nil && res == nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Fatalf("status %d (%s), want %d", res.Status, res.Response, tc.want)
			}
		})
	}
	if h.member("o-attacker") != nil {
		t.Fatal("a rejected request bound a member")
	}
	// The code still works for its owner.
	if got := h.send(plain, plain.Text("o-owner", "绑定 "+code)); !strings.Contains(got, h.codes[0].Name) {
		t.Fatalf("the real bind after the attacks: %q", got)
	}
}

func TestRetriedMessageHasOneEffectAndTheSameReply(t *testing.T) {
	h := newHarness(t, "")
	var runs atomic.Int32
	h.app.Router().Handle("慢事", func(_ context.Context, c *bot.Context) error {
		n := runs.Add(1)
		time.Sleep(300 * time.Millisecond) // the retries arrive while the first is still running
		return c.Text("done " + string(rune('0'+n)))
	})
	c := h.oa(wxclient.Safe)
	m := h.codes[3]
	h.send(c, c.Text("o-retry", "绑定 "+m.BindCode))
	for _, msg := range []*wxclient.Message{c.Text("o-retry", "慢事"), c.Text("o-retry2", "绑定 "+h.codes[4].BindCode)} {
		replies := make([]string, 3)
		var wg sync.WaitGroup
		for i := range replies {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				replies[i] = h.send(c, msg) // the same *Message: same MsgId and CreateTime
			}(i)
		}
		wg.Wait()
		if replies[0] != replies[1] || replies[1] != replies[2] {
			t.Fatalf("replies differ: %q", replies)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("the handler ran %d times for 3 deliveries", runs.Load())
	}
	if mem := h.member("o-retry2"); mem == nil || mem.Name != h.codes[4].Name {
		t.Fatal("the retried bind did not bind")
	}
}

func TestMiniProgramPushInEveryFormat(t *testing.T) {
	h := newHarness(t, "")
	for _, tc := range []struct {
		mode   wxclient.Mode
		format wxclient.Format
	}{{wxclient.Plain, wxclient.XML}, {wxclient.Safe, wxclient.XML}, {wxclient.Plain, wxclient.JSON}, {wxclient.Safe, wxclient.JSON}} {
		c := h.client("/wechat/mp", testMP, tc.mode, tc.format)
		user := "o-mp-" + tc.mode.String() + string(rune('0'+tc.format))
		res, err := c.Send(context.Background(), c.Text(user, "帮助"))
		if err != nil || res.Status != 200 || string(res.Response) != "success" {
			t.Fatalf("%v/%v: %v %d %q", tc.mode, tc.format, err, res.Status, res.Response)
		}
		waitFor(t, func() bool { return len(h.fake.TextsTo(user)) == 1 })
		if got := h.fake.TextsTo(user)[0]; !strings.Contains(got, "绑定") {
			t.Fatalf("customer-service reply: %q", got)
		}
		bad, _ := c.Send(context.Background(), c.Text(user, "帮助"), wxclient.WithBadSignature())
		if bad.Status != http.StatusUnauthorized {
			t.Fatalf("mini-program bad signature: %d", bad.Status)
		}
		if tc.mode == wxclient.Safe {
			bad, _ := c.Send(context.Background(), c.Text(user, "帮助"), wxclient.WithBadMsgSignature())
			if bad.Status != http.StatusUnauthorized {
				t.Fatalf("mini-program bad msg_signature: %d", bad.Status)
			}
		}
	}
}

func TestRedisOutageAnswersBusyAndRecovers(t *testing.T) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		t.Fatal(err)
	}
	defer mr.Close()
	h := newHarness(t, "redis://"+mr.Addr()+"/0")
	c := h.oa(wxclient.Safe)
	h.send(c, c.Text("o-r", "绑定 "+h.codes[0].BindCode))

	mr.Close() // Redis goes away
	for i := 0; i < 5; i++ {
		start := time.Now()
		res, err := c.Send(context.Background(), c.Text("o-r", "帮助"))
		if err != nil || res.Status != 200 || res.Reply == nil || res.Reply.Content != bot.TextBusy {
			t.Fatalf("with Redis down: %v %+v", err, res)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("with Redis down the answer took %v", d)
		}
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	// Back: the bot answers again by itself (the member is bound in the database; the cache was lost).
	var got string
	waitFor(t, func() bool {
		got = h.send(c, c.Text("o-r", "帮助"))
		return got != bot.TextBusy
	})
	if !strings.Contains(got, h.codes[0].Name) {
		t.Fatalf("after Redis came back: %q", got)
	}
}

func TestSlowHandlerAnswersLaterThroughCustomerService(t *testing.T) {
	h := newHarnessWith(t, "", Options{ReplyWithin: 100 * time.Millisecond})
	h.app.Router().Handle("慢查询", func(_ context.Context, c *bot.Context) error {
		time.Sleep(400 * time.Millisecond)
		return c.Text("查到了：结果在这里")
	}, bot.Public())
	c := h.oa(wxclient.Safe)
	msg := c.Text("o-slow", "慢查询")
	if got := h.send(c, msg); got != "success" {
		t.Fatalf("slow handler's passive reply: %q, want success", got)
	}
	if got := h.send(c, msg); got != "success" { // WeChat's retry: still success, the handler runs once
		t.Fatalf("retry of a slow message: %q", got)
	}
	waitFor(t, func() bool { return len(h.fake.TextsTo("o-slow")) > 0 })
	time.Sleep(200 * time.Millisecond) // a second (duplicate) send would have landed by now
	if texts := h.fake.TextsTo("o-slow"); len(texts) != 1 || texts[0] != "查到了：结果在这里" {
		t.Fatalf("customer-service messages: %q", texts)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	h := newHarness(t, "")
	c := h.oa(wxclient.Plain)
	msg := c.Text("o-m", "帮助")
	h.send(c, msg)
	h.send(c, msg) // a retry: a dedup hit
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  `"redis":"ok"`,
		"/metrics": `yanzhen_bot_dedup_hits_total{channel="oa"} 1`,
	} {
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d, want %q in:\n%.2000s", path, resp.StatusCode, want, body)
		}
	}
	resp, _ := http.Get(h.srv.URL + "/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`yanzhen_bot_messages_total{channel="oa",kind="text"} 2`, `yanzhen_http_requests_total{code="200",method="POST",route="/wechat/oa"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	h := newHarness(t, "")
	started := make(chan struct{})
	h.app.Router().Handle("长任务", func(_ context.Context, c *bot.Context) error {
		close(started)
		time.Sleep(500 * time.Millisecond)
		return c.Text("finished")
	}, bot.Public())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.app.Serve(ctx, ln) }()
	c, _ := wxclient.New(wxclient.Config{URL: "http://" + ln.Addr().String() + "/wechat/oa", AppID: testOA.AppID, Token: testOA.Token, AESKey: testOA.AESKey, Mode: wxclient.Safe})
	got := make(chan string, 1)
	go func() {
		res, err := c.Send(context.Background(), c.Text("o-g", "长任务"))
		if err != nil || res.Reply == nil {
			got <- "error"
			return
		}
		got <- res.Reply.Content
	}()
	<-started
	cancel() // SIGTERM
	if r := <-got; r != "finished" {
		t.Fatalf("in-flight request during shutdown got %q", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := c.Send(context.Background(), c.Text("o-g", "帮助")); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNewReturnsItsErrorsAndClosesWhatItOpened: a failure half-way through New (here Redis cannot be
// reached after the database was opened and migrated) is returned as an error, not a panic, and what was
// opened is closed.
func TestNewReturnsItsErrorsAndClosesWhatItOpened(t *testing.T) {
	vars := map[string]string{
		"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": "redis://127.0.0.1:1/0", "YANZHEN_INDEX_DIR": t.TempDir(),
	}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(context.Background(), cfg, testenv.Logger(), Options{})
	if err == nil {
		app.Close()
		t.Fatal("New with an unreachable Redis succeeded")
	}
	if app != nil {
		t.Fatalf("New returned an App with its error %v", err)
	}
}
