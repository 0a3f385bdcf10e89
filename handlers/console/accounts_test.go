package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// acctLogin logs a new browser in as username with password.
func acctLogin(t *testing.T, e *consoletest.Env, username, password string) *consoletest.Client {
	t.Helper()
	c := e.NewClient()
	c.Get("/console/login")
	res, body := c.PostForm("/console/login", url.Values{"username": {username}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d\n%s", username, res.StatusCode, body)
	}
	c.Get("/console/") // picks up the session's CSRF token
	return c
}

// acctLoginFails reports whether a password login is refused.
func acctLoginFails(t *testing.T, e *consoletest.Env, username, password string) bool {
	t.Helper()
	c := e.NewClient()
	c.Get("/console/login")
	res, _ := c.PostForm("/console/login", url.Values{"username": {username}, "password": {password}})
	return res.StatusCode == http.StatusUnauthorized
}

func acctID(t *testing.T, e *consoletest.Env, table, where string, args ...any) uint {
	t.Helper()
	var id uint
	if err := e.App.DB().Table(table).Where(where, args...).Select("id").Order("id").Limit(1).Row().Scan(&id); err != nil {
		t.Fatalf("id from %s where %s %v: %v", table, where, args, err)
	}
	return id
}

func accountByName(t *testing.T, e *consoletest.Env, username string) models.Account {
	t.Helper()
	var a models.Account
	if err := e.App.DB().Preload("Org").Where("username = ?", username).Take(&a).Error; err != nil {
		t.Fatalf("account %s: %v", username, err)
	}
	return a
}

type apiAccount struct {
	ID          uint
	Username    string
	DisplayName string `json:"display_name"`
	Role        string
	OrgID       *uint  `json:"org_id"`
	OrgPath     string `json:"org_path"`
	MemberID    *uint  `json:"member_id"`
	Active      bool
}

type apiAccountList struct {
	Items   []apiAccount
	Total   int
	Page    int
	PerPage int `json:"per_page"`
}

var accountLocation = regexp.MustCompile(`^/console/accounts/(\d+)$`)

func TestATownAdministratorGivesAVillageSecretaryALoginThatSeesOnlyHisVillage(t *testing.T) {
	e := consoletest.New(t)
	huaxi := e.Login(consoletest.Town)
	chen := acctID(t, e, "members", "name = ?", "陈志强") // 书记 of 洪雅县/花溪镇/双河村

	res, body := huaxi.Get(fmt.Sprintf("/console/accounts/new?member=%d", chen))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "陈志强") || strings.Contains(body, "张国华（") {
		t.Fatalf("new account form: %d (陈志强 offered, 张国华 who has an account not)\n%s", res.StatusCode, body)
	}
	res, body = huaxi.PostForm("/console/accounts", url.Values{
		"member_id": {fmt.Sprint(chen)}, "username": {"chenzq"}, "display_name": {""}, "role": {""}, "org_id": {""}, "password": {"shuanghe-2026"},
	})
	m := accountLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	a := accountByName(t, e, "chenzq")
	if a.Role != models.ConsoleSecretary || a.Org == nil || a.Org.Path != "洪雅县/花溪镇/双河村" || a.DisplayName != "陈志强" ||
		a.MemberID == nil || *a.MemberID != chen || !a.Active {
		t.Fatalf("created account: %+v org %+v", a, a.Org)
	}
	if strings.Contains(a.PasswordHash, "shuanghe") {
		t.Fatal("the password is stored as it is")
	}
	if res, body := huaxi.Get(m[0]); res.StatusCode != http.StatusOK || !strings.Contains(body, "chenzq") || !strings.Contains(body, "双河村") {
		t.Fatalf("account page: %d\n%s", res.StatusCode, body)
	}

	// The new secretary logs in and sees his village only.
	chenzq := acctLogin(t, e, "chenzq", "shuanghe-2026")
	res, body = chenzq.Get("/console/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "双河村") || strings.Contains(body, "郭沟村") {
		t.Fatalf("his dashboard: %d\n%s", res.StatusCode, body)
	}
	if res, _ := chenzq.Get("/console/accounts"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a secretary on the accounts page: %d", res.StatusCode)
	}
	tok := e.Token("chenzq")
	var me struct {
		Username  string
		Role      string
		ScopePath string `json:"scope_path"`
		ScopeAll  bool   `json:"scope_all"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/me", nil, &me); st != http.StatusOK || me.Username != "chenzq" ||
		me.Role != "secretary" || me.ScopePath != "洪雅县/花溪镇/双河村" || me.ScopeAll {
		t.Fatalf("/api/v1/me: %d %s", st, body)
	}
	var d struct{ Members int }
	if st, body := e.API(tok, "GET", "/api/v1/dashboard", nil, &d); st != http.StatusOK || d.Members != 3 {
		t.Fatalf("his dashboard API: %d %s (双河村 has 3 members)", st, body)
	}

	// A member has one account at most.
	res, body = huaxi.PostForm("/console/accounts", url.Values{
		"member_id": {fmt.Sprint(chen)}, "username": {"chen2"}, "password": {"shuanghe-2026"},
	})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "已经有后台账号") {
		t.Fatalf("second account for the same member: %d\n%s", res.StatusCode, body)
	}
	// The creation is in the audit log, without the password.
	var after string
	e.App.DB().Table("audit_entries").Where("object = 'account' AND action = 'create' AND object_id = ?", m[1]).Select("after").Row().Scan(&after)
	if !strings.Contains(after, `"username":"chenzq"`) || strings.Contains(after, "shuanghe") || strings.Contains(after, "$2a$") {
		t.Fatalf("audit of the creation: %s", after)
	}
}

func TestAccountFormsCheckWhatTheyAreGiven(t *testing.T) {
	e := consoletest.New(t)
	admin := e.Login(consoletest.Admin)
	huaxiOrg := acctID(t, e, "orgs", "path = ?", "洪雅县/花溪镇")
	wang := acctID(t, e, "members", "name = ?", "王德明") // a 党员, not a 书记 or 管理员
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"short username", url.Values{"username": {"x"}, "display_name": {"某"}, "role": {"admin"}, "org_id": {fmt.Sprint(huaxiOrg)}, "password": {"12345678"}}, 400, "用户名需要"},
		{"username with a space", url.Values{"username": {"a b"}, "display_name": {"某"}, "role": {"admin"}, "org_id": {fmt.Sprint(huaxiOrg)}, "password": {"12345678"}}, 400, "不能有空格"},
		{"taken username, other case", url.Values{"username": {"HuaXi"}, "display_name": {"某"}, "role": {"admin"}, "org_id": {fmt.Sprint(huaxiOrg)}, "password": {"12345678"}}, 400, "已被使用"},
		{"short password", url.Values{"username": {"newone"}, "display_name": {"某"}, "role": {"admin"}, "org_id": {fmt.Sprint(huaxiOrg)}, "password": {"1234567"}}, 400, "至少 8 位"},
		{"no org", url.Values{"username": {"newone"}, "display_name": {"某"}, "role": {"admin"}, "password": {"12345678"}}, 400, "请选择账号所属的组织"},
		{"secretary of everything", url.Values{"username": {"newone"}, "display_name": {"某"}, "role": {"secretary"}, "org_id": {"all"}, "password": {"12345678"}}, 400, "书记账号必须属于一个组织"},
		{"no role", url.Values{"username": {"newone"}, "display_name": {"某"}, "org_id": {fmt.Sprint(huaxiOrg)}, "password": {"12345678"}}, 400, "请选择角色"},
		{"member who is a 党员", url.Values{"username": {"newone"}, "member_id": {fmt.Sprint(wang)}, "password": {"12345678"}}, 400, "只有书记和管理员"},
	} {
		res, body := admin.PostForm("/console/accounts", tc.form)
		if res.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %d with %q", tc.name, res.StatusCode, tc.status, tc.want)
		}
		if strings.Contains(body, `value="`+tc.form.Get("password")+`"`) {
			t.Errorf("%s: the form shows the password again", tc.name)
		}
	}
	var n int64
	e.App.DB().Model(&models.Account{}).Where("username = ?", "newone").Count(&n)
	if n != 0 {
		t.Fatal("an invalid form created an account")
	}

	// Only a viewer of the whole installation makes accounts for the whole installation.
	var got apiAccount
	body := map[string]any{"username": "root2", "display_name": "第二系统管理员", "role": "admin", "org_id": nil, "password": "root-root-2"}
	if st, b := e.API(e.Token(consoletest.Admin), "POST", "/api/v1/accounts", body, &got); st != http.StatusCreated || got.OrgID != nil || got.Role != "admin" {
		t.Fatalf("admin creates a system administrator: %d %s", st, b)
	}
	body["username"] = "root3"
	if st, b := e.API(e.Token(consoletest.County), "POST", "/api/v1/accounts", body, nil); st != http.StatusForbidden {
		t.Fatalf("county creates a system administrator: %d %s", st, b)
	}
	if st, b := e.API(e.Token(consoletest.County), "POST", "/api/v1/accounts", map[string]any{"username": "x1", "nonsense": 1}, nil); st != http.StatusBadRequest || !strings.Contains(b, "nonsense") {
		t.Fatalf("unknown field: %d %s", st, b)
	}
}

func TestATownAdministratorCannotReachAccountsOutsideHisTown(t *testing.T) {
	e := consoletest.New(t)
	county := e.Token(consoletest.County)
	zhigeOrg := acctID(t, e, "orgs", "path = ?", "洪雅县/止戈镇")
	countyOrg := acctID(t, e, "orgs", "path = ?", "洪雅县")
	guoGouOrg := acctID(t, e, "orgs", "path = ?", "洪雅县/花溪镇/郭沟村")
	var zhige apiAccount
	if st, b := e.API(county, "POST", "/api/v1/accounts", map[string]any{
		"username": "zhige", "display_name": "止戈镇党委", "role": "admin", "org_id": zhigeOrg, "password": "zhige-2026",
	}, &zhige); st != http.StatusCreated || zhige.OrgPath != "洪雅县/止戈镇" {
		t.Fatalf("county creates zhige: %d %s", st, b)
	}
	countyID := accountByName(t, e, consoletest.County).ID
	adminID := accountByName(t, e, consoletest.Admin).ID
	guogou := accountByName(t, e, consoletest.Secretary)

	huaxi := e.Login(consoletest.Town)
	huaxiTok := e.Token(consoletest.Town)
	res, body := huaxi.Get("/console/accounts")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "guogou") || !strings.Contains(body, "huaxi") ||
		strings.Contains(body, "zhige") || strings.Contains(body, ">county<") || strings.Contains(body, ">admin<") {
		t.Fatalf("huaxi's accounts list: %d\n%s", res.StatusCode, body)
	}
	var list apiAccountList
	if st, b := e.API(huaxiTok, "GET", "/api/v1/accounts", nil, &list); st != http.StatusOK || list.Total != 2 || len(list.Items) != 2 {
		t.Fatalf("huaxi's accounts API: %d %s", st, b)
	}
	for _, id := range []uint{countyID, adminID, zhige.ID} {
		if res, _ := huaxi.Get(fmt.Sprintf("/console/accounts/%d", id)); res.StatusCode != http.StatusNotFound {
			t.Errorf("huaxi GET account %d: %d, want 404", id, res.StatusCode)
		}
		if res, _ := huaxi.PostForm(fmt.Sprintf("/console/accounts/%d", id), url.Values{"display_name": {"改了"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("huaxi POST account %d: %d, want 404", id, res.StatusCode)
		}
		if st, _ := e.API(huaxiTok, "GET", fmt.Sprintf("/api/v1/accounts/%d", id), nil, nil); st != http.StatusNotFound {
			t.Errorf("huaxi API GET account %d: %d, want 404", id, st)
		}
		if st, _ := e.API(huaxiTok, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", id), map[string]any{"active": false}, nil); st != http.StatusNotFound {
			t.Errorf("huaxi API PATCH account %d: %d, want 404", id, st)
		}
	}
	if a := accountByName(t, e, "zhige"); !a.Active || a.DisplayName != "止戈镇党委" {
		t.Fatalf("zhige changed: %+v", a)
	}

	// Nor can he create or move an account outside 花溪镇.
	res, _ = huaxi.PostForm("/console/accounts", url.Values{"username": {"wulong"}, "display_name": {"五龙村"}, "role": {"secretary"},
		"org_id": {fmt.Sprint(acctID(t, e, "orgs", "path = ?", "洪雅县/止戈镇/五龙村"))}, "password": {"wulong-2026"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("huaxi creates an account in 止戈镇: %d", res.StatusCode)
	}
	for _, org := range []any{countyOrg, nil} {
		if st, b := e.API(huaxiTok, "POST", "/api/v1/accounts", map[string]any{"username": "up", "display_name": "上级", "role": "admin",
			"org_id": org, "password": "up-up-up-up"}, nil); st != http.StatusForbidden {
			t.Fatalf("huaxi creates an account at org %v: %d %s", org, st, b)
		}
		if st, b := e.API(huaxiTok, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", guogou.ID), map[string]any{"org_id": org}, nil); st != http.StatusForbidden {
			t.Fatalf("huaxi moves guogou to %v: %d %s", org, st, b)
		}
	}
	if a := accountByName(t, e, consoletest.Secretary); a.OrgID == nil || *a.OrgID != guoGouOrg {
		t.Fatalf("guogou moved: %+v", a)
	}
	// He cannot link a member from another town either.
	guo := acctID(t, e, "members", "name = ?", "郭晓燕") // 书记 of 止戈镇/五龙村
	if st, b := e.API(huaxiTok, "POST", "/api/v1/accounts", map[string]any{"username": "guoxy", "member_id": guo, "password": "guoxy-2026"}, nil); st != http.StatusBadRequest {
		t.Fatalf("huaxi links a member of 止戈镇: %d %s", st, b)
	}

	// Nor demote or deactivate himself; he may rename himself.
	me := accountByName(t, e, consoletest.Town)
	for _, patch := range []map[string]any{{"active": false}, {"role": "secretary"}, {"org_id": guoGouOrg}} {
		if st, b := e.API(huaxiTok, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", me.ID), patch, nil); st != http.StatusBadRequest {
			t.Errorf("huaxi changes himself %v: %d %s", patch, st, b)
		}
	}
	res, body = huaxi.PostForm(fmt.Sprintf("/console/accounts/%d", me.ID), url.Values{"display_name": {"花溪镇党委"}, "active": {"0"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "不能停用自己的账号") {
		t.Fatalf("huaxi deactivates himself by the form: %d\n%s", res.StatusCode, body)
	}
	var got apiAccount
	if st, b := e.API(huaxiTok, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", me.ID), map[string]any{"display_name": "花溪镇组织办"}, &got); st != http.StatusOK || got.DisplayName != "花溪镇组织办" {
		t.Fatalf("huaxi renames himself: %d %s", st, b)
	}
	if a := accountByName(t, e, consoletest.Town); !a.Active || a.Role != models.ConsoleAdmin {
		t.Fatalf("huaxi changed himself: %+v", a)
	}
}

func TestASecretaryIsForbiddenEveryAccountsAndAuditPageAndCall(t *testing.T) {
	e := consoletest.New(t)
	guogou := e.Login(consoletest.Secretary)
	id := accountByName(t, e, consoletest.Secretary).ID
	for _, p := range []string{"/console/accounts", "/console/accounts/new", "/console/accounts/export.xlsx", fmt.Sprintf("/console/accounts/%d", id),
		"/console/audit", "/console/audit/1", "/console/audit/export.xlsx"} {
		if res, _ := guogou.Get(p); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/console/accounts", fmt.Sprintf("/console/accounts/%d", id), fmt.Sprintf("/console/accounts/%d/tokens/1/revoke", id)} {
		if res, _ := guogou.PostForm(p, url.Values{"display_name": {"x"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, res.StatusCode)
		}
	}
	tok := e.Token(consoletest.Secretary)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/accounts"}, {"POST", "/api/v1/accounts"}, {"GET", fmt.Sprintf("/api/v1/accounts/%d", id)},
		{"PATCH", fmt.Sprintf("/api/v1/accounts/%d", id)}, {"GET", "/api/v1/audit"},
	} {
		if st, _ := e.API(tok, c.method, c.path, map[string]any{}, nil); st != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, st)
		}
	}
	// His own account page and the caller API are his.
	if res, body := guogou.Get("/console/me"); res.StatusCode != http.StatusOK || !strings.Contains(body, "guogou") || !strings.Contains(body, "郭沟村") {
		t.Fatalf("/console/me: %d\n%s", res.StatusCode, body)
	}
	if st, b := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusOK || !strings.Contains(b, `"role_name":"书记"`) {
		t.Fatalf("/api/v1/me: %d %s", st, b)
	}
	if st, _ := e.API("", "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("/api/v1/me without a token: %d", st)
	}
}

func TestDeactivatingAnAccountEndsItsSessionAndTokensAtOnce(t *testing.T) {
	e := consoletest.New(t)
	guogou := e.Login(consoletest.Secretary)
	tok := e.Token(consoletest.Secretary)
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusOK {
		t.Fatalf("token before: %d", st)
	}
	id := accountByName(t, e, consoletest.Secretary).ID

	huaxi := e.Login(consoletest.Town)
	res, body := huaxi.PostForm(fmt.Sprintf("/console/accounts/%d", id), url.Values{
		"display_name": {"张国华"}, "role": {"secretary"}, "org_id": {fmt.Sprint(*accountByName(t, e, consoletest.Secretary).OrgID)}, "active": {"0"},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d\n%s", res.StatusCode, body)
	}
	if res, _ := guogou.Get("/console/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/login") {
		t.Fatalf("his session after the deactivation: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if st, _ := e.API(tok, "GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("his token after the deactivation: %d", st)
	}
	if !acctLoginFails(t, e, consoletest.Secretary, consoletest.Password) {
		t.Fatal("a deactivated account logs in")
	}
	res, body = huaxi.Get("/console/accounts?active=0")
	if !strings.Contains(body, "guogou") || !strings.Contains(body, "停用") {
		t.Fatalf("deactivated accounts: %d\n%s", res.StatusCode, body)
	}
	var before, after, action string
	e.App.DB().Table("audit_entries").Where("object = 'account' AND object_id = ?", fmt.Sprint(id)).Order("id DESC").
		Select("action, before, after").Row().Scan(&action, &before, &after)
	if action != "deactivate" || !strings.Contains(before, `"active":true`) || !strings.Contains(after, `"active":false`) {
		t.Fatalf("audit of the deactivation: %s %s → %s", action, before, after)
	}

	// The county deactivates huaxi through the API: huaxi's open page stops working at once too.
	county := e.Token(consoletest.County)
	if st, b := e.API(county, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", accountByName(t, e, consoletest.Town).ID), map[string]any{"active": false}, nil); st != http.StatusOK {
		t.Fatalf("county deactivates huaxi: %d %s", st, b)
	}
	if res, _ := huaxi.Get("/console/accounts"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("huaxi after his deactivation: %d", res.StatusCode)
	}
}

func TestAnAdministratorResetsAPasswordAndEveryoneChangesHisOwn(t *testing.T) {
	e := consoletest.New(t)
	id := accountByName(t, e, consoletest.Secretary).ID
	huaxi := e.Login(consoletest.Town)
	res, body := huaxi.PostForm(fmt.Sprintf("/console/accounts/%d", id), url.Values{"display_name": {"张国华"}, "password": {"short"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "至少 8 位") {
		t.Fatalf("short reset: %d", res.StatusCode)
	}
	res, _ = huaxi.PostForm(fmt.Sprintf("/console/accounts/%d", id), url.Values{"display_name": {"张国华"}, "password": {"reset-by-town"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	if !acctLoginFails(t, e, consoletest.Secretary, consoletest.Password) {
		t.Fatal("the old password still works after the reset")
	}
	var after string
	e.App.DB().Table("audit_entries").Where("object = 'account' AND object_id = ?", fmt.Sprint(id)).Order("id DESC").Select("after").Row().Scan(&after)
	if !strings.Contains(after, "已重置") || strings.Contains(after, "reset-by-town") || strings.Contains(after, "$2a$") {
		t.Fatalf("audit of the reset: %s", after)
	}

	guogou := acctLogin(t, e, consoletest.Secretary, "reset-by-town")
	other := acctLogin(t, e, consoletest.Secretary, "reset-by-town")
	for _, tc := range []struct {
		current, next, again, want string
	}{
		{"wrong-password", "my-own-pass", "my-own-pass", "当前密码不对"},
		{"reset-by-town", "my-own-pass", "my-own-pazz", "两次输入的新密码不一样"},
		{"reset-by-town", "short", "short", "至少 8 位"},
		{"reset-by-town", "reset-by-town", "reset-by-town", "不能和当前密码一样"},
	} {
		res, body := guogou.PostForm("/console/me/password", url.Values{"current": {tc.current}, "new": {tc.next}, "again": {tc.again}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("change %+v: %d, want 400 with %q", tc, res.StatusCode, tc.want)
		}
	}
	res, _ = guogou.PostForm("/console/me/password", url.Values{"current": {"reset-by-town"}, "new": {"my-own-pass"}, "again": {"my-own-pass"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/me" {
		t.Fatalf("change: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := guogou.Get("/console/me"); res.StatusCode != http.StatusOK || !strings.Contains(body, "密码已修改") {
		t.Fatalf("after the change: %d", res.StatusCode)
	}
	// Browsers logged in with the old password are logged out; the one that changed it is not.
	if res, _ := other.Get("/console/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("his other session after the change: %d, want a redirect to the login page", res.StatusCode)
	}
	if !acctLoginFails(t, e, consoletest.Secretary, "reset-by-town") {
		t.Fatal("the old password works after the change")
	}
	acctLogin(t, e, consoletest.Secretary, "my-own-pass")
}

func TestTheAccountsListFiltersSortsAndExports(t *testing.T) {
	e := consoletest.New(t)
	county := e.Login(consoletest.County)
	res, body := county.Get("/console/accounts?role=secretary")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "guogou") || strings.Contains(body, ">huaxi<") {
		t.Fatalf("secretaries: %d\n%s", res.StatusCode, body)
	}
	res, body = county.Get("/console/accounts?q=%E8%8A%B1%E6%BA%AA") // 花溪 in the display name
	if !strings.Contains(body, ">huaxi<") || strings.Contains(body, ">guogou<") {
		t.Fatalf("q=花溪: %d\n%s", res.StatusCode, body)
	}
	var list apiAccountList
	if st, b := e.API(e.Token(consoletest.County), "GET", "/api/v1/accounts?sort=username&dir=desc&per_page=2", nil, &list); st != http.StatusOK ||
		list.Total != 3 || len(list.Items) != 2 || list.Items[0].Username != "huaxi" || list.Items[1].Username != "guogou" || list.PerPage != 2 {
		t.Fatalf("sorted page: %d %s", st, b)
	}
	if st, _ := e.API(e.Token(consoletest.County), "GET", "/api/v1/accounts?role=boss", nil, nil); st != http.StatusBadRequest {
		t.Fatalf("bad role filter: %d", st)
	}
	// htmx asks for the table only.
	req, _ := http.NewRequest("GET", e.URL+"/console/accounts?role=admin", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "table")
	hres, err := county.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hres.Body.Close()
	if hres.StatusCode != http.StatusOK {
		t.Fatalf("htmx table: %d", hres.StatusCode)
	}

	f := openXLSX(t, county, "/console/accounts/export.xlsx?role=secretary")
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !strings.Contains(rows[1][0], "角色=书记") || rows[2][0] != "用户名" || rows[3][0] != "guogou" || rows[3][4] != "张国华" {
		t.Fatalf("accounts export: %q", rows)
	}
}
