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

// Heads makes memLog a HeadReader, as the store is.
func (l *memLog) Heads(_ context.Context, canvases []string) (map[string]uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]uint64, len(canvases))
	for _, c := range canvases {
		out[c] = l.head[c]
	}
	return out, nil
}

var _ HeadReader = (*memLog)(nil)

// chaosBroker is a multi-node broker at its worst: each message, for each
// node's handler independently, is dropped, delivered twice, or delayed
// behind later ones with probability rate each.
type chaosBroker struct {
	rate float64

	mu       sync.Mutex
	rng      *rand.Rand
	handlers []func(Message)
	inflight sync.WaitGroup

	dropped, duplicated, delayed atomic.Int64
}

func newChaosBroker(seed uint64, rate float64) *chaosBroker {
	return &chaosBroker{rate: rate, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (b *chaosBroker) Subscribe(fn func(Message)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers = append(b.handlers, fn)
	return func() {}, nil
}

func (b *chaosBroker) Publish(m Message) error {
	b.mu.Lock()
	hs := slices.Clone(b.handlers)
	rolls := make([]float64, len(hs))
	delays := make([]time.Duration, len(hs))
	for i := range hs {
		rolls[i] = b.rng.Float64()
		delays[i] = time.Duration(b.rng.IntN(3000)) * time.Microsecond
	}
	b.mu.Unlock()
	for i, fn := range hs {
		switch r := rolls[i]; {
		case r < b.rate:
			b.dropped.Add(1)
		case r < 2*b.rate:
			b.duplicated.Add(1)
			fn(m)
			fn(m)
		case r < 3*b.rate:
			b.delayed.Add(1)
			b.inflight.Add(1)
			go func() {
				defer b.inflight.Done()
				time.Sleep(delays[i])
				fn(m)
			}()
		default:
			fn(m)
		}
	}
	return nil
}

// watcher records what one subscriber receives and checks it on the fly.
type watcher struct {
	s      *Subscription
	canvas string
	last   atomic.Uint64
	errMu  sync.Mutex
	err    error
}

func (w *watcher) fail(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
}

func (w *watcher) run(ctx context.Context, start uint64) {
	last := start
	for {
		m, err := w.s.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.fail(fmt.Errorf("sub %s: Next after seq %d: %w", w.s.ID(), last, err))
			}
			return
		}
		if m.Seq == 0 {
			continue
		}
		if m.Canvas != w.canvas || m.Seq != last+1 {
			w.fail(fmt.Errorf("sub %s: got %s/%d after %d, want %s/%d", w.s.ID(), m.Canvas, m.Seq, last, w.canvas, last+1))
			return
		}
		if want := payload(w.canvas, m.Seq); string(m.Data) != string(want) {
			w.fail(fmt.Errorf("sub %s: seq %d data %q, want %q", w.s.ID(), m.Seq, m.Data, want))
			return
		}
		last = m.Seq
		w.last.Store(last)
	}
}

// TestClusterChaosBrokerEverySeqOnceInOrder is the hub's property under a
// lossy multi-node broker: two hubs (two nodes) share one log and a broker
// that drops, duplicates and reorders 10% of messages per node, while four
// writers publish through random nodes; the last event of each canvas is
// committed and never published (a node that died between commit and
// publish). Every subscriber, live from the start or resumed with since
// mid-way, still sees every seq exactly once, in order, up to the head:
// gaps are filled from History and the lost tail by the head check.
func TestClusterChaosBrokerEverySeqOnceInOrder(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { chaosRun(t, seed) })
	}
}

