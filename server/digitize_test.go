package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging/chart/chartgen"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
)

// The batch-digitize tests run a real server on a real port and read its
// text/event-stream with a plain HTTP client. Images come from the
// digitize and chart generators; fetched URLs are served by a fixture server
// on 127.0.0.1 that the fetcher may reach only through alsoAllow.

// sseEv is one parsed server-sent event.
type sseEv struct {
	ID   uint64
	Name string
	Data string
}

func (ev sseEv) obj(t testing.TB) jsonObj {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatalf("event %d %s: data %q: %v", ev.ID, ev.Name, ev.Data, err)
	}
	return m
}

// sseReader parses a text/event-stream body.
type sseReader struct {
	r     *bufio.Reader
	pings atomic.Int32
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReaderSize(r, 1<<20)} }

// next returns the next event; comments (": ping") are counted and skipped.
func (s *sseReader) next() (sseEv, error) {
	var ev sseEv
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if seen {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			if strings.TrimSpace(line[1:]) == "ping" {
				s.pings.Add(1)
			}
		case strings.HasPrefix(line, "id: "):
			n, err := strconv.ParseUint(line[4:], 10, 64)
			if err != nil {
				return ev, fmt.Errorf("bad id line %q", line)
			}
			ev.ID, seen = n, true
		case strings.HasPrefix(line, "event: "):
			ev.Name, seen = line[7:], true
		case strings.HasPrefix(line, "data: "):
			ev.Data, seen = ev.Data+line[6:], true
		default:
			return ev, fmt.Errorf("unexpected line %q", line)
		}
	}
}

// untilEnd reads events up to and including batch.completed.
func (s *sseReader) untilEnd(t testing.TB) []sseEv {
	t.Helper()
	var out []sseEv
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("stream ended before batch.completed (after %d events): %v", len(out), err)
		}
		out = append(out, ev)
		if ev.Name == "batch.completed" {
			return out
		}
	}
}

// until reads events up to and including the first one named name.
func (s *sseReader) until(t testing.TB, name string) []sseEv {
	t.Helper()
	var out []sseEv
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("stream ended before %s (after %d events): %v", name, len(out), err)
		}
		out = append(out, ev)
		if ev.Name == name {
			return out
		}
	}
}

// digitizeEnv is a testEnv with a canvas, the fixture server and an
// allowlist that names every host the SSRF cases use, so that the address
// check (not the allowlist) is what refuses them.
type digitizeEnv struct {
	*testEnv
	cv  testCanvas
	fix *fixtureServer
}

// alsoAllow is the fetcher's address policy widened to one loopback ip:port
// (a fixture server).
func alsoAllow(addr string) func(netip.AddrPort) bool {
	return func(ap netip.AddrPort) bool { return ap.String() == addr || core.AddrAllowed(ap.Addr()) }
}

func newDigitizeEnv(t testing.TB, keepAlive time.Duration) *digitizeEnv {
	t.Helper()
	e := newTestEnv(t, withConfig(func(c *Config) {
		c.FetchAllowHosts = []string{"127.0.0.1", "127.0.0.2", "localhost", "169.254.169.254", "10.1.2.3", "::1"}
		c.KeepAlive = keepAlive
	}))
	fix := newFixtureServer(t)
	e.Srv.Fetcher.AllowAddr = alsoAllow(fix.addr)
	return &digitizeEnv{testEnv: e, cv: e.createCanvas(e.Admin, "deal"), fix: fix}
}

// image uploads png as an image widget and returns its id.
func (e *digitizeEnv) image(name string, data []byte) string {
	e.t.Helper()
	return e.mustImage(e.Admin, e.cv, name, data).id()
}

func (e *digitizeEnv) batchPath() string { return "/api/canvas/" + e.cv.ID + "/images/batch-digitize" }

// post starts a batch and returns the open response (the caller closes it).
func (e *digitizeEnv) post(ctx context.Context, token string, body any) *http.Response {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.URL+e.batchPath(), bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("POST batch-digitize: %v", err)
	}
	return resp
}

