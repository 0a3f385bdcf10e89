package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/internal/testenv"
)

type fakeIdentities struct {
	mu      sync.Mutex
	members map[string]*Member
	calls   int
}

func (f *fakeIdentities) MemberByOpenID(_ context.Context, _, openID string) (*Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.members[openID], nil
}

type recordingSender struct {
	mu   sync.Mutex
	sent []string
}

func (s *recordingSender) SendReply(_ context.Context, _, openID string, r *Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, openID+":"+r.Text)
	return nil
}

func newTestRouter(t *testing.T, opts Options) (*Router, *fakeIdentities) {
	t.Helper()
	ids := &fakeIdentities{members: map[string]*Member{
		"o-aide": {ID: 1, Name: "张三", Role: "党建专干", OrgID: 3, OrgPath: "县/镇/村"},
		"o-sec":  {ID: 2, Name: "李四", Role: "书记", OrgID: 3, OrgPath: "县/镇/村"},
	}}
	if opts.Store == nil {
		opts.Store = NewStore(testenv.Redis(t))
	}
	opts.Identities = ids
	opts.Log = testenv.Logger()
	return NewRouter(opts), ids
}

var msgSeq atomic.Int64

func text(openID, s string) *Message {
	return &Message{Channel: ChannelOA, OpenID: openID, Kind: KindText, Text: s, MsgID: msgSeq.Add(1) + time.Now().UnixNano(), CreateTime: time.Now().Unix()}
}

func event(openID, ev, key string) *Message {
	return &Message{Channel: ChannelOA, OpenID: openID, Kind: KindEvent, Event: ev, EventKey: key, CreateTime: time.Now().Unix() + msgSeq.Add(1)}
}

func replyText(res Result) string {
	if res.Reply == nil {
		return "<success>"
	}
	return res.Reply.Text
}

func TestDispatchOrderAndGates(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	ctx := context.Background()
	say := func(s string) HandlerFunc {
		return func(_ context.Context, c *Context) error { return c.Text(s + "|" + c.Args) }
	}
	r.Handle("帮助", say("help"), Public())
	r.Handle("绑定", say("bind"), Public())
	r.Handle("问卷", say("survey"))
	r.Handle("问", say("ask"), GluedArgs())
	r.Handle("审批", say("approve"), Roles("书记"))
	r.Handle(Menu("CHECK_IN"), say("menu"))
	r.Handle(Scene("bind"), say("scene"), Public())
	r.Handle(Event(EventSubscribe), say("welcome"), Public())
	r.Handle(OnLocation, say("loc"))
	r.Fallback(say("fallback"))
	r.Unbound(say("howto"))
	r.Step("quiz", func(_ context.Context, c *Context) error {
		if c.Norm != "A" && c.Norm != "B" {
			return ErrPass
		}
		c.ClearStep()
		return c.Text("answer " + c.Norm)
	})

	cases := []struct {
		name string
		msg  *Message
		want string
	}{
		{"keyword", text("o-aide", "帮助"), "help|"},
		{"traditional and full-width", text("o-aide", "　幫助 "), "help|"},
		{"keyword with args", text("o-x", "绑定 ab12cd34"), "bind|ab12cd34"},
		{"keyword glued ascii args", text("o-x", "绑定AB12CD34"), "bind|AB12CD34"},
		{"full-width args", text("o-x", "绑定　ＡＢ１２"), "bind|AB12"},
		{"chinese glued not taken without GluedArgs", text("o-aide", "绑定码在哪里拿"), "fallback|"},
		{"longest keyword first", text("o-aide", "问卷"), "survey|"},
		{"glued args", text("o-aide", "问培训多少学时"), "ask|培训多少学时"},
		{"unbound gate", text("o-x", "问卷"), "howto|"},
		{"unbound fallback gated", text("o-x", "你好"), "howto|"},
		{"role gate", text("o-aide", "审批"), TextNoRole},
		{"role allowed", text("o-sec", "审批"), "approve|"},
		{"menu", event("o-aide", EventClick, "CHECK_IN"), "menu|"},
		{"unknown menu says so", event("o-aide", EventClick, "NOPE"), TextNoMenu},
		{"scene on subscribe", event("o-x", EventSubscribe, "bind:CODE1"), "scene|CODE1"},
		{"scene on scan", event("o-x", EventScan, "bind:CODE2"), "scene|CODE2"},
		{"subscribe without scene", event("o-x", EventSubscribe, ""), "welcome|"},
		{"unhandled event is success", event("o-aide", EventLocation, ""), "<success>"},
		{"location", &Message{Channel: ChannelOA, OpenID: "o-aide", Kind: KindLocation, MsgID: 99, CreateTime: 1}, "loc|"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := replyText(r.Dispatch(ctx, tc.msg)); got != tc.want {
				t.Fatalf("reply = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("pending step first, pass falls through, state persists", func(t *testing.T) {
		r.Handle("开始", func(_ context.Context, c *Context) error {
			c.SetStep("quiz", map[string]int{"q": 1}, time.Minute)
			return c.Text("first question")
		})
		for _, step := range []struct{ in, want string }{
			{"开始", "first question"},
			{"帮助", "help|"},    // not an answer: passes to the keyword, step stays
			{"Ｂ", "answer B"},  // full-width answer reaches the step
			{"A", "fallback|"}, // step cleared: A goes to the fallback
		} {
			if got := replyText(r.Dispatch(ctx, text("o-aide", step.in))); got != step.want {
				t.Fatalf("%s: reply = %q, want %q", step.in, got, step.want)
			}
		}
	})
}

func TestUnboundUserAlwaysLearnsHowToBind(t *testing.T) {
	r, _ := newTestRouter(t, Options{}) // no fallback registered: nothing matches "你好"
	r.Unbound(func(_ context.Context, c *Context) error { return c.Text("howto") })
	for _, m := range []*Message{text("o-x", "你好"), event("o-x", EventClick, "NOPE"), text("o-aide", "你好")} {
		want := "howto"
		if m.OpenID == "o-aide" {
			want = TextUnknown
		}
		if got := replyText(r.Dispatch(context.Background(), m)); got != want {
			t.Fatalf("%s %q%s: %q, want %q", m.OpenID, m.Text, m.EventKey, got, want)
		}
	}
}

func TestDedupConcurrentDeliveriesHaveOneEffect(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	var runs atomic.Int32
	r.Handle("积分", func(_ context.Context, c *Context) error {
		n := runs.Add(1)
		time.Sleep(150 * time.Millisecond) // long enough for the retries to arrive while it runs
		return c.Text("run " + string(rune('0'+n)))
	})
	m := text("o-aide", "积分")
	var wg sync.WaitGroup
	replies := make([]string, 3)
	for i := range replies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cp := *m
			replies[i] = replyText(r.Dispatch(context.Background(), &cp))
		}(i)
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1", runs.Load())
	}
	for _, got := range replies {
		if got != "run 1" {
			t.Fatalf("replies = %q, want all %q", replies, "run 1")
		}
	}
	// A retry after the first finished gets the same reply too.
	cp := *m
	res := r.Dispatch(context.Background(), &cp)
	if replyText(res) != "run 1" || !res.DedupHit || runs.Load() != 1 {
		t.Fatalf("late retry: %q hit=%v runs=%d", replyText(res), res.DedupHit, runs.Load())
	}
}

