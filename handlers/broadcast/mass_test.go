package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// The mass send's tests run the engine against the fake WeChat API (tags, batchtagging, sendall with
// its clientmsgid and monthly filter) on a real database and Redis.

// massOptions are fastOptions with the tag and mass-send API; tag calls unlimited.
func massOptions(r *rig, in seen) EngineOptions {
	o := fastOptions(r.rdb, teller(r.rdb, r.fakeURL, in))
	o.Mass = wxapi.New(wxapi.Options{OA: testApp, Redis: r.rdb.Client, Log: testenv.Logger()})
	o.TagRate, o.TagBatch = -1, 64
	return o
}

// run runs engines until stop is closed.
func run(t *testing.T, engines ...*Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Go(func() { e.Run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// waitJob polls broadcast id's mass job until ok says so, or fails after d.
func waitJob(t *testing.T, svc *Service, id uint, d time.Duration, what string, ok func(*models.BroadcastMass) bool) *models.BroadcastMass {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		job, err := svc.MassOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if job != nil && ok(job) {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %d: %s did not happen in %s; job %+v", id, what, d, job)
		}
	}
}

// memberOf is the member id of openid o_i.
func memberOf(t *testing.T, r *rig, openID string) uint {
	t.Helper()
	var m models.Member
	if err := r.db.Where("oa_open_id = ?", openID).Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func quotaOf(t *testing.T, r *rig, month int, member uint) int {
	t.Helper()
	var q models.MassQuota
	if err := r.db.Where("month = ? AND member_id = ?", month, member).Take(&q).Error; err != nil {
		return 0
	}
	return q.N
}

// sendallBody is what the engine posted to sendall.
type sendallBody struct {
	Filter struct {
		TagID int64 `json:"tag_id"`
	} `json:"filter"`
	Text struct {
		Content string `json:"content"`
	} `json:"text"`
	ClientMsgID string `json:"clientmsgid"`
}

// TestMassNotice: a mass notice to 300 members (30 without WeChat, 20 who had their 4 mass messages
// this month), sent by two engines at once: one tag is made; the 250 within their quota are tagged in
// batchtagging calls of at most 50 and sent by one sendall with the broadcast's clientmsgid, recorded
// Via mass, each counted one more mass message this month; the 20 get it by customer-service or
// template message instead; everyone gets it once. WeChat's report is recorded, and then the tag is
// deleted.
func TestMassNotice(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 2, 5, 300)
	month := quotaMonth(time.Now())
	in := seen{}
	over := map[string]bool{}
	for i := 0; i < 20; i++ {
		id := "o_" + strconv.Itoa(i+i/9) // 20 members with WeChat (o_9, o_19 have none)
		over[id] = true
		r.db.Create(&models.MassQuota{Month: month, MemberID: memberOf(t, r, id), N: MassMonthly})
		if i%2 == 0 {
			in[id] = time.Now().Add(-time.Hour) // in the 48-hour window: a chat text
		}
	}
	almost := memberOf(t, r, "o_100")
	r.db.Create(&models.MassQuota{Month: month, MemberID: almost, N: MassMonthly - 1}) // one left: tagged
	r.fake.SetMassReceived("o_100", MassMonthly-1)

	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "请于周五前完成党费缴纳。",
		Link: "https://example.com/n/1", Channel: ChannelMass})
	if err != nil {
		t.Fatal(err)
	}
	if b.Channel != models.SendMass {
		t.Fatalf("channel %q, want mass", b.Channel)
	}
	stop := run(t, NewEngine(r.svc, massOptions(r, in)), NewEngine(r.svc, massOptions(r, in)))
	defer stop()
	p := waitFinal(t, r.svc, b.ID, 60*time.Second)
	if p.Sent != 270 || p.Skipped != 30 || p.Failed != 0 || p.Tagged != 0 {
		t.Fatalf("counts %+v, want 270 sent and 30 skipped", p.Counts)
	}

	tags := r.fake.CallsTo(wxfake.APITagsCreate)
	if len(tags) != 1 || !tags[0].OK() {
		t.Fatalf("%d tags/create calls, want 1", len(tags))
	}
	job, err := r.svc.MassOf(context.Background(), b.ID)
	if err != nil || job == nil {
		t.Fatal(job, err)
	}
	tagged := map[string]bool{}
	calls := 0
	for _, c := range r.fake.CallsTo(wxfake.APIBatchTagging) {
		var body struct {
			OpenIDs []string `json:"openid_list"`
			TagID   int64    `json:"tagid"`
		}
		json.Unmarshal(c.Body, &body)
		if !c.OK() || len(body.OpenIDs) == 0 || len(body.OpenIDs) > 50 || body.TagID != job.TagID {
			t.Fatalf("batchtagging %d openids to tag %d (job's %d): errcode %d", len(body.OpenIDs), body.TagID, job.TagID, c.ErrCode)
		}
		for _, id := range body.OpenIDs {
			tagged[id] = true
		}
		calls++
	}
	if len(tagged) != 250 || tagged["o_0"] || !tagged["o_100"] || calls < 5 {
		t.Fatalf("%d tagged in %d calls (o_0 over his quota: %v; o_100 with one left: %v)", len(tagged), calls, tagged["o_0"], tagged["o_100"])
	}
	sends := r.fake.CallsTo(wxfake.APIMassSendAll)
	if len(sends) != 1 || !sends[0].OK() {
		t.Fatalf("%d sendall calls, want 1 that succeeded", len(sends))
	}
	var sent sendallBody
	json.Unmarshal(sends[0].Body, &sent)
	if sent.ClientMsgID != "yz-bc-"+strconv.Itoa(int(b.ID)) || sent.Filter.TagID != job.TagID ||
		sent.Text.Content != "请于周五前完成党费缴纳。\nhttps://example.com/n/1" {
		t.Fatalf("sendall %+v", sent)
	}
	if job.Tagged != 250 || job.SentAt == nil || job.MsgID == 0 || job.Calls < 3 || job.Calls > 1+calls+1 { // an owner's batch cut short is not counted
		t.Fatalf("job %+v (%d batchtagging calls)", job, calls)
	}

	var rows []models.Delivery
	r.db.Where("broadcast_id = ?", b.ID).Find(&rows)
	for _, d := range rows {
		switch {
		case d.OpenID == "":
			if d.Status != models.DeliverySkipped {
				t.Fatalf("unbound %d: %s", d.MemberID, d.Status)
			}
		case over[d.OpenID]:
			want := notify.ViaTemplate
			if _, ok := in[d.OpenID]; ok {
				want = notify.ViaText
			}
			if d.Status != models.DeliverySent || d.Via != want || quotaOf(t, r, month, d.MemberID) != MassMonthly {
				t.Fatalf("%s at his quota: %s by %q (want %q), quota %d", d.OpenID, d.Status, d.Via, want, quotaOf(t, r, month, d.MemberID))
			}
		default:
			n := 1
			if d.MemberID == almost {
				n = MassMonthly
			}
			if d.Status != models.DeliverySent || d.Via != models.ViaMass || d.SentAt == nil || quotaOf(t, r, month, d.MemberID) != n {
				t.Fatalf("%s: %s by %q, quota %d (want %d)", d.OpenID, d.Status, d.Via, quotaOf(t, r, month, d.MemberID), n)
			}
		}
	}
	got := r.fake.Delivered()
	if len(got) != 270 {
		t.Fatalf("the fake delivered to %d, want 270", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("%s got it %d times", id, n)
		}
	}

	// The tag waits for WeChat's report (TagKeep is an hour), then goes.
	if _, ok := r.fake.Tags()[job.TagID]; !ok {
		t.Fatal("the tag was deleted before WeChat reported the job")
	}
	fj, _ := r.fake.MassJob(job.MsgID)
	if _, err := r.svc.MassReport(context.Background(), bot.MassResult{MsgID: job.MsgID + 1000}); !errors.Is(err, scope.ErrNotFound) {
		t.Fatalf("a report of someone else's mass send: %v", err)
	}
	id, err := r.svc.MassReport(context.Background(), bot.MassResult{MsgID: fj.MsgID, Status: fj.Status, TotalCount: int64(fj.TotalCount),
		FilterCount: int64(fj.FilterCount), SentCount: int64(fj.SentCount), ErrorCount: int64(fj.ErrorCount)})
	if err != nil || id != b.ID {
		t.Fatal(id, err)
	}
	job = waitJob(t, r.svc, b.ID, 20*time.Second, "tag deleted", func(j *models.BroadcastMass) bool { return j.TagDeletedAt != nil })
	if job.JobStatus != "send success" || job.TotalCount != 250 || job.SentCount != 250 || job.FilterCount != 0 || job.ReportedAt == nil {
		t.Fatalf("report %+v", job)
	}
	if _, ok := r.fake.Tags()[job.TagID]; ok || len(r.fake.CallsTo(wxfake.APITagsDelete)) != 1 || len(r.fake.CallsTo(wxfake.APIBatchUntagging)) != 0 {
		t.Fatal("the tag was not deleted once")
	}
}

