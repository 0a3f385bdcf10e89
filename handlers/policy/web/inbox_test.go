package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/handlers/policy/web"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestPersonsAnswerReachesTheAsker: a question the bot could not answer waits in the inbox of the
// asker's town; the town administrator answers it on the console and the asker gets the answer in
// WeChat (a customer-service message: he wrote within 48 hours); the question records who answered,
// when and how it went; the answer is audited and becomes an FAQ in one click.
func TestPersonsAnswerReachesTheAsker(t *testing.T) {
	e := consoletest.New(t)
	bind(t, e, "o-wang", "王德明") // he writes to the official account: the 48-hour window is open
	q := ask(t, e, "王德明", "o-wang", "村里的低保怎么申请？", 2*time.Hour)

	c := e.Login(consoletest.Town)
	body := get(t, c, "/console/", http.StatusOK)
	contains(t, "the menu", body, `href="/console/policy"`, "政策问答")
	body = get(t, c, "/console/policy", http.StatusOK)
	if got := listed(body); len(got) != 1 || got[0] != "村里的低保怎么申请？" {
		t.Fatalf("inbox lists %q\n%.3000s", got, body)
	}
	contains(t, "the inbox", body, "王德明", "郭沟村", "待答复")
	link := fmt.Sprintf("/console/policy/questions/%d", q.ID)
	body = get(t, c, link, http.StatusOK)
	contains(t, "the question page", body, "村里的低保怎么申请？", "王德明", `name="answer"`, `maxlength="250"`, "发送答复")

	before := len(e.Fake.TextsTo("o-wang"))
	answer := "请带户口簿和身份证到村便民服务站申请，村里初审后报镇民政办审核。"
	loc, page := follow(t, c, link+"/reply", url.Values{"answer": {answer}})
	if loc != link {
		t.Fatalf("reply went to %s", loc)
	}
	texts := e.Fake.TextsTo("o-wang")
	want := "你之前问的：「村里的低保怎么申请？」\n答复：" + answer + "\n——组织部"
	if len(texts) != before+1 || texts[len(texts)-1] != want {
		t.Fatalf("the asker got %q, want %q", texts[before:], want)
	}
	contains(t, "the page after answering", page, "已保存答复", "已通过公众号消息送达", html.EscapeString(answer), "转为常见问题")

	got := reload(t, e, q.ID)
	if got.State != models.AskReplied || got.Reply != answer || got.RepliedBy == "" || got.RepliedAt == nil ||
		!got.RepliedAt.Equal(e.Clock.Now()) || got.Delivery != "已通过公众号消息送达" {
		t.Fatalf("question after the answer: %+v", got)
	}
	if es := audits(t, e, web.ObjectQuestion); len(es) != 1 || es[0].Username != consoletest.Town ||
		es[0].OrgPath != "洪雅县/花溪镇/郭沟村" || !strings.Contains(es[0].After, answer) {
		t.Fatalf("audit: %+v", es)
	}

	// The inbox's default (open) is empty now; replied shows it.
	body = get(t, c, "/console/policy", http.StatusOK)
	contains(t, "the empty inbox", body, "没有待答复的提问")
	if got := listed(get(t, c, "/console/policy?state=replied", http.StatusOK)); len(got) != 1 {
		t.Fatalf("replied lists %q", got)
	}

	// 转为常见问题: one click makes the FAQ; a second click makes no twin.
	loc, page = follow(t, c, link+"/faq", nil)
	var f models.PolicyFAQ
	if err := e.App.DB().Where("question = ?", "村里的低保怎么申请？").Take(&f).Error; err != nil {
		t.Fatal(err)
	}
	if f.Answer != answer || !f.Active || loc != fmt.Sprintf("/console/policy/faqs/%d", f.ID) {
		t.Fatalf("faq %+v, page %s", f, loc)
	}
	contains(t, "the new FAQ's page", page, "已转为常见问题", `name="alternatives"`)
	_, page = follow(t, c, link+"/faq", nil)
	contains(t, "the second click", page, "已经有这条常见问题")
	var n int64
	e.App.DB().Model(&models.PolicyFAQ{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d FAQs after two clicks", n)
	}
	if es := audits(t, e, web.ObjectFAQ); len(es) != 1 || es[0].Action != "create" {
		t.Fatalf("faq audit: %+v", es)
	}
	contains(t, "the question page", get(t, c, link, http.StatusOK), fmt.Sprintf("第 %d 条", f.ID))
}

// TestSecretaryReadsButDoesNotAnswer: the village secretary sees his village's questions (not the
// next village's) with no answer form, and answering is refused with nothing sent.
func TestSecretaryReadsButDoesNotAnswer(t *testing.T) {
	e := consoletest.New(t)
	mine := ask(t, e, "王德明", "o-wang", "党费怎么交？", time.Hour)
	ask(t, e, "陈志强", "o-chen", "双河村的提问", time.Hour) // 双河村: another village of the town

	c := e.Login(consoletest.Secretary)
	body := get(t, c, "/console/policy", http.StatusOK)
	if got := listed(body); len(got) != 1 || got[0] != "党费怎么交？" {
		t.Fatalf("the secretary's inbox lists %q", got)
	}
	contains(t, "the secretary's inbox", body, "答复由县、镇管理员统一作出")
	link := fmt.Sprintf("/console/policy/questions/%d", mine.ID)
	lacks(t, "the secretary's question page", get(t, c, link, http.StatusOK), `name="answer"`, "转为常见问题")
	post(t, c, link+"/reply", url.Values{"answer": {"我来答"}}, http.StatusForbidden)
	st, _ := e.API(e.Token(consoletest.Secretary), "POST", fmt.Sprintf("/api/v1/policy/questions/%d/reply", mine.ID),
		map[string]string{"answer": "我来答"}, nil)
	if st != http.StatusForbidden {
		t.Fatalf("API reply as secretary: %d", st)
	}
	if q := reload(t, e, mine.ID); q.State != models.AskOpen || q.Reply != "" || len(e.Fake.TextsTo("o-wang")) != 0 {
		t.Fatalf("the secretary's answer changed something: %+v", q)
	}

	// The town administrator of 止戈镇 does not see 花溪镇's questions at all.
	ask(t, e, "郭晓燕", "o-guo", "五龙村的提问", time.Hour)
	tok := e.Token(consoletest.Town)
	var list struct {
		Items []struct {
			Text string `json:"text"`
		} `json:"items"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/policy/questions?state=all", nil, &list); st != http.StatusOK || len(list.Items) != 2 {
		t.Fatalf("huaxi's API list: %d %s", st, body)
	}
	for _, it := range list.Items {
		if it.Text == "五龙村的提问" {
			t.Fatalf("huaxi sees 止戈镇's question")
		}
	}
}

// TestAnswerWhenTheAskerCannotBeReached: outside the 48-hour window with no template message, a
// member who unfollowed, a mini-program asker: the answer is saved, the page says why it did not
// arrive, and answering again after he writes delivers it.
func TestAnswerWhenTheAskerCannotBeReached(t *testing.T) {
	e := consoletest.New(t)
	bind(t, e, "o-wang", "王德明")
	q := ask(t, e, "王德明", "o-wang", "医保怎么报销？", time.Hour)
	e.Clock.Add(49 * time.Hour) // the window closed; the test server has no template message
	c := e.Login(consoletest.County)
	link := fmt.Sprintf("/console/policy/questions/%d", q.ID)
	_, page := follow(t, c, link+"/reply", url.Values{"answer": {"带上发票到镇医保站。"}})
	contains(t, "the page", page, "未送达", "超过 48 小时")
	got := reload(t, e, q.ID)
	if got.State != models.AskReplied || got.Reply != "带上发票到镇医保站。" || !strings.HasPrefix(got.Delivery, "未送达") {
		t.Fatalf("question: %+v", got)
	}
	if n := len(e.Fake.TextsTo("o-wang")); n != 0 {
		t.Fatalf("%d texts sent outside the window", n)
	}
	// He writes again: the window opens, answering again delivers (and replaces the answer).
	e.Send(e.OA().Text("o-wang", "帮助"))
	e.WaitWrote("o-wang")
	follow(t, c, link+"/reply", url.Values{"answer": {"带上发票和病历\r\n到镇医保站。"}, "seen": {"带上发票到镇医保站。"}})
	if texts := e.Fake.TextsTo("o-wang"); len(texts) == 0 || !strings.Contains(texts[len(texts)-1], "答复：带上发票和病历\n到镇医保站。") {
		t.Fatalf("texts after he wrote: %q", texts)
	}
	if got := reload(t, e, q.ID); got.Reply != "带上发票和病历\n到镇医保站。" || got.Delivery != "已通过公众号消息送达" {
		t.Fatalf("question after the second answer: %+v", got)
	}
	// A correction from the page that shows this two-line answer (the browser sends it back with \r\n).
	follow(t, c, link+"/reply", url.Values{"answer": {"更正：带上发票和病历到县医保局。"}, "seen": {"带上发票和病历\r\n到镇医保站。"}})
	if got := reload(t, e, q.ID); got.Reply != "更正：带上发票和病历到县医保局。" {
		t.Fatalf("the correction was refused: %+v", got)
	}
	if es := audits(t, e, web.ObjectQuestion); len(es) != 3 {
		t.Fatalf("%d audit entries for three answers", len(es))
	}

	// He unfollowed: WeChat refuses with 43004.
	q2 := ask(t, e, "王德明", "o-wang", "养老保险交多少？", time.Hour)
	e.Fake.SetUserError("o-wang", 43004)
	_, page = follow(t, c, fmt.Sprintf("/console/policy/questions/%d/reply", q2.ID), url.Values{"answer": {"每年交一次。"}})
	contains(t, "the page", page, "未送达：他已取消关注公众号")

	// A mini-program asker without the official account.
	m := member(t, e, "刘桂兰")
	q3 := &models.PolicyQuestion{MemberID: m.ID, OrgID: m.OrgID, OrgPath: m.Org.Path, Channel: "mp", OpenID: "mp-liu",
		Text: "小程序里的提问", State: models.AskOpen, AskedAt: e.Clock.Now().UTC()}
	e.App.DB().Create(q3)
	var res struct {
		Delivered bool   `json:"delivered"`
		Via       string `json:"via"`
		Question  struct {
			State    string `json:"state"`
			Delivery string `json:"delivery"`
		} `json:"question"`
	}
	st, body := e.API(e.Token(consoletest.County), "POST", fmt.Sprintf("/api/v1/policy/questions/%d/reply", q3.ID),
		map[string]string{"answer": "可以。"}, &res)
	if st != http.StatusOK || res.Delivered || res.Via != "" || res.Question.State != "replied" || !strings.Contains(res.Question.Delivery, "小程序") {
		t.Fatalf("mini-program asker: %d %s", st, body)
	}
}

// TestAnswerInputErrors: an empty or too long answer is refused with the text kept; a question
// answered meanwhile by someone else is not answered twice.
func TestAnswerInputErrors(t *testing.T) {
	e := consoletest.New(t)
	q := ask(t, e, "王德明", "o-wang", "宅基地怎么批？", time.Hour)
	c := e.Login(consoletest.Town)
	link := fmt.Sprintf("/console/policy/questions/%d", q.ID)
	_, body := post(t, c, link+"/reply", url.Values{"answer": {"  "}}, http.StatusBadRequest)
	contains(t, "the empty answer", body, "请填写答复")
	long := strings.Repeat("长", web.MaxAnswer+1)
	_, body = post(t, c, link+"/reply", url.Values{"answer": {long}}, http.StatusBadRequest)
	contains(t, "the long answer", body, "答复最多 250 个字，现在有 251 个字", long)
	if got := reload(t, e, q.ID); got.State != models.AskOpen || got.Reply != "" {
		t.Fatalf("a refused answer changed the question: %+v", got)
	}
	tok := e.Token(consoletest.Town)
	if st, body := e.API(tok, "POST", fmt.Sprintf("/api/v1/policy/questions/%d/reply", q.ID), map[string]any{"answer": 3}, nil); st != http.StatusBadRequest {
		t.Fatalf("a wrong JSON type: %d %s", st, body)
	}
	if st, _ := e.API(tok, "POST", "/api/v1/policy/questions/99999/reply", map[string]any{"answer": "x"}, nil); st != http.StatusNotFound {
		t.Fatalf("no such question: %d", st)
	}
	if st, _ := e.API(tok, "GET", "/api/v1/policy/questions?state=nope", nil, nil); st != http.StatusBadRequest {
		t.Fatalf("a bad state: %d", st)
	}

	// Two administrators open the page; the county answers first; the town's answer (from the page
	// that showed no answer yet) is refused with his text kept, and nothing more is sent.
	county := e.Login(consoletest.County)
	follow(t, county, link+"/reply", url.Values{"answer": {"到镇国土所申请。"}, "seen": {""}})
	sent := len(e.Fake.MessagesTo("o-wang", 0, true))
	_, body = post(t, c, link+"/reply", url.Values{"answer": {"到村委会申请。"}, "seen": {""}}, http.StatusBadRequest)
	contains(t, "the late answer", body, "这个问题刚刚有人答复了", "到镇国土所申请。", "到村委会申请。")
	// The API too: without replace, an answered question is refused.
	if st, body := e.API(tok, "POST", fmt.Sprintf("/api/v1/policy/questions/%d/reply", q.ID), map[string]any{"answer": "到村委会申请。"}, nil); st != http.StatusBadRequest {
		t.Fatalf("API answer without replace: %d %s", st, body)
	}
	if got := reload(t, e, q.ID); got.Reply != "到镇国土所申请。" || len(e.Fake.MessagesTo("o-wang", 0, true)) != sent {
		t.Fatalf("the late answer changed something: %+v", got)
	}
	if st, body := e.API(tok, "POST", fmt.Sprintf("/api/v1/policy/questions/%d/reply", q.ID), map[string]any{"answer": "到村委会申请。", "replace": true}, nil); st != http.StatusOK {
		t.Fatalf("API answer with replace: %d %s", st, body)
	}
	if got := reload(t, e, q.ID); got.Reply != "到村委会申请。" {
		t.Fatalf("replace: %+v", got)
	}

	// A bot-answered question is not in the inbox (the evaluation log).
	botq := ask(t, e, "王德明", "o-wang", "机器人答过的", time.Hour)
	e.App.DB().Model(botq).Update("state", models.AskAnswered)
	get(t, c, fmt.Sprintf("/console/policy/questions/%d", botq.ID), http.StatusNotFound)
}

// TestInboxFlagsOverdueFirst: open questions waiting more than a day are flagged and come first
// (the longest waiting first), then the rest newest first; filters by state, org and text.
func TestInboxFlagsOverdueFirst(t *testing.T) {
	e := consoletest.New(t)
	ask(t, e, "王德明", "o-1", "新问题", time.Hour)
	ask(t, e, "陈志强", "o-2", "两天前的问题", 50*time.Hour)
	ask(t, e, "刘桂兰", "o-3", "昨天的问题", 25*time.Hour)
	ask(t, e, "王德明", "o-1", "半天前的问题", 12*time.Hour)
	old := ask(t, e, "王德明", "o-1", "答过的老问题", 100*time.Hour)
	now := e.Clock.Now().UTC()
	e.App.DB().Model(old).Updates(map[string]any{"state": models.AskReplied, "reply": "答了", "replied_at": now})
	ask(t, e, "郭晓燕", "o-4", "止戈镇的老问题", 30*time.Hour)

	c := e.Login(consoletest.Town)
	body := get(t, c, "/console/policy", http.StatusOK)
	want := []string{"两天前的问题", "昨天的问题", "新问题", "半天前的问题"}
	if got := listed(body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("order %q, want %q", got, want)
	}
	if n := strings.Count(body, "超过一天未答复"); n != 2+1 { // two rows and the banner's text
		t.Fatalf("%d overdue flags\n%.3000s", n, body)
	}
	contains(t, "the banner", body, "有 2 个提问超过一天未答复", "已等 2 天")

	all := listed(get(t, c, "/console/policy?state=all", http.StatusOK))
	if len(all) != 5 || all[4] != "答过的老问题" {
		t.Fatalf("all: %q", all)
	}
	var shuanghe uint
	e.App.DB().Table("orgs").Where("path = ?", "洪雅县/花溪镇/双河村").Select("id").Row().Scan(&shuanghe)
	if got := listed(get(t, c, fmt.Sprintf("/console/policy?org=%d", shuanghe), http.StatusOK)); len(got) != 1 || got[0] != "两天前的问题" {
		t.Fatalf("org filter: %q", got)
	}
	if got := listed(get(t, c, "/console/policy?state=all&q=老问题", http.StatusOK)); len(got) != 1 {
		t.Fatalf("search: %q", got)
	}
	get(t, c, "/console/policy?state=bad", http.StatusBadRequest)
	get(t, c, "/console/policy?org=abc", http.StatusBadRequest)

	var list struct {
		Items []struct {
			Text    string `json:"text"`
			Overdue bool   `json:"overdue"`
		} `json:"items"`
		Total   int64 `json:"total"`
		Overdue int64 `json:"overdue"`
	}
	if st, body := e.API(e.Token(consoletest.County), "GET", "/api/v1/policy/questions", nil, &list); st != http.StatusOK {
		t.Fatalf("API: %d %s", st, body)
	}
	if list.Total != 5 || list.Overdue != 3 || list.Items[0].Text != "两天前的问题" || !list.Items[0].Overdue ||
		list.Items[1].Text != "止戈镇的老问题" || list.Items[4].Overdue {
		t.Fatalf("county's API list: %+v", list)
	}
	// Pages run on across the two parts: overdue (oldest first), then the rest (newest first).
	var order []string
	for page := 1; page <= 3; page++ {
		list.Items = nil
		if st, body := e.API(e.Token(consoletest.County), "GET", fmt.Sprintf("/api/v1/policy/questions?state=all&per_page=2&page=%d", page), nil, &list); st != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, st, body)
		}
		for _, it := range list.Items {
			order = append(order, it.Text)
		}
	}
	if want := "两天前的问题,止戈镇的老问题,昨天的问题,新问题,半天前的问题,答过的老问题"; strings.Join(order, ",") != want {
		t.Fatalf("pages %q, want %s", order, want)
	}

	// A day later the 12-hour-old one is overdue too.
	e.Clock.Add(13 * time.Hour)
	c = e.Login(consoletest.Town) // the session ended meanwhile
	contains(t, "the banner a day later", get(t, c, "/console/policy", http.StatusOK), "有 3 个提问超过一天未答复")
}

// TestReplyText: the asker's message stays within MaxMessage characters however long the question.
func TestReplyText(t *testing.T) {
	for _, tc := range []struct {
		name, question, answer, want string
	}{
		{"short", "低保怎么申请？", "到村里申请。", "你之前问的：「低保怎么申请？」\n答复：到村里申请。\n——组织部"},
		{"spaces folded", "低保\n怎么  申请？", "到村里申请。", "你之前问的：「低保 怎么 申请？」\n答复：到村里申请。\n——组织部"},
		{"long question cut", strings.Repeat("问", 400), strings.Repeat("答", web.MaxAnswer), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := web.ReplyText(tc.question, tc.answer, "组织部")
			if tc.want != "" && got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
			if n := len([]rune(got)); n > web.MaxMessage || !strings.Contains(got, tc.answer) || !strings.HasSuffix(got, "——组织部") {
				t.Fatalf("%d runes: %q", n, got)
			}
			if tc.name == "long question cut" && !strings.Contains(got, "…」") {
				t.Fatalf("the cut question has no ellipsis: %q", got)
			}
		})
	}
}
