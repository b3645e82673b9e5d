// Command canvasbench is canvasd's load generator.
//
// fanout mode opens N websocket viewers (and optionally M ?subscribe NDJSON
// streams) on one canvas over real sockets, sends PATCHes at a fixed rate,
// and reports the edit-to-viewer latency of every delivery (p50, p99, max),
// deliveries per second, events lost, slow-client closes, and the server's
// RSS per idle connection.
//
//	canvasbench -mode fanout -viewers 1000 -rate 10 -duration 20s
//
// removebg mode times the whole POST /v1/remove-background request of a
// 10 MP JPEG (see removebg.go).
//
// Without -url it builds nothing: it starts -bin (default bin/canvasd) on a
// free loopback port with a fresh data directory, so the run is
// self-contained. It raises its own open-file limit and says so.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

type config struct {
	mode, url, token, bin string
	viewers, streams      int
	requests              int
	rate                  float64
	duration, settle      time.Duration
	dialConc              int
}

func main() {
	runtime.SetDefaultGOMAXPROCS()
	var c config
	flag.StringVar(&c.mode, "mode", "fanout", "benchmark mode: fanout, or removebg (whole POST /v1/remove-background of a 10 MP JPEG)")
	flag.StringVar(&c.url, "url", "", "server base URL; empty starts -bin on a free port")
	flag.StringVar(&c.token, "token", "bench-admin-token", "admin token (the bootstrap token when -bin is started)")
	flag.StringVar(&c.bin, "bin", "bin/canvasd", "canvasd binary to start when -url is empty")
	flag.IntVar(&c.viewers, "viewers", 1000, "websocket viewers")
	flag.IntVar(&c.streams, "streams", 0, "NDJSON ?subscribe streams")
	flag.Float64Var(&c.rate, "rate", 10, "edits per second")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long edits are sent")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "wait after the last edit for deliveries")
	flag.IntVar(&c.dialConc, "dial-concurrency", 64, "concurrent websocket dials while connecting")
	flag.IntVar(&c.requests, "requests", 10, "removebg: timed requests (after one untimed warm-up)")
	flag.Parse()
	runMode := run
	switch c.mode {
	case "fanout":
	case "removebg":
		runMode = runRemoveBG
	default:
		fmt.Fprintln(os.Stderr, "canvasbench: -mode is fanout or removebg")
		os.Exit(2)
	}
	if err := runMode(c); err != nil {
		fmt.Fprintln(os.Stderr, "canvasbench:", err)
		os.Exit(1)
	}
}

