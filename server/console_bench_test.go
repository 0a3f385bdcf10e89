package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// BenchmarkConsoleStudyYear measures the study progress pages for this year of the county of
// seedCounty (2026-01-01 to 2026-11-20: 1.6 million tasks, their answers and ledger), first as they
// are before the nightly summary has run (every figure from the tasks and answers), then after it
// (past days from the daily summary, today from the tasks). Target: < 200 ms each. Run it on
// PostgreSQL (seeding takes a few minutes):
//
//	YANZHEN_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench ConsoleStudyYear -benchtime 5x ./server
func BenchmarkConsoleStudyYear(b *testing.B) {
	e := consoletest.New(b)
	seedCounty(b, e)
	seedStudyYear(b, e)
	c := e.Login("big")
	cookies := c.HTTP.Jar.Cookies(mustURL(e.URL))
	h := e.App.Handler()
	town := orgIDOf(b, e, "青神县/第07镇")
	pages := []struct{ name, path string }{
		{"study_year", "/console/study?period=year"},
		{"api_study_progress_year", "/api/v1/study/progress?period=year"},
		{"study_export_year", "/console/study/export.xlsx?period=year"},
		{"study_town_year", "/console/study?period=year&org=" + town},
		{"study_month", "/console/study?period=month"},
		{"study_today", "/console/study"},
		{"study_members_year", "/console/study/members?period=year"},
	}
	run := func(stage string) {
		for _, p := range pages {
			b.Run(stage+"/"+p.name, func(b *testing.B) {
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
	run("live")
	start := time.Now()
	if err := e.App.Study().SummariseDay(context.Background(), e.App.Study().Today()); err != nil {
		b.Fatal(err)
	}
	b.Logf("study: the first summary (every past day of the year) took %s", time.Since(start).Round(time.Millisecond))
	if err := e.App.DB().Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	run("summary")
}

// seedStudyYear gives the county of seedCounty a year of study up to today (the clock is 2026-11-20):
// a task per member and day, about 70 % completed, each completed one with 5 answers to the bank's
// questions (so accuracy by tag has the bank's tag lists to group), its points and minutes in the
// ledger, and everyone's totals. It writes with INSERT … SELECT, in SQL, as a row-by-row insert of
// 10 million rows would take far longer than the benchmark.
func seedStudyYear(b *testing.B, e *consoletest.Env) {
	b.Helper()
	db := e.App.DB()
	start := time.Now()
	var qs []uint
	if err := db.Model(&models.Question{}).Where("active = ?", true).Order("id").Pluck("id", &qs).Error; err != nil || len(qs) < 5 {
		b.Fatalf("questions: %v %v", qs, err)
	}
	today := e.Clock.Now().In(e.App.Config().Location)
	var days []string
	for d := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC); d.Format("2006-01-02") <= today.Format("2006-01-02"); d = d.AddDate(0, 0, 1) {
		days = append(days, fmt.Sprintf("('%s', %d)", d.Format("2006-01-02"), len(days)+1))
	}
	var slots []string
	for i, q := range qs {
		slots = append(slots, fmt.Sprintf("(%d, %d)", i, q))
	}
	exec := func(what, sql string, args ...any) {
		b.Helper()
		t := time.Now()
		res := db.Exec(sql, args...)
		if res.Error != nil {
			b.Fatalf("seed %s: %v", what, res.Error)
		}
		b.Logf("study year: %d %s in %s", res.RowsAffected, what, time.Since(t).Round(time.Millisecond))
	}
	// Done when (member + day) % 10 < 7; then 3 to 5 right answers of 5.
	exec("tasks", `WITH d(day, n) AS (VALUES `+strings.Join(days, ", ")+`)
		INSERT INTO study_tasks (member_id, day, org_id, items, total, next, answered, right_answers, points, bonus, completed_at, created_at, updated_at)
		SELECT m.id, d.day, m.org_id, '[]', 5,
			CASE WHEN (m.id + d.n) % 10 < 7 THEN 5 ELSE 0 END, CASE WHEN (m.id + d.n) % 10 < 7 THEN 5 ELSE 0 END,
			CASE WHEN (m.id + d.n) % 10 < 7 THEN 3 + (m.id + d.n) % 3 ELSE 0 END, CASE WHEN (m.id + d.n) % 10 < 7 THEN 8 ELSE 0 END, 0,
			CASE WHEN (m.id + d.n) % 10 < 7 THEN CURRENT_TIMESTAMP END, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
		FROM members m CROSS JOIN d WHERE m.phone LIKE '139%'`)
	// The k-th answer (k = 0…4) of task t is to question slot (5t + k) mod len(qs), right for the
	// first right_answers of them.
	exec("answers", `WITH q(slot, id) AS (VALUES `+strings.Join(slots, ", ")+`), k(k) AS (VALUES (0), (1), (2), (3), (4))
		INSERT INTO study_answers (task_id, question_id, member_id, given, correct, review, at)
		SELECT t.id, q.id, t.member_id, 'A', k.k < t.right_answers, false, CURRENT_TIMESTAMP
		FROM study_tasks t CROSS JOIN k JOIN q ON q.slot = (5 * t.id + k.k) % ?
		WHERE t.completed_at IS NOT NULL`, len(qs))
	exec("ledger entries", `INSERT INTO ledger_entries (member_id, kind, source, amount, day, year, created_at)
		SELECT t.member_id, k.kind, 'task:' || t.id, k.amount, t.day, ?, CURRENT_TIMESTAMP
		FROM study_tasks t CROSS JOIN (SELECT 'points' AS kind, 8 AS amount UNION ALL SELECT 'minutes', 15) k
		WHERE t.completed_at IS NOT NULL`, today.Year())
	var members []models.Member
	if err := db.Select("id").Where("phone LIKE '139%'").Order("id").Find(&members).Error; err != nil {
		b.Fatal(err)
	}
	stats := make([]models.StudyStats, len(members))
	for i, m := range members {
		stats[i] = models.StudyStats{MemberID: m.ID, Streak: i % 9, BestStreak: 30, LastDay: today.Format("2006-01-02"), Points: 2000,
			Year: today.Year(), YearPoints: 1800, YearMinutes: 15 * 220}
	}
	if err := db.Omit(clause.Associations).CreateInBatches(stats, 2000).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("study year: seeded in %s", time.Since(start).Round(time.Second))
}
