package server

// Regression tests of issue #13's live-stream defects (3, 4, 5, 13): each
// reproduces the attack against a real server on a real port, with real
// websocket and NDJSON clients.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// secClient is an HTTP client whose connections come from the loopback
// address laddr ("" for the default), so that a test can act as several
// client IPs: Linux routes all of 127/8 to lo.
func secClient(laddr string) *http.Client {
	d := &net.Dialer{}
	if laddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(laddr)}
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// secDialWS opens a websocket on path as token ("" anonymous) from laddr.
func secDialWS(ctx context.Context, e *testEnv, path, token, laddr string) (*websocket.Conn, error) {
	h := http.Header{}
	if token != "" {
		h.Set("Private-Token", token)
	}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+path,
		&websocket.DialOptions{HTTPHeader: h, HTTPClient: secClient(laddr)})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(8 << 20)
	return c, nil
}

// secReadJSON reads one websocket message as a JSON object.
func secReadJSON(ctx context.Context, c *websocket.Conn) (map[string]any, []byte, error) {
	_, data, err := c.Read(ctx)
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, data, fmt.Errorf("decode %q: %w", data, err)
	}
	return m, data, nil
}

// secStream is an open NDJSON ?subscribe stream.
type secStream struct {
	resp *http.Response
	r    *bufio.Reader
}

