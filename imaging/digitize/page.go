package digitize

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// Tuning constants.
const (
	// targetCapHeight is the glyph height (pixels) OCR input is scaled to.
	targetCapHeight = 26.0
	// maxUpscale bounds the upscale factor before OCR.
	maxUpscale = 3.5
	// tablePSM is the tesseract page segmentation mode for table images.
	tablePSM = 11
	// scanNoise is the paper noise (grey levels) above which a page is
	// treated as scanned or photographed.
	scanNoise = 0.3
	// maxOCRPixels bounds the size of the image handed to tesseract.
	maxOCRPixels = 8e6
)

// word is an OCR word (or, without OCR, an ink blob) in source-image pixels.
type word struct {
	text           string
	conf           float64 // 0..100, -1 for blobs
	x0, y0, x1, y1 float64
	line           int // tesseract line key, for grouping within a cell
}

func (w word) cx() float64 { return (w.x0 + w.x1) / 2 }
func (w word) cy() float64 { return (w.y0 + w.y1) / 2 }
func (w word) h() float64  { return w.y1 - w.y0 }

// page holds the per-image analysis shared by the table and text readers.
type page struct {
	ocr   ocr.Engine // the caller's OCR setting (Reader.OCR)
	gray  *image.Gray
	w, h  int
	bg    uint8
	ink   *binary // Otsu text ink
	softT uint8   // lenient ink threshold (faint strokes, light rulings)
	capH  float64
	rul   rulings
	clean *image.Gray // gray with rulings erased, set by ocrWords
	hSeps []separator
	vSeps []separator
	// rot is set when the image was deskewed: gray and every coordinate
	// are then on the rotated canvas, and frac maps boxes back.
	rot *rotation
	// noise is the grey-level noise on the paper (noiseSigma).
	noise float64
}

func analyze(img image.Image) (*page, error) {
	b := img.Bounds()
	if b.Dx() < 8 || b.Dy() < 8 {
		return nil, fmt.Errorf("digitize: image too small (%dx%d)", b.Dx(), b.Dy())
	}
	p := &page{gray: toGray(img), w: b.Dx(), h: b.Dy()}
	p.bg = background(p.gray)
	p.noise = noiseSigma(p.gray, p.bg)
	t := otsu(p.gray)
	if int(t) >= int(p.bg) {
		t = p.bg - 1
	}
	p.ink = threshold(p.gray, t)
	// Deskew (issue 17): rotate a scanned or photographed page so that its
	// text lines and rulings are horizontal before anything else looks at
	// it.
	if deg := estimateSkew(p.ink); math.Abs(deg) >= minSkewDeg {
		p.gray, p.rot = deskewGray(p.gray, deg, p.bg)
		p.w, p.h = p.rot.canvasW, p.rot.canvasH
		if t = otsu(p.gray); int(t) >= int(p.bg) {
			t = p.bg - 1
		}
		p.ink = threshold(p.gray, t)
	}
	p.capH = textHeight(p.ink)
	if p.capH == 0 {
		p.capH = 12
	}
	if normalizeInverted(p.gray, t, int(p.capH)) {
		if t = otsu(p.gray); int(t) >= int(p.bg) {
			t = p.bg - 1
		}
		p.ink = threshold(p.gray, t)
		if h := textHeight(p.ink); h > 0 {
			p.capH = h
		}
	}
	lineT := int(p.bg) - 40
	if lineT < int(t) {
		lineT = int(t)
	}
	p.softT = uint8(max(lineT, 0))
	lineInk := threshold(p.gray, p.softT)
	minH := max(20, int(2.2*p.capH))
	minV := max(14, int(1.6*p.capH))
	maxThick := max(4, int(p.capH/2.5))
	p.rul = findRulings(lineInk, minH, minV, maxThick)
	// After extension real rulings are long; shorter survivors are runs
	// along the top or bottom of small text, which must not be erased.
	p.rul.h = keepLong(p.rul.h, 5*p.capH)
	p.rul.v = keepLong(p.rul.v, 3*p.capH)
	p.rul.h = dropTextRuns(lineInk, p.rul.h, p.capH)
	tol := max(2, int(p.capH/4))
	p.hSeps = clusterSegments(append([]segment(nil), p.rul.h...), tol)
	p.vSeps = clusterSegments(append([]segment(nil), p.rul.v...), tol)
	return p, nil
}

