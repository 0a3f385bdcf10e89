// Package notify tells a member something outside a conversation: an approval's result, an answer to
// his question, a weekly summary, a reminder. WeChat allows two ways: a customer-service message while
// the member is within 48 hours of his last message to the official account, and otherwise a template
// message (when the account has one configured). Tell picks the way and says which it took; callers keep
// their own bookkeeping (claims, retries, stop lists).
package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
)

// How a notice went out.
const (
	ViaText     = "text"     // a customer-service message, inside the 48-hour window
	ViaTemplate = "template" // a template message, outside it
)

// WeChat's answers that say something about the recipient.
const (
	CodeBadOpenID    = 40003
	CodeNotFollowing = 43004
	CodeNoAuth       = 43101 // no subscribe authorization left
	CodeWindowClosed = 45015
	CodeQuotaUsed    = 45047 // the 48-hour window's customer-service messages are used up
)

// ChatWindow is how long after a user's last message WeChat takes customer-service messages to him;
// WindowMargin is kept free of it for the time the send takes and clocks that differ.
const (
	ChatWindow   = 48 * time.Hour
	WindowMargin = 10 * time.Minute
)

// ErrNoWay: the member is outside the 48-hour window and no template message is configured.
var ErrNoWay = errors.New("notify: outside the 48-hour window and no template message configured")

// Sender is the WeChat API (bot/wechat/wxapi.Client): customer-service and template messages.
type Sender interface {
	bot.Sender
	SendTemplate(ctx context.Context, openID, templateID, url string, data map[string]string) (msgID int64, err error)
}

// LastSeen tells when official-account users last wrote (handlers/study.LastMessages).
type LastSeen interface {
	Last(ctx context.Context, channel string, openIDs []string) (map[string]time.Time, error)
}

// Options configure a Notifier.
type Options struct {
	Sender Sender
	// LastSeen tells who wrote within 48 hours; nil: nobody did (every notice is a template).
	LastSeen LastSeen
	// TemplateID is the official account's template message for notices (fields first, keyword1,
	// keyword2, remark); "" = members outside the window cannot be reached (ErrNoWay).
	TemplateID string
	Now        func() time.Time
}

// Notifier sends notices.
type Notifier struct{ o Options }

// New makes a Notifier.
func New(o Options) *Notifier {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Notifier{o: o}
}

// Notice is one thing to tell. Text is the whole message as a chat text; the template message shows
// Title, Kind, Status and Remark instead.
type Notice struct {
	Title  string // first line of the template message, e.g. "请假审批结果"
	Text   string // the message as a customer-service text (phone-sized)
	Kind   string // template keyword1: what it is about
	Status string // template keyword2: its state
	Remark string // template last line, e.g. "回复「考勤」查看"
	URL    string // a link the template message opens ("" = none)
}

// Result is how a notice went: Via is ViaText, ViaTemplate or "" (not sent); Code is WeChat's errcode
// when it refused.
type Result struct {
	Via  string
	Code int64
}

// Tell sends the notice to an official-account openid. err is nil when WeChat took it; otherwise
// Permanent(err) tells whether trying again could help and NotDelivered(err) whether it certainly did not
// arrive (a timeout may have delivered it).
func (n *Notifier) Tell(ctx context.Context, openID string, note Notice) (Result, error) {
	if openID == "" {
		return Result{}, fmt.Errorf("notify: %w", ErrNoWay)
	}
	last, err := n.lastSeen(ctx, openID)
	if err != nil {
		return Result{}, err
	}
	return n.TellSeen(ctx, openID, last, note)
}

// TellSeen is Tell when the caller already knows when the member last wrote (zero: never, or long ago),
// e.g. from one LastSeen call for a whole batch.
func (n *Notifier) TellSeen(ctx context.Context, openID string, last time.Time, note Notice) (Result, error) {
	if !last.IsZero() && n.o.Now().Before(last.Add(ChatWindow-WindowMargin)) {
		err := n.o.Sender.SendReply(ctx, bot.ChannelOA, openID, bot.Text(note.Text))
		code := Code(err)
		if err == nil {
			return Result{Via: ViaText}, nil
		}
		if code != CodeWindowClosed && code != CodeQuotaUsed {
			return Result{Via: ViaText, Code: code}, fmt.Errorf("notify: customer-service message: %w", err)
		}
		// The customer-service way is closed after all: the template's.
	}
	if n.o.TemplateID == "" {
		return Result{}, ErrNoWay
	}
	_, err := n.o.Sender.SendTemplate(ctx, openID, n.o.TemplateID, note.URL, map[string]string{
		"first": note.Title, "keyword1": note.Kind, "keyword2": note.Status, "remark": note.Remark,
	})
	if err != nil {
		return Result{Via: ViaTemplate, Code: Code(err)}, fmt.Errorf("notify: template message: %w", err)
	}
	return Result{Via: ViaTemplate}, nil
}

// LastSeen returns when each of these official-account users last wrote (missing: not within the
// window's memory).
func (n *Notifier) LastSeen(ctx context.Context, openIDs []string) (map[string]time.Time, error) {
	if n.o.LastSeen == nil || len(openIDs) == 0 {
		return map[string]time.Time{}, nil
	}
	last, err := n.o.LastSeen.Last(ctx, bot.ChannelOA, openIDs)
	if err != nil {
		return nil, fmt.Errorf("notify: last messages: %w", err)
	}
	return last, nil
}

func (n *Notifier) lastSeen(ctx context.Context, openID string) (time.Time, error) {
	last, err := n.LastSeen(ctx, []string{openID})
	if err != nil {
		return time.Time{}, err
	}
	return last[openID], nil
}

// Permanent reports whether a failed Tell should not be tried again: WeChat refused for good (the
// person does not follow, a bad openid, no authorization left, ...) or there is no way to reach him.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNoWay) {
		return true
	}
	c := wxapi.Classify(err)
	return c != wxapi.Retryable && c != wxapi.TokenInvalid
}

// AboutPerson reports whether WeChat's refusal code is about the recipient (he unfollowed, his openid is
// wrong, he has no subscribe authorization left): further notices to him will fail until he writes again.
func AboutPerson(code int64) bool {
	return code == CodeBadOpenID || code == CodeNotFollowing || code == CodeNoAuth
}

// NotDelivered reports whether a failed send certainly did not reach the user: WeChat answered with an
// error, or an HTTP error status, or the call never left (no access token, no connection). A timeout is
// not: WeChat may have delivered it.
func NotDelivered(err error) bool {
	var ae *wxapi.APIError
	var te *wxapi.TransportError
	var oe *net.OpError
	switch {
	case errors.Is(err, ErrNoWay), errors.Is(err, wxapi.ErrTokenUnavailable), errors.As(err, &ae):
		return true
	case errors.As(err, &te) && te.Status != 0:
		return true
	case errors.As(err, &oe) && oe.Op == "dial":
		return true
	}
	return false
}

// Code is WeChat's error code in err (0: none, or not WeChat's answer).
func Code(err error) int64 {
	var ae *wxapi.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}
