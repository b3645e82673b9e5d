package web_test

// Issue 16, the whiteboard slice: editing, undo and redo, selection,
// placement, navigation and the shortcuts dialog, each driven in real
// Chromium against a real server. Screenshots go to the system's temp dir.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// wbShot saves a screenshot outside the repository, for a person to look at.
func wbShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(os.TempDir(), "canvasd-whiteboard")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

func wbKey(t *testing.T, ctx context.Context, keys string, mods ...chromedp.Modifier) {
	t.Helper()
	run(t, ctx, "key "+keys, chromedp.KeyEvent(keys, chromedp.KeyModifiers(mods...)))
}

func wbType(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	run(t, ctx, "type", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// wbDrag drags with modifier keys held (8 = Shift).
func wbDrag(t *testing.T, ctx context.Context, x, y, dx, dy float64, mods int64) {
	t.Helper()
	run(t, ctx, "drag", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		send := func(p input.DispatchMouseEventParams) error {
			p.Modifiers = mods
			_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, p)
			return err
		}
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y}); err != nil {
			return err
		}
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMousePressed, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1}); err != nil {
			return err
		}
		for i := 1; i <= 8; i++ {
			f := float64(i) / 8
			if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x + dx*f, Y: y + dy*f, Button: input.MouseButtonLeft, Buttons: 1}); err != nil {
				return err
			}
		}
		return send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseReleased, X: x + dx, Y: y + dy, Button: input.MouseButtonLeft, ClickCount: 1})
	}))
}

func wbDoubleClick(t *testing.T, ctx context.Context, x, y float64) {
	t.Helper()
	run(t, ctx, "double-click", chromedp.MouseClickXY(x, y), chromedp.MouseClickXY(x, y, chromedp.ClickCount(2)))
}

func (e *env) wbNote(token, cid, text string, x, y, w, h float64) string {
	e.t.Helper()
	var n struct{ ID string }
	e.mustAPI(token, "POST", "/api/v1/canvases/"+cid+"/notes", map[string]any{"text": text, "background_color": "#fff1a8",
		"location": map[string]any{"x": x, "y": y}, "size": map[string]any{"width": w, "height": h}}, &n)
	return n.ID
}

func wbNum(w map[string]any, field, sub string) float64 {
	m, _ := w[field].(map[string]any)
	f, _ := m[sub].(float64)
	return f
}

// wbRect is a widget's rectangle on the server (top-level widgets).
func wbRect(w map[string]any) [4]float64 {
	return [4]float64{wbNum(w, "location", "x"), wbNum(w, "location", "y"), wbNum(w, "size", "width"), wbNum(w, "size", "height")}
}

func wbOverlap(a, b [4]float64) bool {
	return a[0] < b[0]+b[2] && a[0]+a[2] > b[0] && a[1] < b[1]+b[3] && a[1]+a[3] > b[1]
}

// wbWidgets lists a canvas's widgets without the root.
func (e *env) wbWidgets(token, cid string) map[string]map[string]any {
	ws := e.widgets(token, cid)
	for id, w := range ws {
		if w["widget_type"] == "SharedCanvas" {
			delete(ws, id)
		}
	}
	return ws
}

// wbEventually polls the server until cond holds (the client saves asynchronously).
func wbEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen on the server within 5s", what)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (e *env) wbOpen(t *testing.T, token, cid string) context.Context {
	t.Helper()
	// Under the CSP recorder: nothing new in the client may break the policy.
	ctx, console := e.cspTab(e.ts.URL+"/c/"+cid+"#token="+token, 1280, 800)
	t.Cleanup(func() { checkNoCSPViolations(t, ctx, "viewer", console) })
	waitLive(t, ctx, "viewer")
	waitJS(t, ctx, "widgets drawn", `!window.__canvasd.view.loading && window.__canvasd.state().widgets.length > 0 && window.__canvasd.state().widgets.length === document.querySelectorAll('.widget').length`, 5*time.Second)
	// A fixed view: world (0, 0) at the viewport's top-left plus 100 px, zoom 1.
	evalJS[bool](t, ctx, `(() => { const v = window.__canvasd.view; v.view = {x: 100, y: 100, z: 1}; v.render(); return true; })()`)
	return ctx
}

// wbAt is the client point of world point (x, y) under wbOpen's fixed view.
func wbAt(t *testing.T, ctx context.Context, x, y float64) (float64, float64) {
	return worldToScreen(t, ctx, x, y)
}

