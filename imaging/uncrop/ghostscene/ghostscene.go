// Package ghostscene generates the scenes on which uncrop "ghosts" are
// measured, and measures them (issue 17).
//
// A scene is a textured background with one distinct object near the edge
// that is going to be extended. A ghost is a copy of the object in the new
// band: the normalised cross-correlation (NCC) between the object's
// bounding box in the original and some equally sized window lying wholly
// in the new band is above GhostNCC. The object is also compared mirrored
// across the seam, since a reflected copy is as much a ghost as a shifted
// one.
//
// Scenes are drawn from a fixed seed with a local generator, so the same
// (seed, index) gives the same scene on every run and machine.
package ghostscene

import (
	"image"
	"math"
)

// GhostNCC is the NCC above which a window of the band counts as a copy of
// the object.
const GhostNCC = 0.8

// Side names the edge being extended.
type Side int

const (
	Left Side = iota
	Right
	Up
	Down
)

func (s Side) String() string {
	return [...]string{"left", "right", "up", "down"}[s]
}

// Scene is one generated test image.
type Scene struct {
	Img    *image.NRGBA
	Side   Side
	Band   int             // pixels to add on Side
	Object image.Rectangle // the object's bounding box (with a 2 px margin), in Img coordinates
	Kind   string          // background texture and object shape, for reports
}

// Scene sizes.
const (
	W = 224
	H = 168
)

// Generate returns scene i of the set drawn from seed.
func Generate(seed uint64, i int) Scene {
	r := rng{mix(mix(seed) ^ uint64(i)*0x9e3779b97f4a7c15)}
	img := image.NewNRGBA(image.Rect(0, 0, W, H))
	tex := i % len(textures)
	base := [3]float64{60 + r.f()*120, 60 + r.f()*120, 50 + r.f()*110}
	alt := [3]float64{base[0] + (r.f()-0.5)*70, base[1] + (r.f()-0.5)*70, base[2] + (r.f()-0.5)*70}
	textures[tex].draw(img, &r, base, alt)
	side := Side((i / len(textures)) % 4)
	shape := (i / (len(textures) * 4)) % len(shapes)
	// Object: radius 9..14, its box 3..14 px from the edge being extended.
	rad := 9 + r.intn(6)
	gap := 3 + r.intn(12)
	var cx, cy int
	along := func(n int) int { return rad + 8 + r.intn(n-2*(rad+8)) }
	switch side {
	case Left:
		cx, cy = gap+rad, along(H)
	case Right:
		cx, cy = W-1-gap-rad, along(H)
	case Up:
		cx, cy = along(W), gap+rad
	case Down:
		cx, cy = along(W), H-1-gap-rad
	}
	// A colour far from the background: the complement of its mean,
	// pushed to a saturated extreme, with a contrasting inner mark.
	var col, mark [3]float64
	for k := range col {
		if base[k] > 128 {
			col[k] = 20 + r.f()*30
		} else {
			col[k] = 205 + r.f()*45
		}
		mark[k] = 255 - col[k]
	}
	shapes[shape].draw(img, cx, cy, rad, col, mark)
	obj := image.Rect(cx-rad-2, cy-rad-2, cx+rad+3, cy+rad+3).Intersect(img.Rect)
	band := W * (35 + r.intn(16)) / 100
	if side == Up || side == Down {
		band = H * (35 + r.intn(16)) / 100
	}
	return Scene{Img: img, Side: side, Band: band, Object: obj,
		Kind: textures[tex].name + "/" + shapes[shape].name}
}

// Set returns scenes 0..n-1 drawn from seed.
func Set(seed uint64, n int) []Scene {
	out := make([]Scene, n)
	for i := range out {
		out[i] = Generate(seed, i)
	}
	return out
}

// Extents returns the extension of s as (left, right, up, down).
func (s Scene) Extents() (l, r, u, d int) {
	switch s.Side {
	case Left:
		l = s.Band
	case Right:
		r = s.Band
	case Up:
		u = s.Band
	case Down:
		d = s.Band
	}
	return
}

// NewBand returns the new band's rectangle in the coordinates of the
// extended output.
func (s Scene) NewBand() image.Rectangle {
	w, h := s.Img.Rect.Dx(), s.Img.Rect.Dy()
	switch s.Side {
	case Left:
		return image.Rect(0, 0, s.Band, h)
	case Right:
		return image.Rect(w, 0, w+s.Band, h)
	case Up:
		return image.Rect(0, 0, w, s.Band)
	default:
		return image.Rect(0, h, w, h+s.Band)
	}
}

// Ghost is the best match of the object in the band.
type Ghost struct {
	NCC      float64
	At       image.Rectangle // the window, in output coordinates
	Mirrored bool            // the match is of the object mirrored across the seam
}

// IsGhost says whether g counts as a ghost.
func (g Ghost) IsGhost() bool { return g.NCC > GhostNCC }

// Measure finds the window of out's new band that best matches the object
// of s (as is, and mirrored across the seam). out is the extended image, of
// the size s.Img plus s.Band on s.Side.
func Measure(s Scene, out *image.NRGBA) Ghost {
	t := rgbOf(s.Img, s.Object)
	tw, th := s.Object.Dx(), s.Object.Dy()
	band := s.NewBand()
	b := rgbOf(out, band)
	best := Ghost{NCC: -1}
	for _, mir := range []bool{false, true} {
		tt := t
		if mir {
			tt = flip(t, tw, th, s.Side == Left || s.Side == Right)
		}
		n, at := bestNCC(tt, tw, th, b, band.Dx(), band.Dy())
		if n > best.NCC {
			best = Ghost{NCC: n, At: image.Rectangle{Min: band.Min.Add(at), Max: band.Min.Add(at).Add(image.Pt(tw, th))}, Mirrored: mir}
		}
	}
	return best
}

