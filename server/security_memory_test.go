package server

// Security regression tests of issue 13 owned by "memory": the decode guard
// (defect 2), the upload rate (defect 2), corrupt images (defect 12), and the
// multipart upload fuzz target.

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
)

// png16Maker builds w×h 16-bit RGBA PNGs of one colour by hand: a few tens
// of KB on disk that decode to 8 bytes a pixel (the attack's file). Row 0
// carries the colour; every later row is filter Up over zeros, so the
// deflate stream of those rows is the same for every colour and made once.
type png16Maker struct {
	w, h int
	rest []byte // raw deflate of rows 1..h-1, final block included
}

func newPNG16Maker(t testing.TB, w, h int) *png16Maker {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	row := make([]byte, 1+8*w)
	row[0] = 2 // Up
	for y := 1; y < h; y++ {
		fw.Write(row)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return &png16Maker{w: w, h: h, rest: buf.Bytes()}
}

func (m *png16Maker) make(t testing.TB, r, g, b uint16) []byte {
	t.Helper()
	row0 := make([]byte, 1+8*m.w)
	for x := 0; x < m.w; x++ {
		binary.BigEndian.PutUint16(row0[1+8*x:], r)
		binary.BigEndian.PutUint16(row0[3+8*x:], g)
		binary.BigEndian.PutUint16(row0[5+8*x:], b)
		binary.BigEndian.PutUint16(row0[7+8*x:], 0xffff)
	}
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x01})
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write(row0)
	fw.Flush() // byte-aligned, not final: the shared rows follow
	z.Write(m.rest)
	// Adler-32 of the whole inflated stream, by arithmetic for the zero rows.
	const mod = 65521
	a, s := uint64(1), uint64(0)
	for _, c := range row0 {
		a = (a + uint64(c)) % mod
		s = (s + a) % mod
	}
	for y := 1; y < m.h; y++ {
		a = (a + 2) % mod
		s = (s + a) % mod
		s = (s + uint64(8*m.w)*a) % mod
	}
	binary.Write(&z, binary.BigEndian, uint32(s<<16|a))

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(m.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(m.h))
	ihdr[8], ihdr[9] = 16, 6 // 16-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// heapObjects is the Go heap's object bytes (live and not yet swept).
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapPeak runs fn while sampling the heap every millisecond and returns
// the heap before (after a GC) and the highest sample. The server runs in
// this process, so this measures it.
func heapPeak(fn func()) (base, peak uint64) {
	runtime.GC()
	base = heapObjects()
	var max atomic.Uint64
	max.Store(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			if v := heapObjects(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	if v := heapObjects(); v > max.Load() {
		max.Store(v)
	}
	return base, max.Load()
}

type rawResp struct {
	status int
	header http.Header
	body   []byte
}

// rawDo is a request that is safe from many goroutines (no t.Fatal).
func (e *testEnv) rawDo(method, path string, hdr map[string]string, body []byte) rawResp {
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		return rawResp{status: -1, body: []byte(err.Error())}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return rawResp{status: -1, body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// setSource points an image widget's source render at data, written straight
// into the store (as an older version, or a restore, could have left it).
func (e *testEnv) setSource(t testing.TB, canvasID, widgetID string, data []byte, w, h int) {
	t.Helper()
	hash, err := e.Store.PutBlobFile(data)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Write(func(tx *store.Tx) error {
		wd, err := tx.Widget(canvasID, widgetID)
		if err != nil {
			return err
		}
		if err := tx.AddBlobRef(hash); err != nil {
			return err
		}
		wd.SourceBlob, wd.SourceW, wd.SourceH = hash, w, h
		return tx.UpdateWidget(wd, store.EvWidgetUpdated, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecurity02_DecodeGuardBoundsMemory: parallel source-only uploads of a
// small-on-disk, 16-bit PNG, and parallel re-crops of distinct large
// sources, run against a small decode budget. Before the fix neither went
// through an operation slot and the heap grew with every request (each
// decode is ~10 MB live here, so 12 at once pass 110 MB). Now the heap stays
// within the bound below, the requests that cannot get their share answer
// 503 with Retry-After, and the same requests one at a time succeed.
//
// The bound is 2 x (heap before + budget) + 16 MiB: the guard keeps live
// decode memory under the budget, the GC (GOGC=100 in tests) may let the
// heap reach twice the live data before it collects, and 16 MiB covers
// request bodies and the recorder. runtime/metrics counts Go heap objects, which
// -race does not inflate (its shadow memory is outside the Go heap).
func TestSecurity02_DecodeGuardBoundsMemory(t *testing.T) {
	const budget = 16 << 20
	const parallel = 12
	e := newTestEnv(t, withConfig(func(c *Config) {
		c.DecodeBudgetBytes = budget
		c.OpWait = 20 * time.Millisecond
		c.SourceCacheBytes = 1 // keep no decoded source: every re-crop decodes
		c.UploadsPerMinute = 1000
		c.ExpensivePerMinute = 1000
	}))
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "attack")
	mk := newPNG16Maker(t, 900, 900)
	big := mk.make(t, 0x1234, 0x5678, 0x9abc)
	_, w, h, cost, err := imaging.DecodeCost(big, imaging.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attack file: %d bytes on disk, %dx%d 16-bit RGBA, decode weight %d MiB, budget %d MiB", len(big), w, h, cost>>20, budget>>20)
	if cost <= budget/2 || cost > budget {
		t.Fatalf("test setup: one decode (%d) must fit the budget (%d) but two must not", cost, budget)
	}
	limit := func(base uint64) uint64 { return 2*(base+budget) + 16<<20 }
	check := func(what string, codes []rawResp, base, peak uint64) {
		t.Helper()
		t.Logf("%s: heap %d MiB before, peak %d MiB, bound %d MiB", what, base>>20, peak>>20, limit(base)>>20)
		if peak > limit(base) {
			t.Errorf("%s: heap peaked at %d MiB, above the bound %d MiB (heap before %d MiB, budget %d MiB)", what, peak>>20, limit(base)>>20, base>>20, budget>>20)
		}
		seen := map[int]int{}
		for _, r := range codes {
			seen[r.status]++
			switch r.status {
			case 200:
			case 503:
				if r.header.Get("Retry-After") == "" {
					t.Errorf("%s: 503 without Retry-After: %s", what, r.body)
				}
			default:
				t.Errorf("%s: status %d: %s", what, r.status, r.body)
			}
		}
		if seen[503] == 0 {
			t.Errorf("%s: %d parallel decodes over a budget that fits one all answered %v, want some 503", what, parallel, seen)
		}
	}

	// One at a time, an upload succeeds.
	body, ct := multipartBody(t, testPart{Name: "source", Filename: "page.png", ContentType: "image/png", Data: big})
	e.do("POST", cv.path("/images"), owner.Token, bytes.NewReader(body), ct).expect(t, 200)

	// Parallel source-only uploads.
	uploads := make([]rawResp, parallel)
	base, peak := heapPeak(func() {
		var wg sync.WaitGroup
		for i := range uploads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				uploads[i] = e.rawDo("POST", cv.path("/images"), map[string]string{"Private-Token": owner.Token, "Content-Type": ct}, body)
			}()
		}
		wg.Wait()
	})
	check("parallel uploads", uploads, base, peak)

	// Distinct large sources behind small images, then parallel re-crops.
	ids := make([]string, parallel)
	for i := range ids {
		ids[i] = e.mustImage(owner.Token, cv, "small.png", testPNG(t, 8, 8)).id()
		e.setSource(t, cv.ID, ids[i], mk.make(t, uint16(i*1000), 7, 9), mk.w, mk.h)
	}
	recropBody := []byte(`{"user_bbox":{"x":0.25,"y":0.25,"width":0.5,"height":0.5}}`)
	hdr := map[string]string{"Authorization": "Bearer " + owner.Token, "Content-Type": "application/json"}
	recrops := make([]rawResp, parallel)
	base, peak = heapPeak(func() {
		var wg sync.WaitGroup
		for i := range recrops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recrops[i] = e.rawDo("POST", "/api/canvas/"+cv.ID+"/images/"+ids[i]+"/recrop", hdr, recropBody)
			}()
		}
		wg.Wait()
	})
	check("parallel re-crops", recrops, base, peak)
	for _, r := range recrops {
		if r.status == 503 {
			var m struct{ Detail string }
			if json.Unmarshal(r.body, &m) != nil || m.Detail == "" {
				t.Errorf("re-crop 503 not in the deal dialect: %s", r.body)
			}
		}
	}

	// One at a time, a re-crop succeeds.
	for _, id := range []string{ids[parallel-1]} {
		if r := e.rawDo("POST", "/api/canvas/"+cv.ID+"/images/"+id+"/recrop", hdr, recropBody); r.status != 200 {
			t.Fatalf("sequential re-crop: %d %s", r.status, r.body)
		}
	}

	// An image needing more than the whole budget is refused, not queued.
	huge := newPNG16Maker(t, 1300, 1300).make(t, 1, 2, 3)
	hb, hct := multipartBody(t, testPart{Name: "source", Filename: "huge.png", ContentType: "image/png", Data: huge})
	e.do("POST", cv.path("/images"), owner.Token, bytes.NewReader(hb), hct).expectMsg(t, 413, "decode budget")
}

// TestSecurity02_UploadRateLimited: image uploads are limited per user
// (whatever token: a fresh token does not reset the budget) and per client
// IP for anonymous link guests, with 429 and Retry-After.
func TestSecurity02_UploadRateLimited(t *testing.T) {
	e := newTestEnv(t, withConfig(func(c *Config) { c.UploadsPerMinute = 3 }))
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	cv := e.createCanvas(alice.Token, "uploads")
	e.share(alice.Token, cv, bob.ID, "edit")
	img := testPNG(t, 4, 4)
	for i := 0; i < 3; i++ {
		e.uploadImage(alice.Token, cv, "a.png", img, "").expect(t, 200)
	}
	r := e.uploadImage(alice.Token, cv, "a.png", img, "").expectMsg(t, 429, "Too many uploads")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// A new token of the same user draws on the same budget.
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", alice.ID), alice.Token, map[string]any{"description": "second"}, 200)
	e.uploadImage(tk.str("plain_token"), cv, "a.png", img, "").expectMsg(t, 429, "Too many uploads")
	// Another user has a budget of their own.
	e.uploadImage(bob.Token, cv, "b.png", img, "").expect(t, 200)

	// Anonymous guests on an edit link: per client IP.
	e.setLink(alice.Token, cv, "edit")
	for i := 0; i < 3; i++ {
		e.uploadImage("", cv, "g.png", img, "").expect(t, 200)
	}
	r = e.uploadImage("", cv, "g.png", img, "").expectMsg(t, 429, "Too many uploads")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

// TestSecurity12_CorruptImageRejected: a truncated PNG or JPEG passes the
// header check; the upload now decodes it fully and answers 400 naming the
// problem (nothing stored), every other upload route answers 4xx, and a
// corrupt source already in the store (an older version accepted them)
// makes re-crop answer 422 naming the problem, not 500.
func TestSecurity12_CorruptImageRejected(t *testing.T) {
	e := newTestEnv(t)
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "corrupt")
	good := testPNG(t, 300, 200)
	pngT := good[:len(good)*2/3]
	jpg := testJPEG(t, 300, 200)
	jpgT := jpg[:len(jpg)/2]
	for _, b := range [][]byte{pngT, jpgT} {
		if _, _, _, err := imaging.Inspect(b, imaging.Limits{}); err != nil {
			t.Fatalf("test setup: the truncated file must pass the header check: %v", err)
		}
	}
	blobsBefore, widgetsBefore := len(e.blobFiles()), len(e.widgetIDs(owner.Token, cv))
	for _, tc := range []struct {
		name  string
		parts []testPart
		part  string
	}{
		{"truncated png data", []testPart{{Name: "data", Filename: "t.png", Data: pngT}}, "data"},
		{"truncated jpeg data", []testPart{{Name: "data", Filename: "t.jpg", Data: jpgT}}, "data"},
		{"truncated png source", []testPart{{Name: "source", Filename: "t.png", Data: pngT}}, "source"},
		{"truncated jpeg source", []testPart{{Name: "source", Filename: "t.jpg", Data: jpgT}}, "source"},
		{"truncated source with data", []testPart{{Name: "data", Filename: "ok.png", Data: good}, {Name: "source", Filename: "t.png", Data: pngT}}, "source"},
		{"truncated data with source", []testPart{{Name: "data", Filename: "t.jpg", Data: jpgT}, {Name: "source", Filename: "ok.png", Data: good}}, "data"},
	} {
		r := e.upload(cv.path("/images"), owner.Token, tc.parts...)
		r.expectMsg(t, 400, "'"+tc.part+"' is corrupt or truncated")
	}
	if n := len(e.widgetIDs(owner.Token, cv)); n != widgetsBefore {
		t.Fatalf("refused uploads created widgets: %d -> %d", widgetsBefore, n)
	}
	if n := len(e.blobFiles()); n != blobsBefore {
		t.Fatalf("refused uploads left blob files: %d -> %d", blobsBefore, n)
	}

	// The other upload routes answer 4xx in their dialects.
	for _, b := range [][]byte{pngT, jpgT} {
		body, ct := multipartBody(t, testPart{Name: "image_file", Filename: "t.png", Data: b})
		if r := e.do("POST", "/v1/remove-background", "", bytes.NewReader(body), ct, bearer(owner.Token)); r.Status != 422 {
			t.Fatalf("remove-background of a truncated file: %s, want 422", r)
		}
		body, ct = multipartBody(t, testPart{Name: "image_file", Filename: "t.png", Data: b})
		if r := e.do("POST", "/uncrop/v1", "", bytes.NewReader(body), ct, withHeader("x-api-key", owner.Token)); r.Status != 400 {
			t.Fatalf("uncrop of a truncated file: %s, want 400", r)
		}
	}

	// A corrupt source already stored: re-crop answers 422 naming it.
	for _, src := range [][]byte{pngT, jpgT} {
		id := e.mustImage(owner.Token, cv, "ok.png", testPNG(t, 8, 8)).id()
		e.setSource(t, cv.ID, id, src, 300, 200)
		r := e.doJSON("POST", "/api/canvas/"+cv.ID+"/images/"+id+"/recrop", "",
			map[string]any{"user_bbox": map[string]any{"x": 0.1, "y": 0.1, "width": 0.5, "height": 0.5}}, bearer(owner.Token))
		var m struct{ Detail []struct{ Msg string } }
		if r.Status != 422 || json.Unmarshal(r.Body, &m) != nil || len(m.Detail) != 1 ||
			!strings.Contains(m.Detail[0].Msg, "cannot be decoded") || !strings.Contains(m.Detail[0].Msg, "invalid image data") {
			t.Fatalf("re-crop of a corrupt stored source: %s, want 422 naming the problem", r)
		}
	}
}

// fuzzBoundary is the boundary of FuzzMultipartUpload's bodies.
const fuzzBoundary = "fuzzb0undary"

// fuzzMultipart encodes parts with fuzzBoundary (name, filename, data).
func fuzzMultipart(parts ...[3]string) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary(fuzzBoundary)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p[1] != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p[0], p[1]))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p[0]))
		}
		w, _ := mw.CreatePart(h)
		w.Write([]byte(p[2]))
	}
	mw.Close()
	return buf.Bytes()
}

