// Package wxapi is Yanzhen's outbound WeChat client: customer-service, template and subscribe
// messages, QR codes and the mini-program's code2session, for the official account ("oa") and the
// mini-program ("mp").
//
// It goes through the silenceper/wechat SDK's HTTP helpers (so Configure's redirect applies) but
// decodes WeChat's answers itself into *APIError, which Classify sorts into Retryable, Permanent and
// TokenInvalid. Access tokens are shared by every process through Redis (TokenSource); a rejected
// token is refreshed and the call retried once.
package wxapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/config"
)

// WeChat API paths (APIError.API and the api given to Options.OnCall are one of these).
const (
	APIStableToken      = "/cgi-bin/stable_token"
	APICustomSend       = "/cgi-bin/message/custom/send"
	APITemplateSend     = "/cgi-bin/message/template/send"
	APISubscribeBizSend = "/cgi-bin/message/subscribe/bizsend"
	APISubscribeSend    = "/cgi-bin/message/subscribe/send"
	APIQRCodeCreate     = "/cgi-bin/qrcode/create"
	APICode2Session     = "/sns/jscode2session"
	APIOAuthToken       = "/sns/oauth2/access_token"
)

// Options configures a Client.
type Options struct {
	OA, MP config.WeChatApp
	Redis  redis.UniversalClient // shares access tokens between processes; required
	Log    *slog.Logger
	// OnCall, if set, is called once per HTTP call to WeChat (token fetches and retries included) with
	// the API path and "ok", "retryable", "permanent" or "token": a metrics hook.
	OnCall func(api, result string)
	// Timeout bounds each HTTP call; default 5 s (the SDK's client, once Configure ran, stops at
	// 5 s anyway).
	Timeout time.Duration
}

// Client sends to WeChat. It is safe for concurrent use; build one at start-up.
type Client struct {
	caller
	oa, mp *TokenSource
	mpApp  config.WeChatApp
	oaApp  config.WeChatApp // web OAuth (OAuthOpenID) signs in with the account's secret
}

// New builds a Client. Call Configure first.
func New(o Options) *Client {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	c := &Client{caller: caller{timeout: o.Timeout, log: o.Log, onCall: o.OnCall}, mpApp: o.MP, oaApp: o.OA}
	if o.OA.AppID != "" {
		c.oa = newTokenSource(o.OA, o.Redis, &c.caller)
	}
	if o.MP.AppID != "" {
		c.mp = newTokenSource(o.MP, o.Redis, &c.caller)
	}
	return c
}

// Tokens returns the token source of a channel (bot.ChannelOA or bot.ChannelMP), for SDK objects
// that need an access-token handle; nil for an unknown or unconfigured channel.
func (c *Client) Tokens(channel string) *TokenSource {
	switch channel {
	case bot.ChannelOA:
		return c.oa
	case bot.ChannelMP:
		return c.mp
	}
	return nil
}

// Post calls a WeChat API that takes the access token in the query and a JSON body, on a channel's
// app, and decodes the answer into out (may be nil). A rejected token is refreshed and the call
// retried once. Errors are *APIError, *TransportError or wrap ErrTokenUnavailable; see Classify.
func (c *Client) Post(ctx context.Context, channel, api string, body, out any) error {
	ts := c.Tokens(channel)
	if ts == nil {
		return fmt.Errorf("wxapi: channel %q is not configured", channel)
	}
	for attempt := 0; ; attempt++ {
		tok, err := ts.Token(ctx)
		if err != nil {
			return err
		}
		err = c.do(ctx, http.MethodPost, api, url.Values{"access_token": {tok}}, body, out)
		if attempt > 0 || Classify(err) != TokenInvalid {
			return err
		}
		c.log.Info("wechat access token rejected; refreshing", "appid", ts.app.AppID, "api", api, "err", err)
		if ierr := ts.invalidateIf(ctx, tok); ierr != nil {
			return errors.Join(err, ierr)
		}
	}
}

// caller makes one HTTP call through the SDK and reports it.
type caller struct {
	timeout time.Duration
	log     *slog.Logger
	onCall  func(api, result string)
}

// do calls api with query (which may hold the token or the app secret: never logged) and, for POST,
// a JSON body.
func (c *caller) do(ctx context.Context, method, api string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := config.DefaultWeChatAPIBase + api // Configure's modifier redirects it
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	start := time.Now()
	var (
		b   []byte
		err error
	)
	if method == http.MethodGet {
		b, err = util.HTTPGetContext(ctx, u)
	} else {
		b, err = util.PostJSONContext(ctx, u, body)
	}
	if err != nil {
		err = transportError(api, err)
	} else {
		err = decode(api, b, out)
	}
	result := "ok"
	if err != nil {
		result = Classify(err).String()
	}
	if c.onCall != nil {
		c.onCall(api, result)
	}
	if err != nil {
		c.log.Debug("wechat call failed", "api", api, "result", result, "ms", time.Since(start).Milliseconds(), "err", err)
	} else {
		c.log.Debug("wechat call", "api", api, "ms", time.Since(start).Milliseconds())
	}
	return err
}

// decode reads WeChat's answer: errcode ≠ 0 is an *APIError; otherwise the body goes into out.
func decode(api string, b []byte, out any) error {
	var head struct {
		ErrCode int64  `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return &TransportError{API: api, Err: fmt.Errorf("answer is not JSON: %w", err)}
	}
	if head.ErrCode != 0 {
		return &APIError{API: api, Code: head.ErrCode, Msg: head.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return &TransportError{API: api, Err: fmt.Errorf("unexpected answer: %w", err)}
		}
	}
	return nil
}
