package uncrop

import "image"

// fimg is a float32 RGB image, channels interleaved.
type fimg struct {
	w, h int
	pix  []float32
}

func newFimg(w, h int) fimg { return fimg{w, h, make([]float32, w*h*3)} }

// span is the run of input samples (with weights) that make one output
// sample.
type span struct {
	start int
	w     []float32
}

// areaSpans returns, for each of out output samples over in input samples,
// the input samples it overlaps and the overlap weights (normalised). With
// out <= in this is an exact box (area-average) filter; with out > in it
// degenerates to nearest, which this package never needs.
func areaSpans(in, out int) []span {
	spans := make([]span, out)
	sc := float64(in) / float64(out)
	for i := range spans {
		a, b := float64(i)*sc, float64(i+1)*sc
		s, e := int(a), min(in, int(b+0.999999))
		if e <= s {
			e = s + 1
		}
		ws := make([]float32, e-s)
		var tot float32
		for j := s; j < e; j++ {
			lo, hi := max(a, float64(j)), min(b, float64(j+1))
			w := float32(max(hi-lo, 0))
			ws[j-s] = w
			tot += w
		}
		if tot == 0 {
			ws[0], tot = 1, 1
		}
		for j := range ws {
			ws[j] /= tot
		}
		spans[i] = span{s, ws}
	}
	return spans
}

// downNRGBA area-averages the RGB of src to w x h.
func downNRGBA(src *image.NRGBA, w, h int) fimg {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	hs := areaSpans(sw, w)
	tmp := newFimg(w, sh)
	parallelRows(sh, 32, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y):]
			out := tmp.pix[y*w*3:]
			for x, sp := range hs {
				var r, g, b float32
				for j, wt := range sp.w {
					o := (sp.start + j) * 4
					r += wt * float32(row[o])
					g += wt * float32(row[o+1])
					b += wt * float32(row[o+2])
				}
				out[x*3], out[x*3+1], out[x*3+2] = r, g, b
			}
		}
	})
	return downV(tmp, h)
}

// down area-averages f to w x h.
func down(f fimg, w, h int) fimg {
	hs := areaSpans(f.w, w)
	tmp := newFimg(w, f.h)
	parallelRows(f.h, 32, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := f.pix[y*f.w*3:]
			out := tmp.pix[y*w*3:]
			for x, sp := range hs {
				var r, g, b float32
				for j, wt := range sp.w {
					o := (sp.start + j) * 3
					r += wt * row[o]
					g += wt * row[o+1]
					b += wt * row[o+2]
				}
				out[x*3], out[x*3+1], out[x*3+2] = r, g, b
			}
		}
	})
	return downV(tmp, h)
}

func downV(f fimg, h int) fimg {
	vs := areaSpans(f.h, h)
	out := newFimg(f.w, h)
	n := f.w * 3
	parallelRows(h, 16, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			sp := vs[y]
			dst := out.pix[y*n : (y+1)*n]
			for j, wt := range sp.w {
				src := f.pix[(sp.start+j)*n : (sp.start+j+1)*n]
				for i, v := range src {
					dst[i] += wt * v
				}
			}
		}
	})
	return out
}

// bilinear samples the RGB of a w x h interleaved float image at (u, v),
// clamped to the image.
func bilinear(pix []float32, w, h int, u, v float32, out *[3]float32) {
	u = min(max(u, 0), float32(w-1))
	v = min(max(v, 0), float32(h-1))
	x0, y0 := int(u), int(v)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := u-float32(x0), v-float32(y0)
	a, b := (y0*w+x0)*3, (y0*w+x1)*3
	c, d := (y1*w+x0)*3, (y1*w+x1)*3
	for k := 0; k < 3; k++ {
		top := pix[a+k] + fx*(pix[b+k]-pix[a+k])
		bot := pix[c+k] + fx*(pix[d+k]-pix[c+k])
		out[k] = top + fy*(bot-top)
	}
}
