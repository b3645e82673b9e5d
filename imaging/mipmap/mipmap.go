package mipmap

import (
	"fmt"
	"image"
	"image/draw"
)

// MaxLevelSide: the maximum level is the first whose long side is below
// this many pixels.
const MaxLevelSide = 128

// MinSide: no level has a side below this many pixels, unless level 0 does.
const MinSide = 2

// MaxLevel returns the highest level of a w x h image.
func MaxLevel(w, h int) int {
	if w <= 0 || h <= 0 {
		return 0
	}
	level := 0
	for max(w, h) >= MaxLevelSide {
		nw, nh := half(w), half(h)
		if min(nw, nh) < MinSide {
			break
		}
		w, h = nw, nh
		level++
	}
	return level
}

// Size returns the size of level of a w x h image.
func Size(w, h, level int) (int, int) {
	for i := 0; i < level; i++ {
		w, h = half(w), half(h)
	}
	return w, h
}

func half(n int) int { return (n + 1) / 2 }

// Level returns level of img: img itself (as NRGBA) at 0, else the result
// of halving level times. It refuses a level outside 0..MaxLevel.
func Level(img image.Image, level int) (*image.NRGBA, error) {
	b := img.Bounds()
	if top := MaxLevel(b.Dx(), b.Dy()); level < 0 || level > top {
		return nil, fmt.Errorf("mipmap level %d is outside 0..%d", level, top)
	}
	cur := toNRGBA(img)
	for i := 0; i < level; i++ {
		cur = Halve(cur)
	}
	return cur, nil
}

// Halve returns src at half its size (sides rounded up): each pixel is the
// premultiplied mean of a 2x2 block; on an odd side the last block reuses
// its edge pixels.
func Halve(src *image.NRGBA) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := half(sw), half(sh)
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := 2*y, min(2*y+1, sh-1)
		r0 := src.Pix[y0*src.Stride:]
		r1 := src.Pix[y1*src.Stride:]
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < dw; x++ {
			x0, x1 := 8*x, 4*min(2*x+1, sw-1)
			var r, g, bl, a uint32
			for _, p := range [4][]uint8{r0[x0 : x0+4], r0[x1 : x1+4], r1[x0 : x0+4], r1[x1 : x1+4]} {
				pa := uint32(p[3])
				r += uint32(p[0]) * pa
				g += uint32(p[1]) * pa
				bl += uint32(p[2]) * pa
				a += pa
			}
			o := out[4*x : 4*x+4]
			if a == 0 {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
				continue
			}
			// Un-premultiply: colour = sum(c*a) / sum(a), rounded.
			o[0] = uint8((r + a/2) / a)
			o[1] = uint8((g + a/2) / a)
			o[2] = uint8((bl + a/2) / a)
			o[3] = uint8((a + 2) / 4)
		}
	}
	return dst
}

func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, img, b.Min, draw.Src)
	return n
}
