package bank

import (
	"slices"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/models"
)

func TestCheck(t *testing.T) {
	single := &models.Question{Type: models.QuestionSingle, Options: `["a","b","c","d"]`, Answer: "B"}
	multi := &models.Question{Type: models.QuestionMulti, Options: `["a","b","c","d"]`, Answer: "BD"}
	judgeT := &models.Question{Type: models.QuestionJudge, Answer: "对"}
	judgeF := &models.Question{Type: models.QuestionJudge, Answer: "错"}
	blank := &models.Question{Type: models.QuestionBlank, Answer: "中国共产党|中共|CPC"}
	for _, c := range []struct {
		q          *models.Question
		given      string
		correct    bool
		normalized string
	}{
		{single, "B", true, "B"},
		{single, "b", true, "B"},
		{single, " Ｂ ", true, "B"},
		{single, "ｂ。", true, "B"},
		{single, "A", false, "A"},
		{single, "BD", false, "BD"},
		{single, "E", false, "E"},
		{single, "选B", false, ""},
		{single, "", false, ""},
		{single, "你好", false, ""},
		{multi, "BD", true, "BD"},
		{multi, "DB", true, "BD"},
		{multi, "B,D", true, "BD"},
		{multi, "B D", true, "BD"},
		{multi, "b、d", true, "BD"},
		{multi, "Ｄ，Ｂ", true, "BD"},
		{multi, "BDB", true, "BD"},
		{multi, "B", false, "B"},
		{multi, "BCD", false, "BCD"},
		{multi, "B+D", false, ""},
		{judgeT, "对", true, "对"},
		{judgeT, "對", true, "对"},
		{judgeT, "√", true, "对"},
		{judgeT, "正确", true, "对"},
		{judgeT, "T", true, "对"},
		{judgeT, "y", true, "对"},
		{judgeT, "true", true, "对"},
		{judgeT, "错", false, "错"},
		{judgeT, "×", false, "错"},
		{judgeF, "错", true, "错"},
		{judgeF, "错误", true, "错"},
		{judgeF, "×", true, "错"},
		{judgeF, "F", true, "错"},
		{judgeF, "N", true, "错"},
		{judgeF, "对", false, "对"},
		{judgeF, "也许", false, ""},
		{blank, "中国共产党", true, "中国共产党"},
		{blank, " 中国 共产党 ", true, "中国 共产党"},
		{blank, "中共。", true, "中共。"},
		{blank, "cpc", true, "cpc"},
		{blank, "ＣＰＣ", true, "CPC"},
		{blank, "C P C", true, "C P C"},
		{blank, "共产党", false, "共产党"},
		{blank, "  ", false, ""},
	} {
		correct, normalized := Check(c.q, c.given)
		if correct != c.correct || normalized != c.normalized {
			t.Errorf("Check(%s %q, %q) = %v, %q; want %v, %q", c.q.Type, c.q.Answer, c.given, correct, normalized, c.correct, c.normalized)
		}
	}
	// An answer stored unnormalized (edited by hand in the database) still works.
	if ok, _ := Check(&models.Question{Type: models.QuestionMulti, Answer: "d,b"}, "BD"); !ok {
		t.Error("unnormalized stored answer")
	}
	if ok, n := Check(&models.Question{Type: "作文", Answer: "x"}, "x"); ok || n != "" {
		t.Error("unknown type")
	}
}

