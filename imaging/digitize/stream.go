package digitize

import (
	"math"
	"sort"
)

// phrase is a run of words in one row separated by word spaces only.
type phrase struct {
	words          []word
	x0, y0, x1, y1 float64
	numeric        bool
}

type streamRow struct {
	words   []word
	y0, y1  float64
	cy      float64
	phrases []phrase
}

// stream builds a table from word boxes alone: rows by vertical position,
// columns from whitespace gaps that persist across rows, with right-aligned
// numeric columns kept apart by their right edges. Horizontal rules, when
// present, mark the end of the header.
func (p *page) stream(words []word) *Table {
	ws := make([]word, 0, len(words))
	var hs []float64
	for _, w := range words {
		if w.conf >= 0 && w.conf < 50 && !hasAlnum(w.text) && w.text != "—" {
			continue
		}
		ws = append(ws, w)
		if w.conf < 0 || countAlnum(w.text) >= 2 {
			hs = append(hs, w.h())
		}
	}
	if len(ws) == 0 {
		return &Table{}
	}
	medH := median(hs)
	if medH == 0 {
		medH = p.capH
	}
	// Rows.
	sort.Slice(ws, func(i, j int) bool { return ws[i].cy() < ws[j].cy() })
	var rows []*streamRow
	for _, w := range ws {
		if n := len(rows); n > 0 && w.cy()-rows[n-1].cy <= 0.55*medH {
			r := rows[n-1]
			r.words = append(r.words, w)
			r.y0, r.y1 = math.Min(r.y0, w.y0), math.Max(r.y1, w.y1)
			// Running centre from words of normal height only.
			if w.h() > 0.6*medH || len(r.words) == 1 {
				r.cy = (r.cy*float64(len(r.words)-1) + w.cy()) / float64(len(r.words))
			}
			continue
		}
		rows = append(rows, &streamRow{words: []word{w}, y0: w.y0, y1: w.y1, cy: w.cy()})
	}
	// Phrases.
	gapT := 0.9 * medH
	for _, r := range rows {
		sort.Slice(r.words, func(i, j int) bool { return r.words[i].x0 < r.words[j].x0 })
		var cur *phrase
		for _, w := range r.words {
			if cur != nil && (w.x0-cur.x1 < gapT || isCurrencyOnly(cur.words[len(cur.words)-1].text)) {
				cur.words = append(cur.words, w)
				cur.x1 = math.Max(cur.x1, w.x1)
				cur.y0, cur.y1 = math.Min(cur.y0, w.y0), math.Max(cur.y1, w.y1)
				continue
			}
			r.phrases = append(r.phrases, phrase{words: []word{w}, x0: w.x0, y0: w.y0, x1: w.x1, y1: w.y1})
			cur = &r.phrases[len(r.phrases)-1]
		}
		for i := range r.phrases {
			ph := &r.phrases[i]
			t, _ := joinWords(append([]word(nil), ph.words...))
			ph.numeric = numericLike(t)
		}
	}
	// Column boundaries from persistent gaps.
	bounds := p.columnBounds(rows, medH)
	nc := len(bounds) + 1
	colOf := func(x float64) int { return sort.SearchFloat64s(bounds, x) }
	// Table extents.
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, w := range ws {
		minX, maxX = math.Min(minX, w.x0), math.Max(maxX, w.x1)
	}
	colX := append(append([]float64{minX - 0.3*medH}, bounds...), maxX+0.3*medH)
	rowY := make([]float64, len(rows)+1)
	rowY[0] = rows[0].y0 - 0.3*medH
	for i := 1; i < len(rows); i++ {
		rowY[i] = (rows[i-1].y1 + rows[i].y0) / 2
	}
	rowY[len(rows)] = rows[len(rows)-1].y1 + 0.3*medH

	t := &Table{NRows: len(rows), NCols: nc}
	textX := map[[2]int][2]float64{}
	eps := 0.25 * medH
	for i, r := range rows {
		type span struct {
			c0, c1 int
			words  []word
		}
		var spans []span
		for _, ph := range r.phrases {
			c0, c1 := colOf(ph.x0+eps), colOf(ph.x1-eps)
			if c1 < c0 {
				c0, c1 = colOf(ph.x0), colOf(ph.x0)
			}
			merged := false
			for k := range spans {
				if c0 <= spans[k].c1 && c1 >= spans[k].c0 {
					spans[k].c0, spans[k].c1 = min(spans[k].c0, c0), max(spans[k].c1, c1)
					spans[k].words = append(spans[k].words, ph.words...)
					merged = true
					break
				}
			}
			if !merged {
				spans = append(spans, span{c0, c1, append([]word(nil), ph.words...)})
			}
		}
		used := make([]bool, nc)
		for _, s := range spans {
			text, conf := joinWords(s.words)
			tx0, tx1 := math.Inf(1), math.Inf(-1)
			for _, w := range s.words {
				tx0, tx1 = math.Min(tx0, w.x0), math.Max(tx1, w.x1)
			}
			textX[[2]int{i, s.c0}] = [2]float64{tx0, tx1}
			for c := s.c0; c <= s.c1; c++ {
				used[c] = true
			}
			t.Cells = append(t.Cells, Cell{R: i, C: s.c0, RowSpan: 1, ColSpan: s.c1 - s.c0 + 1, Text: text, Conf: conf,
				Value: ParseValue(text), BBox: p.frac(colX[s.c0], rowY[i], colX[s.c1+1], rowY[i+1])})
		}
		for c := 0; c < nc; c++ {
			if !used[c] {
				t.Cells = append(t.Cells, Cell{R: i, C: c, RowSpan: 1, ColSpan: 1, BBox: p.frac(colX[c], rowY[i], colX[c+1], rowY[i+1])})
			}
		}
	}
	sortCells(t.Cells)
	// Header: the first near-full-width rule between two of the first rows
	// wins; partial rules (under group headers, above totals) do not count.
	var ruleRow *int
	width := maxX - minX
	for _, s := range p.hSeps {
		lo, hi := s.extent()
		if float64(hi-lo) < 0.85*width {
			continue
		}
		y := float64(s.pos)
		for i := 1; i < len(rows) && i <= 4 && i <= len(rows)/2; i++ {
			if y > rows[i-1].y1-1 && y < rows[i].y0+1 {
				ii := i
				ruleRow = &ii
				break
			}
		}
		if ruleRow != nil {
			break
		}
	}
	t.HeaderRows = headerRows(t, ruleRow)
	expandHeaderSpans(t, colX, textX, func(r, c0, c1 int) [4]float64 {
		return p.frac(colX[c0], rowY[r], colX[c1+1], rowY[r+1])
	})
	return t
}

