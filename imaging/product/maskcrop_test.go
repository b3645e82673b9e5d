package product

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
)

var magenta = Background{Color: color.NRGBA{255, 0, 255, 255}}

// maskAsNRGBA renders the mask as an opaque white-on-black NRGBA image so it
// can be pushed through MaskCrop like a photo.
func maskAsNRGBA(mask []bool, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fillRect(img, img.Rect, [4]uint8{0, 0, 0, 255})
	for i, v := range mask {
		if v {
			copy(img.Pix[i*4:], []uint8{255, 255, 255, 255})
		}
	}
	return img
}

func TestMaskCropKeepsMaskInside(t *testing.T) {
	sizes := [][2]int{
		{200, 200}, {320, 180}, {180, 320}, {728, 90}, {90, 728}, {400, 100},
		{485, 125}, {1000, 25}, {25, 1000}, {160, 600}, {600, 314}, {37, 41},
	}
	margins := []Margins{
		{},
		{Top: 10, Right: 10, Bottom: 10, Left: 10},
		{Top: 5, Right: 2, Bottom: 15, Left: 8, Percent: true},
	}
	scenes := []struct {
		w, h int
		seed uint64
		o    sceneOpts
	}{
		{640, 480, 1, sceneOpts{}},
		{480, 640, 2, sceneOpts{noise: 2}},
		{800, 400, 3, sceneOpts{cx: 0.2, cy: 0.5}},             // off-centre: window gets clamped
		{500, 500, 4, sceneOpts{frac: 0.9, cx: 0.5, cy: 0.52}}, // big product: pads more often
	}
	padded := 0
	for _, scn := range scenes {
		sc := genProduct(t, scn.w, scn.h, scn.seed, scn.o)
		maskImg := maskImage(sc.mask, scn.w, scn.h)
		maskPhoto := maskAsNRGBA(sc.mask, scn.w, scn.h)
		for _, sz := range sizes {
			for mi, m := range margins {
				name := fmt.Sprintf("scene%d_%dx%d_m%d", scn.seed, sz[0], sz[1], mi)
				t.Run(name, func(t *testing.T) {
					out, r, err := MaskCrop(sc.img, maskImg, sz[0], sz[1], m, magenta)
					if err != nil {
						t.Fatal(err)
					}
					if out.Rect != image.Rect(0, 0, sz[0], sz[1]) {
						t.Fatalf("output %v, want %dx%d", out.Rect, sz[0], sz[1])
					}
					// The mask's bounding box lies inside the crop rect.
					b := boxFromRect(r, scn.w, scn.h)
					const eps = 1e-6
					if b[0] > float64(sc.box.Min.X)+eps || b[1] > float64(sc.box.Min.Y)+eps ||
						b[2] < float64(sc.box.Max.X)-eps || b[3] < float64(sc.box.Max.Y)-eps {
						t.Fatalf("crop %v px does not hold the mask box %v", b, sc.box)
					}
					if b[0] < -eps || b[1] < -eps || b[2] > float64(scn.w)+eps || b[3] > float64(scn.h)+eps {
						t.Fatalf("crop %v px leaves the %dx%d image", b, scn.w, scn.h)
					}
					pad := hasColor(out, magenta.Color)
					aspectIn := (b[2] - b[0]) / (b[3] - b[1])
					aspectOut := float64(sz[0]) / float64(sz[1])
					if !pad && math.Abs(aspectIn/aspectOut-1) > 1e-6 {
						t.Fatalf("unpadded crop aspect %.6f, output aspect %.6f", aspectIn, aspectOut)
					}
					if pad {
						padded++
					} else {
						// Exact geometry: the mask box mapped into the
						// output respects the margins.
						s := float64(sz[0]) / (b[2] - b[0])
						mT, mR, mB, mL, _ := m.px(sz[0], sz[1])
						if (float64(sc.box.Min.X)-b[0])*s < mL-1e-6 || (float64(sc.box.Min.Y)-b[1])*s < mT-1e-6 ||
							(b[2]-float64(sc.box.Max.X))*s < mR-1e-6 || (b[3]-float64(sc.box.Max.Y))*s < mB-1e-6 {
							t.Fatalf("mask box %v in crop %v px breaks margins %+v", sc.box, b, m)
						}
					}
					// Push the mask itself through the same crop: its white
					// pixels must all arrive, inside the margins.
					mo, mr, err := MaskCrop(maskPhoto, maskImg, sz[0], sz[1], m, Background{Color: color.NRGBA{0, 0, 0, 255}})
					if err != nil {
						t.Fatal(err)
					}
					if mr != r {
						t.Fatalf("same mask, different crop: %+v vs %+v", mr, r)
					}
					mT, mR, mB, mL, _ := m.px(sz[0], sz[1])
					ob, mass := whiteBox(mo)
					if ob.Empty() {
						t.Fatal("mask vanished from the output")
					}
					const tol = 1.01 // resampling may spread an edge by a pixel
					if float64(ob.Min.X) < mL-tol || float64(ob.Min.Y) < mT-tol ||
						float64(ob.Max.X) > float64(sz[0])-mR+tol || float64(ob.Max.Y) > float64(sz[1])-mB+tol {
						t.Fatalf("mask in output at %v, margins T%.1f R%.1f B%.1f L%.1f of %v", ob, mT, mR, mB, mL, sz)
					}
					// Area check: the mask mass scales with the area ratio
					// of the used region, so nothing was cut off.
					sx := float64(ob.Dx()) / float64(sc.box.Dx())
					sy := float64(ob.Dy()) / float64(sc.box.Dy())
					want := float64(countTrue(sc.mask)) * sx * sy
					if ob.Dx() > 20 && ob.Dy() > 20 && math.Abs(mass/want-1) > 0.1 {
						t.Fatalf("mask mass in output %.0f, want about %.0f", mass, want)
					}
					if scn.seed == 1 && mi == 1 {
						savePNG(t, "maskcrop_"+name+".png", out)
					}
				})
			}
		}
	}
	if padded == 0 {
		t.Fatal("no case took the pad path")
	}
	t.Logf("%d padded outputs", padded)
}

