package survey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// exportFixture is a county with two towns of two villages each, and three surveys whose responses
// interleave in the id order: named (sequential ids, some unfinished, in every village), another named
// one (its answers must never show), and an anonymous one (random ids, as anonymous responses have).
type exportFixture struct {
	db                *gorm.DB
	s                 *Service
	county            models.Org
	towns             []models.Org
	villages          []models.Org
	named, other, ano *Survey
}

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	db := testenv.DB(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	f := &exportFixture{db: db, s: New(Options{DB: db, Now: func() time.Time { return now }, Location: time.UTC})}
	f.county = models.Org{Name: "县", Path: "县", Level: models.LevelCounty}
	must(t, db.Create(&f.county).Error)
	for i := range 2 {
		town := models.Org{Name: fmt.Sprintf("镇%d", i), Path: fmt.Sprintf("县/镇%d", i), Level: models.LevelTown, ParentID: &f.county.ID}
		must(t, db.Create(&town).Error)
		f.towns = append(f.towns, town)
		for j := range 2 {
			v := models.Org{Name: fmt.Sprintf("村%d", j), Path: fmt.Sprintf("%s/村%d", town.Path, j), Level: models.LevelVillage, ParentID: &town.ID}
			must(t, db.Create(&v).Error)
			f.villages = append(f.villages, v)
		}
	}
	var ms []models.Member
	for i := range 2500 {
		ms = append(ms, models.Member{Name: fmt.Sprintf("党员%04d", i), Phone: fmt.Sprintf("139%08d", i), Role: models.RoleMember,
			OrgID: f.villages[i%len(f.villages)].ID, Active: true})
	}
	must(t, db.CreateInBatches(&ms, 500).Error)

	mk := func(title string, anonymous bool) *Survey {
		qs, err := ParseQuestions(demoQuestions)
		must(t, err)
		sv := models.Survey{Title: title, OrgID: f.county.ID, OrgPath: f.county.Path, Anonymous: anonymous, Status: models.SurveyOpen,
			Deadline: now.Add(72 * time.Hour), CreatedBy: "test"}
		must(t, db.Omit("Org", "Questions").Create(&sv).Error)
		must(t, createQuestions(db, sv.ID, qs))
		full, err := f.s.Get(context.Background(), sv.ID)
		must(t, err)
		return full
	}
	f.named, f.other, f.ano = mk("满意度", false), mk("别的问卷", false), mk("匿名评议", true)

	rng := rand.New(rand.NewPCG(3, 4))
	var rs []models.SurveyResponse
	var as []models.SurveyAnswer
	add := func(sv *Survey, id uint64, member *models.Member, done bool, text string) {
		r := models.SurveyResponse{ID: id, SurveyID: sv.ID, OrgID: member.OrgID, Done: done, Via: ViaChat}
		if !sv.Anonymous {
			r.MemberID, r.SubmittedAt = &member.ID, &now
		} else {
			r.Via = ""
		}
		rs = append(rs, r)
		answers := map[int]Answer{1: {Choices: []int{1 + rng.IntN(3)}}, 3: {Choices: []int{1 + rng.IntN(5)}}, 5: {Text: text}}
		if answers[1].Has(3) {
			answers[2] = Answer{Choices: []int{1 + rng.IntN(2), 3 + rng.IntN(2)}}
		}
		if rng.IntN(4) > 0 {
			n := float64(rng.IntN(9))
			answers[4] = Answer{Num: &n}
		}
		for seq, a := range answers {
			as = append(as, rowsOf(sv.ID, id, sv.Question(seq), a)...)
		}
	}
	// 2,000 sequential ids (two batches): every 5th another survey's, every 7th unfinished, the rest
	// finished.
	for i := range 2000 {
		id, m := uint64(i+1), &ms[i]
		switch {
		case i%5 == 0:
			add(f.other, id, m, true, fmt.Sprintf("别的问卷的回答%d", i))
		case i%7 == 0:
			add(f.named, id, m, false, fmt.Sprintf("没交的回答%d", i))
		default:
			add(f.named, id, m, true, fmt.Sprintf("建议%d", i))
		}
	}
	// 450 anonymous responses, random ids among other random ids of the other survey.
	for i := range 450 {
		add(f.ano, 1<<52+uint64(rng.Int64N(1<<50)), &ms[i], true, fmt.Sprintf("匿名建议%d", i))
		add(f.other, 1<<52+uint64(rng.Int64N(1<<50)), &ms[2000+i], true, fmt.Sprintf("别的问卷的回答（乱序）%d", i))
	}
	must(t, db.CreateInBatches(&rs, 500).Error)
	must(t, db.CreateInBatches(&as, 500).Error)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// referenceRows are the export's rows as the slowest plain reading gives them: each finished
// response of the scope in id order, its member, org and answers read one by one.
func referenceRows(t *testing.T, db *gorm.DB, sv *Survey, sc scope.Scope) [][]any {
	t.Helper()
	var rs []models.SurveyResponse
	must(t, db.Where("survey_id = ? AND done = ?", sv.ID, true).Scopes(sc.ByOrg("survey_responses.org_id")).Order("id").Find(&rs).Error)
	var out [][]any
	for _, r := range rs {
		var org models.Org
		must(t, db.Take(&org, r.OrgID).Error)
		row := []any{org.Path}
		if !sv.Anonymous {
			var m models.Member
			must(t, db.Take(&m, *r.MemberID).Error)
			row = []any{m.Name, org.Path, r.SubmittedAt}
		}
		var ans []models.SurveyAnswer
		must(t, db.Where("response_id = ?", r.ID).Order("question_id, pos").Find(&ans).Error)
		answers := collect(sv, ans)
		for _, q := range sv.Qs {
			a := answers[q.Seq]
			switch {
			case q.IsChoice() || q.Kind == models.SurveyRating:
				row = append(row, answerCodes(&q, a), answerText(&q, a))
			case q.Kind == models.SurveyNumber && a.Num != nil:
				row = append(row, *a.Num)
			default:
				row = append(row, answerText(&q, a))
			}
		}
		out = append(out, row)
	}
	return out
}

func sheetRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an xlsx: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	must(t, err)
	return rows
}

