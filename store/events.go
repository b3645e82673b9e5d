package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AppendEvent appends one event to canvas's log with the next seq, in this
// transaction. fields are merged into the envelope {seq, canvas_id, type, at}.
func (t *Tx) AppendEvent(canvasID, typ string, fields map[string]any) (Event, error) {
	return t.appendEvent(canvasID, typ, func(seq uint64) ([]byte, error) {
		env := make(map[string]any, len(fields)+4)
		for k, v := range fields {
			env[k] = v
		}
		env["seq"] = seq
		env["canvas_id"] = canvasID
		env["type"] = typ
		env["at"] = t.now.Format(time.RFC3339Nano)
		return json.Marshal(env)
	})
}

// appendWidgetEvent is AppendEvent(canvasID, typ, {"widget": widget}) with
// the widget already encoded: it builds the same bytes json.Marshal makes of
// that map (keys sorted) without encoding the widget again.
func (t *Tx) appendWidgetEvent(canvasID, typ string, widget []byte) (Event, error) {
	return t.appendEvent(canvasID, typ, func(seq uint64) ([]byte, error) {
		data := make([]byte, 0, len(widget)+len(canvasID)+len(typ)+96)
		data = append(data, `{"at":"`...)
		data = t.now.AppendFormat(data, time.RFC3339Nano)
		data = append(data, `","canvas_id":`...)
		data = appendJSONString(data, canvasID)
		data = append(data, `,"seq":`...)
		data = strconv.AppendUint(data, seq, 10)
		data = append(data, `,"type":`...)
		data = appendJSONString(data, typ)
		data = append(data, `,"widget":`...)
		data = append(data, widget...)
		return append(data, '}'), nil
	})
}

func (t *Tx) appendEvent(canvasID, typ string, encode func(seq uint64) ([]byte, error)) (Event, error) {
	b, err := t.btx.Bucket(bucketEvents).CreateBucketIfNotExists([]byte(canvasID))
	if err != nil {
		return Event{}, fmt.Errorf("append event: %w", err)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return Event{}, fmt.Errorf("append event: %w", err)
	}
	data, err := encode(seq)
	if err != nil {
		return Event{}, fmt.Errorf("append event: %w", err)
	}
	if err := b.Put(itob(seq), data); err != nil {
		return Event{}, fmt.Errorf("append event: %w", err)
	}
	var authors *bolt.Bucket
	if t.author != 0 {
		if authors, err = t.btx.Bucket(bucketEventAuthors).CreateBucketIfNotExists([]byte(canvasID)); err != nil {
			return Event{}, fmt.Errorf("append event: %w", err)
		}
		if err := authors.Put(itob(seq), itob(t.author)); err != nil {
			return Event{}, fmt.Errorf("append event: %w", err)
		}
	}
	// Retention: keep the last N events (and their authors).
	keep := uint64(t.s.opts.EventRetention)
	if seq > keep {
		c := b.Cursor()
		for k, _ := c.First(); k != nil && btoi(k) <= seq-keep; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return Event{}, err
			}
		}
		if authors == nil {
			authors = t.btx.Bucket(bucketEventAuthors).Bucket([]byte(canvasID))
		}
		if authors != nil {
			c := authors.Cursor()
			for k, _ := c.First(); k != nil && btoi(k) <= seq-keep; k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return Event{}, err
				}
			}
		}
	}
	ev := Event{Seq: seq, CanvasID: canvasID, Type: typ, Data: data}
	t.events = append(t.events, ev)
	t.contentEdited(canvasID, typ)
	return ev, nil
}

// Head returns the last seq of canvas's log (0 when it has none).
func (t *Tx) Head(canvasID string) uint64 {
	b := t.btx.Bucket(bucketEvents).Bucket([]byte(canvasID))
	if b == nil {
		return 0
	}
	return b.Sequence()
}

// EventsSince returns copies of the events of canvas with seq > since, up to
// the head at the time of the call. ErrTooOld when some were already trimmed.
func (s *Store) EventsSince(canvasID string, since uint64) ([]Event, error) {
	evs, _, err := s.EventsPage(canvasID, since, math.MaxInt)
	return evs, err
}

// EventsPage is EventsSince limited to a page: it copies events until their
// data reaches maxBytes (always at least one event when there is one) and
// reports whether later events exist. Each page is its own short read
// transaction, so a replay of a large log never holds one open while the
// caller sends the page.
func (s *Store) EventsPage(canvasID string, since uint64, maxBytes int) (out []Event, more bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents).Bucket([]byte(canvasID))
		if b == nil {
			if since > 0 {
				return ErrTooOld
			}
			return nil
		}
		head := b.Sequence()
		if since > head {
			return ErrTooOld // a seq from the future: the log was reset
		}
		if since == head {
			return nil
		}
		c := b.Cursor()
		k, _ := c.First()
		if k == nil || btoi(k) > since+1 {
			return ErrTooOld
		}
		size := 0
		for k, v := c.Seek(itob(since + 1)); k != nil; k, v = c.Next() {
			if size >= maxBytes {
				more = true
				break
			}
			out = append(out, Event{Seq: btoi(k), CanvasID: canvasID, Data: append([]byte(nil), v...)})
			size += len(v)
		}
		return nil
	})
	return out, more, err
}

// HeadSeq returns the canvas's current seq.
func (s *Store) HeadSeq(canvasID string) uint64 {
	var h uint64
	s.View(func(t *Tx) error { h = t.Head(canvasID); return nil })
	return h
}

// LogSize returns the number of events retained across all canvases.
func (t *Tx) LogSize() int {
	n := 0
	t.btx.Bucket(bucketEvents).ForEachBucket(func(k []byte) error {
		n += t.btx.Bucket(bucketEvents).Bucket(k).Stats().KeyN
		return nil
	})
	return n
}
