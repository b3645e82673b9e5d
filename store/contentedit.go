package store

import (
	"encoding/json"
	"time"
)

// EvCanvasEdited is the type of the notice a commit hands to SetOnCommit's
// hook when it moved a canvas's modified_at by editing its content (a
// widget created, changed, re-cropped or deleted). The notice has Seq 0:
// it is not in the canvas's log, only a copy for the canvas list (its Data
// is a CANVAS_UPDATED envelope with the canvas's public JSON).
const EvCanvasEdited = "CANVAS_EDITED"

// contentEdited records that this transaction changed canvasID's content;
// the group commit moves the canvas's modified_at once (touchEdited).
func (t *Tx) contentEdited(canvasID, typ string) {
	if t.batch == nil || typ == EvCanvasUpdated || typ == EvCanvasDeleted {
		return
	}
	if t.batch.edited == nil {
		t.batch.edited = map[string]bool{}
	}
	t.batch.edited[canvasID] = true
}

// touchEdited sets modified_at = now on every canvas whose content the
// group changed, in the group's own bbolt transaction (so with no commit or
// fsync of its own), and returns the list notices to publish (one per
// canvas per commit; the server coalesces them). A canvas the group
// deleted is skipped.
func touchEdited(t *Tx, edited map[string]bool) ([]Event, error) {
	var notices []Event
	b := t.btx.Bucket(bucketCanvases)
	for id := range edited {
		if b.Get([]byte(id)) == nil {
			continue
		}
		c := &Canvas{}
		if err := getJSON(b, []byte(id), c); err != nil {
			return nil, err
		}
		if !t.now.After(c.ModifiedAt) {
			continue
		}
		c.ModifiedAt = t.now
		if err := putJSON(b, []byte(id), c); err != nil {
			return nil, err
		}
		data, err := json.Marshal(map[string]any{
			"type": EvCanvasUpdated, "canvas_id": id, "canvas": c.Public(),
			"at": t.now.Format(time.RFC3339Nano),
		})
		if err != nil {
			return nil, err
		}
		notices = append(notices, Event{CanvasID: id, Type: EvCanvasEdited, Data: data})
	}
	return notices, nil
}
