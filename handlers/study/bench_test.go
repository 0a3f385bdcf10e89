package study_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// BenchmarkPublish5000 publishes a day's tasks for a county of 5,000 members (670 villages) from a bank
// of 2,000 questions, with wrong-answer books and a week of earlier tasks to avoid. Each iteration is
// a new day. Target: < 5 s on PostgreSQL:
//
//	YANZHEN_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/yanzhen_test?sslmode=disable' \
//	go test -run '^$' -bench Publish5000 -benchtime 5x ./handlers/study/
func BenchmarkPublish5000(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	addQuestions(b, db, 2000)
	county := models.Org{Name: "测试县", Path: "测试县", Level: models.LevelCounty}
	if err := db.Create(&county).Error; err != nil {
		b.Fatal(err)
	}
	var villages []models.Org
	for t := 0; t < 20; t++ {
		town := models.Org{ParentID: &county.ID, Name: fmt.Sprintf("镇%02d", t), Path: fmt.Sprintf("测试县/镇%02d", t), Level: models.LevelTown}
		if err := db.Create(&town).Error; err != nil {
			b.Fatal(err)
		}
		for v := 0; v < 34 && len(villages) < 670; v++ {
			villages = append(villages, models.Org{ParentID: &town.ID, Name: fmt.Sprintf("村%02d", v),
				Path: fmt.Sprintf("%s/村%02d", town.Path, v), Level: models.LevelVillage})
		}
	}
	if err := db.CreateInBatches(villages, 500).Error; err != nil {
		b.Fatal(err)
	}
	members := make([]models.Member, 5000)
	roles := []string{models.RoleSecretary, models.RoleAide, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember, models.RoleMember}
	for i := range members {
		members[i] = models.Member{Name: "党员" + strconv.Itoa(i), Phone: fmt.Sprintf("139%08d", i), Role: roles[i%len(roles)],
			OrgID: villages[i%len(villages)].ID, Active: true}
	}
	if err := db.Omit("Org").CreateInBatches(members, 500).Error; err != nil {
		b.Fatal(err)
	}
	// Two open wrong items each, some due.
	var qs []models.Question
	db.Select("id").Find(&qs)
	var wrong []models.WrongItem
	for i, m := range members {
		for k := 0; k < 2; k++ {
			wrong = append(wrong, models.WrongItem{MemberID: m.ID, QuestionID: qs[(i*7+k*13)%len(qs)].ID,
				DueDay: fmt.Sprintf("2026-11-%02d", 18+k*4), Misses: 1, LastWrong: "2026-11-17"})
		}
	}
	if err := db.Omit("Member").CreateInBatches(wrong, 1000).Error; err != nil {
		b.Fatal(err)
	}
	svc := study.New(study.Options{DB: db, Log: testenv.Logger()})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ { // last week's tasks: the draw avoids them
		if n, err := svc.Publish(ctx, day.AddDate(0, 0, i-7).Format("2006-01-02")); err != nil || n != 5000 {
			b.Fatalf("warm-up publish: %d, %v", n, err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := svc.Publish(ctx, day.AddDate(0, 0, i).Format("2006-01-02"))
		if err != nil || n != 5000 {
			b.Fatalf("publish: %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/publish")
}

// chatBench is the demo county's 40 members bound to WeChat users, and a safe-mode client, for the
// in-process webhook benchmarks (as server.BenchmarkReadPath).
type chatBench struct {
	env     *consoletest.Env
	c       *wxclient.Client
	svc     *study.Service
	openIDs []string
	ids     []uint
}

func newChatBench(b *testing.B) *chatBench {
	env := consoletest.New(b)
	db := env.App.DB()
	addQuestions(b, db, 400)
	c, err := wxclient.New(wxclient.Config{URL: env.URL + "/wechat/oa", AppID: consoletest.OA.AppID, Token: consoletest.OA.Token,
		AESKey: consoletest.OA.AESKey, AppUser: "gh_test", Mode: wxclient.Safe, MsgIDs: wxclient.NewSequence(0), Now: env.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	cb := &chatBench{env: env, c: c, svc: newService(env)}
	var ms []models.Member
	db.Where("bind_code IS NOT NULL").Order("id").Find(&ms)
	for i, m := range ms {
		openID := "o-bench-" + strconv.Itoa(i)
		cb.send(c.Text(openID, "绑定 "+*m.BindCode))
		cb.openIDs, cb.ids = append(cb.openIDs, openID), append(cb.ids, m.ID)
	}
	return cb
}

func (cb *chatBench) send(msg *wxclient.Message) {
	if _, err := cb.c.Send(context.Background(), msg); err != nil {
		cb.env.T.Fatal(err)
	}
}

func (cb *chatBench) serve(b *testing.B, r *wxclient.Request) {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/wechat/oa?"+r.Query, bytes.NewReader(r.Body))
	w := httptest.NewRecorder()
	cb.env.App.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkChatHelp is the webhook's own cost in this setting: a bound member sends 帮助 (safe mode).
func BenchmarkChatHelp(b *testing.B) {
	cb := newChatBench(b)
	reqs := make([]*wxclient.Request, b.N)
	for i := range reqs {
		r, err := cb.c.Encode(cb.c.Text(cb.openIDs[i%len(cb.openIDs)], "帮助"))
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, r := range reqs {
		cb.serve(b, r)
	}
}

// BenchmarkChatAnswer: a member answers one question in chat (safe mode): the answer scored in one
// transaction (answer, task, wrong-answer book, bank counters; every 5th answer completes the task and
// credits the ledger, the totals and the boards) and the feedback with the next question. Each round
// is a new day: the tasks are published and each member sends 学习 outside the timer.
func BenchmarkChatAnswer(b *testing.B) {
	cb := newChatBench(b)
	db := cb.env.App.DB()
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for round := 0; done < b.N; round++ {
		b.StopTimer()
		day := time.Date(2026, 11, 20+round, 9, 0, 0, 0, cb.env.App.Config().Location)
		cb.env.Clock.Add(day.Sub(cb.env.Clock.Now()))
		if _, err := cb.svc.Publish(context.Background(), cb.svc.Today()); err != nil {
			b.Fatal(err)
		}
		var reqs []*wxclient.Request
		answers := make([][]string, len(cb.ids))
		for i, id := range cb.ids {
			cb.send(cb.c.Text(cb.openIDs[i], "学习"))
			var tk models.StudyTask
			db.Take(&tk, "member_id = ? AND day = ?", id, cb.svc.Today())
			answers[i] = answerTexts(b, db, tk.Items)
		}
		for k := 0; k < 5; k++ { // question by question across members, as they would arrive
			for i := range cb.ids {
				if k < len(answers[i]) {
					r, err := cb.c.Encode(cb.c.Text(cb.openIDs[i], answers[i][k]))
					if err != nil {
						b.Fatal(err)
					}
					reqs = append(reqs, r)
				}
			}
		}
		reqs = reqs[:min(len(reqs), b.N-done)]
		b.StartTimer()
		for _, r := range reqs {
			cb.serve(b, r)
		}
		done += len(reqs)
	}
	b.StopTimer()
	var n int64
	db.Model(&models.StudyAnswer{}).Count(&n)
	if int(n) != b.N {
		b.Fatalf("%d answers recorded for %d sent", n, b.N)
	}
}

// answerTexts are answers a member can send to the items of a task, in order (right or not, they are
// answers).
func answerTexts(b *testing.B, db *gorm.DB, items string) []string {
	var its []struct {
		Q uint `json:"q"`
	}
	if err := json.Unmarshal([]byte(items), &its); err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, it := range its {
		var q models.Question
		db.Select("id, type").Take(&q, it.Q)
		out = append(out, map[string]string{models.QuestionSingle: "A", models.QuestionMulti: "AB",
			models.QuestionJudge: "对", models.QuestionBlank: "不知道"}[q.Type])
	}
	return out
}
