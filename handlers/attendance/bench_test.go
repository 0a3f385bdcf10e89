package attendance_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// BenchmarkDailyStatus computes a day's status for a county of 5,000 members in 670 villages, each
// village with its place, from a day of check-ins and check-outs (most on time, some late, early or
// missing, some off-site), a few leaves and a few flags. Target: < 10 s on PostgreSQL:
//
//	YANZHEN_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/yanzhen_test?sslmode=disable' \
//	go test -run '^$' -bench DailyStatus -benchtime 5x ./handlers/attendance/
func BenchmarkDailyStatus(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	county := models.Org{Name: "测试县", Path: "测试县", Level: models.LevelCounty}
	if err := db.Create(&county).Error; err != nil {
		b.Fatal(err)
	}
	var villages []models.Org
	for t := 0; t < 20; t++ {
		town := models.Org{ParentID: &county.ID, Name: fmt.Sprintf("镇%02d", t), Path: fmt.Sprintf("测试县/镇%02d", t), Level: models.LevelTown}
		if err := db.Create(&town).Error; err != nil {
			b.Fatal(err)
		}
		for v := 0; v < 34 && len(villages) < 670; v++ {
			villages = append(villages, models.Org{ParentID: &town.ID, Name: fmt.Sprintf("村%02d", v),
				Path: fmt.Sprintf("%s/村%02d", town.Path, v), Level: models.LevelVillage})
		}
	}
	if err := db.CreateInBatches(villages, 500).Error; err != nil {
		b.Fatal(err)
	}
	places := make([]models.CheckPlace, len(villages))
	for i, v := range villages {
		places[i] = models.CheckPlace{OrgID: v.ID, Name: v.Name + "村委会", Lat: 29.9 + float64(i)*0.01, Lng: 103.3, Radius: 300, Active: true}
	}
	if err := db.CreateInBatches(places, 500).Error; err != nil {
		b.Fatal(err)
	}
	rule := attendance.DefaultRule()
	rule.OrgID = county.ID
	db.Create(&rule)
	members := make([]models.Member, 5000)
	roles := []string{models.RoleSecretary, models.RoleAide, models.RoleMember, models.RoleMember, models.RoleMember}
	for i := range members {
		members[i] = models.Member{Name: "党员" + strconv.Itoa(i), Phone: fmt.Sprintf("139%08d", i), Role: roles[i%len(roles)],
			OrgID: villages[i%len(villages)].ID, Active: true}
	}
	if err := db.Omit("Org").CreateInBatches(members, 500).Error; err != nil {
		b.Fatal(err)
	}
	day := "2026-11-20" // a Friday
	at := func(h, m int) time.Time { return time.Date(2026, 11, 20, h, m, 0, 0, loc) }
	var cs []models.CheckIn
	var reqs []models.AttendRequest
	for i, m := range members {
		v := i % len(villages)
		switch {
		case i%20 == 0: // absent
			continue
		case i%20 == 1: // on leave
			reqs = append(reqs, models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestLeave, State: models.RequestApproved,
				From: "2026-11-19", To: "2026-11-21", Reason: "农忙"})
			continue
		}
		in := models.CheckIn{MemberID: m.ID, OrgID: m.OrgID, Day: day, Kind: models.CheckKindIn, At: at(8, 30+i%45), PlaceID: &places[v].ID,
			Lat: places[v].Lat, Lng: places[v].Lng, Distance: float64(i % 250), Status: models.CheckOK, Source: models.CheckSourceChat,
			DedupKey: "bench:in:" + strconv.Itoa(i)}
		if i%50 == 2 {
			in.Flags = "mock"
		}
		cs = append(cs, in)
		if i%10 != 3 { // some forget to check out
			out := in
			out.Kind, out.At, out.DedupKey, out.Flags = models.CheckKindOut, at(16, 40+i%40), "bench:out:"+strconv.Itoa(i), ""
			cs = append(cs, out)
		}
	}
	if err := db.CreateInBatches(cs, 500).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.CreateInBatches(reqs, 500).Error; err != nil {
		b.Fatal(err)
	}
	svc := attendance.New(attendance.Options{DB: db, Log: testenv.Logger(), Location: loc})
	defer svc.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := svc.Recompute(ctx, nil, day); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var n int64
	db.Model(&models.AttendanceDay{}).Where("day = ?", day).Count(&n)
	if n != 5000 {
		b.Fatalf("%d statuses, want 5000", n)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/day")
}
