package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/models"
)

// UnitStats are the members of one village (with anything under it), or of a town or county office
// itself, and how many of them have bound WeChat.
type UnitStats struct {
	OrgID   uint   `json:"org_id"`
	Path    string `json:"path"`
	Name    string `json:"name"`
	Parent  string `json:"parent"` // the town (or county) the unit belongs to
	Members int64  `json:"members"`
	Bound   int64  `json:"bound"`
}

// Unbound is how many members have not bound WeChat.
func (u UnitStats) Unbound() int64 { return u.Members - u.Bound }

// Rate is the share bound, 0–1.
func (u UnitStats) Rate() float64 {
	if u.Members == 0 {
		return 0
	}
	return float64(u.Bound) / float64(u.Members)
}

// Dashboard is the first page: members bound vs not, by village and by town, and today's activity.
type Dashboard struct {
	Members       int64       `json:"members"`
	Bound         int64       `json:"bound"`
	Inactive      int64       `json:"inactive"`
	BoundToday    int64       `json:"bound_today"`
	ReportedToday int64       `json:"located_today"` // members whose WeChat reported a location today
	ChangesToday  int64       `json:"console_changes_today"`
	Units         []UnitStats `json:"villages"` // sorted by bound rate, lowest first
	Groups        []UnitStats `json:"towns"`    // the same, summed by town
}

// LoadDashboard computes the dashboard of the viewer's scope.
func (s *Service) LoadDashboard(ctx context.Context, v *Viewer) (*Dashboard, error) {
	db := s.db.WithContext(ctx)
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(v.Scope.Orgs).Select("id, parent_id, name, path, level").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("console: dashboard orgs: %w", err)
	}
	type row struct {
		OrgID  uint
		Active bool
		Bound  bool
		Count  int64
		Today  int64
	}
	now := s.now().In(s.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.loc)
	var rows []row
	err := db.Model(&models.Member{}).Scopes(v.Scope.Members).
		Select("org_id, active, (oa_open_id IS NOT NULL OR mp_open_id IS NOT NULL) AS bound, COUNT(*) AS count, "+
			"SUM(CASE WHEN bound_at >= ? THEN 1 ELSE 0 END) AS today", today).
		Group("org_id, active, (oa_open_id IS NOT NULL OR mp_open_id IS NOT NULL)").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("console: dashboard counts: %w", err)
	}
	d := &Dashboard{}
	byPath := map[string]*models.Org{}
	byID := map[uint]*models.Org{}
	for i := range orgs {
		byPath[orgs[i].Path] = &orgs[i]
		byID[orgs[i].ID] = &orgs[i]
	}
	// A unit is a village (level 3) with everything under it, or an org above that level itself.
	unitOf := func(o *models.Org) string {
		if o.Level <= models.LevelVillage {
			return o.Path
		}
		parts := strings.SplitN(o.Path, "/", models.LevelVillage+1)
		return strings.Join(parts[:models.LevelVillage], "/")
	}
	groupOf := func(unitPath string) string {
		parts := strings.Split(unitPath, "/")
		if len(parts) >= models.LevelTown {
			return strings.Join(parts[:models.LevelTown], "/")
		}
		return unitPath
	}
	units := map[string]*UnitStats{}
	for i := range orgs {
		o := &orgs[i]
		if o.Level == models.LevelVillage {
			units[o.Path] = &UnitStats{OrgID: o.ID, Path: o.Path, Name: o.Name}
		}
	}
	for _, r := range rows {
		o := byID[r.OrgID]
		if o == nil {
			continue
		}
		if !r.Active {
			d.Inactive += r.Count
			continue
		}
		d.Members += r.Count
		d.BoundToday += r.Today
		up := unitOf(o)
		u := units[up]
		if u == nil {
			uo := byPath[up]
			u = &UnitStats{Path: up, Name: up[strings.LastIndexByte(up, '/')+1:]}
			if uo != nil {
				u.OrgID = uo.ID
			}
			if uo == nil || uo.Level < models.LevelVillage {
				u.Name += "（机关）"
			}
			units[up] = u
		}
		u.Members += r.Count
		if r.Bound {
			u.Bound += r.Count
			d.Bound += r.Count
		}
	}
	groups := map[string]*UnitStats{}
	for _, u := range units {
		gp := groupOf(u.Path)
		u.Parent = gp[strings.LastIndexByte(gp, '/')+1:]
		d.Units = append(d.Units, *u)
		g := groups[gp]
		if g == nil {
			g = &UnitStats{Path: gp, Name: u.Parent}
			if !strings.Contains(gp, "/") {
				g.Name += "（机关）" // members of the county office itself
			}
			if o := byPath[gp]; o != nil {
				g.OrgID = o.ID
			}
			groups[gp] = g
		}
		g.Members += u.Members
		g.Bound += u.Bound
	}
	for _, g := range groups {
		d.Groups = append(d.Groups, *g)
	}
	byRate := func(xs []UnitStats) {
		sort.Slice(xs, func(i, j int) bool {
			if xs[i].Rate() != xs[j].Rate() {
				return xs[i].Rate() < xs[j].Rate()
			}
			return xs[i].Path < xs[j].Path
		})
	}
	byRate(d.Units)
	sort.Slice(d.Groups, func(i, j int) bool { return d.Groups[i].Path < d.Groups[j].Path })

	if err := db.Model(&models.LocationReport{}).
		Where("at >= ? AND member_id IN (?)", today, db.Model(&models.Member{}).Scopes(v.Scope.Members).Select("members.id")).
		Distinct("member_id").Count(&d.ReportedToday).Error; err != nil {
		return nil, fmt.Errorf("console: dashboard locations: %w", err)
	}
	if err := db.Model(&models.AuditEntry{}).Scopes(v.Scope.ByPath("org_path")).
		Where("at >= ? AND action NOT IN ?", today, []string{ActionLogin, ActionLogout, ActionView, ActionExport}).
		Count(&d.ChangesToday).Error; err != nil {
		return nil, fmt.Errorf("console: dashboard changes: %w", err)
	}
	return d, nil
}

