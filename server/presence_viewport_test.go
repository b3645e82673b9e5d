package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
)

// TestLivePresenceViewportRelayed: a PRESENCE's viewport {x, y, w, h}
// reaches the other viewers as sent; one with w or h <= 0 (or a number
// JSON cannot hold) is refused with an ERROR to its sender, relays nothing,
// and leaves the socket open.
func TestLivePresenceViewportRelayed(t *testing.T) {
	e := newLiveEnv(t, server.Config{}, store.Options{}, 0)
	cv := e.canvas()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := e.dial(ctx, cv, "")
	defer a.CloseNow()
	readMsg(ctx, t, a) // HELLO
	b := e.dial(ctx, cv, "")
	defer b.CloseNow()
	readMsg(ctx, t, b) // HELLO
	if m := readMsg(ctx, t, a); m.Type != "VIEWER_JOINED" {
		t.Fatalf("A got %q, want VIEWER_JOINED", m.Type)
	}
	// nextPresence is B's next PRESENCE, as raw JSON fields.
	nextPresence := func() map[string]json.RawMessage {
		t.Helper()
		for {
			_, data, err := b.Read(ctx)
			if err != nil {
				t.Fatalf("B read: %v", err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if string(m["type"]) == `"PRESENCE"` {
				return m
			}
		}
	}
	for _, bad := range []string{
		`{"type":"PRESENCE","cursor":{"x":1,"y":1},"viewport":{"x":0,"y":0,"w":0,"h":10}}`,
		`{"type":"PRESENCE","cursor":{"x":1,"y":1},"viewport":{"x":0,"y":0,"w":100,"h":-1}}`,
		`{"type":"PRESENCE","cursor":{"x":1,"y":1},"viewport":{"x":1e300,"y":0,"w":100,"h":100}}`,
		`{"type":"PRESENCE","cursor":{"x":1,"y":1},"viewport":{"x":0,"y":0,"w":1e999,"h":100}}`,
		`{"type":"PRESENCE","cursor":{"x":1,"y":1},"viewport":{"x":"0","y":0,"w":1,"h":1}}`,
	} {
		a.Write(ctx, websocket.MessageText, []byte(bad))
		if m := readMsg(ctx, t, a); m.Type != "ERROR" {
			t.Fatalf("%s: A got %q, want ERROR", bad, m.Type)
		}
	}
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PRESENCE","cursor":{"x":12.5,"y":40},"viewport":{"x":-120.5,"y":300,"w":2560,"h":1600}}`))
	m := nextPresence()
	var vp struct{ X, Y, W, H float64 }
	if err := json.Unmarshal(m["viewport"], &vp); err != nil {
		t.Fatalf("B's PRESENCE has no viewport: %s (%v)", m["viewport"], err)
	}
	if vp.X != -120.5 || vp.Y != 300 || vp.W != 2560 || vp.H != 1600 {
		t.Fatalf("B got viewport %+v, want A's {-120.5 300 2560 1600}", vp)
	}
	// None of the refused messages was relayed: this was B's first PRESENCE.
	var cur struct{ X float64 }
	json.Unmarshal(m["cursor"], &cur)
	if cur.X != 12.5 {
		t.Fatalf("B's first PRESENCE has cursor %s: a refused one was relayed", m["cursor"])
	}
	// A presence without a viewport relays none.
	a.Write(ctx, websocket.MessageText, []byte(`{"type":"PRESENCE","cursor":{"x":1,"y":2}}`))
	if m := nextPresence(); m["viewport"] != nil {
		t.Fatalf("viewport %s relayed for a presence that sent none", m["viewport"])
	}
}
