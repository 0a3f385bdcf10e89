package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/testenv"
)

// TestImportPlacesCommand: the roster's orgs first, then places by CONTRACT.md's header; bad rows
// are reported by line on stderr, the good ones imported; a second run changes nothing and a changed
// radius is an update.
func TestImportPlacesCommand(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("姓名,手机号,角色,组织\n王小明,13800001111,党员,洪雅县/花溪镇/郭沟村\n李大山,13800002222,党员,洪雅县/花溪镇/双河村\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"import", "roster", roster}, nil, &out, &errOut); err != nil {
		t.Fatalf("import roster: %v\n%s", err, errOut.String())
	}
	file := filepath.Join(dir, "签到地点.csv")
	write := func(radius string) {
		os.WriteFile(file, []byte("\ufeff组织,名称,纬度,经度,半径米\n"+
			"洪雅县/花溪镇/郭沟村,郭沟村村委会,29.906012,103.372034,"+radius+"\n"+
			"洪雅县/花溪镇/双河村,双河村村委会,29.9071,103.4144,\n"+ // default radius
			"洪雅县/花溪镇/双河村,村小学,0,0,300\n"+ // line 4: 0,0
			"洪雅县/花溪镇/郭沟村,活动室,29.9,abc,300\n"+ // line 5: bad longitude
			"洪雅县/花溪镇/郭沟村,广场,29.9,103.3,99\n"+ // line 6: radius too small
			"洪雅县/花溪镇/没有村,村委会,29.9,103.3,300\n"+ // line 7: unknown org
			"洪雅县/花溪镇/郭沟村,郭沟村村委会,29.9,103.3,300\n"), 0o600) // line 8: twice in the file
	}
	run1 := func() (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"import", "places", file}, nil, &out, &errOut); err != nil {
			t.Fatalf("import places: %v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	write("300")
	stdout, stderr := run1()
	if !strings.HasPrefix(stdout, "places: 2 created, 0 updated, 0 unchanged, 5 rows with errors") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	for _, want := range []string{"签到地点.csv:4: 坐标不能是 0,0", "签到地点.csv:5: 经度「abc」不是有效的数字", "签到地点.csv:6: 半径 99 米超出范围",
		"签到地点.csv:7: 组织「洪雅县/花溪镇/没有村」不存在", "签到地点.csv:8: 郭沟村的「郭沟村村委会」与第2行重复"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout, _ := run1(); !strings.HasPrefix(stdout, "places: 0 created, 0 updated, 2 unchanged") {
		t.Fatalf("second run:\n%s", stdout)
	}
	write("500")
	if stdout, _ := run1(); !strings.HasPrefix(stdout, "places: 0 created, 1 updated, 1 unchanged") {
		t.Fatalf("changed radius:\n%s", stdout)
	}

	os.WriteFile(file, []byte("姓名,手机号,角色,组织\n"), 0o600)
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"import", "places", file}, nil, &o, &e); err == nil || !strings.Contains(err.Error(), "表头") {
		t.Fatalf("a roster file as places: %v", err)
	}
}
