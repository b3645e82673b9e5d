package uncrop

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"runtime"
	"testing"
)

// photoLike draws a deterministic image with the features of a photo: a
// sky gradient, a horizon, rolling texture and fine noise.
func photoLike(tb testing.TB, w, h int, seed uint64) *image.NRGBA {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			n := float64(hash3(seed, uint64(x), uint64(y))>>56) - 128
			horizon := 0.55 + 0.05*math.Sin(fx*9)
			var r, g, b float64
			if fy < horizon {
				r, g, b = 90+80*fy, 140+60*fy, 230-30*fy
				r += 25 * math.Max(0, math.Sin(fx*23+fy*7)*math.Sin(fy*31))
			} else {
				t := math.Sin(fx*40+math.Sin(fy*13)*3) * math.Cos(fy*55)
				r, g, b = 70+40*t, 110+50*t, 40+20*t
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp8(float32(r + n/16)), clamp8(float32(g + n/16)), clamp8(float32(b + n/16)), 255})
		}
	}
	return img
}

func mustUncrop(tb testing.TB, src *image.NRGBA, ext Extents, opt Options) *image.NRGBA {
	tb.Helper()
	out, err := Uncrop(src, ext, opt)
	if err != nil {
		tb.Fatalf("Uncrop(%+v, %+v): %v", ext, opt, err)
	}
	return out
}

// withProcs runs f with GOMAXPROCS set to n.
func withProcs(n int, f func()) {
	old := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(old)
	f()
}

func TestDeterministicAcrossRunsAndGOMAXPROCS(t *testing.T) {
	src := photoLike(t, 120, 84, 1)
	ext := Extents{Left: 30, Right: 21, Up: 24, Down: 15}
	for _, mode := range []Mode{PatchMatch, Fast} {
		t.Run(mode.String(), func(t *testing.T) {
			// A small working budget, so the full-resolution detail
			// transfer runs too, and the race detector stays quick.
			opt := Options{Seed: 42, Mode: mode, MaxWorkPixels: 8000}
			var one, two, again *image.NRGBA
			withProcs(1, func() { one = mustUncrop(t, src, ext, opt) })
			withProcs(2, func() { two = mustUncrop(t, src, ext, opt) })
			withProcs(2, func() { again = mustUncrop(t, src, ext, opt) })
			if !bytes.Equal(one.Pix, two.Pix) {
				t.Fatal("GOMAXPROCS 1 and 2 give different bytes")
			}
			if !bytes.Equal(two.Pix, again.Pix) {
				t.Fatal("two runs give different bytes")
			}
		})
	}
}

func TestSeedsDiffer(t *testing.T) {
	src := photoLike(t, 120, 90, 2)
	ext := Extents{Left: 30, Down: 30}
	for _, mode := range []Mode{PatchMatch, Fast} {
		t.Run(mode.String(), func(t *testing.T) {
			a := mustUncrop(t, src, ext, Options{Seed: 1, Mode: mode, MaxWorkPixels: 8000})
			b := mustUncrop(t, src, ext, Options{Seed: 2, Mode: mode, MaxWorkPixels: 8000})
			if bytes.Equal(a.Pix, b.Pix) {
				t.Fatal("seeds 1 and 2 give the same output")
			}
			// The kept part is the same whatever the seed.
			at := image.Rect(30, 0, 150, 90)
			if !bytes.Equal(a.SubImage(at).(*image.NRGBA).Pix[:4*120], b.SubImage(at).(*image.NRGBA).Pix[:4*120]) {
				t.Fatal("kept part differs between seeds")
			}
		})
	}
}

func TestNegativeExtentsCropExactly(t *testing.T) {
	src := photoLike(t, 64, 48, 3)
	// Also a source whose bounds do not start at the origin.
	sub := src.SubImage(image.Rect(5, 4, 60, 44)).(*image.NRGBA)
	for _, tc := range []struct {
		src *image.NRGBA
		ext Extents
	}{
		{src, Extents{Left: -10, Right: -7, Up: -3, Down: -5}},
		{src, Extents{Left: -1}},
		{src, Extents{Down: -47}},
		{sub, Extents{Left: -2, Up: -6, Right: 0, Down: -1}},
	} {
		got := mustUncrop(t, tc.src, tc.ext, Options{Seed: 9})
		b := tc.src.Rect
		want := image.Rect(b.Min.X-tc.ext.Left, b.Min.Y-tc.ext.Up, b.Max.X+tc.ext.Right, b.Max.Y+tc.ext.Down)
		if got.Rect != image.Rect(0, 0, want.Dx(), want.Dy()) {
			t.Fatalf("%+v: bounds %v, want %dx%d", tc.ext, got.Rect, want.Dx(), want.Dy())
		}
		for y := 0; y < want.Dy(); y++ {
			for x := 0; x < want.Dx(); x++ {
				if g, w := got.NRGBAAt(x, y), tc.src.NRGBAAt(want.Min.X+x, want.Min.Y+y); g != w {
					t.Fatalf("%+v: pixel (%d,%d) = %v, want %v", tc.ext, x, y, g, w)
				}
			}
		}
	}
}

