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

func TestImportQuestionsCommand(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	file := filepath.Join(t.TempDir(), "题库.csv")
	os.WriteFile(file, []byte("\ufeff题型,题干,选项A,选项B,选项C,选项D,答案,解析,标签\n"+
		"单选,中国共产党成立于哪一年？,1919年,1921年,1927年,1949年,B,,党史\n"+
		"单选,答了两个字母的单选题,甲,乙,丙,丁,AB,,\n"+ // line 3
		"判断,党员可以不参加党的组织生活。,,,,,错,,党章\n"+
		"问答,什么是党性？,,,,,略,,\n"), 0o600) // line 5

	run1 := func() (string, string) {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"import", "questions", file}, nil, &out, &errOut); err != nil {
			t.Fatalf("import: %v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	out, errOut := run1()
	if !strings.HasPrefix(out, "questions: 2 created, 0 updated, 0 unchanged, 2 rows with errors") {
		t.Fatalf("stdout:\n%s", out)
	}
	for _, want := range []string{"题库.csv:3: 单选题只能有一个答案", "题库.csv:5: 题型「问答」不对"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out, _ := run1(); !strings.HasPrefix(out, "questions: 0 created, 0 updated, 2 unchanged") {
		t.Fatalf("second import changed something:\n%s", out)
	}

	os.WriteFile(file, []byte("姓名,手机号,角色,组织\n"), 0o600)
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"import", "questions", file}, nil, &o, &e); err == nil || !strings.Contains(err.Error(), "表头") {
		t.Fatalf("a roster file as questions: %v", err)
	}
	if err := run(context.Background(), []string{"import", "questions"}, nil, &o, &e); err == nil {
		t.Fatal("no file: no error")
	} else if _, ok := err.(usageError); !ok {
		t.Fatalf("no file: %v, want a usage error", err)
	}
}
