package notify_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/notify"
)

var oa = config.WeChatApp{AppID: "wxoa000000000001", Secret: "oa-secret-value"}

const (
	csAPI       = "/cgi-bin/message/custom/send"
	templateAPI = "/cgi-bin/message/template/send"
)

type seen map[string]time.Time

func (s seen) Last(_ context.Context, _ string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, id := range ids {
		if t, ok := s[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}

func setup(t *testing.T, template string, last seen, now time.Time) (*wxfake.Server, *notify.Notifier) {
	f := wxfake.New()
	f.AddApp(oa.AppID, oa.Secret)
	if template != "" {
		f.AddTemplate(template)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	wxapi.Configure(srv.URL, nil)
	c := wxapi.New(wxapi.Options{OA: oa, Redis: testenv.Redis(t).Client, Log: testenv.Logger()})
	return f, notify.New(notify.Options{Sender: c, LastSeen: last, TemplateID: template, Now: func() time.Time { return now }})
}

var note = notify.Notice{Title: "请假审批结果", Text: "你的请假申请已批准。", Kind: "请假申请", Status: "已批准", Remark: "回复「考勤」查看"}

// Inside the 48-hour window the notice is a customer-service text; just outside it (the margin
// included) and for someone never seen, a template message; with no template, ErrNoWay.
func TestTellPicksTheWay(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	last := seen{"inside": now.Add(-47 * time.Hour), "margin": now.Add(-48*time.Hour + 5*time.Minute)}
	f, n := setup(t, "TPL1", last, now)
	ctx := context.Background()
	for _, tc := range []struct{ openID, via string }{{"inside", notify.ViaText}, {"margin", notify.ViaTemplate}, {"never", notify.ViaTemplate}} {
		res, err := n.Tell(ctx, tc.openID, note)
		if err != nil || res.Via != tc.via {
			t.Errorf("%s: %+v %v, want via %s", tc.openID, res, err, tc.via)
		}
	}
	if cs := f.CallsTo(csAPI); len(cs) != 1 || !strings.Contains(string(cs[0].Body), "已批准") {
		t.Errorf("customer-service calls: %+v", cs)
	}
	if ts := f.CallsTo(templateAPI); len(ts) != 2 || !strings.Contains(string(ts[0].Body), "请假审批结果") {
		t.Errorf("template calls: %d", len(ts))
	}

	_, n2 := setup(t, "", last, now)
	if res, err := n2.Tell(ctx, "never", note); !errors.Is(err, notify.ErrNoWay) || res.Via != "" || !notify.Permanent(err) {
		t.Errorf("no template: %+v %v", res, err)
	}
}

// A closed customer-service window (45015) falls back to the template; a refusal about the person
// (43004) is permanent and says so; a busy WeChat (-1) is not permanent.
func TestTellFailures(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	f, n := setup(t, "TPL1", seen{"u1": now.Add(-time.Hour)}, now)
	ctx := context.Background()

	f.Fail(csAPI, notify.CodeWindowClosed, 1)
	if res, err := n.Tell(ctx, "u1", note); err != nil || res.Via != notify.ViaTemplate {
		t.Errorf("window closed: %+v %v, want the template", res, err)
	}

	f.Fail(csAPI, notify.CodeNotFollowing, 1)
	res, err := n.Tell(ctx, "u1", note)
	if err == nil || !notify.Permanent(err) || !notify.AboutPerson(res.Code) || !notify.NotDelivered(err) {
		t.Errorf("not following: %+v %v", res, err)
	}

	f.Fail(csAPI, -1, 5)
	res, err = n.Tell(ctx, "u1", note)
	if err == nil || notify.Permanent(err) || notify.AboutPerson(res.Code) {
		t.Errorf("busy: %+v %v", res, err)
	}
}
