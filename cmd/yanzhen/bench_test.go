package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/server"
)

var benchTestOA = config.WeChatApp{AppID: "wxbenchtest000001", Secret: "s", Token: "benchtoken", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}

// twoServers are two servers on one database and one Redis, as two `yanzhen serve` processes would be,
// with the demo roster's bind codes in a CSV as `yanzhen import roster` prints them.
func twoServers(t *testing.T) (urls [2]string, codes string, app *server.App) {
	t.Helper()
	fake := httptest.NewServer(wxfake.New())
	t.Cleanup(fake.Close)
	vars := map[string]string{
		"YANZHEN_DATABASE_URL": testenv.DatabaseURL(t), "YANZHEN_REDIS_URL": testenv.RedisURL(t), "YANZHEN_WECHAT_API_BASE": fake.URL,
		"YANZHEN_OA_APPID": benchTestOA.AppID, "YANZHEN_OA_SECRET": benchTestOA.Secret, "YANZHEN_OA_TOKEN": benchTestOA.Token,
		"YANZHEN_OA_AES_KEY": benchTestOA.AESKey,
	}
	var apps [2]*server.App
	for i := range apps {
		vars["YANZHEN_INDEX_DIR"] = t.TempDir()
		cfg, err := config.Load("", func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := server.New(context.Background(), cfg, testenv.Logger(), server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		apps[i], urls[i] = a, srv.URL+"/wechat/oa"
	}
	demo, err := apps[0].Roster().LoadDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("姓名,手机号,绑定码\n")
	for _, m := range demo.Members[:4] {
		fmt.Fprintf(&csv, "%s,%s,%s\n", m.Name, m.Phone, m.BindCode)
	}
	codes = filepath.Join(t.TempDir(), "codes.csv")
	if err := os.WriteFile(codes, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return urls, codes, apps[0]
}

func runBench(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	base := []string{"bench", "webhook", "--appid", benchTestOA.AppID, "--token", benchTestOA.Token, "--aeskey", benchTestOA.AESKey,
		"--duration", "30s", "--conns", "4"}
	if err := run(ctx, append(base, args...), nil, &out, &errOut); err != nil {
		t.Fatalf("bench %v: %v\n%s", args, err, errOut.String())
	}
	if strings.Contains(errOut.String(), "first error") {
		t.Fatalf("bench %v:\n%s%s", args, out.String(), errOut.String())
	}
	return out.String()
}

// TestBenchRetriesOnAnotherServer: every LOCATION event sent to one server and, at the same time, to
// another (a WeChat retry landing elsewhere) gets the same answer from both and is written once.
func TestBenchRetriesOnAnotherServer(t *testing.T) {
	urls, codes, app := twoServers(t)
	runBench(t, "--url", urls[0], "--bind", codes, "--count", "1", "--users", "4")
	out := runBench(t, "--url", urls[0], "--dup-to", urls[1], "--kind", "location", "--users", "4", "--count", "20")
	if !strings.Contains(out, "requests 20 ok 20 ") || !strings.Contains(out, "dups 20 same 20 differ 0") {
		t.Fatalf("bench output:\n%s", out)
	}
	var rows int64 // written before the webhook answered
	app.DB().Model(&models.LocationReport{}).Count(&rows)
	if rows != 20 {
		t.Fatalf("%d location reports for 20 events sent twice each", rows)
	}
}

// TestBenchSpreadsAndShows: --url twice sends round robin; --show prints each reply; --count stops.
func TestBenchSpreadsAndShows(t *testing.T) {
	urls, codes, _ := twoServers(t)
	runBench(t, "--url", urls[0], "--bind", codes, "--count", "1", "--users", "4")
	out := runBench(t, "--url", urls[0], "--url", urls[1], "--users", "4", "--count", "10", "--show", "--text", "帮助")
	if n := len(regexp.MustCompile(`(?m)^reply "`).FindAllString(out, -1)); n != 10 {
		t.Fatalf("want 10 replies shown:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^reply ".*你好`).MatchString(out) {
		t.Fatalf("a bound member's help reply is not shown:\n%s", out)
	}
	for _, u := range urls {
		if !strings.Contains(out, "url "+u+" ok 5\n") {
			t.Fatalf("want 5 messages answered by %s:\n%s", u, out)
		}
	}
	// Bad flags.
	for _, args := range [][]string{{"bench", "webhook", "--count", "-1"}, {"bench", "webhook", "--conns", "0"}} {
		var o, e bytes.Buffer
		if err := run(context.Background(), args, nil, &o, &e); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
