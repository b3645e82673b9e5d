package core

import (
	"errors"

	"github.com/canvasd/canvasd/hub"
	"github.com/prometheus/client_golang/prometheus"
)

// ClusterHubHooks counts, into m, what keeps the nodes of a cluster
// consistent: events filled from the log (a gap, or a head-check repair),
// head-check repairs and failed reads, and broker publishes that failed (the
// message then reached this node's viewers only). logErr, if not nil, also
// sees each error. Single-node hubs fill gaps too (publishes reordered past
// GapTimeout), so serve passes it in every mode. Building it twice on one m
// counts into the same series.
func (m *Metrics) ClusterHubHooks(logErr func(what string, err error)) func(*hub.Options) {
	filled := registerOnce(m.reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_filled_events_total", Help: "Events a topic read from the log to fill a hole or a lost tail.",
	}))
	repairs := registerOnce(m.reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_head_repairs_total", Help: "Canvases a head check found behind the log's head.",
	}))
	headErrs := registerOnce(m.reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_hub_head_check_errors_total", Help: "Head checks that could not read the heads.",
	}))
	pubErrs := registerOnce(m.reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "canvasd_broker_publish_failures_total", Help: "Broker publishes that failed; delivered to local viewers only.",
	}))
	if logErr == nil {
		logErr = func(string, error) {}
	}
	return func(o *hub.Options) {
		o.OnFill = func(_ string, n int) { filled.Add(float64(n)) }
		o.OnHeadRepair = func(string) { repairs.Inc() }
		o.OnHeadCheckError = func(err error) { headErrs.Inc(); logErr("head check", err) }
		o.OnBrokerError = func(err error) { pubErrs.Inc(); logErr("broker publish", err) }
	}
}

// registerOnce registers c, or returns the counter already registered under
// its name, so that building the option twice counts into one series.
func registerOnce(reg *prometheus.Registry, c prometheus.Counter) prometheus.Counter {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return old
			}
		}
		panic(err) // a name clash with another kind of metric: a programming error
	}
	return c
}
