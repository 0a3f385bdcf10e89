package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
)

// BenchmarkReadPath measures the webhook's read path in process: a bound member sends 帮助 in safe
// mode (signature, decrypt, dedup, identity, state, routing, encrypted reply). Requests are encoded
// before the timer starts. Run with YANZHEN_TEST_REDIS_URL set for a real Redis:
//
//	go test -run '^$' -bench ReadPath -cpu 1 ./server/
func BenchmarkReadPath(b *testing.B) {
	h := newHarness(b, "")
	c := h.oa(wxclient.Safe)
	users := len(h.codes)
	for i := 0; i < users; i++ {
		h.send(c, c.Text("o-bench-"+strconv.Itoa(i), "绑定 "+h.codes[i].BindCode))
	}
	reqs := make([]*wxclient.Request, b.N)
	for i := range reqs {
		r, err := c.Encode(c.Text("o-bench-"+strconv.Itoa(i%users), "帮助"))
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	handler := h.app.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/wechat/oa?"+reqs[i].Query, bytes.NewReader(reqs[i].Body))
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