// rgbOf returns r of img as float RGB, row-major.
func rgbOf(img *image.NRGBA, r image.Rectangle) []float64 {
	out := make([]float64, 0, r.Dx()*r.Dy()*3)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		p := img.Pix[img.PixOffset(r.Min.X, y):]
		for x := 0; x < r.Dx(); x++ {
			out = append(out, float64(p[x*4]), float64(p[x*4+1]), float64(p[x*4+2]))
		}
	}
	return out
}

// flip mirrors a w x h RGB image horizontally (or vertically).
func flip(a []float64, w, h int, horiz bool) []float64 {
	out := make([]float64, len(a))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := x, y
			if horiz {
				sx = w - 1 - x
			} else {
				sy = h - 1 - y
			}
			copy(out[(y*w+x)*3:][:3], a[(sy*w+sx)*3:][:3])
		}
	}
	return out
}

// bestNCC slides the tw x th template t over every position of the bw x bh
// image b where it fits wholly and returns the highest NCC and its offset.
// Each channel is made zero-mean over the window on its own; a window with
// (almost) no variance scores 0.
func bestNCC(t []float64, tw, th int, b []float64, bw, bh int) (float64, image.Point) {
	if tw > bw || th > bh {
		return 0, image.Point{}
	}
	N := float64(tw * th)
	tz := make([]float64, len(t))
	var mean [3]float64
	for i := 0; i < len(t); i += 3 {
		for k := 0; k < 3; k++ {
			mean[k] += t[i+k]
		}
	}
	var tv float64
	for i := 0; i < len(t); i += 3 {
		for k := 0; k < 3; k++ {
			tz[i+k] = t[i+k] - mean[k]/N
			tv += tz[i+k] * tz[i+k]
		}
	}
	if tv < 1e-9 {
		return 0, image.Point{}
	}
	// Integral images of b and b² per channel, for window statistics.
	iw := bw + 1
	S := make([]float64, iw*(bh+1)*3)
	Q := make([]float64, iw*(bh+1)*3)
	for y := 0; y < bh; y++ {
		for x := 0; x < bw; x++ {
			for k := 0; k < 3; k++ {
				v := b[(y*bw+x)*3+k]
				o := ((y+1)*iw + x + 1) * 3
				S[o+k] = v + S[o-3+k] + S[o-iw*3+k] - S[o-iw*3-3+k]
				Q[o+k] = v*v + Q[o-3+k] + Q[o-iw*3+k] - Q[o-iw*3-3+k]
			}
		}
	}
	box := func(A []float64, x, y, k int) float64 {
		return A[((y+th)*iw+x+tw)*3+k] - A[(y*iw+x+tw)*3+k] - A[((y+th)*iw+x)*3+k] + A[(y*iw+x)*3+k]
	}
	best, at := 0.0, image.Point{}
	for y := 0; y+th <= bh; y++ {
		for x := 0; x+tw <= bw; x++ {
			var wv float64
			for k := 0; k < 3; k++ {
				s := box(S, x, y, k)
				wv += box(Q, x, y, k) - s*s/N
			}
			if wv < 1e-6*N {
				continue
			}
			var c float64
			for j := 0; j < th; j++ {
				row := b[((y+j)*bw+x)*3:][:tw*3]
				tr := tz[j*tw*3:][:tw*3]
				for i := range row {
					c += row[i] * tr[i]
				}
			}
			if n := c / math.Sqrt(tv*wv); n > best {
				best, at = n, image.Pt(x, y)
			}
		}
	}
	return best, at
}

// rng is a small deterministic generator (splitmix64).
type rng struct{ s uint64 }

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 { r.s = mix(r.s); return r.s }
func (r *rng) f() float64   { return float64(r.next()>>11) / (1 << 53) }
func (r *rng) intn(n int) int {
	return int(r.next() % uint64(max(n, 1)))
}

// FarThird is the third of the new band farthest from the original, in
// output coordinates.
func (s Scene) FarThird() image.Rectangle {
	b := s.NewBand()
	switch s.Side {
	case Left:
		b.Max.X = b.Min.X + b.Dx()/3
	case Right:
		b.Min.X = b.Max.X - b.Dx()/3
	case Up:
		b.Max.Y = b.Min.Y + b.Dy()/3
	default:
		b.Min.Y = b.Max.Y - b.Dy()/3
	}
	return b
}

// Detail is the mean absolute luma (BT.601) difference between
// horizontally and vertically adjacent pixels of r in img: how much texture
// it has. A smeared band has less detail than the original.
func Detail(img *image.NRGBA, r image.Rectangle) float64 {
	l := func(x, y int) float64 {
		p := img.Pix[img.PixOffset(x, y):]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var s float64
	var n int
	for y := r.Min.Y; y < r.Max.Y-1; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			a := l(x, y)
			s += math.Abs(l(x+1, y)-a) + math.Abs(l(x, y+1)-a)
			n += 2
		}
	}
	return s / float64(max(n, 1))
}

// FarDetail is the detail of the far third of out's new band relative to
// the original's: about 1 when the texture carries on, lower when smeared.
func FarDetail(s Scene, out *image.NRGBA) float64 {
	return Detail(out, s.FarThird()) / math.Max(Detail(s.Img, s.Img.Rect), 1e-9)
}
