package server

// Security regression tests of the edge: deadlines, per-IP limits, metric
// labels, trusted proxies, the rate limiter's memory and fetch error texts
// (issue #13, defects 6, 8 and 9's first half, and the fetch note).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
)

// slowBody sends head (request line and headers, without the blank line)
// with a Content-Length of total, then the body one byte every 100 ms. It
// stops when the server closes the connection, and returns how many body
// bytes it had sent by then (total when the server never closed it).
func slowBody(t *testing.T, e *testEnv, head string, total int) int {
	t.Helper()
	conn, err := net.Dial("tcp", e.HTTP.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "%s\r\nContent-Length: %d\r\n\r\n", head, total); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn) // returns at EOF or reset: the server hung up
		close(closed)
	}()
	sent := 0
	for sent < total {
		select {
		case <-closed:
			return sent
		default:
		}
		if _, err := conn.Write([]byte{'x'}); err != nil {
			return sent
		}
		sent++
		time.Sleep(100 * time.Millisecond)
	}
	// The whole body went out: give a close that is on its way a moment.
	select {
	case <-closed:
		return sent - 1
	case <-time.After(200 * time.Millisecond):
	}
	return sent
}

func TestSecurity06_NoDeadlineEscape(t *testing.T) {
	e := newTestEnv(t, withConfig(func(c *Config) { c.RouteTimeout = time.Second }))
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "slow")
	e.setLink(owner.Token, cv, "edit")
	host := "Host: " + e.HTTP.Listener.Addr().String()

	// 60 bytes at 10 a second take 6 s; the route deadline is 1 s (+5 s to
	// write). Each of these is anonymous and must be cut off mid-body.
	const total = 60
	attacks := map[string]string{
		"POST with ?subscribe":           "POST " + cv.path("/notes") + "?subscribe=1 HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json",
		"GET with Upgrade: websocket":    "GET " + cv.path("/widgets") + " HTTP/1.1\r\n" + host + "\r\nUpgrade: websocket",
		"POST to /batch-digitize":        "POST /api/canvas/" + cv.ID + "/images/batch-digitize HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json",
		"POST /batch-digitize, no route": "POST " + cv.path("/notes/batch-digitize") + " HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json",
		"GET ?subscribe, slow body":      "GET " + cv.path("/notes") + "?subscribe HTTP/1.1\r\n" + host,
	}
	for name, head := range attacks {
		if sent := slowBody(t, e, head, total); sent >= total {
			t.Errorf("%s: the server read the whole slow body (%d bytes) instead of cutting it off at the route deadline", name, sent)
		}
	}

	// A real, authorised stream still outlives the route deadline: an
	// anonymous ?subscribe of a link-shared canvas delivers a change made
	// after the deadline has passed.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+cv.path("/notes")+"?subscribe", nil)
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	lines := bufio.NewReader(resp.Body)
	if _, err := lines.ReadBytes('\n'); err != nil {
		t.Fatalf("first line: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // past the 1 s read deadline
	note := e.createNote(owner.Token, cv, map[string]any{"text": "after the deadline"})
	for {
		l, err := lines.ReadBytes('\n')
		if err != nil {
			t.Fatalf("the stream ended at the route deadline: %v", err)
		}
		if strings.Contains(string(l), note.id()) {
			break
		}
	}
}

func TestSecurity06_AnonymousConnectionCap(t *testing.T) {
	e := newTestEnv(t, withConfig(func(c *Config) { c.MaxAnonConnsPerIP = 3 }))
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "capped")
	e.setLink(owner.Token, cv, "edit")
	host := "Host: " + e.HTTP.Listener.Addr().String()

	// Three anonymous requests held open by slow bodies fill the cap.
	var conns []net.Conn
	for range 3 {
		conn, err := net.Dial("tcp", e.HTTP.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\n%s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", cv.path("/notes"), host)
		conns = append(conns, conn)
	}
	e.eventually("three anonymous requests in progress", func() bool { return e.Srv.Anon.Count("127.0.0.1") == 3 })

	uncrop := cv.path("/images/00000000-0000-0000-0000-000000000000/uncrop")
	e.doJSON("POST", uncrop, "", map[string]any{"extend_left": 10}).expect(t, http.StatusTooManyRequests)
	// An invalid token is still anonymous; a valid one is not capped.
	e.doJSON("POST", uncrop, "not-a-token", map[string]any{"extend_left": 10}).expect(t, http.StatusTooManyRequests)
	e.doJSON("GET", cv.path(""), owner.Token, nil).expect(t, 200)

	for _, c := range conns {
		c.Close()
	}
	e.eventually("the slow requests to end", func() bool { return e.Srv.Anon.Count("127.0.0.1") == 0 })
	e.doJSON("GET", cv.path(""), "", nil).expect(t, 200)
}

// httpSeries parses the canvasd_http_request_duration_seconds_count lines
// of a /metrics body into their method and route labels.
var countLine = regexp.MustCompile(`(?m)^canvasd_http_request_duration_seconds_count\{([^}]*)\}`)
var labelRe = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func httpSeries(body string) []map[string]string {
	var out []map[string]string
	for _, m := range countLine.FindAllStringSubmatch(body, -1) {
		l := map[string]string{}
		for _, kv := range labelRe.FindAllStringSubmatch(m[1], -1) {
			l[kv[1]] = kv[2]
		}
		out = append(out, l)
	}
	return out
}

func TestSecurity08_MetricLabelsBounded(t *testing.T) {
	e := newTestEnv(t)
	before := httpSeries(string(e.do("GET", "/metrics", "", nil, "").expect(t, 200).Body))

	for i := range 300 {
		method := fmt.Sprintf("X%dFOO", i)
		path := fmt.Sprintf("/random-%d/%x", i, i*7919)
		if i%2 == 1 {
			path = fmt.Sprintf("/api/v1/canvases/%d/nothing", i)
		}
		req, err := http.NewRequest(method, e.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	after := httpSeries(string(e.do("GET", "/metrics", "", nil, "").expect(t, 200).Body))
	if grew := len(after) - len(before); grew > 10 {
		t.Errorf("300 requests with invented methods and paths added %d HTTP series (want a handful at most)", grew)
	}
	known := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "other": true}
	routes := map[string]bool{"unmatched": true}
	for _, r := range e.Srv.Engine().Routes() {
		routes[r.Path] = true
	}
	for _, l := range after {
		if !known[l["method"]] {
			t.Fatalf("method label %q is not a known method", l["method"])
		}
		if !routes[l["route"]] {
			t.Fatalf("route label %q is not a route", l["route"])
		}
	}

	// Behind a token.
	et := newTestEnv(t, withConfig(func(c *Config) { c.MetricsToken = "metrics-secret-123" }))
	et.do("GET", "/metrics", "", nil, "").expect(t, http.StatusUnauthorized)
	et.do("GET", "/metrics", "", nil, "", withHeader("Authorization", "Bearer wrong")).expect(t, http.StatusUnauthorized)
	et.do("GET", "/metrics", et.Admin, nil, "").expect(t, http.StatusUnauthorized) // a user token is not the metrics token
	ok := et.do("GET", "/metrics", "", nil, "", withHeader("Authorization", "Bearer metrics-secret-123")).expect(t, 200)
	if !strings.Contains(string(ok.Body), "canvasd_http_request_duration_seconds") {
		t.Fatalf("metrics body: %.300s", ok.Body)
	}

	// Only on the admin listener.
	ea := newTestEnv(t, withConfig(func(c *Config) { c.MetricsAdminOnly = true }))
	ea.do("GET", "/metrics", "", nil, "").expect(t, http.StatusNotFound)
	admin := httptest.NewServer(ea.Srv.MetricsHandler())
	defer admin.Close()
	resp, err := http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "canvasd_http_request_duration_seconds") {
		t.Fatalf("admin listener /metrics: %d %.300s", resp.StatusCode, b)
	}
}

func TestSecurity09_ForwardedForNotTrusted(t *testing.T) {
	attempt := func(e *testEnv, cv testCanvas) (limited int) {
		path := cv.path("/images/00000000-0000-0000-0000-000000000000/uncrop")
		for i := range 6 {
			fake := fmt.Sprintf("203.0.113.%d", i+1)
			r := e.doJSON("POST", path, "", map[string]any{"extend_left": 10},
				withHeader("X-Forwarded-For", fake), withHeader("X-Real-IP", fake))
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	cfg := func(trusted []string) testEnvOption {
		return withConfig(func(c *Config) { c.ExpensivePerMinute = 2; c.TrustedProxies = trusted })
	}

	// Default: no proxy is trusted, so the six requests share 127.0.0.1's
	// budget of two.
	e := newTestEnv(t, cfg(nil))
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "public")
	e.setLink(owner.Token, cv, "edit")
	if n := attempt(e, cv); n != 4 {
		t.Fatalf("%d of 6 anonymous requests with forged X-Forwarded-For were limited, want 4", n)
	}

	// Behind a trusted proxy the header names the client.
	et := newTestEnv(t, cfg([]string{"127.0.0.1"}))
	owner = et.createUser("owner", false)
	cv = et.createCanvas(owner.Token, "public")
	et.setLink(owner.Token, cv, "edit")
	if n := attempt(et, cv); n != 0 {
		t.Fatalf("%d of 6 requests from distinct clients behind a trusted proxy were limited, want 0", n)
	}
}

func TestSecurityFetchErrorsHideResolver(t *testing.T) {
	const host = "images.unresolvable.example"
	failing := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("network unreachable")
	}}
	e := newTestEnv(t, withConfig(func(c *Config) { c.FetchAllowHosts = []string{host} }))
	e.Srv.Fetcher.Resolver = failing
	e.Srv.Fetcher.Build()
	u := e.createUser("fetcher", false)

	r := e.doJSON("POST", "/v1/remove-background", "", map[string]any{"image_url": "http://" + host + "/a.png", "response_type": "json"},
		withHeader("Authorization", "Bearer "+u.Token)).expect(t, http.StatusUnprocessableEntity)
	var body struct {
		Msg string `json:"error_message"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Msg != "image_url: could not resolve host" {
		t.Fatalf("error_message %q, want %q", body.Msg, "image_url: could not resolve host")
	}

	_, err := e.Srv.Fetcher.Fetch(context.Background(), "http://"+host+"/b.png")
	if err == nil || err.Error() != "fetch_failed: could not resolve host" {
		t.Fatalf("Fetch error %v, want fetch_failed: could not resolve host", err)
	}
	// Other network errors name no address either.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	f := core.NewFetcher([]string{"127.0.0.1"}, 1<<20)
	f.AllowAddr = alsoAllow(addr)
	f.Build()
	_, err = f.Fetch(context.Background(), "http://"+addr+"/c.png")
	if err == nil || strings.Contains(err.Error(), "127.0.0.1") || !strings.HasPrefix(err.Error(), "fetch_failed: ") {
		t.Fatalf("Fetch error %v: want fetch_failed without an address", err)
	}
}
