package policy

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
)

// Trimming a passage to the words that answer: the passage is cut into clauses; the shortest run of
// clauses (at most maxQuote characters) that holds the most of the question's weight wins, and it
// grows to whole sentences when they are short enough to read in one glance.
const (
	minQuote  = 30  // a shorter answer grows to its neighbours in the sentence
	fullQuote = 100 // a window grows to whole sentences up to this length
)

// quantityRe: questions that ask for a number, a date or an amount prefer clauses that have one.
var quantityRe = regexp.MustCompile(`多少|几|多大|多长|多高|多久|多远|数量|比例|金额|标准|何时|什么时候|哪一?年|哪天|百分之`)

// unit is a clause of a passage: its runes [from, to) and whether a sentence ends with it.
type unit struct {
	from, to int
	end      bool
	terms    uint64 // which query terms it holds
	number   bool
}

// focus finds, in passages, the run of clauses that answers a question best: the question's
// meaningful terms (bigrams, numbers, words) weighted by IDF, plus a bonus for a number when the question
// asks for one.
type focus struct {
	terms   []index.Term
	weights []float64
	bonus   float64
	total   float64 // the most a window can score
}

func newFocus(question string, q []index.Term, idx *index.Index) *focus {
	f := &focus{terms: q, weights: make([]float64, len(q))}
	for i, t := range q {
		if i >= 64 || t.Kind == index.Uni {
			continue
		}
		f.weights[i] = idx.Weight(t.Kind) * idx.IDF(t.Text)
		f.total += f.weights[i]
	}
	if quantityRe.MatchString(index.Fold(question)) {
		for _, w := range f.weights {
			f.bonus = max(f.bonus, w)
		}
		f.total += f.bonus
	}
	return f
}

// window returns the clauses of a passage (rs, and folded, the same folded rune for rune) and the best
// run of them, [bi, bj], with its score.
func (f *focus) window(rs []rune, folded string) (units []unit, bi, bj int, best float64) {
	fr := []rune(folded)
	if len(fr) != len(rs) {
		fr = []rune(index.Fold(string(rs)))
	}
	units = clauses(rs)
	if len(units) == 0 {
		return nil, 0, 0, 0
	}
	for k := range units {
		u := &units[k]
		clause := string(fr[u.from:u.to])
		digits := strings.ContainsAny(clause, "0123456789")
		u.number = digits && f.bonus > 0 // written in digits: 两次 in a story is no answer to 多少个
		var toks map[string]bool
		for i, t := range f.terms {
			switch {
			case f.weights[i] == 0:
			case t.Kind == index.Bi || t.Kind == index.Word:
				// A substring test is the token test for Han bigrams, and much cheaper.
				if strings.Contains(clause, t.Text) {
					u.terms |= 1 << i
				}
			case digits || t.Kind == index.NumUnit:
				if toks == nil {
					toks = map[string]bool{}
					for _, x := range index.Tokens(clause) {
						toks[x.Text] = true
					}
				}
				if toks[t.Text] {
					u.terms |= 1 << i
				}
			}
		}
	}
	score := func(i, j int) float64 {
		var mask uint64
		num := false
		for k := i; k <= j; k++ {
			mask |= units[k].terms
			num = num || units[k].number
		}
		s := 0.0
		for b, w := range f.weights {
			if mask&(1<<b) != 0 {
				s += w
			}
		}
		if num {
			s += f.bonus
		}
		return s
	}
	length := func(i, j int) int { return units[j].to - units[i].from }
	best = -1
	for i := range units {
		for j := i; j < len(units); j++ {
			if length(i, j) > maxQuote && j > i {
				break
			}
			s := score(i, j)
			if s > best+1e-9 || (s > best-1e-9 && length(i, j) < length(bi, bj)) {
				bi, bj, best = i, j, s
			}
		}
	}
	return units, bi, bj, best
}

// share is how much of the question a passage's best window answers (0–1); folded is its text.
func (f *focus) share(folded string) float64 {
	if f.total == 0 {
		return 0
	}
	_, _, _, s := f.window([]rune(folded), folded)
	return s / f.total
}

// Trim returns the sentence(s) of passage that answer the question (q: its QueryTerms), at most
// maxQuote characters, with "…" where it cut a sentence.
func Trim(passage, question string, q []index.Term, idx *index.Index) string {
	return newFocus(question, q, idx).trim(passage, index.Fold(passage))
}

func (f *focus) trim(passage, folded string) string {
	rs := []rune(passage)
	units, bi, bj, _ := f.window(rs, folded)
	if len(units) == 0 {
		return ""
	}
	length := func(i, j int) int { return units[j].to - units[i].from }
	// Grow to the whole sentence when it is short, else at least to minQuote within it.
	sentStart := func(i int) bool { return i == 0 || units[i-1].end }
	for !sentStart(bi) && length(bi-1, bj) <= fullQuote {
		bi--
	}
	for !units[bj].end && bj+1 < len(units) && length(bi, bj+1) <= fullQuote {
		bj++
	}
	for length(bi, bj) < minQuote {
		switch {
		case !sentStart(bi) && length(bi-1, bj) <= maxQuote:
			bi--
		case !units[bj].end && bj+1 < len(units) && length(bi, bj+1) <= maxQuote:
			bj++
		case bj+1 < len(units) && length(bi, bj+1) <= maxQuote:
			bj++
		default:
			goto done
		}
	}
done:
	text := strings.TrimSpace(strings.ReplaceAll(string(rs[units[bi].from:units[bj].to]), "\n", " "))
	if utf8.RuneCountInString(text) > maxQuote {
		text = clip(text, maxQuote)
	}
	if !units[bj].end {
		text = strings.TrimRight(text, "，,、：:；; ") + "…"
	}
	if !sentStart(bi) {
		text = "…" + text
	}
	return text
}

// clauses cuts text after sentence ends (。！？；, a line break) and clause ends (，：), keeping closing
// quotes and brackets with the clause they close.
func clauses(rs []rune) []unit {
	var out []unit
	from := 0
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		end := strings.ContainsRune("。！？!?；;\n", r)
		if !end && !strings.ContainsRune("，,：:", r) {
			continue
		}
		j := i + 1
		for j < len(rs) && strings.ContainsRune("”’」』）)", rs[j]) {
			j++
		}
		if strings.TrimSpace(string(rs[from:j])) != "" {
			out = append(out, unit{from: from, to: j, end: end})
		}
		from, i = j, j-1
	}
	if strings.TrimSpace(string(rs[from:])) != "" {
		out = append(out, unit{from: from, to: len(rs), end: true})
	}
	return out
}
