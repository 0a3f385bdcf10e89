package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/config"
)

// `yanzhen sim`: a terminal chat with a running server, as WeChat would deliver it from a phone. It
// posts signed (and in --safe / --compat mode encrypted) XML to /wechat/oa with wxclient, prints the
// passive replies, and polls the fake WeChat API (`GET /_fake/calls`) for what the bot sends later
// through the customer-service, template and subscribe APIs.

const (
	simAppUser     = "gh_yanzhen_sim" // ToUserName: the account's original id
	simHTTPTimeout = 15 * time.Second // WeChat itself gives up after 5 s; we wait longer to show it
	simWeChatLimit = 5 * time.Second
	simFakePath    = "/_fake/calls"
)

// Labels, as they appear at the start of a line.
const (
	labelYou   = "你 > "
	labelBot   = "雁阵 > "
	noReply    = "（无回复）"
	simHelpTxt = `命令：
  /bind CODE          扫绑定二维码关注公众号（subscribe 事件，场景 bind:CODE）
  /scan SCENE         已关注时扫带参数二维码（SCAN 事件）
  /follow, /unfollow  关注 / 取消关注（不带场景）
  /loc LAT LNG [名称] 发送位置（位置消息；纬度 经度，GCJ-02）
  /locevent LAT LNG   上报地理位置（LOCATION 事件，微信自己会定时发）
  /menu KEY           点菜单（STUDY_TODAY、CHECK_IN、SURVEYS、MY_STATS）
  /raw                显示 / 隐藏收发的原始 XML（明文和密文）
  /user [OPENID]      查看或切换微信用户
  /help               本帮助
  /quit               退出（或按 Ctrl-D）
其他输入都当作文字消息发送，例如：帮助、绑定 ABCD2345、学习、签到、积分。
要发送以 / 开头的文字，写两个斜杠：//文字。`
)

