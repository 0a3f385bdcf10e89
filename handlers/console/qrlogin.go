package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/qrsvg"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// QR login: the login page shows a temporary WeChat QR code whose scene is login:TOKEN. The member
// linked to a console account scans it with WeChat; the bot asks him to confirm in the chat; the page
// (polling, or by a button without JavaScript) then logs that browser in. The browser is tied to its
// token by a cookie, so a photographed QR code logs in nobody else.

// QR login states, as the poll reports them.
const (
	qrPending   = "pending"
	qrScanned   = "scanned"
	qrConfirmed = "confirmed"
	qrCancelled = "cancelled"
	qrExpired   = "expired"
)

const (
	qrCookie         = "yz_qr"
	stepLoginConfirm = "console.login_confirm"
	sceneLogin       = "login"
)

// Chat texts of the QR login.
const (
	textQRExpired    = "这个登录二维码已过期，请在电脑上刷新登录页后重新扫码。"
	textQRNoAccount  = "你还没有管理后台账号。需要的话，请联系县委组织部开通。"
	textQRUnbound    = "请先绑定花名册再扫码登录：发送「绑定 绑定码」。"
	textQRConfirmed  = "已确认，电脑上将自动登录。"
	textQRCancelled  = "已取消，这次登录不会生效。"
	textQRAskConfirm = "你正在电脑上登录「雁阵党建」管理后台（账号：%s）。\n回复「确认」完成登录，回复「取消」放弃。\n如果不是你本人在操作，请回复「取消」。"
)

// Register adds the console's chat routes: confirming a QR login.
func (s *Service) Register(r *bot.Router) {
	r.Handle(bot.Scene(sceneLogin), s.handleLoginScan, bot.Public())
	r.Step(stepLoginConfirm, s.handleLoginConfirm)
}

// handleLoginScan: a member scanned a login QR code.
func (s *Service) handleLoginScan(ctx context.Context, c *bot.Context) error {
	token := c.Args
	if c.Member == nil {
		return c.Text(textQRUnbound)
	}
	key := kv.QRLoginKey(token)
	st, err := s.rdb.HGet(ctx, key, "s").Result()
	if errors.Is(err, redis.Nil) || (err == nil && st != qrPending && st != qrScanned) {
		return c.Text(textQRExpired)
	}
	if err != nil {
		return fmt.Errorf("console: qr login %s: %w", token, err)
	}
	var a models.Account
	err = s.db.WithContext(ctx).Where("member_id = ? AND active = ?", c.Member.ID, true).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c.Text(textQRNoAccount)
	}
	if err != nil {
		return fmt.Errorf("console: account of member %d: %w", c.Member.ID, err)
	}
	if err := s.hsetIfExists(ctx, key, "s", qrScanned, "a", a.ID); errors.Is(err, errQRGone) {
		return c.Text(textQRExpired)
	} else if err != nil {
		return err
	}
	if err := c.SetStep(stepLoginConfirm, token, kv.QRLoginTTL); err != nil {
		return err
	}
	return c.Text(fmt.Sprintf(textQRAskConfirm, a.Username))
}

// handleLoginConfirm takes 确认 or 取消 after a scan; anything else goes on to the usual routes.
func (s *Service) handleLoginConfirm(ctx context.Context, c *bot.Context) error {
	if c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	var token string
	if err := c.StepData(&token); err != nil {
		return err
	}
	next := ""
	switch strings.ToLower(c.Norm) {
	case "确认", "确定", "是", "好", "好的", "登录", "y", "yes", "ok":
		next = qrConfirmed
	case "取消", "不", "否", "不是我", "n", "no":
		next = qrCancelled
	default:
		return bot.ErrPass
	}
	c.ClearStep()
	key := kv.QRLoginKey(token)
	st, err := s.rdb.HGet(ctx, key, "s").Result()
	if errors.Is(err, redis.Nil) || (err == nil && st != qrScanned) {
		return c.Text(textQRExpired)
	}
	if err != nil {
		return fmt.Errorf("console: qr login %s: %w", token, err)
	}
	if err := s.hsetIfExists(ctx, key, "s", next); errors.Is(err, errQRGone) {
		return c.Text(textQRExpired)
	} else if err != nil {
		return err
	}
	if next == qrCancelled {
		return c.Text(textQRCancelled)
	}
	return c.Text(textQRConfirmed)
}

type qrLoginPage struct {
	Token   string
	QR      template.HTML
	Next    string
	CSRF    string
	Err     string
	Expires time.Time
}

func (p qrLoginPage) PageError() string { return p.Err }

