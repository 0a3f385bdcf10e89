package roster

import (
	"crypto/rand"
	"fmt"
	"strings"

	"golang.org/x/text/width"
	"gorm.io/gorm"
)

// Bind codes are 8 characters from an alphabet without the look-alikes 0/O, 1/I/L: 31^8 ≈ 8.5e11
// codes, so guessing one of a county's few thousand live codes is hopeless.
const (
	codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	codeLen      = 8
)

// newCode draws one code from crypto/rand, without modulo bias.
func newCode() string {
	const limit = 256 - 256%len(codeAlphabet) // bytes at or above this would favour the first letters
	var out [codeLen]byte
	buf := make([]byte, 16)
	n := 0
	for n < codeLen {
		rand.Read(buf) // never fails (crypto/rand panics instead since Go 1.24)
		for _, b := range buf {
			if int(b) < limit && n < codeLen {
				out[n] = codeAlphabet[int(b)%len(codeAlphabet)]
				n++
			}
		}
	}
	return string(out[:])
}

// NormalizeCode folds what a user typed into a stored code: full-width to half-width, upper case,
// without spaces or dashes. It returns "" when the result cannot be a code.
func NormalizeCode(s string) string {
	s = strings.ToUpper(width.Fold.String(s))
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\u00a0', '\t':
			return -1
		}
		return r
	}, s)
	if len(s) != codeLen {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(codeAlphabet, s[i]) < 0 {
			return ""
		}
	}
	return s
}

// freshCodes returns n new codes that no member holds. The check before use keeps a collision (about
// one in 10^8 imports of 5,000 rows) from failing a transaction; the unique index is the last guard.
func freshCodes(tx *gorm.DB, n int) ([]string, error) {
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for round := 0; len(codes) < n; round++ {
		if round == 10 {
			return nil, fmt.Errorf("roster: could not draw %d unused bind codes", n)
		}
		var batch []string
		for len(batch) < n-len(codes) {
			c := newCode()
			if !seen[c] {
				seen[c] = true
				batch = append(batch, c)
			}
		}
		taken := map[string]bool{}
		for start := 0; start < len(batch); start += 500 {
			var used []string
			err := tx.Table("members").Where("bind_code IN ?", batch[start:min(start+500, len(batch))]).
				Pluck("bind_code", &used).Error
			if err != nil {
				return nil, fmt.Errorf("roster: check bind codes: %w", err)
			}
			for _, u := range used {
				taken[u] = true
			}
		}
		for _, c := range batch {
			if !taken[c] {
				codes = append(codes, c)
			}
		}
	}
	return codes, nil
}
