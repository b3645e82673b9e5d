package web_test

// Issue 13, defect 1: the web client runs under a Content-Security-Policy
// without inline script. This test drives the client's main views in real
// Chromium and fails on any CSP violation the page reports.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// cspRecorder is installed in every document before the client's scripts:
// it keeps each securitypolicyviolation event the page sees.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + (e.sample ? ' (' + e.sample + ')' : '') + ' at ' + e.sourceFile + ':' + e.lineNumber);
}, true);`

// cspTab opens url in a fresh browser context with the CSP recorder and a
// console listener; console() returns the messages so far.
func (e *env) cspTab(url string, w, h int64) (context.Context, func() []string) {
	e.t.Helper()
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	e.t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute) // a safety net only
	e.t.Cleanup(cancelT)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		e.t.Fatalf("install the CSP recorder: %v", err)
	}
	var mu sync.Mutex
	var msgs []string
	consoleCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	messages := chromedp.Console(consoleCtx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m.String())
			mu.Unlock()
		}
	}()
	e.t.Cleanup(func() { stop(); <-done })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Navigate(url)); err != nil {
		e.t.Fatalf("open %s: %v", url, err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

// checkNoCSPViolations fails on any violation the page recorded or any
// console message about the Content Security Policy.
func checkNoCSPViolations(t *testing.T, ctx context.Context, who string, console func() []string) {
	t.Helper()
	if v := evalJS[[]string](t, ctx, `window.__csp || []`); len(v) > 0 {
		t.Errorf("%s: %d CSP violations: %s", who, len(v), strings.Join(v, "; "))
	}
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("%s: console: %s", who, m)
		}
	}
}

func TestSecurity01_WebClientUnderCSP(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	cid := e.newCanvas(alice, "CSP check", map[uint64]string{bob.ID: "edit"})
	base := "/api/v1/canvases/" + cid
	e.mustAPI(alice.Token, "POST", base+"/anchors", map[string]any{"anchor_name": "Review",
		"location": map[string]any{"x": -30, "y": -20}, "size": map[string]any{"width": 900, "height": 420}}, nil)
	img := e.uploadImage(alice.Token, cid, "revenue-chart.png", chartPNG(600, 400), map[string]any{"title": "Revenue chart",
		"location": map[string]any{"x": 0, "y": 0}, "size": map[string]any{"width": 450, "height": 300}})
	var note map[string]any
	e.mustAPI(alice.Token, "POST", base+"/notes", map[string]any{"text": "EMEA is up 18% on Q2.", "background_color": "#fff1a8",
		"location": map[string]any{"x": 520, "y": 40}, "size": map[string]any{"width": 230, "height": 170}}, &note)
	e.mustAPI(alice.Token, "POST", base+"/connectors", map[string]any{
		"src":        map[string]any{"id": note["id"], "rel_location": map[string]any{"x": 0, "y": 0.5}, "tip": "none"},
		"dst":        map[string]any{"id": img["id"], "rel_location": map[string]any{"x": 1, "y": 0.5}, "tip": "solid-equilateral-triangle"},
		"line_color": "#8b93a7", "line_width": 4, "type": "curve"}, nil)

	// The sign-in page.
	s, sConsole := e.cspTab(e.ts.URL+"/", 1280, 800)
	run(t, s, "sign-in page", chromedp.WaitVisible(chromedp.CSS("#login-email")))

	// Two viewers on the canvas: live, images, notes, connector, cursors.
	a, aConsole := e.cspTab(e.ts.URL+"/c/"+cid+"#token="+alice.Token, 1280, 800)
	waitLive(t, a, "alice")
	b, bConsole := e.cspTab(e.ts.URL+"/c/"+cid+"#token="+bob.Token, 1280, 800)
	waitLive(t, b, "bob")
	waitJS(t, a, "widgets drawn", `!!document.querySelector('.w-image.loaded') && !!document.querySelector('.w-note') && !!document.querySelector('svg.connectors path')`, 10*time.Second)
	moveMouse(t, b, 640, 420)
	waitJS(t, a, "alice sees bob's cursor", `!!document.querySelector('.cursor[data-name="Bob Chen"] svg')`, liveDeadline)
	run(t, a, "settle", chromedp.Sleep(300*time.Millisecond))
	screenshot(t, a, "csp-canvas")

	// The re-crop dialog shows the source render through a blob: URL.
	id := img["id"].(string)
	x, y := center(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, id))
	run(t, a, "select image", chromedp.MouseClickXY(x, y))
	run(t, a, "open re-crop", chromedp.WaitVisible(chromedp.CSS("#fb-recrop")), chromedp.Click(chromedp.CSS("#fb-recrop")))
	waitJS(t, a, "source loaded", `(() => { const i = document.querySelector('.recrop-img'); return !!(i && i.complete && i.naturalWidth); })()`, 10*time.Second)
	screenshot(t, a, "csp-recrop")
	run(t, a, "close re-crop", chromedp.KeyEvent("\x1b"))

	checkNoCSPViolations(t, s, "sign-in page", sConsole)
	checkNoCSPViolations(t, a, "alice", aConsole)
	checkNoCSPViolations(t, b, "bob", bConsole)

	// The recorder does hear a violation: an inline script is refused.
	evalJS[bool](t, a, `(() => { const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.body.append(s); return true; })()`)
	waitJS(t, a, "the violation is recorded", `window.__csp.length > 0 && !window.__inlineRan`, 5*time.Second)
}