func cmdSim(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("sim", std)
	var configPath string
	fs.StringVar(&configPath, "config", "", "YAML file with the same keys as the YANZHEN_* variables (for the YANZHEN_OA_* credentials)")
	rawURL := fs.String("url", "", "the server's official-account webhook (default http://127.0.0.1:PORT/wechat/oa, PORT from YANZHEN_HTTP_ADDR)")
	safe := fs.Bool("safe", false, "safe mode (安全模式): AES-encrypted messages and replies")
	compat := fs.Bool("compat", false, "compatible mode (兼容模式): plaintext and encrypted side by side")
	openID := fs.String("user", "", "the WeChat user's openid (default a stable one for this machine and login)")
	fake := fs.String("fake", "", "base URL of the fake WeChat API to poll for later messages (default: found by itself when it can)")
	raw := fs.Bool("raw", false, "start with the raw XML shown (same as typing /raw)")
	poll := fs.Duration("poll", 2*time.Second, "how often to look for later messages while waiting for input (0: only after each message)")
	wait := fs.Duration("wait", 10*time.Second, "with piped input: how long to wait for the later reply of a message the server was slow to answer with no reply")
	fs.Usage = func() {
		fmt.Fprint(std.err, "usage: yanzhen sim [flags]\n\nChat with a running server as a WeChat user would.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("sim: unexpected argument " + strconv.Quote(fs.Arg(0)) + " (type messages once it runs, or pipe them in)")
	}
	if *safe && *compat {
		return usageError("sim: --safe and --compat exclude each other")
	}
	cfg, err := config.Load(configPath, os.Getenv)
	if err != nil {
		return err
	}
	target, err := simURL(*rawURL, cfg.HTTPAddr)
	if err != nil {
		return err
	}
	mode := wxclient.Plain
	switch {
	case *safe:
		mode = wxclient.Safe
	case *compat:
		mode = wxclient.Compat
	}
	if *openID == "" {
		*openID = defaultSimUser()
	}
	if err := checkOpenID(*openID); err != nil {
		return usageError("sim: --user " + err.Error())
	}

	httpc := &http.Client{Timeout: simHTTPTimeout}
	client, err := wxclient.New(wxclient.Config{
		URL: target, AppID: cfg.OA.AppID, Token: cfg.OA.Token, AESKey: cfg.OA.AESKey,
		AppUser: simAppUser, Mode: mode, HTTP: httpc,
	})
	if err != nil {
		return err
	}
	s := &sim{
		std: std, client: client, url: target, mode: mode, user: *openID, raw: *raw,
		poll: *poll, wait: *wait, http: httpc,
		interactive: isTerminal(std.in),
	}
	s.color = isTerminal(std.out) && os.Getenv("TERM") != "dumb" && os.Getenv("NO_COLOR") == ""

	if err := s.verify(ctx); err != nil {
		return err
	}
	fakeNote := s.findFake(ctx, *fake, cfg)
	s.banner(fakeNote)
	return s.loop(ctx)
}

// simURL is the webhook URL: the flag (with /wechat/oa added when it names no path), or the local
// server at YANZHEN_HTTP_ADDR.
func simURL(flagURL, httpAddr string) (string, error) {
	if flagURL == "" {
		host, port, err := net.SplitHostPort(httpAddr)
		if err != nil {
			return "", usageError("sim: cannot make a URL from YANZHEN_HTTP_ADDR; pass --url")
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		return "http://" + net.JoinHostPort(host, port) + "/wechat/oa", nil
	}
	u, err := url.Parse(flagURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usageError("sim: --url must be an http(s) URL such as http://127.0.0.1:8080/wechat/oa")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/wechat/oa"
	}
	return u.String(), nil
}

// defaultSimUser is a fake openid that stays the same for this machine and login, so a binding made
// in one session is still there in the next.
func defaultSimUser() string {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	sum := sha256.Sum256([]byte(host + "\x00" + name))
	return "o_sim_" + hex.EncodeToString(sum[:5])
}

func checkOpenID(id string) error {
	if id == "" || len(id) > 64 {
		return errors.New("must be 1 to 64 characters")
	}
	for _, r := range id {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			return errors.New("may hold only letters, digits, _ and - (like a real openid)")
		}
	}
	return nil
}

// isTerminal reports whether f is a terminal (a character device), without a terminal library.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// sim is one chat session. Everything it prints is printed from the loop's goroutine.
type sim struct {
	std         stdio
	client      *wxclient.Client
	url         string
	mode        wxclient.Mode
	user        string
	raw         bool
	poll, wait  time.Duration
	http        *http.Client
	interactive bool // input is a terminal: show a prompt; later messages redraw it
	color       bool // output is a terminal that takes colours
	prompting   bool // the prompt is on screen, waiting for input

	fake      string // base URL of the fake WeChat API; "" = no later messages
	since     int64  // the fake's cursor: messages with a larger seq are new
	fakeFails int

	lastEvent int64 // CreateTime of the last event sent (kept increasing, see stampEvent)
	failures  int   // messages that could not be delivered (piped input: the exit status)
}

// verify makes WeChat's server-verification request: it shows at once whether the server runs and
// has the same token.
func (s *sim) verify(ctx context.Context) error {
	echo := "sim" + randHex(6)
	body, status, err := s.client.Verify(ctx, echo)
	if err != nil {
		if msg := s.describeHTTPError(err); msg != "" {
			return errors.New(msg)
		}
		return err
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("服务器不认这个签名（HTTP %d %s）：sim 和服务器的 YANZHEN_OA_TOKEN 要一样", status, http.StatusText(status))
	case status == http.StatusNotFound:
		return fmt.Errorf("%s 上没有公众号接口（HTTP 404）：--url 应当指向服务器的 /wechat/oa", s.url)
	case status != http.StatusOK:
		return fmt.Errorf("服务器验证失败：HTTP %d %s：%s", status, http.StatusText(status), clip(body, 200))
	case body != echo:
		fmt.Fprintf(s.std.err, "注意：服务器验证没有原样返回 echostr（收到 %q），这样的服务器微信不会接受。\n", clip(body, 80))
	}
	return nil
}

// findFake picks the fake WeChat API to poll: --fake; else the configured YANZHEN_WECHAT_API_BASE
// when it is not WeChat's own; else the server itself, in case it serves /_fake/calls. It returns a
// line for the banner.
func (s *sim) findFake(ctx context.Context, flagFake string, cfg *config.Config) string {
	if flagFake != "" {
		base := strings.TrimRight(flagFake, "/")
		if err := s.probeFake(ctx, base); err != nil {
			return "稍后的消息：查不了 " + base + "（" + err.Error() + "），只显示即时回复"
		}
		s.fake = base
	} else {
		var candidates []string
		if cfg.WeChatAPIBase != config.DefaultWeChatAPIBase {
			candidates = append(candidates, cfg.WeChatAPIBase)
		}
		if u, err := url.Parse(s.url); err == nil {
			candidates = append(candidates, u.Scheme+"://"+u.Host)
		}
		for _, base := range candidates {
			if s.probeFake(ctx, base) == nil {
				s.fake = base
				break
			}
		}
		if s.fake == "" {
			return "看不到稍后发来的客服消息：把 serve --demo 日志里 “fake WeChat API” 那行的 addr 用 --fake 传给我"
		}
	}
	if s.interactive && s.poll > 0 {
		return "稍后的消息：每 " + s.poll.String() + " 查看一次 " + s.fake
	}
	return "稍后的消息：每条消息之后查看 " + s.fake
}

// fakeCalls is the answer of GET /_fake/calls (see wxfake.Server.serveControl).
type fakeCalls struct {
	Messages []fakeMessage `json:"messages"`
	Next     int64         `json:"next"`
}

type fakeMessage struct {
	Seq     int64  `json:"seq"`
	API     string `json:"api"`
	MsgType string `json:"msgtype"`
	Text    string `json:"text"`
}

// getCalls asks the fake for the messages to this user after since.
func (s *sim) getCalls(ctx context.Context, base string, since int64) (*fakeCalls, error) {
	u := base + simFakePath + "?openid=" + url.QueryEscape(s.user) + "&since=" + strconv.FormatInt(since, 10)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var fc fakeCalls
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&fc); err != nil {
		return nil, fmt.Errorf("not the fake WeChat API: %v", err)
	}
	if fc.Messages == nil {
		return nil, errors.New("not the fake WeChat API")
	}
	return &fc, nil
}

