package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/handlers/survey"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// `yanzhen bench county` is the county morning peak: --setup makes a load county (villages under a few
// towns, party-building aides with phone numbers, a question bank, a check-in place per village, an
// open survey and today's study task) through the project's own import and service code; the driver
// then plays each aide's morning session in the chat, as WeChat would deliver it (signed, encrypted,
// 5 % of messages delivered twice with one MsgId, to another instance when there are several), at
// arrival times shaped like a morning peak, and writes one journal line per effect the bot's reply
// acknowledged; --verify checks every journal line against the database ("acked N found N lost 0").
// scripts/soak.sh runs it for an hour against two instances.

// The load county.
const (
	countyName        = "压测县"
	countySurveyTitle = "压测县党建工作满意度问卷"
	countyPhoneBase   = 19900000000 // member i has phone countyPhoneBase+i
	countyOpenID      = "o_county_" // aide i is the WeChat user o_county_I
	countyQuestions   = 300
	countyPlaceRadius = 300
	countyTimeout     = 5 * time.Second // WeChat gives up on a reply after 5 s
	countyMaxMessages = 80              // messages one session sends at most (no endless loop on a surprise)
)

// countySurveyQuestions is the load survey, in the survey builder's format.
const countySurveyQuestions = `单选* 你对今年的党建业务培训满意吗？
- 满意
- 基本满意
- 不满意
多选(1-2) 你最希望加强哪些方面的培训？
- 政策理论
- 信息化操作
- 群众工作方法
- 村务财务管理
评分* 给今年的党建工作打个分`

// countyTowns names the towns of the load county (more than ten get a number).
var countyTowns = []string{"东风镇", "红星镇", "青龙镇", "白鹤镇", "金山镇", "柳江镇", "桃源镇", "石桥镇", "龙池镇", "花园镇"}

// countyVillage is village v of V: its org path and its check-in place (GCJ-02), about 2 km apart.
func countyVillage(v, villages int) (path string, lat, lng float64) {
	towns := max(1, (villages+19)/20)
	t := v % towns
	town := countyTowns[t%len(countyTowns)]
	if t >= len(countyTowns) {
		town = strings.TrimSuffix(town, "镇") + strconv.Itoa(t/len(countyTowns)+1) + "镇"
	}
	path = fmt.Sprintf("%s/%s/试点%03d村", countyName, town, v+1)
	return path, 29.60 + 0.02*float64(v/20), 103.10 + 0.02*float64(v%20)
}

func countyPhone(i int) string { return strconv.Itoa(countyPhoneBase + i) }

// countyURLs is a repeatable --url.
type countyURLs []string

func (u *countyURLs) String() string     { return strings.Join(*u, ",") }
func (u *countyURLs) Set(v string) error { *u = append(*u, v); return nil }

func cmdBenchCounty(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("bench county", std)
	var cf commonFlags
	cf.register(fs)
	setup := fs.Bool("setup", false, "create (idempotently) the load county in the configured database and write the bind codes to --codes")
	verify := fs.Bool("verify", false, "check every line of --journal against the configured database")
	members := fs.Int("members", 5000, "--setup: active 党建专干 members")
	villages := fs.Int("villages", 100, "--setup: villages")
	codes := fs.String("codes", "", "the bind codes CSV (--setup writes it, the driver reads it; --setup without it: stdout)")
	var urls countyURLs
	fs.Var(&urls, "url", "a webhook URL (repeat for several instances; requests go round-robin)")
	duration := fs.Duration("duration", time.Hour, "how long to drive")
	peak := fs.Duration("peak", 2*time.Hour, "the real morning peak simulated, compressed into --duration (repeated when --duration is longer)")
	arrivals := fs.String("arrivals", "peak", "when sessions start in each window: peak (most in the middle) or flat (evenly, the peak's plateau held)")
	aides := fs.Int("aides", 5000, "how many aides (the first rows of --codes) take part")
	conns := fs.Int("conns", 64, "requests in flight at most")
	holdConns := fs.Bool("hold-conns", false, "keep --conns connections to each instance open the whole run (a GET /healthz on each every 30 s, as a load balancer's keep-alive pool and health checks would), so that the servers' connection count does not follow the load's bursts")
	journal := fs.String("journal", "", "append one JSON line per acknowledged effect (the driver) / the journal to check (--verify)")
	statsFile := fs.String("stats", "", "write a CSV line per --stats-every: t_seconds,sent,ok,busy,errors,timeouts,p50_ms,p99_ms,max_ms,acked_effects")
	statsEvery := fs.Duration("stats-every", 10*time.Second, "the --stats interval")
	bind := fs.Bool("bind", false, "bind every aide (o_county_I) with his code before driving")
	appID := fs.String("appid", envOr("YANZHEN_OA_APPID", config.DemoOAAppID), "AppID")
	token := fs.String("token", envOr("YANZHEN_OA_TOKEN", config.DemoOAToken), "Token")
	aesKey := fs.String("aeskey", envOr("YANZHEN_OA_AES_KEY", config.DemoOAAESKey), "EncodingAESKey")
	modeName := fs.String("mode", "safe", "plain, compat or safe")
	seed := fs.Uint64("seed", 0, "random seed of the aides' choices (0: from the clock)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("bench county: unexpected argument " + fs.Arg(0))
	}
	switch {
	case *setup && *verify:
		return usageError("bench county: --setup or --verify, not both")
	case *setup:
		if *members < 1 || *villages < 1 || *villages > 2000 {
			return usageError("bench county --setup: --members must be at least 1 and --villages 1-2000")
		}
		cfg, log, db, err := cf.loadDB(std)
		if err != nil {
			return err
		}
		defer closeDB(db)
		return countySetup(ctx, std, cfg, db, log, *members, *villages, *codes)
	case *verify:
		if *journal == "" {
			return usageError("bench county --verify --journal FILE")
		}
		_, _, db, err := cf.loadDB(std)
		if err != nil {
			return err
		}
		defer closeDB(db)
		return countyVerify(ctx, std, db, *journal)
	}

	if *codes == "" || len(urls) == 0 {
		return usageError("bench county --url URL [--url URL2…] --codes FILE [--duration D] [--peak D] [--aides N] [--journal FILE] [--stats FILE] [--bind]")
	}
	if *duration <= 0 || *peak <= 0 || *aides < 1 || *conns < 1 || *statsEvery <= 0 {
		return usageError("bench county: --duration, --peak, --stats-every, --aides and --conns must be positive")
	}
	if *arrivals != "peak" && *arrivals != "flat" {
		return usageError("bench county: --arrivals is peak or flat")
	}
	mode, err := wxclient.ParseMode(*modeName)
	if err != nil {
		return usageError(err.Error())
	}
	loc, err := time.LoadLocation(envOr("YANZHEN_TZ", "Asia/Shanghai"))
	if err != nil {
		return fmt.Errorf("bench county: YANZHEN_TZ: %w", err)
	}
	list, err := readCountyCodes(*codes)
	if err != nil {
		return err
	}
	if *aides > len(list) {
		fmt.Fprintf(std.err, "bench: %s has %d aides; driving them all (--aides %d)\n", *codes, len(list), *aides)
		*aides = len(list)
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	hc := &http.Client{Timeout: countyTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxIdleConns: *conns * len(urls),
		IdleConnTimeout: 90 * time.Second}}
	ids := wxclient.NewSequence(time.Now().UnixNano())
	r := &countyRun{std: std, loc: loc, sem: make(chan struct{}, *conns), seed: *seed, stats: newCountyStats()}
	for _, u := range urls {
		c, err := wxclient.New(wxclient.Config{URL: u, AppID: *appID, Token: *token, AESKey: *aesKey, AppUser: "gh_county",
			Mode: mode, HTTP: hc, MsgIDs: ids})
		if err != nil {
			return err
		}
		r.clients = append(r.clients, c)
	}
	if *journal != "" {
		f, err := os.OpenFile(*journal, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		r.journal = f
	}
	aideList := list[:*aides]
	if *bind {
		start := time.Now()
		bound, already, failed := r.bindAll(ctx, aideList, *conns)
		fmt.Fprintf(std.err, "bench: bound %d aides (%d were bound already, %d failed) in %s\n", bound, already, failed,
			time.Since(start).Round(time.Millisecond))
	}
	var statsOut io.Writer
	if *statsFile != "" {
		f, err := os.Create(*statsFile)
		if err != nil {
			return err
		}
		defer f.Close()
		statsOut = f
	}
	r.flat = *arrivals == "flat"
	if *holdConns {
		holdCtx, stopHolding := context.WithCancel(ctx)
		defer stopHolding()
		go holdConnections(holdCtx, hc, urls, *conns, 30*time.Second)
	}
	res := r.drive(ctx, aideList, *duration, *peak, statsOut, *statsEvery)
	res.print(std.out, len(urls), *conns, mode)
	if res.firstErr != nil {
		fmt.Fprintf(std.err, "bench: first error: %v\n", res.firstErr)
	}
	return nil
}

// holdConnections keeps n connections to each instance open: every interval it sends n GET /healthz
// to each at once and reads none of the answers until all n have come, so that no two requests share
// a connection: every idle connection of hc's pool is taken (and so kept from the server's idle
// timeout) and the missing ones are opened. Without the wait, the first answers come back before the
// last requests leave, those reuse the same few connections, and the pool's least recently used ones
// lapse after two minutes. Failures are ignored: the run's own requests count the errors.
func holdConnections(ctx context.Context, hc *http.Client, urls []string, n int, every time.Duration) {
	var targets []string
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil {
			targets = append(targets, u.Scheme+"://"+u.Host+"/healthz")
		}
	}
	for {
		var answered, done sync.WaitGroup
		all := make(chan struct{})
		for _, t := range targets {
			for range n {
				answered.Add(1)
				done.Go(func() {
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, t, nil)
					var res *http.Response
					if err == nil {
						res, err = hc.Do(req)
					}
					answered.Done()
					if err != nil {
						return
					}
					<-all // the connection stays this request's until every request has its answer
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				})
			}
		}
		answered.Wait()
		close(all)
		done.Wait()
		if !sleepUntil(ctx, time.Now().Add(every)) {
			return
		}
	}
}

