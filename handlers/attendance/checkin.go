package attendance

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Suspicion flags of a check-in (models.CheckIn.Flags).
const (
	FlagSpeed      = "speed"       // too far from the previous check-in for the time between them
	FlagSameCoords = "same_coords" // the very same coordinates as a check-in of another day
	FlagMock       = "mock"        // the mini-program reported a mock location
)

// FlagNames are the flags as the console shows them.
var FlagNames = map[string]string{FlagSpeed: "移动速度异常", FlagSameCoords: "坐标与往日完全相同", FlagMock: "模拟定位"}

// Limits of the suspicion checks.
const (
	// maxSpeed: faster than this between two check-ins (km/h) is no car on a county road.
	maxSpeed = 120
	// minJump: below this distance (m) a "speed" is GPS jitter between two quick fixes.
	minJump = 1000
	// maxReason bounds the off-site reason (models.CheckIn.Reason is 200 characters).
	maxReason = 100
)

// CheckInput is one check-in or check-out attempt.
type CheckInput struct {
	Member   *bot.Member
	Kind     string // models.CheckKindIn or CheckKindOut
	Lat, Lng float64
	Accuracy float64 // metres; 0 = not reported (location messages)
	Source   string  // models.CheckSourceChat or CheckSourceMP
	Mock     bool    // the mini-program says the location is mocked
	Reason   string  // outside the geofence: the off-site reason; "" = refuse
	DedupKey string  // the delivery that made it: a retry finds the first record
}

// CheckResult is what a check-in attempt did.
type CheckResult struct {
	CheckIn   *models.CheckIn // nil when refused (outside without a reason)
	Place     *Place          // the nearest place
	Distance  float64         // metres to it
	Inside    bool
	Duplicate bool // a retry of a check-in already recorded: CheckIn is that one
	// Already is today's counted check-in when Kind is in and the member has one: nothing new was
	// recorded.
	Already *models.CheckIn
	At      time.Time
	Day     string
	Rule    models.DutyRule
	WorkDay bool
	DayName string // why not a work day: a holiday's name, or 休息日
	Late    int    // minutes late (check-in on a work day), beyond the tolerance; 0 = on time
	Early   int    // minutes early (check-out on a work day), beyond the tolerance; 0 = on time
	Flags   []string
}

// Offsite reports whether the check-in was recorded as off-site, waiting for the secretary.
func (r *CheckResult) Offsite() bool {
	return r.CheckIn != nil && r.CheckIn.Status == models.CheckPending
}

// dutyOf is the rule and calendar of the member's org on day.
func (s *Service) dutyOf(ctx context.Context, orgPath, day string) (models.DutyRule, bool, string, error) {
	rs, err := loadRules(ctx, s.db, ancestors(orgPath))
	if err != nil {
		return models.DutyRule{}, false, "", err
	}
	rule, _ := rs.forPath(orgPath)
	county := rootOf(orgPath)
	cal, err := loadCalendar(ctx, s.db, day, []string{county})
	if err != nil {
		return models.DutyRule{}, false, "", err
	}
	work, why := cal.workDay(rule, county, day)
	return rule, work, why, nil
}

// lateness: minutes late for an in at at, or early for an out, beyond the rule's tolerance.
func lateness(rule models.DutyRule, kind, day string, at time.Time, loc *time.Location) int {
	switch kind {
	case models.CheckKindIn:
		limit := clockOn(day, rule.OnDuty, loc).Add(time.Duration(rule.LateGrace) * time.Minute)
		if at.After(limit) {
			return int(at.Sub(clockOn(day, rule.OnDuty, loc)).Minutes())
		}
	case models.CheckKindOut:
		limit := clockOn(day, rule.OffDuty, loc).Add(-time.Duration(rule.EarlyGrace) * time.Minute)
		if at.Before(limit) {
			return int(math.Ceil(clockOn(day, rule.OffDuty, loc).Sub(at).Minutes()))
		}
	}
	return 0
}