// columnBounds returns the x positions separating columns.
func (p *page) columnBounds(rows []*streamRow, medH float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		for _, ph := range r.phrases {
			minX, maxX = math.Min(minX, ph.x0), math.Max(maxX, ph.x1)
		}
	}
	x0 := int(math.Floor(minX))
	n := int(math.Ceil(maxX)) - x0 + 1
	coverage := func(rows []*streamRow) []int {
		cov := make([]int, n)
		mark := make([]bool, n)
		for _, r := range rows {
			clear(mark)
			for _, ph := range r.phrases {
				for x := max(int(ph.x0)-x0, 0); x < int(math.Ceil(ph.x1))-x0 && x < n; x++ {
					mark[x] = true
				}
			}
			for x, m := range mark {
				if m {
					cov[x]++
				}
			}
		}
		return cov
	}
	// Gaps are found on rows with several phrases, so that a group header
	// spanning columns (one phrase in its row) does not bridge them; the
	// cut inside a gap then avoids every row's text where it can.
	var multi []*streamRow
	for _, r := range rows {
		if len(r.phrases) >= 2 {
			multi = append(multi, r)
		}
	}
	if len(multi) < 3 {
		multi = rows
	}
	cov, covAll := coverage(multi), coverage(rows)
	tol := 0
	if len(multi) >= 4 {
		tol = max(1, len(multi)/8)
	}
	minGap := int(0.5 * medH)
	var bounds []float64
	type gap struct{ a, b int }
	var gaps []gap
	for x := 0; x < n; {
		if cov[x] > tol {
			x++
			continue
		}
		a := x
		for x < n && cov[x] <= tol {
			x++
		}
		if a > 0 && x < n && x-a >= minGap {
			gaps = append(gaps, gap{a, x - 1})
		}
	}
	for _, g := range gaps {
		// Cut in the least-covered part of the gap, so that one long label
		// or a wide header reaching into the gap is not split.
		score := func(x int) int { return covAll[x]*1000 + cov[x] }
		lo := score(g.a)
		for x := g.a; x <= g.b; x++ {
			lo = min(lo, score(x))
		}
		a, b, best := -1, -1, -1
		for x := g.a; x <= g.b; x++ {
			if score(x) != lo {
				continue
			}
			e := x
			for e+1 <= g.b && score(e+1) == lo {
				e++
			}
			if e-x > best {
				a, b, best = x, e, e-x
			}
			x = e
		}
		bounds = append(bounds, float64(x0)+float64(a+b)/2)
	}
	// Right-aligned numeric columns: cluster right edges of numbers and split
	// any column that holds two well-supported clusters.
	var edges []float64
	for _, r := range rows {
		for _, ph := range r.phrases {
			if ph.numeric {
				edges = append(edges, ph.x1)
			}
		}
	}
	sort.Float64s(edges)
	type cluster struct {
		lo, hi float64
		n      int
	}
	var cl []cluster
	for _, e := range edges {
		if k := len(cl); k > 0 && e-cl[k-1].hi <= 0.8*medH {
			cl[k-1].hi = e
			cl[k-1].n++
			continue
		}
		cl = append(cl, cluster{e, e, 1})
	}
	support := max(2, len(rows)/5)
	var strong []cluster
	for _, c := range cl {
		if c.n >= support {
			strong = append(strong, c)
		}
	}
	for i := 1; i < len(strong); i++ {
		a, b := strong[i-1], strong[i]
		ia := sort.SearchFloat64s(bounds, a.hi)
		ib := sort.SearchFloat64s(bounds, b.hi)
		if ia != ib {
			continue
		}
		// Split just left of the right cluster's widest number.
		leftmost := b.lo
		for _, r := range rows {
			for _, ph := range r.phrases {
				if ph.numeric && ph.x1 >= b.lo && ph.x1 <= b.hi && ph.x0 > a.hi {
					leftmost = math.Min(leftmost, ph.x0)
				}
			}
		}
		cut := (a.hi + leftmost) / 2
		if cut <= a.hi {
			cut = a.hi + 1
		}
		bounds = append(bounds, cut)
		sort.Float64s(bounds)
	}
	return bounds
}

