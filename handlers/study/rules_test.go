package study

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/models"
)

func TestReadAnswer(t *testing.T) {
	isCmd := func(s string) bool {
		return isCommandText(s, []string{"签到 — 值班签到", "学习 — 今日学习"})
	}
	for _, tc := range []struct {
		kind    string
		options int
		text    string
		want    string
		v       verdict
	}{
		{models.QuestionSingle, 4, "A", "A", isAnswer},
		{models.QuestionSingle, 4, "d", "D", isAnswer},
		{models.QuestionSingle, 4, "Ａ", "A", isAnswer},
		{models.QuestionSingle, 4, "选B", "B", isAnswer},
		{models.QuestionSingle, 4, "答案是 C", "C", isAnswer},
		{models.QuestionSingle, 4, "E", "E", needHint},
		{models.QuestionSingle, 4, "AB", "AB", needHint},
		{models.QuestionSingle, 3, "D", "D", needHint},
		{models.QuestionSingle, 4, "ok", "", notAnswer},
		{models.QuestionSingle, 4, "帮助", "", notAnswer},
		{models.QuestionSingle, 4, "签到", "", notAnswer},
		{models.QuestionSingle, 4, "对", "", needHint}, // true/false words to a choice question
		{models.QuestionJudge, 0, "A", "", needHint},  // a letter to a true/false question
		{models.QuestionMulti, 4, "bd", "BD", isAnswer},
		{models.QuestionMulti, 4, "D B", "BD", isAnswer},
		{models.QuestionMulti, 4, "B,D", "BD", isAnswer},
		{models.QuestionMulti, 4, "ＡＣ", "AC", isAnswer},
		{models.QuestionMulti, 4, "AE", "AE", needHint},
		{models.QuestionJudge, 0, "对", "对", isAnswer},
		{models.QuestionJudge, 0, "错误", "错", isAnswer},
		{models.QuestionJudge, 0, "√", "对", isAnswer},
		{models.QuestionJudge, 0, "x", "错", isAnswer},
		{models.QuestionJudge, 0, "积分", "", notAnswer},
		{models.QuestionBlank, 0, "为人民服务", "为人民服务", isAnswer},
		{models.QuestionBlank, 0, "E", "E", isAnswer},
		{models.QuestionBlank, 0, "帮助", "", notAnswer},
		{models.QuestionBlank, 0, "签到", "", notAnswer},
		{models.QuestionBlank, 0, "签到 AB12", "", notAnswer},
		{models.QuestionBlank, 0, "问 党费怎么交", "", notAnswer},
		{models.QuestionBlank, 0, "党费怎么交？", "", notAnswer},
		{models.QuestionBlank, 0, "绑定 K7M2Q9TX", "", notAnswer},
		{models.QuestionBlank, 0, "", "", notAnswer},
		{models.QuestionBlank, 0, strings.Repeat("很长", 30), "", notAnswer},
	} {
		got, v := readAnswer(tc.kind, tc.options, tc.text, isCmd)
		if v != tc.v || (v != notAnswer && got != tc.want) {
			t.Errorf("readAnswer(%s, %d, %q) = %q, %v; want %q, %v", tc.kind, tc.options, tc.text, got, v, tc.want, tc.v)
		}
	}
}

func TestDayPoints(t *testing.T) {
	rule := DefaultRule() // 2 a right answer, cap 20, +1 a streak day from day 2, at most +5
	for _, tc := range []struct {
		right, streak, cap, per int
		points, bonus           int
	}{
		{5, 1, 20, 2, 10, 0},
		{5, 2, 20, 2, 10, 1},
		{3, 4, 20, 2, 6, 3},
		{5, 6, 20, 2, 10, 5},
		{5, 30, 20, 2, 10, 5}, // the bonus's own cap
		{5, 6, 12, 2, 10, 2},  // the day's cap leaves 2
		{5, 3, 18, 4, 18, 0},  // capped answers leave no bonus
		{0, 3, 20, 2, 0, 2},   // the streak counts even on a bad day
		{4, 1, 20, 0, 0, 0},   // no points per answer
	} {
		rule.DailyPointsCap, rule.PointsPerRight = tc.cap, tc.per
		p, b := dayPoints(rule, tc.right, tc.streak)
		if p != tc.points || b != tc.bonus {
			t.Errorf("dayPoints(right %d, streak %d, cap %d, per %d) = %d+%d, want %d+%d", tc.right, tc.streak, tc.cap, tc.per, p, b, tc.points, tc.bonus)
		}
	}
}

func TestHoursAndProgressBar(t *testing.T) {
	for minutes, want := range map[int]string{0: "0", 15: "0.3", 45: "0.8", 60: "1", 105: "1.8", 3360: "56", 3375: "56.3"} {
		if got := hours(minutes); got != want {
			t.Errorf("hours(%d) = %s, want %s", minutes, got, want)
		}
	}
	for pct, want := range map[int]string{0: "░░░░░░░░░░ 0%", 9: "░░░░░░░░░░ 9%", 40: "▓▓▓▓░░░░░░ 40%", 100: "▓▓▓▓▓▓▓▓▓▓ 100%", 130: "▓▓▓▓▓▓▓▓▓▓ 130%"} {
		if got := progressBar(pct); got != want {
			t.Errorf("progressBar(%d) = %s, want %s", pct, got, want)
		}
	}
	if got := hoursLine(3400, 56); !strings.Contains(got, "已达标") {
		t.Errorf("over the target: %q", got)
	}
}

