// Package store owns canvasd's durable state: the bbolt schema (all of it in
// schema.go), the domain types (users, access tokens, canvas folders,
// canvases, widgets, image versions, jobs, events), content-addressed blob
// files, and the per-canvas event log.
//
// Every mutation runs through Store.Write, a single group-commit writer: a
// write waits for the commit that contains it, and that commit is fsynced
// before Write returns, so a caller that answers 2xx after Write has made the
// change durable. Requests that arrive while a commit is being flushed are
// collected into the next transaction, which is how the store reaches high
// durable write rates without bbolt's fixed batching delay.
//
// Each mutation of a canvas appends exactly one event (per changed resource)
// to that canvas's log, with the next gapless seq, in the same transaction as
// the change (a transactional outbox). After the commit the writer hands the
// encoded events, in seq order, to the OnCommit hook, which the server wires
// to the hub.
//
// The store does not know HTTP, gin or the hub; it imports nothing of ours.
package store
