package chart

import (
	"math"
	"sort"
)

// bar is one measured bar.
type bar struct {
	cl       int
	lo, hi   float64 // extent across the bar (x for vertical bars)
	end      float64 // value-end edge (top for vertical, right for horizontal)
	val      float64
	group    int
	labelled bool
	neg      bool // below or left of the baseline
	comp     int  // component index
	stacked  bool // sits on another segment
}

// barEnd measures the value end of a bar with sub-pixel precision from the
// coverage of the series colour across the edge, using the middle half of the
// bar's thickness.
func (d *digitizer) barEnd(c component, horizontal, neg bool) float64 {
	col := d.cl[c.cl].c
	var ends []float64
	// Sum the colour's coverage across the edge from a few pixels inside the
	// bar to a few outside; the edge is where the full pixels end.
	switch {
	case !horizontal && !neg: // top edge
		in, out := min(c.y0+3, c.y1), max(0, c.y0-3)
		for x := c.x0 + c.w()/4; x <= c.x1-c.w()/4; x++ {
			ends = append(ends, float64(in+1)-d.coverSum(x, x, out, in, col))
		}
	case !horizontal && neg: // bottom edge
		in, out := max(c.y1-3, c.y0), min(d.r.h-1, c.y1+3)
		for x := c.x0 + c.w()/4; x <= c.x1-c.w()/4; x++ {
			ends = append(ends, float64(in)+d.coverSum(x, x, in, out, col))
		}
	case horizontal && !neg: // right edge
		in, out := max(c.x1-3, c.x0), min(d.r.w-1, c.x1+3)
		for y := c.y0 + c.h()/4; y <= c.y1-c.h()/4; y++ {
			ends = append(ends, float64(in)+d.coverSum(in, out, y, y, col))
		}
	default: // left edge
		in, out := min(c.x0+3, c.x1), max(0, c.x0-3)
		for y := c.y0 + c.h()/4; y <= c.y1-c.h()/4; y++ {
			ends = append(ends, float64(in+1)-d.coverSum(out, in, y, y, col))
		}
	}
	return median(ends)
}

// coverSum adds the coverage of colour col over the inclusive pixel box.
func (d *digitizer) coverSum(x0, x1, y0, y1 int, col [3]float64) float64 {
	s := 0.0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if a, dist := d.r.coverage(x, y, col); dist < 60 {
				s += a
			}
		}
	}
	return s
}

