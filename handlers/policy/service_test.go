package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/policy"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

const (
	trainingV1 = "标题：村干部培训办法\n发布日期：2024年3月1日\n第一条 村党组织书记每年集中培训不少于56学时，结业测试不合格的参加下一期学习。\n" +
		"第二条 党建专干每年培训不少于40学时，由乡镇党委统一组织。\n"
	trainingV2 = "标题：村干部培训办法（修订）\n发布日期：2025年1月1日\n第一条 村党组织书记每年集中培训不少于72学时，结业测试不合格的参加下一期学习。\n"
)

func newService(t *testing.T, db *gorm.DB, dir string) *policy.Service {
	return policy.New(policy.Options{DB: db, Log: testenv.Logger(), Dir: dir})
}

func importText(t *testing.T, s *policy.Service, name, text string) policy.ImportResult {
	t.Helper()
	res, err := s.Import(context.Background(), name, strings.NewReader(text))
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return res
}

func ask(t *testing.T, s *policy.Service, q string) *policy.Answer {
	t.Helper()
	kb, err := s.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return kb.Answer(q)
}

func passagesOf(t *testing.T, db *gorm.DB, docID uint) []models.PolicyPassage {
	t.Helper()
	var ps []models.PolicyPassage
	if err := db.Where("doc_id = ?", docID).Order("seq").Find(&ps).Error; err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestImportChangeReimport(t *testing.T) {
	db := testenv.DB(t)
	s := newService(t, db, t.TempDir())

	first := importText(t, s, "培训办法.txt", trainingV1)
	if !first.Changed || first.Title != "村干部培训办法" || first.Passages != 1 {
		t.Fatalf("first import: %+v", first)
	}
	if a := ask(t, s, "村书记每年培训多少学时"); a.Kind != policy.AnswerPassage || !strings.Contains(a.Quote, "56学时") ||
		!strings.Contains(a.Text, "——《村干部培训办法》 2024年3月1日") {
		t.Fatalf("before the change: %+v", a)
	}

	// The same text again changes nothing.
	again := importText(t, s, "培训办法.txt", trainingV1)
	if again.Changed || again.DocID != first.DocID {
		t.Fatalf("unchanged re-import: %+v", again)
	}

	// The changed document replaces its passages; its id stays.
	changed := importText(t, s, "培训办法.txt", trainingV2)
	if !changed.Changed || changed.DocID != first.DocID || changed.Title != "村干部培训办法（修订）" {
		t.Fatalf("changed re-import: %+v", changed)
	}
	ps := passagesOf(t, db, first.DocID)
	if len(ps) != 1 || !strings.Contains(ps[0].Text, "72学时") || strings.Contains(ps[0].Text, "党建专干") {
		t.Fatalf("passages after the change: %+v", ps)
	}
	var docs int64
	db.Model(&models.PolicyDoc{}).Count(&docs)
	if docs != 1 {
		t.Fatalf("%d documents", docs)
	}
	a := ask(t, s, "村书记每年培训多少学时")
	if a.Kind != policy.AnswerPassage || !strings.Contains(a.Quote, "72学时") || !strings.Contains(a.Text, "（修订）") {
		t.Fatalf("after the change: %+v", a)
	}
	if a := ask(t, s, "党建专干每年培训多少学时"); a.Kind == policy.AnswerPassage && strings.Contains(a.Quote, "40学时") {
		t.Fatalf("a passage of the old text still answers: %+v", a)
	}

	// A document that cannot be read changes nothing.
	_, err := s.Import(context.Background(), "培训办法.txt", strings.NewReader("  \n"))
	if !errors.Is(err, policy.ErrBadDoc) || policy.Reason(err) != "「培训办法.txt」是空的，没有可导入的文字" {
		t.Fatalf("empty document: %v", err)
	}
	if ps := passagesOf(t, db, first.DocID); len(ps) != 1 || !strings.Contains(ps[0].Text, "72学时") {
		t.Fatalf("passages after a refused import: %+v", ps)
	}
}

// Two server processes (two services on one database, sharing the index folder as they would on one
// machine) answer alike after an import by either, without being told; a third one starting later
// loads the snapshot instead of the database.
func TestIndexSharedByTwoProcessesStaysConsistent(t *testing.T) {
	db := testenv.DB(t)
	dir := t.TempDir()
	a, b := newService(t, db, dir), newService(t, db, dir)
	importText(t, a, "培训办法.txt", trainingV1)
	for name, s := range map[string]*policy.Service{"a": a, "b": b} {
		if ans := ask(t, s, "村书记每年培训多少学时"); !strings.Contains(ans.Quote, "56学时") {
			t.Fatalf("%s before: %+v", name, ans)
		}
	}

	// b imports a change: a answers from it at its next question.
	importText(t, b, "培训办法.txt", trainingV2)
	for name, s := range map[string]*policy.Service{"a": a, "b": b} {
		if ans := ask(t, s, "村书记每年培训多少学时"); !strings.Contains(ans.Quote, "72学时") {
			t.Fatalf("%s after b's import: %+v", name, ans)
		}
	}
	// A process with its own folder (another machine) too.
	c := newService(t, db, t.TempDir())
	importText(t, c, "换届.md", "# 换届工作方案\n这一轮村社换届涉及13个镇街，共190个村社，全面实行“一肩挑”。\n")
	for name, s := range map[string]*policy.Service{"a": a, "b": b, "c": c} {
		if ans := ask(t, s, "这一轮换届一共涉及多少个村社"); !strings.Contains(ans.Quote, "190个村社") {
			t.Fatalf("%s after c's import: %+v", name, ans)
		}
	}
	kbA, _ := a.Current(context.Background())
	kbB, _ := b.Current(context.Background())
	if kbA.Gen != kbB.Gen || kbA.Epoch != kbB.Epoch || len(kbA.Passages) != len(kbB.Passages) {
		t.Fatalf("a at %s/%d with %d passages, b at %s/%d with %d", kbA.Epoch, kbA.Gen, len(kbA.Passages), kbB.Epoch, kbB.Gen, len(kbB.Passages))
	}

	// A process starting later loads the snapshot in the shared folder: rename the database's
	// passages away to prove it does not read them.
	if _, err := os.Stat(filepath.Join(dir, "policy-kb.gob")); err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&models.PolicyPassage{}).Where("1 = 1").Update("text", "（已清空）").Error; err != nil {
		t.Fatal(err)
	}
	d := newService(t, db, dir)
	if ans := ask(t, d, "村书记每年培训多少学时"); !strings.Contains(ans.Quote, "72学时") {
		t.Fatalf("a process starting later: %+v", ans)
	}
	// Without the snapshot it rebuilds from the database.
	e := newService(t, db, t.TempDir())
	if ans := ask(t, e, "村书记每年培训多少学时"); ans.Kind != policy.AnswerNone {
		t.Fatalf("rebuilt from the database: %+v", ans)
	}
}

