package wechat

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxcrypt"
	"github.com/yanzhen/yanzhen/config"
)

// echoDispatcher answers every message with its own text, so fuzzed text reaches the reply encoder.
type echoDispatcher struct{}

func (echoDispatcher) Dispatch(_ context.Context, m *bot.Message) bot.Result {
	if m.Text == "" {
		return bot.Result{}
	}
	return bot.Result{Reply: bot.Text(m.Text)}
}

// FuzzWebhook feeds arbitrary bodies, correctly signed (and, in safe mode, correctly encrypted) so
// that they get past the signature check into the decoder: the answer must be 200, 400 or 413, never
// a 5xx or a panic.
func FuzzWebhook(f *testing.F) {
	app := config.WeChatApp{AppID: "wxfuzz", Token: "fuzztoken", AESKey: config.DemoOAAESKey}
	for _, seed := range []string{
		`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[帮助]]></Content><MsgId>1</MsgId></xml>`,
		`<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_bind:ABC</EventKey></xml>`,
		`<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.1</Latitude><Longitude>113.2</Longitude><Precision>30</Precision></xml>`,
		`{"ToUserName":"gh","FromUserName":"o1","CreateTime":1,"MsgType":"text","Content":"hi","MsgId":2}`,
		`<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>`,
		`<xml>`, ``, `<?xml version="1.0"?><xml/>`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	now := time.Unix(1_700_000_000, 0)
	for _, channel := range []string{bot.ChannelOA} {
		e, err := NewEndpoint(channel, app, echoDispatcher{}, Options{Now: func() time.Time { return now }, MaxBody: 64 << 10})
		if err != nil {
			f.Fatal(err)
		}
		cipher, _ := wxcrypt.New(app.AppID, app.AESKey)
		f.Fuzz(func(t *testing.T, body []byte, safe bool) {
			ts := strconv.FormatInt(now.Unix(), 10)
			q := "signature=" + wxcrypt.Signature(app.Token, ts, "7") + "&timestamp=" + ts + "&nonce=7&openid=o1"
			if safe {
				enc := cipher.EncryptWithRandom(body, bytes.Repeat([]byte{'r'}, 16))
				q += "&encrypt_type=aes&msg_signature=" + wxcrypt.Signature(app.Token, ts, "7", enc)
				body = []byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
			}
			req := httptest.NewRequest(http.MethodPost, "/wechat/oa?"+q, bytes.NewReader(body))
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("status %d for body %q", w.Code, body)
			}
			if w.Code == http.StatusOK && w.Body.Len() == 0 {
				t.Fatalf("empty 200 answer for body %q", body)
			}
		})
	}
}