// secSubscribe opens GET path?subscribe as token from laddr. It returns the
// response (its body read and closed) when the status is not 200.
func secSubscribe(ctx context.Context, t testing.TB, e *testEnv, path, token, laddr string) (*secStream, *testResp) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+path+"?subscribe", nil)
	if token != "" {
		req.Header.Set("Private-Token", token)
	}
	resp, err := secClient(laddr).Do(req)
	if err != nil {
		t.Fatalf("subscribe %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, &testResp{Method: "GET", Path: path, Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	st := &secStream{resp: resp, r: bufio.NewReaderSize(resp.Body, 1<<20)}
	t.Cleanup(func() { resp.Body.Close() })
	if _, err := st.r.ReadBytes('\n'); err != nil { // the snapshot line
		t.Fatalf("subscribe %s: first line: %v", path, err)
	}
	return st, nil
}

// TestSecurity03_ReplayBounded: several anonymous `ws?since=0` on a canvas
// with a large event log used to copy the whole retained log into memory
// once per subscriber. Replay now reads the log a page at a time, so the
// heap stays bounded while every client still receives every event. Widget
// fields are bounded too.
func TestSecurity03_ReplayBounded(t *testing.T) {
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	cv := e.createCanvas(alice.Token, "replay")
	e.setLink(alice.Token, cv, "view")
	note := e.createNote(alice.Token, cv, nil)
	np := cv.path("/notes/" + note.id())

	// Oversized fields answer 400 with a Canvus message.
	e.doJSON("PATCH", np, alice.Token, map[string]any{"text": strings.Repeat("x", 256<<10+1)}).expectMsg(t, 400, "too long")
	e.doJSON("PATCH", np, alice.Token, map[string]any{"title": strings.Repeat("x", 4<<10+1)}).expectMsg(t, 400, "too long")
	e.doJSON("POST", cv.path("/notes"), alice.Token, map[string]any{"background_color": strings.Repeat("x", 4<<10+1)}).expectMsg(t, 400, "too long")
	e.doJSON("PATCH", np, alice.Token, map[string]any{"text": strings.Repeat("x", 256<<10)}).expect(t, 200)

	// A log of ~9.6 MiB: 96 events of 100 KiB (the attack used 300 of 1 MiB).
	const events, size = 96, 100 << 10
	for i := 0; i < events; i++ {
		text := fmt.Sprintf("%04d", i) + strings.Repeat("y", size)
		e.doJSON("PATCH", np, alice.Token, map[string]any{"text": text}).expect(t, 200)
	}
	head := e.Store.HeadSeq(cv.ID)

	heap := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := heap()
	// Eight viewers with a replay of the whole log each in flight held
	// ~50 MiB before the fix (what the loopback socket buffers did not
	// take); one page each is ~9 MiB.
	const viewers, bound = 8, 20 << 20

	// The viewers replay from 0 and stall, reading nothing but HELLO.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conns := make([]*websocket.Conn, viewers)
	var wg sync.WaitGroup
	errs := make([]error, viewers)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := secDialWS(ctx, e, cv.path("/ws?since=0"), "", "")
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = c
			m, _, err := secReadJSON(ctx, c)
			if err == nil && m["type"] != "HELLO" {
				err = fmt.Errorf("first message %v, want HELLO", m)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		defer conns[i].CloseNow()
	}
	grew := heap() - base
	t.Logf("heap: base %d MiB, +%d MiB with the viewers stalled after HELLO", base>>20, grew>>20)
	if grew > bound {
		t.Fatalf("heap grew by %d MiB with %d replays of a %d MiB log in flight, want under %d MiB",
			grew>>20, viewers, events*size>>20, bound>>20)
	}

	// Every viewer gets every event, once, in order; halfway they all stall
	// again and the heap is measured again. Then six leave and two read on
	// to the last text.
	seqRE := regexp.MustCompile(`"seq":(\d+)`)
	var half sync.WaitGroup
	half.Add(viewers)
	resume := make(chan struct{})
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stalled := false
			defer func() {
				if !stalled {
					half.Done()
				}
			}()
			errs[i] = func() error {
				for want := uint64(1); want <= head; {
					_, data, err := c.Read(ctx)
					if err != nil {
						return fmt.Errorf("waiting for seq %d: %w", want, err)
					}
					small := len(data) < 4096
					if small && bytes.Contains(data, []byte(`"type":"RESYNC"`)) {
						return fmt.Errorf("RESYNC %s, want the replay", data)
					}
					if small && bytes.Contains(data, []byte(`"type":"VIEWER_`)) {
						continue // VIEWER_JOINED and the like
					}
					i := bytes.Index(data, []byte(`"seq":`))
					sm := seqRE.FindSubmatch(data[max(i, 0):min(len(data), max(i, 0)+32)])
					if i < 0 || sm == nil {
						return fmt.Errorf("message without seq: %.200s", data)
					}
					if got := string(sm[1]); got != fmt.Sprint(want) {
						return fmt.Errorf("seq %s, want %d", got, want)
					}
					if want == head {
						last := fmt.Sprintf(`"text":"%04d`, events-1)
						if !bytes.Contains(data, []byte(last)) {
							return fmt.Errorf("last event lacks %s", last)
						}
					}
					if want == head/2 {
						stalled = true
						half.Done()
						<-resume
						if i >= 2 {
							return nil
						}
					}
					want++
				}
				return nil
			}()
		}()
	}
	half.Wait()
	mid := heap() - base
	close(resume)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
	}
	t.Logf("heap: +%d MiB with the viewers stalled halfway", mid>>20)
	if mid > bound {
		t.Fatalf("heap grew by %d MiB with the replays stalled halfway, want under %d MiB", mid>>20, bound>>20)
	}
}

