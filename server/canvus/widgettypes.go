package canvus

// Browsers, tables, annotations and the generic /widgets routes (issue #12):
// the field kinds of widgets.go's applyProps that those types add, and the
// handlers that dispatch on widget_type.

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

const (
	// maxPointsBytes bounds an annotation's points (base64): a stroke of
	// about 5,000 Bezier nodes. Every live viewer is sent the whole stroke.
	maxPointsBytes = 256 << 10
	// bezierFloats is the number of float32 in one Bezier node.
	bezierFloats = 9
	// maxTableCells bounds the cells of one table widget.
	maxTableCells = 10000
)

// applyMoreField validates and applies one field of the kinds this file
// adds. It needs nothing but the widget (no transaction).
func applyMoreField(w *store.Widget, k string, kind fieldKind, raw json.RawMessage) error {
	switch kind {
	case fURL:
		var u string
		if err := json.Unmarshal(raw, &u); err != nil {
			return store.Invalidf(fmt.Sprintf("Field '%s' must be a string", k))
		}
		if err := checkBrowserURL(u); err != nil {
			return err
		}
		w.Props[k] = u
	case fPoints:
		nodes, err := decodePoints(k, raw, 2)
		if err != nil {
			return err
		}
		w.Props[k] = encodePoints(nodes)
	case fPointsOp:
		return applyPointsOp(w, k, raw)
	case fAnnPage:
		f, ok := asNum(raw)
		if !ok || f != math.Trunc(f) {
			return store.Invalidf(fmt.Sprintf("Field '%s' must be an integer", k))
		}
		if f < 1 { // "omitted if < 1"
			delete(w.Props, k)
		} else {
			w.Props[k] = f
		}
	case fCells:
		return applyCellEdits(w, raw)
	case fHeaderRows:
		f, ok := asNum(raw)
		rows := propNum(w.Props["n_rows"])
		if !ok || f != math.Trunc(f) || f < 0 || f > rows {
			return store.Invalidf(fmt.Sprintf("Field 'header_rows' must be an integer from 0 to n_rows (%s)", fmtNum(rows)))
		}
		w.Props[k] = f
	default:
		return store.Invalidf(fmt.Sprintf("Field '%s' cannot be set", k))
	}
	return nil
}

// checkBrowserURL accepts "" (a blank browser) or an absolute http or https
// URL: the web client loads it in a frame, so no javascript:, data: or
// file: URL gets stored.
func checkBrowserURL(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > maxStringFieldBytes {
		return store.Invalidf(fmt.Sprintf("Field 'url' is too long: %d bytes, at most %d", len(u), maxStringFieldBytes))
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return store.Invalidf("Field 'url' must be an absolute http or https URL")
	}
	return nil
}

// --- Annotations: ink strokes on a widget (more/Annotations_API.md).

// A stroke's points are a base64 Float32Array (little-endian, as a browser's
// Float32Array is) of cubic Bezier nodes, 9 floats each, at least two nodes.

func decodeFloats(what string, raw json.RawMessage) ([]float32, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' must be a base64 string", what))
	}
	if len(s) > maxPointsBytes {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' is too long: %d bytes, at most %d", what, len(s), maxPointsBytes))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' is not valid base64", what))
	}
	if len(b)%(4*bezierFloats) != 0 {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' must hold a multiple of %d float32 (Bezier nodes), got %d bytes", what, bezierFloats, len(b)))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, store.Invalidf(fmt.Sprintf("Field '%s' holds a NaN or infinite number", what))
		}
		out[i] = f
	}
	return out, nil
}

func decodePoints(what string, raw json.RawMessage, minNodes int) ([]float32, error) {
	f, err := decodeFloats(what, raw)
	if err != nil {
		return nil, err
	}
	if len(f) < minNodes*bezierFloats {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' must hold at least %d Bezier nodes (%d float32), got %d float32", what, minNodes, minNodes*bezierFloats, len(f)))
	}
	return f, nil
}

