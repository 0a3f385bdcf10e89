package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gorm.io/gorm/clause"

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
	seedStudy(b, e)
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
		{"study", "/console/study"},
		{"study_month", "/console/study?period=month"},
		{"study_town_month", "/console/study?period=month&org=" + orgIDOf(b, e, "青神县/第07镇")},
		{"study_members", "/console/study/members"},
		{"study_members_export", "/console/study/members/export.xlsx"},
		{"api_study_progress_month", "/api/v1/study/progress?period=month"},
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

// seedStudy gives the county of seedCounty the study of this month so far (the clock is 2026-11-20):
// a task per member and day, about 70 % completed, with 5 answers each (to the demo bank's
// questions) for the last week, the points and minutes in the ledger, and everyone's totals.
func seedStudy(b *testing.B, e *consoletest.Env) {
	b.Helper()
	db := e.App.DB()
	var members []models.Member
	if err := db.Select("id, org_id").Where("phone LIKE '139%'").Order("id").Find(&members).Error; err != nil {
		b.Fatal(err)
	}
	var qs []uint
	if err := db.Model(&models.Question{}).Order("id").Limit(5).Pluck("id", &qs).Error; err != nil || len(qs) < 5 {
		b.Fatalf("questions: %v %v", qs, err)
	}
	at := e.Clock.Now()
	var tasks []models.StudyTask
	var ledger []models.LedgerEntry
	for d := 1; d <= 20; d++ {
		day := fmt.Sprintf("2026-11-%02d", d)
		for _, m := range members {
			done := (int(m.ID)+d)%10 < 7
			t := models.StudyTask{MemberID: m.ID, Day: day, OrgID: m.OrgID, Items: "[]", Total: 5, CreatedAt: at, UpdatedAt: at}
			if done {
				t.Answered, t.RightAnswers, t.Next, t.CompletedAt, t.Points = 5, 3+(int(m.ID)+d)%3, 5, &at, 8
			}
			tasks = append(tasks, t)
		}
	}
	if err := db.Omit(clause.Associations).CreateInBatches(tasks, 2000).Error; err != nil {
		b.Fatal(err)
	}
	var answers []models.StudyAnswer
	for _, t := range tasks {
		if t.CompletedAt == nil {
			continue
		}
		ledger = append(ledger, models.LedgerEntry{MemberID: t.MemberID, Kind: models.LedgerPoints, Source: fmt.Sprintf("task:%d", t.ID), Amount: 8, Day: t.Day, Year: 2026, CreatedAt: at},
			models.LedgerEntry{MemberID: t.MemberID, Kind: models.LedgerMinutes, Source: fmt.Sprintf("task:%d", t.ID), Amount: 15, Day: t.Day, Year: 2026, CreatedAt: at})
		if t.Day < "2026-11-14" {
			continue
		}
		for i, q := range qs {
			answers = append(answers, models.StudyAnswer{TaskID: t.ID, QuestionID: q, MemberID: t.MemberID, Given: "A", Correct: i < t.RightAnswers, At: at})
		}
	}
	if err := db.Omit(clause.Associations).CreateInBatches(answers, 2000).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Omit(clause.Associations).CreateInBatches(ledger, 2000).Error; err != nil {
		b.Fatal(err)
	}
	stats := make([]models.StudyStats, len(members))
	for i, m := range members {
		stats[i] = models.StudyStats{MemberID: m.ID, Streak: i % 9, BestStreak: 9, LastDay: "2026-11-20", Points: 1000, Year: 2026, YearPoints: 900, YearMinutes: 60 * (i % 40)}
	}
	if err := db.Omit(clause.Associations).CreateInBatches(stats, 2000).Error; err != nil {
		b.Fatal(err)
	}
	// A live database has its statistics; a freshly filled one needs them made.
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("study: %d tasks, %d answers, %d ledger entries", len(tasks), len(answers), len(ledger))
}

func orgIDOf(b *testing.B, e *consoletest.Env, path string) string {
	b.Helper()
	var id uint
	if err := e.App.DB().Table("orgs").Where("path = ?", path).Select("id").Row().Scan(&id); err != nil {
		b.Fatalf("org %s: %v", path, err)
	}
	return fmt.Sprint(id)
}
