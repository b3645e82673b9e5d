// Package deal serves the deal-canvas image pipeline
// (/api/canvas/{deal_id}/images): recrop, versions, sources and the
// batch-digitize SSE stream. Errors are {"detail": ...} (core.DetailError).
// It imports server/internal/core and no other dialect.
package deal

import "github.com/canvasd/canvasd/server/internal/core"

// API is the receiver of this dialect's handlers: the shared server state
// (store, hub, logger, limits, ...) reached through the embedded core.Server.
type API struct{ *core.Server }

// New returns the handlers of this dialect over s.
func New(s *core.Server) *API { return &API{Server: s} }
