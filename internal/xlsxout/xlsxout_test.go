package xlsxout

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// cst is China Standard Time without depending on the system's tzdata.
var cst = time.FixedZone("CST", 8*3600)

type role string

type orgID struct{ n int }

func (o orgID) String() string { return fmt.Sprintf("ORG-%03d", o.n) }

func writeAndOpen(t *testing.T, tbl Table, at time.Time) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, tbl, at); err != nil {
		t.Fatalf("Write: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cellValue(t *testing.T, f *excelize.File, sheet, axis string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, axis)
	if err != nil {
		t.Fatalf("GetCellValue(%s): %v", axis, err)
	}
	return v
}

func TestWrite(t *testing.T) {
	at := time.Date(2026, 11, 21, 20, 15, 42, 0, cst)
	joined := time.Date(2001, 7, 1, 1, 30, 0, 0, time.UTC) // 09:30 in China
	var lastCheckIn *time.Time
	tbl := Table{
		Title: "党员花名册",
		Filters: []Filter{
			{Name: "组织", Value: "洪雅县/花溪镇"},
			{Name: "角色", Value: "书记"},
		},
		Columns: []string{"姓名", "手机号", "组织编码", "年龄", "党费", "预备党员", "入党时间", "最近签到", "角色"},
		Rows: [][]any{
			{"张三", "13800001111", "007", 45, 12.5, false, joined, lastCheckIn, role("书记")},
			{"李四", "13900002222", "0012", int64(38), 0.0, true, &joined, nil, nil},
			{"王五"}, // a short row leaves the rest empty
		},
	}
	f := writeAndOpen(t, tbl, at)

	if got := f.GetSheetList(); len(got) != 1 || got[0] != "党员花名册" {
		t.Fatalf("sheets = %q, want [党员花名册]", got)
	}
	const sheet = "党员花名册"

	for _, c := range []struct{ axis, want string }{
		{"A1", "党员花名册  导出时间：2026-11-21 20:15"},
		{"A2", "筛选：组织=洪雅县/花溪镇；角色=书记"},
		{"A3", "姓名"}, {"B3", "手机号"}, {"I3", "角色"},
		{"A4", "张三"},
		{"B4", "13800001111"},
		{"C4", "007"},
		{"C5", "0012"},
		{"D4", "45"},
		{"E4", "12.5"},
		{"F4", "否"}, {"F5", "是"},
		{"G4", "2001-07-01 09:30"}, {"G5", "2001-07-01 09:30"},
		{"H4", ""}, {"H5", ""},
		{"I4", "书记"}, {"I5", ""},
		{"A6", "王五"}, {"B6", ""},
	} {
		if got := cellValue(t, f, sheet, c.axis); got != c.want {
			t.Errorf("%s = %q, want %q", c.axis, got, c.want)
		}
	}

	// Phone numbers and codes are text cells with the text format, never numbers.
	for _, axis := range []string{"B4", "B5", "C4"} {
		typ, err := f.GetCellType(sheet, axis)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s has cell type %v, want a string type", axis, typ)
		}
		if got := numFmt(t, f, sheet, axis); got != textNumFmt {
			t.Errorf("%s number format = %d, want %d (text)", axis, got, textNumFmt)
		}
	}
	if typ, _ := f.GetCellType(sheet, "D4"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("D4 (an int) is a string cell")
	}

	if got := boldFont(t, f, sheet, "B3"); !got {
		t.Error("header B3 is not bold")
	}
	if got := boldFont(t, f, sheet, "B4"); got {
		t.Error("data B4 is bold")
	}

	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 3 || panes.TopLeftCell != "A4" {
		t.Errorf("panes = %+v, want frozen below row 3", panes)
	}

	var filter string
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			filter = dn.RefersTo
		}
	}
	if want := "'党员花名册'!$A$3:$I$6"; filter != want {
		t.Errorf("autofilter range = %q, want %q", filter, want)
	}

	if dim, err := f.GetSheetDimension(sheet); err != nil || dim != "A1:I6" {
		t.Errorf("dimension = %q (%v), want A1:I6", dim, err)
	}

	// CJK counts double: the 11-digit phone column is wider than the 2-character name column,
	// and a 4-character Chinese header (8 units) beats its 3-digit values.
	nameW, _ := f.GetColWidth(sheet, "A")
	phoneW, _ := f.GetColWidth(sheet, "B")
	codeW, _ := f.GetColWidth(sheet, "C")
	if !(phoneW > nameW) || codeW != colWidth(8) {
		t.Errorf("widths A=%v B=%v C=%v; want B > A and C = %v", nameW, phoneW, codeW, colWidth(8))
	}
}