// bars measures every bar, groups bars into categories, reads the category
// labels and the printed data labels.
func (d *digitizer) bars(kind string, kinds []compKind, legend []legendEntry) ([]Series, []any) {
	horizontal := kind == TypeBarHorizontal
	th := d.textH
	var bs []bar
	for i, c := range d.comps {
		if (horizontal && kinds[i] != kHBar) || (!horizontal && kinds[i] != kVBar) {
			continue
		}
		b := bar{cl: c.cl}
		if horizontal {
			b.lo, b.hi = float64(c.y0), float64(c.y1+1)
		} else {
			b.lo, b.hi = float64(c.x0), float64(c.x1+1)
		}
		b.neg = d.negative(c, horizontal)
		b.end = d.barEnd(c, horizontal, b.neg)
		b.val = d.value(b.end, horizontal)
		b.comp = i
		bs = append(bs, b)
	}
	// A stacked segment's value is its own extent: its end minus the end of
	// the segment it sits on.
	endOf := map[int]float64{}
	for _, b := range bs {
		endOf[b.comp] = b.end
	}
	for k := range bs {
		if j, ok := d.stackBelow[bs[k].comp]; ok {
			if e, ok := endOf[j]; ok {
				bs[k].val = d.roundValue(d.value(bs[k].end, horizontal) - d.value(e, horizontal))
				bs[k].stacked = true
			}
		}
	}
	// Slivers (anti-aliased edges, JPEG fringes) are much thinner than bars.
	var thick []float64
	for _, b := range bs {
		thick = append(thick, b.hi-b.lo)
	}
	mt := median(thick)
	slim := bs[:0]
	for _, b := range bs {
		if b.hi-b.lo >= 0.5*mt {
			slim = append(slim, b)
		}
	}
	bs = slim
	// Drop blend colours before grouping, so that they cannot split groups.
	mass := map[int]float64{}
	var cls []int
	for _, b := range bs {
		if _, ok := mass[b.cl]; !ok {
			cls = append(cls, b.cl)
		}
		mass[b.cl] += (b.hi - b.lo) * math.Abs(b.end-d.baselineOf(horizontal))
	}
	keep := map[int]bool{}
	for _, c := range dropUnlisted(cls, legend, mass) {
		keep[c] = true
	}
	kept := bs[:0]
	for _, b := range bs {
		if keep[b.cl] {
			kept = append(kept, b)
		}
	}
	bs = kept
	if len(bs) == 0 {
		return nil, nil
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].lo < bs[j].lo })
	// Group adjacent bars: a new group starts at a wide gap or when a colour
	// repeats.
	var gaps []float64
	for i := 1; i < len(bs); i++ {
		gaps = append(gaps, bs[i].lo-bs[i-1].hi)
	}
	thr := math.Inf(1)
	if len(gaps) > 0 {
		mn, mx := math.Inf(1), math.Inf(-1)
		for _, g := range gaps {
			mn, mx = math.Min(mn, g), math.Max(mx, g)
		}
		if mx > 2*math.Max(mn, 0)+3 {
			thr = (mn + mx) / 2
		}
	}
	g := 0
	seen := map[int]bool{bs[0].cl: true}
	for i := 1; i < len(bs); i++ {
		if bs[i].lo-bs[i-1].hi > thr || seen[bs[i].cl] {
			g++
			seen = map[int]bool{}
		}
		seen[bs[i].cl] = true
		bs[i].group = g
	}
	ng := g + 1
	centres := make([]float64, ng)
	counts := make([]float64, ng)
	for _, b := range bs {
		centres[b.group] += (b.lo + b.hi) / 2
		counts[b.group]++
	}
	for i := range centres {
		centres[i] /= counts[i]
	}
	spacing := math.Inf(1)
	for i := 1; i < ng; i++ {
		spacing = math.Min(spacing, centres[i]-centres[i-1])
	}
	if math.IsInf(spacing, 1) {
		if horizontal {
			spacing = float64(d.ax.y1 - d.ax.y0)
		} else {
			spacing = float64(d.ax.x1 - d.ax.x0)
		}
	}
	// Printed data labels win over the measured edge when they agree with it.
	if d.ocrOK && d.fit.ok {
		// Stacks carry their labels inside the segments or as totals, not
		// at each segment's end.
		under := map[int]bool{}
		for _, j := range d.stackBelow {
			under[j] = true
		}
		for bi := range bs {
			if !bs[bi].stacked && !under[bs[bi].comp] {
				d.dataLabel(&bs[bi], horizontal)
			}
		}
	}
	// Category labels.
	catWords := make([][]word, ng)
	for i, w := range d.words {
		if d.used[i] {
			continue
		}
		var pos float64
		if horizontal {
			if w.x1 > d.ax.yAxisX+0.3*th || w.cy() < float64(d.ax.y0)-th || w.cy() > d.ax.xAxisY {
				continue
			}
			pos = w.cy()
		} else {
			if w.y0 < d.ax.xAxisY-0.3*th || w.y0 > d.ax.xAxisY+3*th {
				continue
			}
			pos = w.cx()
		}
		best, bd := -1, spacing/2
		for gi, c := range centres {
			if dd := math.Abs(c - pos); dd < bd {
				best, bd = gi, dd
			}
		}
		if best >= 0 {
			catWords[best] = append(catWords[best], w)
			d.used[i] = true
		}
	}
	cats := make([]any, ng)
	missing := false
	for gi := range cats {
		if len(catWords[gi]) > 0 {
			cats[gi] = joinWords(catWords[gi], th)
		} else {
			cats[gi] = gi + 1
			missing = true
		}
	}
	if missing && d.ocrOK {
		d.warn(WarnMissingCategory)
	}
	// Series.
	var present []int
	firstPos := map[int]float64{}
	for _, b := range bs {
		if _, ok := firstPos[b.cl]; !ok {
			present = append(present, b.cl)
		}
		// Rank within the group decides the fallback order.
		firstPos[b.cl] += b.lo - centres[b.group]
	}
	order := seriesOrder(present, legend, func(a, b int) bool { return firstPos[a] < firstPos[b] })
	if len(legend) == 0 && len(order) > 1 {
		d.warn(WarnNoLegend)
	}
	baseline := d.baselineOf(horizontal)
	var out []Series
	for _, ci := range order {
		s := Series{Name: legendName(legend, ci), Color: hexOf(d.cl[ci].c), Points: []Point{}}
		for gi := 0; gi < ng; gi++ {
			val, found := 0.0, false
			for _, b := range bs {
				if b.cl == ci && b.group == gi {
					val, found = b.val, true
					break
				}
			}
			if !found {
				// A bar too short to see sits on the baseline.
				val = d.value(baseline, horizontal)
			}
			s.Points = append(s.Points, Point{X: cats[gi], Y: val})
		}
		out = append(out, s)
	}
	return out, cats
}

