package wxcrypt

import (
	"bytes"
	"strings"
	"testing"
)

// Tencent's published WXBizMsgCrypt sample: an independent vector, not produced by this code.
const (
	vecToken     = "spamtest"
	vecKey       = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	vecAppID     = "wx2c2769f8efd9abc2"
	vecTimestamp = "1409735669"
	vecNonce     = "1320562132"
	vecMsgSig    = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
	vecEncrypt   = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)

func TestOfficialVector(t *testing.T) {
	if got := Signature(vecToken, vecTimestamp, vecNonce, vecEncrypt); got != vecMsgSig {
		t.Fatalf("msg_signature = %s, want %s", got, vecMsgSig)
	}
	c, err := New(vecAppID, vecKey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Decrypt(vecEncrypt)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	for _, want := range []string{
		"<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>",
		"<Content><![CDATA[abcdteT]]></Content>",
		"<MsgId>6054768590064713728</MsgId>",
		"<MsgType><![CDATA[text]]></MsgType>",
	} {
		if !bytes.Contains(msg, []byte(want)) {
			t.Errorf("decrypted message lacks %s:\n%s", want, msg)
		}
	}
	other, _ := New("wxsomeoneelse00000", vecKey)
	if _, err := other.Decrypt(vecEncrypt); err != ErrAppID {
		t.Fatalf("decrypt for another app: err = %v, want ErrAppID", err)
	}
}

func TestRoundTripAndBadInput(t *testing.T) {
	c, _ := New("wxapp", vecKey)
	for _, msg := range []string{"", "a", strings.Repeat("消息", 1000)} {
		enc, err := c.Encrypt([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || string(got) != msg {
			t.Fatalf("round trip of %d bytes: %q, %v", len(msg), got, err)
		}
	}
	for _, bad := range []string{"", "!!!", "AAAA", strings.Repeat("A", 64), vecEncrypt[:len(vecEncrypt)-8] + "AAAAAAA="} {
		if _, err := c.Decrypt(bad); err == nil {
			t.Errorf("Decrypt(%q) succeeded", bad)
		}
	}
	if _, err := New("x", "short"); err == nil {
		t.Error("New accepted a short key")
	}
}

func FuzzDecrypt(f *testing.F) {
	f.Add(vecEncrypt)
	f.Add("")
	c, _ := New(vecAppID, vecKey)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = c.Decrypt(s) // must not panic
	})
}
