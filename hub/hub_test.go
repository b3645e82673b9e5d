package hub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// publishers commits n events of canvas from g goroutines, each publishing
// after its commit with a random pause in between, so that publishes reach
// the hub out of Seq order, as they do from concurrent request handlers.
func publishers(h *Hub, log *memLog, canvas string, g, n int) *sync.WaitGroup {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				m := log.commit(canvas)
				if rand.IntN(4) == 0 {
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				}
				h.Publish(m)
			}
		}()
	}
	return &wg
}

// drain reads s in a goroutine until it has seen Seq last, checking that
// Seqs are consecutive from first (or from whatever comes first if first is
// 0), and reports the problem, if any, on the returned channel.
func drain(s *Subscription, canvas string, first, last uint64) <-chan error {
	out := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		want := first
		for {
			m, err := s.Next(ctx)
			if err != nil {
				out <- fmt.Errorf("%s: Next after seq %d: %w", s.ID(), want-1, err)
				return
			}
			if m.Seq == 0 {
				continue
			}
			if want == 0 {
				want = m.Seq
			}
			if m.Seq != want || m.Canvas != canvas || string(m.Data) != string(payload(canvas, m.Seq)) {
				out <- fmt.Errorf("%s: got seq %d (%q), want %d", s.ID(), m.Seq, m.Data, want)
				return
			}
			if m.Seq == last {
				out <- nil
				return
			}
			want++
		}
	}()
	return out
}

