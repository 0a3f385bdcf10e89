package bank

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

func importSample(t *testing.T, s *Service) {
	t.Helper()
	if _, err := s.Import(context.Background(), csvFile(sample...), "题库.csv"); err != nil {
		t.Fatal(err)
	}
}

func stems(qs []models.Question) string {
	var out []string
	for _, q := range qs {
		out = append(out, string([]rune(q.Stem)[:min(6, len([]rune(q.Stem)))]))
	}
	return strings.Join(out, " / ")
}

func TestListSearchesFiltersSortsAndPaginates(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	importSample(t, s)
	all, total, err := s.List(ctx, Query{})
	if err != nil || total != 5 || len(all) != 5 {
		t.Fatalf("all: %d %d %v", len(all), total, err)
	}
	byStem := map[string]uint{}
	for _, q := range all {
		byStem[q.Stem] = q.ID
	}
	single, multi := byStem["中国共产党成立于哪一年？"], byStem["“三会一课”中的“三会”是指哪些？"]
	// single: 1 of 4 right; multi: 3 of 3; the others never answered.
	for i, ok := range []bool{true, false, false, false} {
		if err := s.Record(ctx, nil, single, ok); err != nil || i > 10 {
			t.Fatal(err)
		}
	}
	for range 3 {
		s.Record(ctx, nil, multi, true)
	}
	last := byStem["最后一行也会导入。"]
	if _, _, err := s.SetActive(ctx, last, false); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, c := range []struct {
		name  string
		q     Query
		want  string
		total int64
	}{
		{"stem substring", Query{Filter: Filter{Q: "中国共产党"}}, "中国共产党成/中国共产党的", 2},
		{"case-insensitive, no LIKE wildcards", Query{Filter: Filter{Q: "%"}}, "", 0},
		{"question number", Query{Filter: Filter{Q: fmt.Sprint("#", multi)}}, "“三会一课”", 1},
		{"type", Query{Filter: Filter{Type: "判断题"}}, "党员可以不参/最后一行也会", 2},
		{"tag alone", Query{Filter: Filter{Tag: "党史"}}, "中国共产党成", 1},
		{"tag first of several", Query{Filter: Filter{Tag: "党章"}}, "“三会一课”/党员可以不参/中国共产党的", 3},
		{"tag last of several", Query{Filter: Filter{Tag: "组织生活"}}, "“三会一课”", 1},
		{"tag part of a tag", Query{Filter: Filter{Tag: "组织"}}, "", 0},
		{"retired", Query{Filter: Filter{Active: &no}}, "最后一行也会", 1},
		{"active", Query{Filter: Filter{Active: &yes}}, "中国共产党成/“三会一课”/党员可以不参/中国共产党的", 4},
		{"accuracy, answered first", Query{Sort: SortAccuracy, Limit: 2}, "中国共产党成/“三会一课”", 5},
		{"accuracy desc, answered first", Query{Sort: SortAccuracy, Desc: true, Limit: 2}, "“三会一课”/中国共产党成", 5},
		{"attempts desc", Query{Sort: SortAttempts, Desc: true, Limit: 1}, "中国共产党成", 5},
		{"page 2", Query{Offset: 4, Limit: 2}, "最后一行也会", 5},
		{"past the end", Query{Offset: 10, Limit: 2}, "", 5},
	} {
		rows, total, err := s.List(ctx, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := strings.ReplaceAll(stems(rows), " / ", "/")
		if got != c.want || total != c.total {
			t.Errorf("%s: %q (total %d), want %q (total %d)", c.name, got, total, c.want, c.total)
		}
	}
	var ie *console.InputError
	if _, _, err := s.List(ctx, Query{Filter: Filter{Type: "问答"}}); !errors.As(err, &ie) || ie.Field != "type" {
		t.Errorf("unknown type filter: %v", err)
	}
}

func TestUpdateChecksAuditsAndKeepsTheHistory(t *testing.T) {
	s, db, clk := newService(t)
	ctx := context.Background()
	importSample(t, s)
	log := &auditLog{}
	as := s.Audited(log.audit)
	q := questionByStem(t, db, "中国共产党成立于哪一年？")
	s.Record(ctx, nil, q.ID, true)
	in := Input{Type: "单选", Stem: q.Stem, Options: Options(q), Answer: q.Answer, Explanation: q.Explanation, Tags: Tags(q)}

	// Nothing changed: no write, no audit.
	if _, changed, err := as.Update(ctx, q.ID, in); err != nil || changed {
		t.Fatalf("unchanged update: %v %v", changed, err)
	}
	if len(log.take()) != 0 {
		t.Fatal("an unchanged update was audited")
	}
	// Bad input: an InputError naming the field; nothing changes.
	var ie *console.InputError
	bad := in
	bad.Answer = "E"
	if _, _, err := as.Update(ctx, q.ID, bad); !errors.As(err, &ie) || ie.Field != "answer" || !strings.Contains(ie.Message, "不在选项里") {
		t.Fatalf("bad answer: %v", err)
	}
	dup := in
	dup.Stem = " 党员可以不参加党的组织生活。"
	if _, _, err := as.Update(ctx, q.ID, dup); !errors.As(err, &ie) || ie.Field != "stem" || !strings.Contains(ie.Message, "相同题干") {
		t.Fatalf("a stem taken by another question: %v", err)
	}
	if _, _, err := as.Update(ctx, 99999, in); !errors.Is(err, ErrNotFound) || !errors.Is(err, scope.ErrNotFound) {
		t.Fatalf("missing question: %v", err)
	}

	clk.advance(time.Minute)
	in.Stem = "中国共产党是哪一年成立的？"
	in.Options = []string{"1919年", "1921年", "1927年", "1949年", "1956年"}
	in.Answer = "b"
	in.Tags = []string{"党史，建党"}
	got, changed, err := as.Update(ctx, q.ID, in)
	if err != nil || !changed {
		t.Fatalf("update: %v %v", changed, err)
	}
	stored := questionByStem(t, db, "中国共产党是哪一年成立的？")
	if stored.ID != q.ID || got.StemKey != stored.StemKey || len(Options(stored)) != 5 || stored.Answer != "B" ||
		stored.Tags != "党史,建党" || stored.Attempts != 1 || !stored.UpdatedAt.Equal(clk.now()) {
		t.Fatalf("stored = %+v", stored)
	}
	changes := log.take()
	if len(changes) != 1 || changes[0].Action != console.ActionUpdate || changes[0].ObjectID != q.ID ||
		changes[0].Before.(snapshot).Stem != q.Stem || changes[0].After.(snapshot).Stem != in.Stem {
		t.Fatalf("audit: %+v", changes)
	}
	// The old stem is free again: importing it makes a new question.
	res, err := s.Import(ctx, csvFile(header, "单选,中国共产党成立于哪一年？,1919年,1921年,,,B,,"), "f.csv")
	if err != nil || res.Created != 1 {
		t.Fatalf("reimport: %+v %v", res, err)
	}
}

func TestRetireAndRestore(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	importSample(t, s)
	log := &auditLog{}
	as := s.Audited(log.audit)
	q := questionByStem(t, db, "中国共产党成立于哪一年？")
	for _, step := range []struct {
		active, changed bool
		action          string
	}{{false, true, console.ActionDeactivate}, {false, false, ""}, {true, true, console.ActionActivate}} {
		got, changed, err := as.SetActive(ctx, q.ID, step.active)
		if err != nil || changed != step.changed || got.Active != step.active {
			t.Fatalf("SetActive(%v): %+v %v %v", step.active, got, changed, err)
		}
		changes := log.take()
		if step.action == "" && len(changes) != 0 || step.action != "" && (len(changes) != 1 || changes[0].Action != step.action) {
			t.Fatalf("SetActive(%v) audit: %+v", step.active, changes)
		}
	}
	if _, _, err := s.SetActive(ctx, 99999, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestRecordCountsConcurrentAnswers(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	importSample(t, s)
	q := questionByStem(t, db, "中国共产党成立于哪一年？")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() { errs <- s.Record(ctx, nil, q.ID, i%4 == 0) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// In the caller's transaction: rolled back with it.
	tx := db.Begin()
	if err := s.Record(ctx, tx, q.ID, true); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	got := questionByStem(t, db, "中国共产党成立于哪一年？")
	if got.Attempts != 40 || got.Correct != 10 || !got.UpdatedAt.Equal(q.UpdatedAt) {
		t.Fatalf("attempts %d correct %d updated %v", got.Attempts, got.Correct, got.UpdatedAt)
	}
	if err := s.Record(ctx, nil, 99999, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestTagCounts(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	importSample(t, s)
	s.SetActive(ctx, questionByStem(t, db, "党员可以不参加党的组织生活。").ID, false)
	tags, err := s.TagCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []TagCount{{"党章", 3, 2}, {"党史", 1, 1}, {"组织生活", 1, 1}}
	if !slices.Equal(tags, want) {
		t.Fatalf("tags = %+v, want %+v", tags, want)
	}
}

func TestPickDrawsReproduciblyFromTheFilter(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range 200 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "单选,单选题%03d,甲,乙,,,A,,党史\n", i)
		case 1:
			fmt.Fprintf(&b, "判断,判断题%03d,,,,,对,,党章\n", i)
		default:
			fmt.Fprintf(&b, "填空,填空题%03d,,,,,答案,,\"党章,党史\"\n", i)
		}
	}
	if res, err := s.Import(ctx, strings.NewReader(b.String()), "f.csv"); err != nil || res.Created != 200 {
		t.Fatalf("%+v %v", res, err)
	}
	retired := questionByStem(t, db, "单选题000")
	s.SetActive(ctx, retired.ID, false)

	a, err := s.Pick(ctx, nil, PickFilter{N: 10, Seed: 7})
	if err != nil || len(a) != 10 {
		t.Fatalf("pick: %d %v", len(a), err)
	}
	again, _ := s.Pick(ctx, nil, PickFilter{N: 10, Seed: 7})
	other, _ := s.Pick(ctx, nil, PickFilter{N: 10, Seed: 8})
	if stems(a) != stems(again) || stems(a) == stems(other) {
		t.Fatalf("seed 7: %s\nagain: %s\nseed 8: %s", stems(a), stems(again), stems(other))
	}

	// Filters: types, tags (any of them), excluded ids; never a retired question.
	exclude := []uint{questionByStem(t, db, "单选题003").ID}
	picked, err := s.Pick(ctx, nil, PickFilter{Types: []string{"单选"}, Tags: []string{"党史"}, Exclude: exclude, N: 1000, Seed: 1})
	if err != nil || len(picked) != 67-2 { // 67 单选 (0, 3, …, 198), less the retired and the excluded
		t.Fatalf("pick 单选: %d %v", len(picked), err)
	}
	for _, q := range picked {
		if q.Type != models.QuestionSingle || !q.Active || q.ID == exclude[0] {
			t.Fatalf("picked %+v", q)
		}
	}
	byTag, _ := s.Pick(ctx, nil, PickFilter{Tags: []string{"党章"}, N: 1000, Seed: 1})
	if len(byTag) != 133 { // 判断 (67) and 填空 (66)
		t.Fatalf("pick 党章: %d", len(byTag))
	}
	both, _ := s.Pick(ctx, nil, PickFilter{Tags: []string{"党章", "党史"}, Types: []string{"单选", "填空"}, N: 1000, Seed: 1})
	if len(both) != 66+66 {
		t.Fatalf("pick 党章 or 党史, 单选 or 填空: %d", len(both))
	}
	if none, err := s.Pick(ctx, nil, PickFilter{Tags: []string{"没有"}, N: 5}); err != nil || len(none) != 0 {
		t.Fatalf("no match: %v %v", none, err)
	}
	if none, err := s.Pick(ctx, nil, PickFilter{N: 0}); err != nil || len(none) != 0 {
		t.Fatalf("N = 0: %v %v", none, err)
	}
	if _, err := s.Pick(ctx, nil, PickFilter{Types: []string{"问答"}, N: 5}); err == nil {
		t.Fatal("unknown type")
	}
}

// Pick on a bank of 10,000 questions stays fast (it reads ids, then N questions).
func TestPickIsFastOnALargeBank(t *testing.T) {
	if testing.Short() {
		t.Skip("large bank")
	}
	s, _, _ := newService(t)
	ctx := context.Background()
	if _, err := s.Import(ctx, strings.NewReader(string(bankCSV(10_000))), "big.csv"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const n = 50
	for i := range n {
		qs, err := s.Pick(ctx, nil, PickFilter{Tags: []string{"第3章"}, N: 10, Seed: int64(i)})
		if err != nil || len(qs) != 10 {
			t.Fatalf("%d %v", len(qs), err)
		}
	}
	per := time.Since(start) / n
	t.Logf("Pick 10 of 10,000 by tag: %v each", per)
	if per > 500*time.Millisecond && !raceEnabled {
		t.Errorf("Pick took %v", per)
	}
}

func bankCSV(n int) []byte {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		fmt.Fprintf(&b, "判断,第%05d题,,,,,对,,\"党章,第%d章\"\n", i, i%20)
	}
	return []byte(b.String())
}
