package roster

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/testenv"
)

// chat is a router with the roster's routes (and one members-only route), fed messages directly.
type chat struct {
	t   *testing.T
	r   *bot.Router
	seq atomic.Int64
}

func newChat(t *testing.T, s *Service) *chat {
	r := bot.NewRouter(bot.Options{Store: bot.NewStore(testenv.Redis(t).Client), Identities: s, Log: testenv.Logger()})
	s.Register(r)
	r.Handle("学习", func(_ context.Context, c *bot.Context) error { return c.Text("今日学习") },
		bot.Help(10, "学习 — 今日学习任务"))
	r.Handle("审批", func(_ context.Context, c *bot.Context) error { return c.Text("审批") },
		bot.Roles("书记"), bot.Help(20, "审批 — 审批请假"))
	return &chat{t: t, r: r}
}

func (c *chat) send(m *bot.Message) string {
	c.t.Helper()
	m.Channel = bot.ChannelOA
	m.CreateTime = time.Now().Unix() + c.seq.Add(1)
	if m.Kind == bot.KindText {
		m.MsgID = c.seq.Add(1)
	}
	res := c.r.Dispatch(context.Background(), m)
	if res.Reply == nil {
		return "<success>"
	}
	return res.Reply.Text
}

func (c *chat) text(openID, s string) string {
	c.t.Helper()
	return c.send(&bot.Message{OpenID: openID, Kind: bot.KindText, Text: s})
}

func (c *chat) event(openID, ev, key string) string {
	c.t.Helper()
	return c.send(&bot.Message{OpenID: openID, Kind: bot.KindEvent, Event: ev, EventKey: key})
}

func wantIn(t *testing.T, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Fatalf("reply %q does not contain %q", got, p)
		}
	}
	if n := len([]rune(got)); n > 300 {
		t.Fatalf("reply has %d characters, too long for a phone: %q", n, got)
	}
}

func TestChatBindAndHelp(t *testing.T) {
	s, _, _ := newService(t)
	codes := seed(t, s)
	c := newChat(t, s)

	wantIn(t, c.text("o-li", "学习"), "还没有绑定", "绑定 ")
	wantIn(t, c.text("o-li", "帮助"), "还没有绑定")
	wantIn(t, c.event("o-li", bot.EventSubscribe, ""), "欢迎关注", "绑定码")
	wantIn(t, c.text("o-li", "绑定"), "后面加上")
	wantIn(t, c.text("o-li", "绑定 ABCDEFGH"), "不对或已经用过")

	// Traditional keyword, full-width lower-case code.
	code := codes["13800001002"]
	wantIn(t, c.text("o-li", "綁定　"+strings.ToLower(code)), "绑定成功", "李秀英（党建专干，郭沟村）")
	// The identity cache was dropped: the next message is from a member.
	wantIn(t, c.text("o-li", "学习"), "今日学习")
	help := c.text("o-li", "帮助")
	if help != "你好，李秀英（党建专干，郭沟村）\n学习 — 今日学习任务\n解绑 — 解除本微信与花名册的绑定" {
		t.Fatalf("help = %q", help)
	}
	wantIn(t, c.text("o-li", "绑定 "+codes["13800001001"]), "已绑定为李秀英", "解绑")
	wantIn(t, c.event("o-li", bot.EventSubscribe, ""), "欢迎回来，李秀英")

	// A secretary sees his own routes.
	if _, err := s.Bind(context.Background(), bot.ChannelOA, "o-zhang", codes["13800001001"]); err != nil {
		t.Fatal(err)
	}
	wantIn(t, c.text("o-zhang", "帮助"), "张国华（书记，郭沟村）", "学习", "审批", "解绑")
}

func TestChatBindByScene(t *testing.T) {
	s, _, _ := newService(t)
	codes := seed(t, s)
	c := newChat(t, s)

	// Following by scanning the bind QR code: greeted and bound at once.
	wantIn(t, c.event("o-wang", bot.EventSubscribe, "bind:"+codes["13800001003"]), "欢迎关注", "绑定成功", "王德明（党员，双河村）")
	wantIn(t, c.text("o-wang", "学习"), "今日学习")
	// Scanning it again as a follower.
	wantIn(t, c.event("o-wang", bot.EventScan, "bind:"+codes["13800001003"]), "已绑定为王德明")
	// A used code scanned by someone else.
	wantIn(t, c.event("o-x", bot.EventScan, "bind:"+codes["13800001003"]), "不对或已经用过")
	r := c.event("o-x", bot.EventScan, "bind:"+codes["13800001004"])
	wantIn(t, r, "绑定成功", "周建平（管理员，洪雅县）")
	if strings.Contains(r, "欢迎关注") {
		t.Fatalf("SCAN by a follower is not a subscribe: %q", r)
	}
}

func TestChatUnbind(t *testing.T) {
	s, db, _ := newService(t)
	codes := seed(t, s)
	c := newChat(t, s)
	wantIn(t, c.text("o-li", "绑定 "+codes["13800001002"]), "绑定成功")

	wantIn(t, c.text("o-li", "解绑"), "确定要解除", "李秀英")
	wantIn(t, c.text("o-li", "取消"), "没有解绑")
	wantIn(t, c.text("o-li", "学习"), "今日学习")

	// Another message than yes/no drops the question and is answered as usual.
	wantIn(t, c.text("o-li", "解绑"), "确定要解除")
	wantIn(t, c.text("o-li", "学习"), "今日学习")
	wantIn(t, c.text("o-li", "确定"), "没太明白")

	wantIn(t, c.text("o-li", "解绑"), "确定要解除")
	// A LOCATION event WeChat sends by itself does not answer the question.
	c.event("o-li", bot.EventLocation, "")
	reply := c.text("o-li", "确定")
	wantIn(t, reply, "已解绑", "新绑定码")
	m := memberByPhone(t, db, "13800001002")
	if m.Bound() || m.BindCode == nil || !strings.Contains(reply, *m.BindCode) {
		t.Fatalf("member after unbind = %+v, reply %q", m, reply)
	}
	// Unbound now, with the identity cache dropped.
	wantIn(t, c.text("o-li", "学习"), "还没有绑定")
	wantIn(t, c.text("o-li", "解绑"), "还没有绑定")
	wantIn(t, c.text("o-li", "绑定 "+*m.BindCode), "绑定成功")
}

func TestChatUnboundEvents(t *testing.T) {
	s, _, _ := newService(t)
	c := newChat(t, s)
	c.r.Handle(bot.Menu("STUDY_TODAY"), func(_ context.Context, c *bot.Context) error { return c.Text("今日学习") })
	c.r.Handle(bot.Event(bot.EventView), func(_ context.Context, c *bot.Context) error { return nil })
	wantIn(t, c.event("o-x", bot.EventClick, "STUDY_TODAY"), "还没有绑定")
	if got := c.event("o-x", bot.EventView, "https://example.com"); got != "<success>" {
		t.Fatalf("VIEW from an unbound user = %q, want success", got)
	}
}
