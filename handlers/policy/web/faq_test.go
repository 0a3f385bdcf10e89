package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/policy/web"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

func faqByQuestion(t *testing.T, e *consoletest.Env, q string) *models.PolicyFAQ {
	t.Helper()
	var f models.PolicyFAQ
	if err := e.App.DB().Where("question = ?", q).Take(&f).Error; err != nil {
		t.Fatalf("faq %q: %v", q, err)
	}
	return &f
}

// TestFAQEditor: an administrator adds an FAQ (other phrasings one per line, blanks and repeats
// dropped), fixes input errors without losing what he typed, edits, retires and restores it; each
// change is audited; the bot answers with it in the chat at once; a secretary only reads.
func TestFAQEditor(t *testing.T) {
	e := consoletest.New(t)
	bind(t, e, "o-wang", "王德明")
	c := e.Login(consoletest.County)
	body := get(t, c, "/console/policy/faqs", http.StatusOK)
	contains(t, "the empty FAQ list", body, "还没有常见问题", `href="/console/policy/faqs/new"`)
	contains(t, "the new FAQ form", get(t, c, "/console/policy/faqs/new", http.StatusOK), `name="question"`, `name="alternatives"`)

	const question = "村集体经济分红怎么算？"
	answer := "按村集体经济组织成员大会通过的分配方案，以股份为单位分红，每年年底公示后发放。"
	form := url.Values{"question": {"  " + question + " "}, "answer": {answer}, "source": {"县农业农村局"},
		"alternatives": {"集体经济分红\r\n\r\n集体经济分红\n 分红怎么分 \n" + question}}

	// Input errors keep the input.
	bad := url.Values{"question": {""}, "answer": {answer}, "alternatives": form["alternatives"]}
	_, body = post(t, c, "/console/policy/faqs", bad, http.StatusBadRequest)
	contains(t, "the empty question", body, "请填写问题", answer, "分红怎么分")
	long := strings.Repeat("答", web.MaxFAQAnswer+1)
	_, body = post(t, c, "/console/policy/faqs", url.Values{"question": {question}, "answer": {long}}, http.StatusBadRequest)
	contains(t, "the long answer", body, "答案最多 600 个字", question)
	longAlt := "问法\n" + strings.Repeat("长", web.MaxFAQAlternative+1)
	_, body = post(t, c, "/console/policy/faqs", url.Values{"question": {question}, "answer": {answer}, "alternatives": {longAlt}}, http.StatusBadRequest)
	contains(t, "the long phrasing", body, "其他问法第 2 行太长")

	loc, page := follow(t, c, "/console/policy/faqs", form)
	f := faqByQuestion(t, e, question)
	if loc != fmt.Sprintf("/console/policy/faqs/%d", f.ID) || f.Alternatives != "集体经济分红\n分红怎么分" || f.Answer != answer ||
		f.Source != "县农业农村局" || !f.Active || f.UpdatedBy == "" {
		t.Fatalf("faq %+v at %s", f, loc)
	}
	contains(t, "the FAQ page", page, "已添加常见问题", "集体经济分红\n分红怎么分")
	_, body = post(t, c, "/console/policy/faqs", form, http.StatusBadRequest)
	contains(t, "a twin", body, fmt.Sprintf("已经有一条相同问题的常见问题（第 %d 条）", f.ID))

	// The bot answers with it now (the console refreshed the index).
	if got := e.Send(e.OA().Text("o-wang", "问 "+question)); !strings.Contains(got, "以股份为单位分红") {
		t.Fatalf("the bot answered %q", got)
	}

	link := fmt.Sprintf("/console/policy/faqs/%d", f.ID)
	edit := url.Values{"question": {question}, "answer": {answer + "有疑问可问村会计。"}, "alternatives": {"集体经济分红"}, "source": {"县农业农村局"}}
	_, page = follow(t, c, link, edit)
	contains(t, "after editing", page, "已保存修改")
	_, page = follow(t, c, link, edit)
	contains(t, "the same again", page, "没有改动")
	_, page = follow(t, c, link+"/retire", nil)
	contains(t, "retired", page, "已停用", "恢复使用")
	if f := faqByQuestion(t, e, question); f.Active || f.Alternatives != "集体经济分红" {
		t.Fatalf("after retiring: %+v", f)
	}
	contains(t, "the retired list", get(t, c, "/console/policy/faqs?active=no", http.StatusOK), "已停用", "村集体经济分红怎么算？")
	lacks(t, "the active list", get(t, c, "/console/policy/faqs?active=yes", http.StatusOK), "村集体经济分红怎么算？")
	contains(t, "the search", get(t, c, "/console/policy/faqs?q=股份", http.StatusOK), "村集体经济分红怎么算？")
	follow(t, c, link+"/restore", nil)
	if f := faqByQuestion(t, e, question); !f.Active {
		t.Fatalf("not restored: %+v", f)
	}
	var actions []string
	for _, a := range audits(t, e, web.ObjectFAQ) {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "create,update,deactivate,activate" {
		t.Fatalf("audit actions %v", actions)
	}

	// A secretary reads, and may not change.
	s := e.Login(consoletest.Secretary)
	body = get(t, s, link, http.StatusOK)
	contains(t, "the secretary's FAQ page", body, question, "有疑问可问村会计。")
	lacks(t, "the secretary's FAQ page", body, `name="answer"`, "停用</button>")
	get(t, s, "/console/policy/faqs/new", http.StatusForbidden)
	post(t, s, link, edit, http.StatusForbidden)
	post(t, s, link+"/retire", nil, http.StatusForbidden)
	if f := faqByQuestion(t, e, question); !f.Active {
		t.Fatal("the secretary retired it")
	}
	get(t, c, "/console/policy/faqs/99999", http.StatusNotFound)
	get(t, c, "/console/policy/faqs/abc", http.StatusNotFound)
}

// TestFAQAPI: list, create (201), patch (phrasings as an array, retire), errors.
func TestFAQAPI(t *testing.T) {
	e := consoletest.New(t)
	tok := e.Token(consoletest.Town)
	type faq struct {
		ID           uint     `json:"id"`
		Question     string   `json:"question"`
		Alternatives []string `json:"alternatives"`
		Answer       string   `json:"answer"`
		Active       bool     `json:"active"`
	}
	var made faq
	st, body := e.API(tok, "POST", "/api/v1/policy/faqs", map[string]any{"question": "耕地地力补贴怎么领？",
		"alternatives": []string{"种粮补贴", "", "种粮补贴"}, "answer": "按承包地面积打到一卡通。"}, &made)
	if st != http.StatusCreated || made.ID == 0 || len(made.Alternatives) != 1 || !made.Active {
		t.Fatalf("create: %d %s", st, body)
	}
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"question": "", "answer": "x"}, "question"},
		{map[string]any{"question": "x"}, "answer"},
		{map[string]any{"question": "x", "answer": "y", "colour": "red"}, "colour"},
		{map[string]any{"question": "耕地地力补贴怎么领？", "answer": "y"}, "question"},
	} {
		st, body := e.API(tok, "POST", "/api/v1/policy/faqs", tc.body, nil)
		if st != http.StatusBadRequest || !strings.Contains(body, `"field":"`+tc.field+`"`) {
			t.Errorf("POST %v: %d %s", tc.body, st, body)
		}
	}
	var patched faq
	path := fmt.Sprintf("/api/v1/policy/faqs/%d", made.ID)
	if st, body := e.API(tok, "PATCH", path, map[string]any{"alternatives": []string{"地力补贴", "种粮补贴"}, "active": false}, &patched); st != http.StatusOK ||
		patched.Active || len(patched.Alternatives) != 2 || patched.Answer != made.Answer {
		t.Fatalf("patch: %d %s", st, body)
	}
	if st, _ := e.API(tok, "PATCH", "/api/v1/policy/faqs/99999", map[string]any{"active": true}, nil); st != http.StatusNotFound {
		t.Fatalf("patch a missing FAQ: %d", st)
	}
	if st, _ := e.API(e.Token(consoletest.Secretary), "PATCH", path, map[string]any{"active": true}, nil); st != http.StatusForbidden {
		t.Fatalf("patch as a secretary: %d", st)
	}
	var list struct {
		Items []faq `json:"items"`
		Total int64 `json:"total"`
	}
	if st, body := e.API(e.Token(consoletest.Secretary), "GET", "/api/v1/policy/faqs?active=no", nil, &list); st != http.StatusOK || list.Total != 1 || list.Items[0].ID != made.ID {
		t.Fatalf("list: %d %s", st, body)
	}
	if st, _ := e.API(tok, "GET", "/api/v1/policy/faqs?active=maybe", nil, nil); st != http.StatusBadRequest {
		t.Fatalf("a bad filter: %d", st)
	}
	if n := len(audits(t, e, web.ObjectFAQ)); n != 2 {
		t.Fatalf("%d audit entries for a create and a patch", n)
	}
}

