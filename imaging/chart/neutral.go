package chart

import "sort"

// Grey and black data series (issue 18). Colour alone cannot tell them
// from the axes, gridlines and text, so they are found after the axes, by
// geometry: only ink inside the plot frame counts (the axis lines and the
// tick labels lie on or outside it), a full-width or full-height thin line
// is a gridline or zero line, and a grey level becomes a series only when
// it draws a series' shape: bars standing on the base line or a polyline
// across much of the plot. Text (a legend inside the frame, value labels)
// draws neither.
const (
	// neutralMaxChroma: a pixel this close to grey is neutral ink (series
	// colours start at minSeriesChroma; assign ignores pixels under 18).
	neutralMaxChroma = 18
	// neutralMinContrast: luminance below the background for a pixel to be
	// ink, not paper or JPEG noise (a #b0b0b0 line on white is 79).
	neutralMinContrast = 40
	// neutralLevelTol: luminance distance from a grey level for a pixel to
	// draw it (anti-aliased rims fall outside and are left alone).
	neutralLevelTol = 22
	// neutralLevelGap: two grey levels closer than this are one series.
	neutralLevelGap = 40
	// neutralMinPixels: a grey level with fewer solid pixels in the frame
	// is text or noise, not a series.
	neutralMinPixels = 60
	// gridMaxThick, gridMinSpan: a neutral run across this share of the
	// frame, at most this thick, is a gridline or a zero line.
	gridMaxThick = 3
	gridMinSpan  = 0.85
	// neutralLineSpan: a polyline series has pixels in this share of the
	// frame's columns (a legend sample or a word in much fewer).
	neutralLineSpan = 0.4
	// neutralPieceMin, neutralPieceMinPx: only pieces at least this wide
	// (share of the frame, and pixels) count toward a polyline; a glyph,
	// even a few touching digits, is narrower.
	neutralPieceMin   = 0.05
	neutralPieceMinPx = 24
	// neutralBarFill, neutralBarMin, neutralBaseTol: a bar is a component
	// at least neutralBarMin px on each side, filled to neutralBarFill of
	// its box, ending within neutralBaseTol px of the base line.
	neutralBarFill = 0.85
	neutralBarMin  = 4
	neutralBaseTol = 4
)

