// Package server is the one place that knows every part of Yanzhen: it builds the database, Redis,
// WeChat clients, the bot router and each capability from the configuration, registers them, and runs
// the HTTP server until the context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat"
	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/schedule"
)

// Options are the start-up choices that are not configuration.
type Options struct {
	Demo bool             // load demo data into an empty database
	Now  func() time.Time // the clock; nil = time.Now
	// ReplyWithin: how long a chat handler may run before the webhook answers `success` and the reply
	// goes out later through the customer-service API (0: the bot's default, 4 s).
	ReplyWithin time.Duration
	// BcryptCost of console passwords (0: bcrypt's default). Tests lower it.
	BcryptCost int
}

// App is a wired Yanzhen server.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	db      *gorm.DB
	rdb     *kv.Redis
	metrics *Metrics
	wx      *wxapi.Client
	fake    *http.Server   // the embedded fake WeChat API, when running on demo credentials
	fakeAPI *wxfake.Server // its handler: /_fake/calls is also served by the main server
	router  *bot.Router
	store   *bot.Store
	roster  *roster.Service
	rweb    *roster.Web
	mpAPI   *mp.Service
	qweb    *bank.Web  // the question bank's console pages and API
	sweb    *study.Web // the study console pages and API
	attend  *attendance.Service
	study   *study.Service
	exams   *study.Exams                      // completion tests (结业测试)
	remind  *study.Reminders                  // the evening study reminder
	lastMsg *study.LastMessages               // when each user last wrote (the 48-hour window), for the reminder
	sched   *schedule.Scheduler               // daily jobs, run by Serve
	notify  *notify.Notifier                  // notices to members outside a conversation (approvals, answers, summaries)
	hooks   partHooks                         // how the parts wired in wire_*.go reach each other
	demo    []func(ctx context.Context) error // demo data of the parts, loaded after the demo county
	attendParts
	meetingParts
	requestParts
	reportParts
	policyParts
	policyConsoleParts
	broadcastParts
	surveyParts
	console *console.Service
	oa, mp  *wechat.Endpoint
	handler http.Handler
	engine  *gin.Engine // the same, for the route table's tests
	openapi []byte      // /api/openapi.json
}

// New builds the whole server. Close releases what it opened.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (a *App, err error) {
	a = &App{cfg: cfg, log: log, now: opts.Now, metrics: NewMetrics()}
	if a.now == nil {
		a.now = time.Now
	}
	built := a // the error returns below set a to nil before this runs
	defer func() {
		if err != nil {
			built.Close()
		}
	}()

	if a.db, err = models.Open(cfg.DatabaseURL, log); err != nil {
		return nil, err
	}
	if err = models.Migrate(a.db); err != nil {
		return nil, err
	}
	if a.rdb, err = kv.Open(ctx, cfg.RedisURL); err != nil {
		return nil, err
	}
	if a.rdb.Embedded {
		log.Warn("redis: no YANZHEN_REDIS_URL, using an embedded in-process Redis: state is not persisted and not shared with other processes")
	}

	if err = a.startFakeWeChatIfDemo(); err != nil {
		return nil, err
	}
	wxapi.Configure(cfg.WeChatAPIBase, nil)
	a.wx = wxapi.New(wxapi.Options{
		OA: cfg.OA, MP: cfg.MP, Redis: a.rdb.Client, Log: log,
		OnCall: func(api, result string) { a.metrics.Outbound.WithLabelValues(api, result).Inc() },
	})

	a.roster = roster.New(a.db, log, a.now)
	a.roster.UseGuard(roster.NewBindGuard(a.rdb.Client, log))
	a.attend = attendance.New(attendance.Options{DB: a.db, Log: log, Now: a.now, Location: cfg.Location, MeetingCode: a.meetingCheckIn,
		OffsiteFiled: a.offsiteFiled})
	a.study = study.New(study.Options{DB: a.db, Redis: a.rdb.Client, Log: log, Now: a.now, Location: cfg.Location})
	a.store = bot.NewStore(a.rdb.Client)
	a.router = bot.NewRouter(bot.Options{
		Store:       a.store,
		Identities:  a.roster,
		Sender:      a.wx,
		Log:         log,
		ReplyWithin: opts.ReplyWithin,
		Hooks: bot.Hooks{
			OnMessage:  func(ch, kind string) { a.metrics.Messages.WithLabelValues(ch, kind).Inc() },
			OnDedupHit: func(ch string) { a.metrics.DedupHits.WithLabelValues(ch).Inc() },
			OnRedisErr: func() { a.metrics.RedisErrors.Inc() },
			OnAsync:    func(ch string) { a.metrics.AsyncReplies.WithLabelValues(ch).Inc() },
		},
	})
	a.console, err = console.New(console.Options{
		DB: a.db, Redis: a.rdb.Client, Log: log, Now: a.now, Location: cfg.Location, QR: a.wx, BcryptCost: opts.BcryptCost,
	})
	if err != nil {
		return nil, err
	}
	a.rweb = roster.NewWeb(roster.WebOptions{
		Roster: a.roster, Console: a.console, QR: a.wx, Redis: a.rdb.Client, Identities: a.store, Log: log,
	})
	a.mpAPI = mp.New(mp.Options{
		DB: a.db, Redis: a.rdb.Client, WeChat: a.wx, Roster: a.roster, Identities: a.store, Log: log, Now: a.now,
	})
	a.qweb = bank.NewWeb(bank.New(a.db, log, a.now), a.console)
	if a.sweb, err = study.NewWeb(a.study, a.console); err != nil {
		return nil, err
	}
	a.exams = study.NewExams(a.study, a.console)
	a.lastMsg = study.NewLastMessages(a.rdb.Client, a.now, log)
	a.notify = notify.New(notify.Options{Sender: a.wx, LastSeen: a.lastMsg, TemplateID: cfg.RemindTemplate, Now: a.now})
	a.remind = study.NewReminders(a.study, study.RemindOptions{Sender: a.wx, LastMessages: a.lastMsg, TemplateID: cfg.RemindTemplate})
	a.sched = schedule.New(a.rdb.Client, log, cfg.Location, a.now)
	a.registerCapabilities()
	if err = a.registerJobs(); err != nil {
		return nil, err
	}
	// The parts wired in their own files (wire_*.go): each builds its services, registers its bot
	// routes and daily jobs, and adds its console menu entries. Routes go in routes() by their *Routes.
	for _, wire := range []func() error{a.wireMeetings, a.wireRequests, a.wireAttendance, a.wireAttendReports, a.wirePolicy, a.wirePolicyConsole, a.wireBroadcast, a.wireSurvey} {
		if err = wire(); err != nil {
			return nil, err
		}
	}

	endpoint := func(channel string, app config.WeChatApp) (*wechat.Endpoint, error) {
		return wechat.NewEndpoint(channel, app, a.lastMsg.Wrap(a.router), wechat.Options{
			Log: log, Now: a.now, Sender: a.wx, Signatures: a.store,
			OnReject: func(reason string) { a.metrics.Rejected.WithLabelValues(channel, reason).Inc() },
		})
	}
	if a.oa, err = endpoint(bot.ChannelOA, cfg.OA); err != nil {
		return nil, err
	}
	if a.mp, err = endpoint(bot.ChannelMP, cfg.MP); err != nil {
		return nil, err
	}
	if a.openapi, err = openAPIDocument(); err != nil {
		return nil, err
	}
	a.handler = a.routes()

	if opts.Demo {
		if err = a.loadDemo(ctx); err != nil {
			return nil, err
		}
	}
	if err = a.bootstrapAdmin(ctx, opts.Demo); err != nil {
		return nil, err
	}
	return a, nil
}

