// Package natsbroker is a hub.Broker over NATS core: every node publishes
// each committed event to one subject per canvas, and subscribes to the
// subjects of the canvases its viewers watch (hub.TopicBroker: the hub joins
// a canvas on its first local subscriber and leaves on its last, and the
// subscription lingers Options.Linger in case a viewer comes back), so
// several canvasd processes fan out each canvas's events to all their
// viewers and a node receives only the traffic it needs.
//
// NATS core delivers at most once, in order per publishing connection. That
// is enough because the hub already tolerates loss, duplicates and
// reordering: it reorders by Seq, fills a hole from History after
// Options.GapTimeout, and, with Options.HeadCheck, catches a lost last
// message by comparing the store's heads with what it delivered. The broker
// asks for an immediate head check (Options.OnLost) when NATS says messages
// were dropped: a slow-consumer error, or a reconnect (messages published by
// other nodes while this one was away are gone).
//
// Local subscribers never wait for NATS: Publish hands the message to this
// node's handlers in the caller's goroutine once NATS has accepted it (the
// connection does not echo it back). If NATS refuses it, Publish returns the
// error and the hub delivers locally anyway (hub.Options.OnBrokerError);
// other nodes then repair from History. While the connection is down,
// nats.go buffers publishes (8 MiB) and reconnects forever.
//
// It owns the NATS connection and the wire format; it does not own
// ordering, history or presence.
package natsbroker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/nats-io/nats.go"
)

// Options configures Connect.
type Options struct {
	// URL is the NATS server URL (nats://host:port, comma-separated for a
	// cluster). Required.
	URL string
	// Subject is the subject prefix; canvas C's events go to
	// "<Subject>.<C>". Default "cvd.ev". Nodes of one deployment must share it.
	Subject string
	// Name names the connection in NATS monitoring. Default "canvasd".
	Name string
	// ReconnectWait is the pause between reconnect attempts. Default 250 ms.
	ReconnectWait time.Duration
	// OnError reports asynchronous errors: a disconnect, a message that
	// cannot be decoded, a slow consumer. May be nil; must not block.
	OnError func(error)
	// OnLost is called when messages may have been lost in transit to this
	// node (slow consumer, reconnect); wire it to Hub.CheckHeads. May be
	// nil; must not block.
	OnLost func()
	// Linger is how long a canvas's subscription outlives its last Leave,
	// so that a viewer who reconnects at once does not cost an unsubscribe
	// and a subscribe. Default 30 s.
	Linger time.Duration
	// Pending bounds the messages received and not yet handed to the hub,
	// over all canvases; beyond it NATS reports a slow consumer and drops
	// (OnLost then asks for a head check). Default 65536.
	Pending int
}

// Broker is a hub.Broker over a NATS connection. Create it with Connect.
type Broker struct {
	opts     Options
	nc       *nats.Conn
	mu       sync.Mutex // serialises Subscribe and cancel
	handlers atomic.Pointer[[]*handler]

	topicsMu sync.Mutex
	topics   map[string]*topicSub

	// Every canvas's subscription delivers into in, drained by one
	// goroutine: a node watching many canvases does not run a goroutine per
	// canvas (as nats.go's callback subscriptions would), and each
	// subscription's order is kept.
	in        chan *nats.Msg
	done      chan struct{}
	closeOnce sync.Once

	published, received, dropped atomic.Int64
}

type handler struct{ fn func(hub.Message) }

// topicSub is one canvas's NATS subscription and its Join count.
type topicSub struct {
	refs   int
	sub    *nats.Subscription
	linger *time.Timer // set while refs == 0 and the unsubscribe is pending
}

var _ hub.TopicBroker = (*Broker)(nil)