func encodePoints(f []float32) string {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// applyPointsOp applies "points:insert": [i, node], "points:change": [i,
// node] or "points:erase": i to the stored stroke, node by node.
func applyPointsOp(w *store.Widget, k string, raw json.RawMessage) error {
	cur, _ := w.Props["points"].(string)
	nodes, err := decodeFloats("points", json.RawMessage(fmt.Sprintf("%q", cur)))
	if cur == "" || err != nil {
		return store.Invalidf(fmt.Sprintf("Field '%s' needs a stroke with points", k))
	}
	n := len(nodes) / bezierFloats
	op := strings.TrimPrefix(k, "points:")
	var idx float64
	var node []float32
	if op == "erase" {
		f, ok := asNum(raw)
		if !ok {
			return store.Invalidf("Field 'points:erase' must be a node index")
		}
		idx = f
	} else {
		var pair []json.RawMessage
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return store.Invalidf(fmt.Sprintf("Field '%s' must be [node index, base64 of %d float32]", k, bezierFloats))
		}
		f, ok := asNum(pair[0])
		if !ok {
			return store.Invalidf(fmt.Sprintf("Field '%s' must be [node index, base64 of %d float32]", k, bezierFloats))
		}
		idx = f
		if node, err = decodeFloats(k, pair[1]); err != nil {
			return err
		}
		if len(node) != bezierFloats {
			return store.Invalidf(fmt.Sprintf("Field '%s' must carry exactly one node (%d float32)", k, bezierFloats))
		}
	}
	hi := n - 1
	if op == "insert" {
		hi = n
	}
	if idx != math.Trunc(idx) || idx < 0 || idx > float64(hi) {
		return store.Invalidf(fmt.Sprintf("Field '%s': node index %s is out of range 0..%d", k, fmtNum(idx), hi))
	}
	i := int(idx) * bezierFloats
	switch op {
	case "insert":
		nodes = append(nodes[:i], append(append([]float32{}, node...), nodes[i:]...)...)
	case "change":
		copy(nodes[i:], node)
	case "erase":
		if n <= 2 {
			return store.Invalidf("Field 'points:erase': a stroke keeps at least 2 nodes; delete the annotation instead")
		}
		nodes = append(nodes[:i], nodes[i+bezierFloats:]...)
	}
	if len(nodes)*4*4/3 > maxPointsBytes {
		return store.Invalidf(fmt.Sprintf("Field '%s' would make the stroke longer than %d bytes", k, maxPointsBytes))
	}
	w.Props["points"] = encodePoints(nodes)
	return nil
}

// annotationJSON is an annotation as a widget's "annotations" array shows
// it: no parent_id, no state, page only when set.
func annotationJSON(a *store.Widget) map[string]any {
	m := map[string]any{"id": a.ID, "depth": propNum(a.Props["depth"]), "line_color": a.Props["line_color"], "points": a.Props["points"]}
	if p, ok := a.Props["page"].(float64); ok && p >= 1 {
		m["page"] = p
	}
	return m
}

// annotationsByParent groups a canvas's annotations by the widget they are
// on, each group by depth (ws is in depth order).
func annotationsByParent(ws []*store.Widget) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, w := range ws {
		if w.Type == "Annotation" {
			out[w.ParentID()] = append(out[w.ParentID()], annotationJSON(w))
		}
	}
	return out
}

func orEmpty(l []map[string]any) []map[string]any {
	if l == nil {
		return []map[string]any{}
	}
	return l
}

// annotationsRequested reports whether ?annotations asks for each widget's
// annotations.
func annotationsRequested(c *gin.Context) bool { return queryFlag(c, "annotations") }

// widgetJSON is w as a GET shows it, with its annotations when asked.
func (s *API) widgetJSON(w *store.Widget, annotations bool) (map[string]any, error) {
	pub := w.Public()
	if !annotations {
		return pub, nil
	}
	var ws []*store.Widget
	if err := s.St.View(func(tx *store.Tx) (err error) { ws, err = tx.Widgets(w.CanvasID); return }); err != nil {
		return nil, err
	}
	pub["annotations"] = orEmpty(annotationsByParent(ws)[w.ID])
	return pub, nil
}

// --- Table widgets: cell edits.

func propNum(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	return 0
}

type tableCell struct {
	R, C, RowSpan, ColSpan float64
	Text                   string
}

func tableCells(w *store.Widget) []tableCell {
	var out []tableCell
	add := func(m map[string]any) {
		t, _ := m["text"].(string)
		out = append(out, tableCell{R: propNum(m["r"]), C: propNum(m["c"]), RowSpan: max(propNum(m["rowspan"]), 1), ColSpan: max(propNum(m["colspan"]), 1), Text: t})
	}
	switch l := w.Props["cells"].(type) {
	case []any:
		for _, v := range l {
			if m, ok := v.(map[string]any); ok {
				add(m)
			}
		}
	case []map[string]any:
		for _, m := range l {
			add(m)
		}
	}
	return out
}

