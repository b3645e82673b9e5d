// Command canvasbench is canvasd's load generator.
//
// fanout mode opens N websocket viewers (and optionally M ?subscribe NDJSON
// streams) on one canvas over real sockets, sends PATCHes at a fixed rate,
// and reports the edit-to-viewer latency of every delivery (p50, p99, max),
// deliveries per second, events lost, slow-client closes, and the server's
// RSS per idle connection.
//
//	canvasbench -mode fanout -viewers 1000 -rate 10 -duration 20s
//	canvasbench -mode fanout -viewers 10000 -canvases 1000 -rate 1   # 1,000 canvases x 10 viewers, 1 edit/s each
//	canvasbench -mode fanout -viewers 50000 -rate 0                  # idle viewers: connect, measure RSS, no edits
//
// With -canvases N the viewers are spread evenly over N canvases and each
// canvas gets -rate edits a second. Every run ends with one RESULT line:
// p50/p99/max latency, deliveries and losses, the publisher's achieved rate
// (edits answered 200 over the time from the first send to the last
// answer), deliveries against the canvases' head seqs (edits committed, a
// lost answer included), waiting after the last edit until -settle passes
// without a delivery,
// the server's RSS per idle viewer and its CPU seconds per 1,000 deliveries
// (utime+stime from /proc/PID/stat over the edit window and the settle).
// Viewers dial from 127.0.0.2..127.0.0.(1+-src-ips) when the server is on
// 127.0.0.1, so more than one port range of sockets can connect.
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
	cfBin, serverArgs     string
	viewers, streams      int
	canvases, srcIPs      int
	requests              int
	rate                  float64
	duration, settle      time.Duration
	dialConc              int
}

func main() {
	runtime.SetDefaultGOMAXPROCS()
	var c config
	flag.StringVar(&c.mode, "mode", "fanout", "benchmark mode: fanout, centrifugo (the fan-out scenario against Centrifugo), or removebg (whole POST /v1/remove-background of a 10 MP JPEG)")
	flag.StringVar(&c.url, "url", "", "server base URL; empty starts -bin on a free port")
	flag.StringVar(&c.token, "token", "bench-admin-token", "admin token (the bootstrap token when -bin is started)")
	flag.StringVar(&c.bin, "bin", "bin/canvasd", "canvasd binary to start when -url is empty")
	flag.IntVar(&c.viewers, "viewers", 1000, "websocket viewers")
	flag.IntVar(&c.streams, "streams", 0, "NDJSON ?subscribe streams")
	flag.IntVar(&c.canvases, "canvases", 1, "canvases the viewers are spread over; each gets -rate edits a second")
	flag.IntVar(&c.srcIPs, "src-ips", 8, "loopback source addresses viewers dial from (127.0.0.2...)")
	flag.Float64Var(&c.rate, "rate", 10, "edits per second per canvas; 0: idle viewers, RSS only")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long edits are sent")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "after the last edit, wait for deliveries until this long passes without one")
	flag.IntVar(&c.dialConc, "dial-concurrency", 64, "concurrent websocket dials while connecting")
	flag.StringVar(&c.serverArgs, "server-args", "", "extra canvasd serve flags, space-separated (e.g. --memory-limit 570MiB)")
	flag.StringVar(&c.cfBin, "centrifugo-bin", "", "centrifugo mode: Centrifugo binary to start when -url is empty (scripts/bench-centrifugo.sh installs one)")
	flag.IntVar(&c.requests, "requests", 10, "removebg: timed requests (after one untimed warm-up)")
	flag.Parse()
	runMode := run
	switch c.mode {
	case "fanout":
	case "removebg":
		runMode = runRemoveBG
	case "centrifugo":
		runMode = runCentrifugo
	default:
		fmt.Fprintln(os.Stderr, "canvasbench: -mode is fanout, centrifugo or removebg")
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
	if want := uint64(1 << 18); l.Max < want {
		// Root may raise the hard limit too (50,000 viewers need more than
		// the usual 20,000); otherwise stay within it.
		hi := l
		hi.Cur, hi.Max = want, want
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &hi) == nil {
			fmt.Printf("raised open-file limit from %d to %d (server child inherits it)\n", old, want)
			return
		}
	}
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
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dir,
		"--log-format", "json", "--max-websockets-per-user", "1000000"}, strings.Fields(c.serverArgs)...)
	cmd := exec.Command(c.bin, args...)
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
	resp, err := apiClient.Do(req)
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