// ocrWords runs one tesseract pass over the whole image with rulings erased
// and the image rescaled so glyphs are about targetCapHeight tall.
func (p *page) ocrWords(ctx context.Context, psm int, recover bool) ([]word, error) {
	clean := image.NewGray(p.gray.Rect)
	copy(clean.Pix, p.gray.Pix)
	eraseRulings(clean, p.rul, p.bg, 1)
	flattenTints(clean, p.bg)
	p.clean = clean
	s := targetCapHeight / p.capH
	s = math.Min(s, maxUpscale)
	// Bound tesseract's work: at most maxOCRPixels after scaling, and no
	// upscaling of images that are mostly ink (photos, noise), where
	// tesseract would crawl for minutes.
	s = math.Min(s, math.Sqrt(maxOCRPixels/float64(p.w*p.h)))
	if p.inkFraction() > 0.3 {
		s = math.Min(s, 1)
	}
	if s < 1.15 && s > 0.7 {
		s = 1
	}
	in := clean
	// A scanned page (issue 17) is upscaled bicubic, which keeps the
	// strokes of small blurred text apart better than bilinear. (Smoothing
	// the noise first, or stretching the contrast, measured worse: strokes
	// merge and "0" reads "8".)
	if s != 1 {
		if p.scanned() {
			in = scaleGrayCubic(in, s)
		} else {
			in = scaleGray(in, s)
		}
	}
	ws, err := p.ocr.Recognize(ctx, in, ocr.Options{PSM: psm})
	if err != nil {
		return nil, fmt.Errorf("digitize: %w", err)
	}
	out := make([]word, 0, len(ws))
	for _, w := range ws {
		t := postCorrect(normalizeOCR(w.Text), false)
		if t == "" {
			continue
		}
		out = append(out, word{
			text: t, conf: w.Conf,
			x0: float64(w.X) / s, y0: float64(w.Y) / s,
			x1: float64(w.X+w.W) / s, y1: float64(w.Y+w.H) / s,
			line: w.Block*1_000_000 + w.Par*1000 + w.Line,
		})
	}
	if !recover {
		return out, nil
	}
	// Drop readings that are probably wrong; their ink is then re-read
	// blob by blob in recoverMissed.
	kept := out[:0]
	for _, w := range out {
		if p.suspicious(w) {
			continue
		}
		p.fixRaisedSuffix(&w)
		kept = append(kept, w)
	}
	out = kept
	more, err := p.recoverMissed(ctx, out, s)
	if err != nil {
		return nil, err
	}
	return p.markMinusSigns(append(out, more...)), nil
}

// markMinusSigns turns a lone dash just before a number on the same line
// into a minus sign: OCR reads a real minus (U+2212) as a separate "—"
// token, which ParseValue would take for a dash cell run into a number.
// Before a number that already has its minus, the dash is that minus read
// twice and is dropped.
func (p *page) markMinusSigns(ws []word) []word {
	out := ws[:0:0]
	for _, w := range ws {
		switch {
		case w.text != "—":
		case minusOf(w, ws, p.capH, false):
			w.text = "−"
		case minusOf(w, ws, p.capH, true):
			continue // the number's own minus, read twice
		}
		out = append(out, w)
	}
	return out
}

// normalizeOCR fixes common OCR confusions inside number-like tokens and
// drops pure noise.
func normalizeOCR(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	// Unify dashes that stand alone.
	switch s {
	case "—", "–", "-", "--", "——", "_", "=", "~":
		return "—"
	case "|", "||", "!", "‘", "’", "'", "\"", ".", ",", ":", ";", "“", "”", "`":
		return ""
	}
	digits, letters := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters++
		}
	}
	// A footnote asterisk after a number is often read as "«", "+" or "°".
	if n := len(s); digits >= 1 && n >= 2 {
		for _, suf := range []string{"«", "»", "+", "°", "^", "\"", "'", "”", "’", "*"} {
			if strings.HasSuffix(s, suf) && len(s) > len(suf) {
				prev := s[len(s)-len(suf)-1]
				if prev >= '0' && prev <= '9' || prev == ')' || prev == '%' {
					s = s[:len(s)-len(suf)] + "*"
				}
				break
			}
		}
	}
	if digits >= 2 && letters <= 2 {
		// A leading S before digits may be a dollar sign: kept for
		// fixCurrencyS, which knows the column.
		lead := ""
		if m := dollarS.FindString(s); m != "" {
			lead, s = m[:len(m)-1], s[len(m)-1:]
		}
		s = strings.Map(func(r rune) rune {
			switch r {
			case 'O', 'o', 'Ø', 'ø', 'D':
				return '0'
			case 'l', 'I', '|':
				return '1'
			case 'S':
				return '5'
			case '—', '–', '−':
				return '-'
			case '{', '[':
				return '('
			case '}', ']':
				return ')'
			}
			return r
		}, s)
		s = lead + s
		// "1.234" with a period as thousands separator read from "1,234"
		// cannot be told apart reliably; leave it.
	}
	return s
}

