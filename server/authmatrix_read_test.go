package server

// The read-side auth matrix: every GET and HEAD route the router knows (all
// dialects), built from srv.Engine().Routes() like the write matrix in
// authmatrix_test.go, times the actors {no token, unknown token, another
// user with no grant, view-only user}; and every live stream (the NDJSON
// ?subscribe streams of the /api/v1 GETs and the canvas websocket) times
// {view-only user reading later lines, token revoked mid-stream, user
// blocked mid-stream, and for canvas streams grant removed mid-stream}; and
// the batch-digitize SSE stream times {revoked, blocked} mid-stream. A read
// route without a fixture below fails the test, so a new route forces this
// table to grow. For user-scoped routes the "view-only" reader is the user
// itself, for /admin routes an admin, for /v1/outputs the output's owner,
// for batch events the batch's starter (who needs edit to start it).
//
// Streams are checked on their later lines, not only the first: after the
// first line the test makes a change the subscriber must not see (on
// another user's private canvas, folder and token; after revocation or
// blocking, on the stream's own canvas and resource) and asserts that it
// never arrives and, for a revoked subscriber, that the stream ends
// (websocket close 4001 for credentials, 4003 for a removed grant; NDJSON
// EOF). Known exceptions are kept, still checked, in readKnownLeaks.
//
// What "another user" gets, per dialect, and why it does not leak existence:
//   - Canvus, canvas-scoped (/api/v1/canvases/:id/...): 403 "Permission
//     denied", from canvasAccess, before any widget is looked up, so a
//     widget id answers the same whether it exists or not (asserted: the
//     "ghost" cases). A canvas id that does not exist answers 404; canvas
//     ids are random UUIDs (122 bits), so the 403/404 difference tells only
//     the holder of an id, who was given it, that it is live.
//   - Canvus, user-scoped: the user directory (/users, /users/:uid) is
//     readable by every signed-in user but shows only {id, name, state} of
//     others (no email: asserted); tokens answer 403 before the token is
//     looked up (ghost asserted); a folder of another user answers 403; the
//     folder and canvas lists leave out what the caller cannot see
//     (asserted by name).
//   - /admin: 403 to every non-admin, before the token is looked up (ghost).
//   - Deal canvas (/api/canvas): 403, from the same canvasAccess; element
//     ids and batch ids answer the same whether they exist or not (ghost).
//   - Crop jobs (/v1/outputs): 404, the same answer as for an output that
//     does not exist (ghost), so nobody learns which outputs exist.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/canvus"
	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
)

// readExempt are the read routes open to anyone, with why. They are still
// checked: no token answers 2xx and says nothing of a private canvas.
var readExempt = map[string]string{
	"GET /api/v1/server-info": "public: Canvus clients read the API version before signing in",
	"GET /healthz":            "public: liveness probe, answers a constant",
	"GET /readyz":             "public: readiness probe for the load balancer",
	"GET /metrics":            "public unless Config.MetricsToken/MetricsAdminOnly is set: Prometheus scrape, counters only",
	"GET /openapi.yaml":       "public: the API contract, a static file",
	"GET /api/v1/users/password/validate-reset-token": "public: the emailed token is the credential (TestAccountsPasswordReset)",
	"GET /api/v1/server-config":                       "public: the sign-in settings a client needs before signing in; admins see more (TestServerConfigReadPatchPersist)",
}

// readExemptStatus is the tokenless answer of a public route that is not
// 200: validate-reset-token without a token answers 400 "Invalid token".
var readExemptStatus = map[string]int{
	"GET /api/v1/users/password/validate-reset-token": 400,
}

// readKnownLeaks are matrix checks, named "ROUTE | ACTOR" (e.g.
// "GET /api/v1/canvases | view-only later lines" or
// "GET /api/v1/canvases | another user ?subscribe"), that are known to
// leak today, with what leaks. Each is run and must still leak: once fixed,
// the test fails until its entry is removed here.
var readKnownLeaks = map[string]string{}

// readWorld holds the users every read fixture works with: alice owns the
// canvases, bob is a signed-in user with no grant anywhere, and alice keeps
// a private canvas, note, folder and token whose names nobody else may see.
type readWorld struct {
	e          *testEnv
	alice, bob testUser
	png        []byte

	privCanvas     testCanvas
	privNote       string
	privCanvasName string
	privFolderName string
}

// viewCanvas is a fresh canvas of alice's with one note, viewable by reader.
func (w *readWorld) viewCanvas(reader testUser) (testCanvas, string) {
	c := w.e.createCanvas(w.alice.Token, "read")
	w.e.share(w.alice.Token, c, reader.ID, "view")
	return c, w.e.createNote(w.alice.Token, c, map[string]any{"text": "shared"}).id()
}

// readCase is one route's concrete request.
type readCase struct {
	path   string
	bearer bool // deal and crop-job dialects: Authorization: Bearer
	reader string
	// other is a signed-in user with no grant; it gets otherWant (a
	// default of 403), never any of otherHides.
	other      string
	otherWant  int
	otherHides []string
	// ghost is the path with its last id replaced by one that does not
	// exist: other must get the very same answer there.
	ghost string
	// stream is "" (none), "ndjson" (a ?subscribe stream) or "ws".
	stream string
	// sentinel makes a change the reader must see and returns what its
	// line contains; nil for streams that follow nothing (keepalives only).
	sentinel func(marker string) string
	// change makes, after revocation, changes to the stream's own
	// resource, each carrying secret.
	change func(secret string)
	// unshare takes the reader's grant away (canvas-scoped streams: the
	// stream must end, a websocket with 4003).
	unshare func()
}

type readFixture func(w *readWorld, reader testUser) readCase

