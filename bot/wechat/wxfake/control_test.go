package wxfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// control posts to one of the fake's control endpoints and returns the status and body.
func (c *client) control(path string, q url.Values) (int, string) {
	c.t.Helper()
	resp, err := http.Post(c.url+path+"?"+q.Encode(), "", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) stats() Stats {
	c.t.Helper()
	resp, err := http.Get(c.url + "/_fake/stats")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("/_fake/stats: %d %v", resp.StatusCode, err)
	}
	return st
}

func TestControlFaultAnswersTheErrcodeKTimes(t *testing.T) {
	_, c := start(t)
	tok := c.token("wxa", "s")["access_token"].(string)
	q := url.Values{"access_token": {tok}}

	if st, body := c.control("/_fake/fault", url.Values{"api": {APICustomSend}, "errcode": {"45011"}, "times": {"2"}}); st != http.StatusOK || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("fault: %d %s", st, body)
	}
	for i, want := range []int{45011, 45011, 0} {
		if _, m := c.post(APICustomSend, q, text("o1", "x")); errcode(m) != want {
			t.Fatalf("call %d: errcode %d, want %d", i, errcode(m), want)
		}
	}

	// times=-1 lasts until cleared by times=0; another API is not touched.
	c.control("/_fake/fault", url.Values{"api": {APITemplateSend}, "errcode": {"-1"}, "times": {"-1"}})
	tpl := map[string]any{"touser": "o1", "template_id": "T", "data": map[string]any{"k": map[string]string{"value": "v"}}}
	for i := range 3 {
		if _, m := c.post(APITemplateSend, q, tpl); errcode(m) != -1 {
			t.Fatalf("template call %d: %v, want -1 until cleared", i, m)
		}
	}
	if _, m := c.post(APICustomSend, q, text("o1", "x")); errcode(m) != 0 {
		t.Fatalf("custom send while templates fail: %v", m)
	}
	c.control("/_fake/fault", url.Values{"api": {APITemplateSend}, "errcode": {"-1"}, "times": {"0"}})
	if _, m := c.post(APITemplateSend, q, tpl); errcode(m) != 0 {
		t.Fatalf("template after clearing: %v", m)
	}

	// An HTTP status, every API, once.
	c.control("/_fake/status", url.Values{"api": {AllAPIs}, "status": {"503"}})
	if st, _ := c.post(APICustomSend, q, text("o1", "x")); st != http.StatusServiceUnavailable {
		t.Fatalf("status fault: %d, want 503", st)
	}
	if st, _ := c.post(APICustomSend, q, text("o1", "x")); st != http.StatusOK {
		t.Fatalf("after one 503: %d", st)
	}

	// Down, then up again.
	c.control("/_fake/down", url.Values{"on": {"1"}})
	if st, _ := c.post(APICustomSend, q, text("o1", "x")); st != http.StatusServiceUnavailable {
		t.Fatalf("down: %d", st)
	}
	c.control("/_fake/down", url.Values{"on": {"0"}})
	if st, m := c.post(APICustomSend, q, text("o1", "x")); st != http.StatusOK || errcode(m) != 0 {
		t.Fatalf("up again: %d %v", st, m)
	}

	// A delay, then reset-faults clears it (and a standing fault) but keeps the counts.
	c.control("/_fake/delay", url.Values{"api": {APICustomSend}, "ms": {"3000"}})
	c.control("/_fake/fault", url.Values{"api": {APIQRCodeCreate}, "errcode": {"48001"}, "times": {"-1"}})
	hc := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := hc.Post(c.url+APICustomSend+"?"+q.Encode(), "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("delayed call did not time out")
	}
	before := c.stats()
	if st, _ := c.control("/_fake/reset-faults", nil); st != http.StatusOK {
		t.Fatalf("reset-faults: %d", st)
	}
	if _, m := c.post(APICustomSend, q, text("o1", "x")); errcode(m) != 0 {
		t.Fatalf("after reset-faults: %v", m)
	}
	if after := c.stats(); after.Calls[APICustomSend] != before.Calls[APICustomSend]+1 || after.TokenFetches["wxa"] != 1 {
		t.Fatalf("reset-faults lost the counts: before %+v after %+v", before, after)
	}
}

