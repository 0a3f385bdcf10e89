// Package wechat adapts WeChat to the bot: the official-account and mini-program webhooks verify,
// decrypt, normalize, dispatch and encode, and nothing else. Business logic lives behind bot.Router.
//
// The inbound path does not go through the SDK's message server: it parses WeChat's flat XML with a
// purpose-built scanner (wxxml) and uses the SDK's AES routines through wxcrypt, which is several times
// cheaper per message and closes the SDK's gaps (safe-mode `success`, msg_signature on the
// mini-program, echostr, replay window, body limit, a 4xx for every bad input).
package wechat

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxcrypt"
	"github.com/yanzhen/yanzhen/bot/wechat/wxxml"
	"github.com/yanzhen/yanzhen/config"
)

// Dispatcher is what a webhook hands messages to (bot.Router).
type Dispatcher interface {
	Dispatch(ctx context.Context, m *bot.Message) bot.Result
}

// Sender delivers mini-program replies (the push has no passive reply).
type Sender interface {
	SendReply(ctx context.Context, channel, openID string, r *bot.Reply) error
}

// Reasons a request is rejected, as reported to Options.OnReject (a metrics label).
const (
	RejectSignature = "signature"
	RejectStale     = "stale"
	RejectTooLarge  = "too_large"
	RejectMalformed = "malformed"
	RejectAppID     = "appid"
	RejectMethod    = "method"
)

// Options configures a webhook endpoint.
type Options struct {
	Log      *slog.Logger
	Now      func() time.Time
	MaxBody  int64         // default 1 MiB
	MaxSkew  time.Duration // replay window for the timestamp; default 5 minutes
	OnReject func(reason string)
	Sender   Sender // mini-program only
	// Signatures binds a plaintext push's signature to the message it carried (bot.Store.BindSignature):
	// WeChat does not sign plaintext bodies, so a captured query string must not carry another body.
	// nil: not checked (safe mode is not affected: msg_signature covers the body).
	Signatures SignatureBinder
}

// SignatureBinder remembers which message a plaintext signature carried.
type SignatureBinder interface {
	BindSignature(ctx context.Context, channel, sig, msgID string) (bool, error)
}

// Endpoint serves one WeChat app's push URL (/wechat/oa or /wechat/mp).
type Endpoint struct {
	channel string
	token   string
	cipher  *wxcrypt.Cipher
	d       Dispatcher
	opts    Options
	bufs    sync.Pool
}

// NewEndpoint builds the webhook of one app. channel is bot.ChannelOA or bot.ChannelMP.
func NewEndpoint(channel string, app config.WeChatApp, d Dispatcher, opts Options) (*Endpoint, error) {
	c, err := wxcrypt.New(app.AppID, app.AESKey)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 5 * time.Minute
	}
	e := &Endpoint{channel: channel, token: app.Token, cipher: c, d: d, opts: opts}
	e.bufs.New = func() any { return new(bytes.Buffer) }
	return e, nil
}

// httpError is a rejected request: its status, the reason label and a short body.
type httpError struct {
	status int
	reason string
	msg    string
}

func (e *Endpoint) reject(w http.ResponseWriter, r *http.Request, he httpError) {
	if e.opts.OnReject != nil {
		e.opts.OnReject(he.reason)
	}
	e.opts.Log.InfoContext(r.Context(), "wechat: request rejected", "channel", e.channel, "reason", he.reason, "status", he.status)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(he.status)
	io.WriteString(w, he.msg)
}

// ServeHTTP answers WeChat's GET verification and POSTed messages.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		e.reject(w, r, httpError{http.StatusBadRequest, RejectMalformed, "bad query"})
		return
	}
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")
	if !wxcrypt.Equal(q.Get("signature"), wxcrypt.Signature(e.token, timestamp, nonce)) {
		e.reject(w, r, httpError{http.StatusUnauthorized, RejectSignature, "bad signature"})
		return
	}
	if he, ok := e.checkTimestamp(timestamp); !ok {
		e.reject(w, r, he)
		return
	}
	switch r.Method {
	case http.MethodGet:
		// Server verification: echo echostr as it came.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, q.Get("echostr"))
	case http.MethodPost:
		e.servePost(w, r, q, timestamp, nonce)
	default:
		e.reject(w, r, httpError{http.StatusMethodNotAllowed, RejectMethod, "method not allowed"})
	}
}

func (e *Endpoint) checkTimestamp(ts string) (httpError, bool) {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return httpError{http.StatusForbidden, RejectStale, "bad timestamp"}, false
	}
	skew := e.opts.Now().Sub(time.Unix(sec, 0))
	if skew > e.opts.MaxSkew || skew < -e.opts.MaxSkew {
		return httpError{http.StatusForbidden, RejectStale, "stale timestamp"}, false
	}
	return httpError{}, true
}