// ---- setup ----

// countySetup makes the load county with the project's own code paths: the roster import (towns,
// villages and members), the question bank import, the places import, the survey service (created and
// sent, as from the console) and the study publish of today. Running it again changes nothing but
// what is missing. It writes 姓名,手机号,绑定码,组织,纬度,经度 for members 0…N-1 (绑定码 empty once bound).
func countySetup(ctx context.Context, std stdio, cfg *config.Config, db *gorm.DB, log *slog.Logger, members, villages int, codesPath string) error {
	start := time.Now()
	// Members first (their orgs come with them).
	var b bytes.Buffer
	b.WriteString(strings.Join(roster.Header, ",") + "\n")
	for i := 0; i < members; i++ {
		path, _, _ := countyVillage(i%villages, villages)
		fmt.Fprintf(&b, "压测专干%05d,%s,%s,%s\n", i+1, countyPhone(i), models.RoleAide, path)
	}
	rs := roster.New(db, log, time.Now)
	rres, err := rs.Import(ctx, &b, "county-roster.csv")
	if err != nil {
		return err
	}
	if len(rres.Errors) > 0 {
		return fmt.Errorf("bench county: roster line %d: %s", rres.Errors[0].Line, rres.Errors[0].Reason)
	}
	if _, err := rs.EnsureBindCodes(ctx, countyName); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "setup: roster: %d created, %d updated, %d unchanged (%d villages)\n", rres.Created, rres.Updated, rres.Unchanged, villages)

	// The question bank.
	b.Reset()
	b.WriteString(strings.Join(bank.Header, ",") + "\n")
	for i := 0; i < countyQuestions; i++ {
		switch i % 5 {
		case 0, 1, 2:
			fmt.Fprintf(&b, "单选,（压测%03d）村党组织每年至少要开展几次主题党日活动？,%d次,%d次,%d次,%d次,%c,按规定执行。,压测\n",
				i+1, 4+i%3, 8+i%3, 12, 24, 'A'+rune(i%4))
		case 3:
			fmt.Fprintf(&b, "多选,（压测%03d）“三会一课”包括哪些？,支部党员大会,支部委员会,党小组会,党课,ABCD,,压测\n", i+1)
		default:
			fmt.Fprintf(&b, "判断,（压测%03d）党员应当按月交纳党费。,,,,,对,,压测\n", i+1)
		}
	}
	qres, err := bank.New(db, log, time.Now).Import(ctx, &b, "county-questions.csv")
	if err != nil {
		return err
	}
	if len(qres.Errors) > 0 {
		return fmt.Errorf("bench county: question line %d: %s", qres.Errors[0].Line, qres.Errors[0].Reason)
	}
	fmt.Fprintf(std.err, "setup: questions: %d created, %d updated, %d unchanged\n", qres.Created, qres.Updated, qres.Unchanged)

	// One check-in place per village.
	b.Reset()
	b.WriteString("组织,名称,纬度,经度,半径米\n")
	for v := 0; v < villages; v++ {
		path, lat, lng := countyVillage(v, villages)
		fmt.Fprintf(&b, "%s,%s村委会,%.6f,%.6f,%d\n", path, path[strings.LastIndexByte(path, '/')+1:], lat, lng, countyPlaceRadius)
	}
	att := attendance.New(attendance.Options{DB: db, Log: log, Location: cfg.Location})
	defer att.Close()
	con, err := console.New(console.Options{DB: db, Log: log, Now: time.Now, Location: cfg.Location})
	if err != nil {
		return err
	}
	pres, err := att.ImportPlaces(ctx, scope.Everything(), &b, "county-places.csv", func(ctx context.Context, tx *gorm.DB, ch console.Change) error {
		return con.Record(ctx, tx, nil, ch)
	})
	if err != nil {
		return err
	}
	if len(pres.Errors) > 0 {
		return fmt.Errorf("bench county: place line %d: %s", pres.Errors[0].Line, pres.Errors[0].Reason)
	}
	fmt.Fprintf(std.err, "setup: places: %d created, %d updated, %d unchanged\n", pres.Created, pres.Updated, pres.Unchanged)

	// The survey, open for the whole county (sent as from the console: its broadcast goes out from a
	// running server).
	sid, sent, err := countySurvey(ctx, db, log, cfg.Location)
	if err != nil {
		return err
	}
	if sent {
		fmt.Fprintf(std.err, "setup: survey #%d 《%s》 created and sent\n", sid, countySurveyTitle)
	} else {
		fmt.Fprintf(std.err, "setup: survey #%d 《%s》 is open already\n", sid, countySurveyTitle)
	}

	// Today's study task for every active member.
	st := study.New(study.Options{DB: db, Log: log, Location: cfg.Location})
	day := st.Today()
	n, err := st.Publish(ctx, day)
	if err != nil {
		return err
	}
	var tasks int64
	if err := db.WithContext(ctx).Table("study_tasks t").Joins("JOIN members m ON m.id = t.member_id").
		Where("t.day = ? AND m.phone >= ? AND m.phone < ?", day, countyPhone(0), countyPhone(members)).Count(&tasks).Error; err != nil {
		return err
	}
	fmt.Fprintf(std.err, "setup: study tasks of %s: %d published now, %d of the %d load members have theirs\n", day, n, tasks, members)

	// The bind codes, in member order.
	out := std.out
	if codesPath != "" {
		f, err := os.Create(codesPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	w := csv.NewWriter(out)
	w.Write([]string{"姓名", "手机号", "绑定码", "组织", "纬度", "经度"})
	byPhone := map[string]models.Member{}
	for lo := 0; lo < members; lo += 500 {
		phones := make([]string, 0, 500)
		for i := lo; i < min(lo+500, members); i++ {
			phones = append(phones, countyPhone(i))
		}
		var ms []models.Member
		if err := db.WithContext(ctx).Select("id, name, phone, bind_code").Where("phone IN ?", phones).Find(&ms).Error; err != nil {
			return err
		}
		for _, m := range ms {
			byPhone[m.Phone] = m
		}
	}
	unbound := 0
	for i := 0; i < members; i++ {
		m := byPhone[countyPhone(i)]
		code := ""
		if m.BindCode != nil {
			code = *m.BindCode
			unbound++
		}
		path, lat, lng := countyVillage(i%villages, villages)
		w.Write([]string{m.Name, countyPhone(i), code, path, strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lng, 'f', 6, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "setup: %d members written (%d with a bind code, %d bound already) in %s\n", members, unbound, members-unbound,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// countySurvey returns the open load survey, creating and sending it when there is none open for at
// least another day.
func countySurvey(ctx context.Context, db *gorm.DB, log *slog.Logger, loc *time.Location) (uint, bool, error) {
	var open []models.Survey
	if err := db.WithContext(ctx).Where("title = ? AND org_path = ? AND status = ? AND deadline > ?", countySurveyTitle, countyName,
		models.SurveyOpen, time.Now().Add(24*time.Hour)).Order("id DESC").Limit(1).Find(&open).Error; err != nil {
		return 0, false, err
	}
	if len(open) == 1 {
		return open[0].ID, false, nil
	}
	var county models.Org
	if err := db.WithContext(ctx).Where("path = ?", countyName).Take(&county).Error; err != nil {
		return 0, false, fmt.Errorf("bench county: the county: %w", err)
	}
	qs, err := survey.ParseQuestions(countySurveyQuestions)
	if err != nil {
		return 0, false, err
	}
	svc := survey.New(survey.Options{DB: db, Log: log, Location: loc})
	v := &console.Viewer{Username: "bench", DisplayName: "压测", Role: models.ConsoleAdmin, Scope: scope.Everything()}
	sv, err := svc.Create(ctx, v, survey.Input{Title: countySurveyTitle, Intro: "压测用问卷，请如实填写。", OrgID: county.ID,
		Deadline: time.Now().AddDate(0, 0, 14), Questions: qs})
	if err != nil {
		return 0, false, err
	}
	if _, err := svc.Send(ctx, v, sv.ID); err != nil {
		return 0, false, err
	}
	return sv.ID, true, nil
}

// ---- the driver ----

// countyAide is one row of the codes file.
type countyAide struct {
	idx             int
	openID, phone   string
	name, code, org string
	lat, lng        float64
	bindTried       bool
	lastEvent       int64 // CreateTime of his last LOCATION event: each event needs its own second
}

// readCountyCodes reads the codes file --setup wrote (姓名,手机号,绑定码[,组织,纬度,经度]).
func readCountyCodes(path string) ([]*countyAide, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("bench county: %s: %w", path, err)
	}
	if len(rows) > 0 && len(rows[0]) > 0 && strings.TrimPrefix(rows[0][0], "\ufeff") == "姓名" {
		rows = rows[1:]
	}
	var out []*countyAide
	for n, row := range rows {
		if len(row) < 3 {
			return nil, fmt.Errorf("bench county: %s:%d: want 姓名,手机号,绑定码[,组织,纬度,经度]", path, n+2)
		}
		a := &countyAide{idx: len(out), name: row[0], phone: row[1], code: row[2]}
		a.openID = countyOpenID + strconv.Itoa(a.idx)
		if len(row) >= 6 {
			a.org = row[3]
			a.lat, _ = strconv.ParseFloat(row[4], 64)
			a.lng, _ = strconv.ParseFloat(row[5], 64)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench county: %s has no aides", path)
	}
	return out, nil
}

// countyRun is one drive: the clients (one per --url), the in-flight limit, the counters and the journal.
type countyRun struct {
	std     stdio
	loc     *time.Location
	clients []*wxclient.Client
	rr      atomic.Uint64
	sem     chan struct{}
	seed    uint64
	stats   *countyStats
	journal *os.File
	jmu     sync.Mutex

	compress float64 // real time over driven time
	flat     bool    // sessions start evenly over each window instead of mostly in its middle

	sessions, finished, comebacks atomic.Int64
	retries, disagree, retryLost  atomic.Int64 // deliveries twice with one MsgId; replies that differ; a retry with no usable reply
	acked                         [3]atomic.Int64
}

// Effect kinds of the journal.
const (
	effectAnswer  = "answer"
	effectCheckIn = "checkin"
	effectSurvey  = "survey"
)

var effectKinds = []string{effectAnswer, effectCheckIn, effectSurvey}

// countyJournalLine is one acknowledged effect.
type countyJournalLine struct {
	Kind   string `json:"kind"`
	OpenID string `json:"openid"`
	Phone  string `json:"member_phone"`
	Key    string `json:"key"`
	At     string `json:"at"`
}

// ack records an acknowledged effect: counted, and journaled (one write per line, so a killed driver
// leaves whole lines).
func (r *countyRun) ack(a *countyAide, kind, key string) {
	r.acked[slices.Index(effectKinds, kind)].Add(1)
	r.stats.acked()
	if r.journal == nil {
		return
	}
	b, _ := json.Marshal(countyJournalLine{Kind: kind, OpenID: a.openID, Phone: a.phone, Key: key, At: time.Now().Format(time.RFC3339Nano)})
	r.jmu.Lock()
	r.journal.Write(append(b, '\n'))
	r.jmu.Unlock()
}

// outcome of one delivery.
type countyOutcome int

const (
	outOK      countyOutcome = iota
	outEmpty                 // 200 with no reply (`success`): the reply comes later, if at all
	outBusy                  // the busy or an apology text
	outError                 // HTTP status, connection or reply error
	outTimeout               // no answer within 5 s
)

// isApology reports a reply that says the bot could not do it.
func isApology(text string) bool {
	return text == bot.TextBusy || text == bot.TextError || strings.HasPrefix(text, "抱歉")
}

// deliver sends one delivery of msg to client i and classifies it.
func (r *countyRun) deliver(ctx context.Context, i uint64, msg *wxclient.Message) (string, countyOutcome) {
	c := r.clients[i%uint64(len(r.clients))]
	var req wxclient.Request
	if err := c.EncodeTo(&req, msg); err != nil {
		r.stats.fail(err)
		return "", outError
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return "", outError
	}
	start := time.Now()
	res, err := c.Do(context.WithoutCancel(ctx), &req)
	lat := time.Since(start)
	<-r.sem
	var ne net.Error
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		r.stats.add(outTimeout, 0, err)
		return "", outTimeout
	case err != nil && res == nil:
		r.stats.add(outError, 0, err)
		return "", outError
	case res.Status != http.StatusOK:
		r.stats.add(outError, lat, fmt.Errorf("%s: HTTP %d: %.200s", c.URL, res.Status, res.Response))
		return "", outError
	case err != nil:
		r.stats.add(outError, lat, err)
		return "", outError
	case res.Reply == nil:
		r.stats.add(outEmpty, lat, nil)
		return "", outEmpty
	case isApology(res.Reply.Content):
		r.stats.add(outBusy, lat, nil)
		return res.Reply.Content, outBusy
	}
	r.stats.add(outOK, lat, nil)
	return res.Reply.Content, outOK
}

// exchange delivers a message and returns the reply the user sees; 5 % of messages are delivered a
// second time with the same MsgId, to the next instance, while the first is on its way (a WeChat
// retry). Both replies must agree; the user sees the first usable one.
func (r *countyRun) exchange(ctx context.Context, rng *rand.Rand, msg *wxclient.Message) (string, bool) {
	i := r.rr.Add(1)
	if rng.Float64() >= 0.05 {
		text, out := r.deliver(ctx, i, msg)
		return text, out == outOK
	}
	r.retries.Add(1)
	delay := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
	type got struct {
		text string
		out  countyOutcome
	}
	second := make(chan got, 1)
	go func() {
		time.Sleep(delay)
		text, out := r.deliver(ctx, i+1, msg)
		second <- got{text, out}
	}()
	t1, o1 := r.deliver(ctx, i, msg)
	g := <-second
	switch {
	case o1 == outOK && g.out == outOK && t1 != g.text:
		r.disagree.Add(1)
		fmt.Fprintf(r.std.err, "bench: the two deliveries of MsgId %d got different replies:\n  %.120q\n  %.120q\n", msg.MsgID, t1, g.text)
	case o1 != outOK || g.out != outOK:
		r.retryLost.Add(1)
	}
	if o1 == outOK {
		return t1, true
	}
	return g.text, g.out == outOK
}

// bindAll binds every aide who has a code, conns at a time (like bench webhook --bind).
func (r *countyRun) bindAll(ctx context.Context, aides []*countyAide, conns int) (bound, already, failed int) {
	var nb, na, nf atomic.Int64
	var wg sync.WaitGroup
	work := make(chan *countyAide)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				ok := false
				for try := 0; try < 5 && !ok && ctx.Err() == nil; try++ {
					c := r.clients[r.rr.Add(1)%uint64(len(r.clients))]
					res, err := c.Send(ctx, c.Text(a.openID, "绑定 "+a.code))
					if err != nil || res.Status != http.StatusOK || res.Reply == nil || isApology(res.Reply.Content) {
						time.Sleep(200 * time.Millisecond)
						continue
					}
					ok = true
					switch t := res.Reply.Content; {
					case strings.Contains(t, "绑定成功"):
						nb.Add(1)
					case strings.Contains(t, "已绑定为"):
						na.Add(1)
					default:
						nf.Add(1)
					}
				}
				if !ok {
					nf.Add(1)
				}
				a.bindTried = true
			}
		}()
	}
	for _, a := range aides {
		if a.code != "" {
			work <- a
		}
	}
	close(work)
	wg.Wait()
	return int(nb.Load()), int(na.Load()), int(nf.Load())
}

// drive plays the aides' sessions for d: each window of real length peak is compressed into
// min(peak, d) and repeated back to back while d lasts; in each, every aide starts his session at a
// time drawn from a triangular distribution (most in the middle of the morning), or evenly with --arrivals flat.
func (r *countyRun) drive(ctx context.Context, aides []*countyAide, d, peak time.Duration, statsOut io.Writer, every time.Duration) *countyResult {
	window := min(peak, d)
	r.compress = float64(peak) / float64(window)
	windows := int((d + window - 1) / window)
	fmt.Fprintf(r.std.err, "bench: %d aides, %d peak window(s) of %s compressed %.1fx into %s each, %d instance(s)\n",
		len(aides), windows, peak, r.compress, window, len(r.clients))
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(d))
	defer cancel()
	r.stats.begin(start)
	statsCtx, stopStats := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStats()
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		r.stats.run(statsCtx, statsOut, every)
	}()
	var wg sync.WaitGroup
	for _, a := range aides {
		wg.Add(1)
		go func(a *countyAide) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.seed, uint64(a.idx)))
			for k := 0; k < windows; k++ {
				u := (rng.Float64() + rng.Float64()) / 2 // triangular: most in the middle of the morning
				if r.flat {
					u = rng.Float64()
				}
				at := time.Duration(k)*window + time.Duration(u*0.95*float64(window))
				if !sleepUntil(runCtx, start.Add(at)) {
					return
				}
				s := &countySession{r: r, a: a, rng: rng}
				r.sessions.Add(1)
				s.morning(runCtx)
				if runCtx.Err() == nil {
					r.finished.Add(1)
				}
				// Some come back later the same morning: to finish what failed, or to look at their points.
				if rng.Float64() < 0.1 {
					back := start.Add(time.Duration(k)*window + time.Duration((0.5+0.45*rng.Float64())*float64(window)))
					if time.Now().Before(back) && sleepUntil(runCtx, back) {
						r.comebacks.Add(1)
						s.msgs = 0
						s.study(runCtx)
						s.say(runCtx, "积分")
					}
				}
			}
		}(a)
	}
	wg.Wait() // the sessions' last messages are answered (or time out) after the deadline
	stopStats()
	<-statsDone
	res := r.stats.result(time.Since(start))
	res.run = r
	return res
}

