package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// item is one question of a task, as StudyTask.Items stores it.
type item struct {
	Q      uint  `json:"q"`
	Order  []int `json:"o,omitempty"` // the option shown as letter i is the bank's option Order[i]
	Review bool  `json:"r,omitempty"` // from the wrong-answer book
	// Remedial: an extra question of remedial study (回炉补课, remedial.go), shown as such. Tasks made
	// before the flag existed have their extra questions unflagged.
	Remedial bool `json:"m,omitempty"`
	Done     bool `json:"d,omitempty"` // answered
	Right    bool `json:"c,omitempty"` // answered right
}

func decodeItems(s string) ([]item, error) {
	var items []item
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return nil, fmt.Errorf("study: task items: %w", err)
	}
	return items, nil
}

func encodeItems(items []item) string {
	b, _ := json.Marshal(items)
	return string(b)
}

// recentDays: a question given to a member in the last recentDays days is not drawn for him again
// while the rule's tags have others left.
const recentDays = 7

// Publish makes the task of day ("2006-01-02") for every active member who has none yet, and returns
// how many it made. Publishing again the same day makes nothing new; members added later get theirs
// on demand (the same code) when they start studying.
func (s *Service) Publish(ctx context.Context, day string) (int, error) {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return 0, fmt.Errorf("study: publish: bad day %q", day)
	}
	return s.publish(ctx, day, nil)
}

// target is a member who needs a task.
type target struct {
	ID    uint
	OrgID uint
	Path  string
}

// poolQuestion is what drawing needs of a question.
type poolQuestion struct {
	id      uint
	options int // choice questions: how many options to shuffle; 0 otherwise
	tags    map[string]bool
}

// publish makes the day's tasks of the given members (nil: every active member) who have none. It
// reads every input once (members, rules, the bank, the wrong-answer books, recent tasks), draws in
// memory, and inserts in batches; a task made meanwhile by someone else wins (ON CONFLICT DO NOTHING).
func (s *Service) publish(ctx context.Context, day string, memberIDs []uint) (int, error) {
	db := s.db.WithContext(ctx)
	var targets []target
	q := db.Table("members m").Select("m.id, m.org_id, o.path").Joins("JOIN orgs o ON o.id = m.org_id").
		Where("m.active = ?", true).
		Where("NOT EXISTS (SELECT 1 FROM study_tasks t WHERE t.member_id = m.id AND t.day = ?)", day)
	if memberIDs != nil {
		q = q.Where("m.id IN ?", memberIDs)
	}
	if err := q.Order("m.id").Scan(&targets).Error; err != nil {
		return 0, fmt.Errorf("study: publish %s: members: %w", day, err)
	}
	if len(targets) == 0 {
		return 0, nil
	}

	var paths []string // nil: every rule
	if memberIDs != nil {
		seen := map[string]bool{}
		for _, t := range targets {
			for _, p := range ancestors(t.Path) {
				if !seen[p] {
					seen[p] = true
					paths = append(paths, p)
				}
			}
		}
	}
	rs, err := s.loadRules(ctx, db, paths)
	if err != nil {
		return 0, err
	}
	pool, err := s.loadPool(ctx, db)
	if err != nil {
		return 0, err
	}
	if len(pool) == 0 {
		return 0, nil
	}
	books, err := s.loadBooks(ctx, db, memberIDs)
	if err != nil {
		return 0, err
	}
	recent, err := s.loadRecent(ctx, db, day, memberIDs)
	if err != nil {
		return 0, err
	}
	remedial, err := s.loadRemedial(ctx, db, memberIDs) // remedial.go: members who failed an exam
	if err != nil {
		return 0, err
	}

	byID := make(map[uint]int, len(pool))
	for i, pq := range pool {
		byID[pq.id] = i
	}
	ruleOf := map[string]models.StudyRule{} // by org path
	candidates := map[string][]int{}        // pool indexes by the rule's tags
	now := s.now()
	tasks := make([]models.StudyTask, 0, len(targets))
	for _, t := range targets {
		rule, ok := ruleOf[t.Path]
		if !ok {
			rule = rs.forPath(t.Path)
			ruleOf[t.Path] = rule
		}
		cands, ok := candidates[rule.Tags]
		if !ok {
			cands = matching(pool, splitTags(rule.Tags))
			if len(cands) == 0 {
				s.log.WarnContext(ctx, "study: no question has the rule's tags, drawing from the whole bank", "tags", rule.Tags)
				cands = matching(pool, nil)
			}
			candidates[rule.Tags] = cands
		}
		items := s.draw(t.ID, day, rule, pool, byID, cands, books[t.ID], recent[t.ID])
		items = s.addRemedial(t.ID, day, items, pool, remedial[t.ID], recent[t.ID])
		if len(items) == 0 {
			continue
		}
		tasks = append(tasks, models.StudyTask{
			MemberID: t.ID, Day: day, OrgID: t.OrgID, Items: encodeItems(items), Total: len(items),
			CreatedAt: now, UpdatedAt: now,
		})
	}
	if len(tasks) == 0 {
		return 0, nil
	}
	res := db.Omit(clause.Associations).
		Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "member_id"}, {Name: "day"}}, DoNothing: true}).
		CreateInBatches(tasks, 1000)
	if res.Error != nil {
		return 0, fmt.Errorf("study: publish %s: insert %d tasks: %w", day, len(tasks), res.Error)
	}
	return int(res.RowsAffected), nil
}

