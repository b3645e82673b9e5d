package digitize

import (
	"image"
	"math"
)

// Deskew limits and steps (degrees).
const (
	maxSkewDeg    = 5.0
	coarseSkewDeg = 0.25
	fineSkewDeg   = 0.05
	// minSkewDeg is the smallest skew worth a rotation: below it a row of
	// a wide table drifts by less than a pixel per 1000.
	minSkewDeg = 0.1
)

// estimateSkew returns the angle (degrees, within ±maxSkewDeg) of the text
// lines and rulings of the ink mask b: the shear under which the horizontal
// projection profile is sharpest (largest sum of squared row counts). Ink
// along y = y0 + x·tan(a) lines up for angle a. It returns 0 when the mask
// holds too little ink to tell.
func estimateSkew(b *binary) float64 {
	// Sample ink points; a few tens of thousands are plenty.
	var xs, ys []float32
	n := 0
	for _, v := range b.pix {
		n += int(v)
	}
	if n < 200 {
		return 0
	}
	step := max(1, n/60000)
	k := 0
	for y := 0; y < b.h; y++ {
		row := b.pix[y*b.w : (y+1)*b.w]
		for x, v := range row {
			if v == 0 {
				continue
			}
			if k%step == 0 {
				xs = append(xs, float32(x)-float32(b.w)/2)
				ys = append(ys, float32(y))
			}
			k++
		}
	}
	hist := make([]float64, b.h+2*b.w/10+int(float64(b.w)*math.Tan(maxSkewDeg*math.Pi/180))+8)
	off := float64(len(hist)-b.h) / 2
	score := func(deg float64) float64 {
		t := float32(math.Tan(deg * math.Pi / 180))
		for i := range hist {
			hist[i] = 0
		}
		for i := range xs {
			yy := int(float64(ys[i]-xs[i]*t) + off)
			if yy >= 0 && yy < len(hist) {
				hist[yy]++
			}
		}
		s := 0.0
		for _, v := range hist {
			s += v * v
		}
		return s
	}
	best, bestS := 0.0, score(0)
	for d := -maxSkewDeg; d <= maxSkewDeg+1e-9; d += coarseSkewDeg {
		if s := score(d); s > bestS {
			best, bestS = d, s
		}
	}
	c := best
	for d := c - coarseSkewDeg; d <= c+coarseSkewDeg+1e-9; d += fineSkewDeg {
		if s := score(d); s > bestS {
			best, bestS = d, s
		}
	}
	// A sharper profile at 0 than at the best angle by less than a
	// fraction is noise: keep the page as it is.
	if s0 := score(0); bestS < s0*1.02 {
		return 0
	}
	return math.Round(best/fineSkewDeg) * fineSkewDeg
}

// rotation maps between the deskewed canvas and the source image.
type rotation struct {
	deg              float64
	cos, sin         float64
	srcW, srcH       float64 // source size
	cx, cy, ncx, ncy float64 // centres of the source and the canvas
	canvasW, canvasH int
}

// deskewGray rotates g by -deg (so that lines at angle deg become
// horizontal) onto a canvas that holds the whole image, filled with bg.
func deskewGray(g *image.Gray, deg float64, bg uint8) (*image.Gray, *rotation) {
	W, H := float64(g.Rect.Dx()), float64(g.Rect.Dy())
	th := deg * math.Pi / 180
	r := &rotation{cos: math.Cos(th), sin: math.Sin(th), srcW: W, srcH: H}
	NW := math.Ceil(W*math.Abs(r.cos) + H*math.Abs(r.sin))
	NH := math.Ceil(W*math.Abs(r.sin) + H*math.Abs(r.cos))
	r.canvasW, r.canvasH = int(NW), int(NH)
	r.cx, r.cy, r.ncx, r.ncy = W/2, H/2, NW/2, NH/2
	out := image.NewGray(image.Rect(0, 0, r.canvasW, r.canvasH))
	w, h := g.Rect.Dx(), g.Rect.Dy()
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return float64(bg)
		}
		return float64(g.Pix[y*g.Stride+x])
	}
	for y := 0; y < r.canvasH; y++ {
		for x := 0; x < r.canvasW; x++ {
			sx, sy := r.toSource(float64(x)+0.5, float64(y)+0.5)
			sx, sy = sx-0.5, sy-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
			out.Pix[y*out.Stride+x] = uint8(v + 0.5)
		}
	}
	return out, r
}

// toSource maps a canvas point to the source image.
func (r *rotation) toSource(x, y float64) (float64, float64) {
	dx, dy := x-r.ncx, y-r.ncy
	return r.cos*dx - r.sin*dy + r.cx, r.sin*dx + r.cos*dy + r.cy
}
