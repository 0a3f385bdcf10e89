package bank

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/models"
)

// FuzzQuestionFile feeds the question bank import's reading and checking (everything before the
// database) any upload: no panic; a whole file is refused only with ErrBadFile; every row is either
// imported or reported by its line, never both; and every question that goes on to the database fits
// its columns: a known type, a stem within MaxStem with its key, options as a JSON list, an answer
// that fits the type, texts in valid UTF-8 (PostgreSQL refuses anything else).
func FuzzQuestionFile(f *testing.F) {
	f.Add([]byte(strings.Join(sample, "\n")+"\n"), false)
	for _, seed := range []string{
		header + "\n", "\n,,\n" + header + ",,\n", "",
		"题型,题干,选项A,选项B\n", "题型,题干,选项A,选项B,答案,备注\n", "题型,题干,选项A,选项C,答案\n",
		"题型,题干,答案,答案\n", "答案,题干,题型\n填空,空,____\n",
		"题型,题干,选项 ａ,选项Ｂ,选项E,答案\n单选,题,甲,乙,,B\n",
		header + ",选项E,选项F\n多选,题,a,b,c,d,,,,,e,f,AF\n",
		"題型,題幹,答案\n判斷,對嗎,√\n", "题型\t题干\t答案\n填空\t__\t甲|乙｜甲\n",
	} {
		f.Add([]byte(seed), false)
	}
	x := excelize.NewFile()
	sheet := x.GetSheetName(0)
	x.SetSheetRow(sheet, "A1", &[]any{"题型", "题干", "选项A", "选项B", "答案"})
	x.SetSheetRow(sheet, "A2", &[]any{"单选", "题", 1, 2.5, "A"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), true)

	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		name := "题库.csv"
		if xlsx {
			name = "题库.xlsx"
		}
		recs, err := table.Read(bytes.NewReader(data), name)
		if err != nil {
			if !errors.Is(err, table.ErrBadFile) {
				t.Fatalf("read: %v", err)
			}
			return
		}
		if !validText(recs) {
			t.Skip("cells that are not UTF-8: table.Read's own finding (FuzzRead)")
		}
		res := &ImportResult{}
		rows, err := checkRows(recs, res)
		if err != nil {
			if !errors.Is(err, table.ErrBadFile) || !utf8.ValidString(table.Reason(err)) {
				t.Fatalf("check: %v", err)
			}
			return
		}
		seen := map[int]bool{}
		for _, e := range res.Errors {
			if e.Reason == "" || !utf8.ValidString(e.Reason) || seen[e.Line] {
				t.Fatalf("row error %+v", e)
			}
			seen[e.Line] = true
		}
		keys := map[string]bool{}
		for _, r := range rows {
			q := r.q
			if seen[r.line] {
				t.Fatalf("line %d both imported and refused", r.line)
			}
			seen[r.line] = true
			if !slices.Contains(models.QuestionTypes, q.typ) {
				t.Fatalf("line %d: type %q", r.line, q.typ)
			}
			if n := utf8.RuneCountInString(q.stem); n == 0 || n > MaxStem || q.key != StemKey(q.stem) || keys[q.key] {
				t.Fatalf("line %d: stem %q key %q (duplicate %v)", r.line, q.stem, q.key, keys[q.key])
			}
			keys[q.key] = true
			if _, err := keysIn([]string{q.key}); err != nil {
				t.Fatalf("line %d: %v", r.line, err)
			}
			var opts []string
			if err := json.Unmarshal([]byte(q.options), &opts); err != nil {
				t.Fatalf("line %d: options %q: %v", r.line, q.options, err)
			}
			switch q.typ {
			case models.QuestionSingle, models.QuestionMulti:
				if len(opts) < 2 || len(opts) > 26 || q.answer == "" {
					t.Fatalf("line %d: %d options, answer %q", r.line, len(opts), q.answer)
				}
				for _, l := range q.answer {
					if l < 'A' || int(l-'A') >= len(opts) {
						t.Fatalf("line %d: answer %q outside %d options", r.line, q.answer, len(opts))
					}
				}
				if q.typ == models.QuestionSingle && len(q.answer) != 1 || q.typ == models.QuestionMulti && len(q.answer) < 2 {
					t.Fatalf("line %d: %s answer %q", r.line, q.typ, q.answer)
				}
			case models.QuestionJudge, models.QuestionBlank:
				if len(opts) != 0 || q.answer == "" {
					t.Fatalf("line %d: %s with options %q, answer %q", r.line, q.typ, q.options, q.answer)
				}
			}
			for _, s := range []string{q.stem, q.options, q.answer, q.explanation, q.tags} {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Fatalf("line %d: text %q is not storable", r.line, s)
				}
			}
			if utf8.RuneCountInString(q.explanation) > MaxExplanation || len(q.tags) > maxTagsBytes {
				t.Fatalf("line %d: explanation or tags too long", r.line)
			}
		}
	})
}

// validText reports whether every cell is UTF-8, which table.Read promises and FuzzRead checks; the
// checks here are about what this parser does with text it was given.
func validText(recs []table.Record) bool {
	for _, r := range recs {
		for _, c := range r.Fields {
			if !utf8.ValidString(c) {
				return false
			}
		}
	}
	return true
}
