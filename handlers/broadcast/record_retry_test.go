package broadcast

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// patientOptions are fastOptions without send timeouts on a busy machine: a duplicate is the test's.
func patientOptions(r *rig) EngineOptions {
	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, nil))
	o.SendTimeout = 10 * time.Second
	return o
}

// failDeliveryUpdates makes the next n updates of the deliveries table fail as if the database were
// down (n < 0: all of them until the test ends).
func failDeliveryUpdates(t *testing.T, db *gorm.DB, n int64) *atomic.Int64 {
	t.Helper()
	var left atomic.Int64
	left.Store(n)
	name := "test:deliveries_down"
	err := db.Callback().Update().Before("gorm:update").Register(name, func(tx *gorm.DB) {
		if tx.Statement.Table != "deliveries" || left.Load() == 0 {
			return
		}
		left.Add(-1)
		tx.AddError(errors.New("connect: connection refused"))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Callback().Update().Remove(name) })
	return &left
}

// readyBroadcast records a notice to the county and lets an owner start and expand it; it returns
// the broadcast and its recipients with WeChat bound.
func readyBroadcast(t *testing.T, r *rig, eng *Engine, county string) (uint, []uint64) {
	t.Helper()
	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{county}, Text: "明早九点到村委会开会。"})
	if err != nil {
		t.Fatal(err)
	}
	var pass feedPass
	for range 10 {
		var cur models.Broadcast
		r.db.Take(&cur, b.ID)
		if cur.Status == models.BroadcastSending && cur.ExpandedAt != nil {
			break
		}
		if _, _, err := eng.step(context.Background(), b.ID, &pass); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint64
	r.db.Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ?", b.ID, models.DeliveryQueued).Order("id").Pluck("id", &ids)
	if len(ids) == 0 {
		t.Fatal("no recipient expanded")
	}
	return b.ID, ids
}

// TestOutcomesRecordedThroughADatabaseBlip: the database stops answering just as a batch's outcomes
// are written (PostgreSQL restarting under a broadcast). The worker tries again and records them:
// nobody stays claimed, to be sent the notice a second time by the next worker.
func TestOutcomesRecordedThroughADatabaseBlip(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "重试县", 1, 2, 30)
	eng := NewEngine(r.svc, patientOptions(r))
	id, ids := readyBroadcast(t, r, eng, "重试县")

	left := failDeliveryUpdates(t, r.db, 2) // two tries fail, the third goes through
	if err := eng.Deliver(context.Background(), id, ids); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if left.Load() != 0 {
		t.Fatalf("%d injected failures left: the outcomes were not written through them", left.Load())
	}
	var rows []models.Delivery
	r.db.Where("id IN ?", ids).Find(&rows)
	for _, d := range rows {
		if d.Status != models.DeliverySent || d.Claim != "" || d.Dup != 0 {
			t.Fatalf("recipient %d: status %s claim %q dup %d, want sent and free", d.ID, d.Status, d.Claim, d.Dup)
		}
	}
	// Delivering the batch again (its queue entry handed out twice) sends nobody anything more.
	if err := eng.Deliver(context.Background(), id, ids); err != nil {
		t.Fatal(err)
	}
	delivered := r.fake.Delivered()
	for _, d := range rows {
		if delivered[d.OpenID] != 1 {
			t.Fatalf("%s got the notice %d times", d.OpenID, delivered[d.OpenID])
		}
	}
}

// TestOutcomesGivenUpWhenTheClaimRunsOut: a database that stays down is not waited for beyond the
// claim: Deliver reports the failure (the queue entry stays pending for a takeover) and the
// recipients stay claimed, so that the next worker counts its send as a possible duplicate.
func TestOutcomesGivenUpWhenTheClaimRunsOut(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "停机县", 1, 1, 5)
	o := patientOptions(r)
	o.ClaimLease = 600 * time.Millisecond
	eng := NewEngine(r.svc, o)
	id, ids := readyBroadcast(t, r, eng, "停机县")

	failDeliveryUpdates(t, r.db, -1)
	if err := eng.Deliver(context.Background(), id, ids); err == nil {
		t.Fatal("Deliver succeeded with the database down")
	}
	var claimed int64
	r.db.Model(&models.Delivery{}).Where("id IN ? AND claim <> '' AND status = ?", ids, models.DeliveryQueued).Count(&claimed)
	if claimed != int64(len(ids)) {
		t.Fatalf("%d of %d recipients still claimed", claimed, len(ids))
	}
}

// TestEntryTriedAgainWhenTheDatabaseIsBack: a worker takes a queue entry while the database is down
// (PostgreSQL down for 20 s under a broadcast): it tries the entry again shortly, and the broadcast
// goes on when the database is back, rather than the entry waiting out the claim lease for a
// takeover.
func TestEntryTriedAgainWhenTheDatabaseIsBack(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "恢复县", 1, 2, 20)
	eng := NewEngine(r.svc, patientOptions(r))
	id, ids := readyBroadcast(t, r, eng, "恢复县")

	var left atomic.Int64
	left.Store(2) // the claim fails twice, as the database comes back
	name := "test:claims_down"
	err := r.db.Callback().Raw().Before("gorm:raw").Register(name, func(tx *gorm.DB) {
		if strings.HasPrefix(tx.Statement.SQL.String(), "UPDATE deliveries SET dup") && left.Load() > 0 {
			left.Add(-1)
			tx.AddError(errors.New("connect: connection refused"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Callback().Raw().Remove(name) })

	eng.handle(context.Background(), redis.XMessage{ID: "1-1", Values: map[string]any{"b": strconv.FormatUint(uint64(id), 10), "ids": joinIDs(ids)}})
	if left.Load() != 0 {
		t.Fatalf("%d injected failures left", left.Load())
	}
	var sent int64
	r.db.Model(&models.Delivery{}).Where("id IN ? AND status = ? AND claim = ''", ids, models.DeliverySent).Count(&sent)
	if sent != int64(len(ids)) {
		t.Fatalf("%d of %d recipients sent once the database was back", sent, len(ids))
	}
}
