package bank

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/models"
)

// Options are the question's options, A first; nil for 判断 and 填空 (and for a malformed column).
func Options(q *models.Question) []string {
	if q.Options == "" || q.Options == "[]" {
		return nil
	}
	var opts []string
	if err := json.Unmarshal([]byte(q.Options), &opts); err != nil {
		return nil
	}
	return opts
}

// Letter is the letter of the i-th option (0 → "A").
func Letter(i int) string { return string(rune('A' + i)) }

// Alternatives are the accepted answers of a 填空 question, as stored.
func Alternatives(q *models.Question) []string {
	return splitAlternatives(q.Answer)
}

// Check says whether given, an answer as a member types it, is right for q, and returns it normalized:
//   - 单选: one letter, A or a or full-width Ａ ("A");
//   - 多选: the letters in any order, with or without separators (BD, DB, B,D, B D, b、d → "BD"); all the
//     right letters and no other are required;
//   - 判断: 对 错 √ × 正确 错误 T F Y N true false 是 否 (and 對 錯) → "对" or "错";
//   - 填空: any accepted alternative, compared after trimming, folding full-width forms, lower-casing and
//     removing inner spaces; normalized is the answer trimmed and half-width, spaces collapsed.
//
// normalized is "" when given is not an answer of the question's kind at all (e.g. "你好" to a choice
// question, or nothing): the caller may ask again instead of counting it wrong.
func Check(q *models.Question, given string) (correct bool, normalized string) {
	switch q.Type {
	case models.QuestionSingle, models.QuestionMulti:
		got, ok := letters(given)
		if !ok || len(got) == 0 {
			return false, ""
		}
		want, _ := letters(q.Answer)
		normalized = string(got)
		if q.Type == models.QuestionSingle && len(got) != 1 {
			return false, normalized
		}
		return len(want) > 0 && slices.Equal(got, want), normalized
	case models.QuestionJudge:
		got := judgeValue(given)
		if got == "" {
			return false, ""
		}
		return got == judgeValue(q.Answer), got
	case models.QuestionBlank:
		key := blankKey(given)
		if key == "" {
			return false, ""
		}
		normalized = strings.Join(strings.Fields(width.Fold.String(given)), " ")
		for _, alt := range splitAlternatives(q.Answer) {
			if blankKey(alt) == key {
				return true, normalized
			}
		}
		return false, normalized
	}
	return false, ""
}

// letters reads choice letters: "BD", "d b", "B,D", "Ｂ、Ｄ" → "BD" (sorted, each once). ok is false when
// anything but letters and separators is there.
func letters(s string) ([]byte, bool) {
	var set [26]bool
	for _, r := range width.Fold.String(s) {
		switch {
		case r >= 'a' && r <= 'z':
			set[r-'a'] = true
		case r >= 'A' && r <= 'Z':
			set[r-'A'] = true
		case unicode.IsSpace(r) || strings.ContainsRune(",、;.。/|", r):
		default:
			return nil, false
		}
	}
	var out []byte
	for i, ok := range set {
		if ok {
			out = append(out, byte('A'+i))
		}
	}
	return out, true
}

// Judge answers.
const (
	judgeTrue  = "对"
	judgeFalse = "错"
)

var judgeWords = map[string]string{
	"对": judgeTrue, "對": judgeTrue, "正确": judgeTrue, "正確": judgeTrue, "√": judgeTrue, "✓": judgeTrue, "✔": judgeTrue,
	"t": judgeTrue, "true": judgeTrue, "y": judgeTrue, "yes": judgeTrue, "是": judgeTrue,
	"错": judgeFalse, "錯": judgeFalse, "错误": judgeFalse, "錯誤": judgeFalse, "×": judgeFalse, "✗": judgeFalse, "✘": judgeFalse,
	"x": judgeFalse, "f": judgeFalse, "false": judgeFalse, "n": judgeFalse, "no": judgeFalse, "否": judgeFalse,
}

// judgeValue is "对", "错", or "" when s is neither.
func judgeValue(s string) string {
	k := strings.ToLower(strings.Join(strings.Fields(width.Fold.String(s)), ""))
	k = strings.TrimRight(k, ".。!！")
	return judgeWords[k]
}

// blankKey is a 填空 answer as compared: half-width, lower-case, without white space or a final full
// stop.
func blankKey(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if unicode.IsSpace(r) || r == '\ufeff' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRight(b.String(), ".。")
}

// splitAlternatives splits a 填空 answer on | (or the full-width ｜), trimmed, empty ones dropped.
func splitAlternatives(s string) []string {
	var out []string
	for _, alt := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == '｜' }) {
		if alt = strings.TrimSpace(alt); alt != "" {
			out = append(out, alt)
		}
	}
	return out
}
