package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Message is one encoded event. Data is shared by all subscribers; never
// mutate it.
type Message struct {
	Canvas string // topic
	// Seq is the event's per-canvas sequence number. 0 marks an ephemeral
	// message (PRESENCE, VIEWER_JOINED...): never stored, never replayed, not
	// part of seq ordering.
	Seq  uint64
	Data []byte // encoded JSON envelope, encoded once
	From string // optional subscriber ID that must NOT receive this message (presence relay)
	// Frame is Data as a transport puts it on the wire (a websocket frame),
	// made once per message by Options.Frame and shared by every
	// subscriber; nil for replayed messages and without Options.Frame.
	Frame []byte
}

var (
	// ErrTooOld means events after the requested since were already trimmed
	// from the log (or there is no log); the transport answers RESYNC.
	ErrTooOld = errors.New("hub: since is older than the log")
	// ErrClosed is returned by Next after the hub or the subscription was
	// closed, and by Subscribe on a closed hub.
	ErrClosed = errors.New("hub: closed")
)

// SlowError is returned by Subscription.Next after the subscriber's queue
// overflowed, or after it missed sequenced events that could not be
// recovered from History. LastSeq is the last Seq handed out by Next, from
// which the client can resume.
type SlowError struct{ LastSeq uint64 }

func (e *SlowError) Error() string {
	return fmt.Sprintf("hub: subscriber too slow, last delivered seq %d", e.LastSeq)
}

// History is implemented by store.Store.
type History interface {
	// Since returns the stored events of canvas with Seq > since, in order,
	// ending at the head at the time of the call. It returns ErrTooOld (or
	// an error for which errors.Is(err, ErrTooOld)) when events after since
	// were already trimmed.
	Since(canvas string, since uint64) ([]Message, error)
}

// PagedHistory is a History that can also read the log a page at a time.
// When Options.History implements it, a subscriber's replay (Subscribe with
// since, and its later catch-ups) reads pages of about Options.ReplayPageBytes
// lazily, as its transport drains the queue, instead of the whole log at
// once: a replay then holds one page per subscriber, whatever the log's size.
type PagedHistory interface {
	History
	// SincePage is Since limited to about maxBytes of Data: it returns at
	// least one event when there is one, stops after the event that reaches
	// maxBytes, and reports whether later events existed at the time of the
	// read.
	SincePage(canvas string, since uint64, maxBytes int) (msgs []Message, more bool, err error)
}

// HeadReader is a History that can also tell the current heads of several
// canvases in one read. When Options.History implements it and
// Options.HeadCheck is set, the hub compares, every HeadCheck, the head of
// each canvas that has local subscribers with the last Seq it delivered, and
// fills the difference from History: that catches a message a multi-node
// broker lost when no later message comes to reveal the hole.
type HeadReader interface {
	// Heads returns the last committed Seq of each canvas (0, or absent,
	// for a canvas without events).
	Heads(ctx context.Context, canvases []string) (map[string]uint64, error)
}

