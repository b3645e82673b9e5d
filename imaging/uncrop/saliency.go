package uncrop

import (
	"math"
	"slices"
)

// Saliency tuning (issue 17: no ghosts). A source patch is "distinct" when
// its colour stands out from its surround far more than the image's
// typical local contrast: a blob, a sign, a person. Such patches may still
// continue across the seam (the target patches that overlap the original
// are held to the original's pixels by their distance), but copying them
// further out leaves ghosts, so their matches cost extra, and the coarsest
// level starts from a reflection of the original with them painted out.
const (
	// salKnee is the contrast, in multiples of the median, above which a
	// pixel counts as distinct.
	salKnee = 2.5
	// salPenalty scales the extra cost of a distinct source patch, in
	// units of a patch-sized squared median contrast per unit of rarity.
	salPenalty = 4.0
	// salSurround is the surround's box radius as a fraction of the
	// smaller side of the known image (at least 2 patch sides).
	salSurround = 1.0 / 8
	// salEdgeGrow is the rarity a pixel needs to join a distinct region
	// that reaches an extended edge: higher than 0, so that the
	// texture's own extremes do not bridge a blob to the edge.
	salEdgeGrow = 0.5
)

// saliency holds, for one level's known image, per-pixel rarity (0 for
// ordinary texture, growing with distinctness) and the known image with
// its distinct pixels painted out by their non-distinct surround.
type saliency struct {
	rar     []float32 // per known pixel
	generic fimg      // known image, distinct pixels replaced
	unit    float32   // median contrast
}

// newSaliency measures the rarity of every pixel of f by centre-surround
// colour contrast, divided by its median over the image. The surround is
// measured twice: the second time without the distinct pixels of the first
// (normalised convolution), so that the background next to an object is
// not itself counted distinct. Distinct regions that reach an edge being
// extended (edges[i] for left, right, up, down) are structures that carry
// on across the seam, not blobs, and are exempt. ex, when not nil, is the
// exemption (0..1 per pixel) decided on a finer level, used instead.
func newSaliency(f fimg, edges [4]bool, ex []float32) (saliency, []float32) {
	w, h := f.w, f.h
	R := max(2*pside, int(math.Round(float64(min(w, h))*salSurround)))
	centre := boxBlur(f.pix, w, h, 3, 1)
	sur := boxBlur(f.pix, w, h, 3, R)
	rar, _ := rarity(centre, sur)
	// Second pass: the surround of the ordinary pixels only.
	keep := make([]float32, w*h)
	setKeep(keep, rar)
	bg := maskedBlur(f.pix, keep, w, h, R, sur)
	rar, med := rarity(centre, bg)
	if ex == nil {
		ex = edgeConnected(rar, w, h, edges)
	}
	for i := range rar {
		rar[i] *= 1 - ex[i]
	}
	setKeep(keep, rar)
	bg = maskedBlur(f.pix, keep, w, h, R, sur)
	g := newFimg(w, h)
	for i, k := range keep {
		for j := 0; j < 3; j++ {
			g.pix[i*3+j] = k*f.pix[i*3+j] + (1-k)*bg[i*3+j]
		}
	}
	return saliency{rar: rar, generic: g, unit: med}, ex
}

// rarity returns max(0, c/(salKnee*m) - 1) per pixel, where c is the
// colour distance between centre and surround and m its median plus one.
func rarity(centre, sur []float32) ([]float32, float32) {
	c := make([]float32, len(centre)/3)
	for i := range c {
		var s float32
		for k := 0; k < 3; k++ {
			d := centre[i*3+k] - sur[i*3+k]
			s += d * d
		}
		c[i] = float32(math.Sqrt(float64(s)))
	}
	med := median(c) + 1
	for i, v := range c {
		c[i] = max(0, v/(salKnee*med)-1)
	}
	return c, med
}

// setKeep sets the weight of each pixel in the painted-out surround: 1 for
// ordinary pixels, falling towards 0 for distinct ones.
func setKeep(keep, rar []float32) {
	for i, r := range rar {
		keep[i] = 1 / (1 + 4*r*r)
	}
}

// maskedBlur is the box blur of radius r of the RGB image a with each pixel
// weighted by keep (normalised convolution); where almost nothing is kept
// it falls back to fallback.
func maskedBlur(a, keep []float32, w, h, r int, fallback []float32) []float32 {
	wpix := make([]float32, len(a))
	for i, k := range keep {
		for j := 0; j < 3; j++ {
			wpix[i*3+j] = a[i*3+j] * k
		}
	}
	num := boxBlur(wpix, w, h, 3, r)
	den := boxBlur(keep, w, h, 1, r)
	for i := range den {
		for j := 0; j < 3; j++ {
			if den[i] > 1e-3 {
				num[i*3+j] /= den[i]
			} else {
				num[i*3+j] = fallback[i*3+j]
			}
		}
	}
	return num
}

