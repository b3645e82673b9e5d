package store

import (
	"encoding/json"
	"sort"

	bolt "go.etcd.io/bbolt"
)

func (t *Tx) widgets(canvasID string) *bolt.Bucket {
	return t.btx.Bucket(bucketWidgets).Bucket([]byte(canvasID))
}

// Widgets lists a canvas's widgets, the root first, then by depth and id.
func (t *Tx) Widgets(canvasID string) ([]*Widget, error) {
	b := t.widgets(canvasID)
	if b == nil {
		return nil, ErrNotFound
	}
	var out []*Widget
	err := b.ForEach(func(k, v []byte) error {
		w := &Widget{}
		if err := json.Unmarshal(v, w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := out[i].Type == "SharedCanvas", out[j].Type == "SharedCanvas"
		if ri != rj {
			return ri
		}
		di, dj := num(out[i].Props["depth"]), num(out[j].Props["depth"])
		if di != dj {
			return di < dj
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// Widget returns one widget of a canvas.
func (t *Tx) Widget(canvasID, id string) (*Widget, error) {
	b := t.widgets(canvasID)
	if b == nil {
		return nil, ErrNotFound
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return nil, ErrNotFound
	}
	w, _, err := t.s.decodeWidget(canvasID, id, raw)
	return w, err
}

// CreateWidget stores a new widget and appends WIDGET_CREATED.
func (t *Tx) CreateWidget(w *Widget) error {
	if t.widgets(w.CanvasID) == nil {
		return ErrNotFound
	}
	if t.widgets(w.CanvasID).Get([]byte(w.ID)) != nil {
		return ErrConflict
	}
	_, err := t.putWidget(w, EvWidgetCreated, nil)
	return err
}

// UpdateWidget stores a changed widget and appends one event of type typ
// (WIDGET_UPDATED, IMAGE_RECROPPED, ...) with extra envelope fields.
func (t *Tx) UpdateWidget(w *Widget, typ string, extra map[string]any) error {
	if t.widgets(w.CanvasID) == nil || t.widgets(w.CanvasID).Get([]byte(w.ID)) == nil {
		return ErrNotFound
	}
	_, err := t.putWidget(w, typ, extra)
	return err
}

// UpdateWidgetJSON is UpdateWidget returning the widget's public JSON, the
// bytes of json.Marshal(w.Public()) that its event carries.
func (t *Tx) UpdateWidgetJSON(w *Widget, typ string, extra map[string]any) ([]byte, error) {
	if t.widgets(w.CanvasID) == nil || t.widgets(w.CanvasID).Get([]byte(w.ID)) == nil {
		return nil, ErrNotFound
	}
	return t.putWidget(w, typ, extra)
}

// putWidget stores w and appends its event, encoding the public JSON once.
func (t *Tx) putWidget(w *Widget, typ string, extra map[string]any) ([]byte, error) {
	rec, err := marshalWidget(w)
	if err != nil {
		return nil, err
	}
	if err := t.widgets(w.CanvasID).Put([]byte(w.ID), rec); err != nil {
		return nil, err
	}
	pub, err := marshalPublic(w)
	if err != nil {
		return nil, err
	}
	var ev Event
	if len(extra) == 0 {
		ev, err = t.appendWidgetEvent(w.CanvasID, typ, pub)
	} else {
		fields := map[string]any{"widget": json.RawMessage(pub)}
		for k, v := range extra {
			fields[k] = v
		}
		ev, err = t.AppendEvent(w.CanvasID, typ, fields)
	}
	if err != nil {
		return pub, err
	}
	return pub, t.setWidgetVersion(w.CanvasID, w.ID, ev.Seq)
}

// WidgetVersion is the widget's version: the seq of its last event
// (created, updated, re-cropped, ...) in the canvas's log, 0 when unknown.
// Inside a write transaction it is exact, so a caller can compare it with
// the version a client based its change on (If-Match) without a race.
func (t *Tx) WidgetVersion(canvasID, id string) uint64 {
	b := t.btx.Bucket(bucketWidgetSeq).Bucket([]byte(canvasID))
	if b == nil {
		return 0
	}
	if v := b.Get([]byte(id)); len(v) == 8 {
		return btoi(v)
	}
	return 0
}

func (t *Tx) setWidgetVersion(canvasID, id string, seq uint64) error {
	b, err := t.btx.Bucket(bucketWidgetSeq).CreateBucketIfNotExists([]byte(canvasID))
	if err != nil {
		return err
	}
	return b.Put([]byte(id), itob(seq))
}

func (t *Tx) dropWidgetVersion(canvasID, id string) error {
	if b := t.btx.Bucket(bucketWidgetSeq).Bucket([]byte(canvasID)); b != nil {
		return b.Delete([]byte(id))
	}
	return nil
}

// DeleteWidget deletes a widget, its descendants and the connectors attached
// to any of them, one WIDGET_DELETED event each, and releases their blobs.
// It returns the deleted widgets.
func (t *Tx) DeleteWidget(canvasID, id string) ([]*Widget, error) {
	all, err := t.Widgets(canvasID)
	if err != nil {
		return nil, err
	}
	var target *Widget
	children := map[string][]*Widget{}
	for _, w := range all {
		if w.ID == id {
			target = w
		}
		children[w.ParentID()] = append(children[w.ParentID()], w)
	}
	if target == nil {
		return nil, ErrNotFound
	}
	doomed := map[string]bool{}
	var order []*Widget
	var walk func(w *Widget)
	walk = func(w *Widget) {
		if doomed[w.ID] {
			return
		}
		doomed[w.ID] = true
		for _, c := range children[w.ID] {
			walk(c)
		}
		order = append(order, w) // children before parents
	}
	walk(target)
	for _, w := range all {
		if w.Type == "Connector" && !doomed[w.ID] && (doomed[connEnd(w, "src")] || doomed[connEnd(w, "dst")]) {
			doomed[w.ID] = true
			order = append([]*Widget{w}, order...)
		}
	}
	b := t.widgets(canvasID)
	for _, w := range order {
		if err := t.releaseWidgetBlobs(w); err != nil {
			return nil, err
		}
		if err := b.Delete([]byte(w.ID)); err != nil {
			return nil, err
		}
		if err := t.dropWidgetVersion(canvasID, w.ID); err != nil {
			return nil, err
		}
		pub := w.Public()
		pub["state"] = "deleted"
		if _, err := t.AppendEvent(canvasID, EvWidgetDeleted, map[string]any{"widget": pub}); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func connEnd(w *Widget, end string) string {
	e, _ := w.Props[end].(map[string]any)
	id, _ := e["id"].(string)
	return id
}

// widgetBlobs lists every blob reference a widget holds: its source render
// and each version (the current file is the newest version).
func widgetBlobs(w *Widget) []string {
	var out []string
	if w.SourceBlob != "" {
		out = append(out, w.SourceBlob)
	}
	for _, v := range w.Versions {
		out = append(out, v.Blob)
	}
	if len(w.Versions) == 0 && w.Blob != "" {
		out = append(out, w.Blob)
	}
	return out
}

// WidgetBlobs is widgetBlobs for callers outside the package (backup, tests).
func WidgetBlobs(w *Widget) []string { return widgetBlobs(w) }

func (t *Tx) releaseWidgetBlobs(w *Widget) error {
	for _, h := range widgetBlobs(w) {
		if err := t.ReleaseBlob(h); err != nil {
			return err
		}
	}
	return nil
}
