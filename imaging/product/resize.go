package product

import (
	"image"
	"image/draw"
	"math"
	"runtime"
	"sync"
)

// Resize returns img scaled to exactly w x h: an area average on each axis
// that shrinks, Catmull-Rom on each axis that grows, computed in
// premultiplied alpha so transparent pixels do not bleed colour. Sides
// below 1 are treated as 1.
func Resize(img image.Image, w, h int) *image.NRGBA {
	w, h = max(w, 1), max(h, 1)
	src := toNRGBA(img)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw == 0 || sh == 0 {
		return dst
	}
	resample(dst, dst.Rect, src, rectF{0, 0, float64(sw), float64(sh)})
	return dst
}

// toNRGBA returns img itself when it is an *image.NRGBA, or a converted copy.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, img, b.Min, draw.Src)
	return n
}

// axisWeights holds, per destination index, the first source index and a
// fixed-stride run of weights (zero-padded to n).
type axisWeights struct {
	start []int
	n     int
	w     []float32
}

func (a axisWeights) span() (lo, hi int) {
	lo, hi = math.MaxInt, 0
	for i, s := range a.start {
		lo = min(lo, s)
		last := s
		for k := a.n - 1; k >= 0; k-- {
			if a.w[i*a.n+k] != 0 {
				last = s + k
				break
			}
		}
		hi = max(hi, last+1)
	}
	return lo, hi
}

// makeWeights maps dstLen output samples onto the source interval [s0,s1)
// of an axis with srcLen pixels.
func makeWeights(srcLen int, s0, s1 float64, dstLen int) axisWeights {
	scale := (s1 - s0) / float64(dstLen)
	type tap struct {
		i int
		w float64
	}
	taps := make([][]tap, dstLen)
	n := 1
	for d := range dstLen {
		var t []tap
		if scale > 1 {
			// Area average: the exact overlap of the output pixel's
			// footprint with each source pixel.
			a, b := s0+float64(d)*scale, s0+float64(d+1)*scale
			k0, k1 := max(int(math.Floor(a)), 0), min(int(math.Ceil(b)), srcLen)
			for k := k0; k < k1; k++ {
				if ov := min(b, float64(k+1)) - max(a, float64(k)); ov > 0 {
					t = append(t, tap{k, ov})
				}
			}
		} else {
			p := s0 + (float64(d)+0.5)*scale - 0.5
			k := int(math.Floor(p))
			x := p - float64(k)
			x2, x3 := x*x, x*x*x
			cr := [4]float64{
				(-x3 + 2*x2 - x) / 2,
				(3*x3 - 5*x2 + 2) / 2,
				(-3*x3 + 4*x2 + x) / 2,
				(x3 - x2) / 2,
			}
			for j, wt := range cr {
				if wt == 0 {
					continue
				}
				idx := min(max(k-1+j, 0), srcLen-1) // replicate the edge
				if m := len(t); m > 0 && t[m-1].i == idx {
					t[m-1].w += wt
				} else {
					t = append(t, tap{idx, wt})
				}
			}
		}
		if len(t) == 0 { // degenerate footprint: nearest pixel
			t = append(t, tap{min(max(int(s0+float64(d)*scale), 0), srcLen-1), 1})
		}
		taps[d] = t
		n = max(n, t[len(t)-1].i-t[0].i+1)
	}
	aw := axisWeights{start: make([]int, dstLen), n: n, w: make([]float32, dstLen*n)}
	for d, t := range taps {
		sum := 0.0
		for _, tp := range t {
			sum += tp.w
		}
		aw.start[d] = t[0].i
		for _, tp := range t {
			aw.w[d*n+tp.i-t[0].i] += float32(tp.w / sum)
		}
	}
	return aw
}

// resample draws the source rectangle sr (pixels, relative to src.Rect.Min,
// may be fractional) of src into the rectangle dr of dst, replacing what
// was there.
func resample(dst *image.NRGBA, dr image.Rectangle, src *image.NRGBA, sr rectF) {
	dr = dr.Intersect(dst.Rect)
	dw, dh := dr.Dx(), dr.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if dw <= 0 || dh <= 0 || sw <= 0 || sh <= 0 {
		return
	}
	wx := makeWeights(sw, sr.x0, sr.x1, dw)
	wy := makeWeights(sh, sr.y0, sr.y1, dh)
	xlo, xhi := wx.span()

	workers := min(runtime.GOMAXPROCS(0), max(dh/8, 1))
	var wg sync.WaitGroup
	for k := range workers {
		j0, j1 := dh*k/workers, dh*(k+1)/workers
		wg.Go(func() {
			resampleRows(dst, dr, src, wx, wy, xlo, xhi, j0, j1)
		})
	}
	wg.Wait()
}

