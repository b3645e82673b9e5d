package server

// Integration tests of the Canvus /api/v1 dialect (issue 2): every endpoint
// and each documented error, over a real port, a real bbolt file and real
// image bytes.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/google/uuid"
)

func TestServerInfoNeedsNoAuth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	info := e.mustJSON("GET", "/api/v1/server-info", "", nil, 200)
	if info.str("server_id") != e.Store.ServerID() || info.str("server_id") == "" {
		t.Fatalf("server_id %q, store has %q", info.str("server_id"), e.Store.ServerID())
	}
	if !strings.HasPrefix(info.str("version"), "canvasd ") {
		t.Fatalf("version %q", info.str("version"))
	}
	// Unknown routes under /api/v1 answer in the Canvus error shape.
	e.doJSON("GET", "/api/v1/nope", e.Admin, nil).expect(t, 404)
}

func TestLoginTokenCookieExpiryLogout(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	e := newTestEnv(t, withClock(clock))
	// A password set through the API (bcrypt at the default cost) logs in.
	e.mustJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "pw@example.com", "name": "pw", "password": "api-password"}, 200)
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "pw@example.com", "password": "api-password"}).expect(t, 200)
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "pw2@example.com", "name": "pw", "password": "abc"}).expectMsg(t, 400, "Password")

	u := e.createUserPW("carol", false, "s3cret-pw")

	// Bad input and bad credentials.
	e.doJSON("POST", "/api/v1/users/login", "", `{"email":`).expectMsg(t, 400, "Invalid JSON")
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email}).expectMsg(t, 400, "required")
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": "wrong"}).expect(t, 401)
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "nobody@example.com", "password": "x"}).expect(t, 401)
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": 5, "password": "x"}).expectMsg(t, 400, "email")

	r := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": strings.ToUpper(u.Email), "password": u.Password}).expect(t, 200)
	body := r.obj(t)
	tok := body.str("token")
	if tok == "" || uint64(body.obj("user").num("id")) != u.ID {
		t.Fatalf("login body %s", r.Body)
	}
	var cookie *http.Cookie
	for _, c := range r.Cookies {
		if c.Name == SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != tok || !cookie.HttpOnly || cookie.MaxAge != 24*3600 {
		t.Fatalf("session cookie %+v, token %q", cookie, tok)
	}
	// The token is valid for 24 h: stored expiry is creation + 24 h.
	e.Store.View(func(tx *store.Tx) error {
		tk, err := tx.TokenByPlain(tok)
		if err != nil {
			t.Fatalf("login token not stored: %v", err)
		}
		if got := tk.ExpiresAt.Sub(tk.CreatedAt); got != 24*time.Hour || tk.UserID != u.ID {
			t.Fatalf("login token lives %v for user %d", got, tk.UserID)
		}
		return nil
	})

	// Both the header and the cookie authenticate.
	me := fmt.Sprintf("/api/v1/users/%d", u.ID)
	e.doJSON("GET", me, tok, nil).expect(t, 200)
	e.doJSON("GET", me, "", nil, withCookie(SessionCookie, tok)).expect(t, 200)
	e.doJSON("GET", me, "", nil, withCookie(SessionCookie, "forged")).expect(t, 401)
	// last_login was recorded.
	if e.mustJSON("GET", me, tok, nil, 200).str("last_login") == "" {
		t.Fatal("last_login not set by login")
	}

	// 23 h later it still works, 25 h later it does not.
	clock.Advance(23 * time.Hour)
	e.doJSON("GET", me, tok, nil).expect(t, 200)
	clock.Advance(2 * time.Hour)
	e.doJSON("GET", me, tok, nil).expect(t, 401)
	e.doJSON("GET", me, "", nil, withCookie(SessionCookie, tok)).expect(t, 401)
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"token": tok}).expect(t, 401)

	// Logging in with a live token prolongs it by another 24 h.
	tok1 := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": u.Password}).expect(t, 200).obj(t).str("token")
	clock.Advance(20 * time.Hour)
	if got := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"token": tok1}).expect(t, 200).obj(t).str("token"); got != tok1 {
		t.Fatalf("token login returned another token %q", got)
	}
	clock.Advance(20 * time.Hour) // 40 h after creation, 20 h after renewal
	e.doJSON("GET", me, tok1, nil).expect(t, 200)
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"token": "bogus"}).expect(t, 401)

	// A fresh login; logout through the cookie invalidates it.
	tok2 := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": u.Password}).expect(t, 200).obj(t).str("token")
	e.doJSON("GET", me, tok2, nil).expect(t, 200)
	lr := e.doJSON("POST", "/api/v1/users/logout", "", map[string]any{}, withCookie(SessionCookie, tok2)).expect(t, 200)
	cleared := false
	for _, c := range lr.Cookies {
		cleared = cleared || (c.Name == SessionCookie && c.MaxAge < 0)
	}
	if !cleared {
		t.Fatalf("logout did not clear the cookie: %v", lr.Header["Set-Cookie"])
	}
	e.doJSON("GET", me, tok2, nil).expect(t, 401)
	e.doJSON("POST", "/api/v1/users/logout", tok2, nil).expect(t, 401)
	// The personal access token is untouched by logging out a session.
	e.doJSON("GET", me, u.Token, nil).expect(t, 200)
}

func TestUsersCRUD(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)

	// Admin-only create.
	e.doJSON("POST", "/api/v1/users", alice.Token, map[string]any{"email": "x@example.com", "name": "x"}).expectMsg(t, 403, "admin")
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "not-an-email", "name": "x"}).expect(t, 400)
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "y@example.com"}).expectMsg(t, 400, "name")
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": alice.Email, "name": "dup"}).expectMsg(t, 400, "already exists")
	e.doJSON("POST", "/api/v1/users", e.Admin, `{"email": "z@example.com", "name": ["z"]}`).expectMsg(t, 400, "name")
	e.doJSON("POST", "/api/v1/users", e.Admin, `{"email": "z@example.com",`).expect(t, 400)

	// List and get.
	users := e.doJSON("GET", "/api/v1/users", e.Admin, nil).expect(t, 200).list(t) // only admins see others' emails (TestSecurityNote_NonAdminsSeeNoEmails)
	var emails []string
	for _, u := range users {
		emails = append(emails, u.str("email"))
		if _, leaked := u["password_hash"]; leaked {
			t.Fatal("user JSON leaks password_hash")
		}
	}
	for _, want := range []string{alice.Email, bob.Email, BootstrapEmail} {
		if !slices.Contains(emails, want) {
			t.Fatalf("user list %v lacks %s", emails, want)
		}
	}
	got := e.mustJSON("GET", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, nil, 200)
	if got.str("email") != bob.Email || got.str("name") != bob.Name || got.boolean("admin") {
		t.Fatalf("get user: %v", got)
	}
	e.doJSON("GET", "/api/v1/users/999999", alice.Token, nil).expect(t, 404)
	e.doJSON("GET", "/api/v1/users/abc", alice.Token, nil).expect(t, 404)

	// Patch: self may rename, not promote; others may not touch; admin may.
	p := fmt.Sprintf("/api/v1/users/%d", alice.ID)
	if n := e.mustJSON("PATCH", p, alice.Token, map[string]any{"name": "Alice A."}, 200).str("name"); n != "Alice A." {
		t.Fatalf("renamed to %q", n)
	}
	e.doJSON("PATCH", p, alice.Token, map[string]any{"admin": true}).expect(t, 403)
	e.doJSON("PATCH", p, bob.Token, map[string]any{"name": "hijack"}).expect(t, 403)
	e.doJSON("PATCH", p, alice.Token, map[string]any{"email": "bad"}).expect(t, 400)
	e.doJSON("PATCH", p, alice.Token, map[string]any{"email": bob.Email}).expectMsg(t, 400, "already exists")
	if !e.mustJSON("PATCH", p, e.Admin, map[string]any{"admin": true}, 200).boolean("admin") {
		t.Fatal("admin could not promote")
	}

	// A blocked user's tokens stop working until an admin unblocks.
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, map[string]any{"blocked": true}, 200)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 401)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, map[string]any{"blocked": false}, 200)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 200)

	// Delete: admin only; the user's tokens die with it.
	bp := fmt.Sprintf("/api/v1/users/%d", bob.ID)
	e.doJSON("DELETE", bp, bob.Token, nil).expect(t, 403)
	e.mustJSON("DELETE", bp, e.Admin, nil, 200)
	e.doJSON("GET", bp, e.Admin, nil).expect(t, 404)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 401)
	// The email is free again.
	e.mustJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": bob.Email, "name": "bob again"}, 200)
	// Nobody deletes themselves.
	e.doJSON("DELETE", fmt.Sprintf("/api/v1/users/%d", store.FirstUserID), e.Admin, nil).expect(t, 400)
}

