package render

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Sizes in world units, as the browser client's stylesheet has them.
const (
	noteFont     = 21.0
	noteLineH    = 1.35
	notePadX     = 20.0
	notePadY     = 18.0
	noteGap      = 8.0
	noteRadius   = 6.0
	tableMaxFont = 16.0
	tableMinFont = 5.0
	// maxTableSide bounds the rows and columns a table is drawn with.
	maxTableSide = 1000
	// Text smaller than this many output pixels is drawn as grey bars
	// (greeked): glyphs that small are noise, and the bars show where the
	// text is.
	minGlyphPx = 5.0
	// Layout measures with a face at least this large and scales the
	// widths, so wrapping does not depend on the output scale.
	minLayoutPx = 8.0
)

var (
	noteShadow   = color.NRGBA{16, 24, 40, 30}
	darkText     = color.NRGBA{0x1f, 0x24, 0x30, 0xff}
	lightText    = color.NRGBA{0xf8, 0xfa, 0xfc, 0xff}
	tableBorder  = color.NRGBA{0xe2, 0xe6, 0xee, 0xff}
	tableRule    = color.NRGBA{0xed, 0xf0, 0xf4, 0xff}
	tableTitleBg = color.NRGBA{0xfa, 0xfb, 0xfc, 0xff}
	tableHeadBg  = color.NRGBA{0xf3, 0xf4, 0xfb, 0xff}
	tableHeadInk = color.NRGBA{0x3b, 0x3f, 0x8f, 0xff}
	tableEvenBg  = color.NRGBA{0xfb, 0xfc, 0xfd, 0xff}
	anchorLine   = color.NRGBA{79, 70, 229, 90}
	anchorFill   = color.NRGBA{99, 102, 241, 9}
	anchorInk    = color.NRGBA{0x43, 0x38, 0xca, 0xff}
	emptyImage   = color.NRGBA{0xec, 0xee, 0xf2, 0xff}
	emptyCross   = color.NRGBA{0xc4, 0xc9, 0xd4, 0xff}
	genericLine  = color.NRGBA{0xd0, 0xd5, 0xdd, 0xff}
	genericInk   = color.NRGBA{0x66, 0x70, 0x85, 0xff}
	white        = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	connDefault  = color.NRGBA{0x64, 0x74, 0x8b, 0xff}
	connLight    = color.NRGBA{0x7c, 0x85, 0x98, 0xff}
)

// box is a widget's rectangle in output pixels; s maps the widget's local
// units to output pixels.
type box struct{ x, y, w, h, s float64 }

type pt struct{ x, y float64 }

type faceKey struct {
	bold bool
	q    int // size in quarter pixels
}

// painter draws into dst. World point p lands at (p - origin) * scale.
type painter struct {
	r      *Renderer
	dst    *image.RGBA
	scale  float64
	ox, oy float64
	ras    vector.Rasterizer
	faces  map[faceKey]font.Face
}

func newPainter(r *Renderer, dst *image.RGBA, scale, ox, oy float64) *painter {
	return &painter{r: r, dst: dst, scale: scale, ox: ox, oy: oy, faces: map[faceKey]font.Face{}}
}

func (p *painter) box(x, y, w, h float64) box {
	return box{(x - p.ox) * p.scale, (y - p.oy) * p.scale, w * p.scale, h * p.scale, 0}
}

// ---------------------------------------------------------------- shapes

