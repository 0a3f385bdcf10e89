package bank

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Input is a question as a file row, the console's form or the API gives it, before it is checked.
type Input struct {
	Type        string
	Stem        string
	Options     []string // A, B, C… in order; trailing empty ones are dropped
	Answer      string
	Explanation string
	Tags        []string // each may also hold several tags separated by commas (SplitTags)
}

// Limits of a question's texts.
const (
	MaxStem        = 2000 // characters
	MaxOption      = 500
	MaxExplanation = 4000
	MaxTag         = 20
	maxTagsBytes   = 512 // the tags column
)

// problem is one thing wrong with an Input: the field (as the console's form and the API name it) and
// the reason, in Chinese.
type problem struct{ field, reason string }

// question is a checked, normalized Input: the columns of a models.Question.
type question struct {
	typ, stem, key, options, answer, explanation, tags string
}

func (q question) differs(m *models.Question) bool {
	return q.typ != m.Type || q.stem != m.Stem || q.options != m.Options || q.answer != m.Answer ||
		q.explanation != m.Explanation || q.tags != m.Tags
}

func (q question) apply(m *models.Question) {
	m.Type, m.Stem, m.StemKey, m.Options, m.Answer, m.Explanation, m.Tags =
		q.typ, q.stem, q.key, q.options, q.answer, q.explanation, q.tags
}

// asInputError is the first problem as a console.InputError naming its field, with every reason.
func asInputError(ps []problem) error {
	reasons := make([]string, len(ps))
	for i, p := range ps {
		reasons[i] = p.reason
	}
	return console.Invalid(ps[0].field, "%s", strings.Join(reasons, "；"))
}

// check checks and normalizes a question, returning every problem it has.
func check(in Input) (question, []problem) {
	var q question
	var ps []problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, problem{field, fmt.Sprintf(format, args...)})
	}

	q.typ = NormalizeType(in.Type)
	switch {
	case strings.TrimSpace(in.Type) == "":
		bad("type", "题型为空（应为%s之一）", strings.Join(models.QuestionTypes, "、"))
	case q.typ == "":
		bad("type", "题型「%s」不对，应为%s之一", clip(strings.TrimSpace(in.Type), 10), strings.Join(models.QuestionTypes, "、"))
	}

	q.stem = cleanText(in.Stem)
	switch n := utf8.RuneCountInString(q.stem); {
	case n == 0:
		bad("stem", "题干为空")
	case n > MaxStem:
		bad("stem", "题干太长（%d个字，最多%d个字）", n, MaxStem)
	default:
		q.key = StemKey(q.stem)
	}

	choice := q.typ == models.QuestionSingle || q.typ == models.QuestionMulti
	var opts []string
	if choice {
		opts = make([]string, len(in.Options))
		for i, o := range in.Options {
			opts[i] = stripLetter(cleanText(o), i)
		}
		for len(opts) > 0 && opts[len(opts)-1] == "" {
			opts = opts[:len(opts)-1]
		}
		for i, o := range opts {
			switch {
			case o == "":
				bad("options", "选项%s为空，但后面还有选项", Letter(i))
			case utf8.RuneCountInString(o) > MaxOption:
				bad("options", "选项%s太长（最多%d个字）", Letter(i), MaxOption)
			}
		}
		if len(opts) > 26 {
			bad("options", "选项太多（最多26个）")
		} else if len(opts) < 2 {
			bad("options", "%s题至少要有两个选项（选项A、选项B）", q.typ)
		}
	}
	// 判断 and 填空 keep no options: a file's 对/错 in the option columns is simply not needed.
	b, _ := json.Marshal(nonNil(opts))
	q.options = string(b)

	answer := strings.TrimSpace(in.Answer)
	switch q.typ {
	case models.QuestionSingle, models.QuestionMulti:
		got, ok := letters(answer)
		switch {
		case answer == "":
			bad("answer", "答案为空（填选项的字母，如 %s）", pick(q.typ == models.QuestionSingle, "A", "BD"))
		case !ok:
			bad("answer", "答案「%s」不对，应填选项的字母，如 %s", clip(answer, 10), pick(q.typ == models.QuestionSingle, "A", "BD"))
		case q.typ == models.QuestionSingle && len(got) != 1:
			bad("answer", "单选题只能有一个答案，「%s」有%d个", clip(answer, 10), len(got))
		case q.typ == models.QuestionMulti && len(got) < 2:
			bad("answer", "多选题的答案至少要有两个不同的字母，如 BD")
		default:
			for _, l := range got {
				if int(l-'A') >= len(opts) && len(opts) >= 2 {
					bad("answer", "答案里的 %c 不在选项里（只有 A–%s）", l, Letter(len(opts)-1))
					break
				}
			}
			q.answer = string(got)
		}
	case models.QuestionJudge:
		if q.answer = judgeValue(answer); q.answer == "" {
			if answer == "" {
				bad("answer", "答案为空（判断题填 对 或 错）")
			} else {
				bad("answer", "判断题的答案「%s」不对，应为 对 或 错", clip(answer, 10))
			}
		}
	case models.QuestionBlank:
		var alts, keys []string
		for _, alt := range splitAlternatives(answer) {
			alt = strings.Join(strings.Fields(alt), " ")
			if k := blankKey(alt); k != "" && !slices.Contains(keys, k) {
				alts, keys = append(alts, alt), append(keys, k)
			}
		}
		if q.answer = strings.Join(alts, "|"); q.answer == "" {
			bad("answer", "答案为空（填空题填正确的文字，几种说法都对时用 | 分隔）")
		} else if utf8.RuneCountInString(q.answer) > MaxOption {
			bad("answer", "答案太长（最多%d个字）", MaxOption)
		}
	}

	q.explanation = cleanText(in.Explanation)
	if n := utf8.RuneCountInString(q.explanation); n > MaxExplanation {
		bad("explanation", "解析太长（%d个字，最多%d个字）", n, MaxExplanation)
	}

	var tags []string
	for _, t := range in.Tags {
		for _, tag := range SplitTags(t) {
			if utf8.RuneCountInString(tag) > MaxTag {
				bad("tags", "标签「%s」太长（每个最多%d个字）", clip(tag, MaxTag), MaxTag)
				continue
			}
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}
	if q.tags = strings.Join(tags, ","); len(q.tags) > maxTagsBytes {
		bad("tags", "标签太多（合计最多约%d个字）", maxTagsBytes/3)
	}
	return q, ps
}

