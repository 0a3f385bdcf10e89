// Package xlsxout writes the console's table exports (花名册, 签到记录, …) as .xlsx files: one sheet
// with a title line, the filters the user chose, a bold frozen header row with an autofilter, and
// the data. It also names the file and builds the download headers.
//
// Strings are always written as text cells with the text number format, so phone numbers and codes
// with leading zeros stay exactly as given instead of turning into 1.38E+10 or losing their zeros.
package xlsxout

import (
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// ContentType is the media type of an .xlsx file.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Layout of the sheet: rows are 1-based as in Excel.
const (
	titleRow  = 1
	filterRow = 2
	headerRow = 3
	firstData = 4
)

const (
	timeLayout    = "2006-01-02 15:04" // how times read in the title and in data cells
	timeNumFmt    = "yyyy-mm-dd hh:mm" // the same, as an Excel number format
	textNumFmt    = 49                 // Excel's built-in "@" (text) format
	minColWidth   = 8.0
	maxColWidth   = 50.0
	colPadding    = 2.0
	maxExactInt   = 1<<53 - 1 // larger integers lose digits in Excel, so they are written as text
	defaultSheet  = "Sheet1"
	maxSheetUnits = 31 // Excel counts UTF-16 code units
)

// Table is one export: a title, the filters that selected the rows, the column headers and the
// rows. Each row holds at most len(Columns) values; see Write for the value types it understands.
type Table struct {
	Title   string
	Filters []Filter
	Columns []string
	Rows    [][]any
}

// Filter is one condition the user applied, shown in the sheet as Name=Value.
type Filter struct{ Name, Value string }

// Write writes t as an .xlsx workbook to w. generatedAt is printed in the title line, and its
// location is the one data times are shown in.
//
// Values may be strings (written as text), any integer or float kind (numbers; integers beyond
// ±2^53 and NaN/±Inf as text), bools (是/否), time.Time and *time.Time (dates shown as
// "2006-01-02 15:04"; the zero time is empty), nil and nil pointers (empty), pointers to any of
// these, and anything else via fmt.Stringer or fmt.Sprint.
func Write(w io.Writer, t Table, generatedAt time.Time) error {
	return WriteBook(w, []Table{t}, generatedAt)
}

// WriteBook writes the tables as the sheets of one workbook (a report with one sheet per village), each
// laid out as Write lays out its one sheet. Sheet names come from the titles, made valid and unique
// (Excel compares them case-blind): a second "郭沟村" becomes "郭沟村(2)".
func WriteBook(w io.Writer, tables []Table, generatedAt time.Time) (err error) {
	for _, t := range tables {
		for i, row := range t.Rows {
			if len(row) > len(t.Columns) {
				return fmt.Errorf("xlsxout: %q row %d has %d values for %d columns", t.Title, i+1, len(row), len(t.Columns))
			}
		}
	}

	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("xlsxout: close workbook: %w", cerr)
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for i, t := range tables {
		sheet := uniqueSheet(sheetName(t.Title), used)
		switch {
		case i == 0 && sheet != defaultSheet:
			if err := f.SetSheetName(defaultSheet, sheet); err != nil {
				return fmt.Errorf("xlsxout: name sheet %q: %w", sheet, err)
			}
		case i > 0:
			if _, err := f.NewSheet(sheet); err != nil {
				return fmt.Errorf("xlsxout: add sheet %q: %w", sheet, err)
			}
		}
		if err := writeSheet(f, st, sheet, t, generatedAt); err != nil {
			return err
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsxout: write workbook: %w", err)
	}
	return nil
}

// writeSheet lays out one table on its sheet: title, filters, frozen header with an autofilter, rows.
func writeSheet(f *excelize.File, st styles, sheet string, t Table, generatedAt time.Time) error {
	loc := generatedAt.Location()
	cells := make([][]any, len(t.Rows))
	widths := make([]int, len(t.Columns))
	for i, name := range t.Columns {
		widths[i] = textWidth(name)
	}
	for i, row := range t.Rows {
		out := make([]any, len(row))
		for j, v := range row {
			c, w := st.cell(v, loc)
			out[j] = c
			widths[j] = max(widths[j], w)
		}
		cells[i] = out
	}

	// The dimension and the autofilter must be set before streaming starts: the stream writer
	// copies the sheet's settings when it is created (else the dimension stays "A1", which some
	// readers trust) and writes them out on Flush.
	lastRow := headerRow + len(t.Rows)
	dim, err := rangeRef(1, 1, max(len(t.Columns), 1), lastRow)
	if err != nil {
		return err
	}
	if err := f.SetSheetDimension(sheet, dim); err != nil {
		return fmt.Errorf("xlsxout: dimension %s: %w", dim, err)
	}
	if len(t.Columns) > 0 {
		ref, err := rangeRef(1, headerRow, len(t.Columns), lastRow)
		if err != nil {
			return err
		}
		if err := f.AutoFilter(sheet, ref, nil); err != nil {
			return fmt.Errorf("xlsxout: autofilter %s: %w", ref, err)
		}
	}

	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsxout: stream sheet %q: %w", sheet, err)
	}
	// excelize puts each new <col> before the ones already set, and Excel wants them in ascending
	// order, so the widths go in from the last column to the first.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, colWidth(widths[i])); err != nil {
			return fmt.Errorf("xlsxout: width of column %d: %w", i+1, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      headerRow,
		TopLeftCell: fmt.Sprintf("A%d", firstData),
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: fmt.Sprintf("A%d", firstData), ActiveCell: fmt.Sprintf("A%d", firstData), Pane: "bottomLeft"}},
	}); err != nil {
		return fmt.Errorf("xlsxout: freeze header: %w", err)
	}

	title := "导出时间：" + generatedAt.Format(timeLayout)
	if s := strings.TrimSpace(t.Title); s != "" {
		title = s + "  " + title
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 22}); err != nil {
		return fmt.Errorf("xlsxout: title row: %w", err)
	}
	if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: st.filter, Value: filterText(t.Filters)}}); err != nil {
		return fmt.Errorf("xlsxout: filter row: %w", err)
	}
	header := make([]any, len(t.Columns))
	for i, name := range t.Columns {
		header[i] = excelize.Cell{StyleID: st.header, Value: name}
	}
	if err := sw.SetRow(fmt.Sprintf("A%d", headerRow), header); err != nil {
		return fmt.Errorf("xlsxout: header row: %w", err)
	}
	for i, row := range cells {
		axis, err := excelize.CoordinatesToCellName(1, firstData+i)
		if err != nil {
			return fmt.Errorf("xlsxout: row %d: %w", i+1, err)
		}
		if err := sw.SetRow(axis, row); err != nil {
			return fmt.Errorf("xlsxout: row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsxout: flush sheet %q: %w", sheet, err)
	}
	return nil
}