// fill paints the union of polygons (in output pixels) in c, anti-aliased.
// The rasterizer covers only the polygons' bounding box, so a small shape
// on a large preview costs little.
func (p *painter) fill(c color.Color, polys ...[]pt) {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, poly := range polys {
		for _, q := range poly {
			minX, minY = math.Min(minX, q.x), math.Min(minY, q.y)
			maxX, maxY = math.Max(maxX, q.x), math.Max(maxY, q.y)
		}
	}
	if !finite(minX, minY, maxX, maxY) {
		return
	}
	bounds := p.dst.Bounds()
	r := image.Rect(int(math.Floor(math.Max(minX, -1))), int(math.Floor(math.Max(minY, -1))),
		int(math.Ceil(math.Min(maxX, float64(bounds.Max.X+1)))), int(math.Ceil(math.Min(maxY, float64(bounds.Max.Y+1))))).Intersect(bounds)
	if r.Empty() {
		return
	}
	p.ras.Reset(r.Dx(), r.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	clampX := func(v float64) float32 { return float32(math.Max(-1, math.Min(v-ox, float64(r.Dx()+1)))) }
	clampY := func(v float64) float32 { return float32(math.Max(-1, math.Min(v-oy, float64(r.Dy()+1)))) }
	for _, poly := range polys {
		if len(poly) < 3 {
			continue
		}
		// Every polygon winds the same way, so overlaps add up instead of
		// cancelling out.
		if signedArea(poly) < 0 {
			poly = reversed(poly)
		}
		p.ras.MoveTo(clampX(poly[0].x), clampY(poly[0].y))
		for _, q := range poly[1:] {
			p.ras.LineTo(clampX(q.x), clampY(q.y))
		}
		p.ras.ClosePath()
	}
	p.ras.Draw(p.dst, r, image.NewUniform(c), image.Point{})
}

func signedArea(poly []pt) float64 {
	a := 0.0
	for i := range poly {
		j := (i + 1) % len(poly)
		a += poly[i].x*poly[j].y - poly[j].x*poly[i].y
	}
	return a
}

func reversed(poly []pt) []pt {
	out := make([]pt, len(poly))
	for i, q := range poly {
		out[len(poly)-1-i] = q
	}
	return out
}

// roundRect is a rectangle with corners of radius rad, as a polygon.
func roundRect(x, y, w, h, rad float64) []pt {
	rad = math.Max(0, math.Min(rad, math.Min(w, h)/2))
	if rad < 0.5 {
		return []pt{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}
	}
	const n = 6
	var out []pt
	corner := func(cx, cy, a0 float64) {
		for i := 0; i <= n; i++ {
			a := a0 + float64(i)*math.Pi/2/n
			out = append(out, pt{cx + rad*math.Cos(a), cy + rad*math.Sin(a)})
		}
	}
	corner(x+w-rad, y+rad, -math.Pi/2)
	corner(x+w-rad, y+h-rad, 0)
	corner(x+rad, y+h-rad, math.Pi/2)
	corner(x+rad, y+rad, math.Pi)
	return out
}

func circle(c pt, rad float64) []pt {
	n := max(8, min(32, int(rad*2)))
	out := make([]pt, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / float64(n)
		out[i] = pt{c.x + rad*math.Cos(a), c.y + rad*math.Sin(a)}
	}
	return out
}

func (p *painter) fillRect(x, y, w, h, rad float64, c color.Color) {
	p.fill(c, roundRect(x, y, w, h, rad))
}

// strokeRect draws a rectangle's outline of width lw, inside the rectangle.
func (p *painter) strokeRect(x, y, w, h, lw float64, c color.Color) {
	p.fill(c,
		[]pt{{x, y}, {x + w, y}, {x + w, y + lw}, {x, y + lw}},
		[]pt{{x, y + h - lw}, {x + w, y + h - lw}, {x + w, y + h}, {x, y + h}},
		[]pt{{x, y}, {x + lw, y}, {x + lw, y + h}, {x, y + h}},
		[]pt{{x + w - lw, y}, {x + w, y}, {x + w, y + h}, {x + w - lw, y + h}})
}

// strokePolyline draws a line of width lw through pts with round joins and
// caps, as one union so a translucent colour is not doubled at the joins.
func (p *painter) strokePolyline(pts []pt, lw float64, c color.Color) {
	if len(pts) < 2 {
		return
	}
	hw := lw / 2
	polys := make([][]pt, 0, 2*len(pts))
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*hw, dx/l*hw
		polys = append(polys, []pt{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}})
	}
	if hw >= 0.75 {
		for _, q := range pts {
			polys = append(polys, circle(q, hw))
		}
	}
	p.fill(c, polys...)
}

