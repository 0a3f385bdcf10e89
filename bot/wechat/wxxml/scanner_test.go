package wxxml

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkValidChars(b *testing.B) {
	body := []byte(typicalText)
	for b.Loop() {
		validChars(body)
	}
}

// validChars agrees with the rune-by-rune check on random bytes.
func TestValidChars(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("a <\t\n\r\x00\x1f\x7f\xef\xbf\xbe\xbd\xe4\xb8\xad")
	for range 200000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if got, want := validChars(b), badChar(b); got != want {
			t.Fatalf("validChars(%q) = %d, want %d", b, got, want)
		}
	}
}