func hasColor(img *image.NRGBA, c color.NRGBA) bool {
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B && img.Pix[i+3] == c.A {
			return true
		}
	}
	return false
}

// whiteBox returns the bounding box of the mostly-white pixels (> 100; an
// upscaled edge rings faintly beyond itself) and the summed brightness in
// pixel units.
func whiteBox(img *image.NRGBA) (image.Rectangle, float64) {
	x0, y0, x1, y1 := img.Rect.Dx(), img.Rect.Dy(), 0, 0
	sum := 0
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+img.Rect.Dx()*4]
		for x := 0; x < len(row); x += 4 {
			v := row[x]
			sum += int(v)
			if v > 100 {
				x0, y0 = min(x0, x/4), min(y0, y)
				x1, y1 = max(x1, x/4+1), max(y1, y+1)
			}
		}
	}
	if x1 == 0 {
		return image.Rectangle{}, float64(sum) / 255
	}
	return image.Rect(x0, y0, x1, y1), float64(sum) / 255
}

func countTrue(m []bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func TestMaskCropCentresOnCentroid(t *testing.T) {
	sc := genProduct(t, 800, 600, 5, sceneOpts{frac: 0.3, cx: 0.5, cy: 0.5})
	maskImg := maskImage(sc.mask, 800, 600)
	var sx, sy float64
	n := 0
	for i, v := range sc.mask {
		if v {
			sx += float64(i%800) + 0.5
			sy += float64(i/800) + 0.5
			n++
		}
	}
	cx, cy := sx/float64(n), sy/float64(n)
	m := Margins{Top: 20, Right: 20, Bottom: 20, Left: 20}
	for _, sz := range [][2]int{{400, 400}, {300, 200}, {200, 300}} {
		_, r, err := MaskCrop(sc.img, maskImg, sz[0], sz[1], m, magenta)
		if err != nil {
			t.Fatal(err)
		}
		b := boxFromRect(r, 800, 600)
		if gx, gy := (b[0]+b[2])/2, (b[1]+b[3])/2; math.Abs(gx-cx) > 0.01 || math.Abs(gy-cy) > 0.01 {
			t.Fatalf("%v: window centre (%.2f,%.2f), centroid (%.2f,%.2f)", sz, gx, gy, cx, cy)
		}
		// Tightest: on one axis the margin is exactly met.
		s := float64(sz[0]) / (b[2] - b[0])
		gaps := []float64{
			(float64(sc.box.Min.X) - b[0]) * s, (b[2] - float64(sc.box.Max.X)) * s,
			(float64(sc.box.Min.Y) - b[1]) * s, (b[3] - float64(sc.box.Max.Y)) * s,
		}
		tight := false
		for _, g := range gaps {
			if g < 20-1e-6 {
				t.Fatalf("%v: margin %.3f px < 20", sz, g)
			}
			if g < 20+1e-6 {
				tight = true
			}
		}
		if !tight {
			t.Fatalf("%v: no margin is binding (%v): window not the tightest", sz, gaps)
		}
	}
}

func TestMaskCropPadsExtremeAspect(t *testing.T) {
	// A tall product in a very wide banner: no window of that aspect inside
	// the image holds it, so the image is scaled down and padded.
	sc := genProduct(t, 400, 600, 8, sceneOpts{frac: 0.8, cx: 0.5, cy: 0.5})
	maskImg := maskImage(sc.mask, 400, 600)
	out, r, err := MaskCrop(sc.img, maskImg, 2000, 100, Margins{Top: 5, Bottom: 5}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	if r.X != 0 || r.W != 1 {
		t.Fatalf("crop %+v: want the full width used", r)
	}
	if out.NRGBAAt(0, 50) != magenta.Color || out.NRGBAAt(1999, 50) != magenta.Color {
		t.Fatalf("banner ends %v %v, want the background", out.NRGBAAt(0, 50), out.NRGBAAt(1999, 50))
	}
	savePNG(t, "maskcrop_pad_2000x100.png", out)

	// Transparent padding.
	out, _, err = MaskCrop(sc.img, maskImg, 2000, 100, Margins{}, Background{Transparent: true})
	if err != nil {
		t.Fatal(err)
	}
	if a := out.NRGBAAt(0, 50).A; a != 0 {
		t.Fatalf("padding alpha %d, want 0", a)
	}
}

func TestMaskCropEdgeMarginPads(t *testing.T) {
	// The product touches the left edge but a left margin is required: only
	// padding can provide it.
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	fillRect(img, img.Rect, [4]uint8{250, 250, 250, 255})
	fillRect(img, image.Rect(0, 100, 100, 200), [4]uint8{10, 80, 200, 255})
	mask := image.NewGray(img.Rect)
	for y := 100; y < 200; y++ {
		for x := range 100 {
			mask.Pix[mask.PixOffset(x, y)] = 255
		}
	}
	out, r, err := MaskCrop(img, mask, 300, 300, Margins{Left: 30, Top: 10, Right: 10, Bottom: 10}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	if r.X != 0 {
		t.Fatalf("crop %+v should start at the left edge", r)
	}
	for y := range 300 {
		for x := range 29 {
			if out.NRGBAAt(x, y) != magenta.Color {
				t.Fatalf("pixel (%d,%d) = %v, want padding", x, y, out.NRGBAAt(x, y))
			}
		}
	}
	if c := out.NRGBAAt(35, 150); c.B < 150 {
		t.Fatalf("product not right of the margin: %v", c)
	}
}

func TestMaskCropScaledMask(t *testing.T) {
	sc := genProduct(t, 800, 600, 9, sceneOpts{})
	full := maskImage(sc.mask, 800, 600)
	half := image.NewGray(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			if full.GrayAt(2*x, 2*y).Y > 0 || full.GrayAt(2*x+1, 2*y+1).Y > 0 {
				half.Pix[half.PixOffset(x, y)] = 255
			}
		}
	}
	_, r1, err := MaskCrop(sc.img, full, 500, 300, Margins{}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := MaskCrop(sc.img, half, 500, 300, Margins{}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r1.X-r2.X) > 0.01 || math.Abs(r1.Y-r2.Y) > 0.01 || math.Abs(r1.W-r2.W) > 0.01 {
		t.Fatalf("half-size mask crop %+v, full-size %+v", r2, r1)
	}
}

func TestMaskCropMaskTypes(t *testing.T) {
	// The same mask as Gray, NRGBA (with alpha), RGBA, Paletted and YCbCr
	// must give the same crop.
	sc := genProduct(t, 320, 240, 12, sceneOpts{})
	gray := maskImage(sc.mask, 320, 240)
	nrgba := image.NewNRGBA(gray.Rect)
	rgba := image.NewRGBA(gray.Rect)
	pal := image.NewPaletted(gray.Rect, color.Palette{color.Black, color.White})
	ycc := image.NewYCbCr(gray.Rect, image.YCbCrSubsampleRatio420)
	for i, v := range sc.mask {
		x, y := i%320, i/320
		if v {
			nrgba.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			rgba.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
			pal.SetColorIndex(x, y, 1)
			ycc.Y[ycc.YOffset(x, y)] = 255
		} else {
			nrgba.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 0}) // white but transparent: not kept
		}
	}
	_, want, err := MaskCrop(sc.img, gray, 200, 100, Margins{}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]image.Image{"nrgba": nrgba, "rgba": rgba, "paletted": pal, "ycbcr": ycc, "gray16": toGray16(gray)} {
		_, got, err := MaskCrop(sc.img, m, 200, 100, Margins{}, magenta)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s mask: crop %+v, want %+v", name, got, want)
		}
	}
}

