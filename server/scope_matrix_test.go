package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// A viewer of the matrix and the objects just outside his part of the tree.
type outsider struct {
	user     string
	admin    bool   // may open the accounts and audit pages at all
	own      string // id of a member inside the scope
	member   string // id of a member outside the scope
	name     string // that member's name: must never show
	org      string // id of an org outside the scope
	orgName  string // its name: must never show
	account  string // id of an account outside the scope
	acctName string // its username: must never show
	token    string // id of an API token of that account
	audit    string // id of an audit entry outside the scope
	secret   string // text of that entry: must never show
}

type matrixEnv struct {
	*consoletest.Env
	ids map[string]string
}

func (m *matrixEnv) id(t *testing.T, table, where string, args ...any) string {
	t.Helper()
	var id uint
	if err := m.App.DB().Table(table).Where(where, args...).Select("id").Order("id").Limit(1).Row().Scan(&id); err != nil {
		t.Fatalf("%s where %s %v: %v", table, where, args, err)
	}
	return fmt.Sprint(id)
}

// newMatrix: the demo county, plus a second county (青神县) with a member, an administrator and an
// audit entry, so that even the county administrator has something outside his scope.
func newMatrix(t *testing.T) (*matrixEnv, []outsider) {
	e := &matrixEnv{Env: consoletest.New(t)}
	ctx := context.Background()
	csv := "姓名,手机号,角色,组织\n外县党员,13700009999,书记,青神县/汉阳镇/中岩村\n"
	if _, err := e.App.Roster().Import(ctx, strings.NewReader(csv), "x.csv"); err != nil {
		t.Fatal(err)
	}
	var qs models.Org
	e.App.DB().Where("path = ?", "青神县").Take(&qs)
	h, _ := e.App.Console().HashPassword(consoletest.Password)
	e.App.DB().Create(&models.Account{Username: "qingshen", DisplayName: "青神县委组织部", Role: models.ConsoleAdmin, OrgID: &qs.ID, Active: true, PasswordHash: h})
	audit := func(path string) string {
		entry := models.AuditEntry{At: e.Clock.Now(), Username: "x", OrgPath: path, Action: "update", Object: "member", ObjectID: "1", Summary: "SECRET-" + path}
		e.App.DB().Create(&entry)
		return fmt.Sprint(entry.ID)
	}
	token := func(user string) string {
		e.Token(user)
		return e.id(t, "api_tokens", "account_id = (SELECT id FROM accounts WHERE username = ?)", user)
	}
	member := func(org string) (string, string) {
		var m models.Member
		e.App.DB().Where("org_id = (SELECT id FROM orgs WHERE path = ?)", org).Order("id").Take(&m)
		return fmt.Sprint(m.ID), m.Name
	}
	org := func(path string) string { return e.id(t, "orgs", "path = ?", path) }

	var vs []outsider
	add := func(user string, admin bool, ownOrg, outOrg, outAcct string) {
		own, _ := member(ownOrg)
		mid, mname := member(outOrg)
		vs = append(vs, outsider{user: user, admin: admin, own: own, member: mid, name: mname,
			org: org(outOrg), orgName: outOrg[strings.LastIndexByte(outOrg, '/')+1:],
			account: e.id(t, "accounts", "username = ?", outAcct), acctName: outAcct, token: token(outAcct),
			audit: audit(outOrg), secret: "SECRET-" + outOrg})
	}
	add(consoletest.County, true, "洪雅县/花溪镇/郭沟村", "青神县/汉阳镇/中岩村", "qingshen")
	add(consoletest.Town, true, "洪雅县/花溪镇/郭沟村", "洪雅县/止戈镇/五龙村", consoletest.County)
	add(consoletest.Secretary, false, "洪雅县/花溪镇/郭沟村", "洪雅县/花溪镇/双河村", consoletest.Town)
	return e, vs
}

