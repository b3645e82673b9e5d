package core

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
	ID   uint64
	name string
	Data []byte
}

// wire is the event as sent: "id: N\nevent: NAME\ndata: JSON\n\n".
func (e sseEvent) wire() []byte {
	b := make([]byte, 0, len(e.Data)+len(e.name)+32)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, "\nevent: "...)
	b = append(b, e.name...)
	b = append(b, "\ndata: "...)
	b = append(b, e.Data...)
	return append(b, "\n\n"...)
}

// sseRingCap bounds the events one log keeps. A batch of 10 elements makes at
// most 24 events, so a batch's log is never cut in practice; the cap keeps a
// bug from growing one without bound.
const sseRingCap = 256

// EventLog is the replayable history of one operation: ids start at 1 and
// grow by one per event.
type EventLog struct {
	ID       string
	CanvasID string
	UserID   uint64

	mu     sync.Mutex
	events []sseEvent // the newest sseRingCap events, oldest first
	next   uint64     // id of the next event
	size   int        // bytes held
	done   bool
	ended  time.Time
	wake   chan struct{} // closed (and replaced) at every append and at finish
}

func NewEventLog(id, canvasID string, userID uint64) *EventLog {
	return &EventLog{ID: id, CanvasID: canvasID, UserID: userID, next: 1, wake: make(chan struct{})}
}

// Append encodes v as the data of a new event named name.
func (l *EventLog) Append(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"error": map[string]string{"code": "internal_error", "message": "event encoding failed: " + err.Error()}})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.events = append(l.events, sseEvent{ID: l.next, name: name, Data: data})
	l.next++
	l.size += len(data) + len(name)
	if len(l.events) > sseRingCap {
		l.size -= len(l.events[0].Data) + len(l.events[0].name)
		l.events = append(l.events[:0:0], l.events[1:]...)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// Finish marks the log complete; readers end after its last event.
func (l *EventLog) Finish(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.done, l.ended = true, now
	close(l.wake)
}

// Since returns the events with an id above after, whether the log is
// finished, and a channel closed at the next change.
func (l *EventLog) Since(after uint64) ([]sseEvent, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sseEvent
	for _, e := range l.events {
		if e.ID > after {
			out = append(out, e)
		}
	}
	return out, l.done, l.wake
}

func (l *EventLog) state() (size int, done bool, ended time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size, l.done, l.ended
}

// LogRegistry keeps event logs for replay: a finished log for ttl after it
// ended, a running one until it ends. When the finished logs hold more than
// maxBytes, the oldest go first. Expiry is lazy (at every add and get), so
// the registry needs no goroutine of its own.
type LogRegistry struct {
	mu       sync.Mutex
	m        map[string]*EventLog
	ttl      time.Duration
	maxBytes int
	now      func() time.Time
}

func newLogRegistry(ttl time.Duration, maxBytes int, now func() time.Time) *LogRegistry {
	return &LogRegistry{m: map[string]*EventLog{}, ttl: ttl, maxBytes: maxBytes, now: now}
}

func (r *LogRegistry) Add(l *EventLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	r.m[l.ID] = l
}

// Get returns the log id, or nil when it is unknown or expired.
func (r *LogRegistry) Get(id string) *EventLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	return r.m[id]
}

func (r *LogRegistry) sweepLocked() {
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
	live    *LiveStream // the credentials re-checked before each event; nil outside openSSE
}

// StartSSE sends the stream's headers. Nothing compresses the body (no
// middleware does, and Content-Encoding stays unset), and X-Accel-Buffering
// keeps nginx from holding events back.
func (s *Server) StartSSE(c *gin.Context) *sseStream {
	s.LiftDeadlines(c)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	c.Status(http.StatusOK)
	st := &sseStream{c: c, rc: http.NewResponseController(c.Writer), timeout: s.Cfg.WriteTimeout}
	if v, ok := c.Get(ctxLive); ok {
		st.live, _ = v.(*LiveStream)
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

// Follow writes l's events after id after, then the live ones, with a
// keepalive comment every cfg.KeepAlive, until the log finishes, ctx ends or
// a write fails. It reports whether the log was written to its end.
func (s *Server) Follow(ctx context.Context, st *sseStream, l *EventLog, after uint64) bool {
	tick := time.NewTicker(s.Cfg.KeepAlive)
	defer tick.Stop()
	for {
		evs, done, wake := l.Since(after)
		for _, e := range evs {
			// Like NDJSON and websockets, check the credentials before each
			// event rather than waiting for the watcher to end the stream.
			if st.live != nil && st.live.Check() != nil {
				return false
			}
			if st.write(e.wire()) != nil {
				return false
			}
			after = e.ID
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
func (s *Server) OpenSSE(c *gin.Context) (ctx context.Context, done func()) {
	s.Streams.Add(1)
	s.Metrics.StreamsOpen.WithLabelValues("sse").Inc()
	ctx, cancel := s.sseContext(c)
	return ctx, func() {
		cancel()
		s.Metrics.StreamsOpen.WithLabelValues("sse").Dec()
		s.Streams.Done()
	}
}

func (s *Server) sseContext(c *gin.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	stop := context.AfterFunc(s.Ctx, func() { cancel(nil) })
	canvas := ""
	if cv := CanvasOf(c); cv != nil {
		canvas = cv.ID
	}
	live, _ := s.OpenStream(c, canvas, false)
	live.Bind(cancel)
	c.Set(ctxLive, live)
	return ctx, func() { stop(); live.Close(); cancel(nil) }
}
