// Package canvus serves the Canvus API v1 (/api/v1) and the admin routes:
// users, tokens, folders, canvases, widgets, images, the canvas websocket and
// NDJSON streams. Errors are {"msg": ...} (core.CanvusError).
// It imports server/internal/core and no other dialect.
package canvus

import "github.com/canvasd/canvasd/server/internal/core"

// API is the receiver of this dialect's handlers: the shared server state
// (store, hub, logger, limits, ...) reached through the embedded core.Server.
type API struct{ *core.Server }

// New returns the handlers of this dialect over s.
func New(s *core.Server) *API { return &API{Server: s} }