func TestOrderWithConcurrentOutOfOrderPublishers(t *testing.T) {
	t.Parallel()
	const canvas, total = "c-order", 3000
	log := newLog(total)
	h := newHub(t, Options{History: log, GapTimeout: time.Minute})

	var results []<-chan error
	for i := 0; i < 3; i++ {
		s := subscribe(t, h, canvas, ptr(0), fmt.Sprintf("from-start-%d", i))
		results = append(results, drain(s, canvas, 1, total))
	}
	wg := publishers(h, log, canvas, 8, total)
	// Viewers joining live while publishes race.
	for i := 0; i < 3; i++ {
		s := subscribe(t, h, canvas, nil, fmt.Sprintf("live-%d", i))
		results = append(results, drain(s, canvas, 0, total))
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	for _, r := range results {
		if err := <-r; err != nil {
			t.Error(err)
		}
	}
}

func TestReorderBufferDeliversContiguousRuns(t *testing.T) {
	t.Parallel()
	const c = "c-reorder"
	h := newHub(t, Options{GapTimeout: time.Hour})
	s := subscribe(t, h, c, nil, "a")
	pub := func(seq uint64) { h.Publish(Message{Canvas: c, Seq: seq, Data: payload(c, seq)}) }

	pub(1)
	checkMsg(t, next(t, s), c, 1)
	pub(4)
	pub(3)
	expectEmpty(t, s) // 2 is missing: hold 3 and 4
	h.Publish(Message{Canvas: c, Data: []byte(`{"type":"PRESENCE"}`)})
	if m := next(t, s); m.Seq != 0 {
		t.Fatalf("ephemeral message must not wait for the hole, got seq %d", m.Seq)
	}
	pub(2)
	expectRange(t, s, c, 2, 4)
	pub(3) // duplicate, e.g. redelivered by a broker
	pub(5)
	expectRange(t, s, c, 5, 5)
	expectEmpty(t, s)
}

func TestGapFilledFromHistoryAfterTimeout(t *testing.T) {
	t.Parallel()
	const c = "c-gap"
	log := newLog(100)
	h := newHub(t, Options{History: log, GapTimeout: 5 * time.Millisecond})
	s := subscribe(t, h, c, nil, "a")
	m1, m2, m3 := log.commit(c), log.commit(c), log.commit(c)
	h.Publish(m1)
	h.Publish(m3) // the publish of 2 is lost
	expectRange(t, s, c, 1, 3)
	h.Publish(m2) // late: already filled
	m4 := log.commit(c)
	h.Publish(m4)
	expectRange(t, s, c, 4, 4)
	expectEmpty(t, s)
}

func TestGapFilledFromHistoryWhenPendingOverflows(t *testing.T) {
	t.Parallel()
	const c = "c-maxpending"
	log := newLog(100)
	h := newHub(t, Options{History: log, GapTimeout: time.Hour, MaxPending: 4})
	s := subscribe(t, h, c, nil, "a")
	var ms []Message
	for i := 0; i < 10; i++ {
		ms = append(ms, log.commit(c))
	}
	h.Publish(ms[0])
	for _, m := range ms[2:] { // 2 is never published; 8 pending > 4
		h.Publish(m)
	}
	expectRange(t, s, c, 1, 10)
}

func TestUnfillableGapEndsSubscriberWithLastSeq(t *testing.T) {
	t.Parallel()
	const c = "c-lost"
	h := newHub(t, Options{GapTimeout: 5 * time.Millisecond}) // no History
	s := subscribe(t, h, c, nil, "a")
	h.Publish(Message{Canvas: c, Seq: 1, Data: payload(c, 1)})
	checkMsg(t, next(t, s), c, 1)
	h.Publish(Message{Canvas: c, Seq: 3, Data: payload(c, 3)})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Next(ctx)
	var slow *SlowError
	if !errors.As(err, &slow) || slow.LastSeq != 1 {
		t.Fatalf("Next = %v, want *SlowError{LastSeq: 1}", err)
	}
	<-s.Done()
	// A viewer that joins after the hole gets the events that follow it.
	s2 := subscribe(t, h, c, nil, "b")
	h.Publish(Message{Canvas: c, Seq: 4, Data: payload(c, 4)})
	checkMsg(t, next(t, s2), c, 4)
}

func TestResumeMissed100WhilePublishing(t *testing.T) {
	t.Parallel()
	for round := 0; round < 8; round++ {
		canvas := fmt.Sprintf("c-resume-%d", round)
		log := newLog(10000)
		h := newHub(t, Options{History: log, GapTimeout: time.Minute})

		// A viewer sees the first 20 events, then disconnects.
		a := subscribe(t, h, canvas, ptr(0), "a")
		for i := 0; i < 20; i++ {
			h.Publish(log.commit(canvas))
		}
		expectRange(t, a, canvas, 1, 20)
		last := a.LastSeq()
		a.Close()

		// It misses 100.
		for i := 0; i < 100; i++ {
			h.Publish(log.commit(canvas))
		}
		// Others keep editing while it comes back, and a live viewer
		// keeps the topic busy.
		live := subscribe(t, h, canvas, nil, "live")
		liveDone := drain(live, canvas, 0, 620)
		wg := publishers(h, log, canvas, 4, 500)
		if round%2 == 1 {
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		}
		b := subscribe(t, h, canvas, &last, "a")
		if err := <-drain(b, canvas, last+1, 620); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		wg.Wait()
		if err := <-liveDone; err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		expectEmpty(t, b)
	}
}

func TestResumeReplaysExactlyTheMissedEvents(t *testing.T) {
	t.Parallel()
	const c = "c-resume-exact"
	log := newLog(1000)
	var replayed atomic.Int64
	h := newHub(t, Options{History: log, OnReplay: func(n int) { replayed.Add(int64(n)) }})
	for i := 0; i < 130; i++ {
		h.Publish(log.commit(c))
	}
	s := subscribe(t, h, c, ptr(30), "a")
	if got := s.LastSeq(); got != 30 {
		t.Fatalf("LastSeq before reading = %d, want 30", got)
	}
	expectRange(t, s, c, 31, 130)
	expectEmpty(t, s)
	if got := replayed.Load(); got != 100 {
		t.Fatalf("OnReplay total %d, want 100", got)
	}
	h.Publish(log.commit(c))
	expectRange(t, s, c, 131, 131)
	if got := s.LastSeq(); got != 131 {
		t.Fatalf("LastSeq = %d, want 131", got)
	}
}

func TestSinceOlderThanLogIsTooOld(t *testing.T) {
	t.Parallel()
	const c = "c-tooold"
	log := newLog(50)
	h := newHub(t, Options{History: log})
	for i := 0; i < 200; i++ {
		h.Publish(log.commit(c))
	}
	if _, err := h.Subscribe(c, ptr(10), "a"); !errors.Is(err, ErrTooOld) {
		t.Fatalf("since 10 of a log keeping 151..200: err = %v, want ErrTooOld", err)
	}
	if v := h.Viewers(c); len(v) != 0 {
		t.Fatalf("refused subscriber still listed: %v", v)
	}
	s := subscribe(t, h, c, ptr(150), "b") // oldest kept is 151: still complete
	expectRange(t, s, c, 151, 200)

	noLog := newHub(t, Options{})
	if _, err := noLog.Subscribe(c, ptr(5), "a"); !errors.Is(err, ErrTooOld) {
		t.Fatalf("since 5 without History: err = %v, want ErrTooOld", err)
	}
	s0 := subscribe(t, noLog, c, ptr(0), "b")
	noLog.Publish(Message{Canvas: c, Seq: 1, Data: payload(c, 1)})
	checkMsg(t, next(t, s0), c, 1)
}

func TestCatchUpWhenTopicStartsAheadOfResume(t *testing.T) {
	t.Parallel()
	const c = "c-ahead"
	log := newLog(100)
	h := newHub(t, Options{History: log, GapTimeout: time.Hour})
	for i := 0; i < 10; i++ {
		log.commit(c) // committed before anyone watched
	}
	x := subscribe(t, h, c, nil, "x")
	b := subscribe(t, h, c, ptr(10), "b") // up to date, nothing to replay
	m11, m12 := log.commit(c), log.commit(c)
	h.Publish(m12) // the topic's first Seq: it starts at 12
	h.Publish(m11) // behind the topic: dropped there, but b needs it

	expectRange(t, b, c, 11, 12)
	checkMsg(t, next(t, x), c, 12)
	h.Publish(log.commit(c))
	expectRange(t, b, c, 13, 13)
	expectRange(t, x, c, 13, 13)
	expectEmpty(t, b)
	expectEmpty(t, x)
}

func TestSlowSubscriberIsCutWhileOthersGetEverything(t *testing.T) {
	t.Parallel()
	const c, total = "c-slow", 100
	var slowCloses atomic.Int64
	var slowCanvas atomic.Value
	h := newHub(t, Options{QueueBytes: 1024, OnSlowClose: func(canvas string) {
		slowCloses.Add(1)
		slowCanvas.Store(canvas)
	}})
	slow := subscribe(t, h, c, nil, "slow")
	normal := subscribe(t, h, c, nil, "normal")

	got := make(chan Message)
	go func() {
		defer close(got)
		for {
			m, err := normal.Next(context.Background())
			if err != nil {
				return
			}
			got <- m
		}
	}()
	for seq := uint64(1); seq <= total; seq++ {
		h.Publish(Message{Canvas: c, Seq: seq, Data: payload(c, seq)})
		checkMsg(t, <-got, c, seq) // the normal viewer keeps up
		if seq <= 3 {
			checkMsg(t, next(t, slow), c, seq) // the slow one reads 3, then stops
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber not ended after overflowing 1 KiB")
	}
	_, err := slow.Next(context.Background())
	var se *SlowError
	if !errors.As(err, &se) || se.LastSeq != 3 {
		t.Fatalf("slow Next = %v, want *SlowError{LastSeq: 3}", err)
	}
	if n := slowCloses.Load(); n != 1 {
		t.Fatalf("OnSlowClose called %d times, want 1", n)
	}
	if slowCanvas.Load() != c {
		t.Fatalf("OnSlowClose canvas %v, want %s", slowCanvas.Load(), c)
	}
	if v := h.Viewers(c); !slices.Equal(v, []string{"normal"}) {
		t.Fatalf("Viewers = %v, want [normal]", v)
	}
	select {
	case <-normal.Done():
		t.Fatal("normal subscriber ended")
	default:
	}
}

func TestPresenceSkipsItsSender(t *testing.T) {
	t.Parallel()
	const c = "c-presence"
	h := newHub(t, Options{})
	a := subscribe(t, h, c, nil, "a")
	b := subscribe(t, h, c, nil, "b")
	presence := []byte(`{"type":"PRESENCE","from":"a"}`)
	h.Publish(Message{Canvas: c, Data: presence, From: "a"})
	if m := next(t, b); string(m.Data) != string(presence) || m.Seq != 0 {
		t.Fatalf("b got %q seq %d", m.Data, m.Seq)
	}
	expectEmpty(t, a)
	h.Publish(Message{Canvas: c, Seq: 1, Data: payload(c, 1)})
	checkMsg(t, next(t, a), c, 1) // a's next message is the event, not its own presence
	checkMsg(t, next(t, b), c, 1)
}

func TestCloseUnblocksNextAndWaitsForRelease(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	var ready, released sync.WaitGroup
	errs := make(chan error, 5)
	var subs []*Subscription
	for i := 0; i < 5; i++ {
		s, err := h.Subscribe(fmt.Sprintf("c-close-%d", i%2), nil, fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
		ready.Add(1)
		released.Add(1)
		go func() {
			defer released.Done()
			ready.Done()
			_, err := s.Next(context.Background()) // blocks until Close
			errs <- err
			s.Close() // the transport releases its subscription
		}()
	}
	ready.Wait()
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	released.Wait()
	for i := 0; i < 5; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close = %v, want ErrClosed", err)
		}
	}
	for _, s := range subs {
		<-s.Done()
	}
	if _, err := h.Subscribe("c-close-0", nil, "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close = %v, want ErrClosed", err)
	}
	h.Publish(Message{Canvas: "c-close-0", Seq: 1, Data: []byte("{}")}) // no-op, no panic
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseReturnsWhenContextEnds(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	s, err := h.Subscribe("c", nil, "held")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with an unreleased subscription = %v, want DeadlineExceeded", err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next = %v, want ErrClosed", err)
	}
	s.Close()
	s.Close() // idempotent
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("Close after release: %v", err)
	}
}