// ---------------------------------------------------------------- text

func (p *painter) face(bold bool, px float64) font.Face {
	k := faceKey{bold, max(1, int(math.Round(px*4)))}
	if f, ok := p.faces[k]; ok {
		return f
	}
	fnt := p.r.regular
	if bold {
		fnt = p.r.bold
	}
	f, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: float64(k.q) / 4, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		// Only an invalid size fails, and k.q >= 1 is valid.
		panic(fmt.Sprintf("render: font face of %v px: %v", px, err))
	}
	p.faces[k] = f
	return f
}

func width(f font.Face, s string) float64 { return float64(font.MeasureString(f, s)) / 64 }

// text is one run of text to lay out in a box of output pixels.
type text struct {
	s      string
	bold   bool
	px     float64 // font size in output pixels
	lineH  float64 // line height in output pixels
	wrap   bool    // wrap at maxW (else one line, cut at maxW)
	maxW   float64
	ink    color.Color
	alignR bool
}

// layoutLines wraps t.s into at most maxLines lines no wider than t.maxW,
// measured with a face of at least minLayoutPx. It returns the lines and
// each line's width in output pixels.
func (p *painter) layoutLines(t text, maxLines int) ([]string, []float64) {
	if maxLines <= 0 || t.maxW <= 0 {
		return nil, nil
	}
	k := math.Max(1, minLayoutPx/t.px)
	f := p.face(t.bold, t.px*k)
	maxW := t.maxW * k
	var lines []string
	var widths []float64
	push := func(s string, w float64) bool {
		lines = append(lines, s)
		widths = append(widths, w/k)
		return len(lines) < maxLines
	}
	if !t.wrap {
		s := strings.ReplaceAll(t.s, "\n", " ")
		s, w := cut(f, s, maxW)
		push(s, w)
		return lines, widths
	}
	space := width(f, " ")
	for _, para := range strings.Split(t.s, "\n") {
		line, lw := "", 0.0
		for _, word := range strings.Split(para, " ") {
			ww := width(f, word)
			switch {
			case line == "" && ww <= maxW:
				line, lw = word, ww
			case line != "" && lw+space+ww <= maxW:
				line, lw = line+" "+word, lw+space+ww
			default:
				if line != "" {
					if !push(line, lw) {
						return lines, widths
					}
				}
				// A word wider than the box breaks anywhere.
				for ww > maxW {
					head, hw := cut(f, word, maxW)
					if head == "" {
						_, n := utf8.DecodeRuneInString(word)
						head, hw = word[:n], width(f, word[:n])
					}
					if !push(head, hw) {
						return lines, widths
					}
					word = word[len(head):]
					ww -= hw // close enough to decide; kerning across the cut is lost
					if ww <= maxW {
						ww = width(f, word)
					}
				}
				line, lw = word, ww
			}
		}
		if !push(line, lw) {
			return lines, widths
		}
	}
	return lines, widths
}

// cut returns the longest prefix of s no wider than maxW, and its width. It
// reads s only as far as maxW reaches.
func cut(f font.Face, s string, maxW float64) (string, float64) {
	w := 0.0
	prev := rune(-1)
	for i, r := range s {
		adv, ok := f.GlyphAdvance(r)
		if !ok {
			adv, _ = f.GlyphAdvance('\uFFFD')
		}
		if prev >= 0 {
			adv += f.Kern(prev, r)
		}
		if w+float64(adv)/64 > maxW {
			return s[:i], w
		}
		w += float64(adv) / 64
		prev = r
	}
	return s, w
}

