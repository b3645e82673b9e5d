package digitize

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// maxRecover bounds how many missed ink blobs one image re-reads.
const maxRecover = 80

// The blob rules of recoverMissed, in cap heights: a missed blob at most
// dashMaxHeight tall and dashMinWidth to dashMaxWidth wide is flat, a dash
// (or an underline or minus sign, see underlines and minusOf) and is not
// OCR'd; a blob at least minReadHeight tall is re-read; smaller ones are
// specks (dots, JPEG noise).
const (
	dashMaxHeight = 0.3
	dashMinWidth  = 0.4
	dashMaxWidth  = 3
	minReadHeight = 0.45
)

// fixRaisedSuffix's test, in shares of one glyph's width and of the digit
// height (the digits' top to the baseline, both read from the word's ink:
// parentheses and commas reach below the baseline, so the word's box is no
// measure): the right suffixProbeWidth of the last glyph holds a "%" down
// to the baseline (its lower circle; a round glyph may overshoot it by a
// pixel); a raised "*" ends at least raisedMinLift (and raisedMinLiftPx)
// above it and is under raisedMaxHeight tall. Below raisedMinDigitH pixels
// of digit height the ink is too coarse to tell.
const (
	suffixProbeWidth = 0.45
	raisedMinLift    = 0.15
	raisedMinLiftPx  = 2
	raisedMaxHeight  = 0.7
	raisedMinDigitH  = 5
)

// recoverMissed finds ink blobs that no OCR word covers (tesseract tends to
// drop short isolated tokens such as "96" or a dash) and reads them in one
// extra tesseract pass over a strip that stacks the blobs one per line.
// Flat blobs become "—" without OCR.
func (p *page) recoverMissed(ctx context.Context, words []word, scale float64) ([]word, error) {
	var missed []word
	for _, b := range p.blobs() {
		if b.h() > 2.2*p.capH || b.x1-b.x0 < 0.15*p.capH {
			continue
		}
		area := (b.x1 - b.x0) * b.h()
		covered := 0.0
		for _, w := range words {
			ix := math.Min(b.x1, w.x1) - math.Max(b.x0, w.x0)
			iy := math.Min(b.y1, w.y1) - math.Max(b.y0, w.y0)
			if ix > 0 && iy > 0 {
				covered += ix * iy
			}
		}
		if covered > 0.3*area {
			continue
		}
		missed = append(missed, b)
	}
	var out []word
	var toRead []word
	for _, b := range missed {
		w := b.x1 - b.x0
		switch {
		case b.h() <= dashMaxHeight*p.capH && w >= dashMinWidth*p.capH && w <= dashMaxWidth*p.capH && !p.nearRuling(b):
			switch {
			case underlines(b, words, p.capH):
				// An accounting underline under a total, not a dash cell.
			case minusOf(b, words, p.capH, true):
				// OCR read the number with its minus; the blob is that minus.
			case minusOf(b, words, p.capH, false):
				b.text, b.conf = "−", 50
				out = append(out, b)
			default:
				b.text, b.conf = "—", 50
				out = append(out, b)
			}
		case b.h() >= minReadHeight*p.capH:
			toRead = append(toRead, b)
		}
	}
	if len(toRead) > maxRecover {
		toRead = toRead[:maxRecover]
	}
	if len(toRead) == 0 {
		return out, nil
	}
	// Build the strip in the scaled space used for the main pass.
	pad := int(math.Ceil(0.35 * p.capH))
	gap := int(math.Ceil(1.2 * p.capH))
	widest, height := 0, gap
	crops := make([]image.Rectangle, len(toRead))
	for i, b := range toRead {
		r := image.Rect(int(b.x0)-pad, int(b.y0)-pad, int(math.Ceil(b.x1))+pad, int(math.Ceil(b.y1))+pad).Intersect(p.gray.Rect)
		crops[i] = r
		widest = max(widest, r.Dx())
		height += r.Dy() + gap
	}
	strip := image.NewGray(image.Rect(0, 0, widest+2*gap, height))
	for i := range strip.Pix {
		strip.Pix[i] = p.bg
	}
	offsets := make([]int, len(crops))
	y := gap
	for i, r := range crops {
		offsets[i] = y
		for yy := 0; yy < r.Dy(); yy++ {
			copy(strip.Pix[(y+yy)*strip.Stride+gap:], p.clean.Pix[(r.Min.Y+yy)*p.clean.Stride+r.Min.X:(r.Min.Y+yy)*p.clean.Stride+r.Max.X])
		}
		y += r.Dy() + gap
	}
	in := strip
	if scale != 1 {
		in = scaleGray(strip, scale)
	}
	ws, err := p.ocr.Recognize(ctx, in, ocr.Options{PSM: 6})
	if err != nil {
		return nil, fmt.Errorf("digitize: recover: %w", err)
	}
	parts := make([][]word, len(crops))
	for _, w := range ws {
		t := normalizeOCR(w.Text)
		if t == "" {
			continue
		}
		cy := (float64(w.Y) + float64(w.H)/2) / scale
		i := sort.SearchInts(offsets, int(cy)+1) - 1
		if i < 0 || i >= len(crops) || cy > float64(offsets[i]+crops[i].Dy()) {
			continue
		}
		parts[i] = append(parts[i], word{text: t, conf: w.Conf, x0: float64(w.X) / scale, x1: float64(w.X+w.W) / scale, y0: float64(w.Y) / scale, y1: float64(w.Y+w.H) / scale})
	}
	for i, ps := range parts {
		if len(ps) == 0 {
			continue
		}
		text, conf := joinWords(ps)
		b := toRead[i]
		b.text, b.conf = text, conf*100
		out = append(out, b)
	}
	return out, nil
}

