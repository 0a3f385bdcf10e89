package wxclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"
)

// An independent check that the client is WeChat-exact: silenceper/wechat's official-account server
// (v2.1.14) accepts its requests in every mode, and the client verifies and decrypts the SDK's replies.
func TestSDKServer(t *testing.T) {
	// The SDK's init sets logrus to Debug on stdout and logs every message: quiet it, and keep what is
	// left (its errors about the bad requests below) in the test's log.
	level, out := logrus.GetLevel(), logrus.StandardLogger().Out
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(t.Output())
	t.Cleanup(func() { logrus.SetLevel(level); logrus.SetOutput(out) })
	oa := wechat.NewWechat().GetOfficialAccount(&offConfig.Config{
		AppID: testAppID, AppSecret: "secret", Token: testToken, EncodingAESKey: testKey, Cache: cache.NewMemory(),
	})
	var (
		mu  sync.Mutex
		got []message.MixMessage
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := oa.GetServer(r, w)
		s.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			mu.Lock()
			got = append(got, *m)
			mu.Unlock()
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText("收到:" + m.Content + string(m.Event) + m.EventKey)}
		})
		if err := s.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.Send(); err != nil {
			t.Errorf("SDK Send: %v", err)
		}
	}))
	defer srv.Close()
	last := func() message.MixMessage {
		mu.Lock()
		defer mu.Unlock()
		return got[len(got)-1]
	}
	ctx := context.Background()

	for _, mode := range []Mode{Plain, Compat, Safe} {
		c, err := New(Config{URL: srv.URL, AppID: testAppID, Token: testToken, AESKey: testKey, AppUser: testGH, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		msg := c.Text(testUser, "帮助 <&>]]>")
		res, err := c.Send(ctx, msg)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("%v: status %v, err %v, response %q", mode, res, err, res.Response)
		}
		m := last()
		if m.Content != "帮助 <&>]]>" || string(m.FromUserName) != testUser || string(m.ToUserName) != testGH ||
			m.MsgID != msg.MsgID || m.CreateTime != msg.CreateTime || m.MsgType != "text" {
			t.Errorf("%v: the SDK read %+v", mode, m.CommonToken)
		}
		if res.Reply == nil || res.Reply.Content != "收到:帮助 <&>]]>" || res.Reply.ToUserName != testUser || res.Reply.FromUserName != testGH {
			t.Errorf("%v: reply %+v from %q", mode, res.Reply, res.Response)
		}

		res, err = c.Send(ctx, c.LocationEvent(testUser, 23.137466, 113.352425, 119.38504))
		if err != nil || res.Reply == nil {
			t.Fatalf("%v LOCATION: %v, %v", mode, res, err)
		}
		if m := last(); m.Event != message.EventLocation || m.Latitude != "23.137466" || m.Longitude != "113.352425" || m.Precision != "119.385040" {
			t.Errorf("%v: the SDK read LOCATION %+v", mode, m)
		}
		res, err = c.Send(ctx, c.Location(testUser, 23.134521, 113.358803, 20, "郭沟村"))
		if err != nil || res.Reply == nil {
			t.Fatalf("%v location: %v, %v", mode, res, err)
		}
		if m := last(); m.LocationX != 23.134521 || m.LocationY != 113.358803 || m.Scale != 20 || m.Label != "郭沟村" {
			t.Errorf("%v: the SDK read location %+v", mode, m)
		}
		res, err = c.Send(ctx, c.Subscribe(testUser, "bind:AB12"))
		if err != nil || res.Reply == nil || res.Reply.Content != "收到:subscribeqrscene_bind:AB12" {
			t.Errorf("%v subscribe: %+v, %v", mode, res.Reply, err)
		}

		// The SDK refuses what it must refuse.
		if res, _ := c.Send(ctx, c.Text(testUser, "x"), WithBadSignature()); res.Status == http.StatusOK {
			t.Errorf("%v: the SDK accepted a bad signature", mode)
		}
		if mode != Plain {
			if res, _ := c.Send(ctx, c.Text(testUser, "x"), WithBadMsgSignature()); res.Status == http.StatusOK {
				t.Errorf("%v: the SDK accepted a bad msg_signature", mode)
			}
		}
	}

	c, _ := New(Config{URL: srv.URL, Token: testToken, Now: func() time.Time { return time.Now() }})
	if body, status, err := c.Verify(ctx, "4512371237456"); err != nil || status != 200 || body != "4512371237456" {
		t.Errorf("Verify against the SDK = %q, %d, %v", body, status, err)
	}
}
