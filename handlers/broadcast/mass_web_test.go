package broadcast_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// massJob is broadcast id's mass job as the database has it.
func massJob(t *testing.T, e *consoletest.Env, id uint) models.BroadcastMass {
	t.Helper()
	var job models.BroadcastMass
	if err := e.App.DB().Take(&job, "broadcast_id = ?", id).Error; err != nil {
		t.Fatalf("mass job of %d: %v", id, err)
	}
	return job
}

// TestConsoleMassNotice: the new-notice form offers the channel and says what auto does; a wrong one
// comes back with the reason, by the form and by the API. A county administrator sends a notice to
// 花溪镇 by mass send: its three members with WeChat are tagged and reached by one sendall (the 11
// unbound are skipped). WeChat's MASSSENDJOBFINISH, pushed to the webhook as WeChat posts it, is
// answered `success`, recorded, shown on the page and in the API, and the tag is deleted after it. A
// village secretary, whose part of the tree does not hold the audience, sees no job figures.
func TestConsoleMassNotice(t *testing.T) {
	e := consoletest.New(t)
	bindSeen(t, e, "o_zhang", "张国华")
	e.BindAs("o_chen", "陈志强")
	e.App.DB().Model(&models.Member{}).Where("name = ?", "王德明").Update("oa_open_id", "o_wang")
	town := idOf(t, e, "orgs", "path", "洪雅县/花溪镇")

	county := e.Login(consoletest.County)
	if _, body := county.Get("/console/broadcasts/new"); !strings.Contains(body, `name="channel" value="mass"`) || !strings.Contains(body, "10000 人以上时按标签群发") {
		t.Fatalf("new page without the channel:\n%.2000s", body)
	}
	res, body := county.PostForm("/console/broadcasts", url.Values{"org_id": {town}, "text": {"开会"}, "channel": {"everyone"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "发送方式应为") || !strings.Contains(body, ">开会</textarea>") {
		t.Fatalf("a wrong channel: %d\n%.300s", res.StatusCode, body)
	}
	tok := e.Token(consoletest.County)
	if st, body := e.API(tok, http.MethodPost, "/api/v1/broadcasts", map[string]any{"org_paths": []string{"洪雅县/花溪镇"}, "text": "x", "channel": "all"}, nil); st != http.StatusBadRequest || !strings.Contains(body, "channel") {
		t.Fatalf("API with a wrong channel: %d %s", st, body)
	}
	var made struct {
		ID      uint   `json:"id"`
		Channel string `json:"channel"`
	}
	if st, body := e.API(tok, http.MethodPost, "/api/v1/broadcasts", map[string]any{"org_paths": []string{"洪雅县/花溪镇"}, "text": "y"}, &made); st != http.StatusCreated || made.Channel != "direct" {
		t.Fatalf("API, auto for 14 people: %d %s", st, body)
	}
	if st, _ := e.API(tok, http.MethodPost, "/api/v1/broadcasts/"+itoa(made.ID)+"/cancel", nil, nil); st != http.StatusOK {
		t.Fatalf("cancel: %d", st)
	}

	res, _ = county.PostForm("/console/broadcasts", url.Values{"org_id": {town}, "text": {"今晚八点停电检修。"}, "channel": {"mass"}})
	b := lastBroadcast(t, e)
	if res.StatusCode != http.StatusSeeOther || b.Channel != models.SendMass {
		t.Fatalf("create: %d %+v", res.StatusCode, b)
	}
	runUntil(t, e, b.ID, models.BroadcastDone)
	sends := e.Fake.CallsTo(wxfake.APIMassSendAll)
	if len(sends) != 1 || !sends[0].OK() || strings.Join(sends[0].To, ",") != "o_chen,o_wang,o_zhang" || sends[0].Text != "今晚八点停电检修。" {
		t.Fatalf("sendall calls %+v", sends)
	}
	var ds []models.Delivery
	e.App.DB().Where("broadcast_id = ? AND status = ?", b.ID, models.DeliverySent).Find(&ds)
	for _, d := range ds {
		if d.Via != models.ViaMass {
			t.Fatalf("%s went by %q", d.OpenID, d.Via)
		}
	}
	job := massJob(t, e, b.ID)
	if len(ds) != 3 || job.Tagged != 3 || job.MsgID == 0 {
		t.Fatalf("%d sent; job %+v", len(ds), job)
	}
	page := "/console/broadcasts/" + itoa(b.ID)
	if _, body := county.Get(page); !strings.Contains(body, "按标签群发</h2>") || !strings.Contains(body, "等待微信发完") {
		t.Fatalf("page before the report:\n%s", body)
	}

	// WeChat's report, pushed to the webhook.
	fj, _ := e.Fake.MassJob(job.MsgID)
	oa := e.OA()
	msg := &wxclient.Message{FromUserName: "mphelper", MsgType: "event", Event: "MASSSENDJOBFINISH", Extra: []wxclient.Field{
		{Name: "MsgID", Value: strconv.FormatInt(fj.MsgID, 10)}, {Name: "Status", Value: fj.Status},
		{Name: "TotalCount", Value: strconv.Itoa(fj.TotalCount)}, {Name: "FilterCount", Value: strconv.Itoa(fj.FilterCount)},
		{Name: "SentCount", Value: strconv.Itoa(fj.SentCount)}, {Name: "ErrorCount", Value: strconv.Itoa(fj.ErrorCount)}}}
	msg.ToUserName, msg.CreateTime = oa.AppUser, e.Clock.Now().Unix()
	if got := e.Send(msg); got != "success" {
		t.Fatalf("the webhook answered %q", got)
	}
	if job = massJob(t, e, b.ID); job.ReportedAt == nil || job.TotalCount != 3 || job.SentCount != 3 || job.JobStatus != "send success" {
		t.Fatalf("report not recorded: %+v", job)
	}
	if _, body := county.Get(page); !strings.Contains(body, "发送成功：共 3 人，成功 3，过滤 0，失败 0") || !strings.Contains(body, "群发（按标签") {
		t.Fatalf("page after the report:\n%s", body)
	}
	var detail struct {
		Channel string `json:"channel"`
		Mass    *struct {
			Tagged int `json:"tagged"`
			Report *struct {
				SentCount int `json:"sent_count"`
			} `json:"report"`
		} `json:"mass"`
	}
	if st, body := e.API(tok, http.MethodGet, "/api/v1/broadcasts/"+itoa(b.ID), nil, &detail); st != http.StatusOK || detail.Channel != "mass" ||
		detail.Mass == nil || detail.Mass.Tagged != 3 || detail.Mass.Report == nil || detail.Mass.Report.SentCount != 3 {
		t.Fatalf("API detail: %d %s", st, body)
	}
	// The report of a mass send Yanzhen did not make is answered `success` too, and changes nothing.
	other := *msg
	other.Extra = []wxclient.Field{{Name: "MsgID", Value: "77"}, {Name: "Status", Value: "send fail"}}
	other.CreateTime++
	if got := e.Send(&other); got != "success" || massJob(t, e, b.ID).JobStatus != "send success" {
		t.Fatalf("someone else's report: %q", got)
	}

	sec := e.Login(consoletest.Secretary)
	if _, body := sec.Get(page); strings.Contains(body, "微信报告") || !strings.Contains(body, "张国华") {
		t.Fatalf("the secretary sees the whole audience's job:\n%s", body)
	}

	// The tag goes once the report came.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.App.Broadcasts().Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); massJob(t, e, b.ID).TagDeletedAt == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the tag was not deleted after the report")
		}
	}
	if len(e.Fake.Tags()) != 0 {
		t.Fatalf("tags left: %v", e.Fake.Tags())
	}
}
