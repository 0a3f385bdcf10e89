package attendance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/models"
)

// The mini-program's attendance API, under /api/v1/mp/attendance behind mp.Service.Auth
// (server/openapi/attendance.json documents it): duty check-in / check-out with the coordinates of
// wx.getLocation({type: "gcj02"}), and the member's day (his places, his rule, his records).

// API texts.
const (
	textMPBadJSON   = "请求内容不是有效的 JSON。"
	textMPKind      = "kind 应为 in（签到）或 out（签退）。"
	textMPCoord     = "%s「%s」不是有效的坐标。请打开手机定位后重试。"
	textMPNoCoords  = "没有收到位置（缺少 lat / lng）。请打开手机定位后重试。"
	textMPBadCoords = "位置无效（坐标超出范围或为 0,0），这次没有记录。请打开手机定位后重试。"
	textMPReason    = "外勤原因最多 %d 个字。"
	textMPRequestID = "request_id 最多 64 个字符。"
	textMPInternal  = "出错了，请稍后再试。"
)

const mpMaxBody = 4 << 10

type mpError struct {
	Error    string   `json:"error"`
	Message  string   `json:"message"`
	Field    string   `json:"field,omitempty"`
	Distance *float64 `json:"distance,omitempty"` // outside: metres to the nearest place
	Place    *mpPlace `json:"place,omitempty"`    // outside: that place
}

// mpCoord is a coordinate given as a JSON number or a string ("29.906"): both occur in practice
// (the official account's LOCATION event writes strings, and so do some mini-program frameworks).
type mpCoord struct {
	raw json.RawMessage
}

func (c *mpCoord) UnmarshalJSON(b []byte) error { c.raw = append(c.raw[:0], b...); return nil }

// value reads the coordinate: ok false when it is missing or null, err when it is no number.
func (c *mpCoord) value() (v float64, ok bool, err error) {
	raw := bytes.TrimSpace(c.raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, true, ErrBadCoords
		}
	}
	v, err = ParseCoord(s)
	return v, true, err
}

type mpCheckInInput struct {
	Kind      string  `json:"kind"`
	Lat       mpCoord `json:"lat"`
	Lng       mpCoord `json:"lng"`
	Accuracy  mpCoord `json:"accuracy"`
	Mock      bool    `json:"mock"`
	Reason    string  `json:"reason"`
	RequestID string  `json:"request_id"` // optional: a retry with the same id records once
}

