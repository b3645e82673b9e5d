package server

// Folders (move, copy, children, permissions and their inheritance), demo
// save/restore, canvas auto-names, and the ?subscribe streams of users,
// tokens, folders and permissions: all over a real port.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
)

// fdFolder creates a folder as token (in parent, "" = the caller's home).
func fdFolder(e *testEnv, token, name, parent string) string {
	e.t.Helper()
	body := map[string]any{"name": name}
	if parent != "" {
		body["folder_id"] = parent
	}
	return e.mustJSON("POST", "/api/v1/canvas-folders", token, body, 200).id()
}

// fdCanvasIn creates a canvas named name in folder.
func fdCanvasIn(e *testEnv, token, name, folder string) testCanvas {
	e.t.Helper()
	return testCanvas{ID: e.mustJSON("POST", "/api/v1/canvases", token, map[string]any{"name": name, "folder_id": folder}, 200).id()}
}

func fdGrant(e *testEnv, token, folder string, uid uint64, perm string) jsonObj {
	e.t.Helper()
	return e.mustJSON("POST", "/api/v1/canvas-folders/"+folder+"/permissions", token,
		map[string]any{"users": []any{map[string]any{"id": uid, "permission": perm}}}, 200)
}

// fdChildren lists the folders and canvases (by name) directly in folder, as token sees them.
func fdChildren(e *testEnv, token, folder string) (folders map[string]string, canvases map[string]string) {
	e.t.Helper()
	folders, canvases = map[string]string{}, map[string]string{}
	for _, f := range e.doJSON("GET", "/api/v1/canvas-folders", token, nil).expect(e.t, 200).list(e.t) {
		if f.str("folder_id") == folder {
			folders[f.str("name")] = f.id()
		}
	}
	for _, c := range e.doJSON("GET", "/api/v1/canvases", token, nil).expect(e.t, 200).list(e.t) {
		if c.str("folder_id") == folder {
			canvases[c.str("name")] = c.id()
		}
	}
	return
}

// fdStream is an open NDJSON ?subscribe stream; lines carries every
// non-empty line, and is closed when the stream ends.
type fdStream struct {
	lines chan []byte
}

func fdSubscribe(t *testing.T, e *testEnv, path, token string) (*fdStream, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+path+sep+"subscribe", nil)
	req.Header.Set("Private-Token", token)
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("subscribe %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("subscribe %s: status %d", path, resp.StatusCode)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	if !sc.Scan() {
		t.Fatalf("subscribe %s: no first line", path)
	}
	first := append([]byte(nil), sc.Bytes()...)
	s := &fdStream{lines: make(chan []byte, 256)}
	go func() {
		defer close(s.lines)
		for sc.Scan() {
			if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
				s.lines <- append([]byte(nil), l...)
			}
		}
	}()
	return s, first
}

// next waits for a line containing want; lines before it must not contain
// any of never. It fails if the stream ends first.
func (s *fdStream) next(t *testing.T, want string, never ...string) []byte {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("stream ended before a line with %q", want)
			}
			for _, n := range never {
				if bytes.Contains(l, []byte(n)) {
					t.Fatalf("stream line carries %q: %s", n, l)
				}
			}
			if bytes.Contains(l, []byte(want)) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line with %q within 10 s", want)
		}
	}
}

// ends waits for the stream to end; no line may contain any of never.
func (s *fdStream) ends(t *testing.T, never ...string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return
			}
			for _, n := range never {
				if bytes.Contains(l, []byte(n)) {
					t.Fatalf("stream line carries %q: %s", n, l)
				}
			}
		case <-timeout:
			t.Fatal("stream still open after 10 s")
		}
	}
}