// NormalizeType is the question type s names (单选, 多选, 判断 or 填空; also 单选题, 單選, 单项选择题…),
// or "" for none.
func NormalizeType(s string) string {
	s = strings.Join(strings.Fields(width.Fold.String(s)), "")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "题"), "題")
	switch s {
	case "单选", "單選", "单项选择", "單項選擇":
		return models.QuestionSingle
	case "多选", "多選", "多项选择", "多項選擇":
		return models.QuestionMulti
	case "判断", "判斷", "是非":
		return models.QuestionJudge
	case "填空":
		return models.QuestionBlank
	}
	return ""
}

// SplitTags splits what people type as tags ("党史, 党章、廉政") into tags: separated by commas (either
// width), 、 ; or |, trimmed, half-width, inner spaces collapsed.
func SplitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(width.Fold.String(s), func(r rune) bool {
		return strings.ContainsRune(",、;|", r)
	}) {
		if t = strings.Join(strings.Fields(t), " "); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Tags are the question's tags.
func Tags(q *models.Question) []string {
	if q.Tags == "" {
		return nil
	}
	return strings.Split(q.Tags, ",")
}

// cleanText trims a text and drops invisible characters, keeping line breaks (Alt+Enter in Excel).
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\ufeff' || r == '\u200b' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// stripLetter drops the "A." people write in front of option A ("A. 1921年", "Ａ、1921年", "A：…").
func stripLetter(s string, i int) string {
	rs := []rune(s)
	if i >= 26 || len(rs) < 2 {
		return s
	}
	first := []rune(width.Fold.String(string(rs[0])))[0]
	if unicode.ToUpper(first) != rune('A'+i) || !strings.ContainsRune(".．、:：)）", rs[1]) {
		return s
	}
	return strings.TrimSpace(string(rs[2:]))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// clip shortens s to n characters for a message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
