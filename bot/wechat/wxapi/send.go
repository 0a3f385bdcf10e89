package wxapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot"
)

type customMessage struct {
	ToUser  string      `json:"touser"`
	MsgType string      `json:"msgtype"`
	Text    *customText `json:"text,omitempty"`
	News    *customNews `json:"news,omitempty"`
}

type customText struct {
	Content string `json:"content"`
}

type customNews struct {
	Articles []customArticle `json:"articles"`
}

type customArticle struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	PicURL      string `json:"picurl,omitempty"`
}

// SendText sends a customer-service text message (WeChat allows 5 in the 48 h after the user's last
// message: 45015 when the window has closed, 45047 when the quota is used).
func (c *Client) SendText(ctx context.Context, channel, openID, text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("wxapi: empty text")
	}
	return c.Post(ctx, channel, APICustomSend, customMessage{ToUser: openID, MsgType: "text", Text: &customText{text}}, nil)
}

// SendReply sends a bot reply as a customer-service message; a nil reply sends nothing. A news reply
// with one article is a news message on the official account; with more articles (customer-service
// news carries only one: 45008), or on the mini-program (whose customer service has no news), it is
// a text listing titles and links.
func (c *Client) SendReply(ctx context.Context, channel, openID string, r *bot.Reply) error {
	if r == nil {
		return nil
	}
	switch r.Kind {
	case bot.ReplyText:
		return c.SendText(ctx, channel, openID, r.Text)
	case bot.ReplyNews:
		if len(r.Articles) == 0 {
			return errors.New("wxapi: news reply without articles")
		}
		if channel == bot.ChannelOA && len(r.Articles) == 1 {
			a := r.Articles[0]
			msg := customMessage{ToUser: openID, MsgType: "news", News: &customNews{[]customArticle{{
				Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL,
			}}}}
			return c.Post(ctx, channel, APICustomSend, msg, nil)
		}
		return c.SendText(ctx, channel, openID, articlesText(r.Articles))
	}
	return fmt.Errorf("wxapi: unknown reply kind %q", r.Kind)
}

// articlesText renders articles as text: title and link of each, and the description of a lone one.
func articlesText(as []bot.Article) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		lines := []string{a.Title}
		if len(as) == 1 && a.Description != "" {
			lines = append(lines, a.Description)
		}
		if a.URL != "" {
			lines = append(lines, a.URL)
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n\n")
}

type value struct {
	Value string `json:"value"`
}

func values(data map[string]string) map[string]value {
	out := make(map[string]value, len(data))
	for k, v := range data {
		out[k] = value{v}
	}
	return out
}

// SendTemplate sends an official-account template message and returns WeChat's msgid. url, if set,
// is opened when the user taps the message.
func (c *Client) SendTemplate(ctx context.Context, openID, templateID, url string, data map[string]string) (msgID int64, err error) {
	body := struct {
		ToUser     string           `json:"touser"`
		TemplateID string           `json:"template_id"`
		URL        string           `json:"url,omitempty"`
		Data       map[string]value `json:"data"`
	}{openID, templateID, url, values(data)}
	var out struct {
		MsgID int64 `json:"msgid"`
	}
	if err := c.Post(ctx, bot.ChannelOA, APITemplateSend, body, &out); err != nil {
		return 0, err
	}
	return out.MsgID, nil
}

type subscribeBody struct {
	ToUser     string           `json:"touser"`
	TemplateID string           `json:"template_id"`
	Page       string           `json:"page,omitempty"`
	Data       map[string]value `json:"data"`
}

// SendSubscribe sends an official-account subscribe notification (订阅通知, bizsend); each one uses
// up one of the user's authorizations (43101 when none is left). page, if set, is the web page the
// notification opens.
func (c *Client) SendSubscribe(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	return c.Post(ctx, bot.ChannelOA, APISubscribeBizSend, subscribeBody{openID, templateID, page, values(data)}, nil)
}

// SendMPSubscribe sends a mini-program subscribe message; page, if set, is the mini-program page it
// opens.
func (c *Client) SendMPSubscribe(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	return c.Post(ctx, bot.ChannelMP, APISubscribeSend, subscribeBody{openID, templateID, page, values(data)}, nil)
}

// maxQRExpire is the longest life WeChat gives a temporary QR code (30 days).
const maxQRExpire = 30 * 24 * time.Hour

// CreateQRScene creates an official-account QR code whose scans report scene (1–64 bytes):
// temporary (QR_STR_SCENE, at most 30 days) when expire > 0, else permanent (QR_LIMIT_STR_SCENE, of
// which an account has 100,000). url is the text to encode in the QR image; the image itself is at
// https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=TICKET (ticket URL-escaped).
func (c *Client) CreateQRScene(ctx context.Context, scene string, expire time.Duration) (ticket, url string, err error) {
	if scene == "" || len(scene) > 64 {
		return "", "", fmt.Errorf("wxapi: QR scene must be 1-64 bytes (it has %d)", len(scene))
	}
	type sceneStr struct {
		SceneStr string `json:"scene_str"`
	}
	body := struct {
		ExpireSeconds int64  `json:"expire_seconds,omitempty"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene sceneStr `json:"scene"`
		} `json:"action_info"`
	}{ActionName: "QR_LIMIT_STR_SCENE"}
	body.ActionInfo.Scene.SceneStr = scene
	if expire > 0 {
		body.ActionName = "QR_STR_SCENE"
		body.ExpireSeconds = int64(math.Ceil(min(expire, maxQRExpire).Seconds()))
	}
	var out struct {
		Ticket string `json:"ticket"`
		URL    string `json:"url"`
	}
	if err := c.Post(ctx, bot.ChannelOA, APIQRCodeCreate, body, &out); err != nil {
		return "", "", err
	}
	return out.Ticket, out.URL, nil
}

// Code2Session exchanges a mini-program login code (wx.login) for the user's openid, unionid (empty
// unless the mini-program is bound to an open-platform account) and session key. 40029: bad code;
// 40163: code already used.
func (c *Client) Code2Session(ctx context.Context, code string) (openID, unionID, sessionKey string, err error) {
	if code == "" {
		return "", "", "", errors.New("wxapi: empty login code")
	}
	if c.mpApp.AppID == "" {
		return "", "", "", errors.New("wxapi: mini-program is not configured")
	}
	q := url.Values{
		"appid":      {c.mpApp.AppID},
		"secret":     {c.mpApp.Secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	var out struct {
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		SessionKey string `json:"session_key"`
	}
	if err := c.do(ctx, http.MethodGet, APICode2Session, q, nil, &out); err != nil {
		return "", "", "", err
	}
	if out.OpenID == "" {
		return "", "", "", &TransportError{API: APICode2Session, Err: errors.New("answer has no openid")}
	}
	return out.OpenID, out.UnionID, out.SessionKey, nil
}