// TestFolderPermissionsInherited: a folder grant reaches the canvases and
// sub-folders inside it at any depth, through the canvas access check (and
// so reads, writes, lists, permissions and open streams), and taking it
// back takes the access back at once.
func TestFolderPermissionsInherited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	top := fdFolder(e, alice.Token, "top", "")
	sub := fdFolder(e, alice.Token, "sub", top)
	c := fdCanvasIn(e, alice.Token, "deep", sub)
	note := e.createNote(alice.Token, c, map[string]any{"text": "x"}).id()

	e.doJSON("GET", c.path(""), bob.Token, nil).expectMsg(t, 403, "Permission denied")
	e.doJSON("GET", "/api/v1/canvas-folders/"+sub, bob.Token, nil).expect(t, 403)

	fdGrant(e, alice.Token, top, bob.ID, "view")
	if a := e.mustJSON("GET", c.path(""), bob.Token, nil, 200).str("access"); a != "view" {
		t.Fatalf("inherited access %q, want view", a)
	}
	if a := e.mustJSON("GET", "/api/v1/canvas-folders/"+sub, bob.Token, nil, 200).str("access"); a != "view" {
		t.Fatalf("sub-folder access %q, want view", a)
	}
	e.doJSON("PATCH", c.path("/notes/"+note), bob.Token, map[string]any{"text": "y"}).expect(t, 403)
	if _, cs := fdChildren(e, bob.Token, sub); cs["deep"] != c.ID {
		t.Fatalf("bob's canvas list lacks the inherited canvas: %v", cs)
	}
	perms := e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
	found := false
	for _, u := range perms["users"].([]any) {
		m := jsonObj(u.(map[string]any))
		if uint64(m.num("id")) == bob.ID {
			found = m.boolean("inherited") && m.str("permission") == "view"
		}
	}
	if !found {
		t.Fatalf("canvas permissions do not show bob's inherited view: %v", perms)
	}

	// A stream opened on the inherited right ends when the folder grant goes.
	st, _ := fdSubscribe(t, e, c.path(""), bob.Token)

	fdGrant(e, alice.Token, top, bob.ID, "edit")
	e.mustJSON("PATCH", c.path("/notes/"+note), bob.Token, map[string]any{"text": "by bob"}, 200)

	fdGrant(e, alice.Token, top, bob.ID, "none")
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)
	e.doJSON("PATCH", c.path("/notes/"+note), bob.Token, map[string]any{"text": "z"}).expect(t, 403)
	e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"name": "after-revoke-secret"}, 200)
	st.ends(t, "after-revoke-secret")

	// Moving the canvas out of the shared tree ends the inheritance too.
	fdGrant(e, alice.Token, top, bob.ID, "view")
	e.mustJSON("GET", c.path(""), bob.Token, nil, 200)
	e.mustJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": store.HomeFolderID(alice.ID)}, 200)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)
}

func TestFolderPermissionsGetSet(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob, ed, vera := e.createUser("alice", false), e.createUser("bob", false), e.createUser("ed", false), e.createUser("vera", false)
	f := fdFolder(e, alice.Token, "shared", "")
	p := "/api/v1/canvas-folders/" + f + "/permissions"

	got := e.mustJSON("GET", p, alice.Token, nil, 200)
	want := fmt.Sprintf(`{"editors_can_share":true,"groups":[],"users":[{"id":%d,"inherited":false,"permission":"owner"}]}`, alice.ID)
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("GET permissions = %s, want %s", b, want)
	}
	// The documented example body.
	r := e.mustJSON("POST", p, alice.Token, map[string]any{"editors_can_share": false, "users": []any{map[string]any{"id": bob.ID, "permission": "edit"}}}, 200)
	want = fmt.Sprintf(`{"editors_can_share":false,"groups":[],"users":[{"id":%d,"inherited":false,"permission":"owner"},{"id":%d,"inherited":false,"permission":"edit"}]}`, alice.ID, bob.ID)
	if b, _ := json.Marshal(r); string(b) != want {
		t.Fatalf("POST permissions = %s, want %s", b, want)
	}

	e.doJSON("POST", p, alice.Token, map[string]any{"users": []any{map[string]any{"permission": "edit"}}}).expectMsg(t, 400, "users[].id is required")
	e.doJSON("POST", p, alice.Token, map[string]any{"users": []any{map[string]any{"id": bob.ID, "permission": "admin"}}}).expectMsg(t, 400, "permission must be")
	e.doJSON("POST", p, alice.Token, map[string]any{"users": []any{map[string]any{"id": 987654, "permission": "view"}}}).expectMsg(t, 400, "does not exist")
	e.doJSON("POST", p, alice.Token, `{"users": "x"}`).expect(t, 400)
	e.doJSON("GET", "/api/v1/canvas-folders/"+ghostUUID+"/permissions", alice.Token, nil).expect(t, 404)
	e.doJSON("GET", p, vera.Token, nil).expect(t, 403)
	e.doJSON("POST", p, vera.Token, map[string]any{"users": []any{map[string]any{"id": vera.ID, "permission": "owner"}}}).expect(t, 403)
	e.doJSON("GET", p, "", nil).expect(t, 401)

	// Editors may not share while editors_can_share is off; once on, they
	// may grant view and edit, never owner, and never touch an owner.
	e.doJSON("POST", p, bob.Token, map[string]any{"users": []any{map[string]any{"id": ed.ID, "permission": "view"}}}).expectMsg(t, 403, "editors_can_share is off")
	e.mustJSON("POST", p, alice.Token, map[string]any{"editors_can_share": true}, 200)
	e.mustJSON("POST", p, bob.Token, map[string]any{"users": []any{map[string]any{"id": ed.ID, "permission": "view"}}}, 200)
	e.doJSON("POST", p, bob.Token, map[string]any{"users": []any{map[string]any{"id": vera.ID, "permission": "owner"}}}).expectMsg(t, 403, "only an owner can grant owner")
	e.doJSON("POST", p, bob.Token, map[string]any{"editors_can_share": false}).expectMsg(t, 403, "only an owner")
	e.doJSON("POST", p, ed.Token, map[string]any{"users": []any{map[string]any{"id": vera.ID, "permission": "view"}}}).expectMsg(t, 403, "may not change")
	// alice stays owner whatever is sent for her.
	e.mustJSON("POST", p, alice.Token, map[string]any{"users": []any{map[string]any{"id": alice.ID, "permission": "none"}}}, 200)

	// Each change is in the audit log, with its author.
	audit := e.doJSON("GET", "/api/v1/audit-log?target_type=folder&target_id="+f, e.Admin, nil).expect(t, 200)
	if !bytes.Contains(audit.Body, []byte(`"folder.permissions_changed"`)) || !bytes.Contains(audit.Body, []byte(fmt.Sprintf(`"author_id":%d`, bob.ID))) {
		t.Fatalf("audit log of the folder: %s", audit)
	}

	// A sub-folder shows the grants from above as inherited.
	sub := fdFolder(e, alice.Token, "sub", f)
	sp := e.mustJSON("GET", "/api/v1/canvas-folders/"+sub+"/permissions", bob.Token, nil, 200)
	inh := map[uint64]string{}
	for _, u := range sp["users"].([]any) {
		m := jsonObj(u.(map[string]any))
		if m.boolean("inherited") {
			inh[uint64(m.num("id"))] = m.str("permission")
		}
	}
	if inh[bob.ID] != "edit" || inh[ed.ID] != "view" {
		t.Fatalf("sub-folder inherited grants %v, want bob edit and ed view", inh)
	}
}

