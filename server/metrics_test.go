package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd"
	"github.com/coder/websocket"
)

// promSample is one line of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape GETs /metrics and parses the text format (no HELP/TYPE lines).
func scrape(t testing.TB, e *testEnv) []promSample {
	t.Helper()
	r := e.do("GET", "/metrics", "", nil, "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	var out []promSample
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s := promSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			s.name = line[:i]
			for _, kv := range splitLabels(line[i+1 : j]) {
				k, v, _ := strings.Cut(kv, "=")
				s.labels[k], _ = strconv.Unquote(v)
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// splitLabels splits `a="x",b="y,z"` at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	inQ, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case esc:
			esc = false
		case s[i] == '\\':
			esc = true
		case s[i] == '"':
			inQ = !inQ
		case s[i] == ',' && !inQ:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// metric sums the samples of name whose labels include want; ok reports
// whether any sample matched.
func metric(ss []promSample, name string, want map[string]string) (sum float64, ok bool) {
	for _, s := range ss {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			sum += s.value
			ok = true
		}
	}
	return sum, ok
}

func mustMetric(t testing.TB, ss []promSample, name string, want map[string]string) float64 {
	t.Helper()
	v, ok := metric(ss, name, want)
	if !ok {
		t.Fatalf("/metrics has no %s%v", name, want)
	}
	return v
}

// TestMetricsAfterTraffic exercises the routes behind every listed metric
// family and checks that /metrics shows them moving. Metrics are process-wide,
// so the checks compare against a scrape taken before.
func TestMetricsAfterTraffic(t *testing.T) {
	e := newTestEnv(t)
	before := scrape(t, e)
	cv := e.createCanvas(e.Admin, "metrics")
	note := e.createNote(e.Admin, cv, map[string]any{"text": "hello"})
	img := e.mustImage(e.Admin, cv, "m.png", testPNG(t, 64, 48))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A websocket that resumes from seq 0 (replayed events), and an NDJSON stream.
	wsURL := "ws" + strings.TrimPrefix(e.URL, "http") + cv.path("/ws?since=0")
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {e.Admin}}})
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	defer ws.CloseNow()
	readType := func(want string) {
		t.Helper()
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("websocket read (waiting for %s): %v", want, err)
			}
			var m struct{ Type string }
			json.Unmarshal(data, &m)
			if m.Type == want {
				return
			}
		}
	}
	readType("HELLO")
	readType("WIDGET_CREATED") // replayed from the log
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+cv.path("/widgets?subscribe"), nil)
	req.Header.Set("Private-Token", e.Admin)
	stream, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	br := bufio.NewReader(stream.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatalf("ndjson first line: %v", err)
	}
	e.mustJSON("PATCH", cv.path("/notes/"+note.id()), e.Admin, map[string]any{"text": "changed"}, 200)
	readType("WIDGET_UPDATED") // a live delivery
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatalf("ndjson update line: %v", err)
	}

	during := scrape(t, e)
	for _, tr := range []string{"websocket", "ndjson"} {
		if v := mustMetric(t, during, "canvasd_streams_open", map[string]string{"transport": tr}); v < 1 {
			t.Errorf("canvasd_streams_open{transport=%q} = %v with one open", tr, v)
		}
	}

	// Image operations: uncrop (canvas and Clipdrop dialects, credits), recrop.
	e.mustJSON("POST", cv.path("/images/"+img.id()+"/uncrop"), e.Admin, map[string]any{"extend_right": 8}, 200)
	body, ct := multipartBody(t, testPart{Name: "image_file", Filename: "u.png", ContentType: "image/png", Data: testPNG(t, 32, 32)},
		testPart{Name: "extend_left", Data: []byte("4")})
	if r := e.do("POST", "/uncrop/v1", "", bytes.NewReader(body), ct, withHeader("x-api-key", e.Admin)); r.Status != 200 {
		t.Fatalf("uncrop/v1: %s", r)
	}
	bearer := withHeader("Authorization", "Bearer "+e.Admin)
	deal := "/api/canvas/" + cv.ID + "/images/" + img.id()
	rc := e.doJSON("POST", deal+"/recrop", "", map[string]any{"user_bbox": map[string]float64{"x": 0.1, "y": 0.1, "width": 0.5, "height": 0.5}}, bearer)
	if rc.Status != 200 {
		t.Fatalf("recrop: %s", rc)
	}
	var rv struct{ Version int }
	json.Unmarshal(rc.Body, &rv)
	if r := e.do("GET", deal+"/versions", "", nil, "", bearer); r.Status != 200 {
		t.Fatalf("versions: %s", r)
	}
	if r := e.do("GET", fmt.Sprintf("%s/versions/%d.png", deal, rv.Version), "", nil, "", bearer); r.Status != 200 {
		t.Fatalf("version file: %s", r)
	}
	if r := e.do("GET", deal+"/source", "", nil, "", bearer); r.Status != 200 {
		t.Fatalf("source: %s", r)
	}
	// Digitize: one text element read from this server's own image URL.
	dig := e.doJSON("POST", "/api/canvas/"+cv.ID+"/images/batch-digitize", "", map[string]any{
		"elements": []map[string]any{{"element_id": img.id(), "element_type": "text", "image_url": e.URL + cv.path("/images/"+img.id()+"/download")}}}, bearer)
	if dig.Status != 200 || !bytes.Contains(dig.Body, []byte("batch.completed")) {
		t.Fatalf("batch-digitize: %s", dig)
	}
	// A crop job: queue depth moves, the job completes.
	jobBody, jct := multipartBody(t,
		testPart{Name: "input_files", Filename: "in.png", ContentType: "image/png", Data: testPNG(t, 40, 40)},
		testPart{Name: "mask_files", Filename: "mask.png", ContentType: "image/png", Data: whiteMaskPNG(t, 40, 40)},
		testPart{Name: "output_dimensions", Data: []byte("20x10")})
	jr := e.do("POST", "/v1/banners/with-mask/create", "", bytes.NewReader(jobBody), jct, bearer)
	if jr.Status != 200 {
		t.Fatalf("banner job: %s", jr)
	}
	var job struct {
		JobID string `json:"job_id"`
	}
	json.Unmarshal(jr.Body, &job)
	var out string
	e.eventually("job "+job.JobID+" done", func() bool {
		st := e.doJSON("POST", "/v1/banners/with-mask/status", "", map[string]any{"job_id": job.JobID}, bearer)
		var s struct {
			Jobs    []struct{ Status string }
			Results []struct {
				URL string `json:"output_image_url"`
			}
		}
		json.Unmarshal(st.Body, &s)
		if len(s.Jobs) == 1 && s.Jobs[0].Status == "completed" && len(s.Results) > 0 {
			out = s.Results[0].URL
			return true
		}
		return len(s.Jobs) == 1 && s.Jobs[0].Status == "failed"
	})
	if out == "" {
		t.Fatalf("job %s failed", job.JobID)
	}
	// The worker observes the job's duration just after its commit.
	jobsBefore, _ := metric(before, "canvasd_operation_duration_seconds_count", map[string]string{"op": "job"})
	e.eventually("job duration observed", func() bool {
		v, _ := metric(scrape(t, e), "canvasd_operation_duration_seconds_count", map[string]string{"op": "job"})
		return v > jobsBefore
	})
	p := out[strings.Index(out, "/v1/outputs/"):]
	if r := e.do("HEAD", p, "", nil, "", bearer); r.Status != 200 || r.Header.Get("ETag") == "" {
		t.Fatalf("HEAD output: %s", r)
	}
	// Credits of the admin token (admin route).
	r := e.doJSON("GET", "/api/v1/users", e.Admin, nil)
	var users []struct {
		ID    uint64
		Admin bool
	}
	json.Unmarshal(r.Body, &users)
	for _, u := range users {
		if u.Admin {
			toks := e.do("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), e.Admin, nil, "").list(t)
			if cr := e.do("GET", "/admin/tokens/"+toks[0].id()+"/credits", e.Admin, nil, ""); cr.Status != 200 {
				t.Fatalf("credits: %s", cr)
			}
			break
		}
	}

	ws.Close(websocket.StatusNormalClosure, "")
	cancel()
	after := scrape(t, e)

	grew := func(name string, labels map[string]string) {
		t.Helper()
		b, _ := metric(before, name, labels)
		a := mustMetric(t, after, name, labels)
		if a <= b {
			t.Errorf("%s%v did not grow: %v -> %v", name, labels, b, a)
		}
	}
	grew("canvasd_http_request_duration_seconds_count", map[string]string{"method": "POST", "route": "/api/v1/canvases/:id/notes", "status": "200"})
	grew("canvasd_http_request_duration_seconds_count", map[string]string{"method": "PATCH", "route": "/api/v1/canvases/:id/notes/:wid", "status": "200"})
	mustMetric(t, after, "canvasd_http_request_duration_seconds_bucket", map[string]string{"route": "/api/v1/canvases/:id/images", "le": "+Inf"})
	grew("canvasd_hub_deliveries_total", nil)
	grew("canvasd_hub_replayed_events_total", nil)
	mustMetric(t, after, "canvasd_hub_slow_client_closes_total", nil)
	for _, op := range []string{"uncrop", "recrop", "digitize", "job"} {
		grew("canvasd_operation_duration_seconds_count", map[string]string{"op": op})
	}
	grew("canvasd_credits_consumed_total", nil)
	mustMetric(t, after, "canvasd_job_queue_depth", nil)
	if v := mustMetric(t, after, "canvasd_event_log_events", nil); v < 3 {
		t.Errorf("event log size %v after 3+ events", v)
	}
	if v := mustMetric(t, after, "canvasd_blob_bytes", nil); v <= 0 {
		t.Errorf("blob bytes %v with images stored", v)
	}
	if v := mustMetric(t, after, "canvasd_bbolt_tx", map[string]string{"stat": "read_tx_total"}); v <= 0 {
		t.Errorf("bbolt read tx total %v", v)
	}
	mustMetric(t, after, "canvasd_bbolt_tx", map[string]string{"stat": "write_seconds"})
	mustMetric(t, after, "go_goroutines", nil)
}

