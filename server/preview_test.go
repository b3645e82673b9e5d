package server

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/canvasd/canvasd/store"
)

// previewPNG GETs the canvas preview and decodes it.
func previewPNG(t *testing.T, e *testEnv, token string, c testCanvas) (*testResp, image.Image) {
	t.Helper()
	r := e.do("GET", c.path("/preview"), token, nil, "").expect(t, 200)
	if ct := r.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png", ct)
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("preview is not a PNG: %v", err)
	}
	return r, img
}

func rgbNear(t *testing.T, what string, got color.Color, want color.NRGBA, tol int) {
	t.Helper()
	c := color.NRGBAModel.Convert(got).(color.NRGBA)
	d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
	if d(c.R, want.R) > tol || d(c.G, want.G) > tol || d(c.B, want.B) > tol {
		t.Errorf("%s: pixel %v, want %v ± %d", what, c, want, tol)
	}
}

// TestCanvasPreview: a canvas with an image and two notes previews as a PNG
// of the documented bound, with each widget where its location says; the
// PNG is cached for the canvas's state (served again even when a re-render
// would differ) and redrawn after a PATCH.
func TestCanvasPreview(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "preview")

	// Empty canvas: the Canvus reference's answer.
	e.do("GET", c.path("/preview"), e.Admin, nil, "").expectMsg(t, 404, "Canvas "+c.ID+" doesn't have preview")

	img := e.mustImage(e.Admin, c, "pattern.png", testPNG(t, 320, 200))
	e.mustJSON("PATCH", c.path("/images/"+img.id()), e.Admin, map[string]any{"location": map[string]any{"x": 0, "y": 0}, "size": map[string]any{"width": 320, "height": 200}}, 200)
	n1 := e.createNote(e.Admin, c, map[string]any{"text": "A", "location": map[string]any{"x": 400, "y": 0}, "size": map[string]any{"width": 300, "height": 300}, "background_color": "#ff0000"})
	e.createNote(e.Admin, c, map[string]any{"text": "B", "location": map[string]any{"x": 800, "y": 100}, "size": map[string]any{"width": 300, "height": 300}, "background_color": "#00ff00"})

	// World bounds (0,0)-(1100,400), margin 4% of 1100 = 44: 1188x488,
	// scaled by 1024/1188 to 1024x421.
	r1, p1 := previewPNG(t, e, e.Admin, c)
	if b := p1.Bounds(); b.Dx() != 1024 || b.Dy() != 421 {
		t.Fatalf("preview %v, want 1024x421", b)
	}
	s := 1024.0 / 1188
	at := func(wx, wy float64) color.Color { return p1.At(int((wx+44)*s), int((wy+44)*s)) }
	rgbNear(t, "note 1 centre", at(550, 150), color.NRGBA{255, 0, 0, 255}, 0)
	rgbNear(t, "note 2 centre", at(950, 250), color.NRGBA{0, 255, 0, 255}, 0)
	// testPattern: red grows with x, green with y; at the image's centre
	// both are about half (blue is x^y: anything).
	if c := color.NRGBAModel.Convert(at(160, 100)).(color.NRGBA); c.R < 110 || c.R > 146 || c.G < 110 || c.G > 146 {
		t.Errorf("image centre %v: want red and green about 128 (the uploaded pattern)", c)
	}
	etag := r1.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	// Cached: with the image's file gone a re-render would draw an empty
	// frame, but the canvas has not changed, so the first PNG is served.
	var blob string
	if err := e.Store.View(func(tx *store.Tx) error {
		w, err := tx.Widget(c.ID, img.id())
		if err == nil {
			blob = w.Blob
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(e.Store.BlobPath(blob))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.Store.BlobPath(blob)); err != nil {
		t.Fatal(err)
	}
	r2, _ := previewPNG(t, e, e.Admin, c)
	if !bytes.Equal(r2.Body, r1.Body) || r2.Header.Get("ETag") != etag {
		t.Error("second GET of an unchanged canvas is not the cached PNG")
	}
	e.do("GET", c.path("/preview"), e.Admin, nil, "", withHeader("If-None-Match", etag)).expect(t, 304)

	// A PATCH changes the canvas: a new ETag and the new colour. The image
	// is drawn from the scaled-image cache (its file is still gone), not
	// decoded again.
	e.mustJSON("PATCH", c.path("/notes/"+n1.id()), e.Admin, map[string]any{"background_color": "#0000ff"}, 200)
	r3, p3 := previewPNG(t, e, e.Admin, c)
	if r3.Header.Get("ETag") == etag {
		t.Error("ETag unchanged after a PATCH")
	}
	rgbNear(t, "note 1 centre after PATCH", p3.At(int(594*s), int(194*s)), color.NRGBA{0, 0, 255, 255}, 0)
	if c := color.NRGBAModel.Convert(p3.At(int(204*s), int(144*s))).(color.NRGBA); c.R < 110 || c.R > 146 || c.G < 110 || c.G > 146 {
		t.Errorf("image centre after PATCH %v: want the cached pattern", c)
	}
	if err := os.WriteFile(e.Store.BlobPath(blob), saved, 0o644); err != nil {
		t.Fatal(err)
	}
	e.do("GET", c.path("/preview"), e.Admin, nil, "", withHeader("If-None-Match", etag)).expect(t, 200)
}

// TestCanvasPreviewAccess: the preview is read with the canvas's rights.
func TestCanvasPreviewAccess(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "preview-access")
	e.createNote(e.Admin, c, nil)
	e.do("GET", c.path("/preview"), "", nil, "").expect(t, 401)
	other := e.createUser("other", false)
	if r := e.do("GET", c.path("/preview"), other.Token, nil, ""); r.Status != 403 && r.Status != 404 {
		t.Errorf("user without access: %s, want 403 or 404", r)
	}
	e.share(e.Admin, c, other.ID, "view")
	previewPNG(t, e, other.Token, c)
}

