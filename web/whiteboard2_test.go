package web_test

// Issue 16, the second whiteboard slice: connectors, offline edits and
// reconnect, anchors, and digitize results, each driven in real Chromium
// against a real server (helpers in whiteboard_test.go and e2e_test.go).

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// wbNet decides what the page's API requests meet while interception is on:
// 0 lets a request through, -1 fails it as a dropped network would, and an
// HTTP status answers it with that status.
type wbNet func(method, url string) int

// wbIntercept pauses the page's /api/ requests through the Fetch domain and
// answers each as decide says. The returned stop lets every request through again.
func wbIntercept(t *testing.T, ctx context.Context, decide wbNet) (stop func()) {
	t.Helper()
	var on atomic.Bool
	on.Store(true)
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	events := chromedp.Events(lctx, fetch.RequestPaused)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mode := 0
			if on.Load() {
				mode = decide(ev.Request.Method, ev.Request.URL)
			}
			switch {
			case mode == 0:
				chromedp.Call(lctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			case mode < 0:
				chromedp.Call(lctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
			default:
				chromedp.Call(lctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: int64(mode),
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(`{"msg":"injected failure"}`)})
			}
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/*"}}}); err != nil {
		t.Fatalf("fetch.enable: %v", err)
	}
	return func() {
		on.Store(false)
		if _, err := chromedp.Call(ctx, fetch.Disable, struct{}{}); err != nil {
			t.Fatalf("fetch.disable: %v", err)
		}
	}
}

// wbWait polls the server for up to d (offline edits wait for the reconnect).
func wbWait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen on the server within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) wbOfType(token, cid, typ string) []map[string]any {
	var out []map[string]any
	for _, w := range e.wbWidgets(token, cid) {
		if w["widget_type"] == typ {
			out = append(out, w)
		}
	}
	return out
}

func wbEnd(w map[string]any, end string) string {
	m, _ := w[end].(map[string]any)
	s, _ := m["id"].(string)
	return s
}

// wbOpenAll is wbOpen for a canvas with connectors (drawn as SVG paths, not .widget elements).
func (e *env) wbOpenAll(t *testing.T, token, cid string) context.Context {
	t.Helper()
	ctx, console := e.cspTab(e.ts.URL+"/c/"+cid+"#token="+token, 1280, 800)
	t.Cleanup(func() { checkNoCSPViolations(t, ctx, "viewer", console) })
	waitLive(t, ctx, "viewer")
	waitJS(t, ctx, "widgets and connectors drawn", `(() => { const ws = window.__canvasd.state().widgets; const c = ws.filter(w => w.widget_type === 'Connector').length;
		return !window.__canvasd.view.loading && ws.length > 0 && ws.length - c === document.querySelectorAll('.widget').length && c === document.querySelectorAll('path.conn-line').length; })()`, 5*time.Second)
	return ctx
}

func TestWhiteboard2(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)

	t.Run("connector drawn with the tool and the edge dot, follows its widgets, selected by a click, deleted and undone", func(t *testing.T) {
		cid := e.newCanvas(alice, "Connectors", nil)
		n1 := e.wbNote(alice.Token, cid, "cause", 0, 0, 200, 150)
		n2 := e.wbNote(alice.Token, cid, "effect", 500, 0, 200, 150)
		a := e.wbOpen(t, alice.Token, cid)
		waitJS(t, a, "the connector tool", `!!document.querySelector('#tool-connector')`, 2*time.Second)

		// C, then a drag from one note to the other.
		wbKey(t, a, "c")
		waitJS(t, a, "the tool is on", `document.querySelector('#tool-connector').classList.contains('on')`, time.Second)
		x1, y1 := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n1))
		x2, y2 := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n2))
		wbDrag(t, a, x1, y1, x2-x1, y2-y1, 0)
		var conn string
		wbEventually(t, "a connector from cause to effect", func() bool {
			cs := e.wbOfType(alice.Token, cid, "Connector")
			if len(cs) == 1 && wbEnd(cs[0], "src") == n1 && wbEnd(cs[0], "dst") == n2 {
				conn = cs[0]["id"].(string)
				return true
			}
			return false
		})
		line := fmt.Sprintf(`path.conn-line[data-id=%q]`, conn)
		waitJS(t, a, "the connector is drawn", fmt.Sprintf(`!!document.querySelector(%q)`, line), 2*time.Second)
		if len(e.wbWidgets(alice.Token, cid)) != 3 {
			t.Fatalf("the connector drag made other widgets: %d", len(e.wbWidgets(alice.Token, cid)))
		}

		// Moving the target moves the line's end with it.
		wbDrag(t, a, x2, y2, 0, 200, 0)
		wbEventually(t, "effect moved", func() bool { _, y := loc(e.wbWidgets(alice.Token, cid)[n2]); return math.Abs(y-200) < 0.5 })
		waitJS(t, a, "the line ends on the moved note's near side", fmt.Sprintf(`(() => { const p = document.querySelector(%q); const q = p.getPointAtLength(p.getTotalLength()); return Math.abs(q.x - 500) < 1 && Math.abs(q.y - 275) < 1; })()`, line), 2*time.Second)
		wbShot(t, a, "connector")

		// A click on the line selects it; Delete removes it; Ctrl+Z brings it back.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		mx, my := wbAt(t, a, 350, 175)
		run(t, a, "click the line", chromedp.MouseClickXY(mx, my))
		waitJS(t, a, "the connector is selected", fmt.Sprintf(`window.__canvasd.view.selection.has(%q) && document.querySelector(%q).classList.contains('selected')`, conn, line), 2*time.Second)
		wbShot(t, a, "connector-selected")
		wbKey(t, a, "\x7f")
		wbEventually(t, "connector deleted", func() bool { return len(e.wbOfType(alice.Token, cid, "Connector")) == 0 })
		if len(e.wbWidgets(alice.Token, cid)) != 2 {
			t.Fatal("deleting the connector deleted a note")
		}
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo brings the connector back", func() bool {
			cs := e.wbOfType(alice.Token, cid, "Connector")
			return len(cs) == 1 && wbEnd(cs[0], "src") == n1 && wbEnd(cs[0], "dst") == n2
		})

		// The dot on a selected note's edge draws one too.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		run(t, a, "select cause", chromedp.MouseClickXY(x1, y1))
		waitJS(t, a, "the edge dot", `!!document.querySelector('.sel-box .link-handle')`, 2*time.Second)
		hx, hy := center(t, a, ".sel-box .link-handle")
		x2, y2 = center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n2))
		wbDrag(t, a, hx, hy, x2-hx, y2-hy, 0)
		wbEventually(t, "a second connector from the edge dot", func() bool { return len(e.wbOfType(alice.Token, cid, "Connector")) == 2 })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the create", func() bool { return len(e.wbOfType(alice.Token, cid, "Connector")) == 1 })
	})

	t.Run("a failed drag while the network is down is reconciled with the server after the reconnect", func(t *testing.T) {
		cid := e.newCanvas(alice, "Failed drag", nil)
		id := e.wbNote(alice.Token, cid, "photo", 0, 0, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		// The drag's PATCH fails on the server side; everything else finds no network.
		stop := wbIntercept(t, a, func(method, url string) int {
			if method == "PATCH" {
				return 503
			}
			return -1
		})
		evalJS[bool](t, a, `(window.__canvasd.dropSocket(4000), true)`)
		waitJS(t, a, "the socket is down", `window.__canvasd.state().status !== 'live'`, 2*time.Second)
		x, y := center(t, a, sel)
		wbDrag(t, a, x, y, 250, 0, 0)
		waitJS(t, a, "the save failed", `[...document.querySelectorAll('.toast')].some(t => /Could not save/.test(t.textContent))`, 3*time.Second)
		// The view now shows the note where the server never put it.
		if got := evalJS[string](t, a, fmt.Sprintf(`document.querySelector(%q).dataset.x`, sel)); got != "250" {
			t.Fatalf("the failed drag left the note at x=%s; want the optimistic 250 before the reconnect", got)
		}
		stop()
		waitJS(t, a, "back live and the note where the server has it", fmt.Sprintf(`window.__canvasd.state().status === 'live' && document.querySelector(%q).dataset.x === '0'`, sel), 10*time.Second)
		if x, y := loc(e.wbWidgets(alice.Token, cid)[id]); x != 0 || y != 0 {
			t.Fatalf("the server moved the note to (%v, %v)", x, y)
		}
		wbShot(t, a, "reconciled")
	})

	t.Run("edits made offline are queued and reach the server in order when back online", func(t *testing.T) {
		cid := e.newCanvas(alice, "Offline", nil)
		id := e.wbNote(alice.Token, cid, "draft", 0, 0, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		stop := wbIntercept(t, a, func(string, string) int { return -1 })
		evalJS[bool](t, a, `(window.__canvasd.dropSocket(5000), true)`)
		x, y := center(t, a, sel)
		wbDoubleClick(t, a, x, y)
		waitJS(t, a, "editing offline", `!!document.querySelector('.w-note.editing')`, 3*time.Second)
		wbType(t, a, " edited offline")
		wbKey(t, a, "\x1b")
		waitJS(t, a, "the edit is done", `!document.querySelector('.w-note.editing')`, 3*time.Second)
		// A second edit goes behind the first.
		x, y = center(t, a, sel)
		wbDrag(t, a, x, y, 0, 150, 0)
		run(t, a, "settle", chromedp.Sleep(500*time.Millisecond))
		// The status says what waits (checked after the server, which is the point).
		pending := evalJS[bool](t, a, `document.querySelector('#conn-status').dataset.pending === '2' && /2 unsaved/.test(document.querySelector('#conn-status').textContent)`)
		wbShot(t, a, "offline")
		if w := e.wbWidgets(alice.Token, cid)[id]; w["text"] != "draft" {
			t.Fatalf("the server has %q while the browser is offline", w["text"])
		}
		stop()
		wbWait(t, "the offline edits saved", 10*time.Second, func() bool {
			w := e.wbWidgets(alice.Token, cid)[id]
			_, y := loc(w)
			return w["text"] == "draft edited offline" && math.Abs(y-150) < 0.5
		})
		if !pending {
			t.Fatal("while offline, the status did not say that 2 changes wait")
		}
		waitJS(t, a, "the queue is empty and the view matches", fmt.Sprintf(`document.querySelector('#conn-status').dataset.pending === '0' && window.__canvasd.state().status === 'live' && document.querySelector(%q).dataset.y === '150' && document.querySelector('#conn-status').dataset.pending === '0'`, sel), 10*time.Second)
	})

	t.Run("anchors: add with the tool, jump to from the menu, rename, undo", func(t *testing.T) {
		cid := e.newCanvas(alice, "Anchors", nil)
		note := e.wbNote(alice.Token, cid, "here", 0, 0, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		waitJS(t, a, "the anchor tool", `!!document.querySelector('#tool-anchor')`, 2*time.Second)
		run(t, a, "anchor tool", chromedp.Click(chromedp.CSS("#tool-anchor")))
		waitJS(t, a, "asks for a name", `!!document.querySelector('.modal input.input')`, 2*time.Second)
		run(t, a, "let the input take focus", chromedp.Sleep(100*time.Millisecond))
		wbType(t, a, "Sprint plan")
		wbKey(t, a, "\r")
		var anchor map[string]any
		wbEventually(t, "the anchor", func() bool {
			as := e.wbOfType(alice.Token, cid, "Anchor")
			if len(as) == 1 && as[0]["anchor_name"] == "Sprint plan" {
				anchor = as[0]
				return true
			}
			return false
		})
		aid := anchor["id"].(string)
		if wbOverlap(wbRect(anchor), wbRect(e.wbWidgets(alice.Token, cid)[note])) {
			t.Errorf("the anchor %v was placed on the note", wbRect(anchor))
		}

		// Far away, the menu brings the anchor into view.
		evalJS[bool](t, a, `(() => { const v = window.__canvasd.view; v.view = {x: 9000, y: 9000, z: 1}; v.render(); return true; })()`)
		run(t, a, "anchors menu", chromedp.Click(chromedp.CSS("#anchors-btn")))
		waitJS(t, a, "the menu lists it", `[...document.querySelectorAll('#anchors-menu .anchor-item')].some(b => b.textContent === 'Sprint plan')`, 2*time.Second)
		wbShot(t, a, "anchors-menu")
		run(t, a, "jump", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#anchors-menu .anchor-item[data-id=%q]`, aid))))
		r := wbRect(anchor)
		waitJS(t, a, "the view shows the anchor", fmt.Sprintf(`(() => { const v = window.__canvasd.view; const c = v.viewCenter(); const el = document.querySelector('.w-anchor[data-id=%q]'); const b = el.getBoundingClientRect(); const vp = v.viewport.getBoundingClientRect();
			return c.x > %v && c.x < %v && c.y > %v && c.y < %v && b.left >= vp.left && b.right <= vp.right && b.top >= vp.top && b.bottom <= vp.bottom; })()`, aid, r[0], r[0]+r[2], r[1], r[1]+r[3]), 2*time.Second)

		// Double-click the name to rename; undo puts the old name back.
		lx, ly := center(t, a, fmt.Sprintf(`.w-anchor[data-id=%q] .anchor-label`, aid))
		wbDoubleClick(t, a, lx, ly)
		waitJS(t, a, "asks for the new name", `!!document.querySelector('.modal input.input')`, 2*time.Second)
		run(t, a, "let the input take focus", chromedp.Sleep(100*time.Millisecond))
		wbType(t, a, "Roadmap")
		wbKey(t, a, "\r")
		wbEventually(t, "renamed", func() bool { return e.wbWidgets(alice.Token, cid)[aid]["anchor_name"] == "Roadmap" })
		waitJS(t, a, "the label shows it", fmt.Sprintf(`document.querySelector('.w-anchor[data-id=%q] .anchor-label').textContent === 'Roadmap'`, aid), 2*time.Second)
		wbShot(t, a, "anchor")
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the rename", func() bool { return e.wbWidgets(alice.Token, cid)[aid]["anchor_name"] == "Sprint plan" })
		wbKey(t, a, "?")
		waitJS(t, a, "the shortcuts list the tools", `(() => { const d = document.querySelector('.help-dialog'); return !!d && /Connector tool/.test(d.textContent) && /anchor/.test(d.textContent); })()`, 2*time.Second)
		wbKey(t, a, "\x1b")
	})
	t.Run("digitize: text becomes one note beside the image (undoable); a table fits its height, downloads as CSV, copies as TSV", func(t *testing.T) {
		cid := e.newCanvas(alice, "Digitize results", nil)
		scan := e.uploadImage(alice.Token, cid, "sales.png", ruledTablePNG(t, [][]string{{"Region", "Q1", "Q2"}, {"EMEA", "4.2", "4.6"}, {"APAC", "2.9", "3.3"}, {"LATAM", "1.1", "1.4"}}),
			map[string]any{"title": "Sales scan", "location": map[string]any{"x": 0, "y": 0}})
		sid := scan["id"].(string)
		tid := e.digitize(alice, cid, sid)
		a := e.wbOpen(t, alice.Token, cid)
		evalJS[bool](t, a, `(window.__canvasd.view.fit(), true)`)
		tsel := fmt.Sprintf(`.w-table[data-id=%q]`, tid)
		waitJS(t, a, "the table is drawn", fmt.Sprintf(`document.querySelectorAll('%s tbody tr').length > 0`, tsel), 3*time.Second)

		// Every row fits inside the widget's stored height.
		fit := evalJS[[]float64](t, a, fmt.Sprintf(`(() => { const el = document.querySelector(%q); const b = el.getBoundingClientRect(); const rows = el.querySelectorAll('tr'); const last = rows[rows.length - 1].getBoundingClientRect(); return [last.bottom, b.bottom, b.height]; })()`, tsel))
		if fit[0] > fit[1]+1 {
			t.Errorf("the table's last row is clipped: it ends at %.1f, the widget at %.1f (height %.1f)", fit[0], fit[1], fit[2])
		}

		// The server's grid, as the exports must write it.
		tw := e.wbWidgets(alice.Token, cid)[tid]
		nr, nc := int(tw["n_rows"].(float64)), int(tw["n_cols"].(float64))
		grid := make([][]string, nr)
		for i := range grid {
			grid[i] = make([]string, nc)
		}
		for _, c := range tw["cells"].([]any) {
			m := c.(map[string]any)
			grid[int(m["r"].(float64))][int(m["c"].(float64))] = m["text"].(string)
		}
		var csv, tsv strings.Builder
		for _, row := range grid {
			q := make([]string, len(row))
			for i, v := range row {
				q[i] = v
				if strings.ContainsAny(v, "\",\r\n") {
					q[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
				}
			}
			csv.WriteString(strings.Join(q, ",") + "\r\n")
			tsv.WriteString(strings.Join(row, "\t") + "\n")
		}
		if !strings.Contains(csv.String(), "EMEA") {
			t.Fatalf("the digitized table has no EMEA row: %q", csv.String())
		}

		// CSV: a real download.
		dir := t.TempDir()
		bctx := chromedp.FromContext(a).BrowserContextID
		if _, err := chromedp.CallBrowser(a, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: bctx, DownloadPath: dir}); err != nil {
			t.Fatalf("download behaviour: %v", err)
		}
		x, y := center(t, a, tsel)
		run(t, a, "select the table", chromedp.MouseClickXY(x, y))
		waitJS(t, a, "the CSV button", `!!document.querySelector('#fb-csv')`, 2*time.Second)
		wbShot(t, a, "table")
		run(t, a, "CSV", chromedp.Click(chromedp.CSS("#fb-csv")))
		var got []byte
		wbWait(t, "the CSV file", 5*time.Second, func() bool {
			files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
			if len(files) != 1 {
				return false
			}
			got, _ = os.ReadFile(files[0])
			return len(got) > 0
		})
		if string(got) != csv.String() {
			t.Errorf("CSV download = %q, want %q", got, csv.String())
		}

		// TSV: on the system clipboard.
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(a, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: e.ts.URL, BrowserContextID: bctx}); err != nil {
				t.Fatalf("permission %s: %v", name, err)
			}
		}
		run(t, a, "TSV", chromedp.Click(chromedp.CSS("#fb-tsv")))
		waitJS(t, a, "copied", `[...document.querySelectorAll('.toast')].some(t => /Table copied/.test(t.textContent))`, 2*time.Second)
		clip, err := chromedp.Run(a, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil || clip != tsv.String() {
			t.Errorf("clipboard = %q (%v), want the TSV %q", clip, err, tsv.String())
		}

		// Text: digitize the scan as text; one note appears beside it.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		x, y = center(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, sid))
		run(t, a, "select the scan", chromedp.MouseClickXY(x, y))
		run(t, a, "digitize as text", chromedp.WaitVisible(chromedp.CSS("#fb-digitize")), chromedp.Click(chromedp.CSS("#fb-digitize")),
			chromedp.WaitVisible(chromedp.CSS("#digitize-start")), chromedp.SetValue(chromedp.CSS("#digitize-type"), "text"), chromedp.Click(chromedp.CSS("#digitize-start")))
		waitJS(t, a, "digitize finishes", `(() => { const p = document.querySelector('#digitize-panel'); return !!p && p.classList.contains('finished'); })()`, 2*time.Minute)
		var note map[string]any
		wbEventually(t, "a note with the image's text", func() bool {
			ns := e.wbOfType(alice.Token, cid, "Note")
			if len(ns) == 1 && strings.Contains(fmt.Sprint(ns[0]["text"]), "EMEA") {
				note = ns[0]
				return true
			}
			return false
		})
		run(t, a, "settle", chromedp.Sleep(500*time.Millisecond))
		if n := len(e.wbOfType(alice.Token, cid, "Note")); n != 1 {
			t.Fatalf("digitize made %d notes, want 1", n)
		}
		ws := e.wbWidgets(alice.Token, cid)
		nr4, ir := wbRect(ws[note["id"].(string)]), wbRect(ws[sid])
		if nr4[0] < ir[0]+ir[2] {
			t.Errorf("the text note %v is not beside (right of) the image %v", nr4, ir)
		}
		for id, o := range ws {
			if id != note["id"] && wbOverlap(nr4, wbRect(o)) {
				t.Errorf("the text note %v lies on %s %v", nr4, o["widget_type"], wbRect(o))
			}
		}
		waitJS(t, a, "the note shows all of its text", fmt.Sprintf(`(() => { const el = document.querySelector('.w-note[data-id=%q]'); return !!el && !el.classList.contains('overflowing') && el.scrollHeight <= el.clientHeight + 2; })()`, note["id"]), 3*time.Second)
		evalJS[bool](t, a, `(window.__canvasd.view.fit(), true)`)
		wbShot(t, a, "digitized-text")
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo removes the text note", func() bool { return len(e.wbOfType(alice.Token, cid, "Note")) == 0 })
	})
	t.Run("README screenshots: two viewers editing around connectors, and the shortcuts", func(t *testing.T) {
		bob := e.newUser("Bob Chen", false)
		cid := e.newCanvas(alice, "Launch plan", map[uint64]string{bob.ID: "edit"})
		e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/anchors", map[string]any{"anchor_name": "Launch review",
			"location": map[string]any{"x": -60, "y": -40}, "size": map[string]any{"width": 1180, "height": 620}}, nil)
		ids := map[string]string{}
		for _, n := range []struct {
			key, text, color string
			x, y             float64
		}{
			{"goal", "Goal: ship the beta to 20 pilot teams by March", "#fff1a8", 0, 40},
			{"risk", "Risk: the import of old boards is slow", "#ffd3de", 400, 0},
			{"fix", "Stream the import, page by page", "#c9f2dc", 800, 40},
			{"owner", "Owner: Bob, review on Friday", "#cfe8ff", 400, 300},
		} {
			ids[n.key] = e.wbNote(alice.Token, cid, n.text, n.x, n.y, 280, 200)
			e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+ids[n.key], map[string]any{"background_color": n.color}, nil)
		}
		connect := func(a, b string, ax, ay, bx, by float64) {
			e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/connectors", map[string]any{
				"src":        map[string]any{"id": a, "rel_location": map[string]any{"x": ax, "y": ay}, "tip": "none"},
				"dst":        map[string]any{"id": b, "rel_location": map[string]any{"x": bx, "y": by}, "tip": "solid-equilateral-triangle"},
				"line_color": "#475569ff", "line_width": 3, "type": "straight"}, nil)
		}
		connect(ids["goal"], ids["risk"], 1, 0.5, 0, 0.5)
		connect(ids["risk"], ids["fix"], 1, 0.5, 0, 0.5)
		a := e.wbOpenAll(t, alice.Token, cid)
		b := e.wbOpenAll(t, bob.Token, cid)
		for _, ctx := range []context.Context{a, b} {
			evalJS[bool](t, ctx, `(() => { const v = window.__canvasd.view; v.view = {x: 110, y: 130, z: 0.95}; v.render(); return true; })()`)
		}
		// Alice draws the third connector with the tool.
		wbKey(t, a, "c")
		x1, y1 := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, ids["risk"]))
		x2, y2 := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, ids["owner"]))
		wbDrag(t, a, x1, y1, x2-x1, y2-y1, 0)
		wbEventually(t, "the drawn connector", func() bool { return len(e.wbOfType(alice.Token, cid, "Connector")) == 3 })
		// Bob edits the owner note; Alice points at it.
		waitJS(t, b, "bob sees the new connector", `document.querySelectorAll('path.conn-line').length === 3`, liveDeadline)
		bx, by := center(t, b, fmt.Sprintf(`.w-note[data-id=%q]`, ids["fix"]))
		run(t, b, "bob selects the fix", chromedp.MouseClickXY(bx, by))
		moveMouse(t, b, bx+60, by+40)
		run(t, a, "alice deselects the new connector", chromedp.KeyEvent("\x1b"))
		ax, ay := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, ids["owner"]))
		moveMouse(t, a, ax+90, ay+60)
		waitJS(t, a, "alice sees bob's cursor and selection", `!!document.querySelector('.cursor[data-name="Bob Chen"]') && !!document.querySelector('.remote-sel')`, liveDeadline)
		run(t, a, "settle", chromedp.Sleep(400*time.Millisecond))
		shot := func(ctx context.Context, name string) {
			buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			wbShot(t, ctx, "readme-"+name)
			if len(buf) > 200<<10 {
				t.Errorf("%s.png is %d KB, over 200 KB", name, len(buf)>>10)
			}
			if *update {
				if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), buf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		shot(a, "whiteboard")
		wbKey(t, a, "?")
		waitJS(t, a, "the shortcuts dialog", `!!document.querySelector('.help-dialog')`, 2*time.Second)
		run(t, a, "settle", chromedp.Sleep(400*time.Millisecond))
		shot(a, "shortcuts")
		wbKey(t, a, "\x1b")
	})
}
