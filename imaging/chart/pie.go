package chart

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// Pie chart types.
const (
	TypePie   = "pie"
	TypeDonut = "donut"
	// pieSeriesName names the one series of a pie or donut result: its
	// points are the slices, y the share in percent.
	pieSeriesName = "Share %"
)

// Thresholds of the pie reader, in shares of the disc radius R unless
// stated.
const (
	// pieMinDiameter: a disc narrower than this (pixels) is a legend
	// swatch or a marker, not a pie.
	pieMinDiameter = 60
	// pieMaxAspect: the disc's bounding box is square within this ratio
	// (anti-aliasing and JPEG add a pixel or two on a side).
	pieMaxAspect = 1.15
	// pieMinFill and pieMaxOutside: inside the ring that carries the
	// slices, at least pieMinFill of the pixels are series colours; in the
	// corners of the box, outside 1.06 R, at most pieMaxOutside are. A bar
	// or a square fails the second test, a ring of scattered marks the
	// first.
	pieMinFill    = 0.85
	pieMaxOutside = 0.12
	// pieDonutHole: a hole wider than this (share of R) makes a donut; a
	// pie's separators meet at the centre and leave at most a few pixels.
	pieDonutHole = 0.2
	// pieAngles: rays cast around the disc; 1440 is a quarter degree, or
	// 0.07 percentage points per ray.
	pieAngles = 1440
	// pieRadii: samples per ray, spread over the ring between the hole
	// (plus 20% of the ring) and 0.88 R (inside the anti-aliased rim).
	pieRadii = 7
	// pieMinSliceRays: a colour on fewer rays (0.5°, 0.14 points) is the
	// blend along a boundary between two slices, not a slice.
	pieMinSliceRays = 2
	// pieDilate: series pixels closer than twice this (pixels) belong to
	// one disc, across the white separators some pies draw between slices.
	pieDilate = 3
)

// readPie reads img as a pie or donut chart. ok is false when img holds no
// pie (the caller then keeps its own error).
func (rd Reader) readPie(ctx context.Context, img image.Image) (*Result, bool, error) {
	r := newRaster(img)
	cl := findClusters(r)
	if len(cl) == 0 {
		return nil, false, nil
	}
	lm := assign(r, cl)
	cl = refine(r, cl, lm)
	if len(cl) == 0 {
		return nil, false, nil
	}
	lm = assign(r, cl)
	cl = mergeFringes(cl, lm, r.bg)
	// OCR sees the image without the clustered colours only: the extra
	// colours below may be as dark as text.
	ocrLab := append([]int16(nil), lm.lab...)
	cl = addSolidColours(r, cl, lm)
	dk, ok := findDisc(lm)
	if !ok {
		return nil, false, nil
	}
	slices := dk.slices(lm)
	if len(slices) < 2 {
		return nil, false, nil
	}
	d := &digitizer{r: r, ocr: rd.OCR, cl: cl, lm: lm}
	d.comps, d.ids = components(lm)
	res := &Result{ChartType: TypePie, Warnings: []string{}}
	if dk.hole > pieDonutHole {
		res.ChartType = TypeDonut
	}
	labels, legendOrder, err := d.pieLabels(ctx, dk, slices, ocrLab)
	if err != nil {
		return nil, true, err
	}
	order := make([]int, len(slices))
	for i := range order {
		order[i] = i
	}
	if legendOrder != nil {
		order = legendOrder
	}
	s := Series{Name: pieSeriesName, Points: make([]Point, 0, len(slices))}
	cats := make([]any, 0, len(slices))
	for k, i := range order {
		sl := slices[i]
		var x any = k + 1
		if labels[i] != "" {
			x = labels[i]
		}
		s.Points = append(s.Points, Point{X: x, Y: math.Round(sl.share*10) / 10, Color: hexOf(cl[sl.cl].c)})
		cats = append(cats, x)
	}
	res.Series = []Series{s}
	res.Table = buildTable(res.Series, cats)
	res.Warnings = d.warnings
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	res.Engine.Pipeline = pipelineName
	if d.ocrOK {
		res.Engine.OCR = ocrEngineName
		res.Engine.Version = d.ocr.Version()
	}
	return res, true, nil
}