// Options configures a Hub. The zero value is usable.
type Options struct {
	// QueueBytes bounds each subscriber's queue, counted in bytes of Data.
	// Default 1 MiB.
	QueueBytes int
	// History serves resume (Subscribe with since) and gap filling. May be
	// nil: then Subscribe with *since > 0 returns ErrTooOld and an unfillable
	// gap ends the affected subscribers with *SlowError.
	History History
	// Broker carries published messages to every node. Default
	// NewMemoryBroker().
	Broker Broker
	// GapTimeout is how long a hole in a topic's sequence may last before
	// the hub fills it from History. Default 500 ms.
	GapTimeout time.Duration
	// MaxPending is how many out-of-order messages a topic buffers before
	// filling the hole from History without waiting for GapTimeout.
	// Default 1024.
	MaxPending int
	// ReplayPageBytes is the page size, in bytes of Data, of a replay read
	// from a PagedHistory. Default 1 MiB.
	ReplayPageBytes int
	// HeadCheck is how often the hub reads the heads of its active canvases
	// from History (which must be a HeadReader) to repair a lost last
	// message. Default 0: off, which is right for a single node, whose
	// MemoryBroker loses nothing. Multi-node brokers want about 1 s.
	HeadCheck time.Duration

	// Frame, if set, is called once per delivered message (on each node,
	// only when the canvas has subscribers) to fill Message.Frame, so that
	// a transport frames an event once rather than once per subscriber.
	Frame func(data []byte) []byte

	// Metrics hooks; each may be nil. They are called from publishing or
	// subscribing goroutines, never under a hub lock, and must not block.

	// OnSlowClose is called once per subscriber ended because its queue
	// overflowed.
	OnSlowClose func(canvas string)
	// OnDeliver is called with the number of messages enqueued by one
	// delivery step (usually one message times its subscribers).
	OnDeliver func(n int)
	// OnReplay is called with the number of messages replayed from History
	// to one subscriber.
	OnReplay func(n int)
	// OnBrokerError is called when Broker.Publish fails; the message is then
	// delivered to local subscribers only.
	OnBrokerError func(err error)
	// OnFill is called with the number of events a topic filled from
	// History (a gap, or a head-check repair).
	OnFill func(canvas string, n int)
	// OnHeadRepair is called when a head check found a canvas behind its
	// head and started filling it from History.
	OnHeadRepair func(canvas string)
	// OnHeadCheckError is called when a head check could not read the heads.
	OnHeadCheckError func(err error)
}

const (
	defaultQueueBytes = 1 << 20
	defaultGapTimeout = 500 * time.Millisecond
	defaultMaxPending = 1024
	defaultPageBytes  = 1 << 20
	// maxCatchUp bounds how often a subscriber re-reads History to close a
	// hole between replayed and buffered live events. Two reads always
	// suffice with a correct History; more means events are missing.
	maxCatchUp = 4
	// maxFillRetries is how often a topic retries a History read that failed
	// with an error other than ErrTooOld before skipping the hole.
	maxFillRetries = 3
)

// errNoHistory marks a gap fill attempted without History.
var errNoHistory = errors.New("hub: no history")

// Hub is a set of topics, one per canvas. Create it with New; it is safe for
// concurrent use.
type Hub struct {
	opts         Options
	brokerErr    error
	cancelBroker func()
	closeOnce    sync.Once

	mu      sync.RWMutex
	topics  map[string]*topic
	closed  bool
	nsubs   int           // subscriptions not yet released by Subscription.Close
	drained chan struct{} // closed once closed && nsubs == 0
	stop    chan struct{} // closed by Close: ends the head-check loop
}

// topic is one canvas's subscribers and sequence state.
type topic struct {
	canvas string

	mu        sync.Mutex
	subs      []*Subscription
	dead      bool   // removed from the registry; attach must retry
	next      uint64 // next Seq to deliver; 0 until the first sequenced message
	pending   map[uint64]Message
	timer     *time.Timer
	gapGen    uint64 // invalidates stale gap timers
	filling   bool   // a History fill is in flight
	fillFails int
	headSeen  uint64 // highest head a head check read: committed, so History holds it
	// joined is closed once TopicBroker.Join returned for this topic; nil
	// when the broker is not a TopicBroker.
	joined chan struct{}
}

