package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

type loginPage struct {
	Username string
	Next     string
	CSRF     string // the login form's double-submit token
	Err      string
	QR       bool // QR login is available
}

func (p loginPage) PageError() string { return p.Err }

// safeNext keeps a post-login redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/console/"
}

// loginToken returns the login forms' double-submit token, setting its cookie when there is none.
func (s *Service) loginToken(c *gin.Context) string {
	if tok, err := c.Cookie(loginCSRF); err == nil && len(tok) >= 20 && len(tok) <= 64 {
		return tok
	}
	tok := randomToken(24)
	s.setCookie(c, loginCSRF, tok, 3600)
	return tok
}

// loginCSRFOK: the login form carries the token of its cookie, or (a browser without that cookie) the
// request's Origin or Referer is this very host.
func loginCSRFOK(c *gin.Context) bool {
	if ck, err := c.Cookie(loginCSRF); err == nil && ck != "" && c.PostForm("_csrf") == ck {
		return true
	}
	for _, h := range []string{c.GetHeader("Origin"), c.GetHeader("Referer")} {
		if u, err := url.Parse(h); err == nil && h != "" && u.Host == c.Request.Host {
			return true
		}
	}
	return false
}

// LoginPage is GET /console/login.
func (s *Service) LoginPage(c *gin.Context) {
	if tok, err := c.Cookie(sessionCookie); err == nil {
		if _, err := s.sessionOf(c.Request.Context(), tok); err == nil {
			c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	s.Page(c, http.StatusOK, "login", "", "", loginPage{Next: c.Query("next"), CSRF: s.loginToken(c), QR: s.qr != nil})
}

// LoginSubmit is POST /console/login: username + password.
func (s *Service) LoginSubmit(c *gin.Context) {
	p := loginPage{Username: c.PostForm("username"), Next: c.PostForm("next"), CSRF: s.loginToken(c), QR: s.qr != nil}
	c.Header("Cache-Control", "no-store")
	if !loginCSRFOK(c) {
		p.Err = "页面已过期，请刷新后重新登录。"
		s.Page(c, http.StatusForbidden, "login", "", "", p)
		return
	}
	v, err := s.Login(c.Request.Context(), p.Username, c.PostForm("password"), c.ClientIP())
	switch {
	case errors.Is(err, ErrLocked):
		p.Err = "登录失败次数太多，已暂时锁定，请 15 分钟后再试。"
		s.Page(c, http.StatusTooManyRequests, "login", "", "", p)
		return
	case errors.Is(err, ErrBadLogin):
		p.Err = "用户名或密码不对。连续输错 5 次将锁定 15 分钟。"
		s.Page(c, http.StatusUnauthorized, "login", "", "", p)
		return
	case err != nil:
		s.log.ErrorContext(c, "console: login", "err", err)
		p.Err = "暂时无法登录，请稍后再试。"
		s.Page(c, http.StatusServiceUnavailable, "login", "", "", p)
		return
	}
	s.startSession(c, v, "密码登录", p.Next)
}

// startSession logs the viewer in on this browser and sends it on.
func (s *Service) startSession(c *gin.Context, v *Viewer, how, next string) {
	tok, err := s.NewSession(c.Request.Context(), v.AccountID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.setCookie(c, sessionCookie, tok, int(sessionCookieAge.Seconds()))
	s.setCookie(c, loginCSRF, "", -1)
	if err := s.Record(c.Request.Context(), nil, v, Change{Action: ActionLogin, Object: "account", ObjectID: v.AccountID,
		OrgPath: v.Scope.Path, Summary: v.Username + " " + how}); err != nil {
		s.log.WarnContext(c, "console: audit login", "err", err)
	}
	c.Redirect(http.StatusSeeOther, safeNext(next))
}

// Logout is POST /console/logout (behind Pages, so CSRF-checked).
func (s *Service) Logout(c *gin.Context) {
	tok, _ := c.Cookie(sessionCookie)
	if err := s.EndSession(c.Request.Context(), tok); err != nil {
		s.log.WarnContext(c, "console: end session", "err", err)
	}
	s.setCookie(c, sessionCookie, "", -1)
	v := ViewerOf(c)
	s.Record(c.Request.Context(), nil, v, Change{Action: ActionLogout, Object: "account", ObjectID: v.AccountID, OrgPath: v.Scope.Path, Summary: v.Username + " 退出"})
	s.Redirect(c, "/console/login", "已退出登录。")
}
