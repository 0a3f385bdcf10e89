// Package wxclient plays WeChat's side of a webhook: it builds pushes exactly as WeChat sends them
// (signed query, plaintext, compatible or safe mode, XML or the mini-program's JSON), posts them, and
// checks and decrypts the passive reply. End-to-end tests, `yanzhen sim` and the load generator use it.
//
// A Client is immutable after New and safe for concurrent use; EncodeTo reuses a Request's buffers, so
// a load generator can build each request without garbage beyond the encryption itself.
package wxclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxcrypt"
	"github.com/yanzhen/yanzhen/bot/wechat/wxxml"
)

// Mode is WeChat's message encryption mode (消息加解密方式).
type Mode int

// Modes.
const (
	Plain  Mode = iota // 明文模式: no encryption
	Compat             // 兼容模式: plaintext fields and Encrypt side by side
	Safe               // 安全模式: only Encrypt
)

func (m Mode) String() string {
	switch m {
	case Plain:
		return "plain"
	case Compat:
		return "compat"
	case Safe:
		return "safe"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode reads "plain", "compat" or "safe".
func ParseMode(s string) (Mode, error) {
	for m := Plain; m <= Safe; m++ {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("wxclient: unknown mode %q (plain, compat, safe)", s)
}

// Format is the body format: XML always for the official account; XML or JSON for the mini-program.
type Format int

// Formats.
const (
	XML Format = iota
	JSON
)

// Config describes the app a Client pushes to.
type Config struct {
	URL     string // the push URL, e.g. http://127.0.0.1:8080/wechat/oa
	AppID   string
	Token   string
	AESKey  string // the 43-character EncodingAESKey; required in Compat and Safe modes
	AppUser string // the account's original id (ToUserName), e.g. gh_…
	Mode    Mode
	Format  Format
	HTTP    *http.Client     // default http.DefaultClient
	Now     func() time.Time // default time.Now; an old clock makes stale requests
	MsgIDs  *Sequence        // default NewSequence(0)
}

// Client sends pushes to one app's webhook. Its configuration is read by New; make another Client to
// change it.
type Client struct {
	Config
	cipher *wxcrypt.Cipher // nil in Plain mode without a key
}

// New checks the configuration and decodes the AES key once.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("wxclient: URL is empty")
	}
	if cfg.Mode < Plain || cfg.Mode > Safe || cfg.Format < XML || cfg.Format > JSON {
		return nil, fmt.Errorf("wxclient: bad mode %v or format %d", cfg.Mode, cfg.Format)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MsgIDs == nil {
		cfg.MsgIDs = NewSequence(0)
	}
	c := &Client{Config: cfg}
	if cfg.Mode != Plain || cfg.AESKey != "" {
		ci, err := wxcrypt.New(cfg.AppID, cfg.AESKey)
		if err != nil {
			return nil, err
		}
		c.cipher = ci
	}
	return c, nil
}

func (c *Client) now() time.Time { return c.Now() }

// Request is one encoded push. EncodeTo reuses its buffers.
type Request struct {
	Query     string // the raw query: signature, timestamp, nonce, openid[, encrypt_type, msg_signature]
	Body      []byte // what is posted
	Plain     []byte // the plaintext message (in Plain mode the same bytes as Body)
	Timestamp string
	Nonce     string
	Encrypt   string // the Encrypt field (Compat and Safe modes)
	JSON      bool   // Body is JSON
}

// Option changes how one request is built, to make the bad requests tests need.
type Option func(*options)

type options struct {
	badSignature, badMsgSignature bool
	time                          time.Time
	nonce                         string
	body, plain                   []byte
	appID                         string
}

// WithBadSignature corrupts the `signature` parameter.
func WithBadSignature() Option { return func(o *options) { o.badSignature = true } }

// WithBadMsgSignature corrupts the `msg_signature` parameter (Compat and Safe modes).
func WithBadMsgSignature() Option { return func(o *options) { o.badMsgSignature = true } }

// WithTime stamps the request (timestamp parameter) with t instead of the client's clock.
func WithTime(t time.Time) Option { return func(o *options) { o.time = t } }

// WithNonce uses the given nonce.
func WithNonce(nonce string) Option { return func(o *options) { o.nonce = nonce } }

// WithPlain replaces the plaintext message with b, which is then encrypted and signed as usual.
func WithPlain(b []byte) Option { return func(o *options) { o.plain = b } }

// WithBody posts b as the body, whatever the message and mode (the query is still signed as usual).
func WithBody(b []byte) Option { return func(o *options) { o.body = b } }

// WithAppID encrypts the message as if for another app (same key).
func WithAppID(appID string) Option { return func(o *options) { o.appID = appID } }

// Encode builds the request for msg.
func (c *Client) Encode(msg *Message, opts ...Option) (*Request, error) {
	r := new(Request)
	if err := c.EncodeTo(r, msg, opts...); err != nil {
		return nil, err
	}
	return r, nil
}

// EncodeTo builds the request for msg into r, reusing its buffers.
func (c *Client) EncodeTo(r *Request, msg *Message, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	now := o.time
	if now.IsZero() {
		now = c.now()
	}
	toUser := msg.ToUserName
	if toUser == "" {
		toUser = c.AppUser
	}
	createTime := msg.CreateTime
	if createTime == 0 {
		createTime = now.Unix()
	}
	r.JSON = c.Format == JSON
	r.Timestamp = strconv.FormatInt(now.Unix(), 10)
	r.Nonce = o.nonce
	if r.Nonce == "" {
		r.Nonce = strconv.FormatUint(1_000_000_000+rand.Uint64N(9_000_000_000), 10)
	}

	var err error
	if o.plain != nil {
		r.Plain = append(r.Plain[:0], o.plain...)
	} else if r.JSON {
		r.Plain, err = msg.appendJSON(r.Plain[:0], toUser, createTime)
	} else {
		r.Plain = msg.appendXML(r.Plain[:0], toUser, createTime)
	}
	if err != nil {
		return err
	}

	r.Encrypt = ""
	switch c.Mode {
	case Plain:
		r.Body = append(r.Body[:0], r.Plain...)
	case Compat, Safe:
		cipher := c.cipher
		if o.appID != "" {
			if cipher, err = wxcrypt.New(o.appID, c.AESKey); err != nil {
				return err
			}
		}
		if r.Encrypt, err = cipher.Encrypt(r.Plain); err != nil {
			return err
		}
		r.Body = r.Body[:0]
		if c.Mode == Compat {
			r.Body = appendCompat(r.Body, r.Plain, r.Encrypt, r.JSON)
		}
		if len(r.Body) == 0 { // safe mode, or a plaintext compatible mode cannot extend
			r.Body = appendEnvelope(r.Body, toUser, r.Encrypt, r.JSON)
		}
	}
	if o.body != nil {
		r.Body = append(r.Body[:0], o.body...)
	}

	signature := wxcrypt.Signature(c.Token, r.Timestamp, r.Nonce)
	if o.badSignature {
		signature = corrupt(signature)
	}
	q := make([]byte, 0, 192)
	q = append(q, "signature="...)
	q = append(q, signature...)
	q = append(q, "&timestamp="...)
	q = append(q, r.Timestamp...)
	q = append(q, "&nonce="...)
	q = append(q, r.Nonce...)
	q = append(q, "&openid="...)
	q = append(q, url.QueryEscape(msg.FromUserName)...)
	if c.Mode != Plain {
		msgSignature := wxcrypt.Signature(c.Token, r.Timestamp, r.Nonce, r.Encrypt)
		if o.badMsgSignature {
			msgSignature = corrupt(msgSignature)
		}
		q = append(q, "&encrypt_type=aes&msg_signature="...)
		q = append(q, msgSignature...)
	}
	r.Query = string(q)
	return nil
}

// appendEnvelope appends the safe-mode body.
func appendEnvelope(dst []byte, toUser, encrypt string, isJSON bool) []byte {
	if isJSON {
		to, _ := json.Marshal(toUser)
		dst = append(dst, `{"ToUserName":`...)
		dst = append(dst, to...)
		dst = append(dst, `,"Encrypt":"`...)
		dst = append(dst, encrypt...) // base64 needs no escaping
		return append(dst, `"}`...)
	}
	dst = append(dst, "<xml><ToUserName>"...)
	dst = wxxml.AppendCDATA(dst, toUser)
	dst = append(dst, "</ToUserName><Encrypt>"...)
	dst = wxxml.AppendCDATA(dst, encrypt)
	return append(dst, "</Encrypt></xml>"...)
}

// appendCompat appends the compatible-mode body: the plaintext message with Encrypt added as its last
// field. It appends nothing if plain does not end as a message does.
func appendCompat(dst, plain []byte, encrypt string, isJSON bool) []byte {
	p := bytes.TrimRight(plain, " \t\r\n")
	if isJSON {
		if !bytes.HasSuffix(p, []byte("}")) {
			return dst
		}
		dst = append(dst, p[:len(p)-1]...)
		dst = append(dst, `,"Encrypt":"`...)
		dst = append(dst, encrypt...)
		return append(dst, `"}`...)
	}
	if !bytes.HasSuffix(p, []byte("</xml>")) {
		return dst
	}
	dst = append(dst, p[:len(p)-len("</xml>")]...)
	dst = append(dst, "<Encrypt>"...)
	dst = wxxml.AppendCDATA(dst, encrypt)
	return append(dst, "</Encrypt></xml>"...)
}

// corrupt changes the first hex digit of a signature.
func corrupt(sig string) string {
	if sig == "" || sig[0] == '0' {
		return "1" + sig[min(1, len(sig)):]
	}
	return "0" + sig[1:]
}

// Result is what came back from one push.
type Result struct {
	Status   int
	Request  *Request
	Response []byte             // the raw response body
	Reply    *wxxml.ParsedReply // nil: no reply (`success` or an empty body) or not a 200
	ReplyXML []byte             // the reply's plaintext XML, decrypted if it came encrypted
	Latency  time.Duration      // from sending to the end of the response body
	Header   http.Header        // the response headers
}

// Errors about the reply. Send returns them together with the Result.
var (
	ErrReply          = errors.New("wxclient: the reply is not what WeChat accepts")
	ErrReplySignature = errors.New("wxclient: the reply's MsgSignature does not verify")
)

// Send encodes msg, posts it and reads the reply.
func (c *Client) Send(ctx context.Context, msg *Message, opts ...Option) (*Result, error) {
	r, err := c.Encode(msg, opts...)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, r)
}

// Do posts an encoded request and reads the reply. An HTTP status other than 200 is no error: see
// Result.Status. A 200 whose body is neither `success`, empty, nor a valid reply (in Compat and Safe
// modes: encrypted, with a MsgSignature that verifies, for this appid) gives ErrReply or
// ErrReplySignature, with the Result.
func (c *Client) Do(ctx context.Context, r *Request) (*Result, error) {
	u := c.URL + sep(c.URL) + r.Query
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	if r.JSON {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "text/xml")
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	res := &Result{Status: resp.StatusCode, Request: r, Response: body, Latency: time.Since(start), Header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		return res, nil
	}
	return res, c.decodeReply(res)
}

func (c *Client) decodeReply(res *Result) error {
	body := bytes.TrimSpace(res.Response)
	if len(body) == 0 || string(body) == "success" {
		return nil
	}
	enc, sig, ts, nonce, err := wxxml.ParseEncryptedReply(body)
	switch {
	case err == nil && c.Mode == Plain:
		return fmt.Errorf("%w: an encrypted reply in plaintext mode", ErrReply)
	case err == nil:
		if !wxcrypt.Equal(sig, wxcrypt.Signature(c.Token, ts, nonce, enc)) {
			return ErrReplySignature
		}
		plain, err := c.cipher.Decrypt(enc)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrReply, err)
		}
		res.ReplyXML = plain
	case c.Mode == Safe:
		return fmt.Errorf("%w: not an encrypted reply in safe mode: %v", ErrReply, err)
	default:
		res.ReplyXML = body
	}
	p, err := wxxml.ParseReply(res.ReplyXML)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrReply, err)
	}
	res.Reply = p
	return nil
}

// Verify makes WeChat's server-verification request (GET with signature, timestamp, nonce, echostr)
// and returns the response body and status. The server passes when the body equals echostr.
func (c *Client) Verify(ctx context.Context, echostr string, opts ...Option) (string, int, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	now := o.time
	if now.IsZero() {
		now = c.now()
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := o.nonce
	if nonce == "" {
		nonce = strconv.FormatUint(1_000_000_000+rand.Uint64N(9_000_000_000), 10)
	}
	signature := wxcrypt.Signature(c.Token, ts, nonce)
	if o.badSignature {
		signature = corrupt(signature)
	}
	q := url.Values{"signature": {signature}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+sep(c.URL)+q.Encode(), nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body), resp.StatusCode, err
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}
