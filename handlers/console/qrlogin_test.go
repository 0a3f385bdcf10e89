package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

var pollRe = regexp.MustCompile(`data-qr-poll="/api/v1/login/qr/([A-Za-z0-9_-]+)"`)

func qrStatus(t *testing.T, e *consoletest.Env, token string) string {
	t.Helper()
	var s struct{ Status string }
	if st, body := e.API("", "GET", "/api/v1/login/qr/"+token, nil, &s); st != http.StatusOK {
		t.Fatalf("poll: %d %s", st, body)
	}
	return s.Status
}

func TestQRLoginConfirmedInTheChatLogsThatBrowserIn(t *testing.T) {
	e := consoletest.New(t)
	browser := e.NewClient()
	res, body := browser.Get("/console/login/qr?next=%2Fconsole%2F%3Fsort%3Dname")
	m := pollRe.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "<svg") {
		t.Fatalf("QR page: %d\n%s", res.StatusCode, body)
	}
	token := m[1]
	if got := qrStatus(t, e, token); got != "pending" {
		t.Fatalf("status before the scan: %s", got)
	}

	wx := e.OA()
	e.BindAs("o-zhang", "张国华") // 郭沟村's secretary, linked to the console account guogou
	if got := e.Send(wx.Scan("o-zhang", "login:"+token, "ticket")); !strings.Contains(got, "guogou") || !strings.Contains(got, "确认") {
		t.Fatalf("scan: %q", got)
	}
	if got := qrStatus(t, e, token); got != "scanned" {
		t.Fatalf("status after the scan: %s", got)
	}
	// Not confirmed yet: the browser cannot finish.
	res, body = browser.PostForm("/console/login/qr", url.Values{"token": {token}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "还没有在微信里确认") || !strings.Contains(body, "<svg") {
		t.Fatalf("finish before confirming: %d", res.StatusCode)
	}
	if got := e.Send(wx.Text("o-zhang", "确认")); !strings.Contains(got, "已确认") {
		t.Fatalf("confirm: %q", got)
	}
	if got := qrStatus(t, e, token); got != "confirmed" {
		t.Fatalf("status after confirming: %s", got)
	}

	// Another browser that knows the token (a photo of the page) gets nothing.
	thief := e.NewClient()
	thief.Get("/console/login")
	if res, _ := thief.PostForm("/console/login/qr", url.Values{"token": {token}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("finish from another browser: %d", res.StatusCode)
	}

	res, _ = browser.PostForm("/console/login/qr", url.Values{"token": {token}, "next": {"/console/?sort=name"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/?sort=name" {
		t.Fatalf("finish: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := browser.Get("/console/"); res.StatusCode != http.StatusOK || !strings.Contains(body, "张国华") {
		t.Fatalf("dashboard after QR login: %d", res.StatusCode)
	}
	// One use only.
	if got := qrStatus(t, e, token); got != "expired" {
		t.Fatalf("status after use: %s", got)
	}
	var n int64
	e.App.DB().Table("audit_entries").Where("action = 'login' AND summary LIKE ?", "%扫码%").Count(&n)
	if n != 1 {
		t.Fatalf("audit entries of the QR login: %d", n)
	}
}

func TestQRLoginRefusesWhoCannotLogIn(t *testing.T) {
	e := consoletest.New(t)
	_, body := e.NewClient().Get("/console/login/qr")
	token := pollRe.FindStringSubmatch(body)[1]
	wx := e.OA()

	if got := e.Send(wx.Scan("o-stranger", "login:"+token, "t")); !strings.Contains(got, "先绑定") {
		t.Fatalf("unbound user: %q", got)
	}
	e.BindAs("o-li", "李秀英") // a 党建专干 with no console account
	if got := e.Send(wx.Scan("o-li", "login:"+token, "t")); !strings.Contains(got, "还没有管理后台账号") {
		t.Fatalf("member without an account: %q", got)
	}
	e.BindAs("o-zhang", "张国华")
	if got := e.Send(wx.Scan("o-zhang", "login:NoSuchToken123", "t")); !strings.Contains(got, "过期") {
		t.Fatalf("unknown token: %q", got)
	}
	// 取消 in the chat cancels the login for good.
	e.Send(wx.Scan("o-zhang", "login:"+token, "t"))
	if got := e.Send(wx.Text("o-zhang", "取消")); !strings.Contains(got, "已取消") {
		t.Fatalf("cancel: %q", got)
	}
	if got := qrStatus(t, e, token); got != "cancelled" {
		t.Fatalf("status: %s", got)
	}
}

func TestQRLoginPageSaysSoWhenWeChatFails(t *testing.T) {
	e := consoletest.New(t)
	e.Fake.Fail("/cgi-bin/qrcode/create", 45009, 1)
	res, body := e.NewClient().Get("/console/login/qr")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "暂时无法生成二维码") || !strings.Contains(body, "用户名密码登录") {
		t.Fatalf("QR page with WeChat failing: %d\n%s", res.StatusCode, body)
	}
}
