package study

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/notify"
)

// TestNotDelivered: a reminder is retried only when WeChat certainly did not take it; a call that got
// no answer may have been delivered, and is not retried (never two reminders). The rule is package
// notify's (remindOne asks notify.NotDelivered); these are the cases the reminder relies on.
func TestNotDelivered(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"WeChat busy", &wxapi.APIError{API: wxapi.APICustomSend, Code: -1}, true},
		{"quota", fmt.Errorf("send: %w", &wxapi.APIError{Code: 45009}), true},
		{"no token", fmt.Errorf("%w: redis down", wxapi.ErrTokenUnavailable), true},
		{"http 503", &wxapi.TransportError{API: wxapi.APICustomSend, Status: 503}, true},
		{"connection refused", &wxapi.TransportError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true},
		{"timeout", &wxapi.TransportError{Err: context.DeadlineExceeded}, false},
		{"reset while reading", &wxapi.TransportError{Err: &net.OpError{Op: "read", Err: errors.New("connection reset")}}, false},
	} {
		if got := notify.NotDelivered(c.err); got != c.want {
			t.Errorf("%s: NotDelivered = %v, want %v", c.name, got, c.want)
		}
	}
}