func TestAccessTokensLifecycleAndHashedAtRest(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	base := fmt.Sprintf("/api/v1/users/%d/access-tokens", alice.ID)

	created := e.mustJSON("POST", base, alice.Token, map[string]any{"description": "ci"}, 200)
	plain, id := created.str("plain_token"), created.id()
	if plain == "" || id == "" || created.str("description") != "ci" || created.str("created_at") == "" {
		t.Fatalf("create token: %v", created)
	}
	e.doJSON("POST", base, alice.Token, map[string]any{}).expectMsg(t, 400, "description")
	e.doJSON("POST", base, alice.Token, map[string]any{"description": 7}).expect(t, 400)
	e.doJSON("POST", base, bob.Token, map[string]any{"description": "x"}).expect(t, 403)

	// The new token works; the plain value is never shown again.
	e.doJSON("GET", "/api/v1/users", plain, nil).expect(t, 200)
	list := e.doJSON("GET", base, alice.Token, nil).expect(t, 200)
	get := e.doJSON("GET", base+"/"+id, alice.Token, nil).expect(t, 200)
	for _, r := range []*testResp{list, get} {
		if bytes.Contains(r.Body, []byte(plain)) || bytes.Contains(r.Body, []byte("plain_token")) {
			t.Fatalf("%s shows the plain token", r)
		}
	}
	var descs []string
	for _, tk := range list.list(t) {
		descs = append(descs, tk.str("description"))
	}
	if !slices.Contains(descs, "ci") || !slices.Contains(descs, "test") {
		t.Fatalf("token list %v", descs)
	}
	e.doJSON("GET", base+"/"+id, bob.Token, nil).expect(t, 403)
	e.doJSON("GET", base+"/nope", alice.Token, nil).expect(t, 404)
	// Another user's token id under my user id is not mine.
	bobTokens := e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", bob.ID), bob.Token, nil).expect(t, 200).list(t)
	e.doJSON("GET", base+"/"+bobTokens[0].id(), alice.Token, nil).expect(t, 404)

	// Change the description.
	if d := e.mustJSON("PATCH", base+"/"+id, alice.Token, map[string]any{"description": "deploy"}, 200).str("description"); d != "deploy" {
		t.Fatalf("patched description %q", d)
	}
	if d := e.mustJSON("GET", base+"/"+id, alice.Token, nil, 200).str("description"); d != "deploy" {
		t.Fatalf("description after patch %q", d)
	}
	e.doJSON("PATCH", base+"/"+id, alice.Token, map[string]any{}).expect(t, 400)

	// At rest only the SHA-256 exists: scan the bbolt file itself.
	login := e.createUserPW("dora", false, "pw-dora")
	loginTok := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": login.Email, "password": login.Password}).expect(t, 200).obj(t).str("token")
	db, err := os.ReadFile(filepath.Join(e.Dir, "canvasd.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, loginTok, alice.Token, testAdminToken} {
		if bytes.Contains(db, []byte(p)) {
			t.Fatalf("canvasd.db contains the plain token %q", p)
		}
		if !bytes.Contains(db, []byte(store.HashToken(p))) {
			t.Fatalf("canvasd.db lacks the hash of %q: the scan would prove nothing", p)
		}
	}

	// Delete revokes.
	e.mustJSON("DELETE", base+"/"+id, alice.Token, nil, 200)
	e.doJSON("GET", "/api/v1/users", plain, nil).expect(t, 401)
	e.doJSON("GET", base+"/"+id, alice.Token, nil).expect(t, 404)
	e.doJSON("DELETE", base+"/"+id, alice.Token, nil).expect(t, 404)
}

func TestCanvasFolders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	home := store.HomeFolderID(alice.ID)

	ids := func(token string) []string {
		var out []string
		for _, f := range e.doJSON("GET", "/api/v1/canvas-folders", token, nil).expect(t, 200).list(t) {
			out = append(out, f.id())
		}
		return out
	}
	mine := ids(alice.Token)
	if !slices.Contains(mine, home) || !slices.Contains(mine, "trash."+home) || !slices.Contains(mine, e.Store.RootFolder()) {
		t.Fatalf("alice sees folders %v", mine)
	}
	if slices.Contains(ids(bob.Token), home) {
		t.Fatal("bob sees alice's home folder")
	}

	f := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "Projects"}, 200)
	if f.str("name") != "Projects" || f.str("folder_id") != home || f.str("access") != "owner" || f.boolean("in_trash") {
		t.Fatalf("created folder %v", f)
	}
	fp := "/api/v1/canvas-folders/" + f.id()
	sub := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "Sub", "folder_id": f.id()}, 200)
	if sub.str("folder_id") != f.id() {
		t.Fatalf("subfolder parent %q", sub.str("folder_id"))
	}
	e.doJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "X", "folder_id": "no-such-folder"}).expectMsg(t, 400, "does not exist")
	e.doJSON("POST", "/api/v1/canvas-folders", bob.Token, map[string]any{"name": "X", "folder_id": f.id()}).expect(t, 403)
	e.doJSON("POST", "/api/v1/canvas-folders", alice.Token, `{"name": 1}`).expect(t, 400)

	if g := e.mustJSON("GET", fp, alice.Token, nil, 200); g.str("name") != "Projects" {
		t.Fatalf("get folder %v", g)
	}
	e.doJSON("GET", fp, bob.Token, nil).expect(t, 403)
	e.doJSON("GET", "/api/v1/canvas-folders/nope", alice.Token, nil).expect(t, 404)

	if n := e.mustJSON("PATCH", fp, alice.Token, map[string]any{"name": "Renamed"}, 200).str("name"); n != "Renamed" {
		t.Fatalf("renamed to %q", n)
	}
	e.doJSON("PATCH", fp, bob.Token, map[string]any{"name": "hijack"}).expect(t, 403)
	if n := e.mustJSON("GET", fp, alice.Token, nil, 200).str("name"); n != "Renamed" {
		t.Fatalf("name after rename %q", n)
	}

	// A canvas inside goes with the folder.
	cv := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "inside", "folder_id": sub.id()}, 200)
	e.doJSON("DELETE", fp, bob.Token, nil).expect(t, 403)
	e.doJSON("DELETE", "/api/v1/canvas-folders/"+home, alice.Token, nil).expect(t, 400)
	e.doJSON("DELETE", "/api/v1/canvas-folders/trash."+home, alice.Token, nil).expect(t, 400)
	e.mustJSON("DELETE", fp, alice.Token, nil, 200)
	e.doJSON("GET", fp, alice.Token, nil).expect(t, 404)
	e.doJSON("GET", "/api/v1/canvas-folders/"+sub.id(), alice.Token, nil).expect(t, 404)
	e.doJSON("GET", "/api/v1/canvases/"+cv.id(), alice.Token, nil).expect(t, 404)
}