// registerCapabilities is the one list of everything the bot can do.
func (a *App) registerCapabilities() {
	a.roster.Register(a.router)
	a.attend.Register(a.router)
	a.study.Register(a.router)
	a.exams.Register(a.router)
	a.console.Register(a.router)
}

// registerJobs is the one list of daily jobs. Each runs once a day across every server process (see
// package schedule); each is idempotent for its day.
func (a *App) registerJobs() error {
	for _, j := range []schedule.Job{
		// The daily study task for every active member, at his org's PublishAt (the job starts at the
		// earliest and waits for the later ones); members who study earlier get theirs on demand.
		{Name: "study.publish", At: study.DefaultRule().PublishAt, When: a.study.FirstPublishAt, Run: a.study.PublishDay},
		// Leaderboards are rewritten from the ledger every night, repairing any lost update.
		{Name: "study.boards", At: "03:30", Run: func(ctx context.Context, day string) error {
			return a.study.RebuildBoards(ctx, yearOf(day))
		}},
		{Name: "study.summary", At: study.SummaryAt, Run: a.study.SummariseDay}, // past days' figures, summarised once (study/summary.go)
		// The evening reminder to those who have not finished today's task, at the rules' RemindAt.
		{Name: "study.remind", At: study.DefaultRule().RemindAt, When: a.remind.FirstAt, Run: a.remind.RunDay},
	} {
		if err := a.sched.Add(j); err != nil {
			return err
		}
	}
	return nil
}

// yearOf is the year of a day "YYYY-MM-DD".
func yearOf(day string) int {
	y, _ := strconv.Atoi(day[:4])
	return y
}

// Study is the daily-study capability (tests and commands).
func (a *App) Study() *study.Service { return a.study }

// Scheduler runs the daily jobs (tests drive it with RunDue).
func (a *App) Scheduler() *schedule.Scheduler { return a.sched }

// Handler is the HTTP handler of every route (for tests and the load command).
func (a *App) Handler() http.Handler { return a.handler }

// DB, Redis and Roster expose parts to tests and commands.
func (a *App) DB() *gorm.DB            { return a.db }
func (a *App) Redis() *kv.Redis        { return a.rdb }
func (a *App) Roster() *roster.Service { return a.roster }
func (a *App) Router() *bot.Router     { return a.router }
func (a *App) WeChat() *wxapi.Client   { return a.wx }
func (a *App) Console() *console.Service {
	return a.console
}
func (a *App) Config() *config.Config { return a.cfg }