func TestFolderMove(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	home := store.HomeFolderID(alice.ID)
	a := fdFolder(e, alice.Token, "A", "")
	b := fdFolder(e, alice.Token, "B", "")
	a1 := fdFolder(e, alice.Token, "A1", a)
	mv := func(id string, body any) *testResp {
		return e.doJSON("POST", "/api/v1/canvas-folders/"+id+"/move", alice.Token, body)
	}

	mv(a, map[string]any{}).expectMsg(t, 400, "folder_id is required")
	mv(a, map[string]any{"folder_id": b, "conflicts": "merge"}).expectMsg(t, 400, "conflicts must be")
	mv(a, map[string]any{"folder_id": a1}).expectMsg(t, 400, "into itself")
	mv(a, map[string]any{"folder_id": a}).expectMsg(t, 400, "into itself")
	mv(a, map[string]any{"folder_id": ghostUUID}).expectMsg(t, 400, "does not exist")
	mv(home, map[string]any{"folder_id": b}).expectMsg(t, 400, "cannot be moved")
	mv(a, map[string]any{"folder_id": "trash." + store.HomeFolderID(bob.ID)}).expectMsg(t, 400, "other users' trash")
	e.doJSON("POST", "/api/v1/canvas-folders/"+ghostUUID+"/move", alice.Token, map[string]any{"folder_id": b}).expect(t, 404)
	e.doJSON("POST", "/api/v1/canvas-folders/"+a+"/move", bob.Token, map[string]any{"folder_id": store.HomeFolderID(bob.ID)}).expect(t, 403)
	e.doJSON("POST", "/api/v1/canvas-folders/"+a+"/move", "", map[string]any{"folder_id": b}).expect(t, 401)
	// Into a folder bob owns and alice may not edit.
	mv(a, map[string]any{"folder_id": store.HomeFolderID(bob.ID)}).expect(t, 403)

	// The documented answer.
	got := mv(a, map[string]any{"folder_id": b, "conflicts": "replace"}).expect(t, 200).obj(t)
	if got.id() != a || got.str("folder_id") != b || got.str("name") != "A" || got.str("access") != "owner" || got.boolean("in_trash") || got.str("state") != "normal" {
		t.Fatalf("move answered %v", got)
	}
	if fs, _ := fdChildren(e, alice.Token, b); fs["A"] != a {
		t.Fatalf("B's children %v, want A", fs)
	}
	if fs, _ := fdChildren(e, alice.Token, a); fs["A1"] != a1 {
		t.Fatalf("A lost its sub-folder A1: %v", fs)
	}

	// Conflicts: a folder X in home and one in B.
	xHome := fdFolder(e, alice.Token, "X", "")
	fdCanvasIn(e, alice.Token, "same", xHome)
	xb := fdFolder(e, alice.Token, "X", b)
	fdCanvasIn(e, alice.Token, "same", xb)
	only := fdCanvasIn(e, alice.Token, "only-in-b", xb).ID
	mv(xb, map[string]any{"folder_id": home, "conflicts": "cancel"}).expectMsg(t, 409, "already exists")
	// skip (the default): merged; the clashing canvas stays behind.
	got = mv(xb, map[string]any{"folder_id": home}).expect(t, 200).obj(t)
	if got.id() != xHome {
		t.Fatalf("skip answered %v, want the folder merged into (%s)", got, xHome)
	}
	if _, cs := fdChildren(e, alice.Token, xHome); cs["only-in-b"] != only || cs["same"] == "" {
		t.Fatalf("merged folder holds %v", cs)
	}
	if _, cs := fdChildren(e, alice.Token, xb); cs["same"] == "" || len(cs) != 1 {
		t.Fatalf("the clashing canvas should stay behind: %v", cs)
	}
	// replace: the folder there goes, with what it held.
	got = mv(xb, map[string]any{"folder_id": home, "conflicts": "replace"}).expect(t, 200).obj(t)
	if got.id() != xb || got.str("folder_id") != home {
		t.Fatalf("replace answered %v", got)
	}
	e.doJSON("GET", "/api/v1/canvas-folders/"+xHome, alice.Token, nil).expect(t, 404)
	e.doJSON("GET", "/api/v1/canvases/"+only, alice.Token, nil).expect(t, 404)

	// Trash: the folder and everything inside it are in the trash, and
	// come out of it when moved back.
	inA1 := fdCanvasIn(e, alice.Token, "in-a1", a1)
	got = mv(a, map[string]any{"folder_id": "trash." + home}).expect(t, 200).obj(t)
	if !got.boolean("in_trash") || got.str("folder_id") != "trash."+home {
		t.Fatalf("trash answered %v", got)
	}
	if !e.mustJSON("GET", "/api/v1/canvas-folders/"+a1, alice.Token, nil, 200).boolean("in_trash") ||
		!e.mustJSON("GET", inA1.path(""), alice.Token, nil, 200).boolean("in_trash") {
		t.Fatal("the contents of a trashed folder are not in_trash")
	}
	if f := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "new", "folder_id": a1}, 200); !f.boolean("in_trash") {
		t.Fatalf("a folder created inside a trashed folder: %v", f)
	}
	got = mv(a, map[string]any{"folder_id": home}).expect(t, 200).obj(t)
	if got.boolean("in_trash") || e.mustJSON("GET", inA1.path(""), alice.Token, nil, 200).boolean("in_trash") {
		t.Fatalf("restored from the trash, still in_trash: %v", got)
	}
}

