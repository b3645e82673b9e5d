package uncrop

import (
	"image"
	"testing"

	"github.com/canvasd/canvasd/imaging/uncrop/ghostscene"
)

// gradEnergy is the mean absolute luma difference between horizontally and
// vertically adjacent pixels of r in img: a measure of texture detail.
func gradEnergy(img *image.NRGBA, r image.Rectangle) float64 {
	l := func(x, y int) float64 { return luma8(img.Pix[img.PixOffset(x, y):]) }
	var s float64
	var n int
	for y := r.Min.Y; y < r.Max.Y-1; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			a := l(x, y)
			s += abs(l(x+1, y)-a) + abs(l(x, y+1)-a)
			n += 2
		}
	}
	return s / float64(max(n, 1))
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// farThird is the third of the new band farthest from the original.
func farThird(s ghostscene.Scene) image.Rectangle {
	b := s.NewBand()
	switch s.Side {
	case ghostscene.Left:
		b.Max.X = b.Min.X + b.Dx()/3
	case ghostscene.Right:
		b.Min.X = b.Max.X - b.Dx()/3
	case ghostscene.Up:
		b.Max.Y = b.Min.Y + b.Dy()/3
	default:
		b.Min.Y = b.Max.Y - b.Dy()/3
	}
	return b
}

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
			far, orig := gradEnergy(out, farThird(s)), gradEnergy(s.Img, s.Img.Rect)
			if far < 0.5*orig {
				t.Errorf("scene %d: far third of the band is smeared: detail %.2f, original %.2f", i, far, orig)
			}
			t.Logf("scene %d: best NCC %.3f; detail far %.2f, original %.2f", i, g.NCC, far, orig)
		})
	}
}
