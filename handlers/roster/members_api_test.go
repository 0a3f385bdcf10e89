package roster_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/scope"
)

type apiMember struct {
	ID       uint    `json:"id"`
	Name     string  `json:"name"`
	Phone    string  `json:"phone"`
	Role     string  `json:"role"`
	OrgID    uint    `json:"org_id"`
	OrgPath  string  `json:"org_path"`
	Bound    bool    `json:"bound"`
	BoundAt  *string `json:"bound_at"`
	BindCode string  `json:"bind_code"`
	Active   bool    `json:"active"`
}

type apiList struct {
	Items   []apiMember `json:"items"`
	Total   int64       `json:"total"`
	Page    int         `json:"page"`
	PerPage int         `json:"per_page"`
}

type apiOrg struct {
	ID       uint   `json:"id"`
	ParentID *uint  `json:"parent_id"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Level    int    `json:"level"`
	Members  int64  `json:"members"`
	Bound    int64  `json:"bound"`
}

// subtreeIDs are the ids of the members under path ("" = all), straight from the database.
func subtreeIDs(t *testing.T, e *consoletest.Env, path string) []uint {
	t.Helper()
	sc := scope.Everything()
	if path != "" {
		sc = scope.Under(orgID(t, e, path), path)
	}
	var ids []uint
	if err := e.App.DB().Table("members").Scopes(sc.Members).Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestAPIMemberListsHoldExactlyTheCallersSubtree(t *testing.T) {
	e := consoletest.New(t)
	for _, tc := range []struct {
		user, path string
		n          int
	}{
		{consoletest.Admin, "", 40},
		{consoletest.County, "洪雅县", 40},
		{consoletest.Town, "洪雅县/花溪镇", 14},
		{consoletest.Secretary, "洪雅县/花溪镇/郭沟村", 4},
	} {
		var list apiList
		if code, body := e.API(e.Token(tc.user), http.MethodGet, "/api/v1/members?per_page=500", nil, &list); code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.user, code, body)
		}
		var got []uint
		for _, m := range list.Items {
			got = append(got, m.ID)
			if !strings.Contains(m.Phone, "****") {
				t.Fatalf("%s: unmasked phone in a list: %+v", tc.user, m)
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		want := subtreeIDs(t, e, tc.path)
		if len(want) != tc.n || list.Total != int64(tc.n) || !equalIDs(got, want) {
			t.Errorf("%s: %d members (total %d) %v, want %v", tc.user, len(got), list.Total, got, want)
		}
	}
	// Paging and filters, as on the page.
	var list apiList
	tok := e.Token(consoletest.County)
	e.API(tok, http.MethodGet, "/api/v1/members?per_page=15&page=3&sort=org", nil, &list)
	if len(list.Items) != 10 || list.Total != 40 || list.Page != 3 || list.PerPage != 15 {
		t.Fatalf("page 3: %d items, %+v", len(list.Items), list)
	}
	e.API(tok, http.MethodGet, "/api/v1/members?role=%E4%B9%A6%E8%AE%B0&org="+idStr(orgID(t, e, "洪雅县/止戈镇")), nil, &list)
	if list.Total != 3 {
		t.Fatalf("止戈镇 书记: %+v", list)
	}
	if code, _ := e.API(e.Token(consoletest.Town), http.MethodGet, "/api/v1/members?org="+idStr(orgID(t, e, "洪雅县/止戈镇")), nil, nil); code != http.StatusNotFound {
		t.Fatalf("huaxi filtering by 止戈镇: %d", code)
	}
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/members?bound=perhaps", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("bad filter: %d", code)
	}
	if code, _ := e.API("", http.MethodGet, "/api/v1/members", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
}

func equalIDs(a, b []uint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAPIOrgTreeIsScopedAndCounted(t *testing.T) {
	e := consoletest.New(t)
	e.App.DB().Exec("UPDATE members SET mp_open_id = 'm-1', bound_at = ?, bind_code = NULL WHERE phone = '13800000002'", e.Clock.Now())
	e.App.DB().Exec("UPDATE members SET active = ? WHERE phone = '13800000003'", false)
	var orgs []apiOrg
	if code, body := e.API(e.Token(consoletest.Town), http.MethodGet, "/api/v1/orgs", nil, &orgs); code != http.StatusOK {
		t.Fatalf("orgs: %d %s", code, body)
	}
	if len(orgs) != 5 || orgs[0].Path != "洪雅县/花溪镇" {
		t.Fatalf("huaxi's orgs: %+v", orgs)
	}
	for _, o := range orgs {
		switch o.Path {
		case "洪雅县/花溪镇":
			if o.Members != 13 || o.Bound != 1 || o.Level != 2 || o.ParentID == nil {
				t.Fatalf("town: %+v", o)
			}
		case "洪雅县/花溪镇/郭沟村":
			if o.Members != 3 || o.Bound != 1 || o.Name != "郭沟村" {
				t.Fatalf("village: %+v", o)
			}
		}
		if !strings.HasPrefix(o.Path, "洪雅县/花溪镇") {
			t.Fatalf("outside org %+v", o)
		}
	}
	var one apiOrg
	tok := e.Token(consoletest.Town)
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/orgs/"+idStr(orgID(t, e, "洪雅县/花溪镇/郭沟村")), nil, &one); code != http.StatusOK || one.Members != 3 || one.Bound != 1 {
		t.Fatalf("one org: %d %+v", code, one)
	}
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/orgs/"+idStr(orgID(t, e, "洪雅县")), nil, nil); code != http.StatusNotFound {
		t.Fatalf("the county for huaxi: %d", code)
	}

	// Administrators add orgs under their own part of the tree only.
	var made apiOrg
	parent := orgID(t, e, "洪雅县/花溪镇")
	if code, body := e.API(tok, http.MethodPost, "/api/v1/orgs", map[string]any{"parent_id": parent, "name": " 新华村 "}, &made); code != http.StatusCreated ||
		made.Path != "洪雅县/花溪镇/新华村" || made.Level != 3 || made.ParentID == nil || *made.ParentID != parent {
		t.Fatalf("create org: %d %s", code, body)
	}
	if es := audits(t, e, console.ActionCreate, "org", made.ID); len(es) != 1 || es[0].OrgPath != made.Path {
		t.Fatalf("org audit: %+v", es)
	}
	if code, body := e.API(tok, http.MethodPost, "/api/v1/orgs", map[string]any{"parent_id": parent, "name": "新华村"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "已有") {
		t.Fatalf("duplicate org: %d %s", code, body)
	}
	if code, _ := e.API(tok, http.MethodPost, "/api/v1/orgs", map[string]any{"parent_id": parent, "name": "a/b"}, nil); code != http.StatusBadRequest {
		t.Fatalf("org name with /: %d", code)
	}
	if code, _ := e.API(tok, http.MethodPost, "/api/v1/orgs", map[string]any{"parent_id": orgID(t, e, "洪雅县/止戈镇"), "name": "新村"}, nil); code != http.StatusForbidden {
		t.Fatalf("org under 止戈镇 by huaxi: %d", code)
	}
	// And on the page.
	c := e.Login(consoletest.Town)
	post(t, c, "/console/orgs", map[string][]string{"parent_id": {idStr(parent)}, "name": {"杏花村"}}, http.StatusSeeOther)
	_, body := post(t, c, "/console/orgs", map[string][]string{"parent_id": {idStr(parent)}, "name": {"杏花村"}}, http.StatusBadRequest)
	if !strings.Contains(body, "已有「杏花村」") {
		t.Fatalf("duplicate org on the page:\n%s", body)
	}
	if body := get(t, c, "/console/orgs", http.StatusOK); !strings.Contains(body, "杏花村") || !strings.Contains(body, "新华村") {
		t.Fatal("new orgs not in the tree")
	}
}

func TestAPIMemberReadCreateAndPatch(t *testing.T) {
	e := consoletest.New(t)
	tok := e.Token(consoletest.Town)
	guogou := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	shuanghe := orgID(t, e, "洪雅县/花溪镇/双河村")

	var m apiMember
	code, body := e.API(tok, http.MethodPost, "/api/v1/members", map[string]any{"name": "钱七", "phone": "+86 139 0000 1111", "role": "党员", "org_id": guogou}, &m)
	if code != http.StatusCreated || m.Phone != "13900001111" || m.OrgPath != "洪雅县/花溪镇/郭沟村" || len(m.BindCode) != 8 || !m.Active || m.Bound {
		t.Fatalf("create: %d %s", code, body)
	}
	if es := audits(t, e, console.ActionCreate, "member", m.ID); len(es) != 1 {
		t.Fatalf("create audit: %+v", es)
	}
	for _, bad := range []map[string]any{
		{"name": "钱七", "phone": "13900001111", "role": "党员", "org_id": guogou}, // phone taken
		{"name": "钱八", "phone": "12345", "role": "党员", "org_id": guogou},
		{"name": "钱八", "phone": "13900002222", "role": "村长", "org_id": guogou},
		{"name": "钱八", "phone": "13900002222", "role": "党员"},
	} {
		code, body := e.API(tok, http.MethodPost, "/api/v1/members", bad, nil)
		var ae struct{ Error, Field string }
		json.Unmarshal([]byte(body), &ae)
		if code != http.StatusBadRequest || ae.Error != "invalid" || ae.Field == "" {
			t.Errorf("create %v: %d %s", bad, code, body)
		}
	}

	// GET shows the full phone and is audited.
	var got apiMember
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/members/"+idStr(m.ID), nil, &got); code != http.StatusOK || got.Phone != "13900001111" {
		t.Fatalf("get: %d %+v", code, got)
	}
	if es := audits(t, e, console.ActionView, "member", m.ID); len(es) != 1 || es[0].Username != consoletest.Town {
		t.Fatalf("view audit: %+v", es)
	}

	// PATCH: name and role; a move; deactivation; each audited with before and after.
	patch := func(body map[string]any, want int) apiMember {
		t.Helper()
		var out apiMember
		if code, b := e.API(tok, http.MethodPatch, "/api/v1/members/"+idStr(m.ID), body, &out); code != want {
			t.Fatalf("patch %v: %d %s", body, code, b)
		}
		return out
	}
	if out := patch(map[string]any{"name": "钱小七", "role": "书记"}, http.StatusOK); out.Name != "钱小七" || out.Role != "书记" || out.Phone != "13900001111" {
		t.Fatalf("patched %+v", out)
	}
	es := audits(t, e, console.ActionUpdate, "member", m.ID)
	if len(es) != 1 || snapshot(t, es[0].Before)["name"] != "钱七" || snapshot(t, es[0].After)["role"] != "书记" {
		t.Fatalf("update audit: %+v", es)
	}
	if out := patch(map[string]any{"org_id": shuanghe, "active": false}, http.StatusOK); out.OrgPath != "洪雅县/花溪镇/双河村" || out.Active || out.BindCode != "" {
		t.Fatalf("moved and deactivated: %+v", out)
	}
	if len(audits(t, e, console.ActionMove, "member", m.ID)) != 1 || len(audits(t, e, console.ActionDeactivate, "member", m.ID)) != 1 {
		t.Fatal("move and deactivation not both audited")
	}
	patch(map[string]any{"phone": "13800000002"}, http.StatusBadRequest)
	patch(map[string]any{"org_id": orgID(t, e, "洪雅县/止戈镇/五龙村")}, http.StatusForbidden)
	patch(map[string]any{"active": "no"}, http.StatusBadRequest)
	if out := patch(map[string]any{"active": true}, http.StatusOK); !out.Active || len(out.BindCode) != 8 {
		t.Fatalf("reactivated: %+v", out)
	}
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/members/999999", nil, nil); code != http.StatusNotFound {
		t.Fatalf("no such member: %d", code)
	}
}

// apiUpload posts a file to an API path with a token.
func apiUpload(t *testing.T, e *consoletest.Env, token, path, filename string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAPIImport(t *testing.T) {
	e := consoletest.New(t)
	tok := e.Token(consoletest.Secretary)
	file := []byte("姓名,手机号,角色,组织\n孙小红,13911110001,党员,洪雅县/花溪镇/郭沟村\n钱多多,13911110003,党员,洪雅县/花溪镇/双河村\n李四,139,党员,洪雅县/花溪镇/郭沟村\n")
	code, body := apiUpload(t, e, tok, "/api/v1/members/import", "r.csv", file)
	var res struct {
		Created, Updated, Unchanged int
		Errors                      []struct {
			Line   int
			Reason string
		}
		Unbound []struct {
			Name     string
			BindCode string `json:"bind_code"`
		}
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != http.StatusOK {
		t.Fatalf("import: %d %s", code, body)
	}
	if res.Created != 1 || len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[0].Reason != "不在你的管理范围内" ||
		res.Errors[1].Line != 4 || len(res.Unbound) != 1 || res.Unbound[0].Name != "孙小红" || len(res.Unbound[0].BindCode) != 8 {
		t.Fatalf("import result: %s", body)
	}
	if code, body := apiUpload(t, e, tok, "/api/v1/members/import", "r.xlsx", []byte("not a spreadsheet")); code != http.StatusBadRequest || !strings.Contains(body, "xlsx") {
		t.Fatalf("bad file: %d %s", code, body)
	}
	if n := len(audits(t, e, console.ActionImport, "roster", 0)); n != 1 {
		t.Fatalf("%d import audits", n)
	}
}