// sleepUntil waits until t; false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// countySession is one aide's morning in the chat.
type countySession struct {
	r    *countyRun
	a    *countyAide
	rng  *rand.Rand
	msgs int
}

// Reply texts the sessions read (handlers/study, handlers/attendance, handlers/survey, handlers/roster).
const (
	replyRight      = "✅ 回答正确"
	replyWrong      = "❌ 答错了"
	replyStudyDone  = "今天的学习完成了"
	replyAskPlace   = "请发送你的位置"
	replyCheckedIn  = "✅ 签到成功"
	replyOffsite    = "📝 已提交外勤"
	replyLocNoStep  = "要签到请先发送「签到」"
	replySurveyList = "待填写的问卷"
	replyUnbound    = "还没有绑定"
)

var (
	countyPrompt     = regexp.MustCompile(`第(\d+)题/共(\d+)题 · ([^\n（(]+)`)
	countyLetterOpt  = regexp.MustCompile(`(?m)^([A-Z])\. `)
	countyNumberOpt  = regexp.MustCompile(`(?m)^(\d+)\. `)
	countyChoiceRule = regexp.MustCompile(`选(\d+)(?:-(\d+))?项`)
	countyScale      = regexp.MustCompile(`回复 1-(\d+) 的数字`)
	countySubmitted  = regexp.MustCompile(`✅ 问卷《(.+?)》已提交`)
)

