package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
)

// freeAddr is a loopback address nothing listens on (a moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startFake runs `yanzhen fakewechat ARGS --addr ADDR` until the test ends, and waits until it answers.
func startFake(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"fakewechat", "--addr", addr, "--log-level", "warn"}, args...), nil, &out, &errOut)
	}()
	base = "http://" + addr
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				t.Error("fakewechat did not stop when its context ended")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/_fake/stats")
		if err == nil {
			resp.Body.Close()
			return base, stop
		}
		select {
		case err := <-done:
			t.Fatalf("fakewechat ended: %v\n%s", err, errOut.String())
		default:
		}
		if i > 200 {
			t.Fatalf("fakewechat does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fakeStats(t *testing.T, base string) wxfake.Stats {
	t.Helper()
	resp, err := http.Get(base + "/_fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st wxfake.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// stableToken asks the fake for appid's token and returns the errcode.
func stableToken(t *testing.T, base, appID, secret string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})
	resp, err := http.Post(base+wxfake.APIStableToken, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		ErrCode int    `json:"errcode"`
		Token   string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&m)
	if m.ErrCode == 0 && m.Token == "" {
		t.Fatalf("no token and no errcode for %s", appID)
	}
	return m.ErrCode
}

func TestFakeWeChatCommandServesAndStops(t *testing.T) {
	base, stop := startFake(t, "--app", "wxscale0000000001:s3cret", "--template", "TPL1")
	if code := stableToken(t, base, "wxother", "s3cret"); code != 40013 {
		t.Fatalf("an app not given with --app: errcode %d, want 40013", code)
	}
	if code := stableToken(t, base, "wxscale0000000001", "s3cret"); code != 0 {
		t.Fatalf("the --app app: errcode %d", code)
	}
	resp, err := http.Post(base+"/_fake/fault?api="+wxfake.APIStableToken+"&errcode=-1&times=1", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fault: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := stableToken(t, base, "wxscale0000000001", "s3cret"); code != -1 {
		t.Fatalf("after a fault: errcode %d, want -1", code)
	}
	st := fakeStats(t, base)
	if st.TokenFetches["wxscale0000000001"] != 1 || st.Calls[wxfake.APIStableToken] != 3 || st.Failed[wxfake.APIStableToken] != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := stop(); err != nil {
		t.Fatalf("fakewechat returned %v when its context ended", err)
	}
	if _, err := http.Get(base + "/_fake/stats"); err == nil {
		t.Fatal("still answering after it stopped")
	}
}

func TestFakeWeChatCommandDefaultsToTheConfiguredApps(t *testing.T) {
	t.Setenv("YANZHEN_OA_APPID", "wxconfigured00001")
	t.Setenv("YANZHEN_OA_SECRET", "oa-secret")
	t.Setenv("YANZHEN_MP_APPID", "")
	t.Setenv("YANZHEN_MP_SECRET", "")
	base, _ := startFake(t)
	if code := stableToken(t, base, "wxconfigured00001", "oa-secret"); code != 0 {
		t.Fatalf("the configured official account: errcode %d", code)
	}
	if code := stableToken(t, base, "wxconfigured00001", "wrong"); code != 40125 {
		t.Fatalf("a wrong secret: errcode %d, want 40125", code)
	}
	// The mini program's defaults are the demo's.
	if code := stableToken(t, base, "wxdemo0b0000000002", "demo-mp-secret"); code != 0 {
		t.Fatalf("the demo mini program: errcode %d", code)
	}
}

func TestFakeWeChatCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"fakewechat", "--app", "nosecret"},
		{"fakewechat", "--app", ":s"},
		{"fakewechat", "extra"},
		{"fakewechat", "--nope"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, nil, &out, &errOut)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"fakewechat", "--addr", "256.0.0.1:1"}, nil, &out, &errOut); err == nil {
		t.Error("a bad address did not fail")
	}
	run(context.Background(), []string{"fakewechat", "-h"}, nil, &out, &errOut)
	if !strings.Contains(errOut.String(), wxfake.APICustomSend) || !strings.Contains(errOut.String(), "/_fake/fault") {
		t.Errorf("help lacks the API names or the control endpoints:\n%s", errOut.String())
	}
}

// TestDemoServerKeepsFakeControlsOff: a demo server serves GET /_fake/calls of its embedded fake (for
// `yanzhen sim`), but none of the fake's control endpoints; and its embedded fake accepts only the
// configured apps.
func TestDemoServerKeepsFakeControlsOff(t *testing.T) {
	h := newSimServer(t)
	base := strings.TrimSuffix(h.url, "/wechat/oa")
	resp, err := http.Get(base + "/_fake/calls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_fake/calls on the demo server: %d", resp.StatusCode)
	}
	for _, path := range []string{"/_fake/fault?api=*&errcode=-1&times=-1", "/_fake/down?on=1", "/_fake/reset-faults", "/_fake/calls"} {
		resp, err := http.Post(base+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("POST %s on the demo server answered 200", path)
		}
	}
	resp, err = http.Get(base + "/_fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("GET /_fake/stats on the demo server answered 200")
	}
	if st := fakeStats(t, h.fake); st.Calls[wxfake.APICustomSend] != 0 {
		t.Fatalf("embedded fake: %+v", st)
	}
	if code := stableToken(t, h.fake, "wxother", "x"); code != 40013 {
		t.Fatalf("the embedded fake took an unknown app: errcode %d", code)
	}
	if code := stableToken(t, h.fake, "wxdemo0a0000000001", "demo-oa-secret"); code != 0 {
		t.Fatalf("the embedded fake refused the demo app: errcode %d", code)
	}
}