// A snapshot of another database (same folder, same generation number) is never taken for this one's.
func TestSnapshotOfAnotherDatabaseIsIgnored(t *testing.T) {
	dir := t.TempDir()
	one := newService(t, testenv.DB(t), dir)
	importText(t, one, "a.txt", trainingV1)
	ask(t, one, "村书记每年培训多少学时")
	two := newService(t, testenv.DB(t), dir)
	importText(t, two, "b.txt", trainingV2)
	if ans := ask(t, two, "村书记每年培训多少学时"); !strings.Contains(ans.Quote, "72学时") {
		t.Fatalf("%+v", ans)
	}
}

func TestRefreshAfterFAQChange(t *testing.T) {
	db := testenv.DB(t)
	a, b := newService(t, db, t.TempDir()), newService(t, db, t.TempDir())
	importText(t, a, "培训办法.txt", trainingV1)
	q := "党员发展要经过哪些程序"
	if ans := ask(t, b, q); ans.Kind != policy.AnswerNone {
		t.Fatalf("before the FAQ: %+v", ans)
	}
	faq := models.PolicyFAQ{Question: "党员发展要经过哪些程序", Answer: "申请入党、确定积极分子、发展对象、预备党员、转正五个阶段。", Active: true}
	if err := db.Create(&faq).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ans := ask(t, b, q); ans.Kind != policy.AnswerFAQ || ans.FAQ.ID != faq.ID {
		t.Fatalf("after the FAQ: %+v", ans)
	}
	db.Model(&faq).Update("active", false)
	a.Refresh(context.Background())
	if ans := ask(t, b, q); ans.Kind != policy.AnswerNone {
		t.Fatalf("after retiring the FAQ: %+v", ans)
	}
}
