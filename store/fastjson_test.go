package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// The fast encoders must produce exactly json.Marshal's bytes: NDJSON lines
// and event envelopes are compared byte for byte with GET bodies.
func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnl\n\x01", "é ü 漢字", "\u2028\u2029", "bad \xff utf8", "del \x7f"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 120.5, 1e-6, 1e-7, 9.99e-7, 1e20, 1e21, 1.5e300, -2.5e-10, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, 1.0 / 3}
	var vals []any
	for _, s := range strs {
		vals = append(vals, s)
	}
	for _, f := range floats {
		vals = append(vals, f)
	}
	vals = append(vals, nil, true, false, map[string]any(nil), []any(nil), map[string]any{}, []any{},
		json.RawMessage(`{ "b" : [1, 2] , "a":"<x>" }`), 42, int64(-7), []string{"x"}, map[string]float64{"z": 1, "a": 2},
		time.Date(2026, 11, 23, 10, 0, 0, 5, time.UTC), struct{ A int }{3})
	props := map[string]any{}
	for i, v := range vals {
		props[strs[i%len(strs)]+string(rune('a'+i%26))] = v
	}
	props["nested"] = map[string]any{"list": append([]any{}, vals...), "m": map[string]any{"x": 1.5, "y": -64.0}}
	vals = append(vals, props, []any{props, props["nested"]})
	for _, v := range vals {
		want, werr := json.Marshal(v)
		got, gerr := marshalJSON(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("marshalJSON(%#v) = %s, %v; json.Marshal = %s, %v", v, got, gerr, want, werr)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[string]any{"x": math.Inf(-1)}} {
		if _, err := marshalJSON(bad); err == nil {
			t.Errorf("marshalJSON(%v): no error", bad)
		}
	}
}

func TestMarshalWidgetMatchesEncodingJSON(t *testing.T) {
	bbox := [4]float64{0.1, 0.2, 0.5, 0.25}
	ws := []*Widget{
		{ID: "a", CanvasID: "c", Type: "Note"},
		{ID: "a", CanvasID: "c", Type: "Note", Props: map[string]any{}},
		{ID: "b", CanvasID: "c", Type: "Image", Props: map[string]any{"state": "deleted", "id": "other", "widget_type": "X", "version": 9.0, "digitized": "old", "a": 1.0, "zz": []any{"x"}}},
		{ID: "b", CanvasID: "c", Type: "Image", Props: map[string]any{"version": 9.0, "digitized": map[string]any{"x": 1.0}}, Versions: []Version{{Version: 3}}, Digitized: json.RawMessage(` [ 1 ] `)},
		{ID: `"props":null`, CanvasID: `x","props":null,"`, Type: "Image", Filename: `"props":null`,
			Props: map[string]any{"title": `"props":null`, "location": map[string]any{"x": 1.0, "y": 2.0}, "pinned": true},
			Blob:  "abc", PixelW: 160, PixelH: 90, Versions: []Version{{Version: 0, Blob: "abc", BBox: &bbox, CreatedAt: time.Unix(5, 6).UTC()}},
			Digitized: json.RawMessage(`{"table": [[1, 2]]}`)},
	}
	for _, w := range ws {
		want, _ := json.Marshal(w)
		got, err := marshalWidget(w)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("marshalWidget = %s, %v; json.Marshal = %s", got, err, want)
		}
		var back Widget
		if err := json.Unmarshal(got, &back); err != nil || back.ID != w.ID || back.CanvasID != w.CanvasID {
			t.Errorf("record does not decode back: %v %+v", err, back)
		}
		want, _ = json.Marshal(w.Public())
		got, _ = marshalJSON(w.Public())
		if !bytes.Equal(got, want) {
			t.Errorf("public: %s, want %s", got, want)
		}
		if got, err = marshalPublic(w); err != nil || !bytes.Equal(got, want) {
			t.Errorf("marshalPublic: %s, %v; want %s", got, err, want)
		}
	}
}

