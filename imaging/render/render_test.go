package render

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

// goldenTolerance is the largest mean absolute difference per channel
// (0..255) between a render and its golden file: anti-aliasing may differ in
// the last bit between CPUs (fused multiply-add), a misplaced widget or a
// wrong colour moves the mean by far more.
const goldenTolerance = 0.5

func newRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	r, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// photo is a deterministic 320x200 picture: a sky gradient, a sun and a
// ground band.
func photo() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 320, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 320; x++ {
			c := color.NRGBA{uint8(80 + y/3), uint8(140 + y/4), 230, 255}
			if y > 140 {
				c = color.NRGBA{60, uint8(120 + (x % 40)), 60, 255}
			}
			if dx, dy := float64(x-240), float64(y-60); dx*dx+dy*dy < 30*30 {
				c = color.NRGBA{250, 200, 40, 255}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// sampleCanvas is a canvas with an image, two notes, a curved connector
// between them, a table with a header row and a span, a small note that is
// a child of the image (location in the image's frame, half scale) and an
// anchor around it all.
func sampleCanvas() []Widget {
	loc := func(x, y float64) map[string]any { return map[string]any{"x": x, "y": y} }
	size := func(w, h float64) map[string]any { return map[string]any{"width": w, "height": h} }
	return []Widget{
		{ID: "root", Type: "SharedCanvas", Props: map[string]any{"location": loc(0, 0), "size": size(10000, 10000)}},
		{ID: "img", Type: "Image", Props: map[string]any{"parent_id": "root", "location": loc(100, 100), "size": size(640, 400), "scale": 1.0, "depth": 1.0}},
		{ID: "n1", Type: "Note", Props: map[string]any{"parent_id": "root", "location": loc(900, 80), "size": size(300, 300), "scale": 1.0, "depth": 2.0,
			"title": "Launch plan", "text": "Ship the preview renderer, then wire the route with a cache keyed by the last event seq.",
			"background_color": "#fff3a8ff"}},
		{ID: "n2", Type: "Note", Props: map[string]any{"parent_id": "root", "location": loc(1400, 420), "size": size(300, 200), "scale": 1.2, "depth": 3.0,
			"text": "Dark note, light text", "background_color": "#1e3a8a", "auto_text_color": true}},
		{ID: "c1", Type: "Connector", Props: map[string]any{"type": "curve", "line_color": "#e11d48ff", "line_width": 6.0,
			"src": map[string]any{"id": "n1", "rel_location": loc(1, 0.5), "tip": "none", "auto_location": false},
			"dst": map[string]any{"id": "n2", "rel_location": loc(0, 0.5), "tip": "solid-equilateral-triangle", "auto_location": false}}},
		{ID: "t1", Type: "Table", Props: map[string]any{"parent_id": "root", "location": loc(100, 620), "size": size(600, 260), "scale": 1.0, "depth": 4.0,
			"title": "Quarterly figures", "n_rows": 4.0, "n_cols": 3.0, "header_rows": 1.0,
			"cells": []any{
				map[string]any{"r": 0.0, "c": 0.0, "rowspan": 1.0, "colspan": 1.0, "text": "Region"},
				map[string]any{"r": 0.0, "c": 1.0, "rowspan": 1.0, "colspan": 1.0, "text": "Q1"},
				map[string]any{"r": 0.0, "c": 2.0, "rowspan": 1.0, "colspan": 1.0, "text": "Q2"},
				map[string]any{"r": 1.0, "c": 0.0, "rowspan": 1.0, "colspan": 1.0, "text": "North"},
				map[string]any{"r": 1.0, "c": 1.0, "rowspan": 1.0, "colspan": 1.0, "text": "1,200"},
				map[string]any{"r": 1.0, "c": 2.0, "rowspan": 1.0, "colspan": 1.0, "text": "1,340"},
				map[string]any{"r": 2.0, "c": 0.0, "rowspan": 1.0, "colspan": 1.0, "text": "South"},
				map[string]any{"r": 2.0, "c": 1.0, "rowspan": 1.0, "colspan": 1.0, "text": "980"},
				map[string]any{"r": 2.0, "c": 2.0, "rowspan": 1.0, "colspan": 1.0, "text": "1,015"},
				map[string]any{"r": 3.0, "c": 0.0, "rowspan": 1.0, "colspan": 3.0, "text": "Totals pending audit"},
			}}},
		{ID: "n3", Type: "Note", Props: map[string]any{"parent_id": "img", "location": loc(400, 240), "size": size(300, 200), "scale": 0.5, "depth": 1.0,
			"text": "child of the image", "background_color": "#bbf7d0", "text_color": "#14532d"}},
		{ID: "a1", Type: "Anchor", Props: map[string]any{"parent_id": "root", "location": loc(60, 40), "size": size(1800, 900), "scale": 1.0, "depth": 0.0, "anchor_name": "Overview"}},
	}
}

func photoLoader(calls *[]string) ImageLoader {
	pic := photo()
	return func(_ context.Context, w Widget, _ image.Point) (image.Image, error) {
		if calls != nil {
			*calls = append(*calls, w.ID)
		}
		if w.ID == "img" {
			return pic, nil
		}
		return nil, nil
	}
}

func TestRenderGolden(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"canvas.png", Options{MaxSide: 800}},
		{"canvas-anchors.png", Options{MaxSide: 800, Anchors: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			tc.opt.LoadImage = photoLoader(&calls)
			got, err := r.Render(context.Background(), sampleCanvas(), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 || calls[0] != "img" {
				t.Errorf("loader calls = %v, want [img]", calls)
			}
			b := got.Bounds()
			if max(b.Dx(), b.Dy()) != 800 {
				t.Errorf("long side = %d, want 800 (MaxSide)", max(b.Dx(), b.Dy()))
			}
			compareGolden(t, filepath.Join("testdata", tc.name), got)
		})
	}
}

func compareGolden(t *testing.T, path string, got image.Image) {
	t.Helper()
	if *update {
		var buf bytes.Buffer
		if err := png.Encode(&buf, got); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("size %v, golden %v", got.Bounds(), want.Bounds())
	}
	if d := meanAbsDiff(got, want); d > goldenTolerance {
		t.Errorf("mean abs diff %.3f against %s, tolerance %.1f", d, path, goldenTolerance)
	}
}

func meanAbsDiff(a, b image.Image) float64 {
	r := a.Bounds()
	sum := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c1 := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			c2 := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			sum += math.Abs(float64(c1.R)-float64(c2.R)) + math.Abs(float64(c1.G)-float64(c2.G)) +
				math.Abs(float64(c1.B)-float64(c2.B)) + math.Abs(float64(c1.A)-float64(c2.A))
		}
	}
	return sum / float64(4*r.Dx()*r.Dy())
}