func readFixtures(t testing.TB) map[string]readFixture {
	f := map[string]readFixture{
		// User-scoped routes: the reader is the user itself.
		"GET /api/v1/users": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/users", reader: r.Token, other: w.bob.Token, otherWant: 200,
				otherHides: []string{r.Email, w.alice.Email}, stream: "ndjson",
				sentinel: func(m string) string { w.rename(r, m); return m },
				change:   func(s string) { w.rename(r, s) }}
		},
		"GET /api/v1/users/:uid": func(w *readWorld, r testUser) readCase {
			return readCase{path: fmt.Sprintf("/api/v1/users/%d", r.ID), reader: r.Token, other: w.bob.Token, otherWant: 200,
				otherHides: []string{r.Email}, stream: "ndjson", change: func(s string) { w.rename(r, s) },
				sentinel: func(m string) string { w.rename(r, m); return m }}
		},
		"GET /api/v1/users/:uid/access-tokens": func(w *readWorld, r testUser) readCase {
			w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", r.ID), r.Token, map[string]any{"description": "mine-" + r.Name}, 200)
			return readCase{path: fmt.Sprintf("/api/v1/users/%d/access-tokens", r.ID), reader: r.Token, other: w.bob.Token,
				otherHides: []string{"mine-" + r.Name}, ghost: "/api/v1/users/987654/access-tokens", stream: "ndjson",
				change: func(s string) { w.rename(r, s) },
				sentinel: func(m string) string {
					w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", r.ID), r.Token, map[string]any{"description": m}, 200)
					return m
				}}
		},
		"GET /api/v1/users/:uid/access-tokens/:tid": func(w *readWorld, r testUser) readCase {
			p := fmt.Sprintf("/api/v1/users/%d/access-tokens/", r.ID)
			id := w.e.mustJSON("POST", p[:len(p)-1], r.Token, map[string]any{"description": "mine-" + r.Name}, 200).id()
			return readCase{path: p + id, reader: r.Token, other: w.bob.Token, otherHides: []string{"mine-" + r.Name},
				ghost: p + "ffffffffffffffffffffffffffffffff", stream: "ndjson",
				change: func(s string) {
					w.e.doJSON("PATCH", p+id, w.e.Admin, map[string]any{"description": s})
				},
				sentinel: func(m string) string {
					w.e.mustJSON("PATCH", p+id, w.e.Admin, map[string]any{"description": m}, 200)
					return m
				}}
		},
		"GET /api/v1/canvas-folders": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/canvas-folders", reader: r.Token, other: w.bob.Token, otherWant: 200,
				otherHides: []string{w.privFolderName}, stream: "ndjson", change: func(s string) { w.rename(r, s) },
				sentinel: func(m string) string {
					w.e.mustJSON("POST", "/api/v1/canvas-folders", r.Token, map[string]any{"name": m}, 200)
					return m
				}}
		},
		"GET /api/v1/canvas-folders/:fid": func(w *readWorld, r testUser) readCase {
			name := w.e.unique("folder-of-" + r.Name)
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", r.Token, map[string]any{"name": name}, 200).id()
			return readCase{path: "/api/v1/canvas-folders/" + id, reader: r.Token, other: w.bob.Token, otherHides: []string{name},
				stream: "ndjson", change: func(s string) {
					w.e.doJSON("PATCH", "/api/v1/canvas-folders/"+id, w.e.Admin, map[string]any{"name": s})
				},
				sentinel: func(m string) string {
					w.e.mustJSON("PATCH", "/api/v1/canvas-folders/"+id, w.e.Admin, map[string]any{"name": m}, 200)
					return m
				}}
		},
		"GET /api/v1/canvas-folders/:fid/permissions": func(w *readWorld, r testUser) readCase {
			// alice's folder, shared with the reader (view): the folder's
			// grants, and the stream follows them.
			id := w.e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": w.e.unique("shared-folder")}, 200).id()
			p := "/api/v1/canvas-folders/" + id + "/permissions"
			grant := func(uid uint64, perm string) {
				w.e.mustJSON("POST", p, w.alice.Token, map[string]any{"users": []any{map[string]any{"id": uid, "permission": perm}}}, 200)
			}
			grant(r.ID, "view")
			return readCase{path: p, reader: r.Token, other: w.bob.Token, stream: "ndjson",
				sentinel: func(string) string {
					u := w.e.createUser("grantee", false)
					grant(u.ID, "edit")
					return fmt.Sprintf(`"id":%d,"inherited":false,"permission":"edit"`, u.ID)
				},
				change: func(s string) {
					w.e.doJSON("PATCH", "/api/v1/canvas-folders/"+id, w.alice.Token, map[string]any{"name": s})
				},
				unshare: func() { grant(r.ID, "none") }}
		},
		"GET /api/v1/canvases": func(w *readWorld, r testUser) readCase {
			c, _ := w.viewCanvas(r)
			return readCase{path: "/api/v1/canvases", reader: r.Token, other: w.bob.Token, otherWant: 200,
				otherHides: []string{w.privCanvasName, w.privCanvas.ID, c.ID}, stream: "ndjson",
				sentinel: func(m string) string {
					w.e.mustJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"name": m}, 200)
					return m
				},
				change: func(s string) {
					w.e.doJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"name": s})
				}}
		},

		// Canvas-scoped routes: the reader has a view grant.
		"GET /api/v1/canvases/:id": func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path(""))
			rc.sentinel = func(m string) string {
				w.e.mustJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"name": m}, 200)
				return m
			}
			return rc
		},
		"GET /api/v1/canvases/:id/permissions": func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path("/permissions"))
			rc.sentinel = func(string) string {
				u := w.e.createUser("grantee", false)
				w.e.share(w.alice.Token, c, u.ID, "edit")
				return fmt.Sprintf(`"id":%d,"inherited":false,"permission":"edit"`, u.ID)
			}
			return rc
		},
		"GET /api/v1/canvases/:id/ws": func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path("/ws"))
			rc.stream = "ws"
			rc.sentinel = w.patchNote(c, n)
			return rc
		},
		"GET /api/v1/canvases/:id/images/:wid/download": func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			img := w.e.mustImage(w.alice.Token, c, "r.png", w.png).id()
			rc := w.canvasCase(r, c, n, c.path("/images/"+img+"/download"))
			rc.ghost, rc.stream = c.path("/images/"+ghostUUID+"/download"), ""
			return rc
		},
		"GET /api/v1/mipmaps/:hash": func(w *readWorld, r testUser) readCase {
			return w.assetCase(r, "/api/v1/mipmaps/", "")
		},
		"GET /api/v1/mipmaps/:hash/:level": func(w *readWorld, r testUser) readCase {
			return w.assetCase(r, "/api/v1/mipmaps/", "/0")
		},
		"GET /api/v1/assets/:hash": func(w *readWorld, r testUser) readCase {
			return w.assetCase(r, "/api/v1/assets/", "")
		},
		"GET /api/v1/canvases/:id/pdfs/:wid/download": func(w *readWorld, r testUser) readCase {
			return w.mediaDownloadCase(r, "pdfs")
		},
		"GET /api/v1/canvases/:id/videos/:wid/download": func(w *readWorld, r testUser) readCase {
			return w.mediaDownloadCase(r, "videos")
		},
		"GET /api/v1/canvases/:id/preview": func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path("/preview"))
			rc.stream = ""
			return rc
		},

		// Deal-canvas dialect: the same canvas access, Bearer tokens.
		"GET /api/canvas/:id/images/:wid/versions": func(w *readWorld, r testUser) readCase {
			return w.dealCase(r, "/versions")
		},
		"GET /api/canvas/:id/images/:wid/versions/:file": func(w *readWorld, r testUser) readCase {
			return w.dealCase(r, "/versions/0.png")
		},
		"GET /api/canvas/:id/images/:wid/source": func(w *readWorld, r testUser) readCase {
			return w.dealCase(r, "/source")
		},
		"GET /api/canvas/:id/images/batch-digitize/:batch/events": func(w *readWorld, r testUser) readCase {
			// A batch's events are its starter's: the reader edits and starts one.
			c, _ := w.viewCanvas(r)
			w.e.share(w.alice.Token, c, r.ID, "edit")
			base := "/api/canvas/" + c.ID + "/images/batch-digitize"
			img := w.e.mustImage(w.alice.Token, c, "b.png", w.png).id()
			batch := w.batch(t, base, r.Token, img)
			return readCase{path: base + "/" + batch + "/events", bearer: true, reader: r.Token, other: w.bob.Token,
				ghost: base + "/" + ghostUUID + "/events"}
		},

		// Admin routes: the only reader is an admin; every other user is "another user".
		// Groups: readable by every signed-in user (no private data: names
		// and descriptions; members show others as id and name only).
		"GET /api/v1/groups": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/groups", reader: r.Token, other: w.bob.Token, otherWant: 200, stream: "ndjson",
				change: func(s string) { w.e.doJSON("POST", "/api/v1/groups", w.e.Admin, map[string]any{"name": s}) }}
		},
		"GET /api/v1/groups/:gid": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/groups/1", reader: r.Token, other: w.bob.Token, otherWant: 200, stream: "ndjson",
				change: func(s string) { w.e.doJSON("POST", "/api/v1/groups", w.e.Admin, map[string]any{"name": s}) }}
		},
		"GET /api/v1/groups/:gid/members": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/groups/1/members", reader: r.Token, other: w.bob.Token, otherWant: 200,
				otherHides: []string{r.Email, w.alice.Email}, stream: "ndjson", change: func(s string) { w.rename(r, s) }}
		},
		"GET /api/v1/audit-log": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/audit-log", reader: w.e.Admin, other: r.Token}
		},
		"GET /api/v1/audit-log/export-csv": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/audit-log/export-csv", reader: w.e.Admin, other: r.Token}
		},
		"GET /api/v1/license": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/api/v1/license", reader: w.e.Admin, other: r.Token}
		},
		"GET /admin/backup": func(w *readWorld, r testUser) readCase {
			return readCase{path: "/admin/backup", reader: w.e.Admin, other: r.Token}
		},
		"GET /admin/tokens/:tid/credits": func(w *readWorld, r testUser) readCase {
			id := w.e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", r.ID), r.Token, map[string]any{"description": "c"}, 200).id()
			return readCase{path: "/admin/tokens/" + id + "/credits", reader: w.e.Admin, other: r.Token,
				ghost: "/admin/tokens/ffffffffffffffffffffffffffffffff/credits"}
		},

		// Crop-job dialect: an output is its owner's.
		"GET /v1/outputs/:file":  func(w *readWorld, r testUser) readCase { return w.outputCase(r) },
		"HEAD /v1/outputs/:file": func(w *readWorld, r testUser) readCase { return w.outputCase(r) },
	}
	for _, k := range canvus.WidgetKinds {
		k := k
		base := "GET /api/v1/canvases/:id/" + k.Path
		f[base] = func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			rc := w.canvasCase(r, c, n, c.path("/"+k.Path))
			rc.sentinel = func(m string) string { _, l := w.createKind(c, k.Path, m); return l }
			return rc
		}
		f[base+"/:wid"] = func(w *readWorld, r testUser) readCase {
			c, n := w.viewCanvas(r)
			id, _ := w.createKind(c, k.Path, "x")
			rc := w.canvasCase(r, c, n, c.path("/"+k.Path+"/"+id))
			rc.ghost = c.path("/" + k.Path + "/" + ghostUUID)
			rc.sentinel = w.patchKind(c, k.Path, id)
			return rc
		}
	}
	f["GET /api/v1/canvases/:id/widgets"] = func(w *readWorld, r testUser) readCase {
		c, n := w.viewCanvas(r)
		rc := w.canvasCase(r, c, n, c.path("/widgets"))
		rc.sentinel = func(m string) string { _, l := w.createKind(c, "notes", m); return l }
		return rc
	}
	f["GET /api/v1/canvases/:id/widgets/:wid"] = func(w *readWorld, r testUser) readCase {
		c, n := w.viewCanvas(r)
		rc := w.canvasCase(r, c, n, c.path("/widgets/"+n))
		rc.ghost = c.path("/widgets/" + ghostUUID)
		rc.sentinel = w.patchNote(c, n)
		return rc
	}
	for k, v := range widgetsMoreReadFixtures() { // widgets_more_matrix_test.go
		f[k] = v
	}
	return f
}

