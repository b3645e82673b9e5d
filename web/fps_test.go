//go:build fps

package web_test

// The pan frame-rate benchmark of issue 16 (BENCHMARKS.md, "Browser client:
// pan frame rate"). Behind the build tag fps: `make test` does not run it,
// `make bench` does:
//
//	go test -tags fps -run '^TestPanFPS$' -count=1 -v ./web/
//
// It fills a canvas with 1,000 and 5,000 notes, opens it in headless
// Chromium, holds Space and pans with real mouse events sent over CDP
// (Input.dispatchMouseEvent, one every 8 ms for about 2 s), and measures the
// frames from requestAnimationFrame timestamps: frames per second over the
// pan, and the median and 95th percentile frame time. Two views each: at
// 100% (a screenful of notes, the rest culled) and fitted to the whole
// canvas (every note on screen, drawn as plain cards). The figures are
// logged, not asserted: they depend on the machine.

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/google/uuid"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// fpsNotes fills a canvas with n notes in a grid (250 × 200 world units per
// cell), written in one store transaction: through the API, each create
// scans the canvas for the top depth, and 5,000 take minutes.
func (e *env) fpsNotes(token, cid string, n int) {
	root := ""
	for id, w := range e.widgets(token, cid) {
		if w["widget_type"] == "SharedCanvas" {
			root = id
		}
	}
	cols := int(math.Ceil(math.Sqrt(float64(n) * 1.6)))
	err := e.st.Write(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			w := &store.Widget{ID: uuid.NewString(), CanvasID: cid, Type: "Note", Props: map[string]any{
				"parent_id": root, "depth": float64(i + 1), "scale": 1.0, "pinned": false, "state": "normal", "title": "",
				"text": fmt.Sprintf("Note %d: an idea worth a second look", i), "background_color": []string{"#fff1a8", "#ffd8b5", "#cfe8ff", "#c9f2dc"}[i%4],
				"location": map[string]any{"x": float64((i % cols) * 250), "y": float64((i / cols) * 200)},
				"size":     map[string]any{"width": 200.0, "height": 150.0}}}
			if err := tx.CreateWidget(w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("create %d notes: %v", n, err)
	}
}

type fpsResult struct {
	frames        int
	fps, p50, p95 float64
	shown         string
}

// fpsPan pans for about 2 s with Space held and returns the frame figures.
func fpsPan(t *testing.T, ctx context.Context) fpsResult {
	t.Helper()
	// Each run has its own record: a loop left from the run before stops on its own.
	evalJS[bool](t, ctx, `(() => { const s = window.__fps = { on: true, t: [] }; const loop = (ts) => { if (!s.on) return; s.t.push(ts); requestAnimationFrame(loop); }; requestAnimationFrame(loop); return true; })()`)
	run(t, ctx, "pan", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		key := func(typ input.DispatchKeyEventType) error {
			_, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: " ", Code: "Space", WindowsVirtualKeyCode: 32})
			return err
		}
		mouse := func(p input.DispatchMouseEventParams) error {
			_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, p)
			return err
		}
		if err := key(input.DispatchKeyEventTypeRawKeyDown); err != nil {
			return err
		}
		x0, y0 := 640.0, 420.0
		if err := mouse(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x0, Y: y0}); err != nil {
			return err
		}
		if err := mouse(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMousePressed, X: x0, Y: y0, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1}); err != nil {
			return err
		}
		const steps = 250
		x, y := x0, y0
		for i := 1; i <= steps; i++ {
			f := float64(i) / steps
			x = x0 + 300*math.Sin(2*math.Pi*2*f)
			y = y0 + 160*math.Sin(2*math.Pi*3*f)
			if err := mouse(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1}); err != nil {
				return err
			}
			time.Sleep(8 * time.Millisecond)
		}
		if err := mouse(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseReleased, X: x, Y: y, Button: input.MouseButtonLeft, ClickCount: 1}); err != nil {
			return err
		}
		return key(input.DispatchKeyEventTypeKeyUp)
	}))
	ts := evalJS[[]float64](t, ctx, `(() => { window.__fps.on = false; return window.__fps.t; })()`)
	if len(ts) < 3 {
		t.Fatalf("only %d frames", len(ts))
	}
	d := make([]float64, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		d = append(d, ts[i]-ts[i-1])
	}
	span := ts[len(ts)-1] - ts[0]
	sort.Float64s(d)
	pct := func(p float64) float64 { return d[int(math.Min(float64(len(d)-1), math.Round(p*float64(len(d)-1))))] }
	return fpsResult{frames: len(d), fps: float64(len(d)) / span * 1000, p50: pct(0.5), p95: pct(0.95),
		shown: evalJS[string](t, ctx, `document.querySelector('#viewport').dataset.shown || '?'`)}
}

func TestPanFPS(t *testing.T) {
	// CANVASD_FPS_NOTES="5000" measures one size only.
	fpsCounts := []int{1000, 5000}
	if v := os.Getenv("CANVASD_FPS_NOTES"); v != "" {
		fpsCounts = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				t.Fatalf("CANVASD_FPS_NOTES=%q: want counts such as 1000,5000", v)
			}
			fpsCounts = append(fpsCounts, n)
		}
	}
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	for _, n := range fpsCounts {
		cid := e.newCanvas(alice, fmt.Sprintf("%d notes", n), nil)
		start := time.Now()
		e.fpsNotes(alice.Token, cid, n)
		t.Logf("%d notes created in %v", n, time.Since(start).Round(time.Millisecond))
		a := e.tab(e.ts.URL+"/c/"+cid+"#token="+alice.Token, 1280, 800)
		waitLive(t, a, "viewer")
		waitJS(t, a, "every note drawn", fmt.Sprintf(`!window.__canvasd.view.loading && document.querySelectorAll('.widget').length === %d`, n), 2*time.Minute)
		for _, view := range []struct{ name, js string }{
			{"100%", `(() => { const v = window.__canvasd.view; v.view = {x: 40, y: 40, z: 1}; v.render(); return true; })()`},
			{"fit (all visible)", `(() => { window.__canvasd.view.fit(); return true; })()`},
		} {
			evalJS[bool](t, a, view.js)
			run(t, a, "settle", chromedp.Sleep(500*time.Millisecond))
			fpsPan(t, a) // warm-up
			r := fpsPan(t, a)
			t.Logf("PanFPS notes=%d view=%q zoom=%.2f shown=%s frames=%d fps=%.1f p50=%.1fms p95=%.1fms",
				n, view.name, evalJS[float64](t, a, `window.__canvasd.view.view.z`), r.shown, r.frames, r.fps, r.p50, r.p95)
		}
	}
}
