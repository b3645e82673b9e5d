package main

// centrifugo mode (issue 15): the fan-out scenario against Centrifugo, with
// the same viewers' latency and loss accounting, so that canvasd and
// Centrifugo can be measured one after the other under one load generator.
// Viewers speak Centrifugo's JSON protocol over /connection/websocket
// (connect, subscribe to one channel, answer pings); the publisher calls
// POST /api/publish with {"text":"t=<send time>","seq":N}, N counting from
// 1, so that gaps are losses. With -centrifugo-bin it starts Centrifugo on
// a free loopback port with a generated config (memory engine, insecure
// client mode, no history); scripts/bench-centrifugo.sh installs the
// binary into a scratch folder.
//
//	canvasbench -mode centrifugo -centrifugo-bin /tmp/cfbench/centrifugo -viewers 5000 -rate 10

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

const cfChannel = "bench"

func startCentrifugo(c *config) (pid int, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return 0, nil, err
	}
	dir, err := os.MkdirTemp("", "canvasbench-cf-*")
	if err != nil {
		return 0, nil, err
	}
	cfg := fmt.Sprintf(`{"http_server":{"address":"127.0.0.1","port":%d},"log":{"level":"error"},`+
		`"client":{"insecure":true,"allowed_origins":["*"]},"http_api":{"key":%q},`+
		`"channel":{"without_namespace":{"allow_subscribe_for_client":true}}}`, port, c.token)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(c.cfBin, "--config", path)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return 0, nil, fmt.Errorf("start %s: %w", c.cfBin, err)
	}
	c.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	}
	for range 100 {
		if err := cfPublish(c, []byte(`{"text":"warm-up"}`)); err == nil {
			return cmd.Process.Pid, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return 0, nil, errors.New("centrifugo did not answer /api/publish")
}

func cfPublish(c *config, data []byte) error {
	body := fmt.Sprintf(`{"channel":%q,"data":%s}`, cfChannel, data)
	req, err := http.NewRequest("POST", c.url+"/api/publish", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"error"`)) {
		return fmt.Errorf("publish: %s %s", resp.Status, b)
	}
	return nil
}

// cfViewer connects, subscribes and reads publications until ctx ends.
// cfState is what the Centrifugo viewers report against: the publications
// answered 200 (by seq) and how many arrived out of order (the publisher
// sends concurrently, so Centrifugo may order them differently; that is
// not a loss).
type cfState struct {
	mu        sync.Mutex
	ok        map[uint64]bool
	reordered atomic.Int64
}

func cfViewer(ctx context.Context, c *config, hc *http.Client, st *stats, cf *cfState, ready *sync.WaitGroup, sem chan struct{}) {
	sem <- struct{}{}
	u := "ws" + strings.TrimPrefix(c.url, "http") + "/connection/websocket"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc})
	if err == nil {
		err = conn.Write(ctx, websocket.MessageText,
			[]byte(`{"id":1,"connect":{}}`+"\n"+`{"id":2,"subscribe":{"channel":"`+cfChannel+`"}}`))
	}
	<-sem
	if err != nil {
		st.dropped.Add(1)
		ready.Done()
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	var last uint64
	var reordered int64
	var seen []bool // by seq: publications received
	subscribed := false
	var lat []time.Duration
	defer func() {
		st.merge(lat)
		cf.reordered.Add(reordered)
		// Lost: publications answered 200 that this viewer never got.
		cf.mu.Lock()
		for seq := range cf.ok {
			if seq >= uint64(len(seen)) || !seen[seq] {
				st.lost.Add(1)
			}
		}
		cf.mu.Unlock()
	}()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				st.dropped.Add(1)
			}
			if !subscribed {
				ready.Done()
			}
			return
		}
		now := time.Now()
		// A frame may carry several replies, one per line.
		for _, line := range bytes.Split(data, []byte("\n")) {
			switch {
			case len(bytes.TrimSpace(line)) == 0:
			case bytes.Equal(bytes.TrimSpace(line), []byte("{}")): // ping
				conn.Write(ctx, websocket.MessageText, []byte("{}"))
			case !subscribed && bytes.Contains(line, []byte(`"id":2`)):
				if bytes.Contains(line, []byte(`"error"`)) {
					st.dropped.Add(1)
					ready.Done()
					return
				}
				subscribed = true
				ready.Done()
			case bytes.Contains(line, []byte(`"pub"`)):
				seq := seqOf(line)
				if seq < last {
					reordered++
				}
				last = max(last, seq)
				for uint64(len(seen)) <= seq {
					seen = append(seen, false)
				}
				seen[seq] = true
				if t, ok := sentAt(line); ok {
					lat = append(lat, now.Sub(t))
					st.delivered.Add(1)
				}
			}
		}
	}
}

func runCentrifugo(c config) error {
	raiseNoFile()
	pid := 0
	if c.url == "" {
		if c.cfBin == "" {
			return errors.New("-mode centrifugo needs -url or -centrifugo-bin")
		}
		p, stop, err := startCentrifugo(&c)
		if err != nil {
			return err
		}
		defer stop()
		pid = p
	}
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
	rssBefore := rssKiB(pid)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &stats{}
	cf := &cfState{ok: map[uint64]bool{}}
	var ready, wg sync.WaitGroup
	sem := make(chan struct{}, c.dialConc)
	hc := dialClient(&c)
	t0 := time.Now()
	ready.Add(c.viewers)
	for range c.viewers {
		wg.Add(1)
		go func() { defer wg.Done(); cfViewer(ctx, &c, hc, st, cf, &ready, sem) }()
	}
	ready.Wait()
	fmt.Printf("connected %d Centrifugo viewers in %v (%d failed)\n", c.viewers, time.Since(t0).Round(time.Millisecond), st.dropped.Load())
	time.Sleep(2 * time.Second)
	rssIdle := rssKiB(pid)

	cpu0 := procCPU(pid)
	var ok, failed atomic.Int64
	var lastDone atomic.Int64
	var ewg sync.WaitGroup
	sent := 0
	tStart := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.rate))
	deadline := time.Now().Add(c.duration)
	for now := range tick.C {
		if now.After(deadline) {
			break
		}
		sent++
		ewg.Add(1)
		go func(ts time.Time, seq int) {
			defer ewg.Done()
			if err := cfPublish(&c, fmt.Appendf(nil, `{"text":"t=%d","seq":%d}`, ts.UnixNano(), seq)); err != nil {
				failed.Add(1)
				return
			}
			ok.Add(1)
			cf.mu.Lock()
			cf.ok[uint64(seq)] = true
			cf.mu.Unlock()
			for {
				t := time.Now().UnixNano()
				old := lastDone.Load()
				if t <= old || lastDone.CompareAndSwap(old, t) {
					break
				}
			}
		}(now, sent)
	}
	tick.Stop()
	ewg.Wait()
	settle(st, ok.Load()*int64(c.viewers), c.settle)
	cpu1 := procCPU(pid)
	cancel()
	wg.Wait()

	st.mu.Lock()
	lat := append([]time.Duration(nil), st.lat...)
	st.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	delivered := st.delivered.Load()
	expected := ok.Load() * int64(c.viewers)
	missing := st.lost.Load() // answered publications some viewer never got
	pubRate := 0.0
	if last := lastDone.Load(); last > 0 {
		pubRate = float64(ok.Load()) / time.Unix(0, last).Sub(tStart).Seconds()
	}
	perViewer, cpuPer1k := -1.0, -1.0
	if pid > 0 && rssBefore > 0 {
		perViewer = float64(rssIdle-rssBefore) / float64(c.viewers)
	}
	if pid > 0 && delivered > 0 {
		cpuPer1k = (cpu1 - cpu0).Seconds() / (float64(delivered) / 1000)
	}
	p50, p99, pmax := pct(lat, 0.5).Round(time.Microsecond), pct(lat, 0.99).Round(time.Microsecond), pct(lat, 1).Round(time.Microsecond)
	fmt.Printf("publishes: %d at %.1f/s (%d failed); publisher achieved %.2f/s\n", sent, c.rate, failed.Load(), pubRate)
	fmt.Printf("deliveries: %d (%d expected from publishes answered 200); latency p50 %v p99 %v max %v; lost %d, out of order %d\n", delivered, expected, p50, p99, pmax, missing, cf.reordered.Load())
	fmt.Printf("RESULT target=centrifugo viewers=%d rate=%g p50=%v p99=%v max=%v delivered=%d expected=%d lost=%d reordered=%d dropped=%d pub=%.2f/%.1f rss_kib_per_viewer=%.1f rss_idle_kib=%d cpu_s_per_1k=%.4f\n",
		c.viewers, c.rate, p50, p99, pmax, delivered, expected, missing, cf.reordered.Load(), st.dropped.Load(), pubRate, c.rate, perViewer, rssIdle, cpuPer1k)
	return nil
}
