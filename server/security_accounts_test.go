package server

// Issue 13, accounts: who may change a canvas's sharing (defect 7), credits
// and rates that belong to the user (9b), email squatting (10), sign-in
// throttling and the timing oracle (11), what non-admins see of other users,
// and passwords bcrypt cannot take. Every test goes over a real port.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
)

// permsOf reads a canvas's sharing as its owner sees it.
func (e *testEnv) permsOf(owner string, c testCanvas) (grants map[uint64]string, link string, editorsCanShare bool) {
	e.t.Helper()
	p := e.mustJSON("GET", c.path("/permissions"), owner, nil, 200)
	grants = map[uint64]string{}
	for _, u := range p["users"].([]any) {
		m := jsonObj(u.(map[string]any))
		grants[uint64(m.num("id"))] = m.str("permission")
	}
	return grants, p.str("link_permission"), p.boolean("editors_can_share")
}

func grant(id uint64, perm string) map[string]any {
	return map[string]any{"users": []any{map[string]any{"id": id, "permission": perm}}}
}

func TestSecurity07_EditorsCannotEvictOwners(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false) // the canvas's owner
	carol := e.createUser("carol", false) // a named co-owner
	ed := e.createUser("ed", false)       // a named editor
	vera := e.createUser("vera", false)   // a named viewer (edit only through the link)
	lin := e.createUser("lin", false)     // no grant: edit only through the link
	bob := e.createUser("bob", false)     // someone to share with

	// fresh: alice's canvas, carol owner, ed edit, vera view, link edit.
	fresh := func() testCanvas {
		c := e.createCanvas(alice.Token, "evict")
		e.mustJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"link_permission": "edit", "users": []any{
			map[string]any{"id": carol.ID, "permission": "owner"},
			map[string]any{"id": ed.ID, "permission": "edit"},
			map[string]any{"id": vera.ID, "permission": "view"},
		}}, 200)
		return c
	}
	// unchanged checks the sharing fresh() set up is intact.
	unchanged := func(t *testing.T, c testCanvas) {
		t.Helper()
		g, link, ecs := e.permsOf(alice.Token, c)
		want := map[uint64]string{alice.ID: "owner", carol.ID: "owner", ed.ID: "edit", vera.ID: "view"}
		if len(g) != len(want) || link != "edit" || !ecs {
			t.Fatalf("sharing changed: grants %v link %q editors_can_share %v", g, link, ecs)
		}
		for id, p := range want {
			if g[id] != p {
				t.Fatalf("sharing changed: grants %v, want %v", g, want)
			}
		}
	}
	denied := []struct {
		name  string
		actor string
		body  any
	}{
		{"editor removes a co-owner", ed.Token, grant(carol.ID, "none")},
		{"editor lowers a co-owner", ed.Token, grant(carol.ID, "view")},
		{"editor removes the owner", ed.Token, grant(alice.ID, "none")},
		{"editor turns editors_can_share off", ed.Token, map[string]any{"editors_can_share": false}},
		{"editor turns the link off", ed.Token, map[string]any{"link_permission": "none"}},
		{"editor lowers the link", ed.Token, map[string]any{"link_permission": "view"}},
		{"editor grants themselves owner", ed.Token, grant(ed.ID, "owner")},
		{"editor grants someone owner", ed.Token, grant(bob.ID, "owner")},
		{"link editor writes down their edit right", lin.Token, grant(lin.ID, "edit")},
		{"link editor grants someone", lin.Token, grant(bob.ID, "view")},
		{"link editor removes a co-owner", lin.Token, grant(carol.ID, "none")},
		{"link editor turns the link off", lin.Token, map[string]any{"link_permission": "none"}},
		{"named viewer on a link-edit canvas raises themselves", vera.Token, grant(vera.ID, "edit")},
		{"named viewer on a link-edit canvas removes the editor", vera.Token, grant(ed.ID, "none")},
		{"guest removes a co-owner", "", grant(carol.ID, "none")},
		{"guest turns editors_can_share off", "", map[string]any{"editors_can_share": false}},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			c := fresh()
			r := e.doJSON("POST", c.path("/permissions"), d.actor, d.body)
			r.expect(t, http.StatusForbidden)
			if m, err := r.msg(); err != nil || m == "" {
				t.Fatalf("403 without a {\"msg\"}: %s", r)
			}
			unchanged(t, c)
		})
	}

	t.Run("editor shares at or below edit while editors_can_share is on", func(t *testing.T) {
		c := fresh()
		e.mustJSON("POST", c.path("/permissions"), ed.Token, grant(bob.ID, "view"), 200)
		e.mustJSON("POST", c.path("/permissions"), ed.Token, grant(bob.ID, "edit"), 200)
		e.mustJSON("POST", c.path("/permissions"), ed.Token, grant(bob.ID, "none"), 200)
		// Posting back what GET gave (owners included, unchanged) is no change.
		p := e.mustJSON("GET", c.path("/permissions"), ed.Token, nil, 200)
		e.mustJSON("POST", c.path("/permissions"), ed.Token, map[string]any(p), 200)
		unchanged(t, c)
		// Once the owner turns sharing off, the editor may not share at all.
		e.mustJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"editors_can_share": false}, 200)
		e.doJSON("POST", c.path("/permissions"), ed.Token, grant(bob.ID, "view")).expectMsg(t, 403, "editors_can_share")
	})
	t.Run("owners change owners, the link and editors_can_share", func(t *testing.T) {
		c := fresh()
		e.mustJSON("POST", c.path("/permissions"), carol.Token, map[string]any{"editors_can_share": false, "link_permission": "none"}, 200)
		e.mustJSON("POST", c.path("/permissions"), carol.Token, grant(bob.ID, "owner"), 200)
		e.mustJSON("POST", c.path("/permissions"), alice.Token, grant(carol.ID, "none"), 200)
		g, link, ecs := e.permsOf(alice.Token, c)
		if g[carol.ID] != "" || g[bob.ID] != "owner" || g[alice.ID] != "owner" || link != "none" || ecs {
			t.Fatalf("owner changes: grants %v link %q editors_can_share %v", g, link, ecs)
		}
		// The canvas's owner stays owner whoever asks.
		e.mustJSON("POST", c.path("/permissions"), bob.Token, grant(alice.ID, "none"), 200)
		if g, _, _ := e.permsOf(alice.Token, c); g[alice.ID] != "owner" {
			t.Fatalf("owner removed: %v", g)
		}
	})
	t.Run("a link right is never written down", func(t *testing.T) {
		c := fresh()
		e.doJSON("POST", c.path("/permissions"), lin.Token, grant(lin.ID, "edit")).expect(t, 403)
		e.mustJSON("POST", c.path("/permissions"), alice.Token, map[string]any{"link_permission": "none"}, 200)
		// With the link off, lin has nothing left.
		e.doJSON("GET", c.path(""), lin.Token, nil).expect(t, 403)
		e.doJSON("POST", c.path("/notes"), lin.Token, map[string]any{"text": "x"}).expect(t, 403)
	})
}

