package meetings

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Frequency is how often every branch must hold a meeting type: at least once every Months months.
type Frequency struct {
	Type   string
	Months int
}

// Frequencies are the rules of 三会一课 and 主题党日 for branches (orgs at the village level and below):
// 支部委员会 monthly, 支部党员大会 quarterly, 党小组会 monthly, 党课 quarterly, 主题党日 monthly.
// A branch is overdue for a type when the last such meeting it held (back-entered ones count) started
// more than Months months ago, or it never held one.
var Frequencies = []Frequency{
	{models.MeetingCommittee, 1},
	{models.MeetingGeneral, 3},
	{models.MeetingGroup, 1},
	{models.MeetingLecture, 3},
	{models.MeetingThemeDay, 1},
}

// PeriodName is a frequency as people read it.
func (f Frequency) PeriodName() string {
	switch f.Months {
	case 1:
		return "每月"
	case 3:
		return "每季度"
	case 12:
		return "每年"
	}
	return fmt.Sprintf("每%d个月", f.Months)
}

// Due is one branch's standing for one meeting type.
type Due struct {
	Frequency
	Last    *time.Time // start of the last meeting held; nil: never
	Overdue bool
}

// BranchDue is one branch's standing for every type.
type BranchDue struct {
	OrgID   uint
	OrgPath string
	Items   []Due // in the order of Frequencies
	Overdue int   // how many types are overdue
}

// Unit is the branch's name as members read it.
func (b *BranchDue) Unit() string { return unitName(b.OrgPath) }

// Overdue is the standing of every branch in the subtree of sc (narrowed to org when not 0): the
// branches with an overdue type first (most overdue types first), then by path. onlyOverdue leaves
// out the branches that are up to date.
func (s *Service) Overdue(ctx context.Context, sc scope.Scope, onlyOverdue bool) ([]BranchDue, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Scopes(sc.Orgs).Where("level >= ?", models.LevelVillage).
		Select("id", "path").Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("meetings: branches: %w", err)
	}
	now := s.now()
	// MAX over a time column is a time.Time on PostgreSQL and MySQL but text on SQLite: read it raw.
	rows, err := s.db.WithContext(ctx).Model(&models.Meeting{}).Scopes(sc.ByOrg("meetings.org_id")).
		Select("org_id, type, MAX(start_at) AS last").Where("start_at <= ?", now.UTC()).
		Group("org_id, type").Rows()
	if err != nil {
		return nil, fmt.Errorf("meetings: last meetings: %w", err)
	}
	defer rows.Close()
	last := make(map[uint]map[string]time.Time, len(orgs))
	for rows.Next() {
		var (
			orgID uint
			typ   string
			raw   any
		)
		if err := rows.Scan(&orgID, &typ, &raw); err != nil {
			return nil, fmt.Errorf("meetings: last meetings: %w", err)
		}
		t, err := dbTime(raw)
		if err != nil {
			return nil, fmt.Errorf("meetings: last meeting of org %d: %w", orgID, err)
		}
		if last[orgID] == nil {
			last[orgID] = map[string]time.Time{}
		}
		last[orgID][typ] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meetings: last meetings: %w", err)
	}
	out := make([]BranchDue, 0, len(orgs))
	for _, o := range orgs {
		b := BranchDue{OrgID: o.ID, OrgPath: o.Path, Items: make([]Due, len(Frequencies))}
		for i, f := range Frequencies {
			d := Due{Frequency: f, Overdue: true}
			if t, ok := last[o.ID][f.Type]; ok {
				d.Last = &t
				d.Overdue = t.AddDate(0, f.Months, 0).Before(now)
			}
			if d.Overdue {
				b.Overdue++
			}
			b.Items[i] = d
		}
		if onlyOverdue && b.Overdue == 0 {
			continue
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Overdue > out[j].Overdue })
	return out, nil
}

// dbTimeLayouts are how SQLite drivers write times as text.
var dbTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
}

// dbTime reads a time an aggregate returned: PostgreSQL and MySQL give a time.Time, SQLite its text.
func dbTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case []byte:
		return dbTime(string(x))
	case string:
		x = strings.TrimSpace(x)
		for _, l := range dbTimeLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("unreadable time %q", x)
	}
	return time.Time{}, fmt.Errorf("unreadable time of type %T", v)
}