// TestScopeMatrix: for every console page and API route and every role, data outside the viewer's part
// of the org tree is neither shown (lists, details, exports) nor changeable (403 or 404, and the
// database unchanged). A route added without a line here fails the test.
func TestScopeMatrix(t *testing.T) {
	e, viewers := newMatrix(t)
	denied := func(t *testing.T, what string, status int, body string) {
		t.Helper()
		if status != http.StatusForbidden && status != http.StatusNotFound {
			t.Errorf("%s: %d, want 403 or 404\n%.300s", what, status, body)
		}
	}
	noLeak := func(t *testing.T, what string, status int, body string, o outsider) {
		t.Helper()
		if status == http.StatusForbidden || status == http.StatusNotFound {
			return
		}
		if status != http.StatusOK {
			t.Errorf("%s: %d\n%.300s", what, status, body)
			return
		}
		if strings.HasPrefix(body, "PK") { // an .xlsx: look at its cells
			body = xlsxText(t, body)
		}
		for _, s := range []string{o.name, o.orgName, o.secret} {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q, which is outside %s's scope", what, s, o.user)
			}
		}
		if o.admin && strings.Contains(body, ">"+o.acctName+"<") || strings.Contains(body, `"username":"`+o.acctName+`"`) {
			t.Errorf("%s shows the account %q, outside %s's scope", what, o.acctName, o.user)
		}
	}
	unchanged := func(t *testing.T, o outsider) {
		t.Helper()
		var m models.Member
		e.App.DB().Take(&m, o.member)
		if m.Name != o.name || !m.Active || fmt.Sprint(m.OrgID) == o.org && false {
			t.Errorf("the outside member changed: %+v", m)
		}
		var own models.Member
		e.App.DB().Preload("Org").Take(&own, o.own)
		if strings.Contains(own.Org.Path, o.orgName) {
			t.Errorf("%s moved his member out of his scope: %s", o.user, own.Org.Path)
		}
		var n int64
		e.App.DB().Table("members").Where("name = ?", "越界新人").Count(&n)
		if n > 0 {
			t.Errorf("a member was created outside %s's scope", o.user)
		}
		e.App.DB().Table("orgs").Where("name = ?", "越界新组织").Count(&n)
		if n > 0 {
			t.Errorf("an org was created outside %s's scope", o.user)
		}
		e.App.DB().Table("accounts").Where("username IN ?", []string{"yuejie", "yuejie2"}).Count(&n)
		if n > 0 {
			t.Errorf("an account was created outside %s's scope", o.user)
		}
		var a models.Account
		e.App.DB().Take(&a, o.account)
		if !a.Active || a.DisplayName == "改掉" {
			t.Errorf("the outside account changed: %+v", a)
		}
		e.App.DB().Table("api_tokens").Where("id = ?", o.token).Count(&n)
		var revoked int64
		e.App.DB().Table("api_tokens").Where("id = ? AND expires_at IS NOT NULL AND expires_at < ?", o.token, e.Clock.Now()).Count(&revoked)
		if n != 1 || revoked != 0 {
			t.Errorf("the outside account's token was revoked")
		}
	}

	type check func(t *testing.T, c *consoletest.Client, token string, o outsider)
	page := func(path string) check { // a page or export that lists: nothing outside shows
		return func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.Get(path)
			noLeak(t, "GET "+path, res.StatusCode, body, o)
		}
	}
	adminPage := func(path string) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			res, body := c.Get(path)
			if !o.admin {
				denied(t, "GET "+path, res.StatusCode, body)
				return
			}
			noLeak(t, "GET "+path, res.StatusCode, body, o)
		}
	}
	getOut := func(path string, id func(o outsider) string) check { // a page about one outside object
		return func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			p := strings.Replace(path, ":id", id(o), 1)
			res, body := c.Get(p)
			denied(t, "GET "+p, res.StatusCode, body)
		}
	}
	postOut := func(path string, id func(o outsider) string, form func(o outsider) url.Values) check {
		return func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			p := strings.Replace(path, ":id", id(o), 1)
			p = strings.Replace(p, ":tid", o.token, 1)
			var f url.Values
			if form != nil {
				f = form(o)
			}
			res, body := c.PostForm(p, f)
			denied(t, "POST "+p, res.StatusCode, body)
			unchanged(t, o)
		}
	}
	api := func(method, path string, id func(o outsider) string, body func(o outsider) any, list bool) check {
		return func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			p := path
			if id != nil {
				p = strings.Replace(p, ":id", id(o), 1)
			}
			var b any
			if body != nil {
				b = body(o)
			}
			status, resp := e.API(tok, method, p, b, nil)
			if list {
				if strings.Contains(p, "/accounts") || strings.Contains(p, "/audit") {
					if !o.admin {
						denied(t, method+" "+p, status, resp)
						return
					}
				}
				noLeak(t, method+" "+p, status, resp, o)
				return
			}
			denied(t, method+" "+p, status, resp)
			unchanged(t, o)
		}
	}
	member := func(o outsider) string { return o.member }
	org := func(o outsider) string { return o.org }
	account := func(o outsider) string { return o.account }
	auditID := func(o outsider) string { return o.audit }
	none := func(o outsider) string { return "" }
	_ = none
	// The question bank is one per installation, outside the org tree: every viewer reads all of it, and
	// what must hold is that only administrators change it. A secretary is refused (403) and the bank
	// stays as it was; administrators' changes are tested in handlers/study/bank.
	question := e.id(t, "questions", "1 = 1")
	bankChange := func(method, path string) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			if o.admin {
				return
			}
			p := strings.Replace(path, ":id", question, 1)
			var status int
			var body string
			if strings.HasPrefix(p, "/api/") {
				status, body = e.API(tok, method, p, map[string]any{"stem": "越界新题", "active": false}, nil)
			} else {
				res, b := c.PostForm(p, url.Values{"type": {"判断"}, "stem": {"越界新题"}, "answer": {"对"}})
				status, body = res.StatusCode, b
			}
			if status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403\n%.300s", method, p, o.user, status, body)
			}
			var n int64
			e.App.DB().Table("questions").Where("stem = ? OR active = ?", "越界新题", false).Count(&n)
			if n > 0 {
				t.Errorf("%s %s as %s changed the question bank", method, p, o.user)
			}
		}
	}

	// studyChecks runs several checks of one route.
	studyChecks := func(cs ...check) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			for _, ch := range cs {
				ch(t, c, tok, o)
			}
		}
	}
	matrix := map[string]check{
		"GET /console/":                      page("/console/"),
		"GET /console/dashboard/export.xlsx": page("/console/dashboard/export.xlsx"),
		"POST /console/logout":               nil, // no data
		"GET /console/orgs":                  page("/console/orgs"),
		"POST /console/orgs":                 postOut("/console/orgs", none, func(o outsider) url.Values { return url.Values{"parent_id": {o.org}, "name": {"越界新组织"}} }),
		"GET /console/orgs/:id/bindsheet":    getOut("/console/orgs/:id/bindsheet", org),
		"GET /console/members":               page("/console/members?per_page=500"),
		"GET /console/members/export.xlsx":   page("/console/members/export.xlsx"),
		"GET /console/members/new":           page("/console/members/new"),
		"POST /console/members": postOut("/console/members", none, func(o outsider) url.Values {
			return url.Values{"name": {"越界新人"}, "phone": {"13600001234"}, "role": {"党员"}, "org_id": {o.org}}
		}),
		"GET /console/members/:id":      getOut("/console/members/:id", member),
		"GET /console/members/:id/edit": getOut("/console/members/:id/edit", member),
		"POST /console/members/:id": postOut("/console/members/:id", member, func(o outsider) url.Values {
			return url.Values{"name": {"改掉"}, "phone": {"13600001235"}, "role": {"党员"}, "org_id": {o.org}}
		}),
		"POST /console/members/:id/deactivate":       postOut("/console/members/:id/deactivate", member, nil),
		"POST /console/members/:id/activate":         postOut("/console/members/:id/activate", member, nil),
		"POST /console/members/:id/bindcode":         postOut("/console/members/:id/bindcode", member, nil),
		"GET /console/import":                        page("/console/import"),
		"POST /console/import":                       nil, // checked below: rows outside the scope are refused
		"GET /console/import/template.csv":           page("/console/import/template.csv"),
		"GET /console/questions":                     page("/console/questions?per_page=500"),
		"GET /console/questions/export.xlsx":         page("/console/questions/export.xlsx"),
		"GET /console/questions/import":              adminPage("/console/questions/import"),
		"POST /console/questions/import":             bankChange("POST", "/console/questions/import"),
		"GET /console/questions/import/template.csv": page("/console/questions/import/template.csv"),
		"GET /console/questions/:id":                 page("/console/questions/" + question),
		"GET /console/questions/:id/edit":            adminPage("/console/questions/" + question + "/edit"),
		"POST /console/questions/:id/edit":           bankChange("POST", "/console/questions/:id/edit"),
		"POST /console/questions/:id/retire":         bankChange("POST", "/console/questions/:id/retire"),
		"POST /console/questions/:id/restore":        bankChange("POST", "/console/questions/:id/restore"),
		"GET /console/me":                            page("/console/me"),
		"POST /console/me/password":                  nil, // the viewer's own account only: no id to aim elsewhere
		"POST /console/me/tokens":                    nil, // idem
		"POST /console/me/tokens/:tid/revoke":        postOut("/console/me/tokens/:tid/revoke", none, nil),
		"GET /console/accounts":                      adminPage("/console/accounts"),
		"GET /console/accounts/export.xlsx":          adminPage("/console/accounts/export.xlsx"),
		"GET /console/accounts/new":                  adminPage("/console/accounts/new"),
		"POST /console/accounts": postOut("/console/accounts", none, func(o outsider) url.Values {
			return url.Values{"username": {"yuejie"}, "display_name": {"越界"}, "role": {"admin"}, "org_id": {o.org}, "password": {"password123"}}
		}),
		"GET /console/accounts/:id":                     getOut("/console/accounts/:id", account),
		"POST /console/accounts/:id":                    postOut("/console/accounts/:id", account, func(o outsider) url.Values { return url.Values{"display_name": {"改掉"}, "active": {"0"}} }),
		"POST /console/accounts/:id/tokens/:tid/revoke": postOut("/console/accounts/:id/tokens/:tid/revoke", account, nil),
		"GET /console/audit":                            adminPage("/console/audit"),
		"GET /console/audit/export.xlsx":                adminPage("/console/audit/export.xlsx"),
		"GET /console/audit/:id":                        getOut("/console/audit/:id", auditID),

		"GET /api/v1/dashboard": api("GET", "/api/v1/dashboard", nil, nil, true),
		"GET /api/v1/orgs":      api("GET", "/api/v1/orgs", nil, nil, true),
		"POST /api/v1/orgs":     api("POST", "/api/v1/orgs", nil, func(o outsider) any { return map[string]any{"parent_id": atoi(o.org), "name": "越界新组织"} }, false),
		"GET /api/v1/orgs/:id":  api("GET", "/api/v1/orgs/:id", org, nil, false),
		"GET /api/v1/members":   api("GET", "/api/v1/members?per_page=500", nil, nil, true),
		"POST /api/v1/members": api("POST", "/api/v1/members", nil, func(o outsider) any {
			return map[string]any{"name": "越界新人", "phone": "13600001236", "role": "党员", "org_id": atoi(o.org)}
		}, false),
		"POST /api/v1/members/import":   nil, // checked below
		"GET /api/v1/members/:id":       api("GET", "/api/v1/members/:id", member, nil, false),
		"PATCH /api/v1/members/:id":     api("PATCH", "/api/v1/members/:id", member, func(o outsider) any { return map[string]any{"name": "改掉", "active": false} }, false),
		"GET /api/v1/questions":         api("GET", "/api/v1/questions?per_page=500", nil, nil, true),
		"GET /api/v1/questions/:id":     api("GET", "/api/v1/questions/"+question, nil, nil, true),
		"PATCH /api/v1/questions/:id":   bankChange("PATCH", "/api/v1/questions/:id"),
		"POST /api/v1/questions/import": bankChange("POST", "/api/v1/questions/import"),
		"GET /api/v1/me":                api("GET", "/api/v1/me", nil, nil, true),
		"GET /api/v1/accounts":          api("GET", "/api/v1/accounts", nil, nil, true),
		"POST /api/v1/accounts": api("POST", "/api/v1/accounts", nil, func(o outsider) any {
			return map[string]any{"username": "yuejie2", "display_name": "越界", "role": "admin", "org_id": atoi(o.org), "password": "password123"}
		}, false),
		"GET /api/v1/accounts/:id":      api("GET", "/api/v1/accounts/:id", account, nil, false),
		"PATCH /api/v1/accounts/:id":    api("PATCH", "/api/v1/accounts/:id", account, func(o outsider) any { return map[string]any{"display_name": "改掉", "active": false} }, false),
		"GET /api/v1/audit":             api("GET", "/api/v1/audit?per_page=500", nil, nil, true),
		"GET /api/v1/login/qr/:token":   nil, // public, no data
		"POST /api/v1/mp/login":         nil, // mini-program member API: no console scope; see handlers/mp tests
		"POST /api/v1/mp/bind":          nil, // mini-program member API: no console scope; see handlers/mp tests
		"GET /api/v1/mp/me":             nil, // mini-program member API: no console scope; see handlers/mp tests
		"POST /api/v1/mp/logout":        nil, // mini-program member API: no console scope; see handlers/mp tests
		"GET /api/v1/mp/study/today":    nil, // mini-program member API: no console scope; see handlers/study tests
		"POST /api/v1/mp/study/answers": nil, // mini-program member API: no console scope; see handlers/study tests
		"GET /api/v1/mp/study/history":  nil, // mini-program member API: no console scope; see handlers/study tests
		"GET /api/v1/mp/study/wrong":    nil, // mini-program member API: no console scope; see handlers/study tests
		"GET /api/v1/mp/study/stats":    nil, // mini-program member API: no console scope; see handlers/study tests
		"GET /api/v1/mp/study/board":    nil, // mini-program member API: no console scope; see handlers/study tests

		// completion tests: a member reaches only the exams of his org and above (see handlers/study's exam tests)
		"GET /api/v1/mp/exams":                          nil, // mini-program member API: no console scope
		"POST /api/v1/mp/exams/:id/attempts":            nil, // mini-program member API: no console scope
		"POST /api/v1/mp/exams/:id/attempts/:n/answers": nil, // mini-program member API: no console scope
		"POST /api/v1/mp/exams/:id/attempts/:n/finish":  nil, // mini-program member API: no console scope
		// the console's list: an exam set in the outside org (named after it) never shows
		"GET /api/v1/exams": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			outsideExam(t, e, o)
			status, body := e.API(tok, "GET", "/api/v1/exams", nil, nil)
			noLeak(t, "GET /api/v1/exams", status, body, o)
		},
		// an exam for the outside org is refused (a secretary may make none at all) and nothing is made
		"POST /api/v1/exams": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			status, body := e.API(tok, "POST", "/api/v1/exams", map[string]any{"org_id": atoi(o.org), "title": "越界考试",
				"quota": map[string]int{"判断": 1}, "closes_at": e.Clock.Now().AddDate(0, 0, 7)}, nil)
			denied(t, "POST /api/v1/exams", status, body)
			var n int64
			e.App.DB().Table("exams").Where("title = ?", "越界考试").Count(&n)
			if n > 0 {
				t.Errorf("POST /api/v1/exams as %s made an exam outside his scope", o.user)
			}
			unchanged(t, o)
		},

		// study figures: the lists and exports (a year of them) show nothing outside, and asking for an
		// outside org or member is refused; so is a rule for an outside org (a secretary may set none)
		"GET /console/study":                     studyChecks(page("/console/study?period=year"), getOut("/console/study?org=:id", org)),
		"GET /console/study/export.xlsx":         studyChecks(page("/console/study/export.xlsx?period=year"), getOut("/console/study/export.xlsx?org=:id", org)),
		"GET /console/study/members":             studyChecks(page("/console/study/members?period=year&per_page=500"), getOut("/console/study/members?org=:id", org)),
		"GET /console/study/members/export.xlsx": studyChecks(page("/console/study/members/export.xlsx?period=year"), getOut("/console/study/members/export.xlsx?org=:id", org)),
		"GET /console/study/members/:id":         getOut("/console/study/members/:id?period=year", member),
		"GET /console/study/rules":               studyChecks(page("/console/study/rules"), getOut("/console/study/rules?org=:id", org)),
		"POST /console/study/rules": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/study/rules", url.Values{"org_id": {o.org}, "questions_per_task": {"9"}, "review_per_task": {"1"},
				"publish_at": {"07:00"}, "remind_at": {"20:00"}, "points_per_right": {"1"}, "daily_points_cap": {"9"}, "streak_bonus": {"0"},
				"streak_bonus_max": {"0"}, "minutes_per_task": {"9"}})
			denied(t, "POST /console/study/rules", res.StatusCode, body)
			var n int64
			e.App.DB().Table("study_rules").Where("questions_per_task = ?", 9).Count(&n)
			if n > 0 {
				t.Errorf("POST /console/study/rules as %s set a rule outside his scope", o.user)
			}
			unchanged(t, o)
		},
		"GET /api/v1/study/progress": studyChecks(api("GET", "/api/v1/study/progress?period=year", nil, nil, true),
			api("GET", "/api/v1/study/progress?org=:id", org, nil, false)),
		"GET /api/v1/study/members": studyChecks(api("GET", "/api/v1/study/members?period=year&per_page=500", nil, nil, true),
			api("GET", "/api/v1/study/members?org=:id", org, nil, false)),

		// attendance: places, duty rules, check-ins (wire_attendance.go)
		// the outside org's place and the outside member's check-in of today never show, an outside org
		// is refused as a filter, and nothing outside is made or changed (attendance_matrix_test.go)
		"GET /console/attendance/checkins": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			attendOutside(t, e, o)
			studyChecks(page("/console/attendance/checkins?per_page=500"), page("/console/attendance/checkins?flagged=1"),
				getOut("/console/attendance/checkins?org=:id", org))(t, c, tok, o)
		},
		"GET /console/attendance/places": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			attendOutside(t, e, o)
			studyChecks(page("/console/attendance/places"), getOut("/console/attendance/places?org=:id", org))(t, c, tok, o)
		},
		"GET /console/attendance/places/new": page("/console/attendance/places/new"),
		"POST /console/attendance/places": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/attendance/places", url.Values{"org_id": {o.org}, "name": {"越界地点"}, "lat": {"29.9"}, "lng": {"103.3"}, "radius": {"300"}})
			denied(t, "POST /console/attendance/places", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"GET /console/attendance/places/import": page("/console/attendance/places/import"),
		"POST /console/attendance/places/import": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			var path string
			e.App.DB().Table("orgs").Where("id = ?", o.org).Select("path").Row().Scan(&path)
			csv := []byte("组织,名称,纬度,经度,半径米\n" + path + ",越界地点,29.9,103.3,300\n")
			res, body := c.PostFile("/console/attendance/places/import", nil, "file", "places.csv", csv)
			if res.StatusCode >= 500 || !strings.Contains(body, "不在你的管理范围内") {
				t.Errorf("places import outside the scope as %s: %d\n%.400s", o.user, res.StatusCode, body)
			}
			attendOutsideUnchanged(t, e, o)
		},
		"GET /console/attendance/places/import/template.csv": page("/console/attendance/places/import/template.csv"),
		"GET /console/attendance/places/:id": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			id, _, _ := attendOutside(t, e, o)
			getOut("/console/attendance/places/"+id, none)(t, c, tok, o)
		},
		"POST /console/attendance/places/:id": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			id, _, _ := attendOutside(t, e, o)
			res, body := c.PostForm("/console/attendance/places/"+id, url.Values{"name": {"改掉"}, "lat": {"29.9"}, "lng": {"103.3"}, "radius": {"3000"}})
			denied(t, "POST /console/attendance/places/:id", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"POST /console/attendance/places/:id/deactivate": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			id, _, _ := attendOutside(t, e, o)
			res, body := c.PostForm("/console/attendance/places/"+id+"/deactivate", nil)
			denied(t, "POST /console/attendance/places/:id/deactivate", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"POST /console/attendance/places/:id/activate": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			id, _, _ := attendOutside(t, e, o)
			res, body := c.PostForm("/console/attendance/places/"+id+"/activate", nil)
			denied(t, "POST /console/attendance/places/:id/activate", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"GET /console/attendance/rules": studyChecks(page("/console/attendance/rules"), getOut("/console/attendance/rules?org=:id", org)),
		"POST /console/attendance/rules": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/attendance/rules", url.Values{"org_id": {o.org}, "work_days": {"1", "2"}, "on_duty": {"08:00"},
				"off_duty": {"18:00"}, "late_grace": {"77"}, "early_grace": {"5"}})
			denied(t, "POST /console/attendance/rules", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"GET /console/attendance/holidays": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			attendOutside(t, e, o)
			res, body := c.Get("/console/attendance/holidays")
			noLeak(t, "GET /console/attendance/holidays", res.StatusCode, body, o)
			attendNoOtherCounty(t, "GET /console/attendance/holidays", body)
			getOut("/console/attendance/holidays?org=:id", org)(t, c, tok, o)
		},
		"POST /console/attendance/holidays": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/attendance/holidays", url.Values{"org_id": {attendCountyOf(t, e, o)}, "day": {"2026-12-25"}, "name": {"越界节日"}})
			denied(t, "POST /console/attendance/holidays", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"POST /console/attendance/holidays/:id/delete": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			_, id, _ := attendOutside(t, e, o)
			res, body := c.PostForm("/console/attendance/holidays/"+id+"/delete", nil)
			denied(t, "POST /console/attendance/holidays/:id/delete", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"POST /console/attendance/seasons": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/attendance/seasons", url.Values{"org_id": {attendCountyOf(t, e, o)}, "season_name": {"越界农忙"},
				"start_day": {"2027-05-01"}, "end_day": {"2027-05-20"}, "days": {"10"}})
			denied(t, "POST /console/attendance/seasons", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"POST /console/attendance/seasons/:id/delete": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			_, _, id := attendOutside(t, e, o)
			res, body := c.PostForm("/console/attendance/seasons/"+id+"/delete", nil)
			denied(t, "POST /console/attendance/seasons/:id/delete", res.StatusCode, body)
			attendOutsideUnchanged(t, e, o)
		},
		"GET /api/v1/attendance/places": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			attendOutside(t, e, o)
			studyChecks(api("GET", "/api/v1/attendance/places", nil, nil, true), api("GET", "/api/v1/attendance/places?org=:id", org, nil, false))(t, c, tok, o)
		},
		"POST /api/v1/attendance/places": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			api("POST", "/api/v1/attendance/places", nil, func(o outsider) any {
				return map[string]any{"org_id": atoi(o.org), "name": "越界地点", "lat": 29.9, "lng": 103.3}
			}, false)(t, c, tok, o)
			attendOutsideUnchanged(t, e, o)
		},
		"PATCH /api/v1/attendance/places/:id": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			id, _, _ := attendOutside(t, e, o)
			api("PATCH", "/api/v1/attendance/places/"+id, nil, func(o outsider) any { return map[string]any{"active": false, "radius": 3000} }, false)(t, c, tok, o)
			attendOutsideUnchanged(t, e, o)
		},
		"GET /api/v1/attendance/checkins": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			attendOutside(t, e, o)
			studyChecks(api("GET", "/api/v1/attendance/checkins?per_page=500", nil, nil, true),
				api("GET", "/api/v1/attendance/checkins?org=:id", org, nil, false))(t, c, tok, o)
		},
		"GET /api/v1/attendance/rules":       studyChecks(api("GET", "/api/v1/attendance/rules", nil, nil, true), api("GET", "/api/v1/attendance/rules?org=:id", org, nil, false)),
		"POST /api/v1/mp/attendance/checkin": nil, // mini-program member API: his own check-ins only; see handlers/attendance tests
		"GET /api/v1/mp/attendance/today":    nil, // mini-program member API: his own places and records; see handlers/attendance tests

		// meetings (wire_meeting.go)
		// the lists, overdue table and forms show nothing of a meeting set in the outside org (named
		// after it, with the outside member expected); its pages and files are not found; nothing of it
		// changes, and no meeting is made for an outside org
		"GET /console/meetings": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			outsideMeeting(t, e, o)
			studyChecks(page("/console/meetings?per_page=500"), getOut("/console/meetings?org=:id", org))(t, c, tok, o)
		},
		"GET /console/meetings/new":     studyChecks(page("/console/meetings/new"), getOut("/console/meetings/new?org=:id", org)),
		"GET /console/meetings/overdue": page("/console/meetings/overdue?all=1"),
		"POST /console/meetings": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/meetings", url.Values{"org_id": {o.org}, "type": {models.MeetingCommittee}, "title": {"越界会议"},
				"place": {"x"}, "date": {e.Clock.Now().AddDate(0, 0, 2).Format("2006-01-02")}, "start": {"09:00"}, "end": {"10:00"}})
			denied(t, "POST /console/meetings", res.StatusCode, body)
			outsideMeetingUnchanged(t, e, o)
			unchanged(t, o)
		},
		"GET /console/meetings/:id": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			id, fid := outsideMeeting(t, e, o)
			for _, p := range []string{"", "/screen", "/export.xlsx", "/files/" + fid} {
				getOut("/console/meetings/"+id+p, none)(t, c, tok, o)
			}
		},
		"GET /console/meetings/:id/screen":      nil, // checked with GET /console/meetings/:id
		"GET /console/meetings/:id/export.xlsx": nil, // idem
		"GET /console/meetings/:id/files/:fid":  nil, // idem
		"POST /console/meetings/:id/attendance": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			id, _ := outsideMeeting(t, e, o)
			res, body := c.PostForm("/console/meetings/"+id+"/attendance", url.Values{"member_id": {o.member}, "status": {models.MeetingExcused}, "note": {"越界"}})
			denied(t, "POST /console/meetings/:id/attendance", res.StatusCode, body)
			outsideMeetingUnchanged(t, e, o)
			unchanged(t, o)
		},
		"POST /console/meetings/:id/files": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			id, _ := outsideMeeting(t, e, o)
			res, body := c.PostFile("/console/meetings/"+id+"/files", nil, "file", "越界.pdf", []byte("%PDF-1.4\n%%EOF\n"))
			denied(t, "POST /console/meetings/:id/files", res.StatusCode, body)
			outsideMeetingUnchanged(t, e, o)
			unchanged(t, o)
		},
		"GET /api/v1/meetings": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			outsideMeeting(t, e, o)
			studyChecks(api("GET", "/api/v1/meetings?per_page=500", nil, nil, true), api("GET", "/api/v1/meetings?org=:id", org, nil, false))(t, c, tok, o)
		},
		"POST /api/v1/meetings": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			start := e.Clock.Now().AddDate(0, 0, 2)
			status, body := e.API(tok, "POST", "/api/v1/meetings", map[string]any{"org_id": atoi(o.org), "type": models.MeetingCommittee,
				"title": "越界会议", "place": "x", "start_at": start, "end_at": start.Add(3600e9)}, nil)
			denied(t, "POST /api/v1/meetings", status, body)
			outsideMeetingUnchanged(t, e, o)
			unchanged(t, o)
		},
		"GET /api/v1/meetings/:id": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			id, _ := outsideMeeting(t, e, o)
			api("GET", "/api/v1/meetings/"+id, nil, nil, false)(t, c, tok, o)
		},
		"GET /api/v1/mp/meetings":              nil, // mini-program member API: his own meetings only; see handlers/meetings tests
		"POST /api/v1/mp/meetings/:id/checkin": nil, // mini-program member API: only meetings he is expected at; see handlers/meetings tests

		// leave, make-up and off-site requests (wire_requests.go)
		// the outside member's pending request never shows in a list, its page and both decisions are
		// refused and it stays pending; an outside org as filter is refused; only a county's own
		// administrators set its quota (requests_matrix_test.go)
		"GET /console/requests": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			requestOutside(t, e, o)
			studyChecks(page("/console/requests?per_page=500"), page("/console/requests?state=pending"), getOut("/console/requests?org=:id", org))(t, c, tok, o)
		},
		"GET /console/requests/:id": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			getOut("/console/requests/"+requestOutside(t, e, o), none)(t, c, tok, o)
		},
		"POST /console/requests/:id/approve": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			postOut("/console/requests/"+requestOutside(t, e, o)+"/approve", none, func(outsider) url.Values { return url.Values{"note": {"越界"}} })(t, c, tok, o)
			requestOutsideUnchanged(t, e, o)
		},
		"POST /console/requests/:id/reject": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			postOut("/console/requests/"+requestOutside(t, e, o)+"/reject", none, func(outsider) url.Values { return url.Values{"note": {"越界"}} })(t, c, tok, o)
			requestOutsideUnchanged(t, e, o)
		},
		"GET /console/requests/quota": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			studyChecks(page("/console/requests/quota"), page("/console/requests/quota?org="+outsideCounty(t, e, o)), getOut("/console/requests/quota?org=:id", org))(t, c, tok, o)
		},
		"POST /console/requests/quota": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			county := outsideCounty(t, e, o)
			res, body := c.PostForm("/console/requests/quota", url.Values{"org_id": {county}, "leave_days": {"99"}, "makeup_per_month": {"3"}})
			// another county's (404), or his own county's as a town's or a village's viewer (403)
			denied(t, "POST /console/requests/quota", res.StatusCode, body)
			requestOutsideUnchanged(t, e, o)
		},
		"GET /api/v1/attendance/requests": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			requestOutside(t, e, o)
			studyChecks(api("GET", "/api/v1/attendance/requests?per_page=500", nil, nil, true),
				api("GET", "/api/v1/attendance/requests?org=:id", org, nil, false))(t, c, tok, o)
		},
		"POST /api/v1/attendance/requests/:id/approve": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			api("POST", "/api/v1/attendance/requests/"+requestOutside(t, e, o)+"/approve", nil, func(outsider) any { return map[string]string{"note": "越界"} }, false)(t, c, tok, o)
			requestOutsideUnchanged(t, e, o)
		},
		"POST /api/v1/attendance/requests/:id/reject": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			api("POST", "/api/v1/attendance/requests/"+requestOutside(t, e, o)+"/reject", nil, func(outsider) any { return map[string]string{"note": "越界"} }, false)(t, c, tok, o)
			requestOutsideUnchanged(t, e, o)
		},

		// attendance reports and the public board (wire_attendreports.go)
		// the report, its export and a member's days show nothing outside (the outside member has days
		// there), and an outside org, member or county is refused; the settings are a county
		// administrator's; the board shows the viewer's county only, never a person (attendanceBoardCheck)
		"GET /console/attendance/report": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			outsideAttendance(t, e, o)
			studyChecks(page("/console/attendance/report?period=month"), page("/console/attendance/report?period=month&view=members&per_page=500"),
				getOut("/console/attendance/report?org=:id", org))(t, c, tok, o)
		},
		"GET /console/attendance/report/export.xlsx": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			outsideAttendance(t, e, o)
			studyChecks(page("/console/attendance/report/export.xlsx?period=month"), getOut("/console/attendance/report/export.xlsx?org=:id", org))(t, c, tok, o)
		},
		"GET /console/attendance/report/members/:id": getOut("/console/attendance/report/members/:id?period=month", member),
		"GET /console/attendance/report/settings":    studyChecks(adminPage("/console/attendance/report/settings"), getOut("/console/attendance/report/settings?org=:id", org)),
		"POST /console/attendance/report/settings": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/attendance/report/settings", url.Values{"org_id": {o.org}, "green": {"51"}, "yellow": {"11"}, "board_public": {"1"}})
			denied(t, "POST /console/attendance/report/settings", res.StatusCode, body)
			var n int64
			e.App.DB().Table("attendance_thresholds").Where("green = ?", 51).Count(&n)
			if n > 0 {
				t.Errorf("POST /console/attendance/report/settings as %s changed a county outside his scope", o.user)
			}
			unchanged(t, o)
		},
		"GET /console/attendance/board": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			attendanceBoardCheck(t, e, o, func(path string) (int, string) {
				res, body := c.Get(path)
				return res.StatusCode, body
			})
		},
		"GET /api/v1/attendance/report": func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			outsideAttendance(t, e, o)
			studyChecks(api("GET", "/api/v1/attendance/report?period=month&members=1", nil, nil, true),
				api("GET", "/api/v1/attendance/report?org=:id", org, nil, false))(t, c, tok, o)
		},
		"GET /api/v1/attendance/board": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			attendanceBoardCheck(t, e, o, func(path string) (int, string) {
				return e.API(tok, "GET", "/api/v1"+strings.TrimPrefix(path, "/console"), nil, nil)
			})
		},
		"GET /api/v1/mp/attendance/board": nil, // mini-program member API: his own county's board only; see handlers/attendance/reports tests

		// policy Q&A (wire_policy.go)

		// policy console: documents, FAQ, inbox (wire_policy_console.go)

		// broadcasts (wire_broadcast.go): one to the outside org never shows and cannot be changed; one
		// that reached both sides shows only the viewer's people (see outsideBroadcasts)
		"GET /console/broadcasts": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			outsideBroadcasts(t, e.Env, o)
			res, body := c.Get("/console/broadcasts?per_page=500")
			noLeak(t, "GET /console/broadcasts", res.StatusCode, body, o)
		},
		"GET /console/broadcasts/new": adminPage("/console/broadcasts/new"),
		"POST /console/broadcasts": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			res, body := c.PostForm("/console/broadcasts", url.Values{"org_id": {o.org}, "text": {"越界群发"}})
			denied(t, "POST /console/broadcasts", res.StatusCode, body)
			noBroadcast(t, e.Env, o, "越界群发")
		},
		"GET /console/broadcasts/:id": func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
			out, shared := outsideBroadcasts(t, e.Env, o)
			getOut("/console/broadcasts/:id", func(outsider) string { return out })(t, c, "", o)
			for _, f := range []string{"", "?status=failed"} {
				res, body := c.Get("/console/broadcasts/" + shared + f)
				noLeak(t, "GET /console/broadcasts/shared"+f, res.StatusCode, body, o)
			}
		},
		"POST /console/broadcasts/:id/pause":   broadcastChange(e.Env, "/console/broadcasts/:id/pause"),
		"POST /console/broadcasts/:id/resume":  broadcastChange(e.Env, "/console/broadcasts/:id/resume"),
		"POST /console/broadcasts/:id/cancel":  broadcastChange(e.Env, "/console/broadcasts/:id/cancel"),
		"POST /console/broadcasts/:id/approve": broadcastChange(e.Env, "/console/broadcasts/:id/approve"),
		"POST /console/broadcasts/:id/remind":  broadcastRemind(e.Env, "/console/broadcasts/:id/remind"),
		"GET /api/v1/broadcasts": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			outsideBroadcasts(t, e.Env, o)
			api("GET", "/api/v1/broadcasts?per_page=500", nil, nil, true)(t, nil, tok, o)
		},
		"POST /api/v1/broadcasts": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			api("POST", "/api/v1/broadcasts", nil, func(o outsider) any { return map[string]any{"org_ids": []int{atoi(o.org)}, "text": "越界群发"} }, false)(t, nil, tok, o)
			noBroadcast(t, e.Env, o, "越界群发")
		},
		"GET /api/v1/broadcasts/:id": func(t *testing.T, _ *consoletest.Client, tok string, o outsider) {
			out, shared := outsideBroadcasts(t, e.Env, o)
			api("GET", "/api/v1/broadcasts/:id", func(outsider) string { return out }, nil, false)(t, nil, tok, o)
			api("GET", "/api/v1/broadcasts/"+shared, nil, nil, true)(t, nil, tok, o)
		},
		"POST /api/v1/broadcasts/:id/pause":        broadcastChange(e.Env, "/api/v1/broadcasts/:id/pause"),
		"POST /api/v1/broadcasts/:id/resume":       broadcastChange(e.Env, "/api/v1/broadcasts/:id/resume"),
		"POST /api/v1/broadcasts/:id/cancel":       broadcastChange(e.Env, "/api/v1/broadcasts/:id/cancel"),
		"POST /api/v1/broadcasts/:id/approve":      broadcastChange(e.Env, "/api/v1/broadcasts/:id/approve"),
		"POST /api/v1/broadcasts/:id/remind":       broadcastRemind(e.Env, "/api/v1/broadcasts/:id/remind"),
		"GET /console/policy":                      policyList(e, "/console/policy", noLeak, denied),
		"GET /console/policy/questions/:id":        policyGetOut(e, denied),
		"POST /console/policy/questions/:id/reply": policyAnswerOut(e, "/console/policy/questions/:id/reply", denied),
		"POST /console/policy/questions/:id/faq":   policyAnswerOut(e, "/console/policy/questions/:id/faq", denied),
		"GET /console/policy/faqs":                 page("/console/policy/faqs?per_page=500"),
		"GET /console/policy/faqs/new":             adminPage("/console/policy/faqs/new"),
		"POST /console/policy/faqs":                policyChange(e, "POST", "/console/policy/faqs"),
		"GET /console/policy/faqs/:id":             page("/console/policy/faqs/" + policyFAQ(t, e)),
		"POST /console/policy/faqs/:id":            policyChange(e, "POST", "/console/policy/faqs/:id"),
		"POST /console/policy/faqs/:id/retire":     policyChange(e, "POST", "/console/policy/faqs/:id/retire"),
		"POST /console/policy/faqs/:id/restore":    policyChange(e, "POST", "/console/policy/faqs/:id/restore"),
		"GET /console/policy/docs":                 page("/console/policy/docs"),
		"POST /console/policy/docs":                policyChange(e, "POST", "/console/policy/docs"),
		"GET /console/policy/docs/:id":             page("/console/policy/docs/" + policyDoc(t, e)),
		"GET /api/v1/policy/questions":             policyList(e, "/api/v1/policy/questions", noLeak, denied),
		"POST /api/v1/policy/questions/:id/reply":  policyAnswerOut(e, "/api/v1/policy/questions/:id/reply", denied),
		"GET /api/v1/policy/faqs":                  api("GET", "/api/v1/policy/faqs?per_page=500", nil, nil, true),
		"POST /api/v1/policy/faqs":                 policyChange(e, "POST", "/api/v1/policy/faqs"),
		"PATCH /api/v1/policy/faqs/:id":            policyChange(e, "PATCH", "/api/v1/policy/faqs/:id"),
	}
	// surveys (wire_survey.go): the lines are in survey_matrix_test.go
	for k, chk := range surveyChecks(e.Env, denied, noLeak) {
		matrix[k] = chk
	}
	// Moving one's own member out of the scope.
	moveOut := func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		var m models.Member
		e.App.DB().Take(&m, o.own)
		res, body := c.PostForm("/console/members/"+o.own, url.Values{"name": {m.Name}, "phone": {m.Phone}, "role": {m.Role}, "org_id": {o.org}})
		denied(t, "move out (page)", res.StatusCode, body)
		st, body := e.API(tok, "PATCH", "/api/v1/members/"+o.own, map[string]any{"org_id": atoi(o.org)}, nil)
		denied(t, "move out (API)", st, body)
		unchanged(t, o)
	}
	importOut := func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		var path string
		e.App.DB().Table("orgs").Where("id = ?", o.org).Select("path").Row().Scan(&path)
		csv := []byte("姓名,手机号,角色,组织\n越界新人,13600001237,党员," + path + "\n")
		res, body := c.PostFile("/console/import", nil, "file", "x.csv", csv)
		if res.StatusCode >= 500 || !strings.Contains(body, "不在你的管理范围内") {
			t.Errorf("import outside the scope (page): %d\n%.400s", res.StatusCode, body)
		}
		unchanged(t, o)
	}

	for _, r := range e.App.Routes() {
		if !strings.HasPrefix(r.Path, "/console/") && !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		switch r.Path {
		case "/console/login", "/console/login/qr", "/console/static/*file":
			continue
		}
		if _, ok := matrix[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s has no line in the scope matrix", r.Method, r.Path)
		}
	}
	keys := regexp.MustCompile(`^(GET|POST|PATCH|PUT|DELETE) `)
	for _, o := range viewers {
		t.Run(o.user, func(t *testing.T) {
			c := e.Login(o.user)
			tok := e.Token(o.user)
			// The objects outside his scope that several checks look for exist before any check runs,
			// and the checks run in one order, so that a failure reproduces.
			attendOutside(t, e, o)
			routes := make([]string, 0, len(matrix))
			for k := range matrix {
				routes = append(routes, k)
			}
			sort.Strings(routes)
			for _, k := range routes {
				chk := matrix[k]
				if chk == nil || !keys.MatchString(k) {
					continue
				}
				chk(t, c, tok, o)
			}
			moveOut(t, c, tok, o)
			importOut(t, c, tok, o)
		})
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// xlsxText is every cell of an .xlsx, for leak checks.
func xlsxText(t *testing.T, body string) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("export is not an xlsx: %v", err)
	}
	defer f.Close()
	var sb strings.Builder
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for _, r := range rows {
			sb.WriteString(strings.Join(r, "\t"))
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// outsideExam puts an exam named after the outside org in it (once), for the list's leak check.
func outsideExam(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	now := e.Clock.Now().UTC()
	ex := models.Exam{OrgID: uint(atoi(o.org)), Title: o.orgName + "结业测试", Quota: `{"判断":1}`, PassMark: 60, MaxAttempts: 1,
		OpensAt: now, ClosesAt: now.AddDate(0, 0, 7), CreatedBy: "x"}
	if err := e.App.DB().Omit("Org").Where("org_id = ? AND title = ?", ex.OrgID, ex.Title).FirstOrCreate(&ex).Error; err != nil {
		t.Fatal(err)
	}
}

// outsideAttendance gives the outside member a day of attendance in the outside org (once), so that
// the reports' leak checks have something to find.
func outsideAttendance(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	var path string
	e.App.DB().Table("orgs").Where("id = ?", o.org).Select("path").Row().Scan(&path)
	d := models.AttendanceDay{MemberID: uint(atoi(o.member)), Day: e.Clock.Now().AddDate(0, 0, -1).Format("2006-01-02"),
		OrgID: uint(atoi(o.org)), OrgPath: path, Role: "党员", Status: models.DayAbsent, UpdatedAt: e.Clock.Now()}
	if err := e.App.DB().Where("member_id = ? AND day = ?", d.MemberID, d.Day).FirstOrCreate(&d).Error; err != nil {
		t.Fatal(err)
	}
}

// attendanceBoardCheck: with both counties' boards public, a viewer's board (console page or API, by
// get) shows his own county only: the other county's village never shows, nor any person, and asking
// for the other county is refused. (The other villages of his own county show on purpose: that is
// the board.)
func attendanceBoardCheck(t *testing.T, e *matrixEnv, o outsider, get func(path string) (int, string)) {
	t.Helper()
	outsideAttendance(t, e, o)
	for _, county := range []string{"洪雅县", "青神县"} {
		var id uint
		e.App.DB().Table("orgs").Where("path = ?", county).Select("id").Row().Scan(&id)
		row := models.AttendanceThresholds{OrgID: id, Green: 95, Yellow: 85, BoardPublic: true}
		if err := e.App.DB().Omit("Org").Where("org_id = ?", id).FirstOrCreate(&row).Error; err != nil {
			t.Fatal(err)
		}
	}
	status, body := get("/console/attendance/board?period=month")
	if status != http.StatusOK {
		t.Errorf("GET board as %s: %d\n%.300s", o.user, status, body)
	}
	for _, s := range []string{"中岩村", o.name, o.secret} {
		if strings.Contains(body, s) {
			t.Errorf("the board of %s shows %q", o.user, s)
		}
	}
	var qs string
	e.App.DB().Table("orgs").Where("path = ?", "青神县").Select("id").Row().Scan(&qs)
	status, body = get("/console/attendance/board?county=" + qs)
	if status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("the other county's board as %s: %d, want 403 or 404\n%.300s", o.user, status, body)
	}
}

