package attendance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Geofence radius bounds, in metres.
const (
	DefaultRadius = 300
	MinRadius     = 100
	MaxRadius     = 3000
	maxPlaceName  = 64
)

// ObjectPlace, ObjectRule, ObjectHoliday and ObjectSeason are the audit log's objects of this part.
const (
	ObjectPlace   = "check_place"
	ObjectRule    = "duty_rule"
	ObjectHoliday = "holiday"
	ObjectSeason  = "farm_season"
)

// Recorder writes a change to the audit log in the transaction that makes it (console.Record).
type Recorder func(ctx context.Context, tx *gorm.DB, ch console.Change) error

// Place is a check-in place with its org, as pages and the API show it.
type Place struct {
	ID        uint      `json:"id"`
	OrgID     uint      `json:"org_id"`
	OrgPath   string    `json:"org_path"`
	Name      string    `json:"name"`
	Lat       float64   `json:"lat"`
	Lng       float64   `json:"lng"`
	Radius    int       `json:"radius"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// placeAudit is what the audit log keeps of a place.
type placeAudit struct {
	Org    string  `json:"org"`
	Name   string  `json:"name"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Radius int     `json:"radius"`
	Active bool    `json:"active"`
}

func auditOfPlace(p *Place) placeAudit {
	return placeAudit{Org: p.OrgPath, Name: p.Name, Lat: p.Lat, Lng: p.Lng, Radius: p.Radius, Active: p.Active}
}

// PlaceInput is a new place.
type PlaceInput struct {
	OrgID  uint
	Name   string
	Lat    float64
	Lng    float64
	Radius int // 0 = DefaultRadius
}

// PlaceChange is an edit of a place; nil fields stay as they are.
type PlaceChange struct {
	Name   *string
	Lat    *float64
	Lng    *float64
	Radius *int
	Active *bool
}

// checkPlace validates a place's fields; the errors are console input errors naming the field.
func checkPlace(name string, lat, lng float64, radius int) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", console.Invalid("name", "请填写地点名称，例如：郭沟村村委会")
	case utf8.RuneCountInString(name) > maxPlaceName:
		return "", console.Invalid("name", "地点名称最多 %d 个字", maxPlaceName)
	case !(lat >= -90 && lat <= 90): // NaN too
		return "", console.Invalid("lat", "纬度应在 -90 到 90 之间，例如 29.906")
	case !(lng >= -180 && lng <= 180):
		return "", console.Invalid("lng", "经度应在 -180 到 180 之间，例如 103.372")
	case CheckCoords(lat, lng) != nil:
		return "", console.Invalid("lat", "坐标不能是 0,0，请填写地点的实际经纬度")
	case radius < MinRadius || radius > MaxRadius:
		return "", console.Invalid("radius", "签到范围应在 %d–%d 米之间", MinRadius, MaxRadius)
	}
	return name, nil
}

// scopedOrg is the org with this id if it is in the scope (scope.ErrNotFound otherwise).
func (s *Service) scopedOrg(ctx context.Context, db *gorm.DB, sc scope.Scope, id uint) (OrgRef, error) {
	var orgs []models.Org
	if err := db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path, level").
		Where("orgs.id = ?", id).Limit(1).Find(&orgs).Error; err != nil {
		return OrgRef{}, fmt.Errorf("attendance: org %d: %w", id, err)
	}
	if len(orgs) == 0 {
		return OrgRef{}, scope.ErrNotFound
	}
	o := orgs[0]
	return OrgRef{ID: o.ID, Name: o.Name, Path: o.Path, Level: o.Level}, nil
}

// Orgs are the orgs of the scope, by path.
func (s *Service) Orgs(ctx context.Context, sc scope.Scope) ([]OrgRef, error) {
	var orgs []models.Org
	if err := s.db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path, level").
		Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("attendance: orgs: %w", err)
	}
	out := make([]OrgRef, len(orgs))
	for i, o := range orgs {
		out[i] = OrgRef{ID: o.ID, Name: o.Name, Path: o.Path, Level: o.Level}
	}
	return out, nil
}

