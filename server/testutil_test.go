package server

// Shared test helpers for every test in package server. They start a real
// server on a real loopback port over a real bbolt file in t.TempDir(), and
// speak to it with a plain net/http client, so a test exercises the same
// stack a Canvus client does.
//
// Typical use:
//
//	e := newTestEnv(t)
//	alice := e.createUser("alice", false)
//	cv := e.createCanvas(alice.Token, "board")
//	r := e.doJSON("PATCH", cv.path("/notes/"+id), alice.Token, map[string]any{"text": "hi"})
//	r.expect(t, 200)

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/store"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// testAdminToken is the bootstrap admin's access token in every testEnv.
const testAdminToken = "test-admin-token-0123456789"

// testEnvOpts collects what newTestEnv builds the server from.
type testEnvOpts struct {
	cfg   Config
	store store.Options
	dir   string
	log   zerolog.Logger
	srv   []Option // passed to New after WithMetrics
}

// testEnvOption adjusts a testEnv before it starts.
type testEnvOption func(*testEnvOpts)

// withConfig edits the server Config (limits, TTLs, ...).
func withConfig(f func(*Config)) testEnvOption { return func(o *testEnvOpts) { f(&o.cfg) } }

// withStoreOptions edits the store Options (retention, clock, NoSync, ...).
func withStoreOptions(f func(*store.Options)) testEnvOption {
	return func(o *testEnvOpts) { f(&o.store) }
}

// withServerOptions passes Options to New (WithOCR, ...).
func withServerOptions(opts ...Option) testEnvOption {
	return func(o *testEnvOpts) { o.srv = append(o.srv, opts...) }
}

// withDataDir uses dir instead of a fresh t.TempDir() (restart tests).
func withDataDir(dir string) testEnvOption { return func(o *testEnvOpts) { o.dir = dir } }

// testClock is a controllable clock for store.Options.Now: real time plus an
// offset the test advances.
type testClock struct{ off atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
func withClock(c *testClock) testEnvOption {
	return withStoreOptions(func(o *store.Options) { o.Now = c.Now })
}
func (c testCanvas) path(suffix string) string { return "/api/v1/canvases/" + c.ID + suffix }

// testEnv is one running server: store, hub, gin server and an httptest
// listener on 127.0.0.1.
type testEnv struct {
	t      testing.TB
	opts   testEnvOpts
	Dir    string // data directory (canvasd.db, blobs/)
	URL    string // base URL, no trailing slash
	Admin  string // bootstrap admin token
	Store  *store.Store
	Hub    *hub.Hub
	Srv    *Server
	HTTP   *httptest.Server
	Client *http.Client

	mu     sync.Mutex
	closed bool
	seq    atomic.Int64 // for unique names
}

// newTestEnv starts a server over a fresh data directory. It is closed by
// t.Cleanup (or earlier by e.Close).
func newTestEnv(t testing.TB, opts ...testEnvOption) *testEnv {
	t.Helper()
	o := testEnvOpts{log: zerolog.Nop()}
	for _, f := range opts {
		f(&o)
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	e := &testEnv{t: t, opts: o, Dir: o.dir, Admin: testAdminToken}
	e.start()
	t.Cleanup(e.Close)
	return e
}

func (e *testEnv) start() {
	e.t.Helper()
	st, err := store.Open(e.Dir, e.opts.store)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	m := NewMetrics()
	h := NewHub(st, 0, HubMetrics(m))
	srv := New(e.opts.cfg, st, h, e.opts.log, append([]Option{WithMetrics(m)}, e.opts.srv...)...)
	srv.Start()
	if _, _, err := Bootstrap(st, testAdminToken); err != nil {
		e.t.Fatalf("bootstrap: %v", err)
	}
	ts := httptest.NewServer(RecordHTTP(srv.Handler()))
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	e.Store, e.Hub, e.Srv, e.HTTP = st, h, srv, ts
	e.URL = ts.URL
	e.Client = &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.closed = false
}

// Close stops the server the way cmd/canvasd does: streams and background
// work first, then the listener, the hub, and the store. Idempotent.
func (e *testEnv) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Srv.Shutdown(ctx); err != nil {
		e.t.Errorf("server shutdown: %v", err)
	}
	e.HTTP.Close()
	e.Client.CloseIdleConnections()
	e.Hub.Close(ctx)
	if err := e.Store.Close(); err != nil {
		e.t.Errorf("store close: %v", err)
	}
}

// Restart closes everything and starts again over the same data directory
// (new port, same admin token).
func (e *testEnv) Restart() {
	e.t.Helper()
	e.Close()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.start()
}

// unique returns a name unique within this env.
func (e *testEnv) unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, e.seq.Add(1))
}

