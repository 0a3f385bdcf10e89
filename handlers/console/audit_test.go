package console_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
)

// openXLSX downloads an export and opens it as a workbook.
func openXLSX(t *testing.T, c *consoletest.Client, path string) *excelize.File {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != xlsxout.ContentType ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("GET %s: %d %s %s", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("%s does not open: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

type apiAudit struct {
	Items []struct {
		ID       uint64
		Username string
		OrgPath  string `json:"org_path"`
		Action   string
		Object   string
		ObjectID string `json:"object_id"`
		Summary  string
		Before   map[string]any
		After    map[string]any
	}
	Total   int
	Page    int
	PerPage int `json:"per_page"`
}

// acctAuditFixture makes changes in three places: 郭沟村 (by huaxi), 止戈镇 (by the county) and the
// whole installation (by admin).
func acctAuditFixture(t *testing.T, e *consoletest.Env) (guogouID, zhigeID uint) {
	t.Helper()
	guogouID = accountByName(t, e, consoletest.Secretary).ID
	if st, b := e.API(e.Token(consoletest.Town), "PATCH", fmt.Sprintf("/api/v1/accounts/%d", guogouID), map[string]any{"display_name": "张国华书记"}, nil); st != http.StatusOK {
		t.Fatalf("rename guogou: %d %s", st, b)
	}
	var zhige apiAccount
	if st, b := e.API(e.Token(consoletest.County), "POST", "/api/v1/accounts", map[string]any{"username": "zhige", "display_name": "止戈镇党委", "role": "admin",
		"org_id": acctID(t, e, "orgs", "path = ?", "洪雅县/止戈镇"), "password": "zhige-2026"}, &zhige); st != http.StatusCreated {
		t.Fatalf("create zhige: %d %s", st, b)
	}
	if st, b := e.API(e.Token(consoletest.Admin), "POST", "/api/v1/accounts", map[string]any{"username": "root2", "display_name": "系统管理员二", "role": "admin",
		"org_id": nil, "password": "root2-root2"}, nil); st != http.StatusCreated {
		t.Fatalf("create root2: %d %s", st, b)
	}
	return guogouID, zhige.ID
}

func TestTheAuditLogKeepsBeforeAndAfterAndFollowsTheScope(t *testing.T) {
	e := consoletest.New(t)
	guogouID, zhigeID := acctAuditFixture(t, e)

	var huaxi apiAudit
	if st, b := e.API(e.Token(consoletest.Town), "GET", "/api/v1/audit?per_page=500", nil, &huaxi); st != http.StatusOK || huaxi.Total == 0 || huaxi.PerPage != 500 {
		t.Fatalf("huaxi's audit log: %d %s", st, b)
	}
	var rename, zhigeEntry uint64
	for _, it := range huaxi.Items {
		if it.OrgPath != "洪雅县/花溪镇" && !strings.HasPrefix(it.OrgPath, "洪雅县/花溪镇/") {
			t.Errorf("huaxi sees an entry of %q: %+v", it.OrgPath, it)
		}
		if it.Object == "account" && it.Action == "update" && it.ObjectID == fmt.Sprint(guogouID) {
			rename = it.ID
			if it.Before["display_name"] != "张国华" || it.After["display_name"] != "张国华书记" || it.Username != consoletest.Town {
				t.Errorf("the rename's before/after: %+v", it)
			}
		}
	}
	if rename == 0 {
		t.Fatalf("huaxi does not see his rename of guogou: %+v", huaxi.Items)
	}
	// The county sees 止戈镇 but not the whole installation's entries; admin sees those too.
	var county, admin apiAudit
	e.API(e.Token(consoletest.County), "GET", "/api/v1/audit?object=account&action=create&per_page=500", nil, &county)
	e.API(e.Token(consoletest.Admin), "GET", "/api/v1/audit?object=account&action=create&per_page=500", nil, &admin)
	has := func(l apiAudit, objectID string) bool {
		for _, it := range l.Items {
			if it.ObjectID == objectID {
				return true
			}
		}
		return false
	}
	root2 := fmt.Sprint(accountByName(t, e, "root2").ID)
	if !has(county, fmt.Sprint(zhigeID)) || has(county, root2) || !has(admin, root2) || !has(admin, fmt.Sprint(zhigeID)) {
		t.Fatalf("county %+v\nadmin %+v", county.Items, admin.Items)
	}
	for _, it := range county.Items {
		if it.ObjectID == fmt.Sprint(zhigeID) {
			zhigeEntry = it.ID
		}
	}

	// The entry's page shows before and after side by side, the change marked; other towns' entries are 404.
	c := e.Login(consoletest.Town)
	res, body := c.Get(fmt.Sprintf("/console/audit/%d", rename))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "张国华书记") || !strings.Contains(body, `class="changed"`) || !strings.Contains(body, "已改") {
		t.Fatalf("entry page: %d\n%s", res.StatusCode, body)
	}
	if res, _ := c.Get(fmt.Sprintf("/console/audit/%d", zhigeEntry)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("huaxi opens a 止戈镇 entry: %d", res.StatusCode)
	}
	if res, _ := c.Get("/console/audit/nonsense"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a bad id: %d", res.StatusCode)
	}
	res, body = c.Get("/console/audit")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "张国华书记") || strings.Contains(body, "zhige") || strings.Contains(body, "root2") {
		t.Fatalf("huaxi's audit page: %d\n%s", res.StatusCode, body)
	}

	// No password or hash is ever in the log.
	var leaks int64
	e.App.DB().Table("audit_entries").Where("before LIKE ? OR after LIKE ? OR after LIKE ? OR after LIKE ?", "%$2a$%", "%$2a$%", "%zhige-2026%", "%root2-root2%").Count(&leaks)
	if leaks != 0 {
		t.Fatalf("%d audit entries hold a password or its hash", leaks)
	}
}

func TestTheAuditLogFilters(t *testing.T) {
	e := consoletest.New(t)
	acctAuditFixture(t, e)
	tok := e.Token(consoletest.County)
	count := func(query string) int {
		t.Helper()
		var l apiAudit
		if st, b := e.API(tok, "GET", "/api/v1/audit?"+query, nil, &l); st != http.StatusOK {
			t.Fatalf("audit?%s: %d %s", query, st, b)
		}
		return l.Total
	}
	// The test clock is 2026-11-20 09:30 in Asia/Shanghai.
	all := count("")
	if all < 2 {
		t.Fatalf("county sees %d entries", all)
	}
	for q, want := range map[string]int{
		"from=2026-11-20&to=2026-11-20": all,
		"from=2026-11-21":               0,
		"to=2026-11-19":                 0,
		"action=update&object=account":  1,
		"q=" + url.QueryEscape("止戈镇"):   1,
		"q=ZHIGE":                       1,
		"object=token":                  0,
	} {
		if got := count(q); got != want {
			t.Errorf("audit?%s: %d entries, want %d", q, got, want)
		}
	}
	for _, q := range []string{"from=20.11.2026", "to=yesterday", "action=explode", "from=2026-11-21&to=2026-11-20"} {
		if st, _ := e.API(tok, "GET", "/api/v1/audit?"+q, nil, nil); st != http.StatusBadRequest {
			t.Errorf("audit?%s: %d, want 400", q, st)
		}
	}
	var page apiAudit
	e.API(tok, "GET", "/api/v1/audit?per_page=1&page=2", nil, &page)
	if len(page.Items) != 1 || page.Page != 2 || page.PerPage != 1 || page.Total != all {
		t.Fatalf("page 2: %+v (total %d)", page, all)
	}
	c := e.Login(consoletest.County)
	if res, body := c.Get("/console/audit?from=bad"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "开始日期") {
		t.Fatalf("bad date on the page: %d", res.StatusCode)
	}
}

func TestTheAuditExportOpensWithItsFiltersAndIsItselfAudited(t *testing.T) {
	e := consoletest.New(t)
	acctAuditFixture(t, e)
	c := e.Login(consoletest.Town)
	f := openXLSX(t, c, "/console/audit/export.xlsx?action=update&from=2026-11-01")
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !strings.Contains(rows[1][0], "范围=洪雅县/花溪镇") || !strings.Contains(rows[1][0], "操作=修改") ||
		!strings.Contains(rows[1][0], "开始日期=2026-11-01") || rows[2][0] != "时间" || rows[3][1] != consoletest.Town || !strings.Contains(rows[3][6], "guogou") {
		t.Fatalf("audit export: %q", rows)
	}
	var l apiAudit
	e.API(e.Token(consoletest.Town), "GET", "/api/v1/audit?action=export", nil, &l)
	if l.Total != 1 || l.Items[0].OrgPath != "洪雅县/花溪镇" || l.Items[0].After["rows"] != float64(1) || l.Items[0].Username != consoletest.Town {
		t.Fatalf("the export's own entry: %+v", l)
	}
}
