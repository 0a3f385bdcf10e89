package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/yanzhen/yanzhen/models"
)

func TestImportSampleCSV(t *testing.T) {
	s, db, clk := newService(t)
	ctx := context.Background()
	f, err := os.Open("testdata/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := s.Import(ctx, f, "roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 6 || res.Updated != 0 || res.Unchanged != 0 || len(res.Errors) != 0 {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Unbound) != 6 || res.Unbound[0].Name != "张国华" || res.Unbound[2].Phone != "13800001003" {
		t.Fatalf("unbound = %+v", res.Unbound)
	}
	m := memberByPhone(t, db, "13800001002")
	if m.Name != "李秀英" || m.Role != models.RoleAide || m.Org.Path != "洪雅县/花溪镇/郭沟村" || !m.Active {
		t.Fatalf("member = %+v", m)
	}
	if m.BindCode == nil || *m.BindCode != res.Unbound[1].BindCode || NormalizeCode(*m.BindCode) != *m.BindCode {
		t.Fatalf("bind code = %v, want %s", m.BindCode, res.Unbound[1].BindCode)
	}
	admin := memberByPhone(t, db, "13800001006")
	if admin.Org.Level != models.LevelCounty {
		t.Fatalf("admin org = %+v", admin.Org)
	}
	var orgs int64
	db.Model(&models.Org{}).Count(&orgs)
	if orgs != 6 { // 洪雅县, 花溪镇, 止戈镇, 郭沟村, 双河村, 五龙村
		t.Fatalf("%d orgs, want 6", orgs)
	}

	// The same file again changes nothing, not even UpdatedAt, and prints the same codes.
	clk.advance(time.Hour)
	f2, _ := os.Open("testdata/roster.csv")
	defer f2.Close()
	res2, err := s.Import(ctx, f2, "roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res2.Created != 0 || res2.Updated != 0 || res2.Unchanged != 6 || len(res2.Errors) != 0 {
		t.Fatalf("second result = %+v", res2)
	}
	if fmt.Sprint(res2.Unbound) != fmt.Sprint(res.Unbound) {
		t.Fatalf("second import's codes differ:\n%v\n%v", res2.Unbound, res.Unbound)
	}
	m2 := memberByPhone(t, db, "13800001002")
	if !m2.UpdatedAt.Equal(m.UpdatedAt) {
		t.Fatalf("UpdatedAt churned: %v → %v", m.UpdatedAt, m2.UpdatedAt)
	}
}

func TestImportUpdatesChangedRows(t *testing.T) {
	s, db, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Import(ctx, csvFile("姓名,手机号,角色,组织",
		"张国华,13800001001,党员,洪雅县/花溪镇/郭沟村",
		"李秀英,13800001002,党员,洪雅县/花溪镇/郭沟村",
	), "a.csv"); err != nil {
		t.Fatal(err)
	}
	before := memberByPhone(t, db, "13800001002")
	clk.advance(time.Hour)
	res, err := s.Import(ctx, csvFile("姓名,手机号,角色,组织",
		"张国华,13800001001,书记,洪雅县/花溪镇/双河村", // moved and promoted
		"李秀英,13800001002,党员,洪雅县/花溪镇/郭沟村",
		"王德明,13800001003,党员,洪雅县/花溪镇/郭沟村",
	), "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1 || res.Updated != 1 || res.Unchanged != 1 {
		t.Fatalf("result = %+v", res)
	}
	moved := memberByPhone(t, db, "13800001001")
	if moved.Role != models.RoleSecretary || moved.Org.Path != "洪雅县/花溪镇/双河村" || !moved.UpdatedAt.Equal(clk.now()) {
		t.Fatalf("moved = %+v (updated %v, now %v)", moved, moved.UpdatedAt, clk.now())
	}
	if moved.BindCode == nil {
		t.Fatal("an updated member lost his bind code")
	}
	if after := memberByPhone(t, db, "13800001002"); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("unchanged member was written")
	}
	if n := countMembers(t, db); n != 3 {
		t.Fatalf("%d members, want 3", n)
	}
}

