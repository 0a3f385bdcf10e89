package meetings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// demoBranch is the demo village whose meetings the demo shows.
const demoBranch = "洪雅县/花溪镇/郭沟村"

// LoadDemo gives the demo village two meetings when there are none at all: tomorrow afternoon's
// committee meeting (with its code, to try 「签到 CODE」) and last month's 主题党日, back-entered with
// its attendance. It returns the committee meeting's code ("" when nothing was loaded).
func (s *Service) LoadDemo(ctx context.Context) (string, error) {
	var code string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Meeting{}).Count(&n).Error; err != nil {
			return fmt.Errorf("meetings: demo: count: %w", err)
		}
		if n > 0 {
			return nil
		}
		var org models.Org
		if err := tx.Where("path = ?", demoBranch).Take(&org).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return fmt.Errorf("meetings: demo org: %w", err)
		}
		var ids []uint
		if err := tx.Model(&models.Member{}).Where("org_id = ? AND active = ?", org.ID, true).Order("id").Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("meetings: demo members: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		now := s.now().In(s.loc)
		day := func(d time.Time, h, m int) time.Time {
			return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, s.loc).UTC()
		}
		next := now.AddDate(0, 0, 1)
		var err error
		if code, err = newCode(tx, now.UTC()); err != nil {
			return err
		}
		committee := models.Meeting{OrgID: org.ID, Type: models.MeetingCommittee, Title: "研究本月党员发展和村务工作", Place: "村委会会议室",
			StartAt: day(next, 14, 30), EndAt: day(next, 16, 0), Code: code, CreatedBy: "demo"}
		last := now.AddDate(0, -1, 0)
		themeDay := models.Meeting{OrgID: org.ID, Type: models.MeetingThemeDay, Title: "重温入党誓词", Place: "村党群服务中心",
			StartAt: day(last, 9, 0), EndAt: day(last, 11, 0), BackEntered: true, CreatedBy: "demo"}
		for _, m := range []*models.Meeting{&committee, &themeDay} {
			if err := tx.Create(m).Error; err != nil {
				return fmt.Errorf("meetings: demo meeting: %w", err)
			}
		}
		var as []models.MeetingAttendee
		for i, id := range ids {
			as = append(as, models.MeetingAttendee{MeetingID: committee.ID, MemberID: id, Status: models.MeetingExpected})
			a := models.MeetingAttendee{MeetingID: themeDay.ID, MemberID: id, Status: models.MeetingPresent,
				Source: models.MeetingSourceSecretary, MarkedBy: "demo"}
			if i == len(ids)-1 && len(ids) > 1 {
				a.Status, a.Note = models.MeetingExcused, "外出务工"
			}
			as = append(as, a)
		}
		if err := tx.CreateInBatches(as, 500).Error; err != nil {
			return fmt.Errorf("meetings: demo attendees: %w", err)
		}
		return nil
	})
	return code, err
}