// countyQuestion is a question as a prompt shows it.
type countyQuestion struct {
	index, total int    // 1-based position, of total
	kind         string // 单选, 多选, 判断, 填空 (study); 单选, 多选, 填空, 评分, 数字 (survey)
	options      int
	body         string // the prompt from its header on
}

// parseCountyPrompt finds the question a reply asks ("第2题/共5题 · 单选 …"), ok false when it asks none.
func parseCountyPrompt(reply string, numbered bool) (countyQuestion, bool) {
	loc := countyPrompt.FindStringSubmatchIndex(reply)
	if loc == nil {
		return countyQuestion{}, false
	}
	var q countyQuestion
	q.index, _ = strconv.Atoi(reply[loc[2]:loc[3]])
	q.total, _ = strconv.Atoi(reply[loc[4]:loc[5]])
	q.kind = strings.TrimSpace(reply[loc[6]:loc[7]])
	q.body = reply[loc[0]:]
	opt := countyLetterOpt
	if numbered {
		opt = countyNumberOpt
	}
	q.options = len(opt.FindAllStringIndex(q.body, -1))
	return q, true
}

// studyAnswer is a plausible answer, right or wrong.
func (s *countySession) studyAnswer(q countyQuestion) string {
	switch q.kind {
	case models.QuestionJudge:
		return []string{"对", "错"}[s.rng.IntN(2)]
	case models.QuestionSingle:
		return string(rune('A' + s.rng.IntN(max(q.options, 1))))
	case models.QuestionMulti:
		n := max(q.options, 2)
		var b strings.Builder
		for i := 0; i < n; i++ {
			if s.rng.IntN(3) > 0 {
				b.WriteRune(rune('A' + i))
			}
		}
		if b.Len() == 0 {
			b.WriteRune(rune('A' + s.rng.IntN(n)))
		}
		return b.String()
	}
	return []string{"共产主义", "为人民服务", "六", "南湖"}[s.rng.IntN(4)]
}

