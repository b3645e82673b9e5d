package product

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"
)

// Output size limits: each side at most MaxOutputSide pixels and the whole
// image at most MaxOutputPixels.
const (
	MaxOutputSide   = 16384
	MaxOutputPixels = 50_000_000
)

// DefaultDeltaE is the CIE76 ΔE above which a pixel differs from the
// background colour, used when a caller passes a threshold <= 0.
const DefaultDeltaE = 10

var (
	// ErrEmptyMask is returned by MaskCrop when no mask pixel is white.
	ErrEmptyMask = errors.New("mask has no white (keep) pixels")
	// ErrNoSubject is returned when nothing in the image differs from the
	// detected background.
	ErrNoSubject = errors.New("no subject found: the image matches its background colour")
)

// Margins are minimum margins around the subject in the output image. Values
// are output pixels, or percent of the output dimension when Percent is set
// (Top and Bottom of the height, Left and Right of the width).
type Margins struct {
	Top, Right, Bottom, Left float64
	Percent                  bool
}

// px converts the margins into output pixels and validates them against the
// output size.
func (m Margins) px(outW, outH int) (top, right, bottom, left float64, err error) {
	top, right, bottom, left = m.Top, m.Right, m.Bottom, m.Left
	for _, v := range []float64{top, right, bottom, left} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0, 0, 0, 0, fmt.Errorf("margins must be finite and >= 0, got %v", m)
		}
		if m.Percent && v > 100 {
			return 0, 0, 0, 0, fmt.Errorf("percent margins must be <= 100, got %v", m)
		}
	}
	if m.Percent {
		top, bottom = top*float64(outH)/100, bottom*float64(outH)/100
		left, right = left*float64(outW)/100, right*float64(outW)/100
	}
	if left+right >= float64(outW) || top+bottom >= float64(outH) {
		return 0, 0, 0, 0, fmt.Errorf("margins %v leave no room in a %dx%d output", m, outW, outH)
	}
	return top, right, bottom, left, nil
}

// Background is the fill for the parts of an output that no input pixel
// covers. The zero value means "not set": TrimAlign then uses the detected
// background colour, and MaskCrop pads with transparent pixels.
type Background struct {
	Transparent bool
	Color       color.NRGBA
}

// IsZero reports whether b is the zero value (no background chosen).
func (b Background) IsZero() bool { return b == Background{} }

// fill returns the colour to paint: fully transparent for Transparent.
func (b Background) fill() color.NRGBA {
	if b.Transparent {
		return color.NRGBA{}
	}
	return b.Color
}

// ParseBackground parses "transparent", "white", "black", "#rgb", "#rrggbb"
// or "rrggbb" (case-insensitive, surrounding spaces ignored).
func ParseBackground(s string) (Background, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "transparent":
		return Background{Transparent: true}, nil
	case "white":
		return Background{Color: color.NRGBA{255, 255, 255, 255}}, nil
	case "black":
		return Background{Color: color.NRGBA{0, 0, 0, 255}}, nil
	}
	hex, hash := strings.CutPrefix(t, "#")
	var digits [6]byte
	switch {
	case len(hex) == 6:
		copy(digits[:], hex)
	case len(hex) == 3 && hash:
		for i := range 3 {
			digits[2*i], digits[2*i+1] = hex[i], hex[i]
		}
	default:
		return Background{}, fmt.Errorf("background %q: want transparent, white, black, #rgb, #rrggbb or rrggbb", s)
	}
	v, err := strconv.ParseUint(string(digits[:]), 16, 32)
	if err != nil {
		return Background{}, fmt.Errorf("background %q: bad hex colour", s)
	}
	return Background{Color: color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}}, nil
}

// Rect is a rectangle in fractions of the input image's width and height.
type Rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"width"`
	H float64 `json:"height"`
}

// rectF is a rectangle in input pixels, [x0,x1) x [y0,y1).
type rectF struct{ x0, y0, x1, y1 float64 }

func (r rectF) frac(w, h int) Rect {
	fw, fh := float64(w), float64(h)
	return Rect{X: r.x0 / fw, Y: r.y0 / fh, W: (r.x1 - r.x0) / fw, H: (r.y1 - r.y0) / fh}
}

func checkImage(img *image.NRGBA) error {
	if img == nil {
		return errors.New("nil image")
	}
	if img.Rect.Dx() <= 0 || img.Rect.Dy() <= 0 {
		return fmt.Errorf("empty image %v", img.Rect)
	}
	return nil
}

func checkOutput(w, h int) error {
	if w <= 0 || h <= 0 || w > MaxOutputSide || h > MaxOutputSide {
		return fmt.Errorf("output size %dx%d: each side must be 1..%d", w, h, MaxOutputSide)
	}
	if w*h > MaxOutputPixels {
		return fmt.Errorf("output size %dx%d: more than %d pixels", w, h, MaxOutputPixels)
	}
	return nil
}

func clampF(v, lo, hi float64) float64 {
	if lo > hi { // empty interval (only by rounding): take its middle
		return (lo + hi) / 2
	}
	return min(max(v, lo), hi)
}
