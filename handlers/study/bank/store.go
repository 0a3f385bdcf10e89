package bank

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Sorts of question lists; the first is the default.
const (
	SortID       = "id"
	SortAccuracy = "accuracy"
	SortAttempts = "attempts"
)

// Sorts lists the sorts of question lists, the default first.
var Sorts = []string{SortID, SortAccuracy, SortAttempts}

// MaxListRows bounds a list or an export.
const MaxListRows = 100_000

// Filter selects questions. Zero values select everything.
type Filter struct {
	Q      string // a substring of the stem, or a question number
	Type   string
	Tag    string
	Active *bool
}

// Query is a filtered, sorted page of questions.
type Query struct {
	Filter
	Sort   string // one of Sorts ("" = SortID)
	Desc   bool
	Offset int
	Limit  int // 0 = all (up to MaxListRows)
}

// order is the ORDER BY of each sort; %[1]s is the direction. Ties end on the id, so pages never
// overlap; questions never answered come last either way (they have no accuracy).
var order = map[string]string{
	SortID:       "id %[1]s",
	SortAccuracy: "CASE WHEN attempts = 0 THEN 1 ELSE 0 END, CASE WHEN attempts = 0 THEN 0 ELSE correct * 1.0 / attempts END %[1]s, attempts DESC, id %[1]s",
	SortAttempts: "attempts %[1]s, id %[1]s",
}

// where applies a filter to a query on questions.
func where(q *gorm.DB, f Filter) (*gorm.DB, error) {
	if s := strings.TrimSpace(f.Q); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		if id, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 32); err == nil {
			q = q.Where("(LOWER(stem) LIKE ? ESCAPE '!' OR id = ?)", like, id)
		} else {
			q = q.Where("LOWER(stem) LIKE ? ESCAPE '!'", like)
		}
	}
	if f.Type != "" {
		t := NormalizeType(f.Type)
		if t == "" {
			return nil, console.Invalid("type", "题型应为%s之一", strings.Join(models.QuestionTypes, "、"))
		}
		q = q.Where("type = ?", t)
	}
	if f.Tag != "" {
		tags := SplitTags(f.Tag)
		if len(tags) != 1 {
			return nil, console.Invalid("tag", "一次只能按一个标签筛选")
		}
		q = q.Scopes(withTags(tags))
	}
	if f.Active != nil {
		q = q.Where("active = ?", *f.Active)
	}
	return q, nil
}

// withTags keeps the questions that have any of tags. Tags are stored comma-separated; the four
// patterns find a tag alone, first, last or inside the list, in SQL every database speaks.
func withTags(tags []string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		var conds []string
		var args []any
		for _, t := range tags {
			e := escapeLike(t)
			conds = append(conds, "tags = ? OR tags LIKE ? ESCAPE '!' OR tags LIKE ? ESCAPE '!' OR tags LIKE ? ESCAPE '!'")
			args = append(args, t, e+",%", "%,"+e, "%,"+e+",%")
		}
		return db.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
}

// List lists a page of questions and counts all that match.
func (s *Service) List(ctx context.Context, lq Query) ([]models.Question, int64, error) {
	db := s.db.WithContext(ctx)
	q, err := where(db.Model(&models.Question{}), lq.Filter)
	if err != nil {
		return nil, 0, err
	}
	ord, ok := order[lq.Sort]
	if !ok {
		ord = order[SortID]
	}
	dir := "ASC"
	if lq.Desc {
		dir = "DESC"
	}
	limit := lq.Limit
	if limit <= 0 || limit > MaxListRows {
		limit = MaxListRows
	}
	var rows []models.Question
	if err := q.Order(fmt.Sprintf(ord, dir)).Offset(max(lq.Offset, 0)).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("bank: list questions: %w", err)
	}
	total := int64(max(lq.Offset, 0) + len(rows))
	if len(rows) == limit || (len(rows) == 0 && lq.Offset > 0) {
		// The page is full or past the end: count them all.
		q, _ := where(db.Model(&models.Question{}), lq.Filter)
		if err := q.Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("bank: count questions: %w", err)
		}
	}
	return rows, total, nil
}

// Get is one question; ErrNotFound when there is none with that id.
func (s *Service) Get(ctx context.Context, id uint) (*models.Question, error) {
	return get(s.db.WithContext(ctx), id, false)
}