// studyAcked tells whether a reply to an answer says it was recorded, and which question of the task
// it was: the one before the next question it shows, or the last when the task is done.
func studyAcked(reply string, asked countyQuestion) (int, bool) {
	if !strings.Contains(reply, replyRight) && !strings.Contains(reply, replyWrong) {
		return 0, false
	}
	if next, ok := parseCountyPrompt(reply, false); ok {
		return next.index - 1, true
	}
	if strings.Contains(reply, replyStudyDone) {
		return asked.total, true
	}
	return asked.index, true
}

// surveyAnswer is a plausible answer to a survey question.
func (s *countySession) surveyAnswer(q countyQuestion) string {
	switch q.kind {
	case "单选":
		return strconv.Itoa(1 + s.rng.IntN(max(q.options, 1)))
	case "多选":
		lo, hi := 1, max(q.options, 1)
		if m := countyChoiceRule.FindStringSubmatch(q.body); m != nil {
			lo, _ = strconv.Atoi(m[1])
			hi = lo
			if m[2] != "" {
				hi, _ = strconv.Atoi(m[2])
			}
		}
		n := lo + s.rng.IntN(max(hi-lo+1, 1))
		picks := s.rng.Perm(max(q.options, n))[:n]
		slices.Sort(picks)
		parts := make([]string, n)
		for i, p := range picks {
			parts[i] = strconv.Itoa(p + 1)
		}
		return strings.Join(parts, " ")
	case "评分":
		scale := 5
		if m := countyScale.FindStringSubmatch(q.body); m != nil {
			scale, _ = strconv.Atoi(m[1])
		}
		return strconv.Itoa(max(1, scale-s.rng.IntN(3)))
	case "数字":
		return strconv.Itoa(1 + s.rng.IntN(5))
	}
	return []string{"希望多组织培训", "没有", "很好"}[s.rng.IntN(3)]
}

// think waits the time a person takes to read and type (1–5 s), compressed.
func (s *countySession) think(ctx context.Context) bool {
	d := time.Duration((1 + 4*s.rng.Float64()) * float64(time.Second) / s.r.compress)
	return sleepUntil(ctx, time.Now().Add(d))
}

// send delivers a message built anew for each try until the bot answers it: a busy or apology text, no
// answer within 5 s, an error or an empty reply make him try again after a pause (longer each time, as
// a person would). It returns the reply and the message that got it; "" when the run or the session's
// budget ends.
func (s *countySession) send(ctx context.Context, build func() *wxclient.Message) (string, *wxclient.Message) {
	for fails := 0; ctx.Err() == nil && s.msgs < countyMaxMessages; fails++ {
		msg := build()
		s.msgs++
		text, ok := s.r.exchange(ctx, s.rng, msg)
		if ok && strings.Contains(text, replyUnbound) && s.a.code != "" && !s.a.bindTried {
			s.a.bindTried = true
			s.say(ctx, "绑定 "+s.a.code)
			continue
		}
		if ok {
			return text, msg
		}
		pause := (2 + 4*s.rng.Float64()) * float64(time.Second) / s.r.compress * float64(min(1<<fails, 8))
		if !sleepUntil(ctx, time.Now().Add(time.Duration(pause))) {
			return "", nil
		}
	}
	return "", nil
}