// drawLines draws lines from the top-left (x, y) of clip, one per
// t.lineH, clipped to clip. Below minGlyphPx they are bars.
func (p *painter) drawLines(t text, lines []string, widths []float64, x, y float64, clip image.Rectangle) {
	clip = clip.Intersect(p.dst.Bounds())
	if clip.Empty() || t.lineH < 1 {
		return
	}
	if t.px < minGlyphPx {
		barH := math.Max(0.5, t.px*0.55)
		ink := withAlpha(t.ink, 0.45)
		for i, w := range widths {
			top := y + float64(i)*t.lineH + (t.lineH-barH)/2
			lx := x
			if t.alignR {
				lx = x + t.maxW - w
			}
			polys := []pt{{lx, top}, {lx + w, top}, {lx + w, top + barH}, {lx, top + barH}}
			p.fillClipped(clip, ink, polys)
		}
		return
	}
	f := p.face(t.bold, t.px)
	m := f.Metrics()
	ascent := float64(m.Ascent) / 64
	descent := float64(m.Descent) / 64
	sub := p.dst.SubImage(clip).(*image.RGBA)
	d := font.Drawer{Dst: sub, Src: image.NewUniform(t.ink), Face: f}
	for i, s := range lines {
		base := y + float64(i)*t.lineH + (t.lineH-ascent-descent)/2 + ascent
		lx := x
		if t.alignR {
			lx = x + t.maxW - widths[i]
		}
		d.Dot = fixed.Point26_6{X: fixed.Int26_6(math.Round(lx * 64)), Y: fixed.Int26_6(math.Round(base * 64))}
		d.DrawString(s)
	}
}

// fillClipped fills poly cut to clip (an axis-aligned bar).
func (p *painter) fillClipped(clip image.Rectangle, c color.Color, bar []pt) {
	x0 := math.Max(bar[0].x, float64(clip.Min.X))
	x1 := math.Min(bar[1].x, float64(clip.Max.X))
	y0 := math.Max(bar[0].y, float64(clip.Min.Y))
	y1 := math.Min(bar[2].y, float64(clip.Max.Y))
	if x1 <= x0 || y1 <= y0 {
		return
	}
	p.fill(c, []pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}})
}

func withAlpha(c color.Color, a float64) color.NRGBA {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(float64(n.A) * a))
	return n
}

func rectOf(x, y, w, h float64) image.Rectangle {
	return image.Rect(int(math.Floor(x)), int(math.Floor(y)), int(math.Ceil(x+w)), int(math.Ceil(y+h)))
}

// ---------------------------------------------------------------- widgets

func (p *painter) note(it *item, b box) {
	s := it.s * p.scale
	bg, ok := parseColor(it.w.Props["background_color"])
	if !ok {
		bg = white
	}
	ink, ok := parseColor(it.w.Props["text_color"])
	if auto, _ := it.w.Props["auto_text_color"].(bool); auto || !ok {
		ink = darkText
		if luminance(bg) < 0.5 {
			ink = lightText
		}
	}
	p.fillRect(b.x-s, b.y, b.w+2*s, b.h+2*s, (noteRadius+1)*s, noteShadow)
	p.fillRect(b.x, b.y, b.w, b.h, noteRadius*s, bg)

	inner := box{b.x + notePadX*s, b.y + notePadY*s, b.w - 2*notePadX*s, b.h - 2*notePadY*s, s}
	if inner.w <= 0 || inner.h <= 0 || noteFont*noteLineH*s < 1 {
		return // no room, or lines thinner than a pixel
	}
	clip := rectOf(inner.x, inner.y, inner.w, inner.h)
	y := inner.y
	if title, _ := it.w.Props["title"].(string); title != "" {
		t := text{s: title, bold: true, px: noteFont * 1.1 * s, wrap: true, maxW: inner.w, ink: ink}
		t.lineH = t.px * noteLineH
		lines, widths := p.layoutLines(t, int((inner.y+inner.h-y)/t.lineH)+1)
		p.drawLines(t, lines, widths, inner.x, y, clip)
		y += float64(len(lines))*t.lineH + noteGap*s
	}
	if body, _ := it.w.Props["text"].(string); body != "" && y < inner.y+inner.h {
		t := text{s: body, px: noteFont * s, wrap: true, maxW: inner.w, ink: ink}
		t.lineH = t.px * noteLineH
		lines, widths := p.layoutLines(t, int((inner.y+inner.h-y)/t.lineH)+1)
		p.drawLines(t, lines, widths, inner.x, y, clip)
	}
}