// FuzzPermissionsBody: arbitrary JSON to POST /canvases/:id/permissions as a
// named editor. Never a 5xx or a panic, and after each call the owners are
// still owners, no one holds a grant above edit that was not an owner, and
// the link and editors_can_share are as the owner set them.
func FuzzPermissionsBody(f *testing.F) {
	e := newFuzzEnv(f)
	var owner, coOwner, editor, other uint64
	var edTok string
	err := e.st.Write(func(tx *store.Tx) (err error) {
		ids := make([]uint64, 3)
		for i, n := range []string{"co", "ed", "other"} {
			u := &store.User{Email: n + "@fuzz.example", Name: n, Approved: true}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		coOwner, editor, other = ids[0], ids[1], ids[2]
		edTok, _, err = tx.CreateToken(editor, "fuzz", "", 0)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	reset := func(tb testing.TB) {
		err := e.st.Write(func(tx *store.Tx) error {
			cv, err := tx.Canvas(e.canvas)
			if err != nil {
				return err
			}
			owner = cv.OwnerID
			cv.Users = map[uint64]string{coOwner: store.AccessOwner, editor: store.AccessEdit}
			cv.EditorsCanShare, cv.LinkPermission = true, store.AccessEdit
			return tx.PutCanvas(cv)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	reset(f)
	for _, s := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"users":null}`, `{"users":{}}`, `{"users":[null]}`,
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"none"}]}`, coOwner),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"none"}]}`, owner),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"owner"}]}`, editor),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"owner"}]}`, other),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"edit"},{"id":%d,"permission":"view"}]}`, other, coOwner),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"edit"},{"id":%d,"permission":"none"}]}`, other, other),
		fmt.Sprintf(`{"users":[{"id":%d,"permission":"view"}]}`, editor),
		`{"users":[{"id":-1,"permission":"view"}]}`, `{"users":[{"id":1e30,"permission":"view"}]}`,
		`{"users":[{"id":"1000","permission":"view"}]}`, `{"users":[{"permission":"view"}]}`,
		`{"editors_can_share":false}`, `{"editors_can_share":true}`, `{"editors_can_share":"no"}`,
		`{"link_permission":"none"}`, `{"link_permission":"edit"}`, `{"link_permission":"owner"}`,
		`{"groups":[{"id":1,"permission":"owner"}]}`, `{"a":1}{"b":2}`, `{"users":[` + strings.Repeat(`{"id":100,"permission":"view"},`, 50) + `{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reset(t)
		req := httptest.NewRequest("POST", "/api/v1/canvases/"+e.canvas+"/permissions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Private-Token", edTok)
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s -> %d %s", body, rec.Code, rec.Body)
		}
		if rec.Code != 200 {
			var m map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &m) != nil || m["msg"] == nil {
				t.Fatalf("%s -> %d without {\"msg\"}: %s", body, rec.Code, rec.Body)
			}
		}
		var cv *store.Canvas
		if err := e.st.View(func(tx *store.Tx) (err error) { cv, err = tx.Canvas(e.canvas); return }); err != nil {
			t.Fatal(err)
		}
		if cv.OwnerID != owner || cv.Users[coOwner] != store.AccessOwner {
			t.Fatalf("%s -> %d: an owner lost ownership: owner %d, grants %v", body, rec.Code, cv.OwnerID, cv.Users)
		}
		for id, p := range cv.Users {
			if p == store.AccessOwner && id != coOwner && id != owner {
				t.Fatalf("%s -> %d: the editor made %d an owner", body, rec.Code, id)
			}
			if !store.ValidAccess(p) || p == store.AccessNone {
				t.Fatalf("%s -> %d: stored grant %q for %d", body, rec.Code, p, id)
			}
		}
		if !cv.EditorsCanShare || cv.LinkPermission != store.AccessEdit {
			t.Fatalf("%s -> %d: the editor changed owner-only settings: editors_can_share %v, link %q", body, rec.Code, cv.EditorsCanShare, cv.LinkPermission)
		}
	})
}