// say sends a text until it is answered.
func (s *countySession) say(ctx context.Context, text string) string {
	c := s.r.clients[0]
	reply, _ := s.send(ctx, func() *wxclient.Message { return c.Text(s.a.openID, text) })
	return reply
}

// morning is one session: 学习 and the day's questions, 签到 with a location, sometimes 问卷, a policy
// question, 积分.
func (s *countySession) morning(ctx context.Context) {
	s.study(ctx)
	if !s.think(ctx) {
		return
	}
	s.checkIn(ctx)
	if s.rng.Float64() < 0.3 && s.think(ctx) {
		s.survey(ctx)
	}
	if s.rng.Float64() < 0.2 && s.think(ctx) {
		s.say(ctx, "问 村书记每年培训多少学时")
	}
	if s.rng.Float64() < 0.4 && s.think(ctx) {
		s.say(ctx, "积分")
	}
}

// study: 学习, then each question of today's task; a reply that is no question and no feedback (a hint,
// a surprise) makes him send 学习 again to see where he is.
func (s *countySession) study(ctx context.Context) {
	day := time.Now().In(s.r.loc).Format("2006-01-02")
	reply := s.say(ctx, "学习")
	for step := 0; step < 40 && reply != ""; step++ {
		q, ok := parseCountyPrompt(reply, false)
		if !ok {
			return // done today, no questions, or not bound
		}
		if !s.think(ctx) {
			return
		}
		reply = s.say(ctx, s.studyAnswer(q))
		if idx, acked := studyAcked(reply, q); acked {
			s.r.ack(s.a, effectAnswer, day+"/"+strconv.Itoa(idx))
			if strings.Contains(reply, replyStudyDone) {
				return
			}
		}
		if _, ok := parseCountyPrompt(reply, false); !ok && reply != "" {
			reply = s.say(ctx, "学习")
		}
	}
}

// checkIn: 签到, then the location (a location message, sometimes the LOCATION event) inside his
// village's place.
func (s *countySession) checkIn(ctx context.Context) {
	for round := 0; round < 3; round++ {
		if reply := s.say(ctx, "签到"); !strings.Contains(reply, replyAskPlace) {
			return // checked in already today, no place, or the run is over
		}
		if !s.think(ctx) {
			return
		}
		c := s.r.clients[0]
		event := s.rng.Float64() < 0.2
		reply, msg := s.send(ctx, func() *wxclient.Message {
			lat := s.a.lat + (s.rng.Float64()-0.5)*0.0016 // within about 90 m of the place
			lng := s.a.lng + (s.rng.Float64()-0.5)*0.0016
			if !event {
				return c.Location(s.a.openID, lat, lng, 16, s.a.org)
			}
			m := c.LocationEvent(s.a.openID, lat, lng, 20+40*s.rng.Float64())
			m.CreateTime = max(m.CreateTime, s.a.lastEvent+1)
			s.a.lastEvent = m.CreateTime
			return m
		})
		switch {
		case strings.HasPrefix(reply, replyCheckedIn), strings.HasPrefix(reply, replyOffsite):
			s.r.ack(s.a, effectCheckIn, checkInKey(msg))
			return
		case strings.Contains(reply, replyLocNoStep):
			continue // the 签到 step was gone (an earlier try went through, or it expired): again
		}
		return
	}
}

// checkInKey is the check-in's DedupKey: the channel and the delivery's DedupID (bot.Message.DedupID).
func checkInKey(m *wxclient.Message) string {
	if m.MsgID != 0 {
		return bot.ChannelOA + ":" + strconv.FormatInt(m.MsgID, 10)
	}
	return bot.ChannelOA + ":" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + m.Event + ":" + m.EventKey
}

// survey: 问卷 and its questions, answered in the chat, to the submission.
func (s *countySession) survey(ctx context.Context) {
	reply := s.say(ctx, "问卷")
	for step := 0; step < 20 && reply != ""; step++ {
		if m := countySubmitted.FindStringSubmatch(reply); m != nil {
			s.r.ack(s.a, effectSurvey, m[1])
			return
		}
		if strings.Contains(reply, replySurveyList) {
			pick := "1"
			for _, line := range strings.Split(reply, "\n") {
				if strings.Contains(line, "《"+countySurveyTitle+"》") {
					pick, _, _ = strings.Cut(line, ".")
				}
			}
			reply = s.say(ctx, pick)
			continue
		}
		q, ok := parseCountyPrompt(reply, true)
		if !ok {
			if strings.HasPrefix(reply, "请") || strings.Contains(reply, "请重新回复") {
				reply = s.say(ctx, "问卷") // a hint: see the question again
				continue
			}
			return // done before, none open, closed
		}
		if !s.think(ctx) {
			return
		}
		reply = s.say(ctx, s.surveyAnswer(q))
	}
}

// ---- counting ----

// countyStats counts deliveries by interval and in all.
type countyStats struct {
	mu       sync.Mutex
	start    time.Time
	cur, all countyCounts
	firstErr error
}

type countyCounts struct {
	sent, ok, empty, busy, errors, timeouts, acked int64
	lat                                            []time.Duration
}

func newCountyStats() *countyStats { return &countyStats{} }

func (st *countyStats) begin(t time.Time) {
	st.mu.Lock()
	st.start = t
	st.cur, st.all = countyCounts{}, countyCounts{}
	st.mu.Unlock()
}

func (st *countyStats) add(o countyOutcome, lat time.Duration, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range []*countyCounts{&st.cur, &st.all} {
		c.sent++
		switch o {
		case outOK:
			c.ok++
		case outEmpty:
			c.ok++
			c.empty++
		case outBusy:
			c.busy++
		case outError:
			c.errors++
		case outTimeout:
			c.timeouts++
		}
		if lat > 0 {
			c.lat = append(c.lat, lat)
		}
	}
	if err != nil && st.firstErr == nil {
		st.firstErr = err
	}
}

func (st *countyStats) fail(err error) {
	st.mu.Lock()
	if st.firstErr == nil {
		st.firstErr = err
	}
	st.mu.Unlock()
}

func (st *countyStats) acked() {
	st.mu.Lock()
	st.cur.acked++
	st.all.acked++
	st.mu.Unlock()
}

