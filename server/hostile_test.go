package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/rs/zerolog"
)

// pngHeader returns a PNG whose IHDR claims w×h pixels (no pixel data).
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func multipartBody(t testing.TB, parts map[string][]byte, filenames map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, data := range parts {
		var w io.Writer
		var err error
		if fn, ok := filenames[name]; ok {
			w, err = mw.CreateFormFile(name, fn)
		} else {
			w, err = mw.CreateFormField(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (e *liveEnv) upload(canvas string, parts map[string][]byte, filenames map[string]string) (int, []byte) {
	e.t.Helper()
	ct, body := multipartBody(e.t, parts, filenames)
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/canvases/"+canvas+"/images", bytes.NewReader(body))
	req.Header.Set("Private-Token", e.token)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestHostileHugePNGHeaderRefusedWithoutLargeAllocation(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	bomb := pngHeader(60000, 60000)
	e.upload(cv, map[string][]byte{"data": bomb}, map[string]string{"data": "bomb.png"}) // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code, body := e.upload(cv, map[string][]byte{"data": bomb}, map[string]string{"data": "bomb.png"})
	runtime.ReadMemStats(&after)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "60000x60000") {
		t.Fatalf("60000x60000 PNG: %d %s, want 400 naming the size", code, body)
	}
	// Decoding would need 14.4 GB; the whole request may allocate a few MB at most.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", grew)
	}
	if ws := e.mustJSONList("/api/v1/canvases/" + cv + "/images"); len(ws) != 0 {
		t.Fatalf("the refused image was stored: %v", ws)
	}
}

func (e *liveEnv) mustJSONList(path string) []any {
	e.t.Helper()
	code, b := e.do("GET", path, "")
	if code != 200 {
		e.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	var l []any
	if err := jsonUnmarshal(b, &l); err != nil {
		e.t.Fatal(err)
	}
	return l
}

func TestHostileOversizedBodies413(t *testing.T) {
	e := newLiveEnv(t, server.Config{MaxBodyBytes: 64 << 10}, store.Options{}, 0)
	cv := e.canvas()
	code, body := e.upload(cv, map[string][]byte{"data": bytes.Repeat([]byte{0x89}, 200<<10)}, map[string]string{"data": "big.png"})
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("200 KiB upload with a 64 KiB limit: %d %s, want 413", code, body)
	}
	big := `{"text":"` + strings.Repeat("x", 2<<20) + `"}`
	if code, body := e.do("POST", "/api/v1/canvases/"+cv+"/notes", big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB JSON body: %d %.200s, want 413", code, body)
	}
	// The uncrop dialect answers 413 too, in its own error shape.
	ct, mb := multipartBody(t, map[string][]byte{"image_file": bytes.Repeat([]byte{1}, 200<<10)}, map[string]string{"image_file": "x.jpg"})
	req, _ := http.NewRequest("POST", e.http.URL+"/uncrop/v1", bytes.NewReader(mb))
	req.Header.Set("x-api-key", e.token)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("uncrop oversized: %d %s", resp.StatusCode, b)
	}
}

func TestHostileFilenameEscapedInContentDisposition(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	png := gradientPNG(t, 4, 3)
	for _, name := range []string{"evil\".png", "a\r\nSet-Cookie: x=1.png", "../../etc/passwd.png", "dir\\sub/ünï.png"} {
		code, body := e.upload(cv, map[string][]byte{"data": png, "json": []byte(`{"original_filename":` + jsonString(name) + `}`)}, map[string]string{"data": "x.png"})
		if code != 200 {
			t.Fatalf("upload %q: %d %s", name, code, body)
		}
		var w map[string]any
		jsonUnmarshal(body, &w)
		req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/canvases/"+cv+"/images/"+w["id"].(string)+"/download", nil)
		req.Header.Set("Private-Token", e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		if resp.Header.Get("Set-Cookie") != "" || strings.ContainsAny(cd, "\r\n") {
			t.Fatalf("%q: header injection: %q", name, cd)
		}
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" {
			t.Fatalf("%q: content-disposition %q does not parse: %v", name, cd, err)
		}
		fn := params["filename"]
		if strings.ContainsAny(fn, "/\\\"\r\n") || fn == "" {
			t.Fatalf("%q: filename %q is not safe", name, fn)
		}
	}
}

func TestHostileSlowlorisHeadersTimeOut(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := server.NewHub(st, 0)
	srv := server.New(server.Config{ReadHeaderTimeout: 300 * time.Millisecond}, st, h, zerolog.Nop())
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = srv.NewHTTPServer()
	ts.Start()
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET /api/v1/server-info HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	done := make(chan error, 1)
	go func() {
		// Keep dribbling one byte at a time; the server must still cut us off.
		for i := 0; i < 100; i++ {
			if _, err := conn.Write([]byte("a")); err != nil {
				done <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		done <- nil
	}()
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server never closed a connection whose headers never ended")
	}
}

func TestHostileTokenNeverLogged(t *testing.T) {
	var logBuf syncBuffer
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.NewHub(st, 0)
	srv := server.New(server.Config{}, st, h, zerolog.New(&logBuf))
	tok, _, _ := server.Bootstrap(st, "very-secret-token-value-123")
	ts := httptest.NewServer(srv.Handler())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
		h.Close(ctx)
		st.Close()
	}()
	reqs := []*http.Request{}
	add := func(method, path, body string, hdr map[string]string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		reqs = append(reqs, req)
	}
	add("GET", "/api/v1/canvases", "", map[string]string{"Private-Token": tok})
	add("GET", "/api/v1/canvases?private_token="+tok, "", map[string]string{"Cookie": server.SessionCookie + "=" + tok})
	add("POST", "/api/v1/users/login", `{"token":"`+tok+`"}`, nil)
	add("POST", "/api/canvas/x/images/y/recrop", `{}`, map[string]string{"Authorization": "Bearer " + tok})
	add("POST", "/uncrop/v1", ``, map[string]string{"x-api-key": tok})
	add("GET", "/api/v1/canvases", "", map[string]string{"Private-Token": tok + "-wrong"})
	for _, r := range reqs {
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out := logBuf.String()
	if !strings.Contains(out, `"request_id"`) || !strings.Contains(out, `"route"`) {
		t.Fatalf("request log lines missing: %s", out)
	}
	if strings.Contains(out, "very-secret-token") {
		t.Fatalf("a token reached the log:\n%s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHostileSaturatedServerAnswers503(t *testing.T) {
	e := newLiveEnv(t, server.Config{MaxConcurrentOps: 1, OpWait: time.Millisecond}, store.Options{}, 0)
	img := gradientPNG(t, 1200, 800)
	ct, body := multipartBody(t, map[string][]byte{"image_file": img, "extend_left": []byte("600"), "extend_right": []byte("600")},
		map[string]string{"image_file": "p.png"})
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.http.URL+"/uncrop/v1", bytes.NewReader(body))
			req.Header.Set("x-api-key", e.token)
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
				codes <- -503
				return
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	if seen[200] == 0 || seen[503] == 0 || len(seen) != 2 {
		t.Fatalf("8 concurrent uncrops with one slot: %v, want some 200 and some 503 with Retry-After", seen)
	}
}