func TestCanvasesCRUDPermissionsMoveCopyTrash(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)
	home := store.HomeFolderID(alice.ID)

	cv := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "Plan"}, 200)
	c := testCanvas{ID: cv.id()}
	if cv.str("name") != "Plan" || cv.str("folder_id") != home || cv.str("mode") != "normal" || cv.str("access") != "owner" || cv.boolean("in_trash") {
		t.Fatalf("created canvas %v", cv)
	}
	if def := e.mustJSON("POST", "/api/v1/canvases", alice.Token, nil, 200); def.str("name") == "" {
		t.Fatalf("default name: %v", def)
	}
	e.doJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": strings.Repeat("n", 300)}).expect(t, 400)
	e.doJSON("POST", "/api/v1/canvases", alice.Token, `{"name": true}`).expect(t, 400)
	e.doJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "x", "folder_id": store.HomeFolderID(bob.ID)}).expect(t, 403)

	// Listing shows only what the caller may see.
	listIDs := func(token string) []string {
		var out []string
		for _, x := range e.doJSON("GET", "/api/v1/canvases", token, nil).expect(t, 200).list(t) {
			out = append(out, x.id())
		}
		return out
	}
	if !slices.Contains(listIDs(alice.Token), c.ID) || slices.Contains(listIDs(bob.Token), c.ID) {
		t.Fatal("canvas list visibility wrong")
	}
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)
	e.doJSON("GET", "/api/v1/canvases/"+uuid.NewString(), alice.Token, nil).expectMsg(t, 404, "Canvas not found")

	// Patch name and mode; bad values are refused.
	p := e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"name": "Plan B", "mode": "demo"}, 200)
	if p.str("name") != "Plan B" || p.str("mode") != "demo" {
		t.Fatalf("patched canvas %v", p)
	}
	e.doJSON("PATCH", c.path(""), alice.Token, map[string]any{"mode": "party"}).expectMsg(t, 400, "mode")
	e.doJSON("PATCH", c.path(""), alice.Token, map[string]any{"name": " "}).expect(t, 400)
	e.doJSON("PATCH", c.path(""), alice.Token, `{"name": 3}`).expect(t, 400)

	// Permissions: get, set, effect.
	perms := e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
	if perms.str("link_permission") != "none" {
		t.Fatalf("default permissions %v", perms)
	}
	e.share(alice.Token, c, bob.ID, "view")
	perms = e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
	found := false
	for _, u := range perms["users"].([]any) {
		m := jsonObj(u.(map[string]any))
		if uint64(m.num("id")) == bob.ID && m.str("permission") == "view" {
			found = true
		}
	}
	if !found {
		t.Fatalf("permissions after share %v", perms)
	}
	if g := e.mustJSON("GET", c.path(""), bob.Token, nil, 200); g.str("access") != "view" {
		t.Fatalf("bob's access %q", g.str("access"))
	}
	e.doJSON("PATCH", c.path(""), bob.Token, map[string]any{"name": "x"}).expect(t, 403)
	e.doJSON("POST", c.path("/permissions"), bob.Token, map[string]any{"link_permission": "edit"}).expect(t, 403)
	e.doJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"link_permission": "owner"}).expect(t, 400)
	e.doJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"users": []any{map[string]any{"id": bob.ID, "permission": "boss"}}}).expect(t, 400)
	e.doJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"users": []any{map[string]any{"id": 424242, "permission": "view"}}}).expectMsg(t, 400, "does not exist")
	e.share(alice.Token, c, bob.ID, "edit")
	e.mustJSON("PATCH", c.path(""), bob.Token, map[string]any{"name": "Plan C"}, 200)
	// An editor may not move the canvas or delete it.
	e.doJSON("PATCH", c.path(""), bob.Token, map[string]any{"folder_id": store.HomeFolderID(bob.ID)}).expect(t, 403)
	e.doJSON("DELETE", c.path(""), bob.Token, nil).expect(t, 403)
	e.doJSON("POST", c.path("/move"), bob.Token, map[string]any{"folder_id": store.HomeFolderID(bob.ID)}).expect(t, 403)

	// Patch folder, then move.
	f1 := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "F1"}, 200).id()
	f2 := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "F2"}, 200).id()
	if got := e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"folder_id": f1}, 200).str("folder_id"); got != f1 {
		t.Fatalf("folder after patch %q", got)
	}
	e.doJSON("PATCH", c.path(""), alice.Token, map[string]any{"folder_id": "nope"}).expect(t, 400)
	if got := e.mustJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": f2}, 200).str("folder_id"); got != f2 {
		t.Fatalf("folder after move %q", got)
	}
	e.doJSON("POST", c.path("/move"), alice.Token, map[string]any{}).expectMsg(t, 400, "folder_id")
	e.doJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": f1, "conflicts": "maybe"}).expect(t, 400)
	// A same-named canvas in the target folder is a conflict unless replaced.
	clash := e.mustJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{"name": "Plan C", "folder_id": f1}, 200)
	e.doJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": f1}).expect(t, 409)
	e.mustJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": f1, "conflicts": "replace"}, 200)
	e.doJSON("GET", "/api/v1/canvases/"+clash.id(), alice.Token, nil).expect(t, 404)

	// Copy: widgets (and their blobs) come along.
	note := e.createNote(alice.Token, c, map[string]any{"text": "copied"})
	img := e.mustImage(alice.Token, c, "copy.png", testPNG(t, 40, 30))
	cp := e.mustJSON("POST", c.path("/copy"), bob.Token, map[string]any{"folder_id": store.HomeFolderID(bob.ID)}, 200)
	if cp.id() == c.ID || cp.str("name") != "Plan C" || cp.str("access") != "owner" || cp.str("folder_id") != store.HomeFolderID(bob.ID) {
		t.Fatalf("copy %v", cp)
	}
	cc := testCanvas{ID: cp.id()}
	var texts []string
	var copiedImg string
	for _, w := range e.doJSON("GET", cc.path("/widgets"), bob.Token, nil).expect(t, 200).list(t) {
		texts = append(texts, w.str("text"))
		if w.str("widget_type") == "Image" {
			copiedImg = w.id()
		}
		if w.id() == note.id() || w.id() == img.id() {
			t.Fatal("copied widgets kept their ids")
		}
	}
	if !slices.Contains(texts, "copied") || copiedImg == "" {
		t.Fatalf("copy lacks widgets: %v", texts)
	}
	// Same folder: the copy gets a distinct name.
	if n := e.mustJSON("POST", c.path("/copy"), alice.Token, map[string]any{"folder_id": f1}, 200).str("name"); n == "Plan C" {
		t.Fatal("copy into the same folder kept the same name")
	}

	// Trash: moving into trash.<uid> marks in_trash.
	tr := e.mustJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": "trash." + home}, 200)
	if !tr.boolean("in_trash") || tr.str("folder_id") != "trash."+home {
		t.Fatalf("trashed canvas %v", tr)
	}
	if !e.mustJSON("GET", c.path(""), alice.Token, nil, 200).boolean("in_trash") {
		t.Fatal("in_trash not persisted")
	}
	e.doJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": "trash." + store.HomeFolderID(bob.ID)}).expect(t, 400)
	if tr := e.mustJSON("POST", c.path("/move"), alice.Token, map[string]any{"folder_id": home}, 200); tr.boolean("in_trash") {
		t.Fatal("restored canvas still in trash")
	}

	// Delete: the canvas and its widgets are gone; the copy's image survives.
	e.mustJSON("DELETE", c.path(""), alice.Token, nil, 200)
	e.doJSON("GET", c.path(""), alice.Token, nil).expect(t, 404)
	e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 404)
	e.doJSON("DELETE", c.path(""), alice.Token, nil).expect(t, 404)
	dl := e.do("GET", cc.path("/images/"+copiedImg+"/download"), bob.Token, nil, "").expect(t, 200)
	if len(dl.Body) == 0 {
		t.Fatal("copied image lost its file with the original canvas")
	}
}

func TestWidgetsReadOnlyAndRoot(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "w")
	n := e.createNote(e.Admin, c, nil)
	a := e.mustJSON("POST", c.path("/anchors"), e.Admin, map[string]any{"anchor_name": "A"}, 200)
	ws := e.doJSON("GET", c.path("/widgets"), e.Admin, nil).expect(t, 200).list(t)
	if len(ws) != 3 || ws[0].str("widget_type") != "SharedCanvas" || ws[0].id() != c.Root {
		t.Fatalf("widget list %v", ws)
	}
	for _, w := range ws[1:] {
		if w.str("parent_id") != c.Root {
			t.Fatalf("top-level widget %v does not name the root", w)
		}
	}
	for _, id := range []string{c.Root, n.id(), a.id()} {
		e.doJSON("GET", c.path("/widgets/"+id), e.Admin, nil).expect(t, 200)
	}
	e.doJSON("GET", c.path("/widgets/"+uuid.NewString()), e.Admin, nil).expect(t, 404)
	// /widgets writes dispatch on the type (issue #12; TestGenericWidgetsDispatch).
	e.doJSON("PATCH", c.path("/widgets/"+n.id()), e.Admin, map[string]any{"text": "x"}).expect(t, 200)
	e.doJSON("POST", c.path("/widgets"), e.Admin, map[string]any{}).expectMsg(t, 400, "widget_type")
	// Typed routes only serve their own type.
	e.doJSON("GET", c.path("/anchors/"+n.id()), e.Admin, nil).expectMsg(t, 404, "Anchor not found")
	e.doJSON("PATCH", c.path("/notes/"+a.id()), e.Admin, map[string]any{"text": "x"}).expect(t, 404)
	e.doJSON("DELETE", c.path("/notes/"+a.id()), e.Admin, nil).expect(t, 404)
	e.doJSON("DELETE", c.path("/notes/"+c.Root), e.Admin, nil).expect(t, 404)
}

