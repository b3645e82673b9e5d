package hub

import (
	"context"
	"sync"
)

// Subscription is one subscriber of one canvas. Its queue is drained by a
// single goroutine calling Next (the transport's writer loop); Close,
// LastSeq, ID and Done may be called from any goroutine.
type Subscription struct {
	h      *Hub
	t      *topic // set once by attach
	canvas string
	id     string
	idx    int           // position in t.subs, -1 when detached; guarded by t.mu
	notify chan struct{} // one slot: "the queue or the state changed"; nil with wake
	wake   func()        // SubscribeWake's callback, instead of notify

	mu       sync.Mutex
	q        []entry // queue, read from q[head]
	head     int
	bytes    int       // Data bytes of live entries in q and hold
	hold     []Message // live messages waiting for a catch-up to finish
	lastSeq  uint64    // last Seq handed out by Next/TryNext
	lastEnq  uint64    // last Seq enqueued or replayed; meaningful if hasSeq
	hasSeq   bool      // lastEnq is known: later Seqs must follow it without a hole
	catching bool      // reading History; live messages go to hold
	paging   bool      // catching, and History holds more pages: Next reads them
	released bool      // Close was called
	err      error     // why the subscription ended; nil while it runs
	done     chan struct{}
}

// entry is one queued message. Replayed entries were read from History and
// do not count against the queue bound.
type entry struct {
	m      Message
	replay bool
}

type enqResult uint8

const (
	enqOK      enqResult = iota // enqueued (or held)
	enqSkip                     // filtered out: From, or already replayed
	enqCatchUp                  // held; the subscriber must catch up from History
	enqSlow                     // queue overflowed; the subscription ended
	enqLost                     // hole that cannot be filled; the subscription ended
	enqGone                     // the subscription had already ended
)

// enqueue offers m to s. It is called under the topic lock. For enqCatchUp
// it also returns the Seq after which the hole starts.
func (s *Subscription) enqueue(m Message, limit int, canCatchUp bool) (enqResult, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return enqGone, 0
	}
	if m.From != "" && m.From == s.id {
		return enqSkip, 0
	}
	if s.catching {
		if s.overflows(len(m.Data), limit) {
			s.endLocked(&SlowError{LastSeq: s.lastSeq})
			return enqSlow, 0
		}
		s.hold = append(s.hold, m)
		s.bytes += len(m.Data)
		return enqOK, 0
	}
	hole := false
	if m.Seq != 0 && s.hasSeq {
		if m.Seq <= s.lastEnq {
			return enqSkip, 0 // already replayed
		}
		hole = m.Seq != s.lastEnq+1
	}
	if s.overflows(len(m.Data), limit) {
		s.endLocked(&SlowError{LastSeq: s.lastSeq})
		return enqSlow, 0
	}
	if hole {
		if !canCatchUp {
			s.endLocked(&SlowError{LastSeq: s.lastSeq})
			return enqLost, 0
		}
		s.catching = true
		s.hold = append(s.hold, m)
		s.bytes += len(m.Data)
		return enqCatchUp, s.lastEnq
	}
	if m.Seq != 0 {
		s.hasSeq = true
		s.lastEnq = m.Seq
	}
	s.bytes += len(m.Data)
	s.pushLocked(m, false)
	return enqOK, 0
}

// overflows reports whether n more bytes exceed the bound. A message larger
// than the bound still fits an empty queue.
func (s *Subscription) overflows(n, limit int) bool {
	return s.bytes > 0 && s.bytes+n > limit
}

func (s *Subscription) pushLocked(m Message, replay bool) {
	if len(s.q) == cap(s.q) && s.head > 0 && s.head >= len(s.q)/2 {
		// Reuse the consumed front instead of growing.
		n := copy(s.q, s.q[s.head:])
		clear(s.q[n:])
		s.q = s.q[:n]
		s.head = 0
	}
	s.q = append(s.q, entry{m: m, replay: replay})
	s.signalLocked()
}