// probeFake checks that base serves /_fake/calls and starts the cursor at its present end, so that
// messages from earlier sessions are not shown again.
func (s *sim) probeFake(ctx context.Context, base string) error {
	fc, err := s.getCalls(ctx, base, 1<<62)
	if err != nil {
		return err
	}
	s.since = fc.Next
	return nil
}

// pollFake prints the messages the bot sent this user since the last look; it reports how many.
func (s *sim) pollFake(ctx context.Context) int {
	if s.fake == "" {
		return 0
	}
	fc, err := s.getCalls(ctx, s.fake, s.since)
	if err == nil && fc.Next < s.since {
		// The fake restarted (a new server): its sequence began again.
		s.since = 0
		fc, err = s.getCalls(ctx, s.fake, 0)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		s.fakeFails++
		if s.fakeFails >= 3 {
			s.asyncf(s.dim("（查不了稍后的消息：" + err.Error() + "；不再查看 " + s.fake + "）"))
			s.fake = ""
		}
		return 0
	}
	s.fakeFails = 0
	s.since = max(s.since, fc.Next)
	if len(fc.Messages) == 0 {
		return 0
	}
	var b strings.Builder
	for _, m := range fc.Messages {
		label := "雁阵（" + apiKind(m.API) + "）> "
		text := m.Text
		if text == "" {
			text = "[" + m.MsgType + "]"
		}
		b.WriteString(s.block(label, s.paint("33", label), text))
	}
	s.asyncf("%s", strings.TrimSuffix(b.String(), "\n"))
	return len(fc.Messages)
}

// apiKind names the kind of message a WeChat API path sends.
func apiKind(api string) string {
	switch {
	case strings.Contains(api, "/custom/"):
		return "客服消息"
	case strings.Contains(api, "/template/"):
		return "模板消息"
	case strings.Contains(api, "/subscribe/"):
		return "订阅消息"
	case strings.Contains(api, "/mass/"):
		return "群发消息"
	}
	return "消息"
}

// asyncf prints something that was not asked for right now. When the prompt is on screen, its label
// is blanked out and the prompt is drawn again below: what the user may have begun to type stays
// visible on its line (the terminal still holds it, and sends it with the rest of the line).
func (s *sim) asyncf(format string, a ...any) {
	if s.prompting {
		fmt.Fprint(s.std.out, "\r"+strings.Repeat(" ", textWidth(labelYou))+"\n")
	}
	fmt.Fprintf(s.std.out, format+"\n", a...)
	if s.prompting {
		fmt.Fprint(s.std.out, s.paint("36", labelYou))
	}
}

