package canvus

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

type widgetKind struct {
	Path, Typ string
	// NoCreate: the kind has no POST route (Table widgets are made by
	// digitizing an image).
	NoCreate bool
}

var WidgetKinds = []widgetKind{
	{"notes", "Note", false},
	{"anchors", "Anchor", false},
	{"connectors", "Connector", false},
	{"images", "Image", false},
	{"pdfs", "Pdf", false},
	{"videos", "Video", false},
	{"browsers", "Browser", false},
	{"tables", "Table", true},
}

type fieldKind int

const (
	fNum fieldKind = iota
	fPosNum
	fBool
	fString
	fPoint
	fSize
	fParent
	fEnd
	fOneShot  // accepted, acted on, never stored (auto_raise)
	fColor    // a hex colour string (validColor)
	fPage     // a PDF's displayed page: an integer from 1 to its page count
	fNonNeg   // a number >= 0
	fPlayback // a video's playback_state: STOPPED, PLAYING or PAUSED
	// The kinds of widgettypes.go (applyMoreField).
	fURL        // a browser's url: "" or an absolute http(s) URL
	fPoints     // an annotation's points: base64 float32 Bezier nodes
	fPointsOp   // points:insert, points:change, points:erase
	fAnnPage    // an annotation's page: an integer; < 1 is none
	fCells      // a table's cell edits
	fHeaderRows // a table's header_rows: 0..n_rows
)

var commonFields = map[string]fieldKind{
	"location": fPoint, "size": fSize, "depth": fNum, "scale": fPosNum, "pinned": fBool,
	"parent_id": fParent, "auto_raise": fOneShot,
}

var typeFields = map[string]map[string]fieldKind{
	"Note":      {"text": fString, "title": fString, "background_color": fColor, "text_color": fColor, "auto_text_color": fBool},
	"Anchor":    {"anchor_name": fString, "anchor_index": fNum},
	"Image":     {"title": fString, "original_filename": fString},
	"Pdf":       {"title": fString, "original_filename": fString, "index": fPage},
	"Video":     {"title": fString, "original_filename": fString, "playback_position": fNonNeg, "playback_state": fPlayback},
	"Connector": {"src": fEnd, "dst": fEnd, "line_color": fColor, "line_width": fPosNum, "type": fString},
	"Browser":   {"url": fURL, "title": fString, "main_frame_scroll_offset": fPoint, "transparent_mode": fBool},
	"Table":     {"title": fString, "cells": fCells, "header_rows": fHeaderRows},
	"Annotation": {"parent_id": fParent, "depth": fNum, "line_color": fColor, "page": fAnnPage, "points": fPoints,
		"points:insert": fPointsOp, "points:change": fPointsOp, "points:erase": fPointsOp},
}

// fieldsByType is fieldsOf for each type of typeFields, built once; the
// maps are read-only.
var fieldsByType = func() map[string]map[string]fieldKind {
	m := map[string]map[string]fieldKind{}
	for typ := range typeFields {
		m[typ] = buildFields(typ)
	}
	return m
}()

// fieldsOf returns the fields a widget of type typ accepts. Read-only.
func fieldsOf(typ string) map[string]fieldKind {
	if f, ok := fieldsByType[typ]; ok {
		return f
	}
	return buildFields(typ)
}

