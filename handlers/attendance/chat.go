package attendance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

// Chat texts.
const (
	textAskIn       = "📍 签到：请发送你的位置（点输入框旁的 + 号 → 位置 → 发送），10 分钟内有效。"
	textAskOut      = "📍 签退：请发送你的位置（点输入框旁的 + 号 → 位置 → 发送），10 分钟内有效。"
	textNoPlace     = "你所在的村还没有设置签到地点，暂时不能签到。请联系村书记在管理后台添加。"
	textBadCoords   = "收到的位置无效（坐标不对），这次没有记录。请打开手机定位后重新发送位置。"
	textOutside     = "你距离%s %s，超出签到范围（%d 米）。如在外办事，回复「外勤 原因」提交外勤签到。"
	textAlreadyIn   = "你今天 %s 已经在%s签到了。下班时发送「签退」。"
	textNeedReason  = "请写明外勤原因，例如：外勤 到镇上开会"
	textNoOffsite   = "外勤签到：先发送「签到」或「签退」，按提示发送位置；超出签到范围时再回复「外勤 原因」。"
	textCanceled    = "已取消。"
	textNoMeetings  = "会议签到暂未开放。值班签到请只发送「签到」两个字。"
	textLocationNow = "收到你的位置。要签到请先发送「签到」，下班发送「签退」。"
	textFlagged     = "\n⚠️ 这次的位置信息需要村书记核实。"

	stepLocate  = "attendance.locate"
	stepOffsite = "attendance.offsite"

	// menuCheckIn is the custom-menu key of the check-in button: check-in, or check-out once checked in.
	menuCheckIn = "CHECK_IN"

	// locateWindow: how long the bot waits for the location after 签到 (CONTRACT: 10 minutes).
	locateWindow = 10 * time.Minute
)

// Register adds the attendance routes: 签到 / 签退 / the CHECK_IN menu ask for a location, which a
// location message or a LOCATION event completes (the locate step); outside the geofence 外勤 原因
// records an off-site check-in (the off-site step). "签到 CODE" is a meeting check-in. LOCATION events
// with no check-in pending are recorded quietly.
func (s *Service) Register(r *bot.Router) {
	r.Handle("签到", s.handleCheckIn, bot.Help(200, "签到 / 签退 — 值班签到，发送位置即可"))
	r.Handle("签退", s.handleCheckOut)
	r.Handle(bot.Menu(menuCheckIn), s.handleMenu)
	r.Handle("外勤", s.handleOffsiteKeyword, bot.GluedArgs())
	r.Step(stepLocate, s.handleLocateStep)
	r.Step(stepOffsite, s.handleOffsiteStep)
	// WeChat sends LOCATION events by itself: record them quietly and answer `success`. Unbound users'
	// locations are not kept, and they get no how-to-bind text for an event they did not send.
	r.Handle(bot.Event(bot.EventLocation), func(ctx context.Context, c *bot.Context) error {
		if c.Member == nil {
			return nil
		}
		return s.RecordLocation(ctx, c.Member.ID, c.Msg)
	}, bot.Public())
	r.Handle(bot.OnLocation, func(ctx context.Context, c *bot.Context) error {
		if err := s.RecordLocation(ctx, c.Member.ID, c.Msg); err != nil {
			return err
		}
		return c.Text(textLocationNow)
	})
}

// locateData is the pending check-in of the locate step.
type locateData struct {
	Kind string `json:"k"`
}

// offsiteData is the refused position of the off-site step, which 外勤 原因 records.
type offsiteData struct {
	Kind string  `json:"k"`
	Lat  float64 `json:"a"`
	Lng  float64 `json:"o"`
	Acc  float64 `json:"p,omitempty"`
}

// handleCheckIn: 签到 asks for the location; 签到 CODE is a meeting check-in.
func (s *Service) handleCheckIn(ctx context.Context, c *bot.Context) error {
	if c.Args != "" {
		if s.meetingCode == nil {
			return c.Text(textNoMeetings)
		}
		err := s.meetingCode(ctx, c, c.Args)
		if errors.Is(err, ErrNoMeetings) {
			return c.Text(textNoMeetings)
		}
		return err
	}
	return s.askLocation(ctx, c, models.CheckKindIn)
}

