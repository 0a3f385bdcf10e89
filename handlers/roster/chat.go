package roster

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
	textHowToBind = "你的微信还没有绑定党员花名册。\n" +
		"请发送「绑定 绑定码」，例如：绑定 K7M2Q9TX\n" +
		"绑定码向村书记或组织委员索取；也可以直接扫描绑定二维码。"
	textWelcome     = "欢迎关注！这里是党建工作助手。\n"
	textNeedCode    = "请在「绑定」后面加上你的绑定码，例如：绑定 K7M2Q9TX"
	textCodeInvalid = "绑定码不对或已经用过了。请核对后重发（8位字母和数字，不分大小写），或找村书记重新获取。"
	textInactive    = "这个绑定码对应的人员已不在花名册中，请联系村书记。"
	textNotBound    = "你的微信目前没有绑定花名册，无需解绑。"
	textUnbindKept  = "好的，没有解绑。"

	stepUnbindConfirm = "roster.unbind_confirm"
)

// Register adds the roster's chat routes: binding by code or QR scene, unbinding, the welcome on
// subscribe, 帮助, and what unbound users get for everything else.
func (s *Service) Register(r *bot.Router) {
	r.Handle("绑定", s.handleBind, bot.Public())
	r.Handle(bot.Scene("bind"), s.handleBindScene, bot.Public())
	r.Handle(bot.Event(bot.EventSubscribe), s.handleSubscribe, bot.Public())
	r.Handle("帮助", func(ctx context.Context, c *bot.Context) error {
		return s.handleHelp(ctx, c, r.HelpLines)
	}, bot.Public())
	r.Handle("解绑", s.handleUnbind, bot.Help(900, "解绑 — 解除本微信与花名册的绑定"))
	r.Step(stepUnbindConfirm, s.handleUnbindConfirm)
	r.Unbound(s.handleUnbound)
}

// who is "张三（书记，郭沟村）": the name, role and the member's own org.
func who(name, role, orgPath string) string {
	return fmt.Sprintf("%s（%s，%s）", name, role, orgPath[strings.LastIndexByte(orgPath, '/')+1:])
}

func whoMember(m *models.Member) string { return who(m.Name, m.Role, m.Org.Path) }

// handleBind: 绑定 CODE.
func (s *Service) handleBind(ctx context.Context, c *bot.Context) error {
	if c.Member != nil {
		return c.Text(alreadyBound(who(c.Member.Name, c.Member.Role, c.Member.OrgPath)))
	}
	if c.Args == "" {
		return c.Text(textNeedCode)
	}
	text, err := s.bind(ctx, c, c.Args)
	if err != nil {
		return err
	}
	return c.Text(text)
}

// handleBindScene: a QR code with scene bind:CODE, scanned by a follower (SCAN) or by someone who
// follows by scanning it (subscribe, who is greeted too).
func (s *Service) handleBindScene(ctx context.Context, c *bot.Context) error {
	greet := ""
	if c.Msg.Event == bot.EventSubscribe {
		greet = textWelcome
	}
	if c.Member != nil {
		return c.Text(greet + alreadyBound(who(c.Member.Name, c.Member.Role, c.Member.OrgPath)))
	}
	text, err := s.bind(ctx, c, c.Args)
	if err != nil {
		return err
	}
	return c.Text(greet + text)
}

