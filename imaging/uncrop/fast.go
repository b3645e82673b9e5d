package uncrop

import (
	"image"
	"math"
)

// Fast-fill tuning.
const (
	fastBlurPerPixel = 0.08 // blur sigma grows by this much per pixel of distance
	fastGrainGain    = 0.9  // grain as a fraction of the original's fine-detail level
)

// level is one level of a 3-channel 8-bit box pyramid.
type level struct {
	w, h int
	pix  []uint8
}

// fastFill fills every pixel of dst outside at (RGB only): the original
// reflected across its edges, blurred more with distance from the original,
// plus seeded grain that restores some of the fine-detail level the blur
// removed.
func fastFill(dst *image.NRGBA, at image.Rectangle, seed uint64) {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	// Reflection tables: the original column and row that (x, y) mirrors.
	mx, my := make([]int, W), make([]int, H)
	for x := range mx {
		mx[x] = (reflect(x-at.Min.X, at.Dx()) + at.Min.X) * 4
	}
	for y := range my {
		my[y] = (reflect(y-at.Min.Y, at.Dy()) + at.Min.Y) * dst.Stride
	}
	// Level 1 is the 2x box downscale of the reflected canvas; level 0 is
	// never stored because its samples are original pixels.
	var levels []level
	{
		w, h := (W+1)/2, (H+1)/2
		l := level{w, h, make([]uint8, w*h*3)}
		parallelRows(h, 32, func(_, y0, y1 int) {
			for y := y0; y < y1; y++ {
				ra, rb := my[2*y], my[min(2*y+1, H-1)]
				for x := 0; x < w; x++ {
					ca, cb := mx[2*x], mx[min(2*x+1, W-1)]
					o := (y*w + x) * 3
					for k := 0; k < 3; k++ {
						s := int(dst.Pix[ra+ca+k]) + int(dst.Pix[ra+cb+k]) + int(dst.Pix[rb+ca+k]) + int(dst.Pix[rb+cb+k])
						l.pix[o+k] = uint8((s + 2) / 4)
					}
				}
			}
		})
		levels = append(levels, level{}, l)
	}
	for len(levels) < 14 {
		p := levels[len(levels)-1]
		if p.w <= 2 && p.h <= 2 {
			break
		}
		w, h := (p.w+1)/2, (p.h+1)/2
		l := level{w, h, make([]uint8, w*h*3)}
		parallelRows(h, 32, func(_, y0, y1 int) {
			for y := y0; y < y1; y++ {
				y2 := min(2*y+1, p.h-1)
				for x := 0; x < w; x++ {
					x2 := min(2*x+1, p.w-1)
					o := (y*w + x) * 3
					for k := 0; k < 3; k++ {
						s := int(p.pix[(2*y*p.w+2*x)*3+k]) + int(p.pix[(2*y*p.w+x2)*3+k]) +
							int(p.pix[(y2*p.w+2*x)*3+k]) + int(p.pix[(y2*p.w+x2)*3+k])
						l.pix[o+k] = uint8((s + 2) / 4)
					}
				}
			}
		})
		levels = append(levels, l)
	}
	// Per quarter pixel of distance: pyramid level, blend to the next
	// level, and grain amplitude.
	type step struct {
		lv  int
		f   float32
		amp float32
	}
	grain := fastGrainGain * detailLevel(dst, at)
	maxLv := float64(len(levels) - 1)
	maxD := math.Hypot(float64(max(at.Min.X, W-at.Max.X)), float64(max(at.Min.Y, H-at.Max.Y)))
	steps := make([]step, int(maxD*4)+2)
	for i := range steps {
		sigma := fastBlurPerPixel * float64(i) / 4
		lv := math.Min(math.Log2(1+sigma/0.6), maxLv)
		steps[i] = step{int(lv), float32(lv - float64(int(lv))), float32(grain * (1 - math.Exp(-sigma/1.5)))}
	}
	seedMix := mix(seed)

	parallelRows(H, 16, func(_, y0, y1 int) {
		var c0, c1 [3]float32
		for y := y0; y < y1; y++ {
			dy := max(at.Min.Y-y, y-(at.Max.Y-1), 0)
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < W; x++ {
				dx := max(at.Min.X-x, x-(at.Max.X-1), 0)
				if dx == 0 && dy == 0 {
					continue
				}
				d := max(dx, dy)
				if dx != 0 && dy != 0 {
					d4 := int(4*math.Sqrt(float64(dx*dx+dy*dy)) + 0.5)
					d = -d4 // quarter pixels, marked negative
				}
				var st step
				if d > 0 {
					st = steps[4*d]
				} else {
					st = steps[-d]
				}
				if st.lv == 0 {
					o := my[y] + mx[x]
					for k := 0; k < 3; k++ {
						c0[k] = float32(dst.Pix[o+k])
					}
				} else {
					sampleLevel(&levels[st.lv], st.lv, x, y, &c0)
				}
				if st.f > 0 {
					sampleLevel(&levels[st.lv+1], st.lv+1, x, y, &c1)
					for k := range c0 {
						c0[k] += st.f * (c1[k] - c0[k])
					}
				}
				// Grain replaces the detail that the blur removed; one
				// splitmix draw per pixel gives two uniforms.
				h := mix(seedMix + uint64(y)*uint64(W) + uint64(x))
				n := (float32(h>>40)/float32(1<<24) + float32(h&0xffffff)/float32(1<<24) - 1) * 2.449
				for k := 0; k < 3; k++ {
					row[x*4+k] = clamp8(c0[k] + st.amp*n)
				}
			}
		}
	})
}

