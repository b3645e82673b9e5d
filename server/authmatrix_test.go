package server

// The auth matrix: every write route the router knows under /api/v1 (and the
// Canvus-authenticated /admin/ routes), built from srv.Engine().Routes(), times {no token, unknown token, view-only
// user, editor} must answer 401, 401, 403, 2xx. A write route without a
// fixture below fails the test, so a new route forces this table to grow.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
)

// otherDialectPrefixes are tested by the other dialects' own tests.
var otherDialectPrefixes = []string{"/api/canvas/", "/uncrop/", "/v1/"}

// matrixExempt are write routes the matrix does not apply to, with why.
var matrixExempt = map[string]string{
	"POST /api/v1/users/login": "public: it authenticates by email and password (TestLoginTokenCookieExpiryLogout)",
	// Account flows that need no token (TestAccounts* in accounts_test.go).
	"POST /api/v1/users/register":                    "public sign-up; a token is optional (TestAccountsRegisterConfirmApprove)",
	"POST /api/v1/users/confirm-email":               "public: the emailed token is the credential (TestAccountsRegisterConfirmApprove)",
	"POST /api/v1/users/password/create-reset-token": "public: answers 200 for any email (TestAccountsPasswordReset)",
	"POST /api/v1/users/password/reset":              "public: the emailed token is the credential (TestAccountsPasswordReset)",
	"POST /api/v1/users/login/saml":                  "public: SAML is disabled, always 403 (TestAccountsSAMLDisabled)",
}

// matrixWorld holds the users every fixture works with. alice owns the
// canvases; vera has view access, ed edit access.
type matrixWorld struct {
	e               *testEnv
	alice, vera, ed testUser
}

// canvas makes a fresh canvas owned by alice, viewable by vera, editable by ed.
func (w *matrixWorld) canvas() testCanvas {
	c := w.e.createCanvas(w.alice.Token, "matrix")
	w.e.mustJSON("POST", c.path("/permissions"), w.alice.Token, map[string]any{"users": []any{
		map[string]any{"id": w.vera.ID, "permission": "view"},
		map[string]any{"id": w.ed.ID, "permission": "edit"},
	}}, 200)
	return c
}

// group makes a fresh group (as the admin) and returns its id.
func (w *matrixWorld) group() int {
	return int(w.e.mustJSON("POST", "/api/v1/groups", w.e.Admin, map[string]any{"name": w.e.unique("group")}, 200).num("id"))
}

func (w *matrixWorld) note(c testCanvas) string { return w.e.createNote(w.alice.Token, c, nil).id() }