// stream starts a batch and checks that it answers an event stream.
func (e *digitizeEnv) stream(ctx context.Context, body any) (*http.Response, *sseReader) {
	e.t.Helper()
	resp := e.post(ctx, e.Admin, body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.t.Fatalf("batch-digitize: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return resp, newSSEReader(resp.Body)
}

// events opens GET …/events for a batch.
func (e *digitizeEnv) events(ctx context.Context, token, batch string, hdr map[string]string, query string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+e.batchPath()+"/"+batch+"/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("GET events: %v", err)
	}
	return resp
}

func (e *digitizeEnv) widget(id string) jsonObj {
	e.t.Helper()
	return e.mustJSON("GET", e.cv.path("/widgets/"+id), e.Admin, nil, 200)
}

func el(id, typ, url string) map[string]any {
	return map[string]any{"element_id": id, "element_type": typ, "image_url": url}
}

// fixtureServer serves images and misbehaves on purpose.
type fixtureServer struct {
	*httptest.Server
	addr  string
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	// hang blocks its request until released or cancelled; hangCancelled
	// is closed when a hanging request's context ends.
	hangArrived   chan struct{}
	hangRelease   chan struct{}
	hangCancelled chan struct{}
}

func newFixtureServer(t testing.TB) *fixtureServer {
	f := &fixtureServer{files: map[string][]byte{}, hits: map[string]int{},
		hangArrived: make(chan struct{}, 16), hangRelease: make(chan struct{}), hangCancelled: make(chan struct{}, 16)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	f.addr = f.Listener.Addr().String()
	t.Cleanup(func() {
		f.mu.Lock()
		select {
		case <-f.hangRelease:
		default:
			close(f.hangRelease)
		}
		f.mu.Unlock()
		f.Close()
	})
	return f
}

func (f *fixtureServer) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.hangRelease)
}

func (f *fixtureServer) hitCount(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[p]
}

func (f *fixtureServer) put(p string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[p] = data
	return f.URL + p
}

func (f *fixtureServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	data, ok := f.files[r.URL.Path]
	f.mu.Unlock()
	switch {
	case ok:
		w.Header().Set("Content-Type", "image/png")
		w.Write(data)
	case r.URL.Path == "/redirect":
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	case r.URL.Path == "/close": // the connection drops before any answer
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case r.URL.Path == "/hang":
		f.hangArrived <- struct{}{}
		select {
		case <-f.hangRelease:
			http.Error(w, "gone", http.StatusNotFound)
		case <-r.Context().Done():
			f.hangCancelled <- struct{}{}
		}
	default:
		http.NotFound(w, r)
	}
}

// countingListener accepts connections and counts them; a refused fetch
// must never reach it.
type countingListener struct {
	net.Listener
	accepts atomic.Int32
}

