package wxfake

import (
	"net/http"
	"net/url"
	"strings"
)

// The official account's web OAuth (网页授权): a page sends the browser to open.weixin.qq.com's
// authorize page, which comes back to the page's redirect_uri with ?code=…&state=…; the server
// exchanges the code for the openid at sns/oauth2/access_token. The fake answers both: the authorize
// page at PathOAuthAuthorize (point the server's authorize address at the fake), signing in as the
// user SetOAuthUser names, and the exchange, for codes it issued or AddOAuthCode registered.

// PathOAuthAuthorize is the path of the authorize page (on open.weixin.qq.com for WeChat).
const PathOAuthAuthorize = "/connect/oauth2/authorize"

type oauthState struct {
	codes map[string]string // code → openid
	used  map[string]bool
	user  string // the openid the authorize page signs in as ("": refused, as outside WeChat)
}

// AddOAuthCode makes sns/oauth2/access_token answer code with this openid, once (a code used again
// gets 40163). Unregistered codes get 40029.
func (s *Server) AddOAuthCode(code, openID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.codes[code] = openID
}

// SetOAuthUser makes the authorize page sign the browser in as openID: it redirects to redirect_uri
// with a new code for him. "" (the default): the page refuses, as WeChat does outside its browser.
func (s *Server) SetOAuthUser(openID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.user = openID
}

// serveAuthorize is the authorize page: it checks the request as WeChat does and sends the browser
// back with a code and the state.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := Call{API: PathOAuthAuthorize, Method: r.Method, Query: q, AppID: q.Get("appid")}
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(status int, msg string) {
		c.Status = status
		s.record(&c)
		http.Error(w, msg, status)
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("appid") == "" || len(s.apps) > 0 && s.apps[q.Get("appid")] == "":
		fail(http.StatusBadRequest, "appid 参数错误")
		return
	case err != nil || !back.IsAbs() || back.Host == "":
		fail(http.StatusBadRequest, "redirect_uri 参数错误")
		return
	case q.Get("response_type") != "code" || (q.Get("scope") != "snsapi_base" && q.Get("scope") != "snsapi_userinfo"):
		fail(http.StatusBadRequest, "scope 参数错误或没有 scope 权限")
		return
	case len(q.Get("state")) > 128:
		fail(http.StatusBadRequest, "state 参数错误")
		return
	case s.oauth.user == "":
		fail(http.StatusForbidden, "请在微信客户端打开链接")
		return
	}
	code := "oauth_" + randomHex(12)
	s.oauth.codes[code] = s.oauth.user
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	c.Status = http.StatusFound
	s.record(&c)
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// oauthToken is sns/oauth2/access_token: a code for the openid (snsapi_base needs nothing more).
func (s *Server) oauthToken(c *Call) reply {
	q := c.Query
	c.AppID = q.Get("appid")
	if code := s.checkApp(q.Get("appid"), q.Get("secret")); code != 0 {
		return errReply(code)
	}
	code := q.Get("code")
	openID, known := s.oauth.codes[code]
	switch {
	case q.Get("grant_type") != "authorization_code":
		return errReply(40002)
	case code == "":
		return errReply(41008)
	case s.oauth.used[code]:
		return errReply(40163)
	case !known || strings.TrimSpace(openID) == "":
		return errReply(40029)
	}
	s.oauth.used[code] = true
	return reply{"access_token": "FAKE_OAUTH_" + randomHex(16), "expires_in": int(TokenLifetime.Seconds()),
		"refresh_token": "FAKE_REFRESH_" + randomHex(16), "openid": openID, "scope": "snsapi_base"}
}
