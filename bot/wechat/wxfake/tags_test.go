package wxfake

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestTagsAndMassSend: tags are made, listed, filled (50 openids a call, 20 tags a user) and deleted
// within WeChat's limits, and a mass send to a tag reaches those of its members within their 4 mass
// messages a month, as its job report counts them.
func TestTagsAndMassSend(t *testing.T) {
	f, c := start(t)
	tok := c.token("wxa", "s")["access_token"].(string)
	q := url.Values{"access_token": {tok}}
	create := func(name string) (int64, int) {
		t.Helper()
		_, m := c.post(APITagsCreate, q, map[string]any{"tag": map[string]string{"name": name}})
		if tag, ok := m["tag"].(map[string]any); ok {
			return int64(tag["id"].(float64)), errcode(m)
		}
		return 0, errcode(m)
	}
	id, code := create("yz-bc-1")
	if id < 100 || code != 0 {
		t.Fatalf("create: %d %d", id, code)
	}
	for name, want := range map[string]int{"yz-bc-1": 45157, "": 45158, strings.Repeat("长", 11): 45158} {
		if _, code := create(name); code != want {
			t.Fatalf("create %q: %d, want %d", name, code, want)
		}
	}
	_, m := c.get(APITagsGet, q)
	if tags := m["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["name"] != "yz-bc-1" {
		t.Fatalf("tags/get: %v", m)
	}
	for i := 1; i < MaxTags; i++ {
		if _, code := create(fmt.Sprintf("t%d", i)); code != 0 {
			t.Fatalf("tag %d: %d", i, code)
		}
	}
	if _, code := create("one too many"); code != 45056 {
		t.Fatalf("tag 101: %d, want 45056", code)
	}

	users := []string{"u1", "u2", "u3"}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": users, "tagid": id}); errcode(m) != 0 {
		t.Fatalf("batchtagging: %v", m)
	}
	f.SetMassReceived("u2", MassMonthly) // his 4 this month are used
	_, m = c.post(APIMassSendAll, q, map[string]any{"filter": map[string]any{"tag_id": id}, "msgtype": "text",
		"text": map[string]string{"content": "通知"}, "clientmsgid": "yz-bc-1"})
	msgID := int64(m["msg_id"].(float64))
	job, ok := f.MassJob(msgID)
	if errcode(m) != 0 || !ok || job.TotalCount != 3 || job.FilterCount != 1 || job.SentCount != 2 {
		t.Fatalf("sendall %v: job %+v", m, job)
	}
	if d := f.Delivered(); d["u1"] != 1 || d["u2"] != 0 || f.MassReceived("u1") != 1 {
		t.Fatalf("delivered %v", d)
	}
	if _, m = c.post(APIMassSendAll, q, map[string]any{"filter": map[string]any{"tag_id": 99999}, "msgtype": "text",
		"text": map[string]string{"content": "x"}}); errcode(m) != 45159 {
		t.Fatalf("sendall to no tag: %v", m)
	}

	// A user carries at most 20 tags.
	for i := 101; i < 101+MaxUserTags-1; i++ {
		if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": []string{"u1"}, "tagid": i}); errcode(m) != 0 {
			t.Fatalf("tag u1 with %d: %v", i, m)
		}
	}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": []string{"u1", "u9"}, "tagid": 130}); errcode(m) != 45059 {
		t.Fatalf("u1's 21st tag: %v", m)
	}
	if _, m = c.post(APIBatchUntagging, q, map[string]any{"openid_list": []string{"u1"}, "tagid": 101}); errcode(m) != 0 {
		t.Fatalf("batchuntagging: %v", m)
	}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": []string{"u1"}, "tagid": 130}); errcode(m) != 0 {
		t.Fatalf("u1's 20th tag after one was taken off: %v", m)
	}

	// Deleting: not the system tags, not an unknown one, not one of more than 100,000 members.
	del := func(id int64) int {
		_, m := c.post(APITagsDelete, q, map[string]any{"tag": map[string]any{"id": id}})
		return errcode(m)
	}
	f.mu.Lock()
	f.tags[150] = map[string]bool{}
	for i := range MaxDeleteTagMembers + 1 {
		f.tags[150][fmt.Sprintf("big%d", i)] = true
	}
	f.mu.Unlock()
	for tag, want := range map[int64]int{2: 45058, 99999: 45159, 150: 45057, id: 0} {
		if got := del(tag); got != want {
			t.Fatalf("delete %d: %d, want %d", tag, got, want)
		}
	}
	if _, ok := f.Tags()[id]; ok || len(f.TagMembers(id)) != 0 {
		t.Fatal("the deleted tag is still there")
	}
	if _, m = c.post(APIBatchTagging, q, map[string]any{"openid_list": users, "tagid": id}); errcode(m) != 45159 {
		t.Fatalf("batchtagging a deleted tag: %v", m)
	}
}
