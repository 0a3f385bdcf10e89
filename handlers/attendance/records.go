package attendance

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// CheckInRow is a check-in as the console lists it. Raw coordinates are personal data: the list
// shows the distance to the place, not where the member was.
type CheckInRow struct {
	ID         uint64    `json:"id"`
	MemberID   uint      `json:"member_id"`
	MemberName string    `json:"member_name"`
	OrgID      uint      `json:"org_id"`
	OrgPath    string    `json:"org_path"`
	Day        string    `json:"day"`
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
	PlaceName  string    `json:"place_name"`
	Distance   float64   `json:"distance"`
	Accuracy   float64   `json:"accuracy"`
	Status     string    `json:"status"`
	Source     string    `json:"source"`
	Reason     string    `json:"reason"`
	Flags      string    `json:"flags"`
	RequestID  *uint     `json:"request_id"`
}

// KindName, StatusName, SourceName and FlagsText are the row as people read it.
func (r CheckInRow) KindName() string {
	if r.Kind == models.CheckKindOut {
		return "签退"
	}
	return "签到"
}

func (r CheckInRow) StatusName() string { return CheckStatusNames[r.Status] }
func (r CheckInRow) SourceName() string { return SourceNames[r.Source] }
func (r CheckInRow) FlagsText() string  { return FlagsText(r.Flags) }

// Offsite: recorded outside the geofence (pending, approved or refused).
func (r CheckInRow) Offsite() bool { return r.RequestID != nil && r.Source != models.CheckSourceMakeup }

// CheckStatusNames, SourceNames: statuses and sources as people read them.
var (
	CheckStatusNames = map[string]string{models.CheckOK: "有效", models.CheckPending: "外勤待审核", models.CheckRefused: "已驳回"}
	SourceNames      = map[string]string{models.CheckSourceChat: "公众号", models.CheckSourceMP: "小程序", models.CheckSourceMakeup: "补卡"}
)

// CheckInFilter narrows the check-in list.
type CheckInFilter struct {
	Day     string  // "YYYY-MM-DD"
	Org     *OrgRef // the subtree of this org (in the scope); nil = the whole scope
	Status  string  // "" = any
	Flagged bool    // only records with a suspicion flag
}

// CheckIns lists the check-ins of the scope on a day (narrowed by f), latest first, with the total.
func (s *Service) CheckIns(ctx context.Context, sc scope.Scope, f CheckInFilter, offset, limit int) ([]CheckInRow, int64, error) {
	q := s.db.WithContext(ctx).Table("check_ins c").
		Joins("JOIN orgs ON orgs.id = c.org_id").
		Joins("JOIN members m ON m.id = c.member_id").
		Joins("LEFT JOIN check_places p ON p.id = c.place_id").
		Scopes(sc.Orgs).Where("c.day = ?", f.Day)
	if f.Org != nil {
		q = q.Scopes(scope.Under(f.Org.ID, f.Org.Path).Orgs)
	}
	if f.Status != "" {
		q = q.Where("c.status = ?", f.Status)
	}
	if f.Flagged {
		q = q.Where("c.flags <> ''")
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("attendance: count check-ins: %w", err)
	}
	var rows []CheckInRow
	if err := q.Select("c.id, c.member_id, m.name AS member_name, c.org_id, orgs.path AS org_path, c.day, c.kind, c.at, " +
		"COALESCE(p.name, '') AS place_name, c.distance, c.accuracy, c.status, c.source, c.reason, c.flags, c.request_id").
		Order("c.at DESC, c.id DESC").Offset(offset).Limit(limit).Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("attendance: list check-ins: %w", err)
	}
	return rows, total, nil
}

// MemberDay is a member's check-ins of a day (the mini-program's today).
func (s *Service) MemberDay(ctx context.Context, memberID uint, day string) ([]models.CheckIn, error) {
	var cs []models.CheckIn
	if err := s.db.WithContext(ctx).Where("member_id = ? AND day = ?", memberID, day).Order("at").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("attendance: check-ins of member %d on %s: %w", memberID, day, err)
	}
	return cs, nil
}