func TestFolderCopyDeep(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob, carl := e.createUser("alice", false), e.createUser("bob", false), e.createUser("carl", false)
	png := testPNG(t, 8, 5)
	f := fdFolder(e, alice.Token, "Proj", "")
	sub := fdFolder(e, alice.Token, "Inner", f)
	c1 := fdCanvasIn(e, alice.Token, "one", f)
	e.createNote(alice.Token, c1, map[string]any{"text": "hello copy"})
	e.mustImage(alice.Token, c1, "p.png", png)
	c2 := fdCanvasIn(e, alice.Token, "two", sub)
	e.createNote(alice.Token, c2, map[string]any{"text": "deep note"})
	cp := func(token, id string, body any) *testResp {
		return e.doJSON("POST", "/api/v1/canvas-folders/"+id+"/copy", token, body)
	}

	cp(alice.Token, f, map[string]any{}).expectMsg(t, 400, "folder_id is required")
	cp(alice.Token, f, map[string]any{"folder_id": sub}).expectMsg(t, 400, "into itself")
	cp(alice.Token, f, map[string]any{"folder_id": ghostUUID}).expectMsg(t, 400, "does not exist")
	cp(carl.Token, f, map[string]any{"folder_id": store.HomeFolderID(carl.ID)}).expect(t, 403)
	cp(alice.Token, ghostUUID, map[string]any{"folder_id": f}).expect(t, 404)

	// bob, with view on the folder, copies it into his home: the copy is his.
	fdGrant(e, alice.Token, f, bob.ID, "view")
	bobHome := store.HomeFolderID(bob.ID)
	cp(bob.Token, f, map[string]any{"folder_id": store.HomeFolderID(alice.ID)}).expect(t, 403) // no edit on alice's home
	got := cp(bob.Token, f, map[string]any{"folder_id": bobHome}).expect(t, 200).obj(t)
	if got.id() == f || got.str("name") != "Proj" || got.str("folder_id") != bobHome || got.str("access") != "owner" {
		t.Fatalf("copy answered %v", got)
	}
	nf := got.id()
	cp(bob.Token, f, map[string]any{"folder_id": bobHome, "conflicts": "cancel"}).expectMsg(t, 409, "already exists")

	// Delete the original tree: the copy keeps its widgets and blobs.
	e.mustJSON("DELETE", "/api/v1/canvas-folders/"+f, alice.Token, nil, 200)
	fs, cs := fdChildren(e, bob.Token, nf)
	if fs["Inner"] == "" || cs["one"] == "" || len(fs) != 1 || len(cs) != 1 {
		t.Fatalf("copied folder holds %v %v", fs, cs)
	}
	one := testCanvas{ID: cs["one"]}
	var text string
	var img string
	for _, w := range e.doJSON("GET", one.path("/widgets"), bob.Token, nil).expect(t, 200).list(t) {
		switch w.str("widget_type") {
		case "Note":
			text = w.str("text")
		case "Image":
			img = w.id()
		}
	}
	if text != "hello copy" || img == "" {
		t.Fatalf("copied canvas has note %q, image %q", text, img)
	}
	if r := e.do("GET", one.path("/images/"+img+"/download"), bob.Token, nil, ""); r.Status != 200 || !bytes.Equal(r.Body, png) {
		t.Fatalf("copied image download: %d, %d bytes (want the original %d)", r.Status, len(r.Body), len(png))
	}
	_, cs2 := fdChildren(e, bob.Token, fs["Inner"])
	if cs2["two"] == "" {
		t.Fatalf("copied sub-folder holds %v", cs2)
	}
	deep := e.doJSON("GET", "/api/v1/canvases/"+cs2["two"]+"/notes", bob.Token, nil).expect(t, 200).list(t)
	if len(deep) != 1 || deep[0].str("text") != "deep note" {
		t.Fatalf("deep canvas notes %v", deep)
	}

	// A home folder copies without its trash.
	e.mustJSON("POST", fdCanvasIn(e, bob.Token, "binned", bobHome).path("/move"), bob.Token, map[string]any{"folder_id": "trash." + bobHome}, 200)
	drop := fdFolder(e, alice.Token, "Drop", "")
	fdGrant(e, alice.Token, drop, bob.ID, "edit")
	hc := cp(bob.Token, bobHome, map[string]any{"folder_id": drop}).expect(t, 200).obj(t)
	if fs, _ := fdChildren(e, bob.Token, hc.id()); fs["Trash"] != "" || fs["Proj"] == "" {
		t.Fatalf("copied home folder holds %v: want Proj, no Trash", fs)
	}

	// Copy into the same parent: "(copy)".
	got = cp(bob.Token, nf, map[string]any{"folder_id": bobHome}).expect(t, 200).obj(t)
	if got.str("name") != "Proj (copy)" {
		t.Fatalf("copy beside itself named %q", got.str("name"))
	}
}

