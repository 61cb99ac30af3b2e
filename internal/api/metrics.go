package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus series Warden exports on /metrics.
type Metrics struct {
	gatherer   prometheus.Gatherer
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	batches    *prometheus.CounterVec
	batchSize  prometheus.Histogram
	batchTime  prometheus.Histogram
	appendedTo *prometheus.CounterVec
}

// NewMetrics registers Warden's series (and the Go runtime's) with reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		gatherer: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "warden_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_ledger_batches_total", Help: "Ledger append transactions by result.",
		}, []string{"result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "warden_ledger_batch_entries", Help: "Entries per ledger append transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "warden_ledger_batch_duration_seconds", Help: "Time to write and commit one append transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		// No tenant label: /metrics needs no key, and tenant ids are not
		// for anyone who can reach the port.
		appendedTo: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_ledger_entries_total", Help: "Entries handled by the appender, by result.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.latency, m.batches, m.batchSize, m.batchTime, m.appendedTo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeRequest(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveBatch records one append transaction; it fits ledger.Config.Observe.
func (m *Metrics) ObserveBatch(_ string, entries int, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.batches.WithLabelValues(result).Inc()
	m.batchSize.Observe(float64(entries))
	m.batchTime.Observe(took.Seconds())
	m.appendedTo.WithLabelValues(result).Add(float64(entries))
}