func TestViewers(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	a := subscribe(t, h, "c1", nil, "a")
	subscribe(t, h, "c1", ptr(0), "b")
	subscribe(t, h, "c2", nil, "c")
	sorted := func(v []string) []string { slices.Sort(v); return v }
	if v := sorted(h.Viewers("c1")); !slices.Equal(v, []string{"a", "b"}) {
		t.Fatalf("Viewers(c1) = %v", v)
	}
	if v := h.Viewers("c2"); !slices.Equal(v, []string{"c"}) {
		t.Fatalf("Viewers(c2) = %v", v)
	}
	if v := h.Viewers("nobody"); len(v) != 0 {
		t.Fatalf("Viewers(nobody) = %v", v)
	}
	a.Close()
	if v := h.Viewers("c1"); !slices.Equal(v, []string{"b"}) {
		t.Fatalf("Viewers(c1) after a left = %v", v)
	}
	if _, err := a.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
}

func TestTopicIsDroppedWithItsLastSubscriber(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	s := subscribe(t, h, "c", nil, "a")
	s.Close()
	h.mu.RLock()
	n := len(h.topics)
	h.mu.RUnlock()
	if n != 0 {
		t.Fatalf("%d topics left after the last subscriber left", n)
	}
	// A new subscriber starts a new topic and gets new events.
	s2 := subscribe(t, h, "c", nil, "b")
	h.Publish(Message{Canvas: "c", Seq: 7, Data: payload("c", 7)})
	checkMsg(t, next(t, s2), "c", 7)
}