// goMetrics reads go_goroutines and the stack and heap in use from the
// server's /metrics (Prometheus text), or zeros.
func goMetrics(c *config) (goroutines, stackKiB, heapKiB float64) {
	req, err := http.NewRequest("GET", c.url+"/metrics", nil)
	if err != nil {
		return
	}
	req.Header.Set("Private-Token", c.token)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := apiClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_goroutines":
			goroutines = v
		case "go_memstats_stack_inuse_bytes":
			stackKiB = v / 1024
		case "go_memstats_heap_inuse_bytes":
			heapKiB = v / 1024
		}
	}
	return
}

// apiClient keeps enough idle connections for 1,000 edits a second.
var apiClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}

// dialClient dials viewers from rotating loopback source addresses.
func dialClient(c *config) *http.Client {
	var n atomic.Uint64
	d := &net.Dialer{}
	local := strings.HasPrefix(c.url, "http://127.0.0.1:")
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !local || c.srcIPs <= 0 {
			return d.DialContext(ctx, network, addr)
		}
		i := n.Add(1) % uint64(c.srcIPs)
		dd := *d
		dd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		return dd.DialContext(ctx, network, addr)
	}}}
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

// merge adds one viewer's latencies (kept locally, so that 100,000
// deliveries a second do not contend on one lock); delivered was counted
// as they came.
func (s *stats) merge(lat []time.Duration) {
	s.mu.Lock()
	s.lat = append(s.lat, lat...)
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

func viewer(ctx context.Context, c *config, hc *http.Client, canvas string, st *stats, ready *sync.WaitGroup, sem chan struct{}) {
	sem <- struct{}{}
	u := "ws" + strings.TrimPrefix(c.url, "http") + "/api/v1/canvases/" + canvas + "/ws"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{"Private-Token": {c.token}}})
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
	var lat []time.Duration
	defer func() { st.merge(lat) }()
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
			lat = append(lat, now.Sub(t))
			st.delivered.Add(1)
		}
	}
}

// settle waits until want deliveries arrived, or none arrived for quiet
// (the -settle flag): what is still missing then is lost, not late.
func settle(st *stats, want int64, quiet time.Duration) {
	last, since := st.delivered.Load(), time.Now()
	for st.delivered.Load() < want && time.Since(since) < quiet {
		time.Sleep(100 * time.Millisecond)
		if n := st.delivered.Load(); n != last {
			last, since = n, time.Now()
		}
	}
}

