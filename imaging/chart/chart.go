package chart

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/ocr"
)

// Chart types.
const (
	TypeBarVertical   = "bar_vertical"
	TypeBarHorizontal = "bar_horizontal"
	TypeLine          = "line"
)

// Warning codes.
const (
	WarnOCRUnavailable   = "ocr_unavailable"
	WarnValuesInPixels   = "values_in_pixels"
	WarnAxisFitFailed    = "axis_fit_failed"
	WarnFewTicks         = "few_axis_ticks"
	WarnLabelMismatch    = "data_label_mismatch"
	WarnNoLegend         = "no_legend"
	WarnMissingCategory  = "category_labels_missing"
	WarnOCRFailed        = "ocr_failed"
	pipelineName         = "chart"
	pipelineNamePixels   = "chart_pixels"
	ocrEngineName        = "tesseract"
	labelAgreementMargin = 0.06 // data label vs measured value, share of axis span
)

// ErrUnsupported is returned for images that are not vertical bar, horizontal
// bar or line charts (pie, scatter, photos, tables), and for charts in which
// no data series can be found.
var ErrUnsupported = errors.New("unsupported_chart")

// Point is one data point. X is the category label (string), or the
// category's 1-based index (int) when no label could be read.
type Point struct {
	X     any     `json:"x"`
	Y     float64 `json:"y"`
	Color string  `json:"color,omitempty"` // pie and donut slices: #rrggbb
}

// Series is one data series, named from the legend.
type Series struct {
	Name   string  `json:"name"`
	Color  string  `json:"color"` // #rrggbb
	Points []Point `json:"points"`
}

// Result is a digitized chart. Table holds the same data as a
// *digitize.Table: a header row of series names and one row per category.
type Result struct {
	ChartType string          `json:"chart_type"`
	Stacked   bool            `json:"stacked,omitempty"` // stacked bars: y is each segment's own value
	Series    []Series        `json:"series"`
	Table     any             `json:"table"`
	Engine    digitize.Engine `json:"engine"`
	Warnings  []string        `json:"warnings"`
}

// Digitize reads a bar or line chart. Without Tesseract it still finds the
// chart type and the series, with values in pixels above the axis and the
// warnings ocr_unavailable and values_in_pixels.
func Digitize(ctx context.Context, img image.Image) (*Result, error) {
	return Reader{}.Digitize(ctx, img)
}

// Reader reads charts with one OCR setting. The zero value runs tesseract
// when it is on PATH.
type Reader struct {
	OCR ocr.Engine
}

// Digitize is Digitize with r's OCR setting.
func (rd Reader) Digitize(ctx context.Context, img image.Image) (*Result, error) {
	if img == nil || img.Bounds().Dx() < 40 || img.Bounds().Dy() < 40 {
		return nil, fmt.Errorf("%w: image too small", ErrUnsupported)
	}
	d := &digitizer{r: newRaster(img), ocr: rd.OCR}
	res, err := d.run(ctx)
	if errors.Is(err, ErrUnsupported) {
		// Not a chart with axes: a pie or donut (pie.go)?
		if pr, ok, perr := rd.readPie(ctx, img); ok {
			return pr, perr
		}
	}
	return res, err
}

type digitizer struct {
	ocr      ocr.Engine
	r        *raster
	ax       axes
	cl       []cluster
	lm       *labelMap
	comps    []component
	ids      []int32
	textH    float64
	words    []word
	used     []bool // words consumed as tick, category or legend text
	fit      axisFit
	warnings []string
	ocrOK    bool
	ocrImg   *image.Gray
	// stackBelow maps a stacked bar segment to the component it sits on.
	stackBelow map[int]int
	// frameRepainted: a coloured axis frame was repainted grey (once).
	frameRepainted bool
}

// tickPass reads the value-axis label strip again as one block restricted
// to number characters: sparse-text mode drops lone short labels such as
// "0" or "1". Its words replace the first pass's words in that strip.
func (d *digitizer) tickPass(ctx context.Context, horizontal bool) []word {
	// Reads only d.ax, d.textH and d.ocrImg, which are fixed by now.
	ax, th := d.ax, d.textH
	var rect image.Rectangle
	if horizontal {
		rect = image.Rect(ax.yAxisCols[0]-int(3*th), ax.xAxisRows[1]+1, ax.x1+int(3*th), int(ax.xAxisY+2.5*th))
	} else {
		rect = image.Rect(0, ax.y0-int(th), ax.yAxisCols[0], int(ax.xAxisY+th))
	}
	// A column of labels reads best as a block (PSM 6 keeps lone "0" and
	// "1"); a row of widely spaced labels as sparse text.
	psm := 6
	if horizontal {
		psm = 11
	}
	ws, err := readRegion(ctx, d.ocr, d.ocrImg, rect, th, ocr.Options{PSM: psm, Whitelist: tickWhitelist})
	if err != nil || len(ws) == 0 {
		return nil
	}
	return ws
}

