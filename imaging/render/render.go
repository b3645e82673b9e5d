package render

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// DefaultMaxSide is the long side of a preview, in pixels, when
// Options.MaxSide is zero.
const DefaultMaxSide = 1024

// maxParentDepth bounds the walk up a parent chain (and breaks cycles).
const maxParentDepth = 32

// ErrEmpty: the canvas has no widget to draw.
var ErrEmpty = errors.New("canvas has nothing to preview")

// Widget is one widget as the Canvus API shows it: its id, widget_type and
// public fields (location, size, scale, depth, parent_id, text, ...).
type Widget struct {
	ID    string
	Type  string
	Props map[string]any
}

// ImageLoader returns the pixels of an image widget, or the page of a Pdf
// widget. size is the widget's
// box in output pixels: a loader may return a larger image (it is scaled
// down here) but should scale down itself while it holds its decode budget.
// It returns (nil, nil) when the widget has no pixels to show (a missing or
// undecodable file), and the box is drawn as an empty frame; an error ends
// the whole render.
type ImageLoader func(ctx context.Context, w Widget, size image.Point) (image.Image, error)

// Options tune a render. The zero value is usable.
type Options struct {
	// MaxSide bounds the output's long side in pixels. Default DefaultMaxSide.
	MaxSide int
	// Anchors draws anchors as a dashed frame with their name. Default off:
	// anchors are invisible viewpoints on a Canvus canvas.
	Anchors bool
	// LoadImage gives image widgets their pixels; nil draws every image as
	// an empty frame.
	LoadImage ImageLoader
	// Background is the canvas colour. Default #f4f5f8.
	Background color.Color
}

// Renderer holds the parsed fonts. It is safe for concurrent use; each
// Render has its own font faces.
type Renderer struct {
	regular, bold *opentype.Font
}

// New parses the embedded Go fonts.
func New() (*Renderer, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("parse goregular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("parse gobold: %w", err)
	}
	return &Renderer{regular: reg, bold: bold}, nil
}

// item is a widget with its world box, ready to paint.
type item struct {
	w        Widget
	x, y, s  float64 // world origin and cumulative scale
	wd, ht   float64 // world size (local size times s)
	depthKey []float64
}

// Render paints widgets into a new image no larger than MaxSide on its long
// side. It returns ErrEmpty when no widget has a box to draw.
func (r *Renderer) Render(ctx context.Context, widgets []Widget, opt Options) (*image.RGBA, error) {
	if opt.MaxSide <= 0 {
		opt.MaxSide = DefaultMaxSide
	}
	if opt.Background == nil {
		opt.Background = color.RGBA{0xf4, 0xf5, 0xf8, 0xff}
	}
	byID := make(map[string]*Widget, len(widgets))
	for i := range widgets {
		byID[widgets[i].ID] = &widgets[i]
	}
	lay := layout{byID: byID, memo: map[string]frame{}}

	var items []*item
	var conns []Widget
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, w := range widgets {
		switch w.Type {
		case "SharedCanvas":
			continue
		case "Connector":
			conns = append(conns, w)
			continue
		case "Anchor":
			if !opt.Anchors {
				continue
			}
		}
		f, ok := lay.frameOf(w.ID)
		if !ok {
			continue
		}
		sw, sh, ok := sizeOf(w.Props)
		if !ok {
			continue
		}
		it := &item{w: w, x: f.x, y: f.y, s: f.s, wd: sw * f.s, ht: sh * f.s, depthKey: lay.depthKey(w.ID)}
		if !finite(it.x, it.y, it.wd, it.ht) || it.wd <= 0 || it.ht <= 0 {
			continue
		}
		items = append(items, it)
		minX, minY = math.Min(minX, it.x), math.Min(minY, it.y)
		maxX, maxY = math.Max(maxX, it.x+it.wd), math.Max(maxY, it.y+it.ht)
	}
	if len(items) == 0 {
		return nil, ErrEmpty
	}
	sort.SliceStable(items, func(i, j int) bool { return lessKey(items[i].depthKey, items[j].depthKey) })

	bw, bh := maxX-minX, maxY-minY
	margin := 0.04 * math.Max(bw, bh)
	bw, bh = bw+2*margin, bh+2*margin
	scale := math.Min(1, float64(opt.MaxSide)/math.Max(bw, bh))
	if !finite(scale) || scale <= 0 {
		return nil, fmt.Errorf("canvas extent %gx%g cannot be drawn", bw, bh)
	}
	outW := min(opt.MaxSide, max(1, int(math.Ceil(bw*scale))))
	outH := min(opt.MaxSide, max(1, int(math.Ceil(bh*scale))))

	p := newPainter(r, image.NewRGBA(image.Rect(0, 0, outW, outH)), scale, minX-margin, minY-margin)
	p.fillRect(0, 0, float64(outW), float64(outH), 0, opt.Background)

	boxes := make(map[string]box, len(items))
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := p.box(it.x, it.y, it.wd, it.ht)
		boxes[it.w.ID] = b
		switch it.w.Type {
		case "Note":
			p.note(it, b)
		case "Image":
			if err := p.image(ctx, it, b, opt.LoadImage, true); err != nil {
				return nil, err
			}
		case "Pdf":
			// A PDF shows its page: the loader's thumbnail when it has one.
			if err := p.image(ctx, it, b, opt.LoadImage, false); err != nil {
				return nil, err
			}
		case "Table":
			p.table(it, b)
		case "Anchor":
			p.anchor(it, b)
		default:
			p.generic(it, b)
		}
	}
	// Connectors join any two widgets, anchors included, drawn or not.
	for _, c := range conns {
		a, aok := p.endBox(c.Props["src"], boxes, &lay)
		b, bok := p.endBox(c.Props["dst"], boxes, &lay)
		if aok && bok {
			p.connector(c, a, b)
		}
	}
	return p.dst, nil
}

