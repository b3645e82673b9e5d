// Package clipdrop serves Clipdrop's uncrop API (/uncrop/v1), x-api-key
// auth. Errors are {"error": ...} (core.ClipdropError).
// It imports server/internal/core and no other dialect.
package clipdrop

import "github.com/canvasd/canvasd/server/internal/core"

// API is the receiver of this dialect's handlers: the shared server state
// (store, hub, logger, limits, ...) reached through the embedded core.Server.
type API struct{ *core.Server }

// New returns the handlers of this dialect over s.
func New(s *core.Server) *API { return &API{Server: s} }
