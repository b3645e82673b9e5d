// Package server is canvasd's HTTP face. It keeps New, Config, Option and
// the route table, and wires the shared core to the four API dialects:
//
//   - server/internal/core: per-server state, auth, error shapes, request
//     decoding, limits, live-stream registry, SSE plumbing, metrics;
//   - server/canvus: Canvus /api/v1 and /admin (users, canvases, widgets,
//     images, websocket and NDJSON streams);
//   - server/deal: deal-canvas /api/canvas/{deal_id}/images (recrop,
//     versions, batch-digitize SSE);
//   - server/clipdrop: Clipdrop /uncrop/v1;
//   - server/cropjobs: Crop.photo's /v1 (banner jobs, auto-resize-align,
//     remove-background, outputs).
//
// routes.go holds the route table: every route of every dialect, grouped by
// dialect, registered in one function; nothing registers routes elsewhere.
// Each dialect differs only in its auth scheme (core.CanvusScheme, ...:
// where the token may be, and how refusals are written) and its error
// writer (core/errors.go, whose storeStatuses table maps store errors for
// all of them).
//
// A Server holds all its state: metrics registry, viewers, job runner,
// limits, OCR setting. Two servers in one process share nothing; gin's
// process-wide mode is main's to set.
//
// Every handler that changes state goes through store.Store.Write and answers
// only after the commit is durable; the store's commit hook hands the
// committed events to the hub, so viewers see a change no earlier than it is
// on disk.
package server
