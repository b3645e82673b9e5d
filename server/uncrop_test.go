package server

// Issue 6 acceptance over a real port: the Clipdrop-compatible /uncrop/v1
// (every error path and header, credits, the per-key rate limit under an
// injectable clock, determinism, exact cropping) and the canvas uncrop route
// (versions, widget geometry, IMAGE_UNCROPPED broadcast, {"msg"} errors).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
)

// frozenClock is a clock that only moves when the test advances it, so a
// rate-limit test does not depend on how long the calls take.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozenClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *frozenClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newClockedEnv is newTestEnv with the server's rate-limit clock replaced
// (server.WithClock); it cannot be restarted.
func newClockedEnv(t testing.TB, now func() time.Time, opts ...testEnvOption) *testEnv {
	t.Helper()
	o := testEnvOpts{dir: t.TempDir()}
	for _, f := range opts {
		f(&o)
	}
	e := &testEnv{t: t, opts: o, Dir: o.dir, Admin: testAdminToken}
	st, err := store.Open(e.Dir, o.store)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h := NewHub(st, 0)
	srv := New(o.cfg, st, h, o.log, WithClock(now))
	srv.Start()
	if _, _, err := Bootstrap(st, testAdminToken); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	ts := httptest.NewServer(RecordHTTP(srv.Handler()))
	e.Store, e.Hub, e.Srv, e.HTTP, e.URL = st, h, srv, ts, ts.URL
	e.Client = &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second}
	t.Cleanup(e.Close)
	return e
}

// uncropKey is an access token: its id (for /admin/tokens) and plain key.
type uncropKey struct {
	UID uint64
	ID  string
	Key string
}

func (e *testEnv) newUncropKey(name string) uncropKey {
	e.t.Helper()
	u := e.createUser(name, false)
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), e.Admin, map[string]any{"description": "uncrop"}, 200)
	if tk.id() == "" || tk.str("plain_token") == "" {
		e.t.Fatalf("token: %v", tk)
	}
	return uncropKey{UID: u.ID, ID: tk.id(), Key: tk.str("plain_token")}
}

func (e *testEnv) setCredits(tid string, credits any) {
	e.t.Helper()
	got := e.mustJSON("PUT", "/admin/tokens/"+tid+"/credits", e.Admin, map[string]any{"credits": credits}, 200)
	if fmt.Sprint(got["credits"]) != fmt.Sprint(credits) {
		e.t.Fatalf("set credits %v: got %v", credits, got)
	}
}

// credits reads a token's credits: -1 for unlimited (null).
func (e *testEnv) credits(tid string) int64 {
	e.t.Helper()
	got := e.mustJSON("GET", "/admin/tokens/"+tid+"/credits", e.Admin, nil, 200)
	if got.str("token_id") != tid {
		e.t.Fatalf("credits of %s: %v", tid, got)
	}
	if got["credits"] == nil {
		return -1
	}
	return int64(got.num("credits"))
}

// uncropReq POSTs /uncrop/v1 with key ("" for none), the image (nil for no
// image_file part) and the given form fields.
func (e *testEnv) uncropReq(key string, img []byte, fields ...string) *testResp {
	e.t.Helper()
	var parts []testPart
	if img != nil {
		parts = append(parts, testPart{Name: "image_file", Filename: "image.png", Data: img})
	}
	for i := 0; i+1 < len(fields); i += 2 {
		parts = append(parts, testPart{Name: fields[i], Data: []byte(fields[i+1])})
	}
	body, ct := multipartBody(e.t, parts...)
	var opts []reqOption
	if key != "" {
		opts = append(opts, withHeader("x-api-key", key))
	}
	return e.do("POST", "/uncrop/v1", "", bytes.NewReader(body), ct, opts...)
}

// expectClipdropError checks status and a JSON {"error": "..."} body
// containing sub.
func expectClipdropError(t testing.TB, r *testResp, status int, sub string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: want status %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: content type %q, want application/json", r, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s: body is not JSON: %v", r, err)
	}
	msg, ok := m["error"].(string)
	if !ok || msg == "" || len(m) != 1 {
		t.Fatalf("%s: body is not {\"error\": \"...\"}", r)
	}
	if !strings.Contains(strings.ToLower(msg), strings.ToLower(sub)) {
		t.Fatalf("%s: want error containing %q", r, sub)
	}
}

