package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/webp"
)

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Format
	}{
		{"png", "\x89PNG\r\n\x1a\nrest", FormatPNG},
		{"jpeg", "\xff\xd8\xff\xe0", FormatJPEG},
		{"gif87", "GIF87a...", FormatGIF},
		{"gif89", "GIF89a...", FormatGIF},
		{"webp", "RIFF\x00\x00\x00\x00WEBPVP8 ", FormatWebP},
		{"svg bare", `<svg xmlns="http://www.w3.org/2000/svg"/>`, FormatSVG},
		{"svg prolog", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\" [<!ENTITY a \"b>\">]>\n  <svg>", FormatSVG},
		{"svg tab", "<svg\twidth='1'>", FormatSVG},
	}
	for _, c := range cases {
		got, err := Sniff([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: Sniff = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"", "\x89PNG", "GIF88a", "RIFF\x00\x00\x00\x00WAVE", "<html><svg>", "<svgx>", "<svg",
		"<!-- unterminated <svg>", "<?xml <svg>", "BM\x00\x00", "%PDF-1.7", "II*\x00",
		"<!DOCTYPE [", " <SVG>", "<!-- a --><html>" + strings.Repeat("x", 10),
	} {
		if f, err := Sniff([]byte(bad)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Sniff(%q) = %q, %v; want ErrUnsupported", bad, f, err)
		}
	}
}

func TestFormatMIMEType(t *testing.T) {
	for f, want := range map[Format]string{FormatPNG: "image/png", FormatJPEG: "image/jpeg", FormatGIF: "image/gif",
		FormatWebP: "image/webp", FormatSVG: "image/svg+xml", "bmp": "application/octet-stream"} {
		if got := f.MIMEType(); got != want {
			t.Errorf("%s.MIMEType() = %q, want %q", f, got, want)
		}
	}
	if FormatSVG.IsRaster() || !FormatWebP.IsRaster() {
		t.Error("IsRaster")
	}
}

func TestSVGSize(t *testing.T) {
	cases := []struct {
		svg  string
		w, h int
	}{
		{`<svg width="640" height="480">`, 640, 480},
		{`<svg width="640px" height=' 480px '/>`, 640, 480},
		{`<svg width="2in" height="1in">`, 192, 96},
		{`<svg width="10mm" height="72pt">`, 38, 96},
		{`<svg viewBox="0 0 800 600">`, 800, 600},
		{`<svg viewBox="-5,-5, 100,50">`, 100, 50},
		{`<svg width="400" viewBox="0 0 800 600">`, 400, 300},
		{`<svg height="300" viewBox="0 0 800 600">`, 400, 300},
		{`<svg width="100%" height="100%" viewBox="0 0 20 10">`, 20, 10},
		{`<svg width="100%" height="100%">`, 300, 150},
		{`<svg xmlns="http://www.w3.org/2000/svg">`, 300, 150},
		{`<svg width="500">`, 500, 150},
		{`<svg width="1e300" height="0x10">`, 1 << 20, 150},
		{`<svg width="-4" height="nan" viewBox="0 0 0 10">`, 300, 150},
		{"<?xml version='1.0'?><!-- c --><svg\n  height=\"50\"\n  width=\"70\"\n>", 70, 50},
		{`<svg width="3em" height="12">`, 300, 12},
	}
	for _, c := range cases {
		f, w, h, err := Inspect([]byte(c.svg), Limits{MaxPixels: 1})
		if err != nil || f != FormatSVG || w != c.w || h != c.h {
			t.Errorf("Inspect(%q) = %q %dx%d %v; want svg %dx%d", c.svg, f, w, h, err, c.w, c.h)
		}
	}
	_, _, err := Decode([]byte(`<svg width="10" height="10"/>`), Limits{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "svg cannot be decoded to pixels") {
		t.Errorf("Decode(svg) error = %v", err)
	}
}

// nrgbaReference converts a standard-library decode result pixel by pixel:
// the definition the fast paths must match. That is color.NRGBAModel, except
// for colours that are not alpha-premultiplied, where the model would round
// through premultiplied 16-bit values: NRGBA64 keeps the high bytes and
// NYCbCrA converts its Y'CbCr and keeps its alpha.
func nrgbaReference(img image.Image) *image.NRGBA {
	b := img.Bounds()
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var n color.NRGBA
			switch c := img.At(x, y).(type) {
			case color.NRGBA64:
				n = color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
			case color.NYCbCrA:
				r, g, bl := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				n = color.NRGBA{r, g, bl, c.A}
			default:
				n = color.NRGBAModel.Convert(c).(color.NRGBA)
			}
			dst.SetNRGBA(x, y, n)
		}
	}
	return dst
}

