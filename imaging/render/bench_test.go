package render

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRender draws a busy canvas: 400 notes with text in a 20x20
// grid, 20 photos and 100 connectors, at the default 1024 px bound.
func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	var ws []Widget
	for i := 0; i < 400; i++ {
		ws = append(ws, Widget{ID: fmt.Sprint("n", i), Type: "Note", Props: map[string]any{
			"location": map[string]any{"x": float64(i%20) * 350, "y": float64(i/20) * 350},
			"size":     map[string]any{"width": 300.0, "height": 300.0}, "depth": float64(i),
			"title": "Idea", "text": "A note with a few words of text that wraps onto several lines."}})
	}
	for i := 0; i < 20; i++ {
		ws = append(ws, Widget{ID: fmt.Sprint("i", i), Type: "Image", Props: map[string]any{
			"location": map[string]any{"x": float64(i) * 350, "y": 7100.0},
			"size":     map[string]any{"width": 320.0, "height": 200.0}, "depth": 500.0}})
	}
	for i := 0; i < 100; i++ {
		ws = append(ws, Widget{ID: fmt.Sprint("c", i), Type: "Connector", Props: map[string]any{"type": "curve",
			"src": map[string]any{"id": fmt.Sprint("n", i), "rel_location": map[string]any{"x": 1.0, "y": 0.5}},
			"dst": map[string]any{"id": fmt.Sprint("n", i+21), "rel_location": map[string]any{"x": 0.0, "y": 0.5}, "tip": "solid-equilateral-triangle"}}})
	}
	opt := Options{LoadImage: photoLoader(nil)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(context.Background(), ws, opt); err != nil {
			b.Fatal(err)
		}
	}
}