// Where a flat blob sits relative to a word, in cap heights: an underline
// starts at most underlineMaxGap below the word's box (and may touch it,
// underlineMaxInset inside) and spans at least underlineMinOverlap of its
// own width under the word; a minus sign ends at most minusMaxGap before a
// word that starts with a digit, with its centre inside the word's height.
// Without these, a real minus sign (U+2212, which OCR often drops as a
// separate flat glyph) and the underline of a total both became "—", the
// in-house generator's dash cell.
const (
	underlineMaxGap     = 0.6
	underlineMaxInset   = 0.2
	underlineMinOverlap = 0.5
	minusMaxGap         = 0.6
)

// underlines reports whether the flat blob b lies under one of words.
func underlines(b word, words []word, capH float64) bool {
	for _, w := range words {
		ov := math.Min(b.x1, w.x1) - math.Max(b.x0, w.x0)
		if ov >= underlineMinOverlap*(b.x1-b.x0) && b.y0 >= w.y1-underlineMaxInset*capH && b.y0 <= w.y1+underlineMaxGap*capH {
			return true
		}
	}
	return false
}

// minusOf reports whether the flat blob b is the minus sign of a number
// that follows it on the same line: a word starting with a digit, or with
// signed set, a word that starts with its own minus (OCR read it already).
func minusOf(b word, words []word, capH float64, signed bool) bool {
	cy := (b.y0 + b.y1) / 2
	for _, w := range words {
		if w.text == "" {
			continue
		}
		first, size := utf8.DecodeRuneInString(w.text)
		if signed {
			if first != '-' && first != '−' && first != '–' || len(w.text) == size || !isDigit(w.text[size]) {
				continue
			}
		} else if first < '0' || first > '9' {
			continue
		}
		if gap := w.x0 - b.x1; gap >= -0.1*capH && gap <= minusMaxGap*capH && cy > w.y0 && cy < w.y1 {
			return true
		}
	}
	return false
}

// fixRaisedSuffix corrects a final "%" that is really a raised footnote
// asterisk: the last glyph's ink ends well above the baseline of the
// word's other glyphs. The baseline and the digit height are read from the
// ink, not from the word's box: parentheses and commas reach below the
// baseline and a box that holds them made a "%" on the baseline of
// "(17,9)%" look raised.
func (p *page) fixRaisedSuffix(w *word) {
	n := len(w.text)
	if n < 2 || w.text[n-1] != '%' {
		return
	}
	x0, x1 := int(w.x0), int(math.Ceil(w.x1))
	y0, y1 := int(w.y0), int(math.Ceil(w.y1))
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, p.w-1), min(y1, p.h-1)
	if x1-x0 < 3 || y1-y0 < 5 {
		return
	}
	// column returns the topmost and lowest ink row of column x.
	column := func(x int) (top, bottom int, ok bool) {
		top, bottom = y1, y0
		for y := y0; y <= y1; y++ {
			if p.gray.Pix[y*p.gray.Stride+x] <= p.softT {
				top, bottom, ok = min(top, y), max(bottom, y), true
			}
		}
		return
	}
	// The baseline and the digits' top: the most common lowest and topmost
	// ink rows of the word's columns (digits are most of the columns;
	// parentheses, commas, descenders and the suffix are few).
	bottoms, tops := map[int]int{}, map[int]int{}
	xr := -1
	for x := x0; x <= x1; x++ {
		if t, b, ok := column(x); ok {
			bottoms[b]++
			tops[t]++
			xr = x
		}
	}
	base, top := modeRow(bottoms), modeRow(tops)
	digitH := float64(base - top)
	if xr < 0 || digitH < raisedMinDigitH {
		return
	}
	// The right part of the last glyph, from the rightmost ink column:
	// "%" has ink from the digits' top to the baseline there (slash and
	// lower circle), a raised asterisk is short and ends above the
	// baseline.
	glyphW := float64(x1-x0) / float64(len([]rune(w.text)))
	gTop, gBottom := y1, y0
	for x := xr; x >= x0 && float64(xr-x) <= suffixProbeWidth*glyphW; x-- {
		if t, b, ok := column(x); ok {
			gTop, gBottom = min(gTop, t), max(gBottom, b)
		}
	}
	if float64(base-gBottom) >= max(raisedMinLiftPx, raisedMinLift*digitH) && float64(gBottom-gTop) < raisedMaxHeight*digitH {
		w.text = w.text[:n-1] + "*"
	}
}

// modeRow is the most common row of counts (the lowest row on a tie).
func modeRow(counts map[int]int) int {
	best, bestN := 0, -1
	for y, n := range counts {
		if n > bestN || n == bestN && y < best {
			best, bestN = y, n
		}
	}
	return best
}

// nearRuling reports whether a flat blob lies along a ruling line: residue
// of an erased line, not a dash.
func (p *page) nearRuling(b word) bool {
	m := 0.4 * p.capH
	for _, s := range p.rul.h {
		if b.y1 >= float64(s.a)-m && b.y0 <= float64(s.b)+m && b.x1 >= float64(s.lo)-m && b.x0 <= float64(s.hi)+m {
			return true
		}
	}
	for _, s := range p.rul.v {
		if b.x1 >= float64(s.a)-m && b.x0 <= float64(s.b)+m && b.y1 >= float64(s.lo)-m && b.y0 <= float64(s.hi)+m {
			return true
		}
	}
	return false
}
