package index

import (
	"strconv"
	"strings"
	"unicode"
)

// Kind is what a term is made of; queries weigh the kinds differently.
type Kind uint8

// Kinds of term.
const (
	Uni     Kind = iota // one Han character
	Bi                  // two adjacent Han characters
	Num                 // a number, as digits ("56", "4.2", "42000")
	NumUnit             // a number with its unit ("56学时", "4.2万元", "42000元", "6分" from 六分)
	Word                // a run of Latin letters ("ppt")
)

// Term is one token of a text.
type Term struct {
	Text string
	Kind Kind
}

// units are the measure words and units that make a number+unit token, longest first within each
// length. A number is often followed by 余/多 ("4200余元"): the unit after it counts.
var units = [][]string{
	{"平方米", "平方公里"},
	{"学时", "小时", "分钟", "万元", "亿元", "千元", "百元", "万人", "万户", "万亩", "公里", "周岁", "个月", "人次", "场次", "课时", "元/人", "元/年"},
	{"元", "人", "名", "个", "户", "村", "次", "场", "件", "条", "项", "支", "家", "所", "期", "天", "年", "月", "日",
		"岁", "分", "时", "万", "亿", "亩", "届", "批", "类", "种", "座", "间", "位", "篇", "本", "份", "票", "%", "周", "轮", "级", "镇", "乡", "组"},
}

// unitAt returns the longest unit starting at rs[i] ("" if none).
func unitAt(rs []rune, i int) string {
	for _, group := range units {
		for _, u := range group {
			n := len([]rune(u))
			if i+n <= len(rs) && string(rs[i:i+n]) == u {
				return u
			}
		}
	}
	return ""
}

// Tokens splits folded text (see Fold) into terms, in order, with repeats: every Han character and
// every pair of adjacent Han characters; every number (thousands separators dropped, leading zeros
// trimmed) and, when a unit follows, the number with its unit, also scaled out of 万/亿 ("4.2万元" gives
// "4.2", "4.2万元", "42000", "42000元"); Chinese numerals before a unit as number+unit ("六分" gives
// "6分"); runs of Latin letters as words.
func Tokens(folded string) []Term {
	rs := []rune(folded)
	out := make([]Term, 0, len(rs)*2)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isHan(r):
			j := i
			for j < len(rs) && isHan(rs[j]) {
				j++
			}
			out = hanTerms(out, rs, i, j)
			i = j
		case isDigit(r):
			i = numberTerms(&out, rs, i)
		case 'a' <= r && r <= 'z':
			j := i
			for j < len(rs) && 'a' <= rs[j] && rs[j] <= 'z' {
				j++
			}
			out = append(out, Term{string(rs[i:j]), Word})
			i = j
		default:
			i++
		}
	}
	return out
}

func isHan(r rune) bool   { return r >= 0x2E80 && unicode.Is(unicode.Han, r) }
func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// hanTerms adds the unigrams and bigrams of the Han run rs[i:j], and number+unit terms of Chinese
// numerals in it.
func hanTerms(out []Term, rs []rune, i, j int) []Term {
	for k := i; k < j; k++ {
		out = append(out, Term{string(rs[k]), Uni})
		if k+1 < j {
			out = append(out, Term{string(rs[k : k+2]), Bi})
		}
	}
	for k := i; k < j; {
		if !isCNDigit(rs[k]) {
			k++
			continue
		}
		e := k
		for e < j && isCNDigit(rs[e]) {
			e++
		}
		// Not the 万 of "4.2万", not a lone multiplier (万元), not a lone 一 (一年, 一名: no number).
		afterDigits := k == i && k > 0 && (isDigit(rs[k-1]) || rs[k-1] == '.')
		lone := e-k == 1 && rs[k] != '十' && !strings.ContainsRune("二两三四五六七八九", rs[k])
		if u := unitAt(rs, e); u != "" && u != "万" && u != "亿" && !afterDigits && !lone {
			if v, ok := parseCN(rs[k:e]); ok {
				out = append(out, Term{strconv.Itoa(v) + u, NumUnit})
			}
		}
		k = e
	}
	return out
}

// numberTerms adds the number starting at rs[i] (and its number+unit terms) and returns where it ends.
func numberTerms(out *[]Term, rs []rune, i int) int {
	var b strings.Builder
	j := i
	dot := false
	for j < len(rs) {
		r := rs[j]
		switch {
		case isDigit(r):
			b.WriteRune(r)
		case (r == '.' || r == ',') && j+1 < len(rs) && isDigit(rs[j+1]) && j > i:
			if r == '.' {
				if dot {
					goto done
				}
				dot = true
				b.WriteRune(r)
			}
		default:
			goto done
		}
		j++
	}
done:
	num := trimZeros(b.String())
	*out = append(*out, Term{num, Num})
	k := j
	if k < len(rs) && (rs[k] == '余' || rs[k] == '多') {
		k++
	}
	u := unitAt(rs, k)
	if u == "" {
		return j
	}
	*out = append(*out, Term{num + u, NumUnit})
	// Scale 万/亿 out, so that 4.2万元 meets 42000元.
	mult := 0.0
	switch {
	case strings.HasPrefix(u, "万"):
		mult = 1e4
	case strings.HasPrefix(u, "亿"):
		mult = 1e8
	}
	if mult > 0 {
		if f, err := strconv.ParseFloat(num, 64); err == nil {
			scaled := strconv.FormatFloat(f*mult, 'f', -1, 64)
			*out = append(*out, Term{scaled, Num})
			if rest := strings.TrimPrefix(strings.TrimPrefix(u, "万"), "亿"); rest != "" {
				*out = append(*out, Term{scaled + rest, NumUnit})
			}
		}
	}
	return j
}

// trimZeros drops leading zeros ("08" → "8") so that dates and counts written either way meet.
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" || t[0] == '.' {
		return "0" + t
	}
	return t
}

func isCNDigit(r rune) bool {
	return strings.ContainsRune("零〇一二两三四五六七八九十百千万", r)
}

// parseCN reads a Chinese numeral ("十二", "一百零五", "三万"); a run of digits only ("二〇二〇") reads
// digit by digit.
func parseCN(rs []rune) (int, bool) {
	digit := func(r rune) int {
		if i := strings.IndexRune("零一二三四五六七八九", r); i >= 0 {
			return i / 3 // 3 bytes a character
		}
		return -1
	}
	plain := true
	for _, r := range rs {
		if strings.ContainsRune("十百千万", r) {
			plain = false
		}
	}
	if plain {
		v := 0
		for _, r := range rs {
			d := digit(r)
			switch r {
			case '〇':
				d = 0
			case '两':
				d = 2
			}
			if d < 0 {
				return 0, false
			}
			v = v*10 + d
		}
		return v, true
	}
	total, section, num := 0, 0, 0
	for _, r := range rs {
		switch r {
		case '十':
			if num == 0 {
				num = 1
			}
			section += num * 10
			num = 0
		case '百':
			section += num * 100
			num = 0
		case '千':
			section += num * 1000
			num = 0
		case '万':
			total += (section + num) * 10000
			section, num = 0, 0
		case '两':
			num = 2
		case '〇', '零':
			num = 0
		default:
			d := digit(r)
			if d < 0 {
				return 0, false
			}
			num = d
		}
	}
	return total + section + num, true
}
