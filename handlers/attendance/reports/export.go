package reports

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
)

// The export of a report is one workbook: a summary sheet (汇总) of the units (or, for a village, its
// members), then one sheet per unit listing what is right under it: for a town, one sheet per
// village with its members; for a county, one per town with its villages. Each sheet starts as
// internal/xlsxout's do: a title with the export time, a line of the filters (scope, org, period,
// thresholds, the rate's definition), the bold, frozen header row.
//
// xlsxout writes one sheet per workbook; writeBook is its layout for several sheets.

var unitColumns = []string{"单位", "组织路径", "在册人数", "应到（人天）", "实到（人天）", "出勤率（%）",
	"正常", "迟到", "早退", "外勤", "请假", "缺勤", "休息", "迟到天次", "早退天次", "异常标记", "状态"}

var memberColumns = []string{"姓名", "角色", "组织", "应到（天）", "实到（天）", "出勤率（%）",
	"正常", "迟到", "早退", "外勤", "请假", "缺勤", "休息", "迟到天次", "早退天次", "异常标记", "状态"}

func rate1(c Counts) any {
	if v := c.Rate1(); v != nil {
		return *v
	}
	return nil
}

func countsCells(c Counts) []any {
	return []any{c.Expected(), c.Attended(), rate1(c), c.Present, c.Late, c.EarlyLeave, c.Offsite, c.Leave, c.Absent,
		c.Rest, c.LateDays, c.EarlyDays, c.Flagged}
}

func unitRow(u Unit) []any {
	return append([]any{u.Name, u.Path, u.Members}, append(countsCells(u.Counts), StatusNames[u.Status])...)
}

func memberRow(m MemberFigures) []any {
	return append([]any{m.Name, m.Role, m.OrgPath}, append(countsCells(m.Counts), StatusNames[m.Status])...)
}

// sheetOf is the table of a report: its units with a total row, or its members.
func sheetOf(title string, rep *Report, filters []xlsxout.Filter) xlsxout.Table {
	if len(rep.Units) == 0 {
		t := xlsxout.Table{Title: title, Filters: filters, Columns: memberColumns}
		for _, m := range rep.Members {
			t.Rows = append(t.Rows, memberRow(m))
		}
		return t
	}
	t := xlsxout.Table{Title: title, Filters: filters, Columns: unitColumns}
	for _, u := range rep.Units {
		t.Rows = append(t.Rows, unitRow(u))
	}
	total := rep.Total
	total.Name = "合计"
	return xlsxout.Table{Title: t.Title, Filters: t.Filters, Columns: t.Columns, Rows: append(t.Rows, unitRow(total))}
}

// exportAudit is what the audit log keeps of an export: never the rows.
type exportAudit struct {
	File    string            `json:"file"`
	Title   string            `json:"title"`
	Filters map[string]string `json:"filters,omitempty"`
	Sheets  int               `json:"sheets"`
	Rows    int               `json:"rows"`
}

