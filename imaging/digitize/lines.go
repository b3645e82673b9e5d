package digitize

import (
	"image"
	"sort"
)

// segment is a straight ruling line: for horizontal lines pos is the centre
// y, lo..hi the x extent; for vertical lines pos is x and lo..hi the y extent.
type segment struct {
	pos, lo, hi int
	thick       int
	a, b        int // first and last pixel row/column covered across the line
}

// rulings holds the ruling lines found in an image.
type rulings struct {
	h, v []segment
}

// findRulings finds long thin horizontal and vertical dark runs in g. ink
// marks candidate line pixels; minH and minV are minimum run lengths.
func findRulings(ink *binary, minH, minV, maxThick int) rulings {
	var r rulings
	r.h = extend(ink, collectRuns(thinMask(ink, true, maxThick), true, minH, maxThick), true)
	r.v = extend(ink, collectRuns(thinMask(ink, false, maxThick), false, minV, maxThick), false)
	return r
}

// extend grows each segment along its own rows (columns) through ink the
// thin test rejected, such as where text sits right against the line.
func extend(ink *binary, segs []segment, horizontal bool) []segment {
	n := ink.w
	if !horizontal {
		n = ink.h
	}
	on := func(s segment, i int) bool {
		for l := s.a; l <= s.b; l++ {
			if horizontal && ink.pix[l*ink.w+i] != 0 || !horizontal && ink.pix[i*ink.w+l] != 0 {
				return true
			}
		}
		return false
	}
	for k := range segs {
		s := &segs[k]
		for gap, i := 0, s.lo-1; i >= 0 && gap <= 2; i-- {
			if on(*s, i) {
				s.lo, gap = i, 0
			} else {
				gap++
			}
		}
		for gap, i := 0, s.hi+1; i < n && gap <= 2; i++ {
			if on(*s, i) {
				s.hi, gap = i, 0
			} else {
				gap++
			}
		}
	}
	return segs
}

