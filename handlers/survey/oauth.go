package survey

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
)

// The form without a signed link: the official account's web OAuth (网页授权, snsapi_base, which asks
// the member nothing). /s/survey/ID (a link that names no member), and a link whose token expired
// opened in WeChat's browser, send the browser to WeChat's authorize page; WeChat sends it back to
// /s/oauth with a code, which the server exchanges for the member's openid; the member bound to it
// gets a fresh short-lived link to his form (/s/TOKEN), so the form itself works as it always does.
//
// The round trip's state is a signed token (linktoken kind OAuth: the survey and a random nonce, for
// ten minutes), also kept in a cookie of this browser: a callback whose state is not signed, has
// expired or is not this browser's own is refused (400), so nobody can make another person's browser
// open a form as someone else.

// DefaultAuthorizeURL is WeChat's authorize page.
const DefaultAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"

// WebAuth exchanges a web OAuth code for the user's official-account openid (*wxapi.Client).
type WebAuth interface {
	OAuthOpenID(ctx context.Context, code string) (string, error)
}

type oauthConfig struct {
	appID     string
	authorize string
	exchange  WebAuth
}

func (o oauthConfig) on() bool { return o.appID != "" && o.exchange != nil }

const (
	oauthCookie   = "yz_oauth"
	oauthStateTTL = 10 * time.Minute
	// OAuthLinkLife is how long the link made after the round trip opens the form: long enough to
	// answer at leisure, short enough that a copied address soon stops working.
	OAuthLinkLife = 12 * time.Hour
)

// inWeChat reports whether the request comes from WeChat's browser.
func inWeChat(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("User-Agent"), "MicroMessenger")
}

// publicBase is the server's address as the browser reached it: the configured public address, else
// the request's own (tests, the demo).
func (s *Service) publicBase(c *gin.Context) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// startOAuth sends the browser to WeChat's authorize page for survey id (with a fresh state in a
// cookie of this browser).
func (s *Service) startOAuth(c *gin.Context, id uint) {
	if !s.oauth.on() {
		s.renderH5(c, http.StatusGone, h5Page{Title: "请在公众号里填写", Message: "请在公众号里回复「问卷」填写。"})
		return
	}
	var b [4]byte
	rand.Read(b[:])
	nonce := uint(binary.BigEndian.Uint32(b[:])>>1) + 1 // 1..2^31: a token's ids are never 0
	state := hex.EncodeToString([]byte(s.links.Sign(linktoken.OAuth, id, nonce, s.now().Add(oauthStateTTL))))
	base := s.publicBase(c)
	http.SetCookie(c.Writer, &http.Cookie{Name: oauthCookie, Value: state, Path: "/s/", MaxAge: int(oauthStateTTL.Seconds()),
		HttpOnly: true, Secure: strings.HasPrefix(base, "https://"), SameSite: http.SameSiteLaxMode})
	// WeChat wants the parameters in this order, and the fragment.
	u := s.oauth.authorize + "?appid=" + url.QueryEscape(s.oauth.appID) + "&redirect_uri=" + url.QueryEscape(base+"/s/oauth") +
		"&response_type=code&scope=snsapi_base&state=" + state + "#wechat_redirect"
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, u)
}

// OAuthStart is GET /s/survey/:id: the form of survey id for whoever opens it in WeChat, through web
// OAuth.
func (s *Service) OAuthStart(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		s.renderH5(c, http.StatusNotFound, h5Page{Title: "找不到问卷", Message: "这份问卷找不到了，请在公众号里回复「问卷」看看。"})
		return
	}
	s.startOAuth(c, uint(id))
}

// OAuthCallback is GET /s/oauth?code=…&state=…: WeChat's authorize page came back. The state must be
// genuine, fresh and this browser's; the code gives the openid; the member bound to it is sent to his
// form with a fresh link, someone not bound is told how to bind.
func (s *Service) OAuthCallback(c *gin.Context) {
	state, code := c.Query("state"), c.Query("code")
	raw, err := hex.DecodeString(state)
	var id uint
	if err == nil {
		id, _, err = s.links.Parse(linktoken.OAuth, string(raw))
	}
	cookie, _ := c.Cookie(oauthCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(state)) != 1 || !s.oauth.on() {
		s.renderH5(c, http.StatusBadRequest, h5Page{Title: "链接无效", Message: "这个链接无效或已过期。请从公众号的通知里重新打开问卷，或回复「问卷」填写。"})
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: oauthCookie, Value: "", Path: "/s/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if code == "" {
		s.renderH5(c, http.StatusBadRequest, h5Page{Title: "没有授权", Message: "微信没有确认你的身份。请重新打开问卷，或在公众号里回复「问卷」填写。"})
		return
	}
	ctx := c.Request.Context()
	openID, err := s.oauth.exchange.OAuthOpenID(ctx, code)
	var ae *wxapi.APIError
	switch {
	case errors.Is(err, wxapi.ErrSnapshotUser):
		s.renderH5(c, http.StatusOK, h5Page{Title: "请打开完整页面", Message: "请点页面下方的「使用完整服务」，再填写问卷。"})
		return
	case errors.As(err, &ae):
		s.log.WarnContext(ctx, "survey: web OAuth code refused", "code", ae.Code, "err", err)
		s.renderH5(c, http.StatusBadRequest, h5Page{Title: "授权失败", Message: "微信没有确认你的身份（授权已失效）。请从通知里重新打开问卷。",
			Retry: "/s/survey/" + strconv.FormatUint(uint64(id), 10)})
		return
	case err != nil:
		s.log.ErrorContext(ctx, "survey: web OAuth", "err", err)
		s.renderH5(c, http.StatusBadGateway, h5Page{Title: "请稍后再试", Message: "微信暂时没有回应，请稍后再试，或在公众号里回复「问卷」填写。",
			Retry: "/s/survey/" + strconv.FormatUint(uint64(id), 10)})
		return
	}
	var m models.Member
	err = s.db.WithContext(ctx).Select("id").Where("oa_open_id = ? AND active = ?", openID, true).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		s.renderH5(c, http.StatusOK, h5Page{Title: "请先绑定", Message: "你的微信还没有绑定党员身份，暂时不能填写。\n请在公众号里发送「绑定 绑定码」（绑定码向村书记索取），绑定后再打开问卷。"})
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "survey: member of an openid", "err", err)
		s.renderH5(c, http.StatusInternalServerError, h5Page{Title: "出错了", Message: "出错了，请稍后再试。"})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, "/s/"+s.Token(id, m.ID, s.now().Add(OAuthLinkLife)))
}
