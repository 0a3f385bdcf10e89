package wxapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// ErrSnapshotUser: the web OAuth ran in WeChat's snapshot view of a page (朋友圈 preview), which
// gives a made-up openid; the user has to open the full page first.
var ErrSnapshotUser = errors.New("wxapi: web OAuth from a snapshot page: no real openid")

// OAuthOpenID exchanges the code of the official account's web OAuth (snsapi_base: the browser came
// back from open.weixin.qq.com/connect/oauth2/authorize with ?code=) for the user's openid.
// 40029: bad code; 40163: code already used (a code is good once, for five minutes).
func (c *Client) OAuthOpenID(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", errors.New("wxapi: empty OAuth code")
	}
	if c.oaApp.AppID == "" {
		return "", errors.New("wxapi: official account is not configured")
	}
	q := url.Values{
		"appid":      {c.oaApp.AppID},
		"secret":     {c.oaApp.Secret},
		"code":       {code},
		"grant_type": {"authorization_code"},
	}
	var out struct {
		OpenID       string `json:"openid"`
		IsSnapshot   int    `json:"is_snapshotuser"`
		AccessToken  string `json:"access_token"` // a user token for snsapi_userinfo: not kept
		RefreshToken string `json:"refresh_token"`
	}
	if err := c.do(ctx, http.MethodGet, APIOAuthToken, q, nil, &out); err != nil {
		return "", err
	}
	if out.IsSnapshot == 1 {
		return "", ErrSnapshotUser
	}
	if out.OpenID == "" {
		return "", &TransportError{API: APIOAuthToken, Err: errors.New("answer has no openid")}
	}
	return out.OpenID, nil
}