func TestSharedBrokerDeliversAcrossHubs(t *testing.T) {
	t.Parallel()
	const c = "c-nodes"
	log := newLog(1000)
	broker := NewMemoryBroker()
	node1 := newHub(t, Options{Broker: broker, History: log})
	node2 := newHub(t, Options{Broker: broker, History: log})
	s1 := subscribe(t, node1, c, ptr(0), "on-1")
	s2 := subscribe(t, node2, c, ptr(0), "on-2")
	for i := 0; i < 10; i++ {
		node := node1
		if i%2 == 1 {
			node = node2
		}
		node.Publish(log.commit(c))
	}
	expectRange(t, s1, c, 1, 10)
	expectRange(t, s2, c, 1, 10)
	if v := node2.Viewers(c); !slices.Equal(v, []string{"on-2"}) {
		t.Fatalf("Viewers are per node, got %v", v)
	}
}

// goBroker delivers every message from its own goroutine after a random
// pause, like a network broker: late and out of order.
type goBroker struct {
	mem *MemoryBroker
	wg  sync.WaitGroup
}

func (b *goBroker) Publish(m Message) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		b.mem.Publish(m)
	}()
	return nil
}

func (b *goBroker) Subscribe(fn func(Message)) (func(), error) { return b.mem.Subscribe(fn) }