// bind binds c's user with code and says how it went; err only for failures.
func (s *Service) bind(ctx context.Context, c *bot.Context, code string) (string, error) {
	var subjects []Subject
	if s.guard != nil {
		subjects = []Subject{UserSubject(c.Msg.Channel, c.Msg.OpenID), AllSubject()}
		if refused, err := s.guard.Refused(ctx, subjects...); err != nil {
			return "", err
		} else if refused {
			return TextBindLocked, nil
		}
	}
	m, err := s.Bind(ctx, c.Msg.Channel, c.Msg.OpenID, code)
	if errors.Is(err, ErrCodeInvalid) && s.guard != nil {
		s.guard.Fail(ctx, subjects...)
	}
	switch {
	case err == nil:
		c.IdentityChanged()
		return "绑定成功！你好，" + whoMember(m) + "。\n发送「帮助」看看我能做什么。", nil
	case errors.Is(err, ErrAlreadyBound):
		c.IdentityChanged() // the cache said "not bound": it was stale
		if m != nil {
			return alreadyBound(whoMember(m)), nil
		}
		return alreadyBound("花名册中的人员"), nil
	case errors.Is(err, ErrCodeInvalid):
		return textCodeInvalid, nil
	case errors.Is(err, ErrMemberInactive):
		return textInactive, nil
	}
	return "", err
}

func alreadyBound(whom string) string {
	return "你的微信已绑定为" + whom + "，无需再绑定。\n如需换绑，请先发送「解绑」。"
}

// handleSubscribe welcomes a new follower: by name when he is bound, else with how to bind.
func (s *Service) handleSubscribe(_ context.Context, c *bot.Context) error {
	if c.Member == nil {
		return c.Text(textWelcome + textHowToBind)
	}
	return c.Text("欢迎回来，" + who(c.Member.Name, c.Member.Role, c.Member.OrgPath) + "！\n发送「帮助」查看可用功能。")
}

// handleHelp: who the user is and what he can do; how to bind while unbound.
func (s *Service) handleHelp(_ context.Context, c *bot.Context, helpLines func(role string) []string) error {
	if c.Member == nil {
		return c.Text(textHowToBind)
	}
	lines := append([]string{"你好，" + who(c.Member.Name, c.Member.Role, c.Member.OrgPath)}, helpLines(c.Member.Role)...)
	if len(lines) == 1 {
		lines = append(lines, "暂时没有可用的功能。")
	}
	return c.Text(strings.Join(lines, "\n"))
}

// handleUnbound answers an unbound user for any route that is not public.
func (s *Service) handleUnbound(_ context.Context, c *bot.Context) error {
	if c.Msg.Kind == bot.KindEvent && c.Msg.Event != bot.EventClick {
		return nil // an event the user did not send on purpose: just `success`
	}
	return c.Text(textHowToBind)
}

// handleUnbind: 解绑 asks for a confirmation first, since binding again needs a code.
func (s *Service) handleUnbind(_ context.Context, c *bot.Context) error {
	if err := c.SetStep(stepUnbindConfirm, nil, 5*time.Minute); err != nil {
		return err
	}
	return c.Text("确定要解除本微信与" + who(c.Member.Name, c.Member.Role, c.Member.OrgPath) + "的绑定吗？\n" +
		"回复「确定」解绑，回复「取消」保留。")
}

// handleUnbindConfirm takes the answer to 解绑's question. Anything else than yes or no cancels the
// question and is routed as usual.
func (s *Service) handleUnbindConfirm(ctx context.Context, c *bot.Context) error {
	if c.Msg.Kind != bot.KindText {
		return bot.ErrPass // e.g. a LOCATION event WeChat sent by itself: keep waiting
	}
	c.ClearStep()
	switch strings.ToLower(c.Norm) {
	case "确定", "确认", "是", "是的", "好", "好的", "解绑", "y", "yes", "ok":
	case "取消", "不", "否", "不用", "不要", "算了", "n", "no":
		return c.Text(textUnbindKept)
	default:
		return bot.ErrPass
	}
	m, err := s.Unbind(ctx, c.Msg.Channel, c.Msg.OpenID)
	switch {
	case errors.Is(err, ErrNotBound):
		c.IdentityChanged()
		return c.Text(textNotBound)
	case err != nil:
		return err
	}
	c.IdentityChanged()
	text := "已解绑。"
	if m.BindCode != nil {
		text += "你的新绑定码是 " + *m.BindCode + "，换了微信后发送「绑定 " + *m.BindCode + "」即可重新绑定。"
	}
	return c.Text(text)
}