func TestNotesAnchorsConnectors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "nac")

	// Notes.
	n := e.createNote(e.Admin, c, map[string]any{"text": "hello", "background_color": "#ff0000", "location": map[string]any{"x": 10, "y": 20}})
	if n.str("widget_type") != "Note" || n.str("text") != "hello" || n.obj("location").num("x") != 10 || n.num("depth") < 1 {
		t.Fatalf("note %v", n)
	}
	np := c.path("/notes/" + n.id())
	pn := e.mustJSON("PATCH", np, e.Admin, map[string]any{"text": "bye", "size": map[string]any{"width": 500, "height": 100}, "pinned": true}, 200)
	if pn.str("text") != "bye" || pn.obj("size").num("width") != 500 || pn.obj("size").num("height") != 100 || !pn.boolean("pinned") || pn.str("background_color") != "#ff0000" {
		t.Fatalf("patched note %v", pn)
	}
	if g := e.mustJSON("GET", np, e.Admin, nil, 200); !reflect.DeepEqual(map[string]any(g), map[string]any(pn)) {
		t.Fatalf("GET after PATCH\n%v\n%v", g, pn)
	}
	if l := e.doJSON("GET", c.path("/notes"), e.Admin, nil).expect(t, 200).list(t); len(l) != 1 || l[0].id() != n.id() {
		t.Fatalf("note list %v", l)
	}
	for _, bad := range []struct {
		body any
		msg  string
	}{
		{`{"text": `, "Invalid JSON"},
		{`[1,2]`, "Invalid JSON"},
		{`{"text": 5}`, "Field 'text' must be a string"},
		{`{"pinned": "yes"}`, "Field 'pinned' must be a boolean"},
		{`{"location": {"x": 1}}`, "location"},
		{`{"size": {"width": 0, "height": 10}}`, "positive"},
		{`{"size": {"width": 10, "height": -1}}`, "positive"},
		{`{"size": "big"}`, "size"},
		{`{"scale": 0}`, "scale"},
		{`{"depth": -1}`, "Depth"},
		{`{"depth": "deep"}`, "depth"},
		{`{"widget_type": "Banana"}`, "Unknown widget_type 'Banana'"},
		{`{"parent_id": "` + uuid.NewString() + `"}`, "parent_id"},
		{`{"parent_id": 12}`, "parent_id"},
	} {
		e.doJSON("PATCH", np, e.Admin, bad.body).expectMsg(t, 400, bad.msg)
		e.doJSON("POST", c.path("/notes"), e.Admin, bad.body).expectMsg(t, 400, bad.msg)
	}
	// JSON bodies are capped (1 MiB).
	e.doJSON("PATCH", np, e.Admin, map[string]any{"text": strings.Repeat("x", 2<<20)}).expectMsg(t, 413, "too large")
	// Read-only fields echoed back are ignored.
	e.mustJSON("PATCH", np, e.Admin, map[string]any{"id": "other", "widget_type": "Image", "state": "x", "text": "ok"}, 200)
	if g := e.mustJSON("GET", np, e.Admin, nil, 200); g.id() != n.id() || g.str("widget_type") != "Note" {
		t.Fatalf("read-only fields changed: %v", g)
	}
	e.doJSON("PATCH", c.path("/notes/"+uuid.NewString()), e.Admin, map[string]any{"text": "x"}).expect(t, 404)

	// Anchors.
	a := e.mustJSON("POST", c.path("/anchors"), e.Admin, map[string]any{"anchor_name": "Start"}, 200)
	if a.str("anchor_name") != "Start" || a.str("widget_type") != "Anchor" {
		t.Fatalf("anchor %v", a)
	}
	ap := c.path("/anchors/" + a.id())
	if got := e.mustJSON("PATCH", ap, e.Admin, map[string]any{"anchor_name": "Begin"}, 200).str("anchor_name"); got != "Begin" {
		t.Fatalf("anchor renamed %q", got)
	}
	// A field of another type is ignored, neither stored nor echoed (issue #12).
	if got := e.mustJSON("PATCH", ap, e.Admin, map[string]any{"text": "notes only"}, 200); got.str("text") != "" {
		t.Fatalf("an anchor echoed a note's text: %v", got)
	}
	if l := e.doJSON("GET", c.path("/anchors"), e.Admin, nil).expect(t, 200).list(t); len(l) != 1 || l[0].id() != a.id() {
		t.Fatalf("anchor list %v", l)
	}
	if g := e.mustJSON("GET", ap, e.Admin, nil, 200); g.str("anchor_name") != "Begin" {
		t.Fatalf("get anchor %v", g)
	}

	// Connectors join two widgets of the canvas.
	n2 := e.createNote(e.Admin, c, nil)
	conn := e.mustJSON("POST", c.path("/connectors"), e.Admin, map[string]any{
		"src": map[string]any{"id": n.id(), "rel_location": map[string]any{"x": 1, "y": 0.5}},
		"dst": map[string]any{"id": n2.id(), "tip": "solid-equilateral-triangle"},
	}, 200)
	if conn.obj("src").str("id") != n.id() || conn.obj("dst").str("tip") != "solid-equilateral-triangle" {
		t.Fatalf("connector %v", conn)
	}
	cp := c.path("/connectors/" + conn.id())
	if g := e.mustJSON("GET", cp, e.Admin, nil, 200); !reflect.DeepEqual(map[string]any(g), map[string]any(conn)) {
		t.Fatalf("get connector %v, created %v", g, conn)
	}
	if l := e.doJSON("GET", c.path("/connectors"), e.Admin, nil).expect(t, 200).list(t); len(l) != 1 || l[0].id() != conn.id() {
		t.Fatalf("connector list %v", l)
	}
	e.doJSON("POST", c.path("/connectors"), e.Admin, map[string]any{"src": map[string]any{"id": n.id()}}).expectMsg(t, 400, "dst")
	e.doJSON("POST", c.path("/connectors"), e.Admin, map[string]any{"src": map[string]any{"id": n.id()}, "dst": map[string]any{"id": uuid.NewString()}}).expectMsg(t, 400, "dst.id")
	if w := e.mustJSON("PATCH", cp, e.Admin, map[string]any{"line_width": 9}, 200).num("line_width"); w != 9 {
		t.Fatalf("line_width %v", w)
	}
	e.doJSON("PATCH", cp, e.Admin, map[string]any{"line_width": 0}).expect(t, 400)

	// Deleting a note takes the connectors attached to it.
	e.mustJSON("DELETE", np, e.Admin, nil, 200)
	e.doJSON("GET", np, e.Admin, nil).expectMsg(t, 404, "Note not found")
	e.doJSON("GET", cp, e.Admin, nil).expect(t, 404)
	e.doJSON("DELETE", np, e.Admin, nil).expect(t, 404)
	e.mustJSON("DELETE", ap, e.Admin, nil, 200)
	e.doJSON("GET", ap, e.Admin, nil).expect(t, 404)
}

// imageCase is one format the Image endpoints accept.
type imageCase struct {
	name, filename, ctype string
	data                  []byte
	w, h                  float64
}

func imageCases(t testing.TB) []imageCase {
	return []imageCase{
		{"jpeg", "photo.jpg", "image/jpeg", testJPEG(t, 320, 200), 320, 200},
		{"png", "diagram.png", "image/png", testPNG(t, 1600, 900), 1600, 900},
		{"webp", "pic.webp", "image/webp", testWebP(t), 64, 48},
		{"gif", "anim.gif", "image/gif", testGIF(t, 40, 30), 40, 30},
		{"svg", "vector.svg", "image/svg+xml", testSVG(320, 240), 320, 240},
	}
}

func TestImageUploadFormatsHashDownloadDelete(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "img")
	for _, ic := range imageCases(t) {
		t.Run(ic.name, func(t *testing.T) {
			img := e.uploadImage(e.Admin, c, ic.filename, ic.data, "").expect(t, 200).obj(t)
			if img.str("widget_type") != "Image" || img.str("original_filename") != ic.filename || img.str("title") != "" ||
				img.str("parent_id") != c.Root || img.str("state") != "normal" || img.num("scale") != 1 || img.boolean("pinned") {
				t.Fatalf("created image %v", img)
			}
			// Size defaults to the pixel size.
			if sz := img.obj("size"); sz.num("width") != ic.w || sz.num("height") != ic.h {
				t.Fatalf("size %v, want %vx%v", sz, ic.w, ic.h)
			}
			// hash is "" on create and filled by background processing.
			if h, ok := img["hash"].(string); !ok || h != "" {
				t.Fatalf("hash on create %v", img["hash"])
			}
			h := e.waitImageHash(e.Admin, c, img.id())
			sum := sha256.Sum256(ic.data)
			if want := hex.EncodeToString(sum[:])[:12]; h != want {
				t.Fatalf("hash %q, want %q", h, want)
			}
			// Listed under /images and /widgets.
			found := false
			for _, w := range e.doJSON("GET", c.path("/images"), e.Admin, nil).expect(t, 200).list(t) {
				found = found || w.id() == img.id()
			}
			if !found {
				t.Fatal("image not listed")
			}
			e.doJSON("GET", c.path("/widgets/"+img.id()), e.Admin, nil).expect(t, 200)
			// Download: the original bytes, attachment, immutable caching.
			dl := e.do("GET", c.path("/images/"+img.id()+"/download"), e.Admin, nil, "").expect(t, 200)
			if !bytes.Equal(dl.Body, ic.data) {
				t.Fatalf("downloaded %d bytes, uploaded %d", len(dl.Body), len(ic.data))
			}
			if got := dl.Header.Get("Cache-Control"); got != "private, max-age=157680000, immutable" {
				t.Fatalf("cache-control %q", got)
			}
			if got := dl.Header.Get("Content-Type"); got != ic.ctype {
				t.Fatalf("content-type %q", got)
			}
			disp, params, err := mime.ParseMediaType(dl.Header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != ic.filename {
				t.Fatalf("content-disposition %q (%v)", dl.Header.Get("Content-Disposition"), err)
			}
			// A revalidation with the ETag is answered 304.
			if etag := dl.Header.Get("ETag"); etag != "" {
				e.do("GET", c.path("/images/"+img.id()+"/download"), e.Admin, nil, "", withHeader("If-None-Match", etag)).expect(t, 304)
			}
			// Delete releases the blob file.
			blob := filepath.Join(e.Dir, "blobs", hex.EncodeToString(sum[:])[:2], hex.EncodeToString(sum[:]))
			if _, err := os.Stat(blob); err != nil {
				t.Fatalf("blob file missing before delete: %v", err)
			}
			e.mustJSON("DELETE", c.path("/images/"+img.id()), e.Admin, nil, 200)
			e.doJSON("GET", c.path("/images/"+img.id()), e.Admin, nil).expect(t, 404)
			e.doJSON("GET", c.path("/images/"+img.id()+"/download"), e.Admin, nil).expect(t, 404)
			if _, err := os.Stat(blob); !os.IsNotExist(err) {
				t.Fatalf("blob file still there after delete: %v", err)
			}
		})
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Fatalf("blob files left after every image was deleted: %v", files)
	}
}