func TestControlRejectsBadRequests(t *testing.T) {
	f, c := start(t)
	for _, tc := range []struct {
		path string
		q    url.Values
	}{
		{"/_fake/fault", url.Values{"api": {"/cgi-bin/nothing"}, "errcode": {"1"}}},
		{"/_fake/fault", url.Values{"errcode": {"1"}}},
		{"/_fake/fault", url.Values{"api": {APICustomSend}}},
		{"/_fake/fault", url.Values{"api": {APICustomSend}, "errcode": {"x"}}},
		{"/_fake/fault", url.Values{"api": {APICustomSend}, "errcode": {"1"}, "times": {"-2"}}},
		{"/_fake/status", url.Values{"api": {APICustomSend}, "status": {"200"}}},
		{"/_fake/status", url.Values{"api": {APICustomSend}, "status": {"1000"}}},
		{"/_fake/delay", url.Values{"api": {APICustomSend}, "ms": {"-5"}}},
		{"/_fake/delay", url.Values{"api": {APICustomSend}}},
		{"/_fake/down", url.Values{"on": {"yes"}}},
		{"/_fake/down", nil},
	} {
		if st, body := c.control(tc.path, tc.q); st != http.StatusBadRequest {
			t.Errorf("%s?%s: %d %s, want 400", tc.path, tc.q.Encode(), st, body)
		}
	}
	if st, body := c.control("/_fake/fault", url.Values{"api": {"/x"}, "errcode": {"1"}}); !strings.Contains(body, APICustomSend) {
		t.Errorf("an unknown api's error should list the names: %d %s", st, body)
	}
	// Wrong methods and unknown control paths.
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/_fake/fault"}, {http.MethodPost, "/_fake/stats"}, {http.MethodPost, "/_fake/calls"}, {http.MethodGet, "/_fake/nothing"},
	} {
		req, _ := http.NewRequest(tc.method, c.url+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusMethodNotAllowed
		if tc.path == "/_fake/nothing" {
			want = http.StatusNotFound
		}
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, want)
		}
	}
	// Nothing was injected by the bad requests.
	tok := c.token("wxa", "s")["access_token"].(string)
	if _, m := c.post(APICustomSend, url.Values{"access_token": {tok}}, text("o1", "x")); errcode(m) != 0 {
		t.Fatalf("a bad control request injected a fault: %v", m)
	}
	if len(f.Calls()) != 2 {
		t.Fatalf("control requests were recorded as calls: %d", len(f.Calls()))
	}
}

func TestStatsCountWithoutKeepingCalls(t *testing.T) {
	f, c := start(t)
	f.KeepCalls(false)
	f.AddApp("wxa", "s")
	tok := c.token("wxa", "s")["access_token"].(string)
	c.token("wxa", "s") // the current token again: a second fetch
	if errcode(c.token("wxa", "wrong")) != 40125 {
		t.Fatal("wrong secret accepted")
	}
	q := url.Values{"access_token": {tok}}
	for _, to := range []string{"o1", "o2", "o1"} {
		c.post(APICustomSend, q, text(to, "x"))
	}
	f.SetUserError("o3", 43004)
	c.post(APICustomSend, q, text("o3", "x"))
	c.post(APICustomSend, url.Values{"access_token": {"bad"}}, text("o4", "x"))
	c.post("/cgi-bin/nothing", q, nil)

	st := c.stats()
	want := Stats{
		TokenFetches: map[string]int{"wxa": 2},
		Calls:        map[string]int{APIStableToken: 3, APICustomSend: 5, "unknown": 1},
		OK:           map[string]int{APIStableToken: 2, APICustomSend: 3, "unknown": 0},
		Failed:       map[string]int{APIStableToken: 1, APICustomSend: 2, "unknown": 1},
		Delivered:    2, Duplicates: 1,
	}
	st.MaxPerSecond = 0 // depends on the clock's second boundaries
	got, _ := json.Marshal(st)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Fatalf("stats\n got %s\nwant %s", got, exp)
	}
	if c.stats().MaxPerSecond < 1 {
		t.Fatal("max_per_second not counted")
	}
	if len(f.Calls()) != 0 {
		t.Fatal("calls kept with KeepCalls(false)")
	}
	f.Reset()
	if st := c.stats(); len(st.Calls) != 0 || st.Delivered != 0 || len(st.TokenFetches) != 0 {
		t.Fatalf("after Reset: %+v", st)
	}
}