// image draws the loader's pixels in the widget's box. Without pixels an
// Image is an empty frame with a cross, anything else its labelled box.
func (p *painter) image(ctx context.Context, it *item, b box, load ImageLoader, frame bool) error {
	r := image.Rect(int(math.Round(b.x)), int(math.Round(b.y)), int(math.Round(b.x+b.w)), int(math.Round(b.y+b.h)))
	if r.Empty() {
		r = rectOf(b.x, b.y, b.w, b.h)
	}
	var src image.Image
	if load != nil {
		var err error
		src, err = load(ctx, it.w, r.Size())
		if err != nil {
			return fmt.Errorf("image %s: %w", it.w.ID, err)
		}
	}
	if (src == nil || src.Bounds().Empty()) && !frame {
		p.generic(it, b)
		return nil
	}
	if src == nil || src.Bounds().Empty() {
		p.fillRect(b.x, b.y, b.w, b.h, 0, emptyImage)
		lw := math.Max(1, 2*it.s*p.scale)
		p.strokePolyline([]pt{{b.x, b.y}, {b.x + b.w, b.y + b.h}}, lw, emptyCross)
		p.strokePolyline([]pt{{b.x + b.w, b.y}, {b.x, b.y + b.h}}, lw, emptyCross)
		p.strokeRect(b.x, b.y, b.w, b.h, lw, emptyCross)
		return nil
	}
	draw.CatmullRom.Scale(p.dst, r, src, src.Bounds(), draw.Over, nil)
	if !frame {
		// A page edge, so a white page stands out on a light canvas.
		p.strokeRect(b.x, b.y, b.w, b.h, 1, genericLine)
	}
	return nil
}