// outsideMeeting puts a meeting named after the outside org in it (once), with the outside member
// expected and one attachment, for the meetings' leak and change checks. It returns the meeting's and
// the file's ids.
func outsideMeeting(t *testing.T, e *matrixEnv, o outsider) (string, string) {
	t.Helper()
	start := e.Clock.Now().AddDate(0, 0, 1).UTC()
	m := models.Meeting{OrgID: uint(atoi(o.org)), Type: models.MeetingCommittee, Title: o.orgName + "支委会", Place: "会议室",
		StartAt: start, EndAt: start.Add(3600e9), Code: "999999", CreatedBy: "x"}
	if err := e.App.DB().Where("org_id = ? AND title = ?", m.OrgID, m.Title).FirstOrCreate(&m).Error; err != nil {
		t.Fatal(err)
	}
	a := models.MeetingAttendee{MeetingID: m.ID, MemberID: uint(atoi(o.member)), Status: models.MeetingExpected}
	if err := e.App.DB().Where("meeting_id = ? AND member_id = ?", a.MeetingID, a.MemberID).FirstOrCreate(&a).Error; err != nil {
		t.Fatal(err)
	}
	f := models.MeetingFile{MeetingID: m.ID, Kind: models.MeetingFileDocument, Name: "记录.pdf", ContentType: "application/pdf",
		Size: 4, Data: []byte("%PDF"), UploadedBy: "x"}
	if err := e.App.DB().Where("meeting_id = ?", m.ID).FirstOrCreate(&f).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(m.ID), fmt.Sprint(f.ID)
}

