package uncrop

import (
	"errors"
	"fmt"
	"image"
	"time"
)

// MaxExtent is the largest absolute value of one extent.
const MaxExtent = 2000

// Extents says how many pixels to add on each side of the image; a negative
// value removes that many pixels from that side instead.
type Extents struct{ Left, Right, Up, Down int }

// Mode selects the fill.
type Mode int

const (
	// Auto chooses PatchMatch unless the output is too large for
	// Options.TimeBudget, judged from sizes alone, in which case it uses Fast.
	Auto Mode = iota
	// PatchMatch is the coarse-to-fine patch-based synthesis.
	PatchMatch
	// Fast reflects, blurs with distance and adds seeded grain.
	Fast
)

func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case PatchMatch:
		return "patchmatch"
	case Fast:
		return "fast"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Default option values, used when the corresponding field is zero.
const (
	// DefaultMaxWorkPixels is the working-resolution budget of PatchMatch.
	DefaultMaxWorkPixels = 300_000
	// DefaultTimeBudget is the time Auto plans for, using a fixed cost
	// model of this package (see patchMatchCost); it never reads a clock.
	DefaultTimeBudget = 1500 * time.Millisecond
)

// Options tunes Uncrop. The zero value is ready to use.
type Options struct {
	// Seed makes the fill reproducible: the same input, extents and seed
	// give byte-identical output. Different seeds give different fills.
	Seed int64
	// Mode selects the fill; default Auto.
	Mode Mode
	// MaxWorkPixels bounds the number of pixels of the working canvas on
	// which PatchMatch runs; default DefaultMaxWorkPixels (minimum 4096).
	MaxWorkPixels int
	// TimeBudget is the time Auto assumes it may spend on a 2-core machine;
	// default DefaultTimeBudget. Auto picks Fast when the estimated cost of
	// PatchMatch, computed from image sizes only, exceeds it, so the output
	// never depends on how fast the machine happens to be.
	TimeBudget time.Duration
}

var (
	// ErrEmptyResult means the extents would leave an image of zero or
	// negative width or height.
	ErrEmptyResult = errors.New("uncrop: result would be empty")
	// ErrExtentRange means an extent is outside -MaxExtent..MaxExtent.
	ErrExtentRange = errors.New("uncrop: extent out of range")
	// ErrNoImage means the source image is nil or has no pixels.
	ErrNoImage = errors.New("uncrop: no source image")
)

// Plan is the geometry of one uncrop: which part of the source is kept, and
// where it lands in the output.
type Plan struct {
	// Keep is the part of the source kept, in source coordinates.
	Keep image.Rectangle
	// Out is the output size (origin 0,0).
	Out image.Rectangle
	// At is where Keep lands in Out.
	At image.Rectangle
}

// Geometry checks the extents against a source of the given bounds and
// returns the plan, or ErrExtentRange or ErrEmptyResult.
func Geometry(src image.Rectangle, ext Extents) (Plan, error) {
	for _, v := range []int{ext.Left, ext.Right, ext.Up, ext.Down} {
		if v < -MaxExtent || v > MaxExtent {
			return Plan{}, fmt.Errorf("%w: %d not in %d..%d", ErrExtentRange, v, -MaxExtent, MaxExtent)
		}
	}
	// Not image.Rect: it would swap crossed edges into a valid rectangle.
	keep := image.Rectangle{
		Min: image.Pt(src.Min.X+max(0, -ext.Left), src.Min.Y+max(0, -ext.Up)),
		Max: image.Pt(src.Max.X-max(0, -ext.Right), src.Max.Y-max(0, -ext.Down)),
	}
	if keep.Max.X <= keep.Min.X || keep.Max.Y <= keep.Min.Y {
		return Plan{}, fmt.Errorf("%w: %dx%d source with extents %+v", ErrEmptyResult, src.Dx(), src.Dy(), ext)
	}
	l, u := max(0, ext.Left), max(0, ext.Up)
	w := keep.Dx() + l + max(0, ext.Right)
	h := keep.Dy() + u + max(0, ext.Down)
	return Plan{
		Keep: keep,
		Out:  image.Rect(0, 0, w, h),
		At:   image.Rect(l, u, l+keep.Dx(), u+keep.Dy()),
	}, nil
}