// frame is a widget's world origin and cumulative scale.
type frame struct{ x, y, s float64 }

type layout struct {
	byID map[string]*Widget
	memo map[string]frame
}

// frameOf walks up the parent chain: a child's location is in its parent's
// coordinates, so its world origin is the parent's origin plus its location
// times the parent's scale. The canvas root (SharedCanvas) and a missing
// parent both mean the world.
func (l *layout) frameOf(id string) (frame, bool) {
	return l.frameAt(id, 0)
}

func (l *layout) frameAt(id string, depth int) (frame, bool) {
	if f, ok := l.memo[id]; ok {
		return f, true
	}
	w := l.byID[id]
	if w == nil || depth > maxParentDepth {
		return frame{}, false
	}
	lx, ly := pointOf(w.Props["location"])
	s := numOr(w.Props["scale"], 1)
	if s <= 0 {
		s = 1
	}
	f := frame{lx, ly, s}
	if pid, _ := w.Props["parent_id"].(string); pid != "" && pid != id {
		if pw := l.byID[pid]; pw != nil && pw.Type != "SharedCanvas" {
			pf, ok := l.frameAt(pid, depth+1)
			if !ok {
				return frame{}, false
			}
			f = frame{pf.x + lx*pf.s, pf.y + ly*pf.s, pf.s * s}
		}
	}
	l.memo[id] = f
	return f, true
}

// depthKey is the depths from the top-level ancestor down to the widget:
// siblings compare by depth, and a child follows its parent.
func (l *layout) depthKey(id string) []float64 {
	var key []float64
	for i := 0; i <= maxParentDepth; i++ {
		w := l.byID[id]
		if w == nil || w.Type == "SharedCanvas" {
			break
		}
		key = append(key, numOr(w.Props["depth"], 0))
		id, _ = w.Props["parent_id"].(string)
	}
	for i, j := 0, len(key)-1; i < j; i, j = i+1, j-1 {
		key[i], key[j] = key[j], key[i]
	}
	return key
}

func lessKey(a, b []float64) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func numOr(v any, def float64) float64 {
	switch n := v.(type) {
	case float64:
		if finite(n) {
			return n
		}
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return def
}

func pointOf(v any) (float64, float64) {
	m, _ := v.(map[string]any)
	return numOr(m["x"], 0), numOr(m["y"], 0)
}

func sizeOf(p map[string]any) (float64, float64, bool) {
	m, ok := p["size"].(map[string]any)
	if !ok {
		return 0, 0, false
	}
	w, h := numOr(m["width"], 0), numOr(m["height"], 0)
	return w, h, w > 0 && h > 0
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// parseColor reads #RGB, #RRGGBB or #RRGGBBAA; ok is false otherwise.
func parseColor(v any) (color.NRGBA, bool) {
	s, _ := v.(string)
	if len(s) > 0 && s[0] == '#' {
		s = s[1:]
	}
	hex := func(c byte) (uint8, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	var d [8]uint8
	switch len(s) {
	case 3:
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	case 6, 8:
	default:
		return color.NRGBA{}, false
	}
	for i := 0; i < len(s); i++ {
		v, ok := hex(s[i])
		if !ok {
			return color.NRGBA{}, false
		}
		d[i] = v
	}
	c := color.NRGBA{d[0]<<4 | d[1], d[2]<<4 | d[3], d[4]<<4 | d[5], 0xff}
	if len(s) == 8 {
		c.A = d[6]<<4 | d[7]
	}
	return c, true
}

// luminance is the relative luminance of c, 0..1.
func luminance(c color.NRGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}
