package attendance

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// demoLat, demoLng is where the demo county's villages are laid out (GCJ-02, around 洪雅县城).
const demoLat, demoLng = 29.9060, 103.3720

// DemoPlace is a demo village's check-in place, for the start-up log (so that `yanzhen sim` users know
// what to send with /loc).
type DemoPlace struct {
	OrgPath  string
	Name     string
	Lat, Lng float64
}

// LoadDemo gives every village that has no place a check-in place, its village committee office
// (村委会), 300 m around a point a few kilometres apart from the others, and every county without a
// duty rule the default one. It does nothing for orgs that already have them.
func (s *Service) LoadDemo(ctx context.Context) ([]DemoPlace, error) {
	var out []DemoPlace
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var villages []models.Org
		if err := tx.Where("level = ? AND id NOT IN (SELECT org_id FROM check_places)", models.LevelVillage).
			Order("path").Find(&villages).Error; err != nil {
			return fmt.Errorf("attendance: demo villages: %w", err)
		}
		now := s.now()
		for i, v := range villages {
			// A grid of about 4 km: every office is far outside every other's geofence.
			lat := demoLat + float64(i/4-1)*0.036 + float64(i%3)*0.0011
			lng := demoLng + float64(i%4-2)*0.041 + float64(i%5)*0.0007
			p := models.CheckPlace{OrgID: v.ID, Name: v.Name + "村委会", Lat: round6(lat), Lng: round6(lng), Radius: DefaultRadius,
				Active: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return fmt.Errorf("attendance: demo place of %s: %w", v.Path, err)
			}
			out = append(out, DemoPlace{OrgPath: v.Path, Name: p.Name, Lat: p.Lat, Lng: p.Lng})
		}
		var counties []models.Org
		if err := tx.Where("level = ? AND id NOT IN (SELECT org_id FROM duty_rules)", models.LevelCounty).Find(&counties).Error; err != nil {
			return fmt.Errorf("attendance: demo counties: %w", err)
		}
		for _, c := range counties {
			r := DefaultRule()
			r.OrgID, r.CreatedAt, r.UpdatedAt = c.ID, now, now
			if err := tx.Create(&r).Error; err != nil {
				return fmt.Errorf("attendance: demo duty rule of %s: %w", c.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func round6(f float64) float64 {
	return float64(int64(f*1e6+0.5)) / 1e6
}
