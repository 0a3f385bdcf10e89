package roster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// ErrBadOrgPath wraps every reason an org path is refused.
var ErrBadOrgPath = errors.New("roster: bad org path")

// Limits of org names and paths (the columns are size 64 and 512).
const (
	maxOrgName = 64
	maxOrgPath = 512
)

// ParseOrgPath checks an org path like "洪雅县/花溪镇/郭沟村" and returns it in canonical form (names
// trimmed, a full-width ／ read as /) with its names from the top down.
func ParseOrgPath(path string) (string, []string, error) {
	names, reason := splitOrgPath(path)
	if reason != "" {
		return "", nil, fmt.Errorf("%w: %s", ErrBadOrgPath, reason)
	}
	return strings.Join(names, "/"), names, nil
}

// splitOrgPath returns the path's names, or a reason (in Chinese, for row errors) why it is refused.
func splitOrgPath(path string) ([]string, string) {
	path = strings.TrimSpace(strings.ReplaceAll(path, "／", "/"))
	if path == "" {
		return nil, "组织为空"
	}
	names := strings.Split(path, "/")
	total := len(names) - 1
	for i, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			return nil, fmt.Sprintf("组织「%s」中有空的一级（多了或少了“/”？）", path)
		case utf8.RuneCountInString(n) > maxOrgName:
			return nil, fmt.Sprintf("组织名称「%s」太长（最多%d个字）", n, maxOrgName)
		case strings.IndexFunc(n, unicode.IsControl) >= 0:
			return nil, fmt.Sprintf("组织名称「%s」含有不可见字符", n)
		}
		names[i] = n
		total += utf8.RuneCountInString(n)
	}
	if total > maxOrgPath {
		return nil, fmt.Sprintf("组织路径太长（最多%d个字）", maxOrgPath)
	}
	return names, ""
}

// EnsureOrgPath returns the org named by path, creating the missing levels (level 1 is the county, 2 the
// town, 3 the village; deeper levels are allowed). It is idempotent and safe against a concurrent
// creator. tx may be nil (the service's database) or a transaction.
func (s *Service) EnsureOrgPath(ctx context.Context, tx *gorm.DB, path string) (*models.Org, error) {
	canon, _, err := ParseOrgPath(path)
	if err != nil {
		return nil, err
	}
	if tx == nil {
		tx = s.db
	}
	orgs, err := s.ensureOrgs(ctx, tx, []string{canon})
	if err != nil {
		return nil, err
	}
	return orgs[canon], nil
}

// ensureOrgs makes sure every path in paths (canonical, already checked) and all its ancestors exist,
// and returns them all by path. It costs two queries per level plus one: load what exists, then per
// level insert the missing orgs in one statement and read back their IDs.
func (s *Service) ensureOrgs(ctx context.Context, tx *gorm.DB, paths []string) (map[string]*models.Org, error) {
	tx = tx.WithContext(ctx)
	want := map[string]bool{}
	for _, p := range paths {
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '/' {
				want[p[:i]] = true
			}
		}
	}
	all := make([]string, 0, len(want))
	for p := range want {
		all = append(all, p)
	}
	byPath := make(map[string]*models.Org, len(all))
	if err := loadOrgs(tx, all, byPath); err != nil {
		return nil, err
	}

	// Missing orgs, by level, so each level's parents exist before it is inserted.
	missing := map[int][]string{}
	maxLevel := 0
	for _, p := range all {
		if byPath[p] == nil {
			lv := strings.Count(p, "/") + 1
			missing[lv] = append(missing[lv], p)
			maxLevel = max(maxLevel, lv)
		}
	}
	now := s.now()
	for lv := 1; lv <= maxLevel; lv++ {
		ps := missing[lv]
		if len(ps) == 0 {
			continue
		}
		sort.Strings(ps)
		rows := make([]models.Org, len(ps))
		for i, p := range ps {
			rows[i] = models.Org{Name: p[strings.LastIndexByte(p, '/')+1:], Path: p, Level: lv, CreatedAt: now, UpdatedAt: now}
			if lv > 1 {
				parent := byPath[p[:strings.LastIndexByte(p, '/')]]
				rows[i].ParentID = &parent.ID
			}
		}
		// DO NOTHING: a concurrent import may have created some of them; read back either way.
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "path"}}, DoNothing: true}).
			CreateInBatches(rows, 500).Error
		if err != nil {
			return nil, fmt.Errorf("roster: create %d orgs: %w", len(rows), err)
		}
		if err := loadOrgs(tx, ps, byPath); err != nil {
			return nil, err
		}
		for _, p := range ps {
			if byPath[p] == nil {
				return nil, fmt.Errorf("roster: org %q not found after creating it", p)
			}
		}
	}
	return byPath, nil
}

// loadOrgs reads the orgs with these paths into byPath.
func loadOrgs(tx *gorm.DB, paths []string, byPath map[string]*models.Org) error {
	for start := 0; start < len(paths); start += 500 {
		chunk := paths[start:min(start+500, len(paths))]
		var orgs []*models.Org
		if err := tx.Where("path IN ?", chunk).Find(&orgs).Error; err != nil {
			return fmt.Errorf("roster: load orgs: %w", err)
		}
		for _, o := range orgs {
			byPath[o.Path] = o
		}
	}
	return nil
}
