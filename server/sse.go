package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Server-Sent Events for long operations (batch digitize). A long operation
// appends its events to an eventLog; every SSE stream, the one that started
// the operation and any later GET that resumes it with Last-Event-ID, is a
// reader of that log. So the work never waits on a client, a slow client only
// loses its own stream, and a replay sees exactly the bytes the first stream saw.

// sseEvent is one event of a log. Data is one line of JSON.
type sseEvent struct {
	id   uint64
	name string
	data []byte
}

// wire is the event as sent: "id: N\nevent: NAME\ndata: JSON\n\n".
func (e sseEvent) wire() []byte {
	b := make([]byte, 0, len(e.data)+len(e.name)+32)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, e.id, 10)
	b = append(b, "\nevent: "...)
	b = append(b, e.name...)
	b = append(b, "\ndata: "...)
	b = append(b, e.data...)
	return append(b, "\n\n"...)
}

// sseRingCap bounds the events one log keeps. A batch of 10 elements makes at
// most 24 events, so a batch's log is never cut in practice; the cap keeps a
// bug from growing one without bound.
const sseRingCap = 256

// eventLog is the replayable history of one operation: ids start at 1 and
// grow by one per event.
type eventLog struct {
	id       string
	canvasID string
	userID   uint64

	mu     sync.Mutex
	events []sseEvent // the newest sseRingCap events, oldest first
	next   uint64     // id of the next event
	size   int        // bytes held
	done   bool
	ended  time.Time
	wake   chan struct{} // closed (and replaced) at every append and at finish
}

func newEventLog(id, canvasID string, userID uint64) *eventLog {
	return &eventLog{id: id, canvasID: canvasID, userID: userID, next: 1, wake: make(chan struct{})}
}

// append encodes v as the data of a new event named name.
func (l *eventLog) append(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"error": map[string]string{"code": "internal_error", "message": "event encoding failed: " + err.Error()}})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.events = append(l.events, sseEvent{id: l.next, name: name, data: data})
	l.next++
	l.size += len(data) + len(name)
	if len(l.events) > sseRingCap {
		l.size -= len(l.events[0].data) + len(l.events[0].name)
		l.events = append(l.events[:0:0], l.events[1:]...)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// finish marks the log complete; readers end after its last event.
func (l *eventLog) finish(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.done, l.ended = true, now
	close(l.wake)
}

// since returns the events with an id above after, whether the log is
// finished, and a channel closed at the next change.
func (l *eventLog) since(after uint64) ([]sseEvent, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sseEvent
	for _, e := range l.events {
		if e.id > after {
			out = append(out, e)
		}
	}
	return out, l.done, l.wake
}

func (l *eventLog) state() (size int, done bool, ended time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size, l.done, l.ended
}

// logRegistry keeps event logs for replay: a finished log for ttl after it
// ended, a running one until it ends. When the finished logs hold more than
// maxBytes, the oldest go first. Expiry is lazy (at every add and get), so
// the registry needs no goroutine of its own.
type logRegistry struct {
	mu       sync.Mutex
	m        map[string]*eventLog
	ttl      time.Duration
	maxBytes int
	now      func() time.Time
}

func newLogRegistry(ttl time.Duration, maxBytes int, now func() time.Time) *logRegistry {
	return &logRegistry{m: map[string]*eventLog{}, ttl: ttl, maxBytes: maxBytes, now: now}
}

func (r *logRegistry) add(l *eventLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	r.m[l.id] = l
}

// get returns the log id, or nil when it is unknown or expired.
func (r *logRegistry) get(id string) *eventLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	return r.m[id]
}

func (r *logRegistry) sweepLocked() {
	now := r.now()
	type fin struct {
		id    string
		size  int
		ended time.Time
	}
	var finished []fin
	total := 0
	for id, l := range r.m {
		size, done, ended := l.state()
		if !done {
			continue
		}
		if now.Sub(ended) > r.ttl {
			delete(r.m, id)
			continue
		}
		finished = append(finished, fin{id, size, ended})
		total += size
	}
	for total > r.maxBytes && len(finished) > 0 {
		oldest := 0
		for i, f := range finished {
			if f.ended.Before(finished[oldest].ended) {
				oldest = i
			}
		}
		total -= finished[oldest].size
		delete(r.m, finished[oldest].id)
		finished = append(finished[:oldest], finished[oldest+1:]...)
	}
}

// sseStream writes one text/event-stream response.
type sseStream struct {
	c       *gin.Context
	rc      *http.ResponseController
	timeout time.Duration
	live    *liveStream // the credentials re-checked before each event; nil outside openSSE
}

// startSSE sends the stream's headers. Nothing compresses the body (no
// middleware does, and Content-Encoding stays unset), and X-Accel-Buffering
// keeps nginx from holding events back.
func (s *Server) startSSE(c *gin.Context) *sseStream {
	s.liftDeadlines(c)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	c.Status(http.StatusOK)
	st := &sseStream{c: c, rc: http.NewResponseController(c.Writer), timeout: s.cfg.WriteTimeout}
	if v, ok := c.Get(ctxLive); ok {
		st.live, _ = v.(*liveStream)
	}
	c.Writer.WriteHeaderNow()
	st.rc.Flush()
	return st
}

// write sends b under the write deadline and flushes it.
func (st *sseStream) write(b []byte) error {
	st.rc.SetWriteDeadline(time.Now().Add(st.timeout))
	if _, err := st.c.Writer.Write(b); err != nil {
		return err
	}
	return st.rc.Flush()
}

var ssePing = []byte(": ping\n\n")

// follow writes l's events after id after, then the live ones, with a
// keepalive comment every cfg.KeepAlive, until the log finishes, ctx ends or
// a write fails. It reports whether the log was written to its end.
func (s *Server) follow(ctx context.Context, st *sseStream, l *eventLog, after uint64) bool {
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	for {
		evs, done, wake := l.since(after)
		for _, e := range evs {
			// Like NDJSON and websockets, check the credentials before each
			// event rather than waiting for the watcher to end the stream.
			if st.live != nil && st.live.check() != nil {
				return false
			}
			if st.write(e.wire()) != nil {
				return false
			}
			after = e.id
		}
		if done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-wake:
		case <-tick.C:
			if st.write(ssePing) != nil {
				return false
			}
		}
	}
}

// sseContext is the life of an SSE stream: the request's, cut short by
// server shutdown or by the revocation of the caller's credentials or canvas
// access (see liveStream). SSE streams are not counted toward the stream
// caps: each belongs to one batch, and batches are rate-limited.
// openSSE counts an SSE stream (Shutdown waits for it; the streams_open
// metric) and returns its context; done ends and uncounts it.
func (s *Server) openSSE(c *gin.Context) (ctx context.Context, done func()) {
	s.streams.Add(1)
	s.metrics.streamsOpen.WithLabelValues("sse").Inc()
	ctx, cancel := s.sseContext(c)
	return ctx, func() {
		cancel()
		s.metrics.streamsOpen.WithLabelValues("sse").Dec()
		s.streams.Done()
	}
}

func (s *Server) sseContext(c *gin.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	stop := context.AfterFunc(s.ctx, func() { cancel(nil) })
	canvas := ""
	if cv := canvasOf(c); cv != nil {
		canvas = cv.ID
	}
	live, _ := s.openStream(c, canvas, false)
	live.bind(cancel)
	c.Set(ctxLive, live)
	return ctx, func() { stop(); live.close(); cancel(nil) }
}
