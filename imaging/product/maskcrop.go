package product

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"
)

// maskInfo is the keep-region of a mask in mask pixels: bounding box
// [x0,x1)x[y0,y1), pixel count and the sums of pixel-centre coordinates.
type maskInfo struct {
	w, h           int
	x0, y0, x1, y1 int
	n              int64
	sx, sy         float64
}

func (m *maskInfo) merge(o maskInfo) {
	if o.n == 0 {
		return
	}
	if m.n == 0 {
		m.x0, m.y0, m.x1, m.y1 = o.x0, o.y0, o.x1, o.y1
	} else {
		m.x0, m.y0 = min(m.x0, o.x0), min(m.y0, o.y0)
		m.x1, m.y1 = max(m.x1, o.x1), max(m.y1, o.y1)
	}
	m.n += o.n
	m.sx += o.sx
	m.sy += o.sy
}

// scanMask finds the pixels with luma > 127 (alpha-weighted, so transparent
// counts as black).
func scanMask(mask image.Image) maskInfo {
	b := mask.Bounds()
	w, h := b.Dx(), b.Dy()
	total := maskInfo{w: w, h: h}
	if w <= 0 || h <= 0 {
		return total
	}
	var mu sync.Mutex
	parallelRows(h, func(y0, y1 int) {
		part := maskInfo{}
		row := make([]uint8, w)
		for y := y0; y < y1; y++ {
			lumaRow(mask, b, y, row)
			first, last, cnt, sum := -1, -1, 0, 0
			for x, v := range row {
				if v > 127 {
					if first < 0 {
						first = x
					}
					last = x
					cnt++
					sum += x
				}
			}
			if cnt == 0 {
				continue
			}
			part.merge(maskInfo{
				x0: first, y0: y, x1: last + 1, y1: y + 1, n: int64(cnt),
				sx: float64(sum) + 0.5*float64(cnt), sy: (float64(y) + 0.5) * float64(cnt),
			})
		}
		mu.Lock()
		total.merge(part)
		mu.Unlock()
	})
	return total
}

func luma8(r, g, b uint32) uint32 { return (299*r + 587*g + 114*b + 500) / 1000 }

