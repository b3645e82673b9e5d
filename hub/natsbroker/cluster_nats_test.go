package natsbroker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/internal/testsvc"
)

// sharedLog stands in for the store all nodes share: Seq is assigned at
// commit, per canvas.
type sharedLog struct {
	mu     sync.Mutex
	events map[string][]hub.Message
}

func newSharedLog() *sharedLog { return &sharedLog{events: map[string][]hub.Message{}} }

func (l *sharedLog) commit(canvas string) hub.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := uint64(len(l.events[canvas]) + 1)
	m := hub.Message{Canvas: canvas, Seq: seq, Data: fmt.Appendf(nil, `{"seq":%d,"canvas_id":%q}`, seq, canvas)}
	l.events[canvas] = append(l.events[canvas], m)
	return m
}

func (l *sharedLog) Since(canvas string, since uint64) ([]hub.Message, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.events[canvas]
	if since > uint64(len(evs)) {
		return nil, hub.ErrTooOld
	}
	return append([]hub.Message(nil), evs[since:]...), nil
}

func (l *sharedLog) Heads(_ context.Context, canvases []string) (map[string]uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]uint64{}
	for _, c := range canvases {
		out[c] = uint64(len(l.events[c]))
	}
	return out, nil
}

func (l *sharedLog) head(canvas string) uint64 {
	h, _ := l.Heads(context.Background(), []string{canvas})
	return h[canvas]
}

var _ hub.HeadReader = (*sharedLog)(nil)

func connect(t *testing.T, url string, o Options) *Broker {
	t.Helper()
	o.URL = url
	b, err := Connect(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newHub(t *testing.T, o hub.Options) *hub.Hub {
	t.Helper()
	h := hub.New(o)
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return h
}

// reader collects one subscription's sequenced messages, checking order.
type reader struct {
	canvas string
	last   atomic.Uint64
	mu     sync.Mutex
	err    error
}

func read(t *testing.T, h *hub.Hub, canvas, id string, since uint64) *reader {
	t.Helper()
	s, err := h.Subscribe(canvas, &since, id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; s.Close() })
	r := &reader{canvas: canvas}
	r.last.Store(since)
	go func() {
		defer close(done)
		for {
			m, err := s.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.fail(fmt.Errorf("%s: %w", id, err))
				}
				return
			}
			if m.Seq == 0 {
				continue
			}
			if want := r.last.Load() + 1; m.Seq != want || m.Canvas != canvas {
				r.fail(fmt.Errorf("%s: got %s/%d, want %s/%d", id, m.Canvas, m.Seq, canvas, want))
				return
			}
			r.last.Store(m.Seq)
		}
	}()
	return r
}