func TestCheckInput(t *testing.T) {
	abcd := []string{"一", "二", "三", "四"}
	for _, c := range []struct {
		name    string
		in      Input
		field   string // "" = valid
		reason  string
		options string
		answer  string
		tags    string
	}{
		{name: "single", in: Input{Type: "单选", Stem: "题", Options: abcd, Answer: "ｃ"}, options: `["一","二","三","四"]`, answer: "C"},
		{name: "single with letters in the options", in: Input{Type: "单选题", Stem: "题", Options: []string{"A. 一", "Ｂ、二", "C：三", "D 四"}, Answer: "A"},
			options: `["一","二","三","D 四"]`, answer: "A"},
		{name: "single, trailing empty options", in: Input{Type: "單選", Stem: "题", Options: []string{"一", "二", "", ""}, Answer: "B"}, options: `["一","二"]`, answer: "B"},
		{name: "multi", in: Input{Type: "多选", Stem: "题", Options: abcd, Answer: "D, B"}, options: `["一","二","三","四"]`, answer: "BD"},
		{name: "judge", in: Input{Type: "判断", Stem: "题", Answer: "√", Options: []string{"对", "错"}}, options: `[]`, answer: "对"},
		{name: "judge words", in: Input{Type: "判断题", Stem: "题", Answer: "错误"}, options: `[]`, answer: "错"},
		{name: "blank", in: Input{Type: "填空", Stem: "题", Answer: " 中国共产党 ｜中共| 中共 ||"}, options: `[]`, answer: "中国共产党|中共"},
		{name: "tags", in: Input{Type: "判断", Stem: "题", Answer: "对", Tags: []string{"党史， 党章、党史 ;  两学 一做 "}}, options: `[]`, answer: "对", tags: "党史,党章,两学 一做"},

		{name: "no type", in: Input{Stem: "题", Answer: "对"}, field: "type", reason: "题型为空"},
		{name: "unknown type", in: Input{Type: "问答", Stem: "题", Answer: "对"}, field: "type", reason: "题型「问答」不对"},
		{name: "empty stem", in: Input{Type: "判断", Stem: " \u3000", Answer: "对"}, field: "stem", reason: "题干为空"},
		{name: "long stem", in: Input{Type: "判断", Stem: strings.Repeat("长", MaxStem+1), Answer: "对"}, field: "stem", reason: "题干太长"},
		{name: "one option", in: Input{Type: "单选", Stem: "题", Options: []string{"一"}, Answer: "A"}, field: "options", reason: "至少要有两个选项"},
		{name: "no options", in: Input{Type: "多选", Stem: "题", Answer: "AB"}, field: "options", reason: "至少要有两个选项"},
		{name: "gap in options", in: Input{Type: "单选", Stem: "题", Options: []string{"一", "", "三"}, Answer: "A"}, field: "options", reason: "选项B为空"},
		{name: "single, no answer", in: Input{Type: "单选", Stem: "题", Options: abcd}, field: "answer", reason: "答案为空"},
		{name: "single, two letters", in: Input{Type: "单选", Stem: "题", Options: abcd, Answer: "AB"}, field: "answer", reason: "只能有一个答案"},
		{name: "single, not a letter", in: Input{Type: "单选", Stem: "题", Options: abcd, Answer: "1"}, field: "answer", reason: "应填选项的字母"},
		{name: "single, outside the options", in: Input{Type: "单选", Stem: "题", Options: []string{"一", "二", "三"}, Answer: "D"}, field: "answer", reason: "D 不在选项里（只有 A–C）"},
		{name: "multi, one letter", in: Input{Type: "多选", Stem: "题", Options: abcd, Answer: "B"}, field: "answer", reason: "至少要有两个不同的字母"},
		{name: "multi, one letter twice", in: Input{Type: "多选", Stem: "题", Options: abcd, Answer: "BB"}, field: "answer", reason: "至少要有两个不同的字母"},
		{name: "multi, outside", in: Input{Type: "多选", Stem: "题", Options: abcd, Answer: "AE"}, field: "answer", reason: "E 不在选项里"},
		{name: "judge, bad", in: Input{Type: "判断", Stem: "题", Answer: "可能"}, field: "answer", reason: "应为 对 或 错"},
		{name: "judge, empty", in: Input{Type: "判断", Stem: "题"}, field: "answer", reason: "答案为空"},
		{name: "blank, empty", in: Input{Type: "填空", Stem: "题", Answer: " | ｜ "}, field: "answer", reason: "答案为空"},
		{name: "long tag", in: Input{Type: "判断", Stem: "题", Answer: "对", Tags: []string{strings.Repeat("标", MaxTag+1)}}, field: "tags", reason: "太长"},
	} {
		q, ps := check(c.in)
		if c.field == "" {
			if len(ps) > 0 {
				t.Errorf("%s: %+v", c.name, ps)
				continue
			}
			if q.options != c.options || q.answer != c.answer || q.tags != c.tags || q.key != StemKey(c.in.Stem) {
				t.Errorf("%s: got %+v", c.name, q)
			}
			continue
		}
		if len(ps) == 0 || ps[0].field != c.field || !strings.Contains(ps[0].reason, c.reason) {
			t.Errorf("%s: problems %+v, want %s: …%s…", c.name, ps, c.field, c.reason)
		}
	}
}

func TestStemKeyIgnoresSpacingWidthAndCase(t *testing.T) {
	a := StemKey("中国共产党成立于（ ）年? CPC")
	for _, s := range []string{" 中国共产党 成立于（）年？ cpc", "中国共产党成立于( )年?CPC\n", "中国共产党成立于\u3000（）年？ＣＰＣ"} {
		if StemKey(s) != a {
			t.Errorf("StemKey(%q) differs", s)
		}
	}
	if StemKey("中国共产党成立于（ ）年") == a || len(a) != 64 {
		t.Error("different stems, same key")
	}
}

func TestNormalizeType(t *testing.T) {
	for in, want := range map[string]string{
		"单选": "单选", " 单选题 ": "单选", "單選題": "单选", "单项选择题": "单选", "多选": "多选", "多選": "多选",
		"判断": "判断", "判斷題": "判断", "是非题": "判断", "填空": "填空", "填空题": "填空", "问答": "", "": "",
	} {
		if got := NormalizeType(in); got != want {
			t.Errorf("NormalizeType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDrawIsReproducibleAndUniform(t *testing.T) {
	ids := make([]uint, 100)
	for i := range ids {
		ids[i] = uint(i + 1)
	}
	a, b := draw(ids, 10, 42), draw(ids, 10, 42)
	if len(a) != 10 || !slices.Equal(a, b) {
		t.Fatalf("same seed, different draws: %v %v", a, b)
	}
	if slices.Equal(draw(ids, 10, 43), a) {
		t.Fatal("different seeds, same draw")
	}
	seen := map[uint]bool{}
	for _, id := range a {
		if seen[id] {
			t.Fatalf("drew %d twice: %v", id, a)
		}
		seen[id] = true
	}
	if got := draw(ids[:3], 10, 1); len(got) != 3 {
		t.Fatalf("more than there are: %v", got)
	}
	if ids[0] != 1 || ids[99] != 100 {
		t.Fatal("draw changed its input")
	}
	// Every id is drawn first about as often as the others.
	first := map[uint]int{}
	for seed := range int64(20000) {
		first[draw(ids[:10], 1, seed)[0]]++
	}
	for id, n := range first {
		if n < 1700 || n > 2300 {
			t.Errorf("id %d drawn first %d times of 20000", id, n)
		}
	}
}
