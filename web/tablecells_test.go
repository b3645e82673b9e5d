package web_test

// Issue 16 follow-up: digitized tables have editable cells. A double-click
// on a cell edits it in place, Enter saves it as a PATCH of the Table
// widget (cells: [{r, c, text}]), another viewer sees it live, Esc drops an
// edit, and undo puts the old text back. Real Chromium against a real
// server, with a table digitized (tesseract) from a rendered scan.

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tableCell is the server's text of a Table widget's cell (r, c).
func (e *env) tableCell(token, cid, tid string, r, c int) string {
	e.t.Helper()
	w := e.wbWidgets(token, cid)[tid]
	cells, _ := w["cells"].([]any)
	for _, x := range cells {
		m, _ := x.(map[string]any)
		if int(m["r"].(float64)) == r && int(m["c"].(float64)) == c {
			s, _ := m["text"].(string)
			return s
		}
	}
	return ""
}

func TestTableCells(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	cid := e.newCanvas(alice, "Quarterly sales", map[uint64]string{bob.ID: "edit"})
	scan := e.uploadImage(alice.Token, cid, "sales.png", ruledTablePNG(t, [][]string{{"Region", "Q1", "Q2"}, {"EMEA", "4.2", "4.6"}, {"APAC", "2.9", "3.3"}, {"LATAM", "1.1", "1.4"}}),
		map[string]any{"title": "Sales scan", "location": map[string]any{"x": 0, "y": 0}})
	tid := e.digitize(alice, cid, scan["id"].(string))
	a := e.wbOpen(t, alice.Token, cid)
	b := e.wbOpen(t, bob.Token, cid)
	evalJS[bool](t, a, `(window.__canvasd.view.fit(), true)`)
	evalJS[bool](t, b, `(window.__canvasd.view.fit(), true)`)
	cellSel := func(r, c int) string {
		return fmt.Sprintf(`.w-table[data-id=%q] [data-r="%d"][data-c="%d"]`, tid, r, c)
	}
	waitJS(t, a, "the table is drawn", fmt.Sprintf(`!!document.querySelector(%q)`, cellSel(1, 1)), 3*time.Second)
	old := e.tableCell(alice.Token, cid, tid, 1, 1)

	// Alice double-clicks a cell, types, and Enter saves it.
	x, y := center(t, a, cellSel(1, 1))
	wbDoubleClick(t, a, x, y)
	waitJS(t, a, "the cell is being edited", fmt.Sprintf(`(() => { const c = document.querySelector(%q); return !!c && c.isContentEditable && document.activeElement === c; })()`, cellSel(1, 1)), 2*time.Second)
	wbType(t, a, "5.07")
	wb3Readme(t, a, "table-edit")
	wbKey(t, a, "\r")
	wbEventually(t, "the cell saved", func() bool { return e.tableCell(alice.Token, cid, tid, 1, 1) == "5.07" })
	waitJS(t, b, "Bob sees the new cell", fmt.Sprintf(`document.querySelector(%q).textContent === '5.07'`, cellSel(1, 1)), liveDeadline)
	if got := evalJS[bool](t, a, fmt.Sprintf(`document.querySelector(%q).isContentEditable`, cellSel(1, 1))); got {
		t.Fatal("the cell is still editable after Enter")
	}

	// Esc drops an edit: nothing reaches the server.
	x, y = center(t, a, cellSel(2, 2))
	before := e.tableCell(alice.Token, cid, tid, 2, 2)
	wbDoubleClick(t, a, x, y)
	waitJS(t, a, "the second cell is being edited", fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, cellSel(2, 2)), 2*time.Second)
	wbType(t, a, "dropped")
	wbKey(t, a, "\x1b")
	waitJS(t, a, "the old text is back", fmt.Sprintf(`document.querySelector(%q).textContent === %q`, cellSel(2, 2), before), 2*time.Second)
	run(t, a, "let a stray save arrive", chromedp.Sleep(300*time.Millisecond))
	if got := e.tableCell(alice.Token, cid, tid, 2, 2); got != before {
		t.Fatalf("Esc saved the cell: %q, want %q", got, before)
	}

	// Undo puts the first cell's old text back, for Bob too; redo again.
	wbKey(t, a, "z", chromedp.ModifierCtrl)
	wbEventually(t, "undo of the cell", func() bool { return e.tableCell(alice.Token, cid, tid, 1, 1) == old })
	waitJS(t, b, "Bob sees the undo", fmt.Sprintf(`document.querySelector(%q).textContent === %q`, cellSel(1, 1), old), liveDeadline)
	wbKey(t, a, "z", chromedp.ModifierCtrl|chromedp.ModifierShift)
	wbEventually(t, "redo of the cell", func() bool { return e.tableCell(alice.Token, cid, tid, 1, 1) == "5.07" })

	// Bob changes the cell; Alice's undo no longer touches it.
	x, y = center(t, b, cellSel(1, 1))
	wbDoubleClick(t, b, x, y)
	waitJS(t, b, "Bob edits the cell", fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, cellSel(1, 1)), 2*time.Second)
	wbType(t, b, "6.00")
	wbKey(t, b, "\r")
	wbEventually(t, "Bob's text saved", func() bool { return e.tableCell(alice.Token, cid, tid, 1, 1) == "6.00" })
	waitJS(t, a, "Alice sees Bob's text", fmt.Sprintf(`document.querySelector(%q).textContent === '6.00'`, cellSel(1, 1)), liveDeadline)
	wbKey(t, a, "z", chromedp.ModifierCtrl)
	run(t, a, "let the skipped undo finish", chromedp.Sleep(500*time.Millisecond))
	if got := e.tableCell(alice.Token, cid, tid, 1, 1); got != "6.00" {
		t.Fatalf("Alice's undo overwrote Bob's later text: %q", got)
	}
}