func TestFailuresBecomeFriendlyAndRetryable(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	var calls atomic.Int32
	r.Handle("坏", func(_ context.Context, c *Context) error {
		if calls.Add(1) == 1 {
			return errors.New("database is down")
		}
		return c.Text("ok now")
	})
	r.Handle("炸", func(_ context.Context, c *Context) error { panic("boom") })
	m := text("o-aide", "坏")
	if got := replyText(r.Dispatch(context.Background(), m)); got != TextError {
		t.Fatalf("error reply = %q", got)
	}
	cp := *m // WeChat's retry runs again, since the first failed
	if got := replyText(r.Dispatch(context.Background(), &cp)); got != "ok now" {
		t.Fatalf("retry reply = %q", got)
	}
	if got := replyText(r.Dispatch(context.Background(), text("o-aide", "炸"))); got != TextError {
		t.Fatalf("panic reply = %q", got)
	}
}

func TestIdentityCacheAndInvalidation(t *testing.T) {
	r, ids := newTestRouter(t, Options{})
	r.Handle("我", func(_ context.Context, c *Context) error { return c.Text(c.Member.Name) })
	r.Handle("改", func(_ context.Context, c *Context) error { c.IdentityChanged(); return c.Text("changed") })
	for i := 0; i < 3; i++ {
		if got := replyText(r.Dispatch(context.Background(), text("o-aide", "我"))); got != "张三" {
			t.Fatalf("reply = %q", got)
		}
	}
	if ids.calls != 1 {
		t.Fatalf("identity looked up %d times, want 1 (cached)", ids.calls)
	}
	r.Dispatch(context.Background(), text("o-aide", "改"))
	ids.mu.Lock()
	ids.members["o-aide"] = &Member{ID: 1, Name: "张三丰", Role: "党建专干"}
	ids.mu.Unlock()
	if got := replyText(r.Dispatch(context.Background(), text("o-aide", "我"))); got != "张三丰" {
		t.Fatalf("after invalidation reply = %q, want the new name", got)
	}
}

func TestSlowHandlerAnswersLater(t *testing.T) {
	sender := &recordingSender{}
	r, _ := newTestRouter(t, Options{Sender: sender, ReplyWithin: 50 * time.Millisecond})
	release := make(chan struct{})
	r.Handle("慢", func(_ context.Context, c *Context) error {
		<-release
		return c.Text("late answer")
	})
	m := text("o-aide", "慢")
	res := r.Dispatch(context.Background(), m)
	if !res.Async || res.Reply != nil {
		t.Fatalf("slow handler: %+v, want async success", res)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		sender.mu.Lock()
		n := len(sender.sent)
		sender.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("late reply was not sent")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sender.sent[0] != "o-aide:late answer" {
		t.Fatalf("sent %q", sender.sent)
	}
	cp := *m // a retry after that gets `success`, not the reply a second time
	if res := r.Dispatch(context.Background(), &cp); res.Reply != nil {
		t.Fatalf("retry after async got %q", res.Reply.Text)
	}
}

func TestRedisDownAnswersBusyFast(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: 0, DialerRetries: 1})
	defer dead.Close()
	r, _ := newTestRouter(t, Options{Store: NewStore(dead)})
	r.Handle("帮助", func(_ context.Context, c *Context) error { return c.Text("help") })
	start := time.Now()
	res := r.Dispatch(context.Background(), text("o-aide", "帮助"))
	if !res.Busy || replyText(res) != TextBusy {
		t.Fatalf("redis down: %+v", res)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("redis down took %v", time.Since(start))
	}
}