func TestImageCreateWithJSONPart(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "json")
	img := e.uploadImage(e.Admin, c, "architecture.png", testPNG(t, 1600, 900),
		`{"title": "Architecture Diagram", "depth": 3.0, "location": {"x": 5226.29, "y": 2666.83}, "pinned": true, "scale": 2, "size": {"width": 800, "height": 800}}`).expect(t, 200).obj(t)
	if img.str("title") != "Architecture Diagram" || img.num("depth") != 3 || img.obj("location").num("x") != 5226.29 ||
		!img.boolean("pinned") || img.num("scale") != 2 || img.str("original_filename") != "architecture.png" {
		t.Fatalf("image %v", img)
	}
	// A requested size is a bounding box on create too.
	if sz := img.obj("size"); sz.num("width") != 800 || sz.num("height") != 450 {
		t.Fatalf("size %v", sz)
	}
	// original_filename from the json part wins over the part's filename.
	img2 := e.uploadImage(e.Admin, c, "upload.png", testPNG(t, 10, 10), `{"original_filename": "renamed.png"}`).expect(t, 200).obj(t)
	if img2.str("original_filename") != "renamed.png" {
		t.Fatalf("original_filename %q", img2.str("original_filename"))
	}
	_, params, _ := mime.ParseMediaType(e.do("GET", c.path("/images/"+img2.id()+"/download"), e.Admin, nil, "").expect(t, 200).Header.Get("Content-Disposition"))
	if params["filename"] != "renamed.png" {
		t.Fatalf("download filename %q", params["filename"])
	}
	// Without depth, a new image goes on top of its siblings.
	if img2.num("depth") <= 3 {
		t.Fatalf("new image depth %v not above 3", img2.num("depth"))
	}
}

func TestImagePatchAspectDepthAutoRaiseParent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "patch")
	other := e.createCanvas(e.Admin, "other")
	img := e.mustImage(e.Admin, c, "team-photo.jpg", testJPEG(t, 1600, 900))
	ip := c.path("/images/" + img.id())

	// The 16:9 image resized to an 800×800 box comes back 800×450.
	r := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": 800, "height": 800}}, 200)
	if sz := r.obj("size"); sz.num("width") != 800 || sz.num("height") != 450 {
		t.Fatalf("800x800 box gave %v", sz)
	}
	if sz := e.mustJSON("GET", ip, e.Admin, nil, 200).obj("size"); sz.num("width") != 800 || sz.num("height") != 450 {
		t.Fatalf("stored size %v", sz)
	}
	// A tall box: height limits.
	if sz := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": 3200, "height": 90}}, 200).obj("size"); sz.num("width") != 160 || sz.num("height") != 90 {
		t.Fatalf("3200x90 box gave %v", sz)
	}

	// Only given fields change.
	m := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"location": map[string]any{"x": 2000, "y": 1500}, "pinned": true, "title": "Team Photo"}, 200)
	if m.obj("location").num("x") != 2000 || !m.boolean("pinned") || m.str("title") != "Team Photo" || m.obj("size").num("height") != 90 || m.str("original_filename") != "team-photo.jpg" {
		t.Fatalf("move and pin %v", m)
	}

	// Depth below 1.0: the documented message, nothing changes.
	before := e.mustJSON("GET", ip, e.Admin, nil, 200)
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"depth": 0.5}).expectMsg(t, 400, "Depth must be >= 1.0, got 0.5")
	if got := e.doJSON("PATCH", ip, e.Admin, map[string]any{"depth": 0.5}).Msg(); got != "Depth must be >= 1.0, got 0.5" {
		t.Fatalf("depth message %q", got)
	}
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"depth": 0}).expectMsg(t, 400, "Depth must be >= 1.0, got 0")
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": 0, "height": 0}}).expect(t, 400)
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": -800, "height": 800}}).expect(t, 400)
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": 800}}).expect(t, 400)
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"hash": "x", "widget_type": 1}).expectMsg(t, 400, "Field 'widget_type' must be a string")
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"title": 1}).expectMsg(t, 400, "title")
	e.doJSON("PATCH", ip, e.Admin, `{"title": "x"`).expect(t, 400)
	e.doJSON("PATCH", ip, e.Admin, `{"title": "x"} {"title": "y"}`).expect(t, 400)
	// A failed PATCH is all-or-nothing: the valid title alongside the bad depth is not stored.
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"title": "changed", "depth": 0.5}).expect(t, 400)
	if after := e.mustJSON("GET", ip, e.Admin, nil, 200); !reflect.DeepEqual(map[string]any(after), map[string]any(before)) {
		t.Fatalf("rejected PATCHes changed the image:\n%v\n%v", before, after)
	}
	if d := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"depth": 1.0}, 200).num("depth"); d != 1 {
		t.Fatalf("depth 1.0 gave %v", d)
	}

	// auto_raise: highest sibling depth + 1, and not stored.
	e.mustImage(e.Admin, c, "b.png", testPNG(t, 8, 8))
	top := e.mustJSON("POST", c.path("/notes"), e.Admin, map[string]any{"depth": 41.5}, 200)
	ar := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"auto_raise": true}, 200)
	if ar.num("depth") != 42.5 {
		t.Fatalf("auto_raise depth %v, want 42.5", ar.num("depth"))
	}
	if _, stored := e.mustJSON("GET", ip, e.Admin, nil, 200)["auto_raise"]; stored {
		t.Fatal("auto_raise was persisted")
	}
	if d := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"auto_raise": false}, 200).num("depth"); d != 42.5 {
		t.Fatalf("auto_raise false moved depth to %v", d)
	}
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"auto_raise": "yes"}).expect(t, 400)

	// parent_id names a widget of the same canvas, never a cycle.
	if p := e.mustJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": top.id()}, 200).str("parent_id"); p != top.id() {
		t.Fatalf("parent_id %q", p)
	}
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": other.Root}).expectMsg(t, 400, "parent_id")
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": uuid.NewString()}).expectMsg(t, 400, "parent_id")
	e.doJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": img.id()}).expectMsg(t, 400, "own parent")
	e.doJSON("PATCH", c.path("/notes/"+top.id()), e.Admin, map[string]any{"parent_id": img.id()}).expectMsg(t, 400, "cycle")
	// A longer cycle: note2 under the image, then the note top under note2.
	n2 := e.createNote(e.Admin, c, map[string]any{"parent_id": img.id()})
	e.doJSON("PATCH", c.path("/notes/"+top.id()), e.Admin, map[string]any{"parent_id": n2.id()}).expectMsg(t, 400, "cycle")
	// Back to the root is fine; the image follows its parent when it is deleted.
	e.mustJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": c.Root}, 200)
	e.mustJSON("PATCH", ip, e.Admin, map[string]any{"parent_id": top.id()}, 200)
	e.mustJSON("DELETE", c.path("/notes/"+top.id()), e.Admin, nil, 200)
	e.doJSON("GET", ip, e.Admin, nil).expect(t, 404)
	e.doJSON("GET", c.path("/notes/"+n2.id()), e.Admin, nil).expect(t, 404)

	// Unknown canvas, unknown image.
	e.doJSON("PATCH", "/api/v1/canvases/"+uuid.NewString()+"/images/"+img.id(), e.Admin, map[string]any{"title": "x"}).expect(t, 404)
	e.doJSON("PATCH", c.path("/images/"+uuid.NewString()), e.Admin, map[string]any{"title": "x"}).expectMsg(t, 404, "Image not found")
	e.doJSON("GET", c.path("/images/"+uuid.NewString()+"/download"), e.Admin, nil).expect(t, 404)
}

