package render

import (
	"context"
	"image"
	"image/color"
	"path/filepath"
	"testing"
)

// page is a 100x140 "PDF page": white, a dark title bar and grey lines.
func page() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 100, 140))
	for y := 0; y < 140; y++ {
		for x := 0; x < 100; x++ {
			c := color.NRGBA{255, 255, 255, 255}
			switch {
			case y >= 10 && y < 22 && x >= 10 && x < 90:
				c = color.NRGBA{30, 41, 59, 255}
			case y >= 34 && y%10 < 3 && x >= 10 && x < 80+(y%7):
				c = color.NRGBA{148, 163, 184, 255}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// TestRenderMediaGolden: a Pdf widget shows the loader's page; one without
// a page, and a Video, show their labelled boxes.
func TestRenderMediaGolden(t *testing.T) {
	r := newRenderer(t)
	loc := func(x, y float64) map[string]any { return map[string]any{"x": x, "y": y} }
	size := func(w, h float64) map[string]any { return map[string]any{"width": w, "height": h} }
	ws := []Widget{
		{ID: "pdf", Type: "Pdf", Props: map[string]any{"location": loc(0, 0), "size": size(300, 420), "title": "Report"}},
		{ID: "pdf-none", Type: "Pdf", Props: map[string]any{"location": loc(360, 0), "size": size(300, 420), "title": "Missing"}},
		{ID: "vid", Type: "Video", Props: map[string]any{"location": loc(720, 0), "size": size(480, 270), "title": "Demo", "duration": 75.4}},
	}
	var asked []string
	pg := page()
	got, err := r.Render(context.Background(), ws, Options{MaxSide: 600, LoadImage: func(_ context.Context, w Widget, _ image.Point) (image.Image, error) {
		asked = append(asked, w.ID)
		if w.ID == "pdf" {
			return pg, nil
		}
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != "pdf" || asked[1] != "pdf-none" {
		t.Errorf("loader asked for %v, want the two Pdf widgets (never a Video)", asked)
	}
	compareGolden(t, filepath.Join("testdata", "media.png"), got)
}