// expectUncropped checks a success and returns the decoded JPEG.
func expectUncropped(t testing.TB, r *testResp, remaining string) image.Image {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("%s: want 200", r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("%s: content type %q", r, ct)
	}
	if got := r.Header.Get("x-credits-consumed"); got != "1" {
		t.Fatalf("x-credits-consumed = %q, want 1", got)
	}
	if got := r.Header.Get("x-remaining-credits"); got != remaining {
		t.Fatalf("x-remaining-credits = %q, want %q", got, remaining)
	}
	img, err := jpeg.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("result is not a JPEG: %v", err)
	}
	return img
}

func TestUncropErrorPaths(t *testing.T) {
	e := newTestEnv(t, withConfig(func(c *Config) { c.UncropMaxOutputPixels = 5000 }))
	k := e.newUncropKey("uncrop-err")
	src := testPNG(t, 64, 48) // 3072 px

	// 401: no key at all; a Canvus Private-Token is not an api key.
	expectClipdropError(t, e.uncropReq("", src), 401, "api key")
	body, ct := multipartBody(t, testPart{Name: "image_file", Filename: "a.png", Data: src})
	expectClipdropError(t, e.do("POST", "/uncrop/v1", k.Key, bytes.NewReader(body), ct), 401, "api key")

	// 403: unknown key, and a revoked (deleted) one that worked before.
	expectClipdropError(t, e.uncropReq("not-a-real-key-0123456789", src), 403, "api key")
	rev := e.newUncropKey("uncrop-revoked")
	expectUncropped(t, e.uncropReq(rev.Key, src), "unlimited")
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", rev.UID, rev.ID), e.Admin, nil, 200)
	expectClipdropError(t, e.uncropReq(rev.Key, src), 403, "revoked")

	// 400: the request itself.
	expectClipdropError(t, e.do("POST", "/uncrop/v1", "", strings.NewReader(`{"image_file":1}`), "application/json", withHeader("x-api-key", k.Key)), 400, "multipart")
	expectClipdropError(t, e.do("POST", "/uncrop/v1", "", strings.NewReader("--zz\r\nContent-Disposition: form-data; name=\"image_file\"\r\n\r\ntrunc"), "multipart/form-data; boundary=zz", withHeader("x-api-key", k.Key)), 400, "multipart")
	expectClipdropError(t, e.uncropReq(k.Key, nil, "extend_left", "10"), 400, "image_file")
	expectClipdropError(t, e.uncropReq(k.Key, testGIF(t, 64, 48)), 400, "format")
	expectClipdropError(t, e.uncropReq(k.Key, []byte("hello, this is not an image")), 400, "format")
	// 4000×3000 = 12 MP: refused from the header, before any decoding.
	expectClipdropError(t, e.uncropReq(k.Key, pngHeaderOnly(4000, 3000)), 400, "resolution")
	for _, f := range []string{"extend_left", "extend_right", "extend_up", "extend_down", "seed"} {
		expectClipdropError(t, e.uncropReq(k.Key, src, f, "abc"), 400, f)
		expectClipdropError(t, e.uncropReq(k.Key, src, f, "1.5"), 400, f)
		expectClipdropError(t, e.uncropReq(k.Key, src, f, ""), 400, f)
		hi, lo := "2001", "-2001"
		if f == "seed" {
			hi, lo = "100001", "-1"
		}
		expectClipdropError(t, e.uncropReq(k.Key, src, f, hi), 400, f)
		expectClipdropError(t, e.uncropReq(k.Key, src, f, lo), 400, f)
	}
	// The bounds themselves are accepted (they end in 422 only because of size).
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_left", "-2000"), 422, "not acceptable")
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_left", "2000"), 422, "not acceptable")
	expectUncropped(t, e.uncropReq(k.Key, src, "seed", "100000", "extend_right", "2"), "unlimited")
	// Cropping more than the whole width is empty, even if the other side extends.
	expectClipdropError(t, e.uncropReq(k.Key, src, "seed", "0", "extend_left", "-2000", "extend_right", "2000"), 422, "empty")

	// 422: zero, negative, and too many output pixels (cap 5000 here).
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_left", "-32", "extend_right", "-32"), 422, "not acceptable")
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_up", "-30", "extend_down", "-30"), 422, "not acceptable")
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_right", "100"), 422, "more than 5000")
	expectUncropped(t, e.uncropReq(k.Key, src, "extend_right", "40"), "unlimited") // 104×48 = 4992

	// 402: no credits left, whatever the rest of the request.
	e.setCredits(k.ID, 0)
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_right", "4"), 402, "credits")
	expectClipdropError(t, e.uncropReq(k.Key, nil), 402, "credits")
	if got := e.credits(k.ID); got != 0 {
		t.Fatalf("credits after refusals = %d, want 0", got)
	}
}

