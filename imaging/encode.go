package imaging

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"sync"
)

// pngBufferPool shares the encoder's scratch buffers between encodes.
type pngBufferPool struct{ p sync.Pool }

func (b *pngBufferPool) Get() *png.EncoderBuffer {
	if v, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return v
	}
	return nil
}

func (b *pngBufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }

var stdPNGEncoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBufferPool{}}

// EncodePNG writes img as PNG at zlib BestSpeed. Large *image.NRGBA images
// (crops are SubImages of a decoded source) go through a strip-parallel
// encoder; everything else goes through image/png with a pooled buffer.
// Opaque images are written as 8-bit RGB, others as 8-bit RGBA. The output
// is deterministic: it does not depend on GOMAXPROCS.
func EncodePNG(w io.Writer, img image.Image) error {
	if m, ok := img.(*image.NRGBA); ok && m.Rect.Dx()*m.Rect.Dy() >= fastPNGMinPixels {
		if err := encodePNGFast(w, m); err != nil {
			return fmt.Errorf("encode png: %w", err)
		}
		return nil
	}
	if m, ok := img.(*image.YCbCr); ok {
		img = ToNRGBA(m)
	}
	if err := stdPNGEncoder.Encode(w, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// EncodeJPEG writes img as baseline JPEG at quality 1..100 (values <= 0 mean
// jpeg.DefaultQuality, values above 100 mean 100). JPEG has no alpha:
// translucent pixels are composited onto white, as a page would show them.
func EncodeJPEG(w io.Writer, img image.Image, quality int) error {
	switch {
	case quality <= 0:
		quality = jpeg.DefaultQuality
	case quality > 100:
		quality = 100
	}
	if m, ok := img.(*image.NRGBA); ok {
		img = nrgbaOverWhite(m)
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	return nil
}

// nrgbaOverWhite returns m as an opaque *image.RGBA, which image/jpeg
// encodes on its fast path. An opaque m shares its pixels (same bytes in
// both models); otherwise it is composited onto white into a copy.
func nrgbaOverWhite(m *image.NRGBA) *image.RGBA {
	if m.Opaque() {
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	b := m.Rect
	dst := image.NewRGBA(b)
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			out := dst.Pix[y*dst.Stride:][:4*w]
			for i := 0; i < len(src); i += 4 {
				a := uint32(src[i+3])
				for c := 0; c < 3; c++ {
					out[i+c] = uint8((uint32(src[i+c])*a + 255*(255-a) + 127) / 255)
				}
				out[i+3] = 0xff
			}
		}
	})
	return dst
}
