package wxapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
)

// The SDK's URI modifier is process-wide: tests in this package must not run in parallel.

var (
	oaApp = config.WeChatApp{AppID: "wxoa000000000001", Secret: "oa-secret-value"}
	mpApp = config.WeChatApp{AppID: "wxmp000000000002", Secret: "mp-secret-value"}
)

type env struct {
	fake *wxfake.Server
	rdb  *kv.Redis
	opts Options

	mu    sync.Mutex
	calls []string // "api result" from OnCall
}

// setup starts a fake WeChat, points the SDK at it and returns Options for a Client on a test Redis.
func setup(t *testing.T) *env {
	t.Helper()
	f := wxfake.New()
	f.AddApp(oaApp.AppID, oaApp.Secret)
	f.AddApp(mpApp.AppID, mpApp.Secret)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	Configure(srv.URL, nil)
	e := &env{fake: f, rdb: testenv.Redis(t)}
	e.opts = Options{OA: oaApp, MP: mpApp, Redis: e.rdb.Client, Log: testenv.Logger(), OnCall: e.onCall}
	return e
}

func (e *env) onCall(api, result string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, api+" "+result)
}

func (e *env) results() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// secondRedis opens another connection pool to the same Redis database, as another process would.
func secondRedis(t *testing.T, r *kv.Redis) *redis.Client {
	o := *r.Options()
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTokenFetchedOnceForConcurrentSends(t *testing.T) {
	e := setup(t)
	e.fake.Delay(wxfake.APIStableToken, 50*time.Millisecond) // let the goroutines pile up
	c := New(e.opts)
	sendConcurrently(t, c, 200, "u")
	if n := e.fake.TokenFetches(oaApp.AppID); n != 1 {
		t.Fatalf("token fetched %d times, want 1", n)
	}
	if n := len(e.fake.CallsTo(wxfake.APICustomSend)); n != 200 {
		t.Fatalf("%d sends reached WeChat, want 200", n)
	}
}

func TestTokenSharedAcrossProcesses(t *testing.T) {
	e := setup(t)
	e.fake.Delay(wxfake.APIStableToken, 100*time.Millisecond)
	a := New(e.opts)
	o := e.opts
	o.Redis = secondRedis(t, e.rdb)
	b := New(o)

	var wg sync.WaitGroup
	for i, c := range []*Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendConcurrently(t, c, 50, fmt.Sprintf("p%d-", i))
		}()
	}
	wg.Wait()
	if n := e.fake.TokenFetches(oaApp.AppID); n != 1 {
		t.Fatalf("token fetched %d times by two processes, want 1", n)
	}
	if n := len(e.fake.CallsTo(wxfake.APIStableToken)); n != 1 {
		t.Fatalf("%d stable_token calls, want 1", n)
	}
}

