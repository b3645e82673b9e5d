package chart

import (
	"image"
	"image/color"
	"math"
	"sort"
)

// raster is an 8-bit RGB copy of the input with per-pixel luminance and
// chroma, indexed y*w+x.
type raster struct {
	w, h   int
	rgb    []uint8 // 3 bytes per pixel
	lum    []uint8
	chroma []uint8
	bg     [3]float64 // background colour
	bgLum  float64
	// series marks pixels assigned to a series colour once clustering has
	// run; they are never axes, gridlines or text.
	series []bool
}

func newRaster(img image.Image) *raster {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	r := &raster{w: w, h: h, rgb: make([]uint8, w*h*3), lum: make([]uint8, w*h), chroma: make([]uint8, w*h)}
	switch m := img.(type) {
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride:]
			for x := 0; x < w; x++ {
				i := (y*w + x) * 3
				// Composite over white so that transparent PNGs read as paper.
				a := uint32(row[x*4+3])
				r.rgb[i] = uint8(uint32(row[x*4]) + (255 - a))
				r.rgb[i+1] = uint8(uint32(row[x*4+1]) + (255 - a))
				r.rgb[i+2] = uint8(uint32(row[x*4+2]) + (255 - a))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				i := (y*w + x) * 3
				a := uint32(row[x*4+3])
				for c := 0; c < 3; c++ {
					r.rgb[i+c] = uint8((uint32(row[x*4+c])*a + 255*(255-a)) / 255)
				}
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := (y*w + x) * 3
				r.rgb[i], r.rgb[i+1], r.rgb[i+2] = cr, cg, cb
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := m.Pix[y*m.Stride+x]
				i := (y*w + x) * 3
				r.rgb[i], r.rgb[i+1], r.rgb[i+2] = v, v, v
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				cr, cg, cb, ca := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				i := (y*w + x) * 3
				r.rgb[i] = uint8((cr + (0xffff - ca)) >> 8)
				r.rgb[i+1] = uint8((cg + (0xffff - ca)) >> 8)
				r.rgb[i+2] = uint8((cb + (0xffff - ca)) >> 8)
			}
		}
	}
	for i := 0; i < w*h; i++ {
		cr, cg, cb := r.rgb[i*3], r.rgb[i*3+1], r.rgb[i*3+2]
		r.lum[i] = uint8((299*uint32(cr) + 587*uint32(cg) + 114*uint32(cb)) / 1000)
		mx, mn := max(cr, cg, cb), min(cr, cg, cb)
		r.chroma[i] = mx - mn
	}
	r.bg = r.background()
	r.bgLum = 0.299*r.bg[0] + 0.587*r.bg[1] + 0.114*r.bg[2]
	return r
}

// background is the per-channel median of the border pixels.
func (r *raster) background() [3]float64 {
	var ch [3][]int
	add := func(x, y int) {
		i := (y*r.w + x) * 3
		for c := 0; c < 3; c++ {
			ch[c] = append(ch[c], int(r.rgb[i+c]))
		}
	}
	for x := 0; x < r.w; x++ {
		add(x, 0)
		add(x, r.h-1)
	}
	for y := 0; y < r.h; y++ {
		add(0, y)
		add(r.w-1, y)
	}
	var out [3]float64
	for c := 0; c < 3; c++ {
		sort.Ints(ch[c])
		out[c] = float64(ch[c][len(ch[c])/2])
	}
	return out
}

func (r *raster) px(x, y int) (float64, float64, float64) {
	i := (y*r.w + x) * 3
	return float64(r.rgb[i]), float64(r.rgb[i+1]), float64(r.rgb[i+2])
}

// darkness is how much darker than the background a neutral pixel is; it is
// 0 for coloured pixels, so that series never count as axes or text.
func (r *raster) darkness(x, y int) float64 {
	i := y*r.w + x
	if r.chroma[i] > 60 || (r.series != nil && r.series[i]) {
		return 0
	}
	return math.Max(0, r.bgLum-float64(r.lum[i]))
}

// axisState classifies a pixel for axis-line runs: 1 dark neutral, 2 series
// colour, 0 anything else.
func (r *raster) axisState(x, y int) int {
	i := y*r.w + x
	if r.series != nil && r.series[i] {
		return 2
	}
	if r.bgLum-float64(r.lum[i]) > darkThr {
		// Axis ink is grey; the blend where two bright bars meet can be as
		// dark but keeps some colour.
		if r.chroma[i] <= 30 {
			return 1
		}
		// A dark axis next to a coloured bar picks up its colour through
		// JPEG chroma subsampling: neither axis nor background.
		return 2
	}
	return 0
}

func (r *raster) dark(x, y int, thr float64) bool { return r.darkness(x, y) > thr }

// coverage returns how much of colour c covers pixel (x,y), as the position of
// the pixel on the segment from the background to c, and the distance of the
// pixel from that segment.
func (r *raster) coverage(x, y int, c [3]float64) (alpha, dist float64) {
	pr, pg, pb := r.px(x, y)
	return segmentCoverage([3]float64{pr, pg, pb}, r.bg, c)
}

