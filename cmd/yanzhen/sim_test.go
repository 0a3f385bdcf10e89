package main

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/server"
)

// simServer is a real server on the demo credentials (so it runs its built-in fake WeChat API), with
// the demo roster loaded.
type simServer struct {
	app     *server.App
	url     string // the webhook
	fake    string // the fake WeChat API's base URL
	members []roster.UnboundMember
}

func newSimServer(t *testing.T) *simServer {
	t.Helper()
	// The sim reads its credentials from the environment: make sure they are the demo ones.
	for _, k := range []string{"YANZHEN_OA_APPID", "YANZHEN_OA_SECRET", "YANZHEN_OA_TOKEN", "YANZHEN_OA_AES_KEY",
		"YANZHEN_HTTP_ADDR", "YANZHEN_DATABASE_URL", "YANZHEN_REDIS_URL", "YANZHEN_WECHAT_API_BASE"} {
		t.Setenv(k, "")
	}
	vars := map[string]string{"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": testenv.RedisURL(t), "YANZHEN_INDEX_DIR": t.TempDir()}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.New(context.Background(), cfg, testenv.Logger(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	demo, err := app.Roster().LoadDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(demo.Members) < 2 {
		t.Fatalf("demo roster: %d members", len(demo.Members))
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	if app.Config().WeChatAPIBase == config.DefaultWeChatAPIBase {
		t.Fatal("the server did not start its fake WeChat API on the demo credentials")
	}
	return &simServer{app: app, url: srv.URL + "/wechat/oa", fake: app.Config().WeChatAPIBase, members: demo.Members}
}

// runSim runs `yanzhen sim ARGS` with input as its standard input.
func runSim(t *testing.T, input string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, append([]string{"sim"}, args...), strings.NewReader(input), &out, &errOut)
	return out.String(), errOut.String(), err
}

// inOrder fails unless every want appears in s, each after the one before.
func inOrder(t *testing.T, s string, want ...string) {
	t.Helper()
	rest := s
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("want %q (after the earlier ones) in:\n%s", w, s)
		}
		rest = rest[i+len(w):]
	}
}

func TestSimBindsAndHelps(t *testing.T) {
	h := newSimServer(t)
	for i, mode := range []string{"", "--safe", "--compat"} {
		t.Run("mode"+mode, func(t *testing.T) {
			m := h.members[i]
			args := []string{"--url", h.url, "--fake", h.fake, "--user", "o_sim_test" + string(rune('a'+i))}
			if mode != "" {
				args = append(args, mode)
			}
			out, errOut, err := runSim(t, "帮助\n/bind "+m.BindCode+"\n帮助\n/quit\n帮助\n", args...)
			if err != nil || errOut != "" {
				t.Fatalf("err %v, stderr:\n%s", err, errOut)
			}
			inOrder(t, out,
				"你 > 帮助\n", "雁阵 > 你的微信还没有绑定", "绑定 绑定码",
				"你 > /bind "+m.BindCode, "雁阵 > 欢迎关注", "绑定成功", m.Name,
				"你 > 帮助\n", "雁阵 > 你好，"+m.Name+"（"+m.Role)
			if strings.Count(out, "你 > 帮助") != 2 {
				t.Fatalf("the input after /quit was read:\n%s", out)
			}
			// Further lines of a reply are indented under its first.
			if !strings.Contains(out, "\n       绑定码向村书记") {
				t.Fatalf("multi-line reply not indented:\n%s", out)
			}
		})
	}
}

func TestSimRawShowsTheXML(t *testing.T) {
	h := newSimServer(t)
	out, errOut, err := runSim(t, "/raw\n帮助\n/raw\n帮助\n", "--url", h.url, "--fake", h.fake, "--user", "o_sim_raw", "--safe")
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr:\n%s", err, errOut)
	}
	first, second, ok := strings.Cut(out, "不再显示原始 XML")
	if !ok {
		t.Fatalf("/raw did not toggle back:\n%s", out)
	}
	for _, want := range []string{
		"encrypt_type=aes&msg_signature=",
		"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[帮助]]></Content>", // the plaintext sent
		"<Encrypt><![CDATA[",                                                   // the encrypted body and reply
		"<MsgSignature><![CDATA[",                                              // the reply's signature
		"解密后：<xml><ToUserName><![CDATA[o_sim_raw]]></ToUserName>",
	} {
		if !strings.Contains(first, want) {
			t.Fatalf("raw output lacks %q:\n%s", want, first)
		}
	}
	if strings.Contains(second, "<xml>") || !strings.Contains(second, "雁阵 > 你的微信还没有绑定") {
		t.Fatalf("after the second /raw:\n%s", second)
	}
}

