package study_test

import (
	"context"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestPublishFollowsEachOrgsPublishTime: a town whose rule publishes at 08:30 gets its tasks then,
// the rest of the county at the default 07:00.
func TestPublishFollowsEachOrgsPublishTime(t *testing.T) {
	e := consoletest.New(t) // the clock says 2026-11-20 09:30
	ctx := context.Background()
	db := e.App.DB()
	db.Exec("DELETE FROM study_tasks")
	var town models.Org
	db.Where("path = ?", "洪雅县/花溪镇").Take(&town)
	rule := study.DefaultRule()
	rule.OrgID, rule.PublishAt = town.ID, "10:00"
	if err := db.Create(&rule).Error; err != nil {
		t.Fatal(err)
	}
	count := func(town bool) int64 {
		var n int64
		q := db.Table("study_tasks t").Joins("JOIN orgs o ON o.id = t.org_id")
		if town {
			q = q.Where("o.path LIKE ?", "洪雅县/花溪镇%")
		} else {
			q = q.Where("o.path NOT LIKE ?", "洪雅县/花溪镇%")
		}
		q.Count(&n)
		return n
	}
	if err := e.App.Scheduler().RunDue(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if count(true) != 0 || count(false) == 0 {
		t.Fatalf("at 09:30: %d tasks in 花溪镇 (publishes at 10:00), %d elsewhere", count(true), count(false))
	}
	e.Clock.Add(31 * time.Minute)
	if _, err := e.App.Study().PublishDue(ctx, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	if count(true) == 0 {
		t.Fatal("花溪镇 got no tasks after its publish time")
	}
}
