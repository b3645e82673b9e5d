package hub

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// memLog is an event log that behaves like the store's: Seq is assigned at
// commit, per canvas, and only the last keep events are kept.
type memLog struct {
	mu     sync.Mutex
	keep   int
	events map[string][]Message
	head   map[string]uint64
}

var _ History = (*memLog)(nil)

func newLog(keep int) *memLog {
	return &memLog{keep: keep, events: make(map[string][]Message), head: make(map[string]uint64)}
}

// commit appends one event to canvas and returns it, ready to publish.
func (l *memLog) commit(canvas string) Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := l.head[canvas] + 1
	l.head[canvas] = seq
	m := Message{Canvas: canvas, Seq: seq, Data: payload(canvas, seq)}
	evs := append(l.events[canvas], m)
	if len(evs) > l.keep {
		evs = append([]Message(nil), evs[len(evs)-l.keep:]...)
	}
	l.events[canvas] = evs
	return m
}

func (l *memLog) Since(canvas string, since uint64) ([]Message, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.events[canvas]
	if len(evs) > 0 && since+1 < evs[0].Seq {
		return nil, fmt.Errorf("memlog %s since %d (oldest %d): %w", canvas, since, evs[0].Seq, ErrTooOld)
	}
	var out []Message
	for _, m := range evs {
		if m.Seq > since {
			out = append(out, m)
		}
	}
	return out, nil
}

func payload(canvas string, seq uint64) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"canvas_id":%q,"type":"WIDGET_UPDATED","widget":{"id":"w1","x":%d}}`, seq, canvas, seq*3)
}

// next returns the next message of s; the deadline only turns a hang into a
// failure.
func next(tb testing.TB, s *Subscription) Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		tb.Fatalf("sub %s: Next: %v", s.ID(), err)
	}
	return m
}

// expectRange reads from s exactly the events from..to of canvas, in order.
func expectRange(tb testing.TB, s *Subscription, canvas string, from, to uint64) {
	tb.Helper()
	for want := from; want <= to; want++ {
		m := next(tb, s)
		checkMsg(tb, m, canvas, want)
	}
}

func checkMsg(tb testing.TB, m Message, canvas string, seq uint64) {
	tb.Helper()
	if m.Seq != seq || m.Canvas != canvas {
		tb.Fatalf("got %s/%d, want %s/%d", m.Canvas, m.Seq, canvas, seq)
	}
	if want := payload(canvas, seq); string(m.Data) != string(want) {
		tb.Fatalf("seq %d: data %q, want %q", seq, m.Data, want)
	}
}

// expectEmpty checks that nothing is queued for s.
func expectEmpty(tb testing.TB, s *Subscription) {
	tb.Helper()
	if m, ok := s.TryNext(); ok {
		tb.Fatalf("sub %s: unexpected message %s/%d %q", s.ID(), m.Canvas, m.Seq, m.Data)
	}
}

func subscribe(tb testing.TB, h *Hub, canvas string, since *uint64, id string) *Subscription {
	tb.Helper()
	s, err := h.Subscribe(canvas, since, id)
	if err != nil {
		tb.Fatalf("Subscribe(%s, %v, %s): %v", canvas, since, id, err)
	}
	tb.Cleanup(s.Close)
	return s
}

// newHub returns a hub that is closed when the test ends, after every
// subscription made with subscribe was released (cleanups run last-in
// first-out), so Close must not time out.
func newHub(tb testing.TB, opts Options) *Hub {
	tb.Helper()
	h := New(opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return h
}

func ptr(v uint64) *uint64 { return &v }
