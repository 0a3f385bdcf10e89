package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// How a notice goes out, as the console, the API and the command line choose it (NoticeInput.Channel).
const (
	// ChannelAuto (the default): a notice to MassThreshold or more members with WeChat goes by mass send,
	// a smaller one to each recipient on his own. Decided when the notice is recorded.
	ChannelAuto = "auto"
	// ChannelMass: by mass send to a tag (群发). A follower receives 4 mass messages a month; those who
	// had theirs get it the per-recipient way. Everyone gets the same text and link (read is not
	// tracked for them), and WeChat reports the job's figures when it has finished.
	ChannelMass = "mass"
	// ChannelDirect: each recipient on his own: a customer-service message inside the 48-hour window,
	// else a template message.
	ChannelDirect = "direct"
)

// MassThreshold is the audience (active members with WeChat bound) from which ChannelAuto sends a
// notice by mass send: a county-wide notice, not a town's. Below it the per-recipient way is quick
// (a few minutes at the default rate), personal, and uses none of the members' 4 mass messages a
// month; above it, tens of thousands of template messages would take the better part of an hour and
// a large share of the account's daily template quota (100,000).
const MassThreshold = 10000

// SetMassThreshold changes the audience from which ChannelAuto sends by mass send (tests; 0: never).
func (s *Service) SetMassThreshold(n int) { s.massAt = n }

// ChannelNames are the channels as people read them (models.Broadcast.Channel).
var ChannelNames = map[string]string{models.SendDirect: "逐个发送（客服消息或模板消息）", models.SendMass: "群发（按标签，每人每月最多收4条）"}

// channelFor decides a new broadcast's channel.
func (s *Service) channelFor(tx *gorm.DB, want, kind string, orgs []models.Org, roles []string) (string, error) {
	switch want {
	case "", ChannelAuto:
	case ChannelDirect:
		return models.SendDirect, nil
	case ChannelMass:
		if kind != models.BroadcastNotice {
			return "", console.Invalid("channel", "问卷要给每人发自己的填写链接，不能按标签群发")
		}
		return models.SendMass, nil
	default:
		return "", console.Invalid("channel", "发送方式应为 auto（自动）、mass（群发）或 direct（逐个发送）")
	}
	if kind != models.BroadcastNotice || s.massAt <= 0 {
		return models.SendDirect, nil
	}
	// Enough reachable members? At most massAt rows are read, whatever the audience.
	orgsQ := tx.Model(&models.Org{}).Select("id").Where("1 = 0")
	for _, o := range orgs {
		orgsQ = orgsQ.Or("path = ? OR path LIKE ? ESCAPE '!'", o.Path, scope.SubtreeLike(o.Path))
	}
	q := tx.Model(&models.Member{}).Select("1").Where("active = ? AND oa_open_id IS NOT NULL AND org_id IN (?)", true, orgsQ)
	if len(roles) > 0 {
		q = q.Where("role IN ?", roles)
	}
	var n int64
	if err := tx.Table("(?) AS a", q.Limit(s.massAt)).Count(&n).Error; err != nil {
		return "", fmt.Errorf("broadcast: audience size: %w", err)
	}
	if n >= int64(s.massAt) {
		return models.SendMass, nil
	}
	return models.SendDirect, nil
}

// MassOf is broadcast id's mass job (nil when it has none: not sent by mass send, or not started).
func (s *Service) MassOf(ctx context.Context, id uint) (*models.BroadcastMass, error) {
	var job models.BroadcastMass
	err := s.db.WithContext(ctx).Take(&job, "broadcast_id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("broadcast: mass job of %d: %w", id, err)
	}
	return &job, nil
}

// MassReport records WeChat's report of a finished mass send (the MASSSENDJOBFINISH event) on the
// broadcast it sent and returns that broadcast's id; scope.ErrNotFound when none sent it (another
// system's mass send). A send repeated after a crash may have been answered 45065 without a msg_id:
// the one job sent without one then takes the report.
func (s *Service) MassReport(ctx context.Context, r bot.MassResult) (uint, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	upd := map[string]any{"job_status": clipRunes(strings.TrimSpace(r.Status), 32), "total_count": r.TotalCount,
		"filter_count": r.FilterCount, "sent_count": r.SentCount, "error_count": r.ErrorCount, "reported_at": now, "updated_at": now}
	var ids []uint
	if r.MsgID != 0 {
		if err := db.Model(&models.BroadcastMass{}).Where("msg_id = ?", r.MsgID).Pluck("broadcast_id", &ids).Error; err != nil {
			return 0, fmt.Errorf("broadcast: mass send %d: %w", r.MsgID, err)
		}
		if len(ids) == 0 {
			if err := db.Model(&models.BroadcastMass{}).Where("msg_id = 0 AND sent_at IS NOT NULL AND reported_at IS NULL").
				Limit(2).Pluck("broadcast_id", &ids).Error; err != nil {
				return 0, fmt.Errorf("broadcast: mass send %d: %w", r.MsgID, err)
			}
			if len(ids) != 1 {
				return 0, scope.ErrNotFound
			}
			upd["msg_id"] = r.MsgID
		}
	}
	if len(ids) == 0 {
		return 0, scope.ErrNotFound
	}
	if err := db.Model(&models.BroadcastMass{}).Where("broadcast_id = ?", ids[0]).Updates(upd).Error; err != nil {
		return 0, fmt.Errorf("broadcast: report of mass send %d: %w", r.MsgID, err)
	}
	s.log.InfoContext(ctx, "broadcast: WeChat reported the mass send", "broadcast", ids[0], "msg_id", r.MsgID, "status", r.Status,
		"total", r.TotalCount, "filtered", r.FilterCount, "sent", r.SentCount, "errors", r.ErrorCount)
	return ids[0], nil
}

// Register adds the bot route of WeChat's report of a mass send (pushed to the official account's
// webhook from WeChat's own account, no member's): it is recorded, and WeChat is answered `success`.
func (s *Service) Register(r *bot.Router) {
	r.Handle(bot.Event(bot.EventMassSendJobFinish), func(ctx context.Context, c *bot.Context) error {
		if _, err := s.MassReport(ctx, c.Msg.Mass); err != nil && !errors.Is(err, scope.ErrNotFound) {
			return err // WeChat pushes it again
		} else if err != nil {
			s.log.InfoContext(ctx, "broadcast: report of a mass send Yanzhen did not make", "msg_id", c.Msg.Mass.MsgID)
		}
		return nil
	}, bot.Public())
}
