package chart

import "math"

// axes is the plot frame found from the two axis lines. Coordinates are
// continuous (pixel i spans [i, i+1)).
type axes struct {
	yAxisX    float64 // centre of the vertical (left) axis line
	xAxisY    float64 // centre of the horizontal (bottom) axis line
	x0, x1    int     // plot area columns, exclusive of the axis line
	y0, y1    int     // plot area rows
	yThick    int     // thickness of the axis lines in pixels
	xThick    int
	yAxisCols [2]int // first and last column of the vertical axis line
	xAxisRows [2]int
	// virtualY / virtualX: the chart draws no such axis line (a common
	// spreadsheet style with gridlines only); the axis position is where
	// the gridlines start or the other axis line ends.
	virtualY, virtualX bool
	// baseRows / baseCols: the line bars grow from. It is the axis line
	// unless a dark zero line crosses the plot (charts with negative values).
	baseRows, baseCols [2]int
}

// findBaselines looks for a dark line across the plot parallel to an axis:
// the zero line of a bar chart whose axis includes negative values.
func findBaselines(r *raster, ax *axes) {
	ax.baseRows, ax.baseCols = ax.xAxisRows, ax.yAxisCols
	best, bestN := -1, 0
	for y := ax.y0 + 3; y < ax.xAxisRows[0]-3; y++ {
		n, _, _ := longestRun(ax.x1-ax.x0, func(i int) int { return r.axisState(ax.x0+i, y) }, 3, max(8, (ax.x1-ax.x0)/3))
		if n > bestN {
			best, bestN = y, n
		}
	}
	if best >= 0 && float64(bestN) >= 0.6*float64(ax.x1-ax.x0) {
		a, b := best, best
		for a-1 > ax.y0 && lineRowOK(r, ax, a-1, bestN) {
			a--
		}
		for b+1 < ax.xAxisRows[0]-3 && lineRowOK(r, ax, b+1, bestN) {
			b++
		}
		ax.baseRows = [2]int{a, b}
	}
	best, bestN = -1, 0
	for x := ax.yAxisCols[1] + 4; x < ax.x1-3; x++ {
		n, _, _ := longestRun(ax.y1-ax.y0, func(i int) int { return r.axisState(x, ax.y0+i) }, 3, max(8, (ax.y1-ax.y0)/3))
		if n > bestN {
			best, bestN = x, n
		}
	}
	if best >= 0 && float64(bestN) >= 0.6*float64(ax.y1-ax.y0) {
		a, b := best, best
		for a-1 > ax.yAxisCols[1]+3 && lineColOK(r, ax, a-1, bestN) {
			a--
		}
		for b+1 < ax.x1-3 && lineColOK(r, ax, b+1, bestN) {
			b++
		}
		ax.baseCols = [2]int{a, b}
	}
}

func lineRowOK(r *raster, ax *axes, y, ref int) bool {
	n, _, _ := longestRun(ax.x1-ax.x0, func(i int) int { return r.axisState(ax.x0+i, y) }, 3, max(8, (ax.x1-ax.x0)/3))
	return float64(n) >= 0.6*float64(ref)
}

func lineColOK(r *raster, ax *axes, x, ref int) bool {
	n, _, _ := longestRun(ax.y1-ax.y0, func(i int) int { return r.axisState(x, ax.y0+i) }, 3, max(8, (ax.y1-ax.y0)/3))
	return float64(n) >= 0.6*float64(ref)
}

const darkThr = 45

// longestRun returns the run of "on" samples with the most on samples,
// allowing gaps of up to gap off samples and up to ngap neutral samples
// (series pixels, which may cover an axis after JPEG bleeding), and where it
// starts and ends (inclusive). state returns 1 on, 0 off, 2 neutral.
func longestRun(n int, state func(int) int, gap, ngap int) (best, start, end int) {
	runStart, count := -1, 0
	offs, neutrals := 0, 0
	for i := 0; i < n; i++ {
		switch state(i) {
		case 1:
			if runStart < 0 {
				runStart, count = i, 0
			}
			count++
			offs, neutrals = 0, 0
			if count > best {
				best, start, end = count, runStart, i
			}
		case 2:
			neutrals++
			if neutrals > ngap {
				runStart = -1
			}
		default:
			offs++
			if offs > gap {
				runStart = -1
			}
		}
	}
	return
}

