package study_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// setClock moves the server's clock to "2006-01-02 15:04" in YANZHEN_TZ.
func setClock(t *testing.T, env *consoletest.Env, at string) {
	t.Helper()
	to, err := time.ParseInLocation("2006-01-02 15:04", at, env.App.Config().Location)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Add(to.Sub(env.Clock.Now()))
}

// TestSummaryKeepsTheFiguresAndTodayStaysLive: the nightly job summarises the past days; the console's
// figures are the same before and after, for every viewer, org and period, and they come from the
// summary (they stay when the past tasks are gone), while today's tasks count live. Rebuilding reads
// the tasks again.
func TestSummaryKeepsTheFiguresAndTodayStaysLive(t *testing.T) {
	e := consoletest.New(t)
	cwSeed(t, e) // tasks of 2026-11-19 and 2026-11-20
	db := e.App.DB()
	setClock(t, e, "2026-11-22 02:00") // a Sunday: this week is 11-16 to 11-22
	huaxi, guogou := orgID(t, db, "洪雅县/花溪镇"), orgID(t, db, "洪雅县/花溪镇/郭沟村")
	county := e.Token(consoletest.County)
	views := []struct{ token, query string }{
		{county, "?period=month"},
		{county, "?period=year"},
		{county, "?period=week"},
		{county, "?from=2026-11-20&to=2026-11-20"},
		{county, fmt.Sprintf("?org=%d&period=month", huaxi)},
		{county, fmt.Sprintf("?org=%d&period=month", guogou)},
		{e.Token(consoletest.Town), "?period=month"},
		{e.Token(consoletest.Secretary), "?period=month"},
		{e.Token(consoletest.Admin), "?period=month"},
	}
	read := func() []string {
		t.Helper()
		out := make([]string, len(views))
		for i, v := range views {
			code, body := e.API(v.token, http.MethodGet, "/api/v1/study/progress"+v.query, nil, nil)
			if code != http.StatusOK {
				t.Fatalf("progress%s: %d %s", v.query, code, body)
			}
			out[i] = body
		}
		return out
	}
	live := read()
	if p := cwProgressOf(t, e, county, "?period=month"); !p.Total.is(9, 6, 32, 25, "warn") || len(p.Days) != 2 || len(p.Tags) != 4 {
		t.Fatalf("the month before summarising: %+v", p)
	}

	setClock(t, e, "2026-11-22 02:45")
	runJobs(t, e)
	var marks []models.StudySummaryDay
	db.Order("day").Find(&marks)
	var got []string
	for _, m := range marks {
		got = append(got, fmt.Sprintf("%s:%d", m.Day, m.Tasks))
	}
	if strings.Join(got, " ") != "2026-11-19:1 2026-11-20:8 2026-11-21:0" {
		t.Fatalf("days summarised: %v", got)
	}
	// The county's row covers its subtree; 郭沟村's its own members.
	var row models.StudyOrgDay
	if err := db.Take(&row, "org_id = ? AND day = ?", orgID(t, db, "洪雅县"), "2026-11-20").Error; err != nil ||
		row.Published != 8 || row.Completed != 5 || row.Answered != 27 || row.NRight != 20 {
		t.Fatalf("county's row of 11-20: %+v %v", row, err)
	}
	compare := func(when string) {
		t.Helper()
		for i, body := range read() {
			if body != live[i] {
				t.Fatalf("%s, progress%s (viewer %d) differs:\nlive:    %s\nsummary: %s", when, views[i].query, i, live[i], body)
			}
		}
	}
	compare("after summarising")

	// Read from the summary: the past days' tasks gone, their figures stay.
	if err := db.Where("day < ?", "2026-11-22").Delete(&models.StudyTask{}).Error; err != nil {
		t.Fatal(err)
	}
	compare("without the past days' tasks")
	// A second run has nothing to do and changes nothing.
	if err := e.App.Study().SummariseDay(context.Background(), "2026-11-22"); err != nil {
		t.Fatal(err)
	}
	compare("after the job ran again")

	// Today is live: 张国华 does today's task in chat, right throughout.
	setClock(t, e, "2026-11-22 09:00")
	zhang := newChatter(e, "o-zhang", "张国华")
	reply := zhang.say("学习")
	for promptRe.MatchString(reply) {
		reply = zhang.say(rightAnswer(t, db, prompt(t, reply)))
	}
	mustContain(t, "today's task", reply, "今天的学习完成了")
	p := cwProgressOf(t, e, county, "?period=month")
	if !p.Total.is(10, 7, 37, 30, "warn") || len(p.Days) != 3 || p.Days[2].Day != "2026-11-22" || !p.Days[2].is(1, 1, 5, 5, "") {
		t.Fatalf("the month with today's task: %+v", p)
	}

	// Rebuilt from the tasks, the deleted days are gone from the figures too; tomorrow's days stay live.
	if err := e.App.Study().RebuildSummary(context.Background(), "2026-11-01", "2026-11-30"); err != nil {
		t.Fatal(err)
	}
	p = cwProgressOf(t, e, county, "?period=month")
	if !p.Total.is(1, 1, 5, 5, "ok") || len(p.Days) != 1 {
		t.Fatalf("the month after the rebuild: %+v", p)
	}
	var n int64
	db.Model(&models.StudySummaryDay{}).Where("day >= ?", "2026-11-22").Count(&n)
	if n != 0 {
		t.Fatal("the rebuild summarised today")
	}
}
