package digitize

import (
	"image"
	"image/draw"
	"sort"

	xdraw "golang.org/x/image/draw"
)

// toGray converts img to an 8-bit grey image with origin (0,0).
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA:
		for y := 0; y < b.Dy(); y++ {
			o := src.PixOffset(b.Min.X, b.Min.Y+y)
			row := g.Pix[y*g.Stride:]
			for x := 0; x < b.Dx(); x++ {
				p := src.Pix[o+4*x : o+4*x+3 : o+4*x+3]
				row[x] = uint8((19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16)
			}
		}
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			o := src.PixOffset(b.Min.X, b.Min.Y+y)
			row := g.Pix[y*g.Stride:]
			for x := 0; x < b.Dx(); x++ {
				p := src.Pix[o+4*x : o+4*x+4 : o+4*x+4]
				lum := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				a := uint32(p[3])
				// Composite on white: transparent areas are background.
				row[x] = uint8((lum*a + 255*(255-a)) / 255)
			}
		}
	case *image.YCbCr:
		for y := 0; y < b.Dy(); y++ {
			row := g.Pix[y*g.Stride:]
			for x := 0; x < b.Dx(); x++ {
				row[x] = src.Y[src.YOffset(b.Min.X+x, b.Min.Y+y)]
			}
		}
	default:
		draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(g, g.Bounds(), img, b.Min, draw.Over)
	}
	return g
}

// histogram-based Otsu threshold: pixels <= t are ink.
func otsu(g *image.Gray) uint8 {
	var hist [256]int
	for y := 0; y < g.Rect.Dy(); y++ {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()] {
			hist[v]++
		}
	}
	total := g.Rect.Dx() * g.Rect.Dy()
	var sum float64
	for i, c := range hist {
		sum += float64(i * c)
	}
	var sumB, wB float64
	best, bestT := -1.0, 128
	for t := 0; t < 256; t++ {
		wB += float64(hist[t])
		if wB == 0 {
			continue
		}
		wF := float64(total) - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB, mF := sumB/wB, (sum-sumB)/wF
		v := wB * wF * (mB - mF) * (mB - mF)
		if v > best {
			best, bestT = v, t
		}
	}
	return uint8(bestT)
}

// background returns the most common grey level among the lighter half, a
// robust estimate of the paper colour.
func background(g *image.Gray) uint8 {
	var hist [256]int
	for y := 0; y < g.Rect.Dy(); y += 2 {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()] {
			hist[v]++
		}
	}
	best := 255
	for i := 128; i < 256; i++ {
		if hist[i] > hist[best] {
			best = i
		}
	}
	return uint8(best)
}

// binary is a 0/1 ink mask.
type binary struct {
	w, h int
	pix  []uint8
}

func threshold(g *image.Gray, t uint8) *binary {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	b := &binary{w: w, h: h, pix: make([]uint8, w*h)}
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range row {
			if v <= t {
				b.pix[y*w+x] = 1
			}
		}
	}
	return b
}

// textHeight estimates the typical glyph height (roughly cap/digit height)
// as the median height of connected ink components of glyph-like shape.
func textHeight(b *binary) float64 {
	w, h := b.w, b.h
	label := make([]int32, w*h)
	var heights []int
	stack := make([]int32, 0, 256)
	var next int32
	for i, v := range b.pix {
		if v == 0 || label[i] != 0 {
			continue
		}
		next++
		label[i] = next
		stack = append(stack[:0], int32(i))
		minX, maxX, minY, maxY, n := w, 0, h, 0, 0
		for len(stack) > 0 {
			p := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			n++
			minX, maxX, minY, maxY = min(minX, x), max(maxX, x), min(minY, y), max(maxY, y)
			for _, q := range [4]int{p - 1, p + 1, p - w, p + w} {
				if q < 0 || q >= len(b.pix) || b.pix[q] == 0 || label[q] != 0 {
					continue
				}
				if (q == p-1 && x == 0) || (q == p+1 && x == w-1) {
					continue
				}
				label[q] = next
				stack = append(stack, int32(q))
			}
		}
		cw, ch := maxX-minX+1, maxY-minY+1
		if ch >= 5 && ch <= h/3 && cw <= 3*ch && cw*4 >= ch/2 && n >= 6 {
			heights = append(heights, ch)
		}
	}
	if len(heights) < 3 {
		return 0
	}
	sort.Ints(heights)
	// Upper percentile: digits, capitals and ascenders rather than the
	// x-height that dominates prose.
	return float64(heights[len(heights)*3/4])
}

// scaleGray resizes g by s with bilinear filtering.
func scaleGray(g *image.Gray, s float64) *image.Gray {
	w := int(float64(g.Rect.Dx())*s + 0.5)
	h := int(float64(g.Rect.Dy())*s + 0.5)
	dst := image.NewGray(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), g, g.Rect, xdraw.Src, nil)
	return dst
}

// noiseSigma estimates the grey-level noise of g on the paper from the
// median absolute difference between a paper pixel and the mean of its left
// and right neighbours (robust to the sparse ringing JPEG leaves around
// glyphs, which a standard deviation would count).
func noiseSigma(g *image.Gray, bg uint8) float64 {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	lo := int(bg) - 40
	var hist [512]int
	n := 0
	for y := 1; y < h-1; y += 2 {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := 1; x < w-1; x++ {
			a, b, c := int(row[x-1]), int(row[x]), int(row[x+1])
			if a < lo || b < lo || c < lo {
				continue
			}
			hist[min(511, abs(2*b-a-c))]++ // twice the difference
			n++
		}
	}
	if n < 100 {
		return 0
	}
	acc := 0
	for v, c := range hist {
		acc += c
		if 2*acc >= n {
			// For Gaussian noise the median |d| is 0.674 σ_d and
			// σ_d = 1.22 σ.
			return float64(v) / 2 / 0.674 / 1.22
		}
	}
	return 0
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// scaleGrayCubic resizes g by s with Catmull-Rom filtering, which keeps
// upscaled strokes sharper than bilinear.
func scaleGrayCubic(g *image.Gray, s float64) *image.Gray {
	w := int(float64(g.Rect.Dx())*s + 0.5)
	h := int(float64(g.Rect.Dy())*s + 0.5)
	dst := image.NewGray(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), g, g.Rect, xdraw.Src, nil)
	return dst
}
