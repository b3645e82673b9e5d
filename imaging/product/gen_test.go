package product

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// scene is a generated product photo with its ground truth.
type scene struct {
	img  *image.NRGBA
	mask []bool // pixel centre inside the product
	box  image.Rectangle
	bg   color.NRGBA
}

type sceneOpts struct {
	noise float64 // Gaussian sigma in 8-bit levels, added to every pixel
	// frac scales the product relative to the image (0 = random 0.25..0.55).
	frac float64
	// cx, cy place the product centre in fractions (0 = random).
	cx, cy float64
}

// genProduct draws a shaded "bottle": a rounded rectangle body with an
// elliptical shoulder and a cap, anti-aliased from signed distances, on a
// plain background. Deterministic for a seed.
func genProduct(tb testing.TB, w, h int, seed uint64, o sceneOpts) scene {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bgs := []color.NRGBA{{255, 255, 255, 255}, {246, 246, 244, 255}, {232, 236, 240, 255}, {250, 240, 228, 255}, {205, 210, 200, 255}}
	bg := bgs[rng.IntN(len(bgs))]
	var base [3]float64
	for {
		hue := rng.Float64() * 6
		sat, val := 0.5+0.4*rng.Float64(), 0.35+0.35*rng.Float64()
		base = hsv(hue, sat, val)
		lo := toLabExact(uint8(base[0]*0.7*255), uint8(base[1]*0.7*255), uint8(base[2]*0.7*255))
		hi := toLabExact(uint8((base[0]*0.6+0.4)*255), uint8((base[1]*0.6+0.4)*255), uint8((base[2]*0.6+0.4)*255))
		ref := toLabExact(bg.R, bg.G, bg.B)
		if math.Sqrt(float64(deltaE2(lo, ref))) > 30 && math.Sqrt(float64(deltaE2(hi, ref))) > 30 {
			break
		}
	}
	frac := o.frac
	if frac == 0 {
		frac = 0.25 + 0.3*rng.Float64()
	}
	m := float64(min(w, h))
	bodyW, bodyH := m*frac*(0.5+0.3*rng.Float64()), m*frac
	cx, cy := o.cx, o.cy
	if cx == 0 {
		cx = 0.3 + 0.4*rng.Float64()
	}
	if cy == 0 {
		cy = 0.35 + 0.35*rng.Float64()
	}
	px, py := cx*float64(w), cy*float64(h)
	radius := bodyW * (0.1 + 0.2*rng.Float64())
	shoulder := [2]float64{bodyW * 0.45, bodyH * 0.18}
	capW, capH := bodyW*0.22, bodyH*0.12
	top := py - bodyH/2

	sdf := func(x, y float64) float64 {
		d := sdRoundRect(x-px, y-py, bodyW/2, bodyH/2, radius)
		d = min(d, sdEllipse(x-px, y-top, shoulder[0], shoulder[1]))
		d = min(d, sdRoundRect(x-px, y-(top-shoulder[1]-capH/2+2), capW/2, capH/2, capW*0.15))
		return d
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	mask := make([]bool, w*h)
	box := image.Rectangle{}
	for y := range h {
		fy := float64(y) + 0.5
		for x := range w {
			fx := float64(x) + 0.5
			d := sdf(fx, fy)
			cov := min(max(0.5-d, 0), 1)
			if d < 0 {
				mask[y*w+x] = true
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
			// Cylindrical shading across the body plus a soft highlight.
			u := (fx - px) / (bodyW / 2)
			shade := 0.7 + 0.3*math.Sqrt(max(0, 1-min(u*u, 1)))
			hl := 0.4 * math.Exp(-((u+0.45)*(u+0.45))/0.02)
			var c [3]float64
			for i := range c {
				c[i] = (base[i]*shade*(1-hl) + hl) * 255
				bgc := float64([3]uint8{bg.R, bg.G, bg.B}[i])
				c[i] = cov*c[i] + (1-cov)*bgc
				if o.noise > 0 {
					c[i] += rng.NormFloat64() * o.noise
				}
			}
			p := img.Pix[y*img.Stride+x*4:]
			p[0], p[1], p[2], p[3] = u8(c[0]), u8(c[1]), u8(c[2]), 255
		}
	}
	return scene{img: img, mask: mask, box: box, bg: bg}
}

func u8(v float64) uint8 { return uint8(min(max(math.Round(v), 0), 255)) }

func hsv(h, s, v float64) [3]float64 {
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) % 6 {
	case 0:
		return [3]float64{v, t, p}
	case 1:
		return [3]float64{q, v, p}
	case 2:
		return [3]float64{p, v, t}
	case 3:
		return [3]float64{p, q, v}
	case 4:
		return [3]float64{t, p, v}
	}
	return [3]float64{v, p, q}
}

func sdRoundRect(x, y, hw, hh, r float64) float64 {
	qx, qy := math.Abs(x)-(hw-r), math.Abs(y)-(hh-r)
	return math.Hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - r
}

// sdEllipse approximates the signed distance to an axis-aligned ellipse
// (exact on the boundary, good to a fraction of a pixel near it).
func sdEllipse(x, y, a, b float64) float64 {
	k0 := math.Hypot(x/a, y/b)
	k1 := math.Hypot(x/(a*a), y/(b*b))
	if k1 == 0 {
		return -min(a, b)
	}
	return k0 * (k0 - 1) / k1
}

// toLabExact is the reference sRGB -> Lab conversion with math.Pow/Cbrt.
func toLabExact(r, g, b uint8) labColor {
	lin := func(v uint8) float64 {
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	R, G, B := lin(r), lin(g), lin(b)
	x := (0.4124564*R + 0.3575761*G + 0.1804375*B) / 0.95047
	y := 0.2126729*R + 0.7151522*G + 0.0721750*B
	z := (0.0193339*R + 0.1191920*G + 0.9503041*B) / 1.08883
	fx, fy, fz := labF(x), labF(y), labF(z)
	return labColor{float32(116*fy - 16), float32(500 * (fx - fy)), float32(200 * (fy - fz))}
}

// maskImage renders a boolean mask as a white-on-black gray image.
func maskImage(mask []bool, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range mask {
		if v {
			g.Pix[i] = 255
		}
	}
	return g
}

// savePNG writes img under $PRODUCT_PNG_DIR when set, for eyeballing.
func savePNG(tb testing.TB, name string, img image.Image) {
	tb.Helper()
	dir := os.Getenv("PRODUCT_PNG_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img); err != nil {
		tb.Fatal(err)
	}
}