func TestWhiteboard(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)

	t.Run("double-click edits a note; Enter is a new line, Esc saves; long notes grow", func(t *testing.T) {
		cid := e.newCanvas(alice, "Editing", map[uint64]string{bob.ID: "edit"})
		id := e.wbNote(alice.Token, cid, "Hello", 0, 0, 300, 220)
		long := e.wbNote(alice.Token, cid, strings.Repeat("A very long line of notes. ", 40), 0, 400, 300, 120)
		a := e.wbOpen(t, alice.Token, cid)
		x, y := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, id))
		wbDoubleClick(t, a, x, y)
		waitJS(t, a, "the note is in edit mode", fmt.Sprintf(`!!document.querySelector('.w-note.editing[data-id=%q]')`, id), 3*time.Second)
		wbType(t, a, " there")
		wbKey(t, a, "\r")
		waitJS(t, a, "Enter keeps editing", fmt.Sprintf(`!!document.querySelector('.w-note.editing[data-id=%q]')`, id), time.Second)
		wbType(t, a, "line two")
		wbKey(t, a, "\x1b")
		wbEventually(t, "the text saved", func() bool { return e.wbWidgets(alice.Token, cid)[id]["text"] == "Hello there\nline two" })
		if n := len(e.wbWidgets(alice.Token, cid)); n != 2 {
			t.Fatalf("double-click made new notes: %d widgets, want 2", n)
		}
		// A note made elsewhere whose text does not fit says so.
		waitJS(t, a, "the long note shows it overflows", fmt.Sprintf(`!!document.querySelector('.w-note.overflowing[data-id=%q]')`, long), 2*time.Second)

		// N: a new note in free space, in edit mode; long text grows it.
		wbKey(t, a, "n")
		waitJS(t, a, "the new note is in edit mode", `document.querySelectorAll('.w-note.editing').length === 1`, 3*time.Second)
		nid := evalJS[string](t, a, `document.querySelector('.w-note.editing').dataset.id`)
		wbType(t, a, strings.Repeat("Quarterly numbers need a second look before Friday. ", 8))
		wbKey(t, a, "\r", chromedp.ModifierCtrl)
		var nw map[string]any
		wbEventually(t, "the new note's text and height saved", func() bool {
			nw = e.wbWidgets(alice.Token, cid)[nid]
			return nw != nil && strings.HasPrefix(fmt.Sprint(nw["text"]), "Quarterly") && wbNum(nw, "size", "height") > 220
		})
		waitJS(t, a, "the grown note does not overflow", fmt.Sprintf(`(() => { const el = document.querySelector('.w-note[data-id=%q]'); return !!el && !el.classList.contains('overflowing') && el.scrollHeight <= el.clientHeight + 2; })()`, nid), 2*time.Second)
		ws := e.wbWidgets(alice.Token, cid)
		for oid, o := range ws {
			if oid != nid && wbOverlap(wbRect(ws[nid]), wbRect(o)) {
				t.Errorf("the new note %v lies on %s %v", wbRect(ws[nid]), o["text"], wbRect(o))
			}
		}
		wbShot(t, a, "editing")
	})

	t.Run("undo and redo of move, text, create and delete; never over someone else's change", func(t *testing.T) {
		cid := e.newCanvas(alice, "Undo", map[uint64]string{bob.ID: "edit"})
		id := e.wbNote(alice.Token, cid, "A", 0, 0, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		locOf := func(id string) (float64, float64) { return loc(e.wbWidgets(alice.Token, cid)[id]) }
		near := func(v, want float64) bool { return math.Abs(v-want) < 0.5 }

		// Move, undo, redo.
		x, y := center(t, a, sel)
		wbDrag(t, a, x, y, 200, 0, 0)
		wbEventually(t, "moved", func() bool { x, _ := locOf(id); return near(x, 200) })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the move", func() bool { x, _ := locOf(id); return near(x, 0) })
		wbKey(t, a, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
		wbEventually(t, "redo (Ctrl+Shift+Z) of the move", func() bool { x, _ := locOf(id); return near(x, 200) })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo again", func() bool { x, _ := locOf(id); return near(x, 0) })
		wbKey(t, a, "y", chromedp.ModifierCtrl)
		wbEventually(t, "redo (Ctrl+Y)", func() bool { x, _ := locOf(id); return near(x, 200) })

		// Text.
		waitJS(t, a, "note drawn at its new place", fmt.Sprintf(`Math.abs(document.querySelector(%q).dataset.x - 200) < 1`, sel), 2*time.Second)
		x, y = center(t, a, sel)
		wbDoubleClick(t, a, x, y)
		waitJS(t, a, "editing", `!!document.querySelector('.w-note.editing')`, 3*time.Second)
		wbKey(t, a, "a", chromedp.ModifierCtrl) // inside the editor: its own text
		wbType(t, a, "B")
		wbKey(t, a, "\x1b")
		wbEventually(t, "text B", func() bool { return e.wbWidgets(alice.Token, cid)[id]["text"] == "B" })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the text", func() bool { return e.wbWidgets(alice.Token, cid)[id]["text"] == "A" })

		// Resize with the corner handle, and a colour; both undo.
		run(t, a, "select A", chromedp.KeyEvent("\x1b"), chromedp.MouseClickXY(x, y))
		handle := fmt.Sprintf(`.sel-box[data-id=%q] .h-se`, id)
		waitJS(t, a, "resize handle", fmt.Sprintf(`!!document.querySelector(%q)`, handle), 2*time.Second)
		hx, hy := center(t, a, handle)
		wbDrag(t, a, hx, hy, 100, 60, 0)
		wbEventually(t, "resized", func() bool { return math.Abs(wbNum(e.wbWidgets(alice.Token, cid)[id], "size", "width")-400) < 1 })
		run(t, a, "colour", chromedp.WaitVisible(chromedp.CSS(`.swatch[title="Sky"]`)), chromedp.Click(chromedp.CSS(`.swatch[title="Sky"]`)))
		wbEventually(t, "coloured", func() bool { return e.wbWidgets(alice.Token, cid)[id]["background_color"] == "#cfe8ff" })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the colour and the resize", func() bool {
			w := e.wbWidgets(alice.Token, cid)[id]
			return w["background_color"] == "#fff1a8" && math.Abs(wbNum(w, "size", "width")-300) < 1 && math.Abs(wbNum(w, "size", "height")-220) < 1
		})

		// Create (with its first text), undo, redo.
		wbKey(t, a, "n")
		waitJS(t, a, "new note editing", `document.querySelectorAll('.w-note.editing').length === 1`, 3*time.Second)
		wbType(t, a, "fresh")
		wbKey(t, a, "\x1b")
		wbEventually(t, "the new note", func() bool { return len(e.wbWidgets(alice.Token, cid)) == 2 })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of the create", func() bool { return len(e.wbWidgets(alice.Token, cid)) == 1 })
		wbKey(t, a, "y", chromedp.ModifierCtrl)
		wbEventually(t, "redo of the create, text included", func() bool {
			for _, w := range e.wbWidgets(alice.Token, cid) {
				if w["text"] == "fresh" {
					return true
				}
			}
			return false
		})

		// Delete with the key: no dialog, only the selection goes; undo restores it.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		x, y = center(t, a, sel)
		run(t, a, "select A", chromedp.MouseClickXY(x, y))
		wbKey(t, a, "\x7f")
		wbEventually(t, "A deleted", func() bool { _, ok := e.wbWidgets(alice.Token, cid)[id]; return !ok })
		if n := len(e.wbWidgets(alice.Token, cid)); n != 1 {
			t.Fatalf("Delete removed more than the selection: %d widgets left, want 1", n)
		}
		if evalJS[bool](t, a, `!!document.querySelector('.modal-back')`) {
			t.Fatal("Delete asked for a confirmation although undo can bring it back")
		}
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		var back string
		wbEventually(t, "undo of the delete", func() bool {
			for wid, w := range e.wbWidgets(alice.Token, cid) {
				if w["text"] == "A" && near(wbNum(w, "location", "x"), 200) {
					back = wid
					return true
				}
			}
			return false
		})

		// Alice moves it; Bob moves it after her; Alice's undo leaves Bob's move.
		bsel := fmt.Sprintf(`.w-note[data-id=%q]`, back)
		waitJS(t, a, "restored note drawn", fmt.Sprintf(`!!document.querySelector(%q)`, bsel), 2*time.Second)
		x, y = center(t, a, bsel)
		wbDrag(t, a, x, y, 0, 150, 0)
		wbEventually(t, "alice's move", func() bool { _, y := locOf(back); return near(y, 150) })
		e.mustAPI(bob.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+back, map[string]any{"location": map[string]any{"x": 640, "y": 480}}, nil)
		waitJS(t, a, "alice sees bob's move", fmt.Sprintf(`Math.abs(document.querySelector(%q).dataset.x - 640) < 1`, bsel), liveDeadline)
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		waitJS(t, a, "a toast says the undo was skipped", `[...document.querySelectorAll('.toast')].some(t => /skipped/.test(t.textContent))`, 3*time.Second)
		if x, y := locOf(back); !near(x, 640) || !near(y, 480) {
			t.Fatalf("undo reverted Bob's later move: location (%v, %v), want (640, 480)", x, y)
		}

		// Ctrl+A selects the canvas's widgets, not the page's text.
		wbKey(t, a, "a", chromedp.ModifierCtrl)
		waitJS(t, a, "select all", `window.__canvasd.view.selection.size === 2 && String(window.getSelection()) === ''`, 2*time.Second)
		wbShot(t, a, "undo")
	})

	t.Run("box select, group move and delete, duplicate, copy and paste across canvases, z-order, lock", func(t *testing.T) {
		cid := e.newCanvas(alice, "Selection", nil)
		cid2 := e.newCanvas(alice, "Paste target", nil)
		n1 := e.wbNote(alice.Token, cid, "one", 0, 0, 200, 150)
		n2 := e.wbNote(alice.Token, cid, "two", 300, 0, 200, 150)
		n3 := e.wbNote(alice.Token, cid, "three", 600, 0, 200, 150)
		img := e.uploadImage(alice.Token, cid, "photo.png", photoPNG(240, 160), map[string]any{"title": "Photo",
			"location": map[string]any{"x": 0, "y": 300}, "size": map[string]any{"width": 240, "height": 160}})
		a := e.wbOpen(t, alice.Token, cid)

		// Shift + drag on the background boxes one and two.
		x, y := wbAt(t, a, -40, -40)
		wbDrag(t, a, x, y, 580, 240, 8)
		waitJS(t, a, "box selected one and two", fmt.Sprintf(`(() => { const s = window.__canvasd.view.selection; return s.size === 2 && s.has(%q) && s.has(%q); })()`, n1, n2), 2*time.Second)
		wbShot(t, a, "box-select")

		// Dragging one of them moves both, one PATCH each.
		x, y = center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n1))
		wbDrag(t, a, x, y, 0, 600, 0)
		wbEventually(t, "both moved", func() bool {
			ws := e.wbWidgets(alice.Token, cid)
			_, y1 := loc(ws[n1])
			_, y2 := loc(ws[n2])
			_, y3 := loc(ws[n3])
			return math.Abs(y1-600) < 0.5 && math.Abs(y2-600) < 0.5 && y3 == 0
		})

		// Ctrl+D duplicates both, in free space.
		wbKey(t, a, "d", chromedp.ModifierCtrl)
		wbEventually(t, "duplicates", func() bool { return len(e.wbWidgets(alice.Token, cid)) == 6 })
		ws := e.wbWidgets(alice.Token, cid)
		for ia, wa := range ws {
			for ib, wb := range ws {
				if ia < ib && wbOverlap(wbRect(wa), wbRect(wb)) {
					t.Errorf("%v %v and %v %v overlap", wa["text"], wbRect(wa), wb["text"], wbRect(wb))
				}
			}
		}
		// The duplicates are selected: delete them as a group, then bring them back.
		wbKey(t, a, "\x7f")
		wbEventually(t, "group delete", func() bool { return len(e.wbWidgets(alice.Token, cid)) == 4 })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "group undelete", func() bool { return len(e.wbWidgets(alice.Token, cid)) == 6 })

		// Bring to front and send to back.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		waitJS(t, a, "three drawn", fmt.Sprintf(`!!document.querySelector('.w-note[data-id=%q]')`, n3), time.Second)
		x, y = center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n3))
		run(t, a, "select three", chromedp.MouseClickXY(x, y))
		depths := func() (self, lo, hi float64) {
			lo, hi = math.Inf(1), math.Inf(-1)
			for wid, w := range e.wbWidgets(alice.Token, cid) {
				d, _ := w["depth"].(float64)
				if wid == n3 {
					self = d
					continue
				}
				lo, hi = math.Min(lo, d), math.Max(hi, d)
			}
			return
		}
		wbKey(t, a, "[")
		wbEventually(t, "sent to back", func() bool { s, lo, _ := depths(); return s < lo })
		wbKey(t, a, "]")
		wbEventually(t, "brought to front", func() bool { s, _, hi := depths(); return s > hi })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo of bring to front", func() bool { s, lo, _ := depths(); return s < lo })

		// Lock: no move, no delete.
		wbKey(t, a, "l")
		wbEventually(t, "locked", func() bool { return e.wbWidgets(alice.Token, cid)[n3]["pinned"] == true })
		waitJS(t, a, "drawn as locked", fmt.Sprintf(`!!document.querySelector('.w-note.locked[data-id=%q]')`, n3), 2*time.Second)
		wbDrag(t, a, x, y, 0, 300, 0)
		wbKey(t, a, "\x7f")
		run(t, a, "settle", chromedp.Sleep(300*time.Millisecond))
		if w := e.wbWidgets(alice.Token, cid)[n3]; w == nil || wbNum(w, "location", "y") != 0 {
			t.Fatalf("a locked note moved or went: %v", w)
		}

		// Copy a note and the image; paste them into another canvas.
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"))
		evalJS[bool](t, a, `(() => { const v = window.__canvasd.view; v.view = {x: 100, y: -200, z: 1}; v.render(); return true; })()`)
		ix, iy := center(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, img["id"]))
		run(t, a, "select the image", chromedp.MouseClickXY(ix, iy))
		x, y = center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, n2))
		run(t, a, "shift-click two", chromedp.MouseClickXY(x, y, func(p *input.DispatchMouseEventParams) { p.Modifiers = 8 }))
		waitJS(t, a, "two selected", `window.__canvasd.view.selection.size === 2`, time.Second)
		wbKey(t, a, "c", chromedp.ModifierCtrl)
		run(t, a, "open the other canvas", chromedp.Navigate(e.ts.URL+"/c/"+cid2))
		waitLive(t, a, "alice on the second canvas")
		wbKey(t, a, "v", chromedp.ModifierCtrl)
		wbEventually(t, "pasted into the other canvas", func() bool {
			types := map[any]int{}
			for _, w := range e.wbWidgets(alice.Token, cid2) {
				types[w["widget_type"]]++
				if w["widget_type"] == "Note" && w["text"] != "two" {
					return false
				}
			}
			return types["Note"] == 1 && types["Image"] == 1
		})
		waitJS(t, a, "the pasted image shows", `!!document.querySelector('.w-image.loaded')`, 5*time.Second)
		wbShot(t, a, "pasted")
	})

	t.Run("two-finger scroll pans, pinch zooms, off-screen widgets are culled, ? shows the shortcuts", func(t *testing.T) {
		cid := e.newCanvas(alice, "Navigation", nil)
		e.wbNote(alice.Token, cid, "here", 0, 0, 300, 220)
		far := e.wbNote(alice.Token, cid, "far away", 20000, 20000, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		wheel := func(dx, dy float64, mods int64) {
			run(t, a, "wheel", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseWheel, X: 640, Y: 400, DeltaX: dx, DeltaY: dy, Modifiers: mods})
				return err
			}))
		}
		wheel(30, 120, 0)
		waitJS(t, a, "two-finger scroll pans", `(() => { const v = window.__canvasd.view.view; return v.z === 1 && Math.abs(v.x - 70) < 0.5 && Math.abs(v.y - (-20)) < 0.5; })()`, 2*time.Second)
		wheel(0.01, -50, 2) // pinch out: ctrl + wheel (a zero delta would be left out)
		waitJS(t, a, "pinch zooms", `window.__canvasd.view.view.z > 1.2`, 2*time.Second)
		// Widgets outside the viewport are hidden (their nodes stay), and shown again when panned to.
		waitJS(t, a, "the far note is culled", fmt.Sprintf(`document.querySelector('.w-note[data-id=%q]').classList.contains('culled')`, far), 2*time.Second)
		evalJS[bool](t, a, `(() => { const v = window.__canvasd.view; v.view = {x: 100 - 20000, y: 100 - 20000, z: 1}; v.scheduleView(); return true; })()`)
		waitJS(t, a, "the far note is shown when in view", fmt.Sprintf(`(() => { const el = document.querySelector('.w-note[data-id=%q]'); return !el.classList.contains('culled') && el.getBoundingClientRect().width > 0; })()`, far), 2*time.Second)
		wbKey(t, a, "?")
		waitJS(t, a, "the shortcuts dialog", `(() => { const d = document.querySelector('.help-dialog'); return !!d && /Ctrl\/⌘ \+ Z/.test(d.textContent) && /Box select/.test(d.textContent); })()`, 2*time.Second)
		run(t, a, "let the dialog settle", chromedp.Sleep(400*time.Millisecond))
		wbShot(t, a, "shortcuts")
		wbKey(t, a, "\x1b")
	})
}
