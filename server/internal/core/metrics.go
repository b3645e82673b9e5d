package core

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one server's Prometheus registry and metrics. Each Server has
// its own (New builds one unless WithMetrics passes it in), so that two
// servers in one process count apart. Build it first when the hub should
// count into it too: NewHub(st, q, m) and New(..., WithMetrics(m)).
type Metrics struct {
	reg *prometheus.Registry

	httpDuration    *prometheus.HistogramVec
	StreamsOpen     *prometheus.GaugeVec
	hubDeliveries   prometheus.Counter
	hubSlowCloses   prometheus.Counter
	hubReplayed     prometheus.Counter
	OpDuration      *prometheus.HistogramVec
	CreditsConsumed prometheus.Counter
	JobQueueDepth   prometheus.Gauge
	Rejected        *prometheus.CounterVec

	// Store gauges, refreshed on each scrape (updateStoreGauges).
	eventLogSize prometheus.Gauge
	blobBytes    prometheus.Gauge
	blobCount    prometheus.Gauge
	boltTx       *prometheus.GaugeVec
}

// NewMetrics builds a registry holding canvasd's metrics and the Go and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "canvasd_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		StreamsOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "canvasd_streams_open", Help: "Open live connections by transport (websocket, ndjson, sse).",
		}, []string{"transport"}),
		hubDeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canvasd_hub_deliveries_total", Help: "Messages queued to subscribers.",
		}),
		hubSlowCloses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canvasd_hub_slow_client_closes_total", Help: "Subscribers closed because their queue overflowed.",
		}),
		hubReplayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canvasd_hub_replayed_events_total", Help: "Events replayed from the log to resuming subscribers.",
		}),
		OpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "canvasd_operation_duration_seconds", Help: "Image operation durations (recrop, uncrop, digitize, jobs, preview renders, mipmap levels).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"op"}),
		CreditsConsumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canvasd_credits_consumed_total", Help: "Uncrop credits consumed.",
		}),
		JobQueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canvasd_job_queue_depth", Help: "Crop jobs pending or processing.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canvasd_rejected_total", Help: "Requests refused by limits (saturation, rate).",
		}, []string{"reason"}),
		eventLogSize: prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_event_log_events", Help: "Events retained in all canvas logs."}),
		blobBytes:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_blob_bytes", Help: "Bytes of referenced blob files."}),
		blobCount:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_blobs", Help: "Referenced blob files."}),
		boltTx:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "canvasd_bbolt_tx", Help: "bbolt transaction stats (cumulative)."}, []string{"stat"}),
	}
	m.reg.MustRegister(m.httpDuration, m.StreamsOpen, m.hubDeliveries, m.hubSlowCloses, m.hubReplayed, m.OpDuration,
		m.CreditsConsumed, m.JobQueueDepth, m.Rejected, m.eventLogSize, m.blobBytes, m.blobCount, m.boltTx,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gatherer is the registry, for scrapes and tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// HubHooks are the hooks to pass in hub.Options (NewHub does).
func (m *Metrics) HubHooks() (onSlow func(string), onDeliver func(int), onReplay func(int)) {
	return func(string) { m.hubSlowCloses.Inc() },
		func(n int) { m.hubDeliveries.Add(float64(n)) },
		func(n int) { m.hubReplayed.Add(float64(n)) }
}

// observeHTTP records a request under bounded labels only: a known method
// (else "other") and the matched route pattern (else "unmatched"), so that
// clients cannot add series by inventing methods or paths.
func (m *Metrics) observeHTTP(c *gin.Context, d time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.httpDuration.WithLabelValues(methodLabel(c.Request.Method), route, strconv.Itoa(c.Writer.Status())).Observe(d.Seconds())
}

// methodLabel is the method as a metric label: one of the methods canvasd
// knows, or "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// MetricsHandler serves the Prometheus metrics, without any check: mount it
// on a private listener (cmd/canvasd's --admin-addr).
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.Metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.updateStoreGauges()
		h.ServeHTTP(w, r)
	})
}

// metricsHandler is GET /metrics on the public listener: 404 with
// MetricsAdminOnly, and with MetricsToken set only for
// "Authorization: Bearer <MetricsToken>".
func (s *Server) MetricsRoute() gin.HandlerFunc {
	h := s.MetricsHandler()
	return func(c *gin.Context) {
		if s.Cfg.MetricsAdminOnly {
			CanvusError(c, http.StatusNotFound, "Not found")
			return
		}
		if want := s.Cfg.MetricsToken; want != "" {
			got := bearerToken(c)
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				c.Header("WWW-Authenticate", "Bearer")
				CanvusError(c, http.StatusUnauthorized, "Metrics need a bearer token")
				return
			}
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}
