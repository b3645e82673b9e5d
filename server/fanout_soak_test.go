package server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestFanoutSoak2000Viewers (issue 15): 2,000 websocket viewers on one
// canvas for 20 s of steady edits. Every viewer gets every event, in
// order, nothing lost; between the first and the last 5 s the process's
// goroutines and heap do not grow (counts compared with a tolerance, not
// times); and an idle viewer parks at most one server goroutine (its
// reader): the test process's goroutines stay under 2 per viewer (one of
// them the test's own reader) plus a margin, where a reader and a writer
// per socket made it 3.
func TestFanoutSoak2000Viewers(t *testing.T) {
	const (
		viewers = 2000
		rate    = 2 // edits a second
		soak    = 20 * time.Second
		window  = 5 * time.Second
		slack   = 200 // goroutines: HTTP handlers, the writer pool, timers
	)
	e := newTestEnv(t, withConfig(func(c *Config) { c.MaxStreamsPerUser = viewers + 10 }))
	alice := e.createUser("alice", false)
	cv := e.createCanvas(alice.Token, "soak")
	note := e.createNote(alice.Token, cv, nil)
	np := cv.path("/notes/" + note.id())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		delivered atomic.Int64
		gaps      atomic.Int64
		ended     atomic.Int64 // viewers whose socket ended before the test did
		ready     sync.WaitGroup
		done      sync.WaitGroup
	)
	// Dial from several loopback addresses so that 2,000 sockets need no
	// more than one ephemeral port range, 64 at a time.
	clients := make([]*http.Client, 8)
	for i := range clients {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	sem := make(chan struct{}, 64)
	u := "ws" + strings.TrimPrefix(e.URL, "http") + cv.path("/ws")
	ready.Add(viewers)
	for i := range viewers {
		done.Add(1)
		go func() {
			defer done.Done()
			sem <- struct{}{}
			c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
				HTTPHeader: http.Header{"Private-Token": {alice.Token}}, HTTPClient: clients[i%len(clients)]})
			<-sem
			if err != nil {
				ended.Add(1)
				ready.Done()
				return
			}
			defer c.CloseNow()
			_, hello, err := c.Read(ctx)
			ready.Done()
			if err != nil {
				ended.Add(1)
				return
			}
			last := soakSeq(hello)
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					if ctx.Err() == nil {
						ended.Add(1)
					}
					return
				}
				seq := soakSeq(data)
				if seq == 0 {
					continue // presence
				}
				if seq != last+1 {
					gaps.Add(1)
				}
				last = seq
				delivered.Add(1)
			}
		}()
	}
	ready.Wait()
	if n := ended.Load(); n > 0 {
		t.Fatalf("%d of %d viewers failed to connect", n, viewers)
	}

	type sample struct{ goroutines, heap int64 }
	measure := func() sample {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return sample{int64(runtime.NumGoroutine()), int64(ms.HeapInuse)}
	}
	idle := measure()
	if max := int64(2*viewers + slack); idle.goroutines > max {
		t.Fatalf("%d goroutines with %d idle viewers, want at most %d (one reader per viewer on each side)", idle.goroutines, viewers, max)
	}

	var first, last []sample
	sent := 0
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	start := time.Now()
	for now := range tick.C {
		el := now.Sub(start)
		if el >= soak {
			break
		}
		e.doJSON("PATCH", np, alice.Token, map[string]any{"text": fmt.Sprintf("soak %d", sent)}).expect(t, 200)
		sent++
		if sent%rate == 0 { // once a second
			switch {
			case el < window:
				first = append(first, measure())
			case el >= soak-window:
				last = append(last, measure())
			}
		}
	}
	want := int64(sent) * viewers
	e.eventually(fmt.Sprintf("%d deliveries", want), func() bool { return delivered.Load() >= want })
	if d, g, n := delivered.Load(), gaps.Load(), ended.Load(); d != want || g != 0 || n != 0 {
		t.Fatalf("delivered %d of %d, %d seq gaps, %d sockets ended early", d, want, g, n)
	}
	if len(first) == 0 || len(last) == 0 {
		t.Fatalf("no samples: %d first, %d last", len(first), len(last))
	}
	peak := func(ss []sample) sample {
		var p sample
		for _, s := range ss {
			p.goroutines, p.heap = max(p.goroutines, s.goroutines), max(p.heap, s.heap)
		}
		return p
	}
	a, b := peak(first), peak(last)
	t.Logf("%d viewers, %d edits: idle %d goroutines; first 5 s peak %d goroutines, %d KiB heap; last 5 s peak %d goroutines, %d KiB heap",
		viewers, sent, idle.goroutines, a.goroutines, a.heap>>10, b.goroutines, b.heap>>10)
	if b.goroutines > a.goroutines+slack/4 {
		t.Errorf("goroutines grew from %d to %d", a.goroutines, b.goroutines)
	}
	if b.heap > a.heap+a.heap/4+(8<<20) {
		t.Errorf("heap grew from %d KiB to %d KiB", a.heap>>10, b.heap>>10)
	}
	cancel()
	done.Wait()
}

// soakSeq reads "seq":N from an event without decoding it (0 if none).
func soakSeq(data []byte) uint64 {
	i := bytes.Index(data, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	rest := data[i+6:]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseUint(string(rest[:j]), 10, 64)
	return n
}
