package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// Texts. The bind errors are the chat's own (handlers/roster/chat.go), word for word, so that a
// member is told the same thing whichever way he binds; a test holds them together.
const (
	textCodeInvalid = "绑定码不对或已经用过了。请核对后重发（8位字母和数字，不分大小写），或找村书记重新获取。"
	textInactive    = "这个绑定码对应的人员已不在花名册中，请联系村书记。"
	textNeedCode    = "请填写绑定码，例如：K7M2Q9TX。绑定码向村书记或组织委员索取。"
	textNotBound    = "请先绑定党员花名册：填写村书记或组织委员给你的绑定码。"
	textLeft        = "你已不在党员花名册中，请联系村书记；拿到新的绑定码后可以重新绑定。"
	textNoSession   = "请先登录小程序（登录已过期或无效）。"
	textLoginCode   = "缺少登录凭证 code（wx.login 的返回值）。"
	textBadCode     = "微信登录凭证无效或已用过，请重新打开小程序。"
	textRiskyUser   = "微信拦截了这次登录，请稍后再试。"
	textWeChatDown  = "微信暂时无法登录，请稍后再试。"
	textTooMany     = "登录太频繁，请稍后再试。"
	textInternal    = "出错了，请稍后再试。"
	textBadJSON     = "请求内容不是有效的 JSON。"
)

// WeChat's answers to a login code that mean the code is no good (the user must call wx.login again),
// and to a user WeChat blocks.
const (
	errcodeInvalidCode = 40029
	errcodeUsedCode    = 40163
	errcodeRiskyUser   = 40226
)

const maxLoginCode = 128

// The API's shapes (server/openapi/mp.json documents them).

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

type apiMember struct {
	ID      uint   `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	OrgID   uint   `json:"org_id"`
	OrgPath string `json:"org_path"`
}

func toAPIMember(m *bot.Member) *apiMember {
	if m == nil {
		return nil
	}
	return &apiMember{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.OrgPath}
}

type apiMe struct {
	Bound  bool       `json:"bound"`
	Member *apiMember `json:"member"`
}

type apiLogin struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"` // seconds
	apiMe
}

type codeInput struct {
	Code string `json:"code"`
}

// Keys of the gin context.
const sessionKey, memberKey = "yz.mp.session", "yz.mp.member"

// MemberOf is the active roster member behind a mini-program call, set by Auth: his id, name, role
// and org. Nil outside Auth.
func MemberOf(c *gin.Context) *bot.Member {
	v, _ := c.Get(memberKey)
	m, _ := v.(*bot.Member)
	return m
}

// OpenIDOf is the mini-program openid behind a call (for subscribe messages to him), set by Session
// and Auth; "" outside them.
func OpenIDOf(c *gin.Context) string {
	if sess := sessionOfContext(c); sess != nil {
		return sess.OpenID
	}
	return ""
}

func sessionOfContext(c *gin.Context) *session {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(*session)
	return sess
}

// Session authenticates a mini-program call by its session token (Authorization: Bearer yzm_…),
// whether the user is bound to the roster or not: 401 without a valid session. It guards what an
// unbound user needs (bind, me, logout).
func (s *Service) Session() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.authenticate(c) != nil {
			c.Next()
		}
	}
}

// Auth authenticates a member's mini-program call: 401 without a valid session, 403 not_bound when the
// user is not bound to an active roster member. Behind it, MemberOf(c) is the member. Every member
// route of every capability goes behind Auth.
func (s *Service) Auth() gin.HandlerFunc {
	return func(c *gin.Context) {
		sess := s.authenticate(c)
		if sess == nil {
			return
		}
		m, err := s.memberByOpenID(c.Request.Context(), sess.OpenID)
		switch {
		case err != nil:
			s.fail(c, err)
			return
		case m == nil:
			abort(c, http.StatusForbidden, "not_bound", textNotBound)
			return
		case !m.Active:
			abort(c, http.StatusForbidden, "not_bound", textLeft)
			return
		}
		c.Set(memberKey, &m.Member)
		c.Next()
	}
}

// authenticate finds the call's session and puts it in the context; otherwise it answers (401, or
// 500 when Redis fails) and returns nil.
func (s *Service) authenticate(c *gin.Context) *session {
	c.Header("Cache-Control", "no-store")
	tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	sess, err := (*session)(nil), errNoSession
	if ok {
		sess, err = s.sessionOf(c.Request.Context(), strings.TrimSpace(tok))
	}
	switch {
	case errors.Is(err, errNoSession):
		c.Header("WWW-Authenticate", `Bearer realm="yanzhen-mp"`)
		abort(c, http.StatusUnauthorized, "unauthorized", textNoSession)
		return nil
	case err != nil:
		s.fail(c, err)
		return nil
	}
	c.Set(sessionKey, sess)
	return sess
}

