package server

// Fuzz targets for the parsers that take client input: the multipart `json`
// part of an image upload, websocket client messages, query parameters
// (?since, ?subscribe), the job-status paging fields and the uncrop extents.
// The seeds run as ordinary tests; `make fuzz` fuzzes each for FUZZTIME.

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/cropjobs"
	"github.com/canvasd/canvasd/store"
	"github.com/rs/zerolog"
)

// fuzzEnv is an in-process server (no listener) over a real bbolt file.
type fuzzEnv struct {
	srv    *Server
	st     *store.Store
	dir    string
	canvas string
	tok    string
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	dir := tb.TempDir()
	// NoSync: fuzzing wants executions per second, not durability.
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	h := NewHub(st, 0)
	// Fuzzing uploads far more than the default 60 a minute.
	srv := New(Config{UploadsPerMinute: 1 << 30}, st, h, zerolog.Nop())
	srv.Start()
	tok, _, err := Bootstrap(st, testAdminToken)
	if err != nil {
		tb.Fatal(err)
	}
	e := &fuzzEnv{srv: srv, st: st, dir: dir, tok: tok}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		h.Close(ctx)
		st.Close()
	})
	rec := e.do(tb, "POST", "/api/v1/canvases", "application/json", strings.NewReader(`{"name":"fuzz"}`), nil)
	if rec.Code != 200 {
		tb.Fatalf("create canvas: %d %s", rec.Code, rec.Body)
	}
	var cv struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &cv)
	e.canvas = cv.ID
	return e
}