// New returns a running hub. If the broker refuses the hub's handler, the
// error is kept: Subscribe returns it and Err reports it.
func New(opts Options) *Hub {
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = defaultQueueBytes
	}
	if opts.GapTimeout <= 0 {
		opts.GapTimeout = defaultGapTimeout
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = defaultMaxPending
	}
	if opts.ReplayPageBytes <= 0 {
		opts.ReplayPageBytes = defaultPageBytes
	}
	if opts.Broker == nil {
		opts.Broker = NewMemoryBroker()
	}
	h := &Hub{
		opts:    opts,
		topics:  make(map[string]*topic),
		drained: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	cancel, err := opts.Broker.Subscribe(h.deliver)
	if err != nil {
		h.brokerErr = fmt.Errorf("hub: broker subscribe: %w", err)
		cancel = func() {}
	}
	h.cancelBroker = cancel
	if _, ok := opts.History.(HeadReader); ok && opts.HeadCheck > 0 {
		go h.headCheckLoop()
	}
	return h
}

// Err reports a failure to subscribe to the broker in New, or nil.
func (h *Hub) Err() error { return h.brokerErr }

// Publish sends m to every subscriber of m.Canvas (through the broker).
// It never blocks on a subscriber. Call it only after the change is
// committed, so that History already holds every Seq up to m.Seq.
func (h *Hub) Publish(m Message) {
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		return
	}
	if err := h.opts.Broker.Publish(m); err != nil {
		if h.opts.OnBrokerError != nil {
			h.opts.OnBrokerError(fmt.Errorf("hub: broker publish %s seq %d: %w", m.Canvas, m.Seq, err))
		}
		h.deliver(m)
	}
}

// delivery collects the side effects of one step under a topic lock, to be
// acted on after the lock is released.
type delivery struct {
	n       int
	slow    int
	removed bool
	// catchUp groups subscribers that found a hole after their last Seq,
	// keyed by that Seq, so that each group reads History once.
	catchUp map[uint64][]*Subscription
}

// deliver is the hub's broker handler: it delivers m to local subscribers.
func (h *Hub) deliver(m Message) {
	h.mu.RLock()
	t := h.topics[m.Canvas]
	h.mu.RUnlock()
	if t == nil {
		return
	}
	if h.opts.Frame != nil && m.Frame == nil {
		m.Frame = h.opts.Frame(m.Data)
	}
	var d delivery
	t.mu.Lock()
	if !t.dead {
		if m.Seq == 0 {
			h.fanoutLocked(t, m, false, &d)
		} else {
			h.orderLocked(t, m, &d)
		}
	}
	t.mu.Unlock()
	h.finish(t, &d)
}

// orderLocked delivers sequenced messages of t in Seq order.
func (h *Hub) orderLocked(t *topic, m Message, d *delivery) {
	switch {
	case t.next == 0 || m.Seq == t.next:
		h.fanoutLocked(t, m, false, d)
		t.next = m.Seq + 1
		h.drainLocked(t, d)
	case m.Seq < t.next:
		// Already delivered (or filled from History, or skipped).
	default:
		if _, dup := t.pending[m.Seq]; dup {
			return
		}
		if t.pending == nil {
			t.pending = make(map[uint64]Message)
		}
		t.pending[m.Seq] = m
		if len(t.pending) > h.opts.MaxPending {
			h.startFillLocked(t)
		} else {
			h.armGapLocked(t)
		}
	}
}

// drainLocked delivers the buffered run that starts at t.next.
func (h *Hub) drainLocked(t *topic, d *delivery) {
	for len(t.pending) > 0 {
		m, ok := t.pending[t.next]
		if !ok {
			return
		}
		delete(t.pending, t.next)
		h.fanoutLocked(t, m, false, d)
		t.next++
	}
	t.pending = nil // maps never shrink; drop the emptied one
	h.disarmGapLocked(t)
}

func (h *Hub) armGapLocked(t *topic) {
	if t.timer != nil || t.filling {
		return
	}
	gen := t.gapGen
	t.timer = time.AfterFunc(h.opts.GapTimeout, func() {
		t.mu.Lock()
		if t.dead || t.filling || gen != t.gapGen || len(t.pending) == 0 {
			t.mu.Unlock()
			return
		}
		t.timer = nil
		t.filling = true
		t.mu.Unlock()
		h.fill(t)
	})
}

