package main

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/canvasd/canvasd/imaging/uncrop"
)

func noise(tb testing.TB, w, h int, seed uint64) []float64 {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	a := make([]float64, w*h)
	for i := range a {
		a[i] = float64(r.IntN(256))
	}
	return a
}

func TestSSIM(t *testing.T) {
	const w, h = 40, 30
	a := noise(t, w, h, 1)
	if got := ssim(a, a, w, h); math.Abs(got-1) > 1e-12 {
		t.Fatalf("ssim(a, a) = %v, want 1", got)
	}
	b := noise(t, w, h, 2)
	ab, ba := ssim(a, b, w, h), ssim(b, a, w, h)
	if math.Abs(ab-ba) > 1e-12 {
		t.Fatalf("not symmetric: %v vs %v", ab, ba)
	}
	if ab > 0.1 {
		t.Fatalf("ssim of independent noise = %v, want near 0", ab)
	}
	// A small brightness shift keeps structure: SSIM stays high but < 1.
	c := make([]float64, len(a))
	for i := range a {
		c[i] = a[i]*0.9 + 10
	}
	if s := ssim(a, c, w, h); s < 0.9 || s >= 1 {
		t.Fatalf("ssim of scaled copy = %v, want in [0.9, 1)", s)
	}
	if s := ssim(a, a, 5, 5); !math.IsNaN(s) {
		t.Fatalf("ssim smaller than its window = %v, want NaN", s)
	}
}

func TestPSNRAndSeam(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	b := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for y := 0; y < 6; y++ {
		for x := 0; x < 8; x++ {
			v := uint8(10 * x)
			if x >= 4 {
				v += 50 // a step between columns 3 and 4
			}
			a.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
			b.SetNRGBA(x, y, color.NRGBA{v + 1, v + 1, v + 1, 255})
		}
	}
	if got, want := psnr(a, b, a.Rect), 10*math.Log10(255*255); math.Abs(got-want) > 1e-9 {
		t.Fatalf("psnr = %v, want %v", got, want)
	}
	// Kept part is columns 4..7; the band on the left ends at column 3.
	jump, interior := seamJump(a, image.Rect(4, 0, 8, 6), "left")
	if math.Abs(jump-60) > 1e-9 || math.Abs(interior-10) > 1e-9 {
		t.Fatalf("seam jump %v interior %v, want 60 and 10", jump, interior)
	}
}

func TestBaselinesAndThirds(t *testing.T) {
	k := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	for x := 0; x < 3; x++ {
		k.SetNRGBA(x, 0, color.NRGBA{uint8(x + 1), 0, 0, 255})
	}
	ext := struct{ l, r int }{2, 2}
	rep, _ := baseline(k, extentsLR(ext.l, ext.r), clampIdx)
	mir, _ := baseline(k, extentsLR(ext.l, ext.r), mirrorIdx)
	var gr, gm []uint8
	for x := 0; x < 7; x++ {
		gr = append(gr, rep.NRGBAAt(x, 0).R)
		gm = append(gm, mir.NRGBAAt(x, 0).R)
	}
	if string(gr) != string([]uint8{1, 1, 1, 2, 3, 3, 3}) || string(gm) != string([]uint8{2, 1, 1, 2, 3, 3, 2}) {
		t.Fatalf("replicate %v mirror %v", gr, gm)
	}
	th := thirds(image.Rect(0, 0, 30, 10), "left")
	if th[0] != image.Rect(20, 0, 30, 10) || th[2] != image.Rect(0, 0, 10, 10) {
		t.Fatalf("thirds(left) = %v: the strip by the seam must come first", th)
	}
}

func extentsLR(l, r int) uncrop.Extents { return uncrop.Extents{Left: l, Right: r} }
