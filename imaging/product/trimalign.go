package product

import (
	"fmt"
	"image"
	"math"
)

// Bitmap states used by TrimAlign and RemoveBackground.
const (
	stFG      = 0 // differs from the background
	stBGLike  = 1 // within ΔE of the background colour
	stBG      = 2 // background-like and connected to the border
	stSeen    = 3 // foreground, visited while labelling components
	stKeep    = 4 // foreground component that is kept
	minSpeckN = 4 // components below this many pixels are always noise
)

// TrimAlign trims the uniform background around the subject and centres the
// subject in an outW x outH output, scaled to fit inside the minimum margins.
//
// The background colour is the per-channel median of the border pixels; a
// pixel is subject when its CIE76 ΔE from it exceeds deltaE (DefaultDeltaE
// when <= 0). Connected specks smaller than 1/100000 of the image (at least
// 4 pixels) are ignored, so sensor noise and dust do not widen the box. The
// rest of the output is filled with bg, or with the detected background
// colour when bg is nil or the zero value.
//
// The returned Rect is the subject's bounding box in fractions of the input.
func TrimAlign(img *image.NRGBA, outW, outH int, m Margins, bg *Background, deltaE float64) (*image.NRGBA, Rect, error) {
	if err := checkImage(img); err != nil {
		return nil, Rect{}, fmt.Errorf("trim align: %w", err)
	}
	if err := checkOutput(outW, outH); err != nil {
		return nil, Rect{}, fmt.Errorf("trim align: %w", err)
	}
	mT, mR, mB, mL, err := m.px(outW, outH)
	if err != nil {
		return nil, Rect{}, fmt.Errorf("trim align: %w", err)
	}
	model := detectBackground(img, deltaE)
	box, ok := subjectBox(img, model)
	if !ok {
		return nil, Rect{}, fmt.Errorf("trim align: %w", ErrNoSubject)
	}
	fill := Background{Transparent: model.alphaOnly, Color: model.color}
	if bg != nil && !bg.IsZero() {
		fill = *bg
	}

	bw, bh := float64(box.Dx()), float64(box.Dy())
	innerW, innerH := float64(outW)-mL-mR, float64(outH)-mT-mB
	s := min(innerW/bw, innerH/bh)
	dx := mL + (innerW-bw*s)/2
	dy := mT + (innerH-bh*s)/2
	dr := image.Rect(
		int(math.Round(dx)), int(math.Round(dy)),
		int(math.Round(dx+bw*s)), int(math.Round(dy+bh*s)),
	)
	dr.Max.X, dr.Max.Y = max(dr.Max.X, dr.Min.X+1), max(dr.Max.Y, dr.Min.Y+1)

	out := image.NewNRGBA(image.Rect(0, 0, outW, outH))
	c := fill.fill()
	fillRect(out, out.Rect, [4]uint8{c.R, c.G, c.B, c.A})
	sr := rectF{float64(box.Min.X), float64(box.Min.Y), float64(box.Max.X), float64(box.Max.Y)}
	resample(out, dr, img, sr)
	flatten(out, fill)
	return out, sr.frac(img.Rect.Dx(), img.Rect.Dy()), nil
}

// subjectBox returns the bounding box (relative to img.Rect.Min) of the
// pixels that differ from the background, ignoring small specks.
func subjectBox(img *image.NRGBA, model bgModel) (image.Rectangle, bool) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	f := &filler{st: classify(img, model), w: w, h: h}
	minN := max(minSpeckN, w*h/100000)
	var box image.Rectangle
	var largest fillStats
	f.components(stFG, stSeen, func(_ int, s fillStats) {
		if s.n > largest.n {
			largest = s
		}
		if s.n >= minN {
			box = box.Union(image.Rect(s.x0, s.y0, s.x1, s.y1))
		}
	})
	if largest.n == 0 {
		return image.Rectangle{}, false
	}
	if box.Empty() { // only specks: the biggest one is the subject
		box = image.Rect(largest.x0, largest.y0, largest.x1, largest.y1)
	}
	return box, true
}
