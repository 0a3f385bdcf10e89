package main

import (
	"bytes"
	"context"
	"net"
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

var statusLine = regexp.MustCompile(`^queued=(\d+) sent=(\d+) failed=(\d+) skipped=(\d+)( [a-z_]+=\S+)*$`)

// TestBroadcastCommands: `broadcast notice` records a notice with no server running and prints
// "broadcast ID"; a server started afterwards (embedded Redis) sends it, and one to a running server
// goes out within seconds; `broadcast status ID` prints the counts the contract names. Mistakes get a
// usage error or a clear Chinese message and record nothing.
func TestBroadcastCommands(t *testing.T) {
	dbURL := testenv.DatabaseURL(t)
	t.Setenv("YANZHEN_DATABASE_URL", dbURL)
	file := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(file, []byte("姓名,手机号,角色,组织\n"+
		"王小明,13800001111,党员,洪雅县/花溪镇/郭沟村\n"+
		"李大山,13800002222,书记,洪雅县/花溪镇/郭沟村\n"+
		"赵春花,13800003333,党员,洪雅县/花溪镇/三宝村\n"+
		"陈建国,13800004444,党员,洪雅县/止戈镇/五龙村\n"), 0o600)
	cli := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, nil, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	if _, errOut, err := cli("import", "roster", file); err != nil {
		t.Fatalf("import: %v %s", err, errOut)
	}
	db, err := models.Open(dbURL, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	for phone, openID := range map[string]string{"13800001111": "o_wang", "13800003333": "o_zhao", "13800004444": "o_chen"} {
		db.Model(&models.Member{}).Where("phone = ?", phone).Update("oa_open_id", openID)
	}

	// Mistakes: nothing is recorded.
	for _, args := range [][]string{{"broadcast"}, {"broadcast", "shout"}, {"broadcast", "notice", "--text", "x"},
		{"broadcast", "notice", "--org", "洪雅县"}, {"broadcast", "status"}, {"broadcast", "status", "abc"}} {
		if _, _, err := cli(args...); err == nil {
			t.Errorf("%v: no error", args)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	for args, want := range map[*[]string]string{
		{"broadcast", "notice", "--org", "洪雅县/没有镇", "--text", "x"}:                  "没有找到组织「洪雅县/没有镇」",
		{"broadcast", "notice", "--org", "洪雅县", "--role", "村长", "--text", "x"}:      "没有「村长」这个角色",
		{"broadcast", "notice", "--org", "洪雅县", "--text", "x", "--link", "ftp://x"}: "链接应以 https://",
		{"broadcast", "notice", "--org", "洪雅县", "--text", strings.Repeat("长", 601)}: "最多 600 个字",
		{"broadcast", "status", "999"}: "没有编号为 999 的群发",
	} {
		_, _, err := cli(*args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", *args, err, want)
		}
	}
	var n int64
	db.Model(&models.Broadcast{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d broadcasts recorded by mistakes", n)
	}

	// No server running: recorded, waiting.
	out, _, err := cli("broadcast", "notice", "--org", "洪雅县/花溪镇", "--role", "党员", "--text", "今晚八点党员大会。")
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	id, ok := strings.CutPrefix(first, "broadcast ")
	if !ok || strings.ContainsAny(id, " \t") || id == "" {
		t.Fatalf("first line %q, want \"broadcast ID\"", first)
	}
	out, _, err = cli("broadcast", "status", id)
	if err != nil || !statusLine.MatchString(strings.SplitN(out, "\n", 2)[0]) || !strings.Contains(out, "status=scheduled") {
		t.Fatalf("status before any server: %v\n%s", err, out)
	}

	// A server starts (embedded Redis) and sends it.
	fake := wxfake.New()
	fakeSrv := httptest.NewServer(fake)
	defer fakeSrv.Close()
	vars := map[string]string{"YANZHEN_DATABASE_URL": dbURL, "YANZHEN_INDEX_DIR": t.TempDir(), "YANZHEN_OA_APPID": "wxclitest0000001", "YANZHEN_OA_SECRET": "s",
		"YANZHEN_WECHAT_API_BASE": fakeSrv.URL, "YANZHEN_OA_REMIND_TEMPLATE": "tpl"}
	cfg, err := config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.New(context.Background(), cfg, testenv.Logger(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()
	defer func() { stop(); <-served }()

	// waitStatus waits until broadcast id is done with the counts want (the first line's start).
	waitStatus := func(id, want string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			out, _, err := cli("broadcast", "status", id)
			if first := strings.SplitN(out, "\n", 2)[0]; err == nil && strings.HasPrefix(first, want) && strings.HasSuffix(first, "status=done") {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("broadcast %s: %v\n%s\nwant %s", id, err, out, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// 花溪镇's 党员: 王小明 and 赵春花 (李大山 is a 书记).
	out = waitStatus(id, "queued=0 sent=2 failed=0 skipped=0")
	if !strings.Contains(out, "status=done") || !strings.Contains(out, "群发 #"+id) {
		t.Fatalf("status:\n%s", out)
	}
	if len(fake.CallsTo(wxfake.APITemplateSend)) != 2 {
		t.Fatalf("template messages: %+v", fake.CallsTo(wxfake.APITemplateSend))
	}

	// To a running server: the whole county, every role; 李大山 has no WeChat bound.
	start := time.Now()
	out, _, err = cli("broadcast", "notice", "--org", "洪雅县", "--text", "明天停电，签到暂停一天。")
	if err != nil {
		t.Fatal(err)
	}
	id2 := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "broadcast ")
	out = waitStatus(id2, "queued=0 sent=3 failed=0 skipped=1")
	t.Logf("sent within %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "skipped: 1 未绑定微信") {
		t.Fatalf("status:\n%s", out)
	}
	// A refusal is reported with its reason.
	fake.SetUserError("o_chen", 43004)
	out, _, _ = cli("broadcast", "notice", "--org", "洪雅县/止戈镇", "--text", "请回复确认。")
	id3 := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "broadcast ")
	out = waitStatus(id3, "queued=0 sent=0 failed=1 skipped=0")
	if !strings.Contains(out, "1 已取消关注公众号（43004）") {
		t.Fatalf("status:\n%s", out)
	}
	// --mass: by mass send to a tag, one sendall for the three with WeChat.
	out, errOut, err := cli("broadcast", "notice", "--org", "洪雅县", "--text", "全县党员大会改期。", "--mass")
	if err != nil || !strings.Contains(errOut, "按标签群发") {
		t.Fatalf("--mass: %v %s", err, errOut)
	}
	id4 := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "broadcast ")
	out = waitStatus(id4, "queued=0 sent=3 failed=0 skipped=1")
	if !strings.Contains(out, "channel=mass") || !strings.Contains(out, "mass: 已打标签 3 人 · 已提交微信") || len(fake.CallsTo(wxfake.APIMassSendAll)) != 1 {
		t.Fatalf("status of a mass notice:\n%s", out)
	}
}
