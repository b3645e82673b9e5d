// Package conformance_test runs every example request of the Canvus
// reference pages (testdata/reference/canvus/**/*.md) and of the seed pages
// (testdata/seeds/*) against a real canvasd over a real loopback port, and
// compares each answer with the documented one: status code, field names
// and JSON types, with ids, times and tokens abstracted (issue #12).
//
// Each example is the subtest TestConformance/<Doc>/<Heading>[/n]. An
// example that cannot pass yet is listed in known_failures.txt with its
// reason; a listed example that passes fails the test until it is removed,
// so the list only shrinks.
//
// Set CONFORMANCE_REPORT=<file> to write one line per example
// (name, PASS/known/FAIL, class, detail), the inventory of issue #12.
package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"

	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

const (
	refDir    = "testdata/reference/canvus"
	seedDir   = "testdata/seeds"
	knownFile = "known_failures.txt"
	adminTok  = "conformance-admin-token-0123456789"
)

func TestConformance(t *testing.T) {
	exs, err := loadExamples(refDir, seedDir)
	if err != nil {
		t.Fatalf("reading the documents: %v", err)
	}
	known, err := loadKnown(knownFile)
	if err != nil {
		t.Fatal(err)
	}
	var report *os.File
	if p := os.Getenv("CONFORMANCE_REPORT"); p != "" {
		if report, err = os.Create(p); err != nil {
			t.Fatal(err)
		}
		defer report.Close()
	}
	names := map[string]bool{}
	var docs []string
	byDoc := map[string][]example{}
	for _, ex := range exs {
		if names[ex.Name()] {
			t.Errorf("two examples named %q", ex.Name())
		}
		names[ex.Name()] = true
		if byDoc[ex.Doc] == nil {
			docs = append(docs, ex.Doc)
		}
		byDoc[ex.Doc] = append(byDoc[ex.Doc], ex)
	}
	for name := range known {
		if !names[name] {
			t.Errorf("%s lists %q, which no document has: remove it", knownFile, name)
		}
	}
	for _, doc := range docs {
		t.Run(doc, func(t *testing.T) {
			f := newFixtures(t, doc)
			for _, ex := range byDoc[doc] {
				sub := strings.TrimPrefix(ex.Name(), doc+"/")
				t.Run(sub, func(t *testing.T) {
					probs, extras := splitExtras(f.run(ex))
					if len(extras) > 0 {
						t.Logf("fields the document does not show: %s", strings.Join(dedupIndex(extras), ", "))
					}
					if len(probs) > 0 && len(f.errs) > 0 {
						probs = append(probs, "fixtures: "+strings.Join(f.errs, "; "))
					}
					reason, listed := known[ex.Name()]
					status := "PASS"
					switch {
					case len(probs) == 0 && listed:
						status = "FIXED"
						t.Errorf("%s (line %d) passes now: remove it from %s", ex.Name(), ex.Line, knownFile)
					case len(probs) > 0 && listed:
						status = "known"
						t.Logf("known failure (%s):\n  %s", reason, strings.Join(probs, "\n  "))
					case len(probs) > 0:
						status = "FAIL"
						t.Errorf("%s (%s line %d): %s %s\n  %s", ex.Name(), ex.Doc, ex.Line, ex.Method, ex.Target, strings.Join(probs, "\n  "))
					}
					if report != nil {
						fmt.Fprintf(report, "%s\t%s\t%s\t%s %s\t%s\t%s\n", ex.Name(), status, classify(probs), ex.Method, ex.Target, strings.Join(probs, " | "), strings.Join(dedupIndex(extras), ","))
					}
				})
			}
		})
	}
}

// loadKnown reads known_failures.txt: "Doc/Heading[/n]: reason" per line;
// blank lines and # comments are skipped.
func loadKnown(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, reason, ok := strings.Cut(l, ": ")
		if !ok || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: want \"Doc/Heading: reason\", got %q", path, i+1, l)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s:%d: %q listed twice", path, i+1, name)
		}
		out[name] = reason
	}
	return out, nil
}

// classify names the kind of a failure for the inventory.
func classify(probs []string) string {
	if len(probs) == 0 {
		return ""
	}
	p := probs[0]
	switch {
	case strings.Contains(p, "no route"):
		return "missing route"
	case strings.HasPrefix(p, "status"):
		return "wrong status"
	case strings.HasPrefix(p, "request:"):
		return "request error"
	}
	return "wrong field"
}

