package broadcast_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// idOf is the org or member id with this path or name.
func idOf(t *testing.T, e *consoletest.Env, table, col, v string) string {
	t.Helper()
	var id string
	if err := e.App.DB().Table(table).Where(col+" = ?", v).Select("id").Row().Scan(&id); err != nil {
		t.Fatalf("%s %s: %v", table, v, err)
	}
	return id
}

// runUntil runs the server's broadcast engine until broadcast id is in state want.
func runUntil(t *testing.T, e *consoletest.Env, id uint, want string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.App.Broadcasts().Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var b models.Broadcast
		e.App.DB().Take(&b, id)
		if b.Status == want {
			return
		}
		if time.Now().After(deadline) {
			var ds []models.Delivery
			e.App.DB().Where("broadcast_id = ? AND status = ?", id, models.DeliveryQueued).Find(&ds)
			t.Fatalf("broadcast %d: %s, want %s; queued %+v", id, b.Status, want, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bindSeen binds openID to the member and waits until his message is on record (the 48-hour window,
// written to Redis once a second).
func bindSeen(t *testing.T, e *consoletest.Env, openID, name string) {
	t.Helper()
	e.BindAs(openID, name)
	deadline := time.Now().Add(5 * time.Second)
	for e.App.Redis().Exists(context.Background(), kv.LastMessageKey(bot.ChannelOA, openID)).Val() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s's message is not on record", openID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastBroadcast(t *testing.T, e *consoletest.Env) models.Broadcast {
	t.Helper()
	var b models.Broadcast
	if err := e.App.DB().Order("id DESC").Take(&b).Error; err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConsoleNoticeWithApproval: a county administrator writes a notice to 花溪镇 needing approval; a
// mistake in the form comes back with the reason and records nothing; he cannot approve it himself,
// the system administrator does; it goes out — a customer-service message to those who wrote within
// 48 hours, skipped for the unbound, failed with the reason for those outside the window (no template
// configured) — and the pages show it, a village secretary seeing only his village's people.
func TestConsoleNoticeWithApproval(t *testing.T) {
	e := consoletest.New(t)
	bindSeen(t, e, "o_zhang", "张国华")                                                           // 郭沟村 书记, writes now: within 48 hours
	bindSeen(t, e, "o_chen", "陈志强")                                                            // 双河村 书记
	e.App.DB().Model(&models.Member{}).Where("name = ?", "王德明").Update("oa_open_id", "o_wang") // bound long ago, silent since
	town := idOf(t, e, "orgs", "path", "洪雅县/花溪镇")

	county := e.Login(consoletest.County)
	res, body := county.Get("/console/broadcasts/new")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "洪雅县/花溪镇/郭沟村") || !strings.Contains(body, "需要第二位管理员审批") {
		t.Fatalf("new page: %d\n%.500s", res.StatusCode, body)
	}
	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"org_id": {town}, "text": {"  "}}, "请填写通知内容"},
		{url.Values{"text": {"开会"}}, "请选择至少一个组织"},
		{url.Values{"org_id": {town}, "text": {"开会"}, "link": {"javascript:alert(1)"}}, "链接应以 https://"},
		{url.Values{"org_id": {town}, "text": {"开会"}, "send_at": {"明天"}}, "发送时间不对"},
		{url.Values{"org_id": {town}, "text": {"开会"}, "role": {"村长"}}, "没有「村长」这个角色"},
	} {
		res, body := county.PostForm("/console/broadcasts", bad.form)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("%v: %d, want 400 with %q\n%.300s", bad.form, res.StatusCode, bad.want, body)
		}
		if bad.form.Get("text") == "开会" && !strings.Contains(body, ">开会</textarea>") {
			t.Errorf("%v: the text typed is lost", bad.form)
		}
	}
	var n int64
	e.App.DB().Model(&models.Broadcast{}).Count(&n)
	if n != 0 {
		t.Fatalf("bad forms recorded %d broadcasts", n)
	}

	res, _ = county.PostForm("/console/broadcasts", url.Values{"org_id": {town}, "text": {"周五下午三点在村委会学习新修订的条例。"},
		"link": {"https://example.com/rules"}, "needs_approval": {"1"}})
	b := lastBroadcast(t, e)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/broadcasts/"+itoa(b.ID) || b.Status != models.BroadcastPending {
		t.Fatalf("create: %d %s; %+v", res.StatusCode, res.Header.Get("Location"), b)
	}
	page := "/console/broadcasts/" + itoa(b.ID)
	county.PostForm(page+"/approve", nil)
	if _, body := county.Get(page); !strings.Contains(body, "不能审批自己发起的群发") || lastBroadcast(t, e).Status != models.BroadcastPending {
		t.Fatalf("self-approval:\n%.500s", body)
	}
	// Nothing goes out while it waits.
	ctx, cancel := context.WithCancel(context.Background())
	go e.App.Broadcasts().Run(ctx)
	time.Sleep(300 * time.Millisecond)
	cancel()
	if len(e.Fake.TextsTo("o_zhang")) != 0 {
		t.Fatal("sent before approval")
	}

	admin := e.Login(consoletest.Admin)
	if res, _ := admin.PostForm(page+"/approve", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	if b := lastBroadcast(t, e); b.Status != models.BroadcastScheduled || b.ApprovedBy != consoletest.Admin {
		t.Fatalf("approved: %+v", b)
	}
	runUntil(t, e, b.ID, models.BroadcastDone)

	if got := e.Fake.TextsTo("o_zhang"); len(got) != 1 || got[0] != "周五下午三点在村委会学习新修订的条例。\nhttps://example.com/rules" {
		var ds []models.Delivery
		e.App.DB().Where("broadcast_id = ?", b.ID).Find(&ds)
		t.Fatalf("o_zhang got %q; calls %+v; deliveries %+v", got, e.Fake.Calls(), ds)
	}
	if len(e.Fake.TextsTo("o_chen")) != 1 {
		t.Fatal("o_chen got nothing")
	}
	var ds []models.Delivery
	e.App.DB().Where("broadcast_id = ?", b.ID).Find(&ds)
	byStatus := map[string]int{}
	for _, d := range ds {
		byStatus[d.Status]++
		if d.OpenID == "o_wang" && (d.Status != models.DeliveryFailed || !strings.Contains(d.Reason, "48小时")) {
			t.Fatalf("王德明 (silent, no template): %+v", d)
		}
	}
	// 花溪镇 has 4 villages × (书记, 专干, 1–2 党员) = 14 people: 2 sent, 1 failed, 11 unbound.
	if byStatus[models.DeliverySent] != 2 || byStatus[models.DeliveryFailed] != 1 || byStatus[models.DeliverySkipped] != 11 {
		t.Fatalf("deliveries by state: %v", byStatus)
	}
	var audits []models.AuditEntry
	e.App.DB().Where("object = ?", "broadcast").Order("id").Find(&audits)
	if len(audits) != 2 || audits[0].Action != "create" || audits[0].Username != consoletest.County || !strings.Contains(audits[1].Summary, "审批通过") {
		t.Fatalf("audit: %+v", audits)
	}

	_, body = county.Get(page)
	for _, want := range []string{"已完成", "张国华", "陈志强", "双河村", "48小时内没有互动", "未绑定微信"} {
		if !strings.Contains(body, want) {
			t.Errorf("county's page lacks %q", want)
		}
	}
	sec := e.Login(consoletest.Secretary)
	if _, body := sec.Get("/console/broadcasts"); !strings.Contains(body, "/console/broadcasts/"+itoa(b.ID)) || strings.Contains(body, "新建群发通知") {
		t.Fatalf("secretary's list:\n%.600s", body)
	}
	_, body = sec.Get(page)
	if !strings.Contains(body, "张国华") || strings.Contains(body, "陈志强") || strings.Contains(body, "双河村") || strings.Contains(body, "取消群发") {
		t.Fatalf("secretary's page shows more than his village, or actions:\n%s", body)
	}
	if res, _ := sec.PostForm(page+"/cancel", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("secretary cancels: %d", res.StatusCode)
	}
	if res, body := sec.Get("/console/broadcasts/new"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("secretary's new form: %d %.200s", res.StatusCode, body)
	}
}