// TestQuestionFromTheChat: a question the knowledge base cannot answer, sent through the webhook,
// lands in the inbox of the asker's town; the administrator's answer reaches him; 先修改再保存 fills
// the FAQ form with the question and the answer.
func TestQuestionFromTheChat(t *testing.T) {
	e := consoletest.New(t)
	bind(t, e, "o-liu", "刘桂兰")
	const question = "问 我家的狗走丢了，村里能帮忙广播寻找吗？"
	reply := e.Send(e.OA().Text("o-liu", question))
	var q models.PolicyQuestion
	if err := e.App.DB().Where("open_id = ? AND state = ?", "o-liu", models.AskOpen).Take(&q).Error; err != nil {
		t.Fatalf("the chat did not put the question in the inbox (the bot said %q): %v", reply, err)
	}
	c := e.Login(consoletest.Town)
	body := get(t, c, "/console/policy", http.StatusOK)
	if got := listed(body); len(got) != 1 || !strings.Contains(got[0], "狗走丢了") {
		t.Fatalf("inbox %q", got)
	}
	follow(t, c, fmt.Sprintf("/console/policy/questions/%d/reply", q.ID), url.Values{"answer": {"可以，请联系村委会广播。"}})
	texts := e.Fake.TextsTo("o-liu")
	if len(texts) == 0 || !strings.HasPrefix(texts[len(texts)-1], "你之前问的：「") || !strings.Contains(texts[len(texts)-1], "答复：可以，请联系村委会广播。\n——组织部") {
		t.Fatalf("texts %q", texts)
	}
	body = get(t, c, fmt.Sprintf("/console/policy/faqs/new?from=%d", q.ID), http.StatusOK)
	contains(t, "the prefilled form", body, "狗走丢了", "可以，请联系村委会广播。", fmt.Sprintf(`name="from" value="%d"`, q.ID))
}
