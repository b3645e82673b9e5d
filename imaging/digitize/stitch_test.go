package digitize

import (
	"strings"
	"testing"
)

// mk builds a table from rows of texts; "<" marks a cell merged into its
// left neighbour (colspan).
func mk(header int, rows ...[]string) *Table {
	t := &Table{NRows: len(rows), NCols: len(rows[0]), HeaderRows: header}
	for r, row := range rows {
		for c := 0; c < len(row); c++ {
			if row[c] == "<" {
				continue
			}
			cs := 1
			for c+cs < len(row) && row[c+cs] == "<" {
				cs++
			}
			t.Cells = append(t.Cells, Cell{R: r, C: c, RowSpan: 1, ColSpan: cs, Text: row[c], Value: ParseValue(row[c])})
		}
	}
	return t
}

func cellText(t *Table, r, c int) string {
	if cl := t.CellAt(r, c); cl != nil {
		return cl.Text
	}
	return "<nil>"
}

func TestStitchMerge(t *testing.T) {
	a := mk(2,
		[]string{"", "Year ended", "<"},
		[]string{"($m)", "2022", "2023"},
		[]string{"Revenue", "1,200", "1,350"},
		[]string{"Costs", "(800)", "(900)"})
	// The second crop repeats the header and has an empty gutter column.
	b := mk(2,
		[]string{"", "", "Year ended", "<"},
		[]string{"($m)", "", "2022", "2023"},
		[]string{"EBITDA", "", "400", "450"},
		[]string{"Margin", "", "33.3%", "33.3%"})
	// The third has no header, only the last header line repeated.
	c := mk(0,
		[]string{"($m)", "2022", "2023"},
		[]string{"Net income", "$250", "$300"})
	got, srcs, reason := Stitch([]*Table{a, b, c}, []string{"a", "b", "c"})
	if reason != "" {
		t.Fatalf("skipped: %s", reason)
	}
	if got.NRows != 7 || got.NCols != 3 || got.HeaderRows != 2 {
		t.Fatalf("shape %dx%d header %d, want 7x3 header 2", got.NRows, got.NCols, got.HeaderRows)
	}
	wantCol0 := []string{"", "($m)", "Revenue", "Costs", "EBITDA", "Margin", "Net income"}
	for r, w := range wantCol0 {
		if g := cellText(got, r, 0); g != w {
			t.Errorf("row %d col 0 = %q, want %q", r, g, w)
		}
	}
	if g := cellText(got, 5, 2); g != "33.3%" {
		t.Errorf("row 5 col 2 = %q", g)
	}
	if cl := got.CellAt(6, 2); cl == nil || cl.Value == nil || *cl.Value.Num != 300 || cl.Value.Currency != "$" {
		t.Errorf("row 6 col 2 = %+v", cl)
	}
	want := []StitchSource{{"a", [2]int{0, 3}}, {"b", [2]int{4, 5}}, {"c", [2]int{6, 6}}}
	if len(srcs) != 3 || srcs[0] != want[0] || srcs[1] != want[1] || srcs[2] != want[2] {
		t.Errorf("sources = %+v, want %+v", srcs, want)
	}
	// Every slot covered once.
	for r := 0; r < got.NRows; r++ {
		for k := 0; k < got.NCols; k++ {
			n := 0
			for _, cl := range got.Cells {
				if r >= cl.R && r < cl.R+cl.RowSpan && k >= cl.C && k < cl.C+cl.ColSpan {
					n++
				}
			}
			if n != 1 {
				t.Errorf("slot %d,%d covered %d times", r, k, n)
			}
		}
	}
}

func TestStitchSkip(t *testing.T) {
	a := mk(1, []string{"", "2022", "2023"}, []string{"Revenue", "1", "2"})
	b := mk(1, []string{"", "2021", "2022", "2023"}, []string{"Revenue", "1", "2", "3"})
	if got, _, reason := Stitch([]*Table{a, b}, []string{"x", "y"}); got != nil || !strings.Contains(reason, "column count mismatch") {
		t.Errorf("got %v, reason %q", got, reason)
	}
	if _, _, reason := Stitch([]*Table{a}, []string{"x"}); reason == "" {
		t.Error("one table must be skipped")
	}
	if _, _, reason := Stitch([]*Table{a, nil}, []string{"x", "y"}); !strings.Contains(reason, "y") {
		t.Errorf("reason %q should name the element", reason)
	}
	if _, _, reason := Stitch([]*Table{a, a}, []string{"x"}); reason == "" {
		t.Error("id count mismatch must be skipped")
	}
}
