package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/canvus"
	"github.com/coder/websocket"
)

// etagOf reads a response's ETag as a version number.
func etagOf(t testing.TB, r *testResp) uint64 {
	t.Helper()
	tag := r.Header.Get("ETag")
	v, err := strconv.ParseUint(strings.Trim(tag, `"`), 10, 64)
	if err != nil || !strings.HasPrefix(tag, `"`) {
		t.Fatalf("%s: ETag %q, want a quoted version", r, tag)
	}
	return v
}

func TestIfMatchPatchMatchesStaleAndStar(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "ifmatch")
	n := e.createNote(e.Admin, c, map[string]any{"text": "one"})
	path := c.path("/notes/" + n.id())

	g := e.doJSON("GET", path, e.Admin, nil).expect(t, 200)
	v1 := etagOf(t, g)
	if v1 == 0 {
		t.Fatalf("a new note's version is 0")
	}
	if e2 := etagOf(t, e.doJSON("GET", c.path("/widgets/"+n.id()), e.Admin, nil).expect(t, 200)); e2 != v1 {
		t.Fatalf("the generic route's ETag %d differs from %d", e2, v1)
	}

	// Match: stored, new ETag.
	r := e.doJSON("PATCH", path, e.Admin, map[string]any{"text": "two"}, withHeader("If-Match", `"`+strconv.FormatUint(v1, 10)+`"`)).expect(t, 200)
	v2 := etagOf(t, r)
	if v2 <= v1 || r.obj(t).str("text") != "two" {
		t.Fatalf("matching PATCH: version %d -> %d, body %s", v1, v2, r.Body)
	}
	if etagOf(t, e.doJSON("GET", path, e.Admin, nil).expect(t, 200)) != v2 {
		t.Fatalf("GET's ETag is not the PATCH's")
	}

	// Stale: 412, nothing stored, and the log is untouched.
	head := e.Store.HeadSeq(c.ID)
	r = e.doJSON("PATCH", path, e.Admin, map[string]any{"text": "lost"}, withHeader("If-Match", `"`+strconv.FormatUint(v1, 10)+`"`))
	want := "Widget changed since version " + strconv.FormatUint(v1, 10) + " (now " + strconv.FormatUint(v2, 10) + ")"
	r.expectMsg(t, http.StatusPreconditionFailed, want)
	if etagOf(t, r) != v2 {
		t.Fatalf("412 ETag %q, want the current version %d", r.Header.Get("ETag"), v2)
	}
	if got := e.doJSON("GET", path, e.Admin, nil).expect(t, 200).obj(t).str("text"); got != "two" {
		t.Fatalf("after a 412 the text is %q, want two", got)
	}
	if h := e.Store.HeadSeq(c.ID); h != head {
		t.Fatalf("a 412 appended events: head %d -> %d", head, h)
	}
	// Garbage and empty tags match nothing.
	e.doJSON("PATCH", path, e.Admin, map[string]any{"text": "x"}, withHeader("If-Match", `"nope"`)).expect(t, 412)

	// A list matches any of its tags; W/ is accepted; * matches any version.
	r = e.doJSON("PATCH", path, e.Admin, map[string]any{"text": "three"}, withHeader("If-Match", `"1", W/"`+strconv.FormatUint(v2, 10)+`"`)).expect(t, 200)
	v3 := etagOf(t, r)
	r = e.doJSON("PATCH", path, e.Admin, map[string]any{"location": map[string]any{"x": 5, "y": 6}}, withHeader("If-Match", "*")).expect(t, 200)
	if etagOf(t, r) <= v3 {
		t.Fatalf("If-Match * did not store a new version")
	}
	// Without If-Match: last writer wins, as before.
	e.doJSON("PATCH", path, e.Admin, map[string]any{"text": "four"}).expect(t, 200)
	// A missing widget is 404, with or without If-Match.
	e.doJSON("PATCH", c.path("/notes/00000000-0000-0000-0000-000000000000"), e.Admin, map[string]any{"text": "x"}, withHeader("If-Match", "*")).expect(t, 404)
	// Another kind's route is 404 even with a matching tag.
	cur := etagOf(t, e.doJSON("GET", path, e.Admin, nil).expect(t, 200))
	e.doJSON("PATCH", c.path("/anchors/"+n.id()), e.Admin, map[string]any{"anchor_name": "x"}, withHeader("If-Match", strconv.FormatUint(cur, 10))).expect(t, 404)
	// The version is the seq of the widget's last event on the websocket.
	if cur != e.Store.HeadSeq(c.ID) {
		t.Fatalf("version %d is not the seq of the widget's last event (head %d)", cur, e.Store.HeadSeq(c.ID))
	}
}