func sendConcurrently(t *testing.T, c *Client, n int, prefix string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.SendText(context.Background(), bot.ChannelOA, fmt.Sprintf("%s%d", prefix, i), "hi")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestInvalidTokenRefreshedAndRetriedOnce(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	if err := c.SendText(ctx, bot.ChannelOA, "u1", "one"); err != nil {
		t.Fatal(err)
	}
	e.fake.InvalidateTokens()
	if err := c.SendText(ctx, bot.ChannelOA, "u1", "two"); err != nil {
		t.Fatalf("send after InvalidateTokens: %v", err)
	}
	if got := e.fake.TextsTo("u1"); strings.Join(got, ",") != "one,two" {
		t.Fatalf("delivered %q", got)
	}
	if n := e.fake.TokenFetches(oaApp.AppID); n != 2 {
		t.Fatalf("token fetched %d times, want 2", n)
	}
	want := []string{
		"/cgi-bin/stable_token ok", "/cgi-bin/message/custom/send ok",
		"/cgi-bin/message/custom/send token", "/cgi-bin/stable_token ok", "/cgi-bin/message/custom/send ok",
	}
	if got := e.results(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("OnCall saw\n%q\nwant\n%q", got, want)
	}

	// Two rejections in a row: the error comes back after one retry.
	e.fake.Reset()
	e.fake.Fail(wxfake.APICustomSend, 40001, 2)
	err := c.SendText(ctx, bot.ChannelOA, "u1", "three")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 40001 || Classify(err) != TokenInvalid {
		t.Fatalf("err = %v, want a TokenInvalid APIError 40001", err)
	}
	if n := len(e.fake.CallsTo(wxfake.APICustomSend)); n != 2 {
		t.Fatalf("%d send attempts, want 2", n)
	}
}

func TestClassifyFakeErrors(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	send := func(openID string) error { return c.SendText(ctx, bot.ChannelOA, openID, "x") }

	for _, tc := range []struct {
		code int
		want Class
	}{{43004, Permanent}, {40003, Permanent}, {45015, Permanent}, {48001, Permanent}, {45047, Retryable}} {
		openID := fmt.Sprintf("user-%d", tc.code)
		e.fake.SetUserError(openID, tc.code)
		err := send(openID)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != int64(tc.code) || Classify(err) != tc.want {
			t.Errorf("errcode %d: err %v, class %v, want %v", tc.code, err, Classify(err), tc.want)
		}
	}
	e.fake.SetUserError("used-up", 43101)
	if err := c.SendSubscribe(ctx, "used-up", "T", "", map[string]string{"thing1": "x"}); Classify(err) != Permanent {
		t.Errorf("43101: %v is %v", err, Classify(err))
	}
	for _, code := range []int{-1, 45009, 45011} {
		e.fake.Fail(wxfake.APICustomSend, code, 1)
		if err := send("u"); Classify(err) != Retryable {
			t.Errorf("errcode %d: %v is %v, want retryable", code, err, Classify(err))
		}
	}

	e.fake.Down(true)
	err := send("u")
	var te *TransportError
	if !errors.As(err, &te) || te.Status != http.StatusServiceUnavailable || Classify(err) != Retryable {
		t.Fatalf("WeChat down: %v (%v)", err, Classify(err))
	}
	if strings.Contains(err.Error(), "access_token") {
		t.Fatalf("error quotes the URL: %v", err)
	}
	e.fake.Down(false)
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{nil, 0},
		{&APIError{Code: 43004}, Permanent},
		{fmt.Errorf("broadcast: %w", &APIError{Code: 45009}), Retryable},
		{&APIError{Code: 42001}, TokenInvalid},
		{&APIError{Code: 99999}, Permanent},
		{&TransportError{Status: 502}, Retryable},
		{&TransportError{Status: 404}, Permanent},
		{&TransportError{Err: context.DeadlineExceeded}, Retryable},
		{fmt.Errorf("x: %w: %w", ErrTokenUnavailable, &APIError{Code: 40125}), Retryable},
		{context.Canceled, Retryable},
		{errors.New("something else"), Permanent},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestSlowWeChatIsRetryable(t *testing.T) {
	e := setup(t)
	o := e.opts
	o.Timeout = 200 * time.Millisecond
	c := New(o)
	ctx := context.Background()
	if err := c.SendText(ctx, bot.ChannelOA, "u", "warm"); err != nil { // get a token first
		t.Fatal(err)
	}
	e.fake.Delay(wxfake.APICustomSend, 3*time.Second)
	start := time.Now()
	err := c.SendText(ctx, bot.ChannelOA, "u", "slow")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("send took %v; the client timeout did not apply", took)
	}
	var te *TransportError
	if !errors.As(err, &te) || Classify(err) != Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow WeChat: %v (%v)", err, Classify(err))
	}
	if strings.Contains(err.Error(), "access_token") {
		t.Fatalf("error quotes the URL: %v", err)
	}
}

