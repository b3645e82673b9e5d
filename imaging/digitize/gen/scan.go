package gen

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// Scan is the look of a scanned or photographed page (issue 17): a small
// rotation, a downscale, blur, sensor noise, JPEG and grey paper.
type Scan struct {
	SkewDeg     float64 `json:"skew_deg"`     // rotation, counter-clockwise positive
	Scale       float64 `json:"scale"`        // resample factor
	Blur        float64 `json:"blur"`         // Gaussian sigma in pixels, 0 = none
	Noise       float64 `json:"noise"`        // Gaussian noise sigma in grey levels
	JPEGQuality int     `json:"jpeg_quality"` // 0 = PNG
	Paper       uint8   `json:"paper"`        // paper grey level, 255 = white
}

// RandomScan draws the degradations of issue 17 from rng: skew within ±2°,
// scale 0.6–0.9, blur sigma 0.3–0.8 (most pages), noise sigma 2–7, JPEG
// quality 50–80 and, on about two pages in three, paper between grey 212
// and 242.
func RandomScan(rng *rand.Rand) Scan {
	sc := Scan{Paper: 255}
	sc.SkewDeg = math.Round((rng.Float64()*4-2)*100) / 100
	sc.Scale = math.Round((0.6+rng.Float64()*0.3)*100) / 100
	if rng.Float64() < 0.7 {
		sc.Blur = math.Round((0.3+rng.Float64()*0.5)*100) / 100
	}
	sc.Noise = math.Round((2+rng.Float64()*5)*10) / 10
	sc.JPEGQuality = 50 + rng.IntN(31)
	if rng.Float64() < 0.65 {
		sc.Paper = uint8(212 + rng.IntN(31))
	}
	return sc
}

// Apply degrades img as sc describes, with noise drawn from seed. It
// returns the degraded image and a function mapping a box of img (x, y, w,
// h in fractions of img) to the box in the result: the centre follows the
// rotation, the size keeps its pixel extent (an upright box around the
// rotated cell's centre, so that neighbouring cells do not overlap).
func (sc Scan) Apply(img image.Image, seed uint64) (image.Image, func([4]float64) [4]float64) {
	b := img.Bounds()
	W, H := float64(b.Dx()), float64(b.Dy())
	paper := float64(sc.Paper)
	if sc.Paper == 0 {
		paper = 255
	}
	// Paper: white becomes the paper grey, ink stays dark (multiply).
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			o := src.PixOffset(x, y)
			src.Pix[o] = uint8(float64(r>>8) * paper / 255)
			src.Pix[o+1] = uint8(float64(g>>8) * paper / 255)
			src.Pix[o+2] = uint8(float64(bl>>8) * paper / 255)
			src.Pix[o+3] = 255
		}
	}
	// Rotation about the centre onto a canvas that holds the whole page.
	th := sc.SkewDeg * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	NW := math.Ceil(W*math.Abs(cos) + H*math.Abs(sin))
	NH := math.Ceil(W*math.Abs(sin) + H*math.Abs(cos))
	rot := image.NewRGBA(image.Rect(0, 0, int(NW), int(NH)))
	cx, cy, ncx, ncy := W/2, H/2, NW/2, NH/2
	pv := uint8(paper)
	for y := 0; y < int(NH); y++ {
		for x := 0; x < int(NW); x++ {
			// Inverse map: destination (x, y) to source.
			dx, dy := float64(x)+0.5-ncx, float64(y)+0.5-ncy
			sx := cos*dx - sin*dy + cx - 0.5
			sy := sin*dx + cos*dy + cy - 0.5
			o := rot.PixOffset(x, y)
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			for c := 0; c < 3; c++ {
				at := func(xx, yy int) float64 {
					if xx < 0 || yy < 0 || xx >= b.Dx() || yy >= b.Dy() {
						return float64(pv)
					}
					return float64(src.Pix[src.PixOffset(xx, yy)+c])
				}
				v := at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
				rot.Pix[o+c] = uint8(math.Round(v))
			}
			rot.Pix[o+3] = 255
		}
	}
	var out image.Image = rot
	if sc.Scale != 0 && sc.Scale != 1 {
		out = resize(out, sc.Scale)
	}
	if sc.Blur > 0 {
		out = gaussianBlur(out, sc.Blur)
	}
	if sc.Noise > 0 {
		rng := rand.New(rand.NewPCG(seed, 0x5ca9))
		ob := out.Bounds()
		n := image.NewRGBA(image.Rect(0, 0, ob.Dx(), ob.Dy()))
		for y := 0; y < ob.Dy(); y++ {
			for x := 0; x < ob.Dx(); x++ {
				c := color.RGBAModel.Convert(out.At(ob.Min.X+x, ob.Min.Y+y)).(color.RGBA)
				d := rng.NormFloat64() * sc.Noise // one luminance noise for all channels
				o := n.PixOffset(x, y)
				n.Pix[o] = clamp8(float64(c.R) + d)
				n.Pix[o+1] = clamp8(float64(c.G) + d)
				n.Pix[o+2] = clamp8(float64(c.B) + d)
				n.Pix[o+3] = 255
			}
		}
		out = n
	}
	mapBox := func(bb [4]float64) [4]float64 {
		px, py := (bb[0]+bb[2]/2)*W, (bb[1]+bb[3]/2)*H
		dx, dy := px-cx, py-cy
		// Forward rotation (the inverse of the sampling above).
		nx := cos*dx + sin*dy + ncx
		ny := -sin*dx + cos*dy + ncy
		w, h := bb[2]*W, bb[3]*H
		return [4]float64{(nx - w/2) / NW, (ny - h/2) / NH, w / NW, h / NH}
	}
	return out, mapBox
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// GenerateScanned renders the table of seed in style with no degradation,
// then degrades it with RandomScan drawn from the same seed. The truth's
// boxes follow the page (Scan.Apply).
func GenerateScanned(seed uint64, style Style, fams []Family) (*Sample, error) {
	s, err := Generate(seed, style, Options{Families: fams, Degrade: &Degrade{Scale: 1}})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x17))
	sc := RandomScan(rng)
	img, mapBox := sc.Apply(s.Image, seed)
	s.Image = img
	s.Scan = &sc
	s.Degrade = Degrade{Scale: sc.Scale, Blur: sc.Blur, JPEGQuality: sc.JPEGQuality}
	for i := range s.Truth.Cells {
		s.Truth.Cells[i].BBox = mapBox(s.Truth.Cells[i].BBox)
	}
	return s, nil
}