func TestUncropCreditsDurable(t *testing.T) {
	e := newTestEnv(t)
	k := e.newUncropKey("uncrop-credits")
	other := e.newUncropKey("uncrop-other")
	src := testPNG(t, 64, 48)

	if got := e.credits(k.ID); got != -1 {
		t.Fatalf("default credits = %d, want unlimited", got)
	}
	e.mustJSON("PUT", "/admin/tokens/"+k.ID+"/credits", e.Admin, map[string]any{"credits": -3}, 400)
	e.mustJSON("PUT", "/admin/tokens/nope/credits", e.Admin, map[string]any{"credits": 3}, 404)
	e.mustJSON("GET", "/admin/tokens/nope/credits", e.Admin, nil, 404)
	plain := e.createUser("uncrop-plain", false)
	e.mustJSON("PUT", "/admin/tokens/"+k.ID+"/credits", plain.Token, map[string]any{"credits": 100}, 403)
	e.mustJSON("GET", "/admin/tokens/"+k.ID+"/credits", plain.Token, nil, 403)

	e.setCredits(k.ID, 3)
	expectUncropped(t, e.uncropReq(k.Key, src, "extend_right", "4"), "2")
	if got := e.credits(k.ID); got != 2 {
		t.Fatalf("credits = %d, want 2", got)
	}
	// Failures cost nothing.
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_right", "x"), 400, "extend_right")
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_left", "-64"), 422, "not acceptable")
	expectClipdropError(t, e.uncropReq(k.Key, nil), 400, "image_file")
	if got := e.credits(k.ID); got != 2 {
		t.Fatalf("credits after failures = %d, want 2", got)
	}
	// Another key's calls do not touch this key's credits.
	expectUncropped(t, e.uncropReq(other.Key, src, "extend_down", "3"), "unlimited")
	expectUncropped(t, e.uncropReq(k.Key, src, "extend_down", "3"), "1")

	e.Restart()
	if got := e.credits(k.ID); got != 1 {
		t.Fatalf("credits after restart = %d, want 1", got)
	}
	expectUncropped(t, e.uncropReq(k.Key, src, "extend_up", "3"), "0")
	expectClipdropError(t, e.uncropReq(k.Key, src, "extend_up", "3"), 402, "credits")
	e.Restart()
	if got := e.credits(k.ID); got != 0 {
		t.Fatalf("credits after second restart = %d, want 0", got)
	}
	expectClipdropError(t, e.uncropReq(k.Key, src), 402, "credits")
	e.setCredits(k.ID, nil)
	e.Restart()
	if got := e.credits(k.ID); got != -1 {
		t.Fatalf("credits after setting null = %d, want unlimited", got)
	}
	expectUncropped(t, e.uncropReq(k.Key, src, "extend_up", "3"), "unlimited")
	if got := e.credits(other.ID); got != -1 {
		t.Fatalf("other key's credits = %d, want unlimited", got)
	}
}

func TestUncropRateLimit(t *testing.T) {
	clk := &frozenClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := newClockedEnv(t, clk.Now)
	k := e.newUncropKey("uncrop-rate")
	other := e.newUncropKey("uncrop-rate2")
	src := testPNG(t, 64, 48)

	for i := 0; i < 60; i++ {
		// Every call counts, successes and refusals alike.
		if i%10 == 9 {
			expectClipdropError(t, e.uncropReq(k.Key, src, "seed", "x"), 400, "seed")
			continue
		}
		expectUncropped(t, e.uncropReq(k.Key, src, "extend_right", "2", "seed", strconv.Itoa(i)), "unlimited")
	}
	r := e.uncropReq(k.Key, src, "extend_right", "2")
	expectClipdropError(t, r, 429, "too many requests")
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After = %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	// The limit is per key.
	expectUncropped(t, e.uncropReq(other.Key, src, "extend_right", "2"), "unlimited")
	// Still refused while the clock stands still.
	expectClipdropError(t, e.uncropReq(k.Key, src), 429, "too many requests")

	clk.Advance(61 * time.Second)
	for i := 0; i < 3; i++ {
		expectUncropped(t, e.uncropReq(k.Key, src, "extend_right", "2"), "unlimited")
	}
}