const ghostUUID = "00000000-0000-4000-8000-000000000000"

// canvasCase is a canvas-scoped NDJSON route whose later changes rename the
// canvas and write into its note and a new note.
func (w *readWorld) canvasCase(r testUser, c testCanvas, note, path string) readCase {
	return readCase{path: path, reader: "", other: w.bob.Token, otherHides: []string{c.ID, note}, stream: "ndjson",
		change: func(s string) {
			w.e.doJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"name": s})
			w.e.doJSON("PATCH", c.path("/notes/"+note), w.alice.Token, map[string]any{"text": s})
			w.e.doJSON("POST", c.path("/notes"), w.alice.Token, map[string]any{"text": s})
		},
		unshare: func() {
			w.e.share(w.alice.Token, c, r.ID, "none")
		}}
}

// mediaDownloadCase is the download of a PDF or video on a canvas the
// reader may view.
func (w *readWorld) mediaDownloadCase(r testUser, kind string) readCase {
	c, n := w.viewCanvas(r)
	id := w.e.uploadMedia(w.alice.Token, c, kind, "m")
	rc := w.canvasCase(r, c, n, c.path("/"+kind+"/"+id+"/download"))
	rc.ghost, rc.stream = c.path("/"+kind+"/"+ghostUUID+"/download"), ""
	return rc
}