func (r *reader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// waitAll waits until every reader reached its canvas's head in log, and
// fails with the laggards otherwise; the deadline only turns a hang into a
// failure.
func waitAll(t *testing.T, log *sharedLog, rs []*reader) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var behind []string
		for _, r := range rs {
			r.mu.Lock()
			err := r.err
			r.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r.last.Load(), log.head(r.canvas); got < want {
				behind = append(behind, fmt.Sprintf("%s at %d of %d", r.canvas, got, want))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readers behind: %v", behind)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterNATSTwoHubsFanOut: two hubs, each on its own NATS connection
// to a real (embedded) NATS server, share one log. Writers commit on random
// nodes; every subscriber on both nodes sees every seq of its canvas once,
// in order. Gap filling waits a minute and the head check is off, so what
// crosses between the nodes can only have crossed through NATS.
func TestClusterNATSTwoHubsFanOut(t *testing.T) {
	srv := testsvc.StartNATS(t)
	log := newSharedLog()
	var hubs []*hub.Hub
	var brokers []*Broker
	for i := 0; i < 2; i++ {
		b := connect(t, srv.URL, Options{Name: fmt.Sprintf("node%d", i), OnError: func(err error) { t.Log(err) }})
		brokers = append(brokers, b)
		hubs = append(hubs, newHub(t, hub.Options{History: log, Broker: b, GapTimeout: time.Minute}))
	}
	canvases := []string{"3f2b8c1e-0000-4000-8000-000000000001", "c2", "weird.canvas*id"}
	var rs []*reader
	for hi, h := range hubs {
		for _, c := range canvases {
			rs = append(rs, read(t, h, c, fmt.Sprintf("n%d-%s", hi, c), 0))
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(7, uint64(w)))
			for i := 0; i < 200; i++ {
				// Commit and publish under one lock per writer order: a
				// node publishes after its commit, as OnCommit does.
				m := log.commit(canvases[rng.IntN(len(canvases))])
				hubs[rng.IntN(len(hubs))].Publish(m)
			}
		}()
	}
	wg.Wait()
	waitAll(t, log, rs)
	for i, b := range brokers {
		pub, recv, bad := b.Stats()
		if pub == 0 || recv == 0 || bad != 0 {
			t.Fatalf("node %d: published %d, received %d, undecodable %d", i, pub, recv, bad)
		}
	}
	// A late subscriber resumes on the other node from the middle.
	late := read(t, hubs[1], canvases[0], "late", log.head(canvases[0])/2)
	hubs[0].Publish(log.commit(canvases[0]))
	waitAll(t, log, []*reader{late})
}

// TestClusterNATSOutageRepairedByHeadCheck: with NATS down, a node's
// publishes reach only its own viewers; the other node's viewers get them
// from the log through the head check. After NATS comes back, both brokers
// reconnect and events cross through NATS again.
func TestClusterNATSOutageRepairedByHeadCheck(t *testing.T) {
	srv := testsvc.StartNATS(t)
	log := newSharedLog()
	var repairs atomic.Int64
	var brokerErrs atomic.Int64
	var hubs []*hub.Hub
	var brokers []*Broker
	for i := 0; i < 2; i++ {
		var h *hub.Hub
		var ready sync.WaitGroup
		ready.Add(1)
		b := connect(t, srv.URL, Options{ReconnectWait: 20 * time.Millisecond, OnLost: func() {
			ready.Wait()
			go h.CheckHeads(context.Background())
		}})
		h = newHub(t, hub.Options{History: log, Broker: b, GapTimeout: time.Minute, HeadCheck: 20 * time.Millisecond,
			OnHeadRepair:  func(string) { repairs.Add(1) },
			OnBrokerError: func(error) { brokerErrs.Add(1) }})
		ready.Done()
		hubs, brokers = append(hubs, h), append(brokers, b)
	}
	r0 := read(t, hubs[0], "c", "n0", 0)
	r1 := read(t, hubs[1], "c", "n1", 0)
	hubs[0].Publish(log.commit("c"))
	waitAll(t, log, []*reader{r0, r1})

	srv.Shutdown()
	for i := 0; i < 5; i++ {
		hubs[0].Publish(log.commit("c"))
	}
	waitAll(t, log, []*reader{r0, r1})
	if repairs.Load() == 0 {
		t.Fatal("node 1 caught up without a head-check repair while NATS was down")
	}

	srv.Restart(t)
	deadline := time.Now().Add(20 * time.Second)
	for !(brokers[0].Connected() && brokers[1].Connected()) {
		if time.Now().After(deadline) {
			t.Fatal("brokers did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A round trip on each connection: the server has processed the
	// subscriptions nats.go renewed on reconnect.
	for _, b := range brokers {
		if err := b.nc.FlushTimeout(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	_, recvBefore, _ := brokers[1].Stats()
	for i := 0; i < 5; i++ {
		hubs[0].Publish(log.commit("c"))
	}
	waitAll(t, log, []*reader{r0, r1})
	// The messages themselves arrive over NATS again (the head check may
	// have raced them to some, never to all: NATS delivers within
	// microseconds, the check runs every 20 ms).
	for time.Now().Before(deadline) {
		if _, recv, _ := brokers[1].Stats(); recv > recvBefore {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("node 1 received nothing over NATS after the restart")
}

func TestClusterNATSWireRoundTrip(t *testing.T) {
	for _, m := range []hub.Message{
		{Canvas: "c", Seq: 1, Data: []byte(`{"a":1}`)},
		{Canvas: "ünï.cödé", Seq: 1 << 60, From: "viewer-7", Data: nil},
		{Canvas: "x", Seq: 0, From: "", Data: make([]byte, 70000)},
	} {
		got, err := Decode(Encode(m))
		if err != nil || got.Canvas != m.Canvas || got.Seq != m.Seq || got.From != m.From || string(got.Data) != string(m.Data) {
			t.Fatalf("round trip of %+v: %+v, %v", m.Canvas, got.Canvas, err)
		}
	}
	for _, bad := range [][]byte{nil, {2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'c'}, {1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 'c'}, {1, 0, 0, 0, 0, 0, 0, 0, 1, 0}} {
		if _, err := Decode(bad); err == nil {
			t.Fatalf("Decode(%v) accepted", bad)
		}
	}
	if got := Subject("cvd.ev", "a.b>"); got != "cvd.ev.~612e623e" {
		t.Fatalf("Subject = %q", got)
	}
	if _, err := Connect(Options{URL: "nats://127.0.0.1:1"}); err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
}

// TestClusterNATSNodeReceivesOnlyWatchedCanvases: a node subscribes to the
// canvases its viewers watch, not to all: node 1 watches A only and gets
// none of B's traffic; when A's last viewer leaves, the subscription ends
// after the linger.
func TestClusterNATSNodeReceivesOnlyWatchedCanvases(t *testing.T) {
	srv := testsvc.StartNATS(t)
	log := newSharedLog()
	b0 := connect(t, srv.URL, Options{})
	b1 := connect(t, srv.URL, Options{Linger: 20 * time.Millisecond})
	h0 := newHub(t, hub.Options{History: log, Broker: b0, GapTimeout: time.Minute})
	h1 := newHub(t, hub.Options{History: log, Broker: b1, GapTimeout: time.Minute})

	since := uint64(0)
	s, err := h1.Subscribe("A", &since, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if n := b1.Subscriptions(); n != 1 {
		t.Fatalf("node 1 holds %d subscriptions, want 1 (A)", n)
	}
	for i := 0; i < 10; i++ {
		h0.Publish(log.commit("B"))
	}
	h0.Publish(log.commit("A")) // after B's, on the same connection: B's would be here first
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil || m.Canvas != "A" || m.Seq != 1 {
		t.Fatalf("node 1 got %+v, %v", m, err)
	}
	if _, recv, _ := b1.Stats(); recv != 1 {
		t.Fatalf("node 1 received %d messages from NATS, want 1 (A's only)", recv)
	}
	s.Close()
	for deadline := time.Now().Add(20 * time.Second); b1.Subscriptions() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("node 1 kept its subscription to A after the last viewer left")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h0.Publish(log.commit("A"))
	h0.Publish(log.commit("B"))
	// A marker on a canvas node 1 joins now proves the two above had their
	// chance to arrive.
	r := read(t, h1, "C", "marker", 0)
	h0.Publish(log.commit("C"))
	waitAll(t, log, []*reader{r})
	if _, recv, _ := b1.Stats(); recv != 2 {
		t.Fatalf("node 1 received %d messages from NATS, want 2 (A's first and C's)", recv)
	}
}

// TestClusterNATSSlowConsumerAsksForHeadCheck: when this node cannot keep
// up and NATS drops messages for it, OnLost fires, so the hub checks heads
// at once instead of waiting for the next interval.
func TestClusterNATSSlowConsumerAsksForHeadCheck(t *testing.T) {
	srv := testsvc.StartNATS(t)
	lost := make(chan struct{}, 1)
	slow := connect(t, srv.URL, Options{Pending: 2, OnLost: func() {
		select {
		case lost <- struct{}{}:
		default:
		}
	}})
	fast := connect(t, srv.URL, Options{})
	release := make(chan struct{})
	cancel, _ := slow.Subscribe(func(hub.Message) { <-release })
	defer cancel()
	defer close(release)
	if err := slow.Join("c"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if err := fast.Publish(hub.Message{Canvas: "c", Seq: uint64(i), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-lost:
	case <-time.After(20 * time.Second):
		t.Fatal("no OnLost after NATS dropped messages for a slow node")
	}
}
