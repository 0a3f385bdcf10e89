// Package consoletest runs a real Yanzhen server (real database and Redis from testenv, the demo county
// and its console logins loaded, a fake WeChat API behind it) for console and API tests, with a browser-
// like client that keeps cookies and sends the CSRF token the way the console's forms do.
package consoletest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/server"
)

// The demo console logins (password console.DemoPassword): the whole installation, the county, a
// town and a village secretary.
const (
	Admin     = "admin"  // 系统管理员, everything
	County    = "county" // 洪雅县 administrator
	Town      = "huaxi"  // 洪雅县/花溪镇 administrator
	Secretary = "guogou" // 洪雅县/花溪镇/郭沟村 secretary
	Password  = console.DemoPassword
)

// Test WeChat credentials (not the demo ones, so the server talks to this test's fake WeChat API).
var OA = config.WeChatApp{AppID: "wxtestoa000000001", Secret: "oa-secret", Token: "oatoken", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}

// Clock is a settable clock for the server.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Env is a running server.
type Env struct {
	T     testing.TB
	App   *server.App
	URL   string
	Fake  *wxfake.Server
	Clock *Clock
}

// New starts a server with the demo county and its console logins.
func New(t testing.TB) *Env {
	t.Helper()
	fake := wxfake.New()
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(fakeSrv.Close)
	vars := map[string]string{
		"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": testenv.RedisURL(t), "YANZHEN_INDEX_DIR": t.TempDir(),
		"YANZHEN_OA_APPID": OA.AppID, "YANZHEN_OA_SECRET": OA.Secret, "YANZHEN_OA_TOKEN": OA.Token, "YANZHEN_OA_AES_KEY": OA.AESKey,
		"YANZHEN_WECHAT_API_BASE": fakeSrv.URL,
	}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{t: time.Date(2026, 11, 20, 9, 30, 0, 0, cfg.Location)}
	app, err := server.New(context.Background(), cfg, testenv.Logger(), server.Options{Demo: true, Now: clock.Now, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return &Env{T: t, App: app, URL: srv.URL, Fake: fake, Clock: clock}
}

// Client is a browser: it keeps cookies and does not follow redirects by itself (tests look at them).
type Client struct {
	T    testing.TB
	Env  *Env
	HTTP *http.Client
	CSRF string // the CSRF token of the last page that had one
}

// NewClient is a browser with no session.
func (e *Env) NewClient() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: e.T, Env: e, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// Login logs a new browser in with a password and fails the test if that does not work.
func (e *Env) Login(username string) *Client {
	e.T.Helper()
	c := e.NewClient()
	c.Get("/console/login")
	res, body := c.PostForm("/console/login", url.Values{"username": {username}, "password": {Password}})
	if res.StatusCode != http.StatusSeeOther {
		e.T.Fatalf("login %s: %d %s", username, res.StatusCode, body)
	}
	c.Get("/console/") // picks up the session's CSRF token
	return c
}

var csrfRe = regexp.MustCompile(`name="(?:csrf-token|_csrf)" (?:content|value)="([^"]+)"`)

// Response is a response with its body read.
type Response = http.Response

func (c *Client) do(req *http.Request) (*http.Response, string) {
	c.T.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRe.FindSubmatch(b); m != nil && strings.Contains(res.Header.Get("Content-Type"), "html") {
		c.CSRF = string(m[1])
	}
	return res, string(b)
}

// Get fetches a path.
func (c *Client) Get(path string) (*http.Response, string) {
	c.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.Env.URL+path, nil)
	return c.do(req)
}

// PostForm submits a form with the current CSRF token (unless the values carry their own _csrf).
func (c *Client) PostForm(path string, v url.Values) (*http.Response, string) {
	c.T.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["_csrf"]; !ok {
		v.Set("_csrf", c.CSRF)
	}
	req, _ := http.NewRequest(http.MethodPost, c.Env.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// PostFile submits a multipart form with one file, and the CSRF token.
func (c *Client) PostFile(path string, fields url.Values, fileField, filename string, data []byte) (*http.Response, string) {
	c.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_csrf", c.CSRF)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile(fileField, filename)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Env.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// Token makes an API token for an account.
func (e *Env) Token(username string) string {
	e.T.Helper()
	var id uint
	if err := e.App.DB().Table("accounts").Where("username = ?", username).Select("id").Row().Scan(&id); err != nil {
		e.T.Fatalf("token for %s: %v", username, err)
	}
	tok, _, err := e.App.Console().NewAPIToken(context.Background(), id, "test", nil)
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// API calls /api/v1 with a token ("" = none) and a JSON body (nil = none), and decodes the JSON answer
// into out (when not nil). It returns the status and the raw body.
func (e *Env) API(token, method, path string, body, out any) (int, string) {
	e.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.T.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, string(b)
}

// OA is a WeChat-exact client of the server's official-account webhook (plaintext mode).
func (e *Env) OA() *wxclient.Client {
	e.T.Helper()
	c, err := wxclient.New(wxclient.Config{URL: e.URL + "/wechat/oa", AppID: OA.AppID, Token: OA.Token, AESKey: OA.AESKey,
		AppUser: "gh_test", Mode: wxclient.Plain, Format: wxclient.XML, MsgIDs: wxclient.NewSequence(time.Now().UnixNano()), Now: e.Clock.Now})
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// Send delivers a WeChat message and returns the bot's reply text ("success" when there is none).
func (e *Env) Send(msg *wxclient.Message) string {
	e.T.Helper()
	res, err := e.OA().Send(context.Background(), msg)
	if err != nil {
		e.T.Fatalf("send: %v", err)
	}
	if res.Status != http.StatusOK {
		e.T.Fatalf("webhook status %d: %s", res.Status, res.Response)
	}
	if res.Reply == nil {
		return "success"
	}
	return res.Reply.Content
}

// BindAs binds the WeChat user openID to the demo member with this name, as if he had sent his code.
func (e *Env) BindAs(openID, memberName string) {
	e.T.Helper()
	var code string
	if err := e.App.DB().Table("members").Where("name = ?", memberName).Select("bind_code").Row().Scan(&code); err != nil {
		e.T.Fatalf("bind code of %s: %v", memberName, err)
	}
	c := e.OA()
	if got := e.Send(c.Text(openID, "绑定 "+code)); !strings.Contains(got, memberName) {
		e.T.Fatalf("bind %s: %q", memberName, got)
	}
}

// BindSeen is BindAs, then WaitWrote: notices to him go as chat messages (the 48-hour window is open).
func (e *Env) BindSeen(openID, memberName string) {
	e.T.Helper()
	e.BindAs(openID, memberName)
	e.WaitWrote(openID)
}

// WaitWrote waits until openID's last message (at the test clock's now or later) is on record in Redis:
// the server writes it in the background, about once a second, and the 48-hour window is read from it.
func (e *Env) WaitWrote(openID string) {
	e.T.Helper()
	want := e.Clock.Now().Unix()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		v, _ := e.App.Redis().Get(context.Background(), kv.LastMessageKey(bot.ChannelOA, openID)).Int64()
		if v >= want {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("the last message of %s was not recorded (have %d, want %d)", openID, v, want)
		}
	}
}