// testResp is a fully read HTTP response.
type testResp struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	Cookies      []*http.Cookie
}

func (r *testResp) String() string {
	b := r.Body
	if len(b) > 600 {
		b = append(b[:600:600], "..."...)
	}
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.Path, r.Status, b)
}

// expect fails the test unless the status is want. Every error under
// /api/v1 must be {"msg": "..."}; expect checks that too.
func (r *testResp) expect(t testing.TB, want int) *testResp {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: want status %d", r, want)
	}
	if r.Status >= 400 && strings.HasPrefix(r.Path, "/api/v1") {
		if _, err := r.msg(); err != nil {
			t.Fatalf("%s: error body is not {\"msg\": \"...\"}: %v", r, err)
		}
	}
	return r
}

// expectMsg checks status and that the Canvus error message contains sub.
func (r *testResp) expectMsg(t testing.TB, want int, sub string) *testResp {
	t.Helper()
	r.expect(t, want)
	m, _ := r.msg()
	if !strings.Contains(m, sub) {
		t.Fatalf("%s: want msg containing %q", r, sub)
	}
	return r
}

func (r *testResp) msg() (string, error) {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return "", err
	}
	s, ok := m["msg"].(string)
	if !ok || s == "" || len(m) != 1 {
		return "", fmt.Errorf("body %s", r.Body)
	}
	return s, nil
}

// Msg is the Canvus error message ("" when the body has none).
func (r *testResp) Msg() string { m, _ := r.msg(); return m }

// decode unmarshals the body into v.
func (r *testResp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: decode: %v", r, err)
	}
}

// obj returns the body as a JSON object.
func (r *testResp) obj(t testing.TB) jsonObj {
	t.Helper()
	var m jsonObj
	r.decode(t, &m)
	return m
}

// list returns the body as a JSON array of objects.
func (r *testResp) list(t testing.TB) []jsonObj {
	t.Helper()
	var l []jsonObj
	r.decode(t, &l)
	return l
}

// jsonObj is a decoded JSON object with typed getters.
type jsonObj map[string]any

func (m jsonObj) str(k string) string { s, _ := m[k].(string); return s }
func (m jsonObj) num(k string) float64 {
	f, _ := m[k].(float64)
	return f
}
func (m jsonObj) boolean(k string) bool { b, _ := m[k].(bool); return b }
func (m jsonObj) obj(k string) jsonObj  { o, _ := m[k].(map[string]any); return jsonObj(o) }
func (m jsonObj) id() string            { return m.str("id") }

// reqOption adjusts a request before it is sent.
type reqOption func(*http.Request)

// withHeader sets a request header.
func withHeader(k, v string) reqOption { return func(r *http.Request) { r.Header.Set(k, v) } }

// withCookie adds a cookie.
func withCookie(name, value string) reqOption {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// do sends a request with a raw body. token "" sends no Private-Token.
func (e *testEnv) do(method, path, token string, body io.Reader, contentType string, opts ...reqOption) *testResp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Private-Token", token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &testResp{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Body: b, Cookies: resp.Cookies()}
}

// doJSON sends body as JSON: nil sends no body, string and []byte are sent
// verbatim (for malformed input), anything else is json.Marshal'ed.
func (e *testEnv) doJSON(method, path, token string, body any, opts ...reqOption) *testResp {
	e.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ct = strings.NewReader(b), "application/json"
	case []byte:
		r, ct = bytes.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		r, ct = bytes.NewReader(data), "application/json"
	}
	return e.do(method, path, token, r, ct, opts...)
}

