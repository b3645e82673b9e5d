// Package server is canvasd's HTTP face: the gin router, auth, handlers for
// the four API dialects (Canvus /api/v1, deal-canvas /api/canvas, Clipdrop
// /uncrop/v1, crop jobs /v1) and the live transports (websocket, ?subscribe
// NDJSON, SSE) over hub subscriptions. It is the only package that imports
// gin.
//
// Every handler that changes state goes through store.Store.Write and answers
// only after the commit is durable; the store's commit hook hands the
// committed events to the hub, so viewers see a change no earlier than it is
// on disk.
package server
