package survey

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Limits of a survey's questions.
const (
	MaxQuestions   = 50
	MaxOptions     = 20
	maxQuestionLen = 500
	maxOptionLen   = 100
	MaxTextAnswer  = 1000
)

// Question is one question as the service works with it: the model with its options decoded.
type Question struct {
	ID           uint     `json:"id,omitempty"`
	Seq          int      `json:"seq"`
	Kind         string   `json:"kind"`
	Text         string   `json:"text"`
	Options      []string `json:"options,omitempty"`
	Required     bool     `json:"required"`
	MinChoices   int      `json:"min_choices,omitempty"`
	MaxChoices   int      `json:"max_choices,omitempty"`
	Scale        int      `json:"scale,omitempty"`
	NumMin       *float64 `json:"num_min,omitempty"`
	NumMax       *float64 `json:"num_max,omitempty"`
	ShowIfSeq    int      `json:"show_if_question,omitempty"`
	ShowIfOption int      `json:"show_if_option,omitempty"`
}

// KindNames are the question kinds as people write and read them.
var KindNames = map[string]string{
	models.SurveySingle: "单选", models.SurveyMulti: "多选", models.SurveyText: "填空",
	models.SurveyRating: "评分", models.SurveyNumber: "数字",
}

// kindWords are the words a question line may start with (the builder's text format).
var kindWords = []struct{ word, kind string }{
	{"单选题", models.SurveySingle}, {"单选", models.SurveySingle},
	{"多选题", models.SurveyMulti}, {"多选", models.SurveyMulti},
	{"填空题", models.SurveyText}, {"填空", models.SurveyText}, {"问答", models.SurveyText}, {"文本", models.SurveyText},
	{"评分题", models.SurveyRating}, {"评分", models.SurveyRating}, {"打分", models.SurveyRating},
	{"数字题", models.SurveyNumber}, {"数字", models.SurveyNumber}, {"数值", models.SurveyNumber},
}

// IsChoice reports whether answers are options of the question.
func (q *Question) IsChoice() bool {
	return q.Kind == models.SurveySingle || q.Kind == models.SurveyMulti
}

// KindName is the question's kind in Chinese.
func (q *Question) KindName() string { return KindNames[q.Kind] }

func (q *Question) model(surveyID uint) models.SurveyQuestion {
	opts, _ := json.Marshal(q.Options)
	if q.Options == nil {
		opts = []byte("[]")
	}
	return models.SurveyQuestion{SurveyID: surveyID, Seq: q.Seq, Kind: q.Kind, Text: q.Text, Options: string(opts),
		Required: q.Required, MinChoices: q.MinChoices, MaxChoices: q.MaxChoices, Scale: q.Scale, NumMin: q.NumMin,
		NumMax: q.NumMax, ShowIfSeq: q.ShowIfSeq, ShowIfOption: q.ShowIfOption}
}

func questionOf(m *models.SurveyQuestion) Question {
	q := Question{ID: m.ID, Seq: m.Seq, Kind: m.Kind, Text: m.Text, Required: m.Required, MinChoices: m.MinChoices,
		MaxChoices: m.MaxChoices, Scale: m.Scale, NumMin: m.NumMin, NumMax: m.NumMax, ShowIfSeq: m.ShowIfSeq, ShowIfOption: m.ShowIfOption}
	_ = json.Unmarshal([]byte(m.Options), &q.Options)
	return q
}

