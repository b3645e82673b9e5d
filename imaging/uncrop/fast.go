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
	// mirror returns the offset in dst.Pix of the original pixel that
	// reflects onto (x, y).
	mirror := func(x, y int) int {
		mx := reflect(x-at.Min.X, at.Dx()) + at.Min.X
		my := reflect(y-at.Min.Y, at.Dy()) + at.Min.Y
		return my*dst.Stride + mx*4
	}
	// Level 1 is the 2x box downscale of the reflected canvas; level 0 is
	// never stored because its samples are original pixels.
	var levels []level
	{
		w, h := (W+1)/2, (H+1)/2
		l := level{w, h, make([]uint8, w*h*3)}
		parallelRows(h, 32, func(_, y0, y1 int) {
			for y := y0; y < y1; y++ {
				for x := 0; x < w; x++ {
					a := mirror(2*x, 2*y)
					b := mirror(min(2*x+1, W-1), 2*y)
					c := mirror(2*x, min(2*y+1, H-1))
					d := mirror(min(2*x+1, W-1), min(2*y+1, H-1))
					o := (y*w + x) * 3
					for k := 0; k < 3; k++ {
						s := int(dst.Pix[a+k]) + int(dst.Pix[b+k]) + int(dst.Pix[c+k]) + int(dst.Pix[d+k])
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
	grain := fastGrainGain * detailLevel(dst, at)
	maxLv := float64(len(levels) - 1)

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
				d := math.Sqrt(float64(dx*dx + dy*dy))
				sigma := fastBlurPerPixel * d
				lv := math.Min(math.Log2(1+sigma/0.6), maxLv)
				i := int(lv)
				f := float32(lv - float64(i))
				sampleLevel(levels, dst, mirror, i, x, y, &c0)
				if f > 0 {
					sampleLevel(levels, dst, mirror, i+1, x, y, &c1)
					for k := range c0 {
						c0[k] += f * (c1[k] - c0[k])
					}
				}
				// Grain replaces the detail that the blur removed.
				amp := float32(grain * (1 - math.Exp(-sigma/1.5)))
				h := hash3(seed, uint64(x), uint64(y))
				n := (float32(h>>40)/float32(1<<24) + float32(h&0xffffff)/float32(1<<24) - 1) * 2.449
				for k := 0; k < 3; k++ {
					row[x*4+k] = clamp8(c0[k] + amp*n)
				}
			}
		}
	})
}

// sampleLevel samples pyramid level i bilinearly at the position of full
// resolution pixel (x, y).
func sampleLevel(levels []level, dst *image.NRGBA, mirror func(x, y int) int, i, x, y int, out *[3]float32) {
	if i == 0 {
		o := mirror(x, y)
		for k := 0; k < 3; k++ {
			out[k] = float32(dst.Pix[o+k])
		}
		return
	}
	l := &levels[i]
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
