package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Fixtures in testdata made by other encoders than Go's, so the decoders are
// tested on bytes we did not produce. `go test ./imaging -run TestFixtures
// -update` regenerates them from the Go-drawn sources, using vips, convert
// (ImageMagick) and cwebp (Debian package webp) when they are installed.
var fixtures = []struct {
	file   string
	format Format
	w, h   int
	// lossy fixtures are compared with the source within tol per channel.
	tol int
	// alpha: made from the translucent source.
	alpha bool
	make  []string // command; {in} and {out} are substituted
}{
	{"src-rgb.png", FormatPNG, 64, 48, 0, false, nil},
	{"src-rgba.png", FormatPNG, 64, 48, 0, true, nil},
	{"rgb-vips.png", FormatPNG, 64, 48, 0, false, []string{"vips", "copy", "{in}", "{out}[compression=9]"}},
	{"gray.png", FormatPNG, 64, 48, -1, false, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "-colorspace", "Gray", "-define", "png:color-type=0", "{out}"}},
	{"rgb16.png", FormatPNG, 64, 48, 0, false, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "PNG48:{out}"}},
	{"rgba16.png", FormatPNG, 64, 48, 0, true, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "PNG64:{out}"}},
	{"gray-alpha.png", FormatPNG, 64, 48, -1, true, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "-colorspace", "Gray", "-define", "png:color-type=4", "{out}"}},
	{"palette-trns.png", FormatPNG, 64, 48, -1, true, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "-colors", "200", "PNG8:{out}"}},
	{"palette.png", FormatPNG, 64, 48, -1, false, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "-colors", "200", "PNG8:{out}"}},
	{"interlaced.png", FormatPNG, 64, 48, 0, false, []string{"convert", "{in}", "-strip", "-define", "png:exclude-chunks=date,time", "-interlace", "PNG", "{out}"}},
	{"q90-444.jpg", FormatJPEG, 64, 48, 40, false, []string{"convert", "{in}", "-quality", "90", "-sampling-factor", "1x1", "{out}"}},
	{"q90-422.jpg", FormatJPEG, 64, 48, 60, false, []string{"convert", "{in}", "-quality", "90", "-sampling-factor", "2x1", "{out}"}},
	{"q90-420.jpg", FormatJPEG, 64, 48, 60, false, []string{"convert", "{in}", "-quality", "90", "-sampling-factor", "2x2", "{out}"}},
	{"gray.jpg", FormatJPEG, 64, 48, -1, false, []string{"convert", "{in}", "-colorspace", "Gray", "-quality", "90", "{out}"}},
	{"anim.gif", FormatGIF, 64, 48, 64, false, nil},
	{"lossy.webp", FormatWebP, 64, 48, 60, false, []string{"cwebp", "-quiet", "-q", "90", "{in}", "-o", "{out}"}},
	{"lossless.webp", FormatWebP, 64, 48, 0, false, []string{"cwebp", "-quiet", "-lossless", "{in}", "-o", "{out}"}},
	{"alpha-lossless.webp", FormatWebP, 64, 48, 0, true, []string{"cwebp", "-quiet", "-lossless", "-exact", "{in}", "-o", "{out}"}},
	{"alpha-lossy.webp", FormatWebP, 64, 48, 60, true, []string{"cwebp", "-quiet", "-q", "90", "-exact", "{in}", "-o", "{out}"}},
}

// fixtureSource draws the 64x48 source: a colour gradient with three flat
// patches; with alpha, the right half fades out.
func fixtureSource(alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.NRGBA{uint8(x * 4), uint8(y * 5), uint8(255 - x*2 - y), 255}
			switch {
			case x >= 4 && x < 20 && y >= 4 && y < 20:
				c = color.NRGBA{220, 30, 30, 255}
			case x >= 24 && x < 40 && y >= 24 && y < 40:
				c = color.NRGBA{30, 200, 40, 255}
			case x >= 44 && x < 60 && y >= 4 && y < 20:
				c = color.NRGBA{20, 40, 210, 255}
			}
			if alpha && x >= 32 {
				c.A = uint8(255 - (x-32)*8)
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// gifFixture writes a two-frame GIF whose first frame is the source.
func gifFixture(tb testing.TB) []byte {
	tb.Helper()
	src := fixtureSource(false)
	pal := make(color.Palette, 0, 256)
	seen := map[color.NRGBA]uint8{}
	frame := image.NewPaletted(src.Rect, nil)
	for y := range 48 {
		for x := range 64 {
			c := src.NRGBAAt(x, y)
			c.R, c.G, c.B = c.R&0xe0, c.G&0xe0, c.B&0xc0 // 3-3-2 bits: at most 256 colours
			i, ok := seen[c]
			if !ok {
				i = uint8(len(pal))
				seen[c] = i
				pal = append(pal, c)
			}
			frame.Pix[y*frame.Stride+x] = i
		}
	}
	frame.Palette = pal
	second := image.NewPaletted(src.Rect, pal)
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame, second}, Delay: []int{10, 10}}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("%v (regenerate with -update)", err)
	}
	return b
}

func TestFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata fixtures")
	}
	dir := t.TempDir()
	srcs := map[bool]string{false: filepath.Join(dir, "src-rgb.png"), true: filepath.Join(dir, "src-rgba.png")}
	for a, p := range srcs {
		if err := os.WriteFile(p, encodeStdPNG(t, fixtureSource(a)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fixtures {
		out := filepath.Join("testdata", f.file)
		switch {
		case f.file == "anim.gif":
			if err := os.WriteFile(out, gifFixture(t), 0o644); err != nil {
				t.Fatal(err)
			}
		case f.make == nil:
			b, _ := os.ReadFile(srcs[f.alpha])
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			if _, err := exec.LookPath(f.make[0]); err != nil {
				t.Errorf("%s: %s not installed, fixture kept", f.file, f.make[0])
				continue
			}
			args := make([]string, len(f.make)-1)
			for i, a := range f.make[1:] {
				a = string(bytes.ReplaceAll([]byte(a), []byte("{in}"), []byte(srcs[f.alpha])))
				args[i] = string(bytes.ReplaceAll([]byte(a), []byte("{out}"), []byte(out)))
			}
			if b, err := exec.Command(f.make[0], args...).CombinedOutput(); err != nil {
				t.Errorf("%s: %v: %s", f.file, err, b)
			}
		}
	}
}

// stdDecode decodes a fixture with the standard library decoders, as the
// reference the fast paths must match.
func stdDecodePNG(tb testing.TB, b []byte) image.Image {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return img
}