func TestSimShowsLaterMessages(t *testing.T) {
	h := newSimServer(t)
	h.app.Router().Handle("稍后通知", func(ctx context.Context, c *bot.Context) error {
		// As a slow handler would: nothing now, a customer-service message instead.
		return h.app.WeChat().SendReply(ctx, c.Msg.Channel, c.Msg.OpenID, bot.Text("第一行\n第二行"))
	}, bot.Public())
	other := "o_sim_other"
	out, errOut, err := runSim(t, "稍后通知\n/user "+other+"\n帮助\n", "--url", h.url, "--fake", h.fake, "--user", "o_sim_late")
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr:\n%s", err, errOut)
	}
	inOrder(t, out, "你 > 稍后通知\n", noReply, "雁阵（客服消息）> 第一行\n", "                  第二行\n",
		"换成微信用户 "+other, "你 > 帮助\n", "雁阵 > ")
	if strings.Count(out, "客服消息）>") != 1 {
		t.Fatalf("a later message shown twice:\n%s", out)
	}

	// A new session does not show the messages of the last one again.
	out, _, err = runSim(t, "帮助\n", "--url", h.url, "--fake", h.fake, "--user", "o_sim_late")
	if err != nil || strings.Contains(out, "客服消息") {
		t.Fatalf("err %v, old messages shown again:\n%s", err, out)
	}
}

func TestSimCommands(t *testing.T) {
	h := newSimServer(t)
	m := h.members[1]
	in := strings.Join([]string{
		"/bind " + m.BindCode,
		"/scan bind:" + m.BindCode, // already bound
		"/loc 29.9056 103.3721 郭沟村村委会",
		"/locevent 29.9056，103.3721", // WeChat's own report: recorded quietly
		"/loc 95 103",                // bad latitude
		"/nope",
		"/user bad!id",
		"/help",
		"／quit",
	}, "\n")
	out, errOut, err := runSim(t, in, "--url", h.url, "--fake", h.fake, "--user", "o_sim_cmds")
	if err != nil { // mistyped commands are no failure to deliver
		t.Fatalf("err %v, stderr:\n%s", err, errOut)
	}
	inOrder(t, out, "绑定成功", "你 > /scan", "无需再绑定", "你 > /loc 29.9056", "雁阵 > ", "你 > /locevent", noReply,
		"你 > /help", "/bind CODE", "/quit")
	inOrder(t, errOut, "纬度在 -90 到 90 之间", "没有 /nope 这个命令", "openid")
}

func TestSimErrors(t *testing.T) {
	// No server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = runSim(t, "帮助\n", "--url", "http://"+addr)
	if err == nil || !strings.Contains(err.Error(), "连不上服务器 http://"+addr+"/wechat/oa，先运行 yanzhen serve --demo") {
		t.Fatalf("no server: %v", err)
	}

	h := newSimServer(t)
	// Another token: the server refuses the verification.
	t.Setenv("YANZHEN_OA_TOKEN", "not-the-servers")
	_, _, err = runSim(t, "帮助\n", "--url", h.url)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
	// Another AES key: verification passes (it is not encrypted), the message is refused with its body.
	t.Setenv("YANZHEN_OA_TOKEN", "")
	t.Setenv("YANZHEN_OA_AES_KEY", "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj")
	out, errOut, err := runSim(t, "帮助\n", "--url", h.url, "--safe", "--user", "o_sim_badkey")
	if err == nil || !strings.Contains(errOut, "服务器拒绝了这条消息：HTTP 4") || !strings.Contains(errOut, "cannot decrypt") || !strings.Contains(errOut, "YANZHEN_OA_AES_KEY") {
		t.Fatalf("wrong key: err %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}

	// Command-line mistakes.
	for _, args := range [][]string{{"--safe", "--compat"}, {"--url", "ftp://x"}, {"--user", "a b"}, {"extra"}} {
		if _, _, err := runSim(t, "", args...); err == nil {
			t.Fatalf("%q: no error", args)
		} else if _, ok := err.(usageError); !ok {
			t.Fatalf("%q: %v is not a usage error", args, err)
		}
	}
}

func TestSimURL(t *testing.T) {
	for _, tc := range []struct{ flag, addr, want string }{
		{"", ":8080", "http://127.0.0.1:8080/wechat/oa"},
		{"", "0.0.0.0:9000", "http://127.0.0.1:9000/wechat/oa"},
		{"", "[::]:9000", "http://127.0.0.1:9000/wechat/oa"},
		{"", "10.0.0.5:80", "http://10.0.0.5:80/wechat/oa"},
		{"http://example.com:8080", ":8080", "http://example.com:8080/wechat/oa"},
		{"https://example.com/wx/oa?x=1", ":8080", "https://example.com/wx/oa?x=1"},
	} {
		got, err := simURL(tc.flag, tc.addr)
		if err != nil || got != tc.want {
			t.Errorf("simURL(%q, %q) = %q, %v; want %q", tc.flag, tc.addr, got, err, tc.want)
		}
	}
	if a, b := defaultSimUser(), defaultSimUser(); a != b || !strings.HasPrefix(a, "o_sim_") || checkOpenID(a) != nil {
		t.Errorf("default user %q, %q", a, b)
	}
}

func TestTextWidth(t *testing.T) {
	if got := textWidth(labelBot); got != 7 {
		t.Fatalf("textWidth(%q) = %d", labelBot, got)
	}
	if got := textWidth("雁阵（客服消息）> "); got != 18 {
		t.Fatalf("width %d", got)
	}
}