func get(db *gorm.DB, id uint, lock bool) (*models.Question, error) {
	var qs []models.Question
	if lock {
		db = db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := db.Where("id = ?", id).Limit(1).Find(&qs).Error; err != nil {
		return nil, fmt.Errorf("bank: question %d: %w", id, err)
	}
	if len(qs) == 0 {
		return nil, ErrNotFound
	}
	return &qs[0], nil
}

// Questions are the questions with these ids, in that order (ids that do not exist are left out), on
// tx (nil: the service's database).
func (s *Service) Questions(ctx context.Context, tx *gorm.DB, ids []uint) ([]models.Question, error) {
	db := s.dbOr(ctx, tx)
	byID := make(map[uint]models.Question, len(ids))
	for start := 0; start < len(ids); start += importBatch {
		var qs []models.Question
		if err := db.Where("id IN ?", ids[start:min(start+importBatch, len(ids))]).Find(&qs).Error; err != nil {
			return nil, fmt.Errorf("bank: load %d questions: %w", len(ids), err)
		}
		for _, q := range qs {
			byID[q.ID] = q
		}
	}
	out := make([]models.Question, 0, len(ids))
	for _, id := range ids {
		if q, ok := byID[id]; ok {
			out = append(out, q)
		}
	}
	return out, nil
}

// snapshot is a question as the audit log keeps it, before and after a change.
type snapshot struct {
	ID          uint     `json:"id"`
	Type        string   `json:"type"`
	Stem        string   `json:"stem"`
	Options     []string `json:"options,omitempty"`
	Answer      string   `json:"answer"`
	Explanation string   `json:"explanation"`
	Tags        []string `json:"tags,omitempty"`
	Active      bool     `json:"active"`
}

func snapshotOf(q *models.Question) snapshot {
	return snapshot{ID: q.ID, Type: q.Type, Stem: q.Stem, Options: Options(q), Answer: q.Answer,
		Explanation: q.Explanation, Tags: Tags(q), Active: q.Active}
}

// Update replaces a question's type, stem, options, answer, explanation and tags, checked as an import
// checks a row (a console.InputError naming the field when something is wrong, ErrNotFound when there
// is no such question). It reports whether anything changed; a change is audited.
func (s *Service) Update(ctx context.Context, id uint, in Input) (*models.Question, bool, error) {
	nq, ps := check(in)
	if len(ps) > 0 {
		return nil, false, asInputError(ps)
	}
	var out *models.Question
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q, err := get(tx, id, true)
		if err != nil {
			return err
		}
		out = q
		if !nq.differs(q) {
			return nil
		}
		if nq.key != q.StemKey {
			var other []uint
			if err := tx.Model(&models.Question{}).Where("stem_key = ? AND id <> ?", nq.key, id).Limit(1).Pluck("id", &other).Error; err != nil {
				return fmt.Errorf("bank: check stem: %w", err)
			}
			if len(other) > 0 {
				return console.Invalid("stem", "题库里已有相同题干的题目（第 %d 题）", other[0])
			}
		}
		before := snapshotOf(q)
		nq.apply(q)
		q.UpdatedAt = s.now()
		err = tx.Model(&models.Question{}).Where("id = ?", id).Updates(map[string]any{
			"type": q.Type, "stem": q.Stem, "stem_key": q.StemKey, "options": q.Options, "answer": q.Answer,
			"explanation": q.Explanation, "tags": q.Tags, "updated_at": q.UpdatedAt,
		}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return console.Invalid("stem", "题库里已有相同题干的题目")
		}
		if err != nil {
			return fmt.Errorf("bank: update question %d: %w", id, err)
		}
		changed = true
		return s.record(ctx, tx, console.Change{
			Action: console.ActionUpdate, ObjectID: id,
			Summary: fmt.Sprintf("修改题目 #%d：%s", id, clip(q.Stem, 40)),
			Before:  before, After: snapshotOf(q),
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// SetActive retires (false) or restores (true) a question: a retired question is never drawn again
// but keeps its history. It reports whether anything changed; a change is audited.
func (s *Service) SetActive(ctx context.Context, id uint, active bool) (*models.Question, bool, error) {
	var out *models.Question
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q, err := get(tx, id, true)
		if err != nil {
			return err
		}
		out = q
		if q.Active == active {
			return nil
		}
		before := snapshotOf(q)
		q.Active, q.UpdatedAt = active, s.now()
		err = tx.Model(&models.Question{}).Where("id = ?", id).
			Updates(map[string]any{"active": active, "updated_at": q.UpdatedAt}).Error
		if err != nil {
			return fmt.Errorf("bank: set question %d active=%v: %w", id, active, err)
		}
		changed = true
		action, verb := console.ActionDeactivate, "停用题目"
		if active {
			action, verb = console.ActionActivate, "恢复题目"
		}
		return s.record(ctx, tx, console.Change{
			Action: action, ObjectID: id, Summary: fmt.Sprintf("%s #%d：%s", verb, id, clip(q.Stem, 40)),
			Before: before, After: snapshotOf(q),
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// Record counts one answer to a question: attempts + 1, and correct + 1 when it was right, in one
// UPDATE (concurrent answers never lose a count), on tx (nil: the service's database). UpdatedAt is
// left alone: it dates the question's content. ErrNotFound when there is no such question.
func (s *Service) Record(ctx context.Context, tx *gorm.DB, questionID uint, correct bool) error {
	inc := 0
	if correct {
		inc = 1
	}
	res := s.dbOr(ctx, tx).Model(&models.Question{}).Where("id = ?", questionID).UpdateColumns(map[string]any{
		"attempts": gorm.Expr("attempts + 1"),
		"correct":  gorm.Expr("correct + ?", inc),
	})
	if res.Error != nil {
		return fmt.Errorf("bank: record an answer to question %d: %w", questionID, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TagCount is a tag with how many questions have it, and how many of those are active.
type TagCount struct {
	Tag       string
	Questions int
	Active    int
}

// TagCounts lists every tag of the bank, the most used first.
func (s *Service) TagCounts(ctx context.Context) ([]TagCount, error) {
	var rows []struct {
		Tags   string
		Active bool
		N      int
	}
	err := s.db.WithContext(ctx).Model(&models.Question{}).Where("tags <> ''").
		Select("tags, active, COUNT(*) AS n").Group("tags, active").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("bank: count tags: %w", err)
	}
	counts := map[string]*TagCount{}
	for _, r := range rows {
		for _, t := range strings.Split(r.Tags, ",") {
			c := counts[t]
			if c == nil {
				c = &TagCount{Tag: t}
				counts[t] = c
			}
			c.Questions += r.N
			if r.Active {
				c.Active += r.N
			}
		}
	}
	out := make([]TagCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Questions != out[j].Questions {
			return out[i].Questions > out[j].Questions
		}
		return out[i].Tag < out[j].Tag
	})
	return out, nil
}

// PickFilter chooses the questions Pick draws from.
type PickFilter struct {
	Tags    []string // any of these tags (none: every tag)
	Types   []string // any of these types (none: every type)
	Exclude []uint   // questions not to draw (e.g. answered lately)
	N       int      // how many to draw
	Seed    int64    // the same seed over the same questions draws the same ones, in the same order
}

// Pick draws N active questions at random, reproducibly from the seed, on tx (nil: the service's
// database). Fewer come back when fewer match; none when N ≤ 0. It reads only the matching ids and
// then the N questions drawn, so it stays fast on a large bank.
func (s *Service) Pick(ctx context.Context, tx *gorm.DB, f PickFilter) ([]models.Question, error) {
	if f.N <= 0 {
		return nil, nil
	}
	db := s.dbOr(ctx, tx)
	q := db.Model(&models.Question{}).Where("active = ?", true)
	if len(f.Types) > 0 {
		types := make([]string, 0, len(f.Types))
		for _, t := range f.Types {
			nt := NormalizeType(t)
			if nt == "" {
				return nil, fmt.Errorf("bank: pick: unknown question type %q", t)
			}
			types = append(types, nt)
		}
		q = q.Where("type IN ?", types)
	}
	var tags []string
	for _, t := range f.Tags {
		tags = append(tags, SplitTags(t)...)
	}
	if len(tags) > 0 {
		q = q.Scopes(withTags(tags))
	}
	var ids []uint
	if err := q.Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("bank: pick: list ids: %w", err)
	}
	if len(f.Exclude) > 0 {
		ex := make(map[uint]bool, len(f.Exclude))
		for _, id := range f.Exclude {
			ex[id] = true
		}
		ids = slices.DeleteFunc(ids, func(id uint) bool { return ex[id] })
	}
	return s.Questions(ctx, tx, draw(ids, f.N, f.Seed))
}

// draw returns n of ids (all of them, when there are no more) in a random order fixed by seed: the first
// n steps of a Fisher–Yates shuffle driven by PCG (whose output its definition fixes), with Lemire's
// bounded integers written out here rather than rand.IntN, so that the draw cannot change with the Go
// version.
func draw(ids []uint, n int, seed int64) []uint {
	ids = slices.Clone(ids)
	n = min(n, len(ids))
	r := rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)
	for i := range n {
		bound := uint64(len(ids) - i)
		hi, lo := bits.Mul64(r.Uint64(), bound)
		if lo < bound {
			thresh := -bound % bound
			for lo < thresh {
				hi, lo = bits.Mul64(r.Uint64(), bound)
			}
		}
		j := i + int(hi)
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids[:n]
}

// escapeLike escapes s for LIKE ... ESCAPE '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