// TestSecurity04_RevocationEndsStreams: after logout, token deletion, or
// the user being blocked or deleted, open websockets (close 4001) and
// NDJSON streams (EOF) end, and a later change never reaches them. An
// anonymous viewer of a link canvas is cut off (4003 / EOF) when the link
// is turned off.
func TestSecurity04_RevocationEndsStreams(t *testing.T) {
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	cv := e.createCanvas(alice.Token, "revoke")
	note := e.createNote(alice.Token, cv, nil)
	np := cv.path("/notes/" + note.id())

	revokers := []struct {
		name   string
		revoke func(u testUser)
	}{
		{"logout", func(u testUser) {
			e.doJSON("POST", "/api/v1/users/logout", u.Token, nil).expect(t, 200)
		}},
		{"token_deleted", func(u testUser) {
			for _, tk := range e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), e.Admin, nil).expect(t, 200).list(t) {
				e.doJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", u.ID, tk.id()), e.Admin, nil).expect(t, 200)
			}
		}},
		{"user_blocked", func(u testUser) {
			e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), e.Admin, map[string]any{"blocked": true}, 200)
		}},
		{"user_deleted", func(u testUser) {
			e.doJSON("DELETE", fmt.Sprintf("/api/v1/users/%d", u.ID), e.Admin, nil).expect(t, 200)
		}},
	}
	kinds := []string{"websocket", "ndjson_widgets", "ndjson_canvas_list"}
	for _, rv := range revokers {
		for _, kind := range kinds {
			t.Run(rv.name+"/"+kind, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var bob testUser
				if rv.name == "logout" {
					bob = e.createUserPW("bob", false, "bob-password")
					bob.Token = e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": bob.Email, "password": bob.Password}).expect(t, 200).obj(t).str("token")
				} else {
					bob = e.createUser("bob", false)
				}
				e.share(alice.Token, cv, bob.ID, "view")
				secret := e.unique("secret")

				var ws *websocket.Conn
				var st *secStream
				switch kind {
				case "websocket":
					c, err := secDialWS(ctx, e, cv.path("/ws"), bob.Token, "")
					if err != nil {
						t.Fatal(err)
					}
					defer c.CloseNow()
					if m, _, err := secReadJSON(ctx, c); err != nil || m["type"] != "HELLO" {
						t.Fatalf("HELLO: %v %v", m, err)
					}
					ws = c
				case "ndjson_widgets":
					st, _ = secSubscribe(ctx, t, e, cv.path("/widgets"), bob.Token, "")
				case "ndjson_canvas_list":
					st, _ = secSubscribe(ctx, t, e, "/api/v1/canvases", bob.Token, "")
				}
				if st == nil && ws == nil {
					t.Fatal("subscribe refused")
				}

				rv.revoke(bob)
				e.doJSON("GET", "/api/v1/canvases", bob.Token, nil).expect(t, 401)
				// A change the revoked subscriber must not see.
				if kind == "ndjson_canvas_list" {
					e.mustJSON("PATCH", cv.path(""), alice.Token, map[string]any{"name": secret}, 200)
				} else {
					e.mustJSON("PATCH", np, alice.Token, map[string]any{"text": secret}, 200)
				}

				if ws != nil {
					for {
						_, data, err := ws.Read(ctx)
						if err != nil {
							if got := websocket.CloseStatus(err); got != StatusUnauthorized {
								t.Fatalf("websocket ended with %v (status %d), want close %d", err, got, StatusUnauthorized)
							}
							break
						}
						if bytes.Contains(data, []byte(secret)) {
							t.Fatalf("revoked websocket received the later change: %.120s", data)
						}
					}
					return
				}
				rest, err := io.ReadAll(st.r)
				if err != nil {
					t.Fatalf("revoked NDJSON stream did not end: %v", err)
				}
				if bytes.Contains(rest, []byte(secret)) {
					t.Fatalf("revoked NDJSON stream received the later change: %.200s", rest)
				}
			})
		}
	}

	// An anonymous viewer of a link canvas loses it with the link.
	t.Run("link_off", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		e.setLink(alice.Token, cv, "view")
		c, err := secDialWS(ctx, e, cv.path("/ws"), "", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if m, _, err := secReadJSON(ctx, c); err != nil || m["type"] != "HELLO" {
			t.Fatalf("HELLO: %v %v", m, err)
		}
		st, _ := secSubscribe(ctx, t, e, cv.path("/widgets"), "", "")
		if st == nil {
			t.Fatal("anonymous subscribe refused")
		}
		e.setLink(alice.Token, cv, "none")
		secret := e.unique("secret")
		e.mustJSON("PATCH", np, alice.Token, map[string]any{"text": secret}, 200)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				if got := websocket.CloseStatus(err); got != StatusAccessRevoked {
					t.Fatalf("websocket ended with %v, want close %d", err, StatusAccessRevoked)
				}
				break
			}
			if bytes.Contains(data, []byte(secret)) {
				t.Fatalf("cut-off websocket received the later change")
			}
		}
		rest, err := io.ReadAll(st.r)
		if err != nil || bytes.Contains(rest, []byte(secret)) {
			t.Fatalf("cut-off NDJSON stream: err %v, rest %.200s", err, rest)
		}
	})
}