// TestImageBadUploadsStoreNothing sends each kind of bad upload and checks
// the status, the message, and that neither a widget nor a blob file (not
// even a temp file) is left behind.
func TestImageBadUploadsStoreNothing(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	small := newTestEnv(t, withConfig(func(c *Config) { c.MaxBodyBytes = 64 << 10; c.MaxPixels = 10_000 }))
	c := e.createCanvas(e.Admin, "bad")
	other := e.createCanvas(e.Admin, "other")
	cs := small.createCanvas(small.Admin, "bad")
	// One good image first, so "unchanged" is not just "empty".
	good := testPNG(t, 16, 9)
	e.mustImage(e.Admin, c, "good.png", good)
	small.mustImage(small.Admin, cs, "good.png", good)
	e.waitImageHash(e.Admin, c, e.doJSON("GET", c.path("/images"), e.Admin, nil).list(t)[0].id())

	png := testPNG(t, 20, 10)
	data := func(b []byte) testPart { return testPart{Name: "data", Filename: "f.png", Data: b} }
	jsonp := func(s string) testPart { return testPart{Name: "json", Data: []byte(s)} }
	type raw struct {
		body []byte
		ct   string
	}
	cases := []struct {
		name  string
		env   *testEnv
		parts []testPart
		raw   *raw
		code  int
		msg   string
	}{
		{name: "not multipart", raw: &raw{[]byte(`{"title":"x"}`), "application/json"}, code: 400, msg: "multipart/form-data"},
		{name: "no content type", raw: &raw{png, ""}, code: 400, msg: "multipart/form-data"},
		{name: "malformed multipart", raw: &raw{[]byte("--XYZ\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nabc"), "multipart/form-data; boundary=XYZ"}, code: 400, msg: "Malformed multipart"},
		{name: "garbage multipart", raw: &raw{[]byte("this is not multipart at all"), "multipart/form-data; boundary=XYZ"}, code: 400, msg: "multipart"},
		{name: "missing data part", parts: []testPart{jsonp(`{"title":"x"}`)}, code: 400, msg: "Missing 'data' part"},
		{name: "data part twice", parts: []testPart{data(png), data(png)}, code: 400, msg: "more than once"},
		{name: "text file", parts: []testPart{data([]byte("hello, world\n"))}, code: 400, msg: "not an image of an allowed format"},
		{name: "pdf", parts: []testPart{data([]byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n"))}, code: 400, msg: "not an image"},
		{name: "empty file", parts: []testPart{data(nil)}, code: 400, msg: "not an image"},
		{name: "truncated png", parts: []testPart{data(png[:20])}, code: 400, msg: "not an image"},
		{name: "bmp", parts: []testPart{data(append([]byte("BM"), make([]byte, 60)...))}, code: 400, msg: "not an image"},
		{name: "malformed json part", parts: []testPart{data(png), jsonp(`{"title": `)}, code: 400, msg: "Invalid 'json' part"},
		{name: "json part not an object", parts: []testPart{data(png), jsonp(`[1]`)}, code: 400, msg: "Invalid 'json' part"},
		{name: "wrong type title", parts: []testPart{data(png), jsonp(`{"title": 5}`)}, code: 400, msg: "Field 'title' must be a string"},
		{name: "wrong type location", parts: []testPart{data(png), jsonp(`{"location": [1,2]}`)}, code: 400, msg: "location"},
		{name: "wrong type pinned", parts: []testPart{data(png), jsonp(`{"pinned": 1}`)}, code: 400, msg: "pinned"},
		{name: "unknown widget_type", parts: []testPart{data(png), jsonp(`{"widget_type": "Banana"}`)}, code: 400, msg: "Unknown widget_type 'Banana'"},
		{name: "depth below 1", parts: []testPart{data(png), jsonp(`{"depth": 0.5}`)}, code: 400, msg: "Depth must be >= 1.0, got 0.5"},
		{name: "zero size", parts: []testPart{data(png), jsonp(`{"size": {"width": 0, "height": 100}}`)}, code: 400, msg: "positive"},
		{name: "negative size", parts: []testPart{data(png), jsonp(`{"size": {"width": -5, "height": -5}}`)}, code: 400, msg: "positive"},
		{name: "zero scale", parts: []testPart{data(png), jsonp(`{"scale": 0}`)}, code: 400, msg: "scale"},
		{name: "parent on another canvas", parts: []testPart{data(png), jsonp(`{"parent_id": "` + other.Root + `"}`)}, code: 400, msg: "parent_id"},
		{name: "60000x60000 png header", parts: []testPart{data(pngHeaderOnly(60000, 60000))}, code: 400, msg: "too large"},
		{name: "over MaxPixels", env: small, parts: []testPart{data(testPNG(t, 200, 200))}, code: 400, msg: "too large"},
		{name: "over MaxBodyBytes", env: small, parts: []testPart{data(append(png, make([]byte, 64<<10)...))}, code: 413, msg: "too large"},
		{name: "body over limit in ignored parts", env: small, parts: []testPart{{Name: "padding", Data: make([]byte, 1<<20)}, {Name: "padding2", Data: make([]byte, 200<<10)}, data(png)}, code: 413, msg: "too large"},
	}
	for _, tc := range cases {
		env, cv := e, c
		if tc.env == small {
			env, cv = small, cs
		}
		t.Run(tc.name, func(t *testing.T) {
			widgets, blobs := env.widgetIDs(env.Admin, cv), env.blobFiles()
			var r *testResp
			if tc.raw != nil {
				r = env.do("POST", cv.path("/images"), env.Admin, bytes.NewReader(tc.raw.body), tc.raw.ct)
			} else {
				r = env.upload(cv.path("/images"), env.Admin, tc.parts...)
			}
			r.expectMsg(t, tc.code, tc.msg)
			if got := env.widgetIDs(env.Admin, cv); !slices.Equal(got, widgets) {
				t.Fatalf("widgets changed: %v -> %v", widgets, got)
			}
			if got := env.blobFiles(); !slices.Equal(got, blobs) {
				t.Fatalf("blob files changed: %v -> %v", blobs, got)
			}
		})
	}

	// The real 30 MB limit: 30 MB + 1 byte is refused, exactly 30 MB of
	// non-image passes the size check and fails as "not an image".
	if !testing.Short() {
		big := make([]byte, 30<<20+1) // zeros: not an image
		before := e.blobFiles()
		e.upload(c.path("/images"), e.Admin, data(big)).expectMsg(t, 413, "too large")
		e.upload(c.path("/images"), e.Admin, data(big[:30<<20])).expectMsg(t, 400, "not an image")
		if got := e.blobFiles(); !slices.Equal(got, before) {
			t.Fatalf("blob files changed by 30 MB uploads: %v -> %v", before, got)
		}
	}
}

func TestImageDownloadFilenameIsEscaped(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "names")
	img := e.mustImage(e.Admin, c, "plain.png", testPNG(t, 4, 4))
	ip := c.path("/images/" + img.id())
	for _, tc := range []struct{ name, want string }{
		{"a\"b\r\nc/../d\\e.png", "a_bc_.._d_e.png"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"x\r\nSet-Cookie: evil=1", "xSet-Cookie: evil=1"},
		{"\x00\x01", "image"},
		{"résumé ✓.png", ""}, // non-ASCII: any safe encoding that round-trips is fine
	} {
		e.mustJSON("PATCH", ip, e.Admin, map[string]any{"original_filename": tc.name}, 200)
		dl := e.do("GET", ip+"/download", e.Admin, nil, "").expect(t, 200)
		if got := dl.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Fatalf("%q injected a header: %v", tc.name, got)
		}
		cd := dl.Header.Get("Content-Disposition")
		if strings.ContainsAny(cd, "\r\n\x00") {
			t.Fatalf("raw control characters in %q", cd)
		}
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" {
			t.Fatalf("%q: content-disposition %q: %v", tc.name, cd, err)
		}
		fn := params["filename"]
		if strings.ContainsAny(fn, "/\\\"\r\n") {
			t.Fatalf("%q: unsafe filename %q", tc.name, fn)
		}
		if tc.want != "" && fn != tc.want {
			t.Fatalf("%q: filename %q, want %q", tc.name, fn, tc.want)
		}
		if tc.want == "" && fn != tc.name && !strings.HasSuffix(fn, ".png") {
			t.Fatalf("%q: filename %q", tc.name, fn)
		}
	}
}

