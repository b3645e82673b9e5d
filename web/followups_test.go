package web_test

// Issue 16 follow-ups: the canvas list's last-edit time follows content
// edits live, a non-admin invites by e-mail, and following a collaborator
// follows their viewport (not only their cursor). Real Chromium against a
// real server (helpers in e2e_test.go and whiteboard*_test.go).

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestFollowups(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	carol := e.newUser("Carol Diaz", false)

	t.Run("the canvas list orders by the last content edit, live", func(t *testing.T) {
		older := e.newCanvas(alice, "Roadmap", map[uint64]string{bob.ID: "edit"})
		time.Sleep(5 * time.Millisecond) // distinct millisecond timestamps
		newer := e.newCanvas(alice, "Retro", nil)
		l := e.tab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
		first := `(document.querySelector('#canvas-grid .canvas-card') || {dataset: {}}).dataset.id`
		waitJS(t, l, "the newer canvas first", fmt.Sprintf(`%s === %q`, first, newer), 5*time.Second)
		before := evalJS[string](t, l, fmt.Sprintf(`document.querySelector('.canvas-card[data-id=%q] .card-edited').dataset.modified`, older))

		// Bob adds a note to the older canvas: without a reload, Alice's
		// list moves it to the top with its new time.
		e.wbNote(bob.Token, older, "a content edit", 0, 0, 200, 120)
		waitJS(t, l, "the edited canvas moves first", fmt.Sprintf(`%s === %q`, first, older), 5*time.Second)
		var cv struct {
			ModifiedAt string `json:"modified_at"`
			CreatedAt  string `json:"created_at"`
		}
		e.mustAPI(alice.Token, "GET", "/api/v1/canvases/"+older, nil, &cv)
		if cv.ModifiedAt <= cv.CreatedAt {
			t.Fatalf("modified_at %q not after created_at %q after a note was added", cv.ModifiedAt, cv.CreatedAt)
		}
		after := evalJS[string](t, l, fmt.Sprintf(`document.querySelector('.canvas-card[data-id=%q] .card-edited').dataset.modified`, older))
		if after == before {
			t.Fatalf("the card's edit time stayed %q", before)
		}
		// A rename shows too (a CANVAS_UPDATED on the same stream).
		e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+newer, map[string]any{"name": "Retro (Q3)"}, nil)
		waitJS(t, l, "the rename shows", fmt.Sprintf(`(document.querySelector('.canvas-card[data-id=%q] .card-name') || {}).textContent === 'Retro (Q3)'`, newer), 5*time.Second)
		wbShot(t, l, "list-live")
	})

	t.Run("a non-admin invites by e-mail address", func(t *testing.T) {
		cid := e.newCanvas(alice, "Launch plan", nil)
		l := e.tab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
		card := fmt.Sprintf(`.canvas-card[data-id=%q]`, cid)
		run(t, l, "open share", chromedp.WaitVisible(chromedp.CSS(card+` [data-action=share]`)), chromedp.Click(chromedp.CSS(card+` [data-action=share]`)))
		run(t, l, "type an e-mail", chromedp.WaitVisible(chromedp.CSS("#share-invite")), chromedp.Click(chromedp.CSS("#share-invite")))
		// Alice is no admin: GET /users hides Carol's address from her.
		wbType(t, l, strings.ToUpper(carol.Email))
		run(t, l, "invite", chromedp.Click(chromedp.CSS("#share-invite-btn")))
		wbEventually(t, "Carol can edit", func() bool { return e.wbPerms(alice.Token, cid)[carol.ID] == "edit" })
		waitJS(t, l, "Carol is listed by name as an editor", fmt.Sprintf(`(() => { const r = document.querySelector('#share-people .person[data-user="%d"][data-role="edit"]'); return !!r && r.textContent.includes('Carol Diaz'); })()`, carol.ID), 3*time.Second)
		if got := evalJS[string](t, l, `document.querySelector('#share-error').textContent`); got != "" {
			t.Fatalf("an error after a good invite: %q", got)
		}
		if html := evalJS[string](t, l, `document.querySelector('.share').innerHTML`); strings.Contains(html, carol.Email) {
			t.Fatal("the dialog shows Carol's address, which the server hides from non-admins")
		}
		// An unknown address says so, and grants nothing.
		evalJS[bool](t, l, `(document.querySelector('#share-invite').value = '', true)`)
		wbType(t, l, "dave@example.com")
		run(t, l, "invite", chromedp.Click(chromedp.CSS("#share-invite-btn")))
		waitJS(t, l, "no such user", `/No user with the e-mail address/.test(document.querySelector('#share-error').textContent)`, 3*time.Second)
		if n := len(e.wbPerms(alice.Token, cid)); n != 2 {
			t.Fatalf("%d grants after a failed invite, want Alice and Carol", n)
		}
		wbShot(t, l, "invite-email")
		// Carol sees it in her list.
		c := e.tab(e.ts.URL+"/#token="+carol.Token, 1280, 800)
		waitJS(t, c, "Carol's list has the canvas", fmt.Sprintf(`!!document.querySelector('.canvas-card[data-id=%q]')`, cid), 5*time.Second)
	})

	t.Run("following a collaborator follows their viewport, zoom included", func(t *testing.T) {
		cid := e.newCanvas(alice, "Follow me", map[uint64]string{bob.ID: "edit"})
		e.wbNote(alice.Token, cid, "here", 3000, 2000, 240, 160)
		e.wbNote(alice.Token, cid, "start", 0, 0, 200, 120)
		a := e.wbOpen(t, alice.Token, cid)
		b := e.wbOpen(t, bob.Token, cid)
		waitJS(t, b, "Alice's avatar", `!!document.querySelector('#viewers .avatar[data-name="Alice Martin"]')`, 3*time.Second)
		run(t, b, "follow Alice", chromedp.Click(chromedp.CSS(`#viewers .avatar[data-name="Alice Martin"]`)))
		waitJS(t, b, "following", `!document.querySelector('#follow-bar').hidden`, 2*time.Second)

		// Alice zooms out over the far note without moving her mouse: only
		// her viewport says where she looks.
		type rect struct{ X, Y, W, H float64 }
		setView := func(x, y, z float64) rect {
			t.Helper()
			evalJS[bool](t, a, fmt.Sprintf(`(() => { const v = window.__canvasd.view; v.view = {x: %v, y: %v, z: %v}; v.renderView(); return true; })()`, x, y, z))
			return evalJS[rect](t, a, `window.__canvasd.view.visibleWorld()`)
		}
		same := func(want rect) string {
			return fmt.Sprintf(`(() => { const r = window.__canvasd.view.visibleWorld(); const w = %s;
				return Math.abs(r.x - w.X) < 2 && Math.abs(r.y - w.Y) < 2 && Math.abs(r.w - w.W) < 2 && Math.abs(r.h - w.H) < 2; })()`, jsRect(want))
		}
		want := setView(640-3120*0.5, 400-2080*0.5, 0.5)
		waitJS(t, b, "Bob sees what Alice sees (zoom 0.5)", same(want), 3*time.Second)
		if z := evalJS[float64](t, b, `window.__canvasd.view.view.z`); math.Abs(z-0.5) > 0.01 {
			t.Fatalf("Bob's zoom %v, want Alice's 0.5", z)
		}
		want = setView(640-3120*2, 400-2080*2, 2)
		waitJS(t, b, "Bob zooms in with Alice", same(want), 3*time.Second)
		wbShot(t, b, "follow-viewport")
		// Bob pans: following stops, and Alice's next view does not move him.
		wbDrag(t, b, 640, 700, -200, 0, 0)
		waitJS(t, b, "following stopped", `document.querySelector('#follow-bar').hidden`, 2*time.Second)
		mine := evalJS[rect](t, b, `window.__canvasd.view.visibleWorld()`)
		setView(100, 100, 1)
		run(t, b, "let presence arrive", chromedp.Sleep(400*time.Millisecond))
		if now := evalJS[rect](t, b, `window.__canvasd.view.visibleWorld()`); now != mine {
			t.Fatalf("after Bob panned away his view still follows Alice: %+v -> %+v", mine, now)
		}
	})
}

func jsRect(r struct{ X, Y, W, H float64 }) string {
	return fmt.Sprintf(`{X: %v, Y: %v, W: %v, H: %v}`, r.X, r.Y, r.W, r.H)
}