// Connect dials NATS. It fails if the server cannot be reached now; once
// connected it reconnects forever (and renews its subscriptions).
func Connect(o Options) (*Broker, error) {
	if o.URL == "" {
		return nil, errors.New("natsbroker: no URL")
	}
	if o.Subject == "" {
		o.Subject = "cvd.ev"
	}
	if o.Name == "" {
		o.Name = "canvasd"
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = 250 * time.Millisecond
	}
	if o.Linger <= 0 {
		o.Linger = 30 * time.Second
	}
	if o.Pending <= 0 {
		o.Pending = 1 << 16
	}
	b := &Broker{opts: o, topics: map[string]*topicSub{}, in: make(chan *nats.Msg, o.Pending), done: make(chan struct{})}
	nc, err := nats.Connect(o.URL,
		nats.Name(o.Name),
		nats.NoEcho(), // our own messages were delivered locally already
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.report(fmt.Errorf("natsbroker: %w", err))
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.lost()
			}
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.report(fmt.Errorf("natsbroker: disconnected: %w", err))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { b.lost() }),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connect %s: %w", o.URL, err)
	}
	b.nc = nc
	go b.drain()
	return b, nil
}

func (b *Broker) drain() {
	for {
		select {
		case m := <-b.in:
			b.onMsg(m)
		case <-b.done:
			return
		}
	}
}

// Join subscribes to canvas's subject (or keeps the lingering
// subscription) and returns once the server has it, so that a History read
// after Join misses nothing published later.
func (b *Broker) Join(canvas string) error {
	b.topicsMu.Lock()
	ts := b.topics[canvas]
	if ts != nil {
		ts.refs++
		if ts.linger != nil {
			ts.linger.Stop()
			ts.linger = nil
		}
		b.topicsMu.Unlock()
		return nil
	}
	subj := Subject(b.opts.Subject, canvas)
	sub, err := b.nc.ChanSubscribe(subj, b.in)
	if err != nil {
		b.topicsMu.Unlock()
		return fmt.Errorf("natsbroker: subscribe %s: %w", subj, err)
	}
	b.topics[canvas] = &topicSub{refs: 1, sub: sub}
	b.topicsMu.Unlock()
	// The subscription is registered (and renewed on reconnect) either way;
	// the flush only makes it effective before we return.
	if err := b.nc.FlushTimeout(2 * time.Second); err != nil {
		return fmt.Errorf("natsbroker: subscribe %s: %w", subj, err)
	}
	return nil
}

// Leave undoes one Join; the subscription ends Options.Linger after the
// last one unless the canvas is joined again.
func (b *Broker) Leave(canvas string) {
	b.topicsMu.Lock()
	defer b.topicsMu.Unlock()
	ts := b.topics[canvas]
	if ts == nil || ts.refs == 0 {
		return
	}
	ts.refs--
	if ts.refs > 0 {
		return
	}
	ts.linger = time.AfterFunc(b.opts.Linger, func() {
		b.topicsMu.Lock()
		defer b.topicsMu.Unlock()
		if b.topics[canvas] == ts && ts.refs == 0 {
			delete(b.topics, canvas)
			ts.sub.Unsubscribe()
		}
	})
}

// Subscriptions returns how many canvases this node is subscribed to
// (joined or lingering).
func (b *Broker) Subscriptions() int {
	b.topicsMu.Lock()
	defer b.topicsMu.Unlock()
	return len(b.topics)
}

func (b *Broker) report(err error) {
	if b.opts.OnError != nil {
		b.opts.OnError(err)
	}
}

func (b *Broker) lost() {
	if b.opts.OnLost != nil {
		b.opts.OnLost()
	}
}

// Publish sends m to the other nodes, then delivers it to this node's
// handlers. It returns NATS's error without delivering locally, so that the
// hub delivers it once, itself.
func (b *Broker) Publish(m hub.Message) error {
	if err := b.nc.Publish(Subject(b.opts.Subject, m.Canvas), Encode(m)); err != nil {
		return err
	}
	b.published.Add(1)
	b.deliver(m)
	return nil
}

func (b *Broker) deliver(m hub.Message) {
	if hs := b.handlers.Load(); hs != nil {
		for _, h := range *hs {
			h.fn(m)
		}
	}
}

