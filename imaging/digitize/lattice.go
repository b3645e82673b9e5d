package digitize

import (
	"math"
	"sort"
	"strings"
)

// gridLine is one column or row boundary of a lattice grid. sep is nil for a
// virtual outer boundary added where the table has no border line.
type gridLine struct {
	pos int
	sep *separator
}

// latticeGrid decides whether the rulings form a ruled grid and returns its
// column (xs) and row (ys) boundaries.
func (p *page) latticeGrid(words []word) (xs, ys []gridLine, ok bool) {
	minLen := 1.6 * p.capH
	var hs, vs []separator
	for _, s := range p.hSeps {
		if float64(s.coverage) >= 2.2*p.capH {
			hs = append(hs, s)
		}
	}
	for _, s := range p.vSeps {
		if float64(s.coverage) >= minLen {
			vs = append(vs, s)
		}
	}
	if len(hs) < 2 || len(vs) < 2 {
		return nil, nil, false
	}
	// Table extent from the rulings.
	top, bottom := hs[0].pos, hs[len(hs)-1].pos
	left, right := math.MaxInt, math.MinInt
	for _, s := range hs {
		lo, hi := s.extent()
		left, right = min(left, lo), max(right, hi)
	}
	// Long verticals: those that reach across a good part of the table.
	var long []separator
	for _, s := range vs {
		lo, hi := s.extent()
		if overlap(lo, hi, top, bottom) >= (bottom-top)*2/5 && s.pos >= left-int(p.capH) && s.pos <= right+int(p.capH) {
			long = append(long, s)
		}
	}
	// Two long verticals make a one-column "grid", more often the frame
	// of a shaded band than a ruled table.
	if len(long) < 3 {
		return nil, nil, false
	}
	// Keep horizontals that rule at least one cell from one long vertical to
	// the next, and verticals that rule a cell between two horizontals;
	// shorter runs are text.
	vlo, vhi := long[0].pos, long[len(long)-1].pos
	spansCell := func(s separator, stops []int) bool {
		for i := 0; i+1 < len(stops); i++ {
			a, b := stops[i], stops[i+1]
			if s.covered(a, b)*10 >= (b-a)*7 {
				return true
			}
		}
		return false
	}
	var longPos []int
	for _, s := range long {
		longPos = append(longPos, s.pos)
	}
	var hsIn []separator
	for _, s := range hs {
		lo, hi := s.extent()
		if overlap(lo, hi, vlo, vhi) > 0 && spansCell(s, longPos) {
			hsIn = append(hsIn, s)
		}
	}
	if len(hsIn) < 2 {
		return nil, nil, false
	}
	var hPos []int
	for _, s := range hsIn {
		hPos = append(hPos, s.pos)
	}
	var vsIn []separator
	for _, s := range vs {
		if s.pos >= vlo-2 && s.pos <= vhi+2 && spansCell(s, hPos) {
			vsIn = append(vsIn, s)
		}
	}
	dedupe := func(seps []separator) []gridLine {
		var out []gridLine
		for i := range seps {
			s := &seps[i]
			if len(out) > 0 && float64(s.pos-out[len(out)-1].pos) < 0.8*p.capH {
				// Double rule: keep the longer one.
				if s.coverage > out[len(out)-1].sep.coverage {
					out[len(out)-1] = gridLine{pos: s.pos, sep: s}
				}
				continue
			}
			out = append(out, gridLine{pos: s.pos, sep: s})
		}
		return out
	}
	xs, ys = dedupe(vsIn), dedupe(hsIn)
	// Virtual outer boundaries where text lies outside the outer rulings.
	margin := 0.3 * p.capH
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, w := range words {
		// Only confident words count (not specks or remnants of erased
		// rulings), and only those level with the ruled area.
		if w.conf >= 0 && (w.conf < 40 || !hasAlnum(w.text)) || w.conf < 0 && w.h() < 0.5*p.capH {
			continue
		}
		if w.cy() >= float64(ys[0].pos) && w.cy() <= float64(ys[len(ys)-1].pos) {
			minX, maxX = math.Min(minX, w.x0), math.Max(maxX, w.x1)
		}
		if w.cx() >= float64(xs[0].pos) && w.cx() <= float64(xs[len(xs)-1].pos) {
			minY, maxY = math.Min(minY, w.y0), math.Max(maxY, w.y1)
		}
	}
	if minX < float64(xs[0].pos)-margin {
		xs = append([]gridLine{{pos: int(minX - margin)}}, xs...)
	}
	if maxX > float64(xs[len(xs)-1].pos)+margin {
		xs = append(xs, gridLine{pos: int(maxX + margin + 1)})
	}
	if minY < float64(ys[0].pos)-margin {
		ys = append([]gridLine{{pos: int(minY - margin)}}, ys...)
	}
	if maxY > float64(ys[len(ys)-1].pos)+margin {
		ys = append(ys, gridLine{pos: int(maxY + margin + 1)})
	}
	return xs, ys, len(xs) >= 2 && len(ys) >= 2
}

