package roster_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

// TestASecretaryCannotReachAnotherVillage: the secretary of 郭沟村 gets 404 for a member of 双河村
// (pages and API, reads and changes) and 403 for moving his own member out or creating one outside.
func TestASecretaryCannotReachAnotherVillage(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	tok := e.Token(consoletest.Secretary)
	outsider := member(t, e, "13800000006") // 陈志强, 双河村
	own := member(t, e, "13800000004")      // 王德明, 郭沟村
	guogou := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	shuanghe := orgID(t, e, "洪雅县/花溪镇/双河村")
	id := idStr(outsider.ID)

	get(t, c, "/console/members/"+id, http.StatusNotFound)
	get(t, c, "/console/members/"+id+"/edit", http.StatusNotFound)
	post(t, c, "/console/members/"+id, url.Values{"name": {"改名"}, "phone": {outsider.Phone}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusNotFound)
	post(t, c, "/console/members/"+id+"/deactivate", nil, http.StatusNotFound)
	post(t, c, "/console/members/"+id+"/activate", nil, http.StatusNotFound)
	post(t, c, "/console/members/"+id+"/bindcode", nil, http.StatusNotFound)
	get(t, c, "/console/orgs/"+idStr(shuanghe)+"/bindsheet", http.StatusNotFound)
	get(t, c, "/console/members?org="+idStr(shuanghe), http.StatusNotFound)
	if code, body := e.API(tok, http.MethodGet, "/api/v1/members/"+id, nil, nil); code != http.StatusNotFound {
		t.Errorf("API GET: %d %s", code, body)
	}
	if code, body := e.API(tok, http.MethodPatch, "/api/v1/members/"+id, map[string]any{"name": "改名"}, nil); code != http.StatusNotFound {
		t.Errorf("API PATCH: %d %s", code, body)
	}
	if code, _ := e.API(tok, http.MethodPatch, "/api/v1/members/"+id, map[string]any{"active": false}, nil); code != http.StatusNotFound {
		t.Errorf("API deactivate: %d", code)
	}
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/orgs/"+idStr(shuanghe), nil, nil); code != http.StatusNotFound {
		t.Errorf("API GET org: %d", code)
	}

	// Moving his own member to 双河村, or creating one there: 403.
	post(t, c, "/console/members/"+idStr(own.ID), url.Values{"name": {own.Name}, "phone": {own.Phone}, "role": {own.Role}, "org_id": {idStr(shuanghe)}}, http.StatusForbidden)
	if code, _ := e.API(tok, http.MethodPatch, "/api/v1/members/"+idStr(own.ID), map[string]any{"org_id": shuanghe}, nil); code != http.StatusForbidden {
		t.Errorf("API move out: %d", code)
	}
	post(t, c, "/console/members", url.Values{"name": {"新人"}, "phone": {"13912340000"}, "role": {"党员"}, "org_id": {idStr(shuanghe)}}, http.StatusForbidden)
	if code, _ := e.API(tok, http.MethodPost, "/api/v1/members", map[string]any{"name": "新人", "phone": "13912340000", "role": "党员", "org_id": shuanghe}, nil); code != http.StatusForbidden {
		t.Errorf("API create outside: %d", code)
	}
	// Secretaries do not add orgs.
	post(t, c, "/console/orgs", url.Values{"parent_id": {idStr(guogou)}, "name": {"一组"}}, http.StatusForbidden)
	if code, _ := e.API(tok, http.MethodPost, "/api/v1/orgs", map[string]any{"parent_id": guogou, "name": "一组"}, nil); code != http.StatusForbidden {
		t.Errorf("API create org: %d", code)
	}

	// Nothing changed.
	if got := member(t, e, "13800000006"); got.Name != outsider.Name || !got.Active || got.OrgID != shuanghe || *got.BindCode != *outsider.BindCode {
		t.Fatalf("outsider changed: %+v", got)
	}
	if got := member(t, e, "13800000004"); got.OrgID != guogou {
		t.Fatal("own member moved out")
	}
	var n int64
	e.App.DB().Table("members").Where("phone = ?", "13912340000").Count(&n)
	if n != 0 {
		t.Fatal("member created outside the scope")
	}
	// What he may do still works: his own member, his own village.
	get(t, c, "/console/members/"+idStr(own.ID), http.StatusOK)
	post(t, c, "/console/members", url.Values{"name": {"新人"}, "phone": {"13912340000"}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusSeeOther)
	body := get(t, c, "/console/orgs", http.StatusOK)
	if strings.Contains(body, "双河村") || !strings.Contains(body, "郭沟村") || strings.Contains(body, `action="/console/orgs"`) {
		t.Fatalf("secretary's org tree:\n%s", body)
	}
}

// TestATownAdministratorSeesOnlyHisTown: huaxi (花溪镇) sees no 止戈镇 member in lists, searches,
// exports or the org tree.
func TestATownAdministratorSeesOnlyHisTown(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	body := get(t, c, "/console/members?per_page=100", http.StatusOK)
	names := listed(body)
	if len(names) != 14 || strings.Contains(body, "郭晓燕") || strings.Contains(body, "止戈镇") || strings.Contains(body, "五龙村") {
		t.Fatalf("town list: %v", names)
	}
	if got := listed(get(t, c, "/console/members?q="+url.QueryEscape("郭晓燕"), http.StatusOK)); len(got) != 0 {
		t.Fatalf("search found %v", got)
	}
	if got := listed(get(t, c, "/console/members?q=0000016", http.StatusOK)); len(got) != 0 {
		t.Fatalf("phone search found %v", got)
	}
	get(t, c, "/console/members?org="+idStr(orgID(t, e, "洪雅县/止戈镇")), http.StatusNotFound)
	get(t, c, "/console/members/"+idStr(member(t, e, "13800000016").ID), http.StatusNotFound)
	get(t, c, "/console/orgs/"+idStr(orgID(t, e, "洪雅县/止戈镇/五龙村"))+"/bindsheet", http.StatusNotFound)

	body = get(t, c, "/console/orgs", http.StatusOK)
	if strings.Contains(body, "止戈镇") || strings.Contains(body, "五龙村") || strings.Contains(body, "余坪镇") || !strings.Contains(body, "双河村") {
		t.Fatalf("town org tree:\n%s", body)
	}

	rows, _ := exportRows(t, c, "/console/members/export.xlsx")
	if len(rows) != 14 {
		t.Fatalf("town export: %d rows", len(rows))
	}
	for _, r := range rows {
		if !strings.HasPrefix(r[3], "洪雅县/花溪镇/") {
			t.Fatalf("town export has %v", r)
		}
	}
}

// exportRows downloads an export and returns its data rows and the filter line.
func exportRows(t *testing.T, c *consoletest.Client, path string) ([][]string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.Env.URL+path, nil)
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export %s: %d %s\n%.300s", path, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, url.PathEscape("花名册_20261120-")) {
		t.Fatalf("export file name: %s", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("export does not open: %v", err)
	}
	defer f.Close()
	all, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 || strings.Join(all[2], ",") != "姓名,手机号,角色,组织,微信绑定,绑定时间,绑定码,状态,录入时间" {
		t.Fatalf("export header: %v", all)
	}
	return all[3:], all[1][0]
}

