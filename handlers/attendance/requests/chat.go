package requests

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Chat texts.
const (
	textLeaveUsage = "请假请这样发：\n请假 明天 到县里开会\n请假 11月25日-11月27日 农忙\n请假 明天起3天 走亲戚\n（上午、下午请假按一天记）"
	textNoQueue    = "目前没有待审批的申请 👍"
	textQueueHint  = "回复「同意 1」「拒绝 2 理由」或「全部同意」。"
	textNoMine     = "你还没有请假或补卡申请。发送「请假 明天 事由」就能请假。"
	textDeciderOff = "你村书记还没有绑定微信，申请已转到管理后台，由上级审批。"
	textDeciderOn  = "已通知书记审批，结果会发消息告诉你。"
	textDeciderUp  = "你的申请由上级在管理后台审批。"

	stepDecide = "requests.decide"
	stepMine   = "requests.mine"

	queueSize = 20 // requests in one 审批 list
	mineSize  = 10 // requests in 我的请假
)

// Register adds the chat routes: 请假 …, 补卡 …, 我的请假 (and 撤销 N), and for secretaries 审批 (then
// 同意 N, 拒绝 N 理由, 全部同意).
func (s *Service) Register(r *bot.Router) {
	r.Handle("请假", s.handleLeave, bot.GluedArgs(), bot.Help(300, "请假 明天 到县里开会 — 向书记请假"))
	r.Handle("补卡", s.handleMakeup, bot.GluedArgs(), bot.Help(310, "补卡 昨天 签到 8:20 忘带手机 — 忘记打卡时补卡"))
	r.Handle("補卡", s.handleMakeup, bot.GluedArgs()) // 補 is not among the characters bot.Normalize folds
	r.Handle("我的请假", s.handleMine, bot.Help(320, "我的请假 — 我的请假、补卡申请，可撤销"))
	r.Handle("我的申请", s.handleMine)
	r.Handle("审批", s.handleQueue, bot.Roles(models.RoleSecretary), bot.Help(330, "审批 — 审批本村的请假、补卡、外勤申请"))
	r.Step(stepDecide, s.handleDecide)
	r.Step(stepMine, s.handleCancel)
}

// refusalText is err as the member reads it, when it is a refusal.
func refusalText(err error) (string, bool) {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Msg, true
	}
	return "", false
}

// handleLeave: 请假 ….
func (s *Service) handleLeave(ctx context.Context, c *bot.Context) error {
	if c.Args == "" {
		use, err := s.LeaveUseOf(ctx, c.Member.ID, c.Member.OrgPath, s.Today().Year())
		if err != nil {
			return err
		}
		return c.Text(textLeaveUsage + "\n\n" + useLine(use))
	}
	spec, err := ParseLeave(c.Args, s.Today())
	if msg, ok := refusalText(err); ok {
		return c.Text(msg)
	}
	if err != nil {
		return err
	}
	made, err := s.RequestLeave(ctx, c.Member.ID, spec)
	if msg, ok := refusalText(err); ok {
		return c.Text(msg)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "✅ 请假申请已提交：%s（%d天）", RangeLabel(spec.From, spec.To), spec.Days())
	if spec.Reason != "" {
		fmt.Fprintf(&b, "，事由：%s", spec.Reason)
	}
	b.WriteString("。")
	if spec.HalfDay {
		b.WriteString("半天按一天记。")
	}
	b.WriteString("\n" + deciderLine(c, made) + "\n" + useLine(made.Use))
	return c.Text(b.String())
}

func deciderLine(c *bot.Context, made *Created) string {
	if c.Member.Role == models.RoleSecretary && made.Deciders == 0 {
		return textDeciderUp
	}
	if made.Deciders == 0 {
		return textDeciderOff
	}
	return textDeciderOn
}

// handleMakeup: 补卡 ….
func (s *Service) handleMakeup(ctx context.Context, c *bot.Context) error {
	if c.Args == "" {
		return c.Text(TextMakeupHow)
	}
	spec, err := ParseMakeup(c.Args, s.now().In(s.loc))
	if msg, ok := refusalText(err); ok {
		return c.Text(msg)
	}
	if err != nil {
		return err
	}
	made, err := s.RequestMakeup(ctx, c.Member.ID, spec)
	if msg, ok := refusalText(err); ok {
		return c.Text(msg)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "✅ 补卡申请已提交：%s", made.Req.What(s.loc))
	if spec.At == nil {
		b.WriteString("（没写时间，按上班时间记）")
	}
	if spec.Reason != "" {
		fmt.Fprintf(&b, "，事由：%s", spec.Reason)
	}
	fmt.Fprintf(&b, "。\n%s\n本月还可补卡 %d 次。", deciderLine(c, made), made.Use.Remaining)
	return c.Text(b.String())
}

