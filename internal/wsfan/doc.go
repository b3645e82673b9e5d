// Package wsfan writes websocket frames to many connections from a few
// goroutines (issue 15).
//
// A viewer that waits for events should cost memory, not a parked
// goroutine. The hub calls a Session's Wake when it queues a message for a
// subscriber (hub.SubscribeWake); Wake puts the session on the Pool's run
// queue at most once; up to GOMAXPROCS pool goroutines, started on demand
// and ended when the queue is empty, run the session's Source.Fill (which
// drains the subscription into a Batch) and write the batch with one
// non-blocking write(2). Several queued events go out together (copied into
// a pooled 16 KiB buffer, or as separate writes past that size); a single
// event is written straight from its frame, which the hub made once for
// every subscriber (hub.Options.Frame = Frame). When a socket is full the
// rest of the batch is handed to a goroutine of that connection's own,
// which waits (up to the write timeout) and then returns the session to the
// pool; the pool goroutines never block on a socket.
//
// # The seam in coder/websocket
//
// coder/websocket stays the protocol library: it does the handshake,
// reads (one reader goroutine per connection, which also answers pings),
// control frames and the close handshake. It has no way to write a frame
// that was framed elsewhere, nor a non-blocking write, so Accept wraps the
// http.ResponseWriter: its Hijack wraps the hijacked net.Conn in a Conn
// and gives the library small buffers (1 KiB read, 256 B write, in place of
// net/http's 4 KiB pair; net/http's connection state is let go). The pool
// writes whole server frames (final, unmasked text frames, RFC 6455 section
// 5.2) to that Conn directly. Both writers take Conn's write lock for whole
// frames: the library writes only control frames through its 256-byte
// buffer (at most 139 bytes, so one Write call each), and the pool holds
// the lock across a batch (TryLock, so that a pool goroutine never waits
// for it). No data frame is written through the library, so its write
// state (fragmentation, compression: off) is never out of step with the
// wire. Non-blocking writes use syscall.RawConn on the socket's descriptor;
// a connection without one (TLS) always writes from its own goroutine.
package wsfan