func TestMixedExtents(t *testing.T) {
	src := photoLike(t, 100, 80, 4)
	for _, ext := range []Extents{
		{Left: 30, Right: -20},
		{Up: 25, Down: -10, Left: -5, Right: 12},
		{Left: 1, Right: 1, Up: 1, Down: 1},
		{Right: 250}, // wider than the original: reflection repeats
		{Down: 2000}, // the largest extent
		{Left: -99, Up: 10},
	} {
		t.Run(fmt.Sprintf("%+v", ext), func(t *testing.T) {
			got := mustUncrop(t, src, ext, Options{Seed: 5, MaxWorkPixels: 8000})
			p, err := Geometry(src.Rect, ext)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rect != p.Out {
				t.Fatalf("bounds %v, want %v", got.Rect, p.Out)
			}
			wantW := src.Rect.Dx() + ext.Left + ext.Right
			wantH := src.Rect.Dy() + ext.Up + ext.Down
			if p.Out.Dx() != wantW || p.Out.Dy() != wantH {
				t.Fatalf("plan %v, want %dx%d", p.Out, wantW, wantH)
			}
			assertKept(t, got, src, p)
			// New pixels are opaque and not left black.
			var sum int
			for y := 0; y < got.Rect.Dy(); y++ {
				for x := 0; x < got.Rect.Dx(); x++ {
					if (image.Point{x, y}).In(p.At) {
						continue
					}
					c := got.NRGBAAt(x, y)
					if c.A != 255 {
						t.Fatalf("new pixel (%d,%d) alpha %d", x, y, c.A)
					}
					sum += int(c.R) + int(c.G) + int(c.B)
				}
			}
			if sum == 0 {
				t.Fatal("new pixels are all black")
			}
		})
	}
}