// assetCase is a mipmaps or assets route of an image on a canvas the
// reader may view; the canvas is named by the canvas-id header (carried in
// the path's fragment, see rmRequest).
func (w *readWorld) assetCase(r testUser, prefix, suffix string) readCase {
	c, n := w.viewCanvas(r)
	img := w.e.mustImage(w.alice.Token, c, "r.png", w.png).id()
	hash := w.e.waitImageHash(w.alice.Token, c, img)
	rc := w.canvasCase(r, c, n, prefix+hash+suffix+"#canvas-id="+c.ID)
	rc.ghost, rc.stream = prefix+"ffffffffffff"+suffix+"#canvas-id="+c.ID, ""
	return rc
}

func (w *readWorld) patchNote(c testCanvas, note string) func(string) string {
	return func(m string) string {
		w.e.mustJSON("PATCH", c.path("/notes/"+note), w.alice.Token, map[string]any{"text": m}, 200)
		return m
	}
}

// createKind creates a widget of kind (a widgetKinds path) on c, carrying
// marker where the kind has a text field. It returns the new id and what
// its stream line contains (the marker, or the id).
func (w *readWorld) createKind(c testCanvas, kind, marker string) (id, line string) {
	switch kind {
	case "notes":
		id := w.e.mustJSON("POST", c.path("/notes"), w.alice.Token, map[string]any{"text": marker}, 200).id()
		return id, marker
	case "anchors":
		id := w.e.mustJSON("POST", c.path("/anchors"), w.alice.Token, map[string]any{"anchor_name": marker}, 200).id()
		return id, marker
	case "connectors":
		a, b := w.e.createNote(w.alice.Token, c, nil).id(), w.e.createNote(w.alice.Token, c, nil).id()
		id := w.e.mustJSON("POST", c.path("/connectors"), w.alice.Token, map[string]any{"src": map[string]any{"id": a}, "dst": map[string]any{"id": b}}, 200).id()
		return id, id
	case "images":
		id := w.e.mustImage(w.alice.Token, c, "k.png", w.png).id()
		w.e.waitImageHash(w.alice.Token, c, id) // its background update comes before any later change
		return id, id
	case "pdfs", "videos":
		return w.e.uploadMedia(w.alice.Token, c, kind, marker), marker
	}
	if id, line, ok := w.createMoreKind(c, kind, marker); ok { // widgets_more_matrix_test.go
		return id, line
	}
	panic("unknown widget kind " + kind)
}

// patchKind returns a change of widget id that its stream must show.
func (w *readWorld) patchKind(c testCanvas, kind, id string) func(string) string {
	return func(m string) string {
		p := c.path("/" + kind + "/" + id)
		switch kind {
		case "notes":
			w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"text": m}, 200)
			return m
		case "anchors":
			w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"anchor_name": m}, 200)
			return m
		case "connectors":
			w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"line_width": 7}, 200)
		case "images":
			w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"size": map[string]any{"width": 5, "height": 5}}, 200)
		case "pdfs", "videos":
			w.e.mustJSON("PATCH", p, w.alice.Token, map[string]any{"title": m}, 200)
			return m
		default:
			return w.patchMoreKind(p, kind, m) // widgets_more_matrix_test.go
		}
		return id
	}
}

// rename renames user u (as the admin), ignoring the answer.
func (w *readWorld) rename(u testUser, name string) {
	w.e.doJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), w.e.Admin, map[string]any{"name": name})
}

func (w *readWorld) dealCase(r testUser, suffix string) readCase {
	c, _ := w.viewCanvas(r)
	img := w.e.mustImage(w.alice.Token, c, "d.png", w.png).id()
	base := "/api/canvas/" + c.ID + "/images/"
	return readCase{path: base + img + suffix, bearer: true, reader: r.Token, other: w.bob.Token, ghost: base + ghostUUID + suffix}
}

func (w *readWorld) outputCase(r testUser) readCase {
	c, _ := w.viewCanvas(r)
	img := w.e.mustImage(w.alice.Token, c, "o.png", w.png).id()
	var blob string
	err := w.e.Store.Write(func(tx *store.Tx) error {
		wd, err := tx.Widget(c.ID, img)
		if err != nil {
			return err
		}
		blob = wd.Blob
		return tx.AddOutput(blob, r.ID)
	})
	if err != nil {
		w.e.t.Fatalf("output fixture: %v", err)
	}
	return readCase{path: "/v1/outputs/" + blob + ".png", bearer: true, reader: r.Token, other: w.bob.Token, otherWant: 404,
		ghost: "/v1/outputs/" + strings.Repeat("0", 64) + ".png"}
}

// batch starts a batch-digitize of one element that fails at once, reads
// its stream to the end and returns the batch id.
func (w *readWorld) batch(t testing.TB, base, token, element string) string {
	body, _ := json.Marshal(map[string]any{"elements": []any{map[string]any{"element_id": element, "element_type": "text", "image_url": "http://127.0.0.1:1/x.png"}}})
	req, _ := http.NewRequest("POST", w.e.URL+base, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.e.Client.Do(req)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	defer resp.Body.Close()
	all, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, all)
	}
	for _, l := range strings.Split(string(all), "\n") {
		if d, ok := strings.CutPrefix(l, "data: "); ok {
			var m map[string]any
			if json.Unmarshal([]byte(d), &m) == nil && m["batch_id"] != nil {
				return m["batch_id"].(string)
			}
		}
	}
	t.Fatalf("batch: no batch_id in %s", all)
	return ""
}

