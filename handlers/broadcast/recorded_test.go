package broadcast

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/notify"
)

// TestRecordedCountsOutcomes: the engine tells EngineOptions.Recorded of every outcome it recorded, so
// the per-process metric adds up to the broadcast's figures.
func TestRecordedCountsOutcomes(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "计数县", 2, 3, 200)
	for i := 1; i < 200; i += 20 {
		r.fake.SetUserError("o_"+strconv.Itoa(i), notify.CodeNotFollowing) // refused for good
	}
	r.fake.Fail(wxfake.APITemplateSend, 45047, 3) // one person's quota: retried later
	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"计数县"}, Text: "请按时参加主题党日。"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, seen{}))
	o.Recorded = func(outcome string, n int) {
		mu.Lock()
		got[outcome] += n
		mu.Unlock()
	}
	eng := NewEngine(r.svc, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	p := waitFinal(t, r.svc, b.ID, 60*time.Second)
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	if p.Sent == 0 || p.Failed != 10 {
		t.Fatalf("figures %+v, want 10 refused", p.Counts)
	}
	if got[OutcomeSent] != int(p.Sent) || got[OutcomeFailed] != int(p.Failed) || got[OutcomeRetry] < 3 {
		t.Fatalf("recorded %v, figures %+v (and at least 3 retries)", got, p.Counts)
	}
}