// table paints a Table widget: {n_rows, n_cols, header_rows, cells:
// [{r, c, rowspan, colspan, text}], title}. Rows share the height below the
// title equally and columns the width, as in the browser client.
func (p *painter) table(it *item, b box) {
	s := it.s * p.scale
	pr := it.w.Props
	nRows := int(math.Min(numOr(pr["n_rows"], 0), maxTableSide))
	nCols := int(math.Min(numOr(pr["n_cols"], 0), maxTableSide))
	cells, _ := pr["cells"].([]any)
	type cell struct {
		r, c, rs, cs int
		text         string
	}
	var cs []cell
	longest := 3
	for _, v := range cells {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		c := cell{int(numOr(m["r"], -1)), int(numOr(m["c"], -1)), max(1, int(numOr(m["rowspan"], 1))), max(1, int(numOr(m["colspan"], 1))), ""}
		c.text, _ = m["text"].(string)
		if c.r < 0 || c.c < 0 || c.r >= maxTableSide || c.c >= maxTableSide {
			continue
		}
		c.rs, c.cs = min(c.rs, maxTableSide), min(c.cs, maxTableSide)
		nRows, nCols = max(nRows, min(c.r+c.rs, maxTableSide)), max(nCols, min(c.c+c.cs, maxTableSide))
		if c.cs == 1 {
			longest = max(longest, utf8.RuneCountInString(c.text))
		}
		cs = append(cs, c)
	}
	title, _ := pr["title"].(string)
	headerRows := int(numOr(pr["header_rows"], 0))

	p.fillRect(b.x, b.y, b.w, b.h, 8*s, white)
	worldW, worldH := b.w/s, b.h/s
	slots := float64(max(nRows, 1))
	if title != "" {
		slots += 1.4
	}
	slot := worldH / slots
	top := b.y
	if title != "" {
		th := slot * 1.4 * s
		p.fillRect(b.x, b.y, b.w, th, 0, tableTitleBg)
		p.fillRect(b.x, b.y+th-math.Max(1, s), b.w, math.Max(1, s), 0, tableBorder)
		t := text{s: title, bold: true, px: math.Min(slot*0.55, 16*1.05) * s, maxW: b.w - 2*12*s, ink: darkText}
		t.lineH = th
		lines, widths := p.layoutLines(t, 1)
		p.drawLines(t, lines, widths, b.x+12*s, b.y, rectOf(b.x, b.y, b.w, th))
		top += th
	}
	colW, rowH := b.w/float64(max(nCols, 1)), slot*s
	// Rows or columns thinner than a pixel have no grid or text to show.
	if nRows > 0 && nCols > 0 && rowH >= 1 && colW >= 1 {
		fontPx := math.Max(tableMinFont, math.Min(math.Min(slot*0.5, (worldW/float64(nCols)-10)/(float64(longest)*0.56)), tableMaxFont)) * s
		for r := headerRows; r < nRows; r++ {
			if (r-headerRows)%2 == 1 {
				p.fillRect(b.x, top+float64(r)*rowH, b.w, rowH, 0, tableEvenBg)
			}
		}
		for r := 0; r < min(headerRows, nRows); r++ {
			p.fillRect(b.x, top+float64(r)*rowH, b.w, rowH, 0, tableHeadBg)
		}
		line := math.Max(1, s)
		for r := 1; r < nRows; r++ {
			p.fillRect(b.x, top+float64(r)*rowH-line/2, b.w, line, 0, tableRule)
		}
		for c := 1; c < nCols; c++ {
			p.fillRect(b.x+float64(c)*colW-line/2, top, line, float64(nRows)*rowH, 0, tableRule)
		}
		pad := math.Max(2, math.Min(12, fontPx/s*0.7)) * s
		// A column is numeric when most of its body cells hold numbers;
		// it is right-aligned, header included, as in the browser client.
		votes := map[int]int{}
		for _, c := range cs {
			if c.r >= headerRows && strings.TrimSpace(c.text) != "" {
				if isNumber(c.text) {
					votes[c.c]++
				} else {
					votes[c.c]--
				}
			}
		}
		for _, c := range cs {
			if c.r >= nRows || c.c >= nCols || c.text == "" {
				continue
			}
			cx, cy := b.x+float64(c.c)*colW, top+float64(c.r)*rowH
			cw, ch := float64(min(c.cs, nCols-c.c))*colW, float64(min(c.rs, nRows-c.r))*rowH
			ink := color.Color(darkText)
			bold := false
			if c.r < headerRows {
				ink, bold = tableHeadInk, true
			}
			if c.rs > 1 || c.cs > 1 {
				// A span covers the rules inside it.
				bg := white
				if c.r < headerRows {
					bg = tableHeadBg
				}
				p.fillRect(cx+line/2, cy+line/2, cw-line, ch-line, 0, bg)
			}
			t := text{s: c.text, bold: bold, px: fontPx, lineH: rowH, maxW: cw - 2*pad, ink: ink, alignR: c.cs == 1 && votes[c.c] > 0}
			lines, widths := p.layoutLines(t, 1)
			p.drawLines(t, lines, widths, cx+pad, cy, rectOf(cx, cy, cw, ch))
		}
	}
	p.strokeRect(b.x, b.y, b.w, b.h, math.Max(1, s), tableBorder)
}

