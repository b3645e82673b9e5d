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
