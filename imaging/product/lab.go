package product

import (
	"image"
	"image/color"
	"math"
	"runtime"
	"sync"
)

// linLUT maps an 8-bit sRGB component to linear light.
var linLUT = func() (t [256]float32) {
	for i := range t {
		c := float64(i) / 255
		if c <= 0.04045 {
			t[i] = float32(c / 12.92)
		} else {
			t[i] = float32(math.Pow((c+0.055)/1.055, 2.4))
		}
	}
	return t
}()

// fLUTN is the resolution of the table for the Lab companding function f.
// With linear interpolation its worst error is about 1e-3 ΔE.
const fLUTN = 4096

var fLUT = func() (t [fLUTN + 2]float32) {
	for i := range t {
		t[i] = float32(labF(float64(i) / fLUTN))
	}
	return t
}()

// labF is the CIE Lab companding function.
func labF(t float64) float64 {
	const eps = 216.0 / 24389
	if t > eps {
		return math.Cbrt(t)
	}
	return (24389.0/27*t + 16) / 116
}

func fLab(t float32) float32 {
	if t <= 0 {
		return fLUT[0]
	}
	x := t * fLUTN
	i := int(x)
	if i > fLUTN { // XYZ of sRGB white is a hair over the D65 white point
		i = fLUTN
	}
	fr := x - float32(i)
	return fLUT[i] + fr*(fLUT[i+1]-fLUT[i])
}

type labColor struct{ l, a, b float32 }

// toLab converts 8-bit sRGB (D65) to CIE Lab.
func toLab(r, g, b uint8) labColor {
	R, G, B := linLUT[r], linLUT[g], linLUT[b]
	x := (0.4124564*R + 0.3575761*G + 0.1804375*B) * (1 / 0.95047)
	y := 0.2126729*R + 0.7151522*G + 0.0721750*B
	z := (0.0193339*R + 0.1191920*G + 0.9503041*B) * (1 / 1.08883)
	fx, fy, fz := fLab(x), fLab(y), fLab(z)
	return labColor{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

func deltaE2(p, q labColor) float32 {
	dl, da, db := p.l-q.l, p.a-q.a, p.b-q.b
	return dl*dl + da*da + db*db
}

// bgModel decides whether a pixel belongs to the background.
type bgModel struct {
	// alphaOnly is set when most border pixels are transparent: then the
	// background is simply the transparent part of the image.
	alphaOnly bool
	color     color.NRGBA // detected background colour (opaque) unless alphaOnly
	ref       labColor
	t2        float32 // squared ΔE threshold
	// near caches the exact answer for every colour within nearR levels of
	// the background colour on each channel, where noisy background pixels
	// fall, so most of them skip the Lab conversion.
	near []uint8
}

const nearR = 15

func nearIndex(dr, dg, db int) (int, bool) {
	const n = 2*nearR + 1
	if uint(dr+nearR) >= n || uint(dg+nearR) >= n || uint(db+nearR) >= n {
		return 0, false
	}
	return ((dr+nearR)*n+dg+nearR)*n + db + nearR, true
}

func (m *bgModel) buildNear() {
	const n = 2*nearR + 1
	m.near = make([]uint8, n*n*n)
	for dr := -nearR; dr <= nearR; dr++ {
		for dg := -nearR; dg <= nearR; dg++ {
			for db := -nearR; db <= nearR; db++ {
				r, g, b := int(m.color.R)+dr, int(m.color.G)+dg, int(m.color.B)+db
				if r < 0 || r > 255 || g < 0 || g > 255 || b < 0 || b > 255 {
					continue
				}
				if deltaE2(toLab(uint8(r), uint8(g), uint8(b)), m.ref) <= m.t2 {
					i, _ := nearIndex(dr, dg, db)
					m.near[i] = 1
				}
			}
		}
	}
}

// detectBackground takes the per-channel median of the outermost ring of
// pixels as the background colour.
func detectBackground(img *image.NRGBA, deltaE float64) bgModel {
	if deltaE <= 0 || math.IsNaN(deltaE) {
		deltaE = DefaultDeltaE
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var hr, hg, hb [256]int
	n, transparent := 0, 0
	add := func(x, y int) {
		p := img.Pix[y*img.Stride+x*4 : y*img.Stride+x*4+4 : y*img.Stride+x*4+4]
		if p[3] < 128 {
			transparent++
			return
		}
		hr[p[0]]++
		hg[p[1]]++
		hb[p[2]]++
		n++
	}
	for x := range w {
		add(x, 0)
		if h > 1 {
			add(x, h-1)
		}
	}
	for y := 1; y < h-1; y++ {
		add(0, y)
		if w > 1 {
			add(w-1, y)
		}
	}
	if transparent > n {
		return bgModel{alphaOnly: true}
	}
	median := func(hist *[256]int) uint8 {
		half, acc := (n+1)/2, 0
		for v, c := range hist {
			acc += c
			if acc >= half {
				return uint8(v)
			}
		}
		return 255
	}
	c := color.NRGBA{median(&hr), median(&hg), median(&hb), 255}
	m := bgModel{color: c, ref: toLab(c.R, c.G, c.B), t2: float32(deltaE * deltaE)}
	m.buildNear()
	return m
}

// classify returns one byte per pixel: 1 where the pixel is background-like,
// 0 elsewhere.
func classify(img *image.NRGBA, m bgModel) []uint8 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]uint8, w*h)
	bgR, bgG, bgB := int(m.color.R), int(m.color.G), int(m.color.B)
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := img.Pix[y*img.Stride : y*img.Stride+w*4]
			dst := out[y*w : y*w+w]
			if m.alphaOnly {
				for x := range dst {
					if src[x*4+3] < 128 {
						dst[x] = 1
					}
				}
				continue
			}
			// Runs of equal colour are common (flat backgrounds, clipped
			// highlights); remember the last answer.
			var lr, lg, lb uint8
			var last uint8
			have := false
			for x := range dst {
				p := src[x*4 : x*4+4 : x*4+4]
				if p[3] == 0 {
					dst[x] = 1
					continue
				}
				if i, ok := nearIndex(int(p[0])-bgR, int(p[1])-bgG, int(p[2])-bgB); ok {
					dst[x] = m.near[i]
					continue
				}
				if have && p[0] == lr && p[1] == lg && p[2] == lb {
					dst[x] = last
					continue
				}
				lr, lg, lb, have = p[0], p[1], p[2], true
				last = 0
				if deltaE2(toLab(p[0], p[1], p[2]), m.ref) <= m.t2 {
					last = 1
				}
				dst[x] = last
			}
		}
	})
	return out
}

// parallelRows splits [0,h) into one contiguous band per available CPU.
func parallelRows(h int, fn func(y0, y1 int)) {
	n := min(runtime.GOMAXPROCS(0), h/16)
	if n <= 1 {
		fn(0, h)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		y0, y1 := h*i/n, h*(i+1)/n
		wg.Go(func() { fn(y0, y1) })
	}
	wg.Wait()
}