func buildFields(typ string) map[string]fieldKind {
	out := map[string]fieldKind{}
	if typ != "Connector" && typ != "Annotation" {
		for k, v := range commonFields {
			out[k] = v
		}
	}
	for k, v := range typeFields[typ] {
		out[k] = v
	}
	return out
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func asNum(raw json.RawMessage) (float64, bool) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// applyProps validates body fields against the widget's type and applies
// them. It returns whether auto_raise was asked for.
func applyProps(tx *store.Tx, w *store.Widget, body map[string]json.RawMessage, create bool) (bool, error) {
	fields := fieldsOf(w.Type)
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	autoRaise := false
	for _, k := range keys {
		raw := body[k]
		kind, ok := fields[k]
		if !ok {
			if k == "widget_type" {
				if err := checkWidgetType(raw); err != nil {
					return false, err
				}
			}
			// Read-only fields echoed back, and fields the reference does not
			// list for this type (an Anchor's "title", a Connector's "label"),
			// are ignored: neither stored nor echoed (issue #12).
			continue
		}
		switch kind {
		case fNum, fPosNum:
			f, ok := asNum(raw)
			if !ok {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a number", k))
			}
			if k == "depth" && w.Type == "Image" && f < 1.0 {
				return false, store.Invalidf("Depth must be >= 1.0, got " + fmtNum(f))
			}
			if k == "depth" && f < 0 {
				return false, store.Invalidf("Depth must be >= 0, got " + fmtNum(f))
			}
			if kind == fPosNum && f <= 0 {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be positive, got %s", k, fmtNum(f)))
			}
			w.Props[k] = f
		case fBool, fOneShot:
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a boolean", k))
			}
			if kind == fOneShot {
				autoRaise = b
			} else {
				w.Props[k] = b
			}
		case fString:
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a string", k))
			}
			if limit := maxFieldBytes(k); len(s) > limit {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' is too long: %d bytes, at most %d", k, len(s), limit))
			}
			w.Props[k] = s
		case fColor:
			var s string
			err := json.Unmarshal(raw, &s)
			if limit := maxFieldBytes(k); err == nil && len(s) > limit {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' is too long: %d bytes, at most %d", k, len(s), limit))
			}
			if err != nil || !ValidColor(s) {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a hex colour: #RRGGBB or #RRGGBBAA", k))
			}
			w.Props[k] = s
		case fPoint:
			var p struct{ X, Y *float64 }
			if err := json.Unmarshal(raw, &p); err != nil || p.X == nil || p.Y == nil || math.IsNaN(*p.X) || math.IsNaN(*p.Y) {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be an object with numbers x and y", k))
			}
			w.Props[k] = map[string]any{"x": *p.X, "y": *p.Y}
		case fSize:
			var p struct{ Width, Height *float64 }
			if err := json.Unmarshal(raw, &p); err != nil || p.Width == nil || p.Height == nil {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be an object with numbers width and height", k))
			}
			if *p.Width <= 0 || *p.Height <= 0 || math.IsInf(*p.Width, 0) || math.IsInf(*p.Height, 0) {
				return false, store.Invalidf(fmt.Sprintf("Size must have positive width and height, got %sx%s", fmtNum(*p.Width), fmtNum(*p.Height)))
			}
			wd, ht := *p.Width, *p.Height
			if w.Type == "Image" && w.PixelW > 0 && w.PixelH > 0 {
				wd, ht = fitBox(float64(w.PixelW), float64(w.PixelH), wd, ht)
			}
			w.Props[k] = map[string]any{"width": wd, "height": ht}
		case fParent:
			var pid string
			if err := json.Unmarshal(raw, &pid); err != nil {
				return false, store.Invalidf("Field 'parent_id' must be a string")
			}
			if pid == "" { // "" or null: the canvas's root widget (issue #12)
				pid = rootOf(tx, w.CanvasID)
			}
			if err := checkParent(tx, w, pid); err != nil {
				return false, err
			}
			w.Props[k] = pid
		case fPage:
			f, ok := asNum(raw)
			if !ok || f != math.Trunc(f) || f < 1 {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a page number from 1", k))
			}
			if w.Pages > 0 && f > float64(w.Pages) {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' is %s, but the PDF has %d pages", k, fmtNum(f), w.Pages))
			}
			w.Props[k] = f
		case fNonNeg:
			f, ok := asNum(raw)
			if !ok || f < 0 {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be a number >= 0", k))
			}
			w.Props[k] = f
		case fPlayback:
			var st string
			if err := json.Unmarshal(raw, &st); err != nil || (st != "STOPPED" && st != "PLAYING" && st != "PAUSED") {
				return false, store.Invalidf(fmt.Sprintf("Field '%s' must be one of STOPPED, PLAYING, PAUSED", k))
			}
			w.Props[k] = st
		case fEnd:
			end, err := parseEnd(tx, w.CanvasID, k, raw)
			if err != nil {
				return false, err
			}
			w.Props[k] = end
		default:
			if err := applyMoreField(w, k, kind, raw); err != nil {
				return false, err
			}
		}
	}
	if w.Type == "Connector" && (w.Props["src"] == nil || w.Props["dst"] == nil) {
		return false, store.Invalidf("Connector needs both 'src' and 'dst'")
	}
	if w.Type == "Annotation" && w.Props["points"] == nil {
		return false, store.Invalidf("Annotation needs 'points': base64 of at least 18 float32 (two Bezier nodes)")
	}
	return autoRaise, nil
}