// TestSecurity05_CanvasListStreamNoLeak: the canvas-list stream says nothing
// about a canvas its subscriber cannot see; a canvas it loses is withdrawn
// with only {"id","state":"deleted"}.
func TestSecurity05_CanvasListStreamNoLeak(t *testing.T) {
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, _ := secSubscribe(ctx, t, e, "/api/v1/canvases", bob.Token, "")
	if st == nil {
		t.Fatal("subscribe refused")
	}
	lines := make(chan []byte, 100)
	go func() {
		defer close(lines)
		for {
			l, err := st.r.ReadBytes('\n')
			if err != nil {
				return
			}
			if l = bytes.TrimSpace(l); len(l) > 0 {
				lines <- l
			}
		}
	}()
	// next returns the stream's lines up to and including the first that
	// mentions marker.
	next := func(marker string) [][]byte {
		t.Helper()
		var got [][]byte
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended waiting for %s; got %q", marker, got)
				}
				got = append(got, l)
				if bytes.Contains(l, []byte(marker)) {
					return got
				}
			case <-ctx.Done():
				t.Fatalf("no line mentions %s; got %q", marker, got)
			}
		}
	}
	// sentinel makes a canvas bob can see; its line marks that every
	// earlier change was processed.
	sentinel := func() string {
		s := e.createCanvas(alice.Token, "sentinel")
		e.share(alice.Token, s, bob.ID, "view")
		return s.ID
	}

	// Alice creates and renames a private canvas: bob learns nothing.
	priv := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "private-name-one"}, 200).id()
	e.mustJSON("PATCH", "/api/v1/canvases/"+priv, alice.Token, map[string]any{"name": "private-name-two"}, 200)
	for _, l := range next(sentinel()) {
		if bytes.Contains(l, []byte(priv)) || bytes.Contains(l, []byte("private-name")) {
			t.Fatalf("bob's canvas-list stream leaked alice's private canvas: %s", l)
		}
	}

	// Shared, bob sees it.
	e.share(alice.Token, testCanvas{ID: priv}, bob.ID, "view")
	got := next(priv)
	var shared map[string]any
	json.Unmarshal(got[len(got)-1], &shared)
	if shared["id"] != priv || shared["name"] != "private-name-two" || shared["access"] != "view" {
		t.Fatalf("line for the shared canvas: %s", got[len(got)-1])
	}

	// Unshared, bob gets only its withdrawal, then nothing more about it.
	e.share(alice.Token, testCanvas{ID: priv}, bob.ID, "none")
	got = next(priv)
	var gone map[string]any
	json.Unmarshal(got[len(got)-1], &gone)
	if len(gone) != 2 || gone["id"] != priv || gone["state"] != "deleted" {
		t.Fatalf("line for the unshared canvas: %s, want only {id, state:deleted}", got[len(got)-1])
	}
	e.mustJSON("PATCH", "/api/v1/canvases/"+priv, alice.Token, map[string]any{"name": "private-name-three"}, 200)
	e.doJSON("DELETE", "/api/v1/canvases/"+priv, alice.Token, nil).expect(t, 200)
	for _, l := range next(sentinel()) {
		if bytes.Contains(l, []byte(priv)) || bytes.Contains(l, []byte("private-name")) {
			t.Fatalf("bob's stream mentioned the canvas after losing it: %s", l)
		}
	}
}

