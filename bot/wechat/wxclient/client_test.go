package wxclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxcrypt"
	"github.com/yanzhen/yanzhen/bot/wechat/wxxml"
)

const (
	testAppID = "wx2c2769f8efd9abc2"
	testToken = "spamtest"
	testKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testGH    = "gh_3ad31d3c8d4b"
	testUser  = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
)

var fixedNow = time.Unix(1409735669, 0)

// fakeWebhook is a minimal webhook built from wxcrypt and wxxml: it checks what WeChat's servers
// guarantee, records the message, and answers "echo:" + the text (or the event) the way WeChat wants.
type fakeWebhook struct {
	cipher *wxcrypt.Cipher

	// How to misbehave.
	tamperReply   bool   // corrupt the reply's MsgSignature
	replyAppID    string // encrypt the reply for another app
	plainReply    bool   // answer in plaintext even in aes modes
	encryptAlways bool   // answer encrypted even in plaintext mode

	mu    sync.Mutex
	got   []bot.Message
	plain [][]byte
}

func newFakeWebhook(t *testing.T) (*fakeWebhook, *httptest.Server) {
	c, err := wxcrypt.New(testAppID, testKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeWebhook{cipher: c}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeWebhook) last() (bot.Message, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		return bot.Message{}, nil
	}
	return f.got[len(f.got)-1], f.plain[len(f.plain)-1]
}

