package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// seedCounty imports a county of 670 villages (in 20 towns) and 5,000 members, about a third of them
// bound to WeChat, and gives it an administrator "big" (password consoletest.Password).
func seedCounty(b *testing.B, e *consoletest.Env) {
	b.Helper()
	ctx := context.Background()
	var csv bytes.Buffer
	csv.WriteString("姓名,手机号,角色,组织\n")
	roles := []string{models.RoleSecretary, models.RoleAide, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember}
	for i := 0; i < 5000; i++ {
		v := i % 670
		fmt.Fprintf(&csv, "党员%04d,139%08d,%s,青神县/第%02d镇/第%03d村\n", i, i, roles[i/670%len(roles)], v%20, v)
	}
	res, err := e.App.Roster().Import(ctx, &csv, "big.csv")
	if err != nil || len(res.Errors) > 0 || res.Created != 5000 {
		b.Fatalf("seed: %v %+v", err, res)
	}
	db := e.App.DB()
	if err := db.Exec("UPDATE members SET oa_open_id = 'o-' || phone, bound_at = ?, bind_code = NULL WHERE phone LIKE '139%' AND id % 3 = 0", time.Now()).Error; err != nil {
		b.Fatal(err)
	}
	var county models.Org
	if err := db.Where("path = ?", "青神县").Take(&county).Error; err != nil {
		b.Fatal(err)
	}
	h, _ := e.App.Console().HashPassword(consoletest.Password)
	if err := db.Create(&models.Account{Username: "big", DisplayName: "青神县委组织部", Role: models.ConsoleAdmin,
		OrgID: &county.ID, Active: true, PasswordHash: h}).Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConsolePages measures the server time of the console's main pages for a county of 670
// villages and 5,000 members, as its administrator sees them (target: < 200 ms each). Run it on
// PostgreSQL: YANZHEN_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench ConsolePages ./server
func BenchmarkConsolePages(b *testing.B) {
	e := consoletest.New(b)
	seedCounty(b, e)
	c := e.Login("big")
	cookies := c.HTTP.Jar.Cookies(mustURL(e.URL))
	h := e.App.Handler()
	pages := []struct{ name, path string }{
		{"dashboard", "/console/"},
		{"members", "/console/members"},
		{"members_search", "/console/members?q=%E5%85%9A%E5%91%98012&bound=no"},
		{"members_page40", "/console/members?page=40&sort=org"},
		{"orgs", "/console/orgs"},
		{"accounts", "/console/accounts"},
		{"audit", "/console/audit"},
		{"members_export", "/console/members/export.xlsx"},
		{"api_dashboard", "/api/v1/dashboard"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, w.Code, w.Body.String()[:min(300, w.Body.Len())])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