// TestCanvasPreviewPdf: a PDF widget previews as its first page, rendered
// by poppler (two-pages.pdf: red left half, blue right half).
func TestCanvasPreviewPdf(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "preview-pdf")
	id := e.uploadMedia(e.Admin, c, "pdfs", "page")
	e.mustJSON("PATCH", c.path("/pdfs/"+id), e.Admin, map[string]any{"location": map[string]any{"x": 0, "y": 0}}, 200)
	// 200x100 pt page, margin 8: 216x116, not scaled.
	_, p := previewPNG(t, e, e.Admin, c)
	if b := p.Bounds(); b.Dx() != 216 || b.Dy() != 116 {
		t.Fatalf("preview %v, want 216x116", b)
	}
	rgbNear(t, "page left half", p.At(58, 58), color.NRGBA{255, 0, 0, 255}, 8)
	rgbNear(t, "page right half", p.At(158, 58), color.NRGBA{0, 0, 255, 255}, 8)
}

// metricCount reads canvasd_operation_duration_seconds_count{op=op} from
// GET /metrics (0 when absent).
func metricCount(t *testing.T, e *testEnv, op string) int {
	t.Helper()
	body := string(e.do("GET", "/metrics", "", nil, "").expect(t, 200).Body)
	prefix := `canvasd_operation_duration_seconds_count{op="` + op + `"} `
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// TestCanvasPreviewRendersOncePerState: concurrent requests for one state
// of a canvas share one render, later ones are served from the cache, and
// a change renders once more.
func TestCanvasPreviewRendersOncePerState(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "preview-once")
	note := e.createNote(e.Admin, c, map[string]any{"text": "once"})
	before := metricCount(t, e, "preview")
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("GET", c.path("/preview"), e.Admin, nil, "")
			if r.Status == 200 {
				bodies[i] = r.Body
			}
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if len(b) == 0 || !bytes.Equal(b, bodies[0]) {
			t.Fatalf("request %d: no PNG or a different one", i)
		}
	}
	previewPNG(t, e, e.Admin, c)
	if n := metricCount(t, e, "preview") - before; n != 1 {
		t.Errorf("%d renders for one canvas state, want 1", n)
	}
	e.mustJSON("PATCH", c.path("/notes/"+note.id()), e.Admin, map[string]any{"text": "twice"}, 200)
	previewPNG(t, e, e.Admin, c)
	previewPNG(t, e, e.Admin, c)
	if n := metricCount(t, e, "preview") - before; n != 2 {
		t.Errorf("%d renders after one change, want 2", n)
	}
}