// Chart is the ECharts option of the bound/unbound bar chart (by town, or by village inside a town).
func (d *Dashboard) Chart() map[string]any {
	xs := d.Groups
	if len(d.Groups) <= 1 { // one town (or village): its villages, by name, on a copy (Units stays by rate)
		xs = append([]UnitStats(nil), d.Units...)
		sort.Slice(xs, func(i, j int) bool { return xs[i].Path < xs[j].Path })
	}
	names := make([]string, len(xs))
	bound := make([]int64, len(xs))
	unbound := make([]int64, len(xs))
	for i, x := range xs {
		names[i], bound[i], unbound[i] = x.Name, x.Bound, x.Unbound()
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": []string{"已绑定", "未绑定"}},
		"grid":    map[string]any{"left": 8, "right": 8, "bottom": 8, "top": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "rotate": 30}},
		"yAxis":   map[string]any{"type": "value", "minInterval": 1},
		"color":   []string{"#1f9d55", "#d9d9d9"},
		"series": []map[string]any{
			{"name": "已绑定", "type": "bar", "stack": "m", "data": bound},
			{"name": "未绑定", "type": "bar", "stack": "m", "data": unbound},
		},
	}
}

type dashboardPage struct {
	*Dashboard
	Q     ListQuery
	Pager Pager
	Rows  []UnitStats
}

// DashboardPage is GET /console/.
func (s *Service) DashboardPage(c *gin.Context) {
	v := ViewerOf(c)
	d, err := s.LoadDashboard(c.Request.Context(), v)
	if err != nil {
		s.Fail(c, err)
		return
	}
	q := ParseList(c, "rate", "name", "members", "unbound")
	q.PerPage = min(q.PerPage, 50)
	rows := append([]UnitStats(nil), d.Units...)
	sortUnits(rows, q)
	pager := q.Pager(int64(len(rows)))
	rows = rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))]
	s.Page(c, http.StatusOK, "dashboard", "dashboard", "首页", dashboardPage{Dashboard: d, Q: q, Pager: pager, Rows: rows})
}

// DashboardAPI is GET /api/v1/dashboard.
func (s *Service) DashboardAPI(c *gin.Context) {
	d, err := s.LoadDashboard(c.Request.Context(), ViewerOf(c))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// Unbound is how many active members have not bound WeChat.
func (d *Dashboard) Unbound() int64 { return d.Members - d.Bound }