func TestNearestRuleApplies(t *testing.T) {
	county, town, village := DefaultRule(), DefaultRule(), DefaultRule()
	county.QuestionsPerTask, county.PublicRanking = 8, false
	town.QuestionsPerTask = 6
	village.QuestionsPerTask, village.PublicRanking = 3, true
	rs := rules{"洪雅县": county, "洪雅县/花溪镇": town, "洪雅县/花溪镇/郭沟村": village}
	for path, want := range map[string]int{
		"洪雅县/花溪镇/郭沟村": 3, "洪雅县/花溪镇/双河村": 6, "洪雅县/余坪镇/楠木村": 8, "洪雅县": 8, "眉山市": 5,
	} {
		r := rs.forPath(path)
		if r.QuestionsPerTask != want {
			t.Errorf("%s: %d questions, want %d", path, r.QuestionsPerTask, want)
		}
		if r.PublicRanking != (path == "眉山市") { // the county's switch, whatever the village says
			t.Errorf("%s: public ranking %v", path, r.PublicRanking)
		}
	}
	if got := ancestors("a/b/c"); !reflect.DeepEqual(got, []string{"a/b/c", "a/b", "a"}) {
		t.Errorf("ancestors = %q", got)
	}
}

func TestValidateRule(t *testing.T) {
	ok := DefaultRule()
	if err := ValidateRule(&ok); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(r *models.StudyRule){
		"no questions":   func(r *models.StudyRule) { r.QuestionsPerTask = 0 },
		"too many":       func(r *models.StudyRule) { r.QuestionsPerTask = 51 },
		"review > total": func(r *models.StudyRule) { r.ReviewPerTask = 6 },
		"bad time":       func(r *models.StudyRule) { r.PublishAt = "7:00" },
		"bad hour":       func(r *models.StudyRule) { r.RemindAt = "24:00" },
		"negative":       func(r *models.StudyRule) { r.PointsPerRight = -1 },
	} {
		r := DefaultRule()
		change(&r)
		if err := ValidateRule(&r); !errors.Is(err, ErrBadRule) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLettersInTheMembersOrder(t *testing.T) {
	q := &models.Question{Type: models.QuestionMulti, Answer: "AC"}
	order := []int{2, 0, 3, 1} // shown A is the bank's C, shown B the bank's A, ...
	if got := shownAnswer(q, order, q.Answer); got != "AB" {
		t.Errorf("the bank's AC shows as %s, want AB", got)
	}
	if got := toBankLetters(q, order, "ba"); got != "AC" {
		t.Errorf("shown BA is the bank's %s, want AC", got)
	}
	if got := toBankLetters(q, order, "E"); got != "E" {
		t.Errorf("a letter with no option: %s", got)
	}
	j := &models.Question{Type: models.QuestionJudge, Answer: "对"}
	if got := toBankLetters(j, nil, "对"); got != "对" {
		t.Errorf("judge: %s", got)
	}
	b := &models.Question{Type: models.QuestionBlank, Answer: "为人民服务|服务人民"}
	if got := shownAnswer(b, nil, b.Answer); got != "为人民服务" {
		t.Errorf("blank: %s", got)
	}
}

func TestDrawReviewsFirstSkipsOpenAndRecentQuestions(t *testing.T) {
	s := &Service{}
	var pool []poolQuestion
	byID := map[uint]int{}
	for i := 0; i < 30; i++ {
		pool = append(pool, poolQuestion{id: uint(i + 1), options: 4})
		byID[uint(i+1)] = i
	}
	cands := matching(pool, nil)
	rule := DefaultRule()
	book := []bookEntry{{question: 7, due: "2026-11-19"}, {question: 3, due: "2026-11-20"}, {question: 9, due: "2026-11-20"},
		{question: 11, due: "2026-11-25"}}
	recent := map[uint]bool{}
	for i := 12; i <= 30; i++ {
		recent[uint(i)] = true // leaves 1, 2, 4, 5, 6, 8, 10 as fresh questions
	}
	items := s.draw(42, "2026-11-20", rule, pool, byID, cands, book, recent)
	if len(items) != 5 || items[0].Q != 7 || !items[0].Review || items[1].Q != 3 || !items[1].Review || items[2].Review {
		t.Fatalf("items %+v: want the two oldest due reviews (7, 3) first, then new ones", items)
	}
	for _, it := range items[2:] {
		if it.Q == 9 || it.Q == 11 || recent[it.Q] {
			t.Fatalf("drew %d: an open wrong item or a recent question while fresh ones were left", it.Q)
		}
		if len(it.Order) != 4 {
			t.Fatalf("no option order: %+v", it)
		}
	}
	if again := s.draw(42, "2026-11-20", rule, pool, byID, cands, book, recent); !reflect.DeepEqual(again, items) {
		t.Fatal("the same member and day drew differently")
	}
	if other := s.draw(43, "2026-11-20", rule, pool, byID, cands, book, recent); reflect.DeepEqual(other, items) {
		t.Fatal("another member drew the very same task")
	}
	// A small pool still fills the task, with recent questions when nothing else is left.
	small := s.draw(42, "2026-11-20", rule, pool[:4], byID, matching(pool[:4], nil), nil, map[uint]bool{1: true, 2: true})
	if len(small) != 4 {
		t.Fatalf("a pool of 4 gave %d items", len(small))
	}
}

func TestRepliesFitWeChatsLimit(t *testing.T) {
	long := strings.Repeat("党", 1000)
	got := fitFeedback(textRight, long, strings.Repeat("题", 600))
	if len(got) > maxReplyBytes || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	short := fitFeedback(textRight, long, "下一题")
	if !strings.Contains(short, "解析："+strings.Repeat("党", maxExplanationRunes-1)+"…") {
		t.Fatalf("explanation not shortened: %s", short[:100])
	}
	if got := fit("", strings.Repeat("很", 1000)); len(got) > maxReplyBytes || !utf8.ValidString(got) {
		t.Fatalf("fit: %d bytes", len(got))
	}
}