// Rule is the question's constraint as people read it: "选1-2项", "1-10分", "0-100", "" for none.
func (q *Question) Rule() string {
	switch q.Kind {
	case models.SurveyMulti:
		switch {
		case q.MinChoices == q.MaxChoices:
			return fmt.Sprintf("选%d项", q.MinChoices)
		case q.MinChoices <= 1 && q.MaxChoices == len(q.Options):
			return "可多选"
		}
		return fmt.Sprintf("选%d-%d项", q.MinChoices, q.MaxChoices)
	case models.SurveyRating:
		return fmt.Sprintf("1-%d分", q.Scale)
	case models.SurveyNumber:
		switch {
		case q.NumMin != nil && q.NumMax != nil:
			return num(*q.NumMin) + "~" + num(*q.NumMax)
		case q.NumMin != nil:
			return "不小于" + num(*q.NumMin)
		case q.NumMax != nil:
			return "不大于" + num(*q.NumMax)
		}
	}
	return ""
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Check validates and completes a survey's questions (numbered in order, defaults filled in). Errors
// name the question ("第3题：…").
func Check(qs []Question) ([]Question, error) {
	if len(qs) == 0 {
		return nil, console.Invalid("questions", "请至少写一道题")
	}
	if len(qs) > MaxQuestions {
		return nil, console.Invalid("questions", "一份问卷最多 %d 道题（现在 %d 道）", MaxQuestions, len(qs))
	}
	out := make([]Question, len(qs))
	for i, q := range qs {
		q.Seq = i + 1
		q.ID = 0
		bad := func(format string, args ...any) error {
			return console.Invalid("questions", "第%d题：%s", q.Seq, fmt.Sprintf(format, args...))
		}
		q.Text = strings.TrimSpace(q.Text)
		if q.Text == "" {
			return nil, bad("请写题目")
		}
		if utf8.RuneCountInString(q.Text) > maxQuestionLen {
			return nil, bad("题目最多 %d 个字", maxQuestionLen)
		}
		if KindNames[q.Kind] == "" {
			return nil, bad("题型应为 单选、多选、填空、评分 或 数字")
		}
		if q.IsChoice() {
			seen := map[string]bool{}
			for j, o := range q.Options {
				o = strings.TrimSpace(o)
				switch {
				case o == "":
					return nil, bad("第%d个选项是空的", j+1)
				case utf8.RuneCountInString(o) > maxOptionLen:
					return nil, bad("选项最多 %d 个字", maxOptionLen)
				case seen[o]:
					return nil, bad("选项「%s」重复了", o)
				}
				seen[o] = true
				q.Options[j] = o
			}
			if len(q.Options) < 2 {
				return nil, bad("选择题至少要有 2 个选项（每行一个，以 - 开头）")
			}
			if len(q.Options) > MaxOptions {
				return nil, bad("最多 %d 个选项", MaxOptions)
			}
		} else if len(q.Options) > 0 {
			return nil, bad("%s题没有选项", KindNames[q.Kind])
		}
		switch q.Kind {
		case models.SurveySingle:
			q.MinChoices, q.MaxChoices = 1, 1
		case models.SurveyMulti:
			if q.MinChoices <= 0 {
				q.MinChoices = 1
			}
			if q.MaxChoices <= 0 {
				q.MaxChoices = len(q.Options)
			}
			if q.MinChoices > q.MaxChoices || q.MaxChoices > len(q.Options) {
				return nil, bad("可选项数应在 1 到 %d 之间，且最少不大于最多", len(q.Options))
			}
		default:
			q.MinChoices, q.MaxChoices = 0, 0
		}
		if q.Kind == models.SurveyRating {
			if q.Scale == 0 {
				q.Scale = 5
			}
			if q.Scale != 5 && q.Scale != 10 {
				return nil, bad("评分只能是 5 分制或 10 分制")
			}
		} else {
			q.Scale = 0
		}
		if q.Kind == models.SurveyNumber {
			if q.NumMin != nil && q.NumMax != nil && *q.NumMin > *q.NumMax {
				return nil, bad("数字范围的最小值大于最大值")
			}
		} else {
			q.NumMin, q.NumMax = nil, nil
		}
		if q.ShowIfSeq != 0 || q.ShowIfOption != 0 {
			if q.ShowIfSeq <= 0 || q.ShowIfSeq >= q.Seq {
				return nil, bad("显示条件只能引用前面的题")
			}
			cond := &out[q.ShowIfSeq-1]
			if !cond.IsChoice() {
				return nil, bad("显示条件引用的第%d题不是选择题", cond.Seq)
			}
			if q.ShowIfOption < 1 || q.ShowIfOption > len(cond.Options) {
				return nil, bad("第%d题没有第%d个选项", cond.Seq, q.ShowIfOption)
			}
		}
		out[i] = q
	}
	return out, nil
}

var (
	optionLine = regexp.MustCompile(`^(?:[-－•·*]|\d{1,2}[.、．)）]|[A-Za-z][.、．)）])\s*(.+)$`)
	condSuffix = regexp.MustCompile(`[\[［【(（]\s*(?:若|如果|当)?\s*第\s*(\d+)\s*题\s*选\s*(\d+)\s*(?:时|项)?\s*[\]］】)）]\s*$`)
	numRange   = regexp.MustCompile(`^\s*(-?\d+(?:\.\d+)?)?\s*(?:~|到|至|—|-)\s*(-?\d+(?:\.\d+)?)?\s*$`)
)

// ParseQuestions reads the builder's text format: a question per line starting with its kind, options
// on the lines under it:
//
//	单选* 您对村里的道路满意吗？
//	- 满意
//	- 一般
//	- 不满意
//	多选(1-2) 您最希望改善哪些方面？[第1题选3]
//	- 路灯
//	- 排水
//	- 绿化
//	填空 其他建议
//	评分(10)* 总体打几分
//	数字(0-20) 您家有几口人
//
// "*" marks a required question; the brackets give a multiple choice's min-max, a rating's scale (5 or
// 10) or a number's range; "[第N题选X]" at the end shows the question only when question N's answer
// includes option X. Errors name the line.
func ParseQuestions(text string) ([]Question, error) {
	var qs []Question
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		bad := func(format string, args ...any) error {
			return console.Invalid("questions", "第%d行：%s", i+1, fmt.Sprintf(format, args...))
		}
		q, ok, err := parseHeader(line)
		if err != nil {
			return nil, bad("%s", err.Error())
		}
		if ok {
			qs = append(qs, q)
			continue
		}
		if m := optionLine.FindStringSubmatch(line); m != nil {
			if len(qs) == 0 {
				return nil, bad("选项前面要先写题目")
			}
			last := &qs[len(qs)-1]
			if !last.IsChoice() {
				return nil, bad("%s题不能有选项", KindNames[last.Kind])
			}
			last.Options = append(last.Options, strings.TrimSpace(m[1]))
			continue
		}
		return nil, bad("应以题型（单选、多选、填空、评分、数字）开头，或以 - 开头写选项")
	}
	return Check(qs)
}

