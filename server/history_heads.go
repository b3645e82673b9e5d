package server

import (
	"context"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/store"
)

var _ hub.HeadReader = History{}

// Heads implements hub.HeadReader: the heads of several canvases' logs in
// one read transaction, for the hub's head check (cluster mode).
func (h History) Heads(_ context.Context, canvases []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(canvases))
	err := h.St.View(func(tx *store.Tx) error {
		for _, c := range canvases {
			out[c] = tx.Head(c)
		}
		return nil
	})
	return out, err
}
