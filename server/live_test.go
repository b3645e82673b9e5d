package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// liveEnv is a real server on a real port over a real bbolt file.
type liveEnv struct {
	t       testing.TB
	st      *store.Store
	hub     *hub.Hub
	srv     *server.Server
	metrics *server.Metrics
	http    *httptest.Server
	token   string
}

func newLiveEnv(t testing.TB, cfg server.Config, opts store.Options, queueBytes int) *liveEnv {
	t.Helper()
	st, err := store.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	m := server.NewMetrics()
	h := server.NewHub(st, queueBytes, server.HubMetrics(m))
	srv := server.New(cfg, st, h, zerolog.Nop(), server.WithMetrics(m))
	srv.Start()
	tok, _, err := server.Bootstrap(st, "live-admin-token")
	if err != nil {
		t.Fatal(err)
	}
	e := &liveEnv{t: t, st: st, hub: h, srv: srv, metrics: m, http: httptest.NewServer(server.RecordHTTP(srv.Handler())), token: tok}
	t.Cleanup(e.close)
	return e
}

func (e *liveEnv) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.srv.Shutdown(ctx)
	e.http.Close()
	e.hub.Close(ctx)
	e.st.Close()
}

func (e *liveEnv) do(method, path, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Private-Token", e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *liveEnv) mustJSON(method, path, body string) map[string]any {
	e.t.Helper()
	code, b := e.do(method, path, body)
	if code != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return m
}

func (e *liveEnv) canvas() string {
	return e.mustJSON("POST", "/api/v1/canvases", `{"name":"live"}`)["id"].(string)
}

func (e *liveEnv) note(canvas string) string {
	return e.mustJSON("POST", "/api/v1/canvases/"+canvas+"/notes", `{"text":"hello"}`)["id"].(string)
}

func (e *liveEnv) dial(ctx context.Context, canvas, query string) *websocket.Conn {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/v1/canvases/" + canvas + "/ws" + query
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {e.token}}})
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetReadLimit(8 << 20)
	return c
}

type wsMsg struct {
	Type    string         `json:"type"`
	Seq     uint64         `json:"seq"`
	Widget  map[string]any `json:"widget"`
	Viewer  map[string]any `json:"viewer"`
	Viewers []any          `json:"viewers"`
	Cursor  map[string]any `json:"cursor"`
}

func readMsg(ctx context.Context, t testing.TB, c *websocket.Conn) wsMsg {
	t.Helper()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wsMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return m
}

// readSeqd reads messages until n seq'd events arrived, skipping ephemeral ones.
func readSeqd(ctx context.Context, t testing.TB, c *websocket.Conn, n int) []wsMsg {
	t.Helper()
	var out []wsMsg
	for len(out) < n {
		m := readMsg(ctx, t, c)
		if m.Seq > 0 && m.Type != "HELLO" && m.Type != "RESYNC" {
			out = append(out, m)
		}
	}
	return out
}