// ReportExport is GET /console/attendance/report/export.xlsx: the report of the page's org and period
// as a workbook (see above), audited.
func (h *Web) ReportExport(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	q := console.ParseList(c)
	rep, err := h.report(c, q, true)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	name := "全部"
	if rep.Root != nil {
		name = rep.Root.Name
	}
	filters := func(org string) []xlsxout.Filter {
		fs := []xlsxout.Filter{scopeFilter(v.Scope)}
		if org != "" {
			fs = append(fs, xlsxout.Filter{Name: "单位", Value: org})
		}
		return append(fs, xlsxout.Filter{Name: "时段", Value: rep.Period.Label()},
			xlsxout.Filter{Name: "状态标准", Value: rep.Thresholds.Text()}, xlsxout.Filter{Name: "口径", Value: Definition})
	}
	rootPath := ""
	if rep.Root != nil {
		rootPath = rep.Root.Path
	}
	sheets := []xlsxout.Table{sheetOf(name+"考勤汇总", rep, filters(rootPath))}
	for _, u := range rep.Units {
		if u.Own || !u.Children { // the org's own members, or a village's: from the report's members
			sheets = append(sheets, sheetOf(u.Name, &Report{Members: membersIn(rep.Members, u.Path, u.Own)}, filters(u.Path)))
			continue
		}
		sub, err := h.s.Report(ctx, v.Scope, u.ID, rep.Period, ReportOptions{})
		if err != nil {
			h.con.Fail(c, err)
			return
		}
		sheets = append(sheets, sheetOf(u.Name, sub, filters(u.Path)))
	}

	now := h.con.Now().In(h.con.Location())
	var buf bytes.Buffer
	if err := writeBook(&buf, sheets, now); err != nil {
		h.con.Fail(c, fmt.Errorf("reports: export: %w", err))
		return
	}
	file := xlsxout.FileName(name+"考勤", now)
	rows := 0
	for _, s := range sheets {
		rows += len(s.Rows)
	}
	rec := exportAudit{File: file, Title: sheets[0].Title, Sheets: len(sheets), Rows: rows, Filters: map[string]string{}}
	for _, f := range sheets[0].Filters {
		rec.Filters[f.Name] = f.Value
	}
	if err := h.con.Record(ctx, nil, v, console.Change{Action: console.ActionExport, Object: "export", OrgPath: v.Scope.Path,
		Summary: fmt.Sprintf("导出「%s考勤」%d 个工作表 %d 行", name, len(sheets), rows), After: rec}); err != nil {
		h.con.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", xlsxout.ContentDisposition(file))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, xlsxout.ContentType, buf.Bytes())
}

// membersIn are the members of ms in the subtree at path (own: of that org itself only).
func membersIn(ms []MemberFigures, path string, own bool) []MemberFigures {
	var out []MemberFigures
	for _, m := range ms {
		if m.OrgPath == path || !own && strings.HasPrefix(m.OrgPath, path+"/") {
			out = append(out, m)
		}
	}
	return out
}

// writeBook writes the tables as the sheets of one workbook, each laid out as xlsxout.Write lays out
// its one sheet. Sheet names come from the titles, made valid and unique.
func writeBook(w io.Writer, tables []xlsxout.Table, at time.Time) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	filter, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "666666"}})
	if err != nil {
		return err
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
		Border: []excelize.Border{{Type: "bottom", Color: "999999", Style: 1}}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for i, t := range tables {
		name := uniqueSheet(sheetName(t.Title), used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		widths := make([]int, len(t.Columns))
		for j, c := range t.Columns {
			widths[j] = textWidth(c)
		}
		for _, r := range t.Rows {
			for j, v := range r {
				if s, ok := v.(string); ok {
					widths[j] = max(widths[j], textWidth(s))
				}
			}
		}
		for j := len(widths) - 1; j >= 0; j-- {
			if err := sw.SetColWidth(j+1, j+1, min(max(float64(widths[j])+2, 8), 50)); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		line := strings.TrimSpace(t.Title) + "  导出时间：" + at.Format("2006-01-02 15:04")
		if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: title, Value: line}}, excelize.RowOpts{Height: 22}); err != nil {
			return err
		}
		if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: filter, Value: filterText(t.Filters)}}); err != nil {
			return err
		}
		head := make([]any, len(t.Columns))
		for j, c := range t.Columns {
			head[j] = excelize.Cell{StyleID: header, Value: c}
		}
		if err := sw.SetRow("A3", head); err != nil {
			return err
		}
		for r, row := range t.Rows {
			cells := make([]any, len(row))
			for j, v := range row {
				if s, ok := v.(string); ok {
					cells[j] = excelize.Cell{StyleID: text, Value: s}
				} else {
					cells[j] = v
				}
			}
			if err := sw.SetRow("A"+strconv.Itoa(4+r), cells); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// filterText is the filters line: "筛选：范围=洪雅县；时段=2026年11月".
func filterText(fs []xlsxout.Filter) string {
	if len(fs) == 0 {
		return "筛选：全部"
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + "=" + f.Value
	}
	return "筛选：" + strings.Join(parts, "；")
}

// sheetName makes a title a valid sheet name: no []:*?/\' and at most 31 UTF-16 units.
func sheetName(title string) string {
	var b strings.Builder
	units := 0
	for _, r := range strings.TrimSpace(title) {
		if strings.ContainsRune(`[]:*?/\'`, r) || r < ' ' {
			r = '_'
		}
		n := utf16.RuneLen(r)
		if units+n > 31 {
			break
		}
		units += n
		b.WriteRune(r)
	}
	if s := strings.TrimSpace(b.String()); s != "" && !strings.EqualFold(s, "History") {
		return s
	}
	return "Sheet"
}

// uniqueSheet is name, or name with a number when it is taken (Excel compares names case-blind).
func uniqueSheet(name string, used map[string]bool) string {
	out := name
	for n := 2; used[strings.ToLower(out)]; n++ {
		suffix := "(" + strconv.Itoa(n) + ")"
		out = sheetName(string([]rune(name)[:max(0, min(len([]rune(name)), 31-len(suffix)))]) + suffix)
	}
	used[strings.ToLower(out)] = true
	return out
}

// textWidth estimates the width of s in Excel's units: Chinese characters count two.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