func TestTokenFetchFailure(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	e.fake.Fail(wxfake.APIStableToken, 40164, -1) // IP not on the whitelist
	err := c.SendText(context.Background(), bot.ChannelOA, "u", "x")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 40164 || Classify(err) != Retryable || !errors.Is(err, ErrTokenUnavailable) {
		t.Fatalf("err = %v (%v)", err, Classify(err))
	}
	// A failure is remembered briefly: goroutines queued behind it do not each ask WeChat.
	if err := c.SendText(context.Background(), bot.ChannelOA, "u", "x"); err == nil {
		t.Fatal("second send succeeded")
	}
	if n := len(e.fake.CallsTo(wxfake.APIStableToken)); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

func lastBody(t *testing.T, f *wxfake.Server, api string) map[string]any {
	t.Helper()
	calls := f.CallsTo(api)
	if len(calls) == 0 {
		t.Fatalf("no call to %s", api)
	}
	m := map[string]any{}
	if err := json.Unmarshal(calls[len(calls)-1].Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendReply(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	one := bot.News(bot.Article{Title: "学习", Description: "今日学习", URL: "https://example.org/a", PicURL: "https://example.org/p.png"})
	two := bot.News(bot.Article{Title: "A", URL: "https://example.org/a"}, bot.Article{Title: "B", URL: "https://example.org/b"})

	if err := c.SendReply(ctx, bot.ChannelOA, "u", bot.Text("你好")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendReply(ctx, bot.ChannelOA, "u", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SendReply(ctx, bot.ChannelOA, "u", one); err != nil {
		t.Fatal(err)
	}
	news := lastBody(t, e.fake, wxfake.APICustomSend)
	art := news["news"].(map[string]any)["articles"].([]any)[0].(map[string]any)
	if news["msgtype"] != "news" || art["title"] != "学习" || art["url"] != "https://example.org/a" || art["picurl"] == nil {
		t.Fatalf("news body %v", news)
	}
	if err := c.SendReply(ctx, bot.ChannelOA, "u", two); err != nil {
		t.Fatal(err)
	}
	if err := c.SendReply(ctx, bot.ChannelMP, "m", one); err != nil {
		t.Fatal(err)
	}
	want := []string{"你好", "A\nhttps://example.org/a\n\nB\nhttps://example.org/b"}
	if got := e.fake.TextsTo("u"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("texts to u: %q", got)
	}
	if got := e.fake.TextsTo("m"); len(got) != 1 || got[0] != "学习\n今日学习\nhttps://example.org/a" {
		t.Fatalf("texts to m: %q", got)
	}
	calls := e.fake.CallsTo(wxfake.APICustomSend)
	if last := calls[len(calls)-1]; last.AppID != mpApp.AppID {
		t.Fatalf("mini-program reply sent with %s's token", last.AppID)
	}
}

func TestTemplateAndSubscribe(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	id, err := c.SendTemplate(ctx, "u", "TPL", "https://example.org", map[string]string{"first": "会议通知"})
	if err != nil || id == 0 {
		t.Fatalf("template: %d, %v", id, err)
	}
	body := lastBody(t, e.fake, wxfake.APITemplateSend)
	if body["data"].(map[string]any)["first"].(map[string]any)["value"] != "会议通知" {
		t.Fatalf("template body %v", body)
	}
	if err := c.SendSubscribe(ctx, "u", "SUB", "https://example.org", map[string]string{"thing1": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMPSubscribe(ctx, "m", "MPSUB", "pages/index", map[string]string{"thing1": "y"}); err != nil {
		t.Fatal(err)
	}
	mp := e.fake.CallsTo(wxfake.APISubscribeSend)
	if len(mp) != 1 || mp[0].AppID != mpApp.AppID || !strings.Contains(string(mp[0].Body), `"thing1":{"value":"y"}`) {
		t.Fatalf("mini-program subscribe: %+v", mp)
	}
}

func TestCreateQRScene(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	ticket, url, err := c.CreateQRScene(ctx, "bind:ABC123", 10*time.Minute)
	if err != nil || url == "" {
		t.Fatalf("temporary QR: %q %q %v", ticket, url, err)
	}
	if scene, _ := e.fake.QRScene(ticket); scene != "bind:ABC123" {
		t.Fatalf("scene %q", scene)
	}
	body := lastBody(t, e.fake, wxfake.APIQRCodeCreate)
	if body["action_name"] != "QR_STR_SCENE" || body["expire_seconds"].(float64) != 600 {
		t.Fatalf("temporary QR body %v", body)
	}
	if _, _, err := c.CreateQRScene(ctx, "board", 0); err != nil {
		t.Fatal(err)
	}
	body = lastBody(t, e.fake, wxfake.APIQRCodeCreate)
	if body["action_name"] != "QR_LIMIT_STR_SCENE" || body["expire_seconds"] != nil {
		t.Fatalf("permanent QR body %v", body)
	}
	if _, _, err := c.CreateQRScene(ctx, strings.Repeat("x", 65), 0); err == nil {
		t.Fatal("65-byte scene accepted")
	}
}

func TestCode2Session(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	e.fake.AddSession("code1", "openid-1", "union-1")
	openID, unionID, key, err := c.Code2Session(ctx, "code1")
	if err != nil || openID != "openid-1" || unionID != "union-1" || key == "" {
		t.Fatalf("Code2Session = %q %q %q %v", openID, unionID, key, err)
	}
	_, _, _, err = c.Code2Session(ctx, "bad")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 40029 || Classify(err) != Permanent {
		t.Fatalf("bad code: %v", err)
	}
	if n := e.fake.TokenFetches(mpApp.AppID); n != 0 {
		t.Fatalf("code2session fetched %d tokens", n)
	}
	o := e.opts
	o.MP.Secret = "wrong"
	if _, _, _, err := New(o).Code2Session(ctx, "code2"); !errors.As(err, &ae) || ae.Code != 40125 {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestNoSecretsInLogs runs the paths that handle the secret and the token with debug logging on.
func TestNoSecretsInLogs(t *testing.T) {
	e := setup(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	o := e.opts
	o.Log = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Timeout = 200 * time.Millisecond
	c := New(o)
	ctx := context.Background()
	c.SendText(ctx, bot.ChannelOA, "u", "x")
	e.fake.InvalidateTokens()
	c.SendText(ctx, bot.ChannelOA, "u", "x")
	e.fake.Delay(wxfake.APICustomSend, time.Second)
	c.SendText(ctx, bot.ChannelOA, "u", "x")
	e.fake.Delay(wxfake.APICode2Session, time.Second)
	c.Code2Session(ctx, "c")
	e.fake.Delay(wxfake.AllAPIs, 0)
	e.fake.FailStatus(wxfake.APICode2Session, 500, 1)
	c.Code2Session(ctx, "c")

	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	secrets := []string{oaApp.Secret, mpApp.Secret}
	for _, call := range e.fake.Calls() {
		if call.Token != "" {
			secrets = append(secrets, call.Token)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatalf("logs contain a secret or token:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "wechat access token fetched") {
		t.Fatalf("nothing logged:\n%s", logs)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// contextCache is the SDK's cache.ContextCache, copied so that the test does not link go-redis v8.
type contextCache interface {
	Get(key string) interface{}
	Set(key string, val interface{}, timeout time.Duration) error
	IsExist(key string) bool
	Delete(key string) error
	GetContext(ctx context.Context, key string) interface{}
	SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error
	IsExistContext(ctx context.Context, key string) bool
	DeleteContext(ctx context.Context, key string) error
}

var _ contextCache = (*RedisCache)(nil)

func TestRedisCache(t *testing.T) {
	e := setup(t)
	rc := NewRedisCache(e.rdb.Client)
	if v := rc.Get("missing"); v != nil {
		t.Fatalf("Get(missing) = %v, want nil", v)
	}
	if err := rc.Set("gowechat_officialaccount__jsapi_ticket_x", "TICKET", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := rc.Get("gowechat_officialaccount__jsapi_ticket_x").(string); !ok || v != "TICKET" {
		t.Fatalf("Get = %#v", v)
	}
	if !rc.IsExist("gowechat_officialaccount__jsapi_ticket_x") {
		t.Fatal("IsExist = false")
	}
	if got, _ := e.rdb.Get(context.Background(), kv.WeChatSDKKey("gowechat_officialaccount__jsapi_ticket_x")).Result(); got != "TICKET" {
		t.Fatalf("stored under the wrong key")
	}

	// The SDK's stable-token key is the token TokenSource shares.
	c := New(e.opts)
	tok, err := c.Tokens(bot.ChannelOA).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v := rc.Get("gowechat_officialaccount__stable_access_token_" + oaApp.AppID); v != tok {
		t.Fatalf("SDK key gives %v, want the shared token", v)
	}
	if err := c.Tokens(bot.ChannelOA).Invalidate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rc.IsExist("gowechat_officialaccount__stable_access_token_" + oaApp.AppID) {
		t.Fatal("token still cached after Invalidate")
	}
}