func newCountingListener(t testing.TB, addr string) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	cl := &countingListener{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cl.accepts.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return cl
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// splitTable renders a rules-style table and cuts it in two between rows,
// as a table split over two page crops.
func splitTable(t testing.TB) (whole *gen.Sample, top, bottom []byte) {
	t.Helper()
	s, err := gen.Generate(1, gen.Rules, gen.Options{Degrade: &gen.Degrade{Scale: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Image.Bounds()
	mid, y := s.Truth.NRows/2, 1.0
	for _, c := range s.Truth.Cells {
		if c.R == mid && c.BBox[1] < y {
			y = c.BBox[1]
		}
	}
	cut := b.Min.Y + int(y*float64(b.Dy())) - 2
	sub := s.Image.(interface {
		SubImage(image.Rectangle) image.Image
	})
	return s, encodePNG(t, sub.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, cut))),
		encodePNG(t, sub.SubImage(image.Rect(b.Min.X, cut, b.Max.X, b.Max.Y)))
}

// smallChart renders a small vertical bar chart.
func smallChart(t testing.TB) []byte {
	t.Helper()
	sp := chartgen.Random(rand.New(rand.NewPCG(1, 2)), chartgen.BarVertical)
	sp.Width, sp.Height = 420, 280
	img, err := chartgen.Render(sp)
	if err != nil {
		t.Fatal(err)
	}
	return encodePNG(t, img)
}

// wordImage is a small image of two printed words, cheap to read as text.
func wordImage(t testing.TB) []byte {
	t.Helper()
	s, err := gen.Generate(1, gen.Borderless, gen.Options{Degrade: &gen.Degrade{Scale: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Image.Bounds()
	c := s.Truth.Cells[0]
	for _, x := range s.Truth.Cells {
		if len(x.Text) > len(c.Text) {
			c = x
		}
	}
	r := image.Rect(b.Min.X+int(c.BBox[0]*float64(b.Dx()))-4, b.Min.Y+int(c.BBox[1]*float64(b.Dy()))-4,
		b.Min.X+int((c.BBox[0]+c.BBox[2])*float64(b.Dx()))+4, b.Min.Y+int((c.BBox[1]+c.BBox[3])*float64(b.Dy()))+4)
	return encodePNG(t, s.Image.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r.Intersect(b)))
}

func names(evs []sseEv) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Name
	}
	return out
}

func checkIDs(t testing.TB, evs []sseEv, first uint64) {
	t.Helper()
	for i, ev := range evs {
		if ev.ID != first+uint64(i) {
			t.Fatalf("event %d (%s) has id %d, want %d: ids must grow by one", i, ev.Name, ev.ID, first+uint64(i))
		}
	}
}

func TestBatchDigitizeEventOrderResultsAndStitch(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	whole, top, bottom := splitTable(t)
	idTop, idBottom := e.image("top.png", top), e.image("bottom.png", bottom)
	chartPNG := smallChart(t)
	idChart, idText := e.image("chart.png", chartPNG), e.image("words.png", wordImage(t))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+e.cv.path("/ws"),
		&websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {e.Admin}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(16 << 20)

	elements := []any{
		// This server's own URLs in their three forms, and one fetched URL.
		el(idTop, "table", e.cv.path("/images/"+idTop+"/download")),
		el(idBottom, "table", e.URL+"/api/canvas/"+e.cv.ID+"/images/"+idBottom+"/versions/0.png"),
		el(idChart, "chart", e.fix.put("/chart.png", chartPNG)),
		el(idText, "text", e.cv.path("/images/"+idText+"/download")),
	}
	resp, sr := e.stream(ctx, map[string]any{"elements": elements, "stitch": true})
	defer resp.Body.Close()
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "X-Accel-Buffering": "no", "Cache-Control": "no-cache", "Content-Encoding": ""} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	evs := sr.untilEnd(t)
	want := []string{"batch.started", "element.started", "element.completed", "element.started", "element.completed",
		"element.started", "element.completed", "element.started", "element.completed", "stitch.completed", "batch.completed"}
	if strings.Join(names(evs), ",") != strings.Join(want, ",") {
		for _, ev := range evs {
			t.Logf("%d %s %.300s", ev.ID, ev.Name, ev.Data)
		}
		t.Fatalf("events %v, want %v", names(evs), want)
	}
	checkIDs(t, evs, 1)
	if _, err := sr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after batch.completed: %v, want the stream to end", err)
	}

	started := evs[0].obj(t)
	if started.str("batch_id") == "" || started.num("total") != 4 || !started.boolean("stitch") {
		t.Fatalf("batch.started %s", evs[0].Data)
	}
	ids := []string{idTop, idBottom, idChart, idText}
	for i := range ids {
		s, c := evs[1+2*i].obj(t), evs[2+2*i].obj(t)
		if s.num("index") != float64(i) || s.str("element_id") != ids[i] || c.str("element_id") != ids[i] {
			t.Fatalf("element %d: started %s completed %.200s", i, evs[1+2*i].Data, evs[2+2*i].Data)
		}
		res := c.obj("result")
		if res.obj("engine").str("pipeline") == "" || res["warnings"] == nil {
			t.Fatalf("element %d result lacks engine or warnings: %.300s", i, evs[2+2*i].Data)
		}
	}
	topRes, botRes := evs[2].obj(t).obj("result"), evs[4].obj(t).obj("result")
	chartRes, textRes := evs[6].obj(t).obj("result"), evs[8].obj(t).obj("result")
	if topRes.num("n_rows")+botRes.num("n_rows") != float64(whole.Truth.NRows) || topRes.num("n_cols") != float64(whole.Truth.NCols) {
		t.Fatalf("halves read as %vx%v and %vx%v; the whole table is %dx%d",
			topRes["n_rows"], topRes["n_cols"], botRes["n_rows"], botRes["n_cols"], whole.Truth.NRows, whole.Truth.NCols)
	}
	if chartRes.str("chart_type") != "bar_vertical" || len(chartRes["series"].([]any)) == 0 {
		t.Fatalf("chart result %v", chartRes)
	}
	if strings.TrimSpace(textRes.str("content")) == "" {
		t.Fatalf("text result %v", textRes)
	}

	stitch := evs[9].obj(t)
	sres := stitch.obj("result")
	if sres.num("n_rows") != float64(whole.Truth.NRows) || sres.num("n_cols") != float64(whole.Truth.NCols) {
		t.Fatalf("stitched %vx%v, want %dx%d", sres["n_rows"], sres["n_cols"], whole.Truth.NRows, whole.Truth.NCols)
	}
	srcs := stitch["sources"].([]any)
	if len(srcs) != 2 || srcs[0].(map[string]any)["element_id"] != idTop || srcs[1].(map[string]any)["element_id"] != idBottom {
		t.Fatalf("stitch sources %v", srcs)
	}
	done := evs[10].obj(t)
	if done.num("succeeded") != 4 || done.num("failed") != 0 || done["duration_ms"] == nil {
		t.Fatalf("batch.completed %s", evs[10].Data)
	}

	// Saved on each element, and one Table widget beside each table/chart.
	tables := map[string]jsonObj{}
	var stitched jsonObj
	for _, w := range e.doJSON("GET", e.cv.path("/widgets"), e.Admin, nil).expect(t, 200).list(t) {
		if w.str("widget_type") != "Table" {
			continue
		}
		if w.boolean("stitched") {
			stitched = w
		} else {
			tables[w.str("source_element_id")] = w
		}
	}
	for i, id := range ids {
		img := e.widget(id)
		d := img.obj("digitized")
		if d.str("element_type") != []string{"table", "table", "chart", "text"}[i] || d.obj("result") == nil {
			t.Fatalf("image %s digitized = %v", id, img["digitized"])
		}
		tw, ok := tables[id]
		if i == 3 {
			if ok {
				t.Fatalf("a text result made a Table widget")
			}
			continue
		}
		if !ok || d.str("table_widget_id") != tw.id() {
			t.Fatalf("element %s: Table widget %v, digitized.table_widget_id %q", id, tw, d.str("table_widget_id"))
		}
		loc, tloc := img.obj("location"), tw.obj("location")
		if tloc.num("x") != loc.num("x")+img.obj("size").num("width")+40 || tloc.num("y") != loc.num("y") || tw.str("parent_id") != img.str("parent_id") {
			t.Fatalf("Table widget at %v parent %s; image at %v size %v parent %s", tloc, tw.str("parent_id"), loc, img["size"], img.str("parent_id"))
		}
		res := evs[2+2*i].obj(t).obj("result")
		if i == 2 {
			res = res.obj("table")
		}
		if tw.num("n_rows") != res.num("n_rows") || len(tw["cells"].([]any)) != len(res["cells"].([]any)) {
			t.Fatalf("Table widget of %s holds %v rows, %d cells; result %v rows, %d cells", id, tw["n_rows"], len(tw["cells"].([]any)), res["n_rows"], len(res["cells"].([]any)))
		}
	}
	if stitched == nil || stitched.num("n_rows") != float64(whole.Truth.NRows) || stitched.id() != stitch.str("table_widget_id") {
		t.Fatalf("stitched Table widget %v", stitched)
	}

	// Every viewer saw ELEMENT_DIGITIZED for each element, in order.
	var got []string
	for len(got) < 4 {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("websocket: %v (got %v)", err, got)
		}
		var m struct {
			Type        string `json:"type"`
			ElementID   string `json:"element_id"`
			ElementType string `json:"element_type"`
		}
		json.Unmarshal(data, &m)
		if m.Type == "ELEMENT_DIGITIZED" {
			got = append(got, m.ElementID+":"+m.ElementType)
		}
	}
	wantWS := []string{idTop + ":table", idBottom + ":table", idChart + ":chart", idText + ":text"}
	if strings.Join(got, ",") != strings.Join(wantWS, ",") {
		t.Fatalf("ELEMENT_DIGITIZED %v, want %v", got, wantWS)
	}

	// Digitizing again updates the same Table widget rather than adding one.
	resp2, sr2 := e.stream(ctx, map[string]any{"elements": []any{el(idTop, "table", e.cv.path("/images/"+idTop+"/download"))}})
	defer resp2.Body.Close()
	again := sr2.untilEnd(t)
	if again[2].Name != "element.completed" || again[2].obj(t).str("table_widget_id") != tables[idTop].id() {
		t.Fatalf("second digitize: %s %s, want the same Table widget %s", again[2].Name, again[2].Data, tables[idTop].id())
	}
	n := 0
	for _, w := range e.doJSON("GET", e.cv.path("/widgets"), e.Admin, nil).expect(t, 200).list(t) {
		if w.str("widget_type") == "Table" {
			n++
		}
	}
	if n != 4 { // three elements' and the stitched one
		t.Fatalf("%d Table widgets after a second digitize, want 4", n)
	}
}