// addNeutralSeries adds the grey and black series found inside the plot
// frame to d.cl and labels their pixels in d.lm. It runs after findAxes and
// findBaselines and only adds to what the colour pass found.
func (d *digitizer) addNeutralSeries(ax axes) {
	r := d.r
	x0, x1 := ax.yAxisCols[1]+3, ax.x1-1
	y0, y1 := ax.y0+1, ax.xAxisRows[0]-3
	if x1-x0 < 20 || y1-y0 < 20 {
		return
	}
	fw, fh := x1-x0+1, y1-y0+1
	ink := func(i int) bool {
		return int(r.chroma[i]) <= neutralMaxChroma && r.bgLum-float64(r.lum[i]) > neutralMinContrast && d.lm.lab[i] < 0
	}
	// Gridlines and zero lines: thin neutral runs across the frame.
	grid := make([]bool, r.w*r.h)
	for y := y0; y <= y1; y++ {
		n := 0
		for x := x0; x <= x1; x++ {
			if ink(y*r.w + x) {
				n++
			}
		}
		if float64(n) >= gridMinSpan*float64(fw) && thinRun(y, y0, y1, func(yy int) bool {
			m := 0
			for x := x0; x <= x1; x++ {
				if ink(yy*r.w + x) {
					m++
				}
			}
			return float64(m) >= gridMinSpan*float64(fw)
		}) {
			for x := x0; x <= x1; x++ {
				grid[y*r.w+x] = true
			}
		}
	}
	for x := x0; x <= x1; x++ {
		col := func(xx int) bool {
			m := 0
			for y := y0; y <= y1; y++ {
				if ink(y*r.w + xx) {
					m++
				}
			}
			return float64(m) >= gridMinSpan*float64(fh)
		}
		if col(x) && thinRun(x, x0, x1, col) {
			for y := y0; y <= y1; y++ {
				grid[y*r.w+x] = true
			}
		}
	}
	// Grey levels: peaks of the luminance histogram of solid neutral ink
	// (a pixel with at least two of its 8 neighbours within neutralLevelTol).
	var hist [256]int
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			i := y*r.w + x
			if !ink(i) || grid[i] {
				continue
			}
			l, sim := int(r.lum[i]), 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if d := int(r.lum[i+dy*r.w+dx]) - l; (dx != 0 || dy != 0) && d <= neutralLevelTol && d >= -neutralLevelTol {
						sim++
					}
				}
			}
			if sim >= 2 { // two like neighbours: a stroke or a fill, not a stray pixel
				hist[l]++
			}
		}
	}
	type level struct{ lum, n int }
	var levels []level
	for l := 0; l < 256; l++ {
		if hist[l] > 0 {
			levels = append(levels, level{l, hist[l]})
		}
	}
	sort.Slice(levels, func(a, b int) bool { return levels[a].n > levels[b].n })
	var peaks []int
	for _, lv := range levels {
		if lv.n < neutralMinPixels/4 {
			break
		}
		near := false
		for _, p := range peaks {
			if abs(p-lv.lum) < neutralLevelGap {
				near = true
				break
			}
		}
		if !near {
			peaks = append(peaks, lv.lum)
		}
	}
	sort.Ints(peaks) // darkest first: lighter rims of a dark line are not a series
	taken := make([]bool, r.w*r.h)
	for _, g := range peaks {
		ci := len(d.cl)
		if ci >= 32000 {
			return
		}
		lm := &labelMap{w: r.w, h: r.h, lab: make([]int16, r.w*r.h), alpha: make([]float32, r.w*r.h)}
		for i := range lm.lab {
			lm.lab[i] = -1
		}
		n := 0
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				i := y*r.w + x
				if !ink(i) || grid[i] || taken[i] || nearTaken(taken, r.w, r.h, x, y) {
					continue
				}
				if l := int(r.lum[i]); abs(l-g) <= neutralLevelTol {
					lm.lab[i] = 0
					n++
				}
			}
		}
		if n < neutralMinPixels {
			continue
		}
		// A polyline has pieces of its grey in most columns of the frame
		// (anti-aliasing may break it into pieces); a legend or a word has
		// few columns, and value labels over bars, which may spread over
		// the whole plot, are glyphs: pieces narrower than a line piece.
		bars := 0
		comps, ids := components(lm)
		pieceMin := max(neutralPieceMinPx, int(neutralPieceMin*float64(fw)))
		for _, c := range comps {
			if c.w() >= neutralBarMin && c.h() >= neutralBarMin && c.fill() >= neutralBarFill && d.standsOnBase(c, ax) {
				bars++
			}
		}
		cols := 0
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				if id := ids[y*r.w+x]; id >= 0 && comps[id].w() >= pieceMin {
					cols++
					break
				}
			}
		}
		if float64(cols) < neutralLineSpan*float64(fw) && bars < 2 {
			continue
		}
		gv := float64(g)
		d.cl = append(d.cl, cluster{c: [3]float64{gv, gv, gv}, count: n})
		for i, l := range lm.lab {
			if l < 0 {
				continue
			}
			taken[i] = true
			d.lm.lab[i] = int16(ci)
			a := (r.bgLum - float64(r.lum[i])) / max(r.bgLum-gv, 1)
			d.lm.alpha[i] = float32(min(a, 1))
		}
	}
}

// standsOnBase reports whether component c ends at the base line: a
// vertical bar's foot (or a negative bar's head), a horizontal bar's root.
func (d *digitizer) standsOnBase(c component, ax axes) bool {
	b0, b1 := ax.baseRows[0], ax.baseRows[1]
	if abs(c.y1-b0) <= neutralBaseTol || abs(c.y0-b1) <= neutralBaseTol {
		return true
	}
	l0, l1 := ax.baseCols[0], ax.baseCols[1]
	return abs(c.x0-l1) <= neutralBaseTol || abs(c.x1-l0) <= neutralBaseTol
}

// thinRun reports whether the run of lines where full(i) holds around i is
// at most gridMaxThick long.
func thinRun(i, lo, hi int, full func(int) bool) bool {
	a, b := i, i
	for a > lo && full(a-1) && b-a < gridMaxThick {
		a--
	}
	for b < hi && full(b+1) && b-a < gridMaxThick {
		b++
	}
	return b-a+1 <= gridMaxThick
}

// nearTaken reports whether a pixel of a darker grey series lies next to
// (x, y): an anti-aliased rim, not a lighter series.
func nearTaken(taken []bool, w, h, x, y int) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			xx, yy := x+dx, y+dy
			if xx >= 0 && yy >= 0 && xx < w && yy < h && taken[yy*w+xx] {
				return true
			}
		}
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