func (s *sim) banner(fakeNote string) {
	modes := map[wxclient.Mode]string{wxclient.Plain: "明文模式", wxclient.Compat: "兼容模式", wxclient.Safe: "安全模式"}
	fmt.Fprintf(s.std.out, "雁阵模拟器 → %s（%s），微信用户 %s\n", s.url, modes[s.mode], s.user)
	fmt.Fprintln(s.std.out, s.dim(fakeNote))
	fmt.Fprintln(s.std.out, s.dim("像在微信里一样输入文字（帮助、绑定 绑定码…）；/help 看命令，/quit 退出。"))
}

// loop reads lines until /quit, the end of the input or ctx ends.
func (s *sim) loop(ctx context.Context) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		sc := bufio.NewScanner(s.std.in)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()

	var tick <-chan time.Time
	if s.poll > 0 {
		t := time.NewTicker(s.poll)
		defer t.Stop()
		tick = t.C
	}
	s.prompt()
	for {
		select {
		case <-ctx.Done():
			s.endPrompt()
			return nil
		case <-tick:
			s.pollFake(ctx)
		case line, ok := <-lines:
			if !ok {
				s.endPrompt()
				if err := <-readErr; err != nil {
					return fmt.Errorf("sim: reading input: %w", err)
				}
				s.pollFake(ctx)
				if s.failures > 0 && !s.interactive {
					return fmt.Errorf("sim: %d 条消息出了错", s.failures)
				}
				return nil
			}
			s.prompting = false
			if s.handle(ctx, line) {
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
			s.prompt()
		}
	}
}

func (s *sim) prompt() {
	if s.interactive {
		fmt.Fprint(s.std.out, s.paint("36", labelYou))
		s.prompting = true
	}
}

// endPrompt leaves the prompt's line, so the shell's prompt starts on a fresh one.
func (s *sim) endPrompt() {
	if s.prompting {
		fmt.Fprintln(s.std.out)
		s.prompting = false
	}
}

// handle acts on one line of input; it reports whether to quit.
func (s *sim) handle(ctx context.Context, line string) (quit bool) {
	line = strings.TrimRight(line, "\r")
	text := strings.TrimFunc(line, unicode.IsSpace)
	if text == "" {
		return false
	}
	if !s.interactive {
		fmt.Fprintln(s.std.out, s.paint("36", labelYou)+text) // so a piped session reads as a chat
	}
	if !utf8.ValidString(text) {
		s.problem("输入不是 UTF-8 编码，没有发送（终端请用 UTF-8）。")
		return false
	}
	cmdline, isCmd := strings.CutPrefix(text, "/")
	if !isCmd {
		cmdline, isCmd = strings.CutPrefix(text, "／") // a Chinese keyboard's slash
	}
	if !isCmd || strings.HasPrefix(cmdline, "/") || strings.HasPrefix(cmdline, "／") {
		if isCmd {
			text = cmdline // "//文字" sends "/文字"
		}
		s.send(ctx, s.client.Text(s.user, text), true)
		return false
	}

	fields := strings.Fields(cmdline)
	cmd, args := "", []string(nil)
	if len(fields) > 0 {
		cmd, args = strings.ToLower(fields[0]), fields[1:]
	}
	switch cmd {
	case "quit", "exit", "q":
		return true
	case "help", "h", "?", "？":
		fmt.Fprintln(s.std.out, s.dim(simHelpTxt))
	case "raw":
		s.raw = !s.raw
		if s.raw {
			fmt.Fprintln(s.std.out, s.dim("（显示原始 XML）"))
		} else {
			fmt.Fprintln(s.std.out, s.dim("（不再显示原始 XML）"))
		}
	case "user":
		if len(args) == 0 {
			fmt.Fprintln(s.std.out, s.dim("（现在的微信用户："+s.user+"）"))
			break
		}
		if err := checkOpenID(args[0]); err != nil {
			s.problem("openid " + err.Error())
			break
		}
		s.user = args[0]
		fmt.Fprintln(s.std.out, s.dim("（换成微信用户 "+s.user+"）"))
	case "bind":
		if len(args) != 1 {
			s.problem("用法：/bind 绑定码")
			break
		}
		s.send(ctx, s.client.Subscribe(s.user, "bind:"+args[0]), true)
	case "scan":
		if len(args) != 1 {
			s.problem("用法：/scan 场景值（例如 /scan bind:ABCD2345）")
			break
		}
		s.send(ctx, s.client.Scan(s.user, args[0], ""), true)
	case "follow", "subscribe":
		s.send(ctx, s.client.Subscribe(s.user, ""), true)
	case "unfollow", "unsubscribe":
		s.send(ctx, s.client.Unsubscribe(s.user), false)
	case "loc", "location":
		lat, lng, label, err := parseLatLng(args)
		if err != nil {
			s.problem("用法：/loc 纬度 经度 [地点名称]，例如 /loc 29.9056 103.3721 郭沟村村委会（" + err.Error() + "）")
			break
		}
		if label == "" {
			label = "模拟位置"
		}
		s.send(ctx, s.client.Location(s.user, lat, lng, 15, label), true)
	case "locevent":
		lat, lng, _, err := parseLatLng(args)
		if err != nil {
			s.problem("用法：/locevent 纬度 经度，例如 /locevent 29.9056 103.3721（" + err.Error() + "）")
			break
		}
		s.send(ctx, s.client.LocationEvent(s.user, lat, lng, 30), false)
	case "menu", "click":
		if len(args) != 1 {
			s.problem("用法：/menu 菜单键，例如 /menu STUDY_TODAY")
			break
		}
		s.send(ctx, s.client.Click(s.user, args[0]), true)
	default:
		s.problem("没有 /" + cmd + " 这个命令；/help 看看有哪些。")
	}
	return false
}