// handleCheckOut: 签退 asks for the location (any argument is ignored).
func (s *Service) handleCheckOut(ctx context.Context, c *bot.Context) error {
	return s.askLocation(ctx, c, models.CheckKindOut)
}

// handleMenu: the one check-in button means 签到 until today's check-in counts, then 签退.
func (s *Service) handleMenu(ctx context.Context, c *bot.Context) error {
	ci, err := s.CountedIn(ctx, c.Member.ID, s.Today())
	if err != nil {
		return err
	}
	if ci != nil {
		return s.askLocation(ctx, c, models.CheckKindOut)
	}
	return s.askLocation(ctx, c, models.CheckKindIn)
}

// askLocation starts the locate step, unless the member has no place or (签到) has checked in today.
func (s *Service) askLocation(ctx context.Context, c *bot.Context, kind string) error {
	places, err := s.placesFor(ctx, c.Member.OrgPath)
	if err != nil {
		return err
	}
	if len(places) == 0 {
		c.ClearStep()
		return c.Text(textNoPlace)
	}
	if kind == models.CheckKindIn {
		ci, err := s.CountedIn(ctx, c.Member.ID, s.Today())
		if err != nil {
			return err
		}
		if ci != nil {
			c.ClearStep()
			return c.Text(s.alreadyText(ci, places))
		}
	}
	if err := c.SetStep(stepLocate, locateData{Kind: kind}, locateWindow); err != nil {
		return err
	}
	if kind == models.CheckKindOut {
		return c.Text(textAskOut)
	}
	return c.Text(textAskIn)
}

func (s *Service) alreadyText(ci *models.CheckIn, places []Place) string {
	where := "签到地点"
	for _, p := range places {
		if ci.PlaceID != nil && p.ID == *ci.PlaceID {
			where = p.Name
		}
	}
	return fmt.Sprintf(textAlreadyIn, ci.At.In(s.loc).Format("15:04"), where)
}

// isLocation: a location message, or the LOCATION event WeChat reports by itself.
func isLocation(m *bot.Message) bool {
	return m.Kind == bot.KindLocation || m.Kind == bot.KindEvent && m.Event == bot.EventLocation
}

// handleLocateStep takes the location that completes a check-in; 取消 ends the step; anything else
// passes on to the other routes, and the check-in keeps waiting.
func (s *Service) handleLocateStep(ctx context.Context, c *bot.Context) error {
	if c.Member == nil {
		c.ClearStep()
		return bot.ErrPass
	}
	var st locateData
	if err := c.StepData(&st); err != nil || st.Kind == "" {
		c.ClearStep()
		return bot.ErrPass
	}
	switch {
	case isLocation(c.Msg):
		return s.checkInAt(ctx, c, st.Kind)
	case c.Msg.Kind == bot.KindText && c.Norm == "取消":
		c.ClearStep()
		return c.Text(textCanceled)
	}
	return bot.ErrPass
}

// handleOffsiteStep: after a refusal, 外勤 原因 records the refused position as off-site; a new
// location tries again; 取消 ends it.
func (s *Service) handleOffsiteStep(ctx context.Context, c *bot.Context) error {
	if c.Member == nil {
		c.ClearStep()
		return bot.ErrPass
	}
	var st offsiteData
	if err := c.StepData(&st); err != nil || st.Kind == "" {
		c.ClearStep()
		return bot.ErrPass
	}
	switch {
	case isLocation(c.Msg):
		return s.checkInAt(ctx, c, st.Kind)
	case c.Msg.Kind != bot.KindText:
		return bot.ErrPass
	case c.Norm == "取消":
		c.ClearStep()
		return c.Text(textCanceled)
	}
	reason, ok := strings.CutPrefix(c.Norm, "外勤")
	if !ok {
		return bot.ErrPass
	}
	reason = strings.TrimLeft(strings.TrimSpace(reason), ":：,，、 ")
	if reason == "" {
		return c.Text(textNeedReason)
	}
	res, err := s.CheckIn(ctx, CheckInput{Member: c.Member, Kind: st.Kind, Lat: st.Lat, Lng: st.Lng, Accuracy: st.Acc,
		Source: models.CheckSourceChat, Reason: reason, DedupKey: c.Msg.Channel + ":" + c.Msg.DedupID()})
	return s.answer(c, res, err, st.Kind)
}