// Widget string fields are bounded so that one event, which carries the
// whole widget, stays small: every live viewer is sent it, and the event
// log keeps thousands of them.
const (
	// maxTextBytes bounds a note's text.
	maxTextBytes = 256 << 10
	// maxStringFieldBytes bounds every other string field (titles, names,
	// colours, file names).
	maxStringFieldBytes = 4 << 10
)

// ValidColor reports whether s is a colour in the Canvus reference's
// format: '#' and hex digits, #RRGGBB or #RRGGBBAA ("#ffffff",
// "#e7e7f2ff"). Either case is accepted, and so are the CSS short forms
// #RGB and #RGBA. Nothing else is: the web client paints these values.
func ValidColor(s string) bool {
	if len(s) < 2 || s[0] != '#' {
		return false
	}
	switch len(s) - 1 {
	case 3, 4, 6, 8:
	default:
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// maxFieldBytes is the longest value, in bytes, the string field k takes.
func maxFieldBytes(k string) int {
	if k == "text" {
		return maxTextBytes
	}
	return maxStringFieldBytes
}

// fitBox fits a pw×ph image into the bw×bh box keeping the aspect ratio.
func fitBox(pw, ph, bw, bh float64) (float64, float64) {
	s := math.Min(bw/pw, bh/ph)
	return core.Round6(pw * s), core.Round6(ph * s)
}

// checkWidgetType accepts a widget_type in a body (clients echo widgets
// back; the route decides the type) when it names a widget type; anything
// else is refused.
func checkWidgetType(raw json.RawMessage) error {
	var t string
	if err := json.Unmarshal(raw, &t); err != nil {
		return store.Invalidf("Field 'widget_type' must be a string")
	}
	if _, known := typeFields[t]; !known && t != "SharedCanvas" {
		return store.Invalidf(fmt.Sprintf("Unknown widget_type '%s'", t))
	}
	return nil
}

func checkParent(tx *store.Tx, w *store.Widget, pid string) error {
	if pid == "" {
		return store.Invalidf("parent_id must name a widget of this canvas")
	}
	if pid == w.ID {
		return store.Invalidf("A widget cannot be its own parent")
	}
	p, err := tx.Widget(w.CanvasID, pid)
	if err != nil {
		return store.Invalidf("parent_id " + pid + " is not a widget of this canvas")
	}
	if p.Type == "Annotation" {
		return store.Invalidf("parent_id " + pid + " is an annotation: annotations have no children")
	}
	if w.Type == "Annotation" && p.Type == "Connector" {
		return store.Invalidf("parent_id " + pid + " is a connector: connectors take no annotations")
	}
	for depth := 0; p.ParentID() != "" && depth < 10000; depth++ {
		if p.ParentID() == w.ID {
			return store.Invalidf("parent_id would make a cycle")
		}
		if p, err = tx.Widget(w.CanvasID, p.ParentID()); err != nil {
			break
		}
	}
	return nil
}

func parseEnd(tx *store.Tx, canvasID, name string, raw json.RawMessage) (map[string]any, error) {
	var e struct {
		AutoLocation *bool `json:"auto_location"`
		ID           string
		RelLocation  *struct{ X, Y float64 } `json:"rel_location"`
		Tip          *string
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, store.Invalidf(fmt.Sprintf("Field '%s' must be an object with id, rel_location, tip and auto_location", name))
	}
	if ew, err := tx.Widget(canvasID, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err // a failed read is not a bad request
	} else if err != nil || e.ID == "" || ew.Type == "Annotation" {
		return nil, store.Invalidf(fmt.Sprintf("%s.id must name a widget of this canvas", name))
	}
	out := map[string]any{"id": e.ID, "auto_location": false, "rel_location": map[string]any{"x": 0.5, "y": 0.5}, "tip": "none"}
	if e.AutoLocation != nil {
		out["auto_location"] = *e.AutoLocation
	}
	if e.RelLocation != nil {
		out["rel_location"] = map[string]any{"x": e.RelLocation.X, "y": e.RelLocation.Y}
	}
	if e.Tip != nil {
		out["tip"] = *e.Tip
	}
	return out, nil
}

func rootOf(tx *store.Tx, canvasID string) string {
	cv, err := tx.Canvas(canvasID)
	if err != nil {
		return ""
	}
	return cv.RootWidget
}

func widgetBody(c *gin.Context) (map[string]json.RawMessage, bool) {
	var body map[string]json.RawMessage
	if !core.CanvusJSON(c, &body) {
		return nil, false
	}
	return body, true
}

func (s *API) ListWidgets(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cv := core.CanvasOf(c)
		ann := annotationsRequested(c)
		list, err := s.widgetList(cv.ID, typ, ann)
		if err != nil {
			core.CanvusStoreError(c, err, "Widget")
			return
		}
		s.respond(c, list, &streamSpec{topic: cv.ID, kind: "widget", list: true, typ: typ, annotations: ann})
	}
}

// widgetList is the canvas's widgets of type typ ("" = all); a store read
// error is returned, never an empty list.
// Annotations are never listed as widgets; with annotations each widget
// carries its "annotations" array.
func (s *API) widgetList(canvasID, typ string, annotations bool) ([]map[string]any, error) {
	var ws []*store.Widget
	if err := s.St.View(func(tx *store.Tx) (err error) { ws, err = tx.Widgets(canvasID); return }); err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(ws))
	var byParent map[string][]map[string]any
	if annotations {
		byParent = annotationsByParent(ws)
	}
	for _, w := range ws {
		if w.Type == "Annotation" {
			continue
		}
		if typ == "" || w.Type == typ {
			pub := w.Public()
			if annotations {
				pub["annotations"] = orEmpty(byParent[w.ID])
			}
			out = append(out, pub)
		}
	}
	return out, nil
}

// loadWidget reads :wid of the canvas and checks its type ("" = any).
func (s *API) loadWidget(c *gin.Context, typ string) (*store.Widget, bool) {
	var w *store.Widget
	err := s.St.View(func(tx *store.Tx) (err error) { w, err = tx.Widget(core.CanvasOf(c).ID, c.Param("wid")); return })
	name := "Widget"
	if typ != "" {
		name = typ
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		core.CanvusStoreError(c, err, name) // a failed read: 500, logged
		return nil, false
	}
	if err != nil || (typ != "" && w.Type != typ) {
		core.CanvusError(c, http.StatusNotFound, name+" not found")
		return nil, false
	}
	return w, true
}

func (s *API) GetWidget(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		w, ok := s.loadWidget(c, typ)
		if !ok {
			return
		}
		setETag(c, s.widgetVersion(w.CanvasID, w.ID))
		ann := annotationsRequested(c)
		pub, err := s.widgetJSON(w, ann)
		if err != nil {
			core.CanvusStoreError(c, err, "Widget")
			return
		}
		s.respond(c, pub, &streamSpec{topic: w.CanvasID, kind: "widget", id: w.ID, annotations: ann})
	}
}

// withWidgetBody is a handler that reads the request's widget body
// (widgetBody answers when it cannot) and passes it to do.
func withWidgetBody(do func(c *gin.Context, body map[string]json.RawMessage)) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, ok := widgetBody(c)
		if !ok {
			return
		}
		do(c, body)
	}
}

func (s *API) CreateWidget(k widgetKind) gin.HandlerFunc {
	return withWidgetBody(func(c *gin.Context, body map[string]json.RawMessage) { s.createWidget(c, k, body) })
}

// createWidget creates a widget of kind k from body and answers it.
func (s *API) createWidget(c *gin.Context, k widgetKind, body map[string]json.RawMessage) {
	cv := core.CanvasOf(c)
	var out *store.Widget
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		w := &store.Widget{ID: uuid.NewString(), CanvasID: cv.ID, Type: k.Typ, Props: core.DefaultProps(k.Typ)}
		if k.Typ != "Connector" {
			w.Props["parent_id"] = rootOf(tx, cv.ID)
		}
		if k.Typ == "Anchor" {
			n := 0
			ws, err := tx.Widgets(cv.ID)
			if err != nil {
				return fmt.Errorf("count anchors: %w", err)
			}
			for _, o := range ws {
				if o.Type == "Anchor" {
					n++
				}
			}
			w.Props["anchor_index"] = float64(n)
		}
		raise, err := applyProps(tx, w, body, true)
		if err != nil {
			return err
		}
		if k.Typ != "Connector" {
			if _, given := body["depth"]; !given || raise {
				top, err := core.TopDepthOf(tx, cv.ID, w.ParentID(), w.ID, k.Typ == "Annotation")
				if err != nil {
					return err
				}
				w.Props["depth"] = top + 1
			}
		}
		out = w
		return tx.CreateWidget(w)
	})
	if err != nil {
		core.CanvusStoreError(c, err, k.Typ)
		return
	}
	c.JSON(http.StatusOK, out.Public())
}

