package roster_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

func TestBindSheetPrintsCodesAndWeChatQRCodes(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	village := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	// A bound member and a deactivated one get no slip.
	e.App.DB().Exec("UPDATE members SET oa_open_id = 'o-li', bound_at = ?, bind_code = NULL WHERE phone = '13800000003'", e.Clock.Now())
	e.App.DB().Exec("UPDATE members SET active = ? WHERE phone = '13800000004'", false)

	body := get(t, c, "/console/orgs/"+idStr(village)+"/bindsheet", http.StatusOK)
	codes := map[string]string{}
	for _, phone := range []string{"13800000002", "13800000005"} {
		m := member(t, e, phone)
		codes[*m.BindCode] = m.Name
		for _, want := range []string{m.Name, `<div class="code">` + *m.BindCode + `</div>`, "微信关注公众号后扫码，或发送「绑定 " + *m.BindCode + "」"} {
			if !strings.Contains(body, want) {
				t.Fatalf("bind sheet lacks %q:\n%s", want, body)
			}
		}
	}
	if strings.Contains(body, "李秀英") || strings.Contains(body, "王德明") {
		t.Fatal("a bound or deactivated member is on the bind sheet")
	}
	if n := strings.Count(body, `<div class="slip">`); n != 2 {
		t.Fatalf("%d slips", n)
	}
	if n := strings.Count(body, "<svg"); n != 2 || strings.Contains(body, "二维码暂时无法生成") {
		t.Fatalf("%d QR codes", n)
	}
	// Each QR code is a permanent WeChat QR scene bind:CODE.
	calls := e.Fake.CallsTo(wxfake.APIQRCodeCreate)
	if len(calls) != 2 {
		t.Fatalf("%d qrcode/create calls", len(calls))
	}
	for _, call := range calls {
		var req struct {
			ActionName string `json:"action_name"`
			ActionInfo struct {
				Scene struct {
					SceneStr string `json:"scene_str"`
				} `json:"scene"`
			} `json:"action_info"`
		}
		if err := json.Unmarshal(call.Body, &req); err != nil {
			t.Fatal(err)
		}
		code, ok := strings.CutPrefix(req.ActionInfo.Scene.SceneStr, "bind:")
		if req.ActionName != "QR_LIMIT_STR_SCENE" || !ok || codes[code] == "" {
			t.Fatalf("qrcode/create %s", call.Body)
		}
	}
	// Printing again asks WeChat nothing: the urls are cached.
	get(t, c, "/console/orgs/"+idStr(village)+"/bindsheet", http.StatusOK)
	if n := len(e.Fake.CallsTo(wxfake.APIQRCodeCreate)); n != 2 {
		t.Fatalf("reprint made %d more qrcode/create calls", n-2)
	}
	if es := audits(t, e, "export", "roster", village); len(es) != 2 {
		t.Fatalf("bind sheet audits: %d", len(es))
	}
	// The town's sheet has every unbound active member of its villages.
	body = get(t, c, "/console/orgs/"+idStr(orgID(t, e, "洪雅县/花溪镇"))+"/bindsheet", http.StatusOK)
	if n := strings.Count(body, `<div class="slip">`); n != 12 {
		t.Fatalf("town sheet: %d slips", n)
	}
}

func TestBindSheetStillPrintsWhenWeChatFails(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	e.Fake.Fail(wxfake.APIQRCodeCreate, 45009, -1) // daily quota used up
	village := orgID(t, e, "洪雅县/花溪镇/双河村")
	body := get(t, c, "/console/orgs/"+idStr(village)+"/bindsheet", http.StatusOK)
	if strings.Contains(body, "<svg") || !strings.Contains(body, "二维码暂时无法生成") {
		t.Fatalf("sheet without WeChat:\n%s", body)
	}
	for _, phone := range []string{"13800000006", "13800000007", "13800000008"} {
		code := *member(t, e, phone).BindCode
		if !strings.Contains(body, `<div class="code">`+code+`</div>`) || !strings.Contains(body, "发送「绑定 "+code+"」") {
			t.Fatalf("code %s missing:\n%s", code, body)
		}
	}
	// One failed call is enough to give up on the rest.
	if n := len(e.Fake.CallsTo(wxfake.APIQRCodeCreate)); n > 4 {
		t.Fatalf("%d qrcode/create calls after WeChat failed", n)
	}
	// Nothing failed was cached: once WeChat is back, the QR codes appear.
	e.Fake.Fail(wxfake.APIQRCodeCreate, 0, 0)
	body = get(t, c, "/console/orgs/"+idStr(village)+"/bindsheet", http.StatusOK)
	if n := strings.Count(body, "<svg"); n != 3 {
		t.Fatalf("after WeChat recovered: %d QR codes", n)
	}
}
