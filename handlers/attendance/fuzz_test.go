package attendance

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/table"
)

// errNotUTF8: a cell table.Read returned is not UTF-8, which it promises and FuzzRead checks.
var errNotUTF8 = errors.New("cell not UTF-8")

// checkPlacesFile is ImportPlaces up to the database: the header, then every row checked, duplicates
// refused. It mirrors ImportPlaces' loop so that the fuzzer runs without a database.
func checkPlacesFile(data []byte, name string) ([]placeRow, []RowError, error) {
	recs, err := table.Read(bytes.NewReader(data), name)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range recs {
		for _, c := range r.Fields {
			if !utf8.ValidString(c) {
				return nil, nil, errNotUTF8 // table.Read's own finding (FuzzRead)
			}
		}
	}
	for len(recs) > 0 && table.Blank(recs[0].Fields) {
		recs = recs[1:]
	}
	if len(recs) == 0 {
		return nil, nil, table.ErrBadFile
	}
	cols, err := parsePlacesHeader(recs[0])
	if err != nil {
		return nil, nil, err
	}
	var rows []placeRow
	var errs []RowError
	first := map[string]int{}
	for _, rec := range recs[1:] {
		if table.Blank(rec.Fields) {
			continue
		}
		row, reasons := checkPlaceRow(rec, cols)
		if len(reasons) == 0 {
			key := row.org + "\x00" + row.name
			if _, dup := first[key]; dup {
				reasons = append(reasons, "duplicate")
			} else {
				first[key] = rec.Line
			}
		}
		if len(reasons) > 0 {
			errs = append(errs, RowError{Line: rec.Line, Reason: strings.Join(reasons, "；")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, errs, nil
}

// FuzzPlacesFile feeds the places import's reading and checking any upload: no panic; a whole file is
// refused only with ErrBadFile; every row is imported or reported by its line, never both; and every
// place that goes on to the database has finite coordinates in range (not 0,0), a radius within
// MinRadius–MaxRadius, a canonical org path, and a name PostgreSQL can store.
func FuzzPlacesFile(f *testing.F) {
	village := "洪雅县/花溪镇/郭沟村"
	for _, seed := range []string{
		"组织,名称,纬度,经度,半径米\n" +
			village + ",党群服务中心,29.9101,103.3702,\n" +
			village + ",村小学,29.91x,103.37,300\n" +
			village + ",村卫生室,29.91,103.37,5000\n" +
			"洪雅县/花溪镇/双河村,双河活动室,29.9,103.4,300\n",
		"经度,纬度,地点名称,组织,半径（米）\n103.37,29.91,活动室," + village + ",300米\n",
		"组织,名称,纬度,经度\n" + village + ",a,0,0\n" + village + ",b,NaN,Inf\n" + village + ",c,1e308,-1e308\n" + village + ",d,９０,１８０\n",
		"组织,名称,纬度,经度,半径\n" + village + ",a,29.9,103.3,100.5\n" + village + ",a,29.9,103.3,3000\n" + village + ",a,29.9,103.3,99\n",
		"组织,名称\n", "", "\n,,\n",
		"组织,名称,纬度,经度\n//,,0x1p4,+.5e1\n",
	} {
		f.Add([]byte(seed), false)
	}
	x := excelize.NewFile()
	sheet := x.GetSheetName(0)
	x.SetSheetRow(sheet, "A1", &[]any{"组织", "名称", "纬度", "经度", "半径米"})
	x.SetSheetRow(sheet, "A2", &[]any{village, "党群服务中心", 29.9101, 103.3702, 300})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), true)

	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		name := "places.csv"
		if xlsx {
			name = "places.xlsx"
		}
		rows, errs, err := checkPlacesFile(data, name)
		if errors.Is(err, errNotUTF8) {
			t.Skip(err)
		}
		if err != nil {
			if !errors.Is(err, table.ErrBadFile) {
				t.Fatalf("not a file-level refusal: %v", err)
			}
			return
		}
		seen := map[int]bool{}
		for _, e := range errs {
			if e.Reason == "" || !utf8.ValidString(e.Reason) || seen[e.Line] {
				t.Fatalf("row error %+v", e)
			}
			seen[e.Line] = true
		}
		for _, r := range rows {
			if seen[r.line] {
				t.Fatalf("line %d both imported and refused", r.line)
			}
			seen[r.line] = true
			if CheckCoords(r.lat, r.lng) != nil || math.IsNaN(r.lat) || math.IsNaN(r.lng) {
				t.Fatalf("line %d: coordinates %v,%v", r.line, r.lat, r.lng)
			}
			if r.radius < MinRadius || r.radius > MaxRadius {
				t.Fatalf("line %d: radius %d", r.line, r.radius)
			}
			if canon, _, err := roster.ParseOrgPath(r.org); err != nil || canon != r.org {
				t.Fatalf("line %d: org %q: %v", r.line, r.org, err)
			}
			if r.name == "" || utf8.RuneCountInString(r.name) > maxPlaceName || !utf8.ValidString(r.name) ||
				strings.IndexFunc(r.name, unicode.IsControl) >= 0 {
				t.Fatalf("line %d: name %q cannot be stored as it is", r.line, r.name)
			}
		}
	})
}
