package wxfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

type client struct {
	t   *testing.T
	url string
}

func start(t *testing.T) (*Server, *client) {
	t.Helper()
	f := New()
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, &client{t, ts.URL}
}

// post sends body to path and returns the HTTP status and the decoded JSON answer.
func (c *client) post(path string, q url.Values, body any) (int, map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(c.url+path+"?"+q.Encode(), "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (c *client) get(path string, q url.Values) (int, map[string]any) {
	c.t.Helper()
	resp, err := http.Get(c.url + path + "?" + q.Encode())
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func (c *client) token(appID, secret string) map[string]any {
	c.t.Helper()
	_, m := c.post(APIStableToken, nil, map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})
	return m
}

func text(to, content string) map[string]any {
	return map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": content}}
}

func TestTokens(t *testing.T) {
	f, c := start(t)
	f.AddApp("wxa", "s1")

	if got := errcode(c.token("wxa", "wrong")); got != 40125 {
		t.Fatalf("wrong secret: errcode %d, want 40125", got)
	}
	if got := errcode(c.token("wxz", "s1")); got != 40013 {
		t.Fatalf("unknown app: errcode %d, want 40013", got)
	}
	m := c.token("wxa", "s1")
	tok, _ := m["access_token"].(string)
	if tok == "" || m["expires_in"].(float64) != 7200 {
		t.Fatalf("token answer %v", m)
	}
	if again := c.token("wxa", "s1"); again["access_token"] != tok {
		t.Fatalf("stable token changed without force_refresh")
	}
	if n := f.TokenFetches("wxa"); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	q := url.Values{"access_token": {tok}}
	if _, m := c.post(APICustomSend, q, text("o1", "hi")); errcode(m) != 0 {
		t.Fatalf("send: %v", m)
	}
	if _, m := c.post(APICustomSend, url.Values{"access_token": {"nope"}}, text("o1", "hi")); errcode(m) != 40001 {
		t.Fatalf("unknown token: %v", m)
	}
	f.InvalidateTokens()
	if _, m := c.post(APICustomSend, q, text("o1", "hi")); errcode(m) != 40001 {
		t.Fatalf("invalidated token: %v", m)
	}
	if fresh := c.token("wxa", "s1"); fresh["access_token"] == tok {
		t.Fatalf("no new token after InvalidateTokens")
	}
	if got := f.TextsTo("o1"); len(got) != 1 || got[0] != "hi" {
		t.Fatalf("TextsTo = %q", got)
	}
}

func TestFaultsAndUsers(t *testing.T) {
	f, c := start(t)
	tok := c.token("wxa", "s")["access_token"].(string)
	q := url.Values{"access_token": {tok}}

	f.Fail(APICustomSend, 45009, 2)
	for i, want := range []int{45009, 45009, 0} {
		if _, m := c.post(APICustomSend, q, text("o1", "x")); errcode(m) != want {
			t.Fatalf("call %d: errcode %d, want %d", i, errcode(m), want)
		}
	}
	f.SetUserError("gone", 43004)
	if _, m := c.post(APICustomSend, q, text("gone", "x")); errcode(m) != 43004 {
		t.Fatalf("unsubscribed user: %v", m)
	}
	f.Down(true)
	if st, _ := c.post(APICustomSend, q, text("o1", "x")); st != http.StatusServiceUnavailable {
		t.Fatalf("down: status %d", st)
	}
	f.Down(false)
	if st, m := c.post("/cgi-bin/nothing", q, nil); st != 404 || errcode(m) != 40066 {
		t.Fatalf("unknown path: %d %v", st, m)
	}
	if n := len(f.CallsTo(APICustomSend)); n != 5 {
		t.Fatalf("recorded %d custom sends, want 5", n)
	}

	f.Delay(APICustomSend, 300*time.Millisecond)
	hc := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := hc.Post(c.url+APICustomSend+"?"+q.Encode(), "application/json", nil); err == nil {
		t.Fatal("delayed call did not time out")
	}
	f.Reset()
	if len(f.Calls()) != 0 {
		t.Fatal("Reset kept calls")
	}
}

func TestAPIs(t *testing.T) {
	f, c := start(t)
	tok := c.token("wxa", "s")["access_token"].(string)
	q := url.Values{"access_token": {tok}}

	_, m := c.post(APITemplateSend, q, map[string]any{"touser": "o1", "template_id": "T", "data": map[string]any{"k": map[string]string{"value": "v"}}})
	if errcode(m) != 0 || m["msgid"].(float64) == 0 {
		t.Fatalf("template: %v", m)
	}
	_, m = c.post(APIQRCodeCreate, q, map[string]any{"expire_seconds": 600, "action_name": "QR_STR_SCENE", "action_info": map[string]any{"scene": map[string]string{"scene_str": "bind:42"}}})
	if scene, _ := f.QRScene(m["ticket"].(string)); scene != "bind:42" || m["expire_seconds"].(float64) != 600 || m["url"] == "" {
		t.Fatalf("qrcode: %v", m)
	}
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = "o" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": ids[:50], "tagid": 7}); errcode(m) != 45159 {
		t.Fatalf("a tag never made: %v", m)
	}
	_, m = c.post(APITagsCreate, q, map[string]any{"tag": map[string]string{"name": "notice"}})
	tag := m["tag"].(map[string]any)["id"]
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": ids, "tagid": tag}); errcode(m) != 40032 {
		t.Fatalf("51 openids: %v", m)
	}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": ids[:50], "tagid": tag}); errcode(m) != 0 {
		t.Fatalf("50 openids: %v", m)
	}
	mass := map[string]any{"filter": map[string]any{"tag_id": tag}, "msgtype": "text", "text": map[string]string{"content": "notice"}, "clientmsgid": "b1"}
	if _, m = c.post(APIMassSendAll, q, mass); errcode(m) != 0 || m["msg_id"] == nil {
		t.Fatalf("sendall: %v", m)
	}
	if _, m = c.post(APIMassSendAll, q, mass); errcode(m) != 45065 {
		t.Fatalf("same clientmsgid: %v", m)
	}

	mp := url.Values{"appid": {"wxm"}, "secret": {"s"}, "js_code": {"c1"}, "grant_type": {"authorization_code"}}
	if _, m = c.get(APICode2Session, mp); m["openid"] != "mp_c1" || m["session_key"] == "" {
		t.Fatalf("jscode2session: %v", m)
	}
	if _, m = c.get(APICode2Session, mp); errcode(m) != 40163 {
		t.Fatalf("code reused: %v", m)
	}
	mp.Set("js_code", "bad")
	if _, m = c.get(APICode2Session, mp); errcode(m) != 40029 {
		t.Fatalf("bad code: %v", m)
	}

	// The simulator's view: messages to one user, newer than since.
	c.post(APICustomSend, q, text(ids[0], "hello"))
	var got struct {
		Messages []Message `json:"messages"`
		Next     int64     `json:"next"`
	}
	resp, err := http.Get(c.url + "/_fake/calls?openid=" + ids[0])
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if len(got.Messages) != 2 || got.Messages[0].Text != "notice" || got.Messages[1].Text != "hello" {
		t.Fatalf("/_fake/calls = %+v", got)
	}
	if msgs := f.MessagesTo(ids[0], got.Next, false); len(msgs) != 0 {
		t.Fatalf("since=next returned %d messages", len(msgs))
	}
}