// whiteMaskPNG is an all-white (keep everything) mask.
func whiteMaskPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHealthReadyOpenAPIRequestID(t *testing.T) {
	e := newTestEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		r := e.do("GET", p, "", nil, "")
		var s struct{ Status string }
		if r.Status != 200 || json.Unmarshal(r.Body, &s) != nil || s.Status == "" {
			t.Fatalf("%s: %s", p, r)
		}
	}
	r := e.do("GET", "/openapi.yaml", "", nil, "")
	if r.Status != 200 || !bytes.Equal(r.Body, canvasd.OpenAPI) {
		t.Fatalf("/openapi.yaml: %d, %d bytes", r.Status, len(r.Body))
	}
	// X-Request-ID: a client's id comes back; without one the server makes one.
	r = e.do("GET", "/api/v1/server-info", "", nil, "", withHeader("X-Request-ID", "req-abc-123"))
	if got := r.Header.Get("X-Request-ID"); got != "req-abc-123" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	a := e.do("GET", "/api/v1/server-info", "", nil, "").Header.Get("X-Request-ID")
	b := e.do("GET", "/api/v1/server-info", "", nil, "").Header.Get("X-Request-ID")
	if a == "" || a == b {
		t.Errorf("generated request ids %q, %q", a, b)
	}
	// An over-long id is replaced rather than echoed.
	long := strings.Repeat("x", 500)
	if got := e.do("GET", "/healthz", "", nil, "", withHeader("X-Request-ID", long)).Header.Get("X-Request-ID"); got == long || got == "" {
		t.Errorf("a 500-byte request id came back as %d bytes", len(got))
	}
	// Readiness follows shutdown.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.Srv.Shutdown(ctx)
	if r := e.do("GET", "/readyz", "", nil, ""); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz after shutdown: %s", r)
	}
}