// disc is the pie found in the image: centre, radius and hole (share of R).
type disc struct {
	cx, cy, r float64
	hole      float64
	box       image.Rectangle
}

// pieSlice is one slice: its colour, its share in percent and where it
// starts, clockwise from 12 o'clock in degrees.
type pieSlice struct {
	cl    int
	share float64
	start float64
	mid   float64 // direction of the slice's middle, radians (image axes)
}

// findDisc finds the largest region of series colours (pixels closer than
// 2·pieDilate joined) and accepts it when it is a filled disc or ring.
func findDisc(lm *labelMap) (disc, bool) {
	w, h := lm.w, lm.h
	on := make([]bool, w*h)
	for i, l := range lm.lab {
		on[i] = l >= 0
	}
	on = dilate(on, w, h, pieDilate)
	// Largest 4-connected region of the dilated mask.
	seen := make([]bool, w*h)
	var best image.Rectangle
	bestArea := 0
	stack := make([]int, 0, 1024)
	for start := range on {
		if !on[start] || seen[start] {
			continue
		}
		area := 0
		box := image.Rectangle{Min: image.Point{X: w, Y: h}, Max: image.Point{X: -1, Y: -1}}
		stack = append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			area++
			box.Min.X, box.Min.Y = min(box.Min.X, x), min(box.Min.Y, y)
			box.Max.X, box.Max.Y = max(box.Max.X, x+1), max(box.Max.Y, y+1)
			for _, q := range [4]int{p - 1, p + 1, p - w, p + w} {
				if q < 0 || q >= w*h || (q == p-1 && x == 0) || (q == p+1 && x == w-1) {
					continue
				}
				if on[q] && !seen[q] {
					seen[q] = true
					stack = append(stack, q)
				}
			}
		}
		if area > bestArea {
			best, bestArea = box, area
		}
	}
	box := best.Inset(pieDilate)
	bw, bh := float64(box.Dx()), float64(box.Dy())
	if bw < pieMinDiameter || bh < pieMinDiameter || math.Max(bw, bh)/math.Min(bw, bh) > pieMaxAspect {
		return disc{}, false
	}
	dk := disc{cx: float64(box.Min.X+box.Max.X) / 2, cy: float64(box.Min.Y+box.Max.Y) / 2, r: (bw + bh) / 4, box: box}
	// The hole: median over rays of the first series pixel from the centre.
	var firsts []float64
	for a := 0; a < 360; a += 2 {
		t := float64(a) * math.Pi / 180
		for f := 0.0; f <= 1; f += 0.01 {
			if l := dk.label(lm, t, f); l >= 0 {
				firsts = append(firsts, f)
				break
			}
		}
	}
	if len(firsts) < 150 {
		return disc{}, false
	}
	dk.hole = median(firsts)
	// Fill of the ring, and of the box's corners outside the disc.
	in, inOn, out, outOn := 0, 0, 0, 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			dist := math.Hypot(float64(x)+0.5-dk.cx, float64(y)+0.5-dk.cy) / dk.r
			l := lm.lab[y*w+x]
			switch {
			case dist > dk.hole+0.1 && dist < 0.9:
				in++
				if l >= 0 {
					inOn++
				}
			case dist > 1.06:
				out++
				if l >= 0 {
					outOn++
				}
			}
		}
	}
	if in == 0 || float64(inOn) < pieMinFill*float64(in) || float64(outOn) > pieMaxOutside*float64(max(out, 1)) {
		return disc{}, false
	}
	return dk, true
}