func (h *Hub) disarmGapLocked(t *topic) {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.gapGen++
}

// startFillLocked fills the hole now, in a new goroutine.
func (h *Hub) startFillLocked(t *topic) {
	if t.filling {
		return
	}
	h.disarmGapLocked(t)
	t.filling = true
	go h.fill(t)
}

// fill reads the hole at t.next from History and delivers it. If the hole
// cannot be filled, the topic skips to its lowest buffered Seq and the
// subscribers that needed the missing events are ended with *SlowError.
// The caller has set t.filling.
func (h *Hub) fill(t *topic) {
	t.mu.Lock()
	from := t.next - 1
	// Every buffered Seq up to seen was published, hence committed, before
	// the read below, so History must hold the hole beneath it.
	// So must the head a head check read.
	seen := t.headSeen
	for seq := range t.pending {
		seen = max(seen, seq)
	}
	t.mu.Unlock()

	var events []Message
	err := errNoHistory
	if h.opts.History != nil {
		events, err = h.opts.History.Since(t.canvas, from)
	}

	var d delivery
	t.mu.Lock()
	t.filling = false
	if t.dead || (len(t.pending) == 0 && t.next > t.headSeen) {
		t.mu.Unlock()
		h.finish(t, &d)
		return
	}
	filled := 0
	if err == nil {
		for _, m := range events {
			if m.Seq < t.next {
				continue
			}
			if m.Seq > t.next {
				break // hole in History too
			}
			if _, live := t.pending[m.Seq]; !live {
				filled++
			}
			delete(t.pending, m.Seq)
			h.fanoutLocked(t, m, false, &d)
			t.next++
		}
		h.drainLocked(t, &d)
	}
	if filled > 0 && h.opts.OnFill != nil {
		defer h.opts.OnFill(t.canvas, filled) // after the topic lock is released
	}
	transient := err != nil && err != errNoHistory && !errors.Is(err, ErrTooOld)
	if len(t.pending) == 0 && t.next <= t.headSeen && !transient {
		// A head check saw events that History cannot give (trimmed
		// beneath a node that lagged too far): nobody here can have them,
		// so every subscriber ends and resumes (or RESYNCs) from its last
		// Seq, and the topic goes on after the head.
		t.next = t.headSeen + 1
		h.endAllLocked(t, &d)
	}
	if len(t.pending) > 0 {
		lowest := uint64(0)
		for seq := range t.pending {
			if lowest == 0 || seq < lowest {
				lowest = seq
			}
		}
		switch {
		case lowest > seen:
			// A newer hole opened after the read; give it its own time.
			t.fillFails = 0
			h.armGapLocked(t)
		case transient && t.fillFails < maxFillRetries:
			t.fillFails++
			h.armGapLocked(t)
		default:
			// Unfillable: skip to the lowest buffered Seq. Subscribers that
			// needed the skipped events cannot catch up either.
			t.fillFails = 0
			m := t.pending[lowest]
			delete(t.pending, lowest)
			t.next = lowest + 1
			h.fanoutLocked(t, m, true, &d)
			h.drainLocked(t, &d)
		}
	} else {
		t.fillFails = 0
	}
	t.mu.Unlock()
	h.finish(t, &d)
}

// endAllLocked ends every subscriber of t with *SlowError.
func (h *Hub) endAllLocked(t *topic, d *delivery) {
	for len(t.subs) > 0 {
		s := t.subs[len(t.subs)-1]
		s.mu.Lock()
		if s.err == nil {
			s.endLocked(&SlowError{LastSeq: s.lastSeq})
		}
		s.mu.Unlock()
		removeLocked(t, s)
		d.removed = true
	}
}

