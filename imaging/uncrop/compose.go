package uncrop

import (
	"image"
	"math"
)

// Detail transfer and seam feathering tuning.
const (
	detailGain   = 1.0 // fraction of the matched source high frequency added
	featherScale = 2.0 // feather width in working pixels
	featherMin   = 3   // feather width bounds, in output pixels
	featherMax   = 12
)

// patchFill fills the pixels of dst outside at (RGB only) by patch
// synthesis; keep is the original, already copied to at. It returns false
// when the original is too small for patches.
func patchFill(dst *image.NRGBA, at image.Rectangle, keep *image.NRGBA, seed uint64, work int) bool {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	L := synthesize(W, H, at, keep, seed, work)
	if L == nil {
		return false
	}
	compose(dst, at, L)
	return true
}

// compose upsamples the working result to full size and adds back the
// high-frequency detail of the matched original pixels: for a new pixel the
// working pixel under it names (by its best patch's offset) a place in the
// original, and the difference between the original there and its own
// working-resolution version is added to the upsampled value. The first few
// pixels next to the original are blended towards its reflection, so the
// seam carries on the original's edge.
func compose(dst *image.NRGBA, at image.Rectangle, L *pmLevel) {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	kw, kh := L.k.Dx(), L.k.Dy()
	sx := float32(at.Dx()) / float32(kw) // output pixels per working pixel
	sy := float32(at.Dy()) / float32(kh)
	feather := int(math.Round(featherScale * float64(max(sx, sy))))
	feather = min(max(feather, featherMin), featherMax)
	kx0, ky0 := float32(L.k.Min.X), float32(L.k.Min.Y)
	// Sampling tables: output column/row -> working canvas (for the
	// upsampled result) and original column/row -> working known image
	// (for the original's own low-pass).
	outX := axisTable(W, func(x int) float32 { return (float32(x-at.Min.X)+0.5)/sx - 0.5 + kx0 }, L.W)
	outY := axisTable(H, func(y int) float32 { return (float32(y-at.Min.Y)+0.5)/sy - 0.5 + ky0 }, L.H)
	srcX := axisTable(at.Dx(), func(x int) float32 { return (float32(x)+0.5)/sx - 0.5 }, kw)
	srcY := axisTable(at.Dy(), func(y int) float32 { return (float32(y)+0.5)/sy - 0.5 }, kh)
	parallelRows(H, 16, func(_, y0, y1 int) {
		var low, lp [3]float32
		for y := y0; y < y1; y++ {
			dy := max(at.Min.Y-y, y-(at.Max.Y-1), 0)
			v := outY[y].pos
			iv := min(max(int(v+0.5), 0), L.H-1)
			my := reflect(y-at.Min.Y, at.Dy()) + at.Min.Y
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < W; x++ {
				dx := max(at.Min.X-x, x-(at.Max.X-1), 0)
				if dx == 0 && dy == 0 {
					continue
				}
				u := outX[x].pos
				bilinearT(L.cv, L.W, outX[x], outY[y], &low)
				iu := min(max(int(u+0.5), 0), L.W-1)
				var ou, ov float32
				if !L.known1(iu, iv) {
					ou, ov = float32(L.ox[iv*L.W+iu]), float32(L.oy[iv*L.W+iu])
				}
				// The original pixel the match points at, and its low-pass.
				xs := min(max(int(((u+ou-kx0)+0.5)*sx), 0), at.Dx()-1)
				ys := min(max(int(((v+ov-ky0)+0.5)*sy), 0), at.Dy()-1)
				bilinearT(L.known.pix, kw, srcX[xs], srcY[ys], &lp)
				po := (at.Min.Y+ys)*dst.Stride + (at.Min.X+xs)*4
				var val [3]float32
				for k := 0; k < 3; k++ {
					val[k] = low[k] + detailGain*(float32(dst.Pix[po+k])-lp[k])
				}
				if d := max(dx, dy); d <= feather {
					w := float32(feather+1-d) / float32(feather+1)
					mx := reflect(x-at.Min.X, at.Dx()) + at.Min.X
					mo := my*dst.Stride + mx*4
					for k := 0; k < 3; k++ {
						val[k] += w * (float32(dst.Pix[mo+k]) - val[k])
					}
				}
				for k := 0; k < 3; k++ {
					row[x*4+k] = clamp8(val[k])
				}
			}
		}
	})
}

// tap is one axis of a bilinear sample: the two neighbouring indices, the
// weight of the second, and the unclamped position.
type tap struct {
	i0, i1 int32
	f      float32
	pos    float32
}

// axisTable precomputes the taps of n positions pos(i) on an axis of size m.
func axisTable(n int, pos func(int) float32, m int) []tap {
	t := make([]tap, n)
	for i := range t {
		p := pos(i)
		c := min(max(p, 0), float32(m-1))
		i0 := int(c)
		t[i] = tap{int32(i0), int32(min(i0+1, m-1)), c - float32(i0), p}
	}
	return t
}

// bilinearT samples the RGB of an interleaved float image of width w with
// precomputed taps.
func bilinearT(pix []float32, w int, tx, ty tap, out *[3]float32) {
	a := (int(ty.i0)*w + int(tx.i0)) * 3
	b := (int(ty.i0)*w + int(tx.i1)) * 3
	c := (int(ty.i1)*w + int(tx.i0)) * 3
	d := (int(ty.i1)*w + int(tx.i1)) * 3
	p, q, r, s := pix[a:a+3], pix[b:b+3], pix[c:c+3], pix[d:d+3]
	for k := 0; k < 3; k++ {
		top := p[k] + tx.f*(q[k]-p[k])
		bot := r[k] + tx.f*(s[k]-r[k])
		out[k] = top + ty.f*(bot-top)
	}
}
