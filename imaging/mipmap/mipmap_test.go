package mipmap

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	xwebp "golang.org/x/image/webp"
)

func TestMaxLevel(t *testing.T) {
	for _, tc := range []struct{ w, h, want int }{
		{1024, 768, 4}, // the Canvus reference's example
		{127, 127, 0},
		{128, 128, 1},
		{4000, 3000, 5}, // 2000, 1000, 500, 250, 125
		{10000, 2, 0},   // halving would make the short side 1
		{10000, 3, 1},   // 5000x2, then the short side would be 1
		{0, 10, 0},
	} {
		if got := MaxLevel(tc.w, tc.h); got != tc.want {
			t.Errorf("MaxLevel(%d, %d) = %d, want %d", tc.w, tc.h, got, tc.want)
		}
	}
	if w, h := Size(1024, 768, 4); w != 64 || h != 48 {
		t.Errorf("Size(1024, 768, 4) = %dx%d, want 64x48", w, h)
	}
	if w, h := Size(301, 201, 2); w != 76 || h != 51 {
		t.Errorf("Size(301, 201, 2) = %dx%d, want 76x51 (rounded up each time)", w, h)
	}
}

func TestLevelPixels(t *testing.T) {
	// 256x130: left half opaque red, right half transparent green.
	src := image.NewNRGBA(image.Rect(0, 0, 256, 130))
	for y := 0; y < 130; y++ {
		for x := 0; x < 256; x++ {
			if x < 128 {
				src.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
			} else {
				src.SetNRGBA(x, y, color.NRGBA{0, 255, 0, 0})
			}
		}
	}
	// Column 127/128 boundary at level 1 falls between blocks; make a
	// mixed block at level 2 by shifting one column.
	for y := 0; y < 130; y++ {
		src.SetNRGBA(129, y, color.NRGBA{255, 0, 0, 255})
	}
	l1, err := Level(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l1.Rect.Dx() != 128 || l1.Rect.Dy() != 65 {
		t.Fatalf("level 1 is %v, want 128x65", l1.Rect)
	}
	// Block (128..129): one transparent green, one opaque red pixel per
	// row: colour red (green has no weight), alpha half.
	if c := l1.NRGBAAt(64, 10); c != (color.NRGBA{255, 0, 0, 128}) {
		t.Errorf("mixed block = %v, want {255 0 0 128}: transparent pixels must not tint", c)
	}
	if c := l1.NRGBAAt(10, 64); c != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("odd last row = %v, want red (edge reused)", c)
	}
	if _, err := Level(src, MaxLevel(256, 130)+1); err == nil {
		t.Error("a level above the maximum was accepted")
	}
	if _, err := Level(src, -1); err == nil {
		t.Error("level -1 was accepted")
	}
}

func TestEncodeWebP(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	for i := 0; i < len(src.Pix); i += 4 {
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = 200, 40, 40, 255
	}
	for i := 0; i < 32*4; i += 4 { // a transparent first row
		src.Pix[i+3] = 0
	}
	var buf bytes.Buffer
	if err := EncodeWebP(&buf, src); err != nil {
		t.Fatal(err)
	}
	img, err := xwebp.Decode(&buf)
	if err != nil {
		t.Fatalf("not a WebP: %v", err)
	}
	if img.Bounds() != src.Rect {
		t.Fatalf("decoded %v, want %v", img.Bounds(), src.Rect)
	}
	c := color.NRGBAModel.Convert(img.At(40, 20)).(color.NRGBA)
	if c.R < 180 || c.G > 65 || c.B > 65 || c.A != 255 { // lossy, 4:2:0
		t.Errorf("pixel %v, want about {200 40 40 255}", c)
	}
	if a := color.NRGBAModel.Convert(img.At(3, 0)).(color.NRGBA).A; a > 10 {
		t.Errorf("transparent pixel has alpha %d: alpha lost", a)
	}
}