// resampleRows produces destination rows [j0,j1) of dr. Horizontally
// filtered source rows live in a ring of wy.n rows, computed on demand as the
// vertical window slides down.
func resampleRows(dst *image.NRGBA, dr image.Rectangle, src *image.NRGBA, wx, wy axisWeights, xlo, xhi, j0, j1 int) {
	dw := dr.Dx()
	ring := make([]float32, wy.n*dw*4)
	ringRow := make([]int, wy.n)
	for i := range ringRow {
		ringRow[i] = -1
	}
	line := make([]float32, (xhi-xlo+wx.n)*4) // zero tail for padded taps
	acc := make([]float32, dw*4)

	hrow := func(sy int) []float32 {
		slot := sy % wy.n
		out := ring[slot*dw*4 : (slot+1)*dw*4]
		if ringRow[slot] == sy {
			return out
		}
		ringRow[slot] = sy
		sp := src.Pix[sy*src.Stride+xlo*4 : sy*src.Stride+xhi*4]
		for i := 0; i < len(sp); i += 4 {
			a := float32(sp[i+3])
			if sp[i+3] == 255 {
				line[i], line[i+1], line[i+2], line[i+3] = float32(sp[i]), float32(sp[i+1]), float32(sp[i+2]), 255
				continue
			}
			f := a * (1.0 / 255)
			line[i], line[i+1], line[i+2], line[i+3] = float32(sp[i])*f, float32(sp[i+1])*f, float32(sp[i+2])*f, a
		}
		n := wx.n
		for x := range dw {
			ws := wx.w[x*n : x*n+n]
			l := line[(wx.start[x]-xlo)*4:]
			var r, g, b, a float32
			for k, wt := range ws {
				p := l[k*4 : k*4+4 : k*4+4]
				r += wt * p[0]
				g += wt * p[1]
				b += wt * p[2]
				a += wt * p[3]
			}
			o := out[x*4 : x*4+4 : x*4+4]
			o[0], o[1], o[2], o[3] = r, g, b, a
		}
		return out
	}

	n := wy.n
	for j := j0; j < j1; j++ {
		clear(acc)
		ws := wy.w[j*n : j*n+n]
		for k, wt := range ws {
			if wt == 0 {
				continue
			}
			row := hrow(wy.start[j] + k)
			for i, v := range row {
				acc[i] += wt * v
			}
		}
		dp := dst.Pix[dst.PixOffset(dr.Min.X, dr.Min.Y+j):]
		for x := range dw {
			p := acc[x*4 : x*4+4 : x*4+4]
			o := dp[x*4 : x*4+4 : x*4+4]
			a := p[3]
			if a < 0.5 {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
				continue
			}
			if a >= 254.5 {
				o[0], o[1], o[2], o[3] = clamp8(p[0]), clamp8(p[1]), clamp8(p[2]), 255
				continue
			}
			f := 255 / a
			o[0], o[1], o[2], o[3] = clamp8(p[0]*f), clamp8(p[1]*f), clamp8(p[2]*f), clamp8(a)
		}
	}
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

// fillRect paints r of img with c.
func fillRect(img *image.NRGBA, r image.Rectangle, c [4]uint8) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		p := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(p); i += 4 {
			p[i], p[i+1], p[i+2], p[i+3] = c[0], c[1], c[2], c[3]
		}
	}
}

// flatten composites img over an opaque colour so the background also shows
// through transparent input pixels.
func flatten(img *image.NRGBA, bg Background) {
	c := bg.fill()
	if c.A != 255 {
		return
	}
	parallelRows(img.Rect.Dy(), func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			p := img.Pix[y*img.Stride : y*img.Stride+img.Rect.Dx()*4]
			for i := 0; i < len(p); i += 4 {
				a := uint32(p[i+3])
				if a == 255 {
					continue
				}
				na := 255 - a
				p[i] = uint8((uint32(p[i])*a + uint32(c.R)*na + 127) / 255)
				p[i+1] = uint8((uint32(p[i+1])*a + uint32(c.G)*na + 127) / 255)
				p[i+2] = uint8((uint32(p[i+2])*a + uint32(c.B)*na + 127) / 255)
				p[i+3] = 255
			}
		}
	})
}