// expandHeaderSpans widens spanning header cells (above the last header row)
// over empty neighbours when the wider span stays centred on the text, as
// group headers are centred over the columns they cover. bbox gives the box
// of row r, columns c0..c1.
func expandHeaderSpans(t *Table, colX []float64, textX map[[2]int][2]float64, bbox func(r, c0, c1 int) [4]float64) {
	for r := 0; r < t.HeaderRows-1; r++ {
		empty := make(map[int]bool)
		var filled []*Cell
		for i := range t.Cells {
			c := &t.Cells[i]
			if c.R != r {
				continue
			}
			if c.Text == "" {
				empty[c.C] = true
			} else if c.C > 0 {
				filled = append(filled, c)
			}
		}
		changed := false
		for _, c := range filled {
			// Centre of the text, not of its current columns.
			tx, ok := textX[[2]int{c.R, c.C}]
			if !ok {
				continue
			}
			center := (tx[0] + tx[1]) / 2
			last := c.C + c.ColSpan - 1
			best0, best1 := c.C, last
			for a := c.C; a >= 1 && (a == c.C || empty[a]); a-- {
				for b := last; b < t.NCols && (b == last || empty[b]); b++ {
					width := colX[b+1] - colX[a]
					if math.Abs((colX[a]+colX[b+1])/2-center) <= 0.15*width/float64(b-a+1) && b-a > best1-best0 {
						best0, best1 = a, b
					}
				}
			}
			if best0 == c.C && best1 == last {
				continue
			}
			for k := best0; k <= best1; k++ {
				empty[k] = false
			}
			c.C, c.ColSpan = best0, best1-best0+1
			c.BBox = bbox(r, best0, best1)
			changed = true
		}
		if !changed {
			continue
		}
		keep := t.Cells[:0]
		for _, c := range t.Cells {
			if c.R == r && c.Text == "" && !empty[c.C] {
				continue
			}
			keep = append(keep, c)
		}
		t.Cells = keep
	}
	sortCells(t.Cells)
}

func isCurrencyOnly(s string) bool {
	switch s {
	case "$", "€", "£", "¥", "($", "(€", "(£", "(":
		return true
	}
	return false
}

func hasAlnum(s string) bool { return countAlnum(s) > 0 }

func countAlnum(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			n++
		}
	}
	return n
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
