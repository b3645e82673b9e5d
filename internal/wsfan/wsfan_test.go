package wsfan

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// queueSource is a Source fed by a test: Fill sends what was queued.
type queueSource struct {
	mu     sync.Mutex
	q      [][]byte
	framed bool // Add(Frame(m)) rather than AddText(m)
	end    bool
	closed chan struct{}
	broken chan error
	conn   *websocket.Conn
}

func (q *queueSource) push(s *Session, msgs ...[]byte) {
	q.mu.Lock()
	q.q = append(q.q, msgs...)
	q.mu.Unlock()
	s.Wake()
}

func (q *queueSource) Fill(b *Batch) func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.q {
		if q.framed {
			b.Add(Frame(m))
		} else {
			b.AddText(m)
		}
	}
	q.q = nil
	if q.end {
		return func() {
			q.conn.Close(websocket.StatusGoingAway, "bye")
			close(q.closed)
		}
	}
	return nil
}

func (q *queueSource) Broken(err error) { q.broken <- err }

// serve starts a websocket server whose connections are written by p, and
// hands each accepted session to got.
func serve(t *testing.T, p *Pool, framed bool, got chan<- *Session, srcs chan<- *queueSource) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, fc, err := Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		src := &queueSource{framed: framed, closed: make(chan struct{}), broken: make(chan error, 1), conn: ws}
		s := p.NewSession(fc, src, 2*time.Second)
		if err := fc.WriteFrames(Frame([]byte("hello")), time.Second); err != nil {
			t.Errorf("hello: %v", err)
			return
		}
		s.Start()
		srcs <- src
		got <- s
		// The reader: control frames (the close handshake) need one.
		go ws.Read(context.Background())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFramesReadByTheProtocolLibrary: frames made by Frame and AddText, at
// every header size, one at a time and coalesced into one write, arrive
// as the same messages, in order, at a coder/websocket client; and the
// close the Source returns runs after the last frame.
func TestFramesReadByTheProtocolLibrary(t *testing.T) {
	for _, framed := range []bool{true, false} {
		t.Run(fmt.Sprintf("framed=%v", framed), func(t *testing.T) {
			var p Pool
			got, srcs := make(chan *Session, 1), make(chan *queueSource, 1)
			srv := serve(t, &p, framed, got, srcs)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			s, src := <-got, <-srcs
			var want [][]byte
			for i, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
				m := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, m)
				src.push(s, m) // one at a time
			}
			burst := [][]byte{[]byte("x1"), []byte("x22"), bytes.Repeat([]byte("y"), 300), []byte("x4")}
			want = append(want, burst...)
			src.push(s, burst...) // several frames in one write
			src.mu.Lock()
			src.end = true
			src.mu.Unlock()
			s.Wake()

			if _, data, err := c.Read(ctx); err != nil || string(data) != "hello" {
				t.Fatalf("first message %q, %v", data, err)
			}
			for i, w := range want {
				typ, data, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if typ != websocket.MessageText || !bytes.Equal(data, w) {
					t.Fatalf("message %d: %v of %d bytes, want text of %d", i, typ, len(data), len(w))
				}
			}
			_, _, err = c.Read(ctx)
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("after the messages: %v, want close 1001", err)
			}
		})
	}
}

// TestFullSocketDoesNotStallThePool: a viewer that reads nothing fills its
// socket; the pool hands its write to a goroutine of its own, keeps
// writing to the other viewer, and the stalled write ends with Broken
// after the write timeout.
func TestFullSocketDoesNotStallThePool(t *testing.T) {
	var p Pool
	// More stalled viewers than the pool has goroutines: a pool that
	// waited on a full socket would have none left for the fast viewer.
	n := runtime.GOMAXPROCS(0) + 1
	got, srcs := make(chan *Session, n+1), make(chan *queueSource, n+1)
	srv := serve(t, &p, true, got, srcs)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(srv.URL, "http")
	var stalledS []*Session
	var stalledSrc []*queueSource
	for range n {
		stalled, _, err := websocket.Dial(ctx, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer stalled.CloseNow()
		stalledS, stalledSrc = append(stalledS, <-got), append(stalledSrc, <-srcs)
	}
	fast, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.CloseNow()
	fast.SetReadLimit(1 << 20)
	s2, src2 := <-got, <-srcs

	big := bytes.Repeat([]byte("z"), 256<<10)
	for i := range stalledS {
		for range 64 { // 16 MiB: far more than loopback socket buffers hold
			stalledSrc[i].push(stalledS[i], big)
		}
	}
	if _, data, err := fast.Read(ctx); err != nil || string(data) != "hello" {
		t.Fatalf("fast viewer: %q, %v", data, err)
	}
	for i := range 20 {
		m := []byte(fmt.Sprintf("event %d", i))
		src2.push(s2, m)
		_, data, err := fast.Read(ctx)
		if err != nil || !bytes.Equal(data, m) {
			t.Fatalf("fast viewer, event %d: %q, %v", i, data, err)
		}
	}
	for _, src := range stalledSrc {
		select {
		case err := <-src.broken:
			if err == nil {
				t.Fatal("Broken(nil)")
			}
		case <-ctx.Done():
			t.Fatal("a stalled write never timed out")
		}
	}
}
