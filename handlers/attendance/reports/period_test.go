package reports

import "testing"

func TestPeriodOf(t *testing.T) {
	for _, c := range []struct {
		kind, date, from, to, label, short string
		prev, next                         string
	}{
		{"day", "2026-11-20", "2026-11-20", "2026-11-20", "2026-11-20", "11月20日", "2026-11-19", "2026-11-21"},
		{"week", "2026-11-20", "2026-11-16", "2026-11-22", "2026-11-16 至 2026-11-22", "11月16日-11月22日", "2026-11-09", "2026-11-23"},
		{"week", "2026-11-22", "2026-11-16", "2026-11-22", "2026-11-16 至 2026-11-22", "11月16日-11月22日", "2026-11-09", "2026-11-23"}, // a Sunday
		{"week", "2026-11-16", "2026-11-16", "2026-11-22", "2026-11-16 至 2026-11-22", "11月16日-11月22日", "2026-11-09", "2026-11-23"}, // a Monday
		{"week", "2026-12-31", "2026-12-28", "2027-01-03", "2026-12-28 至 2027-01-03", "12月28日-1月3日", "2026-12-21", "2027-01-04"},
		{"month", "2026-11-20", "2026-11-01", "2026-11-30", "2026年11月", "11月1日-11月30日", "2026-10-01", "2026-12-01"},
		{"month", "2028-02-10", "2028-02-01", "2028-02-29", "2028年2月", "2月1日-2月29日", "2028-01-01", "2028-03-01"}, // leap year
		{"month", "2026-01-31", "2026-01-01", "2026-01-31", "2026年1月", "1月1日-1月31日", "2025-12-01", "2026-02-01"},
		{"", "2026-11-20", "2026-11-20", "2026-11-20", "2026-11-20", "11月20日", "2026-11-19", "2026-11-21"}, // unknown: a day
	} {
		p := PeriodOf(c.kind, c.date)
		if p.From != c.from || p.To != c.to || p.Label() != c.label || p.Short() != c.short || p.Shift(-1) != c.prev || p.Shift(1) != c.next {
			t.Errorf("PeriodOf(%q, %s) = %s..%s %q %q prev %s next %s, want %s..%s %q %q prev %s next %s", c.kind, c.date,
				p.From, p.To, p.Label(), p.Short(), p.Shift(-1), p.Shift(1), c.from, c.to, c.label, c.short, c.prev, c.next)
		}
	}
}

func TestThresholdsColour(t *testing.T) {
	d := DefaultThresholds()
	for _, c := range []struct {
		part, whole int64
		want        string
	}{
		{19, 20, StatusOK},     // 95 % exactly
		{189, 200, StatusWarn}, // 94.5 %
		{17, 20, StatusWarn},   // 85 % exactly
		{169, 200, StatusBad},  // 84.5 %
		{0, 20, StatusBad},
		{0, 0, StatusNone}, // nothing expected
	} {
		if got := d.Colour(c.part, c.whole); got != c.want {
			t.Errorf("Colour(%d/%d) = %s, want %s", c.part, c.whole, got, c.want)
		}
	}
	for _, c := range []struct {
		t  Thresholds
		ok bool
	}{{Thresholds{95, 85}, true}, {Thresholds{100, 0}, true}, {Thresholds{80, 80}, true}, {Thresholds{80, 90}, false},
		{Thresholds{101, 50}, false}, {Thresholds{50, -1}, false}} {
		if err := c.t.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", c.t, err, c.ok)
		}
	}
}

// TestCountsRate: the rate's definition, as the page states it.
func TestCountsRate(t *testing.T) {
	c := Counts{Present: 5, Late: 2, EarlyLeave: 1, Offsite: 1, Absent: 1, Leave: 3, Rest: 8, LateDays: 3}
	if c.WorkDays() != 13 || c.Expected() != 10 || c.Attended() != 9 || c.RatePct() != "90%" || *c.Rate1() != 90 {
		t.Errorf("work %d expected %d attended %d rate %s", c.WorkDays(), c.Expected(), c.Attended(), c.RatePct())
	}
	onlyLeave := Counts{Leave: 3, Rest: 2}
	if _, ok := onlyLeave.Rate(); ok || onlyLeave.RatePct() != "—" || onlyLeave.Rate1() != nil {
		t.Errorf("all leave has a rate: %s", onlyLeave.RatePct())
	}
	third := Counts{Present: 1, Absent: 2}
	if *third.Rate1() != 33.3 {
		t.Errorf("1/3 = %v", *third.Rate1())
	}
}