// mustJSON is doJSON + expect(want) + the body as an object.
func (e *testEnv) mustJSON(method, path, token string, body any, want int) jsonObj {
	e.t.Helper()
	r := e.doJSON(method, path, token, body).expect(e.t, want)
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	return r.obj(e.t)
}

// testUser is a user with a personal access token.
type testUser struct {
	ID       uint64
	Email    string
	Name     string
	Password string
	Token    string
}

// createUser creates a user through the API (as the admin) and an access
// token for it, through the API too.
func (e *testEnv) createUser(name string, admin bool) testUser {
	e.t.Helper()
	return e.createUserPW(name, admin, "")
}

// createUserPW is createUser with a password ("" for none). The API would
// bcrypt it at the default cost, which takes seconds under -race, so the
// hash is set directly in the store at bcrypt.MinCost; login checks it the
// same way. Tests of password handling itself go through the API.
func (e *testEnv) createUserPW(name string, admin bool, password string) testUser {
	e.t.Helper()
	name = e.unique(name)
	body := map[string]any{"email": name + "@example.com", "name": name, "admin": admin}
	u := e.mustJSON("POST", "/api/v1/users", e.Admin, body, 200)
	id := uint64(u.num("id"))
	if password != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			e.t.Fatal(err)
		}
		err = e.Store.Write(func(tx *store.Tx) error {
			u, err := tx.User(id)
			if err != nil {
				return err
			}
			u.PasswordHash = hash
			return tx.PutUser(u)
		})
		if err != nil {
			e.t.Fatalf("set password: %v", err)
		}
	}
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", id), e.Admin, map[string]any{"description": "test"}, 200)
	return testUser{ID: id, Email: name + "@example.com", Name: name, Password: password, Token: tk.str("plain_token")}
}

// testCanvas is a canvas id and its root (SharedCanvas) widget id.
type testCanvas struct {
	ID   string
	Root string
}

// createCanvas creates a canvas in the token owner's home folder.
func (e *testEnv) createCanvas(token, name string) testCanvas {
	e.t.Helper()
	cv := e.mustJSON("POST", "/api/v1/canvases", token, map[string]any{"name": e.unique(name)}, 200)
	c := testCanvas{ID: cv.id()}
	for _, w := range e.doJSON("GET", c.path("/widgets"), token, nil).expect(e.t, 200).list(e.t) {
		if w.str("widget_type") == "SharedCanvas" {
			c.Root = w.id()
		}
	}
	if c.Root == "" {
		e.t.Fatalf("canvas %s has no SharedCanvas root widget", c.ID)
	}
	return c
}

// share gives user uid permission perm (none/view/edit/owner) on a canvas.
func (e *testEnv) share(token string, c testCanvas, uid uint64, perm string) {
	e.t.Helper()
	e.mustJSON("POST", c.path("/permissions"), token, map[string]any{"users": []any{map[string]any{"id": uid, "permission": perm}}}, 200)
}

// setLink sets the canvas's link permission (none/view/edit).
func (e *testEnv) setLink(token string, c testCanvas, perm string) {
	e.t.Helper()
	e.mustJSON("POST", c.path("/permissions"), token, map[string]any{"link_permission": perm}, 200)
}

// createNote creates a note with the given props and returns it.
func (e *testEnv) createNote(token string, c testCanvas, props map[string]any) jsonObj {
	e.t.Helper()
	if props == nil {
		props = map[string]any{"text": "note"}
	}
	return e.mustJSON("POST", c.path("/notes"), token, props, 200)
}

// testPart is one part of a multipart body.
type testPart struct {
	Name        string
	Filename    string // "" makes a plain form field
	ContentType string // default application/octet-stream for files
	Data        []byte
}

