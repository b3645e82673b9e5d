package server

import (
	"errors"
	"testing"

	"github.com/canvasd/canvasd/hub"
)

// TestClusterHubMetricsCount: each cluster hook moves its counter, the
// option can be built twice on one registry, and errors reach the logger.
func TestClusterHubMetricsCount(t *testing.T) {
	m := NewMetrics()
	var logged []string
	var o hub.Options
	ClusterHubMetrics(m, nil)(&o)
	ClusterHubMetrics(m, func(what string, err error) { logged = append(logged, what+": "+err.Error()) })(&o)
	o.OnFill("c", 3)
	o.OnFill("c", 2)
	o.OnHeadRepair("c")
	o.OnHeadCheckError(errors.New("db down"))
	o.OnBrokerError(errors.New("nats down"))
	o.OnBrokerError(errors.New("nats down"))
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, mm := range f.GetMetric() {
			if c := mm.GetCounter(); c != nil {
				got[f.GetName()] = c.GetValue()
			}
		}
	}
	want := map[string]float64{
		"canvasd_hub_filled_events_total":       5,
		"canvasd_hub_head_repairs_total":        1,
		"canvasd_hub_head_check_errors_total":   1,
		"canvasd_broker_publish_failures_total": 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(logged) != 3 || logged[0] != "head check: db down" {
		t.Fatalf("logged %q", logged)
	}
}