// present reports whether boundary line g separates the interval [lo,hi]
// across it (at least half of the interval is ruled).
func present(g gridLine, lo, hi int) bool {
	if g.sep == nil {
		return true
	}
	m := (hi - lo) / 6
	lo, hi = lo+m, hi-m
	if hi <= lo {
		return true
	}
	return g.sep.covered(lo, hi)*2 >= hi-lo+1
}

// lattice builds a table from grid boundaries, merging grid slots where a
// boundary is missing, and fills cells with the words whose centres fall
// inside them.
func (p *page) lattice(xs, ys []gridLine, words []word) *Table {
	nr, nc := len(ys)-1, len(xs)-1
	parent := make([]int, nr*nc)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			if j+1 < nc && !present(xs[j+1], ys[i].pos, ys[i+1].pos) {
				union(i*nc+j, i*nc+j+1)
			}
			if i+1 < nr && !present(ys[i+1], xs[j].pos, xs[j+1].pos) {
				union(i*nc+j, (i+1)*nc+j)
			}
		}
	}
	type rect struct{ r0, c0, r1, c1 int }
	groups := map[int]*rect{}
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			root := find(i*nc + j)
			g, ok := groups[root]
			if !ok {
				groups[root] = &rect{i, j, i, j}
				continue
			}
			g.r0, g.c0, g.r1, g.c1 = min(g.r0, i), min(g.c0, j), max(g.r1, i), max(g.c1, j)
		}
	}
	// Non-rectangular unions (broken rulings) fall back to single slots.
	owner := make([]int, nr*nc)
	for i := range owner {
		owner[i] = -1
	}
	var rects []rect
	for _, g := range groups {
		rects = append(rects, *g)
	}
	sort.Slice(rects, func(a, b int) bool {
		if rects[a].r0 != rects[b].r0 {
			return rects[a].r0 < rects[b].r0
		}
		return rects[a].c0 < rects[b].c0
	})
	var final []rect
	for _, g := range rects {
		clash := false
		for i := g.r0; i <= g.r1 && !clash; i++ {
			for j := g.c0; j <= g.c1; j++ {
				if owner[i*nc+j] >= 0 {
					clash = true
					break
				}
			}
		}
		if clash {
			for i := g.r0; i <= g.r1; i++ {
				for j := g.c0; j <= g.c1; j++ {
					if owner[i*nc+j] < 0 {
						owner[i*nc+j] = len(final)
						final = append(final, rect{i, j, i, j})
					}
				}
			}
			continue
		}
		for i := g.r0; i <= g.r1; i++ {
			for j := g.c0; j <= g.c1; j++ {
				owner[i*nc+j] = len(final)
			}
		}
		final = append(final, g)
	}
	// Assign words to slots by centre.
	xpos := make([]float64, len(xs))
	for i, g := range xs {
		xpos[i] = float64(g.pos)
	}
	ypos := make([]float64, len(ys))
	for i, g := range ys {
		ypos[i] = float64(g.pos)
	}
	cellWords := make([][]word, len(final))
	for _, w := range words {
		j := sort.SearchFloat64s(xpos, w.cx()) - 1
		i := sort.SearchFloat64s(ypos, w.cy()) - 1
		if i < 0 || j < 0 || i >= nr || j >= nc {
			continue
		}
		o := owner[i*nc+j]
		cellWords[o] = append(cellWords[o], w)
	}
	t := &Table{NRows: nr, NCols: nc}
	for k, g := range final {
		text, conf := joinWords(cellWords[k])
		t.Cells = append(t.Cells, Cell{
			R: g.r0, C: g.c0, RowSpan: g.r1 - g.r0 + 1, ColSpan: g.c1 - g.c0 + 1,
			Text: text, Conf: conf, Value: ParseValue(text),
			BBox: p.frac(xpos[g.c0], ypos[g.r0], xpos[g.c1+1], ypos[g.r1+1]),
		})
	}
	sortCells(t.Cells)
	t.HeaderRows = headerRows(t, nil)
	return t
}

// joinWords orders words into lines (by vertical overlap) and left to right,
// and returns their text and mean confidence in [0,1].
func joinWords(ws []word) (string, float64) {
	if len(ws) == 0 {
		return "", 0
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].cy() < ws[j].cy() })
	var lines [][]word
	for _, w := range ws {
		if n := len(lines); n > 0 {
			last := lines[n-1]
			ref := last[0]
			if w.cy() < ref.y1 && w.cy() > ref.y0-0.1*ref.h() || math.Abs(w.cy()-ref.cy()) < 0.5*math.Max(w.h(), ref.h()) {
				lines[n-1] = append(last, w)
				continue
			}
		}
		lines = append(lines, []word{w})
	}
	lines = attachRaisedMarkers(lines)
	var parts []string
	sum, n := 0.0, 0
	for _, l := range lines {
		sort.Slice(l, func(i, j int) bool { return l[i].x0 < l[j].x0 })
		for _, w := range l {
			if w.text != "" {
				parts = append(parts, w.text)
			}
			if w.conf >= 0 {
				sum += w.conf
				n++
			}
		}
	}
	text := joinTokens(parts)
	if n == 0 {
		return text, 0
	}
	return text, math.Round(sum/float64(n)) / 100
}

