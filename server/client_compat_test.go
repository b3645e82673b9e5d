package server

// Requests that community Canvus client libraries send, replayed byte for
// byte over a real port (issue #12: "any program written against the Canvus
// documents runs against canvasd without a change"). Each test names the
// client shape it reproduces; the clients themselves are not part of this
// repository. What such a client sends that is merely unexpected (another
// name for a field, a number spelled as a string, an empty enum from a
// struct without omitempty) is accepted; what is wrong still answers 400.

import (
	"bytes"
	"fmt"
	"testing"
)

// A Python client adds a member with {"user_id": "<id as a string>"}, with
// aiohttp's Accept header; the reference's form is {"id": 100}.
func TestClientCompatGroupMemberUserIDString(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	carol := e.createUser("carol", false)
	g := e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "py group", "description": "d"}, 200)
	gp := fmt.Sprintf("/api/v1/groups/%d", int(g.num("id")))

	body := fmt.Sprintf(`{"user_id": "%d"}`, carol.ID)
	e.do("POST", gp+"/members", e.Admin, bytes.NewReader([]byte(body)), "application/json",
		withHeader("Accept", "application/json")).expect(t, 200)
	ms := e.doJSON("GET", gp+"/members", e.Admin, nil).expect(t, 200).list(t)
	if len(ms) != 1 || ms[0].num("id") != float64(carol.ID) {
		t.Fatalf("members after {user_id: %q}: %v", fmt.Sprint(carol.ID), ms)
	}
	// The audit entry records the number, not the string.
	ev := e.doJSON("GET", "/api/v1/audit-log?target_type=group&per_page=1", e.Admin, nil).expect(t, 200).list(t)
	if len(ev) != 1 || ev[0].str("action") != "group.member_added" || ev[0].obj("details").num("user_id") != float64(carol.ID) {
		t.Fatalf("audit of the add: %v", ev)
	}

	// The reference's numeric id and a numeric string under "id" work too.
	e.mustJSON("DELETE", fmt.Sprintf("%s/members/%d", gp, carol.ID), e.Admin, nil, 200)
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{"id": fmt.Sprint(carol.ID)}).expect(t, 200)
	e.mustJSON("DELETE", fmt.Sprintf("%s/members/%d", gp, carol.ID), e.Admin, nil, 200)
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{"id": carol.ID}).expect(t, 200)

	// Still strict about what is not a user id.
	for _, bad := range []string{`{"user_id": "12x"}`, `{"user_id": ""}`, `{"user_id": "-5"}`, `{"user_id": true}`,
		`{"id": 1.5}`, `{"id": -1}`, `{"id": 0}`, `{"id": "x"}`, `{"user_id": " 7"}`} {
		r := e.do("POST", gp+"/members", e.Admin, bytes.NewReader([]byte(bad)), "application/json")
		r.expect(t, 400)
		if m := r.Msg(); m == "" {
			t.Fatalf("%s: 400 without a message", bad)
		}
	}
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{}).expectMsg(t, 400, "id is required")
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{"user_id": 999999}).expectMsg(t, 404, "User not found")
	if ms := e.doJSON("GET", gp+"/members", e.Admin, nil).expect(t, 200).list(t); len(ms) != 1 {
		t.Fatalf("a refused add changed the members: %v", ms)
	}
}

// A Python client uploads a background image as aiohttp FormData with the
// file under the part name "image" (the reference names it "data").
func TestClientCompatBackgroundImagePart(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "bg")
	png := testPNG(t, 12, 9)

	got := e.upload(c.path("/background"), alice.Token,
		testPart{Name: "image", Filename: "bg.png", ContentType: "image/png", Data: png}).expect(t, 200).obj(t)
	hash := got.obj("image").str("hash")
	if got.str("type") != "image" || hash == "" {
		t.Fatalf("background from an 'image' part: %v", got)
	}
	if bg := e.doJSON("GET", c.path("/background"), alice.Token, nil).expect(t, 200).obj(t); bg.obj("image").str("hash") != hash {
		t.Fatalf("GET background after the upload: %v", bg)
	}

	// "data" wins when both parts are sent.
	png2 := testPNG(t, 20, 10)
	both := e.upload(c.path("/background"), alice.Token,
		testPart{Name: "image", Filename: "a.png", Data: png},
		testPart{Name: "data", Filename: "b.png", Data: png2}).expect(t, 200).obj(t)
	if h := both.obj("image").str("hash"); h == "" || h == hash {
		t.Fatalf("with both parts the 'data' part should be stored (hash %q, the 'image' part's %q)", h, hash)
	}

	// Not an image under either name is still refused, and nothing changes.
	e.upload(c.path("/background"), alice.Token, testPart{Name: "image", Filename: "x.txt", Data: []byte("not an image at all")}).expect(t, 400)
	e.upload(c.path("/background"), alice.Token, testPart{Name: "json", Data: []byte(`{"type":"image"}`)}).expectMsg(t, 400, "Missing 'data' part")
	if bg := e.doJSON("GET", c.path("/background"), alice.Token, nil).expect(t, 200).obj(t); bg.obj("image").str("hash") != both.obj("image").str("hash") {
		t.Fatalf("a refused upload changed the background: %v", bg)
	}
}

// A Go client's UpdateCanvasRequest has fields without json tags or
// omitempty, so a rename sends {"Name":"...","Mode":""}.
func TestClientCompatPatchCanvasEmptyMode(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "old name")
	e.mustJSON("PATCH", c.path(""), alice.Token, map[string]any{"mode": "demo"}, 200)

	r := e.do("PATCH", c.path(""), alice.Token, bytes.NewReader([]byte(`{"Name":"Renamed","Mode":""}`)), "application/json").expect(t, 200).obj(t)
	if r.str("name") != "Renamed" || r.str("mode") != "demo" {
		t.Fatalf(`after {"Name":"Renamed","Mode":""}: %v (want the new name, mode unchanged)`, r)
	}
	if got := e.doJSON("GET", c.path(""), alice.Token, nil).expect(t, 200).obj(t); got.str("name") != "Renamed" || got.str("mode") != "demo" {
		t.Fatalf("stored: %v", got)
	}

	// A mode that is given is still checked, and a refused patch stores nothing.
	e.doJSON("PATCH", c.path(""), alice.Token, map[string]any{"name": "Other", "mode": "bogus"}).expectMsg(t, 400, "mode must be")
	e.doJSON("PATCH", c.path(""), alice.Token, map[string]any{"mode": 3}).expect(t, 400)
	if got := e.doJSON("GET", c.path(""), alice.Token, nil).expect(t, 200).obj(t); got.str("name") != "Renamed" {
		t.Fatalf("a refused patch renamed the canvas: %v", got)
	}
}