func stdDecode(tb testing.TB, f Format, b []byte) image.Image {
	tb.Helper()
	r := bytes.NewReader(b)
	var img image.Image
	var err error
	switch f {
	case FormatPNG:
		img, err = png.Decode(r)
	case FormatJPEG:
		img, err = jpeg.Decode(r)
	case FormatGIF:
		img, err = gif.Decode(r)
	case FormatWebP:
		img, err = webp.Decode(r)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func diffNRGBA(tb testing.TB, name string, got, want *image.NRGBA, tol int) {
	tb.Helper()
	if got.Rect.Size() != want.Rect.Size() {
		tb.Fatalf("%s: size %v, want %v", name, got.Rect.Size(), want.Rect.Size())
	}
	bad := 0
	for y := 0; y < want.Rect.Dy(); y++ {
		for x := 0; x < want.Rect.Dx(); x++ {
			g := got.NRGBAAt(got.Rect.Min.X+x, got.Rect.Min.Y+y)
			w := want.NRGBAAt(want.Rect.Min.X+x, want.Rect.Min.Y+y)
			if absDiff(g.R, w.R) > tol || absDiff(g.G, w.G) > tol || absDiff(g.B, w.B) > tol || absDiff(g.A, w.A) > tol {
				if bad < 3 {
					tb.Errorf("%s: pixel (%d,%d) = %v, want %v (tol %d)", name, x, y, g, w, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		tb.Errorf("%s: %d pixels differ", name, bad)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestDecodeFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			b := readFixture(t, fx.file)
			f, w, h, err := Inspect(b, Limits{})
			if err != nil || f != fx.format || w != fx.w || h != fx.h {
				t.Fatalf("Inspect = %q %dx%d %v; want %q %dx%d", f, w, h, err, fx.format, fx.w, fx.h)
			}
			got, f2, err := Decode(b, Limits{})
			if err != nil || f2 != fx.format {
				t.Fatalf("Decode = %q, %v", f2, err)
			}
			if got.Rect != image.Rect(0, 0, fx.w, fx.h) {
				t.Fatalf("Decode bounds %v", got.Rect)
			}
			// Exactly what the standard decoders produce, through NRGBAModel.
			diffNRGBA(t, "vs stdlib", got, nrgbaReference(stdDecode(t, fx.format, b)), 0)
			// And close to what was drawn.
			if fx.tol >= 0 {
				diffNRGBA(t, "vs source", got, fixtureSource(fx.alpha), fx.tol)
			}
		})
	}
}

// TestDecodeFastPNG checks which PNGs take the pipelined decoder, and that
// it matches image/png on them, the heavy page included.
func TestDecodeFastPNG(t *testing.T) {
	for name, wantFast := range map[string]bool{
		"src-rgb.png": true, "src-rgba.png": true, "rgb-vips.png": true, "gray.png": true,
		"gray-alpha.png": true, "palette.png": true, "palette-trns.png": true,
		"interlaced.png": false, "rgb16.png": false, "rgba16.png": false,
	} {
		b := readFixture(t, name)
		img, ok := decodePNGFast(b)
		if ok != wantFast {
			t.Errorf("%s: fast path taken = %v, want %v", name, ok, wantFast)
		}
		if ok {
			diffNRGBA(t, name, img, nrgbaReference(stdDecodePNG(t, b)), 0)
		}
	}
	if raceEnabled {
		// 10 MP compared twice takes ~15 s under -race: plain go test and
		// TestAccuracyFastPNG (make test's accuracy step) cover the page.
		return
	}
	page := heavyPagePNG(t)
	img, ok := decodePNGFast(page)
	if !ok {
		t.Fatal("heavy page not decoded by the fast path")
	}
	want := ToNRGBA(stdDecodePNG(t, page))
	if !bytes.Equal(img.Pix, want.Pix) {
		t.Error("heavy page: fast decode differs from image/png")
	}
}

func TestToNRGBAMatchesModel(t *testing.T) {
	src := fixtureSource(true)
	rgba := image.NewRGBA(src.Rect)
	for y := range 48 {
		for x := range 64 {
			rgba.Set(x, y, src.At(x, y))
		}
	}
	gray16 := image.NewGray16(src.Rect)
	nrgba64 := image.NewNRGBA64(src.Rect)
	cmyk := image.NewCMYK(src.Rect)
	pal := image.NewPaletted(src.Rect, color.Palette{color.NRGBA{1, 2, 3, 4}, color.RGBA{50, 60, 70, 80}, color.Gray{9}})
	for y := range 48 {
		for x := range 64 {
			gray16.Set(x, y, src.At(x, y))
			nrgba64.Set(x, y, src.At(x, y))
			cmyk.Set(x, y, src.At(x, y))
			pal.Pix[y*pal.Stride+x] = uint8((x + y) % 5) // 3 and 4 are past the palette
		}
	}
	ycc := image.NewYCbCr(image.Rect(3, 5, 67, 53), image.YCbCrSubsampleRatio410)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 7)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*13), uint8(255-i*3)
	}
	for name, img := range map[string]image.Image{
		"rgba": rgba, "gray16": gray16, "nrgba64": nrgba64, "cmyk": cmyk, "ycbcr410 offset": ycc,
		"rgba sub": rgba.SubImage(image.Rect(5, 7, 40, 30)),
	} {
		got := ToNRGBA(img)
		if got.Rect != img.Bounds() {
			t.Errorf("%s: bounds %v, want %v", name, got.Rect, img.Bounds())
		}
		diffNRGBA(t, name, got, nrgbaReference(img), 0)
	}
	// Paletted: indices past the palette come out transparent black.
	got := ToNRGBA(pal)
	if c := got.NRGBAAt(1, 0); c != (color.NRGBA{50*255/80 + 1, 60*255/80 + 1, 70*255/80 + 1, 80}) && c != color.NRGBAModel.Convert(color.RGBA{50, 60, 70, 80}) {
		t.Errorf("paletted (1,0) = %v", c)
	}
	if c := got.NRGBAAt(3, 0); c != (color.NRGBA{}) {
		t.Errorf("paletted out-of-range index = %v, want transparent", c)
	}
	// ToNRGBA must not modify a caller's RGBA.
	before := append([]byte(nil), rgba.Pix...)
	ToNRGBA(rgba)
	if !bytes.Equal(before, rgba.Pix) {
		t.Error("ToNRGBA modified its *image.RGBA argument")
	}
}

// pngWithHeader builds a PNG whose IHDR declares w x h, followed by one tiny
// IDAT and IEND, with valid CRCs.
func pngWithHeader(w, h uint32, colorType byte) []byte {
	var buf bytes.Buffer
	buf.Write(pngSignature)
	chunk := func(typ string, data []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(data)))
		buf.Write(l[:])
		buf.WriteString(typ)
		buf.Write(data)
		binary.BigEndian.PutUint32(l[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
		buf.Write(l[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, colorType
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return buf.Bytes()
}

func TestInspectRefusesHugeImagesWithoutAllocating(t *testing.T) {
	hugeJPEG := []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
		0xff, 0xc0, 0x00, 0x11, 0x08, 0xea, 0x60, 0xea, 0x60, 0x03,
		0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01}
	hugeGIF := append([]byte("GIF89a"), 0x60, 0xea, 0x60, 0xea, 0x00, 0x00, 0x00, ';')
	hugeWebP := []byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\x3f\x00\xff\x3f\x00")
	cases := map[string]struct {
		b    []byte
		f    Format
		dims string
	}{
		"png":  {pngWithHeader(60000, 60000, 6), FormatPNG, "60000x60000"},
		"jpeg": {hugeJPEG, FormatJPEG, "60000x60000"},
		"gif":  {hugeGIF, FormatGIF, "60000x60000"},
		"webp": {hugeWebP, FormatWebP, "16384x16384"},
	}
	for name, c := range cases {
		f, _, _, err := Inspect(c.b, Limits{MaxPixels: 50_000_000})
		if f != c.f || !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), c.dims) {
			t.Errorf("%s: Inspect = %q, %v; want ErrTooManyPixels naming %s", name, f, err, c.dims)
		}
		_, _, err = Decode(c.b, Limits{})
		if !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s: Decode err = %v, want ErrTooManyPixels (default limit)", name, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 20 {
			if _, _, err := Decode(c.b, Limits{}); err == nil {
				t.Fatal("decoded")
			}
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%s: refusing 20 times allocated %d bytes, want < 1 MB in total", name, d)
		}
		if a := testing.AllocsPerRun(10, func() { Inspect(c.b, Limits{}) }); a > 50 {
			t.Errorf("%s: Inspect makes %v allocations", name, a)
		}
	}
	// Right at the limit is allowed; one pixel over is not.
	b := pngWithHeader(1000, 1000, 2)
	if _, _, _, err := Inspect(b, Limits{MaxPixels: 1_000_000}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if _, _, _, err := Inspect(b, Limits{MaxPixels: 999_999}); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestDecodeOddSizedJPEG(t *testing.T) {
	// 4:2:0 with odd width and height: the last chroma sample covers one
	// column and one row.
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, noisyImage(33, 17, false, 11), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Decode(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ref := stdDecode(t, FormatJPEG, buf.Bytes())
	if m, ok := ref.(*image.YCbCr); !ok || m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("reference is %T, want 4:2:0 YCbCr", ref)
	}
	diffNRGBA(t, "33x17 jpeg", got, nrgbaReference(ref), 0)
}

func TestDecodeGIFFrameSmallerThanScreen(t *testing.T) {
	frame := image.NewPaletted(image.Rect(10, 5, 30, 25), color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{200, 10, 20, 255}})
	for i := range frame.Pix {
		frame.Pix[i] = 1
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: frame.Palette, Width: 40, Height: 30}})
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect != image.Rect(0, 0, 40, 30) {
		t.Fatalf("bounds %v", img.Rect)
	}
	for y := range 30 {
		for x := range 40 {
			want := color.NRGBA{}
			if image.Pt(x, y).In(frame.Rect) {
				want = color.NRGBA{200, 10, 20, 255}
			}
			if got := img.NRGBAAt(x, y); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good := readFixture(t, "src-rgb.png")
	cases := map[string][]byte{
		"truncated png":   good[:len(good)-30],
		"png header only": good[:20],
		"bad crc":         append(append([]byte(nil), good[:40]...), append([]byte{good[40] ^ 0xff}, good[41:]...)...),
		"empty idat":      pngWithHeader(4, 4, 2),
		"truncated jpeg":  readFixture(t, "q90-444.jpg")[:300],
		"truncated gif":   readFixture(t, "anim.gif")[:100],
		"truncated webp":  readFixture(t, "lossy.webp")[:100],
		"zero size png":   pngWithHeader(0, 10, 2),
	}
	for name, b := range cases {
		img, _, err := Decode(b, Limits{})
		if img != nil || !errors.Is(err, ErrInvalidImage) {
			t.Errorf("%s: Decode = %v, %v; want ErrInvalidImage", name, img != nil, err)
		}
	}
	if _, _, err := Decode([]byte("not an image"), Limits{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("junk: %v", err)
	}
}