// assertKept checks that the kept part of src appears unchanged in out.
func assertKept(tb testing.TB, out, src *image.NRGBA, p Plan) {
	tb.Helper()
	for y := 0; y < p.Keep.Dy(); y++ {
		for x := 0; x < p.Keep.Dx(); x++ {
			g := out.NRGBAAt(p.At.Min.X+x, p.At.Min.Y+y)
			w := src.NRGBAAt(p.Keep.Min.X+x, p.Keep.Min.Y+y)
			if g != w {
				tb.Fatalf("kept pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestEmptyResultAndRange(t *testing.T) {
	src := photoLike(t, 40, 30, 5)
	for _, ext := range []Extents{
		{Left: -40},
		{Left: -20, Right: -20},
		{Up: -15, Down: -16, Left: 100},
		{Down: -2000},
	} {
		if _, err := Uncrop(src, ext, Options{}); !errors.Is(err, ErrEmptyResult) {
			t.Errorf("%+v: err %v, want ErrEmptyResult", ext, err)
		}
	}
	for _, ext := range []Extents{{Left: 2001}, {Down: -2001}} {
		if _, err := Uncrop(src, ext, Options{}); !errors.Is(err, ErrExtentRange) {
			t.Errorf("%+v: err %v, want ErrExtentRange", ext, err)
		}
	}
	if _, err := Uncrop(nil, Extents{Left: 1}, Options{}); !errors.Is(err, ErrNoImage) {
		t.Errorf("nil source: err %v, want ErrNoImage", err)
	}
}

func TestOriginalPreservedAndSeamSmooth(t *testing.T) {
	src := photoLike(t, 160, 120, 6)
	ext := Extents{Left: 50, Right: 50, Up: 40, Down: 40}
	for _, mode := range []Mode{PatchMatch, Fast} {
		t.Run(mode.String(), func(t *testing.T) {
			got := mustUncrop(t, src, ext, Options{Seed: 3, Mode: mode, MaxWorkPixels: 15000})
			p, _ := Geometry(src.Rect, ext)
			// The feather zone lies wholly on the new side, so every
			// original pixel is exact.
			assertKept(t, got, src, p)
			// Across the left seam, the step is of the order of the
			// original's own horizontal gradient.
			var jump, grad float64
			for y := p.At.Min.Y; y < p.At.Max.Y; y++ {
				o := got.PixOffset(p.At.Min.X, y)
				jump += math.Abs(luma8(got.Pix[o:]) - luma8(got.Pix[o-4:]))
				for x := p.At.Min.X; x < p.At.Max.X-1; x++ {
					o := got.PixOffset(x, y)
					grad += math.Abs(luma8(got.Pix[o:])-luma8(got.Pix[o+4:])) / float64(p.At.Dx()-1)
				}
			}
			if jump > 1.5*grad {
				t.Fatalf("seam step %.1f > 1.5 x interior gradient %.1f", jump/float64(p.At.Dy()), grad/float64(p.At.Dy()))
			}
		})
	}
}

func TestFillResemblesOriginal(t *testing.T) {
	// The left band of a two-tone image (sky over ground) must continue
	// both tones, not invent others: a crude check that the synthesis uses
	// the original's content where it belongs.
	src := image.NewNRGBA(image.Rect(0, 0, 120, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 120; x++ {
			c := color.NRGBA{60, 120, 220, 255}
			if y >= 50 {
				c = color.NRGBA{50, 140, 40, 255}
			}
			n := uint8(hash3(7, uint64(x), uint64(y)) >> 61)
			c.R += n
			src.SetNRGBA(x, y, c)
		}
	}
	got := mustUncrop(t, src, Extents{Left: 60}, Options{Seed: 1, Mode: PatchMatch, MaxWorkPixels: 6000})
	for _, tc := range []struct {
		y    int
		want color.NRGBA
	}{{15, color.NRGBA{60, 120, 220, 255}}, {85, color.NRGBA{50, 140, 40, 255}}} {
		for x := 0; x < 60; x++ {
			c := got.NRGBAAt(x, tc.y)
			if d := math.Abs(float64(c.G)-float64(tc.want.G)) + math.Abs(float64(c.B)-float64(tc.want.B)); d > 20 {
				t.Fatalf("pixel (%d,%d) = %v, want near %v", x, tc.y, c, tc.want)
			}
		}
	}
}

func TestTinyAndTransparentSources(t *testing.T) {
	tiny := photoLike(t, 3, 2, 8)
	got := mustUncrop(t, tiny, Extents{Left: 10, Right: 10, Up: 5, Down: 5}, Options{Seed: 1})
	if got.Rect.Dx() != 23 || got.Rect.Dy() != 12 {
		t.Fatalf("tiny: bounds %v", got.Rect)
	}
	// Transparent pixels: new alpha reflects the original's alpha.
	src := photoLike(t, 40, 30, 9)
	for y := 0; y < 30; y++ {
		src.Pix[src.PixOffset(0, y)+3] = 10 // left column nearly transparent
	}
	got = mustUncrop(t, src, Extents{Left: 3}, Options{Seed: 1, Mode: PatchMatch})
	for y := 0; y < 30; y++ {
		if a := got.NRGBAAt(2, y).A; a != 10 {
			t.Fatalf("alpha at (2,%d) = %d, want 10 (reflection)", y, a)
		}
		if a := got.NRGBAAt(1, y).A; a != 255 {
			t.Fatalf("alpha at (1,%d) = %d, want 255 (reflection)", y, a)
		}
	}
}

func TestChooseModeFromSizesOnly(t *testing.T) {
	small, _ := Geometry(image.Rect(0, 0, 2309, 1732), Extents{Left: 500, Right: 500, Up: 500, Down: 500})
	if m := ChooseMode(small, Options{}); m != PatchMatch {
		t.Errorf("4 MP + 500 px: %v, want patchmatch", m)
	}
	huge, _ := Geometry(image.Rect(0, 0, 3873, 2582), Extents{Left: 2000, Right: 2000, Up: 2000, Down: 2000})
	if m := ChooseMode(huge, Options{}); m != Fast {
		t.Errorf("10 MP + 2000 px: %v, want fast", m)
	}
	if m := ChooseMode(huge, Options{Mode: PatchMatch}); m != PatchMatch {
		t.Errorf("explicit mode ignored: %v", m)
	}
	if m := ChooseMode(small, Options{TimeBudget: 1}); m != Fast {
		t.Errorf("tiny budget: %v, want fast", m)
	}
}

func TestReflect(t *testing.T) {
	want := []int{2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1}
	for i, w := range want {
		if got := reflect(i-3, 3); got != w {
			t.Errorf("reflect(%d, 3) = %d, want %d", i-3, got, w)
		}
	}
}