// TestExportMatchesThePlainReading: the export of each survey and scope has exactly the rows the plain
// reading gives, whichever way its batches read their answers (one range of ids for the county's part
// of the named survey, lists of ids for a town's or a village's part and for the anonymous survey),
// and nothing of another survey, of an unfinished response, or, when anonymous, of the people.
func TestExportMatchesThePlainReading(t *testing.T) {
	f := newExportFixture(t)
	ctx := context.Background()
	now := f.s.now().In(f.s.loc)
	for _, c := range []struct {
		name string
		sv   *Survey
		sc   scope.Scope
	}{
		{"named/county", f.named, scope.Under(f.county.ID, f.county.Path)},
		{"named/everything", f.named, scope.Everything()},
		{"named/town", f.named, scope.Under(f.towns[1].ID, f.towns[1].Path)},
		{"named/village", f.named, scope.Under(f.villages[2].ID, f.villages[2].Path)},
		{"anonymous/county", f.ano, scope.Under(f.county.ID, f.county.Path)},
		{"anonymous/village", f.ano, scope.Under(f.villages[1].ID, f.villages[1].Path)},
	} {
		filters := []xlsxout.Filter{{Name: "范围", Value: c.name}}
		var got bytes.Buffer
		n, err := f.s.WriteExport(ctx, &got, c.sv, c.sc, filters)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ref := referenceRows(t, f.db, c.sv, c.sc)
		if n != len(ref) || n == 0 {
			t.Fatalf("%s: %d rows, the plain reading %d", c.name, n, len(ref))
		}
		var want bytes.Buffer
		tb := xlsxout.Table{Title: clip(c.sv.Title, 40), Filters: filters, Columns: exportColumns(c.sv)}
		err = xlsxout.WriteStream(&want, tb, len(ref), func(emit func([]any) error) error {
			for _, r := range ref {
				if err := emit(r); err != nil {
					return err
				}
			}
			return nil
		}, now)
		must(t, err)
		gotRows, wantRows := sheetRows(t, got.Bytes()), sheetRows(t, want.Bytes())
		if len(gotRows) != len(wantRows) {
			t.Fatalf("%s: %d sheet rows, want %d", c.name, len(gotRows), len(wantRows))
		}
		for i := range wantRows {
			if !slices.Equal(gotRows[i], wantRows[i]) {
				t.Fatalf("%s: row %d\n got %q\nwant %q", c.name, i+1, gotRows[i], wantRows[i])
			}
		}
		text := fmt.Sprint(gotRows[3:]) // the data, below the title, filter and header lines
		for _, leak := range []string{"别的问卷的", "没交的回答"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s: the export holds %q", c.name, leak)
			}
		}
		if c.sv.Anonymous && (strings.Contains(text, "党员") || strings.Contains(text, "2026-11-20")) {
			t.Errorf("%s: the anonymous export names people or times", c.name)
		}
		t.Logf("%s: %d rows", c.name, n)
	}

	// A cancelled request ends the export with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var sink bytes.Buffer
	if _, err := f.s.WriteExport(cctx, &sink, f.named, scope.Everything(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled export: %v", err)
	}
}