// isNumber: numbers are right-aligned, as in the browser client.
func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-.,%$€£ ()", r):
		default:
			return false
		}
	}
	return digits > 0
}

func (p *painter) anchor(it *item, b box) {
	s := it.s * p.scale
	p.fillRect(b.x, b.y, b.w, b.h, 14*s, anchorFill)
	lw := math.Max(1, 3*s)
	dash, gap := math.Max(2, 12*s), math.Max(2, 8*s)
	var polys [][]pt
	edge := func(a, c pt) {
		l := math.Hypot(c.x-a.x, c.y-a.y)
		ux, uy := (c.x-a.x)/l, (c.y-a.y)/l
		for d := 0.0; d < l && len(polys) < 4096; d += dash + gap {
			e := math.Min(l, d+dash)
			p0, p1 := pt{a.x + ux*d, a.y + uy*d}, pt{a.x + ux*e, a.y + uy*e}
			nx, ny := -uy*lw/2, ux*lw/2
			polys = append(polys, []pt{{p0.x + nx, p0.y + ny}, {p1.x + nx, p1.y + ny}, {p1.x - nx, p1.y - ny}, {p0.x - nx, p0.y - ny}})
		}
	}
	edge(pt{b.x, b.y}, pt{b.x + b.w, b.y})
	edge(pt{b.x + b.w, b.y}, pt{b.x + b.w, b.y + b.h})
	edge(pt{b.x + b.w, b.y + b.h}, pt{b.x, b.y + b.h})
	edge(pt{b.x, b.y + b.h}, pt{b.x, b.y})
	p.fill(anchorLine, polys...)
	name, _ := it.w.Props["anchor_name"].(string)
	if name == "" {
		return
	}
	t := text{s: name, bold: true, px: 22 * s, lineH: 32 * s, maxW: b.w, ink: anchorInk}
	lines, widths := p.layoutLines(t, 1)
	p.drawLines(t, lines, widths, b.x+10*s, b.y-36*s, rectOf(b.x, b.y-36*s, b.w, 36*s))
}

func (p *painter) generic(it *item, b box) {
	s := it.s * p.scale
	p.fillRect(b.x, b.y, b.w, b.h, 8*s, white)
	p.strokeRect(b.x, b.y, b.w, b.h, math.Max(1, s), genericLine)
	label := it.w.Type
	if title, _ := it.w.Props["title"].(string); title != "" {
		label += ": " + title
	}
	if it.w.Type == "Video" {
		if d := numOr(it.w.Props["duration"], 0); d > 0 && d < 1e7 {
			label += fmt.Sprintf(" · %d:%02d", int(d)/60, int(d)%60)
		}
		// A play mark: frames are never decoded for a preview.
		r := math.Min(b.w, b.h) * 0.18
		cx, cy := b.x+b.w/2, b.y+b.h/2-r*0.4
		p.fill(genericLine, circle(pt{cx, cy}, r))
		p.fill(white, []pt{{cx - r*0.35, cy - r*0.5}, {cx + r*0.55, cy}, {cx - r*0.35, cy + r*0.5}})
		t := text{s: label, bold: true, px: 18 * s, lineH: 24 * s, maxW: b.w - 24*s, ink: genericInk}
		if lines, widths := p.layoutLines(t, 1); len(lines) == 1 {
			p.drawLines(t, lines, widths, b.x+(b.w-widths[0])/2, cy+r*1.2, rectOf(b.x, b.y, b.w, b.h))
		}
		return
	}
	t := text{s: label, bold: true, px: 18 * s, lineH: 24 * s, maxW: b.w - 24*s, ink: genericInk}
	lines, widths := p.layoutLines(t, 1)
	if len(lines) == 1 {
		p.drawLines(t, lines, widths, b.x+(b.w-widths[0])/2, b.y+(b.h-t.lineH)/2, rectOf(b.x, b.y, b.w, b.h))
	}
}