func TestGuestAccessThroughLinkPermission(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "shared")
	n := e.createNote(alice.Token, c, map[string]any{"text": "hi"})
	img := e.mustImage(alice.Token, c, "p.png", testPNG(t, 8, 8))
	np := c.path("/notes/" + n.id())

	// No token and no link: 401 everywhere, reads included.
	for _, p := range []string{c.path(""), c.path("/widgets"), np, c.path("/images/" + img.id() + "/download")} {
		e.doJSON("GET", p, "", nil).expect(t, 401)
	}
	e.doJSON("PATCH", np, "", map[string]any{"text": "x"}).expect(t, 401)
	e.doJSON("PATCH", np, "bogus-token", map[string]any{"text": "x"}).expect(t, 401)
	e.doJSON("GET", "/api/v1/canvases", "", nil).expect(t, 401)
	e.doJSON("GET", "/api/v1/canvases/"+uuid.NewString(), "", nil).expect(t, 401)

	// View link: GET ok, every write 403.
	e.setLink(alice.Token, c, "view")
	if g := e.mustJSON("GET", c.path(""), "", nil, 200); g.str("access") != "view" {
		t.Fatalf("guest canvas access %q", g.str("access"))
	}
	e.doJSON("GET", c.path("/widgets"), "", nil).expect(t, 200)
	e.doJSON("GET", np, "", nil).expect(t, 200)
	e.do("GET", c.path("/images/"+img.id()+"/download"), "", nil, "").expect(t, 200)
	e.doJSON("PATCH", np, "", map[string]any{"text": "x"}).expectMsg(t, 403, "Permission denied")
	e.doJSON("POST", c.path("/notes"), "", map[string]any{"text": "x"}).expect(t, 403)
	e.doJSON("DELETE", np, "", nil).expect(t, 403)
	e.uploadImage("", c, "g.png", testPNG(t, 4, 4), "").expect(t, 403)
	e.doJSON("POST", c.path("/permissions"), "", map[string]any{"link_permission": "edit"}).expect(t, 403)
	// An invalid token is refused even on a shared canvas.
	e.doJSON("GET", c.path(""), "bogus-token", nil).expect(t, 401)
	// A signed-in stranger gets the link's right too.
	bob := e.createUser("bob", false)
	e.doJSON("GET", np, bob.Token, nil).expect(t, 200)
	e.doJSON("PATCH", np, bob.Token, map[string]any{"text": "x"}).expect(t, 403)

	// Edit link: writes succeed.
	e.setLink(alice.Token, c, "edit")
	if got := e.mustJSON("PATCH", np, "", map[string]any{"text": "guest edit"}, 200).str("text"); got != "guest edit" {
		t.Fatalf("guest patch gave %q", got)
	}
	gn := e.mustJSON("POST", c.path("/notes"), "", map[string]any{"text": "by guest"}, 200)
	gi := e.uploadImage("", c, "g.png", testPNG(t, 4, 4), "").expect(t, 200).obj(t)
	e.mustJSON("DELETE", c.path("/notes/"+gn.id()), "", nil, 200)
	e.mustJSON("DELETE", c.path("/images/"+gi.id()), "", nil, 200)
	// ...but not owner actions.
	e.doJSON("DELETE", c.path(""), "", nil).expect(t, 403)
	e.doJSON("POST", c.path("/permissions"), "", map[string]any{"link_permission": "none"}).expect(t, 403)
	e.doJSON("POST", c.path("/copy"), "", map[string]any{"folder_id": store.HomeFolderID(alice.ID)}).expect(t, 401)

	// Link back to none: 401 again.
	e.setLink(alice.Token, c, "none")
	e.doJSON("GET", np, "", nil).expect(t, 401)
}

func TestBlobsAreSharedAndReleased(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "blobs")
	c2 := e.createCanvas(e.Admin, "blobs2")
	data := testPNG(t, 64, 32)
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	want := []string{hexsum[:2] + "/" + hexsum}

	a := e.mustImage(e.Admin, c, "a.png", data)
	b := e.mustImage(e.Admin, c2, "b.png", data)
	if a.id() == b.id() {
		t.Fatal("two uploads gave one widget")
	}
	// Two uploads of the same bytes share one file.
	if got := e.blobFiles(); !slices.Equal(got, want) {
		t.Fatalf("blob files %v, want %v", got, want)
	}
	// One widget may hold several references (its source render and each
	// version); two widgets hold twice as many as one.
	refs := func() int64 {
		var n int64
		e.Store.View(func(tx *store.Tx) error { n = tx.BlobRefs(hexsum); return nil })
		return n
	}
	both := refs()
	if both <= 0 || both%2 != 0 {
		t.Fatalf("blob refs %d for two widgets", both)
	}
	// Deleting one keeps the other downloadable.
	e.mustJSON("DELETE", c.path("/images/"+a.id()), e.Admin, nil, 200)
	if got := e.blobFiles(); !slices.Equal(got, want) {
		t.Fatalf("after first delete: blob files %v", got)
	}
	if n := refs(); n != both/2 {
		t.Fatalf("blob refs %d after one delete, want %d", n, both/2)
	}
	if dl := e.do("GET", c2.path("/images/"+b.id()+"/download"), e.Admin, nil, "").expect(t, 200); !bytes.Equal(dl.Body, data) {
		t.Fatal("surviving image downloads other bytes")
	}
	// Deleting both removes the file.
	e.mustJSON("DELETE", c2.path("/images/"+b.id()), e.Admin, nil, 200)
	if got := e.blobFiles(); len(got) != 0 {
		t.Fatalf("after both deletes: blob files %v", got)
	}
	// Deleting a canvas releases its images' blobs too.
	e.mustImage(e.Admin, c, "a.png", data)
	e.mustJSON("DELETE", c.path(""), e.Admin, nil, 200)
	if got := e.blobFiles(); len(got) != 0 {
		t.Fatalf("after canvas delete: blob files %v", got)
	}
	// Many concurrent uploads of the same bytes: still one file, right count.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = e.mustImage(e.Admin, c2, "same.png", data).id()
		}()
	}
	wg.Wait()
	if got := e.blobFiles(); !slices.Equal(got, want) {
		t.Fatalf("concurrent uploads: blob files %v", got)
	}
	for i, id := range ids {
		e.mustJSON("DELETE", c2.path("/images/"+id), e.Admin, nil, 200)
		if got := e.blobFiles(); (i < len(ids)-1) != (len(got) == 1) {
			t.Fatalf("after %d of %d deletes: blob files %v", i+1, len(ids), got)
		}
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUserPW("alice", false, "pw-alice")
	login := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": alice.Email, "password": alice.Password}).expect(t, 200).obj(t).str("token")
	folder := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "Keep"}, 200).id()
	c := e.createCanvas(alice.Token, "durable")
	e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"folder_id": folder}, 200)
	e.setLink(alice.Token, c, "view")
	n := e.createNote(alice.Token, c, map[string]any{"text": "survives"})
	a := e.mustJSON("POST", c.path("/anchors"), alice.Token, map[string]any{"anchor_name": "A"}, 200)
	data := testJPEG(t, 160, 90)
	img := e.mustImage(alice.Token, c, "keep.jpg", data)
	hash := e.waitImageHash(alice.Token, c, img.id())
	img = e.mustJSON("PATCH", c.path("/images/"+img.id()), alice.Token, map[string]any{"size": map[string]any{"width": 80, "height": 80}}, 200)

	snapshot := func() (canvas jsonObj, widgets []jsonObj, perms jsonObj, tokens []jsonObj) {
		canvas = e.mustJSON("GET", c.path(""), alice.Token, nil, 200)
		widgets = e.doJSON("GET", c.path("/widgets"), alice.Token, nil).expect(t, 200).list(t)
		perms = e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
		tokens = e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", alice.ID), alice.Token, nil).expect(t, 200).list(t)
		return
	}
	c1, w1, p1, t1 := snapshot()
	head := e.Store.HeadSeq(c.ID)
	blobs := e.blobFiles()

	e.Restart()
	c2, w2, p2, t2 := snapshot()
	if !reflect.DeepEqual(c1, c2) || !reflect.DeepEqual(w1, w2) || !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(t1, t2) {
		t.Fatalf("state differs after restart:\n%v\n%v\n%v\n%v", c1, c2, w1, w2)
	}
	if len(w2) != 4 {
		t.Fatalf("widgets after restart: %v", w2)
	}
	for _, id := range []string{n.id(), a.id(), img.id()} {
		e.doJSON("GET", c.path("/widgets/"+id), alice.Token, nil).expect(t, 200)
	}
	if got := e.mustJSON("GET", c.path("/images/"+img.id()), alice.Token, nil, 200); got.str("hash") != hash || got.obj("size").num("width") != 80 || got.obj("size").num("height") != 45 {
		t.Fatalf("image after restart %v", got)
	}
	if dl := e.do("GET", c.path("/images/"+img.id()+"/download"), alice.Token, nil, "").expect(t, 200); !bytes.Equal(dl.Body, data) {
		t.Fatal("blob bytes differ after restart")
	}
	if got := e.blobFiles(); !slices.Equal(got, blobs) {
		t.Fatalf("blob files %v -> %v", blobs, got)
	}
	// Every token still authenticates: admin, personal, login.
	for _, tok := range []string{e.Admin, alice.Token, login} {
		e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d", alice.ID), tok, nil).expect(t, 200)
	}
	e.doJSON("GET", c.path(""), "", nil).expect(t, 200) // the link permission survived
	if got := e.mustJSON("GET", "/api/v1/canvas-folders/"+folder, alice.Token, nil, 200).str("name"); got != "Keep" {
		t.Fatalf("folder after restart %q", got)
	}
	// The event log continues where it stopped.
	if h := e.Store.HeadSeq(c.ID); h != head {
		t.Fatalf("head seq %d after restart, was %d", h, head)
	}
	e.mustJSON("PATCH", c.path("/notes/"+n.id()), alice.Token, map[string]any{"text": "after"}, 200)
	if h := e.Store.HeadSeq(c.ID); h != head+1 {
		t.Fatalf("head seq %d after one more write, want %d", h, head+1)
	}
	// Bootstrap on the second start creates nothing and reveals no token.
	if plain, created, err := Bootstrap(e.Store, ""); err != nil || created || plain != "" {
		t.Fatalf("second bootstrap: %q %v %v", plain, created, err)
	}
}

