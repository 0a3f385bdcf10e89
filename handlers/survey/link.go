package survey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// The H5 form's link names the survey and the member in a token signed with HMAC-SHA256: whoever
// holds the link answers as that member, until it expires. Token: base64url(version 1, uvarint
// survey, uvarint member, uvarint expiry unix seconds) "." base64url(first 16 bytes of the MAC).

// Link token errors.
var (
	ErrBadLink     = errors.New("survey: the link is not valid")
	ErrExpiredLink = errors.New("survey: the link has expired")
)

const tokenVersion = 1

// LinkKey derives the key that signs the form's links from the official account's secrets (the
// configuration has no secret of its own): HMAC-SHA256 keyed by "yanzhen survey link" over the app
// secret and the EncodingAESKey. Changing either invalidates the links sent so far.
func LinkKey(appSecret, aesKey string) []byte {
	m := hmac.New(sha256.New, []byte("yanzhen survey link"))
	m.Write([]byte(appSecret))
	m.Write([]byte{0})
	m.Write([]byte(aesKey))
	return m.Sum(nil)
}

func (s *Service) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// Token signs a link token for a member to answer a survey until expires.
func (s *Service) Token(surveyID, memberID uint, expires time.Time) string {
	buf := make([]byte, 0, 1+3*binary.MaxVarintLen64)
	buf = append(buf, tokenVersion)
	buf = binary.AppendUvarint(buf, uint64(surveyID))
	buf = binary.AppendUvarint(buf, uint64(memberID))
	buf = binary.AppendUvarint(buf, uint64(max(expires.Unix(), 0)))
	enc := base64.RawURLEncoding
	return enc.EncodeToString(buf) + "." + enc.EncodeToString(s.mac(buf))
}

// LinkFor is the H5 form's address for one member: the notification of a survey carries it, so that
// every recipient opens the form as himself.
func (s *Service) LinkFor(surveyID, memberID uint, expires time.Time) string {
	return s.baseURL + "/s/" + s.Token(surveyID, memberID, expires)
}

// ParseToken checks a link token: ErrBadLink when it is malformed or its signature is wrong,
// ErrExpiredLink (with the ids) when it is genuine but past its expiry.
func (s *Service) ParseToken(tok string) (surveyID, memberID uint, err error) {
	if len(tok) > 128 {
		return 0, 0, ErrBadLink
	}
	enc := base64.RawURLEncoding
	body, sig, ok := cut(tok)
	if !ok {
		return 0, 0, ErrBadLink
	}
	payload, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || len(s.key) == 0 || !hmac.Equal(mac, s.mac(payload)) {
		return 0, 0, ErrBadLink
	}
	if len(payload) < 4 || payload[0] != tokenVersion {
		return 0, 0, ErrBadLink
	}
	rest := payload[1:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return 0, 0, ErrBadLink
		}
		vals[i], rest = v, rest[n:]
	}
	if len(rest) != 0 || vals[0] == 0 || vals[1] == 0 || vals[0] > 1<<32 || vals[1] > 1<<32 {
		return 0, 0, ErrBadLink
	}
	surveyID, memberID = uint(vals[0]), uint(vals[1])
	if !s.now().Before(time.Unix(int64(vals[2]), 0)) {
		return surveyID, memberID, ErrExpiredLink
	}
	return surveyID, memberID, nil
}

func cut(tok string) (string, string, bool) {
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			return tok[:i], tok[i+1:], i > 0 && i < len(tok)-1
		}
	}
	return "", "", false
}
