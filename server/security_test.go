package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The console's security checks, each a loop over App.Routes() so that routes added later are covered
// without a line here: session fixation, CSRF on every change, XSS in every field a user types, SQL
// injection through every filter, phone numbers in lists, and an audit entry for every export.

const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"><img src=x onerror=alert(1)>`
)

// rawXSS are what must never appear in an HTML page as they are (escaped they are harmless).
var rawXSS = []string{xssScript, `<img src=x onerror=alert(1)>`}

// consoleGETs are the console's page routes (not the login forms nor static files).
func consoleGETs(routes gin.RoutesInfo) []string {
	var out []string
	for _, r := range routes {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		switch r.Path {
		case "/console/login", "/console/login/qr", "/console/static/*file":
			continue
		}
		out = append(out, r.Path)
	}
	return out
}

// idTables says which table holds the object a route's :id (or :fid) names, by the path segment in
// front of it. A segment not listed is taken as the table's own name; a route whose table has no rows
// is skipped (logged).
var idTables = map[string]string{
	"members": "members", "orgs": "orgs", "accounts": "accounts", "audit": "audit_entries",
	"questions": "questions", "faqs": "policy_faqs", "docs": "policy_docs", "meetings": "meetings",
	"files": "meeting_files", "surveys": "surveys", "requests": "attend_requests", "broadcasts": "broadcasts",
	"places": "check_places", "tokens": "api_tokens", "exams": "exams",
}

var paramRe = regexp.MustCompile(`:[a-z]+`)

// fillParams puts ids into a route's parameters: preferably a row whose text holds the XSS payload
// (marked), else the first row. ok is false when a table is empty or unknown.
func fillParams(t *testing.T, e *consoletest.Env, route string, marked func(table string) string) (string, bool) {
	t.Helper()
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, ":") && !strings.HasPrefix(s, "*") {
			continue
		}
		table := ""
		if i > 0 {
			prev := segs[i-1]
			if prev == "questions" && strings.Contains(route, "/policy/") {
				table = "policy_questions"
			} else if tb, ok := idTables[prev]; ok {
				table = tb
			} else {
				table = prev
			}
		}
		if s == ":fid" {
			table = "meeting_files"
		}
		if table == "" || !e.App.DB().Migrator().HasTable(table) {
			return route, false
		}
		id := marked(table)
		if id == "" {
			var n uint
			if err := e.App.DB().Table(table).Select("id").Order("id").Limit(1).Row().Scan(&n); err != nil {
				return route, false
			}
			id = fmt.Sprint(n)
		}
		segs[i] = id
	}
	return strings.Join(segs, "/"), true
}

// TestSessionIsNewAfterLogin: a session id planted in the browser before login (session fixation) is
// not the one the login gives, and gets no console.
func TestSessionIsNewAfterLogin(t *testing.T) {
	e := consoletest.New(t)
	// The attacker's own valid session, planted in the victim's browser.
	planted := e.Login(consoletest.Secretary)
	u, _ := url.Parse(e.URL)
	var plantedTok string
	for _, ck := range planted.HTTP.Jar.Cookies(u) {
		if ck.Name == "yz_session" {
			plantedTok = ck.Value
		}
	}
	for name, tok := range map[string]string{"made up": "attacker-chosen-session-id-0123456789", "the attacker's own": plantedTok} {
		victim := e.NewClient()
		victim.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "yz_session", Value: tok, Path: "/"}})
		victim.Get("/console/login") // with a valid planted session this redirects: no login token
		form := url.Values{"username": {consoletest.County}, "password": {consoletest.Password}, "_csrf": {victim.CSRF}}
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/console/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", e.URL+"/console/login") // the login page's own form
		res, err := victim.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		body := ""
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: login %d %.300s", name, res.StatusCode, body)
		}
		var after string
		for _, ck := range victim.HTTP.Jar.Cookies(u) {
			if ck.Name == "yz_session" {
				after = ck.Value
			}
		}
		if after == "" || after == tok {
			t.Fatalf("%s: the session after login is the planted one (%q)", name, after)
		}
	}
	// A made-up id gets no console.
	stranger := e.NewClient()
	stranger.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "yz_session", Value: "attacker-chosen-session-id-0123456789", Path: "/"}})
	if res, _ := stranger.Get("/console/members"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a made-up session id: %d, want a redirect to the login", res.StatusCode)
	}
}