// multipartBody encodes parts as multipart/form-data.
func multipartBody(t testing.TB, parts ...testPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.Filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.Filename))
			ct := p.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			h.Set("Content-Type", ct)
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.Name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		w.Write(p.Data)
	}
	if err := mw.Close(); err != nil {
		t.Fatalf("multipart: %v", err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload POSTs a multipart body to path.
func (e *testEnv) upload(path, token string, parts ...testPart) *testResp {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	return e.do("POST", path, token, bytes.NewReader(body), ct)
}

// uploadImage creates an image widget from data (named filename) with an
// optional json part ("" for none).
func (e *testEnv) uploadImage(token string, c testCanvas, filename string, data []byte, jsonPart string) *testResp {
	e.t.Helper()
	parts := []testPart{{Name: "data", Filename: filename, Data: data}}
	if jsonPart != "" {
		parts = append(parts, testPart{Name: "json", Data: []byte(jsonPart)})
	}
	return e.upload(c.path("/images"), token, parts...)
}

// mustImage uploads an image and returns the created widget.
func (e *testEnv) mustImage(token string, c testCanvas, filename string, data []byte) jsonObj {
	e.t.Helper()
	return e.uploadImage(token, c, filename, data, "").expect(e.t, 200).obj(e.t)
}

// waitImageHash polls the image until background processing filled its
// hash, and returns it. It gives up after 10 s.
func (e *testEnv) waitImageHash(token string, c testCanvas, id string) string {
	e.t.Helper()
	var h string
	e.eventually("image "+id+" hash", func() bool {
		h = e.mustJSON("GET", c.path("/images/"+id), token, nil, 200).str("hash")
		return h != ""
	})
	return h
}

// eventually polls cond (every 5 ms, at most 10 s) and fails with what.
func (e *testEnv) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// blobFiles lists every file under <data>/blobs (temp files included),
// relative to it, sorted.
func (e *testEnv) blobFiles() []string {
	e.t.Helper()
	return listBlobFiles(e.t, e.Dir)
}

func listBlobFiles(t testing.TB, dir string) []string {
	t.Helper()
	root := filepath.Join(dir, "blobs")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk blobs: %v", err)
	}
	sort.Strings(out)
	return out
}

// widgetIDs lists the ids of a canvas's widgets (root included), sorted.
func (e *testEnv) widgetIDs(token string, c testCanvas) []string {
	e.t.Helper()
	var ids []string
	for _, w := range e.doJSON("GET", c.path("/widgets"), token, nil).expect(e.t, 200).list(e.t) {
		ids = append(ids, w.id())
	}
	sort.Strings(ids)
	return ids
}

// ---- real image bytes ----

// testPattern is a deterministic, non-uniform picture (so encoders do real
// work). It writes Pix directly: SetNRGBA is slow under -race.
func testPattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		g := uint8(y * 255 / max(h-1, 1))
		for x := 0; x < w; x++ {
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(x*255/max(w-1, 1)), g, uint8((x^y)&0xff), 255
		}
	}
	return img
}

// encodedImages memoizes testPNG/testJPEG: encoding a big picture takes
// seconds under -race, and many tests want the same one.
var encodedImages sync.Map // "png 1600x900" -> []byte

func memoImage(t testing.TB, key string, enc func(*bytes.Buffer) error) []byte {
	t.Helper()
	if b, ok := encodedImages.Load(key); ok {
		return b.([]byte)
	}
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b = b[:len(b):len(b)] // callers may append: never into a shared array
	encodedImages.Store(key, b)
	return b
}

// testPNG encodes a w×h PNG.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	return memoImage(t, fmt.Sprintf("png %dx%d", w, h), func(buf *bytes.Buffer) error {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(buf, testPattern(w, h))
	})
}

// testJPEG encodes a w×h JPEG.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	return memoImage(t, fmt.Sprintf("jpeg %dx%d", w, h), func(buf *bytes.Buffer) error {
		return jpeg.Encode(buf, testPattern(w, h), &jpeg.Options{Quality: 80})
	})
}

// testGIF encodes a w×h GIF.
func testGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, testPattern(w, h), &gif.Options{NumColors: 16}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testSVG is an SVG document of w×h user units.
func testSVG(w, h int) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"><rect width="%d" height="%d" fill="#3a7"/></svg>`, w, h, w, h, w, h))
}

// testWebP is a real 64×48 lossy WebP (x/image cannot encode WebP), from
// testdata/lossy.webp.
func testWebP(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lossy.webp"))
	if err != nil {
		t.Fatalf("webp fixture: %v", err)
	}
	return b
}

// pngHeaderOnly is a PNG signature + IHDR chunk (valid CRC) declaring w×h,
// with no pixel data: enough for image.DecodeConfig, a bomb for Decode.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}