// Excel asks to repair a file whose <col> elements are not in ascending order.
func TestWriteColumnsInOrder(t *testing.T) {
	var buf bytes.Buffer
	tbl := Table{Title: "t", Columns: []string{"a", "b", "c", "d"}, Rows: [][]any{{"1", "22", "333", "4444"}}}
	if err := Write(&buf, tbl, time.Now()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sheetXML, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	var mins []string
	for _, m := range regexp.MustCompile(`<col min="(\d+)"`).FindAllSubmatch(sheetXML, -1) {
		mins = append(mins, string(m[1]))
	}
	if got := strings.Join(mins, ","); got != "1,2,3,4" {
		t.Errorf("<col> order = %s, want 1,2,3,4", got)
	}
}

func TestWriteNoFilters(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, cst)
	f := writeAndOpen(t, Table{Title: "签到记录", Columns: []string{"姓名"}}, at)
	if got := cellValue(t, f, "签到记录", "A2"); got != "筛选：全部" {
		t.Errorf("A2 = %q, want 筛选：全部", got)
	}
	if got := cellValue(t, f, "签到记录", "A1"); got != "签到记录  导出时间：2026-01-02 03:04" {
		t.Errorf("A1 = %q", got)
	}
}

func TestWriteNoTitleNoColumns(t *testing.T) {
	f := writeAndOpen(t, Table{}, time.Date(2026, 1, 2, 3, 4, 0, 0, cst))
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "Sheet1" {
		t.Fatalf("sheets = %q", got)
	}
	if got := cellValue(t, f, "Sheet1", "A1"); got != "导出时间：2026-01-02 03:04" {
		t.Errorf("A1 = %q", got)
	}
}

func TestWriteRejectsLongRow(t *testing.T) {
	err := Write(&bytes.Buffer{}, Table{Title: "x", Columns: []string{"a"}, Rows: [][]any{{1}, {1, 2}}}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "row 2 has 2 values for 1 columns") {
		t.Fatalf("err = %v, want a row-length error", err)
	}
}

func TestCell(t *testing.T) {
	st := styles{text: 11, date: 12}
	at := time.Date(2026, 11, 21, 12, 15, 0, 0, time.UTC)
	n := 7
	var nilInt *int
	var nilStringer *orgID
	tests := []struct {
		name  string
		in    any
		want  any
		width int
	}{
		{"nil", nil, nil, 0},
		{"empty string", "", nil, 0},
		{"string", "张三", excelize.Cell{StyleID: 11, Value: "张三"}, 4},
		{"phone", "13800001111", excelize.Cell{StyleID: 11, Value: "13800001111"}, 11},
		{"named string", role("委员"), excelize.Cell{StyleID: 11, Value: "委员"}, 4},
		{"int", 42, int64(42), 2},
		{"int8", int8(-3), int64(-3), 2},
		{"uint16", uint16(9), int64(9), 1},
		{"pointer to int", &n, int64(7), 1},
		{"nil pointer", nilInt, nil, 0},
		{"huge int64", int64(1) << 60, excelize.Cell{StyleID: 11, Value: "1152921504606846976"}, 19},
		{"huge uint64", uint64(math.MaxUint64), excelize.Cell{StyleID: 11, Value: "18446744073709551615"}, 20},
		{"float", 3.25, 3.25, 4},
		{"float32", float32(0.5), 0.5, 3},
		{"NaN", math.NaN(), excelize.Cell{StyleID: 11, Value: "NaN"}, 3},
		{"true", true, excelize.Cell{StyleID: 11, Value: "是"}, 2},
		{"false", false, excelize.Cell{StyleID: 11, Value: "否"}, 2},
		{"time", at, excelize.Cell{StyleID: 12, Value: at.In(cst)}, 16},
		{"zero time", time.Time{}, nil, 0},
		{"time pointer", &at, excelize.Cell{StyleID: 12, Value: at.In(cst)}, 16},
		{"stringer", orgID{5}, excelize.Cell{StyleID: 11, Value: "ORG-005"}, 7},
		{"nil stringer", nilStringer, nil, 0},
		{"error", fmt.Errorf("坏了"), excelize.Cell{StyleID: 11, Value: "坏了"}, 4},
		{"other", []int{1, 2}, excelize.Cell{StyleID: 11, Value: "[1 2]"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, w := st.cell(tt.in, cst)
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("cell(%v) = %#v, want %#v", tt.in, got, tt.want)
			}
			if w != tt.width {
				t.Errorf("width = %d, want %d", w, tt.width)
			}
		})
	}
}