func TestFolderDeleteChildren(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	home := store.HomeFolderID(alice.ID)
	f := fdFolder(e, alice.Token, "F", "")
	inner := fdFolder(e, alice.Token, "in", f)
	deep := fdCanvasIn(e, alice.Token, "deep", inner)
	top := fdCanvasIn(e, alice.Token, "top", f)

	e.doJSON("DELETE", "/api/v1/canvas-folders/"+f+"/children", bob.Token, nil).expect(t, 403)
	e.doJSON("DELETE", "/api/v1/canvas-folders/"+f+"/children", "", nil).expect(t, 401)
	e.doJSON("DELETE", "/api/v1/canvas-folders/"+ghostUUID+"/children", alice.Token, nil).expect(t, 404)
	fdGrant(e, alice.Token, f, bob.ID, "edit")
	e.doJSON("DELETE", "/api/v1/canvas-folders/"+f+"/children", bob.Token, nil).expect(t, 403) // owner only

	e.mustJSON("DELETE", "/api/v1/canvas-folders/"+f+"/children", alice.Token, nil, 200)
	e.mustJSON("GET", "/api/v1/canvas-folders/"+f, alice.Token, nil, 200)
	e.doJSON("GET", "/api/v1/canvas-folders/"+inner, alice.Token, nil).expect(t, 404)
	e.doJSON("GET", deep.path(""), alice.Token, nil).expect(t, 404)
	e.doJSON("GET", top.path(""), alice.Token, nil).expect(t, 404)

	// The documented example empties a trash folder; a home folder's own
	// trash survives the emptying of the home folder.
	trashed := fdCanvasIn(e, alice.Token, "old", home)
	e.mustJSON("POST", trashed.path("/move"), alice.Token, map[string]any{"folder_id": "trash." + home}, 200)
	e.mustJSON("DELETE", "/api/v1/canvas-folders/"+home+"/children", alice.Token, nil, 200)
	e.mustJSON("GET", "/api/v1/canvas-folders/trash."+home, alice.Token, nil, 200)
	e.mustJSON("GET", trashed.path(""), alice.Token, nil, 200)
	e.mustJSON("DELETE", "/api/v1/canvas-folders/trash."+home+"/children", alice.Token, nil, 200)
	e.doJSON("GET", trashed.path(""), alice.Token, nil).expect(t, 404)
}

