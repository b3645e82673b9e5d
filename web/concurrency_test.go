package web_test

// Issue 16, safe concurrent edits: two people typing in one note. The one
// who saves second gets the server's 412 (If-Match), sees both texts and
// chooses; while someone types, the others see who and what.

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestConcurrentNoteEditing(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	cid := e.newCanvas(alice, "Two editors", map[uint64]string{bob.ID: "edit"})
	id := e.wbNote(alice.Token, cid, "Agenda", 0, 0, 320, 240)
	text := func() string { return fmt.Sprint(e.wbWidgets(alice.Token, cid)[id]["text"]) }
	sel := fmt.Sprintf(`.w-note[data-id=%q]`, id)

	a := e.wbOpen(t, alice.Token, cid)
	b := e.wbOpen(t, bob.Token, cid)

	// Bob starts typing: Alice sees that he is editing, and his text as he types it.
	x, y := center(t, b, sel)
	wbDoubleClick(t, b, x, y)
	waitJS(t, b, "Bob edits", fmt.Sprintf(`!!document.querySelector('.w-note.editing[data-id=%q]')`, id), 3*time.Second)
	wbKey(t, b, "a", chromedp.ModifierCtrl)
	wbType(t, b, "Agenda: Bob's budget")
	waitJS(t, a, `Alice sees "Bob Chen is editing"`, fmt.Sprintf(`[...document.querySelectorAll('.remote-edit[data-id=%q] .remote-tag')].some(t => t.textContent === 'Bob Chen is editing')`, id), 3*time.Second)
	waitJS(t, a, "Alice sees Bob's text while he types", fmt.Sprintf(`document.querySelector('%s .note-text').textContent === "Agenda: Bob's budget"`, sel), 3*time.Second)
	if got := text(); got != "Agenda" {
		t.Fatalf("typing stored %q before Bob saved", got)
	}

	// Alice edits the same note and saves first.
	x, y = center(t, a, sel)
	wbDoubleClick(t, a, x, y)
	waitJS(t, a, "Alice edits", fmt.Sprintf(`!!document.querySelector('.w-note.editing[data-id=%q]')`, id), 3*time.Second)
	if got := evalJS[string](t, a, fmt.Sprintf(`document.querySelector('%s .note-text').innerText`, sel)); got != "Agenda" {
		t.Fatalf("Alice's editor starts from %q, want the saved text", got)
	}
	wbKey(t, a, "a", chromedp.ModifierCtrl)
	wbType(t, a, "Agenda: Alice's dates")
	wbKey(t, a, "\x1b")
	wbEventually(t, "Alice's text saved", func() bool { return text() == "Agenda: Alice's dates" })

	// Bob's editor says the note changed under him; his text is still his.
	waitJS(t, b, "Bob is told the note changed", fmt.Sprintf(`(document.querySelector('%s .note-hint') || {}).textContent?.includes('Alice Martin changed this note')`, sel), 3*time.Second)
	if got := evalJS[string](t, b, fmt.Sprintf(`document.querySelector('%s .note-text').innerText`, sel)); got != "Agenda: Bob's budget" {
		t.Fatalf("Bob's editor holds %q, want his own text", got)
	}

	// Bob saves: the server answers 412, nothing is overwritten, and he sees both texts.
	wbKey(t, b, "\x1b")
	waitJS(t, b, "the conflict dialog", `!!document.querySelector('.modal.conflict #conflict-mine')`, 3*time.Second)
	if got := evalJS[string](t, b, `document.querySelector('.modal.conflict .conflict-theirs').textContent`); got != "Agenda: Alice's dates" {
		t.Fatalf("the dialog shows theirs as %q", got)
	}
	if got := evalJS[string](t, b, `document.querySelector('.modal.conflict .conflict-mine').textContent`); got != "Agenda: Bob's budget" {
		t.Fatalf("the dialog shows mine as %q", got)
	}
	if got := text(); got != "Agenda: Alice's dates" {
		t.Fatalf("Bob's stale save overwrote Alice's: %q", got)
	}
	wbShot(t, b, "conflict")

	// Bob keeps his: that is what the server stores, and Alice sees it.
	run(t, b, "keep mine", chromedp.Click(chromedp.CSS(`#conflict-mine`)))
	wbEventually(t, "Bob's chosen text saved", func() bool { return text() == "Agenda: Bob's budget" })
	waitJS(t, a, "Alice sees Bob's text", fmt.Sprintf(`document.querySelector('%s .note-text').textContent === "Agenda: Bob's budget"`, sel), 3*time.Second)
	waitJS(t, a, "nobody is shown editing", `!document.querySelector('.remote-edit')`, 3*time.Second)

	// A second round where Bob takes Alice's text: hers stays.
	x, y = center(t, b, sel)
	wbDoubleClick(t, b, x, y)
	waitJS(t, b, "Bob edits again", fmt.Sprintf(`!!document.querySelector('.w-note.editing[data-id=%q]')`, id), 3*time.Second)
	wbType(t, b, " v2")
	waitJS(t, a, "Alice sees Bob editing again", fmt.Sprintf(`!!document.querySelector('.remote-edit[data-id=%q]')`, id), 3*time.Second)
	e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+id, map[string]any{"text": "Final: Alice"}, nil)
	waitJS(t, b, "Bob is told", fmt.Sprintf(`!!document.querySelector('%s .note-hint')`, sel), 3*time.Second)
	wbKey(t, b, "\x1b")
	waitJS(t, b, "the conflict dialog again", `!!document.querySelector('.modal.conflict #conflict-theirs')`, 3*time.Second)
	run(t, b, "take theirs", chromedp.Click(chromedp.CSS(`#conflict-theirs`)))
	waitJS(t, b, "Bob's view shows Alice's text", fmt.Sprintf(`document.querySelector('%s .note-text').textContent === "Final: Alice"`, sel), 3*time.Second)
	if got := text(); got != "Final: Alice" {
		t.Fatalf("after taking theirs the server has %q", got)
	}
}
