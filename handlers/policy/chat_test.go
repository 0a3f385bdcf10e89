package policy_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// questions are the logged questions, oldest first.
func questions(t *testing.T, e *consoletest.Env) []models.PolicyQuestion {
	t.Helper()
	var qs []models.PolicyQuestion
	if err := e.App.DB().Order("id").Find(&qs).Error; err != nil {
		t.Fatal(err)
	}
	return qs
}

// End to end through the webhook, on the demo corpus that `serve --demo` loads.
func TestChatAnswersWithQuoteAndSource(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("u-zhang", "张国华")
	oa := e.OA()

	got := e.Send(oa.Text("u-zhang", "问 黄陂区村书记每年培训要达到多少学时？"))
	if !strings.HasPrefix(got, "“") || !strings.Contains(got, "56学时") || !strings.Contains(got, "——《群雁奋飞头雁领") ||
		utf8.RuneCountInString(got) > 300 {
		t.Fatalf("问: %q", got)
	}
	// Any other text the bot does not understand is a question too; Traditional and full-width input
	// is folded, the Traditional document answers.
	got = e.Send(oa.Text("u-zhang", "洪雅縣給多少個村配了黨建專幹？"))
	if !strings.Contains(got, "159") || !strings.Contains(got, "——《優中選優") {
		t.Fatalf("fallback: %q", got)
	}

	qs := questions(t, e)
	if len(qs) != 2 {
		t.Fatalf("%d questions logged", len(qs))
	}
	for _, q := range qs {
		if q.State != models.AskAnswered || q.PassageID == nil || q.FAQID != nil || q.Reply == "" || q.Score <= 0 ||
			q.OrgPath != "洪雅县/花溪镇/郭沟村" || q.Channel != bot.ChannelOA || q.OpenID != "u-zhang" || q.MemberID == 0 {
			t.Errorf("logged: %+v", q)
		}
	}
	if qs[0].Text != "黄陂区村书记每年培训要达到多少学时？" {
		t.Errorf("question text %q", qs[0].Text)
	}
	var p models.PolicyPassage
	if err := e.App.DB().Take(&p, *qs[0].PassageID).Error; err != nil || !strings.Contains(p.Text, "56学时") {
		t.Errorf("answering passage %+v: %v", p, err)
	}
}

func TestChatBelowThresholdGoesToTheInbox(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("u-zhang", "张国华")
	oa := e.OA()
	for _, q := range []string{"问 怎么申请低保？", "村里的医保报销比例是多少"} {
		if got := e.Send(oa.Text("u-zhang", q)); got != "这个问题我还答不上来，已转给组织部的同志，答复后会在这里告诉你。" {
			t.Fatalf("%s: %q", q, got)
		}
	}
	qs := questions(t, e)
	if len(qs) != 2 {
		t.Fatalf("%d questions logged", len(qs))
	}
	for _, q := range qs {
		if q.State != models.AskOpen || q.PassageID != nil || q.FAQID != nil || q.Reply != "" ||
			q.OrgPath != "洪雅县/花溪镇/郭沟村" || q.OrgID == 0 || q.Channel != bot.ChannelOA || q.OpenID != "u-zhang" || q.AskedAt.IsZero() {
			t.Errorf("inbox question: %+v", q)
		}
	}
	if qs[0].Text != "怎么申请低保？" || qs[1].Text != "村里的医保报销比例是多少" {
		t.Errorf("texts %q %q", qs[0].Text, qs[1].Text)
	}
}

func TestChatShortTextsAndChatterGetTheHelpLine(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("u-zhang", "张国华")
	oa := e.OA()
	for _, text := range []string{"嗯", "好的", "👍👍", "收到了辛苦大家"} {
		if got := e.Send(oa.Text("u-zhang", text)); got != bot.TextUnknown {
			t.Errorf("%q: %q", text, got)
		}
	}
	if got := e.Send(oa.Text("u-zhang", "问")); !strings.Contains(got, "请在「问」后面写上你的问题") {
		t.Errorf("问 alone: %q", got)
	}
	if got := e.Send(oa.Text("u-zhang", "帮助")); !strings.Contains(got, "问 … — 政策问答") {
		t.Errorf("帮助 does not list 问: %q", got)
	}
	if qs := questions(t, e); len(qs) != 0 {
		t.Errorf("logged: %+v", qs)
	}
	// Unbound users learn how to bind, whatever they ask.
	if got := e.Send(oa.Text("u-stranger", "问 村书记每年培训多少学时")); strings.Contains(got, "56") {
		t.Errorf("unbound: %q", got)
	}
}

func TestChatFAQBeatsPassage(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("u-zhang", "张国华")
	faq := models.PolicyFAQ{Question: "村书记每年培训要达到多少学时", Alternatives: "村支书一年培训多少学时",
		Answer: "村党组织书记每年集中培训不少于56学时。", Source: "县委组织部", Active: true}
	if err := e.App.DB().Create(&faq).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.App.Policy().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.Send(e.OA().Text("u-zhang", "问 村支书一年培训多少学时"))
	if got != "村党组织书记每年集中培训不少于56学时。\n——县委组织部" {
		t.Fatalf("%q", got)
	}
	qs := questions(t, e)
	if len(qs) != 1 || qs[0].FAQID == nil || *qs[0].FAQID != faq.ID || qs[0].State != models.AskAnswered {
		t.Fatalf("%+v", qs)
	}
}
