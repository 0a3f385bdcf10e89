package study

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// Leaderboards are Redis sorted sets, one per org (village, town, county) and year, of member ids
// scored by their points that year (kv.BoardKey). A credit sets the member's score on the boards of his
// org and its ancestors to his year total, an idempotent write; RebuildBoards rewrites them from the
// ledger (after a Redis loss, or when members moved).

// BoardEntry is one line of a leaderboard.
type BoardEntry struct {
	Rank     int // 1-based; equal points share a rank
	MemberID uint
	Name     string
	Points   int
}

// updateBoards writes a credit to the boards. The credit is committed already: a Redis failure is
// logged, and RebuildBoards repairs the boards.
func (s *Service) updateBoards(ctx context.Context, u *boardUpdate) {
	if s.rdb == nil {
		return
	}
	orgs, err := s.orgIDs(ctx, ancestors(u.path))
	if err == nil {
		pipe := s.rdb.Pipeline()
		for _, id := range orgs {
			key := kv.BoardKey(u.year, id)
			pipe.ZAdd(ctx, key, redis.Z{Score: float64(u.points), Member: memberKey(u.memberID)})
			pipe.Expire(ctx, key, kv.BoardTTL)
		}
		_, err = pipe.Exec(ctx)
	}
	if err != nil {
		s.log.WarnContext(ctx, "study: leaderboard not updated", "member", u.memberID, "err", err)
	}
}

// orgIDs are the ids of the orgs at paths, in the order of paths (missing ones left out).
func (s *Service) orgIDs(ctx context.Context, paths []string) ([]uint, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Select("id, path").Where("path IN ?", paths).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("study: orgs: %w", err)
	}
	byPath := make(map[string]uint, len(orgs))
	for _, o := range orgs {
		byPath[o.Path] = o.ID
	}
	var ids []uint
	for _, p := range paths {
		if id, ok := byPath[p]; ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func memberKey(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// Board is the top n of an org's leaderboard for a year, with names (members no longer active are
// left out).
func (s *Service) Board(ctx context.Context, orgID uint, year, n int) ([]BoardEntry, error) {
	if n <= 0 || s.rdb == nil {
		return nil, nil
	}
	key := kv.BoardKey(year, orgID)
	// Read a little more than n, so that inactive members left out do not shorten the board.
	zs, err := s.rdb.ZRevRangeWithScores(ctx, key, 0, int64(n+10-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("study: board of org %d: %w", orgID, err)
	}
	ids := make([]uint, 0, len(zs))
	for _, z := range zs {
		if id, err := strconv.ParseUint(z.Member.(string), 10, 64); err == nil {
			ids = append(ids, uint(id))
		}
	}
	names := map[uint]string{}
	if len(ids) > 0 {
		var ms []models.Member
		if err := s.db.WithContext(ctx).Select("id, name").Where("id IN ? AND active = ?", ids, true).Find(&ms).Error; err != nil {
			return nil, fmt.Errorf("study: board names: %w", err)
		}
		for _, m := range ms {
			names[m.ID] = m.Name
		}
	}
	var out []BoardEntry
	for _, z := range zs {
		id, _ := strconv.ParseUint(z.Member.(string), 10, 64)
		name, ok := names[uint(id)]
		if !ok {
			continue
		}
		e := BoardEntry{Rank: len(out) + 1, MemberID: uint(id), Name: name, Points: int(z.Score)}
		if len(out) > 0 && out[len(out)-1].Points == e.Points {
			e.Rank = out[len(out)-1].Rank
		}
		out = append(out, e)
		if len(out) == n {
			break
		}
	}
	return out, nil
}

// Rank is a member's place on an org's board for a year (1 + those with more points), and his
// points; 0, 0 when he is not on it.
func (s *Service) Rank(ctx context.Context, orgID uint, year int, memberID uint) (rank, points int, err error) {
	if s.rdb == nil {
		return 0, 0, nil
	}
	key := kv.BoardKey(year, orgID)
	score, err := s.rdb.ZScore(ctx, key, memberKey(memberID)).Result()
	if err == redis.Nil {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("study: rank on board of org %d: %w", orgID, err)
	}
	above, err := s.rdb.ZCount(ctx, key, "("+strconv.FormatFloat(score, 'f', -1, 64), "+inf").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("study: rank on board of org %d: %w", orgID, err)
	}
	return int(above) + 1, int(score), nil
}

// RebuildBoards rewrites every leaderboard of a year from the ledger, with each member on the boards of
// his current org and its ancestors. Each board is built under a temporary key and renamed over the
// old one, so readers never see a half-built board; boards of orgs left with nobody are removed.
func (s *Service) RebuildBoards(ctx context.Context, year int) error {
	if s.rdb == nil {
		return nil
	}
	var rows []struct {
		MemberID uint
		Path     string
		Points   int
	}
	err := s.db.WithContext(ctx).Table("ledger_entries l").
		Select("l.member_id, o.path, SUM(l.amount) AS points").
		Joins("JOIN members m ON m.id = l.member_id").Joins("JOIN orgs o ON o.id = m.org_id").
		Where("l.kind = ? AND l.year = ? AND m.active = ?", models.LedgerPoints, year, true).
		Group("l.member_id, o.path").Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("study: rebuild boards %d: %w", year, err)
	}
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Select("id, path").Find(&orgs).Error; err != nil {
		return fmt.Errorf("study: rebuild boards %d: orgs: %w", year, err)
	}
	idOf := make(map[string]uint, len(orgs))
	for _, o := range orgs {
		idOf[o.Path] = o.ID
	}
	boards := map[uint][]redis.Z{}
	for _, r := range rows {
		for _, p := range ancestors(r.Path) {
			if id, ok := idOf[p]; ok {
				boards[id] = append(boards[id], redis.Z{Score: float64(r.Points), Member: memberKey(r.MemberID)})
			}
		}
	}
	keep := map[string]bool{}
	pipe := s.rdb.Pipeline()
	for id, zs := range boards {
		key := kv.BoardKey(year, id)
		tmp := key + ":rebuild"
		keep[key] = true
		pipe.Del(ctx, tmp)
		for i := 0; i < len(zs); i += 1000 {
			pipe.ZAdd(ctx, tmp, zs[i:min(i+1000, len(zs))]...)
		}
		pipe.Rename(ctx, tmp, key)
		pipe.Expire(ctx, key, kv.BoardTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("study: rebuild boards %d: %w", year, err)
	}
	var stale []string
	iter := s.rdb.Scan(ctx, 0, kv.BoardPattern(year), 500).Iterator()
	for iter.Next(ctx) {
		if k := iter.Val(); !keep[k] {
			stale = append(stale, k)
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("study: rebuild boards %d: scan: %w", year, err)
	}
	for _, k := range stale {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			return fmt.Errorf("study: rebuild boards %d: drop %s: %w", year, k, err)
		}
	}
	return nil
}
