package chartgen

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

var (
	white    = color.NRGBA{255, 255, 255, 255}
	black    = color.NRGBA{0, 0, 0, 255}
	axisGrey = color.NRGBA{40, 40, 40, 255}
	gridGrey = color.NRGBA{220, 220, 220, 255}
	textGrey = color.NRGBA{30, 30, 30, 255}
)

// Render draws the chart described by s.
func Render(s Spec) (*image.RGBA, error) {
	c := newCanvas(s.Width, s.Height, white)
	r := &renderer{s: &s, c: c}
	if err := r.layout(); err != nil {
		return nil, err
	}
	var err error
	switch s.Kind {
	case BarVertical, BarHorizontal, Line, Scatter:
		err = r.axesChart()
	case Pie:
		err = r.pie()
	default:
		err = fmt.Errorf("chartgen: unknown kind %q", s.Kind)
	}
	if err != nil {
		return nil, err
	}
	return c.img, nil
}

type renderer struct {
	s                  *Spec
	c                  *canvas
	capH               float64
	px0, py0, px1, py1 float64 // plot area
	legendRight        bool
	legendX, legendY   float64
}

func (r *renderer) st() textStyle {
	return textStyle{size: r.s.FontSize, col: textGrey, halign: -1}
}

func (r *renderer) legendNames() []string {
	if r.s.Kind == Pie {
		return r.s.Categories
	}
	var n []string
	for _, ser := range r.s.Series {
		n = append(n, ser.Name)
	}
	return n
}

func (r *renderer) layout() error {
	s := r.s
	_, capH, err := textSize("0", r.st())
	if err != nil {
		return err
	}
	r.capH = capH
	top := 12.0
	if s.Title != "" {
		top += capH*1.3 + 14
	}
	names := r.legendNames()
	sw := capH + 3
	legendW := 0.0
	maxName := 0.0
	for _, n := range names {
		w, _, _ := textSize(n, r.st())
		legendW += sw + 6 + w + 20
		maxName = math.Max(maxName, w)
	}
	right := 24.0
	if s.Legend == "right" || (s.Legend == "top" && legendW > float64(s.Width)*0.8) {
		r.legendRight = true
		right += sw + 6 + maxName + 24
	} else if s.Legend == "top" {
		r.legendY = top + capH/2
		r.legendX = (float64(s.Width) - legendW + 20) / 2
		top += capH + 16
	}
	left := 16.0
	bottom := capH + 24
	maxTick := 0.0
	for _, t := range s.ticks() {
		w, _, _ := textSize(s.tickLabel(t), r.st())
		maxTick = math.Max(maxTick, w)
	}
	switch s.Kind {
	case BarHorizontal:
		maxCat := 0.0
		for _, cat := range s.Categories {
			w, _, _ := textSize(cat, r.st())
			maxCat = math.Max(maxCat, w)
		}
		left += maxCat + 12
		right = math.Max(right, maxTick/2+12)
		if s.DataLabels {
			right += 40
		}
	case Pie:
	default:
		left += maxTick + 12
	}
	if s.Kind == Scatter {
		left += 0
	}
	if s.DataLabels && s.Kind == BarVertical {
		top += capH + 6
	} else {
		top += capH / 2
	}
	r.px0, r.py0 = math.Round(left)+0.5, math.Round(top)+0.5
	r.px1, r.py1 = math.Round(float64(s.Width)-right)+0.5, math.Round(float64(s.Height)-bottom)+0.5
	if r.legendRight {
		r.legendX = r.px1 + 24
		if s.Kind == Pie {
			r.legendX = float64(s.Width) - right + 24
		}
		r.legendY = r.py0 + capH
	}
	if r.px1-r.px0 < 150 || r.py1-r.py0 < 120 {
		return fmt.Errorf("chartgen: %dx%d too small for content", s.Width, s.Height)
	}
	return nil
}

// valuePos maps a value to its pixel coordinate along the value axis.
func (r *renderer) valuePos(v float64) float64 {
	s := r.s
	t := (v - s.Min) / (s.Max - s.Min)
	if s.Log {
		t = (math.Log10(v) - math.Log10(s.Min)) / (math.Log10(s.Max) - math.Log10(s.Min))
	}
	if s.Kind == BarHorizontal {
		return r.px0 + t*(r.px1-r.px0)
	}
	return r.py1 - t*(r.py1-r.py0)
}

// base is where bars start: the zero line when the axis includes negative
// values, else the axis.
func (r *renderer) base() float64 {
	if r.s.Min < 0 {
		return r.valuePos(0)
	}
	if r.s.Kind == BarHorizontal {
		return r.px0
	}
	return r.py1
}

