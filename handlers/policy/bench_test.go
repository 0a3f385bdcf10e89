package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// generated10000 is the demo corpus plus generated documents up to 10,000 passages: sentences of the
// demo corpus recombined, their numbers changed and their place names replaced by made-up ones, so
// the vocabulary, lengths and Traditional share are realistic and the demo's own passages stay the
// only right answers to the dev questions.
func generated10000(tb testing.TB) ([]Doc, []Passage) {
	tb.Helper()
	demo, err := DemoKB()
	if err != nil {
		tb.Fatal(err)
	}
	docs, ps := slices.Clone(demo.Docs), slices.Clone(demo.Passages)
	var sentences []string
	for _, p := range demo.Passages {
		sentences = append(sentences, sentences2(p.Text)...)
	}
	places := []string{"黄陂区", "瓯海区", "沙市区", "宣恩县", "洪雅县", "花溪镇", "郭沟村", "黃陂區", "洪雅縣"}
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []rune("安平长宁永和新兴丰泰清河东西南北山川林溪桥湾口坪塘坝岭源阳明光华")
	name := func() string {
		return string([]rune{pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]}) + []string{"县", "区", "镇", "村"}[rng.IntN(4)]
	}
	for d := 0; len(ps) < 10000; d++ {
		place := name()
		docs = append(docs, Doc{ID: uint(len(docs) + 1), Name: fmt.Sprintf("gen%05d.txt", d), Title: place + "基层党建工作简报"})
		for k := 0; k < 10 && len(ps) < 10000; k++ {
			var b strings.Builder
			for n := 0; n < 2+rng.IntN(4); n++ {
				s := sentences[rng.IntN(len(sentences))]
				for _, pl := range places {
					s = strings.ReplaceAll(s, pl, place)
				}
				b.WriteString(strings.Map(func(r rune) rune {
					if r >= '1' && r <= '9' {
						return '1' + rune(rng.IntN(9))
					}
					return r
				}, s))
			}
			ps = append(ps, Passage{ID: uint(len(ps) + 1), Doc: len(docs) - 1, Seq: k, Text: b.String()})
		}
	}
	return docs, ps
}

func sentences2(p string) []string {
	var out []string
	rs := []rune(p)
	from := 0
	for i, r := range rs {
		if strings.ContainsRune("。！？；", r) {
			out = append(out, string(rs[from:i+1]))
			from = i + 1
		}
	}
	return out
}

func benchQuestions(tb testing.TB) []EvalQuestion {
	var qs []EvalQuestion
	for _, path := range []string{"../../../shared/corpus/policy-questions.dev.jsonl", "testdata/heldout.jsonl"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		q, err := ReadEvalQuestions(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		qs = append(qs, q...)
	}
	return append(qs, EvalQuestion{Q: "今天天气怎么样"}, EvalQuestion{Q: "党费怎么交"}, EvalQuestion{Q: "村干部的待遇有哪些保障"})
}

// BenchmarkBuild10000 builds the index of 10,000 passages; heap-MB is what the built KB holds.
func BenchmarkBuild10000(b *testing.B) {
	docs, ps := generated10000(b)
	var kb *KB
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		kb = NewKB(docs, ps, nil, index.Params{}, DefaultThresholds())
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(kb.Index().Terms()), "terms")
}

// BenchmarkAnswer10000 answers the dev and held-out questions (and a few with no answer) over 10,000
// passages: search, rerank, trimming and the reply. p99-µs is over every answer of the run; top1 is
// the share of the eval questions still answered right among the 10,000.
func BenchmarkAnswer10000(b *testing.B) {
	docs, ps := generated10000(b)
	kb := NewKB(docs, ps, nil, index.Params{}, DefaultThresholds())
	qs := benchQuestions(b)
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		kb.Answer(qs[i%len(qs)].Q)
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(percentile(took, 0.99).Microseconds()), "p99-µs")
	rep := kb.Eval(qs[:len(qs)-3])
	b.ReportMetric(rep.Top1, "top1")
	b.ReportMetric(rep.Top3, "top3")
}

// BenchmarkAskDB10000 is a question as the chat asks it, on the real database: the index state check
// (one primary-key read), the answer and the logged question.
func BenchmarkAskDB10000(b *testing.B) {
	db := testenv.DB(b)
	docs, ps := generated10000(b)
	rows := make([]models.PolicyDoc, len(docs))
	for i, d := range docs {
		rows[i] = models.PolicyDoc{Name: d.Name, Title: d.Title, Hash: "x", Passages: 10}
	}
	if err := db.CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	prows := make([]models.PolicyPassage, len(ps))
	for i, p := range ps {
		prows[i] = models.PolicyPassage{DocID: rows[p.Doc].ID, Seq: p.Seq, Text: p.Text}
	}
	if err := db.CreateInBatches(prows, 500).Error; err != nil {
		b.Fatal(err)
	}
	s := New(Options{DB: db, Log: testenv.Logger(), Dir: b.TempDir()})
	ctx := context.Background()
	start := time.Now()
	if err := s.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	rebuild := time.Since(start)
	start = time.Now()
	if _, err := New(Options{DB: db, Log: testenv.Logger(), Dir: s.dir}).Current(ctx); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	qs := benchQuestions(b)
	who := Asker{MemberID: 1, OrgID: 1, OrgPath: "洪雅县", Channel: "oa", OpenID: "bench"}
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := s.Ask(ctx, who, qs[i%len(qs)].Q); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(percentile(took, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(rebuild.Milliseconds()), "rebuild-ms")
	b.ReportMetric(float64(load.Milliseconds()), "snapshot-load-ms")
}
