// Package index is the policy Q&A's full-text index: folding (Traditional → Simplified, full-width →
// half-width), Chinese tokens (unigrams and bigrams of Han runs, numbers and number+unit tokens), and a
// BM25 index over passages grouped into documents. It knows nothing of the database: package policy
// feeds it passages and keeps it in step with imports.
//
// Why bigrams and no word segmenter: bigrams need no dictionary (a segmenter's dictionary is loaded by
// every process, tens of MB and a noticeable start-up), they cannot miss a word that no dictionary has
// (place names, programme names like 红色头雁), and with unigrams at a low weight and a document-level
// score they meet the accuracy targets on the dev questions (see the README's "Policy Q&A").
package index

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// t2sTable is t2sPairs as a map, built on first use.
//
// How t2s_table.go was made: with Debian's opencc 1.1.6, every code point of U+3400–U+4DBF,
// U+4E00–U+9FFF and U+F900–U+FAFF was converted alone by tw2s.json and t2s.json (the first that changes
// it wins), chains were followed to a fixed point, and mappings whose source is itself a standard
// Simplified character (in GB 2312) were dropped, except 乾 後 於 著 徵 夥 菸 摺, which are Traditional
// in practice; 麼 and 麽 map to 么 (OpenCC's single-character choice is 幺). Folding is per character
// and rune for rune, so positions in folded text are positions in the original.
var t2sTable = sync.OnceValue(func() map[rune]rune {
	m := make(map[rune]rune, utf8.RuneCountInString(t2sPairs)/2)
	var from rune
	first := true
	for _, r := range t2sPairs {
		if first {
			from = r
		} else {
			m[from] = r
		}
		first = !first
	}
	return m
})

// FoldRune folds one character: full-width ASCII forms and the ideographic space become half-width,
// ASCII letters lower-case, Traditional characters Simplified.
func FoldRune(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		r -= 0xFEE0
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	case r == 0x3000: // ideographic space
		return ' '
	case r >= 0x3400:
		if s, ok := t2sTable()[r]; ok {
			return s
		}
	}
	return r
}

// Fold folds every character of s (see FoldRune). The result has as many runes as s, each at the same
// rune position.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(FoldRune(r))
	}
	return b.String()
}