// outsideMeetingUnchanged: the outside meeting's attendance and files are as outsideMeeting made
// them, and no meeting was made for the outside org.
func outsideMeetingUnchanged(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	id, _ := outsideMeeting(t, e, o)
	var a models.MeetingAttendee
	e.App.DB().Where("meeting_id = ?", id).Take(&a)
	var files, made int64
	e.App.DB().Model(&models.MeetingFile{}).Where("meeting_id = ?", id).Count(&files)
	e.App.DB().Model(&models.Meeting{}).Where("title = ?", "越界会议").Count(&made)
	if a.Status != models.MeetingExpected || a.Note != "" || files != 1 || made != 0 {
		t.Errorf("the outside meeting changed as %s: attendee %+v, %d files, %d meetings made", o.user, a, files, made)
	}
}

// outsideBroadcasts makes (once per viewer) a pending broadcast to the org outside his scope, named
// after it (out), and one that reached both his member and the outside member (shared), with the
// outside member failed for a reason naming his org; it returns their ids.
func outsideBroadcasts(t *testing.T, e *consoletest.Env, o outsider) (out, shared string) {
	t.Helper()
	db := e.App.DB()
	text := o.orgName + "的群发"
	var b models.Broadcast
	if db.Where("text = ?", text).Take(&b).Error == nil {
		var sb models.Broadcast
		db.Where("text = ?", "共同群发-"+o.user).Take(&sb)
		return fmt.Sprint(b.ID), fmt.Sprint(sb.ID)
	}
	var outOrg, ownOrg models.Org
	db.Take(&outOrg, o.org)
	var own models.Member
	db.Preload("Org").Take(&own, o.own)
	ownOrg = own.Org
	now := e.Clock.Now().UTC()
	b = models.Broadcast{Kind: models.BroadcastNotice, Text: text, OrgPath: outOrg.Path, Status: models.BroadcastPending, NeedsApproval: true,
		SendAt: now, CreatedBy: "x", Orgs: []models.BroadcastOrg{{OrgID: outOrg.ID, Path: outOrg.Path}}}
	if err := db.Omit("Orgs.Org").Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	sb := models.Broadcast{Kind: models.BroadcastNotice, Text: "共同群发-" + o.user, Status: models.BroadcastPaused, SendAt: now, CreatedBy: "x",
		Orgs: []models.BroadcastOrg{{OrgID: outOrg.ID, Path: outOrg.Path}, {OrgID: ownOrg.ID, Path: ownOrg.Path}}}
	if err := db.Omit("Orgs.Org").Create(&sb).Error; err != nil {
		t.Fatal(err)
	}
	var outMember models.Member
	db.Take(&outMember, o.member)
	for _, d := range []models.Delivery{
		{BroadcastID: sb.ID, MemberID: own.ID, OrgID: own.OrgID, OpenID: "o1", Status: models.DeliverySent},
		{BroadcastID: sb.ID, MemberID: outMember.ID, OrgID: outMember.OrgID, OpenID: "o2", Status: models.DeliveryFailed, Reason: o.secret},
	} {
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&models.BroadcastTally{BroadcastID: sb.ID, OrgID: d.OrgID, Status: d.Status, N: 1}).Error; err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprint(b.ID), fmt.Sprint(sb.ID)
}

