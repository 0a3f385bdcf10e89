package mp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

type member struct {
	ID      uint   `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	OrgID   uint   `json:"org_id"`
	OrgPath string `json:"org_path"`
}

type me struct {
	Bound  bool    `json:"bound"`
	Member *member `json:"member"`
}

type login struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"`
	me
}

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func decodeError(t *testing.T, body string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("not an error body: %s", body)
	}
	return e
}

// logIn logs a mini-program user in with a wx.login code the fake WeChat API maps to openID.
func logIn(t *testing.T, e *consoletest.Env, code, openID string) login {
	t.Helper()
	e.Fake.AddSession(code, openID, "union-"+openID)
	var out login
	if st, body := e.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": code}, &out); st != http.StatusOK {
		t.Fatalf("login %s: %d %s", code, st, body)
	}
	return out
}

// unboundMember is an active demo party member (党员: no console account) of a village who has a bind
// code.
func unboundMember(t *testing.T, e *consoletest.Env, village string) models.Member {
	t.Helper()
	var m models.Member
	err := e.App.DB().Preload("Org").
		Where("bind_code IS NOT NULL AND active = ? AND role = ? AND org_id = (SELECT id FROM orgs WHERE path = ?)", true, models.RoleMember, village).
		Order("id").Take(&m).Error
	if err != nil {
		t.Fatalf("a member of %s with a bind code: %v", village, err)
	}
	return m
}

func sessionKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return kv.MPSessionKey(hex.EncodeToString(sum[:]))
}

// TestLoginBindMeLogout: the whole way of a new mini-program user, from wx.login to logout.
func TestLoginBindMeLogout(t *testing.T) {
	e := consoletest.New(t)
	ctx := context.Background()
	rdb := e.App.Redis()

	l := logIn(t, e, "code-1", "o-mp-1")
	if !strings.HasPrefix(l.Token, "yzm_") || len(l.Token) < 40 || l.ExpiresIn != int(kv.MPSessionTTL/time.Second) ||
		l.Bound || l.Member != nil {
		t.Fatalf("login = %+v", l)
	}
	// Redis keeps the openid under the token's hash, and nothing of WeChat's session_key.
	sess, err := rdb.HGetAll(ctx, sessionKey(l.Token)).Result()
	if err != nil || len(sess) != 2 || sess["o"] != "o-mp-1" || sess["e"] == "" {
		t.Fatalf("session in redis = %v %v", sess, err)
	}
	if keys, _ := rdb.Keys(ctx, "*"+l.Token+"*").Result(); len(keys) > 0 {
		t.Fatalf("the raw token is a redis key: %v", keys)
	}

	var got me
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, &got); st != http.StatusOK || got.Bound || got.Member != nil {
		t.Fatalf("me before binding: %d %s", st, body)
	}
	if !strings.Contains(mustAPI(t, e, l.Token, http.MethodGet, "/api/v1/mp/me"), `"member":null`) {
		t.Fatal("me before binding: member is not null")
	}

	// The bot's identity cache says "not bound" (the user chatted with the mini-program's service).
	rdb.Set(ctx, kv.IdentityKey("mp", "o-mp-1"), "-", kv.IdentityTTL)
	m := unboundMember(t, e, "洪雅县/花溪镇/郭沟村")
	var bound me
	st, body := e.API(l.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": " " + strings.ToLower(*m.BindCode) + " "}, &bound)
	want := member{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: "洪雅县/花溪镇/郭沟村"}
	if st != http.StatusOK || !bound.Bound || bound.Member == nil || *bound.Member != want {
		t.Fatalf("bind: %d %s, want %+v", st, body, want)
	}
	var after models.Member
	e.App.DB().Take(&after, m.ID)
	if after.MPOpenID == nil || *after.MPOpenID != "o-mp-1" || after.BindCode != nil || after.OAOpenID != nil {
		t.Fatalf("member after binding: mp %v oa %v code %v", after.MPOpenID, after.OAOpenID, after.BindCode)
	}
	if n, _ := rdb.Exists(ctx, kv.IdentityKey("mp", "o-mp-1")).Result(); n != 0 {
		t.Fatal("the bot's cached identity was not dropped")
	}

	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, &got); st != http.StatusOK || !got.Bound || got.Member == nil || *got.Member != want {
		t.Fatalf("me after binding: %d %s", st, body)
	}
	// Binding again, with any code: 409.
	other := unboundMember(t, e, "洪雅县/花溪镇/郭沟村")
	st, body = e.API(l.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": *other.BindCode}, nil)
	if st != http.StatusConflict || decodeError(t, body).Error != "already_bound" || !strings.Contains(body, m.Name) {
		t.Fatalf("bind twice: %d %s", st, body)
	}
	// A new login of the same WeChat user is bound at once.
	l2 := logIn(t, e, "code-2", "o-mp-1")
	if !l2.Bound || l2.Member == nil || *l2.Member != want || l2.Token == l.Token {
		t.Fatalf("second login = %+v", l2)
	}

	if st, body := e.API(l.Token, http.MethodPost, "/api/v1/mp/logout", nil, nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d %s", st, body)
	}
	for _, call := range []struct{ method, path string }{{"GET", "/api/v1/mp/me"}, {"POST", "/api/v1/mp/logout"}, {"POST", "/api/v1/mp/bind"}} {
		st, body := e.API(l.Token, call.method, call.path, map[string]string{"code": *other.BindCode}, nil)
		if st != http.StatusUnauthorized || decodeError(t, body).Error != "unauthorized" {
			t.Fatalf("%s %s after logout: %d %s", call.method, call.path, st, body)
		}
	}
	if n, _ := rdb.Exists(ctx, sessionKey(l.Token)).Result(); n != 0 {
		t.Fatal("the session is still in redis after logout")
	}
	// The other session lives on.
	if st, body := e.API(l2.Token, http.MethodGet, "/api/v1/mp/me", nil, nil); st != http.StatusOK {
		t.Fatalf("the other session after logout: %d %s", st, body)
	}
}

