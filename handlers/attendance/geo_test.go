package attendance

import (
	"math"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/models"
)

// north is the point d metres due north of (lat, lng).
func north(lat, lng, d float64) (float64, float64) {
	return lat + d/earthRadius*180/math.Pi, lng
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want, tol              float64
	}{
		{"same point", 29.906, 103.372, 29.906, 103.372, 0, 1e-9},
		// One degree of latitude is about 111.2 km on the mean sphere.
		{"one degree north", 29, 103, 30, 103, 111195, 1},
		// 洪雅县城 to 眉山市区 (GCJ-02 points from a Chinese map), about 48 km as the crow flies.
		{"county to city", 29.9061, 103.3720, 30.0757, 103.8311, 48000, 1500},
		{"across the antimeridian", 0, 179.9, 0, -179.9, 22239, 1},
	} {
		got := Distance(tc.lat1, tc.lng1, tc.lat2, tc.lng2)
		if math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: %.1f m, want %.0f ± %.0f", tc.name, got, tc.want, tc.tol)
		}
	}
	lat, lng := north(29.906, 103.372, 300)
	if d := Distance(29.906, 103.372, lat, lng); math.Abs(d-300) > 0.01 {
		t.Fatalf("north(300) is %.3f m away", d)
	}
}

func TestCheckCoordsAndParse(t *testing.T) {
	for _, tc := range []struct {
		lat, lng float64
		ok       bool
	}{
		{29.906, 103.372, true},
		{-33.86, 151.2, true},
		{0, 0, false},
		{0.0000000001, -0.0000000001, false},
		{0, 103.3, true}, // on the equator, but a real place
		{91, 103, false},
		{-90.0001, 103, false},
		{29, 180.5, false},
		{math.NaN(), 103, false},
		{29, math.Inf(1), false},
	} {
		if err := CheckCoords(tc.lat, tc.lng); (err == nil) != tc.ok {
			t.Errorf("CheckCoords(%v, %v) = %v, want ok %v", tc.lat, tc.lng, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"29.906012", 29.906012, true},
		{" 103.37 ", 103.37, true},
		{"-33.5", -33.5, true},
		{"", 0, false},
		{"abc", 0, false},
		{"29,9", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1e400", 0, false},
	} {
		got, err := ParseCoord(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseCoord(%q) = %v, %v; want %v ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestNearestAndEdge(t *testing.T) {
	a := Place{ID: 1, Name: "村委会", Lat: 29.906, Lng: 103.372, Radius: 300}
	b := Place{ID: 2, Name: "活动室", Lat: 29.915, Lng: 103.372, Radius: 1500}
	for _, tc := range []struct {
		name   string
		d      float64 // metres north of a
		want   uint
		inside bool
	}{
		{"at the office", 0, 1, true},
		{"inside, near the edge", 299.5, 1, true},
		{"just outside a, inside b's big fence", 300.5, 2, true},
		{"far north, inside b", 2400, 2, true},
		{"beyond both", 3000 + 1000 + 1600, 2, false},
	} {
		lat, lng := north(a.Lat, a.Lng, tc.d)
		p, d := nearest([]Place{a, b}, lat, lng)
		if p.ID != tc.want || inside(p, d) != tc.inside {
			t.Errorf("%s: place %d at %.1f m (inside %v), want place %d inside %v", tc.name, p.ID, d, inside(p, d), tc.want, tc.inside)
		}
	}
	// Only a: the edge itself.
	lat, lng := north(a.Lat, a.Lng, 299.9)
	if p, d := nearest([]Place{a}, lat, lng); !inside(p, d) {
		t.Errorf("299.9 m from a 300 m fence is outside (%.2f)", d)
	}
	lat, lng = north(a.Lat, a.Lng, 300.1)
	if p, d := nearest([]Place{a}, lat, lng); inside(p, d) {
		t.Errorf("300.1 m from a 300 m fence is inside (%.2f)", d)
	}
}

func TestValidateRule(t *testing.T) {
	for _, tc := range []struct {
		r    models.DutyRule
		ok   bool
		days string
	}{
		{DefaultRule(), true, "12345"},
		{models.DutyRule{WorkDays: "54321", OnDuty: "08:30", OffDuty: "17:30", LateGrace: 0, EarlyGrace: 120}, true, "12345"},
		{models.DutyRule{WorkDays: "1167", OnDuty: "08:30", OffDuty: "17:30"}, true, "167"},
		{models.DutyRule{WorkDays: "", OnDuty: "08:30", OffDuty: "17:30"}, false, ""},
		{models.DutyRule{WorkDays: "18", OnDuty: "08:30", OffDuty: "17:30"}, false, ""},
		{models.DutyRule{WorkDays: "12345", OnDuty: "8:30", OffDuty: "17:30"}, false, ""},
		{models.DutyRule{WorkDays: "12345", OnDuty: "18:00", OffDuty: "17:30"}, false, ""},
		{models.DutyRule{WorkDays: "12345", OnDuty: "08:00", OffDuty: "24:00"}, false, ""},
		{models.DutyRule{WorkDays: "12345", OnDuty: "08:00", OffDuty: "17:00", LateGrace: -1}, false, ""},
		{models.DutyRule{WorkDays: "12345", OnDuty: "08:00", OffDuty: "17:00", EarlyGrace: 121}, false, ""},
	} {
		r := tc.r
		err := ValidateRule(&r)
		if (err == nil) != tc.ok || tc.ok && r.WorkDays != tc.days {
			t.Errorf("ValidateRule(%+v) = %v, days %q; want ok %v days %q", tc.r, err, r.WorkDays, tc.ok, tc.days)
		}
	}
	if WorkDaysText("12345") != "周一至周五" || WorkDaysText("136") != "周一、周三、周六" {
		t.Fatal(WorkDaysText("136"))
	}
}

// TestLatenessByTolerance: late and early are counted from the duty time, once beyond the tolerance.
func TestLatenessByTolerance(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	rule := models.DutyRule{WorkDays: "12345", OnDuty: "09:00", OffDuty: "17:00", LateGrace: 10, EarlyGrace: 5}
	at := func(hhmm string) time.Time { return clockOn("2026-11-20", hhmm, loc) }
	for _, tc := range []struct {
		kind, at string
		want     int
	}{
		{models.CheckKindIn, "08:10", 0},
		{models.CheckKindIn, "09:00", 0},
		{models.CheckKindIn, "09:10", 0}, // the tolerance itself is on time
		{models.CheckKindIn, "09:11", 11},
		{models.CheckKindIn, "10:30", 90},
		{models.CheckKindOut, "17:30", 0},
		{models.CheckKindOut, "16:55", 0},
		{models.CheckKindOut, "16:54", 6},
		{models.CheckKindOut, "12:00", 300},
	} {
		if got := lateness(rule, tc.kind, "2026-11-20", at(tc.at), loc); got != tc.want {
			t.Errorf("%s at %s: %d minutes, want %d", tc.kind, tc.at, got, tc.want)
		}
	}
}

// TestDayStatus: the status of a day from its counted records, table-driven.
func TestDayStatus(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	rule := DefaultRule() // 09:00–17:00, 15 minutes
	day := "2026-11-20"
	in := func(hhmm string) models.CheckIn {
		return models.CheckIn{Kind: models.CheckKindIn, At: clockOn(day, hhmm, loc), Source: models.CheckSourceChat}
	}
	out := func(hhmm string) models.CheckIn {
		return models.CheckIn{Kind: models.CheckKindOut, At: clockOn(day, hhmm, loc), Source: models.CheckSourceChat}
	}
	req := uint(7)
	offsite := in("08:50")
	offsite.RequestID = &req
	makeup := in("08:50")
	makeup.RequestID, makeup.Source = &req, models.CheckSourceMakeup
	flagged := in("08:55")
	flagged.Flags = "mock"
	for _, tc := range []struct {
		name        string
		work, leave bool
		cs          []models.CheckIn
		want        string
		late, early bool
		flagged     bool
	}{
		{"present", true, false, []models.CheckIn{in("08:58"), out("17:05")}, models.DayPresent, false, false, false},
		{"present within tolerance", true, false, []models.CheckIn{in("09:15"), out("16:45")}, models.DayPresent, false, false, false},
		{"late", true, false, []models.CheckIn{in("09:16"), out("17:00")}, models.DayLate, true, false, false},
		{"early", true, false, []models.CheckIn{in("08:00"), out("16:44")}, models.DayEarlyLeave, false, true, false},
		{"late and early: late wins", true, false, []models.CheckIn{in("10:00"), out("15:00")}, models.DayLate, true, true, false},
		{"no check-out is early", true, false, []models.CheckIn{in("08:30")}, models.DayEarlyLeave, false, true, false},
		{"first in and last out count", true, false, []models.CheckIn{out("12:00"), in("09:40"), in("08:40"), out("17:30")}, models.DayPresent, false, false, false},
		{"absent", true, false, nil, models.DayAbsent, false, false, false},
		{"leave", true, true, nil, models.DayLeave, false, false, false},
		{"rest day", false, false, nil, models.DayRest, false, false, false},
		{"rest day beats leave and records", false, true, []models.CheckIn{in("08:00")}, models.DayRest, false, false, false},
		{"approved off-site", true, false, []models.CheckIn{offsite, out("17:00")}, models.DayOffsite, false, false, false},
		{"make-up is no off-site", true, false, []models.CheckIn{makeup, out("17:00")}, models.DayPresent, false, false, false},
		{"flagged still counts", true, false, []models.CheckIn{flagged, out("17:00")}, models.DayPresent, false, false, true},
	} {
		row := models.AttendanceDay{Day: day}
		dayStatus(&row, rule, tc.work, tc.leave, tc.cs, loc)
		if row.Status != tc.want || row.Late != tc.late || row.Early != tc.early || row.Flagged != tc.flagged {
			t.Errorf("%s: %s late=%v early=%v flagged=%v; want %s late=%v early=%v flagged=%v", tc.name,
				row.Status, row.Late, row.Early, row.Flagged, tc.want, tc.late, tc.early, tc.flagged)
		}
	}
}

func TestCalendarWorkDay(t *testing.T) {
	rule := DefaultRule()
	cal := calendar{"洪雅县": {
		"2026-10-01": {Day: "2026-10-01", Name: "国庆节"},
		"2026-10-10": {Day: "2026-10-10", Name: "国庆调休", Workday: true}, // a Saturday
	}}
	for _, tc := range []struct {
		county, day string
		work        bool
		why         string
	}{
		{"洪雅县", "2026-11-20", true, "休息日"}, // Friday
		{"洪雅县", "2026-11-21", false, "休息日"},
		{"洪雅县", "2026-10-01", false, "国庆节"},
		{"洪雅县", "2026-10-10", true, "国庆调休"},
		{"青神县", "2026-10-01", true, "休息日"}, // another county's holiday
	} {
		work, why := cal.workDay(rule, tc.county, tc.day)
		if work != tc.work || (!work && why != tc.why) {
			t.Errorf("%s %s: work %v %q, want %v %q", tc.county, tc.day, work, why, tc.work, tc.why)
		}
	}
}
