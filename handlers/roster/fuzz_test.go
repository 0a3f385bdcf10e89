package roster

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/models"
)

// FuzzRosterFile feeds the roster import's reading and checking (everything before the database) any
// upload: no panic; a whole file is refused only with ErrBadFile; every row is either imported or
// reported by its line, never both; and every row that goes on to the database is a valid member
// (a mobile number, a known role, a name and an org path within the columns' sizes).
func FuzzRosterFile(f *testing.F) {
	if b, err := os.ReadFile("testdata/roster.csv"); err == nil {
		f.Add(b, false)
	}
	for _, seed := range []string{
		"姓名,手机号,角色,组织\n张三,13800001001,书记,洪雅县/花溪镇/郭沟村\n",
		"姓名,手机号,角色,组织\n张  三,+86 138 0000 1003,党员,洪雅县／花溪镇\n李四,1.3800001004E+10,党建专干,洪雅县\n",
		"姓名,手机号,角色,组织\n张三,13800001001,书记,洪雅县\n李四,13800001001,党员,洪雅县\n",
		"姓名,手机号,角色,组织,,\n,,,\n王五,12345,村长,/\n赵六,13800001002,管理员,a//b\n",
		"姓名,手机号,角色,组织\n多,13800001003,党员,洪雅县,多余\n",
		"\ufeff姓名\t手机号\t角色\t组织\n阿依古丽·买买提\t13800001005\t党员\t洪雅县/花溪镇\n",
		"名字,电话\n", "", "\n,,,\n",
	} {
		f.Add([]byte(seed), false)
	}
	x := excelize.NewFile()
	sheet := x.GetSheetName(0)
	x.SetSheetRow(sheet, "A1", &[]any{"姓名", "手机号", "角色", "组织"})
	x.SetSheetRow(sheet, "A2", &[]any{"张三", int64(13800001001), "书记", "洪雅县/花溪镇/郭沟村"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), true)

	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		name := "名单.csv"
		if xlsx {
			name = "名单.xlsx"
		}
		recs, err := table.Read(bytes.NewReader(data), name)
		if err != nil {
			if !errors.Is(err, ErrBadFile) {
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
			if !errors.Is(err, ErrBadFile) || !utf8.ValidString(table.Reason(err)) {
				t.Fatalf("check: %v", err)
			}
			return
		}
		seen := map[int]bool{}
		phones := map[string]bool{}
		for _, e := range res.Errors {
			if e.Reason == "" || !utf8.ValidString(e.Reason) || seen[e.Line] {
				t.Fatalf("row error %+v (seen %v)", e, seen[e.Line])
			}
			seen[e.Line] = true
		}
		for _, r := range rows {
			if seen[r.line] {
				t.Fatalf("line %d both imported and refused", r.line)
			}
			seen[r.line] = true
			if p, ok := NormalizePhone(r.phone); !ok || p != r.phone || phones[r.phone] {
				t.Fatalf("line %d: phone %q (duplicate %v)", r.line, r.phone, phones[r.phone])
			}
			phones[r.phone] = true
			if !models.ValidRole(r.role) {
				t.Fatalf("line %d: role %q", r.line, r.role)
			}
			if r.name == "" || utf8.RuneCountInString(r.name) > 64 || !utf8.ValidString(r.name) || strings.IndexFunc(r.name, unicode.IsControl) >= 0 {
				t.Fatalf("line %d: name %q", r.line, r.name)
			}
			canon, names, err := ParseOrgPath(r.path)
			if err != nil || canon != r.path || len(names) == 0 || utf8.RuneCountInString(r.path) > maxOrgPath {
				t.Fatalf("line %d: org path %q: %v", r.line, r.path, err)
			}
			for _, n := range names {
				if n == "" || strings.TrimSpace(n) != n || strings.IndexFunc(n, unicode.IsControl) >= 0 {
					t.Fatalf("line %d: org name %q in %q", r.line, n, r.path)
				}
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
