package server

import (
	"strings"
	"testing"
)

// TestInviteByEmail: POST /permissions takes users[].email (exact address,
// any case) from anyone allowed to share, answers 404 {"msg"} for an
// unknown address, and tells someone who may not share nothing about
// whether an address exists.
func TestInviteByEmail(t *testing.T) {
	e := newTestEnv(t)
	owner := e.createUser("inviter", false)
	bob := e.createUser("invitee", false)
	viewer := e.createUser("viewer", false)
	cv := e.createCanvas(owner.Token, "invite")
	e.share(owner.Token, cv, viewer.ID, "view")

	// GET /users shows a non-admin no addresses: the e-mail grant is the way.
	for _, u := range e.doJSON("GET", "/api/v1/users", owner.Token, nil).expect(t, 200).list(t) {
		if uint64(u.num("id")) == bob.ID && u.str("email") != "" {
			t.Fatalf("GET /users shows a non-admin another user's e-mail: %v", u)
		}
	}
	mixed := strings.ToUpper(bob.Email[:1]) + bob.Email[1:]
	r := e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"users": []any{map[string]any{"email": " " + strings.ToUpper(mixed) + " ", "permission": "edit"}},
	}).expect(t, 200)
	if strings.Contains(strings.ToLower(string(r.Body)), bob.Email) {
		t.Fatalf("the answer carries the invitee's e-mail: %s", r.Body)
	}
	granted := false
	for _, u := range r.obj(t)["users"].([]any) {
		m := jsonObj(u.(map[string]any))
		if uint64(m.num("id")) == bob.ID && m.str("permission") == "edit" {
			granted = true
		}
	}
	if !granted {
		t.Fatalf("no edit grant for user %d after an e-mail invite: %s", bob.ID, r.Body)
	}
	// The invitee can now edit.
	e.createNote(bob.Token, cv, map[string]any{"text": "I was invited"})

	// Unknown address: 404 with a clear message, nothing changed.
	e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"users": []any{map[string]any{"email": "nobody@example.com", "permission": "view"}},
	}).expectMsg(t, 404, "No user with the e-mail address")
	// Bad shapes: 400.
	e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"users": []any{map[string]any{"id": bob.ID, "email": bob.Email, "permission": "view"}},
	}).expectMsg(t, 400, "not both")
	e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"users": []any{map[string]any{"email": "not-an-address", "permission": "view"}},
	}).expectMsg(t, 400, "e-mail address")
	e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"users": []any{map[string]any{"permission": "view"}},
	}).expect(t, 400)
	// A viewer may not share: 403 alike for a known and an unknown address.
	for _, addr := range []string{bob.Email, "nobody@example.com"} {
		e.doJSON("POST", cv.path("/permissions"), viewer.Token, map[string]any{
			"users": []any{map[string]any{"email": addr, "permission": "view"}},
		}).expect(t, 403)
	}
	// A failed invite in a request changes nothing of the rest of it.
	e.doJSON("POST", cv.path("/permissions"), owner.Token, map[string]any{
		"link_permission": "edit",
		"users":           []any{map[string]any{"email": "ghost@example.com", "permission": "view"}},
	}).expect(t, 404)
	if got := e.doJSON("GET", cv.path("/permissions"), owner.Token, nil).expect(t, 200).obj(t).str("link_permission"); got != "none" {
		t.Fatalf("link_permission %q after a failed request, want none", got)
	}
}