// fanoutLocked enqueues m to every subscriber of t. noCatchUp ends, instead
// of catching up, subscribers that find a hole before m.
func (h *Hub) fanoutLocked(t *topic, m Message, noCatchUp bool, d *delivery) {
	canCatchUp := !noCatchUp && h.opts.History != nil
	for i := 0; i < len(t.subs); {
		s := t.subs[i]
		switch r, from := s.enqueue(m, h.opts.QueueBytes, canCatchUp); r {
		case enqOK:
			d.n++
		case enqCatchUp:
			d.n++
			if d.catchUp == nil {
				d.catchUp = make(map[uint64][]*Subscription)
			}
			d.catchUp[from] = append(d.catchUp[from], s)
		case enqSlow, enqLost, enqGone:
			if r == enqSlow {
				d.slow++
			}
			d.removed = true
			removeLocked(t, s)
			continue // t.subs[i] is now another subscriber
		}
		i++
	}
}

// finish runs the side effects collected under the topic lock.
func (h *Hub) finish(t *topic, d *delivery) {
	if d.n > 0 && h.opts.OnDeliver != nil {
		h.opts.OnDeliver(d.n)
	}
	for i := 0; i < d.slow; i++ {
		if h.opts.OnSlowClose != nil {
			h.opts.OnSlowClose(t.canvas)
		}
	}
	for from, subs := range d.catchUp {
		go h.catchUpGroup(t.canvas, from, subs)
	}
	if d.removed {
		h.dropIfEmpty(t)
	}
}

// removeLocked detaches s from t.subs in O(1).
func removeLocked(t *topic, s *Subscription) {
	i := s.idx
	if i < 0 || i >= len(t.subs) || t.subs[i] != s {
		return
	}
	last := len(t.subs) - 1
	t.subs[i] = t.subs[last]
	t.subs[i].idx = i
	t.subs[last] = nil
	t.subs = t.subs[:last]
	s.idx = -1
	if c := cap(t.subs); c > 64 && len(t.subs) < c/4 {
		t.subs = append([]*Subscription(nil), t.subs...)
	}
}

// dropIfEmpty removes t from the registry once it has no subscribers, so
// that idle canvases cost nothing.
func (h *Hub) dropIfEmpty(t *topic) {
	dropped := false
	h.mu.Lock()
	t.mu.Lock()
	if len(t.subs) == 0 && !t.dead {
		t.dead = true
		t.pending = nil
		h.disarmGapLocked(t)
		if h.topics[t.canvas] == t {
			delete(h.topics, t.canvas)
		}
		dropped = true
	}
	t.mu.Unlock()
	h.mu.Unlock()
	if dropped {
		h.leave(t)
	}
}

// Subscribe registers a subscriber of canvas identified by id (used by
// Viewers and Message.From; it need not be unique).
//
// With since == nil the subscription is live from now: the first sequenced
// message it gets is whatever the topic delivers next, and from then on
// sequenced messages are consecutive. To start gapless from a known head S
// (for a HELLO), pass &S.
//
// With since != nil it gets every event with Seq > *since from History, then
// live ones, with no gap and no duplicate; it returns an error for which
// errors.Is(err, ErrTooOld) when History no longer holds them. LastSeq starts
// at *since. A since beyond the canvas's head replays nothing and skips live
// events up to it, so validate it against the head first.
//
// If live events overflow the queue while History is being replayed, the
// returned subscription has already ended and Next returns *SlowError.
//
// The caller must call Close on the returned subscription when done.
func (h *Hub) Subscribe(canvas string, since *uint64, id string) (*Subscription, error) {
	return h.subscribe(canvas, since, id, nil)
}

// SubscribeWake is Subscribe for a transport that drains subscriptions from
// a pool of goroutines instead of parking one in Next per subscriber: wake
// is called whenever the subscription may have something for Drain (a
// message was queued, or it ended). wake runs under hub locks: it must not
// block and must not call back into the hub. Use Drain, not Next, on the
// returned subscription.
func (h *Hub) SubscribeWake(canvas string, since *uint64, id string, wake func()) (*Subscription, error) {
	return h.subscribe(canvas, since, id, wake)
}