func (e *fuzzEnv) do(tb testing.TB, method, path, ctype string, body *strings.Reader, hdr http.Header) *httptest.ResponseRecorder {
	tb.Helper()
	var req *http.Request
	if body == nil {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, body)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Private-Token", e.tok)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func tinyPNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// countBlobFiles counts the files under blobs/.
func countBlobFiles(dir string) int {
	n := 0
	filepath.Walk(filepath.Join(dir, "blobs"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// FuzzImageJSONPart: the `json` part of POST .../images. An accepted part
// gives a widget whose stored props serialise (no NaN/Inf) and read back; a
// refused part answers 400/413 with {"msg"} and stores nothing.
func FuzzImageJSONPart(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"location":{"x":1,"y":2}}`,
		`{"size":{"width":100,"height":50},"depth":3,"scale":1.5,"pinned":true}`,
		`{"title":"t","crop_bbox":{"x":0.1,"y":0.1,"width":0.5,"height":0.5}}`,
		`{"crop_bbox":{"x":-1,"y":0,"width":2,"height":1}}`, `{"crop_bbox":[1,2,3]}`,
		`{"size":{"width":0,"height":1}}`, `{"size":{"width":1e308,"height":1e308}}`,
		`{"depth":0.5}`, `{"scale":-1}`, `{"location":{"x":1e400,"y":0}}`, `{"parent_id":"nope"}`,
		`{"unknown":1}`, `{"id":"x","widget_type":"Note"}`, `{"auto_raise":true}`, `{"a":1}{"b":2}`,
		`{"location":{"x":"1","y":2}}`, `{"title":` + strconv.Quote(strings.Repeat("é", 40)) + `}`,
	} {
		f.Add([]byte(s))
	}
	e := newFuzzEnv(f)
	img := tinyPNG(f)
	var mu sync.Mutex // the widget/blob counts below need one upload at a time
	f.Fuzz(func(t *testing.T, part []byte) {
		mu.Lock()
		defer mu.Unlock()
		body, ct := multipartBody(t, testPart{Name: "data", Filename: "f.png", ContentType: "image/png", Data: img},
			testPart{Name: "json", Data: part})
		countWidgets := func() int {
			n := 0
			e.st.View(func(tx *store.Tx) error {
				ws, _ := tx.Widgets(e.canvas)
				n = len(ws)
				return nil
			})
			return n
		}
		before, blobsBefore := countWidgets(), countBlobFiles(e.dir)
		rec := e.do(t, "POST", "/api/v1/canvases/"+e.canvas+"/images", ct, strings.NewReader(string(body)), nil)
		switch rec.Code {
		case http.StatusOK:
			var w map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil {
				t.Fatalf("200 with a body that is not JSON: %v: %s", err, rec.Body)
			}
			id, _ := w["id"].(string)
			if id == "" || w["widget_type"] != "Image" {
				t.Fatalf("200 without an image widget: %s", rec.Body)
			}
			if sz, ok := w["size"].(map[string]any); ok {
				wd, _ := sz["width"].(float64)
				ht, _ := sz["height"].(float64)
				if !(wd > 0 && ht > 0) || math.IsInf(wd, 0) || math.IsInf(ht, 0) {
					t.Fatalf("accepted a widget with size %v", sz)
				}
			}
			got := e.do(t, "GET", "/api/v1/canvases/"+e.canvas+"/images/"+id, "", nil, nil)
			if got.Code != 200 {
				t.Fatalf("created widget reads back %d: %s", got.Code, got.Body)
			}
			// Keep the canvas small: delete what was made.
			if d := e.do(t, "DELETE", "/api/v1/canvases/"+e.canvas+"/images/"+id, "", nil, nil); d.Code != 200 {
				t.Fatalf("delete: %d %s", d.Code, d.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var m struct{ Msg string }
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.Msg == "" {
				t.Fatalf("%d without {\"msg\"}: %s", rec.Code, rec.Body)
			}
			if n := countWidgets(); n != before {
				t.Fatalf("refused upload changed the widget count %d -> %d", before, n)
			}
			if n := countBlobFiles(e.dir); n != blobsBefore {
				t.Fatalf("refused upload left blob files %d -> %d", blobsBefore, n)
			}
		default:
			t.Fatalf("json part %q: status %d: %s", part, rec.Code, rec.Body)
		}
	})
}

// cancelOnWrite ends the request's context at the first body write, so that
// an NDJSON stream stops after its first line.
type cancelOnWrite struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
	mu     sync.Mutex
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.ResponseRecorder.Write(p)
	w.cancel()
	return n, err
}

func (w *cancelOnWrite) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ResponseRecorder.Flush()
}

// FuzzQueryParams: ?since on the websocket route and ?subscribe on a GET.
// since must be a non-negative integer (else 400 {"msg"}); subscribe starts an
// NDJSON stream unless it is 0/false/no, and the stream's first line is the
// plain GET's body.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{"", "since=0", "since=18446744073709551615", "since=18446744073709551616", "since=-1",
		"since=1e3", "since=%20", "since", "since=1&since=x", "subscribe", "subscribe=0", "subscribe=FALSE",
		"subscribe=no", "subscribe=1", "subscribe=%00", "since=%zz", "subscribe&subscribe=0", ";since=1"} {
		f.Add(s)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil || strings.ContainsAny(raw, " #\x7f") || strings.IndexFunc(raw, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			return // not a query a client can send as is
		}
		// The websocket route without an upgrade: only the since check runs.
		rec := e.do(t, "GET", "/api/v1/canvases/"+e.canvas+"/ws?"+raw, "", nil, nil)
		_, hasSince := q["since"]
		_, perr := strconv.ParseUint(q.Get("since"), 10, 64)
		if hasSince && perr != nil {
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "since") {
				t.Fatalf("since=%q: %d %s", q.Get("since"), rec.Code, rec.Body)
			}
		} else if rec.Code == http.StatusBadRequest || rec.Code >= 500 {
			t.Fatalf("?%s: %d %s", raw, rec.Code, rec.Body)
		}

		plain := e.do(t, "GET", "/api/v1/canvases/"+e.canvas+"/widgets", "", nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req := httptest.NewRequest("GET", "/api/v1/canvases/"+e.canvas+"/widgets?"+raw, nil).WithContext(ctx)
		req.Header.Set("Private-Token", e.tok)
		w := &cancelOnWrite{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
		e.srv.Handler().ServeHTTP(w, req)
		_, hasSub := q["subscribe"]
		v := strings.ToLower(q.Get("subscribe"))
		wantStream := hasSub && v != "0" && v != "false" && v != "no"
		ct := w.Header().Get("Content-Type")
		if w.Code != 200 {
			t.Fatalf("GET widgets?%s: %d %s", raw, w.Code, w.Body)
		}
		if wantStream != strings.HasPrefix(ct, "application/x-ndjson") {
			t.Fatalf("?%s: stream %v, content type %q", raw, wantStream, ct)
		}
		first, _, _ := strings.Cut(w.Body.String(), "\n")
		if strings.TrimSpace(first) != strings.TrimSpace(plain.Body.String()) {
			t.Fatalf("?%s: first line %q, plain GET %q", raw, first, plain.Body)
		}
	})
}

// FuzzJobStatusPaging: the job-status body's start and limit. Accepted pages
// echo start >= 0 and 1 <= limit <= 100; refusals are 400 {"error_message"}.
func FuzzJobStatusPaging(f *testing.F) {
	for _, s := range []string{`{}`, `{"start":0,"limit":1}`, `{"limit":100}`, `{"limit":101}`, `{"limit":0}`,
		`{"start":-1}`, `{"start":9223372036854775807,"limit":100}`, `{"start":1e3}`, `{"limit":"5"}`,
		`{"job_labels":"a","limit":5}`, `{"job_labels":["a","b"],"start":2}`, `{"job_id":"x","job_labels":["a"]}`,
		`{"job_id":"nope"}`, `{"start":null,"limit":null}`, ``, `[`, `{"limit":5}{}`} {
		f.Add([]byte(s))
	}
	e := newFuzzEnv(f)
	hdr := http.Header{"Authorization": {"Bearer " + e.tok}}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := e.do(t, "POST", "/v1/banners/with-mask/status", "application/json", strings.NewReader(string(body)), hdr)
		switch rec.Code {
		case http.StatusOK:
			var got struct {
				Start, Limit, Total *int
				Jobs, Results       []json.RawMessage
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Start == nil || got.Limit == nil || got.Total == nil {
				t.Fatalf("200 body: %v %s", err, rec.Body)
			}
			if *got.Start < 0 || *got.Limit < 1 || *got.Limit > cropjobs.StatusLimitMax || len(got.Jobs) > *got.Limit {
				t.Fatalf("page start=%d limit=%d jobs=%d", *got.Start, *got.Limit, len(got.Jobs))
			}
			var req struct{ Start, Limit *int }
			if json.Unmarshal(body, &req) == nil {
				if req.Start != nil && *req.Start != *got.Start || req.Limit != nil && *req.Limit != *got.Limit {
					t.Fatalf("asked start=%v limit=%v, got %d %d", req.Start, req.Limit, *got.Start, *got.Limit)
				}
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
			var m struct {
				ErrorMessage string `json:"error_message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.ErrorMessage == "" {
				t.Fatalf("%d without error_message: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("body %q: %d %s", body, rec.Code, rec.Body)
		}
	})
}