// draw picks a member's questions of the day: his due wrong items, oldest first, up to the rule's
// review count, then new questions from cands, avoiding his open wrong items and (while others are
// left) what he was given recently. The draw is seeded by member and day, so it is reproducible.
func (s *Service) draw(memberID uint, day string, rule models.StudyRule, pool []poolQuestion, byID map[uint]int,
	cands []int, book []bookEntry, recent map[uint]bool) []item {
	rng := rand.New(seedFor(memberID, day))
	n := rule.QuestionsPerTask
	taken := make(map[uint]bool, n)
	var chosen []int // pool indexes
	var items []item
	for _, w := range book { // sorted: due day, then id
		if len(items) >= rule.ReviewPerTask || len(items) >= n {
			break
		}
		if w.due > day {
			continue
		}
		if i, ok := byID[w.question]; ok {
			items = append(items, item{Q: w.question, Review: true})
			chosen = append(chosen, i)
			taken[w.question] = true
		}
	}
	open := make(map[uint]bool, len(book))
	for _, w := range book {
		open[w.question] = true
	}
	for pass := 0; pass < 2 && len(items) < n && len(cands) > 0; pass++ {
		skip := func(id uint) bool { return taken[id] || open[id] || (pass == 0 && recent[id]) }
		// Random probes first (cheap when the pool is large), then a scan from a random start so that
		// a small pool still fills.
		for tries := 0; tries < 8*n && len(items) < n; tries++ {
			i := cands[rng.IntN(len(cands))]
			if id := pool[i].id; !skip(id) {
				items, chosen, taken[id] = append(items, item{Q: id}), append(chosen, i), true
			}
		}
		start := rng.IntN(len(cands))
		for k := 0; k < len(cands) && len(items) < n; k++ {
			i := cands[(start+k)%len(cands)]
			if id := pool[i].id; !skip(id) {
				items, chosen, taken[id] = append(items, item{Q: id}), append(chosen, i), true
			}
		}
	}
	for k := range items {
		if m := pool[chosen[k]].options; m > 1 {
			items[k].Order = rng.Perm(m)
		}
	}
	return items
}

// seedFor derives the draw's seed from member and day.
func seedFor(memberID uint, day string) rand.Source {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(uint64(memberID), 10) + "|" + day))
	x := h.Sum64()
	return rand.NewPCG(x, x^0x9e3779b97f4a7c15)
}

