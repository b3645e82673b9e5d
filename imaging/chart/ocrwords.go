package chart

import (
	"context"
	"errors"
	"image"
	"math"
	"sort"
	"strings"
	"unicode"

	xdraw "golang.org/x/image/draw"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// word is an OCR word in the coordinates of the input image.
type word struct {
	text           string
	conf           float64
	x0, y0, x1, y1 float64
}

func (w word) cx() float64 { return (w.x0 + w.x1) / 2 }
func (w word) cy() float64 { return (w.y0 + w.y1) / 2 }

// textHeight estimates the height of tick-label text (digits, capitals) from
// the dark row runs left of the vertical axis, falling back to a share of the
// image height.
func textHeight(r *raster, ax axes) float64 {
	x1 := ax.yAxisCols[0] - int(math.Max(8, 0.015*float64(r.w)))
	var runs []float64
	if x1 > 4 {
		run := 0
		for y := 0; y < r.h; y++ {
			on := false
			for x := 0; x < x1; x++ {
				if r.dark(x, y, 80) {
					on = true
					break
				}
			}
			if on {
				run++
			} else if run > 0 {
				if run >= 4 {
					runs = append(runs, float64(run))
				}
				run = 0
			}
		}
	}
	if len(runs) == 0 {
		return math.Max(8, float64(r.h)/45)
	}
	return median(runs)
}

// ocrImage is a grey copy of the input in which series colours, axis lines
// and tick marks are painted over with the background, so that Tesseract
// sees only text.
func ocrImage(r *raster, lm *labelMap, ax axes, textH float64) *image.Gray {
	gray := image.NewGray(image.Rect(0, 0, r.w, r.h))
	for i := range r.lum {
		v := r.lum[i]
		if lm.lab[i] >= 0 || r.chroma[i] > 60 {
			v = uint8(r.bgLum)
		}
		gray.Pix[i] = v
	}
	// Erase the axis lines and their tick marks, which Tesseract otherwise
	// reads as "-" or "1" stuck to the labels.
	bg := uint8(r.bgLum)
	strip := int(math.Round(math.Max(3, math.Min(6, textH/2)))) + 1
	for y := max(0, ax.y0-3); y <= min(r.h-1, ax.xAxisRows[1]+strip) && !ax.virtualY; y++ {
		for x := max(0, ax.yAxisCols[0]-strip); x <= ax.yAxisCols[1]+1 && x < r.w; x++ {
			gray.Pix[y*r.w+x] = bg
		}
	}
	for y := max(0, ax.xAxisRows[0]-1); y <= min(r.h-1, ax.xAxisRows[1]+strip) && !ax.virtualX; y++ {
		for x := max(0, ax.yAxisCols[0]-strip); x <= min(r.w-1, ax.x1+3); x++ {
			gray.Pix[y*r.w+x] = bg
		}
	}
	return gray
}

// readRegion runs OCR on rect of img, upscaled so that label text is about
// 32 pixels tall, and maps the word boxes back to img coordinates.
func readRegion(ctx context.Context, eng ocr.Engine, img *image.Gray, rect image.Rectangle, textH float64, opt ocr.Options) ([]word, error) {
	rect = rect.Intersect(img.Bounds())
	if rect.Dx() < 4 || rect.Dy() < 4 {
		return nil, nil
	}
	sub := img.SubImage(rect)
	scale := math.Max(1, math.Min(4, 32/textH))
	var src image.Image = sub
	if scale > 1.05 {
		w, h := int(math.Round(float64(rect.Dx())*scale)), int(math.Round(float64(rect.Dy())*scale))
		dst := image.NewGray(image.Rect(0, 0, w, h))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), sub, rect, xdraw.Src, nil)
		src = dst
	} else {
		scale = 1
		g := image.NewGray(image.Rect(0, 0, rect.Dx(), rect.Dy()))
		xdraw.Copy(g, image.Point{}, sub, rect, xdraw.Src, nil)
		src = g
	}
	ws, err := eng.Recognize(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	out := make([]word, 0, len(ws))
	ox, oy := float64(rect.Min.X), float64(rect.Min.Y)
	for _, w := range ws {
		t := strings.TrimSpace(w.Text)
		if t == "" || w.Conf < 0 || !hasAlnum(t) || float64(w.H)/scale < 0.4*textH {
			// Rules, bar edges and specks read as "—", "|", "=".
			continue
		}
		out = append(out, word{text: t, conf: w.Conf,
			x0: ox + float64(w.X)/scale, y0: oy + float64(w.Y)/scale,
			x1: ox + float64(w.X+w.W)/scale, y1: oy + float64(w.Y+w.H)/scale})
	}
	sort.Slice(out, func(i, j int) bool {
		if math.Abs(out[i].cy()-out[j].cy()) > textH/2 {
			return out[i].cy() < out[j].cy()
		}
		return out[i].x0 < out[j].x0
	})
	return out, nil
}

// tickWhitelist restricts the tick-label pass to characters of numbers.
const tickWhitelist = "0123456789.,-()%$€£kKMB"

// overlaps reports whether two word boxes intersect.
func overlaps(a, b word) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

func isUnavailable(err error) bool { return errors.Is(err, ocr.ErrUnavailable) }

// joinWords joins words in reading order: by line (centres within half a
// text height), then left to right.
func joinWords(ws []word, textH float64) string {
	sort.SliceStable(ws, func(i, j int) bool {
		if math.Abs(ws[i].cy()-ws[j].cy()) > textH/2 {
			return ws[i].cy() < ws[j].cy()
		}
		return ws[i].x0 < ws[j].x0
	})
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.text
	}
	return strings.Join(parts, " ")
}

func ocrAvailable() bool { return ocr.Available() }

func hasAlnum(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
