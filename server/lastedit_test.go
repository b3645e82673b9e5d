package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestContentEditMovesCanvasModifiedAt: a widget create, patch and delete
// each move the canvas's modified_at (GET canvas and the list), and the
// canvas-list ?subscribe stream tells its subscriber, while the canvas's
// own log holds no extra event.
func TestContentEditMovesCanvasModifiedAt(t *testing.T) {
	clock := &testClock{}
	e := newTestEnv(t, withClock(clock))
	u := e.createUser("lastedit", false)
	cv := e.createCanvas(u.Token, "edited")
	modified := func() string {
		t.Helper()
		return e.doJSON("GET", cv.path(""), u.Token, nil).expect(t, 200).obj(t).str("modified_at")
	}
	listed := func() string {
		t.Helper()
		for _, c := range e.doJSON("GET", "/api/v1/canvases", u.Token, nil).expect(t, 200).list(t) {
			if c.id() == cv.ID {
				return c.str("modified_at")
			}
		}
		t.Fatalf("canvas %s not listed", cv.ID)
		return ""
	}
	before := modified()
	headBefore := e.Store.HeadSeq(cv.ID)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/api/v1/canvases?subscribe", nil)
	req.Header.Set("Private-Token", u.Token)
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	if !lines.Scan() {
		t.Fatalf("no first line: %v", lines.Err())
	}

	clock.Advance(2 * time.Minute)
	note := e.createNote(u.Token, cv, map[string]any{"text": "hello"})
	afterCreate := modified()
	if afterCreate <= before {
		t.Fatalf("modified_at after a note create = %q, before %q: want later", afterCreate, before)
	}
	if l := listed(); l != afterCreate {
		t.Fatalf("list modified_at %q, GET canvas %q", l, afterCreate)
	}
	// The stream's next line is the canvas with the new time.
	for {
		if !lines.Scan() {
			t.Fatalf("stream ended: %v", lines.Err())
		}
		var m map[string]any
		if json.Unmarshal(lines.Bytes(), &m) != nil || m["id"] != cv.ID {
			continue // keep-alive or another canvas
		}
		if m["modified_at"] != afterCreate {
			t.Fatalf("stream line modified_at %v, want %q", m["modified_at"], afterCreate)
		}
		if m["access"] != "owner" {
			t.Fatalf("stream line access %v, want owner", m["access"])
		}
		break
	}
	// The log holds the note's event only: the list notice is not in it.
	if got := e.Store.HeadSeq(cv.ID); got != headBefore+1 {
		t.Fatalf("head seq %d after one create, want %d", got, headBefore+1)
	}

	clock.Advance(time.Minute)
	e.doJSON("PATCH", cv.path("/notes/"+note.id()), u.Token, map[string]any{"text": "changed"}).expect(t, 200)
	afterPatch := modified()
	if afterPatch <= afterCreate {
		t.Fatalf("modified_at after a patch = %q, want later than %q", afterPatch, afterCreate)
	}
	// A second edit within the list's notice window (editNoticeEvery) is
	// held, not dropped: the stream still ends on the latest time.
	for {
		if !lines.Scan() {
			t.Fatalf("stream ended before showing the patch's time: %v", lines.Err())
		}
		var m map[string]any
		if json.Unmarshal(lines.Bytes(), &m) == nil && m["id"] == cv.ID && m["modified_at"] == afterPatch {
			break
		}
	}
	clock.Advance(time.Minute)
	e.doJSON("DELETE", cv.path("/notes/"+note.id()), u.Token, nil).expect(t, 200)
	if afterDelete := modified(); afterDelete <= afterPatch {
		t.Fatalf("modified_at after a delete = %q, want later than %q", afterDelete, afterPatch)
	}
}