func (s *API) PatchWidget(k widgetKind) gin.HandlerFunc {
	return withWidgetBody(func(c *gin.Context, body map[string]json.RawMessage) { s.patchWidget(c, k, body) })
}

// patchWidget applies body to the widget :wid of kind k and answers it.
func (s *API) patchWidget(c *gin.Context, k widgetKind, body map[string]json.RawMessage) {
	cv := core.CanvasOf(c)
	wid := c.Param("wid")
	// Compute and encode the change outside the single writer when it
	// depends on nothing but the widget itself; inside, the writer only
	// checks that the record is unchanged and stores the bytes.
	upd, err := s.prepareWidgetPatch(cv.ID, wid, k.Typ, body)
	if err != nil {
		core.CanvusStoreError(c, err, k.Typ)
		return
	}
	cond := parseIfMatch(c)
	var out []byte
	var version uint64
	err = s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		if err := checkIfMatch(tx, cond, cv.ID, wid, k.Typ); err != nil {
			return err
		}
		defer func() { version = tx.WidgetVersion(cv.ID, wid) }()
		if upd != nil {
			done, err := tx.ApplyWidgetUpdate(upd, store.EvWidgetUpdated)
			if err != nil {
				return err
			}
			if done {
				out = upd.Public()
				return nil
			}
		}
		// The widget changed since the snapshot (or the change needs
		// other widgets): do it all here.
		w, err := tx.Widget(cv.ID, wid)
		if err != nil {
			return err // ErrNotFound is a 404; a failed read a 500
		}
		if w.Type != k.Typ {
			return store.ErrNotFound
		}
		raise, err := applyProps(tx, w, body, false)
		if err != nil {
			return err
		}
		if raise {
			top, err := core.TopDepth(tx, cv.ID, w.ParentID(), w.ID)
			if err != nil {
				return err
			}
			w.Props["depth"] = top + 1
		}
		out, err = tx.UpdateWidgetJSON(w, store.EvWidgetUpdated, nil)
		return err
	})
	if err != nil {
		if !answerPrecondition(c, err) {
			core.CanvusStoreError(c, err, k.Typ)
		}
		return
	}
	setETag(c, version)
	c.Data(http.StatusOK, "application/json; charset=utf-8", out)
}

// prepareWidgetPatch computes a PATCH from a snapshot of the widget, outside
// the writer. It returns nil (and no error) when the writer must do the
// work itself: the widget is missing or of another type (the writer answers
// 404), or the body names other widgets (parent_id, src, dst) or asks for
// auto_raise, whose outcome depends on the rest of the canvas. A validation
// error depends only on the body and the widget's type, so it is final.
func (s *API) prepareWidgetPatch(canvasID, wid, typ string, body map[string]json.RawMessage) (*store.WidgetUpdate, error) {
	for _, k := range [...]string{"parent_id", "src", "dst"} {
		if _, ok := body[k]; ok {
			return nil, nil
		}
	}
	w, base, err := s.St.WidgetSnapshot(canvasID, wid)
	if err != nil || w.Type != typ {
		return nil, nil
	}
	raise, err := applyProps(nil, w, body, false)
	if err != nil {
		return nil, err
	}
	if raise {
		return nil, nil
	}
	return store.PrepareWidgetUpdate(w, base)
}

func (s *API) DeleteWidget(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cv := core.CanvasOf(c)
		wid := c.Param("wid")
		err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
			w, err := tx.Widget(cv.ID, wid)
			if err != nil {
				return err // ErrNotFound is a 404; a failed read a 500
			}
			if typ != "" && w.Type != typ {
				return store.ErrNotFound
			}
			if w.Type == "SharedCanvas" {
				return store.Invalidf("The canvas root widget cannot be deleted")
			}
			_, err = tx.DeleteWidget(cv.ID, wid)
			return err
		})
		if err != nil {
			name := typ
			if name == "" {
				name = "Widget"
			}
			core.CanvusStoreError(c, err, name)
			return
		}
		c.JSON(http.StatusOK, gin.H{})
	}
}
