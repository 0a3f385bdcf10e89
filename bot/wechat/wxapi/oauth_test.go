package wxapi

import (
	"context"
	"errors"
	"testing"
)

// TestOAuthOpenID: a web OAuth code gives the openid once; a code used again or unknown is a permanent
// APIError; a wrong secret is refused; no access token is fetched for it.
func TestOAuthOpenID(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	e.fake.AddOAuthCode("code1", "oa-openid-1")
	if openID, err := c.OAuthOpenID(ctx, "code1"); err != nil || openID != "oa-openid-1" {
		t.Fatalf("OAuthOpenID = %q %v", openID, err)
	}
	var ae *APIError
	if _, err := c.OAuthOpenID(ctx, "code1"); !errors.As(err, &ae) || ae.Code != 40163 || Classify(err) != Permanent {
		t.Fatalf("used code: %v", err)
	}
	if _, err := c.OAuthOpenID(ctx, "nosuch"); !errors.As(err, &ae) || ae.Code != 40029 {
		t.Fatalf("unknown code: %v", err)
	}
	if _, err := c.OAuthOpenID(ctx, ""); err == nil {
		t.Fatal("empty code accepted")
	}
	if n := e.fake.TokenFetches(oaApp.AppID); n != 0 {
		t.Fatalf("OAuth fetched %d access tokens", n)
	}
	o := e.opts
	o.OA.Secret = "wrong"
	e.fake.AddOAuthCode("code2", "oa-openid-2")
	if _, err := New(o).OAuthOpenID(ctx, "code2"); !errors.As(err, &ae) || ae.Code != 40125 {
		t.Fatalf("wrong secret: %v", err)
	}
	o.OA.AppID = ""
	if _, err := New(o).OAuthOpenID(ctx, "code2"); err == nil {
		t.Fatal("no official account configured, and yet")
	}
}