// ---- requests ----

// rmAnswer is a fully read answer.
type rmAnswer struct {
	status int
	ctype  string
	body   []byte
}

func (a rmAnswer) String() string {
	b := a.body
	if len(b) > 300 {
		b = b[:300]
	}
	return fmt.Sprintf("%d %s", a.status, b)
}

func rmRequest(ctx context.Context, e *testEnv, method, path, token string, bearer bool) (*http.Request, error) {
	// A path may carry a canvas-id header after "#canvas-id=" (the mipmaps
	// and assets routes name their canvas by header); the fragment itself
	// is never sent.
	canvasHeader := ""
	if i := strings.Index(path, "#canvas-id="); i >= 0 {
		id, q, _ := strings.Cut(path[i+len("#canvas-id="):], "?")
		canvasHeader, path = id, path[:i]
		if q != "" {
			path += "?" + q
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, e.URL+path, nil)
	if err != nil {
		return nil, err
	}
	if canvasHeader != "" {
		req.Header.Set("canvas-id", canvasHeader)
	}
	if token != "" {
		if bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.Header.Set("Private-Token", token)
		}
	}
	return req, nil
}

// rmSend sends a plain request and reads the answer. An SSE or NDJSON
// answer is read only to its first line.
func rmSend(t testing.TB, e *testEnv, method, path, token string, bearer bool) rmAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := rmRequest(ctx, e, method, path, token, bearer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := rmAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	if strings.HasPrefix(a.ctype, "text/event-stream") || strings.HasPrefix(a.ctype, "application/x-ndjson") {
		a.body, _ = bufio.NewReader(resp.Body).ReadBytes('\n')
	} else {
		a.body, _ = io.ReadAll(resp.Body)
	}
	return a
}

// rmStream is an open live stream: NDJSON lines (keepalives as empty
// lines) or websocket messages, read by one goroutine into lines.
type rmStream struct {
	lines  chan []byte
	mu     sync.Mutex
	endErr error // why the stream ended (nil: NDJSON EOF)
	cancel func()
}

func (s *rmStream) end() error { s.mu.Lock(); defer s.mu.Unlock(); return s.endErr }

// rmOpen opens rc's stream as token and reads its first line or message.
// When the server refuses, it returns the answer's status instead.
func rmOpen(t testing.TB, e *testEnv, rc readCase, token string) (*rmStream, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	s := &rmStream{lines: make(chan []byte, 256), cancel: cancel}
	t.Cleanup(cancel)
	if rc.stream == "ws" {
		h := http.Header{}
		if token != "" {
			h.Set("Private-Token", token)
		}
		c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+rc.path, &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			if resp == nil {
				t.Fatalf("dial %s: %v", rc.path, err)
				return nil, 0
			}
			return nil, resp.StatusCode
		}
		c.SetReadLimit(8 << 20)
		t.Cleanup(func() { c.CloseNow() })
		if _, first, err := c.Read(ctx); err != nil || !bytes.Contains(first, []byte(`"HELLO"`)) {
			t.Fatalf("%s: first message %q, %v; want HELLO", rc.path, first, err)
		}
		go func() {
			defer close(s.lines)
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					s.mu.Lock()
					s.endErr = err
					s.mu.Unlock()
					return
				}
				s.lines <- data
			}
		}()
		return s, 101
	}
	req, err := rmRequest(ctx, e, "GET", rc.path+"?subscribe", token, rc.bearer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("subscribe %s: %v", rc.path, err)
	}
	if resp.StatusCode != 200 {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("%s?subscribe: Content-Type %q, want application/x-ndjson", rc.path, ct)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	if _, err := br.ReadBytes('\n'); err != nil {
		t.Fatalf("%s?subscribe: first line: %v", rc.path, err)
	}
	go func() {
		defer close(s.lines)
		for {
			l, err := br.ReadBytes('\n')
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.mu.Lock()
					s.endErr = err
					s.mu.Unlock()
				}
				return
			}
			s.lines <- bytes.TrimSpace(l)
		}
	}()
	return s, 200
}

// until reads later lines until one contains marker (or, with marker "",
// until keepalives empty lines), failing on any line that contains one of
// secrets.
func (s *rmStream) until(marker string, keepalives int, secrets ...string) error {
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return fmt.Errorf("stream ended (%v) before the later change arrived", s.end())
			}
			for _, sec := range secrets {
				if bytes.Contains(l, []byte(sec)) {
					return fmt.Errorf("LEAK: a later line carries %q: %.300s", sec, l)
				}
			}
			if marker != "" && bytes.Contains(l, []byte(marker)) {
				return nil
			}
			if marker == "" && len(l) == 0 {
				if keepalives--; keepalives <= 0 {
					return nil
				}
			}
		case <-timeout:
			return fmt.Errorf("no later line carries %q within 15 s", marker)
		}
	}
}

// ended reads the rest of the stream, which must end (NDJSON EOF, or a
// websocket close with wantClose) without carrying any of secrets.
func (s *rmStream) ended(wantClose websocket.StatusCode, secrets ...string) error {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				err := s.end()
				if wantClose != 0 {
					if got := websocket.CloseStatus(err); got != wantClose {
						return fmt.Errorf("websocket ended with %v (close %d), want close %d", err, got, wantClose)
					}
					return nil
				}
				if err != nil {
					return fmt.Errorf("NDJSON stream broke (%v) instead of ending", err)
				}
				return nil
			}
			for _, sec := range secrets {
				if bytes.Contains(l, []byte(sec)) {
					return fmt.Errorf("LEAK: the stream received %q after its reader lost access: %.300s", sec, l)
				}
			}
		case <-timeout:
			return errors.New("LEAK: the stream is still open 5 s after its reader lost access")
		}
	}
}

// leakName is the readKnownLeaks name of subtest t of route key.
func leakName(key string, t *testing.T) string {
	return key + " | " + strings.ReplaceAll(t.Name()[strings.LastIndex(t.Name(), "/")+1:], "_", " ")
}