func TestLiveTwoViewersAndStreamSeeSameOrder(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	id := e.note(cv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := e.dial(ctx, cv, ""), e.dial(ctx, cv, "")
	defer a.CloseNow()
	defer b.CloseNow()
	helloA, helloB := readMsg(ctx, t, a), readMsg(ctx, t, b)
	if helloA.Type != "HELLO" || helloB.Type != "HELLO" {
		t.Fatalf("first messages %q %q, want HELLO", helloA.Type, helloB.Type)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/api/v1/canvases/"+cv+"/notes?subscribe", nil)
	req.Header.Set("Private-Token", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	lines.Scan() // the snapshot

	const edits = 30
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < edits/3; k++ {
				e.mustJSON("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, fmt.Sprintf(`{"text":"g%d-%d"}`, g, k))
			}
		}(i)
	}
	wg.Wait()
	ea, eb := readSeqd(ctx, t, a, edits), readSeqd(ctx, t, b, edits)
	var streamTexts []string
	for len(streamTexts) < edits && lines.Scan() {
		if len(bytes.TrimSpace(lines.Bytes())) == 0 {
			continue
		}
		var w map[string]any
		json.Unmarshal(lines.Bytes(), &w)
		streamTexts = append(streamTexts, w["text"].(string))
	}
	for i := range ea {
		if ea[i].Seq != eb[i].Seq || ea[i].Seq != ea[0].Seq+uint64(i) {
			t.Fatalf("event %d: seq A=%d B=%d, first %d: not the same consecutive order", i, ea[i].Seq, eb[i].Seq, ea[0].Seq)
		}
		ta, tb := ea[i].Widget["text"], eb[i].Widget["text"]
		if ta != tb || i >= len(streamTexts) || streamTexts[i] != ta {
			t.Fatalf("event %d: A=%v B=%v stream=%v", i, ta, tb, streamTexts)
		}
	}
}

func TestLiveResumeSinceGetsExactlyMissed(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{EventRetention: 150}, 0)
	cv := e.canvas()
	id := e.note(cv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := e.dial(ctx, cv, "")
	hello := readMsg(ctx, t, c)
	c.Close(websocket.StatusNormalClosure, "bye")
	last := hello.Seq
	for i := 0; i < 100; i++ {
		e.mustJSON("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, fmt.Sprintf(`{"text":"missed-%d"}`, i))
	}
	c = e.dial(ctx, cv, fmt.Sprintf("?since=%d", last))
	defer c.CloseNow()
	if m := readMsg(ctx, t, c); m.Type != "HELLO" {
		t.Fatalf("first message %q", m.Type)
	}
	got := readSeqd(ctx, t, c, 100)
	for i, m := range got {
		if m.Seq != last+1+uint64(i) || m.Widget["text"] != fmt.Sprintf("missed-%d", i) {
			t.Fatalf("replayed %d: seq %d text %v, want seq %d missed-%d", i, m.Seq, m.Widget["text"], last+1+uint64(i), i)
		}
	}
	// One more live edit arrives once, right after the replay: no gap, no duplicate.
	e.mustJSON("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, `{"text":"live"}`)
	if m := readSeqd(ctx, t, c, 1)[0]; m.Seq != last+101 || m.Widget["text"] != "live" {
		t.Fatalf("live after replay: seq %d %v, want %d live", m.Seq, m.Widget["text"], last+101)
	}
	// Push the log past its retention: since=1 is now too old.
	for i := 0; i < 160; i++ {
		e.mustJSON("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, `{"text":"more"}`)
	}
	old := e.dial(ctx, cv, "?since=1")
	defer old.CloseNow()
	if m := readMsg(ctx, t, old); m.Type != "HELLO" {
		t.Fatalf("first message %q", m.Type)
	}
	if m := readMsg(ctx, t, old); m.Type != "RESYNC" {
		t.Fatalf("since older than the log: got %q, want RESYNC", m.Type)
	}
}

// slowCloses reads canvasd_hub_slow_client_closes_total from e's registry.
func (e *liveEnv) slowCloses(t testing.TB) float64 {
	t.Helper()
	mfs, err := e.metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "canvasd_hub_slow_client_closes_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// A viewer that stops reading overflows its queue and is closed with 4008
// and its last delivered seq, while a normal viewer gets every event. The
// slow viewer starts draining its socket once the server has counted the
// overflow: a socket that stays jammed forever can take no close frame at
// all, and is dropped after the write deadline instead.
func TestLiveSlowViewerClosed4008OthersUnaffected(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 256<<10)
	cv := e.canvas()
	id := e.note(cv)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	slow := e.dial(ctx, cv, "")
	defer slow.CloseNow()
	fast := e.dial(ctx, cv, "")
	defer fast.CloseNow()
	readMsg(ctx, t, slow) // HELLO, then no reading until the overflow
	hello := readMsg(ctx, t, fast)
	closesBefore := e.slowCloses(t)

	big := strings.Repeat("x", 32<<10)
	const edits = 800 // ~26 MB: more than the slow socket's kernel buffers and its 256 KiB queue
	type result struct {
		msgs []wsMsg
		err  error
	}
	got := make(chan result, 1)
	go func() {
		var r result
		for len(r.msgs) < edits {
			_, data, err := fast.Read(ctx)
			if err != nil {
				r.err = err
				break
			}
			var m wsMsg
			json.Unmarshal(data, &m)
			if m.Seq > 0 {
				r.msgs = append(r.msgs, m)
			}
		}
		got <- r
	}()
	editsDone := make(chan struct{})
	go func() {
		defer close(editsDone)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for k := 0; k < edits/4; k++ {
					e.do("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, fmt.Sprintf(`{"text":"%s-%d-%d"}`, big, g, k))
				}
			}(g)
		}
		wg.Wait()
	}()
	for e.slowCloses(t) == closesBefore {
		select {
		case <-ctx.Done():
			t.Fatal("the server never counted the slow viewer's overflow")
		case <-editsDone:
			if e.slowCloses(t) == closesBefore {
				t.Fatal("all edits sent and the never-reading viewer was not found slow")
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
	var closeErr websocket.CloseError
	var lastSeen uint64
	for {
		_, data, err := slow.Read(ctx)
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("slow viewer ended with %v, want a close frame", err)
			}
			break
		}
		var m wsMsg
		json.Unmarshal(data, &m)
		if m.Seq > 0 {
			lastSeen = m.Seq
		}
	}
	if closeErr.Code != server.StatusSlowConsumer || closeErr.Reason != fmt.Sprintf("slow consumer: last_seq=%d", lastSeen) {
		t.Fatalf("slow viewer closed with %d %q, want 4008 with last_seq=%d", closeErr.Code, closeErr.Reason, lastSeen)
	}
	<-editsDone
	r := <-got
	if r.err != nil {
		t.Fatalf("fast viewer after %d events: %v", len(r.msgs), r.err)
	}
	for i, m := range r.msgs {
		if m.Seq != hello.Seq+1+uint64(i) {
			t.Fatalf("fast viewer: event %d has seq %d, want %d", i, m.Seq, hello.Seq+1+uint64(i))
		}
	}
}

func TestLivePresenceRelayedNeverStored(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := e.dial(ctx, cv, "")
	defer a.CloseNow()
	helloA := readMsg(ctx, t, a)
	b := e.dial(ctx, cv, "")
	defer b.CloseNow()
	helloB := readMsg(ctx, t, b)
	if len(helloB.Viewers) != 1 {
		t.Fatalf("B's HELLO lists %d viewers, want A", len(helloB.Viewers))
	}
	if m := readMsg(ctx, t, a); m.Type != "VIEWER_JOINED" {
		t.Fatalf("A got %q, want VIEWER_JOINED", m.Type)
	}
	head := e.st.HeadSeq(cv)
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PRESENCE","cursor":{"x":12.5,"y":40},"selection":["w1"]}`))
	m := readMsg(ctx, t, b)
	for m.Type == "VIEWER_JOINED" { // A's own join may reach B after B subscribed
		m = readMsg(ctx, t, b)
	}
	if m.Type != "PRESENCE" || m.Cursor["x"] != 12.5 || m.Viewer["id"] == helloB.Viewers[0] {
		t.Fatalf("B got %+v, want A's PRESENCE", m)
	}
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PING"}`))
	if m := readMsg(ctx, t, a); m.Type != "PONG" {
		t.Fatalf("A got %q, want PONG (and never its own presence)", m.Type)
	}
	if h := e.st.HeadSeq(cv); h != head || helloA.Seq != head {
		t.Fatalf("presence touched the log: head %d -> %d", head, h)
	}
	// A message over 32 KiB closes the sender.
	a.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("x"), 40<<10))
	_, _, err := a.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message: %v, want close 1009", err)
	}
}

func TestLiveShutdownClosesSocketsAndStreams(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := e.dial(ctx, cv, "")
	defer c.CloseNow()
	readMsg(ctx, t, c)
	wsEnd := make(chan error, 1)
	go func() { // a viewer reads all the time, as browsers do
		for {
			if _, _, err := c.Read(ctx); err != nil {
				wsEnd <- err
				return
			}
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/api/v1/canvases/"+cv+"?subscribe=1", nil)
	req.Header.Set("Private-Token", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	streamDone := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); streamDone <- err }()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := e.srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	err = <-wsEnd
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("websocket after shutdown: %v, want 1001", err)
	}
	select {
	case <-streamDone:
	case <-ctx.Done():
		t.Fatal("NDJSON stream did not end on shutdown")
	}
}

func TestLiveNDJSONFirstLineEqualsGET(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	id := e.note(cv)
	e.mustJSON("POST", "/api/v1/canvases/"+cv+"/anchors", `{"anchor_name":"A <&> \"q\""}`)
	for _, p := range []string{"/api/v1/canvases", "/api/v1/canvases/" + cv, "/api/v1/canvases/" + cv + "/widgets",
		"/api/v1/canvases/" + cv + "/notes", "/api/v1/canvases/" + cv + "/notes/" + id, "/api/v1/canvases/" + cv + "/anchors",
		"/api/v1/canvases/" + cv + "/widgets/" + id, "/api/v1/users", "/api/v1/canvas-folders"} {
		code, plain := e.do("GET", p, "")
		if code != 200 {
			t.Fatalf("GET %s: %d", p, code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+p+"?subscribe", nil)
		req.Header.Set("Private-Token", e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadBytes('\n')
		resp.Body.Close()
		cancel()
		if err != nil || !bytes.Equal(bytes.TrimSuffix(line, []byte("\n")), plain) {
			t.Fatalf("%s: first line\n%s\nplain GET\n%s", p, line, plain)
		}
	}
}

func TestLiveSingleWidgetStreamEndsAfterDelete(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	id := e.note(cv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/api/v1/canvases/"+cv+"/notes/"+id+"?subscribe", nil)
	req.Header.Set("Private-Token", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	r.ReadBytes('\n')
	e.mustJSON("PATCH", "/api/v1/canvases/"+cv+"/notes/"+id, `{"text":"changed"}`)
	e.do("DELETE", "/api/v1/canvases/"+cv+"/notes/"+id, "")
	rest, err := io.ReadAll(r) // must end by itself after the deletion line
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, l := range bytes.Split(bytes.TrimSpace(rest), []byte("\n")) {
		var w map[string]any
		json.Unmarshal(l, &w)
		states = append(states, fmt.Sprint(w["text"], "/", w["state"]))
	}
	if len(states) != 2 || states[0] != "changed/normal" || states[1] != "changed/deleted" {
		t.Fatalf("stream lines %v, want the change then the deletion", states)
	}
}

func TestLiveViewerLosingAccessIsCutOff(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	// Bob gets view access, opens a stream, then loses access.
	bob := e.mustJSON("POST", "/api/v1/users", `{"email":"bob@x.io","name":"Bob","password":"pw12345"}`)
	bid := int(bob["id"].(float64))
	tok := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", bid), `{"description":"t"}`)["plain_token"].(string)
	e.mustJSON("POST", "/api/v1/canvases/"+cv+"/permissions", fmt.Sprintf(`{"users":[{"id":%d,"permission":"view"}]}`, bid))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/api/v1/canvases/"+cv+"/widgets?subscribe", nil)
	req.Header.Set("Private-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bob subscribe: %v %v", err, resp.Status)
	}
	defer resp.Body.Close()
	u := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/v1/canvases/" + cv + "/ws"
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {tok}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	readMsg(ctx, t, ws)
	e.mustJSON("POST", "/api/v1/canvases/"+cv+"/permissions", fmt.Sprintf(`{"users":[{"id":%d,"permission":"none"}]}`, bid))
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("stream: %v", err)
	}
	for {
		_, _, err := ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != server.StatusAccessRevoked {
				t.Fatalf("websocket of a viewer who lost access: %v, want close 4003", err)
			}
			break
		}
	}
}
