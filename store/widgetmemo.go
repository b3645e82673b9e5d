package store

import (
	"bytes"
	"encoding/json"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// widgetMemo remembers decoded widget records by their exact stored bytes,
// so that a widget edited again and again (image PATCHes) is not decoded
// from JSON for every edit. An entry is used only when the record read from
// bbolt is byte-for-byte the one it was decoded from, so it needs no
// invalidation: a stale entry never matches and is simply replaced. Entries
// are never handed out; callers get deep copies.
type widgetMemo struct {
	mu sync.Mutex
	m  map[widgetKey]memoEntry
}

type widgetKey struct{ canvas, id string }

type memoEntry struct {
	raw []byte  // the stored record; never modified
	w   *Widget // decode(raw); never modified
}

// memoCap bounds the memo (entries are about 1-2 KiB); when full it starts over.
const memoCap = 4096

// get returns a copy of the widget decoded from raw, if remembered.
func (m *widgetMemo) get(k widgetKey, raw []byte) (*Widget, []byte) {
	e, ok := m.lookup(k, raw)
	if !ok {
		return nil, nil
	}
	return cloneWidget(e.w), e.raw
}

// lookup returns the entry decoded from raw, if remembered. Read-only.
func (m *widgetMemo) lookup(k widgetKey, raw []byte) (memoEntry, bool) {
	m.mu.Lock()
	e, ok := m.m[k]
	m.mu.Unlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		return memoEntry{}, false
	}
	return e, true
}

// put remembers w as the decoding of raw. Both must never change afterwards.
func (m *widgetMemo) put(k widgetKey, raw []byte, w *Widget) {
	m.mu.Lock()
	if m.m == nil || len(m.m) >= memoCap {
		m.m = make(map[widgetKey]memoEntry, 256)
	}
	m.m[k] = memoEntry{raw: raw, w: w}
	m.mu.Unlock()
}

// decodeWidget returns the widget stored as raw (valid only during the
// transaction), from the memo when it holds raw, and the record as an
// immutable copy that outlives the transaction.
func (s *Store) decodeWidget(canvasID, id string, raw []byte) (*Widget, []byte, error) {
	k := widgetKey{canvasID, id}
	if w, rec := s.memo.get(k, raw); w != nil {
		return w, rec, nil
	}
	rec := bytes.Clone(raw)
	w := &Widget{}
	if err := json.Unmarshal(rec, w); err != nil {
		return nil, nil, err
	}
	s.memo.put(k, rec, cloneWidget(w))
	return w, rec, nil
}

// cloneWidget deep-copies a decoded widget, so callers may change the copy.
func cloneWidget(w *Widget) *Widget {
	c := *w
	if w.Props != nil {
		c.Props = cloneMap(w.Props)
	}
	if w.Versions != nil {
		c.Versions = make([]Version, len(w.Versions))
		copy(c.Versions, w.Versions)
		for i := range c.Versions {
			if b := c.Versions[i].BBox; b != nil {
				bb := *b
				c.Versions[i].BBox = &bb
			}
		}
	}
	if w.Digitized != nil {
		c.Digitized = bytes.Clone(w.Digitized)
	}
	return &c
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue copies the mutable parts of a value decoded into any.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// WidgetUpdate is a widget change computed and encoded outside the writer
// goroutine, from a snapshot of the widget's record (see WidgetSnapshot).
// Tx.ApplyWidgetUpdate commits it only if the record is still that snapshot.
type WidgetUpdate struct {
	w      *Widget
	base   []byte // the record the change was computed from
	record []byte // the new record
	public []byte // json.Marshal(w.Public())
}

// WidgetSnapshot reads one widget of a canvas, with the exact record it was
// decoded from, to compute a change outside the writer (PrepareWidgetUpdate).
// Only the widget struct and its Props map are the caller's own: the values
// inside Props (nested maps, slices), Versions and Digitized are shared with
// the decoded-record memo, so a change must replace them, never modify them.
func (s *Store) WidgetSnapshot(canvasID, id string) (w *Widget, base []byte, err error) {
	err = s.db.View(func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketWidgets).Bucket([]byte(canvasID))
		if b == nil {
			return ErrNotFound
		}
		raw := b.Get([]byte(id))
		if raw == nil {
			return ErrNotFound
		}
		k := widgetKey{canvasID, id}
		if e, ok := s.memo.lookup(k, raw); ok {
			c := *e.w
			c.Props = make(map[string]any, len(e.w.Props)+2)
			for pk, pv := range e.w.Props {
				c.Props[pk] = pv
			}
			w, base = &c, e.raw
			return nil
		}
		w, base, err = s.decodeWidget(canvasID, id, raw)
		return err
	})
	return w, base, err
}

// PrepareWidgetUpdate encodes w, changed from the snapshot whose record is
// base, for ApplyWidgetUpdate. It takes ownership of w: the caller must not
// change it afterwards. w must hold only values as JSON decodes them
// (float64, string, bool, nil, map[string]any, []any), so that the memo may
// keep it as the decoding of the new record.
func PrepareWidgetUpdate(w *Widget, base []byte) (*WidgetUpdate, error) {
	rec, err := marshalWidget(w)
	if err != nil {
		return nil, err
	}
	pub, err := marshalPublic(w)
	if err != nil {
		return nil, err
	}
	return &WidgetUpdate{w: w, base: base, record: rec, public: pub}, nil
}

// Public is the changed widget as the Canvus API shows it, encoded:
// the bytes of json.Marshal(w.Public()), as in the update's event.
func (u *WidgetUpdate) Public() []byte { return u.public }

// ApplyWidgetUpdate stores u and appends its event of type typ, if the
// widget's record is still the one u was computed from. It reports false,
// changing nothing, when the widget changed or is gone: the caller then
// redoes its change inside the transaction.
func (t *Tx) ApplyWidgetUpdate(u *WidgetUpdate, typ string) (bool, error) {
	b := t.widgets(u.w.CanvasID)
	if b == nil {
		return false, nil
	}
	if cur := b.Get([]byte(u.w.ID)); cur == nil || !bytes.Equal(cur, u.base) {
		return false, nil
	}
	if err := b.Put([]byte(u.w.ID), u.record); err != nil {
		return false, err
	}
	ev, err := t.appendWidgetEvent(u.w.CanvasID, typ, u.public)
	if err != nil {
		return false, err
	}
	if err := t.setWidgetVersion(u.w.CanvasID, u.w.ID, ev.Seq); err != nil {
		return false, err
	}
	t.s.memo.put(widgetKey{u.w.CanvasID, u.w.ID}, u.record, u.w)
	return true, nil
}