// sampleLevel samples pyramid level l (number i >= 1) bilinearly at the
// position of full-resolution pixel (x, y).
func sampleLevel(l *level, i, x, y int, out *[3]float32) {
	s := float32(int(1) << i)
	u := (float32(x)+0.5)/s - 0.5
	v := (float32(y)+0.5)/s - 0.5
	bilinear8(l.pix, l.w, l.h, u, v, out)
}

func bilinear8(pix []uint8, w, h int, u, v float32, out *[3]float32) {
	u = min(max(u, 0), float32(w-1))
	v = min(max(v, 0), float32(h-1))
	x0, y0 := int(u), int(v)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := u-float32(x0), v-float32(y0)
	a, b := (y0*w+x0)*3, (y0*w+x1)*3
	c, d := (y1*w+x0)*3, (y1*w+x1)*3
	for k := 0; k < 3; k++ {
		top := float32(pix[a+k]) + fx*(float32(pix[b+k])-float32(pix[a+k]))
		bot := float32(pix[c+k]) + fx*(float32(pix[d+k])-float32(pix[c+k]))
		out[k] = top + fy*(bot-top)
	}
}

// detailLevel estimates the standard deviation of the original's fine
// detail (luma difference of neighbouring pixels over sqrt 2), on a sparse
// fixed grid so it is cheap on large images.
func detailLevel(dst *image.NRGBA, at image.Rectangle) float64 {
	if at.Dx() < 2 || at.Dy() < 2 {
		return 0
	}
	step := max(1, int(math.Sqrt(float64(at.Dx()*at.Dy())/40000)))
	var sum float64
	var n int
	for y := at.Min.Y; y < at.Max.Y-1; y += step {
		for x := at.Min.X; x < at.Max.X-1; x += step {
			o := y*dst.Stride + x*4
			l0 := luma8(dst.Pix[o:])
			sum += math.Abs(l0-luma8(dst.Pix[o+4:])) + math.Abs(l0-luma8(dst.Pix[o+dst.Stride:]))
			n += 2
		}
	}
	if n == 0 {
		return 0
	}
	// mean |N(0, 2s^2)| = 2s/sqrt(pi)
	return sum / float64(n) * math.Sqrt(math.Pi) / 2
}

func luma8(p []uint8) float64 {
	return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
}

func clamp8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}
