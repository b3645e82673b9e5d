package server

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds canvasd's Prometheus metrics.
var Registry = prometheus.NewRegistry()

var (
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "canvasd_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})
	streamsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "canvasd_streams_open", Help: "Open live connections by transport (websocket, ndjson, sse).",
	}, []string{"transport"})
	hubDeliveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_deliveries_total", Help: "Messages queued to subscribers.",
	})
	hubSlowCloses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_slow_client_closes_total", Help: "Subscribers closed because their queue overflowed.",
	})
	hubReplayed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_replayed_events_total", Help: "Events replayed from the log to resuming subscribers.",
	})
	opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "canvasd_operation_duration_seconds", Help: "Image operation durations (recrop, uncrop, digitize, jobs).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"op"})
	creditsConsumed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_credits_consumed_total", Help: "Uncrop credits consumed.",
	})
	jobQueueDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "canvasd_job_queue_depth", Help: "Crop jobs pending or processing.",
	})
	rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canvasd_rejected_total", Help: "Requests refused by limits (saturation, rate).",
	}, []string{"reason"})
)

func init() {
	Registry.MustRegister(httpDuration, streamsOpen, hubDeliveries, hubSlowCloses, hubReplayed, opDuration,
		creditsConsumed, jobQueueDepth, rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// HubMetrics are the hooks to pass in hub.Options.
func HubMetrics() (onSlow func(string), onDeliver func(int), onReplay func(int)) {
	return func(string) { hubSlowCloses.Inc() },
		func(n int) { hubDeliveries.Add(float64(n)) },
		func(n int) { hubReplayed.Add(float64(n)) }
}

func observeHTTP(c *gin.Context, d time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	httpDuration.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Observe(d.Seconds())
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
	return func(c *gin.Context) {
		s.updateStoreGauges()
		h.ServeHTTP(c.Writer, c.Request)
	}
}