// meanAbsDiff is the mean absolute RGB difference of got against
// want[x0:, y0:] over got's bounds.
func meanAbsDiff(got image.Image, want *image.NRGBA, x0, y0 int) float64 {
	b := got.Bounds()
	var sum float64
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, _ := got.At(b.Min.X+x, b.Min.Y+y).RGBA()
			w := want.NRGBAAt(x0+x, y0+y)
			sum += absf(float64(r>>8)-float64(w.R)) + absf(float64(g>>8)-float64(w.G)) + absf(float64(bl>>8)-float64(w.B))
		}
	}
	return sum / float64(3*b.Dx()*b.Dy())
}

func absf(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestUncropDeterministicAndExactCrop(t *testing.T) {
	e := newTestEnv(t)
	k := e.newUncropKey("uncrop-det")
	src := testPNG(t, 64, 48)

	ext := []string{"extend_left", "12", "extend_right", "9", "extend_up", "7", "extend_down", "5"}
	call := func(seed string) []byte {
		t.Helper()
		r := e.uncropReq(k.Key, src, append([]string{"seed", seed}, ext...)...)
		img := expectUncropped(t, r, "unlimited")
		if b := img.Bounds(); b.Dx() != 64+12+9 || b.Dy() != 48+7+5 {
			t.Fatalf("result %v, want 85x60", b)
		}
		return r.Body
	}
	a1, a2, b := call("42"), call("42"), call("43")
	if !bytes.Equal(a1, a2) {
		t.Fatal("two calls with the same seed gave different bytes")
	}
	if bytes.Equal(a1, b) {
		t.Fatal("seeds 42 and 43 gave the same bytes")
	}
	// A PNG and a JPEG of the same picture both work.
	expectUncropped(t, e.uncropReq(k.Key, testJPEG(t, 64, 48), append([]string{"seed", "42"}, ext...)...), "unlimited")

	// Negative extents only crop: exact size, and the content is the
	// sub-rectangle (within JPEG error), not a shifted one.
	pat := testPattern(64, 48)
	r := e.uncropReq(k.Key, src, "extend_left", "-5", "extend_right", "-7", "extend_up", "-3", "extend_down", "-4", "seed", "9")
	img := expectUncropped(t, r, "unlimited")
	if bb := img.Bounds(); bb.Dx() != 64-5-7 || bb.Dy() != 48-3-4 {
		t.Fatalf("cropped result %v, want 52x41", bb)
	}
	exact := meanAbsDiff(img, pat, 5, 3)
	if exact > 6 {
		t.Fatalf("cropped content mean error %.2f against the source rectangle, want <= 6", exact)
	}
	for _, d := range [][2]int{{4, 3}, {6, 3}, {5, 2}, {5, 4}} {
		if off := meanAbsDiff(img, pat, d[0], d[1]); off <= exact {
			t.Fatalf("rectangle at %v matches as well (%.2f) as the exact one (%.2f)", d, off, exact)
		}
	}
	// Mixed: crop one side, extend another; the kept part is still exact.
	r = e.uncropReq(k.Key, src, "extend_left", "-10", "extend_right", "6", "seed", "9")
	img = expectUncropped(t, r, "unlimited")
	if bb := img.Bounds(); bb.Dx() != 60 || bb.Dy() != 48 {
		t.Fatalf("mixed result %v, want 60x48", bb)
	}
	kept := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, 48, 48))
	if d := meanAbsDiff(kept, pat, 10, 0); d > 8 {
		t.Fatalf("kept part mean error %.2f, want <= 8", d)
	}
}

// wsEvent is one websocket message, as much as this test reads.
type wsEvent struct {
	Type   string         `json:"type"`
	Seq    uint64         `json:"seq"`
	Widget map[string]any `json:"widget"`
}