// lumaRow writes the 8-bit luma of row y (0-based within b) of m into dst.
func lumaRow(m image.Image, b image.Rectangle, y int, dst []uint8) {
	switch im := m.(type) {
	case *image.Gray:
		copy(dst, im.Pix[y*im.Stride:])
	case *image.YCbCr:
		copy(dst, im.Y[im.YOffset(b.Min.X, b.Min.Y+y):])
	case *image.NRGBA:
		p := im.Pix[y*im.Stride:]
		for x := range dst {
			q := p[x*4 : x*4+4 : x*4+4]
			dst[x] = uint8(luma8(uint32(q[0]), uint32(q[1]), uint32(q[2])) * uint32(q[3]) / 255)
		}
	case *image.RGBA: // premultiplied: luma of the stored values is already alpha-weighted
		p := im.Pix[y*im.Stride:]
		for x := range dst {
			q := p[x*4 : x*4+4 : x*4+4]
			dst[x] = uint8(luma8(uint32(q[0]), uint32(q[1]), uint32(q[2])))
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range im.Palette {
			lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		p := im.Pix[y*im.Stride:]
		for x := range dst {
			dst[x] = lut[p[x]]
		}
	default:
		for x := range dst {
			r, g, bb, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
			dst[x] = uint8(luma8(r>>8, g>>8, bb>>8))
		}
	}
}

// MaskCrop crops img to exactly outW x outH so that the white part of mask
// (luma > 127) stays in frame with at least the margins m around its
// bounding box.
//
// It takes the tightest window of the output's aspect ratio that is centred
// on the mask's centroid and holds the bounding box plus margins, shifted to
// lie inside the image; if that window is larger than the image, the largest
// smaller one that still holds them. When no window inside the image can
// (the mask is too wide or tall for the aspect ratio, or touches the edge
// where a margin is required), the mask is scaled to fit the output and the
// area beyond the image is filled with bg (transparent for the zero
// Background). Transparent input pixels are composited over bg when bg is an
// opaque colour.
//
// The mask must have the image's size, or the same aspect ratio (within 1%),
// in which case it is scaled to the image. The returned Rect is the part of
// the input that the output shows, in fractions of the input.
func MaskCrop(img *image.NRGBA, mask image.Image, outW, outH int, m Margins, bg Background) (*image.NRGBA, Rect, error) {
	if err := checkImage(img); err != nil {
		return nil, Rect{}, fmt.Errorf("mask crop: %w", err)
	}
	if mask == nil {
		return nil, Rect{}, errors.New("mask crop: nil mask")
	}
	if err := checkOutput(outW, outH); err != nil {
		return nil, Rect{}, fmt.Errorf("mask crop: %w", err)
	}
	mT, mR, mB, mL, err := m.px(outW, outH)
	if err != nil {
		return nil, Rect{}, fmt.Errorf("mask crop: %w", err)
	}
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	mi := scanMask(mask)
	if mi.w <= 0 || mi.h <= 0 {
		return nil, Rect{}, errors.New("mask crop: empty mask image")
	}
	W, H := float64(iw), float64(ih)
	kx, ky := W/float64(mi.w), H/float64(mi.h)
	if (mi.w != iw || mi.h != ih) && math.Abs(kx/ky-1) > 0.01 {
		return nil, Rect{}, fmt.Errorf("mask crop: mask is %dx%d but image is %dx%d (aspect ratios differ)", mi.w, mi.h, iw, ih)
	}
	if mi.n == 0 {
		return nil, Rect{}, fmt.Errorf("mask crop: %w", ErrEmptyMask)
	}
	box := rectF{float64(mi.x0) * kx, float64(mi.y0) * ky, float64(mi.x1) * kx, float64(mi.y1) * ky}
	cx, cy := mi.sx/float64(mi.n)*kx, mi.sy/float64(mi.n)*ky
	win, s, fits := planMaskCrop(W, H, float64(outW), float64(outH), box, cx, cy, mT, mR, mB, mL)

	out := image.NewNRGBA(image.Rect(0, 0, outW, outH))
	if fits {
		resample(out, out.Rect, img, win)
		flatten(out, bg)
		return out, win.frac(iw, ih), nil
	}
	used := rectF{max(win.x0, 0), max(win.y0, 0), min(win.x1, W), min(win.y1, H)}
	dr := image.Rect(
		int(math.Round((used.x0-win.x0)*s)), int(math.Round((used.y0-win.y0)*s)),
		int(math.Round((used.x1-win.x0)*s)), int(math.Round((used.y1-win.y0)*s)),
	).Intersect(out.Rect)
	if dr.Dx() < 1 {
		dr.Max.X = min(dr.Min.X+1, outW)
		dr.Min.X = dr.Max.X - 1
	}
	if dr.Dy() < 1 {
		dr.Max.Y = min(dr.Min.Y+1, outH)
		dr.Min.Y = dr.Max.Y - 1
	}
	c := bg.fill()
	fillRect(out, out.Rect, [4]uint8{c.R, c.G, c.B, c.A})
	resample(out, dr, img, used)
	flatten(out, bg)
	return out, used.frac(iw, ih), nil
}

// planMaskCrop chooses the crop window (input pixels) and its scale s
// (output pixels per input pixel). fits reports whether the window lies
// inside the image; if not, the caller pads.
//
// For a window of the output's shape at scale s, the margins cost m/s input
// pixels. Three bounds on s matter:
//   - sC: the tightest window centred on the centroid that holds the box
//     plus margins (the preferred crop);
//   - sMin: windows must be no larger than the image, and the margins must
//     not reach beyond it (sEdge);
//   - sB: the largest s at which the box plus margins fits the output at all.
//
// Any s in [max(sC, sMin, sEdge), sB] gives a window inside the image; the
// smallest such s keeps it closest to centroid-centred. Otherwise the mask is
// fitted at sB and the window overhangs the image.
func planMaskCrop(W, H, oW, oH float64, box rectF, cx, cy, mT, mR, mB, mL float64) (win rectF, s float64, fits bool) {
	bw, bh := box.x1-box.x0, box.y1-box.y0
	sB := min((oW-mL-mR)/bw, (oH-mT-mB)/bh)

	sC := math.Inf(1)
	centred := func(room, extent float64) {
		if extent <= 0 {
			return
		}
		if room <= 0 {
			sC = 0
			return
		}
		sC = min(sC, room/extent)
	}
	centred(oW/2-mL, cx-box.x0)
	centred(oW/2-mR, box.x1-cx)
	centred(oH/2-mT, cy-box.y0)
	centred(oH/2-mB, box.y1-cy)
	sC = min(sC, sB)

	edge := func(margin, room float64) float64 {
		if margin <= 0 {
			return 0
		}
		if room <= 0 {
			return math.Inf(1)
		}
		return margin / room
	}
	sMin := max(oW/W, oH/H)
	sEdge := max(edge(mL, box.x0), edge(mR, W-box.x1), edge(mT, box.y0), edge(mB, H-box.y1))

	s = max(sC, sMin, sEdge)
	fits = s <= sB*(1+1e-9)
	if fits {
		s = min(s, sB)
	} else {
		s = sB
	}
	ww, wh := oW/s, oH/s
	if fits { // guard against rounding: never exceed the image
		ww, wh = min(ww, W), min(wh, H)
	}
	x0 := place(cx, ww, W, box.x0-mL/s, box.x1+mR/s)
	y0 := place(cy, wh, H, box.y0-mT/s, box.y1+mB/s)
	win = rectF{x0, y0, x0 + ww, y0 + wh}
	if fits {
		win.x0, win.y0 = max(win.x0, 0), max(win.y0, 0)
		win.x1, win.y1 = min(win.x1, W), min(win.y1, H)
	}
	return win, s, fits
}

// place returns the start of a window of length size on an axis of length
// full: centred on c, moved to overlap the image as much as possible, and
// then moved (if needed) so it starts at or before need0 and ends at or
// after need1.
func place(c, size, full, need0, need1 float64) float64 {
	lo, hi := 0.0, full-size
	if size > full {
		lo, hi = full-size, 0
	}
	v := clampF(c-size/2, lo, hi)
	return clampF(v, need1-size, need0)
}
