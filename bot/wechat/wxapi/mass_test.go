package wxapi

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
)

// TestTagsAndMassSend: a tag is made (and found by name when it exists), users are tagged 50 at a
// time, one text goes to the tag and a repeat with its clientmsgid is refused with 45065; the tag is
// deleted. An expired token is refreshed on the GET of tags/get as on the POSTs.
func TestTagsAndMassSend(t *testing.T) {
	e := setup(t)
	c := New(e.opts)
	ctx := context.Background()
	tag, err := c.CreateTag(ctx, "yz-bc-7")
	if err != nil || tag == 0 {
		t.Fatal(tag, err)
	}
	var ae *APIError
	if _, err := c.CreateTag(ctx, "yz-bc-7"); !errors.As(err, &ae) || ae.Code != CodeTagNameExists || Classify(err) != Permanent {
		t.Fatalf("the same name again: %v", err)
	}
	e.fake.ExpireTokens()
	if id, ok, err := c.TagID(ctx, "yz-bc-7"); err != nil || !ok || id != tag {
		t.Fatalf("TagID: %d %v %v", id, ok, err)
	}
	if _, ok, err := c.TagID(ctx, "nope"); err != nil || ok {
		t.Fatalf("TagID of no tag: %v %v", ok, err)
	}
	users := make([]string, 51)
	for i := range users {
		users[i] = "u" + strconv.Itoa(i)
	}
	if err := c.TagUsers(ctx, tag, users); err == nil {
		t.Fatal("51 openids in one call")
	}
	if err := c.TagUsers(ctx, tag, users[:50]); err != nil {
		t.Fatal(err)
	}
	if err := c.TagUsers(ctx, tag, users[50:]); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.TagMembers(tag)); n != 51 {
		t.Fatalf("%d tagged", n)
	}
	msgID, err := c.SendTextToTag(ctx, tag, "通知", "yz-bc-7")
	if err != nil || msgID == 0 {
		t.Fatal(msgID, err)
	}
	if job, _ := e.fake.MassJob(msgID); job.SentCount != 51 {
		t.Fatalf("job %+v", job)
	}
	if _, err := c.SendTextToTag(ctx, tag, "通知", "yz-bc-7"); !errors.As(err, &ae) || ae.Code != CodeMassSentOnce {
		t.Fatalf("repeat: %v", err)
	}
	if err := c.UntagUsers(ctx, tag, users[:1]); err != nil || len(e.fake.TagMembers(tag)) != 50 {
		t.Fatalf("untag: %v", err)
	}
	if err := c.DeleteTag(ctx, tag); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTag(ctx, tag); !errors.As(err, &ae) || ae.Code != 45159 {
		t.Fatalf("delete twice: %v", err)
	}
	if len(e.fake.CallsTo(wxfake.APITagsGet)) != 3 { // one refused (42001), then refreshed, then the other name
		t.Fatalf("tags/get calls: %d", len(e.fake.CallsTo(wxfake.APITagsGet)))
	}
}
