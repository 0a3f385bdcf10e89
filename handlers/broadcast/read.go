package broadcast

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// Read and answered. WeChat tells nobody when a customer-service or template message is read, so
// "read" (已读) is when the recipient first opened the page his message linked to: a notice's page
// (/n/TOKEN, see NoticePages) or a survey's form; answering a survey (on the form, in the chat or the
// mini-program) counts as read too. Delivery.ReadAt and AnsweredAt keep the first time; the tallies
// keep how many per org under two more "states", counted beside the delivery states (a recipient is
// in one delivery state and may also be read and answered).
const (
	TallyRead     = "read"
	TallyAnswered = "answered"
)

// Mark records that member memberID opened what the broadcasts named by broadcasts (a list of ids or
// a subquery of ids) sent him, and with answered that he answered it: the first time only, each with
// its tally in one transaction. It returns how many of his delivery rows changed. Cheap when there is
// nothing to do (he opened it before): one lookup on the broadcast × member index.
func Mark(ctx context.Context, db *gorm.DB, now time.Time, memberID uint, broadcasts any, answered bool) (int, error) {
	db = db.WithContext(ctx)
	var rows []struct {
		ID          uint64
		BroadcastID uint
		OrgID       uint
		ReadAt      *time.Time
		AnsweredAt  *time.Time
	}
	q := db.Model(&models.Delivery{}).Select("id, broadcast_id, org_id, read_at, answered_at").
		Where("broadcast_id IN (?) AND member_id = ?", broadcasts, memberID)
	if answered {
		q = q.Where("read_at IS NULL OR answered_at IS NULL")
	} else {
		q = q.Where("read_at IS NULL")
	}
	if err := q.Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("broadcast: deliveries to mark read for member %d: %w", memberID, err)
	}
	changed := 0
	for _, r := range rows {
		err := db.Transaction(func(tx *gorm.DB) error {
			deltas := map[tallyKey]tallyDelta{}
			set := func(col, tally string) error {
				res := tx.Model(&models.Delivery{}).Where("id = ? AND "+col+" IS NULL", r.ID).UpdateColumn(col, now)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 1 { // not counted twice when two requests race
					deltas[tallyKey{r.OrgID, tally}] = tallyDelta{n: 1}
				}
				return nil
			}
			if r.ReadAt == nil {
				if err := set("read_at", TallyRead); err != nil {
					return err
				}
			}
			if answered && r.AnsweredAt == nil {
				if err := set("answered_at", TallyAnswered); err != nil {
					return err
				}
			}
			if len(deltas) > 0 {
				changed++
			}
			return upsertTallies(tx, r.BroadcastID, deltas)
		})
		if err != nil {
			return changed, fmt.Errorf("broadcast: mark delivery %d read: %w", r.ID, err)
		}
	}
	return changed, nil
}
