package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/attendance/reports"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// A county of the target's size: 20 towns, 670 villages, 5,000 members, and a month of their daily
// status (30 days × 5,000 = 150,000 rows of models.AttendanceDay, weekends as rest days).
const (
	benchTowns    = 20
	benchVillages = 670
	benchMembers  = 5000
	benchDays     = 30
)

type benchCounty struct {
	county, town models.Org
	villages     []models.Org
}

// seedBenchCounty writes the county, its roster and November 2026's statuses.
func seedBenchCounty(b *testing.B, db *gorm.DB) benchCounty {
	b.Helper()
	var out benchCounty
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	out.county = models.Org{Name: "测试县", Path: "测试县", Level: models.LevelCounty, CreatedAt: now, UpdatedAt: now}
	if err := db.Create(&out.county).Error; err != nil {
		b.Fatal(err)
	}
	towns := make([]models.Org, benchTowns)
	for i := range towns {
		name := fmt.Sprintf("镇%02d", i)
		towns[i] = models.Org{ParentID: &out.county.ID, Name: name, Path: "测试县/" + name, Level: models.LevelTown, CreatedAt: now, UpdatedAt: now}
	}
	if err := db.Create(&towns).Error; err != nil {
		b.Fatal(err)
	}
	out.town = towns[0]
	out.villages = make([]models.Org, benchVillages)
	for i := range out.villages {
		t := towns[i%benchTowns]
		name := fmt.Sprintf("村%03d", i)
		out.villages[i] = models.Org{ParentID: &t.ID, Name: name, Path: t.Path + "/" + name, Level: models.LevelVillage, CreatedAt: now, UpdatedAt: now}
	}
	if err := db.CreateInBatches(&out.villages, 500).Error; err != nil {
		b.Fatal(err)
	}
	members := make([]models.Member, benchMembers)
	roles := []string{models.RoleSecretary, models.RoleAide, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember}
	for i := range members {
		v := out.villages[i%benchVillages]
		members[i] = models.Member{Name: fmt.Sprintf("党员%04d", i), Phone: fmt.Sprintf("139%08d", i), Role: roles[(i/benchVillages)%len(roles)],
			OrgID: v.ID, Active: true, CreatedAt: now, UpdatedAt: now}
	}
	if err := db.Omit("Org").CreateInBatches(&members, 1000).Error; err != nil {
		b.Fatal(err)
	}
	statuses := []string{models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent,
		models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent, models.DayPresent,
		models.DayLate, models.DayEarlyLeave, models.DayAbsent, models.DayLeave, models.DayOffsite, models.DayPresent, models.DayPresent}
	batch := make([]models.AttendanceDay, 0, 5000)
	for d := 0; d < benchDays; d++ {
		day := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC)
		for i, m := range members {
			row := models.AttendanceDay{MemberID: m.ID, Day: day.Format("2006-01-02"), OrgID: m.OrgID,
				OrgPath: out.villages[i%benchVillages].Path, Role: m.Role, UpdatedAt: now}
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				row.Status = models.DayRest
			} else {
				row.Status = statuses[(i*7+d*3)%len(statuses)]
				row.Late = row.Status == models.DayLate
				row.Early = row.Status == models.DayEarlyLeave
				row.Flagged = (i+d)%97 == 0
			}
			batch = append(batch, row)
		}
		if err := db.CreateInBatches(batch, 1000).Error; err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	if models.Dialect(db) == "postgres" {
		db.Exec("ANALYZE")
	}
	return out
}

// BenchmarkMonthReport: the month report of the county (by town, by day), as its administrator opens
// the 考勤 page; a town's (by village, with every member, as its export reads it); the county's board.
// Target: the county's month < 300 ms on PostgreSQL.
func BenchmarkMonthReport(b *testing.B) {
	db := testenv.DB(b)
	c := seedBenchCounty(b, db)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	s := reports.New(reports.Options{DB: db, Log: testenv.Logger(), Location: loc,
		Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, loc) }})
	ctx := context.Background()
	month := reports.PeriodOf(reports.PeriodMonth, "2026-11-15")
	county := scope.Under(c.county.ID, c.county.Path)

	b.Run("county", func(b *testing.B) {
		for b.Loop() {
			rep, err := s.Report(ctx, county, 0, month, reports.ReportOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Units) != benchTowns || len(rep.Days) != benchDays || rep.Total.WorkDays() != 5000*21 {
				b.Fatalf("units %d days %d work days %d", len(rep.Units), len(rep.Days), rep.Total.WorkDays())
			}
		}
	})
	b.Run("town-members", func(b *testing.B) {
		for b.Loop() {
			rep, err := s.Report(ctx, county, c.town.ID, month, reports.ReportOptions{Members: true})
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Units) == 0 || len(rep.Members) < benchMembers/benchTowns {
				b.Fatalf("units %d members %d", len(rep.Units), len(rep.Members))
			}
		}
	})
	b.Run("board", func(b *testing.B) {
		for b.Loop() {
			board, err := s.BoardOf(ctx, county, 0, month)
			if err != nil {
				b.Fatal(err)
			}
			if len(board.Villages) != benchVillages {
				b.Fatalf("villages %d", len(board.Villages))
			}
		}
	})
}
