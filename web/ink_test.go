package web_test

// Issue 16 follow-up: the pen. Strokes are Canvus annotations (POST, DELETE
// /widgets, widget_type Annotation; listed with ?annotations=1): drawn in
// one browser, they appear live in another, undo and redo remove and bring
// them back, a click selects one and Delete removes it, and a fresh viewer
// loads them. Real Chromium against a real server.

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// inkDraw presses at the first point, moves through the others and releases.
func inkDraw(t *testing.T, ctx context.Context, pts [][2]float64) {
	t.Helper()
	run(t, ctx, "draw", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		send := func(p input.DispatchMouseEventParams) error {
			_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, p)
			return err
		}
		x, y := pts[0][0], pts[0][1]
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y}); err != nil {
			return err
		}
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMousePressed, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1}); err != nil {
			return err
		}
		for _, p := range pts[1:] {
			x, y = p[0], p[1]
			if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1}); err != nil {
				return err
			}
		}
		return send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseReleased, X: x, Y: y, Button: input.MouseButtonLeft, ClickCount: 1})
	}))
}

// wave is a stroke of n points from screen (x, y), dx wide, amp high.
func wave(x, y, dx, amp float64, n int) [][2]float64 {
	out := make([][2]float64, n)
	for i := range out {
		f := float64(i) / float64(n-1)
		out[i] = [2]float64{x + dx*f, y + amp*math.Sin(f*2*math.Pi)}
	}
	return out
}

type inkStroke struct {
	ID        string `json:"id"`
	LineColor string `json:"line_color"`
	Points    string `json:"points"`
}

// inkStrokes lists the canvas root's annotations (the pen draws on the canvas).
func (e *env) inkStrokes(token, cid string) []inkStroke {
	e.t.Helper()
	var list []struct {
		WidgetType  string      `json:"widget_type"`
		Annotations []inkStroke `json:"annotations"`
	}
	e.mustAPI(token, "GET", "/api/v1/canvases/"+cid+"/widgets?annotations=1", nil, &list)
	for _, w := range list {
		if w.WidgetType == "SharedCanvas" {
			return w.Annotations
		}
	}
	e.t.Fatal("no SharedCanvas root")
	return nil
}

// inkNodes decodes a stroke's points into its Bezier nodes' points (x, y).
func inkNodes(t *testing.T, s inkStroke) [][2]float64 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s.Points)
	if err != nil || len(b)%36 != 0 {
		t.Fatalf("stroke %s: points are not base64 of 9-float nodes: %v (%d bytes)", s.ID, err, len(b))
	}
	var out [][2]float64
	for i := 0; i < len(b); i += 36 {
		f := func(k int) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i+4*k:]))) }
		out = append(out, [2]float64{f(3), f(4)})
	}
	return out
}

