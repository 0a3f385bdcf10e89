package requests_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/attendance/requests"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// benchCounty seeds a county of the target's size: 30 towns, 670 villages, 5,000 members, and a year of
// requests (4 per member, 20,000; one in ten pending). It returns the county and one village.
func benchCounty(b *testing.B, db *gorm.DB) (county, village models.Org) {
	b.Helper()
	county = models.Org{Name: "基准县", Path: "基准县", Level: models.LevelCounty}
	db.Create(&county)
	var villages []models.Org
	for t := 0; t < 30; t++ {
		town := models.Org{ParentID: &county.ID, Name: fmt.Sprintf("镇%02d", t), Path: fmt.Sprintf("基准县/镇%02d", t), Level: models.LevelTown}
		db.Create(&town)
		var vs []models.Org
		for v := 0; v < 23 && len(villages)+len(vs) < 670; v++ {
			vs = append(vs, models.Org{ParentID: &town.ID, Name: fmt.Sprintf("村%03d", v), Path: fmt.Sprintf("%s/村%03d", town.Path, v), Level: models.LevelVillage})
		}
		if len(vs) > 0 {
			db.Create(&vs)
			villages = append(villages, vs...)
		}
	}
	ms := make([]models.Member, 5000)
	for i := range ms {
		ms[i] = models.Member{Name: fmt.Sprintf("党员%04d", i), Phone: fmt.Sprintf("1390000%04d", i), Role: models.RoleMember,
			OrgID: villages[i%len(villages)].ID, Active: true}
	}
	if err := db.Omit("Org").CreateInBatches(ms, 500).Error; err != nil {
		b.Fatal(err)
	}
	rs := make([]models.AttendRequest, 0, 4*len(ms))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i, m := range ms {
		for k := 0; k < 4; k++ {
			from := start.AddDate(0, 0, (i*7+k*83)%320)
			state := models.RequestApproved
			if (i+k)%10 == 0 {
				state = models.RequestPending
			}
			rs = append(rs, models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestLeave, State: state,
				From: from.Format("2006-01-02"), To: from.AddDate(0, 0, k).Format("2006-01-02"), Reason: "农忙"})
		}
	}
	if err := db.CreateInBatches(rs, 1000).Error; err != nil {
		b.Fatal(err)
	}
	return county, villages[0]
}

// BenchmarkRequestList: the console's 请假审批 list of a whole county (first page, pending first),
// filtered by month, and a village secretary's 审批 queue.
func BenchmarkRequestList(b *testing.B) {
	db := testenv.DB(b)
	county, village := benchCounty(b, db)
	svc := requests.New(requests.Options{DB: db, Log: testenv.Logger(), Now: func() time.Time { return time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC) }})
	ctx := context.Background()
	cs := scope.Under(county.ID, county.Path)
	b.Run("county", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if rows, total, err := svc.List(ctx, cs, requests.Filter{}, 0, 50); err != nil || len(rows) != 50 || total != 20000 {
				b.Fatal(len(rows), total, err)
			}
		}
	})
	b.Run("county_month", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := svc.List(ctx, cs, requests.Filter{Month: "2026-11", State: models.RequestPending}, 0, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("village_queue", func(b *testing.B) {
		vs := scope.Under(village.ID, village.Path)
		for i := 0; i < b.N; i++ {
			if _, err := svc.Pending(ctx, vs, 0, 20); err != nil {
				b.Fatal(err)
			}
		}
	})
}