// mergeWords replaces the words of the first pass that overlap words of the
// tick-strip pass.
func mergeWords(words, ticks []word) []word {
	if len(ticks) == 0 {
		return nil
	}
	keep := make([]word, 0, len(words)+len(ticks))
	for _, w := range words {
		dup := false
		for _, t := range ticks {
			if overlaps(w, t) {
				dup = true
				break
			}
		}
		if !dup {
			keep = append(keep, w)
		}
	}
	return append(keep, ticks...)
}

type compKind int

const (
	kOther compKind = iota
	kVBar
	kHBar
)

func (d *digitizer) warn(w string) {
	for _, x := range d.warnings {
		if x == w {
			return
		}
	}
	d.warnings = append(d.warnings, w)
}

func (d *digitizer) run(ctx context.Context) (*Result, error) {
	r := d.r
	// No coloured series is not yet a failure: grey and black series are
	// looked for once the axes are known (addNeutralSeries).
	cl := findClusters(r)
	lm := assign(r, cl)
	cl = refine(r, cl, lm)
	d.cl, d.lm = cl, assign(r, cl)
	d.cl = mergeFringes(d.cl, d.lm, r.bg)
	r.series = seriesMask(r, d.cl, d.lm)
	ax, ok := findAxes(r)
	if !ok {
		// Axes drawn in a colour: repaint them grey and start again (only
		// then, so charts with grey axes are read exactly as before).
		if !d.frameRepainted && r.neutralizeColouredFrame() {
			d.frameRepainted = true
			r.series = nil
			return d.run(ctx)
		}
		return nil, fmt.Errorf("%w: no axis lines found", ErrUnsupported)
	}
	findBaselines(r, &ax)
	d.ax = ax
	d.addNeutralSeries(ax)
	if len(d.cl) == 0 {
		return nil, fmt.Errorf("%w: no data series found (coloured, grey or black)", ErrUnsupported)
	}
	// Pixels on the axis lines are never data: JPEG blends the dark axis with
	// the bars above it into colours that would glue neighbouring bars.
	for y := max(0, ax.xAxisRows[0]-2); y <= min(r.h-1, ax.xAxisRows[1]+2); y++ {
		for x := 0; x < r.w; x++ {
			d.lm.lab[y*r.w+x] = -1
		}
	}
	for x := max(0, ax.yAxisCols[0]-2); x <= min(r.w-1, ax.yAxisCols[1]+2); x++ {
		for y := 0; y < r.h; y++ {
			d.lm.lab[y*r.w+x] = -1
		}
	}
	if ax.baseRows != ax.xAxisRows {
		for y := max(0, ax.baseRows[0]-2); y <= min(r.h-1, ax.baseRows[1]+2); y++ {
			for x := ax.x0; x < ax.x1; x++ {
				d.lm.lab[y*r.w+x] = -1
			}
		}
	}
	if ax.baseCols != ax.yAxisCols {
		for x := max(0, ax.baseCols[0]-2); x <= min(r.w-1, ax.baseCols[1]+2); x++ {
			for y := ax.y0; y <= ax.y1; y++ {
				d.lm.lab[y*r.w+x] = -1
			}
		}
	}
	d.comps, d.ids = components(d.lm)

	kind, kinds, err := d.classify()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	d.textH = textHeight(r, ax)
	horizontal := kind == TypeBarHorizontal
	var tickWords []word
	if d.ocr.Available() {
		d.ocrImg = ocrImage(r, d.lm, ax, d.textH)
		// The tick-strip pass runs beside the full pass: two single-threaded
		// Tesseract processes use both cores and halve the latency.
		tickDone := make(chan []word, 1)
		go func() { tickDone <- d.tickPass(ctx, horizontal) }()
		ws, err := readRegion(ctx, d.ocr, d.ocrImg, d.ocrImg.Bounds(), d.textH, ocr.Options{PSM: 11})
		tickWords = <-tickDone
		switch {
		case err == nil:
			d.words, d.ocrOK = ws, true
		case isUnavailable(err):
			d.warn(WarnOCRUnavailable)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("chart: %w", ctx.Err())
		default:
			d.warn(WarnOCRFailed)
		}
	} else {
		d.warn(WarnOCRUnavailable)
	}
	if d.ocrOK {
		// Fit from the first pass, then from a second number-only pass over
		// the tick-label strip; keep whichever explains more ticks.
		f1, u1 := d.fitValueAxis(d.words, horizontal)
		words2 := mergeWords(d.words, tickWords)
		f2, u2 := d.fitValueAxis(words2, horizontal)
		if f2.ok && f2.inliers > f1.inliers {
			d.words, d.fit, u1 = words2, f2, u2
		} else {
			d.fit = f1
		}
		d.used = make([]bool, len(d.words))
		for _, i := range u1 {
			d.used[i] = true
		}
		if d.fit.ok && d.fit.inliers < 3 {
			d.warn(WarnFewTicks)
		}
	}
	if d.used == nil {
		d.used = make([]bool, len(d.words))
	}
	if !d.fit.ok {
		if d.ocrOK {
			d.warn(WarnAxisFitFailed)
		}
		d.warn(WarnValuesInPixels)
	}
	legend := d.findLegend(kind, kinds)

	var series []Series
	var cats []any
	switch kind {
	case TypeBarVertical, TypeBarHorizontal:
		series, cats = d.bars(kind, kinds, legend)
	case TypeLine:
		series, cats = d.lines(legend)
	}
	series = finite(series)
	if len(series) == 0 {
		return nil, fmt.Errorf("%w: no data series found", ErrUnsupported)
	}
	res := &Result{ChartType: kind, Series: series, Warnings: d.warnings, Stacked: d.stacked(kinds)}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	res.Table = buildTable(series, cats)
	res.Engine.Pipeline = pipelineName
	if !d.fit.ok {
		res.Engine.Pipeline = pipelineNamePixels
	}
	if d.ocrOK {
		res.Engine.OCR = ocrEngineName
		res.Engine.Version = d.ocr.Version()
	}
	return res, nil
}

