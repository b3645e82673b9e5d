package server

import (
	"context"
	"testing"

	"github.com/canvasd/canvasd/store"
)

// TestClusterHistoryHeads: the head check reads every canvas's head in one
// call, 0 for a canvas without events.
func TestClusterHistoryHeads(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, c := range []string{"a", "a", "a", "b"} {
		if err := st.Write(func(tx *store.Tx) error {
			_, err := tx.AppendEvent(c, "WIDGET_UPDATED", map[string]any{"i": i})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	heads, err := History{St: st}.Heads(context.Background(), []string{"a", "b", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if heads["a"] != 3 || heads["b"] != 1 || heads["none"] != 0 || len(heads) != 3 {
		t.Fatalf("heads %v, want a=3 b=1 none=0", heads)
	}
}