// matching lists the pool indexes of the questions with any of tags (nil: all).
func matching(pool []poolQuestion, tags []string) []int {
	var out []int
	for i, q := range pool {
		if len(tags) == 0 {
			out = append(out, i)
			continue
		}
		for _, t := range tags {
			if q.tags[t] {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// loadPool reads the active questions (what drawing needs of them), by id.
func (s *Service) loadPool(ctx context.Context, db *gorm.DB) ([]poolQuestion, error) {
	var qs []models.Question
	if err := db.Model(&models.Question{}).Select("id, type, options, tags").Where("active = ?", true).
		Order("id").Find(&qs).Error; err != nil {
		return nil, fmt.Errorf("study: load question pool: %w", err)
	}
	pool := make([]poolQuestion, len(qs))
	for i := range qs {
		q := &qs[i]
		pq := poolQuestion{id: q.ID}
		if q.Type == models.QuestionSingle || q.Type == models.QuestionMulti {
			pq.options = len(s.bank.Options(q))
		}
		if tags := splitTags(q.Tags); len(tags) > 0 {
			pq.tags = make(map[string]bool, len(tags))
			for _, t := range tags {
				pq.tags[t] = true
			}
		}
		pool[i] = pq
	}
	return pool, nil
}

// bookEntry is an open (not mastered) wrong item.
type bookEntry struct {
	question uint
	due      string
}

// loadBooks reads the open wrong items of members (nil: everyone), each member's sorted by due day.
func (s *Service) loadBooks(ctx context.Context, db *gorm.DB, memberIDs []uint) (map[uint][]bookEntry, error) {
	var rows []struct {
		MemberID   uint
		QuestionID uint
		DueDay     string
	}
	q := db.Model(&models.WrongItem{}).Select("member_id, question_id, due_day").Where("mastered_at IS NULL")
	if memberIDs != nil {
		q = q.Where("member_id IN ?", memberIDs)
	}
	if err := q.Order("due_day, id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: load wrong-answer books: %w", err)
	}
	books := map[uint][]bookEntry{}
	for _, r := range rows {
		books[r.MemberID] = append(books[r.MemberID], bookEntry{question: r.QuestionID, due: r.DueDay})
	}
	return books, nil
}

// loadRecent reads which questions each member (nil: everyone) was given in the recentDays before day.
func (s *Service) loadRecent(ctx context.Context, db *gorm.DB, day string, memberIDs []uint) (map[uint]map[uint]bool, error) {
	var rows []struct {
		MemberID uint
		Items    string
	}
	q := db.Model(&models.StudyTask{}).Select("member_id, items").Where("day >= ? AND day < ?", addDays(day, -recentDays), day)
	if memberIDs != nil {
		q = q.Where("member_id IN ?", memberIDs)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: load recent tasks: %w", err)
	}
	recent := map[uint]map[uint]bool{}
	for _, r := range rows {
		items, err := decodeItems(r.Items)
		if err != nil {
			continue // a damaged row only loses its exclusions
		}
		m := recent[r.MemberID]
		if m == nil {
			m = map[uint]bool{}
			recent[r.MemberID] = m
		}
		for _, it := range items {
			m[it.Q] = true
		}
	}
	return recent, nil
}

// todayTask is the member's task of today, made now if the morning's publishing has not reached him
// (it had not run yet, or he joined since).
func (s *Service) todayTask(ctx context.Context, memberID uint) (*models.StudyTask, error) {
	day := s.Today()
	t, err := s.taskOf(ctx, memberID, day)
	if !errors.Is(err, ErrNotFound) {
		return t, err
	}
	if _, err := s.publish(ctx, day, []uint{memberID}); err != nil {
		return nil, err
	}
	t, err = s.taskOf(ctx, memberID, day)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoQuestions
	}
	return t, err
}

func (s *Service) taskOf(ctx context.Context, memberID uint, day string) (*models.StudyTask, error) {
	var ts []models.StudyTask
	if err := s.db.WithContext(ctx).Where("member_id = ? AND day = ?", memberID, day).Limit(1).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("study: task of member %d on %s: %w", memberID, day, err)
	}
	if len(ts) == 0 {
		return nil, ErrNotFound
	}
	return &ts[0], nil
}