// uniqueSheet is name, or name with a number when it is taken in this workbook.
func uniqueSheet(name string, used map[string]bool) string {
	out := name
	for n := 2; used[strings.ToLower(out)]; n++ {
		suffix := "(" + strconv.Itoa(n) + ")"
		r := []rune(name)
		for len(r) > 0 && utf16Len(string(r))+len(suffix) > maxSheetUnits {
			r = r[:len(r)-1]
		}
		out = sheetName(string(r) + suffix)
	}
	used[strings.ToLower(out)] = true
	return out
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// filterText renders the filters line of the sheet: "筛选：组织=洪雅县/花溪镇；角色=书记", or "筛选：全部"
// when there are none.
func filterText(filters []Filter) string {
	if len(filters) == 0 {
		return "筛选：全部"
	}
	parts := make([]string, len(filters))
	for i, f := range filters {
		parts[i] = f.Name + "=" + f.Value
	}
	return "筛选：" + strings.Join(parts, "；")
}

// sheetName turns a title into a valid Excel sheet name: the characters []:*?/\ and control
// characters become "_", and so do apostrophes (Excel forbids them at either end, and elsewhere
// they would need doubling in the autofilter's range reference); the result is cut to 31 UTF-16
// units. An empty result, or Excel's reserved "History", becomes "Sheet1".
func sheetName(title string) string {
	var b strings.Builder
	units := 0
	for _, r := range strings.TrimSpace(title) {
		switch {
		case strings.ContainsRune(`[]:*?/\'`, r), unicode.IsControl(r), r == utf8.RuneError:
			r = '_'
		}
		n := utf16.RuneLen(r)
		if units+n > maxSheetUnits {
			break
		}
		units += n
		b.WriteRune(r)
	}
	name := strings.TrimSpace(b.String())
	if name == "" || strings.EqualFold(name, "History") { // "History" is reserved by Excel
		return defaultSheet
	}
	return name
}

// styles holds the style ids of one workbook.
type styles struct {
	title, filter, header, text, date int
}

func newStyles(f *excelize.File) (styles, error) {
	var st styles
	timeFmt := timeNumFmt
	defs := []struct {
		id    *int
		style excelize.Style
	}{
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.filter, excelize.Style{Font: &excelize.Font{Color: "666666"}}},
		{&st.header, excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "999999", Style: 1}},
			Alignment: &excelize.Alignment{Vertical: "center"},
		}},
		{&st.text, excelize.Style{NumFmt: textNumFmt}},
		{&st.date, excelize.Style{CustomNumFmt: &timeFmt}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.style)
		if err != nil {
			return st, fmt.Errorf("xlsxout: new style: %w", err)
		}
		*d.id = id
	}
	return st, nil
}

