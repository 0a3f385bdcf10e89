package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The demo county: 洪雅县/花溪镇/郭沟村 has 张国华 (书记), 李秀英, 王德明 and 刘桂兰; 洪雅县/止戈镇/五龙村
// has 郭晓燕 and others. Console logins: county (洪雅县), huaxi (花溪镇), guogou (郭沟村's secretary).

func get(t *testing.T, c *consoletest.Client, path string, want int) string {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.2000s", path, res.StatusCode, want, body)
	}
	return body
}

func post(t *testing.T, c *consoletest.Client, path string, v url.Values, want int) (*http.Response, string) {
	t.Helper()
	res, body := c.PostForm(path, v)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d\n%.2000s", path, res.StatusCode, want, body)
	}
	return res, body
}

// follow posts a form that redirects (303) and returns the page it leads to, with its flash.
func follow(t *testing.T, c *consoletest.Client, path string, v url.Values) (string, string) {
	t.Helper()
	res, _ := post(t, c, path, v, http.StatusSeeOther)
	loc := res.Header.Get("Location")
	return loc, get(t, c, loc, http.StatusOK)
}

// member is a demo member by name, with his org.
func member(t *testing.T, e *consoletest.Env, name string) *models.Member {
	t.Helper()
	var m models.Member
	if err := e.App.DB().Preload("Org").Where("name = ?", name).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return &m
}

// ask records a question the bot could not answer, as the chat does: state open, the asker's channel
// and openid, his org, asked `ago` before the server's now.
func ask(t *testing.T, e *consoletest.Env, name, openID, text string, ago time.Duration) *models.PolicyQuestion {
	t.Helper()
	m := member(t, e, name)
	q := &models.PolicyQuestion{MemberID: m.ID, OrgID: m.OrgID, OrgPath: m.Org.Path, Channel: "oa", OpenID: openID,
		Text: text, State: models.AskOpen, Score: 0.1, AskedAt: e.Clock.Now().Add(-ago)}
	if len(text)%2 == 0 { // writers may keep UTC or the local zone: the inbox orders instants either way
		q.AskedAt = q.AskedAt.UTC()
	}
	if err := e.App.DB().Create(q).Error; err != nil {
		t.Fatal(err)
	}
	return q
}

func reload(t *testing.T, e *consoletest.Env, id uint) *models.PolicyQuestion {
	t.Helper()
	var q models.PolicyQuestion
	if err := e.App.DB().Take(&q, id).Error; err != nil {
		t.Fatal(err)
	}
	return &q
}

func audits(t *testing.T, e *consoletest.Env, object string) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	if err := e.App.DB().Where("object = ?", object).Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

var inboxRowRe = regexp.MustCompile(`<a href="/console/policy/questions/(\d+)">([^<]+)</a>`)

// listed are the questions (as the inbox shows them) in order.
func listed(body string) []string {
	var out []string
	for _, m := range inboxRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2])
	}
	return out
}

func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not show %q\n%.3000s", what, w, body)
		}
	}
}

func lacks(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s shows %q", what, b)
		}
	}
}

// bind binds openID to the demo member and waits until his message opened the 48-hour window.
func bind(t *testing.T, e *consoletest.Env, openID, name string) {
	t.Helper()
	e.BindSeen(openID, name)
}
