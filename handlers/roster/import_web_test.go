package roster_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

func countMembers(t *testing.T, e *consoletest.Env) int64 {
	t.Helper()
	var n int64
	if err := e.App.DB().Table("members").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportShowsRowErrorsImportsTheGoodRowsAndIsIdempotent(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	get(t, c, "/console/import", http.StatusOK)
	file := []byte(strings.Join([]string{
		"姓名,手机号,角色,组织",
		"孙小红,13911110001,党员,洪雅县/花溪镇/郭沟村",
		"钱多多,1391111,党员,洪雅县/花溪镇/郭沟村",
		"李秀英,13800000003,书记,洪雅县/花溪镇/郭沟村",   // an existing member, promoted
		"周新民,13911110002,党建专干,洪雅县/花溪镇/新民村", // a new village
		"",
	}, "\n"))
	before := countMembers(t, e)
	res, body := c.PostFile("/console/import", nil, "file", "花名册.csv", file)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{"第3行", "不是有效的手机号", `<div class="n">2</div><div class="l">新增</div>`, `<div class="n">1</div><div class="l">更新</div>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("import result lacks %q:\n%s", want, body)
		}
	}
	if got := countMembers(t, e); got != before+2 {
		t.Fatalf("members: %d, want %d", got, before+2)
	}
	if m := member(t, e, "13911110002"); m.Org.Path != "洪雅县/花溪镇/新民村" || m.BindCode == nil {
		t.Fatalf("new village member: %+v", m)
	}
	if m := member(t, e, "13800000003"); m.Role != "书记" {
		t.Fatalf("existing member not updated: %+v", m)
	}
	es := audits(t, e, console.ActionImport, "roster", 0)
	if len(es) != 1 || es[0].Username != consoletest.Town || es[0].OrgPath != "洪雅县/花溪镇" || !strings.Contains(es[0].Summary, "新增 2") {
		t.Fatalf("import audit: %+v", es)
	}
	if errs := snapshot(t, es[0].After)["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["line"] != float64(3) {
		t.Fatalf("import audit errors: %s", es[0].After)
	}
	updated := member(t, e, "13800000003").UpdatedAt

	// The same file again: nothing changes, the bad row is reported again.
	res, body = c.PostFile("/console/import", nil, "file", "花名册.csv", file)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "第3行") ||
		!strings.Contains(body, `<div class="n">0</div><div class="l">新增</div>`) ||
		!strings.Contains(body, `<div class="n">3</div><div class="l">没有变化</div>`) {
		t.Fatalf("second import:\n%s", body)
	}
	if got := countMembers(t, e); got != before+2 {
		t.Fatalf("members after the second import: %d", got)
	}
	if !member(t, e, "13800000003").UpdatedAt.Equal(updated) {
		t.Fatal("the second import touched an unchanged member")
	}

	// A file that is not a roster: 400, nothing imported.
	res, body = c.PostFile("/console/import", nil, "file", "x.csv", []byte("名字,电话\n张三,13911110009\n"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "表头") {
		t.Fatalf("bad file: %d\n%s", res.StatusCode, body)
	}
	res, body = c.PostFile("/console/import", nil, "other", "x.csv", file)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请选择要导入的文件") {
		t.Fatalf("no file: %d\n%s", res.StatusCode, body)
	}
}

func TestImportRefusesRowsOutsideTheSecretarysVillage(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	neighbour := member(t, e, "13800000006") // 陈志强, 双河村
	file := []byte(strings.Join([]string{
		"姓名,手机号,角色,组织",
		"孙小红,13911110001,党员,洪雅县/花溪镇/郭沟村",
		"钱多多,13911110003,党员,洪雅县/花溪镇/双河村",
		"陈志强,13800000006,党员,洪雅县/花溪镇/郭沟村", // would move 双河村's secretary in
		"吴新,13911110004,党员,洪雅县/止戈镇/新村",
	}, "\n"))
	res, body := c.PostFile("/console/import", nil, "file", "r.csv", file)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%s", res.StatusCode, body)
	}
	for _, line := range []string{"第3行：不在你的管理范围内", "第4行：不在你的管理范围内", "第5行：不在你的管理范围内"} {
		if !strings.Contains(body, line) {
			t.Fatalf("missing %q:\n%s", line, body)
		}
	}
	member(t, e, "13911110001")
	var n int64
	e.App.DB().Table("members").Where("phone IN ?", []string{"13911110003", "13911110004"}).Count(&n)
	if n != 0 {
		t.Fatal("rows outside the scope were imported")
	}
	e.App.DB().Table("orgs").Where("path LIKE ?", "洪雅县/止戈镇/新村").Count(&n)
	if n != 0 {
		t.Fatal("an org outside the scope was created")
	}
	if got := member(t, e, "13800000006"); got.OrgID != neighbour.OrgID || got.Role != neighbour.Role {
		t.Fatalf("the neighbour's secretary was changed: %+v", got)
	}
}

func TestImportTemplate(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	res, body := c.Get("/console/import/template.csv")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("template: %d %v", res.StatusCode, res.Header)
	}
	lines := strings.Split(strings.TrimSpace(body), "\r\n")
	if !strings.HasPrefix(body, "\ufeff姓名,手机号,角色,组织\r\n") || len(lines) != 2 || !strings.HasSuffix(lines[1], ",洪雅县/花溪镇/郭沟村") {
		t.Fatalf("template body %q", body)
	}
	// The template imports as it is.
	res, body = c.PostFile("/console/import", nil, "file", "模板.csv", []byte(body))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "全部导入成功") {
		t.Fatalf("importing the template: %d\n%s", res.StatusCode, body)
	}
}
