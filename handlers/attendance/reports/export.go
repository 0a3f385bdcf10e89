package reports

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
)

// The export of a report is one workbook: a summary sheet (汇总) of the units (or, for a village, its
// members), then one sheet per unit listing what is right under it: for a town, one sheet per
// village with its members; for a county, one per town with its villages. Each sheet starts as
// internal/xlsxout's do: a title with the export time, a line of the filters (scope, org, period,
// thresholds, the rate's definition), the bold, frozen header row.

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
	if err := xlsxout.WriteBook(&buf, sheets, now); err != nil {
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
