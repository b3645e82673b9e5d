package web_test

// Issue 16, the third whiteboard slice: group resize, undo of a re-crop,
// offline edits through the If-Match conflict path, the minimap and
// following a collaborator, and sharing (people, roles, invite, token
// links). Each runs in real Chromium against a real server (helpers in
// whiteboard_test.go, whiteboard2_test.go and e2e_test.go).

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// wb3HoldPatches holds the page's PATCH requests (everything else goes
// through) until release is called, which lets them all through in order.
func wb3HoldPatches(t *testing.T, ctx context.Context) (held func() int, release func()) {
	t.Helper()
	var mu sync.Mutex
	var ids []fetch.RequestID
	released := false
	probes := 0 // probe requests the handler has seen
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	// Listen (not Events): it sees every event from the moment it returns.
	paused := make(chan *fetch.EventRequestPaused, 256)
	if err := chromedp.Listen(lctx, func(ev any) {
		if p, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- p
		}
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() {
		for {
			var ev *fetch.EventRequestPaused
			select {
			case ev = <-paused:
			case <-lctx.Done():
				return
			}
			mu.Lock()
			hold := ev.Request.Method == "PATCH" && !released
			if hold {
				ids = append(ids, ev.RequestID)
			}
			if strings.Contains(ev.Request.URL, "interception-probe") {
				probes++
			}
			mu.Unlock()
			if !hold {
				chromedp.Call(lctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/*"}}}); err != nil {
		t.Fatalf("fetch.enable: %v", err)
	}
	// Fetch.enable answers before the network stack applies it: a probe
	// request that reaches the handler shows that interception is on.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch('/api/v1/server-info?interception-probe=' + Math.random()).then(() => true, () => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("probe: %v", err)
		}
		mu.Lock()
		n := probes
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("request interception did not start")
		}
	}
	held = func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }
	release = func() {
		mu.Lock()
		released = true
		todo := ids
		ids = nil
		mu.Unlock()
		for _, id := range todo {
			if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
				t.Fatalf("release: %v", err)
			}
		}
		if _, err := chromedp.Call(ctx, fetch.Disable, struct{}{}); err != nil {
			t.Fatalf("fetch.disable: %v", err)
		}
	}
	return held, release
}

type wbVersions struct {
	CurrentVersion int `json:"current_version"`
	Versions       []struct {
		Version       int
		Width, Height int
		BBox          *struct{ X, Y, Width, Height float64 }
	}
}

func (e *env) wbVersions(token, cid, id string) wbVersions {
	var vs wbVersions
	e.mustAPI(token, "GET", "/api/canvas/"+cid+"/images/"+id+"/versions", nil, &vs)
	return vs
}

func sameBox(a, b *struct{ X, Y, Width, Height float64 }) bool {
	if a == nil || b == nil {
		return false
	}
	const eps = 1e-4
	return math.Abs(a.X-b.X) < eps && math.Abs(a.Y-b.Y) < eps && math.Abs(a.Width-b.Width) < eps && math.Abs(a.Height-b.Height) < eps
}

// wbPerms is a canvas's named grants, user id -> role.
func (e *env) wbPerms(token, cid string) map[uint64]string {
	var p struct {
		Users []struct {
			ID         uint64
			Permission string
		}
	}
	e.mustAPI(token, "GET", "/api/v1/canvases/"+cid+"/permissions", nil, &p)
	out := map[uint64]string{}
	for _, u := range p.Users {
		out[u.ID] = u.Permission
	}
	return out
}

// wb3Readme saves a screenshot for a person to look at and, under -update,
// as docs/screenshots/<name>.png for the README.
func wb3Readme(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	wbShot(t, ctx, "readme-"+name)
	if len(buf) > 200<<10 {
		t.Errorf("%s.png is %d KB, over 200 KB", name, len(buf)>>10)
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWhiteboard3(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	carol := e.newUser("Carol Diaz", false)

	t.Run("group resize scales a multi-selection about the fixed corner, as one undo step", func(t *testing.T) {
		cid := e.newCanvas(alice, "Group resize", nil)
		n1 := e.wbNote(alice.Token, cid, "one", 0, 0, 200, 150)
		n2 := e.wbNote(alice.Token, cid, "two", 300, 0, 200, 150)
		n3 := e.wbNote(alice.Token, cid, "three", 0, 250, 200, 100)
		a := e.wbOpen(t, alice.Token, cid)
		wbKey(t, a, "a", chromedp.ModifierCtrl)
		waitJS(t, a, "one box around the selection", `(() => { const g = document.querySelector('#group-box'); return !!g && g.querySelectorAll('.handle').length === 4; })()`, 2*time.Second)
		wbShot(t, a, "group-selected")
		// The group spans (0,0)-(500,350); dragging its south-east corner by
		// (250, 175) scales it by 1.5 about the north-west corner.
		hx, hy := center(t, a, "#group-box .h-se")
		wbDrag(t, a, hx, hy, 250, 175, 0)
		want := map[string][4]float64{
			n1: {0, 0, 300, 225},
			n2: {450, 0, 300, 225},
			n3: {0, 375, 300, 150},
		}
		near := func(a, b [4]float64) bool {
			for i := range a {
				if math.Abs(a[i]-b[i]) > 0.6 {
					return false
				}
			}
			return true
		}
		wbEventually(t, "every note scaled by 1.5", func() bool {
			ws := e.wbWidgets(alice.Token, cid)
			for id, r := range want {
				if !near(wbRect(ws[id]), r) {
					return false
				}
			}
			return true
		})
		wbShot(t, a, "group-resized")
		if got := evalJS[[]string](t, a, `window.__canvasd.history.undo`); len(got) == 0 || got[len(got)-1] != "Resize 3 items" {
			t.Fatalf("undo history = %v, want one step 'Resize 3 items' last", got)
		}
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		orig := map[string][4]float64{n1: {0, 0, 200, 150}, n2: {300, 0, 200, 150}, n3: {0, 250, 200, 100}}
		wbEventually(t, "one undo restores the three", func() bool {
			ws := e.wbWidgets(alice.Token, cid)
			for id, r := range orig {
				if !near(wbRect(ws[id]), r) {
					return false
				}
			}
			return true
		})
	})

	t.Run("a note whose text does not fit offers Fit text: it grows to show all of it, one undo step", func(t *testing.T) {
		cid := e.newCanvas(alice, "Long note", nil)
		id := e.wbNote(alice.Token, cid, strings.Repeat("Minutes of the planning meeting, item by item. ", 30), 0, 0, 300, 120)
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		waitJS(t, a, "the note shows that it overflows", fmt.Sprintf(`document.querySelector(%q).classList.contains('overflowing')`, sel), 2*time.Second)
		x, y := center(t, a, sel)
		run(t, a, "select the note", chromedp.MouseClickXY(x, y))
		run(t, a, "fit text", chromedp.WaitVisible(chromedp.CSS("#fb-fit")), chromedp.Click(chromedp.CSS("#fb-fit")))
		var h float64
		wbEventually(t, "the note grew", func() bool { h = wbNum(e.wbWidgets(alice.Token, cid)[id], "size", "height"); return h > 300 })
		waitJS(t, a, "all of the text shows", fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !el.classList.contains('overflowing') && el.scrollHeight <= el.clientHeight + 2 && !document.querySelector('#fb-fit'); })()`, sel), 2*time.Second)
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo restores the height", func() bool { return wbNum(e.wbWidgets(alice.Token, cid)[id], "size", "height") == 120 })
	})

	t.Run("an older event does not undo a change still on its way: a note just locked stays locked", func(t *testing.T) {
		cid := e.newCanvas(alice, "In flight", map[uint64]string{bob.ID: "edit"})
		id := e.wbNote(alice.Token, cid, "keep me here", 0, 0, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		x, y := center(t, a, sel)
		run(t, a, "select the note", chromedp.MouseClickXY(x, y))
		held, release := wb3HoldPatches(t, a)
		wbKey(t, a, "l")
		wbWait(t, "the lock's PATCH on its way", 5*time.Second, func() bool { return held() == 1 })
		waitJS(t, a, "shown locked at once", fmt.Sprintf(`document.querySelector(%q).classList.contains('locked')`, sel), time.Second)
		// Bob's colour change was made before the lock reaches the server: its event says unlocked.
		e.mustAPI(bob.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+id, map[string]any{"background_color": "#cfe8ff"}, nil)
		waitJS(t, a, "Bob's colour shows", fmt.Sprintf(`window.__canvasd.view.widgets.get(%q).background_color === '#cfe8ff'`, id), 3*time.Second)
		if !evalJS[bool](t, a, fmt.Sprintf(`document.querySelector(%q).classList.contains('locked') && window.__canvasd.view.widgets.get(%q).pinned === true`, sel, id)) {
			t.Fatal("Bob's older event showed the note unlocked while Alice's lock was on its way")
		}
		// A drag now is a drag of a locked note: it stays.
		wbDrag(t, a, x, y, 0, 200, 0)
		release()
		wbEventually(t, "locked on the server", func() bool { return e.wbWidgets(alice.Token, cid)[id]["pinned"] == true })
		run(t, a, "settle", chromedp.Sleep(300*time.Millisecond))
		if w := e.wbWidgets(alice.Token, cid)[id]; wbNum(w, "location", "y") != 0 || w["background_color"] != "#cfe8ff" {
			t.Fatalf("after the lock: %v", w)
		}
		waitJS(t, a, "locked, in Bob's colour", fmt.Sprintf(`(() => { const w = window.__canvasd.view.widgets.get(%q); return w.pinned === true && w.background_color === '#cfe8ff' && document.querySelector(%q).classList.contains('locked'); })()`, id, sel), 3*time.Second)
	})

	t.Run("undo of a re-crop goes back to the previous version's box; redo re-applies; a newer version blocks it", func(t *testing.T) {
		cid := e.newCanvas(alice, "Re-crop undo", nil)
		img := e.uploadImage(alice.Token, cid, "hills.png", photoPNG(400, 300), map[string]any{"title": "Hills", "location": map[string]any{"x": 0, "y": 0}})
		id := img["id"].(string)
		size0 := wbRect(e.wbWidgets(alice.Token, cid)[id])
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-image[data-id=%q]`, id)
		x, y := center(t, a, sel)
		run(t, a, "select the image", chromedp.MouseClickXY(x, y))
		run(t, a, "open re-crop", chromedp.WaitVisible(chromedp.CSS("#fb-recrop")), chromedp.Click(chromedp.CSS("#fb-recrop")))
		waitJS(t, a, "source loaded", `(() => { const i = document.querySelector('.recrop-img'); return !!(i && i.complete && i.naturalWidth); })()`, 10*time.Second)
		hx, hy := center(t, a, ".rh-se")
		drag(t, a, hx, hy, -150, -40)
		run(t, a, "apply", chromedp.Click(chromedp.CSS("#recrop-apply")))
		wbEventually(t, "version 1", func() bool { return len(e.wbVersions(alice.Token, cid, id).Versions) == 2 })
		waitJS(t, a, "the client shows version 1", fmt.Sprintf(`document.querySelector(%q).dataset.version === '1'`, sel), 3*time.Second)
		v := e.wbVersions(alice.Token, cid, id)
		if sameBox(v.Versions[1].BBox, v.Versions[0].BBox) {
			t.Fatalf("the re-crop did not change the box: %+v", v.Versions[1].BBox)
		}

		// Undo: a new version with the previous version's box and pixels' size.
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbEventually(t, "undo made version 2 with version 0's box", func() bool {
			v = e.wbVersions(alice.Token, cid, id)
			return len(v.Versions) == 3 && sameBox(v.Versions[2].BBox, v.Versions[0].BBox)
		})
		if v.Versions[2].Width != v.Versions[0].Width || v.Versions[2].Height != v.Versions[0].Height || v.CurrentVersion != 2 {
			t.Fatalf("after undo: current %d, %dx%d; want version 0's %dx%d", v.CurrentVersion, v.Versions[2].Width, v.Versions[2].Height, v.Versions[0].Width, v.Versions[0].Height)
		}
		if r := wbRect(e.wbWidgets(alice.Token, cid)[id]); math.Abs(r[2]-size0[2]) > 0.5 || math.Abs(r[3]-size0[3]) > 0.5 {
			t.Fatalf("after undo the image is %vx%v, want its first size %vx%v", r[2], r[3], size0[2], size0[3])
		}
		waitJS(t, a, "the client shows version 2", fmt.Sprintf(`document.querySelector(%q).dataset.version === '2'`, sel), 3*time.Second)

		// Redo: version 1's box again.
		wbKey(t, a, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
		wbEventually(t, "redo made version 3 with version 1's box", func() bool {
			v = e.wbVersions(alice.Token, cid, id)
			return len(v.Versions) == 4 && sameBox(v.Versions[3].BBox, v.Versions[1].BBox) && v.Versions[3].Width == v.Versions[1].Width
		})

		// Another client makes a newer version: undo must not revert it.
		e.mustAPI(alice.Token, "POST", "/api/canvas/"+cid+"/images/"+id+"/recrop", map[string]any{
			"user_bbox": map[string]any{"x": 0.1, "y": 0.1, "width": 0.5, "height": 0.5}, "bbox_mode": "freeform"}, nil)
		waitJS(t, a, "the client shows version 4", fmt.Sprintf(`document.querySelector(%q).dataset.version === '4'`, sel), 3*time.Second)
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		waitJS(t, a, "undo says it was skipped", `[...document.querySelectorAll('.toast')].some(t => /Undo skipped/.test(t.textContent))`, 3*time.Second)
		if n := len(e.wbVersions(alice.Token, cid, id).Versions); n != 5 {
			t.Fatalf("the skipped undo made a version: %d versions, want 5", n)
		}
	})

	t.Run("an edit queued offline carries If-Match: on reconnect a conflicting save asks, nothing is overwritten", func(t *testing.T) {
		cid := e.newCanvas(alice, "Offline conflict", map[uint64]string{bob.ID: "edit"})
		id := e.wbNote(alice.Token, cid, "Plan", 0, 0, 300, 220)
		text := func() string { return fmt.Sprint(e.wbWidgets(alice.Token, cid)[id]["text"]) }
		a := e.wbOpen(t, alice.Token, cid)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)
		x, y := center(t, a, sel)
		wbDoubleClick(t, a, x, y)
		waitJS(t, a, "editing, on a known version", `(() => { const s = window.__canvasd.view.editState; return !!s && s.version != null; })()`, 3*time.Second)

		// The network goes; Alice finishes her edit and moves the note.
		stop := wbIntercept(t, a, func(string, string) int { return -1 })
		evalJS[bool](t, a, `(window.__canvasd.dropSocket(4000), true)`)
		wbType(t, a, " (offline)")
		wbKey(t, a, "\x1b")
		waitJS(t, a, "the edit is queued", `document.querySelector('#conn-status').dataset.pending === '1'`, 3*time.Second)
		x, y = center(t, a, sel)
		wbDrag(t, a, x, y, 0, 150, 0)
		waitJS(t, a, "the move is queued", `document.querySelector('#conn-status').dataset.pending === '2'`, 3*time.Second)

		// Meanwhile Bob saves other text.
		e.mustAPI(bob.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+id, map[string]any{"text": "Plan: Bob's"}, nil)
		stop()

		// Back online: the queued text meets the 412 and Alice chooses; the move (no conflict) goes through.
		waitJS(t, a, "the conflict dialog", `!!document.querySelector('.modal.conflict #conflict-mine')`, 10*time.Second)
		if got := evalJS[string](t, a, `document.querySelector('.modal.conflict .conflict-theirs').textContent`); got != "Plan: Bob's" {
			t.Fatalf("the dialog shows theirs as %q", got)
		}
		if got := evalJS[string](t, a, `document.querySelector('.modal.conflict .conflict-mine').textContent`); got != "Plan (offline)" {
			t.Fatalf("the dialog shows mine as %q", got)
		}
		wbWait(t, "the queued move saved", 10*time.Second, func() bool { _, y := loc(e.wbWidgets(alice.Token, cid)[id]); return math.Abs(y-150) < 0.5 })
		if got := text(); got != "Plan: Bob's" {
			t.Fatalf("the offline save overwrote Bob's text: %q", got)
		}
		wbShot(t, a, "offline-conflict")
		run(t, a, "keep mine", chromedp.Click(chromedp.CSS(`#conflict-mine`)))
		wbEventually(t, "Alice's chosen text saved", func() bool { return text() == "Plan (offline)" })
		waitJS(t, a, "the queue is empty and the view matches", fmt.Sprintf(`document.querySelector('#conn-status').dataset.pending === '0' && document.querySelector('%s .note-text').textContent === 'Plan (offline)'`, sel), 5*time.Second)
	})

	t.Run("minimap moves the view; following a collaborator keeps them in view until one pans", func(t *testing.T) {
		cid := e.newCanvas(alice, "Minimap", map[uint64]string{bob.ID: "edit"})
		e.wbNote(alice.Token, cid, "here", 0, 0, 300, 220)
		far := e.wbNote(alice.Token, cid, "far away", 3000, 2000, 300, 220)
		a := e.wbOpen(t, alice.Token, cid)
		waitJS(t, a, "the minimap shows both notes", `(() => { const m = document.querySelector('#minimap'); return !!m && !m.hidden && m.dataset.count === '2' && m.offsetWidth > 0; })()`, 3*time.Second)

		// A click on the map where the far note is centres the view there.
		p := evalJS[[]float64](t, a, `(() => { const v = window.__canvasd.view; const m = v.minimap; const r = m.canvas.getBoundingClientRect(); const k = m.scale();
			return [r.left + (m.ox + (3150 - m.bounds.x) * k) * r.width / 200, r.top + (m.oy + (2110 - m.bounds.y) * k) * r.height / 136]; })()`)
		run(t, a, "click the minimap", chromedp.MouseClickXY(p[0], p[1]))
		waitJS(t, a, "the view is centred on the far note", `(() => { const c = window.__canvasd.view.viewCenter(); return Math.abs(c.x - 3150) < 40 && Math.abs(c.y - 2110) < 40; })()`, 2*time.Second)
		waitJS(t, a, "the far note is drawn", fmt.Sprintf(`!document.querySelector('.w-note[data-id=%q]').classList.contains('culled')`, far), 2*time.Second)
		wbShot(t, a, "minimap")
		wbKey(t, a, "m")
		waitJS(t, a, "M hides the minimap", `document.querySelector('#minimap').hidden`, time.Second)
		wbKey(t, a, "m")
		waitJS(t, a, "M shows it again", `!document.querySelector('#minimap').hidden`, time.Second)

		// Bob follows Alice: her cursor, far from Bob's view, comes into it.
		b := e.wbOpen(t, bob.Token, cid)
		waitJS(t, b, "Alice's avatar", `!!document.querySelector('#viewers .avatar[data-name="Alice Martin"]')`, 3*time.Second)
		run(t, b, "follow Alice", chromedp.Click(chromedp.CSS(`#viewers .avatar[data-name="Alice Martin"]`)))
		waitJS(t, b, "following", `!document.querySelector('#follow-bar').hidden && document.querySelector('#follow-bar').textContent.includes('Following Alice Martin')`, 2*time.Second)
		ax, ay := center(t, a, fmt.Sprintf(`.w-note[data-id=%q]`, far))
		moveMouse(t, a, ax+30, ay+20)
		moveMouse(t, a, ax+40, ay+30)
		cur := evalJS[[]float64](t, a, `(() => { const v = window.__canvasd.view; const c = v.lastCursor; return [c.x, c.y]; })()`)
		waitJS(t, b, "Alice's cursor is in Bob's view", fmt.Sprintf(`(() => { const v = window.__canvasd.view; const s = v.toScreen(%v, %v); return s.x > 0 && s.y > 0 && s.x < v.viewport.clientWidth && s.y < v.viewport.clientHeight; })()`, cur[0], cur[1]), 3*time.Second)
		waitJS(t, b, "Bob sees her cursor", `!!document.querySelector('.cursor[data-name="Alice Martin"]')`, 2*time.Second)
		wbShot(t, b, "following")

		// Bob pans: following stops, and Alice's moves no longer move him.
		wbDrag(t, b, 640, 700, -200, 0, 0)
		waitJS(t, b, "following stopped", `document.querySelector('#follow-bar').hidden && !document.querySelector('#viewers .avatar.following')`, 2*time.Second)
		before := evalJS[[]float64](t, b, `[window.__canvasd.view.view.x, window.__canvasd.view.view.y]`)
		moveMouse(t, a, 200, 200)
		moveMouse(t, a, 220, 210)
		run(t, b, "let presence arrive", chromedp.Sleep(400*time.Millisecond))
		after := evalJS[[]float64](t, b, `[window.__canvasd.view.view.x, window.__canvasd.view.view.y]`)
		if math.Abs(after[0]-before[0]) > 0.5 || math.Abs(after[1]-before[1]) > 0.5 {
			t.Fatalf("after Bob panned away his view still follows Alice: %v -> %v", before, after)
		}
	})

	t.Run("share: list who has access, change and remove roles, invite by e-mail or name; token links that fail say why", func(t *testing.T) {
		cid := e.newCanvas(alice, "Shared plan", map[uint64]string{bob.ID: "edit"})
		l := e.tab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
		card := fmt.Sprintf(`.canvas-card[data-id=%q]`, cid)
		run(t, l, "open share", chromedp.WaitVisible(chromedp.CSS(card+` [data-action=share]`)), chromedp.Click(chromedp.CSS(card+` [data-action=share]`)))
		waitJS(t, l, "the people with access", fmt.Sprintf(`(() => { const rows = [...document.querySelectorAll('#share-people .person')];
			return rows.length === 2 && rows.some(r => r.dataset.user === '%d' && r.dataset.role === 'owner' && r.textContent.includes('Alice Martin'))
				&& rows.some(r => r.dataset.user === '%d' && r.dataset.role === 'edit' && r.textContent.includes('Bob Chen')); })()`, alice.ID, bob.ID), 3*time.Second)

		// An address no account has: the server says so (inviting a known
		// address as a non-admin is TestFollowups' "invite by e-mail").
		run(t, l, "type an e-mail", chromedp.Click(chromedp.CSS("#share-invite")))
		wbType(t, l, "nobody@example.com")
		run(t, l, "invite", chromedp.Click(chromedp.CSS("#share-invite-btn")))
		waitJS(t, l, "the dialog says no such user", `/No user with the e-mail address/.test(document.querySelector('#share-error').textContent)`, 2*time.Second)
		if _, ok := e.wbPerms(alice.Token, cid)[carol.ID]; ok {
			t.Fatal("a failed invite granted access")
		}
		evalJS[bool](t, l, `(document.querySelector('#share-invite').value = '', true)`)
		wbType(t, l, "Carol Diaz")
		evalJS[bool](t, l, `(() => { const s = document.querySelector('#share-invite-role'); s.value = 'view'; return true; })()`)
		run(t, l, "invite by name", chromedp.Click(chromedp.CSS("#share-invite-btn")))
		wbEventually(t, "Carol can view", func() bool { return e.wbPerms(alice.Token, cid)[carol.ID] == "view" })
		waitJS(t, l, "Carol is listed as a viewer", fmt.Sprintf(`!!document.querySelector('#share-people .person[data-user="%d"][data-role="view"]')`, carol.ID), 2*time.Second)

		// Change Carol to edit; remove Bob.
		evalJS[bool](t, l, fmt.Sprintf(`(() => { const s = document.querySelector('#share-people select.role[data-user="%d"]'); s.value = 'edit'; s.dispatchEvent(new Event('change')); return true; })()`, carol.ID))
		wbEventually(t, "Carol can edit", func() bool { return e.wbPerms(alice.Token, cid)[carol.ID] == "edit" })
		run(t, l, "remove Bob", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#share-people .person[data-user="%d"] .remove`, bob.ID))))
		wbEventually(t, "Bob has no access", func() bool { _, ok := e.wbPerms(alice.Token, cid)[bob.ID]; return !ok })
		waitJS(t, l, "the list shows it", fmt.Sprintf(`!document.querySelector('#share-people .person[data-user="%d"]') && !!document.querySelector('#share-people .person[data-user="%d"][data-role="edit"]')`, bob.ID, carol.ID), 2*time.Second)
		wbShot(t, l, "share")
		if code := e.api(bob.Token, "GET", "/api/v1/canvases/"+cid, nil, nil); code != 403 && code != 404 {
			t.Fatalf("removed Bob still reads the canvas: %d", code)
		}
		wbKey(t, l, "\x1b")

		// An admin sees e-mail addresses: inviting by e-mail works.
		var cv struct{ ID string }
		e.mustAPI(e.admin, "POST", "/api/v1/canvases", map[string]any{"name": "Admin board"}, &cv)
		ad := e.tab(e.ts.URL+"/c/"+cv.ID+"#token="+e.admin, 1280, 800)
		run(t, ad, "open share", chromedp.WaitVisible(chromedp.CSS("#share-btn")), chromedp.Click(chromedp.CSS("#share-btn")))
		run(t, ad, "type an e-mail", chromedp.WaitVisible(chromedp.CSS("#share-invite")), chromedp.Click(chromedp.CSS("#share-invite")))
		wbType(t, ad, strings.ToUpper(bob.Email))
		run(t, ad, "invite", chromedp.Click(chromedp.CSS("#share-invite-btn")))
		wbEventually(t, "Bob can edit the admin's canvas", func() bool { return e.wbPerms(e.admin, cv.ID)[bob.ID] == "edit" })
		waitJS(t, ad, "Bob is listed with his e-mail", fmt.Sprintf(`(document.querySelector('#share-people .person[data-user="%d"]') || {}).textContent?.includes(%q)`, bob.ID, bob.Email), 2*time.Second)

		// Token links: a revoked-or-wrong token and a damaged one each say why.
		bad := e.tab(e.ts.URL+"/c/"+cid+"#token=NotARealToken123", 1280, 800)
		waitJS(t, bad, "a wrong token says so", `(() => { const p = document.querySelector('#link-error'); return !!p && !p.hidden && /not valid/.test(p.textContent); })()`, 5*time.Second)
		if got := evalJS[string](t, bad, `location.hash + location.search`); strings.Contains(got, "token") {
			t.Fatalf("the token stays in the address bar: %q", got)
		}
		wbShot(t, bad, "bad-token")
		cut := e.tab(e.ts.URL+"/#token="+alice.Token[:10]+"%E2%80%A6", 1280, 800)
		waitJS(t, cut, "a damaged link says so", `(() => { const p = document.querySelector('#link-error'); return !!p && !p.hidden && /incomplete or damaged/.test(p.textContent); })()`, 5*time.Second)
		// Pasting the whole link on the sign-in page opens the canvas.
		run(t, cut, "paste a link", chromedp.Click(chromedp.CSS("#token-link")))
		wbType(t, cut, e.ts.URL+"/c/"+cid+"#token="+carol.Token)
		run(t, cut, "open it", chromedp.Click(chromedp.CSS("#token-link-open")))
		waitLive(t, cut, "Carol from a pasted link")
		if got := evalJS[string](t, cut, `location.pathname`); got != "/c/"+cid {
			t.Fatalf("the pasted link opened %q", got)
		}

		// A stored session whose token was revoked says so on the next visit.
		var tk struct {
			ID         string `json:"id"`
			PlainToken string `json:"plain_token"`
		}
		e.mustAPI(e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", carol.ID), map[string]any{"description": "laptop"}, &tk)
		s := e.tab(e.ts.URL+"/#token="+tk.PlainToken, 1280, 800)
		waitJS(t, s, "signed in", `!!document.querySelector('#canvas-grid')`, 5*time.Second)
		e.mustAPI(e.admin, "DELETE", fmt.Sprintf("/api/v1/users/%d/access-tokens/%s", carol.ID, tk.ID), nil, nil)
		run(t, s, "come back later", chromedp.Reload())
		waitJS(t, s, "the sign-in page says the session ended", `(() => { const p = document.querySelector('#link-error'); return !!p && !p.hidden && /signed out/.test(p.textContent); })()`, 5*time.Second)
	})

	t.Run("README screenshots: following a collaborator, with the minimap; the share dialog", func(t *testing.T) {
		cid := e.newCanvas(alice, "Product roadmap", map[uint64]string{bob.ID: "edit", carol.ID: "view"})
		for _, n := range []struct {
			text, color string
			x, y        float64
		}{
			{"Q1: onboarding flow", "#fff1a8", 0, 0}, {"Q1: import from CSV", "#cfe8ff", 320, 0}, {"Q1: faster search", "#c9f2dc", 640, 0},
			{"Q2: mobile app beta", "#ffd8b5", 2200, 1400}, {"Q2: offline mode", "#e4dcff", 2520, 1400}, {"Q2: SSO for teams", "#ffd3de", 2200, 1660},
			{"Q2: pricing page", "#fff1a8", 2520, 1660},
		} {
			id := e.wbNote(alice.Token, cid, n.text, n.x, n.y, 280, 200)
			e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+id, map[string]any{"background_color": n.color}, nil)
		}
		e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/anchors", map[string]any{"anchor_name": "Q2 plan",
			"location": map[string]any{"x": 2150, "y": 1340}, "size": map[string]any{"width": 720, "height": 580}}, nil)
		a := e.wbOpen(t, alice.Token, cid)
		b := e.wbOpen(t, bob.Token, cid)
		evalJS[bool](t, a, `(() => { const v = window.__canvasd.view; v.view = {x: -1930, y: -1250, z: 1}; v.render(); return true; })()`)
		run(t, b, "follow Alice", chromedp.WaitVisible(chromedp.CSS(`#viewers .avatar[data-name="Alice Martin"]`)), chromedp.Click(chromedp.CSS(`#viewers .avatar[data-name="Alice Martin"]`)))
		ax, ay := worldToScreen(t, a, 2660, 1740)
		moveMouse(t, a, ax-20, ay-10)
		moveMouse(t, a, ax, ay)
		waitJS(t, b, "Bob's view is on Alice's cursor", `(() => { const c = window.__canvasd.view.viewCenter(); return Math.abs(c.x - 2660) < 400 && Math.abs(c.y - 1740) < 300; })()`, 3*time.Second)
		run(t, b, "settle", chromedp.Sleep(400*time.Millisecond))
		wb3Readme(t, b, "following")

		l := e.tab(e.ts.URL+"/#token="+alice.Token, 1280, 860)
		card := fmt.Sprintf(`.canvas-card[data-id=%q]`, cid)
		run(t, l, "open share", chromedp.WaitVisible(chromedp.CSS(card+` [data-action=share]`)), chromedp.Click(chromedp.CSS(card+` [data-action=share]`)))
		waitJS(t, l, "three people", `document.querySelectorAll('#share-people .person').length === 3`, 3*time.Second)
		run(t, l, "settle", chromedp.Sleep(300*time.Millisecond))
		wb3Readme(t, l, "sharing")
	})
}