// label is the series label at angle t (radians, image axes: clockwise
// from 3 o'clock) and radius f·R.
func (dk disc) label(lm *labelMap, t, f float64) int {
	x := int(math.Floor(dk.cx + f*dk.r*math.Cos(t)))
	y := int(math.Floor(dk.cy + f*dk.r*math.Sin(t)))
	if x < 0 || y < 0 || x >= lm.w || y >= lm.h {
		return -1
	}
	return int(lm.lab[y*lm.w+x])
}

// slices casts pieAngles rays and gives each the colour most of its ring
// samples have; a colour's share of the voting rays is its slice's share.
// Rays on a separator (no colour) do not vote, so the gaps are shared out
// in proportion.
func (dk disc) slices(lm *labelMap) []pieSlice {
	in := math.Max(dk.hole, 0) + 0.2*(1-math.Max(dk.hole, 0))
	const out = 0.88
	ray := make([]int, pieAngles)
	votes := map[int]int{}
	for a := range ray {
		// Start at 12 o'clock and go clockwise.
		t := -math.Pi/2 + 2*math.Pi*float64(a)/pieAngles
		clear(votes)
		for k := 0; k < pieRadii; k++ {
			if l := dk.label(lm, t, in+(out-in)*float64(k)/(pieRadii-1)); l >= 0 {
				votes[l]++
			}
		}
		ray[a] = -1
		bestN := pieRadii / 2
		for l, n := range votes {
			if n > bestN || (n == bestN && ray[a] >= 0 && l < ray[a]) {
				ray[a], bestN = l, n
			}
		}
	}
	count := map[int]int{}
	total := 0
	for _, l := range ray {
		if l >= 0 {
			count[l]++
		}
	}
	for l, n := range count {
		if n < pieMinSliceRays {
			delete(count, l)
			continue
		}
		total += n
	}
	if total == 0 {
		return nil
	}
	// Where each colour starts: the first ray of its longest run, with the
	// runs wrapping around 12 o'clock joined.
	start, sum := map[int]int{}, map[int]float64{}
	first := map[int]int{}
	for a, l := range ray {
		if _, ok := count[l]; !ok {
			continue
		}
		if _, ok := first[l]; !ok {
			first[l] = a
		}
		sum[l] += float64(a)
	}
	for l := range count {
		start[l] = first[l]
		// A slice across 12 o'clock starts at the end of the circle.
		if ray[0] == l && ray[pieAngles-1] == l {
			a := pieAngles - 1
			for a > 0 && ray[a-1] == l {
				a--
			}
			start[l] = a - pieAngles
		}
	}
	out2 := make([]pieSlice, 0, len(count))
	for l, n := range count {
		st := float64(start[l]) * 360 / pieAngles
		midDeg := st + 180*float64(n)/pieAngles
		out2 = append(out2, pieSlice{cl: l, share: 100 * float64(n) / float64(total), start: st,
			mid: -math.Pi/2 + midDeg*math.Pi/180})
	}
	sort.Slice(out2, func(i, j int) bool { return out2[i].start < out2[j].start })
	return out2
}

// dilate grows the true pixels of m by rad in both directions (a square).
func dilate(m []bool, w, h, rad int) []bool {
	tmp := make([]bool, len(m))
	for y := 0; y < h; y++ {
		run := -1 // last true x
		for x := 0; x < w+rad; x++ {
			if x < w && m[y*w+x] {
				run = x
			}
			if xx := x - rad; xx >= 0 && xx < w && run >= 0 && xx-run <= 2*rad {
				tmp[y*w+xx] = true
			}
		}
	}
	out := make([]bool, len(m))
	for x := 0; x < w; x++ {
		run := -1
		for y := 0; y < h+rad; y++ {
			if y < h && tmp[y*w+x] {
				run = y
			}
			if yy := y - rad; yy >= 0 && yy < h && run >= 0 && yy-run <= 2*rad {
				out[yy*w+x] = true
			}
		}
	}
	return out
}