func mustAPI(t *testing.T, e *consoletest.Env, tok, method, path string) string {
	t.Helper()
	st, body := e.API(tok, method, path, nil, nil)
	if st != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, st, body)
	}
	return body
}

// TestTokensOfOtherKinds: no token, a console API token, junk and a made-up yzm_ token all get 401, and
// a mini-program token opens nothing of the console's API.
func TestTokensOfOtherKinds(t *testing.T) {
	e := consoletest.New(t)
	for name, tok := range map[string]string{
		"none": "", "console": e.Token(consoletest.County), "junk": "abc", "made up": "yzm_" + strings.Repeat("A", 43),
		"too long": "yzm_" + strings.Repeat("A", 200),
	} {
		st, body := e.API(tok, http.MethodGet, "/api/v1/mp/me", nil, nil)
		if st != http.StatusUnauthorized || decodeError(t, body).Error != "unauthorized" {
			t.Errorf("%s token: %d %s", name, st, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/mp/me", nil)
	req.Header.Set("Authorization", "Basic eHg6eXk=")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("basic auth: %v %v", res, err)
	}
	l := logIn(t, e, "code-x", "o-mp-x")
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/members", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("a mini-program token on the console API: %d %s", st, body)
	}
}

// TestLoginErrors: no code, codes WeChat refuses, WeChat down or busy, and a wrong app secret.
func TestLoginErrors(t *testing.T) {
	e := consoletest.New(t)
	post := func(body any) (int, string) {
		t.Helper()
		return e.API("", http.MethodPost, "/api/v1/mp/login", body, nil)
	}
	for _, body := range []any{nil, map[string]string{}, map[string]string{"code": "  "}, map[string]string{"code": strings.Repeat("c", 129)}} {
		st, resp := post(body)
		if st != http.StatusBadRequest || decodeError(t, resp).Field != "code" {
			t.Errorf("login with %v: %d %s", body, st, resp)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/mp/login", strings.NewReader("{code"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("login with bad JSON: %v %v", res, err)
	}

	// 40029: a code WeChat does not know; 40163: a code used already.
	st, resp := post(map[string]string{"code": "bad"})
	if st != http.StatusUnauthorized || decodeError(t, resp).Error != "invalid_code" || !strings.Contains(resp, "重新打开小程序") {
		t.Fatalf("invalid code: %d %s", st, resp)
	}
	logIn(t, e, "once", "o-once")
	if st, resp := post(map[string]string{"code": "once"}); st != http.StatusUnauthorized || decodeError(t, resp).Error != "invalid_code" {
		t.Fatalf("used code: %d %s", st, resp)
	}

	e.Fake.Down(true)
	st, resp = post(map[string]string{"code": "while-down"})
	e.Fake.Down(false)
	if st != http.StatusServiceUnavailable || decodeError(t, resp).Error != "unavailable" || !strings.Contains(resp, "微信暂时无法登录") {
		t.Fatalf("wechat down: %d %s", st, resp)
	}
	e.Fake.Fail(wxfake.APICode2Session, -1, 1) // system busy
	if st, resp := post(map[string]string{"code": "while-busy"}); st != http.StatusServiceUnavailable {
		t.Fatalf("wechat busy: %d %s", st, resp)
	}
	e.Fake.Fail(wxfake.APICode2Session, 40226, 1) // a user WeChat blocks
	if st, resp := post(map[string]string{"code": "risky"}); st != http.StatusForbidden {
		t.Fatalf("blocked user: %d %s", st, resp)
	}
	e.Fake.Fail(wxfake.APICode2Session, 40125, 1) // wrong app secret: our fault
	if st, resp := post(map[string]string{"code": "misconfigured"}); st != http.StatusInternalServerError || decodeError(t, resp).Error != "internal" {
		t.Fatalf("wrong secret: %d %s", st, resp)
	}
	// None of the failures left a session behind; the one good login did.
	if keys, _ := e.App.Redis().Keys(context.Background(), kv.MPSessionKey("*")).Result(); len(keys) != 1 {
		t.Fatalf("sessions: %v", keys)
	}
	// WeChat is back: a fresh code works.
	logIn(t, e, "after", "o-after")
}

// TestSessionEnds: a session lives kv.MPSessionTTL by the server's clock and in Redis.
func TestSessionEnds(t *testing.T) {
	e := consoletest.New(t)
	ctx := context.Background()
	l := logIn(t, e, "code-ttl", "o-ttl")
	ttl, err := e.App.Redis().TTL(ctx, sessionKey(l.Token)).Result()
	if err != nil || ttl > kv.MPSessionTTL || ttl < kv.MPSessionTTL-time.Minute {
		t.Fatalf("session TTL = %v %v, want %v", ttl, err, kv.MPSessionTTL)
	}
	e.Clock.Add(kv.MPSessionTTL - time.Minute)
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, nil); st != http.StatusOK {
		t.Fatalf("a minute before the end: %d %s", st, body)
	}
	e.Clock.Add(time.Minute)
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("at the end: %d %s", st, body)
	}
	if n, _ := e.App.Redis().Exists(ctx, sessionKey(l.Token)).Result(); n != 0 {
		t.Fatal("the ended session is still in redis")
	}
	// Redis ending it (its TTL) has the same effect.
	l = logIn(t, e, "code-ttl-2", "o-ttl")
	e.App.Redis().Del(ctx, sessionKey(l.Token))
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("after redis dropped the session: %d %s", st, body)
	}
}

