package server

// The auth-matrix fixtures of the browsers, tables, generic /widgets,
// annotations, background, colour-preset and uploads-folder routes (issue
// #12), hooked into matrixFixtures (authmatrix_test.go) and readFixtures,
// createKind and patchKind (authmatrix_read_test.go).

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/canvasd/canvasd/store"
	"github.com/google/uuid"
)

// makeTable stores a Table widget as digitizing makes one (see
// deal.saveDigitized): 2×3 cells, a header row, the cell (1, 2) empty and
// the cells (1, 0)–(1, 1) merged. The table routes have no POST: tables
// come from batch-digitize, which needs tesseract and an image; the widget
// it stores is the same record.
func (e *testEnv) makeTable(c testCanvas, title string) string {
	e.t.Helper()
	id := uuid.NewString()
	err := e.Store.Write(func(tx *store.Tx) error {
		cv, err := tx.Canvas(c.ID)
		if err != nil {
			return err
		}
		return tx.CreateWidget(&store.Widget{ID: id, CanvasID: c.ID, Type: "Table", Props: map[string]any{
			"location": map[string]any{"x": 10.0, "y": 20.0}, "size": map[string]any{"width": 360.0, "height": 80.0},
			"parent_id": cv.RootWidget, "depth": 1.0, "scale": 1.0, "pinned": false, "state": "normal",
			"title": title, "n_rows": 2, "n_cols": 3, "header_rows": 1,
			"source_element_id": "img", "source_element_type": "table",
			"cells": []map[string]any{
				{"r": 0, "c": 0, "rowspan": 1, "colspan": 1, "text": "Name"},
				{"r": 0, "c": 1, "rowspan": 1, "colspan": 1, "text": "Qty"},
				{"r": 0, "c": 2, "rowspan": 1, "colspan": 1, "text": "Price"},
				{"r": 1, "c": 0, "rowspan": 1, "colspan": 2, "text": "Apples 3"},
			},
		}})
	})
	if err != nil {
		e.t.Fatalf("table fixture: %v", err)
	}
	return id
}

// markerColor is a colour made from marker, so that a stream line that
// carries it can be told from others.
func markerColor(marker string) string {
	return fmt.Sprintf("#%06x", crc32.ChecksumIEEE([]byte(marker))&0xffffff)
}

func widgetsMoreWriteFixtures(t testing.TB) map[string]func(*matrixWorld) matrixCase {
	png := testPNG(t, 6, 4)
	f := map[string]func(*matrixWorld) matrixCase{
		"POST /api/v1/canvases/:id/browsers": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/browsers"), map[string]any{"url": "https://example.com/"})
		},
		"POST /api/v1/canvases/:id/widgets": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/widgets"), map[string]any{"widget_type": "Note", "text": "m"})
		},
		"PATCH /api/v1/canvases/:id/background": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/background"), map[string]any{"type": "solid_color", "background_color": "#000000"})
		},
		"POST /api/v1/canvases/:id/background": func(w *matrixWorld) matrixCase {
			body, ct := multipartBody(t, testPart{Name: "data", Filename: "bg.png", Data: png}, testPart{Name: "json", Data: []byte(`{"type":"image","fit":"fill"}`)})
			return matrixCase{path: w.canvas().path("/background"), body: body, ctype: ct, viewer: w.vera.Token, editor: w.ed.Token}
		},
		"PATCH /api/v1/canvases/:id/color-presets": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/color-presets"), map[string]any{"note_text": []string{"#123456"}})
		},
		"POST /api/v1/canvases/:id/uploads-folder": func(w *matrixWorld) matrixCase {
			body, ct := multipartBody(t, testPart{Name: "json", Data: []byte(`{"upload_type":"note","text":"m"}`)})
			return matrixCase{path: w.canvas().path("/uploads-folder"), body: body, ctype: ct, viewer: w.vera.Token, editor: w.ed.Token}
		},
	}
	add := func(m map[string]func(*matrixWorld) matrixCase) {
		for k, v := range m {
			f[k] = v
		}
	}
	add(widgetFixtures("browsers", func(w *matrixWorld, c testCanvas) string {
		return w.e.mustJSON("POST", c.path("/browsers"), w.alice.Token, map[string]any{"url": "https://example.com/"}, 200).id()
	}, map[string]any{"title": "b"}))
	add(widgetFixtures("tables", func(w *matrixWorld, c testCanvas) string { return w.e.makeTable(c, "t") },
		map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": "x"}}}))
	add(widgetFixtures("widgets", func(w *matrixWorld, c testCanvas) string { return w.note(c) }, map[string]any{"text": "x"}))
	return f
}

func widgetsMoreReadFixtures() map[string]readFixture {
	setting := func(suffix string, set func(w *readWorld, c testCanvas, color string)) readFixture {
		return func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path(suffix))
			rc.sentinel = func(m string) string {
				col := markerColor(m)
				set(w, c, col)
				return col
			}
			change := rc.change
			rc.change = func(secret string) {
				change(secret)
				set(w, c, markerColor(secret))
			}
			return rc
		}
	}
	return map[string]readFixture{
		"GET /api/v1/canvases/:id/background": setting("/background", func(w *readWorld, c testCanvas, col string) {
			w.e.mustJSON("PATCH", c.path("/background"), w.alice.Token, map[string]any{"type": "solid_color", "background_color": col}, 200)
		}),
		"GET /api/v1/canvases/:id/color-presets": setting("/color-presets", func(w *readWorld, c testCanvas, col string) {
			w.e.mustJSON("PATCH", c.path("/color-presets"), w.alice.Token, map[string]any{"annotation": []string{col}}, 200)
		}),
	}
}

// createMoreKind is createKind for browsers and tables.
func (w *readWorld) createMoreKind(c testCanvas, kind, marker string) (id, line string, ok bool) {
	switch kind {
	case "browsers":
		id := w.e.mustJSON("POST", c.path("/browsers"), w.alice.Token, map[string]any{"url": "https://example.com/", "title": marker}, 200).id()
		return id, marker, true
	case "tables":
		return w.e.makeTable(c, marker), marker, true
	}
	return "", "", false
}

// patchMoreKind is patchKind for browsers and tables: a change carrying m.
func (w *readWorld) patchMoreKind(p, kind, m string) string {
	switch kind {
	case "browsers":
		w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"title": m}, 200)
	case "tables":
		w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"cells": []any{map[string]any{"r": 1, "c": 2, "text": m}}}, 200)
	default:
		panic("unknown widget kind " + kind)
	}
	return m
}