// pieLabels names the slices: from a legend (a swatch of the slice's colour
// outside the disc with text right of it), else from a word just outside
// the disc in the direction of the slice's middle. When every slice has a
// legend entry, order is the legend's order of the slices.
func (d *digitizer) pieLabels(ctx context.Context, dk disc, slices []pieSlice, ocrLab []int16) ([]string, []int, error) {
	labels := make([]string, len(slices))
	// Legend swatches: small, filled, squarish components outside the disc.
	type sw struct {
		slice int
		comp  component
	}
	var sws []sw
	for i, sl := range slices {
		best := -1
		for ci, c := range d.comps {
			if c.cl != sl.cl || c.area < minCompArea || c.fill() < minBarFill || c.w() < 4 || c.h() < 4 {
				continue
			}
			if float64(c.w()) > 0.5*dk.r || float64(c.h()) > 0.5*dk.r || c.w() > 3*c.h() || c.h() > 3*c.w() {
				continue
			}
			if math.Hypot(c.cx()-dk.cx, c.cy()-dk.cy) < 1.1*dk.r {
				continue
			}
			if best < 0 || c.area > d.comps[best].area {
				best = ci
			}
		}
		if best >= 0 {
			sws = append(sws, sw{slice: i, comp: d.comps[best]})
		}
	}
	d.textH = math.Max(8, float64(d.r.h)/45)
	if len(sws) > 0 {
		hs := make([]float64, len(sws))
		for i, s := range sws {
			hs[i] = float64(s.comp.h())
		}
		d.textH = math.Max(6, median(hs)-2)
	}
	if !d.ocr.Available() {
		d.warn(WarnOCRUnavailable)
		return labels, nil, nil
	}
	// Text only: the slices, swatches and any colour painted over.
	gray := image.NewGray(image.Rect(0, 0, d.r.w, d.r.h))
	for i := range d.r.lum {
		v := d.r.lum[i]
		if ocrLab[i] >= 0 || d.r.chroma[i] > 60 {
			v = uint8(d.r.bgLum)
		}
		gray.Pix[i] = v
	}
	ws, err := readRegion(ctx, d.ocr, gray, gray.Bounds(), d.textH, ocr.Options{PSM: 11})
	switch {
	case err == nil:
		d.words, d.ocrOK = ws, true
	case isUnavailable(err):
		d.warn(WarnOCRUnavailable)
		return labels, nil, nil
	case ctx.Err() != nil:
		return nil, nil, fmt.Errorf("chart: %w", ctx.Err())
	default:
		d.warn(WarnOCRFailed)
		return labels, nil, nil
	}
	d.used = make([]bool, len(d.words))
	entries := make([]legendEntry, len(sws))
	for i, s := range sws {
		entries[i] = legendEntry{cl: slices[s.slice].cl, comp: s.comp}
	}
	sort.Slice(sws, func(i, j int) bool {
		a, b := sws[i].comp, sws[j].comp
		if math.Abs(a.cy()-b.cy()) > d.textH {
			return a.cy() < b.cy()
		}
		return a.cx() < b.cx()
	})
	for _, s := range sws {
		labels[s.slice] = d.legendText(s.comp, entries)
	}
	// Slices without a legend entry: the nearest unused word outside the
	// disc, within the slice's direction.
	for i, sl := range slices {
		if labels[i] != "" {
			continue
		}
		best, bestD := -1, math.Inf(1)
		for j, w := range d.words {
			if d.used[j] {
				continue
			}
			dx, dy := w.cx()-dk.cx, w.cy()-dk.cy
			dist := math.Hypot(dx, dy)
			// The word's nearest edge is outside the disc and close to it.
			near := dist - 0.5*math.Abs(w.x1-w.x0)*math.Abs(dx)/math.Max(dist, 1)
			if near < 0.95*dk.r || near > dk.r+4*d.textH {
				continue
			}
			da := math.Abs(math.Remainder(math.Atan2(dy, dx)-sl.mid, 2*math.Pi))
			if da > math.Max(math.Pi*sl.share/100, 0.15)+0.1 {
				continue
			}
			if near < bestD {
				best, bestD = j, near
			}
		}
		if best >= 0 {
			d.used[best] = true
			labels[i] = d.words[best].text
		}
	}
	missing := 0
	for _, l := range labels {
		if l == "" {
			missing++
		}
	}
	if missing > 0 {
		d.warn(WarnNoLegend)
	}
	if len(sws) == len(slices) {
		order := make([]int, len(sws))
		for k, s := range sws {
			order[k] = s.slice
		}
		return labels, order, nil
	}
	return labels, nil, nil
}

