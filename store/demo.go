package store

import "bytes"

// demoState is a demo canvas's saved state: its widgets as they were at
// the last save, root included. Each saved widget holds its own blob refs.
type demoState struct {
	Widgets []*Widget `json:"widgets"`
}

func (t *Tx) demoState(canvasID string) (*demoState, error) {
	st := &demoState{}
	if err := getJSON(t.btx.Bucket(bucketDemo), []byte(canvasID), st); err != nil {
		return nil, err
	}
	return st, nil
}

// HasDemoState reports whether the canvas has a saved demo state.
func (t *Tx) HasDemoState(canvasID string) bool {
	return t.btx.Bucket(bucketDemo).Get([]byte(canvasID)) != nil
}

// dropDemoState forgets a canvas's saved state, releasing its blob refs.
func (t *Tx) dropDemoState(canvasID string) error {
	st, err := t.demoState(canvasID)
	if err == ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	for _, w := range st.Widgets {
		if err := t.releaseWidgetBlobs(w); err != nil {
			return err
		}
	}
	return t.btx.Bucket(bucketDemo).Delete([]byte(canvasID))
}

// SaveDemoState replaces the canvas's saved demo state with its widgets as
// they are now. It appends no event: the canvas does not change.
func (t *Tx) SaveDemoState(canvasID string) error {
	ws, err := t.Widgets(canvasID)
	if err != nil {
		return err
	}
	if err := t.dropDemoState(canvasID); err != nil {
		return err
	}
	for _, w := range ws {
		for _, h := range widgetBlobs(w) {
			if err := t.AddBlobRef(h); err != nil {
				return err
			}
		}
	}
	return putJSON(t.btx.Bucket(bucketDemo), []byte(canvasID), &demoState{Widgets: ws})
}

// RestoreDemoState puts the canvas's widgets back to the saved demo state:
// widgets added since are deleted (WIDGET_DELETED), changed ones rewritten
// (WIDGET_UPDATED), deleted ones created again (WIDGET_CREATED), each with
// its event in the canvas's log like any other change. The saved state is
// kept, so a demo can be restored again. ErrNotFound when nothing was saved.
// It returns how many widgets changed.
func (t *Tx) RestoreDemoState(canvasID string) (int, error) {
	st, err := t.demoState(canvasID)
	if err != nil {
		return 0, err
	}
	cur, err := t.Widgets(canvasID)
	if err != nil {
		return 0, err
	}
	saved := make(map[string]*Widget, len(st.Widgets))
	for _, w := range st.Widgets {
		saved[w.ID] = w
	}
	live := make(map[string]*Widget, len(cur))
	b := t.widgets(canvasID)
	changed := 0
	for _, w := range cur {
		live[w.ID] = w
		if saved[w.ID] != nil {
			continue
		}
		if err := t.releaseWidgetBlobs(w); err != nil {
			return 0, err
		}
		if err := b.Delete([]byte(w.ID)); err != nil {
			return 0, err
		}
		if err := t.dropWidgetVersion(canvasID, w.ID); err != nil {
			return 0, err
		}
		pub := w.Public()
		pub["state"] = "deleted"
		if _, err := t.AppendEvent(canvasID, EvWidgetDeleted, map[string]any{"widget": pub}); err != nil {
			return 0, err
		}
		changed++
	}
	for _, w := range st.Widgets {
		typ := EvWidgetCreated
		if old := live[w.ID]; old != nil {
			a, err1 := marshalWidget(old)
			c, err2 := marshalWidget(w)
			if err1 == nil && err2 == nil && bytes.Equal(a, c) {
				continue
			}
			if err := t.releaseWidgetBlobs(old); err != nil {
				return 0, err
			}
			typ = EvWidgetUpdated
		}
		for _, h := range widgetBlobs(w) {
			if err := t.AddBlobRef(h); err != nil {
				return 0, err
			}
		}
		if _, err := t.putWidget(w, typ, nil); err != nil {
			return 0, err
		}
		changed++
	}
	return changed, nil
}