func TestBatchDigitizeOneUnreachableURLFailsAlone(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	words := wordImage(t)
	a, b, c := e.image("a.png", words), e.image("b.png", words), e.image("c.png", words)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, sr := e.stream(ctx, map[string]any{"elements": []any{
		el(a, "text", e.fix.put("/a.png", words)),
		el(b, "text", e.fix.URL+"/close"),
		el(c, "text", e.cv.path("/images/"+c+"/download")),
	}})
	defer resp.Body.Close()
	evs := sr.untilEnd(t)
	want := "batch.started,element.started,element.completed,element.started,element.failed,element.started,element.completed,batch.completed"
	if strings.Join(names(evs), ",") != want {
		t.Fatalf("events %v, want %s", names(evs), want)
	}
	f := evs[4].obj(t)
	if f.str("element_id") != b || f.obj("error").str("code") != "fetch_failed" || f.obj("error").str("message") == "" {
		t.Fatalf("element.failed %s", evs[4].Data)
	}
	if d := evs[7].obj(t); d.num("succeeded") != 2 || d.num("failed") != 1 {
		t.Fatalf("batch.completed %s", evs[7].Data)
	}
	if e.widget(b)["digitized"] != nil || e.widget(a)["digitized"] == nil || e.widget(c)["digitized"] == nil {
		t.Fatalf("only the failed element may lack a saved result")
	}
}