// TestSecurity13_StreamCaps: guests are capped per client IP, not by one
// budget shared by every guest, and NDJSON streams count toward the same
// caps as websockets (429 before the stream starts).
func TestSecurity13_StreamCaps(t *testing.T) {
	e := newTestEnv(t, withConfig(func(c *Config) {
		c.MaxWebsocketsPerUser = 3
		c.MaxStreamsPerUser = 3
		c.MaxStreamsPerIP = 3
	}))
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	cv := e.createCanvas(alice.Token, "public")
	e.setLink(alice.Token, cv, "view")
	e.share(alice.Token, cv, bob.ID, "view")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	hello := func(token, laddr string) (*websocket.Conn, error) {
		c, err := secDialWS(ctx, e, cv.path("/ws"), token, laddr)
		if err != nil {
			return nil, err
		}
		m, _, err := secReadJSON(ctx, c)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		if m["type"] != "HELLO" {
			c.CloseNow()
			return nil, fmt.Errorf("first message %v", m)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c, nil
	}
	refused := func(token, laddr string) {
		t.Helper()
		_, err := hello(token, laddr)
		if websocket.CloseStatus(err) != StatusTooManySockets {
			t.Fatalf("websocket over the cap from %s: %v, want close %d", laddr, err, StatusTooManySockets)
		}
	}

	// One guest IP fills its cap...
	for i := 0; i < 3; i++ {
		if _, err := hello("", "127.0.0.2"); err != nil {
			t.Fatalf("guest websocket %d from 127.0.0.2: %v", i, err)
		}
	}
	refused("", "127.0.0.2")
	// ...which does not lock out a guest from another IP.
	if _, err := hello("", "127.0.0.3"); err != nil {
		t.Fatalf("guest websocket from 127.0.0.3 while 127.0.0.2 is at its cap: %v", err)
	}
	if _, r := secSubscribe(ctx, t, e, cv.path("/widgets"), "", "127.0.0.2"); r == nil {
		t.Fatal("NDJSON stream over the cap from 127.0.0.2 was accepted")
	} else {
		r.expectMsg(t, 429, "Too many")
	}

	// NDJSON streams count with websockets: 1 websocket + 2 NDJSON fill the cap.
	for i := 0; i < 2; i++ {
		if st, r := secSubscribe(ctx, t, e, cv.path("/widgets"), "", "127.0.0.3"); st == nil {
			t.Fatalf("guest NDJSON stream %d from 127.0.0.3: %s", i, r)
		}
	}
	if _, r := secSubscribe(ctx, t, e, cv.path("/widgets"), "", "127.0.0.3"); r == nil {
		t.Fatal("a 4th stream from 127.0.0.3 was accepted")
	} else {
		r.expectMsg(t, 429, "Too many")
	}
	refused("", "127.0.0.3")

	// A signed-in user is capped per user, whatever the address.
	sctx, scancel := context.WithCancel(ctx)
	var first *secStream
	for i := 0; i < 3; i++ {
		c := ctx
		if i == 0 {
			c = sctx
		}
		st, r := secSubscribe(c, t, e, "/api/v1/canvases", bob.Token, fmt.Sprintf("127.0.0.%d", 10+i))
		if st == nil {
			t.Fatalf("bob's NDJSON stream %d: %s", i, r)
		}
		if i == 0 {
			first = st
		}
	}
	if _, r := secSubscribe(ctx, t, e, cv.path("/widgets"), bob.Token, "127.0.0.20"); r == nil {
		t.Fatal("bob's 4th stream was accepted")
	} else {
		r.expectMsg(t, 429, "Too many")
	}
	refused(bob.Token, "127.0.0.21")
	// Alice is not affected, and a closed stream gives its slot back.
	if _, err := hello(alice.Token, "127.0.0.2"); err != nil {
		t.Fatalf("alice's websocket: %v", err)
	}
	scancel()
	first.resp.Body.Close()
	e.eventually("bob's slot freed", func() bool {
		st, _ := secSubscribe(ctx, t, e, "/api/v1/canvases", bob.Token, "127.0.0.22")
		return st != nil
	})
}
