package console

import (
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/internal/xlsxout"
)

// DashboardExport is GET /console/dashboard/export.xlsx: the villages' binding table, as the page
// sorts it.
func (s *Service) DashboardExport(c *gin.Context) {
	v := ViewerOf(c)
	d, err := s.LoadDashboard(c.Request.Context(), v)
	if err != nil {
		s.Fail(c, err)
		return
	}
	q := ParseList(c, "rate", "name", "members", "unbound")
	rows := append([]UnitStats(nil), d.Units...)
	sortUnits(rows, q)
	t := xlsxout.Table{
		Title:   "各村绑定情况",
		Columns: []string{"村（社区）", "所属", "组织路径", "人数", "已绑定", "未绑定", "绑定率"},
	}
	if !v.Scope.All {
		t.Filters = []xlsxout.Filter{{Name: "范围", Value: v.Scope.Path}}
	}
	for _, u := range rows {
		t.Rows = append(t.Rows, []any{u.Name, u.Parent, u.Path, u.Members, u.Bound, u.Unbound(), float64(int(u.Rate()*1000+0.5)) / 10})
	}
	t.Columns[6] = "绑定率（%）"
	s.SendXLSX(c, "各村绑定情况", t)
}

// sortUnits orders the dashboard's village rows as the list query asks.
func sortUnits(rows []UnitStats, q ListQuery) {
	less := map[string]func(a, b UnitStats) bool{
		"rate":    func(a, b UnitStats) bool { return a.Rate() < b.Rate() },
		"name":    func(a, b UnitStats) bool { return a.Path < b.Path },
		"members": func(a, b UnitStats) bool { return a.Members < b.Members },
		"unbound": func(a, b UnitStats) bool { return a.Unbound() < b.Unbound() },
	}[q.Sort]
	sort.SliceStable(rows, func(i, j int) bool {
		if q.Desc {
			return less(rows[j], rows[i])
		}
		return less(rows[i], rows[j])
	})
}
