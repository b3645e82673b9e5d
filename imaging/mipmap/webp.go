package mipmap

import (
	"fmt"
	"image"
	"io"

	"github.com/gen2brain/webp"
)

// Quality is the lossy WebP quality of a level (0..100).
const Quality = 90

// EncodeWebP writes img as a lossy WebP at Quality, alpha kept (the Canvus
// mipmaps API returns every level as WebP). The encoder is libwebp: the
// system's libwebp.so when it can be loaded (Debian libwebp-dev, a
// dynamically linked binary), else the same library compiled to
// WebAssembly and run in-process by wazero (about 5 times slower, same
// output), so no cgo is needed either way.
func EncodeWebP(w io.Writer, img image.Image) error {
	if err := webp.Encode(w, img, webp.Options{Quality: Quality, Method: 4}); err != nil {
		return fmt.Errorf("encode webp: %w", err)
	}
	return nil
}
