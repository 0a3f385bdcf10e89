package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

func TestLoginLandsOnTheDashboardAndLogoutEndsTheSession(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	res, body := c.Get("/console/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "在册人员") || !strings.Contains(body, "郭沟村") {
		t.Fatalf("dashboard: %d\n%s", res.StatusCode, body)
	}
	res, _ = c.PostForm("/console/logout", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login" {
		t.Fatalf("logout: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = c.Get("/console/")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/login") {
		t.Fatalf("after logout: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestLoginRedirectsBackToWhereTheUserWasGoing(t *testing.T) {
	e := consoletest.New(t)
	c := e.NewClient()
	res, _ := c.Get("/console/?sort=name&dir=desc")
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || loc != "/console/login?next="+url.QueryEscape("/console/?sort=name&dir=desc") {
		t.Fatalf("unauthenticated: %d %q", res.StatusCode, loc)
	}
	c.Get(loc)
	res, _ = c.PostForm("/console/login", url.Values{"username": {consoletest.County}, "password": {consoletest.Password}, "next": {"/console/?sort=name&dir=desc"}})
	if got := res.Header.Get("Location"); got != "/console/?sort=name&dir=desc" {
		t.Fatalf("after login: %q", got)
	}
	// An address outside the console is not followed.
	c2 := e.NewClient()
	c2.Get("/console/login")
	res, _ = c2.PostForm("/console/login", url.Values{"username": {consoletest.County}, "password": {consoletest.Password}, "next": {"//evil.example/x"}})
	if got := res.Header.Get("Location"); got != "/console/" {
		t.Fatalf("open redirect: %q", got)
	}
}

func TestFiveWrongPasswordsLockTheAccountForFifteenMinutes(t *testing.T) {
	e := consoletest.New(t)
	c := e.NewClient()
	c.Get("/console/login")
	for i := 0; i < 5; i++ {
		res, body := c.PostForm("/console/login", url.Values{"username": {consoletest.Town}, "password": {"wrong"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码不对") {
			t.Fatalf("wrong password #%d: %d", i+1, res.StatusCode)
		}
	}
	// Now even the right password is refused, with a clear message, from any browser.
	other := e.NewClient()
	other.Get("/console/login")
	res, body := other.PostForm("/console/login", url.Values{"username": {consoletest.Town}, "password": {consoletest.Password}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "15 分钟后再试") {
		t.Fatalf("locked account: %d\n%s", res.StatusCode, body)
	}
	// Another account from the same address still logs in (the address limit is higher).
	e.Login(consoletest.Secretary)
}

func TestASuccessfulLoginResetsTheFailureCount(t *testing.T) {
	e := consoletest.New(t)
	c := e.NewClient()
	c.Get("/console/login")
	fail := func(n int) {
		for i := 0; i < n; i++ {
			if res, _ := c.PostForm("/console/login", url.Values{"username": {consoletest.Town}, "password": {"wrong"}}); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", res.StatusCode)
			}
		}
	}
	fail(4)
	e.Login(consoletest.Town)
	fail(4) // would be the 8th failure without the reset
	e.Login(consoletest.Town)
}

func TestTooManyFailuresFromOneAddressLockIt(t *testing.T) {
	e := consoletest.New(t)
	c := e.NewClient()
	c.Get("/console/login")
	for i := 0; i < 20; i++ {
		c.PostForm("/console/login", url.Values{"username": {"nobody" + string(rune('a'+i))}, "password": {"x"}})
	}
	res, _ := c.PostForm("/console/login", url.Values{"username": {consoletest.County}, "password": {consoletest.Password}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("address after 20 failures: %d", res.StatusCode)
	}
}

func TestFormsWithoutTheCSRFTokenAreRejected(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	res, body := c.PostForm("/console/logout", url.Values{"_csrf": {""}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "页面已过期") {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	res, _ = c.PostForm("/console/logout", url.Values{"_csrf": {"forged"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", res.StatusCode)
	}
	// Still logged in: the forged logout did nothing.
	if res, _ := c.Get("/console/"); res.StatusCode != http.StatusOK {
		t.Fatalf("session after forged logout: %d", res.StatusCode)
	}
	// The login form is protected too: no token and no same-origin header is refused.
	c2 := e.NewClient()
	res, _ = c2.PostForm("/console/login", url.Values{"username": {consoletest.County}, "password": {consoletest.Password}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token: %d", res.StatusCode)
	}
}

func TestSessionsExpireWhenIdleAndAfterTwelveHours(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	e.Clock.Add(3 * time.Hour)
	if res, _ := c.Get("/console/"); res.StatusCode != http.StatusOK {
		t.Fatalf("after 3 h: %d", res.StatusCode)
	}
	e.Clock.Add(4*time.Hour + time.Minute) // idle longer than 4 h
	if res, _ := c.Get("/console/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after 4 h idle: %d, want a redirect to the login page", res.StatusCode)
	}

	c = e.Login(consoletest.County)
	for i := 0; i < 5; i++ { // busy all day
		e.Clock.Add(2*time.Hour + 30*time.Minute)
		res, _ := c.Get("/console/")
		if want := http.StatusOK; i == 4 {
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("after 12.5 h: %d", res.StatusCode)
			}
		} else if res.StatusCode != want {
			t.Fatalf("after %d×2.5 h: %d", i+1, res.StatusCode)
		}
	}
}

func TestAPIWantsATokenAndAcceptsAValidOne(t *testing.T) {
	e := consoletest.New(t)
	if st, body := e.API("", "GET", "/api/v1/dashboard", nil, nil); st != http.StatusUnauthorized || !strings.Contains(body, "unauthorized") {
		t.Fatalf("no token: %d %s", st, body)
	}
	if st, _ := e.API("yzt_forged", "GET", "/api/v1/dashboard", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("forged token: %d", st)
	}
	var d struct{ Members int }
	if st, body := e.API(e.Token(consoletest.Secretary), "GET", "/api/v1/dashboard", nil, &d); st != http.StatusOK || d.Members != 4 {
		t.Fatalf("secretary's dashboard: %d %s", st, body)
	}
}

func TestTheBootstrapAdministratorLogsInWithThePasswordAsItIs(t *testing.T) {
	e := consoletest.New(t)
	if _, err := e.App.Console().EnsureAdmin(t.Context(), "root", " pa ss 密码 "); err != nil {
		t.Fatal(err)
	}
	c := e.NewClient()
	c.Get("/console/login")
	res, _ := c.PostForm("/console/login", url.Values{"username": {"root"}, "password": {" pa ss 密码 "}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	if made, _ := e.App.Console().EnsureAdmin(t.Context(), "root", "other"); made {
		t.Fatal("a second EnsureAdmin created the account again")
	}
}