// Run serves HTTP on the configured address until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to 20 s) and returns.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.HTTPAddr, err)
	}
	return a.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	schedCtx, stopSched := context.WithCancel(context.WithoutCancel(ctx))
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); a.sched.Run(schedCtx) }()
	defer func() { stopSched(); <-schedDone }()
	bcastDone := make(chan struct{}) // the broadcast workers (wire_broadcast.go) stop with the scheduler
	go func() { defer close(bcastDone); a.bcEng.Run(schedCtx) }()
	defer func() { stopSched(); <-bcastDone }()
	a.log.Info("yanzhen: listening", "addr", ln.Addr().String(), "database", models.Dialect(a.db), "redis_embedded", a.rdb.Embedded)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("yanzhen: shutting down, finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the database, Redis and the embedded fake WeChat API.
func (a *App) Close() {
	if a.attend != nil {
		a.attend.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
	if a.lastMsg != nil {
		a.lastMsg.Close()
	}
	if a.fake != nil {
		a.fake.Close()
	}
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.db != nil {
		if sqlDB, err := a.db.DB(); err == nil {
			sqlDB.Close()
		}
	}
}

// startFakeWeChatIfDemo: with the built-in demo credentials the real WeChat API would refuse every
// call, so the server starts the project's fake WeChat API on a loopback port and talks to it. Replies
// sent "later" (customer-service messages) are then visible to `yanzhen sim`.
func (a *App) startFakeWeChatIfDemo() error {
	if !a.cfg.OA.IsDemo() || a.cfg.WeChatAPIBase != config.DefaultWeChatAPIBase {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fake wechat api: %w", err)
	}
	a.fakeAPI = FakeWeChat(a.cfg)
	a.fake = &http.Server{Handler: a.fakeAPI, ReadHeaderTimeout: 5 * time.Second}
	go a.fake.Serve(ln)
	a.cfg.WeChatAPIBase = "http://" + ln.Addr().String()
	a.log.Warn("wechat: demo credentials, outbound WeChat calls go to the built-in fake WeChat API", "addr", a.cfg.WeChatAPIBase)
	return nil
}

// FakeWeChat is the fake WeChat API as cfg's servers need it: their official account and mini program
// registered (other credentials are refused, as WeChat would), and the template id they send with, if
// any (with none registered, any id is accepted). The demo runs one in its own process; `yanzhen
// fakewechat` runs one for several servers.
func FakeWeChat(cfg *config.Config) *wxfake.Server {
	f := wxfake.New()
	for _, app := range []config.WeChatApp{cfg.OA, cfg.MP} {
		if app.AppID != "" && app.Secret != "" {
			f.AddApp(app.AppID, app.Secret)
		}
	}
	if cfg.RemindTemplate != "" {
		f.AddTemplate(cfg.RemindTemplate)
	}
	return f
}

// loadDemo fills an empty database with the demo county and prints the bind codes.
func (a *App) loadDemo(ctx context.Context) error {
	res, err := a.roster.LoadDemo(ctx)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if res == nil || len(res.Members) == 0 {
		a.log.Info("demo: database already has data, nothing loaded")
		return nil
	}
	a.log.Info("demo: loaded demo county", "members", len(res.Members))
	if qres, err := bank.New(a.db, a.log, a.now).LoadDemo(ctx); err != nil {
		return fmt.Errorf("demo questions: %w", err)
	} else if qres != nil {
		a.log.Info("demo: loaded the demo question bank", "questions", qres.Created)
	}
	for _, load := range a.demo {
		if err := load(ctx); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	for _, m := range res.Members {
		a.log.Info("demo: bind code", "name", m.Name, "role", m.Role, "org", m.OrgPath, "code", m.BindCode)
	}
	return nil
}

// bootstrapAdmin creates the administrator named by YANZHEN_ADMIN_USER / YANZHEN_ADMIN_PASSWORD unless
// that account exists. In demo mode, the demo county also gets its console logins, and without a
// configured administrator a demo one ("admin") is made.
func (a *App) bootstrapAdmin(ctx context.Context, demo bool) error {
	user, pw := a.cfg.AdminUser, a.cfg.AdminPassword
	if user == "" && demo {
		user, pw = "admin", console.DemoPassword
	}
	if user != "" {
		made, err := a.console.EnsureAdmin(ctx, user, pw)
		if err != nil {
			return err
		}
		if made {
			a.log.Info("console: created the administrator account", "username", user)
		}
	}
	if !demo {
		return nil
	}
	accounts, err := a.console.LoadDemoAccounts(ctx)
	if err != nil {
		a.log.Warn("demo: console accounts not created", "err", err)
		return nil
	}
	for _, d := range accounts {
		a.log.Info("demo: console login", "username", d.Username, "password", console.DemoPassword, "role", d.Role, "org", d.OrgPath)
	}
	if user == "admin" && a.cfg.AdminUser == "" {
		a.log.Info("demo: console login", "username", "admin", "password", console.DemoPassword, "role", "系统管理员")
	}
	return nil
}

// Routes lists the route table (for tests that check it against the OpenAPI document and the scope
// matrix).
func (a *App) Routes() gin.RoutesInfo { return a.engine.Routes() }