func TestSecurity09_CreditsAndRatesBelongToUser(t *testing.T) {
	clk := &frozenClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := newClockedEnv(t, clk.Now, withConfig(func(c *Config) {
		c.UncropRatePerMinute = 4
		c.ExpensivePerMinute = 3
	}))
	src := testPNG(t, 64, 48)
	newToken := func(u testUser) string {
		return e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), u.Token, map[string]any{"description": "another"}, 200).str("plain_token")
	}
	login := func(u testUser) string {
		return e.mustJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": u.Password}, 200).str("token")
	}

	// Credits: exhaust them with one token; a new token and a login have none.
	u := e.createUserPW("credits", false, "credits-pw")
	first := e.doJSON("GET", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), u.Token, nil).expect(t, 200).list(t)[0].id()
	e.setCredits(first, 1)
	expectUncropped(t, e.uncropReq(u.Token, src, "extend_right", "2"), "0")
	expectClipdropError(t, e.uncropReq(u.Token, src, "extend_right", "2"), 402, "credits")
	expectClipdropError(t, e.uncropReq(newToken(u), src, "extend_right", "2"), 402, "credits")
	expectClipdropError(t, e.uncropReq(login(u), src, "extend_right", "2"), 402, "credits")
	// A token cap narrows; it never widens.
	clk.Advance(time.Minute) // a fresh rate budget for what follows
	e.mustJSON("PUT", "/admin/tokens/"+first+"/credits", e.Admin, map[string]any{"credits": 5, "token_cap": 1}, 200)
	expectUncropped(t, e.uncropReq(u.Token, src, "extend_right", "2"), "0")
	expectClipdropError(t, e.uncropReq(u.Token, src, "extend_right", "2"), 402, "credits")
	other := newToken(u)
	expectUncropped(t, e.uncropReq(other, src, "extend_right", "2"), "3") // the user had 5, the capped token spent 1
	e.mustJSON("PUT", "/admin/tokens/"+first+"/credits", e.Admin, map[string]any{"token_cap": 100}, 200)
	if got := e.credits(first); got != 3 {
		t.Fatalf("credits with a cap above the user's = %d, want the user's 3", got)
	}

	// The Clipdrop rate: exhaust it with one token.
	r := e.createUserPW("rate", false, "rate-pw")
	for i := 0; i < 4; i++ {
		expectUncropped(t, e.uncropReq(r.Token, src, "extend_right", "2"), "unlimited")
	}
	expectClipdropError(t, e.uncropReq(r.Token, src, "extend_right", "2"), 429, "too many")
	expectClipdropError(t, e.uncropReq(newToken(r), src, "extend_right", "2"), 429, "too many")
	expectClipdropError(t, e.uncropReq(login(r), src, "extend_right", "2"), 429, "too many")

	// The rate of expensive routes (here canvas uncrop), likewise.
	x := e.createUserPW("expensive", false, "expensive-pw")
	c := e.createCanvas(x.Token, "expensive")
	img := e.mustImage(x.Token, c, "x.png", src).id()
	path := c.path("/images/" + img + "/uncrop")
	for i := 0; i < 3; i++ {
		e.doJSON("POST", path, x.Token, map[string]any{"extend_right": 99999}).expect(t, 400)
	}
	e.doJSON("POST", path, x.Token, map[string]any{"extend_right": 2}).expect(t, 429)
	e.doJSON("POST", path, newToken(x), map[string]any{"extend_right": 2}).expect(t, 429)
	e.doJSON("POST", path, login(x), map[string]any{"extend_right": 2}).expect(t, 429)
	// Other users keep their own budget.
	expectUncropped(t, e.uncropReq(e.createUser("bystander", false).Token, src, "extend_right", "2"), "unlimited")
}