// dataLabel looks for a number printed just beyond the bar's end and uses it
// when it agrees with the measured value.
func (d *digitizer) dataLabel(b *bar, horizontal bool) {
	th := d.textH
	best, bestD := -1, math.Inf(1)
	var bestV float64
	for i, w := range d.words {
		if d.used[i] {
			continue
		}
		alts := numberVariants(w.text)
		if len(alts) == 0 {
			continue
		}
		// The reading closest to the measured value.
		v := alts[0]
		for _, a := range alts[1:] {
			if math.Abs(a-b.val) < math.Abs(v-b.val) {
				v = a
			}
		}
		var dist float64
		switch {
		case horizontal && !b.neg:
			if w.cy() < b.lo-0.3*th || w.cy() > b.hi+0.3*th || w.x0 < b.end-3 || w.x0 > b.end+2.5*th {
				continue
			}
			dist = math.Abs(w.x0 - b.end)
		case horizontal:
			if w.cy() < b.lo-0.3*th || w.cy() > b.hi+0.3*th || w.x1 > b.end+3 || w.x1 < b.end-2.5*th {
				continue
			}
			dist = math.Abs(w.x1 - b.end)
		default:
			width := b.hi - b.lo
			if w.cx() < b.lo-0.3*width || w.cx() > b.hi+0.3*width {
				continue
			}
			if (!b.neg && (w.y1 > b.end+3 || w.y1 < b.end-2.5*th)) || (b.neg && (w.y0 < b.end-3 || w.y0 > b.end+2.5*th)) {
				continue
			}
			dist = math.Abs(w.cx() - (b.lo+b.hi)/2)
		}
		if dist < bestD {
			best, bestD, bestV = i, dist, v
		}
	}
	if best < 0 {
		return
	}
	span := d.fit.span()
	diff := math.Abs(bestV - b.val)
	if d.fit.log && bestV > 0 && b.val > 0 {
		diff = math.Abs(math.Log10(bestV) - math.Log10(b.val))
	}
	if diff <= labelAgreementMargin*span {
		b.val = bestV
		b.labelled = true
		d.used[best] = true
	} else {
		d.warn(WarnLabelMismatch)
	}
}