// thinMask keeps ink pixels whose ink run across the line direction (the
// vertical run for horizontal lines) is at most maxThick long. Rulings pass;
// text, even blurred into long runs, breaks at every vertical stroke.
func thinMask(ink *binary, horizontal bool, maxThick int) *binary {
	w, h := ink.w, ink.h
	out := &binary{w: w, h: h, pix: make([]uint8, w*h)}
	if horizontal {
		for x := 0; x < w; x++ {
			for y := 0; y < h; {
				if ink.pix[y*w+x] == 0 {
					y++
					continue
				}
				a := y
				for y < h && ink.pix[y*w+x] != 0 {
					y++
				}
				if y-a <= maxThick {
					for k := a; k < y; k++ {
						out.pix[k*w+x] = 1
					}
				}
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		row := ink.pix[y*w : (y+1)*w]
		for x := 0; x < w; {
			if row[x] == 0 {
				x++
				continue
			}
			a := x
			for x < w && row[x] != 0 {
				x++
			}
			if x-a <= maxThick {
				for k := a; k < x; k++ {
					out.pix[y*w+k] = 1
				}
			}
		}
	}
	return out
}

type run struct{ line, lo, hi int }

// collectRuns scans rows (horizontal) or columns (vertical) for runs of at
// least minLen ink pixels, allowing 1-pixel breaks, then joins runs on
// adjacent rows that overlap into segments.
func collectRuns(ink *binary, horizontal bool, minLen, maxThick int) []segment {
	n, m := ink.h, ink.w // n lines of length m
	if !horizontal {
		n, m = ink.w, ink.h
	}
	get := func(line, i int) bool {
		if horizontal {
			return ink.pix[line*ink.w+i] != 0
		}
		return ink.pix[i*ink.w+line] != 0
	}
	var runs []run
	for l := 0; l < n; l++ {
		start, gap := -1, 0
		for i := 0; i <= m; i++ {
			on := i < m && get(l, i)
			if on {
				if start < 0 {
					start = i
				}
				gap = 0
				continue
			}
			if start >= 0 {
				gap++
				if gap <= 2 && i < m {
					continue
				}
				end := i - gap
				if end-start+1 >= minLen {
					runs = append(runs, run{l, start, end})
				}
				start, gap = -1, 0
			}
		}
	}
	// Join runs on consecutive lines that overlap.
	type acc struct {
		first, last int
		lo, hi      int
		sumLine     int
		cnt         int
	}
	var groups []*acc
	var active []*acc
	for _, rn := range runs {
		var found *acc
		for _, g := range active {
			if g.last >= rn.line-1 && g.last < rn.line && overlap(g.lo, g.hi, rn.lo, rn.hi) > min(g.hi-g.lo, rn.hi-rn.lo)/2 {
				found = g
				break
			}
		}
		if found == nil {
			found = &acc{first: rn.line, last: rn.line, lo: rn.lo, hi: rn.hi}
			groups = append(groups, found)
			active = append(active, found)
		} else {
			found.last = rn.line
			found.lo, found.hi = min(found.lo, rn.lo), max(found.hi, rn.hi)
		}
		found.sumLine += rn.line
		found.cnt++
		// Drop groups that can no longer grow.
		k := 0
		for _, g := range active {
			if g.last >= rn.line-1 {
				active[k] = g
				k++
			}
		}
		active = active[:k]
	}
	var segs []segment
	for _, g := range groups {
		thick := g.last - g.first + 1
		if thick > maxThick {
			continue
		}
		segs = append(segs, segment{pos: g.sumLine / g.cnt, lo: g.lo, hi: g.hi, thick: thick, a: g.first, b: g.last})
	}
	return segs
}

func overlap(a0, a1, b0, b1 int) int {
	return max(0, min(a1, b1)-max(a0, b0))
}

// separator is a cluster of collinear segments at one position.
type separator struct {
	pos      int
	a, b     int      // extreme pixel rows/cols across the thickness
	spans    [][2]int // covered intervals along the line, sorted, merged
	coverage int
}

// clusterSegments groups segments whose positions are within tol into
// separators, merging their covered intervals.
func clusterSegments(segs []segment, tol int) []separator {
	sort.Slice(segs, func(i, j int) bool { return segs[i].pos < segs[j].pos })
	var out []separator
	for i := 0; i < len(segs); {
		j := i
		for j+1 < len(segs) && segs[j+1].pos-segs[j].pos <= tol {
			j++
		}
		sep := separator{a: segs[i].a, b: segs[i].b}
		sum, wsum := 0, 0
		var iv [][2]int
		for _, s := range segs[i : j+1] {
			l := s.hi - s.lo + 1
			sum += s.pos * l
			wsum += l
			sep.a, sep.b = min(sep.a, s.a), max(sep.b, s.b)
			iv = append(iv, [2]int{s.lo, s.hi})
		}
		sep.pos = (sum + wsum/2) / wsum
		sep.spans = mergeIntervals(iv, tol+2)
		for _, s := range sep.spans {
			sep.coverage += s[1] - s[0] + 1
		}
		out = append(out, sep)
		i = j + 1
	}
	return out
}

func mergeIntervals(iv [][2]int, gap int) [][2]int {
	sort.Slice(iv, func(i, j int) bool { return iv[i][0] < iv[j][0] })
	var out [][2]int
	for _, v := range iv {
		if len(out) > 0 && v[0] <= out[len(out)-1][1]+gap {
			out[len(out)-1][1] = max(out[len(out)-1][1], v[1])
			continue
		}
		out = append(out, v)
	}
	return out
}

// covered returns how many pixels of [lo,hi] the separator covers.
func (s separator) covered(lo, hi int) int {
	n := 0
	for _, sp := range s.spans {
		n += overlap(sp[0], sp[1]+1, lo, hi+1)
	}
	return n
}

func (s separator) extent() (int, int) {
	if len(s.spans) == 0 {
		return 0, -1
	}
	return s.spans[0][0], s.spans[len(s.spans)-1][1]
}

// eraseRulings paints every ruling segment (plus a margin) with the
// background grey so that OCR does not read lines as characters.
func eraseRulings(g *image.Gray, r rulings, bg uint8, margin int) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	fill := func(x0, y0, x1, y1 int) {
		x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w-1), min(y1, h-1)
		for y := y0; y <= y1; y++ {
			row := g.Pix[y*g.Stride:]
			for x := x0; x <= x1; x++ {
				row[x] = bg
			}
		}
	}
	for _, s := range r.h {
		fill(s.lo-margin, s.a-margin, s.hi+margin, s.b+margin)
	}
	for _, s := range r.v {
		fill(s.a-margin, s.lo-margin, s.b+margin, s.hi+margin)
	}
}
