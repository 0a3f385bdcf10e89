package survey

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/models"
)

// Answer is one answer as given: the options chosen (1-based) or the rating, a number, or a text.
type Answer struct {
	Choices []int    `json:"choices,omitempty"`
	Num     *float64 `json:"number,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// Empty reports whether nothing was answered.
func (a Answer) Empty() bool {
	return len(a.Choices) == 0 && a.Num == nil && strings.TrimSpace(a.Text) == ""
}

// Has reports whether option n was chosen.
func (a Answer) Has(n int) bool {
	for _, c := range a.Choices {
		if c == n {
			return true
		}
	}
	return false
}

// AnswerError is an answer that does not fit its question, with a short hint for the member.
type AnswerError struct {
	Seq  int
	Hint string
}

func (e *AnswerError) Error() string { return fmt.Sprintf("survey: question %d: %s", e.Seq, e.Hint) }

// checkAnswer validates a (non-empty) answer against its question and returns it cleaned.
func checkAnswer(q *Question, a Answer) (Answer, error) {
	bad := func(format string, args ...any) (Answer, error) {
		return Answer{}, &AnswerError{Seq: q.Seq, Hint: fmt.Sprintf(format, args...)}
	}
	switch q.Kind {
	case models.SurveySingle, models.SurveyMulti:
		seen := map[int]bool{}
		var cs []int
		for _, c := range a.Choices {
			if c < 1 || c > len(q.Options) {
				return bad("没有第%d个选项，请回复 1-%d 之间的数字", c, len(q.Options))
			}
			if !seen[c] {
				seen[c] = true
				cs = append(cs, c)
			}
		}
		sort.Ints(cs)
		switch {
		case len(cs) == 0:
			return bad("请选择一个选项")
		case q.Kind == models.SurveySingle && len(cs) > 1:
			return bad("这是单选题，只选一个，如：2")
		case len(cs) < q.MinChoices:
			return bad("至少选 %d 项", q.MinChoices)
		case len(cs) > q.MaxChoices:
			return bad("最多选 %d 项", q.MaxChoices)
		}
		return Answer{Choices: cs}, nil
	case models.SurveyRating:
		if len(a.Choices) != 1 || a.Choices[0] < 1 || a.Choices[0] > q.Scale {
			return bad("请打 1-%d 分，回复一个数字", q.Scale)
		}
		return Answer{Choices: a.Choices[:1]}, nil
	case models.SurveyNumber:
		if a.Num == nil {
			return bad("请回复一个数字")
		}
		if q.NumMin != nil && *a.Num < *q.NumMin || q.NumMax != nil && *a.Num > *q.NumMax {
			return bad("请填 %s 之间的数字", q.Rule())
		}
		return Answer{Num: a.Num}, nil
	default:
		t := strings.TrimSpace(a.Text)
		if t == "" {
			return bad("请写下你的回答")
		}
		if utf8.RuneCountInString(t) > MaxTextAnswer {
			return bad("回答最多 %d 个字", MaxTextAnswer)
		}
		return Answer{Text: t}, nil
	}
}

var (
	choiceSep  = regexp.MustCompile(`[\s,，、;；/]+`)
	numberText = regexp.MustCompile(`^(-?\d+(?:\.\d+)?)\s*(?:分|个|人|口|岁|元|亩|次|天|年|户|项)?$`)
)

// parseChat reads a chat reply as an answer to q: option numbers ("2", "1 3", "13", "1,3"), an option's
// text, a rating ("4", "4分"), a number or a text. ok false: the reply is not an answer of that kind
// (the caller re-asks with a hint).
func parseChat(q *Question, text string) (Answer, bool) {
	folded := strings.TrimSpace(width.Fold.String(text))
	switch q.Kind {
	case models.SurveySingle, models.SurveyMulti:
		for i, o := range q.Options { // the option's own text
			if text == o || folded == width.Fold.String(o) {
				return Answer{Choices: []int{i + 1}}, true
			}
		}
		var cs []int
		parts := choiceSep.Split(folded, -1)
		if len(parts) == 1 && q.Kind == models.SurveyMulti && len(q.Options) < 10 {
			parts = strings.Split(parts[0], "") // "13": options 1 and 3
		}
		for _, p := range parts {
			if p == "" {
				continue
			}
			n, err := strconv.Atoi(p)
			if err != nil {
				return Answer{}, false
			}
			cs = append(cs, n)
		}
		return Answer{Choices: cs}, len(cs) > 0
	case models.SurveyRating:
		m := numberText.FindStringSubmatch(folded)
		if m == nil {
			return Answer{}, false
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return Answer{}, false
		}
		return Answer{Choices: []int{n}}, true
	case models.SurveyNumber:
		m := numberText.FindStringSubmatch(strings.ReplaceAll(folded, ",", ""))
		if m == nil {
			return Answer{}, false
		}
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return Answer{}, false
		}
		return Answer{Num: &f}, true
	}
	return Answer{Text: strings.TrimSpace(text)}, strings.TrimSpace(text) != ""
}

// visible reports which questions are asked given the answers so far: a question with a condition is
// asked when the question it names is asked and its answer includes the option.
func visible(qs []Question, answers map[int]Answer) map[int]bool {
	vis := make(map[int]bool, len(qs))
	for _, q := range qs {
		if q.ShowIfSeq == 0 {
			vis[q.Seq] = true
			continue
		}
		vis[q.Seq] = vis[q.ShowIfSeq] && answers[q.ShowIfSeq].Has(q.ShowIfOption)
	}
	return vis
}

// nextSeq is the first question asked after position seq (0: from the start); 0 when none is left.
func nextSeq(qs []Question, answers map[int]Answer, seq int) int {
	vis := visible(qs, answers)
	for _, q := range qs {
		if q.Seq > seq && vis[q.Seq] {
			return q.Seq
		}
	}
	return 0
}

// prevSeq is the last question asked before position seq; 0 when none.
func prevSeq(qs []Question, answers map[int]Answer, seq int) int {
	vis := visible(qs, answers)
	for i := len(qs) - 1; i >= 0; i-- {
		if qs[i].Seq < seq && vis[qs[i].Seq] {
			return qs[i].Seq
		}
	}
	return 0
}

// missing is the first asked, required question without an answer; 0 when every one has one.
func missing(qs []Question, answers map[int]Answer) int {
	vis := visible(qs, answers)
	for _, q := range qs {
		if vis[q.Seq] && q.Required && answers[q.Seq].Empty() {
			return q.Seq
		}
	}
	return 0
}

// answerText is an answer as people read it: the options' texts, the rating, the number or the text.
func answerText(q *Question, a Answer) string {
	switch q.Kind {
	case models.SurveySingle, models.SurveyMulti:
		var ls []string
		for _, c := range a.Choices {
			if c >= 1 && c <= len(q.Options) {
				ls = append(ls, q.Options[c-1])
			}
		}
		return strings.Join(ls, "；")
	case models.SurveyRating:
		if len(a.Choices) > 0 {
			return strconv.Itoa(a.Choices[0]) + "分"
		}
	case models.SurveyNumber:
		if a.Num != nil {
			return num(*a.Num)
		}
	}
	return a.Text
}

// answerCodes is a choice answer's option numbers ("1;3"), a rating's number; "" otherwise.
func answerCodes(q *Question, a Answer) string {
	if !q.IsChoice() && q.Kind != models.SurveyRating {
		return ""
	}
	parts := make([]string, len(a.Choices))
	for i, c := range a.Choices {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ";")
}