// line is a request in a numbered list.
func (s *Service) line(n int, r *Row, withName bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d. ", n)
	if withName {
		b.WriteString(r.MemberName + " ")
	}
	b.WriteString(KindName(r.Kind) + " ")
	if r.Kind == models.RequestLeave {
		b.WriteString(shortRange(r.From, r.To))
		if r.Days() > 1 {
			fmt.Fprintf(&b, "（%d天）", r.Days())
		}
	} else {
		b.WriteString(shortRange(r.From, "") + " " + CheckKindName(r.CheckKind))
		if r.At != nil {
			b.WriteString(" " + r.At.In(s.loc).Format("15:04"))
		}
	}
	if r.Reason != "" {
		if !strings.HasSuffix(b.String(), "）") {
			b.WriteString(" ")
		}
		b.WriteString(clipRunes(r.Reason, 20))
	}
	if !withName {
		b.WriteString(" " + StateName(r.State))
	}
	return b.String()
}

func clipRunes(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return s
}

// mineData is the 我的请假 list: the request ids by their number.
type mineData struct {
	IDs []uint `json:"i"`
}

// handleMine: 我的请假 lists the member's latest requests; pending ones can be withdrawn.
func (s *Service) handleMine(ctx context.Context, c *bot.Context) error {
	rows, err := s.Mine(ctx, c.Member.ID, mineSize)
	if err != nil {
		return err
	}
	use, err := s.LeaveUseOf(ctx, c.Member.ID, c.Member.OrgPath, s.Today().Year())
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		c.ClearStep()
		return c.Text(textNoMine + "\n" + useLine(use))
	}
	var b strings.Builder
	b.WriteString("我的申请（最近的在前）：")
	data := mineData{}
	pending := false
	for i := range rows {
		data.IDs = append(data.IDs, rows[i].ID)
		b.WriteString("\n" + s.line(i+1, &rows[i], false))
		if rows[i].State == models.RequestPending {
			pending = true
		}
	}
	b.WriteString("\n" + useLine(use))
	if !pending {
		c.ClearStep()
		return c.Text(b.String())
	}
	b.WriteString("\n回复「撤销 1」可撤销待审批的申请。")
	if err := c.SetStep(stepMine, data, 0); err != nil {
		return err
	}
	return c.Text(b.String())
}

var reCancel = regexp.MustCompile(`^(?:撤销|撤銷|撤回|取消)\s*(\d{1,2})$`)

// handleCancel: 撤销 N after 我的请假.
func (s *Service) handleCancel(ctx context.Context, c *bot.Context) error {
	if c.Member == nil || c.Msg.Kind != bot.KindText {
		return bot.ErrPass
	}
	m := reCancel.FindStringSubmatch(c.Norm)
	if m == nil {
		return bot.ErrPass
	}
	var data mineData
	if err := c.StepData(&data); err != nil {
		c.ClearStep()
		return bot.ErrPass
	}
	n, _ := strconv.Atoi(m[1])
	if n < 1 || n > len(data.IDs) {
		return c.Text(fmt.Sprintf("没有第 %d 条，发送「我的请假」重新查看。", n))
	}
	r, err := s.Cancel(ctx, c.Member.ID, data.IDs[n-1])
	var de *DecidedError
	switch {
	case errors.As(err, &de):
		return c.Text(fmt.Sprintf("第 %d 条%s，不能撤销了。", n, StateName(de.Req.State)))
	case errors.Is(err, ErrNotFound):
		return c.Text(fmt.Sprintf("没有第 %d 条，发送「我的请假」重新查看。", n))
	case err != nil:
		return err
	}
	return c.Text(fmt.Sprintf("已撤销：%s %s。", KindName(r.Kind), r.What(s.loc)))
}

// decideData is the 审批 list: the request ids by their number.
type decideData struct {
	IDs []uint `json:"i"`
}

// secretaryScope is what a secretary decides in the chat: his org's subtree.
func secretaryScope(m *bot.Member) scope.Scope { return scope.Under(m.OrgID, m.OrgPath) }

// handleQueue: 审批 lists the pending requests of the secretary's village.
func (s *Service) handleQueue(ctx context.Context, c *bot.Context) error {
	rows, err := s.Pending(ctx, secretaryScope(c.Member), c.Member.ID, queueSize)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		c.ClearStep()
		return c.Text(textNoQueue)
	}
	return c.Text(s.queueText(c, rows, ""))
}

// queueText numbers the queue, sets the decide step on it and returns the list (after lead).
func (s *Service) queueText(c *bot.Context, rows []Row, lead string) string {
	var b strings.Builder
	b.WriteString(lead)
	fmt.Fprintf(&b, "待审批 %d 条：", len(rows))
	data := decideData{}
	for i := range rows {
		data.IDs = append(data.IDs, rows[i].ID)
		b.WriteString("\n" + s.line(i+1, &rows[i], true))
	}
	b.WriteString("\n" + textQueueHint)
	if err := c.SetStep(stepDecide, data, 0); err != nil {
		s.log.Warn("requests: decide step not set", "err", err)
	}
	return b.String()
}

