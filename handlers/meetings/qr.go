package meetings

import (
	"context"
	"errors"
	"html/template"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/internal/qrsvg"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// Why a meeting page shows no QR code.
const (
	qrNoneBackEntered = "补录的会议不用签到，出席情况由书记在下方登记。"
	qrNoneEnded       = "会议已经结束，签到已关闭。"
	qrNoneTooFar      = "会议前 30 天内才能生成签到二维码，到时再来打开本页。"
	qrNoneFailed      = "签到二维码暂时无法生成，请参会人员发送「签到 签到码」签到。"
)

// QR is the meeting's check-in QR code as inline SVG of size px, or "" and why there is none. The
// WeChat QR code is temporary (scene meet:ID, until an hour after the end) and its url is cached.
func (s *Service) QR(ctx context.Context, m *models.Meeting, px int) (template.HTML, string) {
	now := s.now()
	switch {
	case m.BackEntered:
		return "", qrNoneBackEntered
	case !now.Before(m.EndAt):
		return "", qrNoneEnded
	case m.EndAt.Add(time.Hour).Sub(now) > kv.MeetingQRTTL:
		return "", qrNoneTooFar
	case s.qr == nil:
		return "", qrNoneFailed
	}
	u := s.qrURL(ctx, m, now)
	if u == "" {
		return "", qrNoneFailed
	}
	svg, err := qrsvg.SVG(u, px)
	if err != nil {
		s.log.WarnContext(ctx, "meetings: render QR", "meeting", m.ID, "err", err)
		return "", qrNoneFailed
	}
	return svg, ""
}

// qrURL is the url of the meeting's WeChat QR code: cached, or made now; "" when WeChat refused.
func (s *Service) qrURL(ctx context.Context, m *models.Meeting, now time.Time) string {
	key := kv.MeetingQRKey(m.ID)
	if s.rdb != nil {
		u, err := s.rdb.Get(ctx, key).Result()
		if err == nil && u != "" {
			return u
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			s.log.WarnContext(ctx, "meetings: read cached QR url", "err", err)
		}
	}
	life := m.EndAt.Add(time.Hour).Sub(now)
	_, u, err := s.qr.CreateQRScene(ctx, SceneMeeting+":"+strconv.FormatUint(uint64(m.ID), 10), life)
	if err != nil || u == "" {
		s.log.WarnContext(ctx, "meetings: WeChat did not make a check-in QR code", "meeting", m.ID, "err", err)
		return ""
	}
	if s.rdb != nil {
		// A little shorter than the QR code's own life, so a cached url never outlives it.
		if err := s.rdb.Set(ctx, key, u, life-time.Minute).Err(); err != nil {
			s.log.WarnContext(ctx, "meetings: cache QR url", "err", err)
		}
	}
	return u
}