func segmentCoverage(p, bg, c [3]float64) (alpha, dist float64) {
	return project(p, bg, c, true)
}

// rayCoverage is segmentCoverage without clamping: t > 1 means p is a more
// saturated version of c.
func rayCoverage(p, bg, c [3]float64) (t, dist float64) {
	return project(p, bg, c, false)
}

// project returns where p falls along the line from bg to c (0 at bg, 1 at c;
// clamped to the segment when clamp is set) and p's distance from that point.
func project(p, bg, c [3]float64, clamp bool) (t, dist float64) {
	var d, v [3]float64
	dd := 0.0
	for k := 0; k < 3; k++ {
		d[k] = c[k] - bg[k]
		v[k] = p[k] - bg[k]
		dd += d[k] * d[k]
	}
	if dd == 0 {
		return 0, math.Inf(1)
	}
	t = (v[0]*d[0] + v[1]*d[1] + v[2]*d[2]) / dd
	if clamp {
		t = math.Max(0, math.Min(1, t))
	}
	e := 0.0
	for k := 0; k < 3; k++ {
		q := v[k] - t*d[k]
		e += q * q
	}
	return t, math.Sqrt(e)
}

// sameHue reports whether a and b are the same series colour at different
// saturation (anti-aliasing, JPEG chroma subsampling), not a light/dark pair.
func sameHue(a, b, bg [3]float64) bool {
	t, d := rayCoverage(a, bg, b)
	return d < 30 && t > 0.6 && t < 1/0.6
}

func colorDist(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

func chromaOf(c [3]float64) float64 {
	return math.Max(c[0], math.Max(c[1], c[2])) - math.Min(c[0], math.Min(c[1], c[2]))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// A coloured axis frame (gnuplot's "set border lc rgb", a themed
// spreadsheet) is an L of one saturated colour: a horizontal run at least
// frameMinShare of the width long and a vertical one at least that share of
// the height, meeting at the bottom-left within frameCornerTol pixels (or
// frameTickLen where outward tick marks continue a line). Runs
// follow pixels of chroma above frameMinChroma within frameRunTol of the
// run's first pixel; bars and lines never draw such an L.
const (
	frameMinShare  = 0.3
	frameCornerTol = 4
	// frameTickLen: outward tick marks in the frame colour extend a run
	// past the corner by up to this many pixels.
	frameTickLen   = 16
	frameMinChroma = 50
	frameRunTol    = 40
	// framePixelDist: a pixel belongs to the frame colour when it lies
	// within this distance of the segment from the background to it, at
	// least frameMinCover of the way (anti-aliased edges included).
	framePixelDist = 30
	frameMinCover  = 0.25
)

type colourRun struct {
	n, at, from, to int // length, row (or column), first and last pixel
	c               [3]float64
}

// longestColourRun finds the longest run of one saturated colour along
// lines (rows when horizontal) in [lo, hi).
func (r *raster) longestColourRun(horizontal bool, lo, hi int) colourRun {
	var best colourRun
	n := r.w
	if !horizontal {
		n = r.h
	}
	for a := lo; a < hi; a++ {
		at := func(k int) int {
			if horizontal {
				return a*r.w + k
			}
			return k*r.w + a
		}
		start := -1
		var c [3]float64
		for k := 0; k <= n; k++ {
			var p [3]float64
			sat := false
			if k < n {
				i := at(k)
				p = [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
				sat = r.chroma[i] > frameMinChroma
			}
			if start >= 0 && (!sat || colorDist(p, c) >= frameRunTol) {
				if k-start > best.n {
					best = colourRun{n: k - start, at: a, from: start, to: k - 1, c: c}
				}
				start = -1
			}
			if sat && start < 0 {
				start, c = k, p
			}
		}
	}
	return best
}

// neutralizeColouredFrame finds a coloured axis frame and repaints its
// colour as neutral grey of the same lightness, so that findAxes sees axis
// lines and findClusters no series. It reports whether it found one.
func (r *raster) neutralizeColouredFrame() bool {
	h := r.longestColourRun(true, r.h/2, r.h)
	v := r.longestColourRun(false, 0, r.w/2)
	if float64(h.n) < frameMinShare*float64(r.w) || float64(v.n) < frameMinShare*float64(r.h) || colorDist(h.c, v.c) >= frameRunTol {
		return false
	}
	// Outward tick marks on the axes lengthen the runs past the corner.
	if v.at < h.from-frameCornerTol || v.at > h.from+frameTickLen || h.at < v.to-frameTickLen || h.at > v.to+frameCornerTol {
		return false
	}
	frame := [3]float64{(h.c[0] + v.c[0]) / 2, (h.c[1] + v.c[1]) / 2, (h.c[2] + v.c[2]) / 2}
	for i := 0; i < r.w*r.h; i++ {
		p := [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
		if t, d := segmentCoverage(p, r.bg, frame); t >= frameMinCover && d < framePixelDist {
			l := r.lum[i]
			r.rgb[i*3], r.rgb[i*3+1], r.rgb[i*3+2], r.chroma[i] = l, l, l, 0
		}
	}
	return true
}