// onMsg hands another node's message to the handlers; drain calls it in
// arrival order.
func (b *Broker) onMsg(msg *nats.Msg) {
	m, err := Decode(msg.Data)
	if err != nil {
		b.dropped.Add(1)
		b.report(fmt.Errorf("natsbroker: %s: %w", msg.Subject, err))
		return
	}
	b.received.Add(1)
	b.deliver(m)
}

// Subscribe registers a handler for every message, local and remote. The
// returned cancel is idempotent.
func (b *Broker) Subscribe(fn func(hub.Message)) (func(), error) {
	h := &handler{fn: fn}
	b.mu.Lock()
	var next []*handler
	if old := b.handlers.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, h)
	b.handlers.Store(&next)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			old := *b.handlers.Load()
			next := make([]*handler, 0, len(old))
			for _, x := range old {
				if x != h {
					next = append(next, x)
				}
			}
			b.handlers.Store(&next)
		})
	}, nil
}

// Stats reports messages published, received from other nodes, and
// received but undecodable.
func (b *Broker) Stats() (published, received, dropped int64) {
	return b.published.Load(), b.received.Load(), b.dropped.Load()
}

// Connected reports whether the NATS connection is up (for /readyz).
func (b *Broker) Connected() bool { return b.nc.IsConnected() }

// Close flushes pending publishes (for at most 2 s) and closes the
// connection. It is idempotent.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.close() })
	return err
}

func (b *Broker) close() error {
	b.topicsMu.Lock()
	for _, ts := range b.topics {
		if ts.linger != nil {
			ts.linger.Stop()
		}
	}
	b.topicsMu.Unlock()
	err := b.nc.FlushTimeout(2 * time.Second)
	b.nc.Close()
	close(b.done)
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("natsbroker: close: %w", err)
	}
	return nil
}

// Subject returns the subject of canvas under prefix. A canvas id that is
// not a plain token (letters, digits, '-', '_') is hex-encoded behind '~',
// so that no id can add subject levels or wildcards.
func Subject(prefix, canvas string) string {
	plain := canvas != ""
	for i := 0; i < len(canvas) && plain; i++ {
		c := canvas[i]
		plain = c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	if plain {
		return prefix + "." + canvas
	}
	return fmt.Sprintf("%s.~%x", prefix, canvas)
}

// wireVersion is the first byte of every message.
const wireVersion = 1

// Encode frames m: version, Seq (8 bytes big-endian), canvas and From as
// uvarint-length strings, then Data.
func Encode(m hub.Message) []byte {
	out := make([]byte, 0, 1+8+2*binary.MaxVarintLen32+len(m.Canvas)+len(m.From)+len(m.Data))
	out = append(out, wireVersion)
	out = binary.BigEndian.AppendUint64(out, m.Seq)
	out = binary.AppendUvarint(out, uint64(len(m.Canvas)))
	out = append(out, m.Canvas...)
	out = binary.AppendUvarint(out, uint64(len(m.From)))
	out = append(out, m.From...)
	return append(out, m.Data...)
}

// Decode parses what Encode produced. Data aliases b.
func Decode(b []byte) (hub.Message, error) {
	var m hub.Message
	if len(b) < 9 || b[0] != wireVersion {
		return m, errors.New("not a canvasd broker message")
	}
	m.Seq = binary.BigEndian.Uint64(b[1:9])
	rest := b[9:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		s := string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		return s, true
	}
	var ok bool
	if m.Canvas, ok = str(); !ok || m.Canvas == "" {
		return m, errors.New("bad canvas field")
	}
	if m.From, ok = str(); !ok {
		return m, errors.New("bad from field")
	}
	m.Data = rest
	return m, nil
}

// Scheme reports whether a --broker value names NATS.
func Scheme(url string) bool {
	return strings.HasPrefix(url, "nats://") || strings.HasPrefix(url, "tls://")
}