type mpPlace struct {
	ID     uint    `json:"id"`
	Name   string  `json:"name"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Radius int     `json:"radius"`
}

type mpRecord struct {
	ID       uint64    `json:"id"`
	Kind     string    `json:"kind"`
	Day      string    `json:"day"`
	At       time.Time `json:"at"`
	Status   string    `json:"status"` // ok, pending (off-site, waiting for approval), refused
	Offsite  bool      `json:"offsite"`
	Distance float64   `json:"distance"`
	Accuracy float64   `json:"accuracy"`
	Reason   string    `json:"reason"`
	Flags    []string  `json:"flags"`
	PlaceID  *uint     `json:"place_id"`
}

type mpCheckInResult struct {
	Recorded     bool      `json:"recorded"`  // a new record was written
	Duplicate    bool      `json:"duplicate"` // a retry: Record is the first one
	Already      bool      `json:"already"`   // checked in today already: Record is that one
	Record       *mpRecord `json:"record"`
	Place        mpPlace   `json:"place"`
	Distance     float64   `json:"distance"`
	Inside       bool      `json:"inside"`
	WorkDay      bool      `json:"work_day"`
	LateMinutes  int       `json:"late_minutes"`
	EarlyMinutes int       `json:"early_minutes"`
	Message      string    `json:"message"` // the chat's reply, for a toast
}

type mpRule struct {
	WorkDays   string `json:"work_days"`
	OnDuty     string `json:"on_duty"`
	OffDuty    string `json:"off_duty"`
	LateGrace  int    `json:"late_grace"`
	EarlyGrace int    `json:"early_grace"`
}

type mpToday struct {
	Day       string     `json:"day"`
	WorkDay   bool       `json:"work_day"`
	DayName   string     `json:"day_name"` // not a work day: a holiday's name or 休息日
	Rule      mpRule     `json:"rule"`
	Places    []mpPlace  `json:"places"`
	Records   []mpRecord `json:"records"`
	CheckedIn bool       `json:"checked_in"` // today's check-in counts: the next one is a check-out
}

func mpPlaceOf(p *Place) mpPlace {
	return mpPlace{ID: p.ID, Name: p.Name, Lat: p.Lat, Lng: p.Lng, Radius: p.Radius}
}

func mpRecordOf(c *models.CheckIn) *mpRecord {
	flags := splitFlags(c.Flags)
	if flags == nil {
		flags = []string{}
	}
	return &mpRecord{ID: c.ID, Kind: c.Kind, Day: c.Day, At: c.At, Status: c.Status, Offsite: c.RequestID != nil && c.Source != models.CheckSourceMakeup,
		Distance: c.Distance, Accuracy: c.Accuracy, Reason: c.Reason, Flags: flags, PlaceID: c.PlaceID}
}

func mpAbort(c *gin.Context, status int, e mpError) { c.AbortWithStatusJSON(status, e) }

// MPCheckIn is POST /api/v1/mp/attendance/checkin {kind, lat, lng, accuracy, mock, reason?,
// request_id?}: the chat's check-in with the mini-program's coordinates. Outside the geofence without
// a reason it answers 422 with the distance; with a reason the record is off-site, pending approval.
func (s *Service) MPCheckIn(c *gin.Context) {
	m := mp.MemberOf(c)
	var in mpCheckInInput
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, mpMaxBody))
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Message: textMPBadJSON})
		return
	}
	if in.Kind != models.CheckKindIn && in.Kind != models.CheckKindOut {
		mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: "kind", Message: textMPKind})
		return
	}
	var coords [2]float64
	for i, f := range []struct {
		name, label string
		c           *mpCoord
	}{{"lat", "纬度", &in.Lat}, {"lng", "经度", &in.Lng}} {
		v, ok, err := f.c.value()
		switch {
		case !ok:
			mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: f.name, Message: textMPNoCoords})
			return
		case err != nil:
			mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: f.name,
				Message: fmt.Sprintf(textMPCoord, f.label, clipRunes(strings.Trim(string(f.c.raw), `"`), 20))})
			return
		}
		coords[i] = v
	}
	acc, _, err := in.Accuracy.value()
	if err != nil {
		acc = 0 // accuracy is informative only: an odd value is not worth refusing a check-in for
	}
	reason := strings.TrimSpace(in.Reason)
	switch {
	case len([]rune(reason)) > maxReason:
		mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: "reason", Message: fmt.Sprintf(textMPReason, maxReason)})
		return
	case len(in.RequestID) > 64:
		mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: "request_id", Message: textMPRequestID})
		return
	}
	dedup := "mp:" + strconv.FormatUint(uint64(m.ID), 10) + ":"
	if in.RequestID != "" {
		dedup += "r:" + in.RequestID
	} else { // a double tap within one second records once
		dedup += in.Kind + ":" + strconv.FormatInt(s.now().Unix(), 10)
	}
	res, err := s.CheckIn(c.Request.Context(), CheckInput{Member: m, Kind: in.Kind, Lat: coords[0], Lng: coords[1], Accuracy: acc,
		Source: models.CheckSourceMP, Mock: in.Mock, Reason: reason, DedupKey: dedup})
	switch {
	case errors.Is(err, ErrBadCoords):
		mpAbort(c, http.StatusBadRequest, mpError{Error: "invalid", Field: "lat", Message: textMPBadCoords})
		return
	case errors.Is(err, ErrNoPlace):
		mpAbort(c, http.StatusConflict, mpError{Error: "no_place", Message: textNoPlace})
		return
	case err != nil:
		s.log.ErrorContext(c.Request.Context(), "attendance: mp check-in failed", "err", err)
		mpAbort(c, http.StatusInternalServerError, mpError{Error: "internal", Message: textMPInternal})
		return
	}
	place := mpPlaceOf(res.Place)
	if res.CheckIn == nil && res.Already == nil {
		d := res.Distance
		mpAbort(c, http.StatusUnprocessableEntity, mpError{Error: "outside", Distance: &d, Place: &place,
			Message: strings.Replace(fmt.Sprintf(textOutside, res.Place.Name, distanceText(res.Distance), res.Place.Radius),
				"回复「外勤 原因」提交外勤签到", "填写外勤原因后提交外勤签到", 1)})
		return
	}
	out := mpCheckInResult{Place: place, Distance: res.Distance, Inside: res.Inside, WorkDay: res.WorkDay,
		LateMinutes: res.Late, EarlyMinutes: res.Early}
	status := http.StatusOK
	switch {
	case res.Already != nil:
		out.Already, out.Record = true, mpRecordOf(res.Already)
		out.Message = s.alreadyText(res.Already, []Place{*res.Place})
	default:
		out.Recorded, out.Duplicate, out.Record = !res.Duplicate, res.Duplicate, mpRecordOf(res.CheckIn)
		out.Message = ResultText(res, s.loc)
		if !res.Duplicate {
			status = http.StatusCreated
		}
	}
	c.JSON(status, out)
}

// MPToday is GET /api/v1/mp/attendance/today: the member's places, duty rule and records of today.
func (s *Service) MPToday(c *gin.Context) {
	m := mp.MemberOf(c)
	ctx := c.Request.Context()
	day := s.Today()
	out := mpToday{Day: day, Places: []mpPlace{}, Records: []mpRecord{}}
	places, err := s.placesFor(ctx, m.OrgPath)
	var rule models.DutyRule
	var cs []models.CheckIn
	if err == nil {
		rule, out.WorkDay, out.DayName, err = s.dutyOf(ctx, m.OrgPath, day)
	}
	if err == nil {
		cs, err = s.MemberDay(ctx, m.ID, day)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "attendance: mp today failed", "err", err)
		mpAbort(c, http.StatusInternalServerError, mpError{Error: "internal", Message: textMPInternal})
		return
	}
	if out.WorkDay {
		out.DayName = ""
	}
	out.Rule = mpRule{WorkDays: rule.WorkDays, OnDuty: rule.OnDuty, OffDuty: rule.OffDuty, LateGrace: rule.LateGrace, EarlyGrace: rule.EarlyGrace}
	for i := range places {
		out.Places = append(out.Places, mpPlaceOf(&places[i]))
	}
	for i := range cs {
		out.Records = append(out.Records, *mpRecordOf(&cs[i]))
		if cs[i].Kind == models.CheckKindIn && cs[i].Status == models.CheckOK {
			out.CheckedIn = true
		}
	}
	c.JSON(http.StatusOK, out)
}
