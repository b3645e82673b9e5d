package ghostscene

import (
	"image"
	"image/draw"
	"testing"
)

// extendWith returns s's image extended by its band, the band filled from
// fill (an image of at least the band's size, read from its origin).
func extendWith(s Scene, fill *image.NRGBA) *image.NRGBA {
	l, r, u, d := s.Extents()
	out := image.NewNRGBA(image.Rect(0, 0, W+l+r, H+u+d))
	band := s.NewBand()
	draw.Draw(out, band, fill, image.Point{}, draw.Src)
	draw.Draw(out, s.Img.Rect.Add(image.Pt(l, u)), s.Img, image.Point{}, draw.Src)
	return out
}

// TestMeasureFindsCopies pastes the object into a band of plain texture,
// as is and mirrored across the seam, and checks that Measure finds it
// where it was put; the texture alone is no ghost.
func TestMeasureFindsCopies(t *testing.T) {
	for _, i := range []int{4, 8, 49} { // right/disc, up/disc, left/kite (asymmetric)
		s := Generate(17, i)
		// Texture only: the half of the scene away from its object.
		plain := image.NewNRGBA(image.Rect(0, 0, W, H))
		band := s.NewBand()
		from := image.Point{}
		switch s.Side {
		case Left:
			from.X = W - band.Dx()
		case Up:
			from.Y = H - band.Dy()
		}
		draw.Draw(plain, plain.Rect, s.Img, from, draw.Src)
		if g := Measure(s, extendWith(s, plain)); g.IsGhost() {
			t.Errorf("scene %d: texture alone counted as a ghost: NCC %.3f at %v", i, g.NCC, g.At)
		}
		for _, mirror := range []bool{false, true} {
			fill := image.NewNRGBA(plain.Rect)
			draw.Draw(fill, fill.Rect, plain, image.Point{}, draw.Src)
			at := image.Pt(10, 12)
			o := s.Object
			for y := 0; y < o.Dy(); y++ {
				for x := 0; x < o.Dx(); x++ {
					sx, sy := x, y
					if mirror {
						if s.Side == Left || s.Side == Right {
							sx = o.Dx() - 1 - x
						} else {
							sy = o.Dy() - 1 - y
						}
					}
					copy(fill.Pix[fill.PixOffset(at.X+x, at.Y+y):][:4], s.Img.Pix[s.Img.PixOffset(o.Min.X+sx, o.Min.Y+sy):][:4])
				}
			}
			g := Measure(s, extendWith(s, fill))
			want := image.Rectangle{Min: at, Max: at.Add(o.Size())}.Add(s.NewBand().Min)
			if !g.IsGhost() || g.At != want || g.NCC < 0.999 {
				t.Errorf("scene %d mirror=%v: got NCC %.3f at %v (mirrored %v), want a ghost at %v", i, mirror, g.NCC, g.At, g.Mirrored, want)
			}
		}
	}
}

// TestGenerateIsDeterministic: the same seed and index give the same scene.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(17, 3), Generate(17, 3)
	if string(a.Img.Pix) != string(b.Img.Pix) || a.Object != b.Object || a.Band != b.Band {
		t.Fatal("Generate(17, 3) differs between calls")
	}
	if c := Generate(18, 3); string(c.Img.Pix) == string(a.Img.Pix) {
		t.Fatal("seeds 17 and 18 give the same scene")
	}
}
