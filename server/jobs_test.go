package server_test

import (
	"context"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/server"
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

// TestTwoServersPublishOnce: two server processes on one database and one Redis, ticking at the same
// moment, run the publish job once between them.
func TestTwoServersPublishOnce(t *testing.T) {
	e := consoletest.New(t)
	ctx := context.Background()
	cfg := *e.App.Config()
	if cfg.RedisURL == "" { // the embedded Redis is per process: give both servers one shared Redis
		mr := miniredis.RunT(t)
		cfg.RedisURL = "redis://" + mr.Addr()
	}
	var apps []*server.App
	for i := 0; i < 2; i++ {
		c := cfg
		app, err := server.New(ctx, &c, testenv.Logger(), server.Options{Now: e.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		apps = append(apps, app)
	}
	var wg sync.WaitGroup
	for _, app := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := app.Scheduler().RunDue(ctx, e.Clock.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, err := apps[1].Scheduler().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range st {
		if s.Name == "study.publish" {
			found = true
			if s.Today != "done" || s.Attempts != 1 {
				t.Fatalf("publish job: %+v, want done after one attempt", s)
			}
		}
	}
	if !found {
		t.Fatal("no study.publish job")
	}
	var tasks, members int64
	e.App.DB().Table("study_tasks").Count(&tasks)
	e.App.DB().Table("members").Where("active = ?", true).Count(&members)
	if tasks != members {
		t.Fatalf("%d tasks for %d members", tasks, members)
	}
}
