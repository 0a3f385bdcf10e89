package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/testenv"
)

func TestImportRosterCommand(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	file := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(file, []byte("姓名,手机号,角色,组织\n"+
		"王小明,13800001111,党建专干,洪雅县/花溪镇/郭沟村\n"+
		"李大山,1380000222,书记,洪雅县/花溪镇/郭沟村\n"+ // bad phone: line 3
		"赵春花,13800003333,村长,洪雅县/花溪镇/郭沟村\n"+ // unknown role: line 4
		"陈建国,138 0000 4444,书记,洪雅县/花溪镇/三宝村\n"), 0o600)

	run1 := func() (string, string) {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"import", "roster", file}, nil, &out, &errOut); err != nil {
			t.Fatalf("import: %v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	out, errOut := run1()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("stdout is not CSV: %v\n%s", err, out)
	}
	if strings.Join(rows[0], ",") != "姓名,手机号,绑定码" || len(rows) != 3 {
		t.Fatalf("stdout:\n%s", out)
	}
	for _, r := range rows[1:] {
		if len(r[2]) != 8 {
			t.Fatalf("bind code %q", r[2])
		}
	}
	if rows[2][1] != "13800004444" {
		t.Fatalf("phone not normalized: %q", rows[2][1])
	}
	for _, want := range []string{"roster.csv:3:", "roster.csv:4:", "2 created"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Idempotent: the same file again changes nothing and prints the same codes.
	out2, errOut2 := run1()
	if out2 != out || !strings.Contains(errOut2, "0 created, 0 updated, 2 unchanged") {
		t.Fatalf("second import changed something:\n%s\n%s", out2, errOut2)
	}
}

func TestCommandLineMistakes(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"import"}, {"import", "roster"}, {"import", "cats", "x"}, {"bench"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, nil, &out, &errOut)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	t.Setenv("YANZHEN_OA_AES_KEY", "short")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"migrate"}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "YANZHEN_OA_AES_KEY") || strings.Contains(err.Error(), "short") {
		t.Fatalf("bad config: %v", err)
	}
}
