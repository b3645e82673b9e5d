package wsfan

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Source is what a Session sends: the transport's side of a connection.
type Source interface {
	// Fill appends the frames the connection must send now to b. To end
	// the connection it returns a function (a close handshake, a release)
	// that runs in its own goroutine once b is on the wire; Fill is then
	// never called again. Fill runs on one pool goroutine at a time.
	Fill(b *Batch) (then func())
	// Broken is called, in its own goroutine, once a write failed or timed
	// out: the connection is unusable. Fill is never called again.
	Broken(err error)
}

// Batch collects the frames of one write.
type Batch struct {
	frames [][]byte // wire segments: whole frames, or a header then its payload
	size   int
}

// Add appends one whole frame (see Frame). The frame is only read.
func (b *Batch) Add(frame []byte) {
	b.frames = append(b.frames, frame)
	b.size += len(frame)
}

// AddText appends data as a text frame without copying it (for messages
// that were not framed beforehand, such as a replay). data is only read.
func (b *Batch) AddText(data []byte) {
	hdr := make([]byte, maxHeader)
	hdr = hdr[:header(hdr, len(data))]
	b.frames = append(b.frames, hdr, data)
	b.size += len(hdr) + len(data)
}

// Len is the number of frames in b.
func (b *Batch) Len() int { return len(b.frames) }

func (b *Batch) reset() {
	clear(b.frames)
	b.frames = b.frames[:0]
	b.size = 0
}

// bufPool holds the buffers that coalesce several frames into one write.
// Sized for a few common events; larger runs allocate.
const coalesceCap = 16 << 10

// Pool writes queued frames to many connections from a few goroutines. Its
// zero value is ready: it runs at most GOMAXPROCS writer goroutines, started
// when a connection has something to send and ended as soon as no
// connection has, so idle connections cost no goroutine. A connection whose
// socket buffer is full gets a goroutine of its own until its write is done
// (or times out, see NewSession); the pool goroutines never block on a
// socket.
type Pool struct {
	mu      sync.Mutex
	q       []*Session
	head    int
	running int
	max     int // writer goroutines at most: GOMAXPROCS at the first push

	bufs sync.Pool // *[]byte of cap coalesceCap
}

// Session is one connection in a Pool.
type Session struct {
	p     *Pool
	c     *Conn
	src   Source
	wait  time.Duration // bounds a write that waits for a full socket
	sched atomic.Bool   // queued, running, flushing, or ended: Wake only marks dirty
	dirty atomic.Bool   // something changed since Fill last ran
	ended bool          // Fill returned a close or a write failed; owned by the runner
}

// NewSession adds a connection to the pool. It starts paused (Wake only
// marks it dirty) so that the caller can write its first frames with
// Conn.WriteFrames; Start lets the pool write. writeTimeout bounds a write
// that has to wait for a full socket (default 10 s).
func (p *Pool) NewSession(c *Conn, src Source, writeTimeout time.Duration) *Session {
	if writeTimeout <= 0 {
		writeTimeout = 10 * time.Second
	}
	s := &Session{p: p, c: c, src: src, wait: writeTimeout}
	s.sched.Store(true)
	return s
}

// Start lets the pool write for s, and runs Fill once.
func (s *Session) Start() {
	s.dirty.Store(true)
	s.sched.Store(false)
	s.release()
}

// Wake tells the pool that s may have something to send (a message was
// queued, its subscription or context ended). It never blocks and may be
// called from any goroutine, under the caller's locks.
func (s *Session) Wake() {
	s.dirty.Store(true)
	if s.sched.CompareAndSwap(false, true) {
		s.p.push(s)
	}
}

// release ends a run: s is idle again unless it was woken meanwhile.
func (s *Session) release() {
	s.sched.Store(false)
	if s.dirty.Load() && s.sched.CompareAndSwap(false, true) {
		s.p.push(s)
	}
}

func (p *Pool) push(s *Session) {
	p.mu.Lock()
	p.q = append(p.q, s)
	if p.max == 0 {
		p.max = runtime.GOMAXPROCS(0) // once: it takes the scheduler's lock
	}
	spawn := p.running < p.max
	if spawn {
		p.running++
	}
	p.mu.Unlock()
	if spawn {
		go p.work()
	}
}

// work runs queued sessions until the queue is empty.
func (p *Pool) work() {
	var batch Batch
	var take [16]*Session
	for {
		p.mu.Lock()
		n := copy(take[:], p.q[p.head:])
		clear(p.q[p.head : p.head+n])
		p.head += n
		if p.head == len(p.q) {
			if cap(p.q) > 4096 {
				p.q = nil // release what a burst grew
			} else {
				p.q = p.q[:0]
			}
			p.head = 0
		}
		if n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for i := range n {
			p.run(take[i], &batch)
			take[i] = nil
		}
	}
}

// run fills s's batch and writes it without blocking.
func (p *Pool) run(s *Session, b *Batch) {
	if s.ended {
		return // sched stays set: s is never queued again
	}
	s.dirty.Store(false)
	then := s.src.Fill(b)
	if then != nil {
		s.ended = true
	}
	if b.size == 0 {
		b.reset()
		if then != nil {
			go then()
			return
		}
		s.release()
		return
	}
	segs, buf := p.join(b)
	b.reset()
	if !s.c.wmu.TryLock() {
		// A control frame is being written (or a flusher has the
		// socket): finish in a goroutine rather than wait here.
		go func() {
			s.c.wmu.Lock()
			p.flushLocked(s, segs, buf, then)
		}()
		return
	}
	for len(segs) > 0 {
		n, err := s.c.tryWrite(segs[0])
		if err != nil && !errors.Is(err, errNoRaw) {
			s.c.wmu.Unlock()
			p.put(buf)
			s.ended = true
			go s.src.Broken(err)
			return
		}
		if n < len(segs[0]) {
			// The socket is full (or has no descriptor): this connection
			// gets a goroutine until the rest is written.
			segs[0] = segs[0][n:]
			go p.flushLocked(s, segs, buf, then)
			return
		}
		segs = segs[1:]
	}
	s.c.wmu.Unlock()
	p.put(buf)
	if then != nil {
		go then()
		return
	}
	s.release()
}

// flushLocked writes the rest of a batch, blocking up to the write timeout,
// then unlocks the connection and carries on like run.
func (p *Pool) flushLocked(s *Session, rest net.Buffers, buf *[]byte, then func()) {
	err := s.c.writeBuffersLocked(rest, s.wait)
	s.c.wmu.Unlock()
	p.put(buf)
	if err != nil {
		s.ended = true
		s.src.Broken(err)
		return
	}
	if then != nil {
		then()
		return
	}
	s.release()
}

// join returns the batch's segments for writing: a small batch of several
// segments copied into one pooled buffer (returned as buf, to be put back
// after the write), so it goes out in one write; else a copy of the list,
// the frames themselves not copied.
func (p *Pool) join(b *Batch) (segs net.Buffers, buf *[]byte) {
	if len(b.frames) == 1 || b.size > coalesceCap {
		return append(net.Buffers(nil), b.frames...), nil
	}
	if v, ok := p.bufs.Get().(*[]byte); ok {
		buf = v
	} else {
		nb := make([]byte, 0, coalesceCap)
		buf = &nb
	}
	data := (*buf)[:0]
	for _, f := range b.frames {
		data = append(data, f...)
	}
	return net.Buffers{data}, buf
}

func (p *Pool) put(buf *[]byte) {
	if buf != nil {
		*buf = (*buf)[:0]
		p.bufs.Put(buf)
	}
}
