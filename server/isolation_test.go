package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging/ocr"
	"github.com/coder/websocket"
)

// metricSum adds up the samples of family name whose labels include want:
// counter and gauge values, histogram sample counts.
func metricSum(t testing.TB, m *Metrics, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range mt.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				sum += mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				sum += mt.GetGauge().GetValue()
			case mt.Histogram != nil:
				sum += float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// Two servers in one process, on two data directories, share nothing:
// requests on A move only A's metrics, a viewer on A is not a viewer of B,
// A's exhausted upload budget leaves B's untouched, and A reads text
// without OCR while B reads it with tesseract.
func TestTwoServersInOneProcessShareNothing(t *testing.T) {
	t.Parallel()
	if !ocr.Available() {
		t.Fatal("tesseract is not installed: apt-get install tesseract-ocr (the OCR half of this test needs it)")
	}
	limits := withConfig(func(c *Config) { c.UploadsPerMinute = 2 })
	a := newTestEnv(t, limits, withServerOptions(WithOCR(ocr.Engine{Off: true})))
	b := newTestEnv(t, limits)
	if a.Dir == b.Dir {
		t.Fatal("the two servers share a data directory")
	}
	route := map[string]string{"route": "/api/v1/server-info"}

	// Metrics: three requests on A, none on B.
	for range 3 {
		a.do("GET", "/api/v1/server-info", "", nil, "").expect(t, 200)
	}
	if got := metricSum(t, a.Srv.Metrics, "canvasd_http_request_duration_seconds", route); got != 3 {
		t.Fatalf("A counted %v server-info requests, want 3", got)
	}
	if got := metricSum(t, b.Srv.Metrics, "canvasd_http_request_duration_seconds", route); got != 0 {
		t.Fatalf("B counted %v server-info requests made on A, want 0", got)
	}

	// Presence: a viewer joins a canvas on A; B has no viewer, and a viewer
	// joining on B is greeted alone.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func(e *testEnv, c testCanvas) (*websocket.Conn, wsHello) {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+c.path("/ws"),
			&websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {e.Admin}}})
		if err != nil {
			t.Fatal(err)
		}
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var h wsHello
		if err := json.Unmarshal(data, &h); err != nil || h.Type != "HELLO" {
			t.Fatalf("first message %s (%v), want HELLO", data, err)
		}
		return ws, h
	}
	cvA, cvB := a.createCanvas(a.Admin, "iso"), b.createCanvas(b.Admin, "iso")
	wsA, _ := dial(a, cvA)
	defer wsA.CloseNow()
	if n := viewerCount(a.Srv); n != 1 {
		t.Fatalf("A has %d viewers, want 1", n)
	}
	if n := viewerCount(b.Srv); n != 0 {
		t.Fatalf("B has %d viewers after a join on A, want 0", n)
	}
	wsB, hb := dial(b, cvB)
	defer wsB.CloseNow()
	if len(hb.Viewers) != 0 {
		t.Fatalf("B's HELLO lists viewers %v, want none", hb.Viewers)
	}
	if a, b := metricSum(t, a.Srv.Metrics, "canvasd_streams_open", map[string]string{"transport": "websocket"}),
		metricSum(t, b.Srv.Metrics, "canvasd_streams_open", map[string]string{"transport": "websocket"}); a != 1 || b != 1 {
		t.Fatalf("open websockets: A %v, B %v, want 1 each", a, b)
	}

	// Limits: A spends its two uploads and is refused a third; B, same
	// user id and same client IP, still has both of its own.
	words := wordImage(t)
	imgA := a.mustImage(a.Admin, cvA, "a.png", words).id()
	a.mustImage(a.Admin, cvA, "a2.png", words)
	a.uploadImage(a.Admin, cvA, "a3.png", words, "").expect(t, http.StatusTooManyRequests)
	imgB := b.mustImage(b.Admin, cvB, "b.png", words).id()
	b.mustImage(b.Admin, cvB, "b2.png", words)
	rate := map[string]string{"reason": "rate"}
	if ra, rb := metricSum(t, a.Srv.Metrics, "canvasd_rejected_total", rate), metricSum(t, b.Srv.Metrics, "canvasd_rejected_total", rate); ra != 1 || rb != 0 {
		t.Fatalf("rate refusals: A %v, B %v, want 1 and 0", ra, rb)
	}

	// OCR: off on A (structure only, ocr_unavailable), on for B.
	readText := func(e *testEnv, c testCanvas, img string) jsonObj {
		t.Helper()
		de := &digitizeEnv{testEnv: e, cv: c}
		resp, sr := de.stream(ctx, map[string]any{"elements": []any{el(img, "text", c.path("/images/"+img+"/download"))}})
		defer resp.Body.Close()
		for _, ev := range sr.untilEnd(t) {
			if ev.Name == "element.completed" {
				return ev.obj(t).obj("result")
			}
		}
		t.Fatal("no element.completed event")
		return nil
	}
	warned := func(r jsonObj) bool {
		ws, _ := r["warnings"].([]any)
		for _, w := range ws {
			if w == "ocr_unavailable" {
				return true
			}
		}
		return false
	}
	if r := readText(a, cvA, imgA); !warned(r) || r.obj("engine").str("ocr") != "" {
		t.Fatalf("A (OCR off) read text with OCR: %v", r)
	}
	if r := readText(b, cvB, imgB); warned(r) || r.obj("engine").str("ocr") != "tesseract" || r.str("content") == "" {
		t.Fatalf("B (OCR on) read text without OCR: %v", r)
	}
}

type wsHello struct {
	Type    string `json:"type"`
	Viewers []any  `json:"viewers"`
}

func viewerCount(s *Server) int {
	n := 0
	s.Viewers.Range(func(any, any) bool { n++; return true })
	return n
}