func TestSecurity10_EmailSquatting(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	sq := e.createUserPW("squatter", false, "squatter-pw")
	me := fmt.Sprintf("/api/v1/users/%d", sq.ID)
	// The squatter sets " x@example.com" (stored in its normal form) and then
	// moves on; x@example.com must be free again.
	if got := e.mustJSON("PATCH", me, sq.Token, map[string]any{"email": " X@Example.com "}, 200).str("email"); got != "x@example.com" {
		t.Fatalf("stored email %q, want x@example.com", got)
	}
	e.mustJSON("PATCH", me, sq.Token, map[string]any{"email": "elsewhere@example.com"}, 200)
	x := e.mustJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "x@example.com", "name": "X", "password": "x-password"}, 200)
	got := e.mustJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "x@example.com", "password": "x-password"}, 200)
	if id := uint64(got.obj("user").num("id")); id != uint64(x.num("id")) || id == sq.ID {
		t.Fatalf("x@example.com signs in as %d, want %v", id, x["id"])
	}
	e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "x@example.com", "password": sq.Password}).expect(t, 401)
	// The squatter's current email works, in any case and spacing.
	e.mustJSON("POST", "/api/v1/users/login", "", map[string]any{"email": " ELSEWHERE@example.com", "password": sq.Password}, 200)
	// Taken is taken, however it is spelt; odd forms are refused.
	e.doJSON("PATCH", me, sq.Token, map[string]any{"email": " X@EXAMPLE.COM"}).expectMsg(t, 400, "already exists")
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "x@example.com\t", "name": "dup"}).expectMsg(t, 400, "already exists")
	for _, bad := range []string{"X <x2@example.com>", "<x2@example.com>", "x2@example.com (me)", "x2", "", "   ", "a@b@c"} {
		e.doJSON("PATCH", me, sq.Token, map[string]any{"email": bad}).expect(t, 400)
		e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": bad, "name": "bad"}).expect(t, 400)
	}
	if got := e.mustJSON("GET", me, sq.Token, nil, 200).str("email"); got != "elsewhere@example.com" {
		t.Fatalf("email after refusals %q", got)
	}
	// Deleting a user frees their email.
	e.mustJSON("DELETE", me, e.Admin, nil, 200)
	e.mustJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "elsewhere@example.com", "name": "E"}, 200)
}