func TestBatchDigitizeRefusesPrivateAddressesWithoutConnecting(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	lo := newCountingListener(t, "127.0.0.1:0")
	lo2 := newCountingListener(t, "127.0.0.2:0")
	loPort := lo.Addr().(*net.TCPAddr).Port
	img := e.image("x.png", testPNG(t, 8, 8))
	urls := []string{
		fmt.Sprintf("http://127.0.0.1:%d/x.png", loPort),
		fmt.Sprintf("http://%s/x.png", lo2.Addr()),
		"http://169.254.169.254/latest/meta-data/",
		"http://10.1.2.3/x.png",
		fmt.Sprintf("http://localhost:%d/x.png", loPort), // a name resolving to loopback: refused at connect time
		e.fix.URL + "/redirect?to=" + fmt.Sprintf("http://localhost:%d/x.png", loPort),
		e.fix.URL + "/redirect?to=" + fmt.Sprintf("http://%s/x.png", lo2.Addr()),
		e.fix.URL + "/redirect?to=http://10.1.2.3/x.png",
		fmt.Sprintf("http://[::1]:%d/x.png", loPort),
		"http://not-on-the-allowlist.example/x.png",
	}
	var elements []any
	for _, u := range urls {
		elements = append(elements, el(img, "text", u))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, sr := e.stream(ctx, map[string]any{"elements": elements})
	defer resp.Body.Close()
	evs := sr.untilEnd(t)
	var failed int
	for _, ev := range evs {
		if ev.Name == "element.completed" {
			t.Errorf("an element was fetched: %.200s", ev.Data)
		}
		if ev.Name != "element.failed" {
			continue
		}
		failed++
		o := ev.obj(t)
		if code := o.obj("error").str("code"); code != "forbidden_url" {
			t.Errorf("element %v: code %q (%s), want forbidden_url", o["index"], code, o.obj("error").str("message"))
		}
	}
	if failed != len(urls) {
		t.Fatalf("%d element.failed events, want %d", failed, len(urls))
	}
	if n, m := lo.accepts.Load(), lo2.accepts.Load(); n != 0 || m != 0 {
		t.Fatalf("refused fetches connected anyway: %d accepts on 127.0.0.1, %d on 127.0.0.2", n, m)
	}
	if n := e.fix.hitCount("/redirect"); n != 3 {
		t.Fatalf("the fixture served %d redirects, want 3 (the redirect cases must get that far)", n)
	}
}

func TestBatchDigitizeValidationBeforeAnyStream(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	img := e.image("x.png", testPNG(t, 8, 8))
	note := e.createNote(e.Admin, e.cv, nil).id()
	ok := el(img, "table", "/x.png")
	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = ok
	}
	type detail struct {
		loc, typ, msg string
		ctx           map[string]any
	}
	cases := []struct {
		name string
		body any
		want []detail
	}{
		{"eleven elements", map[string]any{"elements": eleven}, []detail{{`["body","elements"]`, "too_long", "List should have at most 10 items after validation, not 11",
			map[string]any{"field_type": "List", "max_length": 10.0, "actual_length": 11.0}}}},
		{"no elements", map[string]any{"elements": []any{}}, []detail{{`["body","elements"]`, "too_short", "List should have at least 1 item after validation, not 0",
			map[string]any{"field_type": "List", "min_length": 1.0, "actual_length": 0.0}}}},
		{"missing elements", map[string]any{"stitch": true}, []detail{{`["body","elements"]`, "missing", "Field required", nil}}},
		{"elements not a list", map[string]any{"elements": "x"}, []detail{{`["body","elements"]`, "list_type", "Input should be a valid list", nil}}},
		{"bad fields", map[string]any{"elements": []any{ok, map[string]any{"element_id": 5, "element_type": "pie"}, "x"}, "stitch": "maybe"}, []detail{
			{`["body","elements",1,"element_id"]`, "string_type", "Input should be a valid string", nil},
			{`["body","elements",1,"element_type"]`, "literal_error", "Input should be 'table', 'chart' or 'text'", map[string]any{"expected": "'table', 'chart' or 'text'"}},
			{`["body","elements",1,"image_url"]`, "missing", "Field required", nil},
			{`["body","elements",2]`, "model_type", "Input should be a valid dictionary or instance of BatchDigitizeElement", map[string]any{"class_name": "BatchDigitizeElement"}},
			{`["body","stitch"]`, "bool_parsing", "Input should be a valid boolean, unable to interpret input", nil},
		}},
		{"stitch not a bool", map[string]any{"elements": []any{ok}, "stitch": []any{}}, []detail{{`["body","stitch"]`, "bool_type", "Input should be a valid boolean", nil}}},
		{"not json", "{nope", []detail{{`["body",0]`, "json_invalid", "JSON decode error", nil}}},
		{"not an object", "[1]", []detail{{`["body"]`, "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", nil}}},
		{"unknown and non-image elements", map[string]any{"elements": []any{ok, el("no-such-element", "text", "/x.png"), el(note, "text", "/x.png")}}, []detail{
			{`["body","elements",1,"element_id"]`, "value_error", "Value error, no element with this id on the canvas", nil},
			{`["body","elements",2,"element_id"]`, "value_error", "Value error, element is a Note, not an image", nil},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			if s, isStr := tc.body.(string); isStr {
				raw = []byte(s)
			} else {
				raw, _ = json.Marshal(tc.body)
			}
			r := e.do("POST", e.batchPath(), "", bytes.NewReader(raw), "application/json", withHeader("Authorization", "Bearer "+e.Admin))
			if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: want 422 JSON before any stream (Content-Type %s)", r, r.Header.Get("Content-Type"))
			}
			var body struct {
				Detail []struct {
					Loc   json.RawMessage `json:"loc"`
					Type  string          `json:"type"`
					Msg   string          `json:"msg"`
					Input json.RawMessage `json:"input"`
					Ctx   map[string]any  `json:"ctx"`
				} `json:"detail"`
			}
			r.decode(t, &body)
			if len(body.Detail) != len(tc.want) {
				t.Fatalf("%s: want %d errors", r, len(tc.want))
			}
			for i, w := range tc.want {
				d := body.Detail[i]
				if string(d.Loc) != w.loc || d.Type != w.typ || d.Msg != w.msg {
					t.Fatalf("error %d = %s %s %q, want %s %s %q", i, d.Loc, d.Type, d.Msg, w.loc, w.typ, w.msg)
				}
				if w.ctx != nil && fmt.Sprint(d.Ctx) != fmt.Sprint(w.ctx) {
					t.Fatalf("error %d ctx %v, want %v", i, d.Ctx, w.ctx)
				}
			}
		})
	}
	if e.widget(img)["digitized"] != nil {
		t.Fatalf("a refused request digitized something")
	}

	// Auth: Bearer token and edit right, in the deal dialect.
	viewer := e.createUser("viewer", false)
	e.share(e.Admin, e.cv, viewer.ID, "view")
	body, _ := json.Marshal(map[string]any{"elements": []any{ok}})
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"bad-token", 401}, {viewer.Token, 403}} {
		var opts []reqOption
		if tc.token != "" {
			opts = append(opts, withHeader("Authorization", "Bearer "+tc.token))
		}
		r := e.do("POST", e.batchPath(), "", bytes.NewReader(body), "application/json", opts...)
		var m map[string]any
		if r.Status != tc.want || json.Unmarshal(r.Body, &m) != nil || m["detail"] == nil {
			t.Fatalf("token %q: %s, want %d with a detail body", tc.token, r, tc.want)
		}
	}
}

