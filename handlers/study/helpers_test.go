package study_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// addQuestions retires what the bank holds (the demo's questions) and puts n questions in, a quarter of
// each type, tagged 党章 (even) or 党史 (odd). Stems and option texts are unique, so a reply can be
// traced back to its question.
func addQuestions(t testing.TB, db *gorm.DB, n int) []models.Question {
	t.Helper()
	retireAll(t, db)
	qs := make([]models.Question, n)
	for i := range qs {
		q := models.Question{Stem: fmt.Sprintf("测试题%04d：关于党的建设，下列说法哪个符合要求？", i),
			Explanation: fmt.Sprintf("第%d题的解析：依据党章有关规定。", i), Tags: "党章", Active: true, Options: "[]"}
		if i%2 == 1 {
			q.Tags = "党史"
		}
		opts := func() string {
			b, _ := json.Marshal([]string{fmt.Sprintf("选项%d甲", i), fmt.Sprintf("选项%d乙", i), fmt.Sprintf("选项%d丙", i), fmt.Sprintf("选项%d丁", i)})
			return string(b)
		}
		switch i % 4 {
		case 0:
			q.Type, q.Options, q.Answer = models.QuestionSingle, opts(), string(rune('A'+i/4%4))
		case 1:
			q.Type, q.Options, q.Answer = models.QuestionMulti, opts(), []string{"AC", "BD", "ABC", "CD"}[i/4%4]
		case 2:
			q.Type, q.Answer = models.QuestionJudge, []string{"对", "错"}[i/4%2]
		case 3:
			q.Type, q.Answer = models.QuestionBlank, fmt.Sprintf("答案%d|答%d", i, i)
		}
		sum := sha256.Sum256([]byte(q.Stem))
		q.StemKey = hex.EncodeToString(sum[:])
		qs[i] = q
	}
	if err := db.CreateInBatches(qs, 500).Error; err != nil {
		t.Fatal(err)
	}
	return qs
}

// retireAll retires every question of the bank.
func retireAll(t testing.TB, db *gorm.DB) {
	t.Helper()
	if err := db.Model(&models.Question{}).Where("active = ?", true).Update("active", false).Error; err != nil {
		t.Fatal(err)
	}
}

// newService is a study service on the test server's database and Redis, with its clock: the server's
// own is the same code on the same data (the service keeps no state of its own).
func newService(env *consoletest.Env) *study.Service {
	return study.New(study.Options{DB: env.App.DB(), Redis: env.App.Redis().Client, Log: testenv.Logger(), Now: env.Clock.Now,
		Location: env.App.Config().Location})
}

func orgID(t testing.TB, db *gorm.DB, path string) uint {
	t.Helper()
	var o models.Org
	if err := db.Where("path = ?", path).Take(&o).Error; err != nil {
		t.Fatalf("org %s: %v", path, err)
	}
	return o.ID
}

func memberID(t testing.TB, db *gorm.DB, name string) uint {
	t.Helper()
	var m models.Member
	if err := db.Where("name = ?", name).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return m.ID
}

// setDay moves the server's clock to 08:00 of day.
func setDay(env *consoletest.Env, day string) {
	d, err := time.ParseInLocation("2006-01-02", day, env.App.Config().Location)
	if err != nil {
		env.T.Fatal(err)
	}
	env.Clock.Add(d.Add(8 * time.Hour).Sub(env.Clock.Now()))
}

// chatter is a bound WeChat user talking to the server.
type chatter struct {
	t      testing.TB
	env    *consoletest.Env
	c      *wxclient.Client
	openID string
}

func newChatter(env *consoletest.Env, openID, name string) *chatter {
	env.BindAs(openID, name)
	return &chatter{t: env.T, env: env, c: env.OA(), openID: openID}
}

func (ch *chatter) say(text string) string {
	ch.t.Helper()
	return ch.env.Send(ch.c.Text(ch.openID, text))
}

// shown is a question as a reply shows it.
type shown struct {
	index, total int
	kind         string
	review       bool
	stem         string
	options      []string // in the member's order
}

var (
	promptRe = regexp.MustCompile(`第(\d+)题/共(\d+)题 · (单选|多选|判断|填空)(（错题回顾）)?\n([^\n]+)`)
	optionRe = regexp.MustCompile(`(?m)^([A-Z])\. (.+)$`)
)

// prompt finds the question a reply asks; it fails the test when there is none.
func prompt(t testing.TB, reply string) shown {
	t.Helper()
	m := promptRe.FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("no question in the reply:\n%s", reply)
	}
	var sh shown
	fmt.Sscan(m[1], &sh.index)
	fmt.Sscan(m[2], &sh.total)
	sh.kind, sh.review, sh.stem = m[3], m[4] != "", m[5]
	rest := reply[strings.Index(reply, m[5])+len(m[5]):]
	for _, o := range optionRe.FindAllStringSubmatch(rest, -1) {
		sh.options = append(sh.options, o[2])
	}
	return sh
}

func question(t testing.TB, db *gorm.DB, stem string) models.Question {
	t.Helper()
	var q models.Question
	if err := db.Where("stem = ?", stem).Take(&q).Error; err != nil {
		t.Fatalf("question %q: %v", stem, err)
	}
	return q
}

// rightAnswer is what the member must send to answer sh rightly: letters in his order for choices.
func rightAnswer(t testing.TB, db *gorm.DB, sh shown) string {
	t.Helper()
	q := question(t, db, sh.stem)
	switch q.Type {
	case models.QuestionSingle, models.QuestionMulti:
		var opts []string
		json.Unmarshal([]byte(q.Options), &opts)
		var out string
		for i, o := range sh.options {
			for _, l := range q.Answer {
				if opts[l-'A'] == o {
					out += string(rune('A' + i))
				}
			}
		}
		if len(out) != len(q.Answer) {
			t.Fatalf("options shown %q do not hold the answer %s of %q", sh.options, q.Answer, q.Options)
		}
		return out
	case models.QuestionBlank:
		alt, _, _ := strings.Cut(q.Answer, "|")
		return alt
	}
	return q.Answer
}

// wrongAnswer is a wrong answer to sh.
func wrongAnswer(t testing.TB, db *gorm.DB, sh shown) string {
	t.Helper()
	right := rightAnswer(t, db, sh)
	switch sh.kind {
	case models.QuestionSingle, models.QuestionMulti:
		for i := range sh.options {
			if l := string(rune('A' + i)); !strings.Contains(right, l) {
				return l
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

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

func publish(t testing.TB, svc *study.Service, day string) int {
	t.Helper()
	n, err := svc.Publish(context.Background(), day)
	if err != nil {
		t.Fatalf("publish %s: %v", day, err)
	}
	return n
}