func toGray16(g *image.Gray) *image.Gray16 {
	out := image.NewGray16(g.Rect)
	for i, v := range g.Pix {
		out.SetGray16(i%g.Rect.Dx(), i/g.Rect.Dx(), color.Gray16{uint16(v) * 257})
	}
	return out
}

func TestMaskCropErrors(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 80))
	blank := image.NewGray(img.Rect)
	if _, _, err := MaskCrop(img, blank, 50, 50, Margins{}, magenta); !errors.Is(err, ErrEmptyMask) {
		t.Errorf("blank mask: %v, want ErrEmptyMask", err)
	}
	some := image.NewGray(img.Rect)
	some.Pix[500] = 255
	for name, call := range map[string]func() error{
		"nil image": func() error { _, _, err := MaskCrop(nil, some, 10, 10, Margins{}, magenta); return err },
		"nil mask":  func() error { _, _, err := MaskCrop(img, nil, 10, 10, Margins{}, magenta); return err },
		"zero size": func() error { _, _, err := MaskCrop(img, some, 0, 10, Margins{}, magenta); return err },
		"huge size": func() error { _, _, err := MaskCrop(img, some, MaxOutputSide+1, 10, Margins{}, magenta); return err },
		"big margins": func() error {
			_, _, err := MaskCrop(img, some, 10, 10, Margins{Left: 5, Right: 5}, magenta)
			return err
		},
		"mask aspect": func() error {
			_, _, err := MaskCrop(img, image.NewGray(image.Rect(0, 0, 100, 100)), 10, 10, Margins{}, magenta)
			return err
		},
		"trim no size": func() error { _, _, err := TrimAlign(img, 10, -1, Margins{}, nil, 0); return err },
		"rmbg nil":     func() error { _, err := RemoveBackground(nil, 0); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := MaskCrop(img, some, 10, 10, Margins{Left: 4, Right: 4}, magenta); err != nil {
		t.Errorf("single-pixel mask with margins: %v", err)
	}
}