// dbSnapshot is every table's content, to show that refused requests changed nothing.
func dbSnapshot(t *testing.T, e *consoletest.Env) map[string]string {
	t.Helper()
	tables, err := e.App.DB().Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		if tb == "sqlite_sequence" {
			continue
		}
		var rows []map[string]any
		if err := e.App.DB().Table(tb).Find(&rows).Error; err != nil {
			t.Fatalf("snapshot %s: %v", tb, err)
		}
		out[tb] = fmt.Sprint(rows)
	}
	return out
}

// TestEveryConsoleChangeNeedsTheCSRFToken: every POST/PATCH/PUT/DELETE route of the console and of the
// API (with a session cookie) refuses a request without the session's CSRF token with 403, and the
// database stays as it was. The login forms have their own double-submit token: a foreign form is
// refused too.
func TestEveryConsoleChangeNeedsTheCSRFToken(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Admin)
	before := dbSnapshot(t, e)
	n := 0
	for _, r := range e.App.Routes() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		console := strings.HasPrefix(r.Path, "/console/")
		api := strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasPrefix(r.Path, "/api/v1/mp/")
		if !console && !api || strings.HasPrefix(r.Path, "/console/login") {
			continue
		}
		path := paramRe.ReplaceAllString(r.Path, "1")
		for _, token := range []string{"", "forged-token-of-the-right-length-xxxxxx"} {
			form := url.Values{"_csrf": {token}, "name": {"越权"}, "text": {"越权"}, "title": {"越权"}}
			req, _ := http.NewRequest(r.Method, e.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if api {
				req, _ = http.NewRequest(r.Method, e.URL+path, strings.NewReader(`{"name":"越权","text":"越权"}`))
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("X-CSRF-Token", token)
				}
			}
			req.Header.Set("Origin", "https://evil.example")
			res, err := c.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with CSRF token %q: %d, want 403", r.Method, path, token, res.StatusCode)
			}
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d change routes found: is the route table right?", n)
	}
	// The login form posted from another site (no token, foreign Origin).
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/console/login",
		strings.NewReader(url.Values{"username": {consoletest.Admin}, "password": {consoletest.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := e.NewClient().HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("login from a foreign form: %d, want 403", res.StatusCode)
	}
	after := dbSnapshot(t, e)
	for tb, s := range before {
		if tb == "accounts" || tb == "audit_entries" {
			continue // last_login_at and the login's own audit entry
		}
		if after[tb] != s {
			t.Errorf("table %s changed under refused requests", tb)
		}
	}
	if before["audit_entries"] != after["audit_entries"] {
		var n int64
		e.App.DB().Table("audit_entries").Where("action <> ?", "login").Count(&n)
		if n > 0 {
			t.Errorf("refused requests left %d audit entries", n)
		}
	}
}

// xssColumns are the columns people type into, by table. Columns that do not exist (yet) are skipped.
var xssColumns = map[string][]string{
	"orgs": {"name"}, "members": {"name"}, "accounts": {"display_name"}, "api_tokens": {"name"},
	"audit_entries": {"summary"}, "questions": {"stem", "explanation", "tags"}, "exams": {"title"},
	"check_places": {"name"}, "duty_rules": {"name"}, "holidays": {"name"}, "farm_seasons": {"name"},
	"attend_requests": {"reason", "note"}, "check_ins": {"reason"}, "meetings": {"title", "place", "note"},
	"meeting_files": {"name"}, "meeting_attendees": {"note"}, "broadcasts": {"title", "text"},
	"surveys": {"title", "intro"}, "survey_questions": {"text"}, "survey_answers": {"text"},
	"policy_docs": {"title", "source"}, "policy_passages": {"text"}, "policy_faqs": {"question", "answer"},
	"policy_questions": {"text", "reply"}, "deliveries": {"reason"},
}

// seedXSS puts the payloads where people type: a roster import (member and village names), chat
// messages from a bound member (a leave reason, a policy question), and then every xssColumns column
// of every row there is.
func seedXSS(t *testing.T, e *consoletest.Env) {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"姓名", "手机号", "角色", "组织"})
	w.Write([]string{"张" + xssScript, "13900002001", "党员", "洪雅县/花溪镇/郭沟村"})
	w.Write([]string{"李" + xssAttr, "13900002002", "书记", "洪雅县/花溪镇/" + xssAttr + "村"})
	w.Flush()
	if res, err := e.App.Roster().Import(ctx, &buf, "xss.csv"); err != nil || len(res.Errors) > 0 {
		t.Fatalf("import: %v %+v", err, res)
	}
	e.BindAs("o-xss", "张"+xssScript)
	oa := e.OA()
	for _, text := range []string{"请假 明天 " + xssScript, "问 " + xssScript + "怎么报销？", "补卡 昨天 签到 8:20 " + xssAttr} {
		e.Send(oa.Text("o-xss", text))
	}
	db := e.App.DB()
	for table, cols := range xssColumns {
		if !db.Migrator().HasTable(table) {
			continue
		}
		for i, col := range cols {
			if !db.Migrator().HasColumn(table, col) {
				continue
			}
			payload := xssScript
			if i%2 == 1 || table == "orgs" {
				payload = xssAttr
			}
			// Appended, so that unique names stay unique and texts keep what they said.
			if err := db.Exec("UPDATE "+table+" SET "+col+" = "+col+" || ? WHERE "+col+" IS NOT NULL", payload).Error; err != nil {
				t.Fatalf("seed %s.%s: %v", table, col, err)
			}
		}
	}
	// A choice question's options (JSON) too.
	db.Exec("UPDATE questions SET options = ? WHERE type = ?", `["`+xssScript+`","\"><img src=x onerror=alert(1)>","丙","丁"]`, models.QuestionSingle)
}