// blobs approximates words from ink when OCR is unavailable, and finds ink
// that OCR missed: connected components of the ink (rulings excluded) after
// bridging short horizontal gaps.
func (p *page) blobs() []word {
	ink := &binary{w: p.w, h: p.h, pix: append([]uint8(nil), p.ink.pix...)}
	for _, s := range p.rul.h {
		for y := max(s.a-1, 0); y <= min(s.b+1, p.h-1); y++ {
			for x := max(s.lo, 0); x <= min(s.hi, p.w-1); x++ {
				ink.pix[y*p.w+x] = 0
			}
		}
	}
	for _, s := range p.rul.v {
		for x := max(s.a-1, 0); x <= min(s.b+1, p.w-1); x++ {
			for y := max(s.lo, 0); y <= min(s.hi, p.h-1); y++ {
				ink.pix[y*p.w+x] = 0
			}
		}
	}
	// Bridge horizontal gaps shorter than about half a glyph height, so
	// that the glyphs of a word (and a number's separators) form one
	// component. Linear time, whatever the image holds.
	gap := int(0.45*p.capH + 0.5)
	for y := 0; y < p.h; y++ {
		row := ink.pix[y*p.w : (y+1)*p.w]
		last := -1
		for x, v := range row {
			if v == 0 {
				continue
			}
			if last >= 0 && x-last-1 <= gap {
				for k := last + 1; k < x; k++ {
					row[k] = 1
				}
			}
			last = x
		}
	}
	var ws []word
	for _, b := range components(ink) {
		if b.Dy() < 3 && b.Dx() < 3 {
			continue // specks
		}
		ws = append(ws, word{conf: -1, x0: float64(b.Min.X), y0: float64(b.Min.Y), x1: float64(b.Max.X), y1: float64(b.Max.Y)})
	}
	return ws
}

