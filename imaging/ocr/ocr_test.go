package ocr

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// needTesseract skips when tesseract is missing, with the install command, and
// fails instead under CI (CI set to anything but "" / "0" / "false"): a CI
// run never passes by skipping the OCR tests.
func needTesseract(tb testing.TB) {
	tb.Helper()
	if Available() {
		return
	}
	const msg = "tesseract not installed: apt-get install -y tesseract-ocr tesseract-ocr-eng"
	if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
		tb.Fatal(msg + " (CI is set: a missing dependency fails the run)")
	}
	tb.Skip(msg)
}

func renderText(tb testing.TB, lines []string) *image.Gray {
	tb.Helper()
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		tb.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 28, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		tb.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 600, 60*len(lines)+40))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(30, 50+60*i)
		d.DrawString(l)
	}
	return img
}

func TestRecognize(t *testing.T) {
	needTesseract(t)
	img := renderText(t, []string{"Revenue 1,234.5", "Net income (42)"})
	words, err := Recognize(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range words {
		got = append(got, w.Text)
		if w.W <= 0 || w.H <= 0 || w.X < 0 || w.Y < 0 || w.X+w.W > 600 {
			t.Errorf("bad box %+v", w)
		}
	}
	joined := strings.Join(got, " ")
	if joined != "Revenue 1,234.5 Net income (42)" {
		t.Errorf("words = %q", joined)
	}
	if words[0].Line == words[len(words)-1].Line && words[0].Block == words[len(words)-1].Block && words[0].Par == words[len(words)-1].Par {
		t.Errorf("first and last word on the same line: %+v", words)
	}
	if !strings.HasPrefix(Version(), "tesseract ") {
		t.Errorf("Version() = %q", Version())
	}
	// A sub-image keeps coordinates relative to its own origin.
	sub := img.SubImage(image.Rect(0, 60, 600, 130)).(*image.Gray)
	sw, err := Recognize(context.Background(), sub, Options{PSM: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) == 0 || sw[0].Text != "Net" || sw[0].Y > 40 {
		t.Errorf("sub-image words = %+v", sw)
	}
}

func TestUnavailable(t *testing.T) {
	off := Engine{Off: true}
	if off.Available() {
		t.Fatal("Available() = true after override")
	}
	if off.Version() != "" {
		t.Errorf("Version() = %q, want empty", off.Version())
	}
	_, err := off.Recognize(context.Background(), image.NewGray(image.Rect(0, 0, 4, 4)), Options{})
	if err != ErrUnavailable {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestCancel(t *testing.T) {
	needTesseract(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Recognize(ctx, renderText(t, []string{"x"}), Options{})
	if err == nil {
		t.Fatal("want error from cancelled context")
	}
}
