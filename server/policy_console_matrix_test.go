package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The policy console's part of the scope matrix (the lines are in TestScopeMatrix, under the policy
// console's comment). Questions belong to the asker's org: a question asked in the outside org (its
// text names the org, its asker is the outside member) must never show, and answering it or turning
// it into an FAQ is refused with nothing changed and nothing sent. FAQs and documents are one per
// installation like the question bank: every viewer reads them; a secretary's changes are refused.

const policyOutsideReply = "外面的答复"

// policyOutside is the id of a replied question asked by the outside member in the outside org
// (made once).
func policyOutside(t *testing.T, e *matrixEnv, o outsider) string {
	t.Helper()
	var m models.Member
	if err := e.App.DB().Preload("Org").Take(&m, o.member).Error; err != nil {
		t.Fatal(err)
	}
	q := models.PolicyQuestion{MemberID: m.ID, OrgID: m.OrgID, OrgPath: m.Org.Path, Channel: "oa", OpenID: "outside-" + o.member,
		Text: o.orgName + "的低保政策提问", State: models.AskReplied, Reply: policyOutsideReply, RepliedBy: "x",
		AskedAt: e.Clock.Now().UTC().Add(-48 * 3600e9)}
	if err := e.App.DB().Where("text = ?", q.Text).FirstOrCreate(&q).Error; err != nil {
		t.Fatal(err)
	}
	return e.id(t, "policy_questions", "text = ?", q.Text)
}

// policyOutsideUnchanged: the outside question still has its answer, no FAQ was made of it and
// nothing was sent to its asker.
func policyOutsideUnchanged(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	var q models.PolicyQuestion
	e.App.DB().Take(&q, policyOutside(t, e, o))
	if q.Reply != policyOutsideReply || q.State != models.AskReplied {
		t.Errorf("the outside question changed: %+v", q)
	}
	var n int64
	e.App.DB().Model(&models.PolicyFAQ{}).Where("question = ?", q.Text).Count(&n)
	if n > 0 {
		t.Errorf("%s made an FAQ of a question outside his scope", o.user)
	}
	if got := e.Fake.MessagesTo(q.OpenID, 0, true); len(got) > 0 {
		t.Errorf("%s sent something to the outside asker: %+v", o.user, got)
	}
}

// policyFAQ is the id of an FAQ (made once).
func policyFAQ(t *testing.T, e *matrixEnv) string {
	t.Helper()
	f := models.PolicyFAQ{Question: "矩阵里的常见问题？", Answer: "矩阵里的答案。", Active: true}
	if err := e.App.DB().Where("question = ?", f.Question).FirstOrCreate(&f).Error; err != nil {
		t.Fatal(err)
	}
	return e.id(t, "policy_faqs", "question = ?", f.Question)
}

// policyDoc is the id of a document with a passage (made once).
func policyDoc(t *testing.T, e *matrixEnv) string {
	t.Helper()
	d := models.PolicyDoc{Name: "matrix.txt", Title: "矩阵文件", Hash: "x", Passages: 1}
	if err := e.App.DB().Where("name = ?", d.Name).FirstOrCreate(&d).Error; err != nil {
		t.Fatal(err)
	}
	e.App.DB().Where("doc_id = ?", d.ID).FirstOrCreate(&models.PolicyPassage{DocID: d.ID, Seq: 1, Text: "矩阵段落。"})
	return e.id(t, "policy_docs", "name = ?", d.Name)
}

// The matrix's own checks, as TestScopeMatrix defines them.
type (
	matrixCheck  = func(t *testing.T, c *consoletest.Client, token string, o outsider)
	matrixNoLeak = func(t *testing.T, what string, status int, body string, o outsider)
	matrixDenied = func(t *testing.T, what string, status int, body string)
)

// policyList: a list (page or API) after the outside question exists shows nothing outside, and
// asking for the outside org is refused.
func policyList(e *matrixEnv, path string, noLeak matrixNoLeak, denied matrixDenied) matrixCheck {
	return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		policyOutside(t, e, o)
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		var status int
		var body string
		get := func(p string) {
			if strings.HasPrefix(p, "/api/") {
				status, body = e.API(tok, "GET", p, nil, nil)
				return
			}
			res, b := c.Get(p)
			status, body = res.StatusCode, b
		}
		for _, state := range []string{"open", "replied", "all"} {
			get(path + sep + "state=" + state + "&per_page=500")
			noLeak(t, "GET "+path+" state="+state, status, body, o)
		}
		get(path + sep + "org=" + o.org)
		denied(t, "GET "+path+"?org=<outside>", status, body)
	}
}

// policyAnswerOut: answering the outside question (page or API) is refused and changes nothing.
func policyAnswerOut(e *matrixEnv, path string, denied matrixDenied) matrixCheck {
	return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		p := strings.Replace(path, ":id", policyOutside(t, e, o), 1)
		var status int
		var body string
		if strings.HasPrefix(p, "/api/") {
			status, body = e.API(tok, "POST", p, map[string]any{"answer": "越界答复"}, nil)
		} else {
			res, b := c.PostForm(p, url.Values{"answer": {"越界答复"}})
			status, body = res.StatusCode, b
		}
		denied(t, "POST "+p, status, body)
		policyOutsideUnchanged(t, e, o)
	}
}

// policyGetOut: the outside question's page is refused.
func policyGetOut(e *matrixEnv, denied matrixDenied) matrixCheck {
	return func(t *testing.T, c *consoletest.Client, _ string, o outsider) {
		p := "/console/policy/questions/" + policyOutside(t, e, o)
		res, body := c.Get(p)
		denied(t, "GET "+p, res.StatusCode, body)
	}
}

// policyChange: FAQs and documents are changed by administrators only; a secretary gets 403 and
// nothing changes (administrators' changes are tested in handlers/policy/web).
func policyChange(e *matrixEnv, method, path string) matrixCheck {
	return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
		if o.admin {
			return
		}
		p := strings.Replace(path, ":id", policyFAQ(t, e), 1)
		var status int
		var body string
		switch {
		case strings.HasPrefix(p, "/api/"):
			status, body = e.API(tok, method, p, map[string]any{"question": "越界问答", "answer": "越界", "active": false}, nil)
		case strings.HasSuffix(p, "/docs"):
			res, b := c.PostFile(p, nil, "file", "越界.txt", []byte("越界文件\n越界内容。\n"))
			status, body = res.StatusCode, b
		default:
			res, b := c.PostForm(p, url.Values{"question": {"越界问答"}, "answer": {"越界"}})
			status, body = res.StatusCode, b
		}
		if status != http.StatusForbidden {
			t.Errorf("%s %s as %s: %d, want 403\n%.300s", method, p, o.user, status, body)
		}
		var n int64
		e.App.DB().Model(&models.PolicyFAQ{}).Where("question = ? OR active = ?", "越界问答", false).Count(&n)
		if n > 0 {
			t.Errorf("%s %s as %s changed the FAQs", method, p, o.user)
		}
		e.App.DB().Model(&models.PolicyDoc{}).Where("name = ?", "越界.txt").Count(&n)
		if n > 0 {
			t.Errorf("%s %s as %s imported a document", method, p, o.user)
		}
	}
}
