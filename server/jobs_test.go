package server_test

import (
	"context"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

// TestDailyJobsPublishTheStudyTaskOnce: the wired scheduler publishes today's task for every active
// member once, however often it ticks.
func TestDailyJobsPublishTheStudyTaskOnce(t *testing.T) {
	e := consoletest.New(t) // the clock says 09:30, after the 07:00 publish time
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := e.App.Scheduler().RunDue(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var tasks, members int64
	e.App.DB().Table("study_tasks").Count(&tasks)
	e.App.DB().Table("members").Where("active = ?", true).Count(&members)
	if tasks != members || members == 0 {
		t.Fatalf("%d tasks for %d active members", tasks, members)
	}
	st, err := e.App.Scheduler().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Name == "study.publish" && s.Today != "done" {
			t.Fatalf("publish job status: %+v", s)
		}
	}
}