func TestSheetName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"党员花名册", "党员花名册"},
		{"", "Sheet1"},
		{"   ", "Sheet1"},
		{"history", "Sheet1"},
		{"洪雅县/花溪镇 [2026]: 名单?*", "洪雅县_花溪镇 _2026__ 名单__"},
		{`a\b'c'`, "a_b_c_"},
		{"tab\there", "tab_here"},
		{strings.Repeat("组", 40), strings.Repeat("组", 31)},
		{strings.Repeat("a", 30) + "😀", strings.Repeat("a", 30)}, // the emoji needs 2 UTF-16 units
	}
	for _, tt := range tests {
		if got := sheetName(tt.in); got != tt.want {
			t.Errorf("sheetName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTextWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"花名册", 6},
		{"A组", 3},
		{"（全角）", 8},
		{"第一行\nab", 6},
	}
	for _, tt := range tests {
		if got := textWidth(tt.in); got != tt.want {
			t.Errorf("textWidth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	if got := colWidth(1000); got != maxColWidth {
		t.Errorf("colWidth(1000) = %v, want the cap %v", got, maxColWidth)
	}
	if got := colWidth(1); got != minColWidth {
		t.Errorf("colWidth(1) = %v, want the minimum %v", got, minColWidth)
	}
}

func numFmt(t *testing.T, f *excelize.File, sheet, axis string) int {
	t.Helper()
	id, err := f.GetCellStyle(sheet, axis)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return s.NumFmt
}

func boldFont(t *testing.T, f *excelize.File, sheet, axis string) bool {
	t.Helper()
	id, err := f.GetCellStyle(sheet, axis)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Font != nil && s.Font.Bold
}

func BenchmarkWrite5000x8(b *testing.B) {
	at := time.Date(2026, 11, 21, 20, 15, 0, 0, cst)
	tbl := Table{
		Title:   "党员花名册",
		Filters: []Filter{{Name: "组织", Value: "洪雅县/花溪镇"}},
		Columns: []string{"姓名", "手机号", "组织", "角色", "年龄", "党费", "预备党员", "入党时间"},
	}
	for i := range 5000 {
		tbl.Rows = append(tbl.Rows, []any{
			fmt.Sprintf("党员%04d", i),
			fmt.Sprintf("138%08d", i),
			"洪雅县/花溪镇/第一支部",
			"党员",
			20 + i%60,
			float64(i%100) / 4,
			i%7 == 0,
			at.AddDate(0, 0, -i),
		})
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, tbl, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1024, "KiB/file")
}

// TestWriteBook: one sheet per table, names made valid and unique (a second 郭沟村 is 郭沟村(2), cut to
// fit 31 units with its number), each laid out like Write's.
func TestWriteBook(t *testing.T) {
	long := strings.Repeat("一二三四五六七八九十", 4)
	tables := []Table{
		{Title: "花溪镇考勤汇总", Columns: []string{"单位"}, Rows: [][]any{{"郭沟村"}}},
		{Title: "郭沟村", Columns: []string{"姓名"}, Rows: [][]any{{"张国华"}}},
		{Title: "郭沟村", Columns: []string{"姓名"}, Rows: [][]any{{"李秀英"}}},
		{Title: "a/b:c", Columns: []string{"x"}},
		{Title: long, Columns: []string{"x"}},
		{Title: long, Columns: []string{"x"}},
	}
	var buf bytes.Buffer
	if err := WriteBook(&buf, tables, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"花溪镇考勤汇总", "郭沟村", "郭沟村(2)", "a_b_c", long[:len("一")*31], long[:len("一")*28] + "(2)"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets = %q, want %q", got, want)
	}
	if v := cellValue(t, f, "郭沟村(2)", "A4"); v != "李秀英" {
		t.Errorf("second 郭沟村 A4 = %q", v)
	}
	if v := cellValue(t, f, "郭沟村", "A1"); !strings.HasPrefix(v, "郭沟村  导出时间：2026-11-21 09:00") {
		t.Errorf("title = %q", v)
	}
	if err := WriteBook(&buf, []Table{{Title: "x", Columns: []string{"a"}, Rows: [][]any{{1, 2}}}}, time.Now()); err == nil {
		t.Error("a row longer than the columns was written")
	}
}