func TestCanvasAutoNames(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	var names, ids []string
	for range 3 {
		cv := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{}, 200)
		names, ids = append(names, cv.str("name")), append(ids, cv.id())
	}
	if want := []string{"New canvas", "New canvas (2)", "New canvas (3)"}; !slices.Equal(names, want) {
		t.Fatalf("auto names %v, want %v", names, want)
	}
	// A freed name is taken again; another folder starts over.
	e.mustJSON("DELETE", "/api/v1/canvases/"+ids[1], alice.Token, nil, 200)
	if n := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": ""}, 200).str("name"); n != "New canvas (2)" {
		t.Fatalf("after deleting (2) the next canvas is named %q", n)
	}
	other := fdFolder(e, alice.Token, "other", "")
	if n := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"folder_id": other}, 200).str("name"); n != "New canvas" {
		t.Fatalf("first canvas of another folder named %q", n)
	}
	if n := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "New canvas (3)"}, 200).str("name"); n != "New canvas (3)" {
		t.Fatalf("a given name changed to %q", n)
	}
}

// TestDemoSaveRestore: a demo canvas's state is saved when it becomes one
// and on POST /save; POST /restore puts its widgets back (a deleted image
// with its blob too), every change is an event in the log, without gaps,
// and a ?subscribe viewer sees the restore.
func TestDemoSaveRestore(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, vera := e.createUser("alice", false), e.createUser("vera", false)
	c := e.createCanvas(alice.Token, "demo")
	e.share(alice.Token, c, vera.ID, "view")
	png := testPNG(t, 7, 3)
	note := e.createNote(alice.Token, c, map[string]any{"text": "original"}).id()
	img := e.mustImage(alice.Token, c, "d.png", png).id()

	e.doJSON("POST", c.path("/save"), alice.Token, nil).expectMsg(t, 400, "is not a demo canvas")
	e.doJSON("POST", c.path("/restore"), alice.Token, nil).expectMsg(t, 400, "is not a demo canvas")
	e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"mode": "demo"}, 200)
	e.doJSON("POST", c.path("/save"), vera.Token, nil).expect(t, 403)
	e.doJSON("POST", c.path("/restore"), vera.Token, nil).expect(t, 403)
	e.doJSON("POST", c.path("/restore"), "", nil).expect(t, 401)
	e.doJSON("POST", "/api/v1/canvases/"+ghostUUID+"/restore", alice.Token, nil).expect(t, 404)

	// Changes after the demo state was taken.
	e.mustJSON("PATCH", c.path("/notes/"+note), alice.Token, map[string]any{"text": "scribbled"}, 200)
	extra := e.createNote(alice.Token, c, map[string]any{"text": "added"}).id()
	e.mustJSON("DELETE", c.path("/images/"+img), alice.Token, nil, 200)
	// The deleted image's blob is still held by the saved state.
	st, _ := fdSubscribe(t, e, c.path("/widgets"), vera.Token)
	head := e.Store.HeadSeq(c.ID)
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(e.URL, "http")+c.path("/ws"),
		&websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {vera.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, hello, err := ws.Read(wctx); err != nil || !bytes.Contains(hello, []byte(`"HELLO"`)) {
		t.Fatalf("websocket first message %s, %v", hello, err)
	}

	if r := e.mustJSON("POST", c.path("/restore"), alice.Token, nil, 200); len(r) != 0 {
		t.Fatalf("restore answered %v, want {}", r)
	}
	byID := map[string]jsonObj{}
	for _, w := range e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t) {
		byID[w.id()] = w
	}
	if byID[note].str("text") != "original" || byID[extra] != nil || byID[img] == nil {
		t.Fatalf("after restore: note %v, extra %v, image %v", byID[note], byID[extra], byID[img])
	}
	if r := e.do("GET", c.path("/images/"+img+"/download"), alice.Token, nil, ""); r.Status != 200 || !bytes.Equal(r.Body, png) {
		t.Fatalf("restored image download: %d, %d bytes", r.Status, len(r.Body))
	}
	// The viewer's stream shows all three changes.
	seen := map[string]bool{}
	for len(seen) < 3 {
		l := st.next(t, `"id"`)
		var w jsonObj
		json.Unmarshal(l, &w)
		switch {
		case w.id() == note && w.str("text") == "original":
			seen["note"] = true
		case w.id() == extra && w.str("state") == "deleted":
			seen["extra"] = true
		case w.id() == img && w.str("state") != "deleted":
			seen["image"] = true
		}
	}
	// The websocket viewer gets the three events, in seq order, no gap.
	var wsSeqs []uint64
	for len(wsSeqs) < 3 {
		_, data, err := ws.Read(wctx)
		if err != nil {
			t.Fatalf("websocket: %v (after %v)", err, wsSeqs)
		}
		var env struct {
			Seq  uint64 `json:"seq"`
			Type string `json:"type"`
		}
		json.Unmarshal(data, &env)
		if strings.HasPrefix(env.Type, "WIDGET_") {
			wsSeqs = append(wsSeqs, env.Seq)
		}
	}
	if !slices.Equal(wsSeqs, []uint64{head + 1, head + 2, head + 3}) {
		t.Fatalf("websocket seqs %v, want %d..%d", wsSeqs, head+1, head+3)
	}
	// The log: exactly the three events, seq head+1..head+3.
	evs, err := e.Store.EventsSince(c.ID, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("restore appended %d events, want 3", len(evs))
	}
	for i, ev := range evs {
		if ev.Seq != head+uint64(i)+1 {
			t.Fatalf("event %d has seq %d, want %d (gapless)", i, ev.Seq, head+uint64(i)+1)
		}
	}
	// A second restore changes nothing.
	e.mustJSON("POST", c.path("/restore"), alice.Token, nil, 200)
	if h := e.Store.HeadSeq(c.ID); h != head+3 {
		t.Fatalf("an idle restore moved the log from %d to %d", head+3, h)
	}

	// save takes the current state; restore goes back to it.
	e.mustJSON("PATCH", c.path("/notes/"+note), alice.Token, map[string]any{"text": "saved2"}, 200)
	e.mustJSON("POST", c.path("/save"), alice.Token, nil, 200)
	e.mustJSON("PATCH", c.path("/notes/"+note), alice.Token, map[string]any{"text": "later"}, 200)
	e.mustJSON("POST", c.path("/restore"), alice.Token, nil, 200)
	if txt := e.mustJSON("GET", c.path("/notes/"+note), alice.Token, nil, 200).str("text"); txt != "saved2" {
		t.Fatalf("restore after save: text %q, want saved2", txt)
	}
	// Deleting the canvas releases the saved state's blobs.
	e.mustJSON("DELETE", c.path(""), alice.Token, nil, 200)
	e.eventually("blob files released", func() bool { return len(e.blobFiles()) == 0 })
}