// fixtures is one running server for one document, the objects its
// examples need, and the map from the document's example ids to real ones.
type fixtures struct {
	t      *testing.T
	doc    string
	base   string
	client *http.Client
	st     *store.Store
	ids    map[string]string // doc literal (or "role:literal") -> real value
	admin  string            // admin user id
	errs   []string          // fixtures that could not be made
}

func newFixtures(t *testing.T, doc string) *fixtures {
	t.Helper()
	gin.SetMode(gin.ReleaseMode) // as cmd/canvasd's main does: no route dump
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	m := server.NewMetrics()
	h := server.NewHub(st, 0, server.HubMetrics(m))
	srv := server.New(server.Config{}, st, h, zerolog.Nop(), server.WithMetrics(m))
	srv.Start()
	if _, _, err := server.Bootstrap(st, adminTok); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
		_ = h.Close(ctx)
		_ = st.Close()
	})
	f := &fixtures{t: t, doc: doc, base: ts.URL, st: st, ids: map[string]string{},
		client: &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, p := range []string{"<access token>", "<access_token>", "YOUR_TOKEN", "<token>", "YOUR_API_KEY", "<API_KEY>", "<api-key>"} {
		f.ids[p] = adminTok
	}
	var users []map[string]any
	if err := f.call("GET", "/api/v1/users", nil, &users); err != nil {
		t.Fatalf("list users: %v", err)
	}
	for _, u := range users {
		if u["email"] == server.BootstrapEmail {
			f.admin = fmt.Sprint(u["id"])
		}
	}
	if f.admin == "" {
		t.Fatal("no admin user")
	}
	if setup, ok := docFixtures()[doc]; ok {
		setup(f)
	}
	return f
}

// call is a fixture request as the admin: JSON body, JSON answer into out.
func (f *fixtures) call(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.base+path, rd)
	req.Header.Set("Private-Token", adminTok)
	req.Header.Set("Content-Type", "application/json")
	return f.do(req, out)
}

func (f *fixtures) do(req *http.Request, out any) error {
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// fail records a fixture that could not be made; the examples that need
// it fail and say so.
func (f *fixtures) fail(err error) {
	f.errs = append(f.errs, err.Error())
}

// alias maps doc literals to a real value.
func (f *fixtures) alias(real string, lits ...string) {
	for _, l := range lits {
		f.ids[l] = real
	}
}

func (f *fixtures) canvas(name string, lits ...string) string {
	var out map[string]any
	if err := f.call("POST", "/api/v1/canvases", map[string]any{"name": name}, &out); err != nil {
		f.fail(err)
		return ""
	}
	id := fmt.Sprint(out["id"])
	f.alias(id, lits...)
	return id
}

func (f *fixtures) folder(name, parent string, lits ...string) string {
	var out map[string]any
	if err := f.call("POST", "/api/v1/canvas-folders", map[string]any{"name": name, "folder_id": parent}, &out); err != nil {
		f.fail(err)
		return ""
	}
	id := fmt.Sprint(out["id"])
	f.alias(id, lits...)
	return id
}

// user stores a user directly, with a bcrypt hash at the lowest cost: the
// default cost takes seconds under -race on a loaded machine, and the
// examples that create users through the API pay it anyway.
func (f *fixtures) user(email, name, password string, lits ...string) string {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		f.t.Fatal(err)
	}
	u := &store.User{Email: email, Name: name, Approved: true, PasswordHash: hash}
	if err := f.st.Write(func(tx *store.Tx) error { return tx.CreateUser(u) }); err != nil {
		f.fail(fmt.Errorf("user %s: %w", email, err))
		return ""
	}
	id := strconv.FormatUint(u.ID, 10)
	f.alias(id, lits...)
	return id
}

// token creates an access token for user uid; it maps idLit to its id and
// plainLits to its plain text.
func (f *fixtures) token(uid, desc, idLit string, plainLits ...string) string {
	var out map[string]any
	if err := f.call("POST", "/api/v1/users/"+uid+"/access-tokens", map[string]any{"description": desc}, &out); err != nil {
		f.fail(err)
		return ""
	}
	if idLit != "" {
		f.alias(fmt.Sprint(out["id"]), idLit)
	}
	plain := fmt.Sprint(out["plain_token"])
	f.alias(plain, plainLits...)
	return plain
}