// FuzzMultipartUpload: whole multipart bodies of POST .../images (parts,
// headers, boundaries, image bytes), seeded with valid uploads. The server
// never panics or answers 5xx; it answers 200 with an image widget, or
// 400/413 with {"msg"} and then nothing is stored (widget count and blob
// files unchanged).
func FuzzMultipartUpload(f *testing.F) {
	img := string(tinyPNG(f))
	jpg := string(testJPEG(f, 16, 12))
	for _, seed := range [][]byte{
		fuzzMultipart([3]string{"data", "a.png", img}),
		fuzzMultipart([3]string{"data", "a.jpg", jpg}, [3]string{"json", "", `{"title":"t"}`}),
		fuzzMultipart([3]string{"source", "p.png", img}),
		fuzzMultipart([3]string{"source", "p.png", img}, [3]string{"json", "", `{"crop_bbox":{"x":0.25,"y":0,"width":0.5,"height":1}}`}),
		fuzzMultipart([3]string{"data", "a.png", img}, [3]string{"source", "p.jpg", jpg}),
		fuzzMultipart([3]string{"data", "a.png", img[:len(img)-20]}),
		fuzzMultipart([3]string{"data", "a.jpg", jpg[:len(jpg)/2]}),
		fuzzMultipart([3]string{"source", "p.png", img[:40]}),
		fuzzMultipart([3]string{"data", "a.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`}),
		fuzzMultipart([3]string{"data", "a.png", img}, [3]string{"data", "b.png", img}),
		fuzzMultipart([3]string{"json", "", `{}`}),
		fuzzMultipart(),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + img),
		[]byte("not multipart at all"),
		{},
	} {
		f.Add(seed)
	}
	e := newFuzzEnv(f)
	ct := "multipart/form-data; boundary=" + fuzzBoundary
	var mu sync.Mutex // the widget/blob counts below need one upload at a time
	f.Fuzz(func(t *testing.T, body []byte) {
		mu.Lock()
		defer mu.Unlock()
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
			if n := countWidgets(); n != before+1 {
				t.Fatalf("accepted upload changed the widget count %d -> %d", before, n)
			}
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
			t.Fatalf("body %q: status %d: %s", body, rec.Code, rec.Body)
		}
	})
}