// Concurrent PATCHes based on the same version: exactly one is stored.
func TestIfMatchConcurrentPatchesExactlyOneWins(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "ifmatch-race")
	n := e.createNote(e.Admin, c, map[string]any{"text": "base"})
	path := c.path("/notes/" + n.id())
	for round := 0; round < 3; round++ {
		v := etagOf(t, e.doJSON("GET", path, e.Admin, nil).expect(t, 200))
		const N = 12
		codes := make([]int, N)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < N; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := `{"text":"writer ` + strconv.Itoa(i) + `"}`
				// Half take the prepared fast path, half the in-writer path (auto_raise).
				if i%2 == 1 {
					body = `{"text":"writer ` + strconv.Itoa(i) + `","auto_raise":true}`
				}
				req, _ := http.NewRequest("PATCH", e.URL+path, strings.NewReader(body))
				req.Header.Set("Private-Token", e.Admin)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("If-Match", `"`+strconv.FormatUint(v, 10)+`"`)
				<-start
				resp, err := e.Client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}(i)
		}
		close(start)
		wg.Wait()
		ok, failed, winner := 0, 0, -1
		for i, code := range codes {
			switch code {
			case 200:
				ok++
				winner = i
			case 412:
				failed++
			}
		}
		if ok != 1 || failed != N-1 {
			t.Fatalf("round %d: %d × 200 and %d × 412 of %d (codes %v), want exactly one 200", round, ok, failed, N, codes)
		}
		if got := e.doJSON("GET", path, e.Admin, nil).expect(t, 200).obj(t).str("text"); got != "writer "+strconv.Itoa(winner) {
			t.Fatalf("round %d: stored %q, want the winner's text", round, got)
		}
	}
}

// PRESENCE relays the widget a viewer is editing and its draft; neither is stored.
func TestIfMatchPresenceCarriesEditing(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "ifmatch-presence")
	n := e.createNote(e.Admin, c, map[string]any{"text": "x"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		u := "ws" + strings.TrimPrefix(e.URL, "http") + c.path("/ws")
		conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {e.Admin}}})
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	a := dial()
	defer a.CloseNow()
	a.Read(ctx) // HELLO
	b := dial()
	defer b.CloseNow()
	b.Read(ctx) // HELLO
	head := e.Store.HeadSeq(c.ID)
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PRESENCE","editing":"`+n.id()+`","draft":"hello wor"}`))
	for {
		_, data, err := b.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(data, &m)
		if m["type"] != "PRESENCE" {
			continue
		}
		if m["editing"] != n.id() || m["draft"] != "hello wor" {
			t.Fatalf("B got %s, want editing and draft", data)
		}
		break
	}
	// Too long a draft is refused with an ERROR, not relayed.
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PRESENCE","editing":"`+n.id()+`","draft":"`+string(bytes.Repeat([]byte("x"), canvus.MaxDraftBytes+1))+`"}`))
	for {
		_, data, err := a.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(`"ERROR"`)) {
			break
		}
	}
	if h := e.Store.HeadSeq(c.ID); h != head {
		t.Fatalf("presence touched the log: head %d -> %d", head, h)
	}
}