// applyCellEdits applies "cells": [{"r", "c", "text"}, ...]: each edit sets
// the text of the cell at row r, column c. A cell that does not exist yet
// (an empty position of a sparse table) is added, 1×1. A position inside a
// merged cell, out of the table, or named twice is refused; rowspan and
// colspan may be echoed but not changed.
func applyCellEdits(w *store.Widget, raw json.RawMessage) error {
	var edits []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &edits); err != nil {
		return store.Invalidf("Field 'cells' must be an array of {r, c, text}")
	}
	rows, cols := propNum(w.Props["n_rows"]), propNum(w.Props["n_cols"])
	cells := tableCells(w)
	if len(edits) > maxTableCells {
		return store.Invalidf(fmt.Sprintf("Field 'cells': at most %d edits", maxTableCells))
	}
	seen := map[[2]float64]bool{}
	for i, e := range edits {
		r, okR := asNum(e["r"])
		c, okC := asNum(e["c"])
		if !okR || !okC || r != math.Trunc(r) || c != math.Trunc(c) {
			return store.Invalidf(fmt.Sprintf("cells[%d]: 'r' and 'c' must be integers", i))
		}
		if r < 0 || c < 0 || r >= rows || c >= cols {
			return store.Invalidf(fmt.Sprintf("cells[%d]: (%s, %s) is outside the %sx%s table", i, fmtNum(r), fmtNum(c), fmtNum(rows), fmtNum(cols)))
		}
		if seen[[2]float64{r, c}] {
			return store.Invalidf(fmt.Sprintf("cells[%d]: (%s, %s) is edited twice", i, fmtNum(r), fmtNum(c)))
		}
		seen[[2]float64{r, c}] = true
		var text string
		if err := json.Unmarshal(e["text"], &text); e["text"] == nil || err != nil {
			return store.Invalidf(fmt.Sprintf("cells[%d]: 'text' must be a string", i))
		}
		if len(text) > maxStringFieldBytes {
			return store.Invalidf(fmt.Sprintf("cells[%d]: 'text' is too long: %d bytes, at most %d", i, len(text), maxStringFieldBytes))
		}
		at := -1
		for j, cell := range cells {
			if cell.R == r && cell.C == c {
				at = j
				break
			}
			if r >= cell.R && r < cell.R+cell.RowSpan && c >= cell.C && c < cell.C+cell.ColSpan {
				return store.Invalidf(fmt.Sprintf("cells[%d]: (%s, %s) is inside the merged cell at (%s, %s); edit that cell", i, fmtNum(r), fmtNum(c), fmtNum(cell.R), fmtNum(cell.C)))
			}
		}
		span := tableCell{RowSpan: 1, ColSpan: 1}
		if at >= 0 {
			span = cells[at]
		}
		for _, k := range [...]string{"rowspan", "colspan"} {
			if e[k] == nil {
				continue
			}
			want := span.RowSpan
			if k == "colspan" {
				want = span.ColSpan
			}
			if f, ok := asNum(e[k]); !ok || f != want {
				return store.Invalidf(fmt.Sprintf("cells[%d]: '%s' cannot be changed (it is %s); only the text of a cell is edited", i, k, fmtNum(want)))
			}
		}
		if at >= 0 {
			cells[at].Text = text
		} else {
			if len(cells) >= maxTableCells {
				return store.Invalidf(fmt.Sprintf("Field 'cells': a table holds at most %d cells", maxTableCells))
			}
			cells = append(cells, tableCell{R: r, C: c, RowSpan: 1, ColSpan: 1, Text: text})
		}
	}
	sort.SliceStable(cells, func(i, j int) bool {
		if cells[i].R != cells[j].R {
			return cells[i].R < cells[j].R
		}
		return cells[i].C < cells[j].C
	})
	out := make([]any, len(cells))
	for i, cell := range cells {
		out[i] = map[string]any{"r": cell.R, "c": cell.C, "rowspan": cell.RowSpan, "colspan": cell.ColSpan, "text": cell.Text}
	}
	w.Props["cells"] = out
	return nil
}

// --- Generic /widgets: POST, PATCH and DELETE dispatch on widget_type.

// kindOf is the widget kind of type typ, for the generic routes: the kinds
// of WidgetKinds, and Annotation, which has no route of its own.
func kindOf(typ string) (widgetKind, bool) {
	if typ == "Annotation" {
		return widgetKind{Typ: "Annotation"}, true
	}
	for _, k := range WidgetKinds {
		if k.Typ == typ {
			return k, true
		}
	}
	return widgetKind{}, false
}

// CreateAnyWidget is POST /canvases/:id/widgets: the body's widget_type
// (required) picks the kind.
func (s *API) CreateAnyWidget(c *gin.Context) {
	body, ok := widgetBody(c)
	if !ok {
		return
	}
	raw, given := body["widget_type"]
	if !given {
		core.CanvusError(c, http.StatusBadRequest, "Field 'widget_type' is required")
		return
	}
	if err := checkWidgetType(raw); err != nil {
		core.CanvusStoreError(c, err, "Widget")
		return
	}
	var typ string
	json.Unmarshal(raw, &typ)
	k, known := kindOf(typ)
	switch {
	case typ == "Image" || typ == "Pdf" || typ == "Video":
		core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("%s widgets are uploaded as files: POST /canvases/:id/%s (multipart)", typ, k.Path))
		return
	case !known || k.NoCreate:
		core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Widgets of type '%s' cannot be created through /widgets", typ))
		return
	}
	s.createWidget(c, k, body)
}

// PatchAnyWidget is PATCH /canvases/:id/widgets/:wid: the widget's own type
// decides the fields; a widget_type in the body must be that type.
func (s *API) PatchAnyWidget(c *gin.Context) {
	body, ok := widgetBody(c)
	if !ok {
		return
	}
	w, ok := s.loadWidget(c, "")
	if !ok {
		return
	}
	if raw, given := body["widget_type"]; given {
		var typ string
		if err := json.Unmarshal(raw, &typ); err != nil || typ != w.Type {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Field 'widget_type' cannot be changed: this widget is a %s", w.Type))
			return
		}
	}
	k, known := kindOf(w.Type)
	if !known {
		core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("A %s widget cannot be changed through /widgets", w.Type))
		return
	}
	s.patchWidget(c, k, body)
}