func TestSecurity11_LoginThrottled(t *testing.T) {
	clk := &frozenClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := newClockedEnv(t, clk.Now, withConfig(func(c *Config) {
		c.LoginFailuresPerAccount = 3
		c.LoginFailuresPerIP = 10
		c.LoginMaxBackoff = 4 * time.Second
	}))
	alice := e.createUserPW("alice", false, "alice-pw")
	try := func(email, pw string) *testResp {
		return e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": email, "password": pw})
	}
	retry := func(r *testResp) time.Duration {
		t.Helper()
		r.expectMsg(t, 429, "Too many")
		s, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || s < 1 || s > 4 {
			t.Fatalf("Retry-After %q, want 1..4 (the cap)", r.Header.Get("Retry-After"))
		}
		return time.Duration(s) * time.Second
	}

	// Per account: 3 free failures, then 429 even with the right password.
	for i := 0; i < 3; i++ {
		try(alice.Email, "wrong").expect(t, 401)
	}
	d := retry(try(alice.Email, "wrong"))
	retry(try(alice.Email, alice.Password))
	retry(try(strings.ToUpper(alice.Email), alice.Password)) // the same account however spelt
	clk.Advance(d)
	try(alice.Email, alice.Password).expect(t, 200) // success clears the account's count
	for i := 0; i < 3; i++ {
		try(alice.Email, "wrong").expect(t, 401)
	}
	retry(try(alice.Email, "wrong"))

	// Unknown emails are throttled alike (no oracle), and per address: 6
	// failures so far; 4 more are free, the next is refused.
	for i := 0; i < 4; i++ {
		try(fmt.Sprintf("nobody%d@example.com", i), "wrong").expect(t, 401)
	}
	retry(try("fresh@example.com", "whatever"))

	// The delay doubles but never passes the cap: nobody is locked out for good.
	var waits []time.Duration
	for i := 0; i < 8; i++ {
		r := try(alice.Email, "wrong")
		if r.Status == 429 {
			w := retry(r)
			waits = append(waits, w)
			clk.Advance(w)
			continue
		}
		r.expect(t, 401)
	}
	if fmt.Sprint(waits) != "[1s 2s 4s 4s]" {
		t.Fatalf("waits %v: want delays doubling up to the 4 s cap", waits)
	}
	clk.Advance(4 * time.Second)
	try(alice.Email, alice.Password).expect(t, 200)
}

func TestSecurity11_NoTimingOracle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	known := e.createUserPW("known", false, "known-pw")
	nopw := e.createUser("nopw", false)
	for _, c := range []struct{ what, email string }{
		{"known email, wrong password", known.Email},
		{"unknown email", "nobody@example.com"},
		{"user without a password", nopw.Email},
	} {
		before := e.Srv.PwCompares.Load()
		e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": c.email, "password": "wrong"}).expect(t, 401)
		if n := e.Srv.PwCompares.Load() - before; n != 1 {
			t.Fatalf("%s: %d bcrypt comparisons, want 1 (a dummy one when there is no hash)", c.what, n)
		}
	}
	// The dummy hash costs what a stored one costs.
	if c, err := strconv.Atoi(strings.Split(core.DummyPasswordHash, "$")[2]); err != nil || c != 10 {
		t.Fatalf("dummy hash cost %v, want bcrypt.DefaultCost", c)
	}
}

func TestSecurityNote_NonAdminsSeeNoEmails(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice, bob := e.createUser("alice", false), e.createUser("bob", false)
	for _, u := range e.doJSON("GET", "/api/v1/users", alice.Token, nil).expect(t, 200).list(t) {
		if uint64(u.num("id")) == alice.ID {
			if u.str("email") != alice.Email {
				t.Fatalf("own record without email: %v", u)
			}
			continue
		}
		if _, ok := u["email"]; ok || u.str("name") == "" {
			t.Fatalf("alice sees %v", u)
		}
	}
	got := e.mustJSON("GET", fmt.Sprintf("/api/v1/users/%d", bob.ID), alice.Token, nil, 200)
	if _, ok := got["email"]; ok || got.str("name") != bob.Name {
		t.Fatalf("alice sees bob as %v", got)
	}
	if got := e.mustJSON("GET", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, nil, 200); got.str("email") != bob.Email {
		t.Fatalf("admin sees bob as %v", got)
	}
	n := 0
	for _, u := range e.doJSON("GET", "/api/v1/users", e.Admin, nil).expect(t, 200).list(t) {
		if strings.Contains(u.str("email"), "@") {
			n++
		}
	}
	if n < 3 {
		t.Fatalf("admin sees %d emails", n)
	}
}

func TestSecurityNote_LongPasswordRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	u := e.createUserPW("long", false, "short-pw")
	long := strings.Repeat("p", 73)
	e.doJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), e.Admin, map[string]any{"password": long}).expectMsg(t, 400, "72 bytes")
	e.mustJSON("POST", "/api/v1/users/login", "", map[string]any{"email": u.Email, "password": "short-pw"}, 200)
	e.doJSON("POST", "/api/v1/users", e.Admin, map[string]any{"email": "long2@example.com", "name": "l", "password": long}).expectMsg(t, 400, "72 bytes")
	e.doJSON("GET", "/api/v1/users", e.Admin, nil).expect(t, 200)
}
