package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// BenchmarkInboxCounty: the county administrator's inbox over a county of 670 villages and 5,000
// members who asked 20,000 questions (a third waiting, some for days). Target: console pages for a
// county < 200 ms server time:
//
//	YANZHEN_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/yanzhen_test?sslmode=disable' \
//	go test -run '^$' -bench InboxCounty -benchtime 50x ./handlers/policy/web/
func BenchmarkInboxCounty(b *testing.B) {
	e := consoletest.New(b)
	db := e.App.DB()
	var county models.Org
	if err := db.Where("path = ?", "洪雅县").Take(&county).Error; err != nil {
		b.Fatal(err)
	}
	var villages []models.Org
	for t := 0; t < 20; t++ {
		town := models.Org{ParentID: &county.ID, Name: fmt.Sprintf("测试镇%02d", t), Path: fmt.Sprintf("洪雅县/测试镇%02d", t), Level: models.LevelTown}
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
	members := make([]models.Member, 5000)
	for i := range members {
		members[i] = models.Member{Name: "党员" + strconv.Itoa(i), Phone: fmt.Sprintf("139%08d", i), Role: models.RoleMember,
			OrgID: villages[i%len(villages)].ID, Active: true}
	}
	if err := db.Omit("Org").CreateInBatches(members, 500).Error; err != nil {
		b.Fatal(err)
	}
	now := e.Clock.Now().UTC()
	qs := make([]models.PolicyQuestion, 20000)
	for i := range qs {
		m := members[i%len(members)]
		v := villages[i%len(villages)]
		state := []string{models.AskAnswered, models.AskOpen, models.AskReplied}[i%3]
		qs[i] = models.PolicyQuestion{MemberID: m.ID, OrgID: v.ID, OrgPath: v.Path, Channel: "oa", OpenID: "o" + strconv.Itoa(i),
			Text: fmt.Sprintf("第%d个关于低保和医保的政策问题？", i), State: state, AskedAt: now.Add(-time.Duration(i%200) * time.Hour)}
		if state == models.AskReplied {
			qs[i].Reply, qs[i].RepliedBy, qs[i].Delivery = "答复", "管理员", "已通过公众号消息送达"
		}
	}
	if err := db.CreateInBatches(qs, 1000).Error; err != nil {
		b.Fatal(err)
	}
	if models.Dialect(db) == "postgres" {
		db.Exec("ANALYZE") // a database in use has its statistics; a freshly filled one must be told
	}
	c := e.Login(consoletest.County)
	tok := e.Token(consoletest.County)
	for _, bc := range []struct{ name, path string }{
		{"baseline", "/console/me"},
		{"open", "/console/policy"},
		{"all-page5", "/console/policy?state=all&page=5"},
		{"town", fmt.Sprintf("/console/policy?state=all&org=%d", *villages[0].ParentID)},
		{"api", "/api/v1/policy/questions?state=all&per_page=100"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if bc.path[1] == 'a' {
					if st, body := e.API(tok, "GET", bc.path, nil, nil); st != http.StatusOK {
						b.Fatalf("%d %.300s", st, body)
					}
					continue
				}
				if res, body := c.Get(bc.path); res.StatusCode != http.StatusOK {
					b.Fatalf("%d %.300s", res.StatusCode, body)
				}
			}
		})
	}
}
