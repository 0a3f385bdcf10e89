package attendance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

func TestLocationEventsRecordedOnceAndQuietly(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger()
	ros := roster.New(db, log, time.Now)
	demo, err := ros.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ros.Bind(ctx, bot.ChannelOA, "o-aide", demo.Members[0].BindCode); err != nil {
		t.Fatal(err)
	}
	svc := New(Options{DB: db, Log: log})
	defer svc.Close()
	r := bot.NewRouter(bot.Options{Store: bot.NewStore(testenv.Redis(t)), Identities: ros, Log: log})
	svc.Register(r)

	locEvent := func(openID string, at int64) *bot.Message {
		return &bot.Message{Channel: bot.ChannelOA, OpenID: openID, Kind: bot.KindEvent, Event: bot.EventLocation,
			Lat: 29.9, Lng: 103.3, Precision: 30, CreateTime: at}
	}
	now := time.Now().Unix()
	// Three deliveries of one event (WeChat's retries), concurrently, and two more events.
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := r.Dispatch(ctx, locEvent("o-aide", now)); res.Reply != nil {
				t.Errorf("LOCATION event got a reply: %q", res.Reply.Text)
			}
		}()
	}
	wg.Wait()
	r.Dispatch(ctx, locEvent("o-aide", now+1))
	if res := r.Dispatch(ctx, locEvent("o-stranger", now)); res.Reply != nil {
		t.Fatalf("unbound user's LOCATION event got %q, want success", res.Reply.Text)
	}
	var reports []models.LocationReport
	if err := db.Order("at").Find(&reports).Error; err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2 (retries written once, unbound not kept)", len(reports))
	}
	if reports[0].Lat != 29.9 || reports[0].Lng != 103.3 || reports[0].Precision != 30 || reports[0].OpenID != "o-aide" {
		t.Fatalf("report = %+v", reports[0])
	}

	// A location message is recorded and answered.
	res := r.Dispatch(ctx, &bot.Message{Channel: bot.ChannelOA, OpenID: "o-aide", Kind: bot.KindLocation,
		Lat: 29.91, Lng: 103.31, MsgID: now, CreateTime: now})
	if res.Reply == nil || res.Reply.Text == "" {
		t.Fatal("location message got no reply")
	}
	var n int64
	db.Model(&models.LocationReport{}).Count(&n)
	if n != 3 {
		t.Fatalf("%d reports after a location message, want 3", n)
	}
}

func TestRecordAfterCloseFails(t *testing.T) {
	svc := New(Options{DB: testenv.DB(t), Log: testenv.Logger()})
	svc.Close()
	if err := svc.RecordLocation(context.Background(), 1, &bot.Message{Channel: "oa", OpenID: "x", CreateTime: 1}); err == nil {
		t.Fatal("recording after Close succeeded")
	}
}