// A widget event built from pre-encoded bytes is the envelope AppendEvent
// builds from a map.
func TestWidgetEventEnvelopeMatchesAppendEvent(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	s := openTestStore(t, Options{Now: func() time.Time { return at }})
	c, w := newCanvasWithImage(t, s, []byte("img"))
	w.Props["title"] = "<new> & \"quoted\""
	var viaMap, viaBytes Event
	mustWrite(t, s, func(tx *Tx) error {
		var err error
		viaMap, err = tx.AppendEvent(c.ID, EvWidgetUpdated, map[string]any{"widget": w.Public()})
		if err != nil {
			return err
		}
		pub, _ := marshalJSON(w.Public())
		viaBytes, err = tx.appendWidgetEvent(c.ID, EvWidgetUpdated, pub)
		return err
	})
	wantData := bytes.Replace(viaMap.Data, []byte(`"seq":`+itoa(viaMap.Seq)), []byte(`"seq":`+itoa(viaBytes.Seq)), 1)
	if !bytes.Equal(viaBytes.Data, wantData) {
		t.Fatalf("envelope\n%s\nwant\n%s", viaBytes.Data, wantData)
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// Tx.Widget hands out copies: changing one never changes what the next
// read returns, although the decoded record is remembered.
func TestWidgetReadsAreIndependentCopies(t *testing.T) {
	s := openTestStore(t, Options{})
	c, w := newCanvasWithImage(t, s, []byte("img"))
	mustWrite(t, s, func(tx *Tx) error {
		w.Props["location"] = map[string]any{"x": 1.0, "y": 2.0}
		w.Versions = []Version{{Version: 0, Blob: w.Blob}}
		return tx.UpdateWidget(w, EvWidgetUpdated, nil)
	})
	for i := 0; i < 2; i++ {
		var got *Widget
		s.View(func(tx *Tx) (err error) { got, err = tx.Widget(c.ID, w.ID); return })
		loc := got.Props["location"].(map[string]any)
		if loc["x"] != 1.0 || got.Props["title"] != "t" || got.Versions[0].Version != 0 {
			t.Fatalf("read %d: %+v", i, got.Props)
		}
		loc["x"] = 99.0
		got.Props["title"] = "changed"
		got.Versions[0].Version = 7
		snap, _, err := s.WidgetSnapshot(c.ID, w.ID)
		if err != nil || snap.Props["location"].(map[string]any)["x"] != 1.0 || snap.Props["title"] != "t" || snap.Versions[0].Version != 0 {
			t.Fatalf("snapshot after changing a copy: %+v %v", snap, err)
		}
	}
}

// ApplyWidgetUpdate commits only over the exact record it was computed
// from; a change in between makes it report false and change nothing.
func TestApplyWidgetUpdateChecksTheRecord(t *testing.T) {
	s := openTestStore(t, Options{})
	c, w := newCanvasWithImage(t, s, []byte("img"))
	snap, base, err := s.WidgetSnapshot(c.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap.Props["title"] = "fast"
	upd, err := PrepareWidgetUpdate(snap, base)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else changes the widget first.
	mustWrite(t, s, func(tx *Tx) error {
		o, err := tx.Widget(c.ID, w.ID)
		if err != nil {
			return err
		}
		o.Props["title"] = "other"
		return tx.UpdateWidget(o, EvWidgetUpdated, nil)
	})
	head := s.HeadSeq(c.ID)
	mustWrite(t, s, func(tx *Tx) error {
		ok, err := tx.ApplyWidgetUpdate(upd, EvWidgetUpdated)
		if ok || err != nil {
			return errors.New("applied over a changed record")
		}
		return nil
	})
	if s.HeadSeq(c.ID) != head {
		t.Fatal("a refused update appended an event")
	}
	// From a fresh snapshot it applies, and its event carries its bytes.
	snap, base, _ = s.WidgetSnapshot(c.ID, w.ID)
	snap.Props["title"] = "fast"
	upd, _ = PrepareWidgetUpdate(snap, base)
	mustWrite(t, s, func(tx *Tx) error {
		if ok, err := tx.ApplyWidgetUpdate(upd, EvWidgetUpdated); !ok || err != nil {
			return errors.New("not applied")
		}
		return nil
	})
	evs, err := s.EventsSince(c.ID, head)
	if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Data), string(upd.Public())) {
		t.Fatalf("events %v %v", evs, err)
	}
	got, _, _ := s.WidgetSnapshot(c.ID, w.ID)
	if got.Props["title"] != "fast" {
		t.Fatalf("stored %v", got.Props)
	}
	pub, _ := json.Marshal(got.Public())
	if !bytes.Equal(pub, upd.Public()) {
		t.Fatalf("public %s, want %s", upd.Public(), pub)
	}
}

// AuthGen moves on with every commit that writes a user, a token or a
// canvas, and stays put for widget edits.
func TestAuthGenMovesOnAuthWritesOnly(t *testing.T) {
	s := openTestStore(t, Options{})
	g0 := s.AuthGen()
	c, w := newCanvasWithImage(t, s, []byte("img"))
	g1 := s.AuthGen()
	if g1 == g0 {
		t.Fatal("creating a canvas left AuthGen")
	}
	mustWrite(t, s, func(tx *Tx) error {
		w.Props["title"] = "x"
		return tx.UpdateWidget(w, EvWidgetUpdated, nil)
	})
	if s.AuthGen() != g1 {
		t.Fatal("a widget edit moved AuthGen")
	}
	var tokID string
	mustWrite(t, s, func(tx *Tx) error {
		_, tk, err := tx.CreateToken(GuestUserID, "t", "", 0)
		tokID = tk.ID
		return err
	})
	g2 := s.AuthGen()
	if g2 == g1 {
		t.Fatal("creating a token left AuthGen")
	}
	mustWrite(t, s, func(tx *Tx) error { return tx.DeleteToken(tokID) })
	g3 := s.AuthGen()
	if g3 == g2 {
		t.Fatal("deleting a token left AuthGen")
	}
	mustWrite(t, s, func(tx *Tx) error {
		cv, err := tx.Canvas(c.ID)
		if err != nil {
			return err
		}
		cv.LinkPermission = AccessView
		return tx.PutCanvas(cv)
	})
	if s.AuthGen() == g3 {
		t.Fatal("changing a canvas left AuthGen")
	}
}