// Not parallel: it checks that the SSE stream gauge returns to zero.
func TestBatchDigitizeDisconnectCancelsTheRest(t *testing.T) {
	e := newDigitizeEnv(t, 30*time.Millisecond)
	words := wordImage(t)
	a, b, c := e.image("a.png", words), e.image("b.png", words), e.image("c.png", words)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pctx, hangup := context.WithCancel(ctx)
	resp, sr := e.stream(pctx, map[string]any{"elements": []any{
		el(a, "text", e.cv.path("/images/"+a+"/download")),
		el(b, "text", e.fix.URL+"/hang"),
		el(c, "text", e.fix.put("/c.png", words)),
	}, "stitch": true})
	evs := sr.until(t, "element.completed")
	batch := evs[0].obj(t).str("batch_id")
	if next := sr.until(t, "element.started"); next[0].obj(t).str("element_id") != b {
		t.Fatalf("second element.started %s", next[0].Data)
	}
	<-e.fix.hangArrived
	// While the element hangs, the stream keeps alive.
	for sr.pings.Load() == 0 {
		if _, err := sr.next(); err != nil {
			t.Fatalf("stream ended while waiting for a ping: %v", err)
		}
	}
	hangup()
	resp.Body.Close()
	select {
	case <-e.fix.hangCancelled:
	case <-ctx.Done():
		t.Fatal("the hanging fetch was not cancelled after the client left")
	}

	// The batch's own log says what happened; read it from the start.
	r := e.events(ctx, e.Admin, batch, nil, "?last_event_id=0")
	defer r.Body.Close()
	all := newSSEReader(r.Body).untilEnd(t)
	want := "batch.started,element.started,element.completed,element.started,element.failed,stitch.skipped,batch.completed"
	if strings.Join(names(all), ",") != want {
		t.Fatalf("events %v, want %s", names(all), want)
	}
	if code := all[4].obj(t).obj("error").str("code"); code != "cancelled" {
		t.Fatalf("the interrupted element failed with %q, want cancelled", code)
	}
	end := all[6].obj(t)
	if end.num("succeeded") != 1 || end.num("failed") != 1 || !end.boolean("cancelled") || end.num("not_started") != 1 {
		t.Fatalf("batch.completed %s", all[6].Data)
	}
	if n := e.fix.hitCount("/c.png"); n != 0 {
		t.Fatalf("the element after the disconnect was fetched %d times", n)
	}
	if e.widget(a)["digitized"] == nil {
		t.Fatal("the result finished before the disconnect was not kept")
	}
	e.eventually("SSE streams to close", func() bool { return gaugeValue(t, e.Srv, "sse") == 0 })
}