// CountedIn is the member's first counted (ok) check-in of day, or nil.
func (s *Service) CountedIn(ctx context.Context, memberID uint, day string) (*models.CheckIn, error) {
	var cs []models.CheckIn
	if err := s.db.WithContext(ctx).Where("member_id = ? AND day = ? AND kind = ? AND status = ?", memberID, day, models.CheckKindIn, models.CheckOK).
		Order("at").Limit(1).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("attendance: check-in of member %d on %s: %w", memberID, day, err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return &cs[0], nil
}

// CheckIn checks a member in or out at a position: inside the nearest place's geofence it is
// recorded; outside it is refused, or with a reason recorded as off-site (a pending check-in and an
// off-site request for the secretary). Bad coordinates are ErrBadCoords and a member without a place
// ErrNoPlace; nothing is recorded then. A second check-in on a day that has a counted one records
// nothing (Already); check-outs are all kept, the last one counts.
func (s *Service) CheckIn(ctx context.Context, in CheckInput) (*CheckResult, error) {
	if err := CheckCoords(in.Lat, in.Lng); err != nil {
		return nil, err
	}
	if in.Kind != models.CheckKindIn && in.Kind != models.CheckKindOut {
		return nil, fmt.Errorf("attendance: check-in kind %q", in.Kind)
	}
	if !(in.Accuracy >= 0 && in.Accuracy < 1e6) { // NaN, negative or absurd: not reported
		in.Accuracy = 0
	}
	places, err := s.placesFor(ctx, in.Member.OrgPath)
	if err != nil {
		return nil, err
	}
	if len(places) == 0 {
		return nil, ErrNoPlace
	}
	res := &CheckResult{At: s.now()}
	res.Day = res.At.In(s.loc).Format(dayLayout)
	res.Place, res.Distance = nearest(places, in.Lat, in.Lng)
	res.Inside = inside(res.Place, res.Distance)
	if res.Rule, res.WorkDay, res.DayName, err = s.dutyOf(ctx, in.Member.OrgPath, res.Day); err != nil {
		return nil, err
	}
	if in.DedupKey != "" { // a retry of a delivery that was recorded: that record, whatever came since
		var prev []models.CheckIn
		if err := s.db.WithContext(ctx).Where("dedup_key = ?", in.DedupKey).Limit(1).Find(&prev).Error; err != nil {
			return nil, fmt.Errorf("attendance: check-in %s: %w", in.DedupKey, err)
		}
		if len(prev) == 1 {
			res.CheckIn, res.Duplicate, res.Flags = &prev[0], true, splitFlags(prev[0].Flags)
			return res, nil
		}
	}
	if in.Kind == models.CheckKindIn {
		if res.Already, err = s.CountedIn(ctx, in.Member.ID, res.Day); err != nil || res.Already != nil {
			return res, err
		}
	}
	if res.WorkDay {
		n := lateness(res.Rule, in.Kind, res.Day, res.At, s.loc)
		if in.Kind == models.CheckKindIn {
			res.Late = n
		} else {
			res.Early = n
		}
	}
	reason := strings.TrimSpace(in.Reason)
	if !res.Inside && reason == "" {
		return res, nil // refused: the caller says how far and how to go off-site
	}
	if res.Flags, err = s.suspicions(ctx, in, res); err != nil {
		return nil, err
	}
	placeID := res.Place.ID
	ci := &models.CheckIn{MemberID: in.Member.ID, OrgID: in.Member.OrgID, Day: res.Day, Kind: in.Kind, At: res.At,
		PlaceID: &placeID, Lat: in.Lat, Lng: in.Lng, Accuracy: in.Accuracy, Distance: math.Round(res.Distance*10) / 10,
		Status: models.CheckOK, Source: in.Source, Flags: strings.Join(res.Flags, ","), DedupKey: in.DedupKey,
		CreatedAt: res.At, UpdatedAt: res.At}
	if !res.Inside {
		ci.Status, ci.Reason = models.CheckPending, clipRunes(reason, maxReason)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedup_key"}}, DoNothing: true}).Create(ci)
		if r.Error != nil {
			return fmt.Errorf("attendance: record check-in of member %d: %w", in.Member.ID, r.Error)
		}
		if r.RowsAffected == 0 { // a retry: the first delivery's record stands
			res.Duplicate = true
			return tx.Where("dedup_key = ?", in.DedupKey).Take(ci).Error
		}
		if ci.Status != models.CheckPending {
			return nil
		}
		id := ci.ID
		req := models.AttendRequest{MemberID: in.Member.ID, OrgID: in.Member.OrgID, Kind: models.RequestOffsite,
			State: models.RequestPending, From: res.Day, To: res.Day, CheckKind: in.Kind, At: &res.At, CheckInID: &id,
			Reason: ci.Reason, CreatedAt: res.At, UpdatedAt: res.At}
		if err := tx.Create(&req).Error; err != nil {
			return fmt.Errorf("attendance: off-site request of member %d: %w", in.Member.ID, err)
		}
		ci.RequestID = &req.ID
		if err := tx.Model(ci).Update("request_id", req.ID).Error; err != nil {
			return fmt.Errorf("attendance: link off-site request %d: %w", req.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.CheckIn = ci
	if res.Duplicate {
		res.Flags = splitFlags(ci.Flags)
	} else if ci.RequestID != nil && s.offsite != nil {
		s.offsite(ctx, *ci.RequestID)
	}
	return res, nil
}

// suspicions are the flags of a check-in about to be recorded: too fast since the member's previous
// check-in, the very same coordinates as on an earlier day, a mocked location.
func (s *Service) suspicions(ctx context.Context, in CheckInput, res *CheckResult) ([]string, error) {
	var flags []string
	var prev []models.CheckIn
	if err := s.db.WithContext(ctx).Select("at, lat, lng").
		Where("member_id = ? AND at <= ? AND source <> ? AND status <> ?", in.Member.ID, res.At, models.CheckSourceMakeup, models.CheckRefused).
		Order("at DESC").Limit(1).Find(&prev).Error; err != nil {
		return nil, fmt.Errorf("attendance: previous check-in of member %d: %w", in.Member.ID, err)
	}
	if len(prev) == 1 && CheckCoords(prev[0].Lat, prev[0].Lng) == nil {
		d := Distance(prev[0].Lat, prev[0].Lng, in.Lat, in.Lng)
		secs := res.At.Sub(prev[0].At).Seconds()
		if d > minJump && (secs <= 0 || d/secs*3.6 > maxSpeed) {
			flags = append(flags, FlagSpeed)
		}
	}
	const half = 5e-7 // the same to 6 decimals
	var same int64
	if err := s.db.WithContext(ctx).Model(&models.CheckIn{}).
		Where("member_id = ? AND day <> ? AND lat BETWEEN ? AND ? AND lng BETWEEN ? AND ?", in.Member.ID, res.Day,
			in.Lat-half, in.Lat+half, in.Lng-half, in.Lng+half).Limit(1).Count(&same).Error; err != nil {
		return nil, fmt.Errorf("attendance: same coordinates of member %d: %w", in.Member.ID, err)
	}
	if same > 0 {
		flags = append(flags, FlagSameCoords)
	}
	if in.Mock {
		flags = append(flags, FlagMock)
	}
	return flags, nil
}

func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// FlagsText is a record's flags as people read them ("模拟定位、移动速度异常").
func FlagsText(flags string) string {
	var out []string
	for _, f := range splitFlags(flags) {
		if n, ok := FlagNames[f]; ok {
			out = append(out, n)
		} else {
			out = append(out, f)
		}
	}
	return strings.Join(out, "、")
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// LateIn reports whether a check-in at at on day, by a member of org orgID, is late by the org's duty
// rule (beyond its tolerance). A rest day has no lateness. The reports' today-summary uses it.
func (s *Service) LateIn(ctx context.Context, orgID uint, day string, at time.Time) (bool, error) {
	var org models.Org
	if err := s.db.WithContext(ctx).Select("path").Take(&org, orgID).Error; err != nil {
		return false, fmt.Errorf("attendance: org %d: %w", orgID, err)
	}
	rule, work, _, err := s.dutyOf(ctx, org.Path, day)
	if err != nil || !work {
		return false, err
	}
	return lateness(rule, models.CheckKindIn, day, at.In(s.loc), s.loc) > 0, nil
}
