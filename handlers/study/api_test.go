package study_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The mini-program's study API as a client sees it (server/openapi/mp_study.json).

type mpsOption struct {
	Letter string `json:"letter"`
	Text   string `json:"text"`
}

type mpsItem struct {
	ID          uint        `json:"id"`
	Type        string      `json:"type"`
	Stem        string      `json:"stem"`
	Options     []mpsOption `json:"options"`
	Review      bool        `json:"review"`
	Answered    bool        `json:"answered"`
	Given       *string     `json:"given"`
	Correct     *bool       `json:"correct"`
	Answer      *string     `json:"answer"`
	Explanation *string     `json:"explanation"`
}

type mpsProgress struct{ Answered, Right, Total int }

type mpsSummary struct {
	Right       int     `json:"right"`
	Total       int     `json:"total"`
	Points      int     `json:"points"`
	Bonus       int     `json:"bonus"`
	Streak      int     `json:"streak"`
	YearMinutes int     `json:"year_minutes"`
	YearHours   float64 `json:"year_hours"`
	TargetHours int     `json:"target_hours"`
}

type mpsToday struct {
	Day       string      `json:"day"`
	Items     []mpsItem   `json:"items"`
	Progress  mpsProgress `json:"progress"`
	Completed bool        `json:"completed"`
	Summary   *mpsSummary `json:"summary"`
}

type mpsAnswer struct {
	QuestionID uint   `json:"question_id"`
	Answer     string `json:"answer"`
}

type mpsResult struct {
	QuestionID  uint   `json:"question_id"`
	Correct     bool   `json:"correct"`
	Given       string `json:"given"`
	Answer      string `json:"answer"`
	Explanation string `json:"explanation"`
	Duplicate   bool   `json:"duplicate"`
}

type mpsAnswers struct {
	Day       string      `json:"day"`
	Results   []mpsResult `json:"results"`
	Progress  mpsProgress `json:"progress"`
	Completed bool        `json:"completed"`
	Summary   *mpsSummary `json:"summary"`
}

type mpsError struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	Field      string `json:"field"`
	QuestionID uint   `json:"question_id"`
}

// mpsLogIn logs a mini-program user in (wx.login's code mapped to openID by the fake WeChat API) and
// binds him with code; it returns his session token.
func mpsLogIn(t *testing.T, env *consoletest.Env, openID, code string) string {
	t.Helper()
	env.Fake.AddSession("code-"+openID, openID, "union-"+openID)
	var login struct {
		Token string `json:"token"`
	}
	if st, body := env.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": "code-" + openID}, &login); st != http.StatusOK {
		t.Fatalf("mini-program login: %d %s", st, body)
	}
	if code != "" {
		if st, body := env.API(login.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": code}, nil); st != http.StatusOK {
			t.Fatalf("mini-program bind: %d %s", st, body)
		}
	}
	return login.Token
}

// mpsBind logs the mini-program user openID in and binds him to the demo member with this name. A
// member already bound on the official account has used his code up, and the roster gives a bound
// member no other (the console's 重新生成绑定码 refuses him): he gets one here, as the one-time code
// the secretary would hand him for his second WeChat entrance.
func mpsBind(t *testing.T, env *consoletest.Env, openID, name string) string {
	t.Helper()
	db := env.App.DB()
	var m models.Member
	if err := db.Where("name = ?", name).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	if m.BindCode == nil {
		code := mpsTestCode(m.ID)
		if err := db.Model(&models.Member{}).Where("id = ?", m.ID).Update("bind_code", code).Error; err != nil {
			t.Fatal(err)
		}
		m.BindCode = &code
	}
	return mpsLogIn(t, env, openID, *m.BindCode)
}

// mpsTestCode is a bind code of the roster's alphabet no demo member holds (they are random).
func mpsTestCode(id uint) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	code := []byte("ZZ")
	for n := uint(id); len(code) < 8; n /= uint(len(alphabet)) {
		code = append(code, alphabet[n%uint(len(alphabet))])
	}
	return string(code)
}

func mpsGet(t *testing.T, env *consoletest.Env, tok, path string, out any) string {
	t.Helper()
	st, body := env.API(tok, http.MethodGet, path, nil, out)
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, st, body)
	}
	return body
}

