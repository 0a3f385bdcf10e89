package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/server"
)

// countyOA are the test's official-account credentials (not the demo ones: the servers talk to this
// test's fake WeChat API).
var countyOA = config.WeChatApp{AppID: "wxcountybench0001", Secret: "s", Token: "countytoken", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}

func countyCLI(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

// startCountyServers starts n servers on one database and one Redis, each on a real listener, and
// returns their webhook URLs.
func startCountyServers(t *testing.T, n int, dbURL, redisURL, fakeURL string) []string {
	t.Helper()
	var urls []string
	for i := 0; i < n; i++ {
		vars := map[string]string{"YANZHEN_DATABASE_URL": dbURL, "YANZHEN_REDIS_URL": redisURL, "YANZHEN_INDEX_DIR": t.TempDir(),
			"YANZHEN_OA_APPID": countyOA.AppID, "YANZHEN_OA_SECRET": countyOA.Secret, "YANZHEN_OA_TOKEN": countyOA.Token,
			"YANZHEN_OA_AES_KEY": countyOA.AESKey, "YANZHEN_WECHAT_API_BASE": fakeURL, "YANZHEN_OA_REMIND_TEMPLATE": "tpl"}
		cfg, err := config.Load("", func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		app, err := server.New(context.Background(), cfg, testenv.Logger(), server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- app.Serve(ctx, ln) }()
		t.Cleanup(func() { stop(); <-served; app.Close() })
		urls = append(urls, "http://"+ln.Addr().String()+"/wechat/oa")
	}
	return urls
}

var countyAckedLine = regexp.MustCompile(`acked effects (\d+) \(answer (\d+) checkin (\d+) survey (\d+)\)`)

// TestBenchCounty: --setup makes the load county (and changes nothing the second time), the driver
// plays a compressed morning against two real servers sharing the database and Redis, and --verify
// finds every acknowledged effect; once one acknowledged check-in is deleted, --verify reports it
// lost and fails.
func TestBenchCounty(t *testing.T) {
	dbURL := testenv.DatabaseURL(t)
	redisURL := testenv.RedisURL(t)
	if redisURL == "" { // one embedded Redis for both servers, as one real Redis would be
		r, err := kv.Open(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() }) // after the servers' cleanups (last in, first out)
		redisURL = "redis://" + r.Options().Addr + "/0"
	}
	t.Setenv("YANZHEN_DATABASE_URL", dbURL)
	dir := t.TempDir()
	codes := filepath.Join(dir, "codes.csv")

	_, errOut, err := countyCLI("bench", "county", "--setup", "--members", "30", "--villages", "3", "--codes", codes)
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, errOut)
	}
	for _, want := range []string{"roster: 30 created", "questions: 300 created", "places: 3 created", "created and sent",
		"30 of the 30 load members have theirs", "30 with a bind code"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("setup said no %q:\n%s", want, errOut)
		}
	}
	_, errOut, err = countyCLI("bench", "county", "--setup", "--members", "30", "--villages", "3", "--codes", codes)
	if err != nil {
		t.Fatalf("setup again: %v\n%s", err, errOut)
	}
	for _, want := range []string{"roster: 0 created, 0 updated, 30 unchanged", "questions: 0 created, 0 updated, 300 unchanged",
		"places: 0 created, 0 updated, 3 unchanged", "is open already", "0 published now, 30 of the 30"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("second setup said no %q:\n%s", want, errOut)
		}
	}
	f, _ := os.Open(codes)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 31 || strings.Join(rows[0], ",") != "姓名,手机号,绑定码,组织,纬度,经度" || rows[1][2] == "" ||
		!strings.HasPrefix(rows[1][3], "压测县/") {
		t.Fatalf("codes file: %v %q", err, rows)
	}

	fake := wxfake.New()
	fakeSrv := httptest.NewServer(fake)
	defer fakeSrv.Close()
	urls := startCountyServers(t, 2, dbURL, redisURL, fakeSrv.URL)

	journal := filepath.Join(dir, "journal.jsonl")
	stats := filepath.Join(dir, "stats.csv")
	out, errOut, err := countyCLI("bench", "county", "--url", urls[0], "--url", urls[1], "--codes", codes, "--duration", "4s",
		"--peak", "2h", "--aides", "30", "--conns", "8", "--journal", journal, "--stats", stats, "--stats-every", "1s", "--bind",
		"--seed", "7", "--appid", countyOA.AppID, "--token", countyOA.Token, "--aeskey", countyOA.AESKey)
	if err != nil {
		t.Fatalf("drive: %v\n%s", err, errOut)
	}
	t.Logf("drive:\n%s%s", out, errOut)
	if !strings.Contains(errOut, "bound 30 aides") {
		t.Fatalf("binding:\n%s", errOut)
	}
	m := countyAckedLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no acked effects line:\n%s", out)
	}
	answers, _ := strconv.Atoi(m[2])
	checkIns, _ := strconv.Atoi(m[3])
	if answers == 0 || checkIns == 0 {
		t.Fatalf("acked answers %d, check-ins %d:\n%s", answers, checkIns, out)
	}
	if !strings.Contains(out, "disagreements 0") {
		t.Fatalf("the two deliveries of a message got different replies:\n%s\n%s", out, errOut)
	}
	sf, _ := os.ReadFile(stats)
	lines := strings.Split(strings.TrimSpace(string(sf)), "\n")
	if len(lines) < 3 || lines[0] != "t_seconds,sent,ok,busy,errors,timeouts,p50_ms,p99_ms,max_ms,acked_effects" {
		t.Fatalf("stats:\n%s", sf)
	}
	for _, l := range lines[1:] {
		if n := len(strings.Split(l, ",")); n != 10 {
			t.Fatalf("stats line %q has %d fields", l, n)
		}
	}

	// Every acknowledged effect is there.
	out, errOut, err = countyCLI("bench", "county", "--verify", "--journal", journal)
	if err != nil {
		t.Fatalf("verify: %v\n%s%s", err, out, errOut)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	fm := regexp.MustCompile(`^acked (\d+) found (\d+) lost 0$`).FindStringSubmatch(first)
	if fm == nil || fm[1] != fm[2] || fm[1] == "0" || !strings.Contains(out, "duplicates 0 ") {
		t.Fatalf("verify:\n%s%s", out, errOut)
	}

	// One acknowledged check-in goes missing: verify says so and fails.
	var lost countyJournalLine
	jf, _ := os.Open(journal)
	sc := bufio.NewScanner(jf)
	for sc.Scan() {
		var l countyJournalLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Kind == effectCheckIn {
			lost = l
			break
		}
	}
	jf.Close()
	db, err := models.Open(dbURL, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	if res := db.Where("dedup_key = ?", lost.Key).Delete(&models.CheckIn{}); res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("delete check-in %q: %v, %d rows", lost.Key, res.Error, res.RowsAffected)
	}
	out, errOut, err = countyCLI("bench", "county", "--verify", "--journal", journal)
	if err == nil || !strings.Contains(out, " lost 1\n") || !strings.Contains(out, "lost: checkin "+lost.Key) {
		t.Fatalf("verify after a loss: %v\n%s%s", err, out, errOut)
	}
	if _, usage := err.(usageError); usage {
		t.Fatalf("a loss is a usage error: %v", err)
	}

	// A journal with a line that is not one: counted, the rest still checked.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{not json\n"+`{"kind":"answer","openid":"o_county_0","member_phone":"19900000000","key":"2000-01-01/1","at":""}`+"\n"), 0o600)
	out, _, err = countyCLI("bench", "county", "--verify", "--journal", bad)
	if err == nil || !strings.HasPrefix(out, "acked 1 found 0 lost 1") || !strings.Contains(out, "1 bad lines") {
		t.Fatalf("verify of a bad journal: %v\n%s", err, out)
	}
}