func (h *Hub) subscribe(canvas string, since *uint64, id string, wake func()) (*Subscription, error) {
	if h.brokerErr != nil {
		return nil, h.brokerErr
	}
	if since != nil && *since > 0 && h.opts.History == nil {
		return nil, fmt.Errorf("hub: subscribe %s since %d without history: %w", canvas, *since, ErrTooOld)
	}
	s := &Subscription{
		h:      h,
		canvas: canvas,
		id:     id,
		idx:    -1,
		wake:   wake,
	}
	if wake == nil {
		s.notify = make(chan struct{}, 1)
	}
	replay := since != nil && h.opts.History != nil
	if since != nil {
		s.hasSeq = true
		s.lastEnq = *since
		s.lastSeq = *since
		s.catching = replay // live messages wait in s.hold until merged
	}
	if err := h.attach(s); err != nil {
		return nil, err
	}
	if !replay {
		return s, nil
	}
	n, err := h.catchUp(s)
	if n > 0 && h.opts.OnReplay != nil {
		h.opts.OnReplay(n)
	}
	var slow *SlowError
	if errors.As(err, &slow) {
		// Live events overflowed the queue during the replay: hand the
		// ended subscription out, so the transport reports it like any
		// other slow close.
		return s, nil
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("hub: subscribe %s since %d: %w", canvas, *since, err)
	}
	return s, nil
}

// attach adds s to its canvas's topic, creating the topic if needed; then
// it joins the topic on a TopicBroker (see join).
func (h *Hub) attach(s *Subscription) error {
	created, err := h.attachTopic(s)
	if err != nil {
		return err
	}
	if created {
		h.join(s.t)
	} else if s.t.joined != nil {
		<-s.t.joined
	}
	return nil
}

// attachTopic adds s to its canvas's topic and reports whether it created
// the topic.
func (h *Hub) attachTopic(s *Subscription) (bool, error) {
	counted := false
	for {
		h.mu.Lock()
		if h.closed {
			if counted {
				h.releaseLocked()
			}
			h.mu.Unlock()
			return false, ErrClosed
		}
		if !counted {
			h.nsubs++
			counted = true
		}
		t := h.topics[s.canvas]
		created := t == nil
		if created {
			t = &topic{canvas: s.canvas}
			if _, ok := h.opts.Broker.(TopicBroker); ok {
				t.joined = make(chan struct{})
			}
			h.topics[s.canvas] = t
		}
		h.mu.Unlock()

		t.mu.Lock()
		if t.dead { // emptied and dropped meanwhile; take the new one
			t.mu.Unlock()
			continue
		}
		s.t = t
		s.idx = len(t.subs)
		t.subs = append(t.subs, s)
		t.mu.Unlock()
		return created, nil
	}
}

// releaseLocked accounts for one released subscription. h.mu is held.
func (h *Hub) releaseLocked() {
	h.nsubs--
	if h.closed && h.nsubs == 0 {
		close(h.drained)
	}
}

// detach removes s from its topic, if it is still there.
func (h *Hub) detach(s *Subscription) {
	t := s.t
	if t == nil {
		return
	}
	t.mu.Lock()
	removeLocked(t, s)
	empty := len(t.subs) == 0 && !t.dead
	t.mu.Unlock()
	if empty {
		h.dropIfEmpty(t)
	}
}

// readPage reads the events of canvas after from: one page when History is
// a PagedHistory (more reports that the log goes on), else all of them.
func (h *Hub) readPage(canvas string, from uint64) ([]Message, bool, error) {
	if ph, ok := h.opts.History.(PagedHistory); ok {
		return ph.SincePage(canvas, from, h.opts.ReplayPageBytes)
	}
	evs, err := h.opts.History.Since(canvas, from)
	return evs, false, err
}