// QRLoginPage is GET /console/login/qr: a fresh login QR code for this browser.
func (s *Service) QRLoginPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	p := qrLoginPage{Next: c.Query("next"), CSRF: s.loginToken(c)}
	if s.qr == nil {
		p.Err = "扫码登录未开通（没有配置公众号），请用密码登录。"
		s.Page(c, http.StatusNotFound, "login_qr", "", "", p)
		return
	}
	p.Token = randomToken(16)
	key := kv.QRLoginKey(p.Token)
	if err := s.rdb.HSet(c.Request.Context(), key, "s", qrPending).Err(); err != nil {
		s.Fail(c, fmt.Errorf("console: qr login: %w", err))
		return
	}
	s.rdb.Expire(c.Request.Context(), key, kv.QRLoginTTL)
	_, url, err := s.qr.CreateQRScene(c.Request.Context(), sceneLogin+":"+p.Token, kv.QRLoginTTL)
	if err == nil {
		err = s.hsetIfExists(c.Request.Context(), key, "u", url)
	}
	if err == nil {
		p.QR, err = qrsvg.SVG(url, 240)
	}
	if err != nil {
		s.log.WarnContext(c, "console: login QR code", "err", err)
		p.Err = "暂时无法生成二维码，请稍后刷新，或用密码登录。"
		p.Token = ""
		s.Page(c, http.StatusServiceUnavailable, "login_qr", "", "", p)
		return
	}
	p.Expires = s.now().Add(kv.QRLoginTTL)
	s.setCookie(c, qrCookie, p.Token, int(kv.QRLoginTTL.Seconds()))
	s.Page(c, http.StatusOK, "login_qr", "", "", p)
}

// QRLoginStatus is GET /api/v1/login/qr/:token (public): how far the QR login of a token has come.
func (s *Service) QRLoginStatus(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	st, err := s.rdb.HGet(c.Request.Context(), kv.QRLoginKey(c.Param("token")), "s").Result()
	switch {
	case errors.Is(err, redis.Nil):
		st = qrExpired
	case err != nil:
		s.Fail(c, fmt.Errorf("console: qr login status: %w", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": st})
}

// QRLoginFinish is POST /console/login/qr: this browser's confirmed QR login becomes a session.
func (s *Service) QRLoginFinish(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	token, _ := c.Cookie(qrCookie)
	p := qrLoginPage{Next: c.PostForm("next"), CSRF: s.loginToken(c)}
	if !loginCSRFOK(c) || token == "" || c.PostForm("token") != token {
		p.Err = "页面已过期，请刷新后重新扫码。"
		s.Page(c, http.StatusForbidden, "login_qr", "", "", p)
		return
	}
	key := kv.QRLoginKey(token)
	vals, err := s.rdb.HMGet(c.Request.Context(), key, "s", "a", "u").Result()
	if err != nil {
		s.Fail(c, fmt.Errorf("console: qr login: %w", err))
		return
	}
	if st, _ := vals[0].(string); st != qrConfirmed {
		p.Err = "还没有在微信里确认。请用微信扫码，并在对话里回复「确认」。"
		if st == "" || st == qrCancelled {
			p.Err = "这次扫码登录已取消或过期，请刷新页面重新扫码。"
		}
		if url, _ := vals[2].(string); url != "" && st != qrCancelled {
			p.Token, p.Expires = token, s.now().Add(s.rdb.TTL(c.Request.Context(), key).Val())
			p.QR, _ = qrsvg.SVG(url, 240)
		}
		s.Page(c, http.StatusConflict, "login_qr", "", "", p)
		return
	}
	// One use: whoever deletes the key logs in.
	if n, err := s.rdb.Del(c.Request.Context(), key).Result(); err != nil || n != 1 {
		p.Err = "这次扫码登录已用过，请刷新页面重新扫码。"
		s.Page(c, http.StatusConflict, "login_qr", "", "", p)
		return
	}
	s.setCookie(c, qrCookie, "", -1)
	id, _ := strconv.ParseUint(fmt.Sprint(vals[1]), 10, 64)
	v, err := s.viewerByAccount(c.Request.Context(), uint(id))
	if err != nil {
		p.Err = "这个账号已停用，请联系管理员。"
		s.Page(c, http.StatusForbidden, "login_qr", "", "", p)
		return
	}
	v.IP = c.ClientIP()
	s.db.WithContext(c.Request.Context()).Model(&models.Account{}).Where("id = ?", v.AccountID).Update("last_login_at", s.now())
	s.startSession(c, v, "微信扫码登录", p.Next)
}

// hsetScript sets hash fields only on a key that still exists, so a late write cannot bring an
// expired QR login back to life without its TTL.
var hsetScript = redis.NewScript(`if redis.call("EXISTS", KEYS[1]) == 1 then return redis.call("HSET", KEYS[1], unpack(ARGV)) end return -1`)

func (s *Service) hsetIfExists(ctx context.Context, key string, fieldValues ...any) error {
	n, err := hsetScript.Run(ctx, s.rdb, []string{key}, fieldValues...).Int()
	if err != nil {
		return fmt.Errorf("console: qr login: %w", err)
	}
	if n < 0 {
		return errQRGone
	}
	return nil
}

var errQRGone = errors.New("console: qr login expired")
