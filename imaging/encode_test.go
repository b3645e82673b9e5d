package imaging

import (
	"bytes"
	"errors"
	"hash/adler32"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"testing"
)

// noisyImage is a w x h image of random pixels over smooth ramps, so every
// filter type gets picked; alpha varies when translucent.
func noisyImage(w, h int, translucent bool, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x + rng.IntN(3)), uint8(y), uint8(x ^ y), 255}
			if (x/16+y/16)%3 == 0 {
				c = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
			}
			if translucent {
				c.A = uint8(x * y)
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func TestEncodePNGRoundTrip(t *testing.T) {
	big := noisyImage(400, 300, false, 1)     // 2 strips
	bigAlpha := noisyImage(300, 600, true, 2) // 3 strips
	cases := map[string]struct {
		img       image.Image
		colorType byte // 0: not checked (image/png path)
	}{
		"opaque, many strips":          {big, 2},
		"translucent, many strips":     {bigAlpha, 6},
		"sub-image at an offset":       {big.SubImage(image.Rect(33, 17, 390, 290)), 2},
		"one very wide row":            {noisyImage(66000, 1, false, 3), 2},
		"tall and narrow":              {noisyImage(1, 66000, true, 4), 6},
		"small goes through image/png": {noisyImage(20, 10, true, 5), 0},
		"ycbcr":                        {image.NewYCbCr(image.Rect(0, 0, 40, 30), image.YCbCrSubsampleRatio420), 0},
	}
	for name, c := range cases {
		var buf bytes.Buffer
		if err := EncodePNG(&buf, c.img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := buf.Bytes()
		if c.colorType != 0 && b[25] != c.colorType {
			t.Errorf("%s: colour type %d, want %d", name, b[25], c.colorType)
		}
		want := ToNRGBA(c.img)
		// Both the standard decoder and ours must read it back exactly.
		diffNRGBA(t, name+" (image/png)", ToNRGBA(stdDecodePNG(t, b)), want, 0)
		got, f, err := Decode(b, Limits{})
		if err != nil || f != FormatPNG {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		diffNRGBA(t, name+" (Decode)", got, want, 0)
	}
}

func TestEncodePNGDeterministic(t *testing.T) {
	img := noisyImage(300, 1000, false, 7) // 4 strips
	encode := func(procs int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var buf bytes.Buffer
		if err := EncodePNG(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	one, four := encode(1), encode(4)
	if !bytes.Equal(one, four) {
		t.Error("output depends on GOMAXPROCS")
	}
	if again := encode(4); !bytes.Equal(again, four) {
		t.Error("output differs between runs")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestEncodePNGWriteError(t *testing.T) {
	img := noisyImage(300, 600, false, 1)
	for n := range 6 {
		if err := EncodePNG(&failWriter{n: n}, img); err == nil {
			t.Errorf("failing after %d writes: no error", n)
		}
	}
}

func TestAdler32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	for _, cut := range []int{0, 1, 5552, 65521, 65522, 150_000, len(data)} {
		a, b := data[:cut], data[cut:]
		got := adler32Combine(adler32.Checksum(a), adler32.Checksum(b), int64(len(b)))
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut %d: %08x, want %08x", cut, got, want)
		}
	}
}

func TestEncodeJPEG(t *testing.T) {
	src := fixtureSource(true)
	var buf bytes.Buffer
	if err := EncodeJPEG(&buf, src, 0); err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := ToNRGBA(img)
	// Opaque left half keeps its colours; the nearly transparent right
	// edge is nearly white.
	if d := meanAbsDiff(got.SubImage(image.Rect(0, 0, 28, 48)).(*image.NRGBA), src.SubImage(image.Rect(0, 0, 28, 48)).(*image.NRGBA)); d > 12 {
		t.Errorf("opaque half: mean difference %.1f", d)
	}
	if c := got.NRGBAAt(63, 30); c.R < 220 || c.G < 220 || c.B < 220 {
		t.Errorf("translucent pixel over white = %v", c)
	}
	// An opaque NRGBA takes the shared-pixels path and round-trips too.
	var buf2 bytes.Buffer
	if err := EncodeJPEG(&buf2, fixtureSource(false), 100); err != nil {
		t.Fatal(err)
	}
	img2, err := jpeg.Decode(&buf2)
	if err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(ToNRGBA(img2), fixtureSource(false)); d > 2 {
		t.Errorf("q100: mean difference %.1f", d)
	}
}

// meanAbsDiff is the mean absolute difference per colour channel.
func meanAbsDiff(a, b *image.NRGBA) float64 {
	sum, n := 0, 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			p := a.NRGBAAt(a.Rect.Min.X+x, a.Rect.Min.Y+y)
			q := b.NRGBAAt(b.Rect.Min.X+x, b.Rect.Min.Y+y)
			sum += absDiff(p.R, q.R) + absDiff(p.G, q.G) + absDiff(p.B, q.B)
			n += 3
		}
	}
	return float64(sum) / float64(n)
}