// signalLocked tells the reader that the queue or the state changed.
func (s *Subscription) signalLocked() {
	if s.wake != nil {
		s.wake()
		return
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// mergeState says how a merge left a catching subscription.
type mergeState uint8

const (
	mergeDone mergeState = iota // joined the live messages; s is live again
	mergeMore                   // a page was queued and the log goes on: s is paging
	mergeHole                   // a hole remains before the held messages: read History again now
)

// merge appends events read from History after s.lastEnq, then the held live
// messages that follow them. more says History holds events after these
// (a page of a PagedHistory): then only the page is queued, held messages
// it covers are dropped, and s is left paging for Next to read on. n counts
// replayed events. err is set if the subscription has ended.
func (s *Subscription) merge(events []Message, more bool) (n int, st mergeState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, mergeHole, s.err
	}
	if !s.catching {
		return 0, mergeDone, nil
	}
	s.paging = false
	last := s.lastEnq
	for _, m := range events {
		if m.Seq <= last {
			continue
		}
		if m.Seq != last+1 {
			break // hole in History; the held messages decide below
		}
		s.pushLocked(m, true)
		last = m.Seq
		n++
	}
	if more && n == 0 {
		s.lastEnq = last
		return 0, mergeHole, nil // the page does not follow on: a hole in History
	}
	if more {
		// Drop held messages this page covers; the rest wait for later pages.
		s.lastEnq = last
		kept := s.hold[:0]
		for _, m := range s.hold {
			if m.Seq != 0 && m.Seq <= last {
				s.bytes -= len(m.Data)
				continue
			}
			kept = append(kept, m)
		}
		clear(s.hold[len(kept):])
		s.hold = kept
		s.paging = true
		return n, mergeMore, nil
	}
	i := 0
	for ; i < len(s.hold); i++ {
		m := s.hold[i]
		if m.Seq != 0 {
			if m.Seq <= last {
				s.bytes -= len(m.Data) // replayed already
				continue
			}
			if m.Seq != last+1 {
				break
			}
			last = m.Seq
		}
		s.pushLocked(m, false) // bytes were counted when held
	}
	s.lastEnq = last
	if i < len(s.hold) {
		rest := make([]Message, len(s.hold)-i)
		copy(rest, s.hold[i:])
		s.hold = rest
		return n, mergeHole, nil
	}
	s.hold = nil
	s.catching = false
	return n, mergeDone, nil
}

// endLocked ends the subscription with err: the queue is dropped, Next
// returns err and Done is closed.
func (s *Subscription) endLocked(err error) {
	s.err = err
	s.q = nil
	s.head = 0
	s.hold = nil
	s.bytes = 0
	s.catching = false
	s.paging = false
	if s.done != nil {
		close(s.done)
	}
	s.signalLocked()
}

// popLocked takes the next queued message.
func (s *Subscription) popLocked() (Message, bool) {
	if s.head >= len(s.q) {
		return Message{}, false
	}
	e := s.q[s.head]
	s.q[s.head] = entry{}
	s.head++
	if !e.replay {
		s.bytes -= len(e.m.Data)
	}
	if s.head == len(s.q) {
		if cap(s.q) > 32 {
			s.q = nil // release the array a burst grew
		} else {
			s.q = s.q[:0]
		}
		s.head = 0
	}
	if e.m.Seq != 0 {
		s.lastSeq = e.m.Seq
	}
	return e.m, true
}

// Next blocks until a message is available and returns it. It returns
// *SlowError once the queue overflowed (or the subscriber missed events that
// could not be recovered), ErrClosed after Close or Hub.Close, and ctx.Err()
// if ctx is done first. Only one goroutine may call Next.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return Message{}, err
		}
		m, ok := s.popLocked()
		paging := !ok && s.paging
		s.mu.Unlock()
		if ok {
			return m, nil
		}
		if paging {
			// The replay's page was sent: read the next one. Only Next
			// reads pages, so one page at a time is held.
			s.h.nextPage(s)
			continue
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Drain appends every queued message to dst and returns it, without
// blocking; it is Next for a SubscribeWake subscription, and like Next it
// reads the next page of a replay when the queue ran dry (and calls wake
// when it returns a page with more to come, so that the caller comes back
// for the next one once it has sent this one). It returns the
// error Next would (*SlowError, ErrClosed) once the subscription has ended
// and nothing is left to hand out. Only one goroutine at a time may call
// Drain.
func (s *Subscription) Drain(dst []Message) ([]Message, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return dst, err
		}
		n := len(dst)
		for {
			m, ok := s.popLocked()
			if !ok {
				break
			}
			dst = append(dst, m)
		}
		paging := len(dst) == n && s.paging
		if !paging && s.paging && s.wake != nil {
			// The replay goes on: the next Drain reads the next page,
			// once these messages are written.
			s.wake()
		}
		s.mu.Unlock()
		if !paging {
			return dst, nil
		}
		s.h.nextPage(s)
	}
}

// TryNext returns the next queued message without blocking. ok is false if
// the queue is empty or the subscription has ended.
func (s *Subscription) TryNext() (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return Message{}, false
	}
	return s.popLocked()
}

// ID returns the id given to Subscribe.
func (s *Subscription) ID() string { return s.id }

// Canvas returns the canvas given to Subscribe.
func (s *Subscription) Canvas() string { return s.canvas }

// LastSeq returns the last Seq handed out by Next or TryNext (initially
// *since, or 0).
func (s *Subscription) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// LastEnqueued returns the last Seq queued for (or already handed out to)
// the subscriber.
func (s *Subscription) LastEnqueued() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEnq
}

// Err returns why the subscription ended, or nil while it runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Done returns a channel closed when the subscription ends for any reason
// (Close, overflow, lost events, Hub.Close).
func (s *Subscription) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{}) // allocated lazily: idle viewers stay small
		if s.err != nil {
			close(s.done)
		}
	}
	return s.done
}

// Close unsubscribes and releases the subscription. It is idempotent; Next
// then returns ErrClosed. Every subscription must be closed, also after it
// ended by itself, for Hub.Close to return.
func (s *Subscription) Close() {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return
	}
	s.released = true
	if s.err == nil {
		s.endLocked(ErrClosed)
	}
	s.mu.Unlock()

	s.h.detach(s)
	s.h.mu.Lock()
	s.h.releaseLocked()
	s.h.mu.Unlock()
}
