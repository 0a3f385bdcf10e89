package broadcast

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// BenchmarkResultsPage measures the broadcast page's queries (progress by state, reason and village,
// and the first page of recipients) for a finished broadcast to the load county: 100,000 recipients,
// or YANZHEN_BENCH_RECIPIENTS (600000 for the target). Run it on PostgreSQL:
//
//	YANZHEN_TEST_DATABASE_URL=postgres://… YANZHEN_BENCH_RECIPIENTS=600000 go test -run '^$' -bench ResultsPage ./handlers/broadcast/
func BenchmarkResultsPage(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("YANZHEN_BENCH_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	db := testenv.DB(b)
	ctx := context.Background()
	if err := SeedLoad(ctx, db, n, nil); err != nil {
		b.Fatal(err)
	}
	svc := New(db, testenv.Logger(), time.Now, nil)
	bc, err := svc.Create(ctx, nil, NoticeInput{OrgPaths: []string{LoadCounty}, Text: "压测通知"})
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(svc, EngineOptions{Redis: testenv.Redis(b).Client})
	start := time.Now()
	for {
		var cur models.Broadcast
		db.Take(&cur, bc.ID)
		if cur.ExpandedAt != nil {
			break
		}
		if err := e.expand(ctx, &cur); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds(), "expand-s")
	// As it ends: most sent, some refused, the unbound skipped.
	db.Exec("UPDATE deliveries SET status = ?, via = ?, sent_at = ? WHERE broadcast_id = ? AND status = ?", models.DeliverySent, "template", time.Now(), bc.ID, models.DeliveryQueued)
	db.Exec("UPDATE deliveries SET status = ?, err_code = 43004, reason = ? WHERE broadcast_id = ? AND member_id % 97 = 0", models.DeliveryFailed, "已取消关注公众号", bc.ID)
	// A third of them opened their link (read); the tallies are counted from the rows as at the end.
	db.Exec("UPDATE deliveries SET read_at = ? WHERE broadcast_id = ? AND status = ? AND member_id % 3 = 0", time.Now(), bc.ID, models.DeliverySent)
	if err := rebuildTallies(db, bc.ID); err != nil {
		b.Fatal(err)
	}
	db.Exec("ANALYZE deliveries")
	var town models.Org
	db.Where("path = ?", LoadCounty+"/第1镇").Take(&town)
	for _, v := range []struct {
		name string
		sc   scope.Scope
	}{{"county", scope.Everything()}, {"town", scope.Under(town.ID, town.Path)}} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				p, err := svc.Progress(ctx, v.sc, bc.ID, true)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := svc.Recipients(ctx, v.sc, bc.ID, "", 0, 50, &p.Counts); err != nil {
					b.Fatal(err)
				}
				if p.Total() == 0 || p.Read == 0 {
					b.Fatal("no recipients, or none read")
				}
			}
		})
		// The list of those who have not opened it (已送达未读), counted: its total is no tally.
		b.Run(v.name+"-unread", func(b *testing.B) {
			for b.Loop() {
				p, err := svc.Progress(ctx, v.sc, bc.ID, true)
				if err != nil {
					b.Fatal(err)
				}
				if _, n, err := svc.Recipients(ctx, v.sc, bc.ID, FilterUnread, 0, 50, &p.Counts); err != nil || n == 0 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
