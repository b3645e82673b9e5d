package digitize

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"
	"strings"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// numericWhitelist is what a numeric cell may contain: digits, separators,
// accounting brackets, signs, currency, percent and the footnote star.
const numericWhitelist = "0123456789.,()$€£¥%-—*+"

// Re-read sizes, in pixels of the strip handed to tesseract.
const (
	// rereadCapHeight is the digit height a numeric cell is scaled to.
	rereadCapHeight = 30.0
	// minRereadConf is the confidence (0..100) under which a re-read of a
	// cell nothing else could read leaves the cell empty.
	minRereadConf = 45.0
	// lowConf is the confidence (0..1) of a first reading under which a
	// cell that neither pass reads as a number is emptied.
	lowConf = 0.6
)

// numericColumns returns the columns whose body cells are mostly numbers
// (more than half of the non-empty ones hold a digit).
func numericColumns(t *Table) map[int]bool {
	digits, filled := map[int]int{}, map[int]int{}
	for _, c := range t.Cells {
		if c.R < t.HeaderRows || c.ColSpan != 1 || strings.TrimSpace(c.Text) == "" {
			continue
		}
		filled[c.C]++
		if strings.ContainsAny(c.Text, "0123456789") {
			digits[c.C]++
		}
	}
	out := map[int]bool{}
	for c, n := range filled {
		if 2*digits[c] > n && c > 0 {
			out[c] = true
		}
	}
	return out
}

// canvasRect returns the pixel rectangle on p's canvas of a box in
// fractions of the source image (the inverse of frac).
func (p *page) canvasRect(b [4]float64) image.Rectangle {
	if r := p.rot; r != nil {
		cx, cy := (b[0]+b[2]/2)*r.srcW, (b[1]+b[3]/2)*r.srcH
		dx, dy := cx-r.cx, cy-r.cy
		// Inverse of toSource.
		nx := r.cos*dx + r.sin*dy + r.ncx
		ny := -r.sin*dx + r.cos*dy + r.ncy
		hw, hh := b[2]*r.srcW/2, b[3]*r.srcH/2
		return image.Rect(int(nx-hw), int(ny-hh), int(math.Ceil(nx+hw)), int(math.Ceil(ny+hh))).Intersect(p.gray.Rect)
	}
	W, H := float64(p.w), float64(p.h)
	return image.Rect(int(b[0]*W), int(b[1]*H), int(math.Ceil((b[0]+b[2])*W)), int(math.Ceil((b[1]+b[3])*H))).Intersect(p.gray.Rect)
}

// inkBounds returns the bounds of the text ink inside r (rulings erased),
// or an empty rectangle.
func (p *page) inkBounds(r image.Rectangle) image.Rectangle {
	x0, y0, x1, y1 := r.Max.X, r.Max.Y, r.Min.X, r.Min.Y
	t := p.softT
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := p.clean.Pix[y*p.clean.Stride:]
		n := 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if row[x] <= t {
				n++
				x0, x1 = min(x0, x), max(x1, x+1)
			}
		}
		if n > 0 {
			y0, y1 = min(y0, y), max(y1, y+1)
		}
	}
	if x1 <= x0 || y1 <= y0 {
		return image.Rectangle{}
	}
	return image.Rect(x0, y0, x1, y1)
}

