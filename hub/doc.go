// Package hub fans committed canvas events out to live subscribers.
//
// The hub owns topics (one per canvas), subscribers with bounded queues,
// in-order delivery of sequenced events, and resume from a sequence number
// through the small History interface that the store satisfies. It knows
// bytes and sequence numbers, not widgets: a Message carries an envelope that
// was encoded once by the caller and is shared, unmodified, by every
// subscriber. It does not own transports (websocket, NDJSON, SSE live in
// server), encoding, permissions, or the event log itself (store).
//
// # Publishing
//
// Hub.Publish is called after the change is committed. It never blocks on a
// subscriber: each subscriber has a queue bounded in bytes of Data
// (Options.QueueBytes, 1 MiB by default). A subscriber whose queue would
// overflow is ended at once: its queue is dropped, Done is closed and Next
// returns *SlowError carrying the last Seq it handed out, so the transport can
// close the connection with that seq and the client can resume with since.
// A message larger than the bound is still accepted into an empty queue.
//
// Publish goes through the Broker; the hub's own broker handler delivers to
// local subscribers. MemoryBroker, the default, calls handlers synchronously,
// so a single node behaves as if there were no broker. A multi-node broker
// delivers every message to every node's handler and the same ordering rules
// below apply. If Broker.Publish fails the hub delivers locally anyway and
// reports the error through Options.OnBrokerError. A TopicBroker (the NATS
// one) delivers only the canvases a node joined: the hub joins a topic when
// it is created, before its subscribers read History, and leaves it when it
// is dropped.
//
// # Ordering
//
// Messages with Seq == 0 are ephemeral (presence, viewer joined/left): they go
// out immediately, are never stored or replayed and take no part in ordering.
//
// Callers assign Seq inside the commit transaction but may call Publish from
// several goroutines, so publishes of one canvas can arrive out of order. Each
// topic keeps the next Seq it expects and a reorder buffer: a message with the
// expected Seq is delivered together with any buffered run that follows it; a
// message ahead of it is buffered; one behind it (already delivered, or a
// duplicate from a broker) is dropped. The expected Seq is initialised lazily
// from the first sequenced message that reaches the topic. A topic exists only
// while it has subscribers, so publishing to a canvas nobody watches costs one
// map lookup.
//
// A gap that persists is filled from History, never by waiting forever: when
// it has lasted Options.GapTimeout (500 ms by default) or more than
// Options.MaxPending (1024) messages are buffered, one goroutine reads
// History.Since(expected-1) and delivers the missing run. Because Seq is
// assigned in commit order, every Seq below a published one is already
// committed, so the log has it unless it was trimmed. If it cannot be filled
// (History is nil, answers ErrTooOld, or keeps failing) the topic skips ahead,
// and every subscriber that needed the skipped events is ended with
// *SlowError: a subscriber never silently misses a sequenced event.
//
// A lost last message leaves no hole for a later one to reveal. With a
// multi-node broker, set Options.HeadCheck (and give a History that is a
// HeadReader): every HeadCheck the hub reads the heads of its active canvases
// in one query and fills any canvas whose head is beyond what it delivered,
// through the same fill as a gap. A node that committed but died before
// publishing, or a broker outage, is thus repaired within one HeadCheck.
// Before a topic has seen a sequenced message, "delivered" is the lowest
// since its subscribers resumed from. If History no longer holds what the
// head check found missing (the node lagged past the log's retention), the
// topic's subscribers are ended with *SlowError, as for an unfillable gap.
//
// # Resume
//
// Subscribe with since != nil registers the subscriber first (buffering live
// messages), then reads History.Since(since), then merges: replayed events,
// followed by buffered live ones with Seq above the last replayed, so there is
// no gap and no duplicate across the boundary. If the buffered live messages
// start beyond the replay (the topic saw a later Seq first), the log is read
// again from the last replayed Seq; it holds the missing events because they
// were committed before the later one was published. The same catch-up runs,
// in a short-lived goroutine, for a subscriber that later sees a gap in its
// own sequence. Replayed messages do not count against QueueBytes.
//
// When History is a PagedHistory (the store's is), a replay reads the log a
// page of about Options.ReplayPageBytes at a time: Subscribe queues the first
// page, and Next reads the next one only when the queue has run dry, so a
// subscriber holds one page however long the log and however slowly it
// reads. Live messages that arrive meanwhile wait in the subscriber's hold,
// bounded by QueueBytes as usual (overflow ends it with *SlowError, and the
// client resumes from its last Seq). A page that cannot be read (the log was
// trimmed beneath a slow reader) ends the subscriber with *SlowError too.
//
// Without History (Options.History == nil), Subscribe with *since > 0 returns
// ErrTooOld, so the transport sends RESYNC; *since == 0 means "from the first
// event", which works only for a canvas with no events yet: any gap ends the
// subscriber with *SlowError.
//
// # Locking and memory
//
// Lock order is registry (Hub.mu) → topic → subscription; no lock is held
// while calling History, the Broker, or the metrics hooks, except that
// delivery to a topic's subscribers runs under that topic's lock so that
// concurrent publishers cannot interleave. The hub starts no goroutine per
// subscriber: the transport's writer loop calling Next is the only one, and
// with SubscribeWake there is none: the hub calls the subscription's wake
// function (under its locks; it must only schedule) whenever Drain has
// something, and a pool of the transport's goroutines drains ready
// subscriptions (the websocket transport does, see internal/wsfan). An
// idle subscription is a few hundred bytes: its queue is a slice grown on
// demand and released after a burst, and its wake-up channel has one slot
// (none with SubscribeWake).
//
// # Framing once
//
// Options.Frame, when set, turns each delivered message's Data into the
// bytes a transport puts on the wire (the websocket transport sets it to a
// websocket text frame) once per message, in Message.Frame, shared by every
// subscriber like Data. Replayed messages have no Frame; the transport
// frames those itself. The seam this needs in coder/websocket (writing
// pre-framed bytes to the hijacked connection beneath it) is described in
// internal/wsfan.
package hub