// run writes a CSV line of the interval's counts every `every` until ctx ends, and the last one.
func (st *countyStats) run(ctx context.Context, w io.Writer, every time.Duration) {
	if w == nil {
		<-ctx.Done()
		return
	}
	fmt.Fprintln(w, "t_seconds,sent,ok,busy,errors,timeouts,p50_ms,p99_ms,max_ms,acked_effects")
	tick := time.NewTicker(every)
	defer tick.Stop()
	line := func() {
		st.mu.Lock()
		c := st.cur
		st.cur = countyCounts{lat: c.lat[:0:0]}
		t := time.Since(st.start).Seconds()
		st.mu.Unlock()
		p := latencyPercentiles(c.lat, 50, 99, 100)
		fmt.Fprintf(w, "%.0f,%d,%d,%d,%d,%d,%.1f,%.1f,%.1f,%d\n", t, c.sent, c.ok, c.busy, c.errors, c.timeouts,
			ms(p[0]), ms(p[1]), ms(p[2]), c.acked)
		if f, ok := w.(*os.File); ok {
			f.Sync()
		}
	}
	for {
		select {
		case <-tick.C:
			line()
		case <-ctx.Done(): // the last, partial interval: the caller stops it once the last answer is in
			line()
			return
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// latencyPercentiles sorts lat and picks the percentiles (0 when empty).
func latencyPercentiles(lat []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(lat) == 0 {
		return out
	}
	slices.Sort(lat)
	for i, p := range ps {
		out[i] = lat[int(math.Round(float64(len(lat)-1)*p/100))]
	}
	return out
}

// countyResult is the drive's summary.
type countyResult struct {
	all      countyCounts
	elapsed  time.Duration
	firstErr error
	run      *countyRun
}

func (st *countyStats) result(elapsed time.Duration) *countyResult {
	st.mu.Lock()
	defer st.mu.Unlock()
	return &countyResult{all: st.all, elapsed: elapsed, firstErr: st.firstErr}
}

func (res *countyResult) print(w io.Writer, urls, conns int, mode wxclient.Mode) {
	a, r := &res.all, res.run
	secs := res.elapsed.Seconds()
	fmt.Fprintf(w, "rps %.1f\n", float64(a.ok)/secs)
	fmt.Fprintf(w, "requests %d ok %d busy %d errors %d timeouts %d empty %d duration %s sent/s %.1f conns %d urls %d mode %s\n",
		a.sent, a.ok, a.busy, a.errors, a.timeouts, a.empty, res.elapsed.Round(time.Millisecond), float64(a.sent)/secs, conns, urls, mode)
	p := latencyPercentiles(a.lat, 50, 90, 99, 99.9, 100)
	for i := range p {
		p[i] = p[i].Round(10 * time.Microsecond)
	}
	fmt.Fprintf(w, "latency p50 %s p90 %s p99 %s p99.9 %s max %s\n", p[0], p[1], p[2], p[3], p[4])
	fmt.Fprintf(w, "sessions %d finished %d comebacks %d\n", r.sessions.Load(), r.finished.Load(), r.comebacks.Load())
	fmt.Fprintf(w, "retries %d (same MsgId, twice) disagreements %d unanswered %d\n", r.retries.Load(), r.disagree.Load(), r.retryLost.Load())
	fmt.Fprintf(w, "acked effects %d (answer %d checkin %d survey %d)\n", a.acked, r.acked[0].Load(), r.acked[1].Load(), r.acked[2].Load())
}

// ---- verify ----

// countyVerify checks each acknowledged effect of the journal against the database: a study answer
// for that member, task and item; the check-in recorded for that delivery and member; the survey
// finished (and for a named survey, its response with answers). It prints "acked N found N lost 0"
// and returns an error when anything is lost. Duplicates: a task whose answered count differs from
// its answer rows, and a member with more than one counted check-in on a day.
func countyVerify(ctx context.Context, std stdio, db *gorm.DB, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	type key struct{ kind, phone, key string }
	seen := map[key]bool{}
	var lines []countyJournalLine
	bad, repeated := 0, 0
	for n, raw := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l countyJournalLine
		if err := json.Unmarshal(raw, &l); err != nil || l.Phone == "" || l.Key == "" || !slices.Contains(effectKinds, l.Kind) {
			bad++
			if bad <= 3 {
				fmt.Fprintf(std.err, "%s:%d: not a journal line: %.100s\n", path, n+1, raw)
			}
			continue
		}
		k := key{l.Kind, l.Phone, l.Key}
		if seen[k] {
			repeated++
			continue
		}
		seen[k] = true
		lines = append(lines, l)
	}
	db = db.WithContext(ctx)

	// The members.
	phones := map[string]bool{}
	for _, l := range lines {
		phones[l.Phone] = true
	}
	memberOf := map[string]uint{}
	if err := inChunks(keys(phones), func(chunk []string) error {
		var ms []models.Member
		if err := db.Select("id, phone").Where("phone IN ?", chunk).Find(&ms).Error; err != nil {
			return err
		}
		for _, m := range ms {
			memberOf[m.Phone] = m.ID
		}
		return nil
	}); err != nil {
		return err
	}

	found := map[string]int{}
	acked := map[string]int{}
	var lost []countyJournalLine
	for _, l := range lines {
		acked[l.Kind]++
	}

	// Answers: the tasks of the members and days named.
	type taskRow struct {
		ID       uint64
		MemberID uint
		Day      string
		Items    string
		Answered int
	}
	tasks := map[string]*taskRow{} // member|day
	var memberIDs []uint
	for _, id := range memberOf {
		memberIDs = append(memberIDs, id)
	}
	days := map[string]bool{}
	for _, l := range lines {
		if l.Kind == effectAnswer {
			if d, _, ok := strings.Cut(l.Key, "/"); ok {
				days[d] = true
				days[shiftDay(d, -1)], days[shiftDay(d, 1)] = true, true
			}
		}
	}
	if len(days) > 0 {
		if err := inChunks(memberIDs, func(chunk []uint) error {
			var ts []taskRow
			if err := db.Model(&models.StudyTask{}).Select("id, member_id, day, items, answered").
				Where("member_id IN ? AND day IN ?", chunk, keys(days)).Find(&ts).Error; err != nil {
				return err
			}
			for i := range ts {
				tasks[strconv.FormatUint(uint64(ts[i].MemberID), 10)+"|"+ts[i].Day] = &ts[i]
			}
			return nil
		}); err != nil {
			return err
		}
	}
	taskIDs := make([]uint64, 0, len(tasks))
	for _, t := range tasks {
		taskIDs = append(taskIDs, t.ID)
	}
	answerRows := map[string]int{} // task|question
	answersOfTask := map[uint64]int{}
	if err := inChunks(taskIDs, func(chunk []uint64) error {
		var rows []struct {
			TaskID     uint64
			QuestionID uint
			N          int
		}
		if err := db.Model(&models.StudyAnswer{}).Select("task_id, question_id, COUNT(*) AS n").Where("task_id IN ?", chunk).
			Group("task_id, question_id").Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			answerRows[strconv.FormatUint(r.TaskID, 10)+"|"+strconv.FormatUint(uint64(r.QuestionID), 10)] = r.N
			answersOfTask[r.TaskID] += r.N
		}
		return nil
	}); err != nil {
		return err
	}
	var itemsOf = map[uint64][]struct {
		Q uint `json:"q"`
	}{}
	answerFound := func(l countyJournalLine) bool {
		mid, ok := memberOf[l.Phone]
		d, idxText, ok2 := strings.Cut(l.Key, "/")
		idx, err := strconv.Atoi(idxText)
		if !ok || !ok2 || err != nil || idx < 1 {
			return false
		}
		for _, day := range []string{d, shiftDay(d, 1), shiftDay(d, -1)} { // a run across midnight
			t := tasks[strconv.FormatUint(uint64(mid), 10)+"|"+day]
			if t == nil {
				continue
			}
			items, ok := itemsOf[t.ID]
			if !ok {
				json.Unmarshal([]byte(t.Items), &items)
				itemsOf[t.ID] = items
			}
			if idx <= len(items) && answerRows[strconv.FormatUint(t.ID, 10)+"|"+strconv.FormatUint(uint64(items[idx-1].Q), 10)] > 0 {
				return true
			}
		}
		return false
	}

	// Check-ins: by the delivery's dedup key.
	var ckeys []string
	for _, l := range lines {
		if l.Kind == effectCheckIn {
			ckeys = append(ckeys, l.Key)
		}
	}
	checkIns := map[string]uint{} // dedup key → member
	if err := inChunks(ckeys, func(chunk []string) error {
		var rows []models.CheckIn
		if err := db.Select("dedup_key, member_id").Where("dedup_key IN ?", chunk).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			checkIns[r.DedupKey] = r.MemberID
		}
		return nil
	}); err != nil {
		return err
	}

	// Surveys: finished, with the response and its answers when the survey is named.
	titles := map[string]bool{}
	for _, l := range lines {
		if l.Kind == effectSurvey {
			titles[l.Key] = true
		}
	}
	type surveyRow struct {
		ID        uint
		Title     string
		Anonymous bool
	}
	var surveys []surveyRow
	if len(titles) > 0 {
		if err := db.Model(&models.Survey{}).Select("id, title, anonymous").Where("title IN ?", keys(titles)).Find(&surveys).Error; err != nil {
			return err
		}
	}
	finished := map[string]bool{} // title|member
	answered := map[string]bool{} // title|member: a done response with answers
	for _, sv := range surveys {
		if err := inChunks(memberIDs, func(chunk []uint) error {
			var fin []models.SurveyFinish
			if err := db.Where("survey_id = ? AND member_id IN ?", sv.ID, chunk).Find(&fin).Error; err != nil {
				return err
			}
			for _, f := range fin {
				finished[sv.Title+"|"+strconv.FormatUint(uint64(f.MemberID), 10)] = true
			}
			var resp []struct{ MemberID uint }
			if err := db.Table("survey_responses r").Select("r.member_id").
				Where("r.survey_id = ? AND r.done = ? AND r.member_id IN ?", sv.ID, true, chunk).
				Where("EXISTS (SELECT 1 FROM survey_answers a WHERE a.response_id = r.id)").Scan(&resp).Error; err != nil {
				return err
			}
			for _, r := range resp {
				answered[sv.Title+"|"+strconv.FormatUint(uint64(r.MemberID), 10)] = true
			}
			return nil
		}); err != nil {
			return err
		}
	}
	anonymous := map[string]bool{}
	for _, sv := range surveys {
		anonymous[sv.Title] = anonymous[sv.Title] || sv.Anonymous
	}

	for _, l := range lines {
		mid, known := memberOf[l.Phone]
		ok := false
		switch l.Kind {
		case effectAnswer:
			ok = known && answerFound(l)
		case effectCheckIn:
			m, rec := checkIns[l.Key]
			ok = known && rec && m == mid
		case effectSurvey:
			k := l.Key + "|" + strconv.FormatUint(uint64(mid), 10)
			ok = known && finished[k] && (anonymous[l.Key] || answered[k])
		}
		if ok {
			found[l.Kind]++
		} else {
			lost = append(lost, l)
		}
	}

	// Duplicates: an answer counted twice (the task's count against its rows), more than one counted
	// check-in of a member on a day.
	dupAnswers := 0
	for _, t := range tasks {
		if n := answersOfTask[t.ID]; n != t.Answered {
			dupAnswers++
			if dupAnswers <= 3 {
				fmt.Fprintf(std.err, "verify: task %d (member %d, %s) counts %d answers, has %d\n", t.ID, t.MemberID, t.Day, t.Answered, n)
			}
		}
	}
	var ckMembers []uint
	seenM := map[uint]bool{}
	for _, l := range lines {
		if l.Kind == effectCheckIn && !seenM[memberOf[l.Phone]] {
			seenM[memberOf[l.Phone]] = true
			ckMembers = append(ckMembers, memberOf[l.Phone])
		}
	}
	dupCheckIns := 0
	if err := inChunks(ckMembers, func(chunk []uint) error {
		var rows []struct {
			MemberID uint
			Day      string
			N        int
		}
		if err := db.Model(&models.CheckIn{}).Select("member_id, day, COUNT(*) AS n").
			Where("member_id IN ? AND kind = ? AND status = ?", chunk, models.CheckKindIn, models.CheckOK).
			Group("member_id, day").Having("COUNT(*) > 1").Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			dupCheckIns += r.N - 1
			if dupCheckIns <= 3 {
				fmt.Fprintf(std.err, "verify: member %d has %d check-ins on %s\n", r.MemberID, r.N, r.Day)
			}
		}
		return nil
	}); err != nil {
		return err
	}

	total := 0
	for _, n := range found {
		total += n
	}
	fmt.Fprintf(std.out, "acked %d found %d lost %d\n", len(lines), total, len(lost))
	for _, k := range effectKinds {
		fmt.Fprintf(std.out, "  %s: acked %d found %d lost %d\n", k, acked[k], found[k], acked[k]-found[k])
	}
	fmt.Fprintf(std.out, "duplicates %d (tasks whose answer count is off %d, extra check-ins %d); journal: %d repeated lines, %d bad lines\n",
		dupAnswers+dupCheckIns, dupAnswers, dupCheckIns, repeated, bad)
	for i, l := range lost {
		if i == 10 {
			fmt.Fprintf(std.out, "  … and %d more\n", len(lost)-10)
			break
		}
		fmt.Fprintf(std.out, "  lost: %s %s (%s) %s at %s\n", l.Kind, l.Key, l.Phone, l.OpenID, l.At)
	}
	if len(lost) > 0 {
		return fmt.Errorf("bench county: %d acknowledged effects lost", len(lost))
	}
	return nil
}

// inChunks calls fn on xs 500 at a time (bound parameters stay well under every database's limit).
func inChunks[T any](xs []T, fn func([]T) error) error {
	for lo := 0; lo < len(xs); lo += 500 {
		if err := fn(xs[lo:min(lo+500, len(xs))]); err != nil {
			return err
		}
	}
	return nil
}

func keys[K comparable](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// shiftDay moves a "2006-01-02" day by n days ("" when it is no day).
func shiftDay(day string, n int) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, n).Format("2006-01-02")
}