var (
	reApprove = regexp.MustCompile(`^(?:同意|批准|通过)\s*([\d\s,、，]*)$`)
	reReject  = regexp.MustCompile(`^(?:拒绝|拒絕|驳回|駁回|不同意|不批准)\s*(\d{1,2})?\s*(.*)$`)
	reAll     = regexp.MustCompile(`^(?:全部|都|全都)(?:同意|批准|通过)$`)
	reNums    = regexp.MustCompile(`\d{1,2}`)
)

// handleDecide reads 同意 N…, 拒绝 N 理由 and 全部同意 after 审批. Anything else passes on.
func (s *Service) handleDecide(ctx context.Context, c *bot.Context) error {
	if c.Member == nil || c.Member.Role != models.RoleSecretary || c.Msg.Kind != bot.KindText {
		c.ClearStep()
		return bot.ErrPass
	}
	var data decideData
	if err := c.StepData(&data); err != nil || len(data.IDs) == 0 {
		c.ClearStep()
		return bot.ErrPass
	}
	var nums []int
	approve, note := true, ""
	switch {
	case reAll.MatchString(c.Norm):
		for i := range data.IDs {
			nums = append(nums, i+1)
		}
	case reApprove.MatchString(c.Norm):
		for _, n := range reNums.FindAllString(reApprove.FindStringSubmatch(c.Norm)[1], -1) {
			k, _ := strconv.Atoi(n)
			nums = append(nums, k)
		}
	case reReject.MatchString(c.Norm):
		m := reReject.FindStringSubmatch(c.Norm)
		approve, note = false, strings.TrimLeft(strings.TrimSpace(m[2]), ",，:：")
		if m[1] != "" {
			k, _ := strconv.Atoi(m[1])
			nums = []int{k}
		}
	default:
		return bot.ErrPass
	}
	if len(nums) == 0 {
		if len(data.IDs) != 1 {
			if approve {
				return c.Text("请说明是第几条，例如「同意 1」，或「全部同意」。")
			}
			return c.Text("请说明是第几条，例如「拒绝 2 理由」。")
		}
		nums = []int{1}
	}
	d := Decider{By: fmt.Sprintf("member:%d", c.Member.ID), Name: "书记 " + c.Member.Name, Self: c.Member.ID, Viewer: s.chatViewer(ctx, c.Member)}
	sc := secretaryScope(c.Member)
	var b strings.Builder
	seen := map[int]bool{}
	for _, n := range nums {
		if seen[n] {
			continue
		}
		seen[n] = true
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		if n < 1 || n > len(data.IDs) {
			fmt.Fprintf(&b, "没有第 %d 条。", n)
			continue
		}
		out, err := s.Decide(ctx, sc, data.IDs[n-1], approve, note, d)
		var de *DecidedError
		switch {
		case errors.As(err, &de):
			fmt.Fprintf(&b, "第 %d 条已经处理过了（%s）。", n, StateName(de.Req.State))
			continue
		case errors.Is(err, ErrNotFound):
			fmt.Fprintf(&b, "第 %d 条找不到了。", n)
			continue
		case err != nil:
			if msg, ok := refusalText(err); ok {
				fmt.Fprintf(&b, "第 %d 条：%s", n, msg)
				continue
			}
			return err
		}
		r := out.Req
		mark, verb := "✅ 已同意", ""
		if !approve {
			mark = "❌ 已拒绝"
		}
		fmt.Fprintf(&b, "%s %d. %s %s %s", mark, n, r.MemberName, KindName(r.Kind), r.What(s.loc))
		if out.Told {
			verb = "，已通知本人。"
		} else {
			verb = "（本人没有绑定微信，未能通知）。"
		}
		b.WriteString(verb)
	}
	rest, err := s.Pending(ctx, sc, c.Member.ID, queueSize)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		c.ClearStep()
		return c.Text(b.String() + "\n全部处理完了 👍")
	}
	// The numbers stay as they were listed, so a second 同意 2 means what he saw.
	fmt.Fprintf(&b, "\n还有 %d 条待审批，回复「审批」重新查看。", len(rest))
	return c.Text(b.String())
}

// chatViewer is the console account linked to a secretary deciding in the chat, for the audit log
// (nil when he has none: the entry names him instead).
func (s *Service) chatViewer(ctx context.Context, m *bot.Member) *console.Viewer {
	var a models.Account
	err := s.db.WithContext(ctx).Where("member_id = ? AND active = ?", m.ID, true).Order("id").Take(&a).Error
	if err != nil {
		return nil
	}
	return &console.Viewer{AccountID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Role: a.Role, MemberID: a.MemberID,
		Scope: secretaryScope(m), IP: "微信"}
}