// matrixCase is one route's concrete request. viewer must get 403, editor 2xx.
type matrixCase struct {
	path   string
	body   []byte
	ctype  string
	viewer string
	editor string
	// editorBody replaces body for the editor's request when set.
	editorBody []byte
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// canvasCase is a canvas-scoped route: vera (view) 403, ed (edit) 2xx.
func (w *matrixWorld) canvasCase(path string, body any) matrixCase {
	return matrixCase{path: path, body: jsonBody(body), ctype: "application/json", viewer: w.vera.Token, editor: w.ed.Token}
}

// widgetFixtures builds the PATCH and DELETE fixtures of one widget kind.
func widgetFixtures(kind string, create func(w *matrixWorld, c testCanvas) string, patch any) map[string]func(*matrixWorld) matrixCase {
	base := "/api/v1/canvases/:id/" + kind + "/:wid"
	return map[string]func(*matrixWorld) matrixCase{
		"PATCH " + base: func(w *matrixWorld) matrixCase {
			c := w.canvas()
			return w.canvasCase(c.path("/"+kind+"/"+create(w, c)), patch)
		},
		"DELETE " + base: func(w *matrixWorld) matrixCase {
			c := w.canvas()
			return w.canvasCase(c.path("/"+kind+"/"+create(w, c)), nil)
		},
	}
}

func matrixFixtures(t testing.TB) map[string]func(*matrixWorld) matrixCase {
	pngBytes := testPNG(t, 6, 4)
	uploadCase := func(w *matrixWorld) matrixCase {
		c := w.canvas()
		body, ct := multipartBody(t, testPart{Name: "data", Filename: "m.png", Data: pngBytes}, testPart{Name: "json", Data: []byte(`{"title":"m"}`)})
		return matrixCase{path: c.path("/images"), body: body, ctype: ct, viewer: w.vera.Token, editor: w.ed.Token}
	}
	connector := func(w *matrixWorld, c testCanvas) any {
		return map[string]any{"src": map[string]any{"id": w.note(c)}, "dst": map[string]any{"id": w.note(c)}}
	}
	f := map[string]func(*matrixWorld) matrixCase{
		// User-scoped routes: the "view-only" caller is a signed-in user
		// acting on what is not theirs; the "editor" is the owner (or admin).
		"POST /api/v1/users/logout": func(w *matrixWorld) matrixCase {
			// vera may not log alice's token out; a session may log itself out.
			own := w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", w.ed.ID), w.e.Admin, map[string]any{"description": "session"}, 200).str("plain_token")
			return matrixCase{path: "/api/v1/users/logout", body: jsonBody(map[string]any{"token": w.alice.Token}), ctype: "application/json", viewer: w.vera.Token, editor: own, editorBody: []byte("{}")}
		},
		"POST /api/v1/users": func(w *matrixWorld) matrixCase {
			name := w.e.unique("new")
			return matrixCase{path: "/api/v1/users", body: jsonBody(map[string]any{"email": name + "@example.com", "name": name}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
		"PATCH /api/v1/users/:uid": func(w *matrixWorld) matrixCase {
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d", w.alice.ID), body: jsonBody(map[string]any{"name": "Alice"}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"DELETE /api/v1/users/:uid": func(w *matrixWorld) matrixCase {
			victim := w.e.createUser("victim", false)
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d", victim.ID), viewer: w.vera.Token, editor: w.e.Admin}
		},
		"POST /api/v1/users/:uid/access-tokens": func(w *matrixWorld) matrixCase {
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/access-tokens", w.alice.ID), body: jsonBody(map[string]any{"description": "m"}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"PATCH /api/v1/users/:uid/access-tokens/:tid": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", w.alice.ID), w.alice.Token, map[string]any{"description": "m"}, 200).id()
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", w.alice.ID, id), body: jsonBody(map[string]any{"description": "n"}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"DELETE /api/v1/users/:uid/access-tokens/:tid": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", w.alice.ID), w.alice.Token, map[string]any{"description": "m"}, 200).id()
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", w.alice.ID, id), viewer: w.vera.Token, editor: w.alice.Token}
		},
		"POST /api/v1/canvas-folders": func(w *matrixWorld) matrixCase {
			// Into alice's home folder: vera may not, alice may.
			return matrixCase{path: "/api/v1/canvas-folders", body: jsonBody(map[string]any{"name": "m", "folder_id": store.HomeFolderID(w.alice.ID)}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"PATCH /api/v1/canvas-folders/:fid": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": "m"}, 200).id()
			return matrixCase{path: "/api/v1/canvas-folders/" + id, body: jsonBody(map[string]any{"name": "n"}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"DELETE /api/v1/canvas-folders/:fid": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": "m"}, 200).id()
			return matrixCase{path: "/api/v1/canvas-folders/" + id, viewer: w.vera.Token, editor: w.alice.Token}
		},
		"POST /api/v1/canvas-folders/:fid/move": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": w.e.unique("m")}, 200).id()
			dst := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": w.e.unique("dst")}, 200).id()
			return matrixCase{path: "/api/v1/canvas-folders/" + id + "/move", body: jsonBody(map[string]any{"folder_id": dst}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"POST /api/v1/canvas-folders/:fid/copy": func(w *matrixWorld) matrixCase {
			// Copying needs view on the folder (ed has it, inherited by
			// nothing else) and edit on the destination (ed's home).
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": w.e.unique("m")}, 200).id()
			w.e.mustJSON("POST", "/api/v1/canvas-folders/"+id+"/permissions", w.alice.Token, map[string]any{"users": []any{map[string]any{"id": w.ed.ID, "permission": "view"}}}, 200)
			return matrixCase{path: "/api/v1/canvas-folders/" + id + "/copy", body: jsonBody(map[string]any{"folder_id": store.HomeFolderID(w.ed.ID)}), ctype: "application/json", viewer: w.vera.Token, editor: w.ed.Token}
		},
		"DELETE /api/v1/canvas-folders/:fid/children": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": "m"}, 200).id()
			w.e.mustJSON("POST", "/api/v1/canvases", w.alice.Token, map[string]any{"name": "in", "folder_id": id}, 200)
			return matrixCase{path: "/api/v1/canvas-folders/" + id + "/children", viewer: w.vera.Token, editor: w.alice.Token}
		},
		"POST /api/v1/canvas-folders/:fid/permissions": func(w *matrixWorld) matrixCase {
			// vera has view on the folder: viewers may not share.
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": "m"}, 200).id()
			p := "/api/v1/canvas-folders/" + id + "/permissions"
			w.e.mustJSON("POST", p, w.alice.Token, map[string]any{"users": []any{map[string]any{"id": w.vera.ID, "permission": "view"}, map[string]any{"id": w.ed.ID, "permission": "edit"}}}, 200)
			return matrixCase{path: p, body: jsonBody(map[string]any{"users": []any{map[string]any{"id": w.alice.ID, "permission": "owner"}}}), ctype: "application/json", viewer: w.vera.Token, editor: w.ed.Token}
		},
		"POST /api/v1/canvases": func(w *matrixWorld) matrixCase {
			return matrixCase{path: "/api/v1/canvases", body: jsonBody(map[string]any{"name": w.e.unique("m"), "folder_id": store.HomeFolderID(w.alice.ID)}), ctype: "application/json", viewer: w.vera.Token, editor: w.alice.Token}
		},

		// Canvas-scoped routes: vera has view, ed has edit.
		"PATCH /api/v1/canvases/:id": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path(""), map[string]any{"name": w.e.unique("renamed")})
		},
		"DELETE /api/v1/canvases/:id": func(w *matrixWorld) matrixCase {
			// Owner-only: the succeeding caller is the owner, not an editor.
			mc := w.canvasCase(w.canvas().path(""), nil)
			mc.editor = w.alice.Token
			return mc
		},
		"POST /api/v1/canvases/:id/permissions": func(w *matrixWorld) matrixCase {
			// Editors may share (editors_can_share defaults to true).
			return w.canvasCase(w.canvas().path("/permissions"), map[string]any{"link_permission": "none"})
		},
		"POST /api/v1/canvases/:id/move": func(w *matrixWorld) matrixCase {
			// Owner-only.
			folder := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": "dst"}, 200).id()
			mc := w.canvasCase(w.canvas().path("/move"), map[string]any{"folder_id": folder})
			mc.editor = w.alice.Token
			return mc
		},
		"POST /api/v1/canvases/:id/copy": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/copy"), map[string]any{"folder_id": store.HomeFolderID(w.ed.ID)})
		},
		"POST /api/v1/canvases/:id/save": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			w.e.mustJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"mode": "demo"}, 200)
			return w.canvasCase(c.path("/save"), nil)
		},
		"POST /api/v1/canvases/:id/restore": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			w.e.mustJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"mode": "demo"}, 200)
			return w.canvasCase(c.path("/restore"), nil)
		},
		"POST /api/v1/canvases/:id/notes": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/notes"), map[string]any{"text": "m"})
		},
		"POST /api/v1/canvases/:id/anchors": func(w *matrixWorld) matrixCase {
			return w.canvasCase(w.canvas().path("/anchors"), map[string]any{"anchor_name": "m"})
		},
		"POST /api/v1/canvases/:id/connectors": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			return w.canvasCase(c.path("/connectors"), connector(w, c))
		},
		"POST /api/v1/canvases/:id/images": uploadCase,
		"POST /api/v1/canvases/:id/pdfs": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			body, ct := multipartBody(t, testPart{Name: "data", Filename: "m.pdf", Data: mediaFixture(t, "two-pages.pdf")})
			return matrixCase{path: c.path("/pdfs"), body: body, ctype: ct, viewer: w.vera.Token, editor: w.ed.Token}
		},
		"POST /api/v1/canvases/:id/videos": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			body, ct := multipartBody(t, testPart{Name: "data", Filename: "m.webm", Data: mediaFixture(t, "clip.webm")})
			return matrixCase{path: c.path("/videos"), body: body, ctype: ct, viewer: w.vera.Token, editor: w.ed.Token}
		},
		"POST /api/v1/canvases/:id/images/:wid/uncrop": func(w *matrixWorld) matrixCase {
			c := w.canvas()
			id := w.e.mustImage(w.alice.Token, c, "u.png", pngBytes).id()
			return w.canvasCase(c.path("/images/"+id+"/uncrop"), map[string]any{"extend_right": 2, "seed": 1})
		},

		// Account flows (accounts.go): vera acts on alice; alice on herself or the admin.
		"POST /api/v1/users/:uid/approve": func(w *matrixWorld) matrixCase {
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/approve", w.alice.ID), viewer: w.alice.Token, editor: w.e.Admin}
		},
		"POST /api/v1/users/:uid/password": func(w *matrixWorld) matrixCase {
			u := w.e.createUser("pw", false)
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/password", u.ID), body: jsonBody(map[string]any{"new_password": "NNNN"}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
		"POST /api/v1/users/:uid/block": func(w *matrixWorld) matrixCase {
			u := w.e.createUser("blk", false)
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/block", u.ID), viewer: w.vera.Token, editor: u.Token}
		},
		"POST /api/v1/users/:uid/unblock": func(w *matrixWorld) matrixCase {
			u := w.e.createUser("unblk", false)
			return matrixCase{path: fmt.Sprintf("/api/v1/users/%d/unblock", u.ID), viewer: u.Token, editor: w.e.Admin}
		},

		// Groups (groups.go): written by admins only.
		"POST /api/v1/groups": func(w *matrixWorld) matrixCase {
			return matrixCase{path: "/api/v1/groups", body: jsonBody(map[string]any{"name": w.e.unique("g")}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
		"DELETE /api/v1/groups/:gid": func(w *matrixWorld) matrixCase {
			return matrixCase{path: fmt.Sprintf("/api/v1/groups/%d", w.group()), viewer: w.vera.Token, editor: w.e.Admin}
		},
		"POST /api/v1/groups/:gid/members": func(w *matrixWorld) matrixCase {
			return matrixCase{path: fmt.Sprintf("/api/v1/groups/%d/members", w.group()), body: jsonBody(map[string]any{"id": w.vera.ID}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
		"DELETE /api/v1/groups/:gid/members/:uid": func(w *matrixWorld) matrixCase {
			g := w.group()
			w.e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", g), w.e.Admin, map[string]any{"id": w.ed.ID}, 200)
			return matrixCase{path: fmt.Sprintf("/api/v1/groups/%d/members/%d", g, w.ed.ID), viewer: w.vera.Token, editor: w.e.Admin}
		},

		// Server config (serverconfig.go): admin only.
		"PATCH /api/v1/server-config": func(w *matrixWorld) matrixCase {
			return matrixCase{path: "/api/v1/server-config", body: jsonBody(map[string]any{"server_name": "m"}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
		"POST /api/v1/server-config/send-test-email": func(w *matrixWorld) matrixCase {
			return matrixCase{path: "/api/v1/server-config/send-test-email", viewer: w.vera.Token, editor: w.e.Admin}
		},

		// Admin endpoints outside /api/v1 authenticate the Canvus way too.
		"PUT /admin/tokens/:tid/credits": func(w *matrixWorld) matrixCase {
			id := w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", w.alice.ID), w.alice.Token, map[string]any{"description": "m"}, 200).id()
			return matrixCase{path: "/admin/tokens/" + id + "/credits", body: jsonBody(map[string]any{"credits": 5}), ctype: "application/json", viewer: w.vera.Token, editor: w.e.Admin}
		},
	}
	for k, v := range widgetFixtures("notes", func(w *matrixWorld, c testCanvas) string { return w.note(c) }, map[string]any{"text": "x"}) {
		f[k] = v
	}
	for k, v := range widgetFixtures("anchors", func(w *matrixWorld, c testCanvas) string {
		return w.e.mustJSON("POST", c.path("/anchors"), w.alice.Token, map[string]any{"anchor_name": "a"}, 200).id()
	}, map[string]any{"anchor_name": "b"}) {
		f[k] = v
	}
	for k, v := range widgetFixtures("connectors", func(w *matrixWorld, c testCanvas) string {
		return w.e.mustJSON("POST", c.path("/connectors"), w.alice.Token, connector(w, c), 200).id()
	}, map[string]any{"line_width": 3}) {
		f[k] = v
	}
	for k, v := range widgetFixtures("images", func(w *matrixWorld, c testCanvas) string {
		return w.e.mustImage(w.alice.Token, c, "i.png", pngBytes).id()
	}, map[string]any{"size": map[string]any{"width": 3, "height": 3}}) {
		f[k] = v
	}
	for _, kind := range []string{"pdfs", "videos"} {
		for k, v := range widgetFixtures(kind, func(w *matrixWorld, c testCanvas) string {
			return w.e.uploadMedia(w.alice.Token, c, kind, "m")
		}, map[string]any{"title": "t"}) {
			f[k] = v
		}
	}
	for k, v := range widgetsMoreWriteFixtures(t) { // widgets_more_matrix_test.go
		f[k] = v
	}
	return f
}

func TestAuthMatrixWriteRoutes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	w := &matrixWorld{e: e, alice: e.createUser("alice", false), vera: e.createUser("vera", false), ed: e.createUser("ed", false)}
	fixtures := matrixFixtures(t)

	var routes []string
	seen := map[string]bool{}
	for _, r := range e.Srv.Engine().Routes() {
		if !core.IsWrite(r.Method) {
			continue
		}
		key := r.Method + " " + r.Path
		if !strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasPrefix(r.Path, "/admin/") {
			other := false
			for _, p := range otherDialectPrefixes {
				other = other || strings.HasPrefix(r.Path, p)
			}
			if !other {
				t.Errorf("write route %s is in no known dialect: add it to this matrix or to otherDialectPrefixes", key)
			}
			continue
		}
		seen[key] = true
		if _, ok := matrixExempt[key]; ok {
			continue
		}
		if fixtures[key] == nil {
			t.Errorf("write route %s has no auth-matrix fixture: add one to matrixFixtures", key)
			continue
		}
		routes = append(routes, key)
	}
	for key := range fixtures {
		if !seen[key] {
			t.Errorf("fixture for %s, which the router no longer has", key)
		}
	}
	for key := range matrixExempt {
		if !seen[key] {
			t.Errorf("exemption for %s, which the router no longer has", key)
		}
	}
	if len(routes) < 25 {
		t.Fatalf("only %d write routes found under /api/v1: is the route list right?", len(routes))
	}
	sort.Strings(routes)

	for _, key := range routes {
		method := strings.SplitN(key, " ", 2)[0]
		t.Run(key, func(t *testing.T) {
			mc := fixtures[key](w)
			send := func(token string) *testResp {
				b := mc.body
				if token == mc.editor && mc.editorBody != nil {
					b = mc.editorBody
				}
				if b == nil {
					return e.do(method, mc.path, token, http.NoBody, mc.ctype)
				}
				return e.do(method, mc.path, token, strings.NewReader(string(b)), mc.ctype)
			}
			send("").expect(t, http.StatusUnauthorized)
			send("unknown-token-"+store.RandomToken(8)).expect(t, http.StatusUnauthorized)
			send(mc.viewer).expect(t, http.StatusForbidden)
			r := send(mc.editor)
			if r.Status < 200 || r.Status > 299 {
				t.Fatalf("editor: %s", r)
			}
		})
	}
}

// The permission-escalation matrix: who may make which change through POST
// /canvases/:id/permissions. Every actor is tried with every change on a
// fresh canvas (alice owns it; carol and olga are named owners, ed a named
// editor, vera a named viewer, the link gives edit to anyone), and the
// answer and the sharing afterwards are checked. A new actor or change needs
// a row in escalationWant, or the test fails.
var escalationActors = []string{"owner", "co-owner", "editor", "editor, sharing off", "link editor", "viewer + link edit", "guest"}

var escalationChanges = []string{"grant view", "grant edit", "grant owner", "lower an owner", "remove an owner",
	"editors_can_share off", "link off", "write down own link right"}

// escalationWant: the changes each actor may make (all others are 403).
var escalationWant = map[string][]string{
	"owner":               escalationChanges,
	"co-owner":            escalationChanges,
	"editor":              {"grant view", "grant edit", "write down own link right"}, // the last is no change: ed's edit is a named grant
	"editor, sharing off": nil,
	"link editor":         nil,
	"viewer + link edit":  nil,
	"guest":               nil,
}

func TestAuthMatrixPermissionEscalation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, carol, olga := e.createUser("alice", false), e.createUser("carol", false), e.createUser("olga", false)
	ed, vera, lin, bob := e.createUser("ed", false), e.createUser("vera", false), e.createUser("lin", false), e.createUser("bob", false)
	token := map[string]string{"owner": alice.Token, "co-owner": carol.Token, "editor": ed.Token, "editor, sharing off": ed.Token,
		"link editor": lin.Token, "viewer + link edit": vera.Token, "guest": ""}
	self := map[string]uint64{"owner": alice.ID, "co-owner": carol.ID, "editor": ed.ID, "editor, sharing off": ed.ID,
		"link editor": lin.ID, "viewer + link edit": vera.ID, "guest": store.GuestUserID}
	for actor := range escalationWant {
		if token[actor] == "" && actor != "guest" || !slices.Contains(escalationActors, actor) {
			t.Fatalf("escalation actor %q is not set up", actor)
		}
	}
	for _, actor := range escalationActors {
		if _, ok := escalationWant[actor]; !ok {
			t.Fatalf("escalation actor %q has no row in escalationWant", actor)
		}
		for _, change := range escalationChanges {
			t.Run(actor+"/"+change, func(t *testing.T) {
				c := e.createCanvas(alice.Token, "esc")
				e.mustJSON("POST", c.path("/permissions"), alice.Token, map[string]any{
					"link_permission": "edit", "editors_can_share": actor != "editor, sharing off",
					"users": []any{
						map[string]any{"id": carol.ID, "permission": "owner"},
						map[string]any{"id": olga.ID, "permission": "owner"},
						map[string]any{"id": ed.ID, "permission": "edit"},
						map[string]any{"id": vera.ID, "permission": "view"},
					}}, 200)
				before := e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
				var body any
				switch change {
				case "grant view":
					body = grant(bob.ID, "view")
				case "grant edit":
					body = grant(bob.ID, "edit")
				case "grant owner":
					body = grant(bob.ID, "owner")
				case "lower an owner":
					body = grant(olga.ID, "view")
				case "remove an owner":
					body = grant(olga.ID, "none")
				case "editors_can_share off":
					body = map[string]any{"editors_can_share": false}
				case "link off":
					body = map[string]any{"link_permission": "none"}
				case "write down own link right":
					body = grant(self[actor], "edit")
				default:
					t.Fatalf("change %q has no request", change)
				}
				r := e.doJSON("POST", c.path("/permissions"), token[actor], body)
				after := e.mustJSON("GET", c.path("/permissions"), alice.Token, nil, 200)
				if !slices.Contains(escalationWant[actor], change) {
					r.expect(t, http.StatusForbidden)
					if fmt.Sprint(after) != fmt.Sprint(before) {
						t.Fatalf("refused, yet the sharing changed:\n%v\n%v", before, after)
					}
					return
				}
				r.expect(t, http.StatusOK)
				if fmt.Sprint(after) == fmt.Sprint(before) && change != "write down own link right" {
					t.Fatalf("allowed, yet nothing changed: %v", after)
				}
			})
		}
	}
}