// TestConsolePagesEscapeWhatPeopleTyped: with the payloads in every field people type, every console
// page from the route table, as an administrator and as a village secretary, shows them escaped.
func TestConsolePagesEscapeWhatPeopleTyped(t *testing.T) {
	e := consoletest.New(t)
	seedXSS(t, e)
	marked := func(table string) string {
		for _, col := range xssColumns[table] {
			if !e.App.DB().Migrator().HasColumn(table, col) {
				continue
			}
			var id uint
			if e.App.DB().Table(table).Select("id").Where(col+" LIKE ?", "%alert(1)%").Order("id").Limit(1).Row().Scan(&id) == nil {
				return fmt.Sprint(id)
			}
		}
		return ""
	}
	pages := 0
	for _, user := range []string{consoletest.Admin, consoletest.Secretary} {
		c := e.Login(user)
		for _, route := range consoleGETs(e.App.Routes()) {
			path, ok := fillParams(t, e, route, marked)
			if !ok {
				t.Logf("%s: no object to show, skipped", route)
				continue
			}
			res, body := c.Get(path)
			if res.StatusCode >= 500 {
				t.Errorf("%s as %s: %d with the payloads in the data\n%.300s", path, user, res.StatusCode, body)
				continue
			}
			if !strings.Contains(res.Header.Get("Content-Type"), "html") {
				continue
			}
			pages++
			for _, raw := range rawXSS {
				if i := strings.Index(body, raw); i >= 0 {
					t.Errorf("%s as %s shows %q unescaped: …%s…", path, user, raw, body[max(0, i-120):min(len(body), i+60)])
				}
			}
		}
	}
	if pages < 30 {
		t.Fatalf("only %d HTML pages looked at", pages)
	}
	// The payloads did reach the pages (escaped), so the test looked at the right places.
	c := e.Login(consoletest.Admin)
	_, body := c.Get("/console/members?per_page=500&q=" + url.QueryEscape("张"))
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("the member list does not show the escaped payload:\n%.2000s", body)
	}
}

