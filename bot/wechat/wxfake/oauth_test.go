package wxfake

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestOAuthAuthorize: the authorize page refuses a browser when no user is set (as outside WeChat) and
// bad parameters; with a user it comes back to redirect_uri (keeping its query) with a code and the
// state, and that code gives the user's openid once.
func TestOAuthAuthorize(t *testing.T) {
	f := New()
	f.AddApp("wxapp", "secret")
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(q url.Values) *http.Response {
		t.Helper()
		res, err := noFollow.Get(ts.URL + PathOAuthAuthorize + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	good := url.Values{"appid": {"wxapp"}, "redirect_uri": {"https://yz.example/s/oauth?x=1"}, "response_type": {"code"}, "scope": {"snsapi_base"}, "state": {"abc"}}
	if res := authorize(good); res.StatusCode != http.StatusForbidden {
		t.Fatalf("no user: %d", res.StatusCode)
	}
	f.SetOAuthUser("o-user")
	for k, v := range map[string]string{"appid": "other", "redirect_uri": "/relative", "scope": "snsapi_login", "response_type": "token", "state": strings.Repeat("s", 129)} {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		q.Set(k, v)
		if res := authorize(q); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s=%s: %d", k, v, res.StatusCode)
		}
	}
	res := authorize(good)
	back, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || back.Host != "yz.example" || back.Query().Get("x") != "1" || back.Query().Get("state") != "abc" {
		t.Fatalf("authorize: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	c := &client{t, ts.URL}
	q := url.Values{"appid": {"wxapp"}, "secret": {"secret"}, "code": {back.Query().Get("code")}, "grant_type": {"authorization_code"}}
	if st, out := c.get(APIOAuthToken, q); st != http.StatusOK || out["openid"] != "o-user" {
		t.Fatalf("exchange: %d %v", st, out)
	}
	if _, out := c.get(APIOAuthToken, q); out["errcode"] != float64(40163) {
		t.Fatalf("the code again: %v", out)
	}
	q.Set("code", "nosuch")
	if _, out := c.get(APIOAuthToken, q); out["errcode"] != float64(40029) {
		t.Fatalf("unknown code: %v", out)
	}
	q.Set("grant_type", "client_credential")
	if _, out := c.get(APIOAuthToken, q); out["errcode"] != float64(40002) {
		t.Fatalf("grant type: %v", out)
	}
	if n := len(f.CallsTo(PathOAuthAuthorize)); n != 7 {
		t.Fatalf("%d authorize calls recorded", n)
	}
}
