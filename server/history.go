package server

import (
	"errors"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/internal/wsfan"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
)

// History adapts the store's event log to hub.History. The store imports
// nothing of ours, so the adapter lives here.
type History struct{ St *store.Store }

var _ hub.History = History{}

// Since implements hub.History.
func (h History) Since(canvas string, since uint64) ([]hub.Message, error) {
	evs, err := h.St.EventsSince(canvas, since)
	if errors.Is(err, store.ErrTooOld) {
		return nil, hub.ErrTooOld
	}
	if err != nil {
		return nil, err
	}
	out := make([]hub.Message, len(evs))
	for i, e := range evs {
		out[i] = hub.Message{Canvas: canvas, Seq: e.Seq, Data: e.Data}
	}
	return out, nil
}

var _ hub.PagedHistory = History{}

// SincePage implements hub.PagedHistory: a replay reads the log a page at a
// time, each page in its own short read transaction.
func (h History) SincePage(canvas string, since uint64, maxBytes int) ([]hub.Message, bool, error) {
	evs, more, err := h.St.EventsPage(canvas, since, maxBytes)
	if errors.Is(err, store.ErrTooOld) {
		return nil, false, hub.ErrTooOld
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]hub.Message, len(evs))
	for i, e := range evs {
		out[i] = hub.Message{Canvas: canvas, Seq: e.Seq, Data: e.Data}
	}
	return out, more, nil
}

// HubOption adjusts the hub NewHub builds.
type HubOption func(*hub.Options)

// HubMetrics makes the hub count deliveries, replays and slow-client closes
// into m; pass the same m to New with WithMetrics.
func HubMetrics(m *core.Metrics) HubOption {
	return func(o *hub.Options) { o.OnSlowClose, o.OnDeliver, o.OnReplay = m.HubHooks() }
}

// NewHub builds the hub the server expects: store-backed history, and
// without HubMetrics no metrics hooks.
func NewHub(st *store.Store, queueBytes int, opts ...HubOption) *hub.Hub {
	o := hub.Options{QueueBytes: queueBytes, History: History{St: st}, Frame: wsfan.Frame}
	for _, f := range opts {
		f(&o)
	}
	return hub.New(o)
}