func TestImportBadRows(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	res, err := s.Import(ctx, csvFile(
		"姓名,手机号,角色,组织",                     // 1
		"张国华,13800001001,书记,洪雅县/花溪镇/郭沟村",   // 2 good
		"李秀英,1380000100,党员,洪雅县/花溪镇/郭沟村",    // 3 phone too short
		"王德明,12800001003,党员,洪雅县/花溪镇/郭沟村",   // 4 not a mobile prefix
		"刘桂兰,13800001004,村长,洪雅县/花溪镇/郭沟村",   // 5 unknown role
		",13800001005,党员,洪雅县/花溪镇/郭沟村",      // 6 empty name
		"陈志强,13800001006,党员,洪雅县//郭沟村",      // 7 empty path segment
		"杨丽华,138 0000 1001,党员,洪雅县/花溪镇/郭沟村", // 8 duplicate of line 2
		"",    // 9 blank line: skipped
		",,,", // 10 empty row: skipped
		"赵永福,13800001007,党员,洪雅县/花溪镇/郭沟村,多余", // 11 extra column
		"黄春梅,13800001008,,", // 12 role and org missing
		"  吴  海军 ,＋86 138-0000-1009,党员,洪雅县/花溪镇/郭沟村", // 13 good: spaces, full-width +
		"徐淑芬,13800001010,黨員,洪雅县/花溪镇/郭沟村",            // 14 good: Traditional role
	), "bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []int{3, 4, 5, 6, 7, 8, 11, 12}
	var got []int
	for _, e := range res.Errors {
		got = append(got, e.Line)
		if e.Reason == "" {
			t.Errorf("line %d: empty reason", e.Line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wantLines) {
		t.Fatalf("error lines = %v, want %v\n%+v", got, wantLines, res.Errors)
	}
	for i, want := range map[int]string{0: "手机号", 2: "角色", 3: "姓名为空", 4: "组织", 5: "与第2行重复", 6: "多出了列"} {
		if !strings.Contains(res.Errors[i].Reason, want) {
			t.Errorf("line %d reason %q, want it to mention %q", res.Errors[i].Line, res.Errors[i].Reason, want)
		}
	}
	if r := res.Errors[7].Reason; !strings.Contains(r, "角色为空") || !strings.Contains(r, "组织为空") {
		t.Errorf("line 12 reason %q should name both problems", r)
	}
	if res.Created != 3 {
		t.Fatalf("created %d, want 3 (%+v)", res.Created, res)
	}
	if m := memberByPhone(t, db, "13800001009"); m.Name != "吴海军" {
		t.Fatalf("name = %q", m.Name)
	}
	if m := memberByPhone(t, db, "13800001010"); m.Role != models.RoleMember {
		t.Fatalf("role = %q", m.Role)
	}
	if m := memberByPhone(t, db, "13800001001"); m.Name != "张国华" {
		t.Fatalf("the earlier row of a duplicate phone must win, got %q", m.Name)
	}
}

func TestImportFileErrors(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	for name, body := range map[string]string{
		"empty":          "",
		"no header":      "张国华,13800001001,书记,洪雅县/花溪镇/郭沟村\n",
		"wrong header":   "姓名,电话,角色,组织\n张国华,13800001001,书记,洪雅县\n",
		"missing column": "姓名,手机号,角色\n张国华,13800001001,书记\n",
		"extra column":   "姓名,手机号,角色,组织,备注\n",
		"old xls":        "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest",
	} {
		_, err := s.Import(ctx, strings.NewReader(body), "f.csv")
		if !errors.Is(err, ErrBadFile) {
			t.Errorf("%s: err = %v, want ErrBadFile", name, err)
		}
	}
	if _, err := s.Import(ctx, strings.NewReader("姓名,手机号,角色,组织\n"), "roster.xlsx"); !errors.Is(err, ErrBadFile) {
		t.Errorf("text named .xlsx: err = %v, want ErrBadFile", err)
	}
	_, err := s.Import(ctx, strings.NewReader("名字,电话\n"), "f.csv")
	if err == nil || !strings.Contains(err.Error(), "姓名,手机号,角色,组织") || !strings.Contains(err.Error(), "第1行") {
		t.Errorf("header error %q should show the expected header and the line", err)
	}
	if n := countMembers(t, db); n != 0 {
		t.Fatalf("%d members imported from bad files", n)
	}
}

// The header and rows in the encodings and shapes Excel and people produce.
func TestImportEncodings(t *testing.T) {
	body := " 姓名 ,手机号, 角色,组织 ,,\r\n张国华,13800001001,书记,洪雅县/花溪镇/郭沟村,,\r\n"
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(body, ",", "\t"))
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(body)
	for name, data := range map[string]string{
		"utf-8":         body,
		"utf-8 bom":     "\ufeff" + body,
		"gbk":           gbk,
		"utf-16 tabbed": utf16,
		"quoted":        "\"姓名\",\"手机号\",\"角色\",\"组织\"\n\"张国华\",\"13800001001\",\"书记\",\"洪雅县/花溪镇/郭沟村\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			s, db, _ := newService(t)
			res, err := s.Import(context.Background(), strings.NewReader(data), "roster.csv")
			if err != nil {
				t.Fatal(err)
			}
			if res.Created != 1 || len(res.Errors) != 0 {
				t.Fatalf("result = %+v", res)
			}
			if m := memberByPhone(t, db, "13800001001"); m.Name != "张国华" || m.Org.Path != "洪雅县/花溪镇/郭沟村" {
				t.Fatalf("member = %+v", m)
			}
		})
	}
}