// TestSubscribeFoldersUsersTokens: the ?subscribe streams that follow no
// canvas deliver later changes, only what the subscriber could GET.
func TestSubscribeFoldersUsersTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withConfig(func(c *Config) { c.KeepAlive = 50 * time.Millisecond }))
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	shared := fdFolder(e, alice.Token, e.unique("shared"), "")

	inside := fdCanvasIn(e, alice.Token, e.unique("inside"), shared)
	folders, _ := fdSubscribe(t, e, "/api/v1/canvas-folders", bob.Token)
	canvases, _ := fdSubscribe(t, e, "/api/v1/canvases", bob.Token)
	secret := e.unique("alice-private")
	fdFolder(e, alice.Token, secret, "")
	e.createCanvas(alice.Token, secret)
	fdGrant(e, alice.Token, shared, bob.ID, "view")
	l := folders.next(t, shared, secret)
	if !bytes.Contains(l, []byte(`"access":"view"`)) {
		t.Fatalf("newly shared folder line %s", l)
	}
	// The canvas inside the folder appears in bob's canvas list stream.
	l = canvases.next(t, inside.ID, secret)
	if !bytes.Contains(l, []byte(`"access":"view"`)) {
		t.Fatalf("canvas shared through its folder: line %s", l)
	}
	fdGrant(e, alice.Token, shared, bob.ID, "none")
	l = folders.next(t, shared, secret)
	if !bytes.Equal(l, []byte(`{"id":"`+shared+`","state":"deleted"}`)) {
		t.Fatalf("unshared folder line %s", l)
	}
	l = canvases.next(t, inside.ID, secret)
	if !bytes.Equal(l, []byte(`{"id":"`+inside.ID+`","state":"deleted"}`)) {
		t.Fatalf("canvas unshared through its folder: line %s", l)
	}
	e.mustJSON("PATCH", inside.path(""), alice.Token, map[string]any{"name": secret + "-renamed"}, 200)
	sentinel := e.createCanvas(alice.Token, "sentinel")
	e.share(alice.Token, sentinel, bob.ID, "view")
	canvases.next(t, sentinel.ID, secret)

	// One folder: renamed, then deleted (the stream ends).
	mine := fdFolder(e, bob.Token, "mine", "")
	one, _ := fdSubscribe(t, e, "/api/v1/canvas-folders/"+mine, bob.Token)
	e.mustJSON("PATCH", "/api/v1/canvas-folders/"+mine, bob.Token, map[string]any{"name": "renamed"}, 200)
	one.next(t, `"name":"renamed"`)
	e.mustJSON("DELETE", "/api/v1/canvas-folders/"+mine, bob.Token, nil, 200)
	one.next(t, `"state":"deleted"`)
	one.ends(t)

	// Users: the admin's list sees a new user; bob's own record its rename.
	users, _ := fdSubscribe(t, e, "/api/v1/users", e.Admin)
	me, _ := fdSubscribe(t, e, fmt.Sprintf("/api/v1/users/%d", bob.ID), bob.Token)
	carl := e.createUser("carl", false)
	users.next(t, carl.Email)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), bob.Token, map[string]any{"name": "Bobby"}, 200)
	me.next(t, `"name":"Bobby"`)

	// Tokens: created, then deleted.
	toks, _ := fdSubscribe(t, e, fmt.Sprintf("/api/v1/users/%d/access-tokens", bob.ID), bob.Token)
	e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", alice.ID), alice.Token, map[string]any{"description": secret}, 200)
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", bob.ID), bob.Token, map[string]any{"description": "bob-second"}, 200).id()
	toks.next(t, "bob-second", secret)
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", bob.ID, tk), bob.Token, nil, 200)
	toks.next(t, `{"id":"`+tk+`","state":"deleted"}`, secret)
}