// TestBindErrors: a wrong code gets the chat's own words; the code of a member who left the roster is
// refused; guessing codes is cut off.
func TestBindErrors(t *testing.T) {
	e := consoletest.New(t)
	l := logIn(t, e, "code-b", "o-b")
	bind := func(code string) (int, apiError) {
		t.Helper()
		st, body := e.API(l.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": code}, nil)
		if st == http.StatusOK {
			t.Fatalf("bind %q: %d %s", code, st, body)
		}
		return st, decodeError(t, body)
	}
	chat := e.Send(e.OA().Text("oa-someone", "绑定 ZZZZ2222"))
	if st, got := bind("ZZZZ2222"); st != http.StatusBadRequest || got.Field != "code" || got.Message != chat {
		t.Fatalf("wrong code: %d %+v, the chat says %q", st, got, chat)
	}
	if st, got := bind(""); st != http.StatusBadRequest || got.Field != "code" {
		t.Fatalf("no code: %d %+v", st, got)
	}

	left := unboundMember(t, e, "洪雅县/花溪镇/双河村")
	e.App.DB().Model(&models.Member{}).Where("id = ?", left.ID).Update("active", false)
	chat = e.Send(e.OA().Text("oa-someone", "绑定 "+*left.BindCode))
	if st, got := bind(*left.BindCode); st != http.StatusBadRequest || got.Message != chat {
		t.Fatalf("code of a member who left: %d %+v, the chat says %q", st, got, chat)
	}

	// Two failures so far; the user may fail MaxBindFailsPerUser times, then even a good code waits.
	for i := 2; i < roster.BindFailsPerUser; i++ {
		if st, _ := bind(fmt.Sprintf("ZZZZ%04d", 2222+i)); st != http.StatusBadRequest {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	good := unboundMember(t, e, "洪雅县/花溪镇/郭沟村")
	if st, got := bind(*good.BindCode); st != http.StatusTooManyRequests || got.Error != "rate_limited" {
		t.Fatalf("after %d failures: %d %+v", roster.BindFailsPerUser, st, got)
	}
	var still models.Member
	e.App.DB().Take(&still, good.ID)
	if still.MPOpenID != nil || still.BindCode == nil {
		t.Fatal("a refused bind bound the member")
	}
	// Another user is not held up by this one (the address allows more).
	l2 := logIn(t, e, "code-b2", "o-b2")
	if st, body := e.API(l2.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": *good.BindCode}, nil); st != http.StatusOK {
		t.Fatalf("another user binding: %d %s", st, body)
	}
}

// TestLoginRateLimit: an address gets mp.LoginsPerWindow logins a minute; the next is refused before
// WeChat is asked.
func TestLoginRateLimit(t *testing.T) {
	e := consoletest.New(t)
	for i := range mp.LoginsPerWindow {
		if st, body := e.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": fmt.Sprint("rl-", i)}, nil); st != http.StatusOK {
			t.Fatalf("login %d: %d %s", i+1, st, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/mp/login", strings.NewReader(`{"code":"one-too-many"}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("login %d: %d, Retry-After %q", mp.LoginsPerWindow+1, res.StatusCode, res.Header.Get("Retry-After"))
	}
	if n := len(e.Fake.CallsTo(wxfake.APICode2Session)); n != mp.LoginsPerWindow {
		t.Fatalf("%d code2session calls, want %d", n, mp.LoginsPerWindow)
	}
	ttl, _ := e.App.Redis().TTL(context.Background(), kv.MPLoginRateKey("127.0.0.1")).Result()
	if ttl <= 0 || ttl > kv.MPLoginWindow {
		t.Fatalf("rate counter TTL %v", ttl)
	}
}

// TestAuth: the middleware of the member routes other capabilities add. It runs here on a test route,
// with a Service sharing the server's database and Redis (so the server's sessions are valid here).
func TestAuth(t *testing.T) {
	e := consoletest.New(t)
	svc := mp.New(mp.Options{DB: e.App.DB(), Redis: e.App.Redis().Client, WeChat: e.App.WeChat(), Roster: e.App.Roster(),
		Log: testenv.Logger(), Now: e.Clock.Now})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/api/v1/mp/probe", svc.Auth(), func(c *gin.Context) {
		m := mp.MemberOf(c)
		c.JSON(http.StatusOK, member{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.OrgPath + "|" + mp.OpenIDOf(c)})
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	probe := func(tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/mp/probe", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	if st, body := probe(""); st != http.StatusUnauthorized {
		t.Fatalf("no token: %d %s", st, body)
	}
	if st, body := probe(e.Token(consoletest.County)); st != http.StatusUnauthorized {
		t.Fatalf("console token: %d %s", st, body)
	}
	l := logIn(t, e, "code-auth", "o-auth")
	st, body := probe(l.Token)
	if st != http.StatusForbidden || decodeError(t, body).Error != "not_bound" || !strings.Contains(body, "请先绑定") {
		t.Fatalf("unbound: %d %s", st, body)
	}

	m := unboundMember(t, e, "洪雅县/花溪镇/郭沟村")
	if st, body := e.API(l.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": *m.BindCode}, nil); st != http.StatusOK {
		t.Fatalf("bind: %d %s", st, body)
	}
	var got member
	st, body = probe(l.Token)
	json.Unmarshal([]byte(body), &got)
	want := member{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: "洪雅县/花溪镇/郭沟村|o-auth"}
	if st != http.StatusOK || got != want {
		t.Fatalf("bound: %d %s, want %+v", st, body, want)
	}

	// The secretary takes the member off the roster: his token opens nothing any more, and me says
	// he is not bound.
	sec := e.Token(consoletest.Secretary)
	if st, body := e.API(sec, http.MethodPatch, fmt.Sprint("/api/v1/members/", m.ID), map[string]any{"active": false}, nil); st != http.StatusOK {
		t.Fatalf("deactivate: %d %s", st, body)
	}
	st, body = probe(l.Token)
	if st != http.StatusForbidden || decodeError(t, body).Error != "not_bound" || !strings.Contains(body, "花名册") {
		t.Fatalf("inactive member: %d %s", st, body)
	}
	var mine me
	if st, body := e.API(l.Token, http.MethodGet, "/api/v1/mp/me", nil, &mine); st != http.StatusOK || mine.Bound || mine.Member != nil {
		t.Fatalf("me of an inactive member: %d %s", st, body)
	}
	if st, body := e.API(sec, http.MethodPatch, fmt.Sprint("/api/v1/members/", m.ID), map[string]any{"active": true}, nil); st != http.StatusOK {
		t.Fatalf("reactivate: %d %s", st, body)
	}
	if st, body := probe(l.Token); st != http.StatusOK {
		t.Fatalf("reactivated: %d %s", st, body)
	}
}