// attachRaisedMarkers moves a line made only of footnote markers (a raised
// "*" that sits above the middle of the digits, so joinWords put it on a line
// of its own, before the number) into the next line when the two overlap
// vertically or nearly (a <sup> marker can end above the digits, by up to
// raisedMarkerMaxGap of their height) and the marker follows the line's
// start: "392.1*" is read "392.1 *", not "* 392.1".
const raisedMarkerMaxGap = 0.5

func attachRaisedMarkers(lines [][]word) [][]word {
	for i := 0; i+1 < len(lines); i++ {
		if !footnoteOnly(lines[i]) {
			continue
		}
		bottom, top, x0 := math.Inf(-1), math.Inf(1), math.Inf(1)
		for _, w := range lines[i] {
			bottom, x0 = math.Max(bottom, w.y1), math.Min(x0, w.x0)
		}
		nextH, nextX0 := 0.0, math.Inf(1)
		for _, w := range lines[i+1] {
			top, nextH, nextX0 = math.Min(top, w.y0), math.Max(nextH, w.h()), math.Min(nextX0, w.x0)
		}
		if bottom <= top-raisedMarkerMaxGap*nextH || x0 < nextX0 {
			continue
		}
		lines[i+1] = append(lines[i+1], lines[i]...)
		lines = append(lines[:i], lines[i+1:]...)
		i--
	}
	return lines
}

// footnoteOnly reports whether every word of l is made of footnote markers.
func footnoteOnly(l []word) bool {
	for _, w := range l {
		if w.text == "" || strings.Trim(w.text, footnoteRunes) != "" {
			return false
		}
	}
	return len(l) > 0
}

// joinTokens joins tokens with spaces, but glues a lone currency symbol or
// an opening parenthesis to the following token and a closing parenthesis or
// percent sign to the preceding one, as OCR often splits "$ 1,234" or "12.5 %".
func joinTokens(parts []string) string {
	var out []string
	glueNext := false
	for _, p := range parts {
		switch {
		case glueNext && len(out) > 0:
			out[len(out)-1] += p
		case (p == "%" || p == ")" || p == "*") && len(out) > 0:
			out[len(out)-1] += p
		case len(out) > 0 && p[0] >= '0' && p[0] <= '9' && (strings.HasSuffix(out[len(out)-1], ",") || strings.HasSuffix(out[len(out)-1], ".")) && countDigits(out[len(out)-1]) > 0:
			// "2, 665.8": OCR split a number at its thousands separator.
			out[len(out)-1] += p
		default:
			out = append(out, p)
		}
		glueNext = p == "$" || p == "€" || p == "£" || p == "(" || p == "($" || p == "(€" || p == "(£"
	}
	s := ""
	for i, p := range out {
		if i > 0 {
			s += " "
		}
		s += p
	}
	return s
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func sortCells(cs []Cell) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].R != cs[j].R {
			return cs[i].R < cs[j].R
		}
		return cs[i].C < cs[j].C
	})
}

// headerRows guesses the number of header rows: the leading rows that hold
// no data value (a number in a non-first column that is not a bare year),
// extended so that no header cell spans into the body. ruleRow, when >0, is
// the row index below a header rule and wins.
func headerRows(t *Table, ruleRow *int) int {
	if t.NRows <= 1 {
		return 0
	}
	h := 0
	if ruleRow != nil && *ruleRow > 0 && *ruleRow < t.NRows {
		h = *ruleRow
	} else {
		// A data row has a label and a number, or several numbers (bare
		// years do not count; they head columns).
		nums := make([]int, t.NRows)
		label := make([]bool, t.NRows)
		for _, c := range t.Cells {
			if c.C == 0 && c.Text != "" {
				label[c.R] = true
			}
			if c.C >= 1 && c.Value != nil && !yearLike(c.Text) {
				nums[c.R]++
			}
		}
		rowData := make([]bool, t.NRows)
		for r := range rowData {
			rowData[r] = nums[r] >= 2 || nums[r] == 1 && label[r]
		}
		for h < t.NRows && h < 4 && !rowData[h] {
			h++
		}
		if h == t.NRows || h == 4 {
			// No data rows found (or text-only table): one header row.
			h = 1
		}
		if h == 0 {
			return 0
		}
	}
	// Extend over row spans that cross the boundary.
	for changed := true; changed; {
		changed = false
		for _, c := range t.Cells {
			if c.R < h && c.R+c.RowSpan > h && c.R+c.RowSpan < t.NRows {
				h = c.R + c.RowSpan
				changed = true
			}
		}
	}
	return h
}

// yearLike reports a bare four-digit year such as "2023".
func yearLike(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s >= "1900" && s <= "2100"
}
