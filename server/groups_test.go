package server

// Integration tests of the Groups API and group grants in canvas
// permissions (groups.go).

import (
	"fmt"
	"testing"

	"github.com/canvasd/canvasd/store"
)

func TestGroupsCRUDAndMembers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	bob := e.createUser("bob", false)

	gs := e.doJSON("GET", "/api/v1/groups", alice.Token, nil).expect(t, 200).list(t)
	if len(gs) != 1 || gs[0].num("id") != 1 || gs[0].str("name") != "All Users" || gs[0].str("description") != "All users on this server." {
		t.Fatalf("groups of a fresh server: %v", gs)
	}
	e.doJSON("GET", "/api/v1/groups", "", nil).expect(t, 401)

	body := map[string]any{"name": "My group", "description": "Test group"}
	e.doJSON("POST", "/api/v1/groups", "", body).expect(t, 401)
	e.doJSON("POST", "/api/v1/groups", alice.Token, body).expectMsg(t, 403, "admin")
	e.doJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"description": "x"}).expectMsg(t, 400, "name is required")
	e.doJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": 5}).expect(t, 400)
	g := e.mustJSON("POST", "/api/v1/groups", e.Admin, body, 200)
	if g.str("name") != "My group" || g.str("description") != "Test group" || g.num("id") < 1000 {
		t.Fatalf("created: %v", g)
	}
	e.doJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "my GROUP"}).expectMsg(t, 400, "already exists")
	gp := fmt.Sprintf("/api/v1/groups/%d", int(g.num("id")))
	if got := e.mustJSON("GET", gp, bob.Token, nil, 200); got.str("name") != "My group" {
		t.Fatalf("get: %v", got)
	}
	e.doJSON("GET", "/api/v1/groups/999999", bob.Token, nil).expectMsg(t, 404, "Group not found")
	e.doJSON("GET", "/api/v1/groups/abc", bob.Token, nil).expectMsg(t, 404, "Group not found")

	// Members.
	e.doJSON("POST", gp+"/members", alice.Token, map[string]any{"id": bob.ID}).expect(t, 403)
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{}).expectMsg(t, 400, "id is required")
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{"id": "x"}).expect(t, 400)
	e.doJSON("POST", gp+"/members", e.Admin, map[string]any{"id": 999999}).expectMsg(t, 404, "User not found")
	e.doJSON("POST", "/api/v1/groups/999999/members", e.Admin, map[string]any{"id": bob.ID}).expectMsg(t, 404, "Group not found")
	e.mustJSON("POST", gp+"/members", e.Admin, map[string]any{"id": bob.ID}, 200)
	e.mustJSON("POST", gp+"/members", e.Admin, map[string]any{"id": 100}, 200) // the reference's example adds the Guest
	ms := e.doJSON("GET", gp+"/members", alice.Token, nil).expect(t, 200).list(t)
	if len(ms) != 2 || ms[0].num("id") != 100 || ms[1].num("id") != float64(bob.ID) {
		t.Fatalf("members: %v", ms)
	}
	if ms[1].str("email") != "" {
		t.Fatalf("a member list shows another user's email to a non-admin: %v", ms[1])
	}
	all := e.doJSON("GET", "/api/v1/groups/1/members", e.Admin, nil).expect(t, 200).list(t)
	if len(all) < 3 {
		t.Fatalf("All Users members: %v", all)
	}
	e.doJSON("POST", "/api/v1/groups/1/members", e.Admin, map[string]any{"id": bob.ID}).expect(t, 400)

	e.doJSON("DELETE", fmt.Sprintf("%s/members/%d", gp, bob.ID), alice.Token, nil).expect(t, 403)
	e.doJSON("DELETE", fmt.Sprintf("%s/members/%d", gp, alice.ID), e.Admin, nil).expectMsg(t, 404, "not a member")
	e.doJSON("DELETE", gp+"/members/999999", e.Admin, nil).expectMsg(t, 404, "User not found")
	e.mustJSON("DELETE", fmt.Sprintf("%s/members/%d", gp, bob.ID), e.Admin, nil, 200)
	if ms := e.doJSON("GET", gp+"/members", e.Admin, nil).expect(t, 200).list(t); len(ms) != 1 {
		t.Fatalf("after remove: %v", ms)
	}

	e.doJSON("DELETE", gp, alice.Token, nil).expect(t, 403)
	e.doJSON("DELETE", "/api/v1/groups/1", e.Admin, nil).expect(t, 400)
	e.mustJSON("DELETE", gp, e.Admin, nil, 200)
	e.doJSON("GET", gp, e.Admin, nil).expect(t, 404)
	e.doJSON("DELETE", gp, e.Admin, nil).expect(t, 404)
}

