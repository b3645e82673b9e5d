// Package server is canvasd's HTTP face: the gin router, auth, handlers for
// the four API dialects (Canvus /api/v1, deal-canvas /api/canvas, Clipdrop
// /uncrop/v1, crop jobs /v1) and the live transports (websocket, ?subscribe
// NDJSON, SSE) over hub subscriptions. It is the only package that imports
// gin.
//
// routes.go holds the route table: every route of every dialect, grouped by
// dialect, registered in one function; nothing registers routes elsewhere.
// Each dialect differs only in its authScheme (auth.go: where the token may
// be, and how refusals are written) and its error writer (errors.go, whose
// storeStatuses table maps store errors for all of them).
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