// Solid colours the series clustering leaves out (it keeps saturated
// colours only; pies also use navy, grey and black slices).
const (
	// solidMinPixels: a colour bin needs this many interior pixels (all 8
	// neighbours within solidNeighbourDist) to be a slice or a swatch
	// colour; text strokes have almost no interior pixels.
	solidMinPixels      = 300
	solidNeighbourDist  = 24
	solidMinBgDist      = 80 // far from the background: not paper, not a light rim
	solidAssignDist     = 40 // a pixel this close to a solid colour is labelled with it
	solidMergeDist      = 30 // bins closer than this are one colour
	solidNearSeriesDist = 60 // a solid colour this close to a series colour is its shade
)

// addSolidColours finds large flat regions of colours that no cluster
// covers, adds each colour as a cluster and labels its pixels in lm.
func addSolidColours(r *raster, cl []cluster, lm *labelMap) []cluster {
	type bin struct {
		n int
		s [3]float64
	}
	bins := map[int]*bin{}
	px := func(i int) [3]float64 {
		return [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
	}
	for y := 1; y < r.h-1; y++ {
		for x := 1; x < r.w-1; x++ {
			i := y*r.w + x
			if lm.lab[i] >= 0 {
				continue
			}
			p := px(i)
			if colorDist(p, r.bg) < solidMinBgDist {
				continue
			}
			flat := true
			for dy := -1; dy <= 1 && flat; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if colorDist(px(i+dy*r.w+dx), p) > solidNeighbourDist {
						flat = false
						break
					}
				}
			}
			if !flat {
				continue
			}
			k := int(r.rgb[i*3])>>4<<8 | int(r.rgb[i*3+1])>>4<<4 | int(r.rgb[i*3+2])>>4
			b := bins[k]
			if b == nil {
				b = &bin{}
				bins[k] = b
			}
			b.n++
			for c := 0; c < 3; c++ {
				b.s[c] += p[c]
			}
		}
	}
	keys := make([]int, 0, len(bins))
	for k := range bins {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return bins[keys[a]].n > bins[keys[b]].n })
	var extra []cluster
	for _, k := range keys {
		b := bins[k]
		c := [3]float64{b.s[0] / float64(b.n), b.s[1] / float64(b.n), b.s[2] / float64(b.n)}
		merged := false
		for j := range extra {
			if colorDist(extra[j].c, c) < solidMergeDist {
				extra[j].count += b.n
				merged = true
				break
			}
		}
		if merged || b.n < solidMinPixels {
			continue
		}
		near := false
		for _, o := range cl {
			if colorDist(o.c, c) < solidNearSeriesDist {
				near = true
			}
		}
		if !near {
			extra = append(extra, cluster{c: c, count: b.n})
		}
	}
	if len(extra) == 0 {
		return cl
	}
	base := len(cl)
	for i, l := range lm.lab {
		if l >= 0 {
			continue
		}
		p := px(i)
		best, bestD := -1, float64(solidAssignDist)
		for j, e := range extra {
			if d := colorDist(p, e.c); d < bestD {
				best, bestD = j, d
			}
		}
		if best >= 0 {
			lm.lab[i] = int16(base + best)
			lm.alpha[i] = 1
		}
	}
	return append(cl, extra...)
}
