package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
)

func TestFAQInputNormalize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    FAQInput
		want  FAQInput
		field string // the field at fault ("" = fine)
	}{
		{"trimmed", FAQInput{Question: "  低保 \n怎么申请？ ", Answer: "\r\n到村里申请。\r\n第二行\r\n", Source: " 民政局 "},
			FAQInput{Question: "低保 怎么申请？", Answer: "到村里申请。\n第二行", Source: "民政局"}, ""},
		{"phrasings: blanks, repeats and the question dropped", FAQInput{Question: "低保怎么申请？", Answer: "x",
			Alternatives: "申请低保\r\n\r\n  申请低保 \n低保怎么申请？\n低保  要什么材料"},
			FAQInput{Question: "低保怎么申请？", Answer: "x", Alternatives: "申请低保\n低保 要什么材料"}, ""},
		{"no question", FAQInput{Question: " ", Answer: "x"}, FAQInput{}, "question"},
		{"no answer", FAQInput{Question: "q", Answer: "\n"}, FAQInput{}, "answer"},
		{"question too long", FAQInput{Question: strings.Repeat("问", MaxFAQQuestion+1), Answer: "x"}, FAQInput{}, "question"},
		{"answer at the limit", FAQInput{Question: "q", Answer: strings.Repeat("答", MaxFAQAnswer)},
			FAQInput{Question: "q", Answer: strings.Repeat("答", MaxFAQAnswer)}, ""},
		{"answer too long", FAQInput{Question: "q", Answer: strings.Repeat("答", MaxFAQAnswer+1)}, FAQInput{}, "answer"},
		{"source too long", FAQInput{Question: "q", Answer: "a", Source: strings.Repeat("源", MaxFAQSource+1)}, FAQInput{}, "source"},
		{"a phrasing too long", FAQInput{Question: "q", Answer: "a", Alternatives: "ok\n" + strings.Repeat("长", MaxFAQAlternative+1)}, FAQInput{}, "alternatives"},
		{"too many phrasings", FAQInput{Question: "q", Answer: "a", Alternatives: manyLines(MaxFAQAlternates + 1)}, FAQInput{}, "alternatives"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.normalize()
			var ie *console.InputError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field || ie.Message == ""):
				t.Fatalf("error %v, want one about %s", err, tc.field)
			case tc.field == "" && got != tc.want:
				t.Fatalf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

func manyLines(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("问法")
		b.WriteString(strings.Repeat("一", i+1))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestDocName(t *testing.T) {
	for in, want := range map[string]string{
		"通知.txt":             "通知.txt",
		`C:\fakepath\通知.txt`: "通知.txt",
		"/home/x/政策/通知.md":   "通知.md",
		" 通知.txt ":           "通知.txt",
		"":                   ".",
		`D:\文件\2026年\低保 工作通知.docx`: "低保 工作通知.docx",
	} {
		if got := docName(in); got != want {
			t.Errorf("docName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	if a, err := checkAnswer(" \r\n可以。\r\n "); err != nil || a != "可以。" {
		t.Fatalf("%q %v", a, err)
	}
	if _, err := checkAnswer(strings.Repeat("答", MaxAnswer)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	for _, bad := range []string{"", " \n ", strings.Repeat("答", MaxAnswer+1)} {
		var ie *console.InputError
		if _, err := checkAnswer(bad); !errors.As(err, &ie) || ie.Field != "answer" {
			t.Errorf("checkAnswer(%.20q): %v", bad, err)
		}
	}
}