func mpsPost(t *testing.T, env *consoletest.Env, tok string, in any) mpsAnswers {
	t.Helper()
	var out mpsAnswers
	if st, body := env.API(tok, http.MethodPost, "/api/v1/mp/study/answers", in, &out); st != http.StatusOK {
		t.Fatalf("POST answers: %d %s", st, body)
	}
	return out
}

// mpsRefused posts answers that must be refused with status, and returns the error.
func mpsRefused(t *testing.T, env *consoletest.Env, tok string, in any, status int) mpsError {
	t.Helper()
	st, body := env.API(tok, http.MethodPost, "/api/v1/mp/study/answers", in, nil)
	var e mpsError
	if err := json.Unmarshal([]byte(body), &e); st != status || err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("POST %v: %d %s, want %d with an error body", in, st, body, status)
	}
	return e
}

func mpsBatch(as ...mpsAnswer) map[string]any { return map[string]any{"answers": as} }

// mpsRight is the right answer to an item as the member sees it: letters in his order for choices.
func mpsRight(t *testing.T, db *gorm.DB, it mpsItem) string {
	t.Helper()
	var q models.Question
	if err := db.Take(&q, it.ID).Error; err != nil {
		t.Fatal(err)
	}
	switch q.Type {
	case models.QuestionSingle, models.QuestionMulti:
		var opts []string
		json.Unmarshal([]byte(q.Options), &opts)
		var out string
		for _, o := range it.Options {
			for _, l := range q.Answer {
				if opts[l-'A'] == o.Text {
					out += o.Letter
				}
			}
		}
		if len(out) != len(q.Answer) {
			t.Fatalf("options %+v do not hold the answer %s of %s", it.Options, q.Answer, q.Options)
		}
		return out
	case models.QuestionBlank:
		alt, _, _ := strings.Cut(q.Answer, "|")
		return alt
	}
	return q.Answer
}

// mpsWrong is a wrong answer to an item.
func mpsWrong(t *testing.T, db *gorm.DB, it mpsItem) string {
	t.Helper()
	right := mpsRight(t, db, it)
	switch it.Type {
	case models.QuestionSingle, models.QuestionMulti:
		for _, o := range it.Options {
			if !strings.Contains(right, o.Letter) {
				return o.Letter
			}
		}
	case models.QuestionJudge:
		if right == "对" {
			return "错"
		}
		return "对"
	}
	return "不记得了"
}

// mpsFinish answers every open question of today's task in one call, the first `wrong` of them wrongly.
func mpsFinish(t *testing.T, env *consoletest.Env, tok string, wrong int) mpsAnswers {
	t.Helper()
	var today mpsToday
	mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	var as []mpsAnswer
	for _, it := range today.Items {
		if it.Answered {
			continue
		}
		a := mpsRight(t, env.App.DB(), it)
		if len(as) < wrong {
			a = mpsWrong(t, env.App.DB(), it)
		}
		as = append(as, mpsAnswer{it.ID, a})
	}
	return mpsPost(t, env, tok, map[string]any{"day": today.Day, "answers": as})
}

type mpsLedger struct{ N, Points, Minutes int }