func (d *digitizer) inPlot(c component, pad int) bool {
	cx, cy := c.cx(), c.cy()
	return cx >= float64(d.ax.x0-pad) && cx <= float64(d.ax.x1+pad) && cy >= float64(d.ax.y0-pad) && cy <= float64(d.ax.y1+pad)
}

// Thresholds of classify, in pixels of the input image unless stated.
const (
	// minCompArea: smaller components are anti-aliasing specks and JPEG
	// noise, never a bar, a bar segment or a marker.
	minCompArea = 6
	// minMarkerArea: the smallest scatter marker counted as one (a 3×3 dot
	// less a corner); smaller blobs are noise.
	minMarkerArea = 8
	// maxMarkerWidthShare: a marker candidate is narrower than this share
	// of the plot width; wider components are legend swatches or lines.
	maxMarkerWidthShare = 0.1
	// plotPad: a component belongs to the plot when its centre lies within
	// this margin of the axes' box (bars end on the axis line itself).
	plotPad = 2
	// minBarFill: a bar fills at least this share of its bounding box; a
	// slanted line piece or a glyph fills far less.
	minBarFill = 0.75
	// minBarThickness: bars are at least this thick; thinner rectangles
	// are gridlines, tick marks and line pieces.
	minBarThickness = 3
	// baseTolMin and baseTolPad: a bar's end may stop short of the
	// baseline by the axis thickness (at least baseTolMin) plus baseTolPad,
	// for the anti-aliased rim and the gap some renderers leave.
	baseTolMin = 3
	baseTolPad = 3

	// A line series' colour spans at least lineMinSpan of the plot's
	// columns, covers lineMinContinuity of the columns between its ends
	// (scatter markers leave gaps) and has fewer than lineMaxMeanHeight of
	// the plot height of pixels per column on average (a line is thin, an
	// area or a bar is not).
	lineMinSpan       = 0.3
	lineMinContinuity = 0.8
	lineMaxMeanHeight = 0.2

	// A stacked segment differs from the bar below by at least
	// stackMinColorDist (closer colours are that bar's light anti-aliased
	// rim), overlaps it across stackMinOverlap of its thickness, and starts
	// within stackMaxGap pixels beyond it (a white separator line) or
	// stackMaxInset pixels inside it.
	stackMinColorDist = 45
	stackMinOverlap   = 0.8
	stackMaxGap       = 4
	stackMaxInset     = 1

	// A chart with more than scatterPerBar marker candidates per bar plus
	// scatterSlack is a scatter chart whose square markers looked like bars.
	scatterPerBar = 2
	scatterSlack  = 4
)