// TestFolderGroupGrantsInherited: a group grant on a folder reaches the
// group's members on the canvases inside, and shows as inherited there.
func TestFolderGroupGrantsInherited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	g := e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": e.unique("team")}, 200)
	gid := uint64(g.num("id"))
	e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", gid), e.Admin, map[string]any{"id": bob.ID}, 200)
	f := fdFolder(e, alice.Token, "team-folder", "")
	c := fdCanvasIn(e, alice.Token, "team-canvas", f)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)

	p := "/api/v1/canvas-folders/" + f + "/permissions"
	e.doJSON("POST", p, alice.Token, map[string]any{"groups": []any{map[string]any{"permission": "view"}}}).expectMsg(t, 400, "groups[].id is required")
	e.doJSON("POST", p, alice.Token, map[string]any{"groups": []any{map[string]any{"id": 987654, "permission": "view"}}}).expectMsg(t, 400, "does not exist")
	r := e.mustJSON("POST", p, alice.Token, map[string]any{"groups": []any{map[string]any{"id": gid, "permission": "edit"}}}, 200)
	if b, _ := json.Marshal(r["groups"]); string(b) != fmt.Sprintf(`[{"id":%d,"inherited":false,"permission":"edit"}]`, gid) {
		t.Fatalf("folder groups %s", b)
	}
	if a := e.mustJSON("GET", c.path(""), bob.Token, nil, 200).str("access"); a != "edit" {
		t.Fatalf("access through the folder's group grant %q, want edit", a)
	}
	cp := e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
	if b, _ := json.Marshal(cp["groups"]); string(b) != fmt.Sprintf(`[{"id":%d,"inherited":true,"permission":"edit"}]`, gid) {
		t.Fatalf("canvas groups %s", b)
	}
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/groups/%d/members/%d", gid, bob.ID), e.Admin, nil, 200)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)
}