// endBox is the output box of a connector end's widget ({"id": ...}).
func (p *painter) endBox(end any, boxes map[string]box, lay *layout) (box, bool) {
	m, _ := end.(map[string]any)
	id, _ := m["id"].(string)
	if b, ok := boxes[id]; ok {
		return b, true
	}
	w := lay.byID[id]
	if w == nil || w.Type == "Connector" || w.Type == "SharedCanvas" {
		return box{}, false
	}
	f, ok := lay.frameOf(id)
	sw, sh, sok := sizeOf(w.Props)
	if !ok || !sok {
		return box{}, false
	}
	return p.box(f.x, f.y, sw*f.s, sh*f.s), true
}

// connector draws the line from src's rel_location point to dst's (the
// centre when absent): a cubic leaving and entering horizontally for type
// "curve", else straight; a tip other than "none" draws an arrow head.
func (p *painter) connector(w Widget, a, b box) {
	src, _ := w.Props["src"].(map[string]any)
	dst, _ := w.Props["dst"].(map[string]any)
	ax, ay := relPoint(src)
	bx, by := relPoint(dst)
	pa := pt{a.x + a.w*ax, a.y + a.h*ay}
	pb := pt{b.x + b.w*bx, b.y + b.h*by}
	c, ok := parseColor(w.Props["line_color"])
	if !ok {
		c = connDefault
	}
	c.A = 0xff
	if luminance(c) > 0.8 {
		// The default line colour (#e7e7f2) is meant for a dark wall; on a
		// light preview it would vanish, so it is darkened as the browser
		// client does.
		c = connLight
	}
	lw := math.Max(1, math.Max(2, numOr(w.Props["line_width"], 5))*p.scale)
	pts := []pt{pa, pb}
	if t, _ := w.Props["type"].(string); t == "curve" {
		dx := (pb.x - pa.x) / 2
		c1, c2 := pt{pa.x + dx, pa.y}, pt{pb.x - dx, pb.y}
		const n = 24
		pts = make([]pt, 0, n+1)
		for i := 0; i <= n; i++ {
			t := float64(i) / n
			u := 1 - t
			pts = append(pts, pt{
				u*u*u*pa.x + 3*u*u*t*c1.x + 3*u*t*t*c2.x + t*t*t*pb.x,
				u*u*u*pa.y + 3*u*u*t*c1.y + 3*u*t*t*c2.y + t*t*t*pb.y,
			})
		}
	}
	// An arrow head replaces the last stretch of the line, so the line's
	// round cap does not poke out past the tip.
	if tip, _ := dst["tip"].(string); tip != "" && tip != "none" {
		n := len(pts)
		pts[n-1] = p.arrow(pts[n-2], pts[n-1], lw, c)
	}
	if tip, _ := src["tip"].(string); tip != "" && tip != "none" {
		pts[0] = p.arrow(pts[1], pts[0], lw, c)
	}
	p.strokePolyline(pts, lw, c)
}

func relPoint(end map[string]any) (float64, float64) {
	rl, ok := end["rel_location"].(map[string]any)
	if !ok {
		return 0.5, 0.5
	}
	return numOr(rl["x"], 0.5), numOr(rl["y"], 0.5)
}

// arrow draws a filled triangle whose tip is at `to`, pointing from `from`,
// and returns the middle of its base.
func (p *painter) arrow(from, to pt, lw float64, c color.Color) pt {
	dx, dy := to.x-from.x, to.y-from.y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return to
	}
	ux, uy := dx/l, dy/l
	length := math.Max(6, 3.5*lw)
	half := length * 0.6
	base := pt{to.x - ux*length, to.y - uy*length}
	p.fill(c, []pt{to, {base.x - uy*half, base.y + ux*half}, {base.x + uy*half, base.y - ux*half}})
	// The line ends a little inside the head, so no seam shows.
	return pt{base.x + ux*length*0.3, base.y + uy*length*0.3}
}
