package uncrop

import (
	"image"
	"testing"

	"github.com/canvasd/canvasd/imaging/uncrop/ghostscene"
)

// TestNoGhostsOfNearEdgeObjects extends generated textures that have one
// distinct object near the extended edge (scenes of `eval-uncrop -ghosts`,
// seed 17). Before issue 17 the fill copied the object into the new band
// (NCC 0.99–1.00 in all of these); now no window of the band may match it
// (NCC > 0.8, as is or mirrored), and the far third of the band must keep
// the texture's detail rather than go flat, so that blurring cannot pass.
func TestNoGhostsOfNearEdgeObjects(t *testing.T) {
	for _, i := range []int{0, 4, 8, 14, 38} {
		s := ghostscene.Generate(17, i)
		t.Run(s.Kind+"/"+s.Side.String(), func(t *testing.T) {
			l, r, u, d := s.Extents()
			out := mustUncrop(t, s.Img, Extents{Left: l, Right: r, Up: u, Down: d}, Options{Seed: 1, Mode: PatchMatch})
			assertKept(t, out, s.Img, Plan{Keep: s.Img.Rect, Out: out.Rect, At: s.Img.Rect.Add(image.Pt(l, u))})
			g := ghostscene.Measure(s, out)
			if g.IsGhost() {
				t.Errorf("scene %d: the object at %v is copied into the band at %v (NCC %.3f, mirrored %v)",
					i, s.Object.Add(image.Pt(l, u)), g.At, g.NCC, g.Mirrored)
			}
			far := ghostscene.FarDetail(s, out)
			if far < 0.5 {
				t.Errorf("scene %d: the far third of the band is smeared: %.2f of the original's detail", i, far)
			}
			t.Logf("scene %d: best NCC %.3f; far-third detail %.2f of the original's", i, g.NCC, far)
		})
	}
}

// TestDistinctStructureAtTheEdgeCarriesOn draws a distinct bar (a road, a
// snowfield's edge) across a photo-like image up to the edge being
// extended: unlike a blob near the edge it is a structure crossing the
// seam, and the band must carry it on rather than stop it at the seam (the
// first issue 17 fill, which penalised every distinct patch, stopped it).
func TestDistinctStructureAtTheEdgeCarriesOn(t *testing.T) {
	src := photoLike(t, 224, 168, 5)
	const y0, y1 = 100, 112
	for y := y0; y < y1; y++ {
		for x := 0; x < 224; x++ {
			p := src.Pix[src.PixOffset(x, y):]
			p[0], p[1], p[2] = 240, 235, 225
		}
	}
	out := mustUncrop(t, src, Extents{Right: 90}, Options{Seed: 1, Mode: PatchMatch})
	rowLuma := func(y, x0, x1 int) float64 {
		var s float64
		for x := x0; x < x1; x++ {
			s += luma8(out.Pix[out.PixOffset(x, y):])
		}
		return s / float64(x1-x0)
	}
	// Over the band's middle third, the bar's rows against the rows just
	// above and below it.
	x0, x1 := 224+30, 224+60
	var bar, around float64
	for y := y0 + 2; y < y1-2; y++ {
		bar += rowLuma(y, x0, x1) / float64(y1-y0-4)
	}
	for _, y := range []int{y0 - 8, y0 - 6, y1 + 5, y1 + 7} {
		around += rowLuma(y, x0, x1) / 4
	}
	if bar-around < 60 {
		t.Errorf("the bar stops at the seam: its rows are %.0f in the band's middle third, the rows around it %.0f (want at least 60 brighter)", bar, around)
	}
	t.Logf("bar rows %.0f, around %.0f", bar, around)
}