func TestUncropCanvasRoute(t *testing.T) {
	e := newTestEnv(t)
	owner := e.createUser("uncrop-owner", false)
	viewer := e.createUser("uncrop-viewer", false)
	cv := e.createCanvas(owner.Token, "uncrop")
	e.share(owner.Token, cv, viewer.ID, "view")

	// A 200×150 image shown at 100×75: half a canvas unit per pixel.
	w := e.uploadImage(owner.Token, cv, "photo.png", testPNG(t, 200, 150),
		`{"location":{"x":300,"y":80},"size":{"width":100,"height":75}}`).expect(t, 200).obj(t)
	if w.obj("size").num("width") != 100 || w.obj("location").num("x") != 300 {
		t.Fatalf("uploaded widget %v", w)
	}
	wid := w.id()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.URL, "http") + cv.path("/ws")
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {viewer.Token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(8 << 20)

	// Errors, in the Canvus dialect.
	e.doJSON("POST", cv.path("/images/"+wid+"/uncrop"), owner.Token, map[string]any{"extend_left": 2001}).expectMsg(t, 400, "extend_left")
	e.doJSON("POST", cv.path("/images/"+wid+"/uncrop"), owner.Token, map[string]any{"seed": 100001}).expectMsg(t, 400, "seed")
	e.doJSON("POST", cv.path("/images/"+wid+"/uncrop"), owner.Token, map[string]any{"extend_left": -100, "extend_right": -100}).expect(t, 400)
	e.doJSON("POST", cv.path("/images/"+wid+"/uncrop"), owner.Token, `{"extend_left":`).expect(t, 400)
	e.doJSON("POST", cv.path("/images/"+wid+"/uncrop"), viewer.Token, map[string]any{"extend_left": 50}).expect(t, 403)
	e.doJSON("POST", cv.path("/images/00000000-0000-0000-0000-000000000000/uncrop"), owner.Token, map[string]any{"extend_left": 50}).expect(t, 404)
	note := e.createNote(owner.Token, cv, nil)
	e.doJSON("POST", cv.path("/images/"+note.id()+"/uncrop"), owner.Token, map[string]any{"extend_left": 50}).expect(t, 404)

	got := e.mustJSON("POST", cv.path("/images/"+wid+"/uncrop"), owner.Token, map[string]any{"extend_left": 50, "seed": 7}, 200)
	if got.id() != wid {
		t.Fatalf("uncrop answered widget %q, want %q", got.id(), wid)
	}
	checkGeom := func(what string, m jsonObj) {
		t.Helper()
		size, loc := m.obj("size"), m.obj("location")
		if size.num("width") != 125 || size.num("height") != 75 || loc.num("x") != 275 || loc.num("y") != 80 {
			t.Fatalf("%s: size %v location %v, want 125x75 at (275,80)", what, size, loc)
		}
	}
	checkGeom("response", got)
	checkGeom("GET", e.mustJSON("GET", cv.path("/images/"+wid), owner.Token, nil, 200))

	vs := e.do("GET", "/api/canvas/"+cv.ID+"/images/"+wid+"/versions", owner.Token, nil, "").expect(t, 200).obj(t)
	if vs.num("current_version") != 1 {
		t.Fatalf("versions: %v", vs)
	}
	list, _ := vs["versions"].([]any)
	var v1 jsonObj
	for _, v := range list {
		if o := jsonObj(v.(map[string]any)); o.num("version") == 1 {
			v1 = o
		}
	}
	if v1 == nil || v1.str("kind") != "uncrop" || v1.num("width") != 250 || v1.num("height") != 150 {
		t.Fatalf("version 1 = %v, want kind uncrop 250x150 (all: %v)", v1, list)
	}
	vimg := e.do("GET", v1.str("versioned_url"), owner.Token, nil, "").expect(t, 200)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(vimg.Body))
	if err != nil || cfg.Width != 250 || cfg.Height != 150 {
		t.Fatalf("version 1 image: %v %dx%d", err, cfg.Width, cfg.Height)
	}

	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for IMAGE_UNCROPPED: %v", err)
		}
		var m wsEvent
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if m.Type != "IMAGE_UNCROPPED" {
			continue
		}
		if m.Seq == 0 || m.Widget == nil || m.Widget["id"] != wid {
			t.Fatalf("IMAGE_UNCROPPED without the widget: %s", data)
		}
		checkGeom("broadcast", jsonObj(m.Widget))
		break
	}
	ws.Close(websocket.StatusNormalClosure, "bye")
}
