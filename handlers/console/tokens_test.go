package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

var newTokenRe = regexp.MustCompile(`value="(yzt_[A-Za-z0-9_-]{43})"`)

// acctNewToken makes an API token on /console/me and returns it and its id.
func acctNewToken(t *testing.T, e *consoletest.Env, c *consoletest.Client, name, days string) (string, uint) {
	t.Helper()
	res, body := c.PostForm("/console/me/tokens", url.Values{"name": {name}, "days": {days}})
	m := newTokenRe.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "离开本页后将无法再次查看") {
		t.Fatalf("new token %s: %d\n%s", name, res.StatusCode, body)
	}
	return m[1], acctID(t, e, "api_tokens", "prefix = ?", m[1][:10])
}

func TestATokenMadeOnMyAccountWorksUntilItIsRevoked(t *testing.T) {
	e := consoletest.New(t)
	guogou := e.Login(consoletest.Secretary)
	tok, id := acctNewToken(t, e, guogou, "统计脚本", "")

	var me struct {
		Username string
		ViaToken bool `json:"via_token"`
	}
	if st, b := e.API(tok, "GET", "/api/v1/me", nil, &me); st != http.StatusOK || me.Username != consoletest.Secretary || !me.ViaToken {
		t.Fatalf("the new token: %d %s", st, b)
	}
	// The list shows the token by name and prefix, never whole again.
	res, body := guogou.Get("/console/me")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "统计脚本") || !strings.Contains(body, tok[:10]) || strings.Contains(body, tok) {
		t.Fatalf("my tokens: %d\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "从未使用") {
		t.Fatal("the token's last use is not shown")
	}

	res, _ = guogou.PostForm(fmt.Sprintf("/console/me/tokens/%d/revoke", id), nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", st)
	}
	// Both are in the audit log, without the token.
	var entries []struct{ Action, Before, After, OrgPath string }
	e.App.DB().Table("audit_entries").Where("object = 'token' AND object_id = ?", fmt.Sprint(id)).Order("id").Find(&entries)
	if len(entries) != 2 || entries[0].Action != "create" || entries[1].Action != "revoke" || entries[1].OrgPath != "洪雅县/花溪镇/郭沟村" {
		t.Fatalf("token audit: %+v", entries)
	}
	for _, en := range entries {
		if strings.Contains(en.Before+en.After, tok) || !strings.Contains(en.Before+en.After, "统计脚本") {
			t.Fatalf("token audit entry: %+v", en)
		}
	}
}

func TestTokenFormChecksItsInputAndExpiresTokens(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	for _, tc := range []struct{ name, days, want string }{
		{"", "", "请给令牌起个名字"},
		{"脚本", "abc", "要填数字"},
		{"脚本", "5000", "有效天数填 1 到"},
	} {
		res, body := c.PostForm("/console/me/tokens", url.Values{"name": {tc.name}, "days": {tc.days}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) || newTokenRe.MatchString(body) {
			t.Errorf("token %q %q: %d, want 400 with %q", tc.name, tc.days, res.StatusCode, tc.want)
		}
	}
	tok, _ := acctNewToken(t, e, c, "一天", "1")
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusOK {
		t.Fatalf("fresh token: %d", st)
	}
	e.Clock.Add(25 * time.Hour)
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("token after its day: %d", st)
	}
	c = e.Login(consoletest.Town)
	if _, body := c.Get("/console/me"); !strings.Contains(body, "已过期") {
		t.Fatal("the expired token is not marked")
	}
}

func TestAdministratorsRevokeTheTokensOfAccountsInTheirScopeOnly(t *testing.T) {
	e := consoletest.New(t)
	guogou := e.Login(consoletest.Secretary)
	tok, id := acctNewToken(t, e, guogou, "村里的脚本", "30")
	countyTok, countyTokID := acctNewToken(t, e, e.Login(consoletest.County), "县里的脚本", "")
	guogouID := accountByName(t, e, consoletest.Secretary).ID
	countyID := accountByName(t, e, consoletest.County).ID

	huaxi := e.Login(consoletest.Town)
	// Not through his own tokens, and not for an account outside his scope.
	if res, _ := huaxi.PostForm(fmt.Sprintf("/console/me/tokens/%d/revoke", id), nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("huaxi revokes guogou's token as his own: %d", res.StatusCode)
	}
	if res, _ := huaxi.PostForm(fmt.Sprintf("/console/accounts/%d/tokens/%d/revoke", countyID, countyTokID), nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("huaxi revokes the county's token: %d", res.StatusCode)
	}
	if res, _ := huaxi.PostForm(fmt.Sprintf("/console/accounts/%d/tokens/%d/revoke", guogouID, countyTokID), nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("huaxi revokes the county's token under guogou: %d", res.StatusCode)
	}
	if st, _ := e.API(countyTok, "GET", "/api/v1/me", nil, nil); st != http.StatusOK {
		t.Fatalf("the county's token: %d", st)
	}

	res, body := huaxi.Get(fmt.Sprintf("/console/accounts/%d", guogouID))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "村里的脚本") || strings.Contains(body, tok) {
		t.Fatalf("guogou's page: %d\n%s", res.StatusCode, body)
	}
	res, _ = huaxi.PostForm(fmt.Sprintf("/console/accounts/%d/tokens/%d/revoke", guogouID, id), nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/console/accounts/%d", guogouID) {
		t.Fatalf("huaxi revokes guogou's token: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("guogou's token after the revocation: %d", st)
	}
}
