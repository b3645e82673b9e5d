package digitize

import (
	"context"
	"fmt"
	"image"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// Display text (issue 17): KPI cards and slide titles mix text sizes of
// 1:4 and more, and one scale for the whole image leaves either the small
// labels too small for tesseract or the large values too large. Such
// images are cut into line segments by their ink, each segment is scaled
// to bandTargetHeight on its own, and one tesseract pass reads a strip of
// all of them.
const (
	// bandTargetHeight is the height (pixels, ascender to descender) a
	// line segment is scaled to.
	bandTargetHeight = 40.0
	// displaySizeRatio is the ratio of the tallest to the shortest line
	// above which an image is read as display text.
	displaySizeRatio = 1.7
	// segmentGap is the horizontal gap, in line heights, that separates
	// two segments of one band (cards side by side).
	segmentGap = 1.6
)

type lineSegment struct {
	r image.Rectangle // on the canvas
	s float64         // scale into the strip
}

// textSegments finds line segments of text in the ink of clean: bands of
// rows with ink, split where the ink leaves a wide horizontal gap.
func textSegments(clean *image.Gray, t uint8) []image.Rectangle {
	w, h := clean.Rect.Dx(), clean.Rect.Dy()
	minRow := max(2, w/400)
	rows := make([]int, h)
	for y := 0; y < h; y++ {
		for _, v := range clean.Pix[y*clean.Stride : y*clean.Stride+w] {
			if v <= t {
				rows[y]++
			}
		}
	}
	var out []image.Rectangle
	for y := 0; y < h; {
		if rows[y] < minRow {
			y++
			continue
		}
		y0 := y
		for y < h && rows[y] >= minRow {
			y++
		}
		y1 := y
		bh := y1 - y0
		if bh < 4 {
			continue
		}
		cols := make([]int, w)
		for yy := y0; yy < y1; yy++ {
			for x, v := range clean.Pix[yy*clean.Stride : yy*clean.Stride+w] {
				if v <= t {
					cols[x]++
				}
			}
		}
		gap := int(segmentGap * float64(bh))
		x0, last := -1, -1
		for x := 0; x <= w; x++ {
			ink := x < w && cols[x] > 0
			if ink {
				if x0 < 0 {
					x0 = x
				} else if x-last-1 > gap {
					out = append(out, image.Rect(x0, y0, last+1, y1))
					x0 = x
				}
				last = x
			}
		}
		if x0 >= 0 {
			out = append(out, image.Rect(x0, y0, last+1, y1))
		}
	}
	// Drop specks (noise, residue of rulings).
	kept := out[:0]
	for _, r := range out {
		if r.Dx() >= 3 && r.Dy() >= 4 {
			kept = append(kept, r)
		}
	}
	return kept
}

// displayText reports whether the tallest segment is more than
// displaySizeRatio times the (lower) median height: a large value or title
// among normal lines, not a page of body text.
func displayText(segs []image.Rectangle) bool {
	if len(segs) < 2 {
		return false
	}
	hs := make([]int, len(segs))
	for i, r := range segs {
		hs[i] = r.Dy()
	}
	sort.Ints(hs)
	return float64(hs[len(hs)-1]) > displaySizeRatio*float64(hs[(len(hs)-1)/2])
}

// cleanForText returns the grey image with rulings erased and the paper
// levelled to white (a linear map, so that the faint strokes of small grey
// labels keep their contrast), and a lenient ink threshold.
func (p *page) cleanForText() (*image.Gray, uint8) {
	clean := image.NewGray(p.gray.Rect)
	copy(clean.Pix, p.gray.Pix)
	eraseRulings(clean, p.rul, p.bg, 1)
	var lut [256]uint8
	bg := max(int(p.bg), 1)
	for v := range lut {
		lut[v] = uint8(min(255, v*255/bg))
	}
	for i, v := range clean.Pix {
		clean.Pix[i] = lut[v]
	}
	// Ink is what is clearly darker than the paper: 40 levels, or four
	// times the paper's noise.
	return clean, uint8(255 - max(40, int(4*p.noise*255/float64(bg))))
}

// readSegments reads every segment in one tesseract pass over a strip in
// which each segment is scaled to bandTargetHeight, and returns one line
// of words per segment and tesseract line (source coordinates on the
// canvas).
func (p *page) readSegments(ctx context.Context, clean *image.Gray, rects []image.Rectangle) ([][]word, error) {
	const margin = 24
	segs := make([]lineSegment, len(rects))
	widest, height := 0, margin
	scaled := make([]*image.Gray, len(rects))
	for i, r := range rects {
		pad := max(2, r.Dy()/5)
		rr := image.Rect(r.Min.X-pad, r.Min.Y-pad, r.Max.X+pad, r.Max.Y+pad).Intersect(clean.Rect)
		s := math.Max(0.3, math.Min(bandTargetHeight/float64(r.Dy()), 2*maxUpscale))
		segs[i] = lineSegment{r: rr, s: s}
		sub := image.NewGray(image.Rect(0, 0, rr.Dx(), rr.Dy()))
		for y := 0; y < rr.Dy(); y++ {
			copy(sub.Pix[y*sub.Stride:y*sub.Stride+rr.Dx()], clean.Pix[(rr.Min.Y+y)*clean.Stride+rr.Min.X:])
		}
		scaled[i] = scaleGrayCubic(sub, s)
		widest = max(widest, scaled[i].Rect.Dx())
		height += scaled[i].Rect.Dy() + margin
	}
	if float64(widest+2*margin)*float64(height) > maxOCRPixels {
		return nil, fmt.Errorf("digitize: display text strip too large")
	}
	strip := image.NewGray(image.Rect(0, 0, widest+2*margin, height))
	for i := range strip.Pix {
		strip.Pix[i] = 255
	}
	offsets := make([]int, len(rects))
	y := margin
	for i, g := range scaled {
		offsets[i] = y
		for yy := 0; yy < g.Rect.Dy(); yy++ {
			copy(strip.Pix[(y+yy)*strip.Stride+margin:], g.Pix[yy*g.Stride:yy*g.Stride+g.Rect.Dx()])
		}
		y += g.Rect.Dy() + margin
	}
	ws, err := p.ocr.Recognize(ctx, strip, ocr.Options{PSM: 6})
	if err != nil {
		return nil, fmt.Errorf("digitize: %w", err)
	}
	type key struct{ seg, line int }
	groups := map[key][]word{}
	var order []key
	for _, w := range ws {
		t := displayCorrect(postCorrect(normalizeText(w.Text), false))
		if t == "" {
			continue
		}
		cy := float64(w.Y) + float64(w.H)/2
		i := sort.SearchInts(offsets, int(cy)+1) - 1
		if i < 0 || i >= len(rects) || cy > float64(offsets[i]+scaled[i].Rect.Dy()) {
			continue
		}
		sg := segs[i]
		tr := func(x, y int) (float64, float64) {
			return float64(sg.r.Min.X) + float64(x-margin)/sg.s, float64(sg.r.Min.Y) + float64(y-offsets[i])/sg.s
		}
		x0, y0 := tr(w.X, w.Y)
		x1, y1 := tr(w.X+w.W, w.Y+w.H)
		k := key{i, w.Block*1_000_000 + w.Par*1000 + w.Line}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], word{text: t, conf: w.Conf, x0: x0, y0: y0, x1: x1, y1: y1, line: len(order)})
	}
	out := make([][]word, 0, len(order))
	for _, k := range order {
		g := groups[k]
		sort.Slice(g, func(a, b int) bool { return g[a].x0 < g[b].x0 })
		out = append(out, g)
	}
	// Reading order: top to bottom, then left to right (cards in a row
	// read label by label; each line stays whole).
	sort.SliceStable(out, func(a, b int) bool {
		ya, yb := out[a][0].y0, out[b][0].y0
		ha := out[a][0].y1 - ya
		if math.Abs(ya-yb) > 0.5*ha {
			return ya < yb
		}
		return out[a][0].x0 < out[b][0].x0
	})
	return out, nil
}

// normalizeText trims a text token and drops lone punctuation noise
// (a stray quote or bar from a card border).
func normalizeText(s string) string {
	s = strings.TrimSpace(s)
	switch s {
	case "|", "||", "‘", "’", "'", "\"", "“", "”", "`", "_", "~":
		return ""
	}
	return s
}

// leadSign is a sign misread before a number in display text: a tilde or
// a dash for a minus, an asterisk for a plus (a footnote star follows its number, it
// does not lead it).
var leadSign = regexp.MustCompile(`^([~*—–−])([0-9])`)

// displayCorrect fixes the signs of deltas such as "+6.2%" and "-3.3%",
// which tesseract reads as "*6.2%" and "~3.3%" at label sizes.
func displayCorrect(s string) string {
	if m := leadSign.FindStringSubmatch(s); m != nil {
		sign := "-"
		if m[1] == "*" {
			sign = "+"
		}
		return sign + s[len(m[1]):]
	}
	return s
}
