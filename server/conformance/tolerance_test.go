package conformance_test

// Issue #12, "Tolerance: what real clients send": forgiving about what is
// merely unexpected, strict about what is wrong. Each test runs against a
// real server over a real port (newFixtures with no document).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// raw sends body (a JSON text, or "" for none) with token (or none) and
// returns the status and the decoded JSON object of the answer.
func (f *fixtures) raw(method, path, token, body string) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Private-Token", token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, m
}

// TestToleranceLoginUsername: POST /users/login takes "username" as another
// name for "email", as community Canvus clients send it; a wrong password
// still fails, and a body with neither name still says what is missing.
func TestToleranceLoginUsername(t *testing.T) {
	f := newFixtures(t, "")
	if f.user("carol@example.com", "Carol", "correct horse") == "" {
		t.Fatalf("fixtures: %v", f.errs)
	}
	code, m := f.raw("POST", "/api/v1/users/login", "", `{"username": "carol@example.com", "password": "correct horse"}`)
	if code != 200 {
		t.Fatalf("login with username: %d %v", code, m)
	}
	tok, _ := m["token"].(string)
	user, _ := m["user"].(map[string]any)
	if tok == "" || user == nil || user["email"] != "carol@example.com" {
		t.Fatalf("login with username: want a token and Carol, got %v", m)
	}
	if code, m := f.raw("GET", "/api/v1/users", tok, ""); code != 200 {
		t.Fatalf("the token of a username login does not work: %d %v", code, m)
	}
	if code, m := f.raw("POST", "/api/v1/users/login", "", `{"username": "carol@example.com", "password": "wrong"}`); code != 401 {
		t.Errorf("wrong password with username: want 401, got %d %v", code, m)
	}
	if code, m := f.raw("POST", "/api/v1/users/login", "", `{"password": "correct horse"}`); code != 400 || !strings.Contains(fmt.Sprint(m["msg"]), "email") {
		t.Errorf("no email nor username: want 400 naming email, got %d %v", code, m)
	}
	if code, m := f.raw("POST", "/api/v1/users/login", "", `{"username": 5, "password": "correct horse"}`); code != 400 {
		t.Errorf("username of the wrong type: want 400, got %d %v", code, m)
	}
}

// TestToleranceUnknownWidgetFields: a widget body field the reference does
// not list for the type (an Anchor "title", a Connector "label", a Note
// "foo") is ignored: 200, not stored, not echoed.
func TestToleranceUnknownWidgetFields(t *testing.T) {
	f := newFixtures(t, "")
	cv := f.canvas("tolerance")
	if cv == "" {
		t.Fatalf("fixtures: %v", f.errs)
	}
	base := "/api/v1/canvases/" + cv
	code, a := f.raw("POST", base+"/anchors", adminTok, `{"anchor_name": "Region", "title": "ignored"}`)
	if code != 200 {
		t.Fatalf("anchor with title: want 200, got %d %v", code, a)
	}
	if _, echoed := a["title"]; echoed || a["anchor_name"] != "Region" {
		t.Errorf("anchor: want anchor_name Region and no title, got %v", a)
	}
	aid := fmt.Sprint(a["id"])
	_, n1 := f.raw("POST", base+"/notes", adminTok, `{"text": "one"}`)
	_, n2 := f.raw("POST", base+"/notes", adminTok, `{"text": "two"}`)
	code, c := f.raw("POST", base+"/connectors", adminTok, fmt.Sprintf(
		`{"src": {"id": %q, "rel_location": {"x": 1, "y": 1}}, "dst": {"id": %q, "rel_location": {"x": 0, "y": 0.5}}, "label": "ignored", "line_width": 3}`,
		n1["id"], n2["id"]))
	if code != 200 {
		t.Fatalf("connector with label: want 200, got %d %v", code, c)
	}
	if _, echoed := c["label"]; echoed || fmt.Sprint(c["line_width"]) != "3" {
		t.Errorf("connector: want line_width 3 and no label, got %v", c)
	}
	nid := fmt.Sprint(n1["id"])
	code, n := f.raw("PATCH", base+"/notes/"+nid, adminTok, `{"text": "patched", "foo": {"bar": 1}}`)
	if code != 200 || n["text"] != "patched" {
		t.Fatalf("note patch with foo: want 200 and text patched, got %d %v", code, n)
	}
	// Stored nowhere: the reads do not have them either.
	for _, p := range []string{"/anchors/" + aid, "/connectors/" + fmt.Sprint(c["id"]), "/notes/" + nid} {
		code, w := f.raw("GET", base+p, adminTok, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %v", p, code, w)
		}
		for _, k := range []string{"title", "label", "foo"} {
			if _, ok := w[k]; ok && !(k == "title" && strings.HasPrefix(p, "/notes")) {
				t.Errorf("GET %s: the ignored field %q was stored: %v", p, k, w)
			}
		}
	}
}