// TestAPIScheduleAndManage: through the API a notice is scheduled for later, paused, resumed (back to
// waiting for its time), cancelled (audited; its recipients never get it), and a change that its state
// does not allow is a clear 400.
func TestAPIScheduleAndManage(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("o_zhang", "张国华")
	tok := e.Token(consoletest.County)
	type counts struct {
		Queued, Sent, Cancelled int64
	}
	var b struct {
		ID     uint     `json:"id"`
		Status string   `json:"status"`
		Orgs   []string `json:"orgs"`
		Counts counts   `json:"counts"`
	}
	later := e.Clock.Now().Add(2 * time.Hour)
	if st, body := e.API(tok, "POST", "/api/v1/broadcasts", map[string]any{"org_paths": []string{"洪雅县/花溪镇/郭沟村"},
		"roles": []string{"书记"}, "text": "明早八点村委会集合。", "send_at": later}, &b); st != http.StatusCreated || b.Status != "scheduled" {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, body := e.API(tok, "POST", "/api/v1/broadcasts", map[string]any{"org_paths": []string{"洪雅县"}, "text": ""}, nil); st != http.StatusBadRequest ||
		!strings.Contains(body, `"field":"text"`) {
		t.Fatalf("empty text: %d %s", st, body)
	}
	path := "/api/v1/broadcasts/" + itoa(b.ID)
	// Not due: the engine leaves it alone.
	ctx, cancel := context.WithCancel(context.Background())
	go e.App.Broadcasts().Run(ctx)
	time.Sleep(300 * time.Millisecond)
	cancel()
	if st, _ := e.API(tok, "POST", path+"/pause", nil, &b); st != http.StatusOK || b.Status != "paused" {
		t.Fatalf("pause: %d %+v", st, b)
	}
	if st, _ := e.API(tok, "POST", path+"/resume", nil, &b); st != http.StatusOK || b.Status != "scheduled" {
		t.Fatalf("resume before its time: %d %+v", st, b)
	}
	if st, body := e.API(tok, "POST", path+"/approve", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, "待发送") {
		t.Fatalf("approve a scheduled one: %d %s", st, body)
	}
	e.Clock.Add(3 * time.Hour)
	if st, _ := e.API(tok, "POST", path+"/cancel", nil, &b); st != http.StatusOK || b.Status != "cancelled" {
		t.Fatalf("cancel: %d %+v", st, b)
	}
	runUntil(t, e, b.ID, models.BroadcastCancelled)
	if len(e.Fake.TextsTo("o_zhang")) != 0 {
		t.Fatal("a cancelled notice went out")
	}
	var detail struct {
		Status string `json:"status"`
		Units  []struct {
			Path string `json:"path"`
		} `json:"units"`
	}
	if st, body := e.API(tok, "GET", path, nil, &detail); st != http.StatusOK || detail.Status != "cancelled" {
		t.Fatalf("get: %d %s", st, body)
	}
	var audits int64
	e.App.DB().Model(&models.AuditEntry{}).Where("object = ? AND summary LIKE ?", "broadcast", "取消%").Count(&audits)
	if audits != 1 {
		t.Fatalf("%d cancel audits", audits)
	}
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// TestPauseShownWhileWeChatIsOutOfReach: WeChat is down while a notice is sending. The page and the
// API say that every server has paused, why and until when, with the recipients still queued; once
// WeChat is back they get it, once, and the pause is no longer shown.
func TestPauseShownWhileWeChatIsOutOfReach(t *testing.T) {
	e := consoletest.New(t)
	bindSeen(t, e, "o_zhang", "张国华")
	tok := e.Token(consoletest.County)
	e.Fake.Down(true)
	var b struct {
		ID uint `json:"id"`
	}
	if st, body := e.API(tok, "POST", "/api/v1/broadcasts", map[string]any{"org_paths": []string{"洪雅县/花溪镇/郭沟村"},
		"text": "今晚八点村委会开会。"}, &b); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.App.Broadcasts().Run(ctx); close(done) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left, _ := e.App.Broadcasts().Paused(ctx); left > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("WeChat down and no pause")
		}
	}
	cancel()
	<-done

	page := "/console/broadcasts/" + itoa(b.ID)
	county := e.Login(consoletest.County)
	if _, body := county.Get(page); !strings.Contains(body, "微信接口暂时连不上，所有服务器暂停发送，约 ") || !strings.Contains(body, "不会漏发") {
		t.Fatalf("the page does not say why nothing goes out:\n%.1500s", body)
	}
	var detail struct {
		Status string `json:"status"`
		Counts struct {
			Queued, Sent int64
		} `json:"counts"`
		Paused *struct {
			Reason string    `json:"reason"`
			Until  time.Time `json:"until"`
		} `json:"paused"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/broadcasts/"+itoa(b.ID), nil, &detail); st != http.StatusOK || detail.Paused == nil ||
		detail.Paused.Reason != "微信接口暂时连不上" || detail.Paused.Until.Before(time.Now().Add(-time.Second)) ||
		detail.Status != models.BroadcastSending || detail.Counts.Queued == 0 || detail.Counts.Sent != 0 {
		t.Fatalf("API during the pause: %d %s", st, body)
	}

	e.Fake.Down(false)
	runUntil(t, e, b.ID, models.BroadcastDone) // once the 5 s pause is over
	if n := e.Fake.Delivered()["o_zhang"]; n != 1 {
		t.Fatalf("o_zhang got it %d times", n)
	}
	if _, body := county.Get(page); strings.Contains(body, "暂停发送") {
		t.Fatal("a finished notice still shows the pause")
	}
	if st, body := e.API(tok, "GET", "/api/v1/broadcasts/"+itoa(b.ID), nil, &detail); st != http.StatusOK || !strings.Contains(body, `"paused":null`) {
		t.Fatalf("API after the pause: %d %s", st, body)
	}
}