// findAxes locates the left vertical axis and the bottom horizontal axis as
// the longest near-straight dark runs. It returns false when the image has no
// such pair (pie charts, photos).
func findAxes(r *raster) (axes, bool) {
	colRun := make([]int, r.w)
	colStart := make([]int, r.w)
	colEnd := make([]int, r.w)
	maxCol := 0
	for x := 0; x < r.w; x++ {
		colRun[x], colStart[x], colEnd[x] = longestRun(r.h, func(y int) int { return r.axisState(x, y) }, 3, max(8, r.h/3))
		maxCol = max(maxCol, colRun[x])
	}
	rowRun := make([]int, r.h)
	rowStart := make([]int, r.h)
	rowEnd := make([]int, r.h)
	maxRow := 0
	for y := 0; y < r.h; y++ {
		rowRun[y], rowStart[y], rowEnd[y] = longestRun(r.w, func(x int) int { return r.axisState(x, y) }, 3, max(8, r.w/3))
		maxRow = max(maxRow, rowRun[y])
	}
	hasCol := float64(maxCol) >= 0.3*float64(r.h)
	hasRow := float64(maxRow) >= 0.3*float64(r.w)
	switch {
	case hasCol && hasRow:
	case hasRow:
		xy := -1
		for y := r.h - 1; y >= 0; y-- {
			if float64(rowRun[y]) >= 0.75*float64(maxRow) {
				xy = y
				break
			}
		}
		return onlyXAxis(r, xy, rowRun, rowStart, rowEnd)
	case hasCol:
		yx := -1
		for x := 0; x < r.w; x++ {
			if float64(colRun[x]) >= 0.75*float64(maxCol) {
				yx = x
				break
			}
		}
		return onlyYAxis(r, yx, colRun, colStart, colEnd)
	default:
		return axes{}, false
	}
	// Left axis: leftmost column with a run close to the longest one.
	ax := axes{}
	yx := -1
	for x := 0; x < r.w; x++ {
		if float64(colRun[x]) >= 0.75*float64(maxCol) {
			yx = x
			break
		}
	}
	// Bottom axis: bottommost row with a run close to the longest one.
	xy := -1
	for y := r.h - 1; y >= 0; y-- {
		if float64(rowRun[y]) >= 0.75*float64(maxRow) {
			xy = y
			break
		}
	}
	if yx < 0 || xy < 0 {
		return axes{}, false
	}
	// Extend to the full thickness of each line, weighting by darkness.
	lineCols := func(x0 int) (int, int) {
		a, b := x0, x0
		for b+1 < r.w && float64(colRun[b+1]) >= 0.6*float64(colRun[x0]) {
			b++
		}
		return a, b
	}
	lineRows := func(y0 int) (int, int) {
		a, b := y0, y0
		for a-1 >= 0 && float64(rowRun[a-1]) >= 0.6*float64(rowRun[y0]) {
			a--
		}
		return a, b
	}
	ca, cb := lineCols(yx)
	ra, rb := lineRows(xy)
	// The most complete column/row of each line gives its extent.
	for x := ca; x <= cb; x++ {
		if colRun[x] > colRun[yx] {
			yx = x
		}
	}
	for y := ra; y <= rb; y++ {
		if rowRun[y] > rowRun[xy] {
			xy = y
		}
	}
	ax.yAxisCols = [2]int{ca, cb}
	ax.xAxisRows = [2]int{ra, rb}
	ax.yThick, ax.xThick = cb-ca+1, rb-ra+1
	ax.yAxisX = weightedCentre(ca, cb, func(x int) float64 { return float64(colRun[x]) })
	ax.xAxisY = weightedCentre(ra, rb, func(y int) float64 { return float64(rowRun[y]) })
	// The two lines should meet near the corner.
	top := colStart[yx]
	right := rowEnd[xy]
	if math.Abs(float64(colEnd[yx])-ax.xAxisY) > 0.08*float64(r.h)+6 || math.Abs(float64(rowStart[xy])-ax.yAxisX) > 0.08*float64(r.w)+6 {
		return axes{}, false
	}
	ax.x0, ax.x1 = cb+1, right
	ax.y0, ax.y1 = top, ra-1
	if ax.x1-ax.x0 < 30 || ax.y1-ax.y0 < 30 {
		return axes{}, false
	}
	return ax, true
}

