package survey

import (
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

func TestParseQuestions(t *testing.T) {
	qs, err := ParseQuestions("单选* 满意吗？\n- 满意\n1. 一般\nA、 不满意\n\n多选（1-2）＊ 改善哪些？【第1题选3】\n- 路灯\n- 排水\n- 绿化\n填空 建议\n评分(10) 打分\n数字(-5~20.5) 人数")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 5 || qs[0].Kind != models.SurveySingle || !qs[0].Required || len(qs[0].Options) != 3 || qs[0].Options[2] != "不满意" ||
		qs[1].MinChoices != 1 || qs[1].MaxChoices != 2 || !qs[1].Required || qs[1].ShowIfSeq != 1 || qs[1].ShowIfOption != 3 || qs[1].Text != "改善哪些？" ||
		qs[3].Scale != 10 || *qs[4].NumMin != -5 || *qs[4].NumMax != 20.5 {
		t.Fatalf("%+v", qs)
	}
	again, err := ParseQuestions(FormatQuestions(qs))
	if err != nil || FormatQuestions(again) != FormatQuestions(qs) {
		t.Fatalf("round trip: %v\n%s", err, FormatQuestions(again))
	}
	for text, want := range map[string]string{
		"":                     "至少写一道题",
		"- 满意":                 "第1行：选项前面要先写题目",
		"单选 只有一个\n- 是":         "至少要有 2 个选项",
		"随便写写":                 "第1行：应以题型",
		"填空 建议\n- 选项":          "第2行：填空题不能有选项",
		"评分(7) 打分":             "5 或 10",
		"多选(3-4) 哪些\n- a\n- b": "可选项数应在 1 到 2 之间",
		"数字(9-1) 几个":           "最小值大于最大值",
		"单选 甲\n- a\n- b\n填空 乙 [第1题选3]": "第1题没有第3个选项",
		"填空 甲\n填空 乙 [第1题选1]":           "不是选择题",
		"单选 甲\n- a\n- a":               "重复",
		"单选(1-2) 甲\n- a\n- b":          "不需要括号",
		"多选(1-2 哪些":                    "括号没有闭合",
		"单选* \n- a\n- b":               "题型后面要写题目",
		strings.Repeat("填空 题\n", 51):   "最多 50 道题",
	} {
		_, err := ParseQuestions(text)
		ie, ok := err.(*console.InputError)
		if !ok || !strings.Contains(ie.Message, want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

func TestParseChat(t *testing.T) {
	single := &Question{Seq: 1, Kind: models.SurveySingle, Options: []string{"满意", "一般", "不满意"}, MinChoices: 1, MaxChoices: 1}
	multi := &Question{Seq: 2, Kind: models.SurveyMulti, Options: []string{"a", "b", "c", "d"}, MinChoices: 1, MaxChoices: 2}
	rating := &Question{Seq: 3, Kind: models.SurveyRating, Scale: 5}
	lo, hi := 0.0, 20.0
	number := &Question{Seq: 4, Kind: models.SurveyNumber, NumMin: &lo, NumMax: &hi}
	for _, c := range []struct {
		q    *Question
		in   string
		ok   bool
		want string // answerText of the checked answer, or the hint's start
	}{
		{single, "2", true, "一般"}, {single, "２", true, "一般"}, {single, "不满意", true, "不满意"}, {single, "4", true, "没有第4个选项"},
		{single, "1 2", true, "这是单选题"}, {single, "好", false, ""},
		{multi, "1 3", true, "a；c"}, {multi, "13", true, "a；c"}, {multi, "1,3", true, "a；c"}, {multi, "3，1", true, "a；c"},
		{multi, "1、2、3", true, "最多选 2 项"}, {multi, "5", true, "没有第5个选项"}, {multi, "x", false, ""},
		{rating, "4", true, "4分"}, {rating, "4分", true, "4分"}, {rating, "6", true, "请打 1-5 分"}, {rating, "好", false, ""},
		{number, "3", true, "3"}, {number, "3.5人", true, "3.5"}, {number, "21", true, "请填 0~20"}, {number, "三", false, ""},
	} {
		a, ok := parseChat(c.q, c.in)
		if ok != c.ok {
			t.Errorf("%s %q: ok %v", c.q.Kind, c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		got := ""
		if a, err := checkAnswer(c.q, a); err != nil {
			got = err.(*AnswerError).Hint
		} else {
			got = answerText(c.q, a)
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %q → %q, want %q", c.q.Kind, c.in, got, c.want)
		}
	}
}

func TestSkipLogic(t *testing.T) {
	qs := []Question{
		{Seq: 1, Kind: models.SurveySingle, Options: []string{"a", "b", "c"}},
		{Seq: 2, Kind: models.SurveyMulti, Options: []string{"x", "y"}, ShowIfSeq: 1, ShowIfOption: 3},
		{Seq: 3, Kind: models.SurveyText, ShowIfSeq: 2, ShowIfOption: 2, Required: true},
		{Seq: 4, Kind: models.SurveyText},
	}
	ans := map[int]Answer{1: {Choices: []int{3}}, 2: {Choices: []int{1, 2}}}
	if nextSeq(qs, ans, 1) != 2 || nextSeq(qs, ans, 2) != 3 || missing(qs, ans) != 3 || prevSeq(qs, ans, 4) != 3 {
		t.Fatal("with 1=c, 2=xy every question is asked")
	}
	ans[1] = Answer{Choices: []int{1}} // 2 hidden, and 3 with it (its condition's question is not asked)
	if nextSeq(qs, ans, 1) != 4 || missing(qs, ans) != 0 || prevSeq(qs, ans, 4) != 1 {
		t.Fatal("with 1=a questions 2 and 3 are skipped")
	}
}
