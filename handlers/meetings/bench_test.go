package meetings_test

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

// seedMeetings imports a county of 670 villages (20 towns) and 5,000 members with an administrator
// "big", and gives every village a year of meetings: 12 committee meetings, 4 member assemblies, 4
// lectures and 12 theme days (21,440 meetings, each with every member of the village expected and
// most present).
func seedMeetings(b *testing.B, e *consoletest.Env) {
	b.Helper()
	ctx := context.Background()
	var csv bytes.Buffer
	csv.WriteString("姓名,手机号,角色,组织\n")
	for i := 0; i < 5000; i++ {
		v := i % 670
		fmt.Fprintf(&csv, "党员%04d,139%08d,党员,青神县/第%02d镇/第%03d村\n", i, i, v%20, v)
	}
	if res, err := e.App.Roster().Import(ctx, &csv, "big.csv"); err != nil || res.Created != 5000 {
		b.Fatalf("seed: %v %+v", err, res)
	}
	db := e.App.DB()
	var county models.Org
	db.Where("path = ?", "青神县").Take(&county)
	h, _ := e.App.Console().HashPassword(consoletest.Password)
	db.Create(&models.Account{Username: "big", DisplayName: "青神县委组织部", Role: models.ConsoleAdmin, OrgID: &county.ID, Active: true, PasswordHash: h})

	var members []models.Member
	db.Select("id", "org_id").Where("phone LIKE '139%'").Find(&members)
	byOrg := map[uint][]uint{}
	for _, m := range members {
		byOrg[m.OrgID] = append(byOrg[m.OrgID], m.ID)
	}
	now := e.Clock.Now()
	plan := []struct {
		typ   string
		every int // months
	}{{models.MeetingCommittee, 1}, {models.MeetingGeneral, 3}, {models.MeetingLecture, 3}, {models.MeetingThemeDay, 1}}
	var ms []models.Meeting
	for orgID := range byOrg {
		for _, p := range plan {
			for k := 0; k < 12; k += p.every {
				start := now.AddDate(0, -k, -int(orgID%20)).UTC()
				ms = append(ms, models.Meeting{OrgID: orgID, Type: p.typ, Place: "村委会", StartAt: start, EndAt: start.Add(time.Hour),
					BackEntered: true, CreatedBy: "seed"})
			}
		}
	}
	if err := db.CreateInBatches(ms, 1000).Error; err != nil {
		b.Fatal(err)
	}
	var as []models.MeetingAttendee
	for i, m := range ms {
		for j, id := range byOrg[m.OrgID] {
			st := models.MeetingPresent
			if (i+j)%7 == 0 {
				st = models.MeetingExpected
			}
			as = append(as, models.MeetingAttendee{MeetingID: m.ID, MemberID: id, Status: st})
		}
	}
	if err := db.CreateInBatches(as, 2000).Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMeetingPages measures the server time of the meeting pages for a county of 670 villages,
// 5,000 members and a year of meetings, as its administrator sees them (target: < 200 ms each). Run
// it on PostgreSQL: YANZHEN_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench MeetingPages ./handlers/meetings
func BenchmarkMeetingPages(b *testing.B) {
	e := consoletest.New(b)
	seedMeetings(b, e)
	c := e.Login("big")
	var last models.Meeting
	e.App.DB().Order("id DESC").Take(&last)
	cookies := c.HTTP.Jar.Cookies(mustParse(e.URL))
	token := e.Token("big")
	h := e.App.Handler()
	for _, p := range []struct{ name, path string }{
		{"list", "/console/meetings"},
		{"list_month_type", "/console/meetings?month=" + e.Clock.Now().Format("2006-01") + "&type=%E5%85%9A%E8%AF%BE"},
		{"list_page100", "/console/meetings?page=100"},
		{"overdue", "/console/meetings/overdue"},
		{"overdue_all", "/console/meetings/overdue?all=1"},
		{"meeting", fmt.Sprintf("/console/meetings/%d", last.ID)},
		{"export", fmt.Sprintf("/console/meetings/%d/export.xlsx", last.ID)},
		{"api_list", "/api/v1/meetings?per_page=500"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				if p.name == "api_list" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %.300s", p.path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
