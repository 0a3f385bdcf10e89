package wxapi

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/yanzhen/yanzhen/config"
)

var (
	sdkOnce sync.Once
	apiBase atomic.Pointer[string]
)

// Configure sets the SDK's process-wide settings: every WeChat API URL is redirected to base
// (YANZHEN_WECHAT_API_BASE; "" or the default leaves them alone) through util.SetURIModifier, and the
// SDK's HTTP client becomes hc, or when hc is nil a client with timeouts (5 s per call, 2 s to
// connect) instead of the SDK's default, which has none.
//
// The server wiring calls it once at start-up, before any WeChat call. Calling it again only changes
// the base (tests point it at their fake): the SDK's globals are written once, so it is race-free.
func Configure(base string, hc *http.Client) {
	base = strings.TrimRight(base, "/")
	apiBase.Store(&base)
	sdkOnce.Do(func() {
		if hc == nil {
			hc = newHTTPClient()
		}
		util.DefaultHTTPClient = hc
		util.SetURIModifier(rewriteURI)
	})
}

func rewriteURI(uri string) string {
	b := apiBase.Load()
	if b == nil || *b == "" || *b == config.DefaultWeChatAPIBase {
		return uri
	}
	if rest, ok := strings.CutPrefix(uri, config.DefaultWeChatAPIBase); ok {
		return *b + rest
	}
	return uri
}

func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 2 * time.Second
	tr.ResponseHeaderTimeout = 5 * time.Second
	tr.MaxIdleConnsPerHost = 64 // broadcasts send in parallel to one host
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}