func mpsLedgerOf(t *testing.T, db *gorm.DB, memberID uint) mpsLedger {
	t.Helper()
	var s mpsLedger
	if err := db.Model(&models.LedgerEntry{}).Where("member_id = ?", memberID).
		Select("COUNT(*) AS n, COALESCE(SUM(CASE WHEN kind = 'points' THEN amount ELSE 0 END), 0) AS points, " +
			"COALESCE(SUM(CASE WHEN kind = 'minutes' THEN amount ELSE 0 END), 0) AS minutes").Scan(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

func mpsTarget(t *testing.T, db *gorm.DB, memberID uint) int {
	t.Helper()
	var m models.Member
	db.Take(&m, memberID)
	if h, ok := study.DefaultHoursTarget()[m.Role]; ok {
		return h
	}
	return study.TargetOtherRoles
}

// TestMPStudyAllAtOnce: today's task, every answer in one call (in another order than asked, one of
// them wrong), the summary, the ledger credited once; the same call again changes nothing; then the
// history, the figures and the wrong-answer book.
func TestMPStudyAllAtOnce(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	tok := mpsBind(t, env, "mp-li", "李秀英")
	me := memberID(t, db, "李秀英")

	var today mpsToday
	body := mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	if today.Day != "2026-11-20" || len(today.Items) != 5 || today.Progress != (mpsProgress{0, 0, 5}) || today.Completed || today.Summary != nil {
		t.Fatalf("today before answering: %s", body)
	}
	for _, leak := range []string{`"given"`, `"correct"`, `"answer"`, `"explanation"`, `"summary"`, "解析"} {
		if strings.Contains(body, leak) {
			t.Fatalf("today shows %s before the questions are answered: %s", leak, body)
		}
	}
	for _, it := range today.Items {
		var q models.Question
		db.Take(&q, it.ID)
		if it.Type != q.Type || it.Stem != q.Stem || it.Answered {
			t.Fatalf("item %+v is not question %+v", it, q)
		}
		var bankOpts []string
		json.Unmarshal([]byte(q.Options), &bankOpts)
		if len(it.Options) != len(bankOpts) {
			t.Fatalf("item %d: options %+v, the bank has %q", it.ID, it.Options, bankOpts)
		}
		for i, o := range it.Options {
			if o.Letter != string(rune('A'+i)) || !strings.Contains(q.Options, `"`+o.Text+`"`) {
				t.Fatalf("item %d: option %d is %+v", it.ID, i, o)
			}
		}
	}

	// All at once, last question first; the first question asked is answered wrongly.
	var as []mpsAnswer
	want := map[uint]bool{}
	for i := len(today.Items) - 1; i >= 0; i-- {
		it := today.Items[i]
		a, right := mpsRight(t, db, it), true
		if i == 0 {
			a, right = mpsWrong(t, db, it), false
		}
		as = append(as, mpsAnswer{it.ID, a})
		want[it.ID] = right
	}
	res := mpsPost(t, env, tok, map[string]any{"day": today.Day, "answers": as})
	wantSummary := mpsSummary{Right: 4, Total: 5, Points: 8, Bonus: 0, Streak: 1, YearMinutes: 15, YearHours: 0.3, TargetHours: mpsTarget(t, db, me)}
	if len(res.Results) != 5 || res.Progress != (mpsProgress{5, 4, 5}) || !res.Completed || res.Summary == nil || *res.Summary != wantSummary {
		t.Fatalf("answers: %+v, want summary %+v", res, wantSummary)
	}
	for i, r := range res.Results {
		if r.QuestionID != as[i].QuestionID || r.Correct != want[r.QuestionID] || r.Duplicate || r.Given != as[i].Answer {
			t.Fatalf("result %d = %+v for answer %+v", i, r, as[i])
		}
		it := today.Items[len(as)-1-i]
		if r.Answer != mpsRight(t, db, it) || !strings.Contains(r.Explanation, "的解析") {
			t.Fatalf("result %d = %+v, the right answer is %s", i, r, mpsRight(t, db, it))
		}
	}
	credited := mpsLedger{N: 2, Points: 8, Minutes: 15}
	if got := mpsLedgerOf(t, db, me); got != credited {
		t.Fatalf("ledger = %+v, want %+v", got, credited)
	}

	// Today now shows what he answered, the right answers and the summary.
	body = mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	if !today.Completed || today.Summary == nil || *today.Summary != wantSummary || today.Progress != (mpsProgress{5, 4, 5}) {
		t.Fatalf("today after answering: %s", body)
	}
	for i, it := range today.Items {
		right := mpsRight(t, db, it)
		if !it.Answered || it.Given == nil || it.Correct == nil || *it.Correct != (i != 0) || it.Answer == nil || *it.Answer != right ||
			it.Explanation == nil || (*it.Given == right) != *it.Correct {
			t.Fatalf("answered item %d: %+v", i, it)
		}
	}

	// The same answers again (a double tap, a retry): the first results, nothing changes.
	again := mpsPost(t, env, tok, mpsBatch(as...))
	for i, r := range again.Results {
		if !r.Duplicate || r.Correct != res.Results[i].Correct || r.Given != res.Results[i].Given || r.Answer != res.Results[i].Answer {
			t.Fatalf("result %d again = %+v, first %+v", i, r, res.Results[i])
		}
	}
	if again.Summary == nil || *again.Summary != wantSummary || again.Progress != res.Progress {
		t.Fatalf("answers again: %+v", again)
	}
	if got := mpsLedgerOf(t, db, me); got != credited {
		t.Fatalf("ledger after answering again = %+v, want %+v", got, credited)
	}
	var n int64
	db.Model(&models.StudyAnswer{}).Where("member_id = ?", me).Count(&n)
	if n != 5 {
		t.Fatalf("%d answers recorded, want 5", n)
	}
	var q0 models.Question
	db.Take(&q0, today.Items[0].ID)
	if q0.Attempts != 1 || q0.Correct != 0 {
		t.Fatalf("the bank counted %d attempts, %d right, of the wrong question", q0.Attempts, q0.Correct)
	}

	var history struct {
		Items []struct {
			Day       string `json:"day"`
			Right     int    `json:"right"`
			Answered  int    `json:"answered"`
			Total     int    `json:"total"`
			Points    int    `json:"points"`
			Completed bool   `json:"completed"`
		} `json:"items"`
		Total   int `json:"total"`
		Page    int `json:"page"`
		PerPage int `json:"per_page"`
	}
	body = mpsGet(t, env, tok, "/api/v1/mp/study/history", &history)
	if history.Total != 1 || history.Page != 1 || history.PerPage != 20 || len(history.Items) != 1 {
		t.Fatalf("history: %s", body)
	}
	if h := history.Items[0]; h.Day != "2026-11-20" || h.Right != 4 || h.Answered != 5 || h.Total != 5 || h.Points != 8 || !h.Completed {
		t.Fatalf("history: %s", body)
	}
	if st, body := env.API(tok, http.MethodGet, "/api/v1/mp/study/history?page=0", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, `"field":"page"`) {
		t.Fatalf("history page 0: %d %s", st, body)
	}
	mpsGet(t, env, tok, "/api/v1/mp/study/history?page=2", &history)
	if len(history.Items) != 0 || history.Total != 1 || history.Page != 2 {
		t.Fatalf("history page 2: %+v", history)
	}

	var stats map[string]any
	body = mpsGet(t, env, tok, "/api/v1/mp/study/stats", &stats)
	for k, v := range map[string]float64{"year": 2026, "points": 8, "year_points": 8, "streak": 1, "best_streak": 1,
		"year_minutes": 15, "year_hours": 0.3, "target_hours": float64(wantSummary.TargetHours), "year_answers": 5, "year_right": 4, "accuracy": 80} {
		if stats[k] != v {
			t.Fatalf("stats %s = %v, want %v: %s", k, stats[k], v, body)
		}
	}
	if stats["done_today"] != true {
		t.Fatalf("stats: %s", body)
	}

	// The wrong answer is in the book, due tomorrow, with the bank's own letters.
	var book struct {
		Items []struct {
			Question struct {
				ID          uint        `json:"id"`
				Type        string      `json:"type"`
				Stem        string      `json:"stem"`
				Options     []mpsOption `json:"options"`
				Answer      string      `json:"answer"`
				Explanation string      `json:"explanation"`
			} `json:"question"`
			Misses    int    `json:"misses"`
			Stage     int    `json:"stage"`
			DueDay    string `json:"due_day"`
			LastWrong string `json:"last_wrong"`
		} `json:"items"`
		Total int `json:"total"`
	}
	body = mpsGet(t, env, tok, "/api/v1/mp/study/wrong", &book)
	if book.Total != 1 || len(book.Items) != 1 {
		t.Fatalf("wrong-answer book: %s", body)
	}
	w := book.Items[0]
	wantAnswer, _, _ := strings.Cut(q0.Answer, "|")
	if w.Question.ID != q0.ID || w.Question.Type != q0.Type || w.Question.Stem != q0.Stem || w.Question.Answer != wantAnswer ||
		w.Question.Explanation != q0.Explanation || w.Misses != 1 || w.Stage != 0 || w.DueDay != "2026-11-21" || w.LastWrong != "2026-11-20" {
		t.Fatalf("wrong-answer book: %s", body)
	}
	var bankOpts []string
	json.Unmarshal([]byte(q0.Options), &bankOpts)
	for i, o := range w.Question.Options {
		if o.Letter != string(rune('A'+i)) || o.Text != bankOpts[i] {
			t.Fatalf("book options %+v, the bank's %q", w.Question.Options, bankOpts)
		}
	}
	// Another member's book is his own.
	other := mpsBind(t, env, "mp-zhang", "张国华")
	mpsGet(t, env, other, "/api/v1/mp/study/wrong", &book)
	if book.Total != 0 || len(book.Items) != 0 {
		t.Fatalf("another member's book: %+v", book)
	}
}

// TestMPStudyChatAndAPIShareOneTask: a member bound on the official account and on the mini-program
// answers the first question in the chat and the rest in the API: one task, every answer once, one
// credit, and each side knows what the other did.
func TestMPStudyChatAndAPIShareOneTask(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	zh := newChatter(env, "oa-zhang", "张国华")
	tok := mpsBind(t, env, "mp-zhang", "张国华")
	me := memberID(t, db, "张国华")
	var who struct {
		Bound  bool `json:"bound"`
		Member struct {
			ID uint `json:"id"`
		} `json:"member"`
	}
	if mpsGet(t, env, tok, "/api/v1/mp/me", &who); !who.Bound || who.Member.ID != me {
		t.Fatalf("the mini-program user is not 张国华 (%d): %+v", me, who)
	}

	sh := prompt(t, zh.say("学习"))
	chatAnswer := rightAnswer(t, db, sh)
	mustContain(t, "the chat's answer", zh.say(chatAnswer), "✅ 回答正确", "第2题/共5题")

	var today mpsToday
	mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	first := today.Items[0]
	if first.Stem != sh.stem || !first.Answered || first.Correct == nil || !*first.Correct || first.Given == nil || *first.Given != chatAnswer ||
		today.Progress != (mpsProgress{1, 1, 5}) || today.Completed {
		t.Fatalf("today after the chat's answer: %+v", today)
	}
	for i, o := range first.Options {
		if o.Text != sh.options[i] {
			t.Fatalf("the API's options %+v are not the chat's %q", first.Options, sh.options)
		}
	}

	// The rest in the API, and the chat's question again with another answer: its first result stands.
	as := []mpsAnswer{{first.ID, mpsWrong(t, db, first)}}
	for _, it := range today.Items[1:] {
		as = append(as, mpsAnswer{it.ID, mpsRight(t, db, it)})
	}
	res := mpsPost(t, env, tok, mpsBatch(as...))
	if r := res.Results[0]; !r.Duplicate || !r.Correct || r.Given != chatAnswer {
		t.Fatalf("the chat's question answered again in the API: %+v", r)
	}
	if !res.Completed || res.Summary == nil || res.Summary.Points != 10 || res.Summary.Right != 5 || res.Progress != (mpsProgress{5, 5, 5}) {
		t.Fatalf("answers: %+v", res)
	}

	var tasks []models.StudyTask
	db.Where("member_id = ?", me).Find(&tasks)
	if len(tasks) != 1 || tasks[0].Answered != 5 || tasks[0].CompletedAt == nil {
		t.Fatalf("tasks of 张国华: %+v", tasks)
	}
	var entries []models.LedgerEntry
	db.Where("member_id = ?", me).Order("kind").Find(&entries)
	src := fmt.Sprint("task:", tasks[0].ID)
	if len(entries) != 2 || entries[0].Kind != models.LedgerMinutes || entries[0].Source != src || entries[0].Amount != 15 ||
		entries[1].Kind != models.LedgerPoints || entries[1].Source != src || entries[1].Amount != 10 {
		t.Fatalf("ledger of 张国华: %+v", entries)
	}
	// The chat knows the task is done.
	mustContain(t, "学习 after the API", zh.say("学习"), "今天的学习已完成", "答对 5/5 题，积分 +10")
}

// TestMPStudyRefusals: what the answers call refuses, and that a refused batch records nothing.
func TestMPStudyRefusals(t *testing.T) {
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 20)
	tok := mpsBind(t, env, "mp-wang", "王德明")
	me := memberID(t, db, "王德明")

	// Without a session, and unbound.
	if st, body := env.API("", http.MethodGet, "/api/v1/mp/study/today", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("no token: %d %s", st, body)
	}
	unbound := mpsLogIn(t, env, "mp-nobody", "")
	for _, p := range []string{"today", "history", "wrong", "stats", "board"} {
		if st, body := env.API(unbound, http.MethodGet, "/api/v1/mp/study/"+p, nil, nil); st != http.StatusForbidden || !strings.Contains(body, "not_bound") {
			t.Fatalf("%s unbound: %d %s", p, st, body)
		}
	}
	if st, body := env.API(unbound, http.MethodPost, "/api/v1/mp/study/answers", mpsBatch(mpsAnswer{1, "A"}), nil); st != http.StatusForbidden {
		t.Fatalf("answers unbound: %d %s", st, body)
	}

	var today mpsToday
	mpsGet(t, env, tok, "/api/v1/mp/study/today", &today)
	byType := map[string]mpsItem{}
	for _, it := range today.Items {
		if _, ok := byType[it.Type]; !ok {
			byType[it.Type] = it
		}
	}
	judge, okJ := byType[models.QuestionJudge]
	single, okS := byType[models.QuestionSingle]
	if !okJ || !okS {
		t.Fatalf("today's task has no 判断 or no 单选: %+v", today.Items)
	}
	var other mpsItem
	for _, it := range today.Items {
		if it.ID != judge.ID && it.ID != single.ID {
			other = it
			break
		}
	}
	if other.ID == 0 {
		t.Fatalf("today's task has only the 判断 and the 单选: %+v", today.Items)
	}

	for name, c := range map[string]struct {
		in    any
		field string
		qid   uint
	}{
		"no answers":        {mpsBatch(), "answers", 0},
		"no question id":    {mpsBatch(mpsAnswer{0, "A"}), "answers[0].question_id", 0},
		"a question twice":  {mpsBatch(mpsAnswer{single.ID, "A"}, mpsAnswer{single.ID, "B"}), "answers[1].question_id", single.ID},
		"not in the task":   {mpsBatch(mpsAnswer{other.ID, mpsRight(t, db, other)}, mpsAnswer{999999, "A"}), "answers[1].question_id", 999999},
		"no such option":    {mpsBatch(mpsAnswer{single.ID, "F"}), "answers[0].answer", single.ID},
		"two to a 单选":       {mpsBatch(mpsAnswer{single.ID, "AB"}), "answers[0].answer", single.ID},
		"a word to a 单选":    {mpsBatch(mpsAnswer{single.ID, "第一个"}), "answers[0].answer", single.ID},
		"a word to a 判断":    {mpsBatch(mpsAnswer{other.ID, mpsRight(t, db, other)}, mpsAnswer{judge.ID, "也许吧"}), "answers[1].answer", judge.ID},
		"a bad day":         {map[string]any{"day": "2026-13-01", "answers": []mpsAnswer{{single.ID, "A"}}}, "day", 0},
		"a day without one": {map[string]any{"day": "2026-01-01", "answers": []mpsAnswer{{single.ID, "A"}}}, "day", 0},
		"too long":          {mpsBatch(mpsAnswer{other.ID, strings.Repeat("长", 201)}), "answers[0].answer", other.ID},
	} {
		e := mpsRefused(t, env, tok, c.in, http.StatusBadRequest)
		if e.Error != "invalid" || e.Field != c.field || e.QuestionID != c.qid {
			t.Errorf("%s: %+v, want field %s, question %d", name, e, c.field, c.qid)
		}
	}
	if e := mpsRefused(t, env, tok, mpsBatch(mpsAnswer{judge.ID, "也许吧"}), http.StatusBadRequest); !strings.Contains(e.Message, "判断") {
		t.Errorf("the message does not say how to answer a 判断: %+v", e)
	}
	if st, body := env.API(tok, http.MethodPost, "/api/v1/mp/study/answers", "{", nil); st != http.StatusBadRequest {
		t.Fatalf("a body that is not JSON: %d %s", st, body)
	}
	// A refused batch recorded nothing, not even its good answers.
	var n int64
	db.Model(&models.StudyAnswer{}).Where("member_id = ?", me).Count(&n)
	if n != 0 {
		t.Fatalf("%d answers recorded by refused batches", n)
	}
	// The chat's words for 判断 are answers here too.
	judgeWord := map[string]string{"对": "对的", "错": "不对"}[mpsRight(t, db, judge)]
	if r := mpsPost(t, env, tok, mpsBatch(mpsAnswer{judge.ID, judgeWord})).Results[0]; !r.Correct || r.Given != mpsRight(t, db, judge) {
		t.Fatalf("判断 answered %q: %+v", judgeWord, r)
	}

	// The next day, yesterday's task takes no more answers: 409 with its day, or without a day for a
	// question of it; its answered question still gets its first result.
	setDay(env, "2026-11-21")
	open := single
	e := mpsRefused(t, env, tok, map[string]any{"day": "2026-11-20", "answers": []mpsAnswer{{judge.ID, judgeWord}, {open.ID, mpsRight(t, db, open)}}}, http.StatusConflict)
	if e.Error != "task_closed" || e.Field != "answers[1].question_id" || e.QuestionID != open.ID {
		t.Fatalf("yesterday's task: %+v", e)
	}
	var tomorrow mpsToday
	mpsGet(t, env, tok, "/api/v1/mp/study/today", &tomorrow)
	inToday := false
	for _, it := range tomorrow.Items {
		inToday = inToday || it.ID == open.ID
	}
	if !inToday {
		if e := mpsRefused(t, env, tok, mpsBatch(mpsAnswer{open.ID, mpsRight(t, db, open)}), http.StatusConflict); e.Error != "task_closed" {
			t.Fatalf("a question of yesterday's task without a day: %+v", e)
		}
	}
	res := mpsPost(t, env, tok, map[string]any{"day": "2026-11-20", "answers": []mpsAnswer{{judge.ID, "随便"}}})
	if r := res.Results[0]; !r.Duplicate || !r.Correct || res.Day != "2026-11-20" || res.Completed || res.Progress != (mpsProgress{1, 1, 5}) {
		t.Fatalf("yesterday's answered question again: %+v", res)
	}
	db.Model(&models.StudyAnswer{}).Where("member_id = ?", me).Count(&n)
	if n != 1 {
		t.Fatalf("%d answers recorded, want 1", n)
	}
}

// TestMPStudyBoard: the top of his village's and town's boards with his places; with ranking off for
// his county, his own figures only.
func TestMPStudyBoard(t *testing.T) {
	ctx := context.Background()
	env := consoletest.New(t)
	db := env.App.DB()
	addQuestions(t, db, 40)
	li := mpsBind(t, env, "mp-li", "李秀英")
	zh := mpsBind(t, env, "mp-zhang", "张国华")
	mpsFinish(t, env, li, 1) // 8 points
	mpsFinish(t, env, zh, 0) // 10

	type line struct {
		Rank   int    `json:"rank"`
		Name   string `json:"name"`
		Points int    `json:"points"`
		Me     bool   `json:"me"`
	}
	type board struct {
		Ranking    bool `json:"ranking"`
		Year       int  `json:"year"`
		YearPoints int  `json:"year_points"`
		Points     int  `json:"points"`
		Boards     []struct {
			OrgID   uint   `json:"org_id"`
			OrgName string `json:"org_name"`
			Rank    int    `json:"rank"`
			Top     []line `json:"top"`
		} `json:"boards"`
	}
	var b board
	body := mpsGet(t, env, li, "/api/v1/mp/study/board", &b)
	if !b.Ranking || b.Year != 2026 || b.YearPoints != 8 || b.Points != 8 || len(b.Boards) != 2 {
		t.Fatalf("board: %s", body)
	}
	wantTop := []line{{1, "张国华", 10, false}, {2, "李秀英", 8, true}}
	for i, name := range []string{"郭沟村", "花溪镇"} {
		got := b.Boards[i]
		if got.OrgName != name || got.Rank != 2 || fmt.Sprint(got.Top) != fmt.Sprint(wantTop) {
			t.Fatalf("board of %s: %+v", name, got)
		}
	}
	if b.Boards[0].OrgID != orgID(t, db, "洪雅县/花溪镇/郭沟村") || b.Boards[1].OrgID != orgID(t, db, "洪雅县/花溪镇") {
		t.Fatalf("board orgs: %s", body)
	}

	// The county turns ranking off (a village rule cannot turn it back on): his own figures only.
	svc := newService(env)
	rule := study.DefaultRule()
	rule.PublicRanking = false
	if err := svc.SetRule(ctx, orgID(t, db, "洪雅县"), rule); err != nil {
		t.Fatal(err)
	}
	rule.PublicRanking = true
	if err := svc.SetRule(ctx, orgID(t, db, "洪雅县/花溪镇/郭沟村"), rule); err != nil {
		t.Fatal(err)
	}
	body = mpsGet(t, env, li, "/api/v1/mp/study/board", &b)
	var raw map[string]any
	json.Unmarshal([]byte(body), &raw)
	if raw["ranking"] != false || raw["year_points"] != float64(8) || raw["points"] != float64(8) || len(raw) != 4 || strings.Contains(body, "张国华") {
		t.Fatalf("board with ranking off: %s", body)
	}
}
