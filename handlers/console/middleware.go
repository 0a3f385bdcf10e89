package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Cookies of the console.
const (
	sessionCookie = "yz_session"
	loginCSRF     = "yz_login_csrf" // double-submit token of the login forms (there is no session yet)
	flashCookie   = "yz_flash"
)

const viewerKey, csrfKey = "yz.viewer", "yz.csrf"

// ViewerOf is the viewer a console or API middleware authenticated.
func ViewerOf(c *gin.Context) *Viewer {
	v, _ := c.Get(viewerKey)
	vv, _ := v.(*Viewer)
	return vv
}

// CSRFOf is the session's CSRF token, for forms.
func CSRFOf(c *gin.Context) string { return c.GetString(csrfKey) }

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// Pages authenticates console pages: without a valid session the browser goes to the login page (and
// comes back after); a form without the session's CSRF token gets 403.
func (s *Service) Pages() gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, _ := c.Cookie(sessionCookie)
		sess, err := s.sessionOf(c.Request.Context(), tok)
		var v *Viewer
		if err == nil {
			v, err = s.viewerByAccount(c.Request.Context(), sess.AccountID)
		}
		if err != nil {
			if !errors.Is(err, ErrNoSession) {
				s.Fail(c, err)
				return
			}
			next := c.Request.URL.RequestURI()
			if unsafeMethod(c.Request.Method) {
				next = c.Request.Referer()
				if u, perr := url.Parse(next); perr == nil {
					next = u.RequestURI()
				}
			}
			target := "/console/login"
			if next != "" && next != "/console/" && strings.HasPrefix(next, "/console/") {
				target += "?next=" + url.QueryEscape(next)
			}
			if c.GetHeader("HX-Request") != "" {
				c.Header("HX-Redirect", target)
				c.AbortWithStatus(http.StatusUnauthorized)
				return
			}
			c.Redirect(http.StatusSeeOther, target)
			c.Abort()
			return
		}
		v.IP, v.session = c.ClientIP(), sess.Hash
		if unsafeMethod(c.Request.Method) && !csrfOK(c, sess.CSRF) {
			s.Fail(c, ErrCSRF)
			return
		}
		c.Set(viewerKey, v)
		c.Set(csrfKey, sess.CSRF)
		c.Header("Cache-Control", "no-store")
		c.Next()
	}
}

// csrfOK: the form field _csrf or the X-CSRF-Token header (htmx, fetch) equals want.
func csrfOK(c *gin.Context, want string) bool {
	got := c.GetHeader("X-CSRF-Token")
	if got == "" {
		got = c.PostForm("_csrf")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// API authenticates /api/v1 calls: an API token (Authorization: Bearer yzt_…) or, for the console's
// own scripts, a session cookie plus the X-CSRF-Token header on changes. Otherwise 401.
func (s *Service) API() gin.HandlerFunc {
	return func(c *gin.Context) {
		var v *Viewer
		var err error
		if h := c.GetHeader("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				err = ErrBadToken
			} else {
				v, err = s.viewerByAPIToken(c.Request.Context(), strings.TrimSpace(tok))
			}
		} else if ck, cerr := c.Cookie(sessionCookie); cerr == nil {
			var sess *session
			if sess, err = s.sessionOf(c.Request.Context(), ck); err == nil {
				if v, err = s.viewerByAccount(c.Request.Context(), sess.AccountID); err == nil && unsafeMethod(c.Request.Method) &&
					subtle.ConstantTimeCompare([]byte(c.GetHeader("X-CSRF-Token")), []byte(sess.CSRF)) != 1 {
					s.Fail(c, ErrCSRF)
					return
				}
			}
		} else {
			err = ErrNoSession
		}
		if err != nil {
			if errors.Is(err, ErrNoSession) || errors.Is(err, ErrBadToken) {
				c.Header("WWW-Authenticate", `Bearer realm="yanzhen"`)
				c.AbortWithStatusJSON(http.StatusUnauthorized, apiError{Error: "unauthorized", Message: "请先登录，或在 Authorization 头里带上 API 令牌"})
				return
			}
			s.Fail(c, err)
			return
		}
		v.IP = c.ClientIP()
		c.Set(viewerKey, v)
		c.Header("Cache-Control", "no-store")
		c.Next()
	}
}

// AdminOnly stops viewers who are not administrators (403).
func (s *Service) AdminOnly() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !ViewerOf(c).IsAdmin() {
			s.Fail(c, ErrNotAllowed)
			return
		}
		c.Next()
	}
}

// secureCookies: cookies are Secure when the request came over HTTPS (directly or via a proxy).
func secureRequest(c *gin.Context) bool {
	return c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https")
}

func (s *Service) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secureRequest(c), SameSite: http.SameSiteLaxMode,
	})
}
