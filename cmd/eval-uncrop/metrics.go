package main

import (
	"image"
	"math"
)

// lumaOf returns the BT.601 luma of r, a rectangle of img, row-major.
func lumaOf(img *image.NRGBA, r image.Rectangle) []float64 {
	out := make([]float64, 0, r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.Pix[img.PixOffset(x, y):]
			out = append(out, 0.299*float64(p[0])+0.587*float64(p[1])+0.114*float64(p[2]))
		}
	}
	return out
}

// gaussKernel is the normalised 11-tap Gaussian (sigma 1.5) of Wang et al.
func gaussKernel() []float64 {
	k := make([]float64, 11)
	var s float64
	for i := range k {
		d := float64(i - 5)
		k[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}

// filterValid convolves a w x h image with the separable kernel k and keeps
// only the positions where the window lies wholly inside ("valid").
func filterValid(a []float64, w, h int, k []float64) ([]float64, int, int) {
	n := len(k)
	ow, oh := w-n+1, h-n+1
	if ow <= 0 || oh <= 0 {
		return nil, 0, 0
	}
	tmp := make([]float64, ow*h)
	for y := 0; y < h; y++ {
		for x := 0; x < ow; x++ {
			var s float64
			for i, kv := range k {
				s += kv * a[y*w+x+i]
			}
			tmp[y*ow+x] = s
		}
	}
	out := make([]float64, ow*oh)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var s float64
			for i, kv := range k {
				s += kv * tmp[(y+i)*ow+x]
			}
			out[y*ow+x] = s
		}
	}
	return out, ow, oh
}

// ssim is the mean structural similarity of two w x h luma images (8-bit
// range), with the 11x11 Gaussian window (sigma 1.5) and K1=0.01, K2=0.03,
// averaged over every window that lies wholly inside.
func ssim(a, b []float64, w, h int) float64 {
	k := gaussKernel()
	aa := make([]float64, len(a))
	bb := make([]float64, len(a))
	ab := make([]float64, len(a))
	for i := range a {
		aa[i], bb[i], ab[i] = a[i]*a[i], b[i]*b[i], a[i]*b[i]
	}
	ma, ow, oh := filterValid(a, w, h, k)
	if ow == 0 {
		return math.NaN()
	}
	mb, _, _ := filterValid(b, w, h, k)
	saa, _, _ := filterValid(aa, w, h, k)
	sbb, _, _ := filterValid(bb, w, h, k)
	sab, _, _ := filterValid(ab, w, h, k)
	const c1 = (0.01 * 255) * (0.01 * 255)
	const c2 = (0.03 * 255) * (0.03 * 255)
	var sum float64
	for i := range ma {
		va := saa[i] - ma[i]*ma[i]
		vb := sbb[i] - mb[i]*mb[i]
		cov := sab[i] - ma[i]*mb[i]
		sum += ((2*ma[i]*mb[i] + c1) * (2*cov + c2)) / ((ma[i]*ma[i] + mb[i]*mb[i] + c1) * (va + vb + c2))
	}
	return sum / float64(ow*oh)
}

// psnr is the PSNR in dB over the RGB of rectangle r of two images.
func psnr(a, b *image.NRGBA, r image.Rectangle) float64 {
	var se float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p, q := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x, y):]
			for c := 0; c < 3; c++ {
				d := float64(p[c]) - float64(q[c])
				se += d * d
			}
		}
	}
	mse := se / float64(3*r.Dx()*r.Dy())
	if mse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/mse)
}

// seamJump is the mean absolute luma step across the seam between the band
// and the kept part, and interior is the mean absolute luma step in the same
// direction inside the kept part.
func seamJump(img *image.NRGBA, kept image.Rectangle, side string) (jump, interior float64) {
	Y := func(x, y int) float64 {
		p := img.Pix[img.PixOffset(x, y):]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var n int
	switch side {
	case "left", "right":
		a, b := kept.Min.X-1, kept.Min.X
		if side == "right" {
			a, b = kept.Max.X-1, kept.Max.X
		}
		for y := kept.Min.Y; y < kept.Max.Y; y++ {
			jump += math.Abs(Y(a, y) - Y(b, y))
		}
		jump /= float64(kept.Dy())
		for y := kept.Min.Y; y < kept.Max.Y; y++ {
			for x := kept.Min.X; x < kept.Max.X-1; x++ {
				interior += math.Abs(Y(x+1, y) - Y(x, y))
				n++
			}
		}
	default:
		a, b := kept.Min.Y-1, kept.Min.Y
		if side == "down" {
			a, b = kept.Max.Y-1, kept.Max.Y
		}
		for x := kept.Min.X; x < kept.Max.X; x++ {
			jump += math.Abs(Y(x, a) - Y(x, b))
		}
		jump /= float64(kept.Dx())
		for y := kept.Min.Y; y < kept.Max.Y-1; y++ {
			for x := kept.Min.X; x < kept.Max.X; x++ {
				interior += math.Abs(Y(x, y+1) - Y(x, y))
				n++
			}
		}
	}
	return jump, interior / float64(max(n, 1))
}
