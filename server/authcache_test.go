package server

import (
	"bytes"
	"fmt"
	"testing"
)

// The auth cache (tokens' users, canvases' sharing) must never outlive a
// change: each revocation below is checked by the very next request, after
// the cache was warmed by requests that succeeded.
func TestAuthCacheRevocationTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	c := e.createCanvas(alice.Token, "cache")
	note := e.createNote(alice.Token, c, nil)
	notePath := c.path("/notes/" + note.id())

	// Bob: edit, then view, then none; each answer changes at once.
	e.share(alice.Token, c, bob.ID, "edit")
	for i := 0; i < 3; i++ {
		e.doJSON("PATCH", notePath, bob.Token, map[string]any{"text": fmt.Sprint("bob ", i)}).expect(t, 200)
	}
	e.share(alice.Token, c, bob.ID, "view")
	e.doJSON("PATCH", notePath, bob.Token, map[string]any{"text": "view only"}).expect(t, 403)
	e.doJSON("GET", notePath, bob.Token, nil).expect(t, 200)
	e.share(alice.Token, c, bob.ID, "none")
	e.doJSON("GET", notePath, bob.Token, nil).expect(t, 403)

	// A guest through the link permission, until it is taken away.
	e.setLink(alice.Token, c, "view")
	e.doJSON("GET", notePath, "", nil).expect(t, 200)
	e.setLink(alice.Token, c, "none")
	e.doJSON("GET", notePath, "", nil).expect(t, 401)

	// A second token of bob's, used, then deleted: 401 right after the 200.
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", bob.ID), bob.Token, map[string]any{"description": "second"}, 200)
	plain := tk.str("plain_token")
	e.doJSON("GET", "/api/v1/users", plain, nil).expect(t, 200)
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", bob.ID, tk.id()), bob.Token, nil, 200)
	e.doJSON("GET", "/api/v1/users", plain, nil).expect(t, 401)

	// Blocking bob stops his remaining token at once; unblocking restores it.
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 200)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, map[string]any{"blocked": true}, 200)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 401)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, map[string]any{"blocked": false}, 200)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 200)
}

// A PATCH answered from bytes encoded outside the writer is exactly what a
// GET of the widget then returns, for both kinds of edit the benchmark
// makes, and a PATCH that fails validation changes nothing.
func TestPatchResponseIsTheStoredWidget(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "patch")
	img := e.mustImage(e.Admin, c, "a.jpg", testJPEG(t, 160, 90))
	e.waitImageHash(e.Admin, c, img.id())
	path := c.path("/images/" + img.id())
	for _, body := range []string{
		`{"location": {"x": 120.5, "y": 64}}`,
		`{"size": {"width": 800, "height": 800}, "pinned": true}`,
		`{"title": "<b>&</b> \u00e9", "depth": 3.25}`,
	} {
		patched := e.doJSON("PATCH", path, e.Admin, body).expect(t, 200)
		got := e.doJSON("GET", path, e.Admin, nil).expect(t, 200)
		if !bytes.Equal(patched.Body, got.Body) {
			t.Fatalf("PATCH %s answered\n%s\nGET says\n%s", body, patched.Body, got.Body)
		}
		if ct := patched.Header.Get("Content-Type"); ct != got.Header.Get("Content-Type") {
			t.Fatalf("content type %q, GET %q", ct, got.Header.Get("Content-Type"))
		}
	}
	size := e.doJSON("GET", path, e.Admin, nil).expect(t, 200).obj(t)["size"].(map[string]any)
	if size["width"] != 800.0 || size["height"] != 450.0 {
		t.Fatalf("size %v, want 800x450", size)
	}
	before := e.doJSON("GET", path, e.Admin, nil).expect(t, 200).Body
	e.doJSON("PATCH", path, e.Admin, `{"location": {"x": 1, "y": 2}, "depth": 0.5}`).expectMsg(t, 400, "Depth must be >= 1.0, got 0.5")
	if after := e.doJSON("GET", path, e.Admin, nil).expect(t, 200).Body; !bytes.Equal(before, after) {
		t.Fatalf("a refused PATCH changed the widget:\n%s\n%s", before, after)
	}
}
