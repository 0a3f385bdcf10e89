package broadcast

import (
	"context"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// TestCooldownLeavesTheQueueAlone: while WeChat's cool-down lasts (a 45009 stops every server for
// minutes), the workers take nothing from the queue — before, they claimed each entry's recipients,
// gave them back untried and took the next, rewriting every recipient over and over until it ended.
// Once it ends, the broadcast goes out, once to each.
func TestCooldownLeavesTheQueueAlone(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "冷却县", 1, 3, 300)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UnixMilli()
	r.rdb.Set(ctx, kv.BroadcastCooldownKey, until, time.Hour)
	b, err := r.svc.Create(ctx, nil, NoticeInput{OrgPaths: []string{"冷却县"}, Text: "本周五下午集中学习。"})
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, nil))
	o.ClaimLease = 2 * time.Second   // autoclaim looks every second
	o.SendTimeout = 10 * time.Second // no timeouts on a busy machine: no possible duplicate
	eng := NewEngine(r.svc, o)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	// The owner fills the queue; then the workers have many polls to (wrongly) read it.
	deadline := time.Now().Add(30 * time.Second)
	for r.rdb.XLen(ctx, kv.BroadcastQueueKey).Val() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the owner queued nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(max(10*o.Poll, o.ClaimLease))
	groups, err := r.rdb.XInfoGroups(ctx, kv.BroadcastQueueKey).Result()
	if err != nil || len(groups) != 1 {
		t.Fatalf("groups %+v, %v", groups, err)
	}
	if g := groups[0]; (g.LastDeliveredID != "0-0" && g.LastDeliveredID != "0") || g.Pending != 0 { // "0": the embedded Redis
		t.Fatalf("during the cool-down the workers read the queue: %+v", g)
	}
	if n := len(r.fake.Calls()); n != 0 {
		t.Fatalf("%d calls to WeChat during the cool-down", n)
	}
	if left, why := eng.Paused(ctx); left < 59*time.Minute || why != "微信暂时不能发送" { // no reason beside it: an older server's
		t.Fatalf("paused %v %q", left, why)
	}

	r.rdb.Del(ctx, kv.BroadcastCooldownKey)
	p := waitFinal(t, r.svc, b.ID, 60*time.Second)
	if p.Sent != 270 || p.Dup != 0 {
		t.Fatalf("after the cool-down: %+v, want 270 sent once", p.Counts)
	}
	for id, n := range r.fake.Delivered() {
		if n != 1 {
			t.Fatalf("%s got it %d times", id, n)
		}
	}
}

// TestWeChatOutOfReachUsesUpNoRetries: WeChat answers every call with HTTP 503 (down) for longer than
// a recipient's retries last. Each try pauses every server and gives the attempt back: nobody is
// failed with "retries used up" (before, a two-minute outage failed most of a broadcast for good), and
// once WeChat is back everyone gets the notice, once.
func TestWeChatOutOfReachUsesUpNoRetries(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "断网县", 1, 2, 40)
	o := patientOptions(r)
	o.MaxAttempts = 2
	o.Senders = 1 // one call at a time: the first refusal stops the batch before the next is taken
	eng := NewEngine(r.svc, o)
	id, ids := readyBroadcast(t, r, eng, "断网县")
	ctx := context.Background()

	// The first recipient gets it while WeChat is up (the access token is fetched then); then it is down.
	if err := eng.Deliver(ctx, id, ids[:1]); err != nil {
		t.Fatal(err)
	}
	ids = ids[1:]
	r.fake.Down(true)
	for try := range 2 * o.MaxAttempts {
		r.rdb.Del(ctx, kv.BroadcastCooldownKey) // the pause is over: the next try goes out
		if err := eng.Deliver(ctx, id, ids); err != nil {
			t.Fatal(err)
		}
		if left, why := eng.Paused(ctx); left <= 0 || why != "微信接口暂时连不上" {
			t.Fatalf("try %d: WeChat out of reach and pause %v %q", try, left, why)
		}
	}
	var rows []models.Delivery
	r.db.Where("id IN ?", ids).Find(&rows)
	for _, d := range rows {
		if d.Status != models.DeliveryQueued || d.Attempts != 0 || d.Claim != "" {
			t.Fatalf("during the outage %s: status %s attempts %d claim %q, want queued with no attempt used", d.OpenID, d.Status, d.Attempts, d.Claim)
		}
	}

	r.fake.Down(false)
	r.rdb.Del(ctx, kv.BroadcastCooldownKey)
	if err := eng.Deliver(ctx, id, ids); err != nil {
		t.Fatal(err)
	}
	var sent int64
	r.db.Model(&models.Delivery{}).Where("id IN ? AND status = ?", ids, models.DeliverySent).Count(&sent)
	if sent != int64(len(ids)) {
		t.Fatalf("%d of %d sent once WeChat was back", sent, len(ids))
	}
	for _, d := range rows {
		if n := r.fake.Delivered()[d.OpenID]; n != 1 {
			t.Fatalf("%s got it %d times", d.OpenID, n)
		}
	}
}

// TestQuotaPauseSaysWhy: WeChat answers 45009 (the day's API quota used up): every server pauses
// for 10 minutes and says why.
func TestQuotaPauseSaysWhy(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "限额县", 1, 1, 5)
	o := patientOptions(r)
	o.Senders = 1
	eng := NewEngine(r.svc, o)
	id, ids := readyBroadcast(t, r, eng, "限额县")
	ctx := context.Background()
	r.fake.Fail(wxfake.APICustomSend, 45009, 1)
	r.fake.Fail(wxfake.APITemplateSend, 45009, 1)
	if err := eng.Deliver(ctx, id, ids); err != nil {
		t.Fatal(err)
	}
	if left, why := eng.Paused(ctx); left < 9*time.Minute || why != "微信接口今天的调用次数已用完" {
		t.Fatalf("after 45009: paused %v %q", left, why)
	}
	// A "busy" from another server's call in flight does not cut the quota's pause short.
	busy, why := pauseFor(&wxapi.APIError{Code: -1})
	eng.coolDown(ctx, busy, why, nil)
	if left, why := eng.Paused(ctx); left < 9*time.Minute || why != "微信接口今天的调用次数已用完" {
		t.Fatalf("after a later -1: paused %v %q", left, why)
	}
}