// edgeConnected marks (1) the pixels of the distinct regions (rar >
// salEdgeGrow, 4-connected) that touch one of the given edges of the w x h image.
func edgeConnected(rar []float32, w, h int, edges [4]bool) []float32 {
	out := make([]float32, w*h)
	var stack []int
	push := func(x, y int) {
		i := y*w + x
		if rar[i] > salEdgeGrow && out[i] == 0 {
			out[i] = 1
			stack = append(stack, i)
		}
	}
	for y := 0; y < h; y++ {
		if edges[0] {
			push(0, y)
		}
		if edges[1] {
			push(w-1, y)
		}
	}
	for x := 0; x < w; x++ {
		if edges[2] {
			push(x, 0)
		}
		if edges[3] {
			push(x, h-1)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		if x > 0 {
			push(x-1, y)
		}
		if x < w-1 {
			push(x+1, y)
		}
		if y > 0 {
			push(x, y-1)
		}
		if y < h-1 {
			push(x, y+1)
		}
	}
	return out
}

// downMask area-averages a w x h single-channel mask to dw x dh.
func downMask(m []float32, w, h, dw, dh int) []float32 {
	f := newFimg(w, h)
	for i, v := range m {
		f.pix[i*3] = v
	}
	d := down(f, dw, dh)
	out := make([]float32, dw*dh)
	for i := range out {
		out[i] = d.pix[i*3]
	}
	return out
}

// patchPenalty returns, per canvas pixel of L, the extra distance of the
// source patch centred there: salPenalty times the largest rarity under
// the patch, times a patch of squared median contrast. Only source centres
// (patches wholly in the known part) are set.
func (L *pmLevel) patchPenalty(s saliency) []float32 {
	kw, kh := L.k.Dx(), L.k.Dy()
	mx := maxFilter(s.rar, kw, kh, pr)
	unit := salPenalty * float32(pside*pside*3) * s.unit * s.unit
	pen := make([]float32, L.W*L.H)
	for y := pr; y < kh-pr; y++ {
		for x := pr; x < kw-pr; x++ {
			pen[(y+L.k.Min.Y)*L.W+x+L.k.Min.X] = unit * mx[y*kw+x]
		}
	}
	return pen
}

// median returns the median of v (v is not modified).
func median(v []float32) float32 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// boxBlur averages each of the ch interleaved channels of a w x h image over
// a (2r+1)² box clamped to the image.
func boxBlur(a []float32, w, h, ch, r int) []float32 {
	tmp := make([]float32, len(a))
	out := make([]float32, len(a))
	// Horizontal, with prefix sums per row.
	pre := make([]float64, (w+1)*ch)
	for y := 0; y < h; y++ {
		row := a[y*w*ch:][:w*ch]
		for x := 0; x < w; x++ {
			for k := 0; k < ch; k++ {
				pre[(x+1)*ch+k] = pre[x*ch+k] + float64(row[x*ch+k])
			}
		}
		for x := 0; x < w; x++ {
			lo, hi := max(0, x-r), min(w-1, x+r)
			for k := 0; k < ch; k++ {
				tmp[(y*w+x)*ch+k] = float32((pre[(hi+1)*ch+k] - pre[lo*ch+k]) / float64(hi-lo+1))
			}
		}
	}
	// Vertical.
	col := make([]float64, (h+1)*ch)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			for k := 0; k < ch; k++ {
				col[(y+1)*ch+k] = col[y*ch+k] + float64(tmp[(y*w+x)*ch+k])
			}
		}
		for y := 0; y < h; y++ {
			lo, hi := max(0, y-r), min(h-1, y+r)
			for k := 0; k < ch; k++ {
				out[(y*w+x)*ch+k] = float32((col[(hi+1)*ch+k] - col[lo*ch+k]) / float64(hi-lo+1))
			}
		}
	}
	return out
}

// maxFilter is the maximum of a w x h single-channel image over a (2r+1)²
// box clamped to the image.
func maxFilter(a []float32, w, h, r int) []float32 {
	tmp := make([]float32, len(a))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := a[y*w+x]
			for i := max(0, x-r); i <= min(w-1, x+r); i++ {
				m = max(m, a[y*w+i])
			}
			tmp[y*w+x] = m
		}
	}
	out := make([]float32, len(a))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := tmp[y*w+x]
			for j := max(0, y-r); j <= min(h-1, y+r); j++ {
				m = max(m, tmp[j*w+x])
			}
			out[y*w+x] = m
		}
	}
	return out
}