func TestAsyncBrokerStillDeliversInOrder(t *testing.T) {
	t.Parallel()
	const c, total = "c-async", 1000
	log := newLog(total)
	broker := &goBroker{mem: NewMemoryBroker()}
	node1 := newHub(t, Options{Broker: broker, History: log, GapTimeout: time.Minute})
	node2 := newHub(t, Options{Broker: broker, History: log, GapTimeout: time.Minute})
	r1 := drain(subscribe(t, node1, c, ptr(0), "on-1"), c, 1, total)
	r2 := drain(subscribe(t, node2, c, ptr(0), "on-2"), c, 1, total)
	publishers(node1, log, c, 4, total).Wait()
	for _, r := range []<-chan error{r1, r2} {
		if err := <-r; err != nil {
			t.Fatal(err)
		}
	}
	broker.wg.Wait()
}

type failingBroker struct{ MemoryBroker }

func (b *failingBroker) Publish(Message) error { return errors.New("broker down") }

func TestBrokerFailureStillDeliversLocally(t *testing.T) {
	t.Parallel()
	var brokerErrs atomic.Int64
	h := newHub(t, Options{Broker: &failingBroker{}, OnBrokerError: func(error) { brokerErrs.Add(1) }})
	s := subscribe(t, h, "c", nil, "a")
	h.Publish(Message{Canvas: "c", Seq: 1, Data: payload("c", 1)})
	checkMsg(t, next(t, s), "c", 1)
	if brokerErrs.Load() != 1 {
		t.Fatalf("OnBrokerError called %d times, want 1", brokerErrs.Load())
	}
}

type refusingBroker struct{ MemoryBroker }

func (b *refusingBroker) Subscribe(func(Message)) (func(), error) {
	return nil, errors.New("no connection")
}

