package study

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gorm.io/gorm"
)

// Remedial study (回炉补课): a member who failed a completion test gets remedialPerTask questions more
// in his daily task, drawn from the tags he got wrong (models.RemedialStudy, table remedial_studies), while the exam is open
// and until he passes a retake.

// remedialPerTask: extra questions a day in remedial study.
const remedialPerTask = 3

// anyTag in a member's remedial tags means "any question" (an exam without tags whose wrong questions
// had none either).
const anyTag = ""

// loadRemedial reads the remedial tags of members (nil: everyone) whose exam is still open.
func (s *Service) loadRemedial(ctx context.Context, db *gorm.DB, memberIDs []uint) (map[uint][]string, error) {
	var rows []struct {
		MemberID uint
		Tags     string
	}
	q := db.WithContext(ctx).Table("remedial_studies r").Select("r.member_id, r.tags").
		Joins("JOIN exams e ON e.id = r.exam_id").Where("e.closes_at > ?", s.now().UTC())
	if memberIDs != nil {
		q = q.Where("r.member_id IN ?", memberIDs)
	}
	if err := q.Order("r.id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("study: load remedial study: %w", err)
	}
	out := map[uint][]string{}
	for _, r := range rows {
		tags := splitTags(r.Tags)
		if len(tags) == 0 {
			tags = []string{anyTag}
		}
		out[r.MemberID] = append(out[r.MemberID], tags...)
	}
	return out, nil
}

// addRemedial adds a member's remedial questions of the day to his drawn items: remedialPerTask
// questions with any of tags, not in the task already, and (while others are left) not given to him
// recently. The draw is seeded by member and day, like the task's.
func (s *Service) addRemedial(memberID uint, day string, items []item, pool []poolQuestion, tags []string, recent map[uint]bool) []item {
	if len(tags) == 0 {
		return items
	}
	var cands []int
	for _, t := range tags {
		if t == anyTag {
			cands = matching(pool, nil)
			break
		}
	}
	if cands == nil {
		cands = matching(pool, tags)
	}
	if len(cands) == 0 {
		return items
	}
	taken := make(map[uint]bool, len(items)+remedialPerTask)
	for _, it := range items {
		taken[it.Q] = true
	}
	rng := rand.New(seedFor(memberID, day+"|remedial"))
	added := 0
	for pass := 0; pass < 2 && added < remedialPerTask; pass++ {
		start := rng.IntN(len(cands))
		for k := 0; k < len(cands) && added < remedialPerTask; k++ {
			pq := pool[cands[(start+k)%len(cands)]]
			if taken[pq.id] || (pass == 0 && recent[pq.id]) {
				continue
			}
			it := item{Q: pq.id, Remedial: true}
			if pq.options > 1 {
				it.Order = rng.Perm(pq.options)
			}
			items, taken[pq.id] = append(items, it), true
			added++
		}
	}
	return items
}

// RemedialTags are the tags of a member's remedial study while an exam he failed is open (nil: he is
// in none; a "" among them: any question).
func (s *Service) RemedialTags(ctx context.Context, memberID uint) ([]string, error) {
	m, err := s.loadRemedial(ctx, s.db, []uint{memberID})
	if err != nil {
		return nil, err
	}
	return m[memberID], nil
}
