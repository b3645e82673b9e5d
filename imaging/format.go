package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strconv"

	"golang.org/x/image/webp"
)

// Format names an allowed image format. The values are also the subtype of
// the MIME type ("image/"+format), except SVG ("image/svg+xml", see MIMEType).
type Format string

// The formats imaging accepts. Anything else is ErrUnsupported.
const (
	FormatPNG  Format = "png"
	FormatJPEG Format = "jpeg"
	FormatGIF  Format = "gif"
	FormatWebP Format = "webp"
	FormatSVG  Format = "svg"
)

// MIMEType returns the media type for f ("image/png", "image/svg+xml", ...),
// or "application/octet-stream" for an unknown format.
func (f Format) MIMEType() string {
	switch f {
	case FormatPNG, FormatJPEG, FormatGIF, FormatWebP:
		return "image/" + string(f)
	case FormatSVG:
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// IsRaster reports whether f is decoded to pixels (everything but SVG).
func (f Format) IsRaster() bool {
	switch f {
	case FormatPNG, FormatJPEG, FormatGIF, FormatWebP:
		return true
	}
	return false
}

// DefaultMaxPixels is the pixel limit used when Limits.MaxPixels is zero or
// negative: 50 MP, about 200 MB as NRGBA.
const DefaultMaxPixels int64 = 50_000_000

// Limits bounds what Inspect and Decode accept.
type Limits struct {
	// MaxPixels is the largest width*height a raster image may declare.
	// Zero or negative means DefaultMaxPixels, so the zero Limits is safe.
	MaxPixels int64
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

var (
	// ErrUnsupported means the bytes are not one of the allowed formats
	// (judged by magic bytes only, never by file name or declared type),
	// or the operation does not apply to the format (decoding SVG to pixels).
	ErrUnsupported = errors.New("imaging: unsupported image format")
	// ErrTooManyPixels means the header declares more pixels than
	// Limits.MaxPixels. It is returned before any pixel memory is allocated.
	ErrTooManyPixels = errors.New("imaging: image has too many pixels")
	// ErrInvalidImage means the bytes start like an allowed format but the
	// header or the pixel data is corrupt or truncated.
	ErrInvalidImage = errors.New("imaging: invalid image data")
)

var (
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicJPEG = []byte{0xff, 0xd8, 0xff}
	magicGIF7 = []byte("GIF87a")
	magicGIF9 = []byte("GIF89a")
)

// Sniff returns the format of b by its magic bytes. SVG is recognised by an
// <svg root element, optionally preceded by a byte order mark, whitespace,
// an XML declaration, comments, processing instructions and a DOCTYPE.
func Sniff(b []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(b, magicPNG):
		return FormatPNG, nil
	case bytes.HasPrefix(b, magicJPEG):
		return FormatJPEG, nil
	case bytes.HasPrefix(b, magicGIF7), bytes.HasPrefix(b, magicGIF9):
		return FormatGIF, nil
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP, nil
	}
	if _, ok := svgRoot(b); ok {
		return FormatSVG, nil
	}
	return "", ErrUnsupported
}

// Inspect returns the format and pixel size of b without decoding pixels.
// Raster sizes come from the format's header (image.DecodeConfig of the
// sniffed format's decoder, never the global registry) and are checked
// against lim. SVG sizes come from the root element's width/height, else its
// viewBox, else 300x150 (the HTML default object size); lim does not apply.
func Inspect(b []byte, lim Limits) (Format, int, int, error) {
	f, err := Sniff(b)
	if err != nil {
		return "", 0, 0, err
	}
	if f == FormatSVG {
		w, h := svgSize(b)
		return f, w, h, nil
	}
	cfg, err := configOf(f, b)
	if err != nil {
		return f, 0, 0, fmt.Errorf("%w: %s header: %w", ErrInvalidImage, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return f, cfg.Width, cfg.Height, fmt.Errorf("%w: %s declares an empty %dx%d image", ErrInvalidImage, f, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels() {
		return f, cfg.Width, cfg.Height, fmt.Errorf("%w: %dx%d is %d pixels, the limit is %d",
			ErrTooManyPixels, cfg.Width, cfg.Height, px, lim.maxPixels())
	}
	return f, cfg.Width, cfg.Height, nil
}

// configOf reads the header of raster format f with that format's decoder.
func configOf(f Format, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch f {
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatGIF:
		return gif.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, ErrUnsupported
}

// Decode inspects b (format and pixel guard), then decodes it and returns the
// pixels as *image.NRGBA with Rect.Min at (0,0), whatever the format's native
// model (YCbCr, paletted, gray, 16-bit ...). For GIF it is the first frame,
// placed on a transparent canvas of the logical screen size.
// SVG is refused with an error wrapping ErrUnsupported.
func Decode(b []byte, lim Limits) (*image.NRGBA, Format, error) {
	f, w, h, err := Inspect(b, lim)
	if err != nil {
		return nil, f, err
	}
	if f == FormatSVG {
		return nil, f, fmt.Errorf("%w: svg cannot be decoded to pixels", ErrUnsupported)
	}
	var img image.Image
	r := bytes.NewReader(b)
	switch f {
	case FormatPNG:
		if m, ok := decodePNGFast(b); ok {
			return m, f, nil
		}
		img, err = png.Decode(r)
	case FormatJPEG:
		img, err = jpeg.Decode(r)
	case FormatGIF:
		img, err = gif.Decode(r)
	case FormatWebP:
		img, err = webp.Decode(r)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, png.FormatError("not enough pixel data")) {
			return nil, f, fmt.Errorf("%w: %s is truncated: %w", ErrInvalidImage, f, err)
		}
		return nil, f, fmt.Errorf("%w: %s: %w", ErrInvalidImage, f, err)
	}
	// A GIF's first frame may cover only part of its logical screen: place
	// it on a transparent canvas of the screen size the guard checked.
	if bd := img.Bounds(); f == FormatGIF && bd != image.Rect(0, 0, w, h) && bd.In(image.Rect(0, 0, w, h)) {
		canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
		frame := ToNRGBA(img)
		for y := bd.Min.Y; y < bd.Max.Y; y++ {
			copy(canvas.Pix[canvas.PixOffset(bd.Min.X, y):][:4*bd.Dx()], frame.Pix[frame.PixOffset(bd.Min.X, y):][:4*bd.Dx()])
		}
		return canvas, f, nil
	}
	// Decoders must agree with the header we checked; refuse anything else
	// rather than trust a size the guard never saw.
	if bd := img.Bounds(); bd.Min != (image.Point{}) || bd.Dx() != w || bd.Dy() != h {
		return nil, f, fmt.Errorf("%w: %s decoded to %dx%d but its header says %dx%d", ErrInvalidImage, f, bd.Dx(), bd.Dy(), w, h)
	}
	return toNRGBA(img, true), f, nil
}

// svgRoot finds the start of the root <svg element after the optional prolog.
// It returns the index just after "<svg".
func svgRoot(b []byte) (int, bool) {
	i := 0
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	for {
		for i < len(b) && isXMLSpace(b[i]) {
			i++
		}
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 {
				return 0, false
			}
			i += end + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return 0, false
			}
			i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			// Skip to the closing '>', honouring an internal subset in [].
			// Entities are never expanded: sizes are read by hand below.
			j, depth := 9, 0
			for ; j < len(rest); j++ {
				c := rest[j]
				if c == '[' {
					depth++
				} else if c == ']' && depth > 0 {
					depth--
				} else if c == '>' && depth == 0 {
					break
				}
			}
			if j >= len(rest) {
				return 0, false
			}
			i += j + 1
		case bytes.HasPrefix(rest, []byte("<svg")):
			if len(rest) > 4 && (isXMLSpace(rest[4]) || rest[4] == '>' || rest[4] == '/') {
				return i + 4, true
			}
			return 0, false
		default:
			return 0, false
		}
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// Default SVG size when the root declares neither width/height nor viewBox:
// the HTML default object size for replaced elements.
const (
	svgDefaultW = 300
	svgDefaultH = 150
)

// svgSize returns the intrinsic pixel size of the SVG in b.
func svgSize(b []byte) (int, int) {
	start, ok := svgRoot(b)
	if !ok {
		return svgDefaultW, svgDefaultH
	}
	attrs := svgAttrs(b[start:])
	w, hasW := svgLength(attrs["width"])
	h, hasH := svgLength(attrs["height"])
	vbW, vbH, hasVB := svgViewBox(attrs["viewBox"])
	switch {
	case hasW && hasH:
	case hasW && hasVB:
		h = w * vbH / vbW
	case hasH && hasVB:
		w = h * vbW / vbH
	case hasVB && !hasW && !hasH:
		w, h = vbW, vbH
	default:
		if !hasW {
			w = svgDefaultW
		}
		if !hasH {
			h = svgDefaultH
		}
	}
	return clampSVGDim(w), clampSVGDim(h)
}

// clampSVGDim rounds a length to whole pixels, at least 1 and at most 1<<20
// so that a hostile width="1e300" cannot overflow anything downstream.
func clampSVGDim(v float64) int {
	if math.IsNaN(v) || v < 1 {
		return 1
	}
	if v > 1<<20 {
		return 1 << 20
	}
	return int(math.Round(v))
}

// svgAttrs reads the attributes of the element whose name ends at b[0].
func svgAttrs(b []byte) map[string]string {
	attrs := map[string]string{}
	i := 0
	for len(attrs) < 256 {
		for i < len(b) && isXMLSpace(b[i]) {
			i++
		}
		if i >= len(b) || b[i] == '>' || b[i] == '/' {
			return attrs
		}
		ns := i
		for i < len(b) && b[i] != '=' && !isXMLSpace(b[i]) && b[i] != '>' && b[i] != '/' {
			i++
		}
		name := string(b[ns:i])
		for i < len(b) && isXMLSpace(b[i]) {
			i++
		}
		if i >= len(b) || b[i] != '=' {
			if ns == i { // no progress: malformed
				return attrs
			}
			continue // attribute without value (not XML, but be lenient)
		}
		i++
		for i < len(b) && isXMLSpace(b[i]) {
			i++
		}
		if i >= len(b) || (b[i] != '"' && b[i] != '\'') {
			return attrs
		}
		q := b[i]
		i++
		vs := i
		for i < len(b) && b[i] != q {
			i++
		}
		if i >= len(b) {
			return attrs
		}
		if _, dup := attrs[name]; !dup {
			attrs[name] = string(b[vs:i])
		}
		i++
	}
	return attrs
}

// svgLength parses an absolute SVG length in CSS pixels (96 per inch).
// Percentages, font-relative units and anything unparsable are not intrinsic
// sizes and report false.
func svgLength(s string) (float64, bool) {
	s = trimXMLSpace(s)
	if s == "" {
		return 0, false
	}
	unit := 1.0
	for _, u := range []struct {
		suffix string
		px     float64
	}{{"px", 1}, {"in", 96}, {"cm", 96 / 2.54}, {"mm", 96 / 25.4}, {"pt", 96.0 / 72}, {"pc", 16}} {
		if len(s) > len(u.suffix) && s[len(s)-len(u.suffix):] == u.suffix {
			s, unit = trimXMLSpace(s[:len(s)-len(u.suffix)]), u.px
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v <= 0 || !isPlainDecimal(s) {
		return 0, false
	}
	return v * unit, true
}

// svgViewBox parses "min-x min-y width height" (comma or space separated).
func svgViewBox(s string) (float64, float64, bool) {
	var nums []float64
	for _, f := range bytes.FieldsFunc([]byte(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		v, err := strconv.ParseFloat(string(f), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || !isPlainDecimal(string(f)) {
			return 0, 0, false
		}
		nums = append(nums, v)
	}
	if len(nums) != 4 || nums[2] <= 0 || nums[3] <= 0 {
		return 0, 0, false
	}
	return nums[2], nums[3], true
}

// isPlainDecimal refuses the forms strconv accepts but SVG does not
// (hex floats, underscores, inf/nan words).
func isPlainDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

func trimXMLSpace(s string) string {
	for len(s) > 0 && isXMLSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isXMLSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
