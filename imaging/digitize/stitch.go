package digitize

import (
	"fmt"
	"strings"
)

// StitchSource records which rows of a stitched table came from which
// element. Rows is the first and last row (inclusive) in the stitched table,
// or {-1, -1} when the element contributed only a repeated header.
type StitchSource struct {
	Element string `json:"element_id"`
	Rows    [2]int `json:"rows"`
}

// Stitch merges consecutive table fragments (for example one table split
// over several page crops) into one table. Columns that are empty in a
// fragment are dropped before comparing; the fragments merge when their
// column counts then agree. A header that repeats the first fragment's
// header is dropped. Cell boxes stay relative to their own source image.
// When the tables cannot be merged it returns a nil table and the reason.
func Stitch(tables []*Table, ids []string) (*Table, []StitchSource, string) {
	if len(tables) < 2 {
		return nil, nil, "stitch needs at least two table results"
	}
	if len(ids) != len(tables) {
		return nil, nil, fmt.Sprintf("stitch got %d tables but %d element ids", len(tables), len(ids))
	}
	parts := make([]*Table, len(tables))
	for i, t := range tables {
		if t == nil || t.NRows == 0 || t.NCols == 0 {
			return nil, nil, fmt.Sprintf("element %s has no table to stitch", ids[i])
		}
		parts[i] = compactColumns(t)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].NCols != parts[0].NCols {
			return nil, nil, fmt.Sprintf("column count mismatch: element %s has %d columns, element %s has %d",
				ids[0], parts[0].NCols, ids[i], parts[i].NCols)
		}
	}
	first := parts[0]
	out := &Table{NCols: first.NCols, HeaderRows: first.HeaderRows}
	var srcs []StitchSource
	headerKey := rowsKey(first, 0, first.HeaderRows)
	for i, t := range parts {
		skip := 0
		if i > 0 {
			switch {
			case t.HeaderRows > 0 && rowsKey(t, 0, t.HeaderRows) == headerKey:
				skip = t.HeaderRows
			case first.HeaderRows > 0 && t.NRows > 0 && rowsKey(t, 0, 1) == rowsKey(first, first.HeaderRows-1, first.HeaderRows):
				// Only the last header line repeats (e.g. the years).
				skip = 1
			}
		}
		start := out.NRows
		for _, c := range t.Cells {
			if c.R < skip {
				continue
			}
			c.R = c.R - skip + start
			out.Cells = append(out.Cells, c)
		}
		out.NRows += t.NRows - skip
		src := StitchSource{Element: ids[i], Rows: [2]int{start, out.NRows - 1}}
		if out.NRows == start {
			src.Rows = [2]int{-1, -1}
		}
		srcs = append(srcs, src)
	}
	sortCells(out.Cells)
	return out, srcs, ""
}

// rowsKey is a comparable digest of the texts in rows [r0, r1).
func rowsKey(t *Table, r0, r1 int) string {
	var b strings.Builder
	for r := r0; r < r1; r++ {
		for c := 0; c < t.NCols; c++ {
			cl := t.CellAt(r, c)
			if cl != nil && cl.R == r && cl.C == c {
				fmt.Fprintf(&b, "%d:%d:%s|", cl.ColSpan, cl.RowSpan, normText(cl.Text))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// compactColumns drops columns that no non-empty cell covers, as a stray
// empty column (a gutter or a lone currency column read as empty) would
// otherwise block stitching.
func compactColumns(t *Table) *Table {
	used := make([]bool, t.NCols)
	for _, c := range t.Cells {
		if strings.TrimSpace(c.Text) == "" {
			continue
		}
		for k := c.C; k < c.C+c.ColSpan && k < t.NCols; k++ {
			used[k] = true
		}
	}
	newIdx := make([]int, t.NCols+1)
	n := 0
	for k := 0; k < t.NCols; k++ {
		newIdx[k] = n
		if used[k] {
			n++
		}
	}
	newIdx[t.NCols] = n
	if n == t.NCols || n == 0 {
		return t
	}
	out := &Table{NRows: t.NRows, NCols: n, HeaderRows: t.HeaderRows}
	for _, c := range t.Cells {
		c0, c1 := newIdx[c.C], newIdx[c.C+c.ColSpan]
		if c1 <= c0 {
			continue // the cell lay entirely in dropped columns
		}
		c.C, c.ColSpan = c0, c1-c0
		out.Cells = append(out.Cells, c)
	}
	sortCells(out.Cells)
	return out
}
