package bot

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// HandlerFunc handles one message. It answers through c (c.Text, c.Reply) and returns an error only
// for failures; the router's error callback logs it and gives the user one friendly line.
type HandlerFunc func(ctx context.Context, c *Context) error

// ErrPass, returned by a conversation-step handler, means "this message is not an answer to my step":
// dispatch goes on to keywords, menu keys and the fallback, and the step stays pending.
var ErrPass = errors.New("bot: pass")

// Member is the identity of a bound user, as the identity middleware caches it.
type Member struct {
	ID      uint   `json:"id"`
	Name    string `json:"n"`
	Role    string `json:"r"`
	OrgID   uint   `json:"o"`
	OrgPath string `json:"p"`
}

// State is a pending conversation step: which handler gets the user's next message, with its data.
type State struct {
	Step string          `json:"s"`
	Data json.RawMessage `json:"d,omitempty"`
	TTL  time.Duration   `json:"-"`
}

// Context carries one message through the router: who sent it, what it says, the pending step, and the
// reply being built.
type Context struct {
	Msg    *Message
	Member *Member // nil while the user has not bound his WeChat
	Args   string  // for keyword routes: the text after the keyword, trimmed ("绑定 AB12" → "AB12")
	Norm   string  // the normalized text (full-width and Traditional folded, trimmed)

	state      *State // as loaded; nil when none
	newState   *State // set by SetStep
	clearState bool
	reply      *Reply
	replied    bool
	invalidate bool // identity changed during this message (bind/unbind)
}

// Text answers with a text message.
func (c *Context) Text(s string) error {
	c.reply, c.replied = Text(s), true
	return nil
}

// Reply answers with r (nil: no answer, WeChat is told `success`).
func (c *Context) Reply(r *Reply) error {
	c.reply, c.replied = r, true
	return nil
}

// Answer is the reply set so far (nil if none).
func (c *Context) Answer() *Reply { return c.reply }

// Step is the pending conversation step as it was when the message arrived ("" if none).
func (c *Context) Step() string {
	if c.state == nil {
		return ""
	}
	return c.state.Step
}

// StepData decodes the pending step's data into v.
func (c *Context) StepData(v any) error {
	if c.state == nil || len(c.state.Data) == 0 {
		return nil
	}
	return json.Unmarshal(c.state.Data, v)
}

// SetStep makes the user's next message go to the step handler named step, with data (any JSON-able
// value), for ttl (0: kv.StateTTL). It is saved when the message is done.
func (c *Context) SetStep(step string, data any, ttl time.Duration) error {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		raw = b
	}
	c.newState, c.clearState = &State{Step: step, Data: raw, TTL: ttl}, false
	return nil
}

// ClearStep ends the pending conversation step.
func (c *Context) ClearStep() { c.newState, c.clearState = nil, true }

// IdentityChanged tells the router that this message bound or unbound the user, so the cached identity
// is dropped (on every process: the cache is in Redis).
func (c *Context) IdentityChanged() { c.invalidate = true }