// headSeq reads a canvas's head seq from the HELLO of a probe websocket.
func headSeq(c *config, canvas string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(c.url, "http") + "/api/v1/canvases/" + canvas + "/ws"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {c.token}}})
	if err != nil {
		return 0, err
	}
	defer conn.CloseNow()
	_, data, err := conn.Read(ctx)
	if err != nil {
		return 0, err
	}
	return seqOf(data), nil
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
	if c.canvases < 1 {
		c.canvases = 1
	}
	pid, stop, err := ownServer(&c)
	if err != nil {
		return err
	}
	defer stop()
	canvases := make([]string, c.canvases)
	notes := make([]string, c.canvases)
	for i := range canvases {
		cv, err := api(&c, "POST", "/api/v1/canvases", fmt.Sprintf(`{"name":"canvasbench %d"}`, i))
		if err != nil {
			return err
		}
		canvases[i] = cv["id"].(string)
		note, err := api(&c, "POST", "/api/v1/canvases/"+canvases[i]+"/notes", `{"text":"t=0"}`)
		if err != nil {
			return err
		}
		notes[i] = note["id"].(string)
	}
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
	rssBefore := rssKiB(pid)
	g0, stack0, _ := goMetrics(&c)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &stats{}
	var ready sync.WaitGroup
	sem := make(chan struct{}, c.dialConc)
	hc := dialClient(&c)
	t0 := time.Now()
	ready.Add(c.viewers + c.streams)
	var wg sync.WaitGroup
	perCanvas := make([]int64, c.canvases) // viewers and streams of each canvas
	for i := 0; i < c.viewers; i++ {
		wg.Add(1)
		k := i % c.canvases
		perCanvas[k]++
		go func() { defer wg.Done(); viewer(ctx, &c, hc, canvases[k], st, &ready, sem) }()
	}
	for i := 0; i < c.streams; i++ {
		wg.Add(1)
		k := i % c.canvases
		perCanvas[k]++
		go func() { defer wg.Done(); ndjsonStream(ctx, &c, canvases[k], notes[k], st, &ready) }()
	}
	ready.Wait()
	connectTime := time.Since(t0)
	time.Sleep(2 * time.Second) // let the server settle
	rssIdle := rssKiB(pid)
	g1, stack1, heap1 := goMetrics(&c)
	fmt.Printf("connected %d viewers and %d NDJSON streams on %d canvases in %v (%d failed)\n", c.viewers, c.streams, c.canvases, connectTime.Round(time.Millisecond), st.dropped.Load())
	n := int64(c.viewers + c.streams)
	perViewer := -1.0
	if pid > 0 && rssBefore > 0 {
		perViewer = float64(rssIdle-rssBefore) / float64(n)
	}

	// Edits at a fixed total rate (rate per canvas, canvases in turn), each
	// carrying its send time.
	heads0 := make([]uint64, c.canvases)
	if c.rate > 0 {
		for k := range canvases {
			if heads0[k], err = headSeq(&c, canvases[k]); err != nil {
				return err
			}
		}
	}
	cpu0 := procCPU(pid)
	var self0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	sent := 0
	okPer := make([]atomic.Int64, c.canvases)
	committed := make([]int64, c.canvases)
	var editErr atomic.Int64
	var lastDone atomic.Int64 // unix nanos of the last answered edit
	var ewg sync.WaitGroup
	tStart := time.Now()
	if c.rate > 0 {
		interval := time.Duration(float64(time.Second) / (c.rate * float64(c.canvases)))
		tick := time.NewTicker(interval)
		deadline := time.Now().Add(c.duration)
		for now := range tick.C {
			if now.After(deadline) {
				break
			}
			k := sent % c.canvases
			sent++
			ewg.Add(1)
			go func(ts time.Time) {
				defer ewg.Done()
				if _, err := api(&c, "PATCH", "/api/v1/canvases/"+canvases[k]+"/notes/"+notes[k], fmt.Sprintf(`{"text":"t=%d"}`, ts.UnixNano())); err != nil {
					if editErr.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "first failed edit:", err)
					}
					return
				}
				okPer[k].Add(1)
				for {
					t := time.Now().UnixNano()
					old := lastDone.Load()
					if t <= old || lastDone.CompareAndSwap(old, t) {
						break
					}
				}
			}(now)
		}
		tick.Stop()
		ewg.Wait()
		// Expected: every committed edit (an edit whose answer was lost
		// may still have committed) times its canvas's viewers.
		for k := range canvases {
			h, err := headSeq(&c, canvases[k])
			if err != nil {
				return err
			}
			committed[k] = int64(h - heads0[k])
		}
		var want int64
		for k := range committed {
			want += committed[k] * perCanvas[k]
		}
		settle(st, want, c.settle)
	}
	cpu1 := procCPU(pid)
	var self1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	rssBusy := rssKiB(pid)
	cancel()
	wg.Wait()

	st.mu.Lock()
	lat := append([]time.Duration(nil), st.lat...)
	st.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var expected, answered int64
	for k := range okPer {
		answered += okPer[k].Load()
		expected += committed[k] * perCanvas[k]
	}
	pubRate := 0.0
	if last := lastDone.Load(); last > 0 {
		pubRate = float64(answered) / time.Unix(0, last).Sub(tStart).Seconds()
	}
	target := c.rate * float64(c.canvases)
	delivered := st.delivered.Load()
	missing := expected - delivered
	if missing < 0 {
		missing = 0
	}
	cpuPer1k := -1.0
	if pid > 0 && delivered > 0 && cpu0 >= 0 && cpu1 >= 0 {
		cpuPer1k = (cpu1 - cpu0).Seconds() / (float64(delivered) / 1000)
	}
	selfCPU := time.Duration(self1.Utime.Nano()+self1.Stime.Nano()-self0.Utime.Nano()-self0.Stime.Nano()) * time.Nanosecond
	p50, p99, pmax := pct(lat, 0.5).Round(time.Microsecond), pct(lat, 0.99).Round(time.Microsecond), pct(lat, 1).Round(time.Microsecond)
	if c.rate > 0 {
		fmt.Printf("edits sent: %d at %.1f/s (%d failed); publisher achieved %.2f/s of %.1f/s\n", sent, target, editErr.Load(), pubRate, target)
		fmt.Printf("deliveries: %d of %d expected (%.1f/s over the edit window)\n", delivered, expected, float64(delivered)/c.duration.Seconds())
		fmt.Printf("edit-to-viewer latency: p50 %v  p99 %v  max %v\n", p50, p99, pmax)
		fmt.Printf("events lost: %d (seq gaps seen by viewers: %d)\n", missing, st.lost.Load())
		fmt.Printf("server CPU: %.2f s over the edit window and settle, %.3f s per 1,000 deliveries; load generator CPU %.2f s\n",
			(cpu1 - cpu0).Seconds(), cpuPer1k, selfCPU.Seconds())
	}
	fmt.Printf("slow-client closes: %d, other disconnects: %d\n", st.slow.Load(), st.dropped.Load())
	if pid > 0 && rssBefore > 0 {
		fmt.Printf("server RSS: %d KiB before, %d KiB with %d idle connections (%.1f KiB per connection), %d KiB after the run\n",
			rssBefore, rssIdle, n, perViewer, rssBusy)
	}
	fmt.Printf("server while idle: %.2f goroutines and %.1f KiB of stack per connection; heap in use %d KiB (GC not forced)\n",
		(g1-g0)/float64(n), (stack1-stack0)/float64(n), int64(heap1))
	fmt.Printf("RESULT goroutines_per_viewer=%.2f stack_kib_per_viewer=%.1f viewers=%d streams=%d canvases=%d rate=%g p50=%v p99=%v max=%v delivered=%d expected=%d lost=%d gaps=%d slow=%d dropped=%d pub=%.2f/%.1f rss_kib_per_viewer=%.1f rss_idle_kib=%d cpu_s_per_1k=%.4f gen_cpu_s=%.1f edits=%d failed_edits=%d\n",
		(g1-g0)/float64(n), (stack1-stack0)/float64(n), c.viewers, c.streams, c.canvases, c.rate, p50, p99, pmax, delivered, expected, missing, st.lost.Load(), st.slow.Load(), st.dropped.Load(),
		pubRate, target, perViewer, rssIdle, cpuPer1k, selfCPU.Seconds(), sent, editErr.Load())
	if missing > 0 || st.lost.Load() > 0 {
		return fmt.Errorf("%d events lost", missing)
	}
	return nil
}
