package attendance

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
)

// The console's JSON API of this part (server/openapi/attendance.json documents it).

type apiPlaces struct {
	Items []Place `json:"items"`
	Total int     `json:"total"`
}

type apiPlaceCreate struct {
	OrgID  uint    `json:"org_id"`
	Name   string  `json:"name"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Radius int     `json:"radius"`
}

type apiPlaceUpdate struct {
	Name   *string  `json:"name"`
	Lat    *float64 `json:"lat"`
	Lng    *float64 `json:"lng"`
	Radius *int     `json:"radius"`
	Active *bool    `json:"active"`
}

type apiCheckIns struct {
	Day     string       `json:"day"`
	Items   []CheckInRow `json:"items"`
	Total   int64        `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

type apiRule struct {
	Org        OrgRef `json:"org"`
	Own        bool   `json:"own"`
	From       string `json:"from"` // the path of the org whose rule applies; "" = the default rule
	WorkDays   string `json:"work_days"`
	OnDuty     string `json:"on_duty"`
	OffDuty    string `json:"off_duty"`
	LateGrace  int    `json:"late_grace"`
	EarlyGrace int    `json:"early_grace"`
}

// APIPlaces is GET /api/v1/attendance/places?org=&active=true|false&q=.
func (h *Web) APIPlaces(c *gin.Context) {
	v := console.ViewerOf(c)
	f := PlaceFilter{Q: c.Query("q")}
	switch c.Query("active") {
	case "true", "false":
		a := c.Query("active") == "true"
		f.Active = &a
	case "":
	default:
		h.con.Fail(c, console.Invalid("active", "active 应为 true 或 false"))
		return
	}
	var err error
	var ps []Place
	if f.Org, err = h.orgFilter(c, c.Query("org")); err == nil {
		ps, err = h.svc.Places(c.Request.Context(), v.Scope, f)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if ps == nil {
		ps = []Place{}
	}
	c.JSON(http.StatusOK, apiPlaces{Items: ps, Total: len(ps)})
}

// APICreatePlace is POST /api/v1/attendance/places.
func (h *Web) APICreatePlace(c *gin.Context) {
	var in apiPlaceCreate
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	p, err := h.svc.CreatePlace(c.Request.Context(), console.ViewerOf(c).Scope,
		PlaceInput{OrgID: in.OrgID, Name: in.Name, Lat: in.Lat, Lng: in.Lng, Radius: in.Radius}, h.recorder(c))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/attendance/places/"+strconv.FormatUint(uint64(p.ID), 10))
	c.JSON(http.StatusCreated, p)
}

// APIUpdatePlace is PATCH /api/v1/attendance/places/:id.
func (h *Web) APIUpdatePlace(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	sc := console.ViewerOf(c).Scope
	// Out of the scope is 404 before the body is even looked at.
	if _, err := h.svc.Place(c.Request.Context(), sc, id); err != nil {
		h.con.Fail(c, err)
		return
	}
	var in apiPlaceUpdate
	if err := console.DecodeJSON(c, &in); err != nil {
		h.con.Fail(c, err)
		return
	}
	p, _, err := h.svc.UpdatePlace(c.Request.Context(), sc, id,
		PlaceChange{Name: in.Name, Lat: in.Lat, Lng: in.Lng, Radius: in.Radius, Active: in.Active}, h.recorder(c))
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// APICheckIns is GET /api/v1/attendance/checkins?day=&org=&status=&flagged=&page=&per_page=.
func (h *Web) APICheckIns(c *gin.Context) {
	q := console.ParseList(c)
	f, _, err := h.checkInFilter(c, q)
	var rows []CheckInRow
	var total int64
	if err == nil {
		rows, total, err = h.svc.CheckIns(c.Request.Context(), console.ViewerOf(c).Scope, f, q.Offset(), q.PerPage)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	if rows == nil {
		rows = []CheckInRow{}
	}
	c.JSON(http.StatusOK, apiCheckIns{Day: f.Day, Items: rows, Total: total, Page: q.Page, PerPage: q.PerPage})
}

// APIRule is GET /api/v1/attendance/rules?org=: the duty rule that applies to an org of the scope
// (default: the caller's own org).
func (h *Web) APIRule(c *gin.Context) {
	id, err := h.pageOrg(c, c.Query("org"))
	var r *RuleSetting
	if err == nil {
		r, err = h.svc.RuleSetting(c.Request.Context(), console.ViewerOf(c).Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiRule{Org: r.Org, Own: r.Own, From: r.From, WorkDays: r.Rule.WorkDays, OnDuty: r.Rule.OnDuty,
		OffDuty: r.Rule.OffDuty, LateGrace: r.Rule.LateGrace, EarlyGrace: r.Rule.EarlyGrace})
}
