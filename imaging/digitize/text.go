package digitize

import (
	"context"
	"image"
	"math"
	"sort"
	"strings"
)

// textPSM is tesseract's automatic page segmentation, which keeps
// paragraphs and columns of a text crop apart.
const textPSM = 3

// ReadText reads the text in img as lines. Content joins the lines with
// "\n" and separates paragraphs with a blank line. Without tesseract it
// returns the line boxes found from ink, with empty texts and the warning
// "ocr_unavailable".
func ReadText(ctx context.Context, img image.Image) (*TextResult, error) {
	return Reader{}.ReadText(ctx, img)
}

// ReadText is ReadText with r's OCR setting.
func (r Reader) ReadText(ctx context.Context, img image.Image) (*TextResult, error) {
	p, err := analyze(img)
	if err != nil {
		return nil, err
	}
	p.ocr = r.OCR
	if p.ocr.Available() && p.inkFraction() >= 0.0002 && p.inkFraction() <= 0.3 {
		clean, t := p.cleanForText()
		if segs := textSegments(clean, t); displayText(segs) {
			lines, err := p.readSegments(ctx, clean, segs)
			if err != nil {
				return nil, err
			}
			return p.displayResult(lines), nil
		}
	}
	words, warnings, err := p.words(ctx, textPSM, false)
	if err != nil {
		return nil, err
	}
	res := &TextResult{Lines: []Line{}, Engine: p.engine("text"), Warnings: append([]string{}, warnings...)}
	if len(warnings) > 0 {
		// Blobs: group into lines by vertical overlap, no text.
		for _, l := range groupLines(words) {
			x0, y0, x1, y1 := bounds(l)
			res.Lines = append(res.Lines, Line{BBox: p.frac(x0, y0, x1, y1), Words: []Word{}})
		}
		return res, nil
	}
	if len(words) == 0 && p.inkFraction() >= 0.0002 {
		// Automatic segmentation finds nothing on some tight crops; a single
		// uniform block is the fallback.
		words, err = p.ocrWords(ctx, 6, false)
		if err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	prevPar := -1
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && words[j].line == words[i].line {
			j++
		}
		lw := words[i:j]
		i = j
		var parts []string
		sum := 0.0
		toks := make([]Word, 0, len(lw))
		for _, w := range lw {
			parts = append(parts, w.text)
			sum += w.conf
			toks = append(toks, Word{Text: w.text, BBox: p.frac(w.x0, w.y0, w.x1, w.y1), Conf: math.Round(w.conf) / 100})
		}
		x0, y0, x1, y1 := bounds(lw)
		text := strings.Join(parts, " ")
		res.Lines = append(res.Lines, Line{Text: text, BBox: p.frac(x0, y0, x1, y1), Conf: math.Round(sum/float64(len(lw))) / 100, Words: toks})
		par := lw[0].line / 1000
		if b.Len() > 0 {
			b.WriteString("\n")
			if par != prevPar {
				b.WriteString("\n")
			}
		}
		prevPar = par
		b.WriteString(text)
	}
	res.Content = b.String()
	if len(res.Lines) == 0 {
		res.Warnings = append(res.Warnings, WarnNoText)
	}
	return res, nil
}

func bounds(ws []word) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, w := range ws {
		x0, y0 = math.Min(x0, w.x0), math.Min(y0, w.y0)
		x1, y1 = math.Max(x1, w.x1), math.Max(y1, w.y1)
	}
	return
}

// groupLines groups boxes into lines by vertical overlap, top to bottom.
func groupLines(ws []word) [][]word {
	s := append([]word(nil), ws...)
	sort.Slice(s, func(i, j int) bool { return s[i].y0 < s[j].y0 })
	var lines [][]word
	var y0s, y1s []float64
	for _, w := range s {
		placed := false
		for k := range lines {
			ov := math.Min(y1s[k], w.y1) - math.Max(y0s[k], w.y0)
			if ov > 0.5*math.Min(w.h(), y1s[k]-y0s[k]) {
				lines[k] = append(lines[k], w)
				y0s[k], y1s[k] = math.Min(y0s[k], w.y0), math.Max(y1s[k], w.y1)
				placed = true
				break
			}
		}
		if !placed {
			lines = append(lines, []word{w})
			y0s, y1s = append(y0s, w.y0), append(y1s, w.y1)
		}
	}
	return lines
}

// displayResult builds the result of display text from its lines (see
// readSegments): a blank line in Content where the vertical gap to the
// previous line exceeds its height.
func (p *page) displayResult(lines [][]word) *TextResult {
	res := &TextResult{Lines: []Line{}, Engine: p.engine("text"), Warnings: []string{}}
	var b strings.Builder
	prevY1, prevH := math.Inf(-1), 0.0
	for _, lw := range lines {
		var parts []string
		sum := 0.0
		toks := make([]Word, 0, len(lw))
		for _, w := range lw {
			parts = append(parts, w.text)
			sum += w.conf
			toks = append(toks, Word{Text: w.text, BBox: p.frac(w.x0, w.y0, w.x1, w.y1), Conf: math.Round(w.conf) / 100})
		}
		x0, y0, x1, y1 := bounds(lw)
		text := strings.Join(parts, " ")
		res.Lines = append(res.Lines, Line{Text: text, BBox: p.frac(x0, y0, x1, y1), Conf: math.Round(sum/float64(len(lw))) / 100, Words: toks})
		if b.Len() > 0 {
			b.WriteString("\n")
			if y0-prevY1 > math.Max(prevH, y1-y0) {
				b.WriteString("\n")
			}
		}
		prevY1, prevH = y1, y1-y0
		b.WriteString(text)
	}
	res.Content = b.String()
	if len(res.Lines) == 0 {
		res.Warnings = append(res.Warnings, WarnNoText)
	}
	return res
}
