package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Endpoint prefixes for routes that are not keywords. A NUL byte cannot occur in normalized chat text,
// so these never collide with a keyword.
const (
	menuPrefix  = "\x00menu:"
	eventPrefix = "\x00event:"
	scenePrefix = "\x00scene:"
	// OnLocation is the endpoint for location messages (a LOCATION event is Event(EventLocation)).
	OnLocation = "\x00location"
)

// Menu is the endpoint of a custom-menu CLICK with this key.
func Menu(key string) string { return menuPrefix + key }

// Event is the endpoint of an event by WeChat's name (EventSubscribe, EventScan, EventLocation, ...).
func Event(name string) string { return eventPrefix + name }

// Scene is the endpoint of a parametric QR code: a subscribe or SCAN event whose scene is
// "prefix:ARG" (c.Args = ARG). It takes precedence over Event(EventSubscribe) / Event(EventScan).
func Scene(prefix string) string { return scenePrefix + prefix }

// Friendly texts of the router itself.
const (
	TextError   = "抱歉，刚才出了点问题，请稍后再试。"
	TextBusy    = "系统有点忙，请稍等片刻再发一次。"
	TextUnknown = "没太明白你的意思。发送「帮助」看看我能做什么。"
	TextNoRole  = "这项功能暂不对你开放。发送「帮助」看看你能用的功能。"
	TextNoMenu  = "这个功能还在准备中。发送「帮助」看看现在能做什么。"
)

type route struct {
	endpoint  string
	h         HandlerFunc
	public    bool
	roles     []string
	helpOrder int
	help      string
	glued     bool
}

// Option configures a route.
type Option func(*route)

// Public makes a route reachable by users who have not bound their WeChat yet.
func Public() Option { return func(r *route) { r.public = true } }

// Roles limits a route to members with one of these roles.
func Roles(roles ...string) Option { return func(r *route) { r.roles = roles } }

// GluedArgs lets Chinese arguments follow a Chinese keyword without a space ("请假明天到县里开会").
// Without it, "绑定码在哪里" is not taken for 绑定 with arguments "码在哪里".
func GluedArgs() Option { return func(r *route) { r.glued = true } }

// Help adds a line to the 帮助 text of the roles that may use the route, ordered by order.
func Help(order int, line string) Option {
	return func(r *route) { r.helpOrder, r.help = order, line }
}

// Identities finds the member bound to a WeChat openid: (nil, nil) when none is.
type Identities interface {
	MemberByOpenID(ctx context.Context, channel, openID string) (*Member, error)
}

// Sender delivers a reply outside the passive-reply window (the customer-service API).
type Sender interface {
	SendReply(ctx context.Context, channel, openID string, r *Reply) error
}

// Hooks lets the server observe the router without the bot importing a metrics library.
type Hooks struct {
	OnMessage  func(channel, kind string) // every message dispatched
	OnDedupHit func(channel string)       // a retry answered from the dedup record
	OnRedisErr func()                     // Redis failed: the user was told to try again
	OnAsync    func(channel string)       // a handler outran the reply window: answered later
}

// Options configures a Router.
type Options struct {
	Store      *Store
	Identities Identities
	Sender     Sender // for replies of handlers that outrun ReplyWithin; may be nil in tests
	Log        *slog.Logger
	Hooks      Hooks
	// ReplyWithin is how long a handler may run before the webhook answers `success` and the reply
	// goes out through the Sender instead. WeChat waits 5 s; default 4 s leaves room for the network.
	ReplyWithin time.Duration
	// AsyncTimeout bounds a handler that went asynchronous. Default 60 s.
	AsyncTimeout time.Duration
}

// Router dispatches messages to handlers. Routes are registered at start-up, before Dispatch is called.
type Router struct {
	opts     Options
	keywords map[string]*route // exact normalized keyword
	byLen    []*route          // keywords, longest first, for "keyword ARGS"
	others   map[string]*route // menu, event, scene, location endpoints
	steps    map[string]HandlerFunc
	fallback *route
	unbound  HandlerFunc
}

