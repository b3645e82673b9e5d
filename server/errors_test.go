package server

// Issue 18, "Errors surface": a store read that fails answers 500 with its
// cause in the request log (never 200 and an empty list), and colours are
// validated against the Canvus reference's format.

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/canvasd/canvasd/server/canvus"
	"github.com/rs/zerolog"
)

// lockedBuffer is a bytes.Buffer the server's logger may write from many
// goroutines while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStoreReadErrorsAnswer500 closes the store underneath the running
// server (a real read failure: every read transaction then fails with
// bbolt's "database not open"); the tokens and the canvas are already in
// the auth cache, so requests reach their handlers. Every list route must
// answer 500 {"msg"}, with the cause in the request log.
func TestStoreReadErrorsAnswer500(t *testing.T) {
	var logs lockedBuffer
	e := newTestEnv(t, func(o *testEnvOpts) { o.log = zerolog.New(&logs) })
	alice := e.createUser("alice", false)
	cv := e.createCanvas(alice.Token, "errors")
	e.createNote(alice.Token, cv, nil)
	routes := []string{
		"/api/v1/canvases",
		"/api/v1/canvases?subscribe",
		"/api/v1/canvas-folders",
		"/api/v1/users",
		"/api/v1/users/" + strconv.FormatUint(alice.ID, 10) + "/access-tokens",
		cv.path("/widgets"),
		cv.path("/widgets?subscribe"),
		cv.path("/notes"),
		cv.path("/notes?subscribe"),
		cv.path("/anchors"),
		cv.path("/connectors"),
		cv.path("/images"),
	}
	tokenFor := func(p string) string {
		if strings.HasPrefix(p, "/api/v1/users") {
			return e.Admin
		}
		return alice.Token
	}
	// Warm the auth cache (token → user, canvas sharing) while the store
	// is open; the lists are not empty.
	for _, p := range routes {
		if strings.Contains(p, "subscribe") {
			continue
		}
		r := e.doJSON("GET", p, tokenFor(p), nil).expect(t, http.StatusOK)
		if p != cv.path("/anchors") && p != cv.path("/connectors") && p != cv.path("/images") && len(r.list(t)) == 0 {
			t.Fatalf("%s: empty list before the failure", r)
		}
	}
	if err := e.Store.Close(); err != nil {
		t.Fatalf("close the store: %v", err)
	}
	for _, p := range routes {
		r := e.doJSON("GET", p, tokenFor(p), nil)
		if r.Status != http.StatusInternalServerError {
			t.Errorf("%s: a failed store read must answer 500, not %d", r, r.Status)
			continue
		}
		r.expect(t, http.StatusInternalServerError)
	}
	if n := strings.Count(logs.String(), "database not open"); n < len(routes) {
		t.Errorf("the request log names the cause (\"database not open\") %d times, want at least %d:\n%s", n, len(routes), logs.String())
	}
}

// TestWidgetColoursValidated: background_color, text_color and line_color
// take the reference's hex colours (any case, with or without alpha) and
// refuse anything else with 400 {"msg"}, on create and on patch.
func TestWidgetColoursValidated(t *testing.T) {
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	cv := e.createCanvas(alice.Token, "colours")
	a := e.createNote(alice.Token, cv, nil)
	b := e.createNote(alice.Token, cv, nil)
	conn := e.mustJSON("POST", cv.path("/connectors"), alice.Token, map[string]any{
		"src": map[string]any{"id": a.id()}, "dst": map[string]any{"id": b.id()}}, http.StatusOK)

	good := []string{"#ffffff", "#FFFFFF", "#e7e7f2ff", "#E7E7F2FF", "#FF0000", "#abc", "#abcd", "#00000000"}
	bad := []string{"url(http://evil.example/x.png)", "red", "red;background:url(http://evil.example/)", "#fffff", "#ggggggff",
		"#ffffff;x", " #ffffff", "#ffffff ", "", "#", "ffffff", "#ffffffff0", "expression(alert(1))", "var(--x)"}
	for _, c := range good {
		e.doJSON("PATCH", cv.path("/notes/"+a.id()), alice.Token, map[string]any{"background_color": c, "text_color": c}).expect(t, http.StatusOK)
		got := e.doJSON("GET", cv.path("/notes/"+a.id()), alice.Token, nil).expect(t, http.StatusOK).obj(t)
		if got.str("background_color") != c || got.str("text_color") != c {
			t.Errorf("colour %q: stored %q / %q", c, got.str("background_color"), got.str("text_color"))
		}
		e.doJSON("PATCH", cv.path("/connectors/"+conn.id()), alice.Token, map[string]any{"line_color": c}).expect(t, http.StatusOK)
		e.doJSON("POST", cv.path("/notes"), alice.Token, map[string]any{"background_color": c}).expect(t, http.StatusOK)
	}
	for _, c := range bad {
		e.doJSON("PATCH", cv.path("/notes/"+a.id()), alice.Token, map[string]any{"background_color": c}).expectMsg(t, http.StatusBadRequest, "background_color")
		e.doJSON("PATCH", cv.path("/notes/"+a.id()), alice.Token, map[string]any{"text_color": c}).expectMsg(t, http.StatusBadRequest, "text_color")
		e.doJSON("PATCH", cv.path("/connectors/"+conn.id()), alice.Token, map[string]any{"line_color": c}).expectMsg(t, http.StatusBadRequest, "line_color")
		e.doJSON("POST", cv.path("/notes"), alice.Token, map[string]any{"text": "x", "background_color": c}).expectMsg(t, http.StatusBadRequest, "background_color")
		e.doJSON("POST", cv.path("/connectors"), alice.Token, map[string]any{
			"src": map[string]any{"id": a.id()}, "dst": map[string]any{"id": b.id()}, "line_color": c}).expectMsg(t, http.StatusBadRequest, "line_color")
	}
	e.doJSON("PATCH", cv.path("/notes/"+a.id()), alice.Token, map[string]any{"background_color": 7}).expectMsg(t, http.StatusBadRequest, "background_color")
	// Nothing bad was stored.
	for _, w := range e.doJSON("GET", cv.path("/widgets"), alice.Token, nil).expect(t, http.StatusOK).list(t) {
		for _, k := range []string{"background_color", "text_color", "line_color"} {
			if v, ok := w[k]; ok && !canvus.ValidColor(w.str(k)) {
				t.Errorf("widget %s stored %s = %v", w.id(), k, v)
			}
		}
	}
}
