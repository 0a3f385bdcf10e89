package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus collectors the server exports at /metrics, on a registry of its own.
type Metrics struct {
	Registry     *prometheus.Registry
	Requests     *prometheus.CounterVec   // route, method, code
	Latency      *prometheus.HistogramVec // route
	Messages     *prometheus.CounterVec   // channel, kind
	DedupHits    *prometheus.CounterVec   // channel
	AsyncReplies *prometheus.CounterVec   // channel
	RedisErrors  prometheus.Counter
	Rejected     *prometheus.CounterVec // channel, reason
	Outbound     *prometheus.CounterVec // api, result
	Broadcast    *prometheus.CounterVec // outcome: broadcast recipients this process sent, failed, retried, released
}

// NewMetrics registers every collector.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "yanzhen_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_bot_messages_total", Help: "Chat messages dispatched by channel and kind.",
		}, []string{"channel", "kind"}),
		DedupHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_bot_dedup_hits_total", Help: "WeChat retries answered from the first delivery's record.",
		}, []string{"channel"}),
		AsyncReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_bot_async_replies_total", Help: "Messages whose handler outran the reply window and answered later.",
		}, []string{"channel"}),
		RedisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "yanzhen_bot_redis_errors_total", Help: "Messages answered 'busy' because Redis failed.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_webhook_rejected_total", Help: "Webhook requests rejected, by channel and reason.",
		}, []string{"channel", "reason"}),
		Outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_wechat_api_calls_total", Help: "Outbound WeChat API calls by API and result.",
		}, []string{"api", "result"}),
		Broadcast: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_broadcast_deliveries_total", Help: "Broadcast recipients this process delivered to, by outcome (sent, failed, retry, released).",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(m.Requests, m.Latency, m.Messages, m.DedupHits, m.AsyncReplies, m.RedisErrors,
		m.Rejected, m.Outbound, m.Broadcast,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