// parseLatLng reads "LAT LNG [LABEL…]", also "LAT,LNG" (ASCII or full-width comma).
func parseLatLng(args []string) (lat, lng float64, label string, err error) {
	joined := strings.NewReplacer("，", " ", ",", " ").Replace(strings.Join(args, " "))
	f := strings.Fields(joined)
	if len(f) < 2 {
		return 0, 0, "", errors.New("要两个数")
	}
	if lat, err = strconv.ParseFloat(f[0], 64); err != nil || lat < -90 || lat > 90 {
		return 0, 0, "", errors.New("纬度在 -90 到 90 之间")
	}
	if lng, err = strconv.ParseFloat(f[1], 64); err != nil || lng < -180 || lng > 180 {
		return 0, 0, "", errors.New("经度在 -180 到 180 之间")
	}
	return lat, lng, strings.Join(f[2:], " "), nil
}

// stampEvent keeps events' CreateTime increasing: WeChat recognises a retried event by its sender,
// CreateTime and Event, so two quick /bind in the same second would otherwise be one.
func (s *sim) stampEvent(m *wxclient.Message) {
	if m.MsgType != "event" {
		return
	}
	m.CreateTime = max(m.CreateTime, s.lastEvent+1)
	s.lastEvent = m.CreateTime
}

// send posts one message and prints the reply, then any later messages. expectsReply: the user did
// something that normally gets an answer (so no answer may mean one is coming later).
func (s *sim) send(ctx context.Context, m *wxclient.Message, expectsReply bool) {
	s.stampEvent(m)
	res, err := s.client.Send(ctx, m)
	if ctx.Err() != nil {
		return
	}
	if res != nil && s.raw {
		s.showRaw(res)
	}
	switch {
	case res == nil && err != nil:
		s.failures++
		if msg := s.describeHTTPError(err); msg != "" {
			s.problem(msg)
		}
		return
	case res.Status != http.StatusOK:
		s.failures++
		s.problem(statusProblem(res))
		return
	case err != nil:
		s.failures++
		s.problem("服务器的回复微信不会接受：" + err.Error() + "\n" + clip(string(res.Response), 300))
		return
	}
	if res.Latency > simWeChatLimit {
		s.problem(fmt.Sprintf("服务器用了 %.1f 秒才回复；真实的微信等 5 秒就放弃，会重发这条消息。", res.Latency.Seconds()))
	}
	s.printReply(res)
	n := s.pollFake(ctx)
	if n == 0 && res.Reply == nil && expectsReply && !s.interactive && s.fake != "" && s.wait > 0 {
		// Piped input: give a later reply the time to arrive before the next line. A handler that
		// outran the reply window (the server answered `success` only after a while) replies within
		// --wait; otherwise a message sent right after the reply needs a moment at most.
		wait := min(s.wait, time.Second)
		if res.Latency >= 2*time.Second {
			wait = s.wait
		}
		deadline := time.Now().Add(wait)
		for n == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
			n = s.pollFake(ctx)
		}
	}
}

