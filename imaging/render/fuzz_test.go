package render

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRender: any widget JSON (as a hostile client could store it) renders
// within MaxSide or reports ErrEmpty; it never panics.
func FuzzRender(f *testing.F) {
	seed, _ := json.Marshal(func() []map[string]any {
		var out []map[string]any
		for _, w := range sampleCanvas() {
			m := map[string]any{"id": w.ID, "widget_type": w.Type}
			for k, v := range w.Props {
				m[k] = v
			}
			out = append(out, m)
		}
		return out
	}())
	f.Add(seed)
	f.Add([]byte(`[{"id":"a","widget_type":"Note","size":{"width":1e308,"height":1e-308},"location":{"x":-1e308,"y":5},"text":"x"}]`))
	f.Add([]byte(`[{"id":"t","widget_type":"Table","size":{"width":10,"height":10},"n_rows":3,"cells":[{"r":0,"c":0,"rowspan":-4,"text":"\u0000"}]}]`))
	f.Add([]byte(`[{"id":"c","widget_type":"Connector","src":{"id":"c"},"dst":{"id":"c"}},{"id":"p","widget_type":"Pdf","parent_id":"p","size":{"width":1,"height":1}}]`))
	r := newRenderer(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var raw []map[string]any
		if json.Unmarshal(b, &raw) != nil || len(raw) > 64 {
			return
		}
		ws := make([]Widget, 0, len(raw))
		for _, m := range raw {
			id, _ := m["id"].(string)
			typ, _ := m["widget_type"].(string)
			ws = append(ws, Widget{ID: id, Type: typ, Props: m})
		}
		img, err := r.Render(context.Background(), ws, Options{MaxSide: 64, Anchors: true})
		if err != nil {
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 || b.Dx() > 64 || b.Dy() > 64 {
			t.Fatalf("bounds %v outside 1..64", b)
		}
	})
}