// rmCheck runs one matrix check: its failure fails the subtest unless the
// subtest is a known leak, which must still fail.
func rmCheck(t *testing.T, name string, err error) {
	t.Helper()
	if why, ok := readKnownLeaks[name]; ok {
		if err == nil {
			t.Fatalf("known leak %q (%s) no longer leaks: remove it from readKnownLeaks", name, why)
		}
		t.Logf("known leak still present (%s): %v", why, err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
}

// ---- the matrix ----

func newReadWorld(t testing.TB) *readWorld {
	e := newTestEnv(t, withConfig(func(c *Config) {
		c.KeepAlive = 50 * time.Millisecond
		c.MaxStreamsPerUser = 1000
	}), withStoreOptions(func(o *store.Options) { o.NoSync = true }))
	w := &readWorld{e: e, alice: e.createUser("alice", false), bob: e.createUser("bob", false), png: testPNG(t, 6, 4)}
	w.privCanvasName = e.unique("alice-private-canvas")
	w.privCanvas = testCanvas{ID: e.mustJSON("POST", "/api/v1/canvases", w.alice.Token, map[string]any{"name": w.privCanvasName}, 200).id()}
	w.privNote = e.createNote(w.alice.Token, w.privCanvas, map[string]any{"text": "private"}).id()
	w.privFolderName = e.unique("alice-private-folder")
	e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": w.privFolderName}, 200)
	return w
}

// privateChange makes changes, each carrying secret, that only alice may
// see: on her private canvas, folder and token, and her email.
func (w *readWorld) privateChange(secret string) {
	e := w.e
	e.mustJSON("PATCH", w.privCanvas.path(""), w.alice.Token, map[string]any{"name": secret}, 200)
	e.mustJSON("PATCH", w.privCanvas.path("/notes/"+w.privNote), w.alice.Token, map[string]any{"text": secret}, 200)
	e.mustJSON("POST", w.privCanvas.path("/notes"), w.alice.Token, map[string]any{"text": secret}, 200)
	e.mustJSON("POST", "/api/v1/canvases", w.alice.Token, map[string]any{"name": secret}, 200)
	e.mustJSON("POST", "/api/v1/canvas-folders", w.alice.Token, map[string]any{"name": secret}, 200)
	e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", w.alice.ID), w.alice.Token, map[string]any{"description": secret}, 200)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", w.alice.ID), e.Admin, map[string]any{"email": secret + "@example.com"}, 200)
}

func readRoutes(t *testing.T, w *readWorld, fixtures map[string]readFixture) []string {
	t.Helper()
	var routes []string
	seen := map[string]bool{}
	for _, r := range w.e.Srv.Engine().Routes() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		if _, ok := readExempt[key]; ok {
			continue
		}
		if fixtures[key] == nil {
			t.Errorf("read route %s has no read-matrix fixture: add one to readFixtures (or, if public, to readExempt)", key)
			continue
		}
		routes = append(routes, key)
	}
	for key := range fixtures {
		if !seen[key] {
			t.Errorf("read fixture for %s, which the router no longer has", key)
		}
	}
	for key := range readExempt {
		if !seen[key] {
			t.Errorf("read exemption for %s, which the router no longer has", key)
		}
	}
	if len(routes) < 25 {
		t.Fatalf("only %d read routes found: is the route list right?", len(routes))
	}
	sort.Strings(routes)
	return routes
}

// TestAuthMatrixReadRoutes: every read route × {no token, unknown token,
// another user, view-only}; stream routes also with ?subscribe, or as a
// websocket.
func TestAuthMatrixReadRoutes(t *testing.T) {
	t.Parallel()
	w := newReadWorld(t)
	e := w.e
	fixtures := readFixtures(t)
	routes := readRoutes(t, w, fixtures)

	// Public routes answer anyone, and say nothing private.
	for key := range readExempt {
		path := strings.SplitN(key, " ", 2)[1]
		a := rmSend(t, e, "GET", path, "", false)
		want := 200
		if s, ok := readExemptStatus[key]; ok {
			want = s
		}
		if a.status != want {
			t.Errorf("public %s: %s", key, a)
		}
		for _, s := range []string{w.privCanvasName, w.privCanvas.ID, w.privFolderName, w.alice.Email} {
			if bytes.Contains(a.body, []byte(s)) {
				t.Errorf("LEAK: public %s shows %q", key, s)
			}
		}
	}

	// A canvas id that does not exist: 404 to a signed-in user (whose 403
	// for an existing canvas tells only that an id it holds is live: canvas
	// ids are random UUIDs), 401 to the anonymous, exactly as for an
	// existing private canvas, so a caller without a token learns nothing.
	for _, p := range []struct {
		path   string
		bearer bool
	}{{"/api/v1/canvases/" + ghostUUID, false}, {"/api/v1/canvases/" + ghostUUID + "/widgets", false},
		{"/api/canvas/" + ghostUUID + "/images/" + ghostUUID + "/versions", true}} {
		if a := rmSend(t, e, "GET", p.path, w.bob.Token, p.bearer); a.status != 404 {
			t.Errorf("another user, missing canvas %s: %s, want 404", p.path, a)
		}
		missing := rmSend(t, e, "GET", p.path, "", p.bearer)
		private := rmSend(t, e, "GET", strings.Replace(p.path, ghostUUID, w.privCanvas.ID, 1), "", p.bearer)
		if missing.status != 401 || private.status != 401 || !bytes.Equal(missing.body, private.body) {
			t.Errorf("LEAK: no token tells a missing canvas (%s) from a private one (%s)", missing, private)
		}
	}

	unknown := "unknown-token-" + store.RandomToken(8)
	for _, key := range routes {
		method := strings.SplitN(key, " ", 2)[0]
		reader := e.createUser("reader", false)
		rc := fixtures[key](w, reader)
		if rc.reader == "" {
			rc.reader = reader.Token
		}
		if rc.otherWant == 0 {
			rc.otherWant = http.StatusForbidden
		}
		if rc.stream == "ndjson" && strings.HasPrefix(key, "GET /api/canvas/") {
			t.Fatalf("%s: the deal dialect has no ?subscribe", key)
		}
		t.Run(key, func(t *testing.T) {
			for _, sub := range []bool{false, true} {
				if sub && rc.stream != "ndjson" {
					continue
				}
				suffix := ""
				if sub {
					suffix = " ?subscribe"
				}
				// send answers the status (and body, for plain requests).
				send := func(t *testing.T, token string) rmAnswer {
					if rc.stream == "ws" {
						st, code := rmOpen(t, e, rc, token)
						if st != nil {
							return rmAnswer{status: 101}
						}
						return rmAnswer{status: code}
					}
					if sub {
						_, code := rmOpen(t, e, rc, token)
						return rmAnswer{status: code}
					}
					return rmSend(t, e, method, rc.path, token, rc.bearer)
				}
				t.Run("no token"+suffix, func(t *testing.T) {
					t.Parallel()
					a := send(t, "")
					rmCheck(t, leakName(key, t), wantStatus(a, 401))
				})
				t.Run("unknown token"+suffix, func(t *testing.T) {
					t.Parallel()
					a := send(t, unknown)
					rmCheck(t, leakName(key, t), wantStatus(a, 401))
				})
				t.Run("another user"+suffix, func(t *testing.T) {
					t.Parallel()
					a := send(t, rc.other)
					err := wantStatus(a, rc.otherWant)
					for _, h := range rc.otherHides {
						if err == nil && h != "" && bytes.Contains(a.body, []byte(h)) {
							err = fmt.Errorf("LEAK: another user's answer shows %q: %s", h, a)
						}
					}
					if err == nil && rc.ghost != "" && !sub && rc.stream != "ws" {
						// The same answer for an id that does not exist.
						g := rmSend(t, e, method, rc.ghost, rc.other, rc.bearer)
						if g.status != a.status || !bytes.Equal(g.body, a.body) {
							err = fmt.Errorf("LEAK: another user can tell existing from missing: %s answers %s, %s answers %s", rc.path, a, rc.ghost, g)
						}
					}
					rmCheck(t, leakName(key, t), err)
				})
				t.Run("view-only"+suffix, func(t *testing.T) {
					t.Parallel()
					a := send(t, rc.reader)
					var err error
					if a.status != 101 && (a.status < 200 || a.status > 299) {
						err = fmt.Errorf("reader: %s, want 2xx", a)
					}
					rmCheck(t, leakName(key, t), err)
				})
			}
			if rc.stream == "" && method == "GET" && strings.HasPrefix(key, "GET /api/v1/") {
				// A route the table says does not stream must not.
				if a := rmSend(t, e, "GET", rc.path+"?subscribe", rc.reader, rc.bearer); strings.HasPrefix(a.ctype, "application/x-ndjson") {
					t.Errorf("%s?subscribe streams: mark its fixture stream: \"ndjson\"", key)
				}
			}
		})
	}
}