func (f *fixtures) widget(canvas, kind string, body map[string]any, lits ...string) string {
	if canvas == "" {
		return ""
	}
	var out map[string]any
	if err := f.call("POST", "/api/v1/canvases/"+canvas+"/"+kind, body, &out); err != nil {
		f.fail(err)
		return ""
	}
	id := fmt.Sprint(out["id"])
	f.alias(id, lits...)
	return id
}

// upload makes a file widget (images, pdfs, videos) from a test file.
func (f *fixtures) upload(canvas, kind, file string, meta map[string]any, lits ...string) map[string]any {
	if canvas == "" {
		return nil
	}
	data, ctype, err := testFile(file)
	if err != nil {
		f.fail(err)
		return nil
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mj, _ := json.Marshal(meta)
	_ = mw.WriteField("json", string(mj))
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="data"; filename=%q`, file))
	hdr.Set("Content-Type", ctype)
	pw, _ := mw.CreatePart(hdr)
	_, _ = pw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", f.base+"/api/v1/canvases/"+canvas+"/"+kind, &buf)
	req.Header.Set("Private-Token", adminTok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out map[string]any
	if err := f.do(req, &out); err != nil {
		f.fail(err)
		return nil
	}
	f.alias(fmt.Sprint(out["id"]), lits...)
	return out
}

// hashOf waits until the widget's content hash is set (it is computed in
// the background) and returns it.
func (f *fixtures) hashOf(canvas, kind, id string) string {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var out map[string]any
		if err := f.call("GET", "/api/v1/canvases/"+canvas+"/"+kind+"/"+id, nil, &out); err != nil {
			f.fail(err)
			return ""
		}
		if h, _ := out["hash"].(string); h != "" {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.fail(fmt.Errorf("%s %s: no hash after 10 s", kind, id))
	return ""
}

// docFixtures creates, for each document, what its examples act on, and
// maps the document's example ids to the real ones. Ids an example creates
// (a POST's documented "id") are mapped when it runs (see learn).
func docFixtures() map[string]func(f *fixtures) {
	return map[string]func(f *fixtures){
		"Canvases_API": func(f *fixtures) {
			f.alias(f.admin, "1034")
			f.alias("trash."+f.admin, "trash.1034")
			f.canvas("New canvas", "020b063d-0086-49a5-8dd0-965b8e117216")
			// A demo canvas: save and restore answer 400 on a normal one.
			if demo := f.canvas("Demo", "9c21f153-ac8b-4ad3-83c5-60c282ee9359"); demo != "" {
				if err := f.call("PATCH", "/api/v1/canvases/"+demo, map[string]any{"mode": "demo"}, nil); err != nil {
					f.fail(err)
				}
			}
			f.folder("Destination", f.admin, "47c0e2cb-a299-4f3b-ac9a-810cc7c242d3")
		},
		"CanvasFolders_API": func(f *fixtures) {
			f.alias(f.admin, "1000")
			f.alias("trash."+f.admin, "trash.1000")
			f.folder("Alice", f.admin, "b574c9f9-2717-4c95-b6dd-c48d146c28f3")
			f.folder("Bob", f.admin, "7d7ef61a-9def-4de5-96bf-c0193252378d")
		},
		"Notes_API": func(f *fixtures) {
			cv := f.canvas("Notes", "78cfbcc8-aed9-4bbb-95ca-a0b9a5358d5a")
			f.widget(cv, "notes", map[string]any{}, "f77e17a2-3716-46e4-8143-97dde114b20b")
		},
		"Images_API": func(f *fixtures) {
			cv := f.canvas("Images", "c3d319c2-5eed-456d-acbb-8da46e788157")
			f.upload(cv, "images", "dog.jpg", map[string]any{"title": "A dog"}, "40a30897-57ea-4c35-9bf8-64db7fc710e0")
		},
		"Widgets_API": func(f *fixtures) {
			cv := f.canvas("Widgets", "e5cad8d4-7051-4051-97bc-13e41fd81ca7")
			f.widget(cv, "anchors", map[string]any{"anchor_name": "New anchor"}, "5da69125-a5f5-417d-8d8d-a633a0499560")
		},
		"Anchors_API": func(f *fixtures) {
			cv := f.canvas("Anchors", "09348962-32aa-480d-b3d6-cacef4030ac2")
			f.widget(cv, "anchors", map[string]any{"anchor_name": "New anchor"}, "5da69125-a5f5-417d-8d8d-a633a0499560")
		},
		"Connectors_API": func(f *fixtures) {
			cv := f.canvas("Connectors", "canvas_id")
			dst := f.widget(cv, "notes", map[string]any{"text": "dst"}, "9d928b20-2886-4c23-b86f-07d5a444ba72")
			src := f.widget(cv, "notes", map[string]any{"text": "src"}, "fc2f6c60-5831-49b5-bc09-2e553c8cd137")
			f.widget(cv, "connectors", map[string]any{
				"src": map[string]any{"id": src, "rel_location": map[string]any{"x": 1, "y": 1}, "tip": "none", "auto_location": false},
				"dst": map[string]any{"id": dst, "rel_location": map[string]any{"x": 0, "y": 0.5}, "tip": "solid-equilateral-triangle", "auto_location": false},
			}, "53489e7b-ca23-4aec-a544-0c27f40387c8")
		},
		"Browers_API": func(f *fixtures) {
			cv := f.canvas("Browsers", "d098152c-8abf-4ebd-8a33-2fdf3ffe0214")
			f.widget(cv, "browsers", map[string]any{"url": "https://www.google.com/"}, "82796808-84e4-4309-8d76-bd0cee281a22")
		},
		"PDFs_API": func(f *fixtures) {
			cv := f.canvas("PDFs", "a528ddb9-ee56-47f2-a419-0c3a9227996e")
			f.upload(cv, "pdfs", "sample.pdf", map[string]any{"title": "A PDF"}, "d2c53c80-fc5f-4e10-9c8b-28f4a7f06232")
		},
		"Videos_API": func(f *fixtures) {
			cv := f.canvas("Videos", "a8b5ed9e-6e57-41c8-96cb-be4aec4bfd03")
			f.upload(cv, "videos", "SampleVideo_1280x720_1mb.mp4", map[string]any{"title": "A video"}, "105a8486-ac84-49f9-a487-763279a6f658")
		},
		"Users_API": func(f *fixtures) {
			alice := f.user("alice@example.com", "Alice", "AAAA", "1002")
			if alice != "" {
				f.token(alice, "session", "", "z_Ttm-tcFpiadMUR2A_8kQnkOsl6wmcEKplotULC9fk")
			}
		},
		"AccessTokens_API": func(f *fixtures) {
			u := f.user("tokens@example.com", "Token owner", "AAAA", "1001")
			if u != "" {
				f.token(u, "First token", "JDJhJDA0JENKTWJDT0g1QVNYSkFQTXh3NlhNWi5CWjlqT05yR2h0cXJ1d1VQZW9sZWlsWkJneXRXbTRp",
					"W1bns7ZYuN_u7fQTR3i6L0JopiRCGsbNjXRw7Z-yX0E")
			}
		},
		"more/Groups_API": func(f *fixtures) {
			var out map[string]any
			if err := f.call("POST", "/api/v1/groups", map[string]any{"name": "R&D", "description": "Group for developers"}, &out); err != nil {
				f.fail(err)
				return
			}
			f.alias(fmt.Sprint(out["id"]), "1000")
		},
		"more/Annotations_API": func(f *fixtures) {
			cv := f.canvas("Annotations", "123")
			note := f.widget(cv, "notes", map[string]any{"text": "annotated"})
			// One stroke of two Bezier nodes (18 float32, all zero) on the
			// note, so that the annotation objects are compared too.
			f.widget(cv, "widgets", map[string]any{"widget_type": "Annotation", "parent_id": note, "page": 2,
				"line_color": "#FF0000", "points": strings.Repeat("A", 96)})
		},
		"more/CanvasBackgrounds_API": func(f *fixtures) {
			f.canvas("Backgrounds", "<canvas_id>", ":id")
		},
		"more/ColorPresets_API": func(f *fixtures) {
			// The page's example sends no Private-Token: it works on a canvas
			// shared by link for editing.
			if cv := f.canvas("Presets", "cedff5c2-d6ae-4d71-ae13-d9d8b5fb4f6f"); cv != "" {
				if err := f.call("POST", "/api/v1/canvases/"+cv+"/permissions", map[string]any{"link_permission": "edit"}, nil); err != nil {
					f.fail(err)
				}
			}
		},
		"more/Mipmaps_API": func(f *fixtures) {
			// The examples ask for ?page=1: the asset is a multi-page PDF.
			cv := f.canvas("Mipmaps", "123")
			pdf := f.upload(cv, "pdfs", "sample.pdf", map[string]any{"title": "mipmapped"})
			if pdf != nil {
				if h := f.hashOf(cv, "pdfs", fmt.Sprint(pdf["id"])); h != "" {
					f.alias(h, "abcdef123456")
				}
			}
		},
		"more/Uploads_Folder_API": func(f *fixtures) {
			f.canvas("Uploads", "863e7a77-0874-4170-9a0c-7f65d7869c37")
		},
		"seeds/canvus-images": func(f *fixtures) {
			cv := f.canvas("Images", "c3d319c2-5eed-456d-acbb-8da46e788157")
			f.upload(cv, "images", "team-photo.jpg", map[string]any{"title": "Team Photo"}, "40a30897-57ea-4c35-9bf8-64db7fc710e0")
		},
		"seeds/deal-canvas-batch-digitize": func(f *fixtures) {
			cv := f.canvas("Deal", "canvas:example")
			f.upload(cv, "images", "table.png", map[string]any{"title": "page"}, "element_id:example")
		},
		"seeds/deal-canvas-recrop": func(f *fixtures) {
			cv := f.canvas("Deal", "canvas:example")
			f.upload(cv, "images", "table.png", map[string]any{"title": "page"}, "images:example")
		},
	}
}

// lookup maps a doc literal in a role (the path segment before it, or the
// body key it is the value of) to its real value.
func (f *fixtures) lookup(role, lit string) (string, bool) {
	if v, ok := f.ids[role+":"+lit]; ok {
		return v, true
	}
	v, ok := f.ids[lit]
	return v, ok
}

// target maps the ids of a documented path and query, and puts a Canvus
// path under /api/v1 as the main page says every request is.
func (f *fixtures) target(ex example) string {
	p, q, _ := strings.Cut(ex.Target, "?")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		role := ""
		if i > 0 {
			role = segs[i-1]
		}
		if v, ok := f.lookup(role, s); ok {
			segs[i] = v
		}
	}
	p = strings.Join(segs, "/")
	if !ex.Seed && !strings.HasPrefix(p, "/api/") {
		if strings.HasPrefix(p, "/v1/") {
			p = "/api" + p
		} else {
			p = "/api/v1" + p
		}
	}
	if q != "" {
		parts := strings.Split(q, "&")
		for i, kv := range parts {
			k, v, ok := strings.Cut(kv, "=")
			if r, found := f.lookup(k, v); ok && found {
				parts[i] = k + "=" + r
			}
		}
		p += "?" + strings.Join(parts, "&")
	}
	return p
}

// mapBody maps the ids in a JSON body: string values under "id", "token"
// and "*_id" keys, and numbers under "id".
func (f *fixtures) mapBody(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = f.mapBody(e, k)
		}
	case []any:
		for i, e := range x {
			x[i] = f.mapBody(e, key)
		}
	case string:
		if isIDKey(key) {
			if r, ok := f.lookup(key, x); ok {
				return r
			}
		}
	case json.Number:
		if key == "id" {
			if r, ok := f.lookup(key, x.String()); ok {
				return json.Number(r)
			}
		}
	}
	return v
}

func isIDKey(k string) bool { return k == "id" || k == "token" || strings.HasSuffix(k, "_id") }

func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// sentObject is a JSON object a request sends: as documented, and with the
// real ids.
type sentObject struct{ doc, real map[string]any }

// requestBody builds the body and its Content-Type, and returns the JSON
// object sent (for the echo check) when there is one.
func (f *fixtures) requestBody(ex example) ([]byte, string, sentObject, error) {
	if len(ex.Form) > 0 {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		var sent sentObject
		for _, p := range ex.Form {
			if p.File {
				data, ctype, err := testFile(p.Value)
				if err != nil {
					return nil, "", sent, err
				}
				hdr := textproto.MIMEHeader{}
				hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.Value))
				hdr.Set("Content-Type", ctype)
				w, _ := mw.CreatePart(hdr)
				_, _ = w.Write(data)
				continue
			}
			val := p.Value
			if p.Name == "json" {
				if v, err := decodeNumbers([]byte(val)); err == nil {
					doc, _ := decodeNumbers([]byte(val))
					v = f.mapBody(v, "")
					b, _ := json.Marshal(v)
					val = string(b)
					sent.doc, _ = doc.(map[string]any)
					sent.real, _ = v.(map[string]any)
				}
			}
			_ = mw.WriteField(p.Name, val)
		}
		_ = mw.Close()
		return buf.Bytes(), mw.FormDataContentType(), sent, nil
	}
	if ex.Body == nil {
		return nil, "", sentObject{}, nil
	}
	ctype := ""
	if ex.CurlData {
		ctype = "application/x-www-form-urlencoded" // what curl -d sends
	}
	v, err := decodeNumbers(ex.Body)
	if err != nil {
		return ex.Body, ctype, sentObject{}, nil // not JSON: sent as documented
	}
	var sent sentObject
	doc, _ := decodeNumbers(ex.Body)
	sent.doc, _ = doc.(map[string]any)
	v = f.mapBody(v, "")
	b, _ := json.Marshal(v)
	sent.real, _ = v.(map[string]any)
	return b, ctype, sent, nil
}

// run sends one example and returns what differs from the documented answer.
func (f *fixtures) run(ex example) []string {
	body, ctype, sent, err := f.requestBody(ex)
	if err != nil {
		return []string{"request: " + err.Error()}
	}
	target := f.target(ex)
	req, err := http.NewRequest(ex.Method, f.base+target, bytes.NewReader(body))
	if err != nil {
		return []string{"request: " + err.Error()}
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, h := range ex.Headers {
		v := h[1]
		if strings.HasPrefix(v, "Bearer ") {
			if r, ok := f.lookup("", strings.TrimPrefix(v, "Bearer ")); ok {
				v = "Bearer " + r
			}
		} else if r, ok := f.lookup(strings.ToLower(h[0]), v); ok {
			v = r
		}
		req.Header.Set(h[0], v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return []string{"request: " + err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	got := fmt.Sprintf("%d %.200s", resp.StatusCode, bytes.TrimSpace(raw))
	actual, jsonErr := decodeNumbers(raw)

	// An error example: the documented answer is only {"msg": ...}.
	if m, ok := ex.Response.(map[string]any); ok && len(m) == 1 && m["msg"] != nil {
		want := f.abstractMsg(fmt.Sprint(m["msg"]))
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			return []string{fmt.Sprintf("status: want 4xx {\"msg\": %q}, got %s", want, got)}
		}
		am, _ := actual.(map[string]any)
		if gotMsg, _ := am["msg"].(string); !sameMsg(gotMsg, want) {
			if isNoRoute(resp.StatusCode, actual) {
				return []string{fmt.Sprintf("no route: %s %s answers %s", ex.Method, target, got)}
			}
			return []string{fmt.Sprintf("msg: want %q, got %s", want, got)}
		}
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		if isNoRoute(resp.StatusCode, actual) {
			return []string{fmt.Sprintf("no route: %s %s answers %s", ex.Method, target, got)}
		}
		return []string{fmt.Sprintf("status: want 200, got %s", got)}
	}
	if ex.Response == nil {
		return nil // documented without a JSON answer: 200 is all it says
	}
	if jsonErr != nil {
		return []string{fmt.Sprintf("body: want JSON, got %s (%v)", got, jsonErr)}
	}
	var all []string
	compare("", ex.Response, actual, true, &all)
	probs, extras := splitExtras(all)
	// A value the request sets, where the documented answer shows it set,
	// must come back (with the real ids).
	if want, ok := ex.Response.(map[string]any); ok && sent.doc != nil {
		am, _ := actual.(map[string]any)
		for k, dv := range sent.doc {
			if !jsonEqual(want[k], dv) {
				continue
			}
			if v := sent.real[k]; am != nil && !jsonEqual(am[k], v) {
				probs = append(probs, fmt.Sprintf("%s: the request sets %s, the answer has %s", k, jsonString(v), jsonString(am[k])))
			}
		}
	}
	if len(probs) == 0 {
		f.learn(ex.Response, actual)
	}
	for _, e := range extras {
		probs = append(probs, extraField+": "+e)
	}
	return probs
}

// learn maps the ids and tokens a successful example documents to the real
// ones it answered, so that later examples reach what it made.
func (f *fixtures) learn(want, got any) {
	w, ok1 := want.(map[string]any)
	g, ok2 := got.(map[string]any)
	if !ok1 || !ok2 {
		return
	}
	for _, k := range []string{"id", "token", "plain_token"} {
		wv, gv := w[k], g[k]
		if wv == nil || gv == nil {
			continue
		}
		lit := fmt.Sprint(wv)
		if _, known := f.ids[lit]; !known {
			f.ids[lit] = fmt.Sprint(gv)
		}
	}
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// abstractMsg puts the real ids into a documented message.
func (f *fixtures) abstractMsg(m string) string {
	return uuidRe.ReplaceAllStringFunc(m, func(id string) string {
		if r, ok := f.ids[id]; ok {
			return r
		}
		return id
	})
}

func sameMsg(a, b string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }
	return norm(a) == norm(b)
}

// isNoRoute recognises the router's own 404 (no handler for the path).
func isNoRoute(code int, body any) bool {
	m, _ := body.(map[string]any)
	return code == http.StatusNotFound && m != nil && m["msg"] == "Not found"
}

// extraField marks a field the answer has and the document does not show:
// reported in the inventory, not a failure (clients ignore fields they do
// not know).
const extraField = "extra field"

// splitExtras separates the extra-field notes from the problems.
func splitExtras(all []string) (probs, extras []string) {
	for _, p := range all {
		if strings.HasPrefix(p, extraField) {
			extras = append(extras, strings.TrimPrefix(p, extraField+": "))
		} else {
			probs = append(probs, p)
		}
	}
	return probs, extras
}

var timeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$`)

// compare checks that got has every field of want with the same JSON type,
// recursively. Arrays: every element of got is compared with the first
// documented element; a top-level list must not be empty when the document
// shows elements (the fixtures make them). Strings that are times must be
// times (or empty) in got; other values are not compared.
func compare(path string, want, got any, top bool, probs *[]string) {
	name := path
	if name == "" {
		name = "(body)"
	}
	if want == nil {
		return
	}
	if typeOf(want) != typeOf(got) {
		if got == nil && path != "" {
			*probs = append(*probs, fmt.Sprintf("%s: missing (want %s)", name, typeOf(want)))
		} else {
			*probs = append(*probs, fmt.Sprintf("%s: want %s, got %s %s", name, typeOf(want), typeOf(got), jsonString(got)))
		}
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			compare(join(path, k), w[k], g[k], false, probs)
		}
		for k := range g {
			if _, documented := w[k]; !documented {
				*probs = append(*probs, fmt.Sprintf("%s: %s", extraField, join(path, k)))
			}
		}
	case []any:
		g := got.([]any)
		if len(w) == 0 {
			return
		}
		if len(g) == 0 {
			if top {
				*probs = append(*probs, fmt.Sprintf("%s: empty list, the document shows %d element(s)", name, len(w)))
			}
			return
		}
		// A list of widgets holds several types: each element is compared
		// with the documented element of its widget_type, and elements of
		// types the document does not show are not compared.
		byType := map[string]any{}
		for _, e := range w {
			if m, ok := e.(map[string]any); ok {
				if wt, ok := m["widget_type"].(string); ok {
					byType[wt] = e
				}
			}
		}
		matched := 0
		for i, e := range g {
			tmpl := w[0]
			if len(byType) > 0 {
				m, _ := e.(map[string]any)
				wt, _ := m["widget_type"].(string)
				if tmpl = byType[wt]; tmpl == nil {
					continue
				}
			}
			matched++
			compare(fmt.Sprintf("%s[%d]", path, i), tmpl, e, false, probs)
		}
		if matched == 0 && top {
			*probs = append(*probs, fmt.Sprintf("%s: no element of a documented widget_type", name))
		}
	case string:
		if timeRe.MatchString(w) {
			if s := got.(string); s != "" && !timeRe.MatchString(s) {
				*probs = append(*probs, fmt.Sprintf("%s: want a time, got %q", name, s))
			}
		}
	}
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// dedupIndex folds list positions ([0], [1], ...) into [] and removes
// repeats.
func dedupIndex(fields []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		f = indexRe.ReplaceAllString(f, "[]")
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func jsonEqual(a, b any) bool {
	na, oka := a.(json.Number)
	nb, okb := b.(json.Number)
	if oka && okb {
		fa, _ := strconv.ParseFloat(na.String(), 64)
		fb, _ := strconv.ParseFloat(nb.String(), 64)
		return fa == fb
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return a != nil && bytes.Equal(ja, jb)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}