// TestToleranceParentIDRoot: "parent_id": "" or null means the canvas's
// root widget, on create and on patch.
func TestToleranceParentIDRoot(t *testing.T) {
	f := newFixtures(t, "")
	cv := f.canvas("parents")
	if cv == "" {
		t.Fatalf("fixtures: %v", f.errs)
	}
	base := "/api/v1/canvases/" + cv
	code, plain := f.raw("POST", base+"/notes", adminTok, `{"text": "default parent"}`)
	if code != 200 {
		t.Fatalf("note: %d %v", code, plain)
	}
	root := fmt.Sprint(plain["parent_id"])
	_, anchor := f.raw("POST", base+"/anchors", adminTok, `{}`)
	for _, body := range []string{`{"text": "a", "parent_id": ""}`, `{"text": "b", "parent_id": null}`} {
		code, n := f.raw("POST", base+"/notes", adminTok, body)
		if code != 200 || n["parent_id"] != root {
			t.Errorf("POST %s: want 200 with parent_id %s (the root), got %d %v", body, root, code, n)
		}
	}
	nid := fmt.Sprint(plain["id"])
	if code, n := f.raw("PATCH", base+"/notes/"+nid, adminTok, fmt.Sprintf(`{"parent_id": %q}`, anchor["id"])); code != 200 || n["parent_id"] != anchor["id"] {
		t.Fatalf("reparent under the anchor: %d %v", code, n)
	}
	for _, body := range []string{`{"parent_id": ""}`, `{"parent_id": null}`} {
		if code, n := f.raw("PATCH", base+"/notes/"+nid, adminTok, body); code != 200 || n["parent_id"] != root {
			t.Errorf("PATCH %s: want 200 with parent_id %s (the root), got %d %v", body, root, code, n)
		}
		f.raw("PATCH", base+"/notes/"+nid, adminTok, fmt.Sprintf(`{"parent_id": %q}`, anchor["id"]))
	}
	// Still strict: a parent that is not a widget of the canvas.
	if code, m := f.raw("POST", base+"/notes", adminTok, `{"parent_id": "no-such-widget"}`); code != 400 {
		t.Errorf("unknown parent: want 400, got %d %v", code, m)
	}
}

// TestToleranceStillStrict: wrong types and impossible values still answer
// 400 with a message naming the field, and store nothing.
func TestToleranceStillStrict(t *testing.T) {
	f := newFixtures(t, "")
	cv := f.canvas("strict")
	if cv == "" {
		t.Fatalf("fixtures: %v", f.errs)
	}
	base := "/api/v1/canvases/" + cv
	for _, c := range []struct{ path, body, want string }{
		{"/notes", `{"size": {"width": -5, "height": 10}}`, "ize"},
		{"/notes", `{"size": {"width": 0, "height": 10}}`, "ize"},
		{"/notes", `{"text": 5}`, "text"},
		{"/notes", `{"location": {"x": "NaN", "y": 0}}`, "location"},
		{"/notes", `{"scale": NaN}`, "JSON"},
		{"/notes", `{"scale": 1e999}`, "scale"},
		{"/notes", `{"scale": -1}`, "scale"},
		{"/notes", `{"pinned": "yes"}`, "pinned"},
		{"/notes", `{"parent_id": 7}`, "parent_id"},
		{"/notes", `{"widget_type": "Banana"}`, "widget_type"},
		{"/anchors", `{"widget_type": 5}`, "widget_type"},
		{"/notes", `{"background_color": "red"}`, "background_color"},
	} {
		code, m := f.raw("POST", base+c.path, adminTok, c.body)
		msg := fmt.Sprint(m["msg"])
		if code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("POST %s %s: want 400 naming %q, got %d %v", c.path, c.body, c.want, code, m)
		}
	}
	// Nothing was stored: the canvas has its root widget only.
	var ws []map[string]any
	if err := f.call("GET", base+"/widgets", nil, &ws); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w["widget_type"] == "Note" || w["widget_type"] == "Anchor" {
			t.Errorf("a refused request stored %v", w)
		}
	}
	// A known widget_type, as clients echo a widget back, is read-only and
	// ignored (server/api_test.go: "Read-only fields echoed back").
	if code, m := f.raw("POST", base+"/notes", adminTok, `{"widget_type": "Note", "text": "echo"}`); code != 200 {
		t.Errorf("widget_type Note on /notes: want 200, got %d %v", code, m)
	}
}