// placesQuery is check_places joined with orgs, limited to the scope.
func (s *Service) placesQuery(ctx context.Context, db *gorm.DB, sc scope.Scope) *gorm.DB {
	return db.WithContext(ctx).Table("check_places p").Joins("JOIN orgs ON orgs.id = p.org_id").Scopes(sc.Orgs).
		Select("p.id, p.org_id, orgs.path AS org_path, p.name, p.lat, p.lng, p.radius, p.active, p.created_at, p.updated_at")
}

// PlaceFilter narrows a list of places.
type PlaceFilter struct {
	Org    *OrgRef // the subtree of this org (in the scope); nil = the whole scope
	Active *bool
	Q      string // part of the name
}

// Places lists the places of the scope (narrowed by f), by org path and name.
func (s *Service) Places(ctx context.Context, sc scope.Scope, f PlaceFilter) ([]Place, error) {
	q := s.placesQuery(ctx, s.db, sc)
	if f.Org != nil {
		q = q.Scopes(scope.Under(f.Org.ID, f.Org.Path).Orgs)
	}
	if f.Active != nil {
		q = q.Where("p.active = ?", *f.Active)
	}
	if f.Q != "" {
		q = q.Where("p.name LIKE ? ESCAPE '!'", "%"+strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(f.Q)+"%")
	}
	var out []Place
	if err := q.Order("orgs.path, p.name").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("attendance: list places: %w", err)
	}
	return out, nil
}

// Place is one place of the scope (scope.ErrNotFound otherwise).
func (s *Service) Place(ctx context.Context, sc scope.Scope, id uint) (*Place, error) {
	return s.place(ctx, s.db, sc, id)
}

func (s *Service) place(ctx context.Context, db *gorm.DB, sc scope.Scope, id uint) (*Place, error) {
	var out []Place
	if err := s.placesQuery(ctx, db, sc).Where("p.id = ?", id).Limit(1).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("attendance: place %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, scope.ErrNotFound
	}
	return &out[0], nil
}

// nameTaken reports whether the org has another place named name.
func nameTaken(ctx context.Context, tx *gorm.DB, orgID uint, name string, except uint) (bool, error) {
	var n int64
	err := tx.WithContext(ctx).Model(&models.CheckPlace{}).Where("org_id = ? AND name = ? AND id <> ?", orgID, name, except).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("attendance: place name: %w", err)
	}
	return n > 0, nil
}