// TestBenchCountyMistakes: wrong command lines are usage errors; missing files are plain errors.
func TestBenchCountyMistakes(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	dir := t.TempDir()
	for _, args := range [][]string{
		{"bench", "county"},
		{"bench", "county", "--url", "http://127.0.0.1:1/wechat/oa"},
		{"bench", "county", "--setup", "--verify"},
		{"bench", "county", "--setup", "--members", "0"},
		{"bench", "county", "--setup", "--villages", "0"},
		{"bench", "county", "--verify"},
		{"bench", "county", "--codes", "x.csv", "--url", "u", "--duration", "0s"},
		{"bench", "county", "--codes", "x.csv", "--url", "u", "--mode", "secret"},
		{"bench", "county", "--nonsense"},
		{"bench", "county", "extra"},
	} {
		_, _, err := countyCLI(args...)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, []byte("姓名,手机号,绑定码\n"), 0o600)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("姓名,手机号,绑定码\n王,13800001111\n"), 0o600)
	for args, want := range map[*[]string]string{
		{"bench", "county", "--verify", "--journal", filepath.Join(dir, "none.jsonl")}:                  "no such file",
		{"bench", "county", "--codes", filepath.Join(dir, "none.csv"), "--url", "http://127.0.0.1:1/x"}: "no such file",
		{"bench", "county", "--codes", empty, "--url", "http://127.0.0.1:1/x"}:                          "has no aides",
		{"bench", "county", "--codes", short, "--url", "http://127.0.0.1:1/x"}:                          "want 姓名,手机号,绑定码",
	} {
		_, _, err := countyCLI(*args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", *args, err, want)
		}
	}
}