// handleOffsiteKeyword: 外勤 with no refused check-in pending says how off-site check-in works.
func (s *Service) handleOffsiteKeyword(_ context.Context, c *bot.Context) error {
	return c.Text(textNoOffsite)
}

// checkInAt completes a check-in with the message's location; outside the fence it is refused and
// the position kept for 外勤 原因.
func (s *Service) checkInAt(ctx context.Context, c *bot.Context, kind string) error {
	m := c.Msg
	acc := 0.0
	if m.Kind == bot.KindEvent {
		acc = m.Precision // LOCATION events: metres; location messages carry the map's scale instead
		if err := s.RecordLocation(ctx, c.Member.ID, m); err != nil {
			return err
		}
	}
	res, err := s.CheckIn(ctx, CheckInput{Member: c.Member, Kind: kind, Lat: m.Lat, Lng: m.Lng, Accuracy: acc,
		Source: models.CheckSourceChat, DedupKey: m.Channel + ":" + m.DedupID()})
	if res != nil && res.CheckIn == nil && res.Already == nil {
		// Refused: keep the position for 外勤 原因.
		if err := c.SetStep(stepOffsite, offsiteData{Kind: kind, Lat: m.Lat, Lng: m.Lng, Acc: acc}, locateWindow); err != nil {
			return err
		}
	}
	return s.answer(c, res, err, kind)
}

// answer is the reply to a check-in attempt; it ends the step unless the member may try again.
func (s *Service) answer(c *bot.Context, res *CheckResult, err error, kind string) error {
	switch {
	case errors.Is(err, ErrBadCoords):
		return c.Text(textBadCoords) // the step stays: he may send the location again
	case errors.Is(err, ErrNoPlace):
		c.ClearStep()
		return c.Text(textNoPlace)
	case err != nil:
		return err
	case res.Already != nil:
		c.ClearStep()
		return c.Text(s.alreadyText(res.Already, []Place{*res.Place}))
	case res.CheckIn == nil:
		return c.Text(fmt.Sprintf(textOutside, res.Place.Name, distanceText(res.Distance), res.Place.Radius))
	}
	c.ClearStep()
	return c.Text(ResultText(res, s.loc))
}

// ResultText is the reply to a recorded check-in: place, distance, time, and on time or late / early
// by the duty rule (or off-site, waiting for approval).
func ResultText(res *CheckResult, loc *time.Location) string {
	ci := res.CheckIn
	what := "签到"
	if ci.Kind == models.CheckKindOut {
		what = "签退"
	}
	var b strings.Builder
	if res.Offsite() {
		fmt.Fprintf(&b, "📝 已提交外勤%s，等待村书记审核。\n原因：%s\n距离%s %s\n时间：%s", what, ci.Reason,
			res.Place.Name, distanceText(res.Distance), ci.At.In(loc).Format("01-02 15:04"))
	} else {
		fmt.Fprintf(&b, "✅ %s成功\n地点：%s（距离 %s）\n时间：%s", what, res.Place.Name, distanceText(res.Distance),
			ci.At.In(loc).Format("01-02 15:04"))
	}
	switch {
	case !res.WorkDay:
		fmt.Fprintf(&b, "\n今天是%s，已记录。", res.DayName)
	case ci.Kind == models.CheckKindIn && res.Late > 0:
		fmt.Fprintf(&b, "\n迟到 %d 分钟（上班时间 %s）", res.Late, res.Rule.OnDuty)
	case ci.Kind == models.CheckKindIn:
		fmt.Fprintf(&b, "\n按时到岗（上班时间 %s）", res.Rule.OnDuty)
	case res.Early > 0:
		fmt.Fprintf(&b, "\n早退 %d 分钟（下班时间 %s）", res.Early, res.Rule.OffDuty)
	default:
		fmt.Fprintf(&b, "\n按时下班（下班时间 %s）", res.Rule.OffDuty)
	}
	if ci.Flags != "" {
		b.WriteString(textFlagged)
	}
	return b.String()
}