func TestBatchDigitizeReplayAfterLastEventID(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	words := wordImage(t)
	a, b := e.image("a.png", words), e.image("b.png", words)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, sr := e.stream(ctx, map[string]any{"elements": []any{
		el(a, "text", e.cv.path("/images/"+a+"/download")),
		el(b, "text", e.fix.URL+"/hang"),
	}})
	defer resp.Body.Close()
	first := sr.until(t, "element.started")
	first = append(first, sr.until(t, "element.started")...) // ids 1..4: started, a started, a completed, b started
	batch := first[0].obj(t).str("batch_id")
	<-e.fix.hangArrived

	// A resuming reader joins while the batch runs: the missed events, then live ones.
	live := e.events(ctx, e.Admin, batch, map[string]string{"Last-Event-ID": "2"}, "")
	defer live.Body.Close()
	if live.StatusCode != 200 || live.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET events: %d %s", live.StatusCode, live.Header.Get("Content-Type"))
	}
	lr := newSSEReader(live.Body)
	caught := lr.until(t, "element.started")
	checkIDs(t, caught, 3)
	e.fix.release() // b's URL now answers 404
	rest := sr.untilEnd(t)
	liveRest := lr.untilEnd(t)
	all := append(first, rest...)
	if strings.Join(names(all), ",") != "batch.started,element.started,element.completed,element.started,element.failed,batch.completed" {
		t.Fatalf("events %v", names(all))
	}
	checkIDs(t, all, 1)
	if got := append(caught, liveRest...); fmt.Sprint(got) != fmt.Sprint(all[2:]) {
		t.Fatalf("resumed reader got %v, want %v", got, all[2:])
	}

	// After the end: the header and the query parameter both work.
	for _, tc := range []struct {
		hdr   map[string]string
		query string
		from  int
	}{{map[string]string{"Last-Event-ID": "4"}, "", 4}, {nil, "?last_event_id=0", 0}, {nil, "", 0}, {map[string]string{"Last-Event-ID": "6"}, "", 6}} {
		r := e.events(ctx, e.Admin, batch, tc.hdr, tc.query)
		got := []sseEv{}
		rr := newSSEReader(r.Body)
		for {
			ev, err := rr.next()
			if err != nil {
				break
			}
			got = append(got, ev)
		}
		r.Body.Close()
		if fmt.Sprint(got) != fmt.Sprint(append([]sseEv{}, all[tc.from:]...)) {
			t.Fatalf("replay after %d: %v", tc.from, names(got))
		}
	}

	// Only the batch's own user, on its own canvas, with a number.
	other := e.createUser("other", false)
	e.share(e.Admin, e.cv, other.ID, "edit")
	for _, tc := range []struct {
		token, batch, last string
		want               int
	}{{other.Token, batch, "", 404}, {e.Admin, "no-such-batch", "", 404}, {e.Admin, batch, "abc", 422}, {"", batch, "", 401}} {
		r := e.events(ctx, tc.token, tc.batch, map[string]string{"Last-Event-ID": tc.last}, "")
		r.Body.Close()
		if r.StatusCode != tc.want {
			t.Fatalf("GET events as %q for %s (Last-Event-ID %q): %d, want %d", tc.token, tc.batch, tc.last, r.StatusCode, tc.want)
		}
	}
}

func TestBatchDigitizeShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	e := newDigitizeEnv(t, 15*time.Second)
	img := e.image("a.png", testPNG(t, 8, 8))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, sr := e.stream(ctx, map[string]any{"elements": []any{el(img, "text", e.fix.URL+"/hang")}})
	defer resp.Body.Close()
	sr.until(t, "element.started")
	<-e.fix.hangArrived
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if err := e.Srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for {
		if _, err := sr.next(); err != nil {
			break // the stream ended
		}
	}
	<-e.fix.hangCancelled
}

func gaugeValue(t testing.TB, s *Server, transport string) float64 {
	t.Helper()
	var m dto.Metric
	if err := s.Metrics.StreamsOpen.WithLabelValues(transport).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// Not parallel: it shortens the per-element timeout.
func TestBatchDigitizeElementErrorCodes(t *testing.T) {
	e := newDigitizeEnv(t, 15*time.Second)
	// A scatter plot: still unsupported_chart (pies are read since issue 17).
	sp := chartgen.Random(rand.New(rand.NewPCG(3, 4)), chartgen.Scatter)
	sp.Width, sp.Height = 360, 260
	scatter, err := chartgen.Render(sp)
	if err != nil {
		t.Fatal(err)
	}
	table, _, _ := splitTable(t)
	tablePNG := encodePNG(t, table.Image)
	img := e.image("x.png", testPNG(t, 8, 8))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(elements ...any) []sseEv {
		t.Helper()
		resp, sr := e.stream(ctx, map[string]any{"elements": elements})
		defer resp.Body.Close()
		return sr.untilEnd(t)
	}
	codes := func(evs []sseEv) []string {
		var out []string
		for _, ev := range evs {
			if ev.Name == "element.failed" {
				out = append(out, ev.obj(t).obj("error").str("code"))
			}
		}
		return out
	}
	evs := run(
		el(img, "chart", e.fix.put("/scatter.png", encodePNG(t, scatter))),
		el(img, "table", e.fix.put("/huge.png", pngHeaderOnly(100000, 100000))),
		el(img, "text", e.fix.put("/anim.gif", testGIF(t, 8, 8))),
		el(img, "text", e.fix.URL+"/missing.png"),
		el(img, "text", e.cv.path("/images/no-such-image/download")),
	)
	if got := strings.Join(codes(evs), ","); got != "unsupported_chart,too_large,unsupported_format,fetch_failed,not_found" {
		t.Fatalf("failure codes %s", got)
	}

	old := e.Srv.DigitizeTimeout
	e.Srv.DigitizeTimeout = time.Millisecond
	defer func() { e.Srv.DigitizeTimeout = old }()
	if got := strings.Join(codes(run(el(img, "table", e.fix.put("/table.png", tablePNG)))), ","); got != "timeout" {
		t.Fatalf("a table over its time limit failed with %q, want timeout", got)
	}
}
