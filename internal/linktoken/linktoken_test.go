package linktoken

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSignParse: a token round-trips for its own kind only, is refused with another key, altered, or
// when longer than MaxLen, and expires (keeping its ids); a signer with no key, or none at all,
// refuses everything.
func TestSignParse(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s := New(Key("secret", "aes"), func() time.Time { return now })
	tok := s.Sign(Notice, 7, 42, now.Add(time.Hour))
	if id, m, err := s.Parse(Notice, tok); err != nil || id != 7 || m != 42 {
		t.Fatalf("round trip: %d %d %v", id, m, err)
	}
	for _, k := range []Kind{Survey, OAuth, 9} {
		if _, _, err := s.Parse(k, tok); !errors.Is(err, ErrBad) {
			t.Errorf("a notice token taken as kind %d: %v", k, err)
		}
	}
	if _, _, err := New(Key("secret2", "aes"), nil).Parse(Notice, tok); !errors.Is(err, ErrBad) {
		t.Fatalf("another key: %v", err)
	}
	body, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	raw[0] = byte(Survey) // the kind changed under the old signature
	for _, bad := range []string{"", ".", "a.", ".b", tok[:len(tok)-1], "x" + tok, strings.Replace(tok, ".", "", 1), tok + "." + tok,
		base64.RawURLEncoding.EncodeToString(raw) + "." + sig, strings.Repeat("a", MaxLen) + "." + sig,
		s.Sign(Notice, 0, 42, now.Add(time.Hour)), s.Sign(Notice, 7, 0, now.Add(time.Hour)), s.Sign(Notice, 1<<32+1, 1, now.Add(time.Hour))} {
		if _, _, err := s.Parse(Notice, bad); !errors.Is(err, ErrBad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, _, err := s.Parse(Survey, s.Sign(Notice, 7, 42, now.Add(time.Hour))); !errors.Is(err, ErrBad) {
		t.Fatalf("kind: %v", err)
	}
	now = now.Add(time.Hour)
	if id, m, err := s.Parse(Notice, tok); !errors.Is(err, ErrExpired) || id != 7 || m != 42 {
		t.Fatalf("expired: %d %d %v", id, m, err)
	}
	if _, _, err := New(nil, nil).Parse(Notice, tok); !errors.Is(err, ErrBad) {
		t.Fatalf("no key: %v", err)
	}
	var none *Signer
	if _, _, err := none.Parse(Notice, tok); !errors.Is(err, ErrBad) {
		t.Fatalf("no signer: %v", err)
	}
}

// TestSurveyTokensUnchanged: the survey form's tokens keep the format they had before this package
// (version byte 1, the same key), so links already sent still open.
func TestSurveyTokensUnchanged(t *testing.T) {
	exp := time.Unix(1795000000, 0)
	s := New(Key("oa-secret", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"), func() time.Time { return exp.Add(-time.Hour) })
	const old = "AQeFA8CN9tcG.sB9MDM4TbfbVpS9KEOORXg" // survey 7, member 389, made by the former survey/link.go
	if id, m, err := s.Parse(Survey, old); err != nil || id != 7 || m != 389 {
		t.Fatalf("a link made before: %d %d %v", id, m, err)
	}
	if got := s.Sign(Survey, 7, 389, exp); got != old {
		t.Fatalf("Sign = %q, want %q", got, old)
	}
}