func chaosRun(t *testing.T, seed uint64) {
	const (
		nCanvases = 3
		nWriters  = 4
		perWriter = 250
	)
	log := newLog(1 << 20)
	br := newChaosBroker(seed, 0.10)
	opts := Options{History: log, Broker: br, GapTimeout: 5 * time.Millisecond, HeadCheck: 10 * time.Millisecond, QueueBytes: 64 << 20}
	var repairs, filled atomic.Int64
	opts.OnHeadRepair = func(string) { repairs.Add(1) }
	opts.OnFill = func(_ string, n int) { filled.Add(int64(n)) }
	hubs := []*Hub{newHub(t, opts), newHub(t, opts)}
	t.Cleanup(br.inflight.Wait)
	canvas := func(i int) string { return fmt.Sprintf("c%d", i) }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var watchers []*watcher
	var readers sync.WaitGroup
	watch := func(h *Hub, c string, since uint64, id string) {
		w := &watcher{s: subscribe(t, h, c, ptr(since), id), canvas: c}
		w.last.Store(since)
		watchers = append(watchers, w)
		readers.Add(1)
		go func() { defer readers.Done(); w.run(ctx, since) }()
	}
	for hi, h := range hubs {
		for ci := 0; ci < nCanvases; ci++ {
			watch(h, canvas(ci), 0, fmt.Sprintf("h%d-%s-live", hi, canvas(ci)))
		}
	}

	var writers sync.WaitGroup
	var published atomic.Int64
	for wi := 0; wi < nWriters; wi++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(wi)))
			for i := 0; i < perWriter; i++ {
				m := log.commit(canvas(rng.IntN(nCanvases)))
				hubs[rng.IntN(len(hubs))].Publish(m)
				published.Add(1)
			}
		}()
	}
	// Resume mid-way, from a little behind the head, on each node.
	for published.Load() < nWriters*perWriter/3 {
		time.Sleep(time.Millisecond)
	}
	for hi, h := range hubs {
		for ci := 0; ci < nCanvases; ci++ {
			head, _ := log.Heads(ctx, []string{canvas(ci)})
			since := head[canvas(ci)] - min(head[canvas(ci)], 7)
			watch(h, canvas(ci), since, fmt.Sprintf("h%d-%s-resumed", hi, canvas(ci)))
		}
	}
	writers.Wait()
	br.inflight.Wait()
	all := []string{canvas(0), canvas(1), canvas(2)}
	heads, _ := log.Heads(ctx, all)
	waitHeads(t, watchers, heads)
	// Everyone is quiet at the head; now the tail that no broker carries.
	for ci := 0; ci < nCanvases; ci++ {
		log.commit(canvas(ci)) // committed, never published
	}
	heads, _ = log.Heads(ctx, all)
	waitHeads(t, watchers, heads)
	cancel()
	readers.Wait()
	for _, w := range watchers {
		if w.err != nil {
			t.Error(w.err)
		} else if got := w.last.Load(); got != heads[w.canvas] {
			t.Errorf("sub %s: stopped at seq %d, head %d (err %v)", w.s.ID(), got, heads[w.canvas], w.s.Err())
		}
	}
	if br.dropped.Load() == 0 || br.duplicated.Load() == 0 || br.delayed.Load() == 0 {
		t.Fatalf("chaos did not happen: dropped %d, duplicated %d, delayed %d", br.dropped.Load(), br.duplicated.Load(), br.delayed.Load())
	}
	if repairs.Load() == 0 {
		t.Fatal("no head-check repair, though the last event of each canvas was never published")
	}
	// Each node fills at least its own tail of nCanvases events.
	if filled.Load() < int64(len(hubs)*nCanvases) {
		t.Fatalf("OnFill counted %d events filled from History", filled.Load())
	}
	t.Logf("seed %d: %d events, %d dropped, %d duplicated, %d delayed, %d head repairs, %d events filled", seed,
		nWriters*perWriter+nCanvases, br.dropped.Load(), br.duplicated.Load(), br.delayed.Load(), repairs.Load(), filled.Load())
}

// waitHeads waits until every running watcher reached its canvas's head;
// the deadline only turns a hang into a failure, reported by the caller.
func waitHeads(t *testing.T, watchers []*watcher, heads map[string]uint64) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		behind := 0
		for _, w := range watchers {
			if w.last.Load() < heads[w.canvas] && w.s.Err() == nil {
				behind++
			}
		}
		if behind == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterHeadCheckDeliversUnpublishedTail: a subscriber resumed at the
