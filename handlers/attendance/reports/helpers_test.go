package reports_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The demo county's attendance of one week (the server's clock: Friday 2026-11-20, 09:30), as the
// nightly status job would have written it. P present, L late (late flag), E early_leave (early
// flag), A absent, V on leave, O off-site, F present with a flagged record; Sunday 11-15 is a rest
// day for everyone seeded.
//
//	            11-16 11-17 11-18 11-19   attended / expected
//	郭沟村 张国华   P     P     P     P      4 / 4
//	      李秀英   P     L     P     E      4 / 4   (late 1, early 1)
//	      王德明   P     A     V     V      1 / 2
//	      刘桂兰   A     A     P     F      2 / 4   (flagged 1)
//	双河村 陈志强   P     P     P     P      4 / 4
//	      杨丽华   P     P     P     O      4 / 4
//	      赵永福   P     P     P     P      4 / 4
//	五龙村 郭晓燕   P     P     P     A      3 / 4   (止戈镇)
//
// 郭沟村 11/14 = 78.6 % (red under the default 95/85), 双河村 12/12 (green), 花溪镇 23/26 = 88.5 %
// (yellow), 止戈镇 3/4 (red), 余坪镇 nothing (none); the county 26/30 = 86.7 % (yellow).
var weekDays = []string{"2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"}

var weekSeed = map[string]string{
	"张国华": "PPPP", "李秀英": "PLPE", "王德明": "PAVV", "刘桂兰": "AAPF",
	"陈志强": "PPPP", "杨丽华": "PPPO", "赵永福": "PPPP",
	"郭晓燕": "PPPA",
}

// member is a demo member by name.
func member(t *testing.T, e *consoletest.Env, name string) models.Member {
	t.Helper()
	var m models.Member
	if err := e.App.DB().Preload("Org").Where("name = ?", name).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return m
}

// orgID is the id of the org at path.
func orgID(t *testing.T, e *consoletest.Env, path string) uint {
	t.Helper()
	var o models.Org
	if err := e.App.DB().Where("path = ?", path).Take(&o).Error; err != nil {
		t.Fatalf("org %s: %v", path, err)
	}
	return o.ID
}

// seedDays writes the member's days from letters (see weekSeed), one per day.
func seedDays(t *testing.T, e *consoletest.Env, name string, days []string, letters string) {
	t.Helper()
	m := member(t, e, name)
	loc := e.App.Config().Location
	for i, l := range letters {
		d := models.AttendanceDay{MemberID: m.ID, Day: days[i], OrgID: m.OrgID, OrgPath: m.Org.Path, Role: m.Role, UpdatedAt: e.Clock.Now()}
		in, _ := time.ParseInLocation("2006-01-02 15:04", days[i]+" 08:55", loc)
		out := in.Add(9 * time.Hour)
		d.InAt, d.OutAt = &in, &out
		switch l {
		case 'P':
			d.Status = models.DayPresent
		case 'L':
			d.Status, d.Late = models.DayLate, true
		case 'E':
			d.Status, d.Early = models.DayEarlyLeave, true
		case 'A':
			d.Status, d.InAt, d.OutAt = models.DayAbsent, nil, nil
		case 'V':
			d.Status, d.InAt, d.OutAt = models.DayLeave, nil, nil
		case 'O':
			d.Status = models.DayOffsite
		case 'F':
			d.Status, d.Flagged = models.DayPresent, true
		case 'R':
			d.Status, d.InAt, d.OutAt = models.DayRest, nil, nil
		default:
			t.Fatalf("seed letter %q", l)
		}
		if err := e.App.DB().Create(&d).Error; err != nil {
			t.Fatalf("seed %s %s: %v", name, days[i], err)
		}
	}
}

// seedWeek writes weekSeed, and Sunday 11-15 as a rest day for the same members.
func seedWeek(t *testing.T, e *consoletest.Env) {
	t.Helper()
	for name, letters := range weekSeed {
		seedDays(t, e, name, weekDays, letters)
		seedDays(t, e, name, []string{"2026-11-15"}, "R")
	}
}

// checkIn records a counted (or other) check-in of the member at hh:mm of day.
func checkIn(t *testing.T, e *consoletest.Env, name, day, hhmm, kind, status string) {
	t.Helper()
	m := member(t, e, name)
	at, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, e.App.Config().Location)
	if err != nil {
		t.Fatal(err)
	}
	ci := models.CheckIn{MemberID: m.ID, OrgID: m.OrgID, Day: day, Kind: kind, At: at, Lat: 29.9, Lng: 103.3, Status: status,
		Source: models.CheckSourceChat, DedupKey: fmt.Sprintf("test:%d:%s:%s:%s", m.ID, day, hhmm, kind)}
	if err := e.App.DB().Create(&ci).Error; err != nil {
		t.Fatal(err)
	}
}

// leave records the member's leave request from..to in a state.
func leave(t *testing.T, e *consoletest.Env, name, from, to, state string) {
	t.Helper()
	m := member(t, e, name)
	r := models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestLeave, State: state, From: from, To: to, Reason: "家里有事"}
	if err := e.App.DB().Create(&r).Error; err != nil {
		t.Fatal(err)
	}
}

// main is the page's main part (or the whole body when it has none), for messages.
func main_(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		return body[i:]
	}
	return body
}

// contains fails unless body has every want.
func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in\n%.3000s", what, w, main_(body))
		}
	}
}

// lacks fails when body has any of bad.
func lacks(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s: %q should not show in\n%.3000s", what, b, main_(body))
		}
	}
}