// CreatePlace adds a place to an org of the scope, recorded in the audit log.
func (s *Service) CreatePlace(ctx context.Context, sc scope.Scope, in PlaceInput, record Recorder) (*Place, error) {
	if in.Radius == 0 {
		in.Radius = DefaultRadius
	}
	name, err := checkPlace(in.Name, in.Lat, in.Lng, in.Radius)
	if err != nil {
		return nil, err
	}
	if in.OrgID == 0 {
		return nil, console.Invalid("org_id", "请选择签到地点所属的村（组织）")
	}
	var out *Place
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		org, err := s.scopedOrg(ctx, tx, sc, in.OrgID)
		if err != nil {
			return err
		}
		if taken, err := nameTaken(ctx, tx, org.ID, name, 0); err != nil {
			return err
		} else if taken {
			return console.Invalid("name", "%s已有名为「%s」的签到地点", org.Name, name)
		}
		now := s.now()
		p := models.CheckPlace{OrgID: org.ID, Name: name, Lat: in.Lat, Lng: in.Lng, Radius: in.Radius, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			return fmt.Errorf("attendance: create place: %w", err)
		}
		if out, err = s.place(ctx, tx, sc, p.ID); err != nil {
			return err
		}
		return record(ctx, tx, console.Change{Action: console.ActionCreate, Object: ObjectPlace, ObjectID: p.ID, OrgPath: org.Path,
			Summary: "新建签到地点：" + org.Path + " " + name, After: auditOfPlace(out)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePlace changes a place of the scope, recorded in the audit log with before and after. It
// returns the place after the change, and whether anything changed.
func (s *Service) UpdatePlace(ctx context.Context, sc scope.Scope, id uint, ch PlaceChange, record Recorder) (*Place, bool, error) {
	var out *Place
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.place(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		after := *before
		if ch.Name != nil {
			after.Name = *ch.Name
		}
		if ch.Lat != nil {
			after.Lat = *ch.Lat
		}
		if ch.Lng != nil {
			after.Lng = *ch.Lng
		}
		if ch.Radius != nil {
			after.Radius = *ch.Radius
		}
		if ch.Active != nil {
			after.Active = *ch.Active
		}
		if after.Name, err = checkPlace(after.Name, after.Lat, after.Lng, after.Radius); err != nil {
			return err
		}
		if auditOfPlace(before) == auditOfPlace(&after) {
			out = before
			return nil
		}
		if after.Name != before.Name {
			if taken, err := nameTaken(ctx, tx, before.OrgID, after.Name, id); err != nil {
				return err
			} else if taken {
				return console.Invalid("name", "%s已有名为「%s」的签到地点", lastName(before.OrgPath), after.Name)
			}
		}
		if err := tx.Model(&models.CheckPlace{}).Where("id = ?", id).Updates(map[string]any{
			"name": after.Name, "lat": after.Lat, "lng": after.Lng, "radius": after.Radius, "active": after.Active, "updated_at": s.now(),
		}).Error; err != nil {
			return fmt.Errorf("attendance: update place %d: %w", id, err)
		}
		if out, err = s.place(ctx, tx, sc, id); err != nil {
			return err
		}
		changed = true
		action, verb := console.ActionUpdate, "修改签到地点："
		switch {
		case before.Active && !after.Active:
			action, verb = console.ActionDeactivate, "停用签到地点："
		case !before.Active && after.Active:
			action, verb = console.ActionActivate, "启用签到地点："
		}
		return record(ctx, tx, console.Change{Action: action, Object: ObjectPlace, ObjectID: id, OrgPath: before.OrgPath,
			Summary: verb + before.OrgPath + " " + after.Name, Before: auditOfPlace(before), After: auditOfPlace(out)})
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// placesFor are the active places where a member of the org at orgPath checks in: his org's, or, when
// it has none, those of its nearest ancestor that has some (a town's office for a town's members).
func (s *Service) placesFor(ctx context.Context, orgPath string) ([]Place, error) {
	var ps []Place
	if err := s.placesQuery(ctx, s.db, scope.Everything()).Where("orgs.path IN ? AND p.active = ?", ancestors(orgPath), true).
		Scan(&ps).Error; err != nil {
		return nil, fmt.Errorf("attendance: places of %s: %w", orgPath, err)
	}
	for _, p := range ancestors(orgPath) {
		var out []Place
		for _, pl := range ps {
			if pl.OrgPath == p {
				out = append(out, pl)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}

// nearest is the place closest to (lat, lng) and the distance to it, in metres.
func nearest(ps []Place, lat, lng float64) (*Place, float64) {
	var best *Place
	bestD := 0.0
	for i := range ps {
		d := Distance(lat, lng, ps[i].Lat, ps[i].Lng)
		// Inside one geofence beats nearer to another's centre: a big radius is someone's choice.
		if best == nil || inside(&ps[i], d) && !inside(best, bestD) || inside(&ps[i], d) == inside(best, bestD) && d < bestD {
			best, bestD = &ps[i], d
		}
	}
	return best, bestD
}

// inside: within the radius, the edge included.
func inside(p *Place, d float64) bool { return d <= float64(p.Radius) }

// ErrNoPlace: neither the member's org nor any org above it has an active check-in place.
var ErrNoPlace = errors.New("attendance: no check-in place")