func TestInk(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	cid := e.newCanvas(alice, "Sketches", map[uint64]string{bob.ID: "edit"})
	e.wbNote(alice.Token, cid, "Ideas", 0, 0, 240, 160)
	a := e.wbOpen(t, alice.Token, cid)
	b := e.wbOpen(t, bob.Token, cid)
	bobLines := `document.querySelectorAll('svg.connectors path.ink-line').length`

	// Alice takes the pen (P) and draws a wave across the canvas.
	wbKey(t, a, "p")
	waitJS(t, a, "the pen is on", `document.querySelector('#tool-ink').getAttribute('aria-pressed') === 'true'`, time.Second)
	x0, y0 := wbAt(t, a, 300, 60)
	inkDraw(t, a, wave(x0, y0, 300, 40, 30))
	var first inkStroke
	wbEventually(t, "one stroke stored", func() bool {
		s := e.inkStrokes(alice.Token, cid)
		if len(s) == 1 {
			first = s[0]
		}
		return len(s) == 1
	})
	nodes := inkNodes(t, first)
	if len(nodes) < 10 {
		t.Fatalf("the stroke has %d nodes for a 30-point wave", len(nodes))
	}
	// The nodes are where the pen went, in canvas coordinates.
	if p := nodes[0]; math.Abs(p[0]-300) > 3 || math.Abs(p[1]-60) > 3 {
		t.Fatalf("the stroke starts at %v, want (300, 60)", p)
	}
	if p := nodes[len(nodes)-1]; math.Abs(p[0]-600) > 3 || math.Abs(p[1]-60) > 3 {
		t.Fatalf("the stroke ends at %v, want (600, 60)", p)
	}
	// Bob sees it live, where Alice drew it.
	waitJS(t, b, "Bob sees the stroke", bobLines+` === 1`, liveDeadline)
	box := evalJS[[]float64](t, b, `(() => { const r = document.querySelector('svg.connectors path.ink-line').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	bx, by := wbAt(t, b, 300, 20)
	if math.Abs(box[0]-bx) > 6 || box[2] < 280 || box[2] > 320 || box[3] < 60 {
		t.Fatalf("Bob's stroke box %v, want from x %.0f about 300 wide and 80 high (top %.0f)", box, bx, by)
	}

	// A second stroke; undo removes it for both, redo brings it back.
	x1, y1 := wbAt(t, a, 300, 260)
	inkDraw(t, a, wave(x1, y1, 200, -30, 20))
	wbEventually(t, "two strokes stored", func() bool { return len(e.inkStrokes(alice.Token, cid)) == 2 })
	waitJS(t, b, "Bob sees two strokes", bobLines+` === 2`, liveDeadline)
	wbShot(t, a, "ink-two")
	wbKey(t, a, "z", chromedp.ModifierCtrl)
	wbEventually(t, "undo removed the second stroke", func() bool {
		s := e.inkStrokes(alice.Token, cid)
		return len(s) == 1 && s[0].ID == first.ID
	})
	waitJS(t, b, "Bob sees the undo", bobLines+` === 1`, liveDeadline)
	wbKey(t, a, "z", chromedp.ModifierCtrl|chromedp.ModifierShift)
	wbEventually(t, "redo brought it back", func() bool { return len(e.inkStrokes(alice.Token, cid)) == 2 })
	waitJS(t, b, "Bob sees the redo", bobLines+` === 2`, liveDeadline)

	// Bob selects Alice's first stroke with a click on it and deletes it.
	mx, my := wbAt(t, b, 375, 100) // the wave's crest: (300 + 300/4, 60 + 40)
	run(t, b, "click the stroke", chromedp.MouseClickXY(mx, my))
	waitJS(t, b, "the stroke is selected", fmt.Sprintf(`(() => { const s = window.__canvasd.view.selection; return s.size === 1 && s.has(%q); })()`, first.ID), 2*time.Second)
	waitJS(t, b, "the bar names it", `document.querySelector('.floatbar .fb-count')?.textContent === 'Ink stroke'`, 2*time.Second)
	wbKey(t, b, "\x7f") // Delete
	wbEventually(t, "the first stroke is deleted", func() bool {
		for _, s := range e.inkStrokes(alice.Token, cid) {
			if s.ID == first.ID {
				return false
			}
		}
		return true
	})
	waitJS(t, a, "Alice sees the delete", `document.querySelectorAll('svg.connectors path.ink-line').length === 1`, liveDeadline)
	// Bob's undo brings it back (as a new annotation with the same points).
	wbKey(t, b, "z", chromedp.ModifierCtrl)
	wbEventually(t, "Bob's undo restored the stroke", func() bool { return len(e.inkStrokes(alice.Token, cid)) == 2 })

	// Alice rings the note.
	var ring [][2]float64
	for i := 0; i <= 48; i++ {
		a := float64(i) / 48 * 2.1 * math.Pi
		ring = append(ring, [2]float64{120 + 170*math.Cos(a), 80 + 115*math.Sin(a)})
	}
	for i := range ring {
		ring[i][0], ring[i][1] = wbAt(t, a, ring[i][0], ring[i][1])
	}
	inkDraw(t, a, ring)
	wbEventually(t, "three strokes stored", func() bool { return len(e.inkStrokes(alice.Token, cid)) == 3 })

	// A viewer who opens the canvas now loads every stroke.
	c := e.wbOpen(t, bob.Token, cid)
	waitJS(t, c, "a new viewer sees the three strokes", `document.querySelectorAll('svg.connectors path.ink-line').length === 3`, 3*time.Second)
	// Esc puts the pen down.
	wbKey(t, a, "\x1b")
	waitJS(t, a, "the pen is off", `document.querySelector('#tool-ink').getAttribute('aria-pressed') === 'false'`, time.Second)
	wb3Readme(t, c, "ink")
}
