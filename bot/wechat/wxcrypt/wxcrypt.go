// Package wxcrypt implements WeChat's message signatures and the WXBizMsgCrypt AES scheme used in safe
// (and compatible) mode, on top of the SDK's AES routines, with the key decoded once.
package wxcrypt

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/silenceper/wechat/v2/util"
)

// ErrAppID: the message decrypted, but it was encrypted for another app.
var ErrAppID = errors.New("wxcrypt: message is for another appid")

// ErrCipher: the ciphertext is not valid base64 / AES-CBC / WXBizMsgCrypt framing.
var ErrCipher = errors.New("wxcrypt: cannot decrypt message")

// Signature is WeChat's SHA-1 over the sorted, concatenated parts: (token, timestamp, nonce) for the
// plain `signature`, plus the Encrypt field for `msg_signature`.
func Signature(parts ...string) string {
	sorted := make([]string, len(parts))
	copy(sorted, parts)
	sort.Strings(sorted)
	h := sha1.New()
	for _, p := range sorted {
		h.Write([]byte(p))
	}
	var sum [sha1.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Equal compares two signatures in constant time.
func Equal(got, want string) bool {
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Cipher encrypts and decrypts one app's messages.
type Cipher struct {
	appID string
	key   []byte
}

// New decodes the 43-character EncodingAESKey.
func New(appID, encodingAESKey string) (*Cipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("wxcrypt: EncodingAESKey must be 43 characters")
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("wxcrypt: EncodingAESKey is not base64 of 32 bytes")
	}
	return &Cipher{appID: appID, key: key}, nil
}

// AppID is the app this cipher belongs to.
func (c *Cipher) AppID() string { return c.appID }

// Decrypt opens a base64 Encrypt field and checks that it was sealed for this app.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	msg, appID, err := c.Open(encrypted)
	if err != nil {
		return nil, err
	}
	if appID != c.appID {
		return nil, ErrAppID
	}
	return msg, nil
}

// Open decrypts without checking the appid, returning it (used by tests with foreign vectors).
func (c *Cipher) Open(encrypted string) (msg []byte, appID string, err error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) == 0 || len(raw)%16 != 0 {
		return nil, "", ErrCipher
	}
	_, msg, app, err := util.AESDecryptMsg(raw, c.key)
	if err != nil {
		return nil, "", ErrCipher
	}
	return msg, string(app), nil
}

// Encrypt seals msg for this app with a fresh random prefix and returns the base64 Encrypt field.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return c.EncryptWithRandom(msg, random[:]), nil
}

// EncryptWithRandom is Encrypt with a given 16-byte random prefix (for reproducible test vectors).
func (c *Cipher) EncryptWithRandom(msg, random []byte) string {
	return base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, msg, c.appID, c.key))
}
