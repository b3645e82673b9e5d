package product

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"
)

func TestToLabMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	check := func(r, g, b uint8) {
		d := math.Sqrt(float64(deltaE2(toLab(r, g, b), toLabExact(r, g, b))))
		worst = max(worst, d)
	}
	for v := range 256 {
		check(uint8(v), uint8(v), uint8(v))
		check(uint8(v), 0, 0)
		check(0, 0, uint8(v))
	}
	for range 20000 {
		check(uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)))
	}
	if worst > 0.01 {
		t.Fatalf("fast Lab differs from reference by ΔE %.4f", worst)
	}
	white := toLab(255, 255, 255)
	if math.Abs(float64(white.l)-100) > 0.01 || math.Abs(float64(white.a)) > 0.01 || math.Abs(float64(white.b)) > 0.01 {
		t.Fatalf("white = %+v, want L=100 a=b=0", white)
	}
}

func TestParseBackground(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Background
		err  bool
	}{
		{in: "transparent", want: Background{Transparent: true}},
		{in: " White ", want: Background{Color: color.NRGBA{255, 255, 255, 255}}},
		{in: "black", want: Background{Color: color.NRGBA{0, 0, 0, 255}}},
		{in: "#fff", want: Background{Color: color.NRGBA{255, 255, 255, 255}}},
		{in: "#1a2", want: Background{Color: color.NRGBA{0x11, 0xaa, 0x22, 255}}},
		{in: "#FF8000", want: Background{Color: color.NRGBA{255, 128, 0, 255}}},
		{in: "0a0b0c", want: Background{Color: color.NRGBA{10, 11, 12, 255}}},
		{in: "", err: true},
		{in: "fff", err: true},
		{in: "#ff80", err: true},
		{in: "#gggggg", err: true},
		{in: "#+12345", err: true},
		{in: "red", err: true},
		{in: "#ff800000", err: true},
	} {
		got, err := ParseBackground(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseBackground(%q) err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseBackground(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseBackground(f *testing.F) {
	for _, s := range []string{"transparent", "white", "#abc", "#a1b2c3", "a1b2c3", "#", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBackground(s)
		if err != nil {
			return
		}
		if !b.Transparent && b.Color.A != 255 {
			t.Fatalf("%q parsed to non-opaque colour %+v", s, b)
		}
		if b.IsZero() {
			t.Fatalf("%q parsed to the zero Background", s)
		}
	})
}

func TestMarginsPx(t *testing.T) {
	top, right, bottom, left, err := Margins{Top: 10, Right: 5, Bottom: 50, Left: 25, Percent: true}.px(200, 100)
	if err != nil || top != 10 || bottom != 50 || left != 50 || right != 10 {
		t.Fatalf("percent margins = %v %v %v %v, %v", top, right, bottom, left, err)
	}
	for _, m := range []Margins{
		{Top: -1},
		{Left: math.NaN()},
		{Left: 60, Right: 40},                // fills the 100 px width
		{Top: 50, Bottom: 50, Percent: true}, // fills the height
		{Top: 101, Percent: true},
	} {
		if _, _, _, _, err := m.px(100, 80); err == nil {
			t.Errorf("margins %+v accepted for 100x80", m)
		}
	}
}

func TestResizeConstantAndExactSize(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	fillRect(src, src.Rect, [4]uint8{12, 200, 99, 255})
	for _, sz := range [][2]int{{1, 1}, {5, 3}, {37, 23}, {100, 7}, {7, 100}, {300, 200}} {
		out := Resize(src, sz[0], sz[1])
		if out.Rect.Dx() != sz[0] || out.Rect.Dy() != sz[1] {
			t.Fatalf("Resize to %v gave %v", sz, out.Rect)
		}
		for i := 0; i < len(out.Pix); i += 4 {
			if p := out.Pix[i : i+4]; p[0] != 12 || p[1] != 200 || p[2] != 99 || p[3] != 255 {
				t.Fatalf("Resize to %v: pixel %d = %v, want the constant colour", sz, i/4, p)
			}
		}
	}
}

func TestResizeAreaAverage(t *testing.T) {
	// A 1-px checkerboard shrunk by an odd factor averages to mid grey
	// instead of aliasing to black or white.
	src := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	for y := range 300 {
		for x := range 300 {
			v := uint8(0)
			if (x+y)%2 == 0 {
				v = 255
			}
			copy(src.Pix[src.PixOffset(x, y):], []uint8{v, v, v, 255})
		}
	}
	out := Resize(src, 100, 100)
	for i := 0; i < len(out.Pix); i += 4 {
		if v := int(out.Pix[i]); v < 110 || v > 145 {
			t.Fatalf("pixel %d = %d, want about 128", i/4, v)
		}
	}
}

func TestResizeMatchesCatmullRom(t *testing.T) {
	// On a smooth image our resampler must agree with x/image/draw's
	// Catmull-Rom, up and down.
	src := image.NewNRGBA(image.Rect(0, 0, 240, 160))
	for y := range 160 {
		for x := range 240 {
			fx, fy := float64(x)/240, float64(y)/160
			copy(src.Pix[src.PixOffset(x, y):], []uint8{
				u8(127 + 120*math.Sin(fx*6)), u8(127 + 120*math.Cos(fy*5)), u8(255 * fx * fy), 255,
			})
		}
	}
	for _, sz := range [][2]int{{97, 61}, {500, 333}} {
		got := Resize(src, sz[0], sz[1])
		want := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		xdraw.CatmullRom.Scale(want, want.Rect, src, src.Rect, xdraw.Src, nil)
		sum := 0.0
		for i := range got.Pix {
			sum += math.Abs(float64(got.Pix[i]) - float64(want.Pix[i]))
		}
		if mad := sum / float64(len(got.Pix)); mad > 1.5 {
			t.Errorf("size %v: mean abs difference from x/image CatmullRom %.2f levels", sz, mad)
		}
	}
}

func TestResizePremultiplied(t *testing.T) {
	// Transparent red next to opaque blue must not tint the blue.
	src := image.NewNRGBA(image.Rect(0, 0, 64, 8))
	for y := range 8 {
		for x := range 64 {
			c := []uint8{255, 0, 0, 0}
			if x >= 32 {
				c = []uint8{0, 0, 255, 255}
			}
			copy(src.Pix[src.PixOffset(x, y):], c)
		}
	}
	out := Resize(src, 10, 3)
	for i := 0; i < len(out.Pix); i += 4 {
		if p := out.Pix[i : i+4]; p[3] > 0 && p[0] > 2 {
			t.Fatalf("pixel %d = %v: colour of transparent pixels bled in", i/4, p)
		}
	}
}

// boxFromRect converts crop coordinates back to input pixels.
func boxFromRect(r Rect, w, h int) [4]float64 {
	return [4]float64{r.X * float64(w), r.Y * float64(h), (r.X + r.W) * float64(w), (r.Y + r.H) * float64(h)}
}

func TestTrimAlignCropCoordinates(t *testing.T) {
	cases := []struct {
		w, h  int
		noise float64
	}{
		{480, 360, 0}, {360, 480, 0}, {400, 400, 0}, {480, 360, 2.5}, {333, 517, 2.5},
	}
	for _, tc := range cases {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%dx%d_noise%.1f_seed%d", tc.w, tc.h, tc.noise, seed), func(t *testing.T) {
				sc := genProduct(t, tc.w, tc.h, seed, sceneOpts{noise: tc.noise})
				outW, outH := 400, 300
				m := Margins{Top: 5, Right: 10, Bottom: 5, Left: 10, Percent: true}
				out, r, err := TrimAlign(sc.img, outW, outH, m, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				got := boxFromRect(r, tc.w, tc.h)
				want := [4]float64{float64(sc.box.Min.X), float64(sc.box.Min.Y), float64(sc.box.Max.X), float64(sc.box.Max.Y)}
				for i := range got {
					if math.Abs(got[i]-want[i]) > 1 {
						t.Fatalf("crop box %v px, truth %v px (edge %d off by %.2f)", got, want, i, got[i]-want[i])
					}
				}
				if out.Rect.Dx() != outW || out.Rect.Dy() != outH {
					t.Fatalf("output %v, want %dx%d", out.Rect, outW, outH)
				}
				// The subject in the output sits centred inside the margins
				// and touches them on its binding axis.
				ob, ok := subjectBox(out, detectBackground(out, 0))
				if !ok {
					t.Fatal("no subject in the output")
				}
				mT, mR, mB, mL := 15.0, 40.0, 15.0, 40.0
				if float64(ob.Min.X) < mL-1.5 || float64(ob.Max.X) > float64(outW)-mR+1.5 ||
					float64(ob.Min.Y) < mT-1.5 || float64(ob.Max.Y) > float64(outH)-mB+1.5 {
					t.Fatalf("output subject box %v violates margins", ob)
				}
				cx, cy := float64(ob.Min.X+ob.Max.X)/2, float64(ob.Min.Y+ob.Max.Y)/2
				if math.Abs(cx-float64(outW)/2) > 1.5 || math.Abs(cy-float64(outH)/2) > 1.5 {
					t.Fatalf("output subject box %v is not centred", ob)
				}
				if float64(ob.Min.Y) > mT+1.5 && float64(ob.Min.X) > mL+1.5 {
					t.Fatalf("output subject box %v does not fill the inner area", ob)
				}
				// Padding is the detected background colour.
				if p := out.NRGBAAt(0, 0); absDiff(p.R, sc.bg.R) > 8 || absDiff(p.G, sc.bg.G) > 8 || absDiff(p.B, sc.bg.B) > 8 {
					t.Fatalf("corner %v, want about the background %v", p, sc.bg)
				}
				if seed == 0 {
					savePNG(t, fmt.Sprintf("trim_%dx%d_n%.0f.png", tc.w, tc.h, tc.noise), out)
				}
			})
		}
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestTrimAlignIgnoresSpecks(t *testing.T) {
	sc := genProduct(t, 640, 480, 7, sceneOpts{})
	// Dust: isolated dark pixels and a 2x1 pair far from the product.
	for _, p := range [][2]int{{3, 3}, {630, 470}, {10, 400}, {600, 20}, {601, 20}} {
		copy(sc.img.Pix[sc.img.PixOffset(p[0], p[1]):], []uint8{0, 0, 0, 255})
	}
	_, r, err := TrimAlign(sc.img, 200, 200, Margins{}, &Background{Color: color.NRGBA{255, 0, 255, 255}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := boxFromRect(r, 640, 480)
	if math.Abs(got[0]-float64(sc.box.Min.X)) > 1 || math.Abs(got[2]-float64(sc.box.Max.X)) > 1 {
		t.Fatalf("box %v, truth %v: specks widened it", got, sc.box)
	}
}

func TestTrimAlignBackgroundChoice(t *testing.T) {
	sc := genProduct(t, 320, 240, 3, sceneOpts{})
	bg := Background{Color: color.NRGBA{255, 0, 255, 255}}
	out, _, err := TrimAlign(sc.img, 300, 100, Margins{Top: 10, Bottom: 10}, &bg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := out.NRGBAAt(0, 50); p != bg.Color {
		t.Fatalf("side padding %v, want %v", p, bg.Color)
	}
	tr := Background{Transparent: true}
	out, _, err = TrimAlign(sc.img, 300, 100, Margins{Top: 10, Bottom: 10}, &tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := out.NRGBAAt(0, 50); p.A != 0 {
		t.Fatalf("side padding %v, want transparent", p)
	}
}

func TestNoSubject(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	fillRect(img, img.Rect, [4]uint8{240, 240, 240, 255})
	if _, _, err := TrimAlign(img, 10, 10, Margins{}, nil, 0); !errors.Is(err, ErrNoSubject) {
		t.Fatalf("TrimAlign on a blank image: %v, want ErrNoSubject", err)
	}
	if _, err := RemoveBackground(img, 0); !errors.Is(err, ErrNoSubject) {
		t.Fatalf("RemoveBackground on a blank image: %v, want ErrNoSubject", err)
	}
}

func iou(alpha *image.NRGBA, truth []bool) float64 {
	inter, union := 0, 0
	for i, tv := range truth {
		a := alpha.Pix[i*4+3] >= 128
		if a && tv {
			inter++
		}
		if a || tv {
			union++
		}
	}
	return float64(inter) / float64(union)
}

func TestRemoveBackgroundIoU(t *testing.T) {
	for _, tc := range []struct {
		w, h   int
		noise  float64
		minIoU float64
	}{
		{480, 360, 0, 0.99}, {360, 480, 0, 0.99}, {640, 480, 0, 0.99}, // acceptance: 0.98
		{480, 360, 2.5, 0.99}, {480, 360, 4, 0.99},
	} {
		for seed := range uint64(4) {
			name := fmt.Sprintf("%dx%d_noise%.1f_seed%d", tc.w, tc.h, tc.noise, seed)
			t.Run(name, func(t *testing.T) {
				sc := genProduct(t, tc.w, tc.h, seed+10, sceneOpts{noise: tc.noise})
				out, err := RemoveBackground(sc.img, 0)
				if err != nil {
					t.Fatal(err)
				}
				got := iou(out, sc.mask)
				t.Logf("IoU %.4f", got)
				if got < tc.minIoU {
					t.Fatalf("alpha IoU %.4f < %.2f", got, tc.minIoU)
				}
				// Feathered: the edge has intermediate alpha, the inside and
				// the far background do not.
				soft := 0
				for i := 3; i < len(out.Pix); i += 4 {
					if a := out.Pix[i]; a > 0 && a < 255 {
						soft++
					}
				}
				if soft == 0 {
					t.Fatal("no partially transparent pixels: alpha not feathered")
				}
				c := sc.box.Min.Add(sc.box.Size().Div(2))
				if a := out.NRGBAAt(c.X, c.Y+sc.box.Dy()/4).A; a != 255 {
					t.Fatalf("alpha inside the product = %d", a)
				}
				if p := out.NRGBAAt(1, 1); p != (color.NRGBA{}) {
					t.Fatalf("corner pixel %v, want fully transparent", p)
				}
				if seed == 0 {
					savePNG(t, "rmbg_"+name+".png", out)
				}
			})
		}
	}
}

func TestRemoveBackgroundKeepsLargestComponent(t *testing.T) {
	sc := genProduct(t, 640, 480, 21, sceneOpts{cx: 0.6, cy: 0.55, frac: 0.4})
	// A separate smaller blob in the top-left corner region.
	for y := 20; y < 60; y++ {
		for x := 20; x < 60; x++ {
			copy(sc.img.Pix[sc.img.PixOffset(x, y):], []uint8{20, 30, 160, 255})
		}
	}
	out, err := RemoveBackground(sc.img, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a := out.NRGBAAt(40, 40).A; a != 0 {
		t.Fatalf("secondary blob kept (alpha %d)", a)
	}
	if got := iou(out, sc.mask); got < 0.98 {
		t.Fatalf("IoU %.4f", got)
	}
}

func TestRemoveBackgroundKeepsEnclosedHoles(t *testing.T) {
	// A ring: its inside has the background colour but is not connected to
	// the border, so it stays (what a border flood fill promises).
	img := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	fillRect(img, img.Rect, [4]uint8{255, 255, 255, 255})
	fillRect(img, image.Rect(50, 50, 150, 150), [4]uint8{200, 30, 30, 255})
	fillRect(img, image.Rect(80, 80, 120, 120), [4]uint8{255, 255, 255, 255})
	out, err := RemoveBackground(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a := out.NRGBAAt(100, 100).A; a != 255 {
		t.Fatalf("enclosed hole alpha %d, want 255", a)
	}
	if a := out.NRGBAAt(20, 100).A; a != 0 {
		t.Fatalf("outside alpha %d, want 0", a)
	}
}

func TestRemoveBackgroundTransparentInput(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	fillRect(img, image.Rect(30, 30, 70, 70), [4]uint8{0, 0, 0, 255}) // black on transparent black
	out, err := RemoveBackground(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a := out.NRGBAAt(50, 50).A; a != 255 {
		t.Fatalf("subject alpha %d", a)
	}
	if a := out.NRGBAAt(10, 10).A; a != 0 {
		t.Fatalf("background alpha %d", a)
	}
}

func TestClassifyNearCacheIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, bg := range [][3]uint8{{255, 255, 255}, {240, 238, 230}, {10, 12, 8}, {128, 64, 200}} {
		img := image.NewNRGBA(image.Rect(0, 0, 200, 100))
		fillRect(img, img.Rect, [4]uint8{bg[0], bg[1], bg[2], 255})
		for y := 1; y < 99; y++ {
			for x := 1; x < 199; x++ {
				p := img.Pix[img.PixOffset(x, y):]
				for c := range 3 {
					d := rng.IntN(41) - 20 // both inside and outside the cached cube
					if x > 150 {
						d = rng.IntN(256) - int(bg[c])
					}
					p[c] = uint8(min(max(int(bg[c])+d, 0), 255))
				}
			}
		}
		m := detectBackground(img, 7)
		got := classify(img, m)
		for i := range got {
			p := img.Pix[i*4:]
			want := uint8(0)
			if deltaE2(toLab(p[0], p[1], p[2]), m.ref) <= m.t2 {
				want = 1
			}
			if got[i] != want {
				t.Fatalf("bg %v pixel %v: classify %d, direct %d", bg, p[:3], got[i], want)
			}
		}
	}
}