// ChooseMode returns the fill that Uncrop uses for an output of plan with
// opt: opt.Mode unless it is Auto. It depends on sizes only.
func ChooseMode(p Plan, opt Options) Mode {
	if opt.Mode != Auto {
		return opt.Mode
	}
	budget := opt.TimeBudget
	if budget <= 0 {
		budget = DefaultTimeBudget
	}
	if patchMatchCost(p, opt) > budget {
		return Fast
	}
	return PatchMatch
}

// patchMatchCost estimates the PatchMatch time on the reference 2-core
// machine from sizes alone: a fixed part for the working-resolution synthesis
// and a per-pixel part for the full-resolution composition. The constants are
// measured with BenchmarkUncrop* (see BENCHMARKS.md); they are constants so
// that the mode, and therefore the output, never depends on the clock.
func patchMatchCost(p Plan, opt Options) time.Duration {
	work := opt.MaxWorkPixels
	if work <= 0 {
		work = DefaultMaxWorkPixels
	}
	out := p.Out.Dx() * p.Out.Dy()
	work = min(work, out)
	newPix := out - p.At.Dx()*p.At.Dy()
	// Wall time on 2 idle cores, taken as half the CPU time per op of
	// BenchmarkUncrop4MP and BenchmarkUncropLarge (1.15 s and 2.04 s CPU),
	// with a little slack.
	const (
		nsPerWorkPixel = 1100 // synthesis, per working-canvas pixel
		nsPerNewPixel  = 35   // full-resolution composition
		nsPerOutPixel  = 10   // copy, downscale, alpha and allocation
	)
	return time.Duration(work*nsPerWorkPixel + newPix*nsPerNewPixel + out*nsPerOutPixel)
}

// Uncrop returns src with each side extended (positive extent) or cropped
// (negative extent). The kept pixels are copied exactly; new pixels are
// synthesized according to opt. The output has its origin at (0,0).
func Uncrop(src *image.NRGBA, ext Extents, opt Options) (*image.NRGBA, error) {
	if src == nil || src.Rect.Empty() {
		return nil, ErrNoImage
	}
	p, err := Geometry(src.Rect, ext)
	if err != nil {
		return nil, err
	}
	dst := image.NewNRGBA(p.Out)
	keep := src.SubImage(p.Keep).(*image.NRGBA)
	copyInto(dst, p.At.Min, keep)
	if p.At == p.Out {
		return dst, nil
	}
	opaque := keep.Opaque()
	switch ChooseMode(p, opt) {
	case Fast:
		fastFill(dst, p.At, uint64(opt.Seed))
	case PatchMatch:
		work := opt.MaxWorkPixels
		if work <= 0 {
			work = DefaultMaxWorkPixels
		}
		work = max(work, 4096)
		if !patchFill(dst, p.At, keep, uint64(opt.Seed), work) {
			// Too small for patches (a sliver of a few pixels).
			fastFill(dst, p.At, uint64(opt.Seed))
		}
	default:
		return nil, fmt.Errorf("uncrop: unknown mode %d", int(opt.Mode))
	}
	fillAlpha(dst, p.At, opaque)
	return dst, nil
}

// copyInto copies src to dst with src's Min at at.
func copyInto(dst *image.NRGBA, at image.Point, src *image.NRGBA) {
	w := src.Rect.Dx() * 4
	for y := 0; y < src.Rect.Dy(); y++ {
		so := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y)
		do := dst.PixOffset(at.X, at.Y+y)
		copy(dst.Pix[do:do+w], src.Pix[so:so+w])
	}
}

// fillAlpha sets the alpha of the new pixels: opaque when the kept part is
// opaque, otherwise the reflection of the kept alpha.
func fillAlpha(dst *image.NRGBA, at image.Rectangle, opaque bool) {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	parallelRows(H, 64, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			inY := y >= at.Min.Y && y < at.Max.Y
			my := reflect(y-at.Min.Y, at.Dy()) + at.Min.Y
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < W; x++ {
				if inY && x >= at.Min.X && x < at.Max.X {
					continue
				}
				if opaque {
					row[x*4+3] = 255
					continue
				}
				mx := reflect(x-at.Min.X, at.Dx()) + at.Min.X
				row[x*4+3] = dst.Pix[my*dst.Stride+mx*4+3]
			}
		}
	})
}

// reflect maps any integer t to 0..n-1 by symmetric reflection with period
// 2n (… 1 0 | 0 1 … n-1 | n-1 …).
func reflect(t, n int) int {
	if n <= 1 {
		return 0
	}
	p := 2 * n
	m := t % p
	if m < 0 {
		m += p
	}
	if m >= n {
		m = p - 1 - m
	}
	return m
}
