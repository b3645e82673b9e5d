package imaging

import (
	"encoding/binary"
	"image/color"
)

// DecodeCost inspects b (format and pixel guard, as Inspect) and returns an
// upper bound of the bytes that Decode allocates for it, computed from the
// header before any pixel memory exists. Callers weigh a memory budget with
// it (the server's decode guard). SVG costs nothing: it is never decoded to
// pixels here.
//
// The bound counts, per pixel: the decoder's native image (16-bit channels
// and alpha included: NRGBA64/RGBA64 8 bytes, Gray16 2, YCbCr up to 3,
// CMYK 4, paletted and grey 1), the *image.NRGBA that Decode returns (4,
// unless the native image is reused), the extra buffers some paths make (a
// progressive JPEG's coefficients, 4 bytes per component; an interlaced
// PNG's passes, one more native image; the pipelined 8-bit PNG decoder's
// NRGBA, which is garbage when it falls back to image/png on a corrupt
// file), plus the encoded bytes and a fixed 256 KiB for the
// decoders' own buffers. TestDecodeCostBoundsAllocations checks
// the bound against the bytes Decode really allocates.
func DecodeCost(b []byte, lim Limits) (Format, int, int, int64, error) {
	f, w, h, err := Inspect(b, lim)
	if err != nil || f == FormatSVG {
		return f, w, h, 0, err
	}
	cfg, _ := configOf(f, b) // Inspect read this header successfully
	px := int64(w) * int64(h)
	native := nativeBytesPerPixel(cfg.ColorModel)
	fixed := int64(decodeOverhead)
	// The NRGBA result: a fresh image unless the native one is used as is
	// (NRGBA) or converted in place (RGBA).
	var perPx float64 = native + 4
	if cfg.ColorModel == color.NRGBAModel || cfg.ColorModel == color.RGBAModel {
		perPx = native
	}
	switch f {
	case FormatPNG:
		depth, interlaced := pngHeaderBits(b)
		if interlaced {
			perPx += native
		}
		if depth == 8 && !interlaced {
			perPx += 4 // the pipelined decoder's attempt and its three row batches
			fixed += 3 * max(pngBatchBytes, 1+4*int64(w))
		}
	case FormatJPEG:
		if progressive, comps := jpegProgressive(b); progressive {
			perPx += 4 * float64(comps)
		}
	case FormatGIF:
		perPx += 4 // a first frame smaller than the screen is copied onto a canvas
	case FormatWebP:
		if cfg.ColorModel == color.NRGBAModel {
			perPx += 4 // the lossless decoder's ARGB words
		}
	}
	return f, w, h, int64(float64(px)*perPx) + int64(len(b)) + fixed, nil
}

// decodeOverhead covers a decoder's fixed buffers (inflate window, Huffman
// tables, row buffers of a small image).
const decodeOverhead = 256 << 10

// nativeBytesPerPixel is the pixel size of the image a decoder makes for a
// header's colour model.
func nativeBytesPerPixel(m color.Model) float64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at most
	case color.NYCbCrAModel:
		return 4
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // unknown: assume the widest
}

// pngHeaderBits returns the IHDR bit depth and interlace flag.
func pngHeaderBits(b []byte) (depth byte, interlaced bool) {
	// signature (8) + length (4) + "IHDR" (4) + width (4) + height (4) + depth, colour, compression, filter, interlace
	if len(b) < 8+8+13 {
		return 8, true
	}
	return b[24], b[28] != 0
}

// jpegProgressive walks the JPEG markers up to the frame header and reports
// whether it is progressive (SOF2) and its component count. Unparsable
// input reports progressive with 4 components: the widest case.
func jpegProgressive(b []byte) (bool, int) {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return true, 4
		}
		m := b[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01:
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			comps := 4
			if i+9 < len(b) {
				comps = int(b[i+9])
			}
			return m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce, comps
		}
		if n < 2 {
			return true, 4
		}
		i += 2 + n
	}
	return true, 4
}