func (r *renderer) xPos(v float64) float64 {
	return r.px0 + (v/r.s.XMax)*(r.px1-r.px0)
}

func (r *renderer) axesChart() error {
	s, c := r.s, r.c
	ticks := s.ticks()
	st := r.st()
	// Gridlines behind the data.
	if s.Grid {
		for _, t := range ticks[1:] {
			p := math.Round(r.valuePos(t)) + 0.5
			if s.Kind == BarHorizontal {
				c.vline(p, r.py0, r.py1, 1, gridGrey)
			} else {
				c.hline(r.px0, r.px1, p, 1, gridGrey)
			}
		}
	}
	n := len(s.Categories)
	k := len(s.Series)
	switch s.Kind {
	case BarVertical:
		band := (r.px1 - r.px0) / float64(n)
		gw := band * s.GroupFill
		bw := gw / float64(k)
		for i := 0; i < n && s.Stacked; i++ {
			cum := 0.0
			x0 := r.px0 + band*float64(i) + (band-gw)/2
			for _, ser := range s.Series {
				c.fillRect(x0, r.valuePos(cum+ser.Values[i]), x0+gw, r.valuePos(cum), ser.Color)
				cum += ser.Values[i]
			}
		}
		for i := 0; i < n && !s.Stacked; i++ {
			for j, ser := range s.Series {
				x0 := r.px0 + band*float64(i) + (band-gw)/2 + bw*float64(j)
				v := ser.Values[i]
				top := r.valuePos(v)
				c.fillRect(x0+s.BarGap/2, math.Min(top, r.base()), x0+bw-s.BarGap/2, math.Max(top, r.base()), ser.Color)
				if s.DataLabels {
					st2 := st
					st2.halign = 0
					st2.size = s.FontSize - 1
					ly := top - 4 - r.capH/2
					if v < 0 {
						ly = top + 4 + r.capH/2
					}
					if err := c.text(formatNum(v, s.Decimals), x0+bw/2, ly, st2); err != nil {
						return err
					}
				}
			}
		}
	case BarHorizontal:
		band := (r.py1 - r.py0) / float64(n)
		gw := band * s.GroupFill
		bw := gw / float64(k)
		for i := 0; i < n && s.Stacked; i++ {
			cum := 0.0
			y0 := r.py0 + band*float64(i) + (band-gw)/2
			for _, ser := range s.Series {
				c.fillRect(r.valuePos(cum), y0, r.valuePos(cum+ser.Values[i]), y0+gw, ser.Color)
				cum += ser.Values[i]
			}
		}
		for i := 0; i < n && !s.Stacked; i++ {
			for j, ser := range s.Series {
				y0 := r.py0 + band*float64(i) + (band-gw)/2 + bw*float64(j)
				v := ser.Values[i]
				end := r.valuePos(v)
				c.fillRect(math.Min(end, r.base()), y0+s.BarGap/2, math.Max(end, r.base()), y0+bw-s.BarGap/2, ser.Color)
				if s.DataLabels {
					st2 := st
					st2.size = s.FontSize - 1
					lx := end + 5
					if v < 0 {
						st2.halign = 1
						lx = end - 5
					}
					if err := c.text(formatNum(v, s.Decimals), lx, y0+bw/2, st2); err != nil {
						return err
					}
				}
			}
		}
	case Line:
		band := (r.px1 - r.px0) / float64(n)
		for _, ser := range s.Series {
			pts := make([]pt, n)
			for i, v := range ser.Values {
				pts[i] = pt{r.px0 + band*(float64(i)+0.5), r.valuePos(v)}
			}
			c.polyline(pts, s.LineWidth, ser.Color)
			if s.Markers {
				for _, p := range pts {
					c.fillCircle(p.X, p.Y, s.LineWidth+1.5, ser.Color)
				}
			}
		}
	case Scatter:
		for _, ser := range s.Series {
			for i, v := range ser.Values {
				c.fillCircle(r.xPos(ser.XValues[i]), r.valuePos(v), 3.5, ser.Color)
			}
		}
	}
	// Axes over the data.
	aw := s.AxisWidth
	if !s.NoYAxisLine {
		c.vline(r.px0, r.py0, r.py1+aw/2, aw, axisGrey)
	}
	if !s.NoXAxisLine {
		c.hline(r.px0-aw/2, r.px1, r.py1, aw, axisGrey)
	}
	// With negative values, bars grow from a zero line inside the plot.
	if s.Min < 0 && (s.Kind == BarVertical || s.Kind == BarHorizontal) {
		z := math.Round(r.base()) + 0.5
		if s.Kind == BarVertical {
			c.hline(r.px0, r.px1, z, aw, axisGrey)
		} else {
			c.vline(z, r.py0, r.py1, aw, axisGrey)
		}
	}
	// Value ticks and labels.
	for _, t := range ticks {
		p := math.Round(r.valuePos(t)) + 0.5
		lbl := s.tickLabel(t)
		if s.Kind == BarHorizontal {
			if !s.NoXAxisLine {
				c.vline(p, r.py1, r.py1+5, 1, axisGrey)
			}
			st2 := st
			st2.halign = 0
			if err := c.text(lbl, p, r.py1+10+r.capH/2, st2); err != nil {
				return err
			}
		} else {
			if !s.NoYAxisLine {
				c.hline(r.px0-5, r.px0, p, 1, axisGrey)
			}
			st2 := st
			st2.halign = 1
			if err := c.text(lbl, r.px0-9, p, st2); err != nil {
				return err
			}
		}
	}
	// Category labels.
	switch s.Kind {
	case BarVertical, Line:
		band := (r.px1 - r.px0) / float64(n)
		for i, cat := range s.Categories {
			x := r.px0 + band*(float64(i)+0.5)
			if s.Kind == Line && !s.NoXAxisLine {
				c.vline(math.Round(x)+0.5, r.py1, r.py1+5, 1, axisGrey)
			}
			st2 := st
			st2.halign = 0
			if err := c.text(cat, x, r.py1+10+r.capH/2, st2); err != nil {
				return err
			}
		}
	case BarHorizontal:
		band := (r.py1 - r.py0) / float64(n)
		for i, cat := range s.Categories {
			y := r.py0 + band*(float64(i)+0.5)
			st2 := st
			st2.halign = 1
			if err := c.text(cat, r.px0-9, y, st2); err != nil {
				return err
			}
		}
	case Scatter:
		for v := 0.0; v <= s.XMax+1e-9; v += s.XStep {
			x := math.Round(r.xPos(v)) + 0.5
			c.vline(x, r.py1, r.py1+5, 1, axisGrey)
			st2 := st
			st2.halign = 0
			if err := c.text(formatNum(v, stepDecimals(s.XStep)), x, r.py1+10+r.capH/2, st2); err != nil {
				return err
			}
		}
	}
	return r.legendAndTitle()
}

