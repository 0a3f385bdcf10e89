package attendance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// PlacesHeader is the header row of a places file (CONTRACT.md). 半径米 may be left out or blank
// (DefaultRadius); columns are found by name, so their order does not matter.
var PlacesHeader = []string{"组织", "名称", "纬度", "经度", "半径米"}

// RowError is a row that was not imported, by its line in the file, with the reason in Chinese.
type RowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportResult is what an import did.
type ImportResult struct {
	Created   int        `json:"created"`
	Updated   int        `json:"updated"`
	Unchanged int        `json:"unchanged"`
	Errors    []RowError `json:"errors"`
}

// placeRow is a checked row.
type placeRow struct {
	line     int
	org      string // canonical path
	name     string
	lat, lng float64
	radius   int
}

// placeColumns: which column holds what (-1: none).
type placeColumns struct{ org, name, lat, lng, radius int }

// headerCell is a header cell as compared: half-width, no spaces or brackets ("半径（米）" → "半径米").
func headerCell(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(table.Clean(s)) {
		if !unicode.IsSpace(r) && !strings.ContainsRune("()[]", r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func parsePlacesHeader(rec table.Record) (placeColumns, error) {
	cols := placeColumns{-1, -1, -1, -1, -1}
	for i, f := range rec.Fields {
		switch headerCell(f) {
		case "组织":
			cols.org = i
		case "名称", "地点", "地点名称":
			cols.name = i
		case "纬度":
			cols.lat = i
		case "经度":
			cols.lng = i
		case "半径米", "半径":
			cols.radius = i
		}
	}
	if cols.org < 0 || cols.name < 0 || cols.lat < 0 || cols.lng < 0 {
		var cells []string
		for _, f := range rec.Fields {
			cells = append(cells, table.Clean(f))
		}
		return cols, fmt.Errorf("%w: 第%d行应为表头「%s」（半径米可以不填），实际是「%s」", table.ErrBadFile, rec.Line,
			strings.Join(PlacesHeader, ","), clipRunes(strings.Join(cells, ","), 80))
	}
	return cols, nil
}

// cellOf is column i of a row ("" when the row is shorter).
func cellOf(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return table.Clean(fields[i])
}

// checkPlaceRow checks one data row, returning every reason it is wrong.
func checkPlaceRow(rec table.Record, cols placeColumns) (placeRow, []string) {
	row := placeRow{line: rec.Line, radius: DefaultRadius}
	var reasons []string
	if path, _, err := roster.ParseOrgPath(cellOf(rec.Fields, cols.org)); err != nil {
		reasons = append(reasons, strings.TrimPrefix(err.Error(), roster.ErrBadOrgPath.Error()+": "))
	} else {
		row.org = path
	}
	row.name = strings.TrimSpace(cellOf(rec.Fields, cols.name))
	switch {
	case row.name == "":
		reasons = append(reasons, "名称为空")
	case len([]rune(row.name)) > maxPlaceName:
		reasons = append(reasons, fmt.Sprintf("名称太长（最多%d个字）", maxPlaceName))
	}
	coord := func(label, cell string, limit float64) float64 {
		v, err := ParseCoord(width.Fold.String(cell))
		switch {
		case cell == "":
			reasons = append(reasons, label+"为空")
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("%s「%s」不是有效的数字", label, clipRunes(cell, 20)))
		case math.Abs(v) > limit:
			reasons = append(reasons, fmt.Sprintf("%s %s 超出范围（应在 -%g 到 %g 之间）", label, cell, limit, limit))
		default:
			return v
		}
		return math.NaN()
	}
	row.lat = coord("纬度", cellOf(rec.Fields, cols.lat), 90)
	row.lng = coord("经度", cellOf(rec.Fields, cols.lng), 180)
	if !math.IsNaN(row.lat) && !math.IsNaN(row.lng) && CheckCoords(row.lat, row.lng) != nil {
		reasons = append(reasons, "坐标不能是 0,0")
	}
	if r := width.Fold.String(cellOf(rec.Fields, cols.radius)); r != "" {
		f, err := strconv.ParseFloat(strings.TrimSuffix(r, "米"), 64)
		switch {
		case err != nil || f != math.Trunc(f):
			reasons = append(reasons, fmt.Sprintf("半径「%s」应为整数米数", clipRunes(r, 20)))
		case f < MinRadius || f > MaxRadius:
			reasons = append(reasons, fmt.Sprintf("半径 %s 米超出范围（应在 %d–%d 米之间）", r, MinRadius, MaxRadius))
		default:
			row.radius = int(f)
		}
	}
	return row, reasons
}

// ImportPlaces reads a places file (CSV or the first sheet of an XLSX; see table.Read) and creates or
// updates places by (组织, 名称): importing the same file twice changes nothing; new coordinates or
// radius update the place (and bring a deactivated one back). Bad rows (bad coordinates, a radius
// outside 100–3,000, an unknown org, an org outside sc) are reported by line and the good rows
// imported, in one transaction with its audit record. A file-level problem (unreadable, wrong header)
// is an error wrapping table.ErrBadFile, and nothing is imported.
func (s *Service) ImportPlaces(ctx context.Context, sc scope.Scope, r io.Reader, filename string, record Recorder) (*ImportResult, error) {
	recs, err := table.Read(r, filename)
	if err != nil {
		return nil, err
	}
	for len(recs) > 0 && table.Blank(recs[0].Fields) {
		recs = recs[1:]
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: 文件是空的，第一行应为表头「%s」", table.ErrBadFile, strings.Join(PlacesHeader, ","))
	}
	cols, err := parsePlacesHeader(recs[0])
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	var rows []placeRow
	first := map[string]int{} // org + name → line of its first good row
	for _, rec := range recs[1:] {
		if table.Blank(rec.Fields) {
			continue
		}
		row, reasons := checkPlaceRow(rec, cols)
		if len(reasons) == 0 {
			key := row.org + "\x00" + row.name
			if prev, dup := first[key]; dup {
				reasons = append(reasons, fmt.Sprintf("%s的「%s」与第%d行重复", lastName(row.org), row.name, prev))
			} else {
				first[key] = rec.Line
			}
		}
		if len(reasons) > 0 {
			res.Errors = append(res.Errors, RowError{Line: rec.Line, Reason: strings.Join(reasons, "；")})
			continue
		}
		rows = append(rows, row)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.importPlaceRows(ctx, tx, sc, rows, res); err != nil {
			return err
		}
		// The log keeps the lines at fault, not their reasons: those quote what was typed, orgs outside
		// the importer's part of the tree included, and the log is read by everyone above him.
		lines := make([]int, len(res.Errors))
		for i, e := range res.Errors {
			lines[i] = e.Line
		}
		return record(ctx, tx, console.Change{Action: console.ActionImport, Object: ObjectPlace, OrgPath: sc.Path,
			Summary: fmt.Sprintf("导入签到地点 %s：新增 %d，更新 %d，未变 %d，错误 %d 行", filename, res.Created, res.Updated, res.Unchanged, len(res.Errors)),
			After:   map[string]any{"file": filename, "created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged, "error_lines": lines}})
	})
	if err != nil {
		return nil, err
	}
	sortRowErrors(res.Errors)
	s.log.InfoContext(ctx, "attendance: places imported", "file", filename, "created", res.Created, "updated", res.Updated,
		"unchanged", res.Unchanged, "errors", len(res.Errors))
	return res, nil
}

// importPlaceRows writes the good rows whose org exists and is in the scope.
func (s *Service) importPlaceRows(ctx context.Context, tx *gorm.DB, sc scope.Scope, rows []placeRow, res *ImportResult) error {
	if len(rows) == 0 {
		return nil
	}
	paths := make([]string, 0, len(rows))
	for _, r := range rows {
		paths = append(paths, r.org)
	}
	var orgs []models.Org
	for i := 0; i < len(paths); i += idChunk {
		var part []models.Org
		if err := tx.Where("path IN ?", paths[i:min(i+idChunk, len(paths))]).Find(&part).Error; err != nil {
			return fmt.Errorf("attendance: import: orgs: %w", err)
		}
		orgs = append(orgs, part...)
	}
	byPath := map[string]models.Org{}
	var ids []uint
	for _, o := range orgs {
		byPath[o.Path] = o
		ids = append(ids, o.ID)
	}
	existing := map[string]models.CheckPlace{} // org id + name
	for i := 0; i < len(ids); i += idChunk {
		var ps []models.CheckPlace
		if err := tx.Where("org_id IN ?", ids[i:min(i+idChunk, len(ids))]).Find(&ps).Error; err != nil {
			return fmt.Errorf("attendance: import: places: %w", err)
		}
		for _, p := range ps {
			existing[fmt.Sprint(p.OrgID)+"\x00"+p.Name] = p
		}
	}
	now := s.now()
	var creates []models.CheckPlace
	for _, r := range rows {
		org, ok := byPath[r.org]
		switch {
		case !ok:
			res.Errors = append(res.Errors, RowError{Line: r.line, Reason: fmt.Sprintf("组织「%s」不存在（请先导入花名册，或在组织页面添加）", r.org)})
			continue
		case !sc.Contains(org.Path):
			res.Errors = append(res.Errors, RowError{Line: r.line, Reason: fmt.Sprintf("组织「%s」不在你的管理范围内", r.org)})
			continue
		}
		p, ok := existing[fmt.Sprint(org.ID)+"\x00"+r.name]
		if !ok {
			creates = append(creates, models.CheckPlace{OrgID: org.ID, Name: r.name, Lat: r.lat, Lng: r.lng, Radius: r.radius,
				Active: true, CreatedAt: now, UpdatedAt: now})
			continue
		}
		if p.Lat == r.lat && p.Lng == r.lng && p.Radius == r.radius && p.Active {
			res.Unchanged++
			continue
		}
		if err := tx.Model(&models.CheckPlace{}).Where("id = ?", p.ID).Updates(map[string]any{
			"lat": r.lat, "lng": r.lng, "radius": r.radius, "active": true, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("attendance: import: update place %d: %w", p.ID, err)
		}
		res.Updated++
	}
	if len(creates) > 0 {
		if err := tx.CreateInBatches(creates, 500).Error; err != nil {
			return fmt.Errorf("attendance: import: create places: %w", err)
		}
		res.Created += len(creates)
	}
	return nil
}

func sortRowErrors(es []RowError) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Line < es[j-1].Line; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// FileReason is what a file-level import error says to people; ok is false for other errors.
func FileReason(err error) (string, bool) {
	if errors.Is(err, table.ErrBadFile) {
		return table.Reason(err), true
	}
	return "", false
}
