package wxapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
)

// APIError is an error code WeChat answered (errcode ≠ 0).
type APIError struct {
	API  string // the path, e.g. "/cgi-bin/message/custom/send"
	Code int64
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// TransportError is a call that got no WeChat answer: a network error or timeout (Status 0), an HTTP
// status other than 200, or a body that is not WeChat's JSON. Its message never holds the URL, which
// carries the access token or the app secret.
type TransportError struct {
	API    string
	Status int // 0: no HTTP response
	Err    error
}

func (e *TransportError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("wechat %s: http status %d", e.API, e.Status)
	}
	return fmt.Sprintf("wechat %s: %v", e.API, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// ErrTokenUnavailable wraps every failure to get an access token: WeChat refused or failed (the
// *APIError is wrapped too), Redis unreachable, another process holding the refresh lock too long.
var ErrTokenUnavailable = errors.New("wechat access token unavailable")

// Class says what a caller should do about a failed call.
type Class int

// Classes. Classify(nil) is 0.
const (
	// Permanent: retrying will not help (the user unsubscribed, the 48-hour window closed, no
	// subscription left, a bad openid, template or argument, an unauthorized API, unknown codes).
	Permanent Class = iota + 1
	// Retryable: try again later (WeChat busy, a quota or rate limit, network errors and timeouts,
	// HTTP 5xx, no access token to be had).
	Retryable
	// TokenInvalid: the access token was rejected. The Client already refreshed it and retried once.
	TokenInvalid
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Retryable:
		return "retryable"
	case TokenInvalid:
		return "token"
	}
	return "ok"
}

// Classify tells a caller whether err is worth retrying. errors.As(err, **APIError) gives the code.
//
// A failure to get an access token is Retryable whatever the code (a wrong secret or an IP not on the
// whitelist included): it says nothing about the message or its recipient, and the caller's retry
// limit ends it.
func Classify(err error) Class {
	if err == nil {
		return 0
	}
	if errors.Is(err, ErrTokenUnavailable) {
		return Retryable
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return classifyCode(ae.Code)
	}
	var te *TransportError
	if errors.As(err, &te) {
		if te.Status == 0 || te.Status >= 500 || te.Status == 429 {
			return Retryable
		}
		return Permanent
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || errors.As(err, &ne) {
		return Retryable
	}
	return Permanent
}

func classifyCode(code int64) Class {
	switch code {
	case -1, // system busy
		45009, // daily API quota used up
		45011, // API calls too frequent
		45047: // customer-service message quota used up
		return Retryable
	case 40001, // invalid or not-latest access token
		40014, // invalid access token
		42001: // expired access token
		return TokenInvalid
	}
	// 43004 unsubscribed, 43101 no subscription left, 40003 invalid openid, 45015 window closed,
	// 40037 bad template, 47003 bad argument, 48001 unauthorized, and anything unknown.
	return Permanent
}

var statusRe = regexp.MustCompile(`statusCode=(\d+)`)

// transportError turns an error from the SDK's HTTP helpers into a *TransportError without the URL:
// *url.Error and the SDK's "statusCode=N" strings both quote it, token or secret included.
func transportError(api string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &TransportError{API: api, Err: ue.Err}
	}
	if m := statusRe.FindStringSubmatch(err.Error()); m != nil {
		st, _ := strconv.Atoi(m[1])
		return &TransportError{API: api, Status: st}
	}
	// The rest (a body cut short, a timeout while reading it) does not quote the URL.
	return &TransportError{API: api, Err: err}
}