// Login: POST /api/v1/mp/login {"code": wx.login's code} → a session token and who the user is.
// WeChat's session_key is dropped here: Yanzhen never keeps or returns it.
func (s *Service) Login(c *gin.Context) {
	ctx := c.Request.Context()
	c.Header("Cache-Control", "no-store")
	switch ok, err := s.allowLogin(ctx, c.ClientIP()); {
	case err != nil:
		s.fail(c, err)
		return
	case !ok:
		c.Header("Retry-After", strconv.Itoa(int(kv.MPLoginWindow/time.Second)))
		abort(c, http.StatusTooManyRequests, "rate_limited", textTooMany)
		return
	}
	var in codeInput
	if !readJSON(c, &in) {
		return
	}
	code := strings.TrimSpace(in.Code)
	if code == "" || len(code) > maxLoginCode {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "invalid", Message: textLoginCode, Field: "code"})
		return
	}
	openID, _, _, err := s.wx.Code2Session(ctx, code)
	if err != nil {
		s.loginRefused(c, err)
		return
	}
	tok, err := s.newSession(ctx, openID)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.memberByOpenID(ctx, openID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiLogin{Token: tok, ExpiresIn: int(kv.MPSessionTTL / time.Second), apiMe: meOf(m)})
}

// loginRefused answers a login WeChat did not accept: 401 for a code that is no good, 503 while
// WeChat is unreachable or busy, 500 (logged) for the rest, which is a configuration error (wrong
// appid or secret).
func (s *Service) loginRefused(c *gin.Context, err error) {
	ctx := c.Request.Context()
	var ae *wxapi.APIError
	errors.As(err, &ae)
	switch {
	case ae != nil && (ae.Code == errcodeInvalidCode || ae.Code == errcodeUsedCode):
		abort(c, http.StatusUnauthorized, "invalid_code", textBadCode)
	case ae != nil && ae.Code == errcodeRiskyUser:
		abort(c, http.StatusForbidden, "forbidden", textRiskyUser)
	case wxapi.Classify(err) == wxapi.Retryable:
		s.log.WarnContext(ctx, "mp: login: wechat unavailable", "err", err)
		c.Header("Retry-After", "5")
		abort(c, http.StatusServiceUnavailable, "unavailable", textWeChatDown)
	default:
		s.fail(c, fmt.Errorf("mp: login: %w", err))
	}
}

// Me: GET /api/v1/mp/me → whether the user is bound, and to whom.
func (s *Service) Me(c *gin.Context) {
	m, err := s.memberByOpenID(c.Request.Context(), sessionOfContext(c).OpenID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, meOf(m))
}

// meOf: a member who left the roster counts as unbound, as in the chat.
func meOf(m *boundMember) apiMe {
	if m == nil || !m.Active {
		return apiMe{}
	}
	return apiMe{Bound: true, Member: toAPIMember(&m.Member)}
}

// Bind: POST /api/v1/mp/bind {"code": "K7M2Q9TX"} binds the user's mini-program openid to the roster
// member holding that one-time code.
func (s *Service) Bind(c *gin.Context) {
	ctx := c.Request.Context()
	openID, ip := sessionOfContext(c).OpenID, c.ClientIP()
	switch refused, err := s.guard.Refused(ctx, bindSubjects(openID, ip)...); {
	case err != nil:
		s.fail(c, err)
		return
	case refused:
		c.Header("Retry-After", strconv.Itoa(int(kv.BindFailTTL/time.Second)))
		abort(c, http.StatusTooManyRequests, "rate_limited", roster.TextBindLocked)
		return
	}
	var in codeInput
	if !readJSON(c, &in) {
		return
	}
	if strings.TrimSpace(in.Code) == "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "invalid", Message: textNeedCode, Field: "code"})
		return
	}
	m, err := s.roster.Bind(ctx, bot.ChannelMP, openID, in.Code)
	switch {
	case err == nil:
		s.forgetIdentity(ctx, openID)
		c.JSON(http.StatusOK, apiMe{Bound: true, Member: toAPIMember(botMember(m))})
	case errors.Is(err, roster.ErrAlreadyBound):
		s.forgetIdentity(ctx, openID) // the bot's cache may say "not bound": it was stale
		whom := "花名册中的人员"
		if m != nil {
			whom = who(botMember(m))
		}
		abort(c, http.StatusConflict, "already_bound", "你的微信已绑定为"+whom+"，无需再绑定。")
	case errors.Is(err, roster.ErrCodeInvalid):
		s.guard.Fail(ctx, bindSubjects(openID, ip)...)
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "invalid", Message: textCodeInvalid, Field: "code"})
	case errors.Is(err, roster.ErrMemberInactive):
		s.guard.Fail(ctx, bindSubjects(openID, ip)...)
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "invalid", Message: textInactive, Field: "code"})
	default:
		s.fail(c, err)
	}
}

// Logout: POST /api/v1/mp/logout ends the session of the call's token.
func (s *Service) Logout(c *gin.Context) {
	if err := s.endSession(c.Request.Context(), sessionOfContext(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func botMember(m *models.Member) *bot.Member {
	return &bot.Member{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.Org.Path}
}

// who is "张三（书记，郭沟村）", as the chat says it.
func who(m *bot.Member) string {
	return fmt.Sprintf("%s（%s，%s）", m.Name, m.Role, m.OrgPath[strings.LastIndexByte(m.OrgPath, '/')+1:])
}

// readJSON decodes a small JSON body into v (no body leaves v as it is); otherwise it answers 400 and
// returns false.
func readJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10))
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "invalid", Message: textBadJSON})
		return false
	}
	return true
}

func abort(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, apiError{Error: code, Message: msg})
}

// fail answers 500 and logs why.
func (s *Service) fail(c *gin.Context, err error) {
	s.log.ErrorContext(c.Request.Context(), "mp: request failed", "path", c.Request.URL.Path, "err", err)
	abort(c, http.StatusInternalServerError, "internal", textInternal)
}