// sqlProbes are what an attacker puts in a filter. Those marked true appear in no data as they are,
// so they must match no more rows than a value that matches nothing: "%%%%%%%%" and 40 underscores
// would match every row (every row of 40 characters or more) if they reached a LIKE unescaped.
var sqlProbes = []struct {
	v       string
	noMatch bool
}{
	{`' OR 1=1 --`, true}, {`1) OR (1=1`, true}, {`"; DROP TABLE members; --`, true}, {`%%%%%%%%`, true},
	{strings.Repeat("_", 40), true}, {`%`, false}, {`_`, false}, {`\`, false}, {strings.Repeat("长", 5000), false},
}

// formFieldRe finds the inputs of a page's forms (the filters people use).
var formFieldRe = regexp.MustCompile(`<(?:input|select)[^>]*\bname="([a-z_]+)"`)

// rowCount is how many rows a list answered: table rows of a page, items of an API list.
func rowCount(body string) int {
	if strings.HasPrefix(strings.TrimSpace(body), "{") || strings.HasPrefix(strings.TrimSpace(body), "[") {
		return strings.Count(body, `"id":`)
	}
	return strings.Count(body, "<tr")
}

// TestFiltersResistSQLInjection: every GET route of the console and the API without an id, with each
// of its filters (the inputs of its page's forms, and the usual list parameters) set to SQL and LIKE
// metacharacters or a very long value: never a 5xx, and never more rows than a filter that matches
// nothing.
func TestFiltersResistSQLInjection(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Admin)
	tok := e.Token(consoletest.Admin)
	get := func(path string) (int, string) {
		if strings.HasPrefix(path, "/api/") {
			return e.API(tok, http.MethodGet, path, nil, nil)
		}
		res, body := c.Get(path)
		return res.StatusCode, body
	}
	common := []string{"q", "org", "org_id", "status", "role", "page", "per_page", "sort", "day", "from", "to", "month", "state", "kind", "type", "tag"}
	probed := 0
	for _, r := range e.App.Routes() {
		if r.Method != http.MethodGet || strings.Contains(r.Path, ":") || strings.Contains(r.Path, "*") ||
			strings.HasSuffix(r.Path, ".xlsx") || strings.HasSuffix(r.Path, ".csv") {
			continue
		}
		if !strings.HasPrefix(r.Path, "/console/") && !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasPrefix(r.Path, "/api/v1/mp/") ||
			strings.HasPrefix(r.Path, "/console/login") {
			continue
		}
		status, page := get(r.Path)
		if status >= 500 {
			t.Errorf("GET %s: %d", r.Path, status)
			continue
		}
		params := map[string]bool{}
		for _, p := range common {
			params[p] = true
		}
		for _, m := range formFieldRe.FindAllStringSubmatch(page, -1) {
			if m[1] != "_csrf" {
				params[m[1]] = true
			}
		}
		for p := range params {
			_, none := get(r.Path + "?" + url.Values{p: {"zzqqxxnomatch"}}.Encode())
			for _, pr := range sqlProbes {
				probe := pr.v
				path := r.Path + "?" + url.Values{p: {probe}}.Encode()
				status, body := get(path)
				probed++
				if status >= 500 {
					t.Errorf("GET %s?%s=%.20q: %d\n%.300s", r.Path, p, probe, status, body)
					continue
				}
				if pr.noMatch && status == http.StatusOK && rowCount(body) > rowCount(none) {
					t.Errorf("GET %s?%s=%.20q: %d rows, but a filter matching nothing gives %d", r.Path, p, probe, rowCount(body), rowCount(none))
				}
			}
		}
	}
	if probed < 500 {
		t.Fatalf("only %d probes sent", probed)
	}
	var n int64
	if err := e.App.DB().Model(&models.Member{}).Count(&n).Error; err != nil || n == 0 {
		t.Fatalf("members after the probes: %d %v", n, err)
	}
}

// TestListsMaskPhoneNumbers: no list page or API list shows a member's whole phone number, to any
// viewer; the member's own page (one person, looked at on purpose) may.
func TestListsMaskPhoneNumbers(t *testing.T) {
	e := consoletest.New(t)
	var phones []string
	e.App.DB().Model(&models.Member{}).Pluck("phone", &phones)
	if len(phones) == 0 {
		t.Fatal("no members")
	}
	for _, user := range []string{consoletest.Admin, consoletest.County, consoletest.Secretary} {
		c := e.Login(user)
		tok := e.Token(user)
		for _, r := range e.App.Routes() {
			if r.Method != http.MethodGet || strings.Contains(r.Path, ":") || strings.Contains(r.Path, "*") || strings.HasSuffix(r.Path, ".xlsx") {
				continue
			}
			var status int
			var body string
			switch {
			case strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasPrefix(r.Path, "/api/v1/mp/"):
				status, body = e.API(tok, http.MethodGet, r.Path+"?per_page=500", nil, nil)
			case strings.HasPrefix(r.Path, "/console/") && !strings.HasPrefix(r.Path, "/console/login"):
				res, b := c.Get(r.Path + "?per_page=500")
				status, body = res.StatusCode, b
			default:
				continue
			}
			if status != http.StatusOK {
				continue
			}
			for _, p := range phones {
				if strings.Contains(body, p) {
					t.Errorf("%s as %s shows the whole phone number %s", r.Path, user, p)
					break
				}
			}
		}
	}
}

// TestExportsOfPhoneNumbers: exports carry members' whole phone numbers only for administrators of the
// installation, a county or a town (console.Viewer.SeesWholePhones), who phone people from the roster;
// a village secretary and a village's administrator get them masked (138****1234) in the members
// export and find no whole number in any export. Checked on the real .xlsx files.
func TestExportsOfPhoneNumbers(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	var village models.Org
	if err := db.Where("path = ?", "洪雅县/花溪镇/郭沟村").Take(&village).Error; err != nil {
		t.Fatal(err)
	}
	h, _ := e.App.Console().HashPassword(consoletest.Password)
	const villageAdmin = "guogou-admin"
	db.Create(&models.Account{Username: villageAdmin, DisplayName: "郭沟村管理员", Role: models.ConsoleAdmin, OrgID: &village.ID, Active: true, PasswordHash: h})

	var members []struct{ Name, Phone, Path string }
	db.Table("members").Select("members.name, members.phone, orgs.path").Joins("JOIN orgs ON orgs.id = members.org_id").Scan(&members)
	phoneOf := map[string]string{} // name + org path → phone
	var phones []string
	for _, m := range members {
		if len(m.Phone) != 11 {
			t.Fatalf("demo phone %q is not 11 digits", m.Phone)
		}
		phoneOf[m.Name+"\t"+m.Path] = m.Phone
		phones = append(phones, m.Phone)
	}
	if len(phones) == 0 {
		t.Fatal("no members")
	}

	// The members export, every member of the viewer's scope.
	for _, c := range []struct {
		user  string
		whole bool
	}{{consoletest.Admin, true}, {consoletest.County, true}, {consoletest.Town, true}, {consoletest.Secretary, false}, {villageAdmin, false}} {
		res, body := e.Login(c.user).Get("/console/members/export.xlsx")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "PK") {
			t.Fatalf("members export as %s: %d %.200s", c.user, res.StatusCode, body)
		}
		f, err := excelize.OpenReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("members export as %s: %v", c.user, err)
		}
		rows, err := f.GetRows(f.GetSheetList()[0])
		f.Close()
		if err != nil || len(rows) < 4 || rows[2][1] != "手机号" || rows[2][3] != "组织" {
			t.Fatalf("members export as %s: %v %v", c.user, err, rows)
		}
		for _, r := range rows[3:] {
			phone, ok := phoneOf[r[0]+"\t"+r[3]]
			if !ok {
				t.Fatalf("members export as %s: row %v is no member", c.user, r)
			}
			want := phone
			if !c.whole {
				want = phone[:3] + "****" + phone[7:]
			}
			if r[1] != want {
				t.Errorf("members export as %s: %s has phone %q, want %q", c.user, r[0], r[1], want)
			}
		}
		t.Logf("members export as %s: %d rows, whole numbers %v", c.user, len(rows)-3, c.whole)
	}

	// No export of any kind gives a secretary or a village's administrator a whole number.
	for _, user := range []string{consoletest.Secretary, villageAdmin} {
		c := e.Login(user)
		n := 0
		for _, route := range consoleGETs(e.App.Routes()) {
			if !strings.HasSuffix(route, ".xlsx") {
				continue
			}
			path, ok := fillParams(t, e, route, func(string) string { return "" })
			if !ok {
				continue
			}
			res, body := c.Get(path)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "PK") {
				continue
			}
			n++
			text := xlsxText(t, body)
			for _, p := range phones {
				if strings.Contains(text, p) {
					t.Errorf("%s as %s carries the whole phone number %s", route, user, p)
					break
				}
			}
		}
		if n < 3 {
			t.Fatalf("only %d exports fetched as %s", n, user)
		}
	}
}

// TestEveryExportIsAudited: every .xlsx route of the console, fetched by an administrator, leaves an
// audit entry.
func TestEveryExportIsAudited(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Admin)
	n := 0
	for _, route := range consoleGETs(e.App.Routes()) {
		if !strings.HasSuffix(route, ".xlsx") {
			continue
		}
		path, ok := fillParams(t, e, route, func(string) string { return "" })
		if !ok {
			t.Logf("%s: nothing to export, skipped", route)
			continue
		}
		var before, after int64
		e.App.DB().Model(&models.AuditEntry{}).Count(&before)
		res, body := c.Get(path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d\n%.300s", path, res.StatusCode, body)
			continue
		}
		n++
		e.App.DB().Model(&models.AuditEntry{}).Count(&after)
		if after != before+1 {
			t.Errorf("%s: %d audit entries written, want 1", path, after-before)
		}
	}
	if n < 5 {
		t.Fatalf("only %d exports fetched", n)
	}
}

// knownGap skips a check of a weakness that is reported but not fixed here (the fix belongs to another
// part); YANZHEN_TEST_KNOWN_GAPS=1 runs it.
func knownGap(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("YANZHEN_TEST_KNOWN_GAPS") == "" {
		t.Skip("known gap, reported: " + what + " (YANZHEN_TEST_KNOWN_GAPS=1 runs it)")
	}
}