// rereadNumeric reads the body cells of t's numeric columns a second time,
// each on a line of its own in one strip, scaled to rereadCapHeight and
// restricted to numericWhitelist: on a scanned page the whole-page pass
// drops decimal points and confuses letters with digits. A re-read that
// parses as a number replaces the first reading unless that one parsed to
// the same number; a cell neither pass could read as a number keeps its
// text only when it is a dash, and is otherwise emptied, with the low
// confidence of the re-read (a value is never guessed).
func (p *page) rereadNumeric(ctx context.Context, t *Table) error {
	cols := numericColumns(t)
	if len(cols) == 0 {
		return nil
	}
	type job struct {
		cell *Cell
		crop image.Rectangle
	}
	var jobs []job
	inset := max(1, int(p.capH/6))
	for i := range t.Cells {
		c := &t.Cells[i]
		if c.R < t.HeaderRows || c.ColSpan != 1 || !cols[c.C] || strings.TrimSpace(c.Text) == "—" {
			continue
		}
		r := p.canvasRect(c.BBox).Inset(inset)
		if r.Empty() {
			continue
		}
		ink := p.inkBounds(r)
		if ink.Empty() || ink.Dy() < int(0.4*p.capH) {
			continue
		}
		jobs = append(jobs, job{c, ink})
	}
	if len(jobs) == 0 {
		return nil
	}
	s := math.Min(rereadCapHeight/p.capH, 2*maxUpscale)
	pad := int(math.Ceil(0.5 * p.capH))
	gap := int(math.Ceil(1.2 * p.capH))
	widest, height := 0, gap
	for _, j := range jobs {
		widest = max(widest, j.crop.Dx()+2*pad)
		height += j.crop.Dy() + 2*pad + gap
	}
	strip := image.NewGray(image.Rect(0, 0, widest+2*gap, height))
	for i := range strip.Pix {
		strip.Pix[i] = 255
	}
	offsets := make([]int, len(jobs))
	y := gap
	for i, j := range jobs {
		offsets[i] = y
		r := j.crop
		for yy := 0; yy < r.Dy(); yy++ {
			src := p.clean.Pix[(r.Min.Y+yy)*p.clean.Stride+r.Min.X : (r.Min.Y+yy)*p.clean.Stride+r.Max.X]
			dst := strip.Pix[(y+pad+yy)*strip.Stride+gap+pad:]
			// Paper to white: the strip's background is white.
			for k, v := range src {
				if v >= p.bg-8 {
					v = 255
				}
				dst[k] = v
			}
		}
		y += r.Dy() + 2*pad + gap
	}
	in := scaleGrayCubic(strip, s)
	ws, err := p.ocr.Recognize(ctx, in, ocr.Options{PSM: 6, Whitelist: numericWhitelist})
	if err != nil {
		return fmt.Errorf("digitize: numeric re-read: %w", err)
	}
	parts := make([][]word, len(jobs))
	for _, w := range ws {
		cy := (float64(w.Y) + float64(w.H)/2) / s
		i := sort.SearchInts(offsets, int(cy)+1) - 1
		if i < 0 || i >= len(jobs) || cy > float64(offsets[i]+jobs[i].crop.Dy()+2*pad) {
			continue
		}
		parts[i] = append(parts[i], word{text: strings.TrimSpace(w.Text), conf: w.Conf, x0: float64(w.X), x1: float64(w.X + w.W)})
	}
	for i, j := range jobs {
		ps := parts[i]
		sort.Slice(ps, func(a, b int) bool { return ps[a].x0 < ps[b].x0 })
		var b strings.Builder
		conf := 100.0
		for _, w := range ps {
			b.WriteString(w.text)
			conf = math.Min(conf, w.conf)
		}
		text := postCorrect(normalizeOCR(b.String()), true)
		c := j.cell
		v := ParseValue(text)
		old := c.Value
		switch {
		case old != nil && old.Num != nil:
			// The first reading is a number: kept (on the development
			// slice, replacing it with the re-read lost more cells than
			// it won).
		case text != "" && v != nil && v.Num != nil && conf >= minRereadConf:
			c.Text, c.Value, c.Conf = text, v, math.Round(conf)/100
		case c.Conf < lowConf:
			// Neither reading is a number and the first was unsure: no
			// guess.
			c.Text, c.Value, c.Conf = "", nil, math.Round(math.Max(0, conf))/100
			if len(ps) == 0 {
				c.Conf = 0
			}
		}
	}
	return nil
}