// NewRouter makes an empty router.
func NewRouter(opts Options) *Router {
	if opts.ReplyWithin <= 0 {
		opts.ReplyWithin = 4 * time.Second
	}
	if opts.AsyncTimeout <= 0 {
		opts.AsyncTimeout = 60 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Router{
		opts:     opts,
		keywords: map[string]*route{},
		others:   map[string]*route{},
		steps:    map[string]HandlerFunc{},
		unbound:  func(_ context.Context, c *Context) error { return c.Text(TextUnknown) },
	}
}

// Handle registers h for an endpoint: a keyword ("签到"), Menu(key), Event(name), Scene(prefix) or
// OnLocation. A keyword matches the whole normalized text, or its start followed by arguments
// ("绑定 AB12CD34", "绑定AB12CD34"), which the handler finds in c.Args.
func (r *Router) Handle(endpoint string, h HandlerFunc, opts ...Option) {
	rt := &route{endpoint: endpoint, h: h}
	for _, o := range opts {
		o(rt)
	}
	if strings.HasPrefix(endpoint, "\x00") {
		r.others[endpoint] = rt
		return
	}
	kw := Normalize(endpoint)
	if _, dup := r.keywords[kw]; dup {
		panic(fmt.Sprintf("bot: keyword %q registered twice", kw))
	}
	rt.endpoint = kw
	r.keywords[kw] = rt
	r.byLen = append(r.byLen, rt)
	sort.SliceStable(r.byLen, func(i, j int) bool { return len(r.byLen[i].endpoint) > len(r.byLen[j].endpoint) })
}

// Step registers the handler of a conversation step set with c.SetStep(name, ...). While a step is
// pending, every message of that user goes to it first; it returns ErrPass to let other routes
// answer (the step stays pending).
func (r *Router) Step(name string, h HandlerFunc) { r.steps[name] = h }

// Fallback registers what answers messages no other route takes (policy questions, later).
func (r *Router) Fallback(h HandlerFunc, opts ...Option) {
	rt := &route{endpoint: "fallback", h: h}
	for _, o := range opts {
		o(rt)
	}
	r.fallback = rt
}

// Unbound registers the answer an unbound user gets for any route that is not Public.
func (r *Router) Unbound(h HandlerFunc) { r.unbound = h }

// HelpLines lists the Help lines of the routes a member with this role may use, in order.
func (r *Router) HelpLines(role string) []string {
	var rs []*route
	for _, rt := range r.keywords {
		rs = append(rs, rt)
	}
	for _, rt := range r.others {
		rs = append(rs, rt)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].helpOrder != rs[j].helpOrder {
			return rs[i].helpOrder < rs[j].helpOrder
		}
		return rs[i].endpoint < rs[j].endpoint
	})
	var lines []string
	for _, rt := range rs {
		if rt.help != "" && rt.allows(role) {
			lines = append(lines, rt.help)
		}
	}
	return lines
}

func (rt *route) allows(role string) bool {
	if len(rt.roles) == 0 {
		return true
	}
	for _, x := range rt.roles {
		if x == role {
			return true
		}
	}
	return false
}

// Result is the outcome of dispatching one message.
type Result struct {
	Reply    *Reply // nil: answer `success`
	DedupHit bool   // a retry, answered from the first delivery's record
	Async    bool   // the reply goes (or went) out later through the Sender
	Busy     bool   // Redis failed; Reply is the busy text and nothing was done
}