// head (a HELLO) on a topic that never saw a live message gets events that
// were committed but never published, through the head check alone.
func TestClusterHeadCheckDeliversUnpublishedTail(t *testing.T) {
	log := newLog(100)
	for i := 0; i < 3; i++ {
		log.commit("c")
	}
	h := newHub(t, Options{History: log, HeadCheck: 5 * time.Millisecond})
	s := subscribe(t, h, "c", ptr(3), "hello")
	log.commit("c")
	log.commit("c")
	expectRange(t, s, "c", 4, 5)
	// And once the topic has a Seq, the next lost one too.
	log.commit("c")
	expectRange(t, s, "c", 6, 6)
	expectEmpty(t, s)
}

// joinBroker is a MemoryBroker that records Join and Leave, and checks that
// History is never read for a canvas before it was joined.
type joinBroker struct {
	*MemoryBroker
	mu     sync.Mutex
	joined map[string]int
	calls  []string
}

func (b *joinBroker) Join(c string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.joined[c]++
	b.calls = append(b.calls, "join "+c)
	return nil
}

func (b *joinBroker) Leave(c string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.joined[c]--
	b.calls = append(b.calls, "leave "+c)
}

type joinCheckLog struct {
	*memLog
	b *joinBroker
	t *testing.T
}

func (l joinCheckLog) Since(c string, since uint64) ([]Message, error) {
	l.b.mu.Lock()
	n := l.b.joined[c]
	l.b.mu.Unlock()
	if n <= 0 {
		l.t.Errorf("History read for %s before Join", c)
	}
	return l.memLog.Since(c, since)
}

// TestClusterTopicBrokerJoinLeave: the hub joins a canvas once, on its
// first subscriber and before reading History, and leaves it when the last
// subscriber goes; a new subscriber joins again.
func TestClusterTopicBrokerJoinLeave(t *testing.T) {
	b := &joinBroker{MemoryBroker: NewMemoryBroker(), joined: map[string]int{}}
	log := newLog(100)
	log.commit("c")
	h := newHub(t, Options{Broker: b, History: joinCheckLog{log, b, t}})
	s1, err := h.Subscribe("c", ptr(0), "a")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := h.Subscribe("c", ptr(0), "b")
	if err != nil {
		t.Fatal(err)
	}
	expectRange(t, s1, "c", 1, 1)
	expectRange(t, s2, "c", 1, 1)
	s1.Close()
	s2.Close()
	s3 := subscribe(t, h, "c", ptr(1), "c")
	h.Publish(log.commit("c"))
	expectRange(t, s3, "c", 2, 2)
	b.mu.Lock()
	defer b.mu.Unlock()
	if got := fmt.Sprint(b.calls); got != "[join c leave c join c]" {
		t.Fatalf("broker calls %s", got)
	}
}

// TestClusterHeadCheckBeyondTrimmedLogEndsSubscribers: when the head check
// finds events that the log already trimmed (a node that lagged past the
// retention), the subscribers are ended with *SlowError, so they resume or
// RESYNC, instead of waiting forever or silently skipping.
func TestClusterHeadCheckBeyondTrimmedLogEndsSubscribers(t *testing.T) {
	log := newLog(5)
	for i := 0; i < 3; i++ {
		log.commit("c")
	}
	h := newHub(t, Options{History: log, HeadCheck: 5 * time.Millisecond})
	s := subscribe(t, h, "c", ptr(3), "lagging")
	for i := 0; i < 10; i++ {
		log.commit("c") // never published; 4..8 are trimmed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Next(ctx)
	var slow *SlowError
	if !errors.As(err, &slow) || slow.LastSeq != 3 {
		t.Fatalf("Next: %v, want *SlowError at seq 3", err)
	}
	// The canvas goes on for a subscriber from the head.
	s2 := subscribe(t, h, "c", ptr(13), "fresh")
	h.Publish(log.commit("c"))
	expectRange(t, s2, "c", 14, 14)
}