// TestCountyReplies: the driver reads the study and survey prompts and attributes an acknowledged
// answer to the question it was for, from the reply itself.
func TestCountyReplies(t *testing.T) {
	prompt := "📚 今日学习开始，共5题，答完有积分。\n\n第1题/共5题 · 单选\n（压测001）题干？\nA. 4次\nB. 8次\nC. 12次\nD. 24次\n👉 回复选项字母，如：A"
	q, ok := parseCountyPrompt(prompt, false)
	if !ok || q.index != 1 || q.total != 5 || q.kind != "单选" || q.options != 4 {
		t.Fatalf("study prompt: %+v %v", q, ok)
	}
	review, ok := parseCountyPrompt("【回炉补课】第3题/共6题 · 判断（错题回顾）\n党员应当按月交纳党费。\n👉 回复「对」或「错」", false)
	if !ok || review.index != 3 || review.kind != "判断" || review.options != 0 {
		t.Fatalf("review prompt: %+v %v", review, ok)
	}
	for _, c := range []struct {
		reply string
		idx   int
		ok    bool
	}{
		{"✅ 回答正确！\n\n第2题/共5题 · 多选\n题干\nA. a\nB. b\n👉 多选题", 1, true},
		{"（这题已经答过了）❌ 答错了，正确答案：B\n\n第4题/共5题 · 判断\n题干", 3, true}, // a resent answer went to a later question
		{"❌ 答错了，正确答案：C（已记入错题本，过几天再练）\n\n🎉 今天的学习完成了！\n答对 3/5 题", 5, true},
		{"请回复选项前的字母，如：A", 0, false},
		{"系统有点忙，请稍等片刻再发一次。", 0, false},
	} {
		idx, ok := studyAcked(c.reply, q)
		if idx != c.idx || ok != c.ok {
			t.Errorf("%.30q: %d %v, want %d %v", c.reply, idx, ok, c.idx, c.ok)
		}
	}
	sv, ok := parseCountyPrompt("📋 《问卷》共3题\n\n第2题/共3题 · 多选\n你最希望？\n1. a\n2. b\n3. c\n4. d\n👉 回复选中的序号，如：1 3（选1-2项）", true)
	if !ok || sv.kind != "多选" || sv.options != 4 {
		t.Fatalf("survey prompt: %+v", sv)
	}
	s := &countySession{rng: rand.New(rand.NewPCG(1, 2))}
	for i := 0; i < 50; i++ {
		if n := len(strings.Fields(s.surveyAnswer(sv))); n < 1 || n > 2 {
			t.Fatalf("multiple choice of 1-2 answered with %d", n)
		}
	}
	if k := checkInKey(&wxclient.Message{FromUserName: "o_county_1", CreateTime: 1700000000, Event: "LOCATION"}); k != "oa:o_county_1:1700000000:LOCATION:" {
		t.Fatalf("event key %q", k)
	}
}