// components returns bounding boxes of 8-connected ink components.
func components(b *binary) []image.Rectangle {
	w, h := b.w, b.h
	seen := make([]bool, w*h)
	var out []image.Rectangle
	stack := make([]int, 0, 256)
	for i, v := range b.pix {
		if v == 0 || seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack[:0], i)
		r := image.Rect(i%w, i/w, i%w+1, i/w+1)
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := q%w, q/w
			r = r.Union(image.Rect(x, y, x+1, y+1))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					n := ny*w + nx
					if b.pix[n] != 0 && !seen[n] {
						seen[n] = true
						stack = append(stack, n)
					}
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// words returns OCR words, or ink blobs plus the ocr_unavailable warning.
func (p *page) words(ctx context.Context, psm int, recover bool) ([]word, []string, error) {
	if !p.ocr.Available() {
		return p.blobs(), []string{WarnOCRUnavailable}, nil
	}
	if p.inkFraction() < 0.0002 {
		return nil, nil, nil // blank: nothing for tesseract to read
	}
	ws, err := p.ocrWords(ctx, psm, recover)
	if errors.Is(err, ocr.ErrUnavailable) {
		return p.blobs(), []string{WarnOCRUnavailable}, nil
	}
	return ws, nil, err
}

func (p *page) engine(pipeline string) Engine {
	e := Engine{Pipeline: pipeline}
	if p.ocr.Available() {
		e.OCR = "tesseract"
		e.Version = p.ocr.Version()
	}
	return e
}

func (p *page) frac(x0, y0, x1, y1 float64) [4]float64 {
	W, H := float64(p.w), float64(p.h)
	if r := p.rot; r != nil {
		// Back to the source image: the centre follows the rotation, the
		// box keeps its size (an upright box around the rotated one's
		// centre, so that neighbouring cells do not overlap).
		cx, cy := r.toSource((x0+x1)/2, (y0+y1)/2)
		hw, hh := (x1-x0)/2, (y1-y0)/2
		x0, y0, x1, y1 = cx-hw, cy-hh, cx+hw, cy+hh
		W, H = r.srcW, r.srcH
	}
	x0, y0 = math.Max(0, x0), math.Max(0, y0)
	x1, y1 = math.Min(W, x1), math.Min(H, y1)
	return [4]float64{round4(x0 / W), round4(y0 / H), round4(math.Max(0, x1-x0) / W), round4(math.Max(0, y1-y0) / H)}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func keepLong(segs []segment, minLen float64) []segment {
	out := segs[:0]
	for _, s := range segs {
		if float64(s.hi-s.lo+1) >= minLen {
			out = append(out, s)
		}
	}
	return out
}

// suspicious reports an OCR word that is very unsure, or whose box is far
// wider than its text (tesseract sometimes gives one word the box of two
// neighbouring numbers).
func (p *page) suspicious(w word) bool {
	if w.text == "—" {
		return false
	}
	if w.conf < 25 {
		return true
	}
	n := float64(len([]rune(w.text)))
	return w.x1-w.x0 > 1.4*p.capH*n+p.capH
}

// scanned reports a page that looks scanned or photographed: noise on the
// paper, or a skew that was corrected.
func (p *page) scanned() bool { return p.noise > scanNoise || p.rot != nil }

// inkFraction is the share of pixels that are text ink.
func (p *page) inkFraction() float64 {
	n := 0
	for _, v := range p.ink.pix {
		n += int(v)
	}
	return float64(n) / float64(len(p.ink.pix))
}

// flattenTints maps light tints (zebra rows, header shading) to the paper
// colour. Tesseract binarizes the whole image with one threshold; the edges
// of a tinted band then read as boxes around the text and garble it.
func flattenTints(g *image.Gray, bg uint8) {
	hi := int(bg) - 28
	if hi < 128 {
		return
	}
	// A filled tint shows as a histogram peak between 190 and the paper
	// colour; make it and everything lighter white.
	var hist [256]int
	for y := 0; y < g.Rect.Dy(); y++ {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()] {
			hist[v]++
		}
	}
	total := g.Rect.Dx() * g.Rect.Dy()
	for v := 190; v < int(bg)-4; v++ {
		if hist[v]*50 >= total && hist[v] >= hist[v-1] && hist[v] >= hist[v+1] {
			hi = min(hi, v-6)
			break
		}
	}
	// Identity below lo, a ramp from lo to hi, white above: glyph strokes and
	// their anti-aliasing keep their weight.
	lo := hi - 24
	var lut [256]uint8
	for v := range lut {
		switch {
		case v < lo:
			lut[v] = uint8(v)
		case v >= hi:
			lut[v] = 255
		default:
			lut[v] = uint8(lo + (v-lo)*(255-lo)/(hi-lo))
		}
	}
	for y := 0; y < g.Rect.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()]
		for x, v := range row {
			row[x] = lut[v]
		}
	}
}

// dropTextRuns removes horizontal runs that are part of text: the serifs
// along a line of serif type, or the tops of small letters, join into long
// thin runs, but glyph stems rise from them all along their length. A
// ruling has stems only where a vertical rule or a stray descender crosses.
func dropTextRuns(ink *binary, segs []segment, capH float64) []segment {
	reach := max(2, int(0.4*capH))
	out := segs[:0]
	for _, s := range segs {
		attached, n := 0, 0
		for x := max(s.lo, 0); x <= min(s.hi, ink.w-1); x++ {
			n++
			up := 0
			for y := s.a - 1; y >= 0 && up < reach && ink.pix[y*ink.w+x] != 0; y-- {
				up++
			}
			down := 0
			for y := s.b + 1; y < ink.h && down < reach && ink.pix[y*ink.w+x] != 0; y++ {
				down++
			}
			if up >= reach || down >= reach {
				attached++
			}
		}
		if n > 0 && attached*5 > n {
			continue
		}
		out = append(out, s)
	}
	return out
}
