package mipmap

import (
	"bytes"
	"image"
	"testing"
)

// BenchmarkLevel1WebP makes level 1 of a 2048x1536 picture and encodes it
// (the work of a first GET /mipmaps/{hash}/1 after the decode).
func BenchmarkLevel1WebP(b *testing.B) {
	src := image.NewNRGBA(image.Rect(0, 0, 2048, 1536))
	for i := 0; i < len(src.Pix); i += 4 {
		p := i / 4
		x, y := p%2048, p/2048
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(x), uint8(y), uint8(x^y), 255
	}
	var buf bytes.Buffer
	for b.Loop() {
		lv, err := Level(src, 1)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := EncodeWebP(&buf, lv); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "webp-bytes")
}