func raiseNoFile() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	old := l.Cur
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur != old {
		fmt.Printf("raised open-file limit from %d to %d (server child inherits it)\n", old, l.Cur)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startServer(c *config) (*exec.Cmd, func(), error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "canvasbench-*")
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(c.bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dir,
		"--log-format", "json", "--max-websockets-per-user", "1000000")
	cmd.Env = append(os.Environ(), "CANVASD_BOOTSTRAP_TOKEN="+c.token)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start %s: %w", c.bin, err)
	}
	c.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	stop := func() {
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
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(c.url + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, nil, errors.New("server did not become healthy")
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

func api(c *config, method, path, body string) (map[string]any, error) {
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Private-Token", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, b)
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// stats collects delivery latencies.
type stats struct {
	mu        sync.Mutex
	lat       []time.Duration
	delivered atomic.Int64
	lost      atomic.Int64
	slow      atomic.Int64
	dropped   atomic.Int64 // connections that ended for another reason
}

func (s *stats) add(d time.Duration) {
	s.delivered.Add(1)
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

var marker = []byte(`"text":"t=`)

// sentAt reads the send time embedded in the note text without decoding JSON.
func sentAt(data []byte) (time.Time, bool) {
	i := bytes.Index(data, marker)
	if i < 0 {
		return time.Time{}, false
	}
	rest := data[i+len(marker):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

func seqOf(data []byte) uint64 {
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

func viewer(ctx context.Context, c *config, canvas string, st *stats, ready *sync.WaitGroup, sem chan struct{}) {
	sem <- struct{}{}
	u := "ws" + strings.TrimPrefix(c.url, "http") + "/api/v1/canvases/" + canvas + "/ws"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {c.token}}})
	<-sem
	if err != nil {
		st.dropped.Add(1)
		ready.Done()
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	var last uint64
	first := true
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == 4008 {
				st.slow.Add(1)
			} else if ctx.Err() == nil {
				st.dropped.Add(1)
			}
			if first {
				ready.Done()
			}
			return
		}
		now := time.Now()
		if first { // HELLO
			first = false
			last = seqOf(data)
			ready.Done()
			continue
		}
		seq := seqOf(data)
		if seq == 0 {
			continue // presence and viewer events
		}
		if seq > last+1 {
			st.lost.Add(int64(seq - last - 1))
		}
		if seq > last {
			last = seq
		}
		if t, ok := sentAt(data); ok {
			st.add(now.Sub(t))
		}
	}
}

func ndjsonStream(ctx context.Context, c *config, canvas, note string, st *stats, ready *sync.WaitGroup) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.url+"/api/v1/canvases/"+canvas+"/notes/"+note+"?subscribe", nil)
	req.Header.Set("Private-Token", c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		st.dropped.Add(1)
		ready.Done()
		return
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	first := true
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if ctx.Err() == nil {
				st.dropped.Add(1)
			}
			if first {
				ready.Done()
			}
			return
		}
		now := time.Now()
		if first {
			first = false
			ready.Done()
			continue
		}
		if t, ok := sentAt(line); ok {
			st.add(now.Sub(t))
		}
	}
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// ownServer starts canvasd unless c.url names a running one; pid is 0 then,
// and stop does nothing.
func ownServer(c *config) (pid int, stop func(), err error) {
	if c.url != "" {
		return 0, func() {}, nil
	}
	cmd, stop, err := startServer(c)
	if err != nil {
		return 0, nil, err
	}
	return cmd.Process.Pid, stop, nil
}

func run(c config) error {
	raiseNoFile()
	pid, stop, err := ownServer(&c)
	if err != nil {
		return err
	}
	defer stop()
	cv, err := api(&c, "POST", "/api/v1/canvases", `{"name":"canvasbench"}`)
	if err != nil {
		return err
	}
	canvas := cv["id"].(string)
	note, err := api(&c, "POST", "/api/v1/canvases/"+canvas+"/notes", `{"text":"t=0"}`)
	if err != nil {
		return err
	}
	noteID := note["id"].(string)
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
	rssBefore := rssKiB(pid)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &stats{}
	var ready sync.WaitGroup
	sem := make(chan struct{}, c.dialConc)
	t0 := time.Now()
	ready.Add(c.viewers + c.streams)
	var wg sync.WaitGroup
	for i := 0; i < c.viewers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); viewer(ctx, &c, canvas, st, &ready, sem) }()
	}
	for i := 0; i < c.streams; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); ndjsonStream(ctx, &c, canvas, noteID, st, &ready) }()
	}
	ready.Wait()
	connectTime := time.Since(t0)
	time.Sleep(2 * time.Second) // let the server settle
	rssIdle := rssKiB(pid)
	fmt.Printf("connected %d viewers and %d NDJSON streams in %v (%d failed)\n", c.viewers, c.streams, connectTime.Round(time.Millisecond), st.dropped.Load())

	// Edits at a fixed rate, each carrying its send time.
	interval := time.Duration(float64(time.Second) / c.rate)
	tick := time.NewTicker(interval)
	deadline := time.Now().Add(c.duration)
	sent := 0
	var editErr atomic.Int64
	var ewg sync.WaitGroup
	for now := range tick.C {
		if now.After(deadline) {
			break
		}
		sent++
		ewg.Add(1)
		go func(ts time.Time) {
			defer ewg.Done()
			if _, err := api(&c, "PATCH", "/api/v1/canvases/"+canvas+"/notes/"+noteID, fmt.Sprintf(`{"text":"t=%d"}`, ts.UnixNano())); err != nil {
				editErr.Add(1)
			}
		}(now)
	}
	tick.Stop()
	ewg.Wait()
	time.Sleep(c.settle)
	rssBusy := rssKiB(pid)
	cancel()
	wg.Wait()

	st.mu.Lock()
	lat := append([]time.Duration(nil), st.lat...)
	st.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	expected := int64(sent-int(editErr.Load())) * int64(c.viewers+c.streams)
	fmt.Printf("edits sent: %d at %.1f/s (%d failed)\n", sent, c.rate, editErr.Load())
	fmt.Printf("deliveries: %d of %d expected (%.1f/s over the edit window)\n", st.delivered.Load(), expected, float64(st.delivered.Load())/c.duration.Seconds())
	fmt.Printf("edit-to-viewer latency: p50 %v  p99 %v  max %v\n", pct(lat, 0.5).Round(time.Microsecond), pct(lat, 0.99).Round(time.Microsecond), pct(lat, 1).Round(time.Microsecond))
	missing := expected - st.delivered.Load()
	if missing < 0 {
		missing = 0
	}
	fmt.Printf("events lost: %d (seq gaps seen by viewers: %d)\n", missing, st.lost.Load())
	fmt.Printf("slow-client closes: %d, other disconnects: %d\n", st.slow.Load(), st.dropped.Load())
	if pid > 0 && rssBefore > 0 {
		n := int64(c.viewers + c.streams)
		fmt.Printf("server RSS: %d KiB before, %d KiB with %d idle connections (%.1f KiB per connection), %d KiB after the run\n",
			rssBefore, rssIdle, n, float64(rssIdle-rssBefore)/float64(n), rssBusy)
	}
	if missing > 0 || st.lost.Load() > 0 {
		return fmt.Errorf("%d events lost", missing)
	}
	return nil
}