// parseHeader reads a question line; ok false when the line does not start with a kind.
func parseHeader(line string) (q Question, ok bool, err error) {
	for _, k := range kindWords {
		if rest, found := strings.CutPrefix(line, k.word); found {
			q.Kind, line, ok = k.kind, rest, true
			break
		}
	}
	if !ok {
		return q, false, nil
	}
	// The modifiers: "*" (required) and a bracket, in either order, before the text.
	for {
		line = strings.TrimLeft(line, " \t")
		switch {
		case strings.HasPrefix(line, "*"), strings.HasPrefix(line, "＊"):
			q.Required = true
			_, size := utf8.DecodeRuneInString(line)
			line = line[size:]
			continue
		case strings.HasPrefix(line, "("), strings.HasPrefix(line, "（"):
			end := strings.IndexAny(line, ")）")
			if end < 0 {
				return q, true, fmt.Errorf("括号没有闭合")
			}
			_, size := utf8.DecodeRuneInString(line)
			arg := width.Fold.String(line[size:end])
			_, esize := utf8.DecodeRuneInString(line[end:])
			line = line[end+esize:]
			if err := q.setArg(strings.TrimSpace(arg)); err != nil {
				return q, true, err
			}
			continue
		}
		break
	}
	line = strings.TrimLeft(line, " \t:：、.")
	if m := condSuffix.FindStringSubmatchIndex(line); m != nil {
		q.ShowIfSeq, _ = strconv.Atoi(line[m[2]:m[3]])
		q.ShowIfOption, _ = strconv.Atoi(line[m[4]:m[5]])
		line = line[:m[0]]
	}
	q.Text = strings.TrimSpace(line)
	if q.Text == "" {
		return q, true, fmt.Errorf("题型后面要写题目")
	}
	return q, true, nil
}

// setArg applies a bracket's content: min-max of a multiple choice, scale of a rating, range of a number.
func (q *Question) setArg(arg string) error {
	arg = strings.NewReplacer("分制", "", "分", "", "项", "", " ", "").Replace(arg)
	switch q.Kind {
	case models.SurveyMulti:
		if n, err := strconv.Atoi(arg); err == nil {
			q.MinChoices, q.MaxChoices = n, n
			return nil
		}
		m := numRange.FindStringSubmatch(arg)
		if m == nil || strings.Contains(m[1]+m[2], ".") || strings.HasPrefix(m[1], "-") {
			return fmt.Errorf("多选的括号里写可选项数，如 (1-3)")
		}
		q.MinChoices, _ = strconv.Atoi(m[1])
		q.MaxChoices, _ = strconv.Atoi(m[2])
		if m[1] == "" {
			q.MinChoices = 1
		}
		return nil
	case models.SurveyRating:
		n, err := strconv.Atoi(arg)
		if err != nil || (n != 5 && n != 10) {
			return fmt.Errorf("评分的括号里写 5 或 10（几分制）")
		}
		q.Scale = n
		return nil
	case models.SurveyNumber:
		m := numRange.FindStringSubmatch(arg)
		if m == nil {
			return fmt.Errorf("数字的括号里写范围，如 (0-100)")
		}
		if m[1] != "" {
			f, _ := strconv.ParseFloat(m[1], 64)
			q.NumMin = &f
		}
		if m[2] != "" {
			f, _ := strconv.ParseFloat(m[2], 64)
			q.NumMax = &f
		}
		return nil
	}
	return fmt.Errorf("%s题不需要括号", KindNames[q.Kind])
}

// FormatQuestions writes questions in the builder's text format (ParseQuestions reads it back).
func FormatQuestions(qs []Question) string {
	var b strings.Builder
	for i, q := range qs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(KindNames[q.Kind])
		if q.Required {
			b.WriteString("*")
		}
		switch q.Kind {
		case models.SurveyMulti:
			if q.MinChoices != 1 || q.MaxChoices != len(q.Options) {
				fmt.Fprintf(&b, "(%d-%d)", q.MinChoices, q.MaxChoices)
			}
		case models.SurveyRating:
			if q.Scale != 5 {
				fmt.Fprintf(&b, "(%d)", q.Scale)
			}
		case models.SurveyNumber:
			if q.NumMin != nil || q.NumMax != nil {
				b.WriteString("(")
				if q.NumMin != nil {
					b.WriteString(num(*q.NumMin))
				}
				b.WriteString("~")
				if q.NumMax != nil {
					b.WriteString(num(*q.NumMax))
				}
				b.WriteString(")")
			}
		}
		b.WriteString(" " + q.Text)
		if q.ShowIfSeq > 0 {
			fmt.Fprintf(&b, " [第%d题选%d]", q.ShowIfSeq, q.ShowIfOption)
		}
		b.WriteString("\n")
		for _, o := range q.Options {
			b.WriteString("- " + o + "\n")
		}
	}
	return b.String()
}