func wantStatus(a rmAnswer, want int) error {
	if a.status != want {
		return fmt.Errorf("got %s, want %d", a, want)
	}
	return nil
}

// TestAuthMatrixReadStreams: every live stream × {view-only reading later
// lines, token revoked mid-stream, user blocked mid-stream}.
func TestAuthMatrixReadStreams(t *testing.T) {
	t.Parallel()
	w := newReadWorld(t)
	e := w.e
	fixtures := readFixtures(t)
	routes := readRoutes(t, w, fixtures)
	var privMu sync.Mutex // privateChange edits alice's shared records: one at a time

	revokers := []struct {
		name   string
		revoke func(u testUser)
	}{
		{"revoked mid-stream", func(u testUser) {
			for _, tk := range e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), e.Admin, nil).expect(e.t, 200).list(e.t) {
				e.doJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", u.ID, tk.id()), e.Admin, nil).expect(e.t, 200)
			}
		}},
		{"blocked mid-stream", func(u testUser) {
			e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), e.Admin, map[string]any{"blocked": true}, 200)
		}},
	}

	n := 0
	for _, key := range routes {
		probe := fixtures[key](w, e.createUser("probe", false))
		if probe.stream == "" {
			continue
		}
		n++
		t.Run(key, func(t *testing.T) {
			t.Run("view-only later lines", func(t *testing.T) {
				t.Parallel()
				reader := e.createUser("reader", false)
				rc := fixtures[key](w, reader)
				st, code := rmOpen(t, e, rc, reader.Token)
				if st == nil {
					t.Fatalf("reader's stream refused: %d", code)
				}
				secret := e.unique("private-secret")
				privMu.Lock()
				w.privateChange(secret)
				privMu.Unlock()
				var err error
				if rc.sentinel != nil {
					err = st.until(rc.sentinel(e.unique("sentinel")), 0, secret)
				} else {
					err = st.until("", 3, secret)
				}
				rmCheck(t, leakName(key, t), err)
			})
			if probe.unshare != nil {
				t.Run("grant removed mid-stream", func(t *testing.T) {
					t.Parallel()
					reader := e.createUser("reader", false)
					rc := fixtures[key](w, reader)
					st, code := rmOpen(t, e, rc, reader.Token)
					if st == nil {
						t.Fatalf("reader's stream refused: %d", code)
					}
					rc.unshare()
					secret := e.unique("after-unshare-secret")
					rc.change(secret)
					var wantClose websocket.StatusCode
					if rc.stream == "ws" {
						wantClose = StatusAccessRevoked
					}
					rmCheck(t, leakName(key, t), st.ended(wantClose, secret))
				})
			}
			for _, rv := range revokers {
				t.Run(rv.name, func(t *testing.T) {
					t.Parallel()
					reader := e.createUser("reader", false)
					rc := fixtures[key](w, reader)
					st, code := rmOpen(t, e, rc, reader.Token)
					if st == nil {
						t.Fatalf("reader's stream refused: %d", code)
					}
					rv.revoke(reader)
					if a := rmSend(t, e, "GET", "/api/v1/canvases", reader.Token, false); a.status != 401 {
						t.Fatalf("after revocation the reader's token answers %s, want 401", a)
					}
					secret := e.unique("after-revoke-secret")
					// Changes the reader would have seen: on the stream's
					// own resource, and a canvas shared with it.
					if rc.change != nil {
						rc.change(secret)
					}
					c := e.createCanvas(w.alice.Token, secret)
					e.share(w.alice.Token, c, reader.ID, "view")
					var wantClose websocket.StatusCode
					if rc.stream == "ws" {
						wantClose = StatusUnauthorized
					}
					rmCheck(t, leakName(key, t), st.ended(wantClose, secret))
				})
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d stream routes: is the table right?", n)
	}
}

// TestAuthMatrixListStreamsNoPrivateNames: the list streams (canvases,
// folders, users, tokens) of a signed-in user never carry another user's
// private names on their later lines: alice makes private changes after
// bob's streams sent their first line.
func TestAuthMatrixListStreamsNoPrivateNames(t *testing.T) {
	t.Parallel()
	w := newReadWorld(t)
	e := w.e
	bob := w.bob
	shared := e.createCanvas(w.alice.Token, "shared")
	e.share(w.alice.Token, shared, bob.ID, "view")
	lists := []string{"/api/v1/canvases", "/api/v1/canvas-folders", "/api/v1/users", fmt.Sprintf("/api/v1/users/%d/access-tokens", bob.ID)}
	streams := make([]*rmStream, len(lists))
	for i, p := range lists {
		st, code := rmOpen(t, e, readCase{path: p, stream: "ndjson"}, bob.Token)
		if st == nil {
			t.Fatalf("%s?subscribe refused: %d", p, code)
		}
		streams[i] = st
	}
	secret := e.unique("alice-secret")
	w.privateChange(secret)
	// A private canvas created, renamed, given a note, then deleted.
	c := e.createCanvas(w.alice.Token, secret+"-one")
	e.mustJSON("PATCH", c.path(""), w.alice.Token, map[string]any{"name": secret + "-two"}, 200)
	e.createNote(w.alice.Token, c, map[string]any{"text": secret})
	e.doJSON("DELETE", c.path(""), w.alice.Token, nil).expect(t, 200)
	// The canvas list must show the sentinel rename of the shared canvas;
	// the other lists show nothing of alice's and keep alive.
	marker := e.unique("sentinel")
	e.mustJSON("PATCH", shared.path(""), w.alice.Token, map[string]any{"name": marker}, 200)
	secrets := []string{secret, c.ID, w.privCanvas.ID}
	for i, p := range lists {
		t.Run(p+"?subscribe", func(t *testing.T) {
			var err error
			if i == 0 {
				err = streams[i].until(marker, 0, secrets...)
			} else {
				err = streams[i].until("", 3, secrets...)
			}
			rmCheck(t, p+" | list stream later lines", err)
		})
	}
}

// TestAuthMatrixReadSSEStreams: the batch-digitize event stream (GET
// …/batch-digitize/:batch/events) of a reader whose token is revoked, or who
// is blocked, while the batch runs ends, and the batch's later events never
// arrive on it. Revoked: the GET uses a second token of the reader's, which
// is deleted while the POST's token keeps the batch running; once the GET
// stream ended, the batch goes on (and the POST stream shows it does).
// Blocked: every stream of the reader ends, the POST's too, which cancels
// the batch; only the notices of that cancellation may race the end.
func TestAuthMatrixReadSSEStreams(t *testing.T) {
	t.Parallel()
	const key = "GET /api/canvas/:id/images/batch-digitize/:batch/events"
	for _, actor := range []string{"revoked mid-stream", "blocked mid-stream"} {
		t.Run(key+"/"+actor, func(t *testing.T) {
			t.Parallel()
			e := newDigitizeEnv(t, 50*time.Millisecond)
			reader := e.createUser("reader", false)
			e.share(e.Admin, e.cv, reader.ID, "edit")
			second := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", reader.ID), reader.Token, map[string]any{"description": "events"}, 200)
			png := testPNG(t, 6, 4)
			a, b := e.image("a.png", png), e.image("b.png", png)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The first element's fetch hangs, so the batch is running.
			post := e.post(ctx, reader.Token, map[string]any{"elements": []any{
				el(a, "text", e.fix.URL+"/hang"), el(b, "text", e.fix.put("/b.png", png))}})
			defer post.Body.Close()
			if post.StatusCode != 200 {
				t.Fatalf("batch-digitize: %d", post.StatusCode)
			}
			ps := newSSEReader(post.Body)
			started, err := ps.next()
			if err != nil || started.Name != "batch.started" {
				t.Fatalf("first event %+v, %v", started, err)
			}
			batch := started.obj(t).str("batch_id")
			<-e.fix.hangArrived
			get := e.events(ctx, second.str("plain_token"), batch, nil, "")
			defer get.Body.Close()
			if get.StatusCode != 200 {
				t.Fatalf("GET events: %d", get.StatusCode)
			}
			gs := newSSEReader(get.Body)
			for ev, err := gs.next(); ev.Name != "element.started"; ev, err = gs.next() {
				if err != nil {
					t.Fatalf("GET events before element.started: %v", err)
				}
			}
			if actor == "revoked mid-stream" {
				e.doJSON("DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", reader.ID, second.id()), e.Admin, nil).expect(t, 200)
			} else {
				e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", reader.ID), e.Admin, map[string]any{"blocked": true}, 200)
			}
			done := make(chan error, 1)
			go func() {
				for {
					ev, err := gs.next()
					if err != nil {
						done <- nil
						return
					}
					if actor == "blocked mid-stream" && strings.Contains(ev.Data, "cancelled") {
						continue // the blocking cancelled the batch: its notice may race the end
					}
					done <- fmt.Errorf("LEAK: the revoked reader's event stream received %s %s", ev.Name, ev.Data)
					return
				}
			}()
			var leak error
			select {
			case leak = <-done:
			case <-time.After(10 * time.Second):
				leak = errors.New("LEAK: the revoked reader's event stream is still open after 10 s")
			}
			// The batch goes on; with the POST's token intact, its stream shows it.
			e.fix.release()
			if actor == "revoked mid-stream" && leak == nil {
				evs := ps.untilEnd(t)
				if last := evs[len(evs)-1].obj(t); last.boolean("cancelled") || last.num("failed")+last.num("succeeded") != 2 {
					t.Fatalf("the batch did not go on after the GET's token was revoked: %s", evs[len(evs)-1].Data)
				}
			}
			rmCheck(t, key+" | "+actor, leak)
		})
	}
}
