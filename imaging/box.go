package imaging

import (
	"image"
	"math"
)

// Box is a box on a page in fractions of the page size: X and W of the
// width, Y and H of the height, with (0,0) the top-left corner. A valid box
// lies within 0..1 (ParseBBox enforces it); methods clamp rather than fail.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"width"`
	H float64 `json:"height"`
}

// Whole is the box covering the full page.
var Whole = Box{X: 0, Y: 0, W: 1, H: 1}

// Area is W*H, the fraction of the page the box covers.
func (b Box) Area() float64 {
	if b.W <= 0 || b.H <= 0 {
		return 0
	}
	return b.W * b.H
}

// pixelEpsilon absorbs float error in fraction*size products, so that a box
// given as 0.29 of a 100 px page starts at pixel 29, not 28 (0.29*100 is
// 28.999999999999996 in float64). It is far below any meaningful fraction.
const pixelEpsilon = 1e-6

// PixelRect maps b onto a w x h pixel page: the start edges are floored,
// the end edges ceiled, and the result clamped to the page, so every pixel
// the box touches is included. A box with positive width and height always
// yields at least one pixel in each direction (a box wholly off the page is
// pinned to the nearest page edge); a box with zero or negative width or
// height, or an empty page, yields the empty rectangle.
func (b Box) PixelRect(w, h int) image.Rectangle {
	if w <= 0 || h <= 0 || !(b.W > 0) || !(b.H > 0) {
		return image.Rectangle{}
	}
	x0, x1 := pixelSpan(b.X, b.W, w)
	y0, y1 := pixelSpan(b.Y, b.H, h)
	return image.Rect(x0, y0, x1, y1)
}

func pixelSpan(start, size float64, n int) (int, int) {
	fn := float64(n)
	lo := math.Floor(start*fn + pixelEpsilon)
	hi := math.Ceil((start+size)*fn - pixelEpsilon)
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return 0, n
	}
	lo = math.Max(0, math.Min(lo, fn))
	hi = math.Max(0, math.Min(hi, fn))
	a, z := int(lo), int(hi)
	if z <= a {
		if a >= n {
			a = n - 1
		}
		z = a + 1
	}
	return a, z
}

// CropFrac returns the part of img under b (see PixelRect) as a SubImage
// sharing img's pixels: no copy is made, so treat the result as read-only
// when img is shared (for example when it came from a SourceCache).
func CropFrac(img *image.NRGBA, b Box) *image.NRGBA {
	r := b.PixelRect(img.Rect.Dx(), img.Rect.Dy()).Add(img.Rect.Min)
	return img.SubImage(r).(*image.NRGBA)
}

// AspectLock grows b about its centre until its pixel aspect ratio (width
// over height on a pageW x pageH page) equals aspect, the ratio of the
// original crop. If the grown box no longer fits the page it is shifted back
// onto the page, and if it is larger than the page in either direction it
// is shrunk about its centre, keeping the aspect, until it fits. A
// non-positive page size or aspect returns b clamped to the page.
func AspectLock(b Box, aspect float64, pageW, pageH int) Box {
	b = clampBox(b)
	if pageW <= 0 || pageH <= 0 || !(aspect > 0) || math.IsInf(aspect, 0) || b.W <= 0 || b.H <= 0 {
		return b
	}
	cx, cy := b.X+b.W/2, b.Y+b.H/2
	pw, ph := b.W*float64(pageW), b.H*float64(pageH) // pixel size
	if pw/ph < aspect {
		pw = ph * aspect
	} else {
		ph = pw / aspect
	}
	w, h := pw/float64(pageW), ph/float64(pageH)
	if w > 1 {
		h /= w
		w = 1
	}
	if h > 1 {
		w /= h
		h = 1
	}
	return Box{X: fitStart(cx-w/2, w), Y: fitStart(cy-h/2, h), W: w, H: h}
}

// fitStart shifts a span of the given size starting at s onto [0,1].
func fitStart(s, size float64) float64 {
	if s+size > 1 {
		s = 1 - size
	}
	if s < 0 {
		s = 0
	}
	return s
}

// clampBox intersects b with the page.
func clampBox(b Box) Box {
	if b.X >= 0 && b.Y >= 0 && b.W >= 0 && b.H >= 0 && b.X+b.W <= 1 && b.Y+b.H <= 1 {
		return b // already on the page: keep the exact values
	}
	x0, y0 := clamp01(b.X), clamp01(b.Y)
	x1, y1 := clamp01(b.X+b.W), clamp01(b.Y+b.H)
	return Box{X: x0, Y: y0, W: math.Max(0, x1-x0), H: math.Max(0, y1-y0)}
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// IoU is the intersection over union of two boxes: 1 for equal boxes, 0 for
// disjoint ones. Two empty boxes have IoU 1 if equal, else 0.
func IoU(a, b Box) float64 {
	ix := math.Min(a.X+a.W, b.X+b.W) - math.Max(a.X, b.X)
	iy := math.Min(a.Y+a.H, b.Y+b.H) - math.Max(a.Y, b.Y)
	inter := 0.0
	if ix > 0 && iy > 0 {
		inter = ix * iy
	}
	union := a.Area() + b.Area() - inter
	if !(union > 0) {
		if a == b {
			return 1
		}
		return 0
	}
	return math.Min(1, inter/union)
}
