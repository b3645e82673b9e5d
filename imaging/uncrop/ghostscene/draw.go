package ghostscene

import (
	"image"
	"math"
)

type texture struct {
	name string
	draw func(img *image.NRGBA, r *rng, base, alt [3]float64)
}

type shape struct {
	name string
	draw func(img *image.NRGBA, cx, cy, rad int, col, mark [3]float64)
}

// Backgrounds: all stationary, so any window of the band may be filled from
// any part of the original without looking out of place.
var textures = []texture{
	{"noise", func(img *image.NRGBA, r *rng, base, alt [3]float64) {
		s := r.next()
		fill(img, func(x, y int) float64 {
			return 0.55*valueNoise(s, float64(x)/14, float64(y)/14) +
				0.3*valueNoise(s+1, float64(x)/5, float64(y)/5) +
				0.15*valueNoise(s+2, float64(x)/2, float64(y)/2)
		}, base, alt, s)
	}},
	{"waves", func(img *image.NRGBA, r *rng, base, alt [3]float64) {
		s := r.next()
		a := r.f() * math.Pi
		ca, sa := math.Cos(a), math.Sin(a)
		per := 7 + r.f()*6
		fill(img, func(x, y int) float64 {
			u := float64(x)*ca + float64(y)*sa
			w := 6 * valueNoise(s, float64(x)/20, float64(y)/20)
			return 0.5 + 0.4*math.Sin(2*math.Pi*(u+w)/per) + 0.1*(valueNoise(s+1, float64(x)/2, float64(y)/2)-0.5)
		}, base, alt, s)
	}},
	{"gravel", func(img *image.NRGBA, r *rng, base, alt [3]float64) {
		s := r.next()
		fill(img, func(x, y int) float64 {
			// Cells of a jittered 6 px grid, each with its own shade.
			cx, cy := float64(x)/6, float64(y)/6
			bi, bj := math.Floor(cx), math.Floor(cy)
			bd, bv := math.Inf(1), 0.0
			for j := -1.0; j <= 1; j++ {
				for i := -1.0; i <= 1; i++ {
					h := mix(s ^ uint64(int64(bi+i))*0x100000001b3 ^ uint64(int64(bj+j))*0xc2b2ae3d27d4eb4f)
					px := bi + i + float64(h&0xffff)/65536
					py := bj + j + float64((h>>16)&0xffff)/65536
					if d := (cx-px)*(cx-px) + (cy-py)*(cy-py); d < bd {
						bd, bv = d, float64(h>>40&0xff)/255
					}
				}
			}
			return 0.2 + 0.6*bv - 0.4*math.Min(bd, 0.5)
		}, base, alt, s)
	}},
	{"foliage", func(img *image.NRGBA, r *rng, base, alt [3]float64) {
		s := r.next()
		fill(img, func(x, y int) float64 {
			v := valueNoise(s, float64(x)/4, float64(y)/9)
			return 0.7*v*v + 0.3*valueNoise(s+1, float64(x)/1.5, float64(y)/1.5)
		}, base, alt, s)
	}},
}

// Objects: compact, saturated, with an inner mark of the opposite colour,
// so that they are unlike any part of the background.
var shapes = []shape{
	{"disc", func(img *image.NRGBA, cx, cy, rad int, col, mark [3]float64) {
		paint(img, cx, cy, rad, func(dx, dy float64) int {
			d := math.Hypot(dx, dy)
			switch {
			case d <= 0.35:
				return 2
			case d <= 1:
				return 1
			}
			return 0
		}, col, mark)
	}},
	{"square", func(img *image.NRGBA, cx, cy, rad int, col, mark [3]float64) {
		paint(img, cx, cy, rad, func(dx, dy float64) int {
			ax, ay := math.Abs(dx), math.Abs(dy)
			switch {
			case ax > 0.85 || ay > 0.85:
				return 0
			case ax < 0.15 || ay < 0.15:
				return 2
			}
			return 1
		}, col, mark)
	}},
	{"ring", func(img *image.NRGBA, cx, cy, rad int, col, mark [3]float64) {
		paint(img, cx, cy, rad, func(dx, dy float64) int {
			d := math.Hypot(dx, dy)
			switch {
			case d <= 0.45:
				return 2
			case d <= 1:
				return 1
			}
			return 0
		}, col, mark)
	}},
	{"kite", func(img *image.NRGBA, cx, cy, rad int, col, mark [3]float64) {
		// Asymmetric: a diamond with its mark off centre.
		paint(img, cx, cy, rad, func(dx, dy float64) int {
			if math.Abs(dx)+math.Abs(dy) > 1 {
				return 0
			}
			if math.Hypot(dx-0.25, dy+0.2) < 0.22 {
				return 2
			}
			return 1
		}, col, mark)
	}},
}

// fill paints img with f (about 0..1) mixing base and alt, plus fine grain.
func fill(img *image.NRGBA, f func(x, y int) float64, base, alt [3]float64, seed uint64) {
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			v := f(x, y)
			g := float64(mix(seed^uint64(y)<<20^uint64(x))>>56)/255 - 0.5
			p := img.Pix[img.PixOffset(x, y):]
			for k := 0; k < 3; k++ {
				p[k] = clamp(base[k] + (alt[k]-base[k])*v + (v-0.5)*60 + g*14)
			}
			p[3] = 255
		}
	}
}

// paint draws an anti-aliased shape of radius rad centred at (cx, cy); in
// says for a point in shape units (-1..1) whether it is outside (0), body
// (1) or mark (2). 4x4 supersampling.
func paint(img *image.NRGBA, cx, cy, rad int, in func(dx, dy float64) int, col, mark [3]float64) {
	for y := cy - rad - 1; y <= cy+rad+1; y++ {
		for x := cx - rad - 1; x <= cx+rad+1; x++ {
			if !(image.Point{x, y}).In(img.Rect) {
				continue
			}
			var acc [3]float64
			var cov float64
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					dx := (float64(x-cx) + (float64(sx)+0.5)/4 - 0.5) / float64(rad)
					dy := (float64(y-cy) + (float64(sy)+0.5)/4 - 0.5) / float64(rad)
					switch in(dx, dy) {
					case 1:
						for k := range acc {
							acc[k] += col[k]
						}
						cov++
					case 2:
						for k := range acc {
							acc[k] += mark[k]
						}
						cov++
					}
				}
			}
			if cov == 0 {
				continue
			}
			p := img.Pix[img.PixOffset(x, y):]
			for k := 0; k < 3; k++ {
				p[k] = clamp(acc[k]/16 + float64(p[k])*(1-cov/16))
			}
		}
	}
}

// valueNoise is smooth lattice noise in 0..1.
func valueNoise(seed uint64, x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	fx, fy = fx*fx*(3-2*fx), fy*fy*(3-2*fy)
	h := func(i, j float64) float64 {
		return float64(mix(seed^uint64(int64(i))*0x9e3779b97f4a7c15^uint64(int64(j))*0xc2b2ae3d27d4eb4f)>>11) / (1 << 53)
	}
	a, b := h(x0, y0), h(x0+1, y0)
	c, d := h(x0, y0+1), h(x0+1, y0+1)
	return (a+(b-a)*fx)*(1-fy) + (c+(d-c)*fx)*fy
}

func clamp(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