// TestMassSendsOnceAfterCrash: WeChat is busy (-1) at the mass send: the engine retries with a backoff
// and the recipients stay tagged. Its send went through after all as the process died (simulated: the
// same sendall reaches WeChat, and the engine is stopped): the next engine's sendall is answered
// 45065, which counts as sent: every tagged recipient got the notice once, WeChat's report finds its
// broadcast without a msg_id, and the tag goes after it.
func TestMassSendsOnceAfterCrash(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 1, 4, 120)
	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "明天停电。", Channel: ChannelMass})
	if err != nil {
		t.Fatal(err)
	}
	r.fake.Fail(wxfake.APIMassSendAll, -1, -1)
	o := massOptions(r, nil)
	o.MassAttempts = 1000
	stop := run(t, NewEngine(r.svc, o))
	job := waitJob(t, r.svc, b.ID, 30*time.Second, "a retried sendall", func(j *models.BroadcastMass) bool { return j.Attempts >= 2 })
	stop()
	if job.SentAt != nil || job.Tagged != 108 || job.ErrCode != -1 || !strings.Contains(job.Reason, "繁忙") {
		t.Fatalf("job after -1: %+v", job)
	}
	p, _ := r.svc.Progress(context.Background(), allScope, b.ID, false)
	if p.Tagged != 108 || p.Queued != 108 || p.Sent != 0 {
		t.Fatalf("counts while WeChat is busy: %+v", p.Counts)
	}
	r.fake.Fail(wxfake.APIMassSendAll, 0, 0)
	wx := wxapi.New(wxapi.Options{OA: testApp, Redis: r.rdb.Client, Log: testenv.Logger()})
	msgID, err := wx.SendTextToTag(context.Background(), job.TagID, "明天停电。", clientMsgID(b.ID)) // the send the dead process made
	if err != nil {
		t.Fatal(err)
	}

	stop = run(t, NewEngine(r.svc, massOptions(r, nil)))
	defer stop()
	p = waitFinal(t, r.svc, b.ID, 30*time.Second)
	if p.Sent != 108 || p.Skipped != 12 {
		t.Fatalf("counts %+v", p.Counts)
	}
	ok, once := 0, 0
	for _, c := range r.fake.CallsTo(wxfake.APIMassSendAll) {
		switch {
		case c.OK():
			ok++
		case c.ErrCode == wxapi.CodeMassSentOnce:
			once++
		}
	}
	if ok != 1 || once != 1 {
		t.Fatalf("sendall: %d sent, %d answered 45065", ok, once)
	}
	for id, n := range r.fake.Delivered() {
		if n != 1 {
			t.Fatalf("%s got it %d times", id, n)
		}
	}
	if len(r.fake.Delivered()) != 108 {
		t.Fatalf("%d got it, want 108", len(r.fake.Delivered()))
	}
	fj, _ := r.fake.MassJob(msgID)
	if id, err := r.svc.MassReport(context.Background(), bot.MassResult{MsgID: msgID, Status: fj.Status, TotalCount: int64(fj.TotalCount),
		SentCount: int64(fj.SentCount)}); err != nil || id != b.ID {
		t.Fatalf("report of the repeated send: %d %v", id, err)
	}
	job = waitJob(t, r.svc, b.ID, 20*time.Second, "tag deleted", func(j *models.BroadcastMass) bool { return j.TagDeletedAt != nil })
	if job.MsgID != msgID || job.SentCount != 108 {
		t.Fatalf("job %+v", job)
	}
}