// barTally is what classify has found so far: a kind per component, the
// vertical and horizontal bar candidates with the dimension that carries
// their value (heights of vertical bars, widths of horizontal ones: the
// value varies, the thickness does not), and the number of small
// components that could be scatter markers.
type barTally struct {
	kinds  []compKind
	nV, nH int
	vH, hW []float64
	others int
}

// classify labels the components and decides the chart type, in four
// steps: bar candidates standing on a baseline, line-shaped colours, stacked
// segments on top of bars, then the decision.
func (d *digitizer) classify() (string, []compKind, error) {
	t := d.barCandidates()
	lineCl := d.lineColours()
	d.stackSegments(&t)
	return d.decideType(&t, lineCl)
}

// baseTols are the baseline tolerances of vertical and horizontal bars.
func (d *digitizer) baseTols() (tolV, tolH int) {
	return max(baseTolMin, d.ax.xThick+2) + baseTolPad, max(baseTolMin, d.ax.yThick+2) + baseTolPad
}

// isMarkerSized reports whether c is small enough to be a scatter marker.
func (d *digitizer) isMarkerSized(c component) bool {
	return float64(c.w()) < maxMarkerWidthShare*float64(d.ax.x1-d.ax.x0)
}

// barCandidates labels filled rectangles in the plot that stand on the
// value baseline. One touching both baselines (a bar in the corner) counts
// for both orientations but keeps no label.
func (d *digitizer) barCandidates() barTally {
	t := barTally{kinds: make([]compKind, len(d.comps))}
	tolV, tolH := d.baseTols()
	for i, c := range d.comps {
		if c.area < minCompArea || !d.inPlot(c, plotPad) {
			continue
		}
		rect := c.fill() >= minBarFill
		if rect && c.w() >= minBarThickness && d.onBaseV(c, tolV) {
			t.kinds[i] = kVBar
			t.nV++
			t.vH = append(t.vH, float64(c.h()))
		}
		if rect && c.h() >= minBarThickness && d.onBaseH(c, tolH) {
			if t.kinds[i] == kVBar {
				t.kinds[i] = kOther
				t.nV--
			} else {
				t.kinds[i] = kHBar
			}
			t.nH++
			t.hW = append(t.hW, float64(c.w()))
		}
		if t.kinds[i] == kOther && c.area >= minMarkerArea && d.isMarkerSized(c) {
			t.others++
		}
	}
	return t
}