func TestGroupsGrantsAreEnforced(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob, carl, ed := e.createUser("alice", false), e.createUser("bob", false), e.createUser("carl", false), e.createUser("ed", false)
	devs := int(e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "devs"}, 200).num("id"))
	viewers := int(e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "viewers"}, 200).num("id"))
	e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", devs), e.Admin, map[string]any{"id": bob.ID}, 200)
	e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", viewers), e.Admin, map[string]any{"id": carl.ID}, 200)

	c := e.createCanvas(alice.Token, "grants")
	perm := c.path("/permissions")
	note := func(token string) *testResp {
		return e.doJSON("POST", c.path("/notes"), token, map[string]any{"text": "n"})
	}
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)

	e.doJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"permission": "edit"}}}).expectMsg(t, 400, "groups[].id")
	e.doJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"id": devs, "permission": "boss"}}}).expectMsg(t, 400, "groups[].permission")
	e.doJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"id": 999999, "permission": "edit"}}}).expectMsg(t, 400, "does not exist")
	e.doJSON("POST", perm, alice.Token, map[string]any{"groups": "devs"}).expect(t, 400)

	p := e.mustJSON("POST", perm, alice.Token, map[string]any{
		"users":  []any{map[string]any{"id": ed.ID, "permission": "edit"}},
		"groups": []any{map[string]any{"id": devs, "permission": "edit"}, map[string]any{"id": viewers, "permission": "view"}}}, 200)
	groups, _ := p["groups"].([]any)
	if len(groups) != 2 || fmt.Sprint(groups[0]) != fmt.Sprintf("map[id:%d inherited:false permission:edit]", devs) {
		t.Fatalf("permissions answer: %v", p)
	}
	if got := e.mustJSON("GET", perm, alice.Token, nil, 200); fmt.Sprint(got["groups"]) != fmt.Sprint(p["groups"]) {
		t.Fatalf("GET permissions: %v", got)
	}

	// A member of a group granted edit can edit; of one granted view, view.
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 200)
	note(bob.Token).expect(t, 200)
	e.doJSON("GET", c.path(""), carl.Token, nil).expect(t, 200)
	note(carl.Token).expect(t, 403)

	// Membership changes take effect at once.
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/groups/%d/members/%d", devs, bob.ID), e.Admin, nil, 200)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)
	e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", devs), e.Admin, map[string]any{"id": carl.ID}, 200)
	note(carl.Token).expect(t, 200)

	// An editor may grant a group view or edit, never owner.
	e.doJSON("POST", perm, ed.Token, map[string]any{"groups": []any{map[string]any{"id": viewers, "permission": "owner"}}}).expectMsg(t, 403, "owner")
	e.mustJSON("POST", perm, ed.Token, map[string]any{"groups": []any{map[string]any{"id": viewers, "permission": "edit"}}}, 200)
	// A group owner grant: only an owner may touch it.
	e.mustJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"id": devs, "permission": "owner"}}}, 200)
	e.doJSON("POST", perm, ed.Token, map[string]any{"groups": []any{map[string]any{"id": devs, "permission": "view"}}}).expectMsg(t, 403, "owner")

	// All Users: every signed-in user, never the anonymous.
	e.mustJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"id": 1, "permission": "view"}}}, 200)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 200)
	e.doJSON("GET", c.path(""), "", nil).expect(t, 401)
	// "none" removes a grant.
	e.mustJSON("POST", perm, alice.Token, map[string]any{"groups": []any{map[string]any{"id": 1, "permission": "none"}}}, 200)
	e.doJSON("GET", c.path(""), bob.Token, nil).expect(t, 403)

	// Deleting a group removes its grants.
	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/groups/%d", devs), e.Admin, nil, 200)
	e.doJSON("GET", c.path(""), carl.Token, nil).expect(t, 200) // still in viewers (edit)
	got := e.mustJSON("GET", perm, alice.Token, nil, 200)
	if fmt.Sprint(got["groups"]) != fmt.Sprintf("[map[id:%d inherited:false permission:edit]]", viewers) {
		t.Fatalf("after deleting a group: %v", got["groups"])
	}
}

// Folder group grants (stored on the folder; there is no folder-permissions
// route yet) give members the granted access, as canvas grants do.
func TestGroupsFolderGrantsAreEnforced(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	fid := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": "team"}, 200).id()
	devs := uint64(e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "devs"}, 200).num("id"))
	err := e.Store.Write(func(tx *store.Tx) error {
		f, err := tx.Folder(fid)
		if err != nil {
			return err
		}
		f.Groups = map[uint64]string{devs: store.AccessEdit}
		return tx.PutFolder(f)
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := func() bool {
		for _, f := range e.doJSON("GET", "/api/v1/canvas-folders", bob.Token, nil).expect(t, 200).list(t) {
			if f.id() == fid {
				return true
			}
		}
		return false
	}
	newCanvas := func() *testResp {
		return e.doJSON("POST", "/api/v1/canvases", bob.Token, map[string]any{"name": e.unique("c"), "folder_id": fid})
	}
	e.doJSON("GET", "/api/v1/canvas-folders/"+fid, bob.Token, nil).expect(t, 403)
	newCanvas().expect(t, 403)
	if listed() {
		t.Fatal("a non-member sees the folder")
	}

	e.mustJSON("POST", fmt.Sprintf("/api/v1/groups/%d/members", devs), e.Admin, map[string]any{"id": bob.ID}, 200)
	if f := e.mustJSON("GET", "/api/v1/canvas-folders/"+fid, bob.Token, nil, 200); f.str("access") != "edit" {
		t.Fatalf("member's folder: %v", f)
	}
	newCanvas().expect(t, 200)
	if !listed() {
		t.Fatal("a member does not see the folder")
	}
	e.doJSON("PATCH", "/api/v1/canvas-folders/"+fid, bob.Token, map[string]any{"name": "x"}).expect(t, 403) // edit is not owner

	e.mustJSON("DELETE", fmt.Sprintf("/api/v1/groups/%d", devs), e.Admin, nil, 200)
	e.doJSON("GET", "/api/v1/canvas-folders/"+fid, bob.Token, nil).expect(t, 403)
}