// noBroadcast fails when a broadcast with this text exists.
func noBroadcast(t *testing.T, e *consoletest.Env, o outsider, text string) {
	t.Helper()
	var n int64
	e.App.DB().Model(&models.Broadcast{}).Where("text = ?", text).Count(&n)
	if n > 0 {
		t.Errorf("%s made a broadcast to an org outside his scope", o.user)
	}
}

// broadcastChange tries a change (pause, resume, cancel, approve) of both outside broadcasts: refused
// (403 or 404), and both stay as they were.
func broadcastChange(e *consoletest.Env, path string) func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
	return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		t.Helper()
		out, shared := outsideBroadcasts(t, e, o)
		for _, id := range []string{out, shared} {
			p := strings.Replace(path, ":id", id, 1)
			var status int
			var body string
			if strings.HasPrefix(p, "/api/") {
				status, body = e.API(tok, http.MethodPost, p, nil, nil)
			} else {
				res, b := c.PostForm(p, nil)
				status, body = res.StatusCode, b
			}
			if status != http.StatusForbidden && status != http.StatusNotFound {
				t.Errorf("POST %s as %s: %d, want 403 or 404\n%.300s", p, o.user, status, body)
			}
		}
		var bs []models.Broadcast
		e.App.DB().Where("id IN ?", []string{out, shared}).Order("id").Find(&bs)
		if len(bs) != 2 || bs[0].Status != models.BroadcastPending || bs[1].Status != models.BroadcastPaused {
			t.Errorf("POST %s as %s changed a broadcast outside his scope: %+v", path, o.user, bs)
		}
	}
}

// broadcastRemind: 提醒未读 of both outside broadcasts is refused as a change is, and makes no reminder.
func broadcastRemind(e *consoletest.Env, path string) func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
	change := broadcastChange(e, path)
	return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		t.Helper()
		change(t, c, tok, o)
		var n int64
		e.App.DB().Model(&models.Broadcast{}).Where("payload LIKE ?", `{"remind_of":%`).Count(&n)
		if n > 0 {
			t.Errorf("POST %s as %s made a reminder of a broadcast outside his scope", path, o.user)
		}
	}
}

// countyBroadcast records a notice to the demo county as its administrator (through the API) and
// returns its id.
func countyBroadcast(t *testing.T, e *consoletest.Env) string {
	t.Helper()
	var b struct {
		ID uint `json:"id"`
	}
	if st, body := e.API(e.Token(consoletest.County), http.MethodPost, "/api/v1/broadcasts",
		map[string]any{"org_paths": []string{"洪雅县"}, "text": "请各支部周五前报送材料。"}, &b); st != http.StatusCreated {
		t.Fatalf("a broadcast: %d %s", st, body)
	}
	return fmt.Sprint(b.ID)
}
