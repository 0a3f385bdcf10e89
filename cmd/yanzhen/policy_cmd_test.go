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

func TestImportPoliciesAndEvalCommands(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	t.Setenv("YANZHEN_INDEX_DIR", t.TempDir())
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "培训.txt"), []byte("标题：村干部培训办法\n村党组织书记每年集中培训不少于56学时，结业测试不合格的参加下一期学习。\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "sub", "换届.md"), []byte("# 换届工作方案\n这一轮村社换届涉及13个镇街，共190个村社，全面实行“一肩挑”。\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.csv"), []byte("a,b\n"), 0o600) // not a document: skipped in a folder
	empty := filepath.Join(t.TempDir(), "空.txt")
	os.WriteFile(empty, []byte("\n"), 0o600)

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"import", "policies", dir, empty}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 files not imported") {
		t.Fatalf("import: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"培训.txt: imported, 《村干部培训办法》, 1 passages", "换届.md: imported, 《换届工作方案》", "policies: 2 imported, 0 unchanged, 1 with errors"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "空.txt: 「空.txt」是空的") {
		t.Fatalf("stderr:\n%s", errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"import", "policies", dir}, nil, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "policies: 0 imported, 2 unchanged, 0 with errors") {
		t.Fatalf("again: %v\n%s", err, out.String())
	}

	qs := filepath.Join(t.TempDir(), "q.jsonl")
	os.WriteFile(qs, []byte(`{"q": "村书记每年培训要达到多少学时", "source": "培训.txt", "expect": ["56"]}`+"\n"+
		`{"q": "这一轮换届涉及多少个村社", "source": "换届.md", "expect": ["190"]}`+"\n"+
		`{"q": "换届涉及多少个镇街", "source": "培训.txt", "expect": ["13"]}`+"\n"), 0o600)
	out.Reset()
	if err := run(context.Background(), []string{"eval", "policy", qs}, nil, &out, &errOut); err != nil {
		t.Fatalf("eval: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"1. RIGHT (top-3 right) 村书记每年培训要达到多少学时", "3. WRONG (top-3 wrong)", "top passage: 换届.md",
		"top-1: 2/3 = 66.7%", "top-3: 2/3 = 66.7%", "latency: p50 "} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("eval output lacks %q:\n%s", want, out.String())
		}
	}

	// Over a folder of files instead of the database; a bad question file names its line.
	out.Reset()
	if err := run(context.Background(), []string{"eval", "policy", "--corpus", dir, qs}, nil, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "top-1: 2/3") {
		t.Fatalf("eval --corpus: %v\n%s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"q": "a", "source": "x"}`+"\n{oops\n"), 0o600)
	if err := run(context.Background(), []string{"eval", "policy", bad}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad file: %v", err)
	}
	if err := run(context.Background(), []string{"eval", "cats", qs}, nil, &out, &errOut); err == nil {
		t.Fatal("eval cats accepted")
	}
}

// On a database without documents, eval answers from the built-in demo corpus: the dev set's numbers.
func TestEvalCommandFallsBackToTheDemoCorpus(t *testing.T) {
	t.Setenv("YANZHEN_DATABASE_URL", testenv.DatabaseURL(t))
	t.Setenv("YANZHEN_INDEX_DIR", t.TempDir())
	dev := "../../../shared/corpus/policy-questions.dev.jsonl"
	if _, err := os.Stat(dev); err != nil {
		t.Skip("shared/ is not beside the checkout")
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"eval", "policy", dev}, nil, &out, &errOut); err != nil {
		t.Fatalf("eval: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "built-in demo corpus") || !strings.Contains(out.String(), "top-1: 8/8") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}