// lightLine reports whether most samples are non-background neutral pixels:
// a gridline, or an axis line.
// Bars drawn over a gridline hide parts of it, so series pixels count as
// covering the line as long as a fifth of it is visibly grey.
func lightLine(r *raster, n int, at func(int) int) bool {
	grey, covered := 0, 0
	for i := 0; i < n; i++ {
		j := at(i)
		switch {
		case r.chroma[j] < 30 && r.bgLum-float64(r.lum[j]) > 10:
			grey++
		case r.series != nil && r.series[j]:
			covered++
		}
	}
	return n > 0 && float64(grey) >= 0.2*float64(n) && float64(grey+covered) >= 0.85*float64(n)
}

// onlyXAxis builds the frame of a chart with a horizontal axis line and
// horizontal gridlines but no vertical axis line. At least two gridlines
// above the axis are required, so that a lone rule is not taken for a chart.
func onlyXAxis(r *raster, xy int, rowRun, rowStart, rowEnd []int) (axes, bool) {
	if xy < 0 {
		return axes{}, false
	}
	ra := xy
	for ra-1 >= 0 && float64(rowRun[ra-1]) >= 0.6*float64(rowRun[xy]) {
		ra--
	}
	x0, x1 := rowStart[xy], rowEnd[xy]
	top, lines := -1, 0
	for y := ra - 3; y >= 0; y-- {
		if lightLine(r, x1-x0+1, func(i int) int { return y*r.w + x0 + i }) {
			if top < 0 || y < top-1 {
				lines++
			}
			top = y
		}
	}
	if lines < 2 {
		return axes{}, false
	}
	ax := axes{virtualY: true,
		yAxisX: float64(x0), yAxisCols: [2]int{x0 - 1, x0 - 1},
		xAxisRows: [2]int{ra, xy}, xThick: xy - ra + 1,
		xAxisY: weightedCentre(ra, xy, func(y int) float64 { return float64(rowRun[y]) }),
		x0:     x0, x1: x1, y0: top, y1: ra - 1}
	if ax.x1-ax.x0 < 30 || ax.y1-ax.y0 < 30 {
		return axes{}, false
	}
	return ax, true
}

// onlyYAxis is onlyXAxis turned by 90°: a vertical axis line with vertical
// gridlines (horizontal bar charts in spreadsheet style).
func onlyYAxis(r *raster, yx int, colRun, colStart, colEnd []int) (axes, bool) {
	if yx < 0 {
		return axes{}, false
	}
	cb := yx
	for cb+1 < r.w && float64(colRun[cb+1]) >= 0.6*float64(colRun[yx]) {
		cb++
	}
	y0, y1 := colStart[yx], colEnd[yx]
	right, lines := -1, 0
	for x := cb + 3; x < r.w; x++ {
		if lightLine(r, y1-y0+1, func(i int) int { return (y0+i)*r.w + x }) {
			if right < 0 || x > right+1 {
				lines++
			}
			right = x
		}
	}
	if lines < 2 {
		return axes{}, false
	}
	ax := axes{virtualX: true,
		yAxisCols: [2]int{yx, cb}, yThick: cb - yx + 1,
		yAxisX:    weightedCentre(yx, cb, func(x int) float64 { return float64(colRun[x]) }),
		xAxisRows: [2]int{y1 + 1, y1 + 1}, xAxisY: float64(y1 + 1),
		x0: cb + 1, x1: right, y0: y0, y1: y1}
	if ax.x1-ax.x0 < 30 || ax.y1-ax.y0 < 30 {
		return axes{}, false
	}
	return ax, true
}