// lines traces each line series column by column and samples it at the
// category positions (x tick marks, else label centres).
func (d *digitizer) lines(legend []legendEntry) ([]Series, []any) {
	ax, th := d.ax, d.textH
	r := d.r
	legendComp := map[int]bool{}
	for _, e := range legend {
		legendComp[e.comp.id] = true
	}
	// Column centroids per colour.
	nc := len(d.cl)
	w := ax.x1 - ax.x0
	cent := make([][]float64, nc)
	mass := make([][]float64, nc)
	for ci := range cent {
		cent[ci] = make([]float64, w)
		mass[ci] = make([]float64, w)
	}
	// Only sizeable pieces of a colour trace a line: specks are blends of
	// other series with the background (JPEG chroma subsampling).
	clTotal := make([]int, nc)
	for _, c := range d.comps {
		clTotal[c.cl] += c.area
	}
	big := make([]bool, len(d.comps))
	for i, c := range d.comps {
		big[i] = c.area >= max(20, clTotal[c.cl]/100) && !legendComp[c.id]
	}
	// Per column and colour, the heaviest run of pixels (gaps of one pixel
	// allowed) gives the line's centre.
	for x := ax.x0; x < ax.x1; x++ {
		for ci := 0; ci < nc; ci++ {
			bestM, bestC := 0.0, 0.0
			runM, runC, gap := 0.0, 0.0, 0
			for y := max(0, ax.y0-3); y < ax.xAxisRows[0]; y++ {
				i := y*r.w + x
				if d.lm.lab[i] == int16(ci) && big[d.ids[i]] {
					a := float64(d.lm.alpha[i])
					runM += a
					runC += (float64(y) + 0.5) * a
					gap = 0
				} else if runM > 0 {
					gap++
					if gap > 1 {
						if runM > bestM {
							bestM, bestC = runM, runC
						}
						runM, runC, gap = 0, 0, 0
					}
				}
			}
			if runM > bestM {
				bestM, bestC = runM, runC
			}
			cent[ci][x-ax.x0] = bestC
			mass[ci][x-ax.x0] = bestM
		}
	}
	var present []int
	firstX := map[int]int{}
	for ci := 0; ci < nc; ci++ {
		cols := 0
		first := -1
		for x := 0; x < w; x++ {
			if mass[ci][x] >= 0.5 {
				cent[ci][x] /= mass[ci][x]
				cols++
				if first < 0 {
					first = x
				}
			} else {
				mass[ci][x] = 0
			}
		}
		if float64(cols) >= 0.2*float64(w) {
			present = append(present, ci)
			firstX[ci] = first
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	// Category positions.
	xs := tickMarks(r, ax, false, d.textH)
	var pos []float64
	for _, x := range xs {
		if x > float64(ax.x0)+1 && x < float64(ax.x1) {
			pos = append(pos, x)
		}
	}
	var catWords [][]word
	below := func(wd word) bool { return wd.y0 >= ax.xAxisY-0.3*th && wd.y0 <= ax.xAxisY+3*th }
	if len(pos) < 2 {
		// No tick marks: centres of the label groups below the axis.
		pos = nil
		var ws []word
		for i, wd := range d.words {
			if !d.used[i] && below(wd) {
				ws = append(ws, wd)
			}
		}
		sort.Slice(ws, func(i, j int) bool { return ws[i].x0 < ws[j].x0 })
		for i := 0; i < len(ws); {
			j := i + 1
			for j < len(ws) && ws[j].x0-ws[j-1].x1 < 0.8*th {
				j++
			}
			pos = append(pos, (ws[i].x0+ws[j-1].x1)/2)
			i = j
		}
	}
	if len(pos) < 2 {
		// Nothing to anchor categories: sample where the series bends is not
		// reliable, so sample evenly at ten points.
		pos = nil
		for k := 0; k < 10; k++ {
			pos = append(pos, float64(ax.x0)+(float64(k)+0.5)*float64(w)/10)
		}
	}
	sort.Float64s(pos)
	spacing := float64(w)
	for i := 1; i < len(pos); i++ {
		spacing = math.Min(spacing, pos[i]-pos[i-1])
	}
	catWords = make([][]word, len(pos))
	for i, wd := range d.words {
		if d.used[i] || !below(wd) {
			continue
		}
		best, bd := -1, spacing/2
		for k, p := range pos {
			if dd := math.Abs(p - wd.cx()); dd < bd {
				best, bd = k, dd
			}
		}
		if best >= 0 {
			catWords[best] = append(catWords[best], wd)
			d.used[i] = true
		}
	}
	cats := make([]any, len(pos))
	missing := false
	for k := range pos {
		if len(catWords[k]) > 0 {
			cats[k] = joinWords(catWords[k], th)
		} else {
			cats[k] = k + 1
			missing = true
		}
	}
	if missing && d.ocrOK {
		d.warn(WarnMissingCategory)
	}
	lmass := map[int]float64{}
	for _, ci := range present {
		for _, m := range mass[ci] {
			lmass[ci] += m
		}
	}
	present = dropUnlisted(present, legend, lmass)
	order := seriesOrder(present, legend, func(a, b int) bool { return firstX[a] < firstX[b] })
	var out []Series
	for _, ci := range order {
		s := Series{Name: legendName(legend, ci), Color: hexOf(d.cl[ci].c), Points: []Point{}}
		for k, p := range pos {
			y, ok := sampleLine(cent[ci], mass[ci], p-float64(ax.x0), spacing)

			if !ok {
				continue
			}
			s.Points = append(s.Points, Point{X: cats[k], Y: d.value(y, false)})
		}
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out, cats
}

// sampleLine estimates the line's height at column x by fitting straight
// lines to the centroids on each side (away from the joint and any marker)
// and averaging their values at x. Near a vertex the column centroid itself
// is biased by the joint, which the side fits avoid.
func sampleLine(cent, mass []float64, x, spacing float64) (float64, bool) {
	var ests []float64
	for _, side := range []float64{-1, 1} {
		var xs, ys []float64
		for off := 0.15 * spacing; off <= 0.45*spacing; off++ {
			c := int(math.Floor(x + side*off))
			if c < 0 || c >= len(cent) || mass[c] == 0 {
				continue
			}
			xs = append(xs, float64(c)+0.5)
			ys = append(ys, cent[c])
		}
		if len(xs) < 3 {
			continue
		}
		var sx, sy, sxx, sxy float64
		for i := range xs {
			sx += xs[i]
			sy += ys[i]
			sxx += xs[i] * xs[i]
			sxy += xs[i] * ys[i]
		}
		n := float64(len(xs))
		den := n*sxx - sx*sx
		if den == 0 {
			continue
		}
		b := (n*sxy - sx*sy) / den
		a := (sy - b*sx) / n
		ests = append(ests, a+b*x)
	}
	if len(ests) == 0 {
		c := int(x)
		if c >= 0 && c < len(cent) && mass[c] > 0 {
			return cent[c], true
		}
		return 0, false
	}
	s := 0.0
	for _, e := range ests {
		s += e
	}
	return s / float64(len(ests)), true
}

// baselineOf is the centre of the line bars grow from.
func (d *digitizer) baselineOf(horizontal bool) float64 {
	if horizontal {
		if d.ax.baseCols != d.ax.yAxisCols {
			return float64(d.ax.baseCols[0]+d.ax.baseCols[1]+1) / 2
		}
		return d.ax.yAxisX
	}
	if d.ax.baseRows != d.ax.xAxisRows {
		return float64(d.ax.baseRows[0]+d.ax.baseRows[1]+1) / 2
	}
	return d.ax.xAxisY
}

// dropUnlisted removes colours that have no legend entry when the others do
// and that carry little data: blends of two series colours or of a series
// and the axis (JPEG, anti-aliasing) rather than a series of their own.
func dropUnlisted(present []int, legend []legendEntry, mass map[int]float64) []int {
	if len(legend) == 0 {
		return present
	}
	listed := map[int]bool{}
	for _, e := range legend {
		listed[e.cl] = true
	}
	avg, n := 0.0, 0
	for _, c := range present {
		if listed[c] {
			avg += mass[c]
			n++
		}
	}
	if n == 0 {
		return present
	}
	avg /= float64(n)
	var out []int
	for _, c := range present {
		if listed[c] || mass[c] >= 0.25*avg {
			out = append(out, c)
		}
	}
	return out
}
