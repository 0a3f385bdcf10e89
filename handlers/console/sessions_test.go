package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

func loggedIn(t *testing.T, c *consoletest.Client) bool {
	t.Helper()
	res, _ := c.Get("/console/")
	return res.StatusCode == http.StatusOK
}

func TestAPasswordResetLogsTheAccountOutEverywhere(t *testing.T) {
	e := consoletest.New(t)
	town := e.Login(consoletest.Town)
	county := e.Login(consoletest.County)
	var id uint
	e.App.DB().Table("accounts").Where("username = ?", consoletest.Town).Select("id").Row().Scan(&id)
	res, body := county.PostForm("/console/accounts/"+itoa(id), url.Values{"password": {"new-password-1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %.300s", res.StatusCode, body)
	}
	if loggedIn(t, town) {
		t.Fatal("the town administrator's session survived a password reset")
	}
	if !loggedIn(t, county) {
		t.Fatal("the administrator who reset it was logged out")
	}
}

func TestChangingOnesOwnPasswordEndsTheOtherSessionsOnly(t *testing.T) {
	e := consoletest.New(t)
	phone := e.Login(consoletest.County)
	desk := e.Login(consoletest.County)
	res, body := desk.PostForm("/console/me/password", url.Values{"current": {consoletest.Password}, "new": {"another-pass-2"}, "again": {"another-pass-2"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %.300s", res.StatusCode, body)
	}
	if !loggedIn(t, desk) || loggedIn(t, phone) {
		t.Fatal("want this browser still logged in and the other logged out")
	}
}

func TestDeactivatingAMemberStopsHisConsoleLogin(t *testing.T) {
	e := consoletest.New(t)
	secretary := e.Login(consoletest.Secretary)
	token := e.Token(consoletest.Secretary)
	county := e.Login(consoletest.County)
	var m models.Member
	e.App.DB().Where("name = ?", "张国华").Take(&m)
	if res, body := county.PostForm("/console/members/"+itoa(m.ID)+"/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %.300s", res.StatusCode, body)
	}
	if loggedIn(t, secretary) {
		t.Fatal("the deactivated member's console session still works")
	}
	if st, _ := e.API(token, "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("his API token: %d, want 401", st)
	}
	var n int64
	e.App.DB().Table("audit_entries").Where("object = 'account' AND action = 'deactivate'").Count(&n)
	if n != 1 {
		t.Fatalf("audit entries of the account's deactivation: %d", n)
	}
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }
