package server

// Integration tests of issue #12's widget work over a real port: browsers,
// table cell edits, the generic /widgets routes, annotations (stored,
// listed with ?annotations=1, streamed), canvas backgrounds, colour presets
// and the uploads folder. Permission checks for every write route are in
// the auth matrices (widgets_more_matrix_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
)

// ndjsonStream is a ?subscribe stream read line by line.
type ndjsonStream struct {
	lines  chan map[string]any
	cancel context.CancelFunc
}

func (e *testEnv) subscribe(t *testing.T, path, token string) *ndjsonStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+path, nil)
	req.Header.Set("Private-Token", token)
	resp, err := e.Client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("subscribe %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("subscribe %s: %d", path, resp.StatusCode)
	}
	s := &ndjsonStream{lines: make(chan map[string]any, 64), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				// a list line: wrap it
				var l []any
				if json.Unmarshal(sc.Bytes(), &l) == nil {
					m = map[string]any{"list": l}
				}
			}
			s.lines <- m
		}
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next line (failing after 10 s without one).
func (s *ndjsonStream) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-s.lines:
		if !ok {
			t.Fatal("stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no stream line in 10 s")
	}
	return nil
}

// points is the base64 of n Bezier nodes (9 float32 each, little-endian),
// the floats counting up from base.
func points(n int, base float32) string {
	b := make([]byte, 4*9*n)
	for i := 0; i < 9*n; i++ {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(base+float32(i)))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodePointsT(t *testing.T, s string) []float32 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%36 != 0 {
		t.Fatalf("points %q: %v (%d bytes)", s, err, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func TestBrowsersCRUD(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "browsers")
	e.share(alice.Token, c, vera.ID, "view")

	b := e.mustJSON("POST", c.path("/browsers"), alice.Token, map[string]any{"url": "https://www.google.com/"}, 200)
	for _, k := range []string{"depth", "id", "location", "main_frame_scroll_offset", "parent_id", "pinned", "scale", "size", "state", "title", "transparent_mode", "url", "widget_type"} {
		if _, ok := b[k]; !ok {
			t.Errorf("browser has no %q: %v", k, b)
		}
	}
	if b.str("widget_type") != "Browser" || b.str("url") != "https://www.google.com/" || b.obj("size").num("width") != 1200 || b.str("state") != "normal" {
		t.Fatalf("created browser: %v", b)
	}
	// A note is not a browser.
	note := e.createNote(alice.Token, c, nil).id()
	e.doJSON("GET", c.path("/browsers/"+note), alice.Token, nil).expectMsg(t, 404, "Browser not found")

	list := e.doJSON("GET", c.path("/browsers"), vera.Token, nil).expect(t, 200).list(t)
	if len(list) != 1 || list[0].id() != b.id() {
		t.Fatalf("browser list: %v", list)
	}
	got := e.doJSON("GET", c.path("/browsers/"+b.id()), vera.Token, nil).expect(t, 200).obj(t)
	if got.str("url") != "https://www.google.com/" {
		t.Fatalf("single browser: %v", got)
	}

	p := e.mustJSON("PATCH", c.path("/browsers/"+b.id()), alice.Token, map[string]any{
		"url": "http://example.com/a?b=c", "title": "Example", "transparent_mode": true,
		"main_frame_scroll_offset": map[string]any{"x": 0, "y": 250}}, 200)
	if p.str("url") != "http://example.com/a?b=c" || p.str("title") != "Example" || !p.boolean("transparent_mode") || p.obj("main_frame_scroll_offset").num("y") != 250 {
		t.Fatalf("patched browser: %v", p)
	}
	for _, bad := range []map[string]any{
		{"url": "javascript:alert(1)"}, {"url": "data:text/html,hi"}, {"url": "file:///etc/passwd"}, {"url": "/relative"},
		{"url": 5}, {"transparent_mode": "yes"}, {"main_frame_scroll_offset": map[string]any{"x": 1}},
	} {
		e.doJSON("PATCH", c.path("/browsers/"+b.id()), alice.Token, bad).expect(t, 400)
		e.doJSON("POST", c.path("/browsers"), alice.Token, bad).expect(t, 400)
	}
	e.doJSON("PATCH", c.path("/browsers/"+b.id()), vera.Token, map[string]any{"title": "no"}).expectMsg(t, 403, "")
	if got := e.doJSON("GET", c.path("/browsers/"+b.id()), alice.Token, nil).expect(t, 200).obj(t); got.str("url") != "http://example.com/a?b=c" || got.str("title") != "Example" {
		t.Fatalf("a refused PATCH changed the browser: %v", got)
	}
	e.doJSON("DELETE", c.path("/browsers/"+b.id()), alice.Token, nil).expect(t, 200)
	e.doJSON("GET", c.path("/browsers/"+b.id()), alice.Token, nil).expectMsg(t, 404, "Browser not found")
	e.doJSON("DELETE", c.path("/browsers/"+b.id()), alice.Token, nil).expect(t, 404)
}

func TestGenericWidgetsDispatch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "generic")

	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{}).expectMsg(t, 400, "Field 'widget_type' is required")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Spaceship"}).expectMsg(t, 400, "Unknown widget_type 'Spaceship'")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": 7}).expectMsg(t, 400, "must be a string")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Image"}).expectMsg(t, 400, "POST /canvases/:id/images")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Video"}).expectMsg(t, 400, "POST /canvases/:id/videos")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Table"}).expectMsg(t, 400, "cannot be created")
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "SharedCanvas"}).expectMsg(t, 400, "cannot be created")

	a := e.mustJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Anchor", "anchor_name": "Region"}, 200)
	if a.str("widget_type") != "Anchor" || a.str("anchor_name") != "Region" {
		t.Fatalf("anchor through /widgets: %v", a)
	}
	n := e.mustJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Note", "text": "hello", "background_color": "#ff0000"}, 200)
	if n.str("widget_type") != "Note" || n.str("text") != "hello" {
		t.Fatalf("note through /widgets: %v", n)
	}
	// The Note's own rules apply (a bad colour is a 400).
	e.doJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Note", "background_color": "red"}).expect(t, 400)
	br := e.mustJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Browser", "url": "https://example.org/"}, 200)
	if got := e.doJSON("GET", c.path("/browsers/"+br.id()), alice.Token, nil).expect(t, 200).obj(t); got.str("url") != "https://example.org/" {
		t.Fatalf("browser through /widgets: %v", got)
	}
	conn := e.mustJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Connector", "src": map[string]any{"id": a.id()}, "dst": map[string]any{"id": n.id()}}, 200)

	// PATCH: the widget's own type decides.
	p := e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"anchor_name": "Region 1"}, 200)
	if p.str("anchor_name") != "Region 1" {
		t.Fatalf("anchor PATCH through /widgets: %v", p)
	}
	e.mustJSON("PATCH", c.path("/widgets/"+n.id()), alice.Token, map[string]any{"text": "changed", "widget_type": "Note"}, 200)
	e.doJSON("PATCH", c.path("/widgets/"+n.id()), alice.Token, map[string]any{"widget_type": "Anchor"}).expectMsg(t, 400, "cannot be changed")
	e.doJSON("PATCH", c.path("/widgets/"+n.id()), alice.Token, map[string]any{"size": map[string]any{"width": -1, "height": 2}}).expect(t, 400)
	e.mustJSON("PATCH", c.path("/widgets/"+conn.id()), alice.Token, map[string]any{"line_width": 9}, 200)
	e.doJSON("PATCH", c.path("/widgets/"+ghostUUID), alice.Token, map[string]any{"text": "x"}).expectMsg(t, 404, "Widget not found")
	root := e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t)[0]
	if root.str("widget_type") != "SharedCanvas" {
		t.Fatalf("first widget is not the root: %v", root)
	}
	e.doJSON("PATCH", c.path("/widgets/"+root.id()), alice.Token, map[string]any{"pinned": false}).expect(t, 400)

	// DELETE: any widget; the root is refused.
	e.doJSON("DELETE", c.path("/widgets/"+root.id()), alice.Token, nil).expectMsg(t, 400, "root widget")
	e.doJSON("DELETE", c.path("/widgets/"+n.id()), alice.Token, nil).expect(t, 200)
	e.doJSON("GET", c.path("/widgets/"+n.id()), alice.Token, nil).expect(t, 404)
	e.doJSON("GET", c.path("/widgets/"+conn.id()), alice.Token, nil).expect(t, 404) // its connector went with it
	e.doJSON("DELETE", c.path("/widgets/"+n.id()), alice.Token, nil).expectMsg(t, 404, "Widget not found")
}

func TestAnnotationsStoredListedStreamed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "ink")
	e.share(alice.Token, c, vera.ID, "view")
	note := e.createNote(alice.Token, c, map[string]any{"text": "annotated"}).id()

	all := e.subscribe(t, c.path("/widgets?annotations=1&subscribe=1"), vera.Token)
	plain := e.subscribe(t, c.path("/widgets?subscribe=1"), vera.Token)
	mine := e.subscribe(t, c.path("/notes/"+note+"?annotations=1&subscribe=1"), vera.Token)
	first := all.next(t)["list"].([]any)
	for _, w := range first {
		if _, ok := w.(map[string]any)["annotations"]; !ok {
			t.Fatalf("?annotations=1 list: a widget without annotations: %v", w)
		}
	}
	plain.next(t)
	if m := mine.next(t); m["annotations"] == nil || len(m["annotations"].([]any)) != 0 {
		t.Fatalf("single widget ?annotations=1: %v", m)
	}

	mk := func(body map[string]any) *testResp { return e.doJSON("POST", c.path("/widgets"), alice.Token, body) }
	base := map[string]any{"widget_type": "Annotation", "parent_id": note, "line_color": "#FF0000", "page": 2}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	nan := make([]byte, 72)
	binary.LittleEndian.PutUint32(nan[8:], math.Float32bits(float32(math.NaN())))
	mk(base).expectMsg(t, 400, "Annotation needs 'points'")
	mk(with("points", points(1, 0))).expectMsg(t, 400, "at least 2 Bezier nodes")
	mk(with("points", base64.StdEncoding.EncodeToString(make([]byte, 40)))).expectMsg(t, 400, "multiple of 9")
	mk(with("points", "***")).expectMsg(t, 400, "not valid base64")
	mk(with("points", base64.StdEncoding.EncodeToString(nan))).expectMsg(t, 400, "NaN")
	mk(with("points", 12)).expect(t, 400)
	mk(with("line_color", "crimson")).expect(t, 400)
	mk(with("page", 1.5)).expectMsg(t, 400, "integer")
	mk(with("parent_id", ghostUUID)).expect(t, 400)
	view := e.doJSON("POST", c.path("/widgets"), vera.Token, with("points", points(2, 0)))
	view.expect(t, 403)

	a := mk(with("points", points(2, 1))).expect(t, 200).obj(t)
	if a.str("widget_type") != "Annotation" || a.str("parent_id") != note || a.num("page") != 2 || a.str("line_color") != "#FF0000" || a.str("state") != "normal" {
		t.Fatalf("created annotation: %v", a)
	}
	// An annotation takes no children and is no connector end.
	onStroke := with("parent_id", a.id())
	onStroke["points"] = points(2, 0)
	mk(onStroke).expectMsg(t, 400, "is an annotation")
	e.doJSON("POST", c.path("/notes"), alice.Token, map[string]any{"parent_id": a.id()}).expectMsg(t, 400, "annotation")
	e.doJSON("POST", c.path("/connectors"), alice.Token, map[string]any{"src": map[string]any{"id": a.id()}, "dst": map[string]any{"id": note}}).expect(t, 400)

	// Streams: the annotation line reaches the streams that asked for annotations.
	for _, s := range []*ndjsonStream{all, mine} {
		l := s.next(t)
		if l["widget_type"] != "Annotation" || l["id"] != a.id() || l["state"] != "normal" || l["points"] != points(2, 1) {
			t.Fatalf("annotation added line: %v", l)
		}
	}

	// Plain GETs never list annotations as widgets.
	for _, w := range e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t) {
		if w.str("widget_type") == "Annotation" || w["annotations"] != nil {
			t.Fatalf("plain widget list shows annotations: %v", w)
		}
	}
	listed := e.doJSON("GET", c.path("/widgets?annotations=1"), vera.Token, nil).expect(t, 200).list(t)
	var onNote []any
	for _, w := range listed {
		if w.str("widget_type") == "Annotation" {
			t.Fatalf("?annotations=1 lists an annotation as a widget: %v", w)
		}
		anns, ok := w["annotations"].([]any)
		if !ok {
			t.Fatalf("?annotations=1: widget without an annotations array: %v", w)
		}
		if w.id() == note {
			onNote = anns
		} else if len(anns) != 0 {
			t.Fatalf("annotations on the wrong widget %s: %v", w.id(), anns)
		}
	}
	if len(onNote) != 1 {
		t.Fatalf("note's annotations: %v", onNote)
	}
	ann := jsonObj(onNote[0].(map[string]any))
	if ann.id() != a.id() || ann.num("page") != 2 || ann.str("line_color") != "#FF0000" || ann.str("points") != points(2, 1) || ann["parent_id"] != nil || ann["state"] != nil {
		t.Fatalf("annotation object: %v", ann)
	}
	single := e.doJSON("GET", c.path("/notes/"+note+"?annotations=1"), vera.Token, nil).expect(t, 200).obj(t)
	if l, _ := single["annotations"].([]any); len(l) != 1 {
		t.Fatalf("single widget annotations: %v", single)
	}

	// Node edits: insert, change, erase.
	p := e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:insert": []any{1, points(1, 100)}}, 200)
	f := decodePointsT(t, p.str("points"))
	if len(f) != 27 || f[9] != 100 || f[18] != 10 {
		t.Fatalf("after insert at 1: %v", f)
	}
	for _, s := range []*ndjsonStream{all, mine} {
		if l := s.next(t); l["id"] != a.id() || l["points"] != p.str("points") {
			t.Fatalf("path changed line: %v", l)
		}
	}
	p = e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:change": []any{2, points(1, 500)}}, 200)
	if f := decodePointsT(t, p.str("points")); len(f) != 27 || f[18] != 500 || f[0] != 1 {
		t.Fatalf("after change of 2: %v", f)
	}
	p = e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:erase": 0}, 200)
	if f := decodePointsT(t, p.str("points")); len(f) != 18 || f[0] != 100 || f[9] != 500 {
		t.Fatalf("after erase of 0: %v", f)
	}
	e.doJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:erase": 0}).expectMsg(t, 400, "at least 2 nodes")
	e.doJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:change": []any{2, points(1, 0)}}).expectMsg(t, 400, "out of range")
	e.doJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:insert": []any{0, points(2, 0)}}).expectMsg(t, 400, "exactly one node")
	e.doJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:insert": "x"}).expect(t, 400)
	e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points": points(3, 7), "line_color": "#00ff00", "page": 0}, 200)
	got := e.doJSON("GET", c.path("/widgets/"+a.id()), alice.Token, nil).expect(t, 200).obj(t)
	if got.str("points") != points(3, 7) || got.str("line_color") != "#00ff00" || got["page"] != nil {
		t.Fatalf("annotation after PATCH (page 0 is none): %v", got)
	}
	for i := 0; i < 3; i++ { // the three PATCHes that were stored after the insert
		if l := all.next(t); l["id"] != a.id() {
			t.Fatalf("line %d after the insert: %v", i, l)
		}
		if l := mine.next(t); l["id"] != a.id() {
			t.Fatalf("line %d after the insert: %v", i, l)
		}
	}

	// Deleting the annotation: a deleted line, to those streams only.
	e.doJSON("DELETE", c.path("/widgets/"+a.id()), alice.Token, nil).expect(t, 200)
	for _, s := range []*ndjsonStream{all, mine} {
		if l := s.next(t); l["id"] != a.id() || l["state"] != "deleted" || l["widget_type"] != "Annotation" {
			t.Fatalf("annotation deleted line: %v", l)
		}
	}
	// The plain stream saw none of it: its next line is this note.
	marker := e.createNote(alice.Token, c, map[string]any{"text": "after the ink"}).id()
	if l := plain.next(t); l["id"] != marker {
		t.Fatalf("stream without ?annotations got %v before the next widget", l)
	}

	// A widget's annotations go with it.
	b := mk(with("points", points(2, 0))).expect(t, 200).obj(t)
	e.doJSON("DELETE", c.path("/notes/"+note), alice.Token, nil).expect(t, 200)
	e.doJSON("GET", c.path("/widgets/"+b.id()), alice.Token, nil).expect(t, 404)

	// Canvas-level ink: without parent_id a stroke is on the root widget.
	r := mk(map[string]any{"widget_type": "Annotation", "points": points(2, 0)}).expect(t, 200).obj(t)
	rootID := e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t)[0].id()
	if r.str("parent_id") != rootID {
		t.Fatalf("root stroke parent %q, root %q", r.str("parent_id"), rootID)
	}
	// A copy of the canvas has the stroke, on its own root.
	cp := e.mustJSON("POST", c.path("/copy"), alice.Token, map[string]any{"folder_id": store.HomeFolderID(alice.ID)}, 200)
	cw := e.doJSON("GET", "/api/v1/canvases/"+cp.id()+"/widgets?annotations=1", alice.Token, nil).expect(t, 200).list(t)
	if anns, _ := cw[0]["annotations"].([]any); cw[0].str("widget_type") != "SharedCanvas" || len(anns) != 1 ||
		anns[0].(map[string]any)["points"] != points(2, 0) || anns[0].(map[string]any)["id"] == r.id() {
		t.Fatalf("copied canvas: root %v", cw[0])
	}
}

func TestTableWidgetEdits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "tables")
	e.share(alice.Token, c, vera.ID, "view")
	id := e.makeTable(c, "Prices")
	note := e.createNote(alice.Token, c, nil).id()
	e.doJSON("GET", c.path("/tables/"+note), alice.Token, nil).expectMsg(t, 404, "Table not found")
	if l := e.doJSON("GET", c.path("/tables"), vera.Token, nil).expect(t, 200).list(t); len(l) != 1 || l[0].id() != id {
		t.Fatalf("table list: %v", l)
	}
	stream := e.subscribe(t, c.path("/tables/"+id+"?subscribe=1"), vera.Token)
	stream.next(t)

	cell := func(tbl jsonObj, r, col int) (jsonObj, bool) {
		for _, v := range tbl["cells"].([]any) {
			m := jsonObj(v.(map[string]any))
			if int(m.num("r")) == r && int(m.num("c")) == col {
				return m, true
			}
		}
		return nil, false
	}
	p := e.mustJSON("PATCH", c.path("/tables/"+id), alice.Token, map[string]any{"cells": []any{
		map[string]any{"r": 0, "c": 1, "text": "Quantity"},
		map[string]any{"r": 1, "c": 2, "text": "1.20"},                                // an empty position: added
		map[string]any{"r": 1, "c": 0, "text": "Pears 4", "rowspan": 1, "colspan": 2}, // an echo of the span
	}}, 200)
	if m, _ := cell(p, 0, 1); m.str("text") != "Quantity" {
		t.Fatalf("edited cell: %v", p["cells"])
	}
	if m, ok := cell(p, 1, 2); !ok || m.str("text") != "1.20" || m.num("rowspan") != 1 {
		t.Fatalf("added cell: %v", p["cells"])
	}
	if m, _ := cell(p, 1, 0); m.str("text") != "Pears 4" || m.num("colspan") != 2 {
		t.Fatalf("merged cell: %v", p["cells"])
	}
	if len(p["cells"].([]any)) != 5 || p.num("n_rows") != 2 || p.num("n_cols") != 3 || p.str("title") != "Prices" {
		t.Fatalf("table after edit: %v", p)
	}
	if l := stream.next(t); l["id"] != id || !strings.Contains(toJSON(l), "Quantity") {
		t.Fatalf("table stream line: %v", l)
	}

	before := toJSON(e.doJSON("GET", c.path("/tables/"+id), alice.Token, nil).expect(t, 200).obj(t)["cells"])
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"cells": []any{map[string]any{"r": 1, "c": 1, "text": "x"}}}, "inside the merged cell at (1, 0)"},
		{map[string]any{"cells": []any{map[string]any{"r": 2, "c": 0, "text": "x"}}}, "outside the 2x3 table"},
		{map[string]any{"cells": []any{map[string]any{"r": -1, "c": 0, "text": "x"}}}, "outside"},
		{map[string]any{"cells": []any{map[string]any{"r": 0.5, "c": 0, "text": "x"}}}, "integers"},
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0}}}, "'text' must be a string"},
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": 3}}}, "'text' must be a string"},
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": "a"}, map[string]any{"r": 0, "c": 0, "text": "b"}}}, "edited twice"},
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": "a", "colspan": 3}}}, "'colspan' cannot be changed"},
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": strings.Repeat("x", 5000)}}}, "too long"},
		{map[string]any{"cells": "all"}, "must be an array"},
		// One good edit and one bad: nothing is stored.
		{map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": "ok"}, map[string]any{"r": 9, "c": 0, "text": "x"}}}, "outside"},
		{map[string]any{"header_rows": 3}, "from 0 to n_rows (2)"},
		{map[string]any{"header_rows": -1}, "from 0 to n_rows"},
		{map[string]any{"size": map[string]any{"width": 0, "height": 10}}, "positive"},
	} {
		e.doJSON("PATCH", c.path("/tables/"+id), alice.Token, tc.body).expectMsg(t, 400, tc.msg)
	}
	if after := toJSON(e.doJSON("GET", c.path("/tables/"+id), alice.Token, nil).expect(t, 200).obj(t)["cells"]); after != before {
		t.Fatalf("a refused edit changed the cells:\n%s\n%s", before, after)
	}
	e.doJSON("PATCH", c.path("/tables/"+id), vera.Token, map[string]any{"cells": []any{map[string]any{"r": 0, "c": 0, "text": "v"}}}).expect(t, 403)
	// Read-only fields echoed back are ignored.
	p = e.mustJSON("PATCH", c.path("/widgets/"+id), alice.Token, map[string]any{"header_rows": 2, "n_rows": 99, "widget_type": "Table", "title": "Prices 2026"}, 200)
	if p.num("header_rows") != 2 || p.num("n_rows") != 2 || p.str("title") != "Prices 2026" {
		t.Fatalf("table PATCH through /widgets: %v", p)
	}
	if l := stream.next(t); l["title"] != "Prices 2026" {
		t.Fatalf("table stream line: %v", l)
	}
	e.doJSON("DELETE", c.path("/tables/"+id), vera.Token, nil).expect(t, 403)
	e.doJSON("DELETE", c.path("/tables/"+note), alice.Token, nil).expect(t, 404)
	e.doJSON("DELETE", c.path("/tables/"+id), alice.Token, nil).expect(t, 200)
	e.doJSON("GET", c.path("/tables/"+id), alice.Token, nil).expectMsg(t, 404, "Table not found")
	if l := stream.next(t); l["id"] != id || l["state"] != "deleted" {
		t.Fatalf("table deleted line: %v", l)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCanvasBackground(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "bg")
	e.share(alice.Token, c, vera.ID, "view")

	bg := e.doJSON("GET", c.path("/background"), vera.Token, nil).expect(t, 200).obj(t)
	if bg.str("type") != "haze" || bg.obj("haze").str("color1") == "" || bg.obj("grid") == nil || bg.obj("image").str("fit") != "fill" {
		t.Fatalf("default background: %v", bg)
	}
	stream := e.subscribe(t, c.path("/background?subscribe=1"), vera.Token)
	stream.next(t)

	got := e.mustJSON("PATCH", c.path("/background"), alice.Token, map[string]any{"type": "solid_color", "background_color": "#000000"}, 200)
	if got.str("type") != "solid_color" || got.str("background_color") != "#000000" {
		t.Fatalf("solid colour: %v", got)
	}
	if l := stream.next(t); l["type"] != "solid_color" || l["background_color"] != "#000000" {
		t.Fatalf("background stream line: %v", l)
	}
	got = e.mustJSON("PATCH", c.path("/background"), alice.Token, map[string]any{"type": "haze", "haze": map[string]any{"color1": "#101010", "speed": 2}, "grid": map[string]any{"visible": false}}, 200)
	if got.str("type") != "haze" || got.obj("haze").str("color1") != "#101010" || got.obj("haze").num("speed") != 2 || got.obj("haze").str("color2") != "#f0f0f0" || got.obj("grid").boolean("visible") || got.str("background_color") != "#000000" {
		t.Fatalf("haze: %v", got)
	}
	// A canvas rename is no background change: the stream sends nothing for
	// it, and its next line is the next background change.
	if l := stream.next(t); l["type"] != "haze" {
		t.Fatalf("background stream line: %v", l)
	}
	e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"name": "renamed"}, 200)
	e.mustJSON("PATCH", c.path("/background"), alice.Token, map[string]any{"type": "solid_color", "background_color": "#222222"}, 200)
	if l := stream.next(t); l["type"] != "solid_color" || l["background_color"] != "#222222" {
		t.Fatalf("the stream sent %v for a canvas rename", l)
	}
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"background_color": "#000000"}, "'type' is required"},
		{map[string]any{"type": "plasma"}, "Unknown background type 'plasma'"},
		{map[string]any{"type": "haze"}, "'haze' is required"},
		{map[string]any{"type": "solid_color", "background_color": "black"}, "hex colour"},
		{map[string]any{"type": "haze", "haze": map[string]any{"scale": 0}}, "above 0"},
		{map[string]any{"type": "haze", "haze": map[string]any{"color2": 5}}, "hex colour"},
		{map[string]any{"type": "solid_color", "grid": map[string]any{"visible": "yes"}}, "boolean"},
		{map[string]any{"type": "image"}, "No background image yet"},
		{map[string]any{"type": 3}, ""},
	} {
		e.doJSON("PATCH", c.path("/background"), alice.Token, tc.body).expectMsg(t, 400, tc.msg)
	}
	e.doJSON("PATCH", c.path("/background"), vera.Token, map[string]any{"type": "solid_color"}).expect(t, 403)

	png := testPNG(t, 8, 6)
	e.upload(c.path("/background"), alice.Token, testPart{Name: "json", Data: []byte(`{"type":"image"}`)}).expectMsg(t, 400, "Missing 'data' part")
	e.upload(c.path("/background"), alice.Token, testPart{Name: "data", Filename: "x.txt", Data: []byte("not an image at all")}).expect(t, 400)
	e.upload(c.path("/background"), alice.Token, testPart{Name: "data", Filename: "bg.png", Data: png}, testPart{Name: "json", Data: []byte(`{"type":"haze"}`)}).expectMsg(t, 400, "type 'image'")
	e.upload(c.path("/background"), alice.Token, testPart{Name: "data", Filename: "bg.png", Data: png}, testPart{Name: "json", Data: []byte(`{"fit":"zoom"}`)}).expectMsg(t, 400, "Unknown fit")
	e.upload(c.path("/background"), vera.Token, testPart{Name: "data", Filename: "bg.png", Data: png}).expect(t, 403)
	img := e.upload(c.path("/background"), alice.Token, testPart{Name: "data", Filename: "bg.png", Data: png}, testPart{Name: "json", Data: []byte(`{"type":"image","fit":"tile"}`)}).expect(t, 200).obj(t)
	hash := img.obj("image").str("hash")
	if img.str("type") != "image" || hash == "" || img.obj("image").str("fit") != "tile" {
		t.Fatalf("image background: %v", img)
	}
	var blob string
	e.Store.View(func(tx *store.Tx) error {
		cv, _ := tx.Canvas(c.ID)
		blob = cv.BackgroundBlob
		return nil
	})
	if !strings.HasPrefix(blob, hash) {
		t.Fatalf("stored blob %q, public hash %q", blob, hash)
	}
	refs := func() int64 {
		var n int64
		e.Store.View(func(tx *store.Tx) error { n = tx.BlobRefs(blob); return nil })
		return n
	}
	if refs() != 1 {
		t.Fatalf("background blob refs = %d, want 1", refs())
	}
	// The image is an asset of the canvas: served by hash, with mipmaps.
	onCanvas := withHeader("canvas-id", c.ID)
	if r := e.do("GET", "/api/v1/assets/"+hash, vera.Token, nil, "", onCanvas).expect(t, 200); !bytes.Equal(r.Body, png) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("background asset: %s, %d bytes", r.Header.Get("Content-Type"), len(r.Body))
	}
	if info := e.do("GET", "/api/v1/mipmaps/"+hash, vera.Token, nil, "", onCanvas).expect(t, 200).obj(t); info.obj("resolution").num("width") != 8 {
		t.Fatalf("background mipmap info: %v", info)
	}
	other := e.createCanvas(alice.Token, "other")
	e.do("GET", "/api/v1/assets/"+hash, alice.Token, nil, "", withHeader("canvas-id", other.ID)).expect(t, 404)
	// Back to a colour and to the image again, without a new upload.
	e.mustJSON("PATCH", c.path("/background"), alice.Token, map[string]any{"type": "solid_color"}, 200)
	if got := e.mustJSON("PATCH", c.path("/background"), alice.Token, map[string]any{"type": "image", "fit": "center"}, 200); got.obj("image").str("hash") != hash || got.obj("image").str("fit") != "center" {
		t.Fatalf("back to the image: %v", got)
	}
	// A copy of the canvas has the same background and holds its own reference.
	cp := e.mustJSON("POST", c.path("/copy"), alice.Token, map[string]any{"folder_id": store.HomeFolderID(alice.ID)}, 200)
	if got := e.doJSON("GET", "/api/v1/canvases/"+cp.id()+"/background", alice.Token, nil).expect(t, 200).obj(t); got.obj("image").str("hash") != hash || got.str("type") != "image" {
		t.Fatalf("copied canvas background: %v", got)
	}
	if refs() != 2 {
		t.Fatalf("after copy: refs = %d, want 2", refs())
	}
	e.doJSON("DELETE", "/api/v1/canvases/"+cp.id(), alice.Token, nil).expect(t, 200)
	if refs() != 1 {
		t.Fatalf("after deleting the copy: refs = %d, want 1", refs())
	}
}

func TestColorPresets(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "presets")
	e.share(alice.Token, c, vera.ID, "view")

	def := e.doJSON("GET", c.path("/color-presets"), vera.Token, nil).expect(t, 200).obj(t)
	for _, k := range []string{"annotation", "connector", "note_background", "note_text"} {
		if _, ok := def[k].([]any); !ok {
			t.Fatalf("default presets lack %s: %v", k, def)
		}
	}
	stream := e.subscribe(t, c.path("/color-presets?subscribe=1"), vera.Token)
	stream.next(t)
	got := e.mustJSON("PATCH", c.path("/color-presets"), alice.Token, map[string]any{"note_background": []string{"#123456", "#654321"}, "annotation": []string{"#abcdef"}, "unknown": 1}, 200)
	if toJSON(got["note_background"]) != `["#123456","#654321"]` || toJSON(got["annotation"]) != `["#abcdef"]` || toJSON(got["connector"]) != toJSON(def["connector"]) || got["unknown"] != nil {
		t.Fatalf("patched presets: %v", got)
	}
	if l := stream.next(t); toJSON(l["annotation"]) != `["#abcdef"]` {
		t.Fatalf("presets stream line: %v", l)
	}
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"note_text": "#ffffff"}, "must be an array"},
		{map[string]any{"note_text": nil}, "must be an array"},
		{map[string]any{"connector": []any{"#fff", 3}}, "must be an array"},
		{map[string]any{"connector": []string{"#fff", "blue"}}, "connector[1] must be a hex colour"},
		{map[string]any{"annotation": make([]string, 65)}, "at most 64"},
	} {
		e.doJSON("PATCH", c.path("/color-presets"), alice.Token, tc.body).expectMsg(t, 400, tc.msg)
	}
	e.doJSON("PATCH", c.path("/color-presets"), vera.Token, map[string]any{"note_text": []string{}}).expect(t, 403)
	if got := e.doJSON("GET", c.path("/color-presets"), alice.Token, nil).expect(t, 200).obj(t); toJSON(got["annotation"]) != `["#abcdef"]` || toJSON(got["note_text"]) != `[]` {
		t.Fatalf("presets after refused PATCHes: %v", got)
	}
}

func TestUploadsFolder(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "uploads")
	e.share(alice.Token, c, vera.ID, "view")
	path := c.path("/uploads-folder")
	j := func(s string) testPart { return testPart{Name: "json", Data: []byte(s)} }

	n := e.upload(path, alice.Token, j(`{"upload_type":"note","text":"Hello, world","title":"Hello, world","background_color":"#e0e0e0"}`)).expect(t, 200).obj(t)
	if n.str("widget_type") != "Note" || n.str("text") != "Hello, world" || n.str("title") != "Hello, world" || n.str("background_color") != "#e0e0e0" || n["upload_type"] != nil {
		t.Fatalf("uploaded note: %v", n)
	}
	if got := e.doJSON("GET", c.path("/notes/"+n.id()), alice.Token, nil).expect(t, 200).obj(t); got.str("text") != "Hello, world" {
		t.Fatalf("stored note: %v", got)
	}
	png := testPNG(t, 10, 5)
	data := testPart{Name: "data", Filename: "shot.png", Data: png}
	img := e.upload(path, alice.Token, j(`{"upload_type":"asset","title":"My shot"}`), data).expect(t, 200).obj(t)
	if img.str("widget_type") != "Image" || img.str("title") != "My shot" || img.str("original_filename") != "shot.png" || img.obj("size").num("width") != 10 {
		t.Fatalf("uploaded image: %v", img)
	}
	if img2 := e.upload(path, alice.Token, data).expect(t, 200).obj(t); img2.str("widget_type") != "Image" {
		t.Fatalf("upload without json part: %v", img2)
	}

	e.upload(path, alice.Token, j(`{"upload_type":"note","text":"x"}`), data).expectMsg(t, 400, "takes no 'data' part")
	e.upload(path, alice.Token, j(`{"upload_type":"asset"}`)).expectMsg(t, 400, "Missing 'data' part")
	e.upload(path, alice.Token, j(`{"upload_type":"movie"}`), data).expectMsg(t, 400, "Unknown upload_type 'movie'")
	e.upload(path, alice.Token, j(`{"upload_type":5}`), data).expectMsg(t, 400, "must be a string")
	e.upload(path, alice.Token, j(`{"upload_type":"note","background_color":"pink"}`)).expectMsg(t, 400, "hex colour")
	e.upload(path, alice.Token, j(`{not json`), data).expectMsg(t, 400, "Invalid 'json' part")
	// PDFs and videos are recognized by their bytes, whatever their name.
	pdf := e.upload(path, alice.Token, j(`{"title":"Report"}`), testPart{Name: "data", Filename: "upload.bin", Data: mediaFixture(t, "two-pages.pdf")}).expect(t, 200).obj(t)
	if pdf.str("widget_type") != "Pdf" || pdf.str("title") != "Report" || pdf.num("index") != 1 {
		t.Fatalf("uploaded PDF: %v", pdf)
	}
	video := e.upload(path, alice.Token, j(`{"upload_type":"asset","title":"My video"}`), testPart{Name: "data", Filename: "clip", Data: mediaFixture(t, "clip.webm")}).expect(t, 200).obj(t)
	if video.str("widget_type") != "Video" || video.str("title") != "My video" || video.str("playback_state") != "STOPPED" {
		t.Fatalf("uploaded video: %v", video)
	}
	e.upload(path, alice.Token, testPart{Name: "data", Filename: "doc.pdf", Data: []byte("%PDF-1.4\n%not really\n")}).expect(t, 400)
	e.upload(path, alice.Token, testPart{Name: "data", Filename: "notes.txt", Data: []byte("plain text, not an image")}).expect(t, 400)
	e.upload(path, vera.Token, j(`{"upload_type":"note","text":"x"}`)).expect(t, 403)
	e.doJSON("POST", path, alice.Token, map[string]any{"upload_type": "note"}).expectMsg(t, 400, "multipart")

	count := map[string]int{}
	for _, w := range e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t) {
		count[w.str("widget_type")]++
	}
	if count["Note"] != 1 || count["Image"] != 2 || count["Pdf"] != 1 || count["Video"] != 1 {
		t.Fatalf("after the refused uploads: %v, want 1 note, 2 images, 1 PDF, 1 video", count)
	}
}