func (f *fakeWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if !wxcrypt.Equal(q.Get("signature"), wxcrypt.Signature(testToken, ts, nonce)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < fixedNow.Unix()-300 || sec > fixedNow.Unix()+300 {
		http.Error(w, "stale", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodGet {
		io.WriteString(w, q.Get("echostr"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	isJSON := r.Header.Get("Content-Type") == "application/json"
	aes := q.Get("encrypt_type") == "aes"
	if aes {
		var enc string
		if isJSON {
			enc, _, err = wxxml.ParseJSONEnvelope(body)
		} else {
			enc, _, err = wxxml.ParseEnvelope(body)
		}
		if err != nil {
			http.Error(w, "bad envelope", http.StatusBadRequest)
			return
		}
		if !wxcrypt.Equal(q.Get("msg_signature"), wxcrypt.Signature(testToken, ts, nonce, enc)) {
			http.Error(w, "bad msg_signature", http.StatusUnauthorized)
			return
		}
		if body, err = f.cipher.Decrypt(enc); err != nil {
			http.Error(w, "cannot decrypt", http.StatusUnauthorized)
			return
		}
	}
	var m bot.Message
	if isJSON {
		err = wxxml.ParseJSONMessage(body, &m)
	} else {
		err = wxxml.ParseMessage(body, &m)
	}
	if err != nil || q.Get("openid") != m.OpenID {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.got, f.plain = append(f.got, m), append(f.plain, body)
	f.mu.Unlock()

	if isJSON || m.Event == bot.EventUnsubscribe { // the mini-program has no passive reply
		io.WriteString(w, "success")
		return
	}
	text := "echo:" + m.Text
	if m.Kind == bot.KindEvent {
		text = "event:" + m.Event + ":" + m.EventKey
	}
	out := wxxml.AppendReply(nil, m.OpenID, m.AppUser, fixedNow.Unix(), bot.Text(text))
	if (aes && !f.plainReply) || f.encryptAlways {
		c := f.cipher
		if f.replyAppID != "" {
			c, _ = wxcrypt.New(f.replyAppID, testKey)
		}
		enc, _ := c.Encrypt(out)
		sig := wxcrypt.Signature(testToken, "1409735670", "777", enc)
		if f.tamperReply {
			sig = corrupt(sig)
		}
		out = wxxml.AppendEncryptedReply(nil, enc, sig, 1409735670, "777")
	}
	w.Write(out)
}

func newClient(t *testing.T, url string, mode Mode, format Format) *Client {
	t.Helper()
	c, err := New(Config{
		URL: url, AppID: testAppID, Token: testToken, AESKey: testKey, AppUser: testGH,
		Mode: mode, Format: format, Now: func() time.Time { return fixedNow }, MsgIDs: NewSequence(6054768590064713728),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	f, srv := newFakeWebhook(t)
	for _, mode := range []Mode{Plain, Compat, Safe} {
		for _, format := range []Format{XML, JSON} {
			c := newClient(t, srv.URL+"/wechat/oa", mode, format)
			name := mode.String() + map[Format]string{XML: "/xml", JSON: "/json"}[format]
			base := bot.Message{AppUser: testGH, OpenID: testUser, CreateTime: fixedNow.Unix()}
			cases := []struct {
				msg   *Message
				want  bot.Message
				reply string
			}{
				{c.Text(testUser, "帮助 ]]> <&>"), bot.Message{Kind: bot.KindText, Text: "帮助 ]]> <&>"}, "echo:帮助 ]]> <&>"},
				{c.Location(testUser, 23.134521, 113.358803, 20, "郭沟村"), bot.Message{Kind: bot.KindLocation, Lat: 23.134521, Lng: 113.358803, Precision: 20, Label: "郭沟村"}, "echo:"},
				{c.Subscribe(testUser, "bind:AB12"), bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: "bind:AB12"}, "event:subscribe:bind:AB12"},
				{c.Subscribe(testUser, ""), bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe}, "event:subscribe:"},
				{c.Unsubscribe(testUser), bot.Message{Kind: bot.KindEvent, Event: bot.EventUnsubscribe}, ""},
				{c.Scan(testUser, "bind:CD34", ""), bot.Message{Kind: bot.KindEvent, Event: bot.EventScan, EventKey: "bind:CD34"}, "event:SCAN:bind:CD34"},
				{c.LocationEvent(testUser, 23.137466, 113.352425, 119.38504), bot.Message{Kind: bot.KindEvent, Event: bot.EventLocation, Lat: 23.137466, Lng: 113.352425, Precision: 119.38504}, "event:LOCATION:"},
				{c.Click(testUser, "CHECK_IN"), bot.Message{Kind: bot.KindEvent, Event: bot.EventClick, EventKey: "CHECK_IN"}, "event:CLICK:CHECK_IN"},
				{c.View(testUser, "https://example.com/?a=1&b=2"), bot.Message{Kind: bot.KindEvent, Event: bot.EventView, EventKey: "https://example.com/?a=1&b=2"}, "event:VIEW:https://example.com/?a=1&b=2"},
			}
			for _, tc := range cases {
				res, err := c.Send(context.Background(), tc.msg)
				if err != nil {
					t.Fatalf("%s %s: %v", name, tc.msg.MsgType, err)
				}
				if res.Status != http.StatusOK {
					t.Fatalf("%s %s: status %d: %s", name, tc.msg.MsgType, res.Status, res.Response)
				}
				want := tc.want
				want.AppUser, want.OpenID, want.CreateTime, want.MsgID = base.AppUser, base.OpenID, base.CreateTime, tc.msg.MsgID
				got, plain := f.last()
				if got != want {
					t.Errorf("%s: the webhook got\n%+v\nwant\n%+v", name, got, want)
				}
				if string(plain) != string(res.Request.Plain) {
					t.Errorf("%s: the webhook decrypted %q, the client sent %q", name, plain, res.Request.Plain)
				}
				switch {
				case format == JSON || tc.reply == "":
					if res.Reply != nil || string(res.Response) != "success" {
						t.Errorf("%s %s: reply %+v, response %q, want success", name, tc.msg.Event, res.Reply, res.Response)
					}
				case res.Reply == nil:
					t.Errorf("%s %s: no reply (response %q)", name, tc.msg.MsgType, res.Response)
				default:
					p := res.Reply
					if p.MsgType != "text" || p.Content != tc.reply || p.ToUserName != testUser || p.FromUserName != testGH {
						t.Errorf("%s: reply %+v, want text %q", name, p, tc.reply)
					}
				}
			}
		}
	}
}

// The XML is WeChat's, field for field, as in the official documentation's samples.
func TestMessageXML(t *testing.T) {
	c := newClient(t, "http://x", Plain, XML)
	head := `<xml><ToUserName><![CDATA[gh_3ad31d3c8d4b]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName><CreateTime>1409735669</CreateTime>`
	for _, tt := range []struct {
		msg  *Message
		want string
	}{
		{c.Text("oU", "this is a test"), `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>6054768590064713728</MsgId></xml>`},
		{c.Location("oU", 23.134521, 113.358803, 20, "位置信息"), `<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>6054768590064713729</MsgId></xml>`},
		{c.Subscribe("oU", ""), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`},
		{c.Subscribe("oU", "123123"), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[` + ticket + `]]></Ticket></xml>`},
		{c.Unsubscribe("oU"), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event></xml>`},
		{c.Scan("oU", "SCENE_VALUE", "TICKET"), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>`},
		{c.LocationEvent("oU", 23.137466, 113.352425, 119.385040), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>`},
		{c.Click("oU", "EVENTKEY"), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[EVENTKEY]]></EventKey></xml>`},
		{c.View("oU", "www.qq.com"), `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[www.qq.com]]></EventKey></xml>`},
	} {
		r, err := c.Encode(tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(r.Body); got != head+tt.want {
			t.Errorf("got\n%s\nwant\n%s", got, head+tt.want)
		}
	}
	m := c.Text("oU", "x")
	m.MsgType, m.Content, m.Extra = "image", "", []Field{{"PicUrl", "http://p"}, {"MediaId", "m1"}}
	r, _ := c.Encode(m)
	if want := head + `<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://p]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>6054768590064713730</MsgId></xml>`; string(r.Body) != want {
		t.Errorf("image: got\n%s\nwant\n%s", r.Body, want)
	}
}

func TestMessageJSON(t *testing.T) {
	c := newClient(t, "http://x", Plain, JSON)
	r, err := c.Encode(c.Text("oU", "<hi>"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ToUserName":"gh_3ad31d3c8d4b","FromUserName":"oU","CreateTime":1409735669,"MsgType":"text","Content":"\u003chi\u003e","MsgId":6054768590064713728}`
	if string(r.Body) != want || !r.JSON {
		t.Errorf("got\n%s\nwant\n%s", r.Body, want)
	}
	m := c.Click("oU", "K")
	m.Extra = []Field{{"SessionFrom", "s"}}
	r, _ = c.Encode(m)
	want = `{"ToUserName":"gh_3ad31d3c8d4b","FromUserName":"oU","CreateTime":1409735669,"MsgType":"event","Event":"CLICK","EventKey":"K","SessionFrom":"s"}`
	if string(r.Body) != want {
		t.Errorf("got\n%s\nwant\n%s", r.Body, want)
	}
}

// The query and the body of each mode are WeChat's.
func TestEncodeModes(t *testing.T) {
	cipher, _ := wxcrypt.New(testAppID, testKey)
	for _, tt := range []struct {
		mode   Mode
		format Format
	}{{Plain, XML}, {Compat, XML}, {Safe, XML}, {Compat, JSON}, {Safe, JSON}} {
		c := newClient(t, "http://x", tt.mode, tt.format)
		r, err := c.Encode(c.Text(testUser, "帮助"), WithNonce("1320562132"))
		if err != nil {
			t.Fatal(err)
		}
		q, err := url.ParseQuery(r.Query)
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{"signature", "timestamp", "nonce", "openid"}
		if tt.mode != Plain {
			keys = append(keys, "encrypt_type", "msg_signature")
		}
		if len(q) != len(keys) {
			t.Errorf("%v: query %q, want the keys %v", tt.mode, r.Query, keys)
		}
		if q.Get("timestamp") != "1409735669" || q.Get("nonce") != "1320562132" || q.Get("openid") != testUser ||
			q.Get("signature") != wxcrypt.Signature(testToken, "1409735669", "1320562132") {
			t.Errorf("%v: query %q", tt.mode, r.Query)
		}
		if !strings.HasPrefix(r.Query, "signature=") {
			t.Errorf("%v: query %q does not start as WeChat's", tt.mode, r.Query)
		}
		if tt.mode == Plain {
			if string(r.Body) != string(r.Plain) || r.Encrypt != "" {
				t.Errorf("plain: body %q", r.Body)
			}
			continue
		}
		if q.Get("encrypt_type") != "aes" || q.Get("msg_signature") != wxcrypt.Signature(testToken, "1409735669", "1320562132", r.Encrypt) {
			t.Errorf("%v: query %q", tt.mode, r.Query)
		}
		if plain, err := cipher.Decrypt(r.Encrypt); err != nil || string(plain) != string(r.Plain) {
			t.Errorf("%v: Encrypt decrypts to %q, %v", tt.mode, plain, err)
		}
		var enc string
		if tt.format == JSON {
			enc, _, err = wxxml.ParseJSONEnvelope(r.Body)
		} else {
			enc, _, err = wxxml.ParseEnvelope(r.Body)
		}
		if err != nil || enc != r.Encrypt {
			t.Errorf("%v: envelope %q: %v", tt.mode, r.Body, err)
		}
		hasPlain := strings.Contains(string(r.Body), "帮助")
		if hasPlain != (tt.mode == Compat) {
			t.Errorf("%v: body %q: plaintext fields present = %v", tt.mode, r.Body, hasPlain)
		}
		if tt.mode == Safe && tt.format == XML {
			want := "<xml><ToUserName><![CDATA[gh_3ad31d3c8d4b]]></ToUserName><Encrypt><![CDATA[" + r.Encrypt + "]]></Encrypt></xml>"
			if string(r.Body) != want {
				t.Errorf("safe body %q", r.Body)
			}
		}
		if tt.mode == Safe && tt.format == JSON {
			want := `{"ToUserName":"gh_3ad31d3c8d4b","Encrypt":"` + r.Encrypt + `"}`
			if string(r.Body) != want {
				t.Errorf("safe JSON body %q", r.Body)
			}
		}
	}
}

func TestBadReplies(t *testing.T) {
	f, srv := newFakeWebhook(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		mode  Mode
		setup func()
		want  error
	}{
		{"tampered signature", Safe, func() { f.tamperReply = true }, ErrReplySignature},
		{"tampered signature, compat", Compat, func() { f.tamperReply = true }, ErrReplySignature},
		{"another appid", Safe, func() { f.replyAppID = "wxsomeoneelse00000" }, ErrReply},
		{"plaintext reply in safe mode", Safe, func() { f.plainReply = true }, ErrReply},
		{"encrypted reply in plain mode", Plain, func() { f.encryptAlways = true }, ErrReply},
		{"plaintext reply in compat mode is fine", Compat, func() { f.plainReply = true }, nil},
	} {
		f.tamperReply, f.replyAppID, f.plainReply, f.encryptAlways = false, "", false, false
		tt.setup()
		c := newClient(t, srv.URL, tt.mode, XML)
		res, err := c.Send(ctx, c.Text(testUser, "x"))
		if !errors.Is(err, tt.want) || res == nil {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if tt.want != nil && res.Reply != nil {
			t.Errorf("%s: a bad reply was decoded: %+v", tt.name, res.Reply)
		}
	}
}

func TestBadRequests(t *testing.T) {
	_, srv := newFakeWebhook(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		mode Mode
		opts []Option
		now  time.Time
		want int
	}{
		{"good", Safe, nil, fixedNow, http.StatusOK},
		{"bad signature", Plain, []Option{WithBadSignature()}, fixedNow, http.StatusUnauthorized},
		{"bad msg_signature", Safe, []Option{WithBadMsgSignature()}, fixedNow, http.StatusUnauthorized},
		{"stale clock", Safe, nil, fixedNow.Add(-time.Hour), http.StatusForbidden},
		{"stale timestamp", Plain, []Option{WithTime(fixedNow.Add(time.Hour))}, fixedNow, http.StatusForbidden},
		{"junk body", Plain, []Option{WithBody([]byte("<xml><Content>"))}, fixedNow, http.StatusBadRequest},
		{"junk body, safe", Safe, []Option{WithBody([]byte("{}"))}, fixedNow, http.StatusBadRequest},
		{"junk plaintext, safe", Safe, []Option{WithPlain([]byte("not xml"))}, fixedNow, http.StatusBadRequest},
		{"junk plaintext, compat", Compat, []Option{WithPlain([]byte("not xml"))}, fixedNow, http.StatusBadRequest},
		{"another appid", Safe, []Option{WithAppID("wxsomeoneelse00000")}, fixedNow, http.StatusUnauthorized},
	} {
		c := newClient(t, srv.URL, tt.mode, XML)
		c.Now = func() time.Time { return tt.now }
		res, err := c.Send(ctx, c.Text(testUser, "x"), tt.opts...)
		if err != nil || res.Status != tt.want {
			t.Errorf("%s: status %v, err %v, want %d", tt.name, res, err, tt.want)
		}
	}
}

func TestVerify(t *testing.T) {
	_, srv := newFakeWebhook(t)
	c := newClient(t, srv.URL+"/wechat/oa?x=1", Plain, XML)
	body, status, err := c.Verify(context.Background(), "4512371237456")
	if err != nil || status != 200 || body != "4512371237456" {
		t.Errorf("Verify = %q, %d, %v", body, status, err)
	}
	if _, status, _ := c.Verify(context.Background(), "1", WithBadSignature()); status != http.StatusUnauthorized {
		t.Errorf("bad signature: status %d", status)
	}
}

func TestNew(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{URL: "http://x", Mode: Safe},
		{URL: "http://x", Mode: Compat, AESKey: "short"},
		{URL: "http://x", Mode: 7},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{URL: "http://x", Token: "t"}); err != nil {
		t.Errorf("plain mode without a key: %v", err)
	}
	for _, s := range []string{"plain", "compat", "safe"} {
		if m, err := ParseMode(s); err != nil || m.String() != s {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
}

// A load generator shares one client between goroutines and reuses a Request per goroutine.
func TestConcurrentEncode(t *testing.T) {
	c := newClient(t, "http://x", Safe, XML)
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var r Request
			for range 200 {
				m := c.Text(testUser, "x")
				if err := c.EncodeTo(&r, m); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[m.MsgID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 8*200 {
		t.Errorf("%d distinct MsgIds, want %d", len(seen), 8*200)
	}
}

func BenchmarkEncodeSafe(b *testing.B) {
	c, _ := New(Config{URL: "http://x", AppID: testAppID, Token: testToken, AESKey: testKey, AppUser: testGH, Mode: Safe})
	var r Request
	m := c.Text(testUser, "今日学习")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.EncodeTo(&r, m); err != nil {
			b.Fatal(err)
		}
	}
}
