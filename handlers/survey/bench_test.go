package survey

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// BenchmarkSurvey100k seeds a county (17 towns, 670 villages, 120,000 members) and a five-question
// survey with 100,000 finished responses, then measures the results as the county, a town and a village
// see them (target: < 300 ms on PostgreSQL) and the streamed export of every response (target: well
// under 5 s) and of a town's.
//
//	YANZHEN_TEST_DATABASE_URL=postgres://… go test ./handlers/survey -run '^$' -bench Survey100k -benchtime 10x
func BenchmarkSurvey100k(b *testing.B) {
	db := testenv.DB(b)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s := New(Options{DB: db, Now: func() time.Time { return now }, Location: time.UTC})

	county := models.Org{Name: "县", Path: "县", Level: 1}
	db.Create(&county)
	var villages []models.Org
	var towns []models.Org
	for t := 0; t < 17; t++ {
		town := models.Org{Name: fmt.Sprintf("镇%02d", t), Path: fmt.Sprintf("县/镇%02d", t), Level: 2, ParentID: &county.ID}
		db.Create(&town)
		towns = append(towns, town)
		var vs []models.Org
		for v := 0; v < 40 && len(villages)+len(vs) < 670; v++ {
			vs = append(vs, models.Org{Name: fmt.Sprintf("村%03d", v), Path: fmt.Sprintf("%s/村%03d", town.Path, v), Level: 3, ParentID: &town.ID})
		}
		db.CreateInBatches(&vs, 500)
		villages = append(villages, vs...)
	}
	const members, responses = 120000, 100000
	ms := make([]models.Member, 0, 5000)
	flush := func() {
		if err := db.CreateInBatches(&ms, 1000).Error; err != nil {
			b.Fatal(err)
		}
		ms = ms[:0]
	}
	for i := 0; i < members; i++ {
		ms = append(ms, models.Member{Name: fmt.Sprintf("党员%06d", i), Phone: fmt.Sprintf("139%08d", i), Role: models.RoleMember,
			OrgID: villages[i%len(villages)].ID, Active: true})
		if len(ms) == cap(ms) {
			flush()
		}
	}
	flush()
	qs, err := ParseQuestions(demoQuestions)
	if err != nil {
		b.Fatal(err)
	}
	sv := models.Survey{Title: "满意度", OrgID: county.ID, OrgPath: county.Path, Status: models.SurveyOpen, Deadline: now.Add(72 * time.Hour), CreatedBy: "bench"}
	db.Omit("Org", "Questions").Create(&sv)
	if err := createQuestions(db, sv.ID, qs); err != nil {
		b.Fatal(err)
	}
	full, _ := s.Get(ctx, sv.ID)
	var firstMember uint
	db.Model(&models.Member{}).Select("MIN(id)").Scan(&firstMember)

	rng := rand.New(rand.NewPCG(1, 2))
	type count struct {
		n   int64
		sum float64
	}
	tallies := map[[3]uint]*count{}
	add := func(k [3]uint, x float64) {
		if tallies[k] == nil {
			tallies[k] = &count{}
		}
		tallies[k].n++
		tallies[k].sum += x
	}
	var rs []models.SurveyResponse
	var as []models.SurveyAnswer
	var fs []models.SurveyFinish
	save := func() {
		for _, x := range []any{&rs, &as, &fs} {
			if err := db.CreateInBatches(x, 1000).Error; err != nil {
				b.Fatal(err)
			}
		}
		rs, as, fs = rs[:0], as[:0], fs[:0]
	}
	for i := 0; i < responses; i++ {
		mid := firstMember + uint(i)
		org := villages[i%len(villages)].ID
		rid := uint64(i + 1)
		rs = append(rs, models.SurveyResponse{ID: rid, SurveyID: sv.ID, MemberID: &mid, OrgID: org, Done: true, Via: ViaChat, SubmittedAt: &now})
		fs = append(fs, models.SurveyFinish{SurveyID: sv.ID, MemberID: mid, OrgID: org, FinishedAt: now})
		answers := map[int]Answer{1: {Choices: []int{1 + rng.IntN(3)}}, 3: {Choices: []int{1 + rng.IntN(5)}}}
		if answers[1].Has(3) {
			answers[2] = Answer{Choices: []int{1 + rng.IntN(2), 3 + rng.IntN(2)}}
		}
		n := float64(1 + rng.IntN(8))
		answers[4] = Answer{Num: &n}
		if i%3 == 0 {
			answers[5] = Answer{Text: fmt.Sprintf("建议%d：路灯再多一些", i)}
		}
		vis := visible(full.Qs, answers)
		for seq, a := range answers {
			q := full.Question(seq)
			as = append(as, rowsOf(sv.ID, rid, q, a)...)
			if vis[seq] {
				x := 0.0
				if a.Num != nil {
					x = *a.Num
				}
				add([3]uint{q.ID, org, 0}, x)
				for _, c := range a.Choices {
					add([3]uint{q.ID, org, uint(c)}, 0)
				}
			}
		}
		if len(rs) == 5000 {
			save()
		}
	}
	save()
	var ts []models.SurveyTally
	for k, c := range tallies {
		ts = append(ts, models.SurveyTally{SurveyID: sv.ID, QuestionID: k[0], OrgID: k[1], Value: int(k[2]), N: c.n, Sum: c.sum})
	}
	if err := db.CreateInBatches(&ts, 1000).Error; err != nil {
		b.Fatal(err)
	}
	if models.Dialect(db) == "postgres" {
		db.Exec("ANALYZE")
	}

	for _, c := range []struct {
		name string
		sc   scope.Scope
	}{
		{"results/county", scope.Under(county.ID, county.Path)},
		{"results/town", scope.Under(towns[3].ID, towns[3].Path)},
		{"results/village", scope.Under(villages[100].ID, villages[100].Path)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r, err := s.Results(ctx, full, c.sc, 1)
				if err != nil {
					b.Fatal(err)
				}
				if c.sc.Path == county.Path && r.Finished != responses {
					b.Fatalf("finished %d", r.Finished)
				}
			}
		})
	}
	// The county's export reads each batch's answers as one range of ids, the town's (a 17th of them)
	// by lists of ids.
	for _, c := range []struct {
		name string
		sc   scope.Scope
		n    int
	}{
		{"export/county", scope.Under(county.ID, county.Path), responses},
		{"export/town", scope.Under(towns[3].ID, towns[3].Path), 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n, err := s.WriteExport(ctx, io.Discard, full, c.sc, nil)
				if err != nil || n == 0 || c.n > 0 && n != c.n {
					b.Fatalf("%d rows: %v", n, err)
				}
			}
		})
	}
}
