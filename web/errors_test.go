package web_test

// Issue 18, "Errors surface", client side: a server string never reaches
// CSS unchecked, and remote cursors expire.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// TestStoredColourNeverReachesCSS: a note whose stored background_color is
// url(...) (written into the store directly: the API refuses it since
// issue 18), and a connector whose line_color is one, make the browser
// request nothing from that URL and render with the default colours. The
// page's CSP is bypassed, so that the client itself is what is tested (CSP
// would block a cross-origin image; a proxy that drops the header would not).
func TestStoredColourNeverReachesCSS(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	cid := e.newCanvas(alice, "colours", nil)
	var hits atomic.Int64
	var paths atomic.Value
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		paths.Store(r.URL.Path)
		w.Header().Set("Content-Type", "image/png")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(evil.Close)

	var a, b, conn struct{ ID string }
	e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/notes", map[string]any{"text": "hostile colour", "location": map[string]any{"x": 100, "y": 100}, "size": map[string]any{"width": 200, "height": 150}}, &a)
	e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/notes", map[string]any{"text": "other", "location": map[string]any{"x": 500, "y": 100}, "size": map[string]any{"width": 200, "height": 150}}, &b)
	e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/connectors", map[string]any{"src": map[string]any{"id": a.ID}, "dst": map[string]any{"id": b.ID}}, &conn)
	// The API refuses the value...
	if code := e.api(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+a.ID, map[string]any{"background_color": "url(" + evil.URL + "/api.png)"}, nil); code != http.StatusBadRequest {
		t.Fatalf("PATCH background_color url(...) = %d, want 400", code)
	}
	// ...so it is written as an older server (or a restored backup) could hold it.
	set := func(id, field, value string) {
		err := e.st.Write(func(tx *store.Tx) error {
			w, err := tx.Widget(cid, id)
			if err != nil {
				return err
			}
			w.Props[field] = value
			return tx.UpdateWidget(w, store.EvWidgetUpdated, nil)
		})
		if err != nil {
			t.Fatalf("store %s: %v", field, err)
		}
	}
	set(a.ID, "background_color", "url("+evil.URL+"/note.png)")
	set(a.ID, "text_color", "red;background:url("+evil.URL+"/text.png)")
	set(b.ID, "background_color", "#fff1a8;background-image:url("+evil.URL+"/b.png)")
	set(conn.ID, "line_color", "url("+evil.URL+"/line.svg#p)")

	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelT)
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(e.ts.URL+"/c/"+cid+"#token="+alice.Token)); err != nil {
		t.Fatalf("open the canvas: %v", err)
	}
	waitLive(t, ctx, "alice")
	waitJS(t, ctx, "notes and connector drawn", fmt.Sprintf(`!!document.querySelector('.w-note[data-id=%q]') && !!document.querySelector('.w-note[data-id=%q]') && !!document.querySelector('path.conn-line')`, a.ID, b.ID), 10*time.Second)
	// Give any image request time to leave (they start on style recalc).
	run(t, ctx, "settle", chromedp.Sleep(time.Second))

	style := func(id string) map[string]string {
		return evalJS[map[string]string](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector('.w-note[data-id=%q]'); const cs = getComputedStyle(el);
			return {bg: cs.backgroundColor, image: cs.backgroundImage, color: cs.color, inline: el.getAttribute('style') || ''}; })()`, id))
	}
	sa, sb := style(a.ID), style(b.ID)
	if sa["bg"] != "rgb(255, 255, 255)" || sa["image"] != "none" {
		t.Errorf("note with url(...) background: computed background %q, image %q; want the default white and none (inline style %q)", sa["bg"], sa["image"], sa["inline"])
	}
	if sb["bg"] != "rgb(255, 255, 255)" || sb["image"] != "none" {
		t.Errorf("note with an injected declaration: computed background %q, image %q; want the default white and none (inline style %q)", sb["bg"], sb["image"], sb["inline"])
	}
	for _, s := range []map[string]string{sa, sb} {
		if strings.Contains(s["inline"], "url(") {
			t.Errorf("a server string reached the inline style: %q", s["inline"])
		}
	}
	if stroke := evalJS[string](t, ctx, `document.querySelector('path.conn-line').getAttribute('stroke')`); !strings.HasPrefix(stroke, "#") || strings.Contains(stroke, "url") {
		t.Errorf("connector stroke = %q, want a hex colour", stroke)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the browser made %d requests to the URL in a stored colour (last %v); want none", n, paths.Load())
	}
}

// TestRemoteCursorExpires: on canvases with over 100 viewers the server
// announces no leaves, so a departed viewer's cursor would stay. The client
// drops a cursor after 10 s without a presence update. Bob's websocket stays
// open (no leave is sent), his cursor appears, then goes; he is still listed
// as a viewer; a new presence brings the cursor back.
func TestRemoteCursorExpires(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	cid := e.newCanvas(alice, "cursors", map[uint64]string{bob.ID: "view"})

	ctx := e.tab(e.ts.URL+"/c/"+cid+"#token="+alice.Token, 1280, 800)
	waitLive(t, ctx, "alice")

	wctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wsURL := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/api/v1/canvases/" + cid + "/ws"
	c, _, err := websocket.Dial(wctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"canvasd.v1", "token." + bob.Token}})
	if err != nil {
		t.Fatalf("bob's websocket: %v", err)
	}
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	var readErr atomic.Value
	go func() { // drain what the server sends bob
		for {
			if _, _, err := c.Read(wctx); err != nil {
				readErr.Store(err.Error())
				return
			}
		}
	}()
	presence := func(x, y float64) {
		data, _ := json.Marshal(map[string]any{"type": "PRESENCE", "cursor": map[string]float64{"x": x, "y": y}, "selection": []string{}})
		if err := c.Write(wctx, websocket.MessageText, data); err != nil {
			t.Fatalf("bob's presence: %v", err)
		}
	}
	const bobCursor = `!!document.querySelector('.cursor[data-name="Bob Chen"]')`
	const bobListed = `!!document.querySelector('#viewers .avatar[data-name="Bob Chen"]')`
	waitJS(t, ctx, "alice lists bob", bobListed, liveDeadline)
	presence(200, 150)
	waitJS(t, ctx, "alice sees bob's cursor", bobCursor, liveDeadline)
	// No further presence: the cursor goes (10 s, with slack for -race).
	waitJS(t, ctx, "bob's idle cursor expires", "!"+bobCursor, 20*time.Second)
	if v := readErr.Load(); v != nil {
		t.Fatalf("bob's websocket closed (%v): the cursor must expire with no leave", v)
	}
	if !evalJS[bool](t, ctx, bobListed) {
		t.Errorf("bob, still connected, is no longer listed as a viewer")
	}
	presence(300, 200)
	waitJS(t, ctx, "bob's cursor is back after a new presence", bobCursor, liveDeadline)
}