// TestToleranceJobStatusAndFilter: the crop.photo status request with both
// job_id and job_labels (the seed's example) is an AND filter: 200, with
// empty lists when nothing matches, and the job when both match.
func TestToleranceJobStatusAndFilter(t *testing.T) {
	f := newFixtures(t, "")
	status := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", f.base+"/v1/banners/with-mask/status", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminTok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	jobs := func(m map[string]any) []any { l, _ := m["jobs"].([]any); return l }

	// The seed's request, verbatim: no job has id "string".
	code, m := status(`{"job_id": "string", "job_labels": ["car-model-lot-1"], "start": 0, "limit": 20}`)
	if code != 200 {
		t.Fatalf("seed example: want 200, got %d %v", code, m)
	}
	if l, ok := m["jobs"].([]any); !ok || len(l) != 0 {
		t.Errorf("seed example: want jobs [], got %v", m)
	}
	if l, ok := m["results"].([]any); !ok || len(l) != 0 {
		t.Errorf("seed example: want results [], got %v", m)
	}

	id := submitBannerJob(t, f, "lot-a")
	code, m = status(fmt.Sprintf(`{"job_id": %q, "job_labels": ["lot-a"]}`, id))
	if code != 200 || len(jobs(m)) != 1 {
		t.Fatalf("job_id and its label: want the job, got %d %v", code, m)
	}
	if j, _ := jobs(m)[0].(map[string]any); j["job_id"] != id {
		t.Errorf("job_id and its label: want job %s, got %v", id, j)
	}
	code, m = status(fmt.Sprintf(`{"job_id": %q, "job_labels": ["lot-b"]}`, id))
	if code != 200 || len(jobs(m)) != 0 {
		t.Errorf("job_id with another label: want 200 and no job, got %d %v", code, m)
	}
	// Each filter alone is as before.
	if code, m = status(fmt.Sprintf(`{"job_id": %q}`, id)); code != 200 || len(jobs(m)) != 1 {
		t.Errorf("job_id alone: %d %v", code, m)
	}
	if code, m = status(`{"job_labels": ["lot-a"]}`); code != 200 || len(jobs(m)) != 1 {
		t.Errorf("job_labels alone: %d %v", code, m)
	}
	// Still strict about wrong types.
	if code, m = status(`{"job_id": 5, "job_labels": ["lot-a"]}`); code != 400 {
		t.Errorf("job_id of the wrong type: want 400, got %d %v", code, m)
	}
}

// submitBannerJob creates a banner job (one product photo and its mask)
// labelled label, and returns its id.
func submitBannerJob(t *testing.T, f *fixtures, label string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	mask := image.NewGray(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			img.Set(x, y, color.RGBA{240, 240, 240, 255})
			if x >= 60 && x < 140 && y >= 20 && y < 80 {
				img.Set(x, y, color.RGBA{200, 30, 30, 255})
				mask.SetGray(x, y, color.Gray{255})
			}
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, im := range map[string]image.Image{"input_files": img, "mask_files": mask} {
		w, _ := mw.CreateFormFile(name, name+".png")
		if err := png.Encode(w, im); err != nil {
			t.Fatal(err)
		}
	}
	_ = mw.WriteField("output_dimensions", "120x60")
	_ = mw.WriteField("job_labels", fmt.Sprintf(`[%q]`, label))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", f.base+"/v1/banners/with-mask", &buf)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out map[string]any
	if err := f.do(req, &out); err != nil {
		t.Fatalf("banner job: %v", err)
	}
	id, _ := out["job_id"].(string)
	if id == "" {
		t.Fatalf("banner job: no job_id in %v", out)
	}
	return id
}