// lineColours counts the colour clusters drawn like a line: thin and spread
// across the plot almost without gaps.
func (d *digitizer) lineColours() int {
	ax := d.ax
	plotW := ax.x1 - ax.x0
	n := 0
	for ci := range d.cl {
		cols, pix, first, last := 0, 0, -1, -1
		for x := ax.x0; x < ax.x1; x++ {
			k := 0
			for y := ax.y0; y < ax.xAxisRows[0]; y++ {
				if d.lm.lab[y*d.r.w+x] == int16(ci) {
					k++
				}
			}
			if k > 0 {
				cols++
				pix += k
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		spread := float64(cols) >= lineMinSpan*float64(plotW)
		continuous := float64(cols) >= lineMinContinuity*float64(last-first+1)
		thin := float64(pix)/float64(max(cols, 1)) < lineMaxMeanHeight*float64(ax.y1-ax.y0)
		if spread && continuous && thin {
			n++
		}
	}
	return n
}

// stackSegments labels the segments of stacked bars: filled rectangles of
// another colour sitting on a bar (or on another segment) of the same
// thickness. They are bars too, measured from the segment below
// (d.stackBelow). Repeats until no segment is added.
func (d *digitizer) stackSegments(t *barTally) {
	d.stackBelow = map[int]int{}
	for changed := true; changed; {
		changed = false
		for i, c := range d.comps {
			if t.kinds[i] != kOther || c.area < minCompArea || c.fill() < minBarFill || !d.inPlot(c, plotPad) {
				continue
			}
			if j, kind, ok := d.stackedOn(c, t.kinds); ok {
				t.kinds[i], d.stackBelow[i], changed = kind, j, true
				if kind == kVBar {
					t.nV++
					t.vH = append(t.vH, float64(c.h()))
				} else {
					t.nH++
					t.hW = append(t.hW, float64(c.w()))
				}
			}
			// A segment found here was counted as a marker candidate.
			if t.kinds[i] != kOther && d.isMarkerSized(c) && t.others > 0 {
				t.others--
			}
		}
	}
}

// stackedOn finds the bar that c sits on as a stacked segment: its index and
// orientation.
func (d *digitizer) stackedOn(c component, kinds []compKind) (int, compKind, bool) {
	for j, b := range d.comps {
		if b.cl == c.cl {
			continue
		}
		// The light rim of the bar below is not a segment.
		if _, dl := segmentCoverage(d.cl[c.cl].c, d.r.bg, d.cl[b.cl].c); dl < stackMinColorDist {
			continue
		}
		thick := c.w() >= minBarThickness && c.h() >= minBarThickness
		if kinds[j] == kVBar && thick && overlapShare(c.x0, c.x1, b.x0, b.x1) >= stackMinOverlap &&
			c.y1 >= b.y0-stackMaxGap && c.y1 <= b.y0+stackMaxInset {
			return j, kVBar, true
		}
		if kinds[j] == kHBar && thick && overlapShare(c.y0, c.y1, b.y0, b.y1) >= stackMinOverlap &&
			c.x0 <= b.x1+stackMaxGap && c.x0 >= b.x1-stackMaxInset {
			return j, kHBar, true
		}
	}
	return 0, kOther, false
}

// decideType chooses the chart type from the tally and the line colours,
// and keeps only the chosen orientation's bar labels.
func (d *digitizer) decideType(t *barTally, lineCl int) (string, []compKind, error) {
	if t.nV == 0 && t.nH == 0 {
		if lineCl > 0 {
			return TypeLine, t.kinds, nil
		}
		if t.others > 0 {
			return "", nil, fmt.Errorf("%w: no bars or lines (scatter chart?)", ErrUnsupported)
		}
		return "", nil, fmt.Errorf("%w: no bars or lines found", ErrUnsupported)
	}
	// Ambiguous bars touching both axes count for both; resolve by which
	// dimension varies (values) versus stays constant (bar thickness).
	kind := TypeBarVertical
	if t.nH > t.nV || (t.nH == t.nV && cv(t.hW) > cv(t.vH)) {
		kind = TypeBarHorizontal
	}
	bars := max(t.nV, t.nH)
	if lineCl > 0 && lineCl >= bars {
		return TypeLine, t.kinds, nil
	}
	if t.others > scatterPerBar*bars+scatterSlack {
		return "", nil, fmt.Errorf("%w: scattered markers (scatter chart)", ErrUnsupported)
	}
	d.keepOrientation(kind, t.kinds)
	return kind, t.kinds, nil
}

// keepOrientation drops the other orientation's bar labels, then labels the
// filled rectangles on the chosen baseline that were left out as touching
// both axes (a vertical bar touching the left axis is still a vertical bar).
func (d *digitizer) keepOrientation(kind string, kinds []compKind) {
	for i := range kinds {
		if kind == TypeBarVertical && kinds[i] == kHBar || kind == TypeBarHorizontal && kinds[i] == kVBar {
			kinds[i] = kOther
		}
	}
	tolV, tolH := d.baseTols()
	for i, c := range d.comps {
		if kinds[i] != kOther || c.fill() < minBarFill || !d.inPlot(c, plotPad) {
			continue
		}
		if kind == TypeBarVertical && c.w() >= minBarThickness && d.onBaseV(c, tolV) {
			kinds[i] = kVBar
		}
		if kind == TypeBarHorizontal && c.h() >= minBarThickness && d.onBaseH(c, tolH) {
			kinds[i] = kHBar
		}
	}
}

// onBaseV: a vertical bar stands on the baseline (positive) or hangs from
// it (negative).
func (d *digitizer) onBaseV(c component, tol int) bool {
	b := d.ax.baseRows
	return (c.y1 >= b[0]-tol && c.y1 <= b[1]+2) || (c.y0 <= b[1]+tol && c.y0 >= b[0]-2)
}

// onBaseH: a horizontal bar starts at the baseline, to its right or left.
func (d *digitizer) onBaseH(c component, tol int) bool {
	b := d.ax.baseCols
	return (c.x0 <= b[1]+tol && c.x0 >= b[0]-2) || (c.x1 >= b[0]-tol && c.x1 <= b[1]+2)
}

// negative reports whether a bar lies below (vertical) or left of
// (horizontal) its baseline.
func (d *digitizer) negative(c component, horizontal bool) bool {
	if horizontal {
		return d.ax.baseCols != d.ax.yAxisCols && c.x1 <= d.ax.baseCols[1]+2 && c.x0 < d.ax.baseCols[0]-2
	}
	return d.ax.baseRows != d.ax.xAxisRows && c.y0 >= d.ax.baseRows[0]-2 && c.y1 > d.ax.baseRows[1]+2
}

// overlapShare is the overlap of [a0,a1] and [b0,b1] (inclusive) as a share
// of the shorter one.
func overlapShare(a0, a1, b0, b1 int) float64 {
	o := min(a1, b1) - max(a0, b0) + 1
	if o <= 0 {
		return 0
	}
	return float64(o) / float64(min(a1-a0+1, b1-b0+1))
}

// cv is the coefficient of variation.
func cv(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m, s := 0.0, 0.0
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	if m == 0 {
		return 0
	}
	return math.Sqrt(s/float64(len(v))) / m
}

// dotThousandsTicks settles "1.000" on an axis where a linear fit cannot:
// ticks 0, 1.000, 2.000 fit as well read as 0, 1, 2 as read as 0, 1000,
// 2000. When every dotted tick label has groups of three digits after its
// dots (and does not start "0."), and some label has no dot at all (a "0"
// written without decimals), the dots separate thousands: a chart printing
// three decimals would print "0.000". Such ticks keep only that reading.
func dotThousandsTicks(ts []tick, idx []int, words []word) {
	dotted, grouped, plain := 0, 0, 0
	for _, i := range idx {
		s := strings.TrimSpace(words[i].text)
		switch {
		case !strings.Contains(s, "."):
			plain++
		case thousandsDot.MatchString(s) && !strings.HasPrefix(strings.TrimLeft(s, "-−–—($"), "0."):
			dotted++
			grouped++
		default:
			dotted++
		}
	}
	if plain == 0 || grouped < 2 || grouped != dotted {
		return
	}
	for k, i := range idx {
		s := strings.TrimSpace(words[i].text)
		if !strings.Contains(s, ".") {
			continue
		}
		if v, ok := parseNumber(strings.ReplaceAll(s, ".", ",")); ok {
			ts[k].val, ts[k].alts = v, []float64{v}
		}
	}
}

// fitValueAxis reads the numeric tick labels along the value axis, snaps each
// to the nearest tick mark or gridline, and fits pixels to values.
func (d *digitizer) fitValueAxis(words []word, horizontal bool) (axisFit, []int) {
	ax, th := d.ax, d.textH
	var marks []float64
	if horizontal {
		marks = append(tickMarks(d.r, ax, false, d.textH), gridLines(d.r, ax, false)...)
	} else {
		marks = append(tickMarks(d.r, ax, true, d.textH), gridLines(d.r, ax, true)...)
	}
	var ts []tick
	var idx []int
	for i, w := range words {
		alts := numberVariants(w.text)
		if len(alts) == 0 {
			continue
		}
		v := alts[0]
		var pos float64
		if horizontal {
			if w.y0 < ax.xAxisY-0.3*th || w.y0 > ax.xAxisY+3*th || w.cx() < float64(ax.yAxisCols[0])-2*th || w.cx() > float64(ax.x1)+2*th {
				continue
			}
			pos = w.cx()
		} else {
			if w.x1 > ax.yAxisX+0.3*th || w.x1 < ax.yAxisX-12*th || w.cy() < float64(ax.y0)-1.5*th || w.cy() > ax.xAxisY+1.5*th {
				continue
			}
			pos = w.cy()
		}
		// Snap to a tick mark or gridline.
		best, bestD := pos, 0.7*th
		for _, m := range marks {
			if dd := math.Abs(m - pos); dd < bestD {
				best, bestD = m, dd
			}
		}
		ts = append(ts, tick{pos: best, val: v, alts: alts})
		idx = append(idx, i)
	}
	dotThousandsTicks(ts, idx, words)
	f := fitAxis(ts, math.Max(2.5, 0.35*th))
	if !f.ok {
		return f, nil
	}
	// Require a sane direction: values grow upwards or rightwards.
	if (!horizontal && f.b >= 0) || (horizontal && f.b <= 0) {
		return axisFit{}, nil
	}
	var used []int
	for k, i := range idx {
		for _, a := range ts[k].alts {
			if math.Abs(f.pos(a)-ts[k].pos) <= math.Max(2.5, 0.35*th) {
				used = append(used, i)
				break
			}
		}
	}
	return f, used
}

// value converts a pixel position along the value axis into a value, or into
// pixels from the axis line when no fit is available.
func (d *digitizer) value(pos float64, horizontal bool) float64 {
	if d.fit.ok {
		return d.roundValue(d.fit.value(pos))
	}
	if horizontal {
		return math.Round((pos-d.ax.yAxisX)*10) / 10
	}
	return math.Round((d.ax.xAxisY-pos)*10) / 10
}

// roundValue keeps about four significant digits relative to the axis span.
func (d *digitizer) roundValue(v float64) float64 {
	span := d.fit.hi - d.fit.lo
	if d.fit.log {
		if v <= 0 {
			return v
		}
		q := math.Pow(10, math.Floor(math.Log10(v))-3)
		return math.Round(v/q) * q
	}
	if span <= 0 {
		return v
	}
	q := math.Pow(10, math.Floor(math.Log10(span))-3)
	return math.Round(v/q) * q
}

// legendEntry is a swatch and the text right of it.
type legendEntry struct {
	cl   int
	comp component
	name string
}

// findLegend picks, for each series colour, a small swatch outside the data
// and reads the words right of it.
func (d *digitizer) findLegend(kind string, kinds []compKind) []legendEntry {
	ax, th := d.ax, d.textH
	plotW := float64(ax.x1 - ax.x0)
	var out []legendEntry
	for ci := range d.cl {
		best, bestScore := -1, math.Inf(-1)
		for i, c := range d.comps {
			if c.cl != ci || kinds[i] != kOther || c.area < 6 {
				continue
			}
			if float64(c.w()) > math.Max(0.15*plotW, 4*th) || float64(c.h()) > 2.5*th || c.w() < 3 || c.h() < 2 {
				continue
			}
			inside := d.inPlot(c, -2)
			if kind == TypeLine && inside {
				// Inside the plot a short segment may be a piece of the line;
				// only accept it when text follows it.
				if d.textRightOf(c) < 0 {
					continue
				}
			}
			score := float64(c.area) / 1e6
			if d.textRightOf(c) >= 0 {
				score += 2
			}
			if !inside {
				score++
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		if best >= 0 {
			out = append(out, legendEntry{cl: ci, comp: d.comps[best]})
		}
	}
	// A blend colour at a swatch's edge is not a legend entry of its own.
	var kept []legendEntry
	for i, e := range out {
		dup := false
		for j, o := range out {
			if i != j && o.comp.area > e.comp.area && e.comp.x0 >= o.comp.x0-3 && e.comp.x1 <= o.comp.x1+3 && e.comp.y0 >= o.comp.y0-3 && e.comp.y1 <= o.comp.y1+3 {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, e)
		}
	}
	out = kept
	// Reading order: rows, then left to right.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].comp, out[j].comp
		if math.Abs(a.cy()-b.cy()) > th {
			return a.cy() < b.cy()
		}
		return a.cx() < b.cx()
	})
	for i := range out {
		out[i].name = d.legendText(out[i].comp, out)
	}
	return out
}

// textRightOf returns the index of the first word right of c on its line.
func (d *digitizer) textRightOf(c component) int {
	th := d.textH
	best, bestX := -1, math.Inf(1)
	for i, w := range d.words {
		if d.used != nil && i < len(d.used) && d.used[i] {
			continue
		}
		if w.cy() < float64(c.y0)-0.6*th || w.cy() > float64(c.y1+1)+0.6*th {
			continue
		}
		gap := w.x0 - float64(c.x1+1)
		if gap < -2 || gap > 2.5*th {
			continue
		}
		if w.x0 < bestX {
			best, bestX = i, w.x0
		}
	}
	return best
}

func (d *digitizer) legendText(c component, entries []legendEntry) string {
	th := d.textH
	i := d.textRightOf(c)
	if i < 0 {
		return ""
	}
	// Stop at the next swatch on the same line.
	stop := math.Inf(1)
	for _, e := range entries {
		if e.comp.x0 > c.x1 && math.Abs(e.comp.cy()-c.cy()) < th && float64(e.comp.x0) < stop {
			stop = float64(e.comp.x0)
		}
	}
	ws := []word{d.words[i]}
	d.used[i] = true
	last := d.words[i]
	for {
		next, nx := -1, math.Inf(1)
		for j, w := range d.words {
			if d.used[j] || math.Abs(w.cy()-last.cy()) > 0.5*th || w.x0 < last.x1-1 || w.x0-last.x1 > 1.3*th || w.x1 > stop {
				continue
			}
			if w.x0 < nx {
				next, nx = j, w.x0
			}
		}
		if next < 0 {
			break
		}
		d.used[next] = true
		last = d.words[next]
		ws = append(ws, last)
	}
	return joinWords(ws, th)
}

func hexOf(c [3]float64) string {
	cl := func(v float64) int { return int(math.Max(0, math.Min(255, math.Round(v)))) }
	return fmt.Sprintf("#%02x%02x%02x", cl(c[0]), cl(c[1]), cl(c[2]))
}

// seriesOrder returns the cluster ids in legend order when every series has a
// legend entry, else in the given fallback order.
func seriesOrder(present []int, legend []legendEntry, fallback func(a, b int) bool) []int {
	pos := map[int]int{}
	for i, e := range legend {
		pos[e.cl] = i
	}
	all := true
	for _, c := range present {
		if _, ok := pos[c]; !ok {
			all = false
		}
	}
	out := append([]int(nil), present...)
	if all {
		sort.Slice(out, func(i, j int) bool { return pos[out[i]] < pos[out[j]] })
	} else {
		sort.Slice(out, func(i, j int) bool { return fallback(out[i], out[j]) })
	}
	return out
}

func legendName(legend []legendEntry, cl int) string {
	for _, e := range legend {
		if e.cl == cl {
			return e.name
		}
	}
	return ""
}

// buildTable lays the series out as a table: a header row with the series
// names and one row per category.
func buildTable(series []Series, cats []any) *digitize.Table {
	t := &digitize.Table{NRows: len(cats) + 1, NCols: len(series) + 1, HeaderRows: 1}
	cell := func(r, c int, text string, conf float64) digitize.Cell {
		return digitize.Cell{R: r, C: c, RowSpan: 1, ColSpan: 1, Text: text, Conf: conf, Value: digitize.ParseValue(text)}
	}
	t.Cells = append(t.Cells, cell(0, 0, "", 0))
	for j, s := range series {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("Series %d", j+1)
		}
		c := cell(0, j+1, name, 0)
		c.Value = nil
		t.Cells = append(t.Cells, c)
	}
	for i, x := range cats {
		label := fmt.Sprint(x)
		c := cell(i+1, 0, label, 0)
		c.Value = nil
		t.Cells = append(t.Cells, c)
		for j, s := range series {
			text := ""
			for _, p := range s.Points {
				if p.X == x {
					text = strconv.FormatFloat(p.Y, 'f', -1, 64)
					break
				}
			}
			t.Cells = append(t.Cells, cell(i+1, j+1, text, 0))
		}
	}
	return t
}

// seriesMask marks pixels that belong to a series: those assigned to a
// colour, and the faint rim next to them that is a blend of that colour with
// the background (too light to assign, but for a dark, greyish series such
// as navy it looks like a grey rule).
func seriesMask(r *raster, cl []cluster, lm *labelMap) []bool {
	m := make([]bool, len(lm.lab))
	for i, l := range lm.lab {
		m[i] = l >= 0
	}
	for y := 1; y < r.h-1; y++ {
		for x := 1; x < r.w-1; x++ {
			i := y*r.w + x
			if m[i] {
				continue
			}
			for _, j := range [4]int{i - 1, i + 1, i - r.w, i + r.w} {
				l := lm.lab[j]
				if l < 0 {
					continue
				}
				if a, dist := r.coverage(x, y, cl[l].c); dist < 18 && a >= 0.1 {
					m[i] = true
					break
				}
			}
		}
	}
	return m
}

// finite drops points whose value could not be measured (NaN or infinite,
// which JSON cannot carry) and series left empty.
func finite(series []Series) []Series {
	out := series[:0]
	for _, s := range series {
		pts := s.Points[:0]
		for _, p := range s.Points {
			if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) {
				pts = append(pts, p)
			}
		}
		s.Points = pts
		if len(pts) > 0 {
			out = append(out, s)
		}
	}
	return out
}