// TestMassFailures: WeChat refuses the mass send for good (48001): the tagged recipients fail with the
// reason and their monthly count is given back, nothing is sent, the tag is deleted at once. With the
// account's 100 tags used (45056) no tag can be made: everyone fails with the reason before anything
// was tagged. A cancelled mass broadcast gives its tagged recipients' counts back too.
func TestMassFailures(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 1, 2, 40)
	month := quotaMonth(time.Now())
	m1 := memberOf(t, r, "o_1")
	r.db.Create(&models.MassQuota{Month: month, MemberID: m1, N: 2})
	r.fake.Fail(wxfake.APIMassSendAll, 48001, -1)
	b, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "x", Channel: ChannelMass})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, NewEngine(r.svc, massOptions(r, nil)))
	defer stop()
	p := waitFinal(t, r.svc, b.ID, 30*time.Second)
	if p.Failed != 36 || p.Sent != 0 || p.Skipped != 4 {
		t.Fatalf("counts %+v", p.Counts)
	}
	prog, _ := r.svc.Progress(context.Background(), allScope, b.ID, true)
	if len(prog.Reasons) == 0 || prog.Reasons[0].ErrCode != 48001 || !strings.Contains(prog.Reasons[0].Reason, "没有群发接口权限") {
		t.Fatalf("reasons %+v", prog.Reasons)
	}
	if quotaOf(t, r, month, m1) != 2 || quotaOf(t, r, month, memberOf(t, r, "o_2")) != 0 {
		t.Fatal("the monthly counts were not given back")
	}
	job := waitJob(t, r.svc, b.ID, 20*time.Second, "tag deleted", func(j *models.BroadcastMass) bool { return j.TagDeletedAt != nil })
	if job.FailedAt == nil || job.ErrCode != 48001 || len(r.fake.Delivered()) != 0 || len(r.fake.Tags()) != 0 {
		t.Fatalf("job %+v, delivered %d, tags %v", job, len(r.fake.Delivered()), r.fake.Tags())
	}

	// No tag left on the account.
	r.fake.Fail(wxfake.APIMassSendAll, 0, 0)
	wx := wxapi.New(wxapi.Options{OA: testApp, Redis: r.rdb.Client, Log: testenv.Logger()})
	for i := range wxfake.MaxTags {
		if _, err := wx.CreateTag(context.Background(), "other"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	b2, _ := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "y", Channel: ChannelMass})
	p = waitFinal(t, r.svc, b2.ID, 30*time.Second)
	prog, _ = r.svc.Progress(context.Background(), allScope, b2.ID, true)
	if p.Failed != 36 || len(prog.Reasons) == 0 || prog.Reasons[0].ErrCode != wxapi.CodeTooManyTags || !strings.Contains(prog.Reasons[0].Reason, "标签已满") {
		t.Fatalf("with no tag left: %+v %+v", p.Counts, prog.Reasons)
	}
	if quotaOf(t, r, month, m1) != 2 {
		t.Fatal("a count was taken for a mass send that never was")
	}

	// Cancelled while WeChat is busy: the tagged recipients are cancelled, their counts given back.
	for id := range r.fake.Tags() {
		wx.DeleteTag(context.Background(), id)
	}
	r.fake.Fail(wxfake.APIMassSendAll, -1, -1)
	b3, _ := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "z", Channel: ChannelMass})
	waitJob(t, r.svc, b3.ID, 30*time.Second, "a retried sendall", func(j *models.BroadcastMass) bool { return j.Attempts >= 1 })
	if quotaOf(t, r, month, m1) != 3 {
		t.Fatalf("o_1's count while tagged: %d", quotaOf(t, r, month, m1))
	}
	admin := &console.Viewer{AccountID: 1, Username: "root", Role: models.ConsoleAdmin, Scope: allScope}
	if _, err := r.svc.Cancel(context.Background(), admin, b3.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var cur models.Broadcast
		r.db.Take(&cur, b3.ID)
		if cur.FinishedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancelled broadcast did not finish")
		}
	}
	p, _ = r.svc.Progress(context.Background(), allScope, b3.ID, false)
	if p.Cancelled != 36 || p.Queued != 0 || quotaOf(t, r, month, m1) != 2 {
		t.Fatalf("cancelled: %+v, o_1's count %d", p.Counts, quotaOf(t, r, month, m1))
	}
	waitJob(t, r.svc, b3.ID, 20*time.Second, "tag deleted", func(j *models.BroadcastMass) bool { return j.TagDeletedAt != nil })
}

