package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/server"
)

// lockedBuffer is a log sink shared by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestSecretsNeverInLogs runs a server that logs everything (debug level) into a buffer, and does what
// touches every secret: the administrator's login (a wrong password first), a bind over the safe-mode
// webhook, a customer-service message (which fetches an access token), an API call with a token. No
// password, app secret, AES key, signing token, access token, session or API token is in the log.
func TestSecretsNeverInLogs(t *testing.T) {
	fake := wxfake.New()
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(fakeSrv.Close)
	oa := config.WeChatApp{AppID: "wxsecretsoa000001", Secret: "OaSecretNeverLogged9f3b2c", Token: "OaSignTokenNeverLogged", AESKey: "NeverLoggedAesKey0123456789abcdefghijklmnop"}
	const adminPW, wrongPW = "Adm1n-Password-NeverLogged", "Wrong-Password-NeverLogged"
	vars := map[string]string{
		"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": testenv.RedisURL(t), "YANZHEN_INDEX_DIR": t.TempDir(),
		"YANZHEN_OA_APPID": oa.AppID, "YANZHEN_OA_SECRET": oa.Secret, "YANZHEN_OA_TOKEN": oa.Token, "YANZHEN_OA_AES_KEY": oa.AESKey,
		"YANZHEN_MP_APPID": "wxsecretsmp000002", "YANZHEN_MP_SECRET": "MpSecretNeverLogged7a1d", "YANZHEN_MP_TOKEN": "MpSignTokenNeverLogged",
		"YANZHEN_MP_AES_KEY":      "NeverLoggedMpAesKey0123456789abcdefghijklmn",
		"YANZHEN_WECHAT_API_BASE": fakeSrv.URL, "YANZHEN_ADMIN_USER": "root", "YANZHEN_ADMIN_PASSWORD": adminPW,
	}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	app, err := server.New(ctx, cfg, log, server.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	demo, err := app.Roster().LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	e := &consoletest.Env{T: t, App: app, URL: srv.URL, Fake: fake}

	// Console: a wrong password, then the right one; an API token used.
	c := e.NewClient()
	c.Get("/console/login")
	c.PostForm("/console/login", url.Values{"username": {"root"}, "password": {wrongPW}})
	if res, body := c.PostForm("/console/login", url.Values{"username": {"root"}, "password": {adminPW}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %.300s", res.StatusCode, body)
	}
	u, _ := url.Parse(srv.URL)
	var session string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "yz_session" {
			session = ck.Value
		}
	}
	apiToken := e.Token("root")
	if st, body := e.API(apiToken, http.MethodGet, "/api/v1/me", nil, nil); st != http.StatusOK {
		t.Fatalf("api: %d %s", st, body)
	}

	// A bind over the safe-mode webhook, then a customer-service message (fetches the access token).
	wc, err := wxclient.New(wxclient.Config{URL: srv.URL + "/wechat/oa", AppID: oa.AppID, Token: oa.Token, AESKey: oa.AESKey,
		AppUser: "gh_test", Mode: wxclient.Safe, Format: wxclient.XML, MsgIDs: wxclient.NewSequence(time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	res, err := wc.Send(ctx, wc.Text("o-logs", "绑定 "+demo.Members[0].BindCode))
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, demo.Members[0].Name) {
		t.Fatalf("bind: %v %+v", err, res)
	}
	if err := app.WeChat().SendReply(ctx, bot.ChannelOA, "o-logs", bot.Text("通知")); err != nil {
		t.Fatalf("send: %v", err)
	}
	access, err := app.Redis().Get(ctx, kv.AccessTokenKey(oa.AppID)).Result()
	if err != nil || access == "" {
		t.Fatalf("no access token was fetched: %v", err)
	}

	out := logs.String()
	if !strings.Contains(out, "roster: bound") {
		t.Fatalf("the log buffer did not get the server's log:\n%.2000s", out)
	}
	for name, secret := range map[string]string{
		"admin password": adminPW, "wrong password": wrongPW, "OA secret": oa.Secret, "OA AES key": oa.AESKey,
		"OA signing token": oa.Token, "MP secret": vars["YANZHEN_MP_SECRET"], "MP AES key": vars["YANZHEN_MP_AES_KEY"],
		"MP signing token": vars["YANZHEN_MP_TOKEN"], "access token": access, "session cookie": session, "API token": apiToken,
		"bind code": demo.Members[0].BindCode,
	} {
		if secret == "" {
			t.Fatalf("%s: empty", name)
		}
		if i := strings.Index(out, secret); i >= 0 {
			t.Errorf("the log holds the %s: …%s…", name, out[max(0, i-200):min(len(out), i+len(secret)+50)])
		}
	}
}

// TestBindCodesCannotBeGuessedInChat: an official-account user who sends wrong bind codes is stopped
// after a few (handlers/roster.BindGuard, shared with the mini-program's bind); otherwise one WeChat
// user may try codes for ever (31^8 codes, a county's few thousand live ones: about 1.7e8 guesses per
// hit, which a few hundred accounts send in days).
func TestBindCodesCannotBeGuessedInChat(t *testing.T) {
	e := consoletest.New(t)
	oa := e.OA()
	for i := 0; i < 30; i++ {
		e.Send(oa.Text("o-guesser", "绑定 ZZZZZZ"+string(rune('A'+i%20))+"Z"))
	}
	var code string
	e.App.DB().Table("members").Where("bind_code IS NOT NULL").Order("id").Limit(1).Select("bind_code").Row().Scan(&code)
	got := e.Send(oa.Text("o-guesser", "绑定 "+code))
	if strings.Contains(got, "绑定成功") {
		t.Fatalf("after 30 wrong codes the 31st, right, one still binds: %q", got)
	}
}