// TestExportAnswers: both ways of reading a batch's answers return every answer of the responses
// asked for, in order, and nothing of another survey.
func TestExportAnswers(t *testing.T) {
	f := newExportFixture(t)
	db := f.db
	var dense, sparse []uint64
	db.Model(&models.SurveyResponse{}).Where("survey_id = ? AND done = ? AND id <= ?", f.named.ID, true, 1400).Order("id").Pluck("id", &dense)
	db.Model(&models.SurveyResponse{}).Where("survey_id = ?", f.ano.ID).Order("id").Pluck("id", &sparse)
	if len(dense) < 600 || len(sparse) != 450 || dense[len(dense)-1]-dense[0] >= exportDense*uint64(len(dense)) ||
		sparse[len(sparse)-1]-sparse[0] < exportDense*uint64(len(sparse)) {
		t.Fatalf("fixture: %d dense ids, %d sparse", len(dense), len(sparse))
	}
	for _, c := range []struct {
		name string
		sv   *Survey
		ids  []uint64
	}{{"range", f.named, dense}, {"lists", f.ano, sparse}, {"one id", f.named, dense[5:6]}} {
		got, err := exportAnswers(db, c.sv.ID, c.ids)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want []models.SurveyAnswer
		must(t, db.Where("response_id IN ?", c.ids).Order("response_id, question_id, pos").Find(&want).Error)
		asked := map[uint64]bool{}
		for _, id := range c.ids {
			asked[id] = true
		}
		var kept []models.SurveyAnswer
		for i, a := range got {
			if i > 0 && got[i-1].ResponseID > a.ResponseID {
				t.Fatalf("%s: out of order at %d", c.name, i)
			}
			if strings.Contains(a.Text, "别的问卷") {
				t.Fatalf("%s: another survey's answer %+v", c.name, a)
			}
			if asked[a.ResponseID] {
				a.SurveyID, a.Pos = 0, 0 // not read
				kept = append(kept, a)
			}
		}
		for i := range want {
			want[i].SurveyID, want[i].Pos = 0, 0
		}
		if !slices.EqualFunc(kept, want, func(a, b models.SurveyAnswer) bool {
			return a.ResponseID == b.ResponseID && a.QuestionID == b.QuestionID && a.Choice == b.Choice && a.Text == b.Text &&
				(a.Num == nil) == (b.Num == nil) && (a.Num == nil || *a.Num == *b.Num)
		}) {
			t.Fatalf("%s: %d answers, want %d", c.name, len(kept), len(want))
		}
	}
	// A failing database is reported, not taken for "no answers".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := exportAnswers(db.WithContext(ctx), f.named.ID, dense); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
