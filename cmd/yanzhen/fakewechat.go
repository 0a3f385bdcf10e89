package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/server"
)

// cmdFakeWeChat is `yanzhen fakewechat`: the project's fake WeChat API (bot/wechat/wxfake) as a process
// of its own, for scenarios with several `yanzhen serve` processes (scripts/scaleout.sh). Point the
// servers at it with YANZHEN_WECHAT_API_BASE=http://ADDR. Its control endpoints inject faults and
// report counts (see fakeWeChatHelp).
func cmdFakeWeChat(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("fakewechat", std)
	var cf commonFlags
	cf.register(fs)
	addr := fs.String("addr", "127.0.0.1:9001", "listen address")
	var apps, templates stringList
	fs.Var(&apps, "app", "APPID:SECRET of an app the fake accepts (repeat for more; default: the configured official account and mini program, the demo ones unless YANZHEN_OA_* / YANZHEN_MP_* say otherwise)")
	fs.Var(&templates, "template", "a template id the fake accepts (repeat for more; default: YANZHEN_OA_REMIND_TEMPLATE if set; none registered: any id is accepted)")
	keep := fs.Bool("keep-calls", false, "keep every call in memory (GET /_fake/calls lists messages); off, only the counts are kept and memory stays flat")
	fs.Usage = func() {
		fmt.Fprint(std.err, fakeWeChatHelp)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("fakewechat: unexpected argument " + fs.Arg(0))
	}
	cfg, log, err := cf.load(std)
	if err != nil {
		return err
	}
	var fake *wxfake.Server
	if len(apps) == 0 {
		fake = server.FakeWeChat(cfg) // what the configured servers need, as the demo sets it up
		apps = stringList{cfg.OA.AppID, cfg.MP.AppID}
	} else {
		fake = wxfake.New()
		for i, a := range apps {
			id, secret, ok := strings.Cut(a, ":")
			if !ok || id == "" || secret == "" {
				return usageError(fmt.Sprintf("fakewechat: --app %q: want APPID:SECRET", a))
			}
			fake.AddApp(id, secret)
			apps[i] = id // logged without the secret
		}
		if cfg.RemindTemplate != "" && len(templates) == 0 {
			fake.AddTemplate(cfg.RemindTemplate)
		}
	}
	if len(templates) > 0 {
		fake.AddTemplate(templates...)
	}
	fake.KeepCalls(*keep)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("fakewechat: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("fakewechat: listening", "addr", ln.Addr().String(), "apps", apps.String(), "templates", templates.String(), "keep_calls", *keep)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("fakewechat: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var fakeWeChatHelp = `usage: yanzhen fakewechat [--addr HOST:PORT] [--app APPID:SECRET …] [--template ID …] [--keep-calls]

The fake WeChat API as its own process. Servers use it with YANZHEN_WECHAT_API_BASE=http://HOST:PORT.

Control endpoints (API is one of the names below, or * for all):
  POST /_fake/fault?api=API&errcode=N&times=K    answer errcode N to the next K calls (K=-1: until cleared, 0: clear)
  POST /_fake/status?api=API&status=503&times=K  answer an HTTP status with an empty body
  POST /_fake/delay?api=API&ms=3000              wait before answering (ms=0 clears)
  POST /_fake/down?on=1|0                        every API answers 503
  POST /_fake/reset-faults                       clear every injected fault (counts stay)
  GET  /_fake/stats                              {"token_fetches":{appid:n},"calls":{api:n},"ok":{…},"failed":{…},
                                                  "max_per_second":n,"delivered":n,"duplicates":n}
  GET  /_fake/calls?openid=&since=               messages sent (only with --keep-calls)

APIs:
  ` + strings.Join(wxfake.APIs(), "\n  ") + `

flags:
`
