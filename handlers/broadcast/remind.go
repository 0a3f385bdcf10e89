package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Reminders to those who have not read a notice (提醒未读). A reminder is a broadcast like any other
// (approval aside: the notice was approved), a notice with the same orgs, roles, text and link, whose
// Payload {"remind_of": N} limits its audience, when the engine expands it, to the recipients of
// notice N whom WeChat took and who have not opened their link. It is delivered, tallied and shown as
// broadcasts are; opening its link marks the reminder and the notice read. Survey reminders are the
// survey's own (they target those who have not answered).

// Limits of reminders: at most MaxReminders per notice, RemindGap apart.
const (
	MaxReminders = 3
	RemindGap    = time.Hour
)

// remindPayload is a reminder's Payload.
type remindPayload struct {
	RemindOf uint `json:"remind_of"`
}

func remindPayloadOf(id uint) string { return fmt.Sprintf(`{"remind_of":%d}`, id) }

// remindOf is the notice that b reminds of (0: b is no reminder).
func remindOf(b *models.Broadcast) uint {
	if b.Kind != models.BroadcastNotice || b.Payload == "" {
		return 0
	}
	var p remindPayload
	if json.Unmarshal([]byte(b.Payload), &p) != nil {
		return 0
	}
	return p.RemindOf
}

// RemindOf is the notice b reminds of (0: b is no reminder).
func RemindOf(b *models.Broadcast) uint { return remindOf(b) }

// Reminders lists the reminders of notice id, oldest first.
func (s *Service) Reminders(ctx context.Context, id uint) ([]models.Broadcast, error) {
	var out []models.Broadcast
	err := s.db.WithContext(ctx).Select("id, status, created_at, recipients").
		Where("kind = ? AND payload = ?", models.BroadcastNotice, remindPayloadOf(id)).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("broadcast: reminders of %d: %w", id, err)
	}
	return out, nil
}

// CanRemind says why notice b may not be reminded of now ("" when it may), for an administrator who
// manages it; reminders are its earlier reminders.
func (s *Service) CanRemind(b *models.Broadcast, reminders []models.Broadcast) string {
	switch {
	case b.Kind != models.BroadcastNotice || remindOf(b) != 0:
		return "只有通知可以提醒未读（问卷请用问卷页的「提醒」）"
	case b.Channel == models.SendMass:
		return "群发的通知大家收到的是同一条消息，没有个人链接，无法知道谁已读"
	case !s.TracksReads():
		return "服务器没有配置公网地址（YANZHEN_PUBLIC_URL），通知里没有个人链接，无法知道谁已读"
	case b.Status != models.BroadcastDone && (b.Status != models.BroadcastCancelled || b.FinishedAt == nil):
		return "通知发送完成后才能提醒未读"
	case len(reminders) >= MaxReminders:
		return fmt.Sprintf("已经提醒了 %d 次，不能再提醒了", len(reminders))
	}
	if n := len(reminders); n > 0 {
		last := reminders[n-1]
		switch last.Status {
		case models.BroadcastPending, models.BroadcastScheduled, models.BroadcastSending, models.BroadcastPaused:
			return "上一次提醒还没发完"
		}
		if gap := s.now().Sub(last.CreatedAt); gap < RemindGap {
			return fmt.Sprintf("%d 分钟前刚提醒过，请过一小时再提醒", int(gap.Minutes()))
		}
	}
	return ""
}

// RemindUnread sends notice id again to those of its recipients who have not opened it (see above),
// for an administrator who manages it. It returns the reminder, which goes out at once.
func (s *Service) RemindUnread(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	b, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !Manages(v, b) {
		return nil, console.ErrNotAllowed
	}
	reminders, err := s.Reminders(ctx, id)
	if err != nil {
		return nil, err
	}
	if why := s.CanRemind(b, reminders); why != "" {
		return nil, console.Invalid("remind", "%s", why)
	}
	db := s.db.WithContext(ctx)
	var unread int64
	if err := db.Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ? AND read_at IS NULL", id, models.DeliverySent).
		Count(&unread).Error; err != nil {
		return nil, fmt.Errorf("broadcast: unread of %d: %w", id, err)
	}
	if unread == 0 {
		return nil, console.Invalid("remind", "收到通知的人都已读，不需要提醒")
	}
	now := s.now()
	byID := v.AccountID
	title := b.Title
	if title == "" {
		title = "通知"
	}
	r := models.Broadcast{Kind: models.BroadcastNotice, Title: clipRunes("提醒："+title, MaxTitle), Text: "（提醒）" + b.Text, Link: b.Link,
		Payload: remindPayloadOf(id), Roles: b.Roles, OrgPath: b.OrgPath, Status: models.BroadcastScheduled, SendAt: now.UTC(),
		CreatedBy: v.Username, CreatedByID: &byID, CreatedAt: now, UpdatedAt: now}
	for _, o := range b.Orgs {
		r.Orgs = append(r.Orgs, models.BroadcastOrg{OrgID: o.OrgID, Path: o.Path})
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Orgs.Org").Create(&r).Error; err != nil {
			return fmt.Errorf("broadcast: reminder of %d: %w", id, err)
		}
		return s.audit(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: "broadcast", ObjectID: r.ID, OrgPath: r.OrgPath,
			Summary: fmt.Sprintf("提醒未读：群发通知 #%d 还有 %d 人未读（第 %d 次提醒）", id, unread, len(reminders)+1), After: auditView(&r)})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}
