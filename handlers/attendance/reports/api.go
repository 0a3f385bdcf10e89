package reports

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/mp"
)

// API shapes: separate from the figures' Go types, so that the document stays stable.

type apiPeriod struct {
	Kind  string `json:"kind"`
	Date  string `json:"date"`
	From  string `json:"from"`
	To    string `json:"to"`
	Label string `json:"label"`
}

func periodJSON(p Period) apiPeriod {
	return apiPeriod{Kind: p.Kind, Date: p.Date, From: p.From, To: p.To, Label: p.Label()}
}

// apiCounts are Counts with the derived figures.
type apiCounts struct {
	Counts
	WorkDays int64    `json:"work_days"`
	Expected int64    `json:"expected"`
	Attended int64    `json:"attended"`
	Rate     *float64 `json:"rate"` // percent, one decimal; null when nothing was expected
	Status   string   `json:"status"`
}

func countsJSON(c Counts, status string) apiCounts {
	return apiCounts{Counts: c, WorkDays: c.WorkDays(), Expected: c.Expected(), Attended: c.Attended(), Rate: c.Rate1(), Status: status}
}

type apiUnit struct {
	OrgRef
	Own      bool  `json:"own"`
	Children bool  `json:"children"`
	Members  int64 `json:"members"`
	apiCounts
}

type apiDay struct {
	Day string `json:"day"`
	apiCounts
}

type apiMember struct {
	ID      uint   `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	OrgID   uint   `json:"org_id"`
	OrgPath string `json:"org_path"`
	apiCounts
}

type apiReport struct {
	Period     apiPeriod   `json:"period"`
	Org        *OrgRef     `json:"org"`
	Thresholds Thresholds  `json:"thresholds"`
	Definition string      `json:"definition"`
	Total      apiUnit     `json:"total"`
	Units      []apiUnit   `json:"units"`
	Days       []apiDay    `json:"days"`
	Members    []apiMember `json:"members,omitempty"`
}

func unitJSON(u Unit) apiUnit {
	return apiUnit{OrgRef: u.OrgRef, Own: u.Own, Children: u.Children, Members: u.Members, apiCounts: countsJSON(u.Counts, u.Status)}
}

// APIReport is GET /api/v1/attendance/report?org=&period=&date=&members=1: the figures of the console's
// 考勤 page.
func (h *Web) APIReport(c *gin.Context) {
	q := console.ParseList(c)
	rep, err := h.report(c, q, q.Get("members") == "1" || q.Get("members") == "true")
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	out := apiReport{Period: periodJSON(rep.Period), Org: rep.Root, Thresholds: rep.Thresholds, Definition: Definition,
		Total: unitJSON(rep.Total), Units: []apiUnit{}, Days: []apiDay{}}
	for _, u := range rep.Units {
		out.Units = append(out.Units, unitJSON(u))
	}
	for _, d := range rep.Days {
		out.Days = append(out.Days, apiDay{Day: d.Day, apiCounts: countsJSON(d.Counts, d.Status)})
	}
	for _, m := range rep.Members {
		out.Members = append(out.Members, apiMember{ID: m.ID, Name: m.Name, Role: m.Role, OrgID: m.OrgID, OrgPath: m.OrgPath,
			apiCounts: countsJSON(m.Counts, m.Status)})
	}
	c.JSON(http.StatusOK, out)
}

type apiBoardRow struct {
	OrgRef
	Town string `json:"town"`
	apiCounts
}

type apiBoard struct {
	County     OrgRef        `json:"county"`
	Period     apiPeriod     `json:"period"`
	Public     bool          `json:"public"`
	Preview    bool          `json:"preview"`
	Thresholds Thresholds    `json:"thresholds"`
	Definition string        `json:"definition"`
	Total      apiCounts     `json:"total"`
	Villages   []apiBoardRow `json:"villages"`
}

func boardJSON(b *Board) apiBoard {
	out := apiBoard{County: b.County, Period: periodJSON(b.Period), Public: b.Public, Preview: b.Preview, Thresholds: b.Thresholds,
		Definition: Definition, Total: countsJSON(b.Total, b.Thresholds.Colour(b.Total.Attended(), b.Total.Expected())),
		Villages: []apiBoardRow{}}
	for _, v := range b.Villages {
		out.Villages = append(out.Villages, apiBoardRow{OrgRef: v.OrgRef, Town: v.Town, apiCounts: countsJSON(v.Counts, v.Status)})
	}
	return out
}

// APIBoard is GET /api/v1/attendance/board?period=&date=&county=: the board of the caller's county
// (villages empty while the county has it off, unless the caller administers the whole county).
func (h *Web) APIBoard(c *gin.Context) {
	b, err := h.board(c, console.ParseList(c))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, boardJSON(b))
}

// MPBoard is GET /api/v1/mp/attendance/board?period=&date=: the board of the member's county, for the
// mini-program; while the county has it off, public is false and there are no villages.
func (h *Web) MPBoard(c *gin.Context) {
	m := mp.MemberOf(c)
	q := console.ParseList(c)
	p, err := h.periodOf(q)
	var b *Board
	if err == nil {
		b, err = h.s.MemberBoard(c.Request.Context(), m.OrgPath, p)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, boardJSON(b))
}
