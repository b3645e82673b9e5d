package chartgen

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// canvas wraps an RGBA image with the few anti-aliased primitives charts need.
type canvas struct {
	img *image.RGBA
}

func newCanvas(w, h int, bg color.Color) *canvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	return &canvas{img: img}
}

type pt struct{ X, Y float64 }

// fillPolygon rasterizes a closed polygon with anti-aliasing, using a
// rasterizer sized to the polygon's bounding box.
func (c *canvas) fillPolygon(pts []pt, col color.Color) {
	if len(pts) < 3 {
		return
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	x0, y0 := int(math.Floor(minX)), int(math.Floor(minY))
	x1, y1 := int(math.Ceil(maxX)), int(math.Ceil(maxY))
	r := image.Rect(x0, y0, x1, y1).Intersect(c.img.Bounds())
	if r.Empty() {
		return
	}
	z := vector.NewRasterizer(x1-x0, y1-y0)
	z.DrawOp = draw.Over
	z.MoveTo(float32(pts[0].X-float64(x0)), float32(pts[0].Y-float64(y0)))
	for _, p := range pts[1:] {
		z.LineTo(float32(p.X-float64(x0)), float32(p.Y-float64(y0)))
	}
	z.ClosePath()
	z.Draw(c.img, r, image.NewUniform(col), image.Pt(r.Min.X-x0, r.Min.Y-y0))
}

func (c *canvas) fillRect(x0, y0, x1, y1 float64, col color.Color) {
	c.fillPolygon([]pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, col)
}

func (c *canvas) fillCircle(cx, cy, r float64, col color.Color) {
	n := 24
	pts := make([]pt, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = pt{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	c.fillPolygon(pts, col)
}

// segment strokes a straight segment of the given width with square ends.
func (c *canvas) segment(a, b pt, width float64, col color.Color) {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	c.fillPolygon([]pt{{a.X + nx, a.Y + ny}, {b.X + nx, b.Y + ny}, {b.X - nx, b.Y - ny}, {a.X - nx, a.Y - ny}}, col)
}

// polyline strokes a line through pts with round joins.
func (c *canvas) polyline(pts []pt, width float64, col color.Color) {
	// Draw onto a mask first so that overlapping joins do not darken.
	if len(pts) < 2 {
		return
	}
	mask := image.NewAlpha(c.img.Bounds())
	mc := &alphaCanvas{mask}
	for i := 1; i < len(pts); i++ {
		mc.segment(pts[i-1], pts[i], width)
	}
	for _, p := range pts[1 : len(pts)-1] {
		mc.circle(p.X, p.Y, width/2)
	}
	draw.DrawMask(c.img, c.img.Bounds(), image.NewUniform(col), image.Point{}, mask, image.Point{}, draw.Over)
}

type alphaCanvas struct{ m *image.Alpha }

func (a *alphaCanvas) poly(pts []pt) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	x0, y0 := int(math.Floor(minX)), int(math.Floor(minY))
	x1, y1 := int(math.Ceil(maxX)), int(math.Ceil(maxY))
	r := image.Rect(x0, y0, x1, y1).Intersect(a.m.Bounds())
	if r.Empty() {
		return
	}
	z := vector.NewRasterizer(x1-x0, y1-y0)
	z.MoveTo(float32(pts[0].X-float64(x0)), float32(pts[0].Y-float64(y0)))
	for _, p := range pts[1:] {
		z.LineTo(float32(p.X-float64(x0)), float32(p.Y-float64(y0)))
	}
	z.ClosePath()
	sub := image.NewAlpha(image.Rect(0, 0, x1-x0, y1-y0))
	z.Draw(sub, sub.Bounds(), image.Opaque, image.Point{})
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := sub.AlphaAt(x-x0, y-y0).A
			if v > a.m.AlphaAt(x, y).A {
				a.m.SetAlpha(x, y, color.Alpha{v})
			}
		}
	}
}

func (a *alphaCanvas) segment(p, q pt, width float64) {
	dx, dy := q.X-p.X, q.Y-p.Y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	a.poly([]pt{{p.X + nx, p.Y + ny}, {q.X + nx, q.Y + ny}, {q.X - nx, q.Y - ny}, {p.X - nx, p.Y - ny}})
}

func (a *alphaCanvas) circle(cx, cy, r float64) {
	n := 20
	pts := make([]pt, n)
	for i := range pts {
		t := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = pt{cx + r*math.Cos(t), cy + r*math.Sin(t)}
	}
	a.poly(pts)
}

// hline and vline draw crisp 1-device-pixel-aligned lines.
func (c *canvas) hline(x0, x1, y float64, width float64, col color.Color) {
	c.fillRect(x0, y-width/2, x1, y+width/2, col)
}

func (c *canvas) vline(x, y0, y1 float64, width float64, col color.Color) {
	c.fillRect(x-width/2, y0, x+width/2, y1, col)
}

var (
	fontsOnce sync.Once
	fontReg   *opentype.Font
	fontBold  *opentype.Font
	fontErr   error
	faceMu    sync.Mutex
	faces     = map[faceKey]font.Face{}
)

type faceKey struct {
	bold bool
	size float64
}

// face returns a cached Go-font face. Faces are not safe for concurrent use,
// so callers hold faceMu while drawing (rendering is not a hot path).
func face(bold bool, size float64) (font.Face, error) {
	fontsOnce.Do(func() {
		fontReg, fontErr = opentype.Parse(goregular.TTF)
		if fontErr == nil {
			fontBold, fontErr = opentype.Parse(gobold.TTF)
		}
	})
	if fontErr != nil {
		return nil, fmt.Errorf("chartgen: parse font: %w", fontErr)
	}
	k := faceKey{bold, size}
	if f, ok := faces[k]; ok {
		return f, nil
	}
	f := fontReg
	if bold {
		f = fontBold
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("chartgen: font face: %w", err)
	}
	faces[k] = fc
	return fc, nil
}

// textStyle places text relative to an anchor point.
type textStyle struct {
	size   float64
	bold   bool
	col    color.Color
	halign int // -1 left, 0 centre, 1 right
}

// textSize returns the advance width and the digit/cap height of s.
func textSize(s string, st textStyle) (w, capH float64, err error) {
	faceMu.Lock()
	defer faceMu.Unlock()
	f, err := face(st.bold, st.size)
	if err != nil {
		return 0, 0, err
	}
	adv := font.MeasureString(f, s)
	b, _, _ := f.GlyphBounds('0')
	return float64(adv) / 64, float64(-b.Min.Y) / 64, nil
}

// text draws s with its cap-height centre at y, aligned horizontally at x.
func (c *canvas) text(s string, x, y float64, st textStyle) error {
	w, capH, err := textSize(s, st)
	if err != nil {
		return err
	}
	faceMu.Lock()
	defer faceMu.Unlock()
	f, err := face(st.bold, st.size)
	if err != nil {
		return err
	}
	switch st.halign {
	case 0:
		x -= w / 2
	case 1:
		x -= w
	}
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(st.col), Face: f,
		Dot: fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round((y + capH/2) * 64))}}
	d.DrawString(s)
	return nil
}
