package store

import (
	"sync"
	"testing"
	"time"
)

// TestContentEditModifiedAtSameCommit: a widget write moves its canvas's
// modified_at in the same commit (one synced commit per write, as before),
// hands the commit hook one EvCanvasEdited notice (Seq 0) after the
// write's own event and adds nothing to the canvas's log; a group that
// deletes the canvas does not bring its record back.
func TestContentEditModifiedAtSameCommit(t *testing.T) {
	log := &syncLog{}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }
	s := openTestStore(t, Options{onSync: log.add, Now: clock})
	var hooked [][]Event
	var hookMu sync.Mutex
	s.SetOnCommit(func(evs []Event) { hookMu.Lock(); hooked = append(hooked, evs); hookMu.Unlock() })

	cv := &Canvas{Name: "c"}
	if err := s.Write(func(tx *Tx) error { return tx.CreateCanvas(cv) }); err != nil {
		t.Fatal(err)
	}
	created := cv.ModifiedAt
	head := s.HeadSeq(cv.ID)
	advance(time.Minute)
	mark := log.len()
	hookMu.Lock()
	hooked = nil
	hookMu.Unlock()
	w := &Widget{ID: "w1", CanvasID: cv.ID, Type: "Note", Props: map[string]any{"text": "hi", "parent_id": cv.RootWidget}}
	if err := s.Write(func(tx *Tx) error { return tx.CreateWidget(w) }); err != nil {
		t.Fatal(err)
	}
	if evs := log.since(mark); len(evs) != 1 || evs[0].kind != "commit" || evs[0].acks != 1 || !evs[0].synced {
		t.Fatalf("a widget write made %+v, want one synced commit", evs)
	}
	var got *Canvas
	s.View(func(tx *Tx) (err error) { got, err = tx.Canvas(cv.ID); return })
	if !got.ModifiedAt.Equal(created.Add(time.Minute)) {
		t.Fatalf("modified_at %v after a widget create at %v (created %v)", got.ModifiedAt, created.Add(time.Minute), created)
	}
	if h := s.HeadSeq(cv.ID); h != head+1 {
		t.Fatalf("head seq %d, want %d: the notice must not be in the log", h, head+1)
	}
	hookMu.Lock()
	if len(hooked) != 1 || len(hooked[0]) != 2 || hooked[0][0].Type != EvWidgetCreated || hooked[0][1].Type != EvCanvasEdited || hooked[0][1].Seq != 0 {
		t.Fatalf("commit hook got %+v, want [WIDGET_CREATED, CANVAS_EDITED(seq 0)]", hooked)
	}
	hookMu.Unlock()

	// A canvas event (a rename) is no content edit: no notice.
	hookMu.Lock()
	hooked = nil
	hookMu.Unlock()
	if err := s.Write(func(tx *Tx) error { c, _ := tx.Canvas(cv.ID); c.Name = "renamed"; return tx.PutCanvas(c) }); err != nil {
		t.Fatal(err)
	}
	hookMu.Lock()
	if len(hooked) != 1 || len(hooked[0]) != 1 || hooked[0][0].Type != EvCanvasUpdated {
		t.Fatalf("a rename handed the hook %+v, want one CANVAS_UPDATED", hooked)
	}
	hookMu.Unlock()

	// A widget edit and the canvas's deletion in one transaction: the canvas stays gone.
	if err := s.Write(func(tx *Tx) error {
		w.Props["text"] = "bye"
		if err := tx.UpdateWidget(w, EvWidgetUpdated, nil); err != nil {
			return err
		}
		return tx.DeleteCanvas(cv.ID)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(func(tx *Tx) error { _, err := tx.Canvas(cv.ID); return err }); err != ErrNotFound {
		t.Fatalf("canvas after its deletion: %v, want ErrNotFound", err)
	}
}