// catchUp reads History from s's last Seq until the replay joins the live
// messages held for s, and merges them. It returns how many events it
// replayed. On success s is live again, or, when the log holds more than a
// page, s is paging: Next reads the following pages as the queue drains.
func (h *Hub) catchUp(s *Subscription) (int, error) {
	total := 0
	for attempt := 1; ; attempt++ {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return total, err
		}
		from := s.lastEnq
		s.mu.Unlock()

		events, more, err := h.readPage(s.canvas, from)
		if err != nil {
			return total, err
		}
		n, st, err := s.merge(events, more)
		total += n
		if err != nil || st != mergeHole {
			return total, err
		}
		if attempt >= maxCatchUp {
			return total, fmt.Errorf("hub: events after seq %d missing from history: %w", s.LastEnqueued(), ErrTooOld)
		}
	}
}

// nextPage continues a paging replay of s; called by Next (the only reader
// of the queue) when the queue ran dry. A subscriber that cannot go on is
// ended with *SlowError, so the client resumes from its last Seq.
func (h *Hub) nextPage(s *Subscription) {
	n, err := h.catchUp(s)
	if n > 0 && h.opts.OnReplay != nil {
		h.opts.OnReplay(n)
	}
	if err != nil {
		s.mu.Lock()
		ended := s.err == nil
		if ended {
			s.endLocked(&SlowError{LastSeq: s.lastSeq})
		}
		s.mu.Unlock()
		if ended {
			h.detach(s)
		}
	}
}

// catchUpGroup closes the hole after Seq from for subscribers that found it
// in live delivery, reading History once for the whole group. A subscriber
// that cannot catch up is ended with *SlowError.
func (h *Hub) catchUpGroup(canvas string, from uint64, subs []*Subscription) {
	events, more, err := h.readPage(canvas, from)
	for _, s := range subs {
		n, done := 0, false
		var serr error
		st := mergeHole
		if err == nil {
			n, st, serr = s.merge(events, more)
			done = serr == nil && st != mergeHole
		}
		if err == nil && serr == nil && st == mergeHole {
			var m int
			m, serr = h.catchUp(s)
			n += m
			done = serr == nil
		}
		if n > 0 && h.opts.OnReplay != nil {
			h.opts.OnReplay(n)
		}
		if !done {
			s.mu.Lock()
			if s.err == nil {
				s.endLocked(&SlowError{LastSeq: s.lastSeq})
			}
			s.mu.Unlock()
			h.detach(s)
		}
	}
}

// Viewers returns the ids of the current subscribers of canvas, in no
// particular order.
func (h *Hub) Viewers(canvas string) []string {
	h.mu.RLock()
	t := h.topics[canvas]
	h.mu.RUnlock()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]string, 0, len(t.subs))
	for _, s := range t.subs {
		ids = append(ids, s.id)
	}
	return ids
}

// Close ends every subscription (their Next returns ErrClosed and Done is
// closed), stops taking new ones, leaves the broker, and waits until every
// subscription was released with Subscription.Close or ctx is done.
// Publish after Close is a no-op. Close may be called more than once.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	var topics map[string]*topic
	if !h.closed {
		h.closed = true
		topics = h.topics
		h.topics = make(map[string]*topic)
		if h.nsubs == 0 {
			close(h.drained)
		}
	}
	h.mu.Unlock()
	h.closeOnce.Do(func() {
		h.cancelBroker()
		close(h.stop)
	})

	for _, t := range topics {
		t.mu.Lock()
		t.dead = true
		t.pending = nil
		h.disarmGapLocked(t)
		for _, s := range t.subs {
			s.mu.Lock()
			if s.err == nil {
				s.endLocked(ErrClosed)
			}
			s.mu.Unlock()
			s.idx = -1
		}
		t.subs = nil
		t.mu.Unlock()
	}

	select {
	case <-h.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hub: close: waiting for subscriptions: %w", ctx.Err())
	}
}