// cell converts one value to what the stream writer takes, and returns its display width.
func (st styles) cell(v any, loc *time.Location) (any, int) {
	// Fast paths for the common types; the reflect switch below handles named and pointer types.
	switch v := v.(type) {
	case nil:
		return nil, 0
	case string:
		return st.textCell(v)
	case int:
		return st.intCell(int64(v))
	case int64:
		return st.intCell(v)
	case float64:
		return st.floatCell(v)
	case bool:
		return st.boolCell(v)
	case time.Time:
		return st.timeCell(v, loc)
	case *time.Time:
		if v == nil {
			return nil, 0
		}
		return st.timeCell(*v, loc)
	case fmt.Stringer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, 0
		}
		return st.textCell(v.String())
	case error:
		return st.textCell(v.Error())
	}

	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, 0
		}
		rv = rv.Elem()
	}
	if rv.Type() == reflect.TypeFor[time.Time]() {
		return st.timeCell(rv.Interface().(time.Time), loc)
	}
	switch rv.Kind() {
	case reflect.String:
		return st.textCell(rv.String())
	case reflect.Bool:
		return st.boolCell(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return st.intCell(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > maxExactInt {
			return st.textCell(strconv.FormatUint(u, 10))
		}
		return st.intCell(int64(u))
	case reflect.Float32, reflect.Float64:
		return st.floatCell(rv.Float())
	}
	if s, ok := rv.Interface().(fmt.Stringer); ok {
		return st.textCell(s.String())
	}
	return st.textCell(fmt.Sprint(rv.Interface()))
}

func (st styles) textCell(s string) (any, int) {
	if s == "" {
		return nil, 0
	}
	return excelize.Cell{StyleID: st.text, Value: s}, textWidth(s)
}

func (st styles) intCell(n int64) (any, int) {
	s := strconv.FormatInt(n, 10)
	if n > maxExactInt || n < -maxExactInt {
		return st.textCell(s)
	}
	return n, len(s)
}

func (st styles) floatCell(x float64) (any, int) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return st.textCell(strconv.FormatFloat(x, 'g', -1, 64))
	}
	// Excel shows at most about 11 characters of a number in the General format.
	return x, min(len(strconv.FormatFloat(x, 'g', -1, 64)), 12)
}

func (st styles) boolCell(b bool) (any, int) {
	if b {
		return st.textCell("是")
	}
	return st.textCell("否")
}

func (st styles) timeCell(t time.Time, loc *time.Location) (any, int) {
	if t.IsZero() {
		return nil, 0
	}
	return excelize.Cell{StyleID: st.date, Value: t.In(loc)}, len(timeLayout)
}

// textWidth estimates how many Excel width units s needs: East Asian wide and full-width
// characters count two, others one. For multi-line text the longest line counts.
func textWidth(s string) int {
	longest, cur := 0, 0
	for _, r := range s {
		switch {
		case r == '\n':
			longest, cur = max(longest, cur), 0
		case r < utf8.RuneSelf:
			cur++
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				cur += 2
			default:
				cur++
			}
		}
	}
	return max(longest, cur)
}

func colWidth(textUnits int) float64 {
	return min(max(float64(textUnits)+colPadding, minColWidth), maxColWidth)
}

// rangeRef returns the reference of the cells from (col1, row1) to (col2, row2), e.g. "A3:I6".
func rangeRef(col1, row1, col2, row2 int) (string, error) {
	first, err := excelize.CoordinatesToCellName(col1, row1)
	if err != nil {
		return "", fmt.Errorf("xlsxout: range: %w", err)
	}
	last, err := excelize.CoordinatesToCellName(col2, row2)
	if err != nil {
		return "", fmt.Errorf("xlsxout: range: %w", err)
	}
	return first + ":" + last, nil
}
