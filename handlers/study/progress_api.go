package study

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
)

// The console API's shapes of the study figures (server/openapi/study_console.json documents them):
// rates are 0–1 and null when there is nothing to rate; hours are hours.

type progPeriod struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Preset string `json:"preset"`
}

type progFigures struct {
	Published        int64    `json:"published"`
	Completed        int64    `json:"completed"`
	Answered         int64    `json:"answered"`
	Right            int64    `json:"right"`
	CompletionRate   *float64 `json:"completion_rate"`
	Accuracy         *float64 `json:"accuracy"`
	Status           string   `json:"status"`
	CompletionStatus string   `json:"completion_status"`
	AccuracyStatus   string   `json:"accuracy_status"`
}

func progRate(r float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &r
}

func toProgFigures(c Counts, status, completion, accuracy string) progFigures {
	return progFigures{Published: c.Published, Completed: c.Completed, Answered: c.Answered, Right: c.Right,
		CompletionRate: progRate(c.CompletionRate()), Accuracy: progRate(c.Accuracy()),
		Status: status, CompletionStatus: completion, AccuracyStatus: accuracy}
}

type progUnit struct {
	OrgID       uint   `json:"org_id"`
	Path        string `json:"path"`
	Name        string `json:"name"`
	Own         bool   `json:"own"`
	HasChildren bool   `json:"has_children"`
	Members     int64  `json:"members"`
	progFigures
	AvgYearHours   float64 `json:"avg_year_hours"`
	AvgTargetHours float64 `json:"avg_target_hours"`
	HoursShare     float64 `json:"hours_share"`
}

func toProgUnit(u UnitFigures) progUnit {
	return progUnit{OrgID: u.ID, Path: u.Path, Name: u.Name, Own: u.Own, HasChildren: u.Children, Members: u.Members,
		progFigures: toProgFigures(u.Counts, u.Status, u.CompletionStatus, u.AccuracyStatus), AvgYearHours: u.AvgHours(),
		AvgTargetHours: u.AvgTarget(), HoursShare: u.Share()}
}

type progDay struct {
	Day string `json:"day"`
	progFigures
}

type progTag struct {
	Tag      string   `json:"tag"`
	Answered int64    `json:"answered"`
	Right    int64    `json:"right"`
	Accuracy *float64 `json:"accuracy"`
	Status   string   `json:"status"`
}

type progReport struct {
	Period     progPeriod `json:"period"`
	Org        *OrgRef    `json:"org"`
	Year       int        `json:"year"`
	YearPace   float64    `json:"year_pace"`
	Thresholds Thresholds `json:"thresholds"`
	Total      progUnit   `json:"total"`
	Units      []progUnit `json:"units"`
	Days       []progDay  `json:"days"`
	Tags       []progTag  `json:"tags"`
}

// APIProgress is GET /api/v1/study/progress: the figures of the console's study page (?org=, and
// the period: ?period=day|week|month|year, ?day=, ?from=&to=), units in path order.
func (h *Web) APIProgress(c *gin.Context) {
	q := console.ParseList(c)
	ov, err := h.overview(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := progReport{Period: progPeriod(ov.Period), Org: ov.Root, Year: ov.Year, YearPace: ov.YearPace,
		Thresholds: ov.Thresholds, Total: toProgUnit(ov.Total), Units: make([]progUnit, len(ov.Units)),
		Days: make([]progDay, len(ov.Days)), Tags: make([]progTag, len(ov.Tags))}
	for i, u := range ov.Units {
		out.Units[i] = toProgUnit(u)
	}
	for i, d := range ov.Days {
		out.Days[i] = progDay{Day: d.Day, progFigures: toProgFigures(d.Counts, "", "", "")} // days are not coloured
	}
	for i, t := range ov.Tags {
		out.Tags[i] = progTag{Tag: t.Tag, Answered: t.Answered, Right: t.Right, Accuracy: progRate(ratio(t.Right, t.Answered)), Status: t.Status}
	}
	c.JSON(http.StatusOK, out)
}

type progMember struct {
	ID      uint   `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	OrgID   uint   `json:"org_id"`
	OrgPath string `json:"org_path"`
	progFigures
	Points      int64   `json:"points"`
	YearHours   float64 `json:"year_hours"`
	TargetHours int     `json:"target_hours"`
	Streak      int     `json:"streak"`
}

type progMemberList struct {
	Period  progPeriod   `json:"period"`
	Items   []progMember `json:"items"`
	Total   int64        `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

// APIMembers is GET /api/v1/study/members: each member's figures, with the console list's filters,
// sorts and pages.
func (h *Web) APIMembers(c *gin.Context) {
	q := console.ParseList(c, memberSorts...)
	p, _, _, rows, err := h.members(c, q)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := progMemberList{Period: progPeriod(p), Items: []progMember{}, Total: int64(len(rows)), Page: q.Page, PerPage: q.PerPage}
	for _, m := range rows[min(q.Offset(), len(rows)):min(q.Offset()+q.PerPage, len(rows))] {
		out.Items = append(out.Items, progMember{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.OrgPath,
			progFigures: toProgFigures(m.Counts, m.Status, m.CompletionStatus, m.AccuracyStatus), Points: m.Points,
			YearHours: m.YearHours(), TargetHours: m.TargetHours, Streak: m.Streak})
	}
	c.JSON(http.StatusOK, out)
}