func TestBrokerSubscribeFailureIsReported(t *testing.T) {
	t.Parallel()
	h := New(Options{Broker: &refusingBroker{}})
	if h.Err() == nil {
		t.Fatal("Err() = nil after the broker refused")
	}
	if _, err := h.Subscribe("c", nil, "a"); err == nil {
		t.Fatal("Subscribe succeeded on a hub without broker subscription")
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDeliverHookCountsEnqueued(t *testing.T) {
	t.Parallel()
	var delivered atomic.Int64
	h := newHub(t, Options{OnDeliver: func(n int) { delivered.Add(int64(n)) }})
	subscribe(t, h, "c", nil, "a")
	subscribe(t, h, "c", nil, "b")
	subscribe(t, h, "c", nil, "c")
	h.Publish(Message{Canvas: "c", Seq: 1, Data: payload("c", 1)})
	h.Publish(Message{Canvas: "c", Data: []byte(`{"type":"PRESENCE"}`), From: "a"})
	if got := delivered.Load(); got != 5 {
		t.Fatalf("OnDeliver total %d, want 5 (3 + 2)", got)
	}
}

func TestQueueMemoryIsReleasedAfterBurst(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	s := subscribe(t, h, "c", nil, "a")
	for seq := uint64(1); seq <= 500; seq++ {
		h.Publish(Message{Canvas: "c", Seq: seq, Data: payload("c", seq)})
	}
	expectRange(t, s, "c", 1, 500)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(s.q) > 32 || s.bytes != 0 {
		t.Fatalf("after draining: queue cap %d, bytes %d", cap(s.q), s.bytes)
	}
}

// hookLog runs after, once, right after its first Since has read the log,
// to let a test publish between a subscriber's History read and its merge.
type hookLog struct {
	*memLog
	once  sync.Once
	after func()
	reads atomic.Int64
}

func (l *hookLog) Since(canvas string, since uint64) ([]Message, error) {
	l.reads.Add(1)
	evs, err := l.memLog.Since(canvas, since)
	l.once.Do(l.after)
	return evs, err
}

func TestResumeRereadsHistoryWhenLiveStartsBeyondReplay(t *testing.T) {
	t.Parallel()
	const c = "c-reread"
	log := &hookLog{memLog: newLog(100)}
	h := newHub(t, Options{History: log, GapTimeout: time.Hour})
	for i := 0; i < 10; i++ {
		log.commit(c)
	}
	var m11 Message
	log.after = func() {
		// Between b's read (head 10) and its merge: 11 and 12 commit, and
		// 12's publish reaches the fresh topic first.
		m11 = log.commit(c)
		h.Publish(log.commit(c))
	}
	b := subscribe(t, h, c, ptr(5), "b")
	h.Publish(m11) // late, behind the topic
	expectRange(t, b, c, 6, 12)
	expectEmpty(t, b)
	if n := log.reads.Load(); n != 2 {
		t.Fatalf("History read %d times, want 2 (replay, then the hole 11)", n)
	}
}

func TestCatchUpFailureEndsSubscriberWithLastSeq(t *testing.T) {
	t.Parallel()
	const c = "c-catchup-fail"
	log := newLog(3)
	h := newHub(t, Options{History: log, GapTimeout: time.Hour})
	for i := 0; i < 10; i++ {
		log.commit(c)
	}
	b := subscribe(t, h, c, ptr(10), "b")
	var last Message
	for i := 0; i < 5; i++ {
		last = log.commit(c) // the log now keeps 13..15 only
	}
	h.Publish(last) // b needs 11..14 first, and the log lost 11 and 12
	_, err := b.Next(context.Background())
	var se *SlowError
	if !errors.As(err, &se) || se.LastSeq != 10 {
		t.Fatalf("Next = %v, want *SlowError{LastSeq: 10}", err)
	}
	if v := h.Viewers(c); len(v) != 0 {
		t.Fatalf("ended subscriber still listed: %v", v)
	}
}

func TestOverflowDuringReplayEndsSubscriber(t *testing.T) {
	t.Parallel()
	const c = "c-replay-overflow"
	log := &hookLog{memLog: newLog(100)}
	var slowCloses atomic.Int64
	h := newHub(t, Options{History: log, QueueBytes: 512, OnSlowClose: func(string) { slowCloses.Add(1) }})
	for i := 0; i < 10; i++ {
		log.commit(c)
	}
	log.after = func() {
		for i := 0; i < 20; i++ { // ~1.5 KiB of live events arrive mid-replay
			h.Publish(log.commit(c))
		}
	}
	s := subscribe(t, h, c, ptr(3), "a")
	<-s.Done()
	_, err := s.Next(context.Background())
	var se *SlowError
	if !errors.As(err, &se) || se.LastSeq != 3 {
		t.Fatalf("Next = %v, want *SlowError{LastSeq: 3}", err)
	}
	if n := slowCloses.Load(); n != 1 {
		t.Fatalf("OnSlowClose called %d times, want 1", n)
	}
}

func TestReplayDoesNotCountAgainstQueueBytes(t *testing.T) {
	t.Parallel()
	const c = "c-replay-big"
	log := newLog(1000)
	h := newHub(t, Options{History: log, QueueBytes: 512})
	for i := 0; i < 100; i++ { // ~7.5 KiB in the log
		log.commit(c)
	}
	s := subscribe(t, h, c, ptr(0), "a")
	h.Publish(log.commit(c))
	expectRange(t, s, c, 1, 101)
}