func (e *Endpoint) servePost(w http.ResponseWriter, r *http.Request, q url.Values, timestamp, nonce string) {
	buf := e.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			e.bufs.Put(buf)
		}
	}()
	if r.ContentLength > e.opts.MaxBody {
		e.reject(w, r, httpError{http.StatusRequestEntityTooLarge, RejectTooLarge, "body too large"})
		return
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, e.opts.MaxBody+1)); err != nil {
		e.reject(w, r, httpError{http.StatusBadRequest, RejectMalformed, "cannot read body"})
		return
	}
	if int64(buf.Len()) > e.opts.MaxBody {
		e.reject(w, r, httpError{http.StatusRequestEntityTooLarge, RejectTooLarge, "body too large"})
		return
	}
	body := buf.Bytes()
	isJSON := looksJSON(body)
	encrypted := q.Get("encrypt_type") == "aes"

	msg := &bot.Message{Channel: e.channel}
	if encrypted {
		var (
			enc string
			err error
		)
		if isJSON {
			enc, _, err = wxxml.ParseJSONEnvelope(body)
		} else {
			enc, _, err = wxxml.ParseEnvelope(body)
		}
		if err != nil {
			e.reject(w, r, httpError{http.StatusBadRequest, RejectMalformed, "malformed envelope"})
			return
		}
		if !wxcrypt.Equal(q.Get("msg_signature"), wxcrypt.Signature(e.token, timestamp, nonce, enc)) {
			e.reject(w, r, httpError{http.StatusUnauthorized, RejectSignature, "bad msg_signature"})
			return
		}
		plain, err := e.cipher.Decrypt(enc)
		switch {
		case errors.Is(err, wxcrypt.ErrAppID):
			e.reject(w, r, httpError{http.StatusUnauthorized, RejectAppID, "wrong appid"})
			return
		case err != nil:
			e.reject(w, r, httpError{http.StatusBadRequest, RejectMalformed, "cannot decrypt"})
			return
		}
		body = plain
		isJSON = looksJSON(body)
	}
	var err error
	if isJSON {
		err = wxxml.ParseJSONMessage(body, msg)
	} else {
		err = wxxml.ParseMessage(body, msg)
	}
	if err != nil || msg.OpenID == "" || msg.Kind == "" {
		e.reject(w, r, httpError{http.StatusBadRequest, RejectMalformed, "malformed message"})
		return
	}
	if !encrypted && e.opts.Signatures != nil {
		ok, err := e.opts.Signatures.BindSignature(r.Context(), e.channel, q.Get("signature"), msg.DedupID())
		switch {
		case err != nil:
			// Redis is down: the dispatch below fails the same way and tells the user to try again.
			e.opts.Log.WarnContext(r.Context(), "wechat: signature not checked", "err", err)
		case !ok:
			e.reject(w, r, httpError{http.StatusUnauthorized, RejectSignature, "signature already used for another message"})
			return
		}
	}

	res := e.d.Dispatch(r.Context(), msg)

	if e.channel == bot.ChannelMP {
		// The mini-program push has no passive reply: acknowledge, then answer through customer service.
		if res.Reply != nil && !res.DedupHit && e.opts.Sender != nil {
			go e.sendLater(r.Context(), msg.OpenID, res.Reply)
		}
		writeSuccess(w)
		return
	}
	if res.Reply == nil {
		writeSuccess(w) // safe mode too: WeChat shows an encrypted empty envelope as a fault
		return
	}
	out := wxxml.AppendReply(make([]byte, 0, 512), msg.OpenID, msg.AppUser, e.opts.Now().Unix(), res.Reply)
	if encrypted {
		enc, err := e.cipher.Encrypt(out)
		if err != nil {
			e.opts.Log.ErrorContext(r.Context(), "wechat: encrypt reply", "err", err)
			writeSuccess(w)
			return
		}
		ts := e.opts.Now().Unix()
		n := randomNonce()
		sig := wxcrypt.Signature(e.token, strconv.FormatInt(ts, 10), n, enc)
		out = wxxml.AppendEncryptedReply(out[:0], enc, sig, ts, n)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Write(out)
}

func (e *Endpoint) sendLater(ctx context.Context, openID string, reply *bot.Reply) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := e.opts.Sender.SendReply(ctx, e.channel, openID, reply); err != nil {
		e.opts.Log.WarnContext(ctx, "wechat: mini-program reply not delivered", "err", err)
	}
}

func writeSuccess(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "success")
}

func looksJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// randomNonce is a 10-digit nonce like WeChat's.
func randomNonce() string {
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}