// TestEveryMutationAppendsOneEvent reads the canvas's log around each
// mutation: exactly one new event, with the next seq, whose content is the
// state the response reported.
func TestEveryMutationAppendsOneEvent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	bob := e.createUser("bob", false)
	c := e.createCanvas(e.Admin, "events")
	if h := e.Store.HeadSeq(c.ID); h != 1 {
		t.Fatalf("a new canvas has head %d, want 1 (its creation)", h)
	}
	evs, err := e.Store.EventsSince(c.ID, 0)
	if err != nil || len(evs) != 1 || !bytes.Contains(evs[0].Data, []byte(`"type":"CANVAS_UPDATED"`)) {
		t.Fatalf("creation event %v %v", evs, err)
	}

	// one runs mutate and checks the log grew by exactly one event of typ.
	one := func(what, typ string, mutate func() jsonObj) jsonObj {
		t.Helper()
		before := e.Store.HeadSeq(c.ID)
		out := mutate()
		after := e.Store.HeadSeq(c.ID)
		if after != before+1 {
			t.Fatalf("%s: head %d -> %d, want exactly one event", what, before, after)
		}
		evs, err := e.Store.EventsSince(c.ID, before)
		if err != nil || len(evs) != 1 || evs[0].Seq != before+1 {
			t.Fatalf("%s: events since %d: %v %v", what, before, evs, err)
		}
		var env jsonObj
		if err := json.Unmarshal(evs[0].Data, &env); err != nil {
			t.Fatalf("%s: event %s: %v", what, evs[0].Data, err)
		}
		if env.str("type") != typ || env.str("canvas_id") != c.ID || uint64(env.num("seq")) != before+1 || env.str("at") == "" {
			t.Fatalf("%s: envelope %s", what, evs[0].Data)
		}
		if out != nil && env["widget"] != nil && typ != store.EvWidgetDeleted {
			if !reflect.DeepEqual(map[string]any(env.obj("widget")), map[string]any(out)) {
				t.Fatalf("%s: event widget\n%v\nresponse\n%v", what, env.obj("widget"), out)
			}
		}
		return env
	}
	none := func(what string, mutate func()) {
		t.Helper()
		before := e.Store.HeadSeq(c.ID)
		mutate()
		if after := e.Store.HeadSeq(c.ID); after != before {
			t.Fatalf("%s: a refused request appended %d events", what, after-before)
		}
	}

	n := one("create note", store.EvWidgetCreated, func() jsonObj { return e.createNote(e.Admin, c, map[string]any{"text": "a"}) })
	np := c.path("/notes/" + n.obj("widget").id())
	one("patch note", store.EvWidgetUpdated, func() jsonObj { return e.mustJSON("PATCH", np, e.Admin, map[string]any{"text": "b"}, 200) })
	none("bad patch", func() { e.doJSON("PATCH", np, e.Admin, map[string]any{"depth": -3}).expect(t, 400) })
	none("forbidden patch", func() { e.doJSON("PATCH", np, bob.Token, map[string]any{"text": "x"}).expect(t, 403) })
	none("read", func() { e.doJSON("GET", np, e.Admin, nil).expect(t, 200) })
	a := one("create anchor", store.EvWidgetCreated, func() jsonObj {
		return e.mustJSON("POST", c.path("/anchors"), e.Admin, map[string]any{"anchor_name": "x"}, 200)
	})
	aid := a.obj("widget").id()
	one("patch anchor", store.EvWidgetUpdated, func() jsonObj {
		return e.mustJSON("PATCH", c.path("/anchors/"+aid), e.Admin, map[string]any{"anchor_name": "y"}, 200)
	})
	one("permissions", store.EvCanvasUpdated, func() jsonObj { e.share(e.Admin, c, bob.ID, "view"); return nil })
	one("link permission", store.EvCanvasUpdated, func() jsonObj { e.setLink(e.Admin, c, "view"); return nil })
	one("rename canvas", store.EvCanvasUpdated, func() jsonObj {
		e.mustJSON("PATCH", c.path(""), e.Admin, map[string]any{"name": "renamed"}, 200)
		return nil
	})
	one("delete anchor", store.EvWidgetDeleted, func() jsonObj { return e.mustJSON("DELETE", c.path("/anchors/"+aid), e.Admin, nil, 200) })

	// An image upload is one event; the background hash fill is a second,
	// later one (WIDGET_UPDATED carrying the hash).
	before := e.Store.HeadSeq(c.ID)
	img := e.mustImage(e.Admin, c, "e.png", testPNG(t, 30, 20))
	hash := e.waitImageHash(e.Admin, c, img.id())
	evs, err = e.Store.EventsSince(c.ID, before)
	if err != nil || len(evs) != 2 || evs[0].Seq != before+1 || evs[1].Seq != before+2 {
		t.Fatalf("upload + hash fill events: %d %v", len(evs), err)
	}
	var created, filled jsonObj
	json.Unmarshal(evs[0].Data, &created)
	json.Unmarshal(evs[1].Data, &filled)
	if created.str("type") != store.EvWidgetCreated || created.obj("widget").str("hash") != "" || !reflect.DeepEqual(map[string]any(created.obj("widget")), map[string]any(img)) {
		t.Fatalf("upload event %s", evs[0].Data)
	}
	if filled.str("type") != store.EvWidgetUpdated || filled.obj("widget").str("hash") != hash {
		t.Fatalf("hash fill event %s", evs[1].Data)
	}
	ip := c.path("/images/" + img.id())
	one("patch image", store.EvWidgetUpdated, func() jsonObj {
		return e.mustJSON("PATCH", ip, e.Admin, map[string]any{"size": map[string]any{"width": 60, "height": 60}}, 200)
	})
	none("bad image patch", func() { e.doJSON("PATCH", ip, e.Admin, map[string]any{"depth": 0.5}).expect(t, 400) })
	none("bad upload", func() { e.uploadImage(e.Admin, c, "x.txt", []byte("text"), "").expect(t, 400) })
	one("delete image", store.EvWidgetDeleted, func() jsonObj { return e.mustJSON("DELETE", ip, e.Admin, nil, 200) })
	one("delete note", store.EvWidgetDeleted, func() jsonObj { return e.mustJSON("DELETE", np, e.Admin, nil, 200) })

	// Concurrent writers: 40 PATCHes over 8 notes give 40 events with
	// contiguous seqs, and each note's last event is its stored state.
	notes := make([]string, 8)
	for i := range notes {
		notes[i] = e.createNote(e.Admin, c, nil).id()
	}
	before = e.Store.HeadSeq(c.ID)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.mustJSON("PATCH", c.path("/notes/"+notes[i%len(notes)]), e.Admin, map[string]any{"text": fmt.Sprint("v", i)}, 200)
		}()
	}
	wg.Wait()
	evs, err = e.Store.EventsSince(c.ID, before)
	if err != nil || len(evs) != 40 {
		t.Fatalf("concurrent patches: %d events, %v", len(evs), err)
	}
	last := map[string]string{}
	for i, ev := range evs {
		if ev.Seq != before+uint64(i)+1 {
			t.Fatalf("seq gap: event %d has seq %d", i, ev.Seq)
		}
		var env jsonObj
		json.Unmarshal(ev.Data, &env)
		last[env.obj("widget").id()] = env.obj("widget").str("text")
	}
	for _, id := range notes {
		if got := e.mustJSON("GET", c.path("/notes/"+id), e.Admin, nil, 200).str("text"); got != last[id] {
			t.Fatalf("note %s is %q, its last event says %q", id, got, last[id])
		}
	}
}

// TestBackupEndpointRestoresIntoNewServer takes an online backup through
// GET /admin/backup, restores it into a new data directory and serves it.
func TestBackupEndpointRestoresIntoNewServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "backed up")
	n := e.createNote(alice.Token, c, map[string]any{"text": "in the archive"})
	data := testGIF(t, 24, 12)
	img := e.mustImage(alice.Token, c, "b.gif", data)
	e.waitImageHash(alice.Token, c, img.id())

	e.do("GET", "/admin/backup", alice.Token, nil, "").expect(t, 403)
	e.do("GET", "/admin/backup", "", nil, "").expect(t, 401)
	r := e.do("GET", "/admin/backup", e.Admin, nil, "").expect(t, 200)
	dir := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(bytes.NewReader(r.Body), dir); err != nil {
		t.Fatal(err)
	}
	e2 := newTestEnv(t, withDataDir(dir))
	if got := e2.mustJSON("GET", c.path("/notes/"+n.id()), alice.Token, nil, 200).str("text"); got != "in the archive" {
		t.Fatalf("restored note %q", got)
	}
	if dl := e2.do("GET", c.path("/images/"+img.id()+"/download"), alice.Token, nil, "").expect(t, 200); !bytes.Equal(dl.Body, data) {
		t.Fatal("restored image bytes differ")
	}
	if got, want := e2.blobFiles(), e.blobFiles(); !slices.Equal(got, want) {
		t.Fatalf("restored blob files %v, source %v", got, want)
	}
}