// The browser's ink tool works over the canvas websocket: a stroke made by
// one user reaches another's socket as a widget event, and so does its
// deletion.
func TestAnnotationsOverWebsocket(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "ink-ws")
	e.share(alice.Token, c, vera.ID, "view")
	note := e.createNote(alice.Token, c, nil).id()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+c.path("/ws"),
		&websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {vera.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	type wsEvent struct {
		Type   string         `json:"type"`
		Widget map[string]any `json:"widget"`
	}
	read := func() wsEvent {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("websocket read: %v", err)
		}
		var m wsEvent
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		return m
	}
	if m := read(); m.Type != "HELLO" {
		t.Fatalf("first message %v", m)
	}
	next := func(typ string) wsEvent {
		for {
			if m := read(); m.Type == typ {
				return m
			}
		}
	}
	a := e.mustJSON("POST", c.path("/widgets"), alice.Token, map[string]any{"widget_type": "Annotation", "parent_id": note, "points": points(3, 3), "line_color": "#0000ff"}, 200)
	if m := next(store.EvWidgetCreated); m.Widget["id"] != a.id() || m.Widget["widget_type"] != "Annotation" || m.Widget["points"] != points(3, 3) || m.Widget["parent_id"] != note {
		t.Fatalf("stroke over the websocket: %v", m.Widget)
	}
	// Node edits in one body apply in key order: change, erase, insert.
	e.mustJSON("PATCH", c.path("/widgets/"+a.id()), alice.Token, map[string]any{"points:erase": 1, "points:insert": []any{2, points(1, 50)}}, 200)
	if m := next(store.EvWidgetUpdated); m.Widget["id"] != a.id() || len(decodePointsT(t, m.Widget["points"].(string))) != 27 {
		t.Fatalf("stroke change over the websocket: %v", m.Widget)
	}
	e.doJSON("DELETE", c.path("/widgets/"+a.id()), alice.Token, nil).expect(t, 200)
	if m := next(store.EvWidgetDeleted); m.Widget["id"] != a.id() || m.Widget["state"] != "deleted" {
		t.Fatalf("stroke deletion over the websocket: %v", m.Widget)
	}
}