func weightedCentre(a, b int, w func(int) float64) float64 {
	s, sw := 0.0, 0.0
	for i := a; i <= b; i++ {
		s += (float64(i) + 0.5) * w(i)
		sw += w(i)
	}
	if sw == 0 {
		return float64(a+b+1) / 2
	}
	return s / sw
}

// tickMarks finds short tick marks outside the plot along an axis and returns
// their centres. For the vertical axis (vertical=true) the marks are short
// horizontal dashes left of the axis; otherwise short vertical dashes below
// the horizontal axis.
func tickMarks(r *raster, ax axes, vertical bool, textH float64) []float64 {
	if (vertical && ax.virtualY) || (!vertical && ax.virtualX) {
		return nil
	}
	strip := int(math.Round(math.Max(3, math.Min(6, textH/2))))
	var prof []float64
	var lo int
	if vertical {
		x1 := ax.yAxisCols[0] - 1
		x0 := max(0, x1-strip+1)
		lo = max(0, ax.y0-4)
		hi := min(r.h-1, ax.xAxisRows[1]+2)
		for y := lo; y <= hi; y++ {
			s := 0.0
			for x := x0; x <= x1; x++ {
				if r.dark(x, y, darkThr) {
					s++
				}
			}
			prof = append(prof, s/float64(x1-x0+1))
		}
	} else {
		y0 := ax.xAxisRows[1] + 1
		y1 := min(r.h-1, y0+strip-1)
		lo = max(0, ax.yAxisCols[0]-2)
		hi := min(r.w-1, ax.x1+4)
		for x := lo; x <= hi; x++ {
			s := 0.0
			for y := y0; y <= y1; y++ {
				if r.dark(x, y, darkThr) {
					s++
				}
			}
			prof = append(prof, s/float64(y1-y0+1))
		}
	}
	// Groups of consecutive positions where most of the strip is dark.
	var out []float64
	for i := 0; i < len(prof); {
		if prof[i] < 0.5 {
			i++
			continue
		}
		j := i
		s, sw := 0.0, 0.0
		for j < len(prof) && prof[j] >= 0.3 {
			s += (float64(lo+j) + 0.5) * prof[j]
			sw += prof[j]
			j++
		}
		if j-i <= 8 {
			out = append(out, s/sw)
		}
		i = j
	}
	return out
}

// gridLines finds light neutral lines across the plot area, perpendicular to
// the value axis. They mark tick positions when tick marks are absent.
func gridLines(r *raster, ax axes, horizontal bool) []float64 {
	var out []float64
	if horizontal {
		n := ax.x1 - ax.x0
		var prof []float64
		for y := ax.y0; y <= ax.y1; y++ {
			c := 0
			for x := ax.x0; x < ax.x1; x++ {
				i := y*r.w + x
				if r.chroma[i] < 30 && r.bgLum-float64(r.lum[i]) > 12 {
					c++
				}
			}
			prof = append(prof, float64(c)/float64(n))
		}
		out = profilePeaks(prof, ax.y0, 0.35)
	} else {
		n := ax.y1 - ax.y0
		var prof []float64
		for x := ax.x0; x < ax.x1; x++ {
			c := 0
			for y := ax.y0; y <= ax.y1; y++ {
				i := y*r.w + x
				if r.chroma[i] < 30 && r.bgLum-float64(r.lum[i]) > 12 {
					c++
				}
			}
			prof = append(prof, float64(c)/float64(n))
		}
		out = profilePeaks(prof, ax.x0, 0.35)
	}
	return out
}

func profilePeaks(prof []float64, off int, thr float64) []float64 {
	var out []float64
	for i := 0; i < len(prof); {
		if prof[i] < thr {
			i++
			continue
		}
		j := i
		s, sw := 0.0, 0.0
		for j < len(prof) && prof[j] >= thr*0.6 {
			s += (float64(off+j) + 0.5) * prof[j]
			sw += prof[j]
			j++
		}
		if j-i <= 5 {
			out = append(out, s/sw)
		}
		i = j
	}
	return out
}