// Dispatch handles one message: dedup, identity, conversation state, routing, and the reply. It never
// panics and never returns an error: failures become a friendly reply (and are logged).
func (r *Router) Dispatch(ctx context.Context, m *Message) Result {
	start := time.Now()
	if h := r.opts.Hooks.OnMessage; h != nil {
		h(m.Channel, m.Kind)
	}
	ss, err := r.opts.Store.begin(ctx, m)
	if err != nil {
		r.opts.Log.WarnContext(ctx, "bot: redis unavailable", "err", err)
		if h := r.opts.Hooks.OnRedisErr; h != nil {
			h()
		}
		return Result{Reply: Text(TextBusy), Busy: true}
	}
	if !ss.claimed {
		return r.answerRetry(ctx, m, ss, start)
	}

	c := &Context{Msg: m}
	identity := "" // set when the cache missed and must be filled
	if ss.identity != "" {
		if mem, ok := decodeIdentity(ss.identity); ok {
			c.Member = mem
		} else {
			ss.identity = ""
		}
	}
	if ss.identity == "" {
		mem, err := r.opts.Identities.MemberByOpenID(ctx, m.Channel, m.OpenID)
		if err != nil {
			r.opts.Log.ErrorContext(ctx, "bot: identity lookup failed", "err", err)
			r.opts.Store.release(ctx, ss)
			return Result{Reply: Text(TextError)}
		}
		c.Member, identity = mem, encodeIdentity(mem)
	}
	if ss.state != "" {
		var st State
		if err := jsonUnmarshalString(ss.state, &st); err == nil && st.Step != "" {
			c.state = &st
		}
	}

	done := make(chan error, 1)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.AsyncTimeout)
	go func() {
		defer cancel()
		done <- r.run(hctx, c)
	}()
	timer := time.NewTimer(r.opts.ReplyWithin - time.Since(start))
	defer timer.Stop()
	select {
	case err := <-done:
		return r.complete(ctx, m, ss, c, identity, err, false)
	case <-timer.C:
		// Too slow for a passive reply: tell retries to answer `success`, and deliver later.
		r.opts.Store.finish(ctx, ss, dedupAsync, "", nil, false)
		if h := r.opts.Hooks.OnAsync; h != nil {
			h(m.Channel)
		}
		go func() {
			err := <-done
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			res := r.complete(bg, m, ss, c, identity, err, true)
			if res.Reply != nil && r.opts.Sender != nil {
				if err := r.opts.Sender.SendReply(bg, m.Channel, m.OpenID, res.Reply); err != nil {
					r.opts.Log.WarnContext(bg, "bot: late reply not delivered", "err", err)
				}
			}
		}()
		return Result{Async: true}
	}
}

// complete saves what the handler did and decides the reply.
// When async, the reply goes out through the Sender, so retries keep getting `success`.
func (r *Router) complete(ctx context.Context, m *Message, ss *session, c *Context, identity string, err error, async bool) Result {
	if err != nil {
		r.opts.Log.ErrorContext(ctx, "bot: handler failed", "channel", m.Channel, "kind", m.Kind, "event", m.Event, "err", err)
		// Forget the claim: the effect did not (fully) happen, so WeChat's retry may run it again.
		r.opts.Store.release(ctx, ss)
		return Result{Reply: Text(TextError)}
	}
	if c.invalidate {
		identity = "" // the finish below must not re-cache the identity this message changed
	}
	record := dedupReply + c.reply.marshal()
	if async {
		record = dedupAsync
	}
	if err := r.opts.Store.finish(ctx, ss, record, identity, c.newState, c.clearState); err != nil {
		r.opts.Log.WarnContext(ctx, "bot: saving conversation state failed", "err", err)
	}
	if c.invalidate {
		if err := r.opts.Store.InvalidateIdentity(ctx, m.Channel, m.OpenID); err != nil {
			r.opts.Log.WarnContext(ctx, "bot: identity cache not invalidated", "err", err)
		}
	}
	return Result{Reply: c.reply}
}

