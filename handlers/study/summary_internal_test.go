package study

import (
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/testenv"
)

// TestSplitDays: a period's days go to the summary when they are marked done, the others (gaps, today)
// to the tasks, as ranges in order.
func TestSplitDays(t *testing.T) {
	show := func(rs []dayRange) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.from[5:]+"~"+r.to[5:])
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		from, to  string
		done      []string
		sum, live string
	}{
		{"2026-11-01", "2026-11-05", []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}, "11-01~11-04", "11-05~11-05"},
		{"2026-11-01", "2026-11-05", nil, "", "11-01~11-05"},
		{"2026-11-01", "2026-11-05", []string{"2026-11-02", "2026-11-04", "2026-11-09"}, "11-02~11-02 11-04~11-04", "11-01~11-01 11-03~11-03 11-05~11-05"},
		{"2026-02-27", "2026-03-02", []string{"2026-02-27", "2026-02-28", "2026-03-01"}, "02-27~03-01", "03-02~03-02"},
		{"2026-12-31", "2027-01-01", []string{"2026-12-31", "2027-01-01"}, "12-31~01-01", ""},
	} {
		sum, live := splitDays(dayRange{c.from, c.to}, c.done)
		if show(sum) != c.sum || show(live) != c.live {
			t.Errorf("%s–%s with %v: summary %q, live %q; want %q, %q", c.from, c.to, c.done, show(sum), show(live), c.sum, c.live)
		}
	}
	if got := fmt.Sprint(chunks(dayRange{"2026-01-30", "2026-03-05"}, 31)); got != "[{2026-01-30 2026-03-01} {2026-03-02 2026-03-05}]" {
		t.Errorf("chunks: %s", got)
	}
}

// TestInDaysGroupsTheRanges: the ranges are one condition beside the others (an OR that escaped its
// parentheses would read other orgs' rows).
func TestInDaysGroupsTheRanges(t *testing.T) {
	db := testenv.DB(t)
	sql := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var n int64
		return tx.Table("study_tasks").Where("org_id = ?", 7).
			Scopes(inDays("day", []dayRange{{"2026-11-01", "2026-11-03"}, {"2026-11-05", "2026-11-05"}})).Count(&n)
	})
	sql = strings.ReplaceAll(sql, `"`, "'") // SQLite's quotes
	if !strings.Contains(sql, "org_id = 7 AND ((day >= '2026-11-01' AND day <= '2026-11-03') OR (day >= '2026-11-05' AND day <= '2026-11-05'))") {
		t.Fatalf("ranges not grouped: %s", sql)
	}
}