// TestChannelChoice: auto sends a notice by mass send from the threshold on (members with WeChat,
// after the roles), a smaller one each on his own; mass and direct are taken as asked; a survey never
// goes by mass send; anything else is refused.
func TestChannelChoice(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 2, 2, 100) // 90 with WeChat, 10 of them secretaries
	r.svc.SetMassThreshold(50)
	for _, c := range []struct {
		in   NoticeInput
		want string
	}{
		{NoticeInput{OrgPaths: []string{"测试县"}}, models.SendMass},
		{NoticeInput{OrgPaths: []string{"测试县"}, Channel: ChannelAuto, Roles: []string{models.RoleSecretary}}, models.SendDirect},
		{NoticeInput{OrgPaths: []string{"测试县/镇0"}}, models.SendDirect}, // 45 with WeChat
		{NoticeInput{OrgPaths: []string{"测试县/镇0", "测试县/镇1/村0"}}, models.SendMass},
		{NoticeInput{OrgPaths: []string{"测试县"}, Channel: ChannelDirect}, models.SendDirect},
		{NoticeInput{OrgPaths: []string{"测试县/镇0/村1"}, Channel: ChannelMass}, models.SendMass},
		{NoticeInput{OrgPaths: []string{"测试县"}, Kind: models.BroadcastSurvey, Payload: `{"survey_id":1}`}, models.SendDirect},
	} {
		c.in.Text = "x"
		b, err := r.svc.Create(context.Background(), nil, c.in)
		kind := c.in.Kind
		if kind == "" {
			kind = models.BroadcastNotice
		}
		if err != nil || b.Channel != c.want || b.Kind != kind {
			t.Fatalf("%+v: %+v %v, want channel %q", c.in, b, err, c.want)
		}
	}
	for _, in := range []NoticeInput{
		{OrgPaths: []string{"测试县"}, Text: "x", Channel: "everyone"},
		{OrgPaths: []string{"测试县"}, Text: "x", Channel: ChannelMass, Kind: models.BroadcastSurvey, Payload: `{"survey_id":1}`},
	} {
		var ie *console.InputError
		if _, err := r.svc.Create(context.Background(), nil, in); !errors.As(err, &ie) || ie.Field != "channel" {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	if _, err := r.svc.Create(context.Background(), nil, NoticeInput{OrgPaths: []string{"测试县"}, Text: "x", Kind: models.BroadcastSurvey}); err == nil {
		t.Fatal("a survey's broadcast without its survey")
	}
}