func TestImportXLSX(t *testing.T) {
	s, db, _ := newService(t)
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	rows := [][]any{
		{"姓名", "手机号", "角色", "组织"},
		{"张国华", int64(13800001001), "书记", "洪雅县/花溪镇/郭沟村"}, // phone stored as a number
		{"李秀英", "13800001002", "党建专干", "洪雅县/花溪镇/郭沟村"},
		nil, // empty row 4
		{"王德明", "1380000", "党员", "洪雅县/花溪镇/郭沟村"}, // row 5: bad phone
		{"刘桂兰", 13800001004.0, "党员", "洪雅县/花溪镇/双河村"},
	}
	for i, r := range rows {
		if r == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	f.NewSheet("其他") // only the first sheet is read
	f.SetSheetRow("其他", "A1", &[]any{"不是", "花名册"})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	// Named without an extension: the content says it is XLSX.
	res, err := s.Import(context.Background(), &buf, "upload")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 3 || len(res.Errors) != 1 || res.Errors[0].Line != 5 {
		t.Fatalf("result = %+v", res)
	}
	if m := memberByPhone(t, db, "13800001001"); m.Name != "张国华" || m.Role != models.RoleSecretary {
		t.Fatalf("member = %+v", m)
	}
	memberByPhone(t, db, "13800001004")
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":       "13812345678",
		" 138 1234 5678 ":   "13812345678",
		"138-1234-5678":     "13812345678",
		"+86 138 1234 5678": "13812345678",
		"8613812345678":     "13812345678",
		"008613812345678":   "13812345678",
		"１３８１２３４５６７８":       "13812345678",
		"1.3812345678E+10":  "13812345678",
		"13812345678.0":     "13812345678",
		"(138)12345678":     "13812345678",
	} {
		if got, ok := NormalizePhone(in); !ok || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1381234567", "138123456789", "12812345678", "23812345678", "138a2345678", "028-12345678", "+8713812345678", "1381234567+8"} {
		if got, ok := NormalizePhone(in); ok {
			t.Errorf("NormalizePhone(%q) = %q, ok; want refused", in, got)
		}
	}
}

// TestImportTiming imports 5,000 rows over 670 villages twice (created, then unchanged) and once more
// with every role changed (updated), and logs how long each took. Not asserted: targets are measured,
// not tested.
func TestImportTiming(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing: not with -short or -race")
	}
	s, db, clk := newService(t)
	ctx := context.Background()
	file := func(role string) *strings.Reader {
		var b strings.Builder
		b.WriteString("姓名,手机号,角色,组织\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "党员%04d,139%08d,%s,测试县/镇%02d/村%03d\n", i, i, role, i%20, i%670)
		}
		return strings.NewReader(b.String())
	}
	for _, step := range []struct{ name, role string }{{"create", "党员"}, {"unchanged", "党员"}, {"update", "书记"}} {
		clk.advance(time.Minute)
		start := time.Now()
		res, err := s.Import(ctx, file(step.role), "big.csv")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: import 5000 rows, %-9s in %v (created %d, updated %d, unchanged %d)",
			models.Dialect(db), step.name, time.Since(start).Round(time.Millisecond), res.Created, res.Updated, res.Unchanged)
		if len(res.Errors) != 0 || len(res.Unbound) != 5000 {
			t.Fatalf("errors %v, unbound %d", res.Errors[:min(3, len(res.Errors))], len(res.Unbound))
		}
	}
	if n := countMembers(t, db); n != 5000 {
		t.Fatalf("%d members", n)
	}
}