func TestExportHasTheFiltersAndFullPhonesAndIsAudited(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	e.App.DB().Exec("UPDATE members SET oa_open_id = 'o-chen', bound_at = ?, bind_code = NULL WHERE phone = '13800000006'", e.Clock.Now())
	town := orgID(t, e, "洪雅县/花溪镇")
	q := "/console/members/export.xlsx?org=" + idStr(town) + "&role=" + url.QueryEscape("书记") + "&sort=org"

	// The list page links to the export with the same filters.
	body := get(t, c, "/console/members?org="+idStr(town)+"&role="+url.QueryEscape("书记")+"&sort=org&page=1", http.StatusOK)
	if !strings.Contains(body, `href="/console/members/export.xlsx?org=`+idStr(town)+`&amp;role=`) {
		t.Fatalf("export link:\n%s", body)
	}

	rows, filters := exportRows(t, c, q)
	if !strings.Contains(filters, "组织=洪雅县/花溪镇") || !strings.Contains(filters, "角色=书记") {
		t.Fatalf("filter line: %q", filters)
	}
	want := map[string]string{"张国华": "13800000002", "陈志强": "13800000006", "黄春梅": "13800000009", "马文斌": "13800000013"}
	if len(rows) != len(want) {
		t.Fatalf("export rows: %v", rows)
	}
	for _, r := range rows {
		if want[r[0]] != r[1] || r[2] != "书记" {
			t.Fatalf("export row %v", r)
		}
		if r[0] == "陈志强" && (r[4] != "已绑定" || r[5] == "" || r[6] != "") {
			t.Fatalf("bound member's row %v", r)
		}
		if r[0] == "张国华" && (r[4] != "未绑定" || len(r[6]) != 8) {
			t.Fatalf("unbound member's row %v", r)
		}
	}
	es := audits(t, e, console.ActionExport, "member", 0)
	if len(es) != 1 || es[0].Username != consoletest.County || es[0].OrgPath != "洪雅县/花溪镇" ||
		!strings.Contains(es[0].Summary, "4 人") || !strings.Contains(es[0].Summary, "角色=书记") {
		t.Fatalf("export audit: %+v", es)
	}
	if after := snapshot(t, es[0].After); after["rows"] != float64(4) {
		t.Fatalf("export audit after: %s", es[0].After)
	}
}
