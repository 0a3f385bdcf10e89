// Package linktoken signs the short tokens that members' links carry: a survey's H5 form (/s/TOKEN),
// a notice's page (/n/TOKEN) and the state of the official account's web OAuth. A token names two ids
// (what it is for and whom) and an expiry, signed with HMAC-SHA256: whoever holds the link acts as that
// member until it expires, so the pages need no login.
//
// Token: base64url(kind byte, uvarint id, uvarint member, uvarint expiry unix seconds) "."
// base64url(first 16 bytes of the MAC). The kind is signed with the rest, so a token made for one
// purpose is refused for another. Kind 1 is the survey form's original format: links sent before this
// package existed still open.
package linktoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Kind is what a token is for.
type Kind byte

// Kinds of tokens.
const (
	Survey Kind = 1 // a survey's form: id = the survey, member = who answers
	Notice Kind = 2 // a notice's page: id = the broadcast, member = its recipient
	OAuth  Kind = 3 // the state of a web OAuth round trip: id = the survey, member = a random nonce
)

// Errors of Parse.
var (
	ErrBad     = errors.New("linktoken: the link is not valid")
	ErrExpired = errors.New("linktoken: the link has expired")
)

// MaxLen is the longest token Parse looks at (real ones are under 60 characters).
const MaxLen = 128

// Key derives the key that signs the links from the official account's secrets (the configuration has
// no secret of its own): HMAC-SHA256 keyed by "yanzhen survey link" over the app secret and the
// EncodingAESKey. Changing either invalidates the links sent so far.
func Key(appSecret, aesKey string) []byte {
	m := hmac.New(sha256.New, []byte("yanzhen survey link"))
	m.Write([]byte(appSecret))
	m.Write([]byte{0})
	m.Write([]byte(aesKey))
	return m.Sum(nil)
}

// Signer signs and checks tokens with one key. A Signer with no key refuses every token.
type Signer struct {
	key []byte
	now func() time.Time
}

// New makes a signer; now nil is time.Now.
func New(key []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

func (s *Signer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// Sign makes a token of kind k for id and member, valid until expires.
func (s *Signer) Sign(k Kind, id, member uint, expires time.Time) string {
	buf := make([]byte, 0, 1+3*binary.MaxVarintLen64)
	buf = append(buf, byte(k))
	buf = binary.AppendUvarint(buf, uint64(id))
	buf = binary.AppendUvarint(buf, uint64(member))
	buf = binary.AppendUvarint(buf, uint64(max(expires.Unix(), 0)))
	enc := base64.RawURLEncoding
	return enc.EncodeToString(buf) + "." + enc.EncodeToString(s.mac(buf))
}

// Parse checks a token of kind k: ErrBad when it is malformed, of another kind or its signature is
// wrong; ErrExpired (with the ids) when it is genuine but past its expiry.
func (s *Signer) Parse(k Kind, tok string) (id, member uint, err error) {
	if s == nil || len(tok) > MaxLen {
		return 0, 0, ErrBad
	}
	enc := base64.RawURLEncoding
	body, sig, ok := cut(tok)
	if !ok {
		return 0, 0, ErrBad
	}
	payload, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || len(s.key) == 0 || !hmac.Equal(mac, s.mac(payload)) {
		return 0, 0, ErrBad
	}
	if len(payload) < 4 || payload[0] != byte(k) {
		return 0, 0, ErrBad
	}
	rest := payload[1:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return 0, 0, ErrBad
		}
		vals[i], rest = v, rest[n:]
	}
	if len(rest) != 0 || vals[0] == 0 || vals[1] == 0 || vals[0] > 1<<32 || vals[1] > 1<<32 {
		return 0, 0, ErrBad
	}
	id, member = uint(vals[0]), uint(vals[1])
	if !s.now().Before(time.Unix(int64(vals[2]), 0)) {
		return id, member, ErrExpired
	}
	return id, member, nil
}

// cut splits a token at its one dot; false when either side is empty.
func cut(tok string) (string, string, bool) {
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			return tok[:i], tok[i+1:], i > 0 && i < len(tok)-1
		}
	}
	return "", "", false
}
