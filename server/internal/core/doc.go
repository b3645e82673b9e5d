// Package core is the shared core under canvasd's four API dialects
// (server/canvus, server/deal, server/clipdrop, server/cropjobs).
//
// It owns the per-server state (Server: config, store, hub, logger, source
// cache, fetcher, decode guard, rate limits, login throttle, auth cache,
// metrics registry, viewers, batch replay logs, OCR setting), the
// middleware (recoverer, request log, deadlines, security headers,
// anonymous-connection cap, Expensive), the one auth middleware
// Authenticated(scheme) with each dialect's token scheme, the error shapes
// of the four dialects with the one store-error table (errors.go), request
// decoding (jsonbody.go, ReadMultipart in images.go), the live-stream
// registry and the SSE plumbing, and the helpers more than one dialect uses
// (NewVersionSized, RunUncrop, ServeBlob, LoadImageURL, DefaultProps, ...).
//
// core imports no dialect and no server package; dialects import core and
// no other dialect; server (routes.go) imports them all.
package core