func (r *renderer) legendAndTitle() error {
	s, c := r.s, r.c
	st := r.st()
	if s.Title != "" {
		tst := textStyle{size: s.FontSize + 3, bold: true, col: black, halign: 0}
		if err := c.text(s.Title, float64(s.Width)/2, 12+r.capH*0.65, tst); err != nil {
			return err
		}
	}
	if s.Legend == "none" {
		return nil
	}
	names := r.legendNames()
	sw := r.capH + 3
	x, y := r.legendX, r.legendY
	for i, name := range names {
		var col color.NRGBA
		if s.Kind == Pie {
			col = s.SliceColors[i]
		} else {
			col = s.Series[i].Color
		}
		if s.Kind == Line {
			c.segment(pt{x - 4, y}, pt{x + sw + 4, y}, s.LineWidth, col)
			if s.Markers {
				c.fillCircle(x+sw/2, y, s.LineWidth+1.5, col)
			}
		} else {
			c.fillRect(x, y-sw/2, x+sw, y+sw/2, col)
		}
		if err := c.text(name, x+sw+8, y, st); err != nil {
			return err
		}
		if r.legendRight {
			y += r.capH*1.6 + 10
		} else {
			w, _, _ := textSize(name, st)
			x += sw + 6 + w + 20
		}
	}
	return nil
}

func (r *renderer) pie() error {
	s, c := r.s, r.c
	cx, cy := (r.px0+r.px1)/2, (r.py0+r.py1)/2
	rad := math.Min(r.px1-r.px0, r.py1-r.py0) / 2
	if s.SliceLabels {
		rad *= sliceLabelShrink
	}
	total := 0.0
	for _, v := range s.Series[0].Values {
		total += v
	}
	a := -math.Pi/2 + s.StartDeg*math.Pi/180
	for i, v := range s.Series[0].Values {
		da := 2 * math.Pi * v / total
		pts := []pt{{cx, cy}}
		steps := int(math.Ceil(da / 0.05))
		for j := 0; j <= steps; j++ {
			t := a + da*float64(j)/float64(steps)
			pts = append(pts, pt{cx + rad*math.Cos(t), cy + rad*math.Sin(t)})
		}
		c.fillPolygon(pts, s.SliceColors[i])
		a += da
	}
	if err := r.pieFinish(cx, cy, rad); err != nil {
		return err
	}
	return r.legendAndTitle()
}