func statusProblem(res *wxclient.Result) string {
	msg := fmt.Sprintf("服务器拒绝了这条消息：HTTP %d %s", res.Status, http.StatusText(res.Status))
	if body := strings.TrimSpace(string(res.Response)); body != "" {
		msg += "：" + clip(body, 300)
	}
	switch {
	case res.Status == http.StatusBadRequest && res.Request.Encrypt != "":
		msg += "\n（解不开这条加密消息：sim 和服务器的 YANZHEN_OA_AES_KEY、YANZHEN_OA_APPID 要一样）"
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		msg += "\n（签名或加密对不上：sim 和服务器的 YANZHEN_OA_TOKEN、YANZHEN_OA_AES_KEY、YANZHEN_OA_APPID 要一样）"
	case res.Status == http.StatusNotFound:
		msg += "\n（--url 应当指向服务器的 /wechat/oa）"
	}
	return msg
}

// describeHTTPError says in one line why a request failed ("" when it was cancelled).
func (s *sim) describeHTTPError(err error) string {
	var oe *net.OpError
	var de *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return ""
	case errors.As(err, &de) || (errors.As(err, &oe) && oe.Op == "dial"):
		return "连不上服务器 " + s.url + "，先运行 yanzhen serve --demo"
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("服务器 %d 秒内没有回复（%s）", int(simHTTPTimeout/time.Second), s.url)
	}
	return "发送失败：" + err.Error()
}

// printReply shows the passive reply.
func (s *sim) printReply(res *wxclient.Result) {
	r := res.Reply
	if r == nil {
		fmt.Fprintln(s.std.out, strings.Repeat(" ", textWidth(labelBot))+s.dim(noReply))
		return
	}
	var text string
	switch r.MsgType {
	case "text":
		text = r.Content
	case "news":
		var parts []string
		for _, a := range r.Articles {
			p := "【图文】" + a.Title
			if a.Description != "" {
				p += "\n" + a.Description
			}
			if a.URL != "" {
				p += "\n" + a.URL
			}
			parts = append(parts, p)
		}
		text = strings.Join(parts, "\n")
	default:
		text = "[" + r.MsgType + " 消息，模拟器显示不了]"
	}
	fmt.Fprint(s.std.out, s.block(labelBot, s.paint("1;32", labelBot), text))
}

// block is label + text, the text's further lines indented under its first.
func (s *sim) block(label, painted, text string) string {
	indent := strings.Repeat(" ", textWidth(label))
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var b strings.Builder
	b.WriteString(painted)
	for i, l := range lines {
		if i > 0 {
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// showRaw prints what went over the wire.
func (s *sim) showRaw(res *wxclient.Result) {
	req := res.Request
	var b strings.Builder
	u := s.url
	if pu, err := url.Parse(s.url); err == nil {
		u = pu.Path
	}
	fmt.Fprintf(&b, "── 发出 POST %s?%s\n", u, req.Query)
	if s.mode == wxclient.Plain {
		b.WriteString(string(req.Body) + "\n")
	} else {
		b.WriteString("明文：" + string(req.Plain) + "\n")
		b.WriteString("请求体：" + string(req.Body) + "\n")
	}
	fmt.Fprintf(&b, "── 收到 HTTP %d，%d ms\n", res.Status, res.Latency.Milliseconds())
	resp := strings.TrimSpace(string(res.Response))
	if resp == "" {
		resp = "（空）"
	}
	b.WriteString(resp + "\n")
	if len(res.ReplyXML) > 0 && string(res.ReplyXML) != resp {
		b.WriteString("解密后：" + string(res.ReplyXML) + "\n")
	}
	fmt.Fprint(s.std.out, s.dim(strings.TrimSuffix(b.String(), "\n"))+"\n")
}

// problem reports something that went wrong, on standard error.
func (s *sim) problem(msg string) {
	fmt.Fprintln(s.std.err, s.paintErr("31", "！"+msg))
}

func (s *sim) paint(code, text string) string {
	if !s.color {
		return text
	}
	return "\033[" + code + "m" + text + "\033[0m"
}

func (s *sim) paintErr(code, text string) string {
	if !s.color || !isTerminal(s.std.err) {
		return text
	}
	return "\033[" + code + "m" + text + "\033[0m"
}

func (s *sim) dim(text string) string { return s.paint("2", text) }

// textWidth is the number of terminal columns text takes (CJK characters take two).
func textWidth(text string) int {
	n := 0
	for _, r := range text {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