// answerRetry answers a delivery of a message that another delivery claimed: with its reply once it
// is there.
func (r *Router) answerRetry(ctx context.Context, m *Message, ss *session, start time.Time) Result {
	if h := r.opts.Hooks.OnDedupHit; h != nil {
		h(m.Channel)
	}
	record, err := r.opts.Store.wait(ctx, ss, start.Add(r.opts.ReplyWithin))
	switch {
	case err == nil && strings.HasPrefix(record, dedupReply):
		return Result{Reply: unmarshalReply(record[len(dedupReply):]), DedupHit: true}
	case err == nil && record == dedupAsync:
		return Result{DedupHit: true, Async: true}
	case errors.Is(err, context.DeadlineExceeded):
		// Still running: WeChat will retry once more, or the reply goes out through the Sender.
		return Result{DedupHit: true}
	case errors.Is(err, errReleased):
		return Result{Reply: Text(TextError), DedupHit: true}
	default:
		return Result{Reply: Text(TextBusy), DedupHit: true, Busy: true}
	}
}

// run routes the message and calls its handler, turning a panic into an error.
func (r *Router) run(ctx context.Context, c *Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	m := c.Msg
	if m.Kind == KindText {
		c.Norm = Normalize(m.Text)
	}
	if c.state != nil {
		if h, ok := r.steps[c.state.Step]; ok {
			err := h(ctx, c)
			if !errors.Is(err, ErrPass) {
				return err
			}
			c.reply, c.replied = nil, false
		}
	}
	rt := r.match(c)
	if rt == nil {
		switch {
		case m.Kind == KindEvent && m.Event != EventClick:
			return nil // an event nobody handles: `success`
		case c.Member == nil:
			return r.unbound(ctx, c) // whatever an unbound user sends, he learns how to bind
		case m.Kind == KindEvent:
			return c.Text(TextNoMenu) // a menu item the bot does not know yet: say so, not silence
		}
		return c.Text(TextUnknown)
	}
	if !rt.public && c.Member == nil {
		return r.unbound(ctx, c)
	}
	if c.Member != nil && !rt.allows(c.Member.Role) {
		return c.Text(TextNoRole)
	}
	return rt.h(ctx, c)
}

// match finds the route of a message: keyword, then menu key / scene / event / location, then the
// fallback. It sets c.Args.
func (r *Router) match(c *Context) *route {
	m := c.Msg
	switch m.Kind {
	case KindText:
		if rt, ok := r.keywords[c.Norm]; ok {
			return rt
		}
		for _, rt := range r.byLen {
			if args, ok := keywordArgs(c.Norm, rt.endpoint, rt.glued); ok {
				c.Args = args
				return rt
			}
		}
	case KindLocation:
		if rt, ok := r.others[OnLocation]; ok {
			return rt
		}
	case KindEvent:
		switch m.Event {
		case EventClick:
			if rt, ok := r.others[menuPrefix+m.EventKey]; ok {
				return rt
			}
		case EventSubscribe, EventScan:
			if prefix, arg, ok := strings.Cut(m.EventKey, ":"); ok {
				if rt, ok := r.others[scenePrefix+prefix]; ok {
					c.Args = arg
					return rt
				}
			}
		}
		if rt, ok := r.others[eventPrefix+m.Event]; ok {
			return rt
		}
		return nil
	}
	return r.fallback
}

// keywordArgs reports whether text is keyword followed by arguments: after a space or colon; directly
// when the keyword is Chinese and the rest starts with a letter or digit ("绑定AB12"); and, for glued
// routes, when Chinese follows Chinese.
func keywordArgs(text, keyword string, glued bool) (string, bool) {
	if len(text) <= len(keyword) || !strings.HasPrefix(text, keyword) {
		return "", false
	}
	rest := text[len(keyword):]
	next, size := utf8.DecodeRuneInString(rest)
	switch {
	case next == ' ' || next == ':' || next == '：' || next == ',' || next == '，':
		return strings.TrimSpace(rest[size:]), true
	case last(keyword) >= utf8.RuneSelf && next < utf8.RuneSelf:
		return strings.TrimSpace(rest), true
	case glued && last(keyword) >= utf8.RuneSelf && next >= utf8.RuneSelf:
		return strings.TrimSpace(rest), true
	}
	return "", false
}

func last(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}
