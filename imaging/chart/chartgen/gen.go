package chartgen

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Chart kinds. Scatter exists so that tests can assert it is refused; pies
// (and donuts, shapes.go) are read since issue 17, but the committed corpus's
// pie truths (TruthOf) still say unsupported, as written then.
const (
	BarVertical   = "bar_vertical"
	BarHorizontal = "bar_horizontal"
	Line          = "line"
	Pie           = "pie"
	Scatter       = "scatter"
)

// Series is one data series of a Spec. For scatter charts XValues holds the
// x coordinate of each value.
type Series struct {
	Name    string
	Color   color.NRGBA
	Values  []float64
	XValues []float64
}

// Spec fully describes one chart to render.
type Spec struct {
	Kind          string
	Width, Height int
	Title         string
	Categories    []string
	Series        []Series
	// Value axis range and tick step. Log axes tick at every power of ten.
	Min, Max, Step float64
	Log            bool
	// Scatter only: the x axis range.
	XMin, XMax, XStep float64
	Grid              bool
	DataLabels        bool
	Decimals          int    // decimals of data labels and of the true values
	Prefix, Suffix    string // tick label decoration such as "$" or "%"
	Legend            string // "top", "right" or "none"
	FontSize          float64
	LineWidth         float64
	Markers           bool
	AxisWidth         float64
	GroupFill         float64       // share of a category band covered by its bars
	BarGap            float64       // pixels between bars of one group
	SliceColors       []color.NRGBA // pie only: one colour per category
	// Spreadsheet style: leave out an axis line and its tick marks
	// (gridlines remain). Random never sets these, so the seeded corpus
	// does not depend on them.
	NoYAxisLine, NoXAxisLine bool
	// Stacked draws the series of a category on top of each other (bar
	// charts, non-negative values, no data labels). Not set by Random.
	Stacked bool
	// Pie only (shapes.go): Hole is the donut hole's radius as a share of
	// the pie's (0 = a full pie), StartDeg turns the first slice's edge
	// clockwise from 12 o'clock, SliceEdge draws white separators of that
	// width between slices. Random never sets these.
	Hole, StartDeg, SliceEdge float64
	// SliceLabels prints each slice's category outside it, beside its
	// middle, on a pie shrunk to leave room (pie only; set Legend "none").
	SliceLabels bool
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#003f5c", "#ffa600", "#bcbd22"}

var categorySets = [][]string{
	{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	{"2014", "2015", "2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025"},
	{"1Q22", "2Q22", "3Q22", "4Q22", "1Q23", "2Q23", "3Q23", "4Q23", "1Q24", "2Q24", "3Q24", "4Q24"},
	{"FY18", "FY19", "FY20", "FY21", "FY22", "FY23", "FY24", "FY25"},
	{"North", "South", "East", "West", "Central", "Europe", "Asia", "Nordics"},
	{"Retail", "Wholesale", "Online", "Services", "Licensing", "Hardware", "Software", "Other"},
}

var longCategories = []string{"North America", "Western Europe", "Asia Pacific", "Middle East", "Latin America", "Africa", "Japan", "China", "India", "Oceania"}

var seriesNames = [][]string{
	{"Revenue", "EBITDA", "Net income"},
	{"Actual", "Budget", "Forecast"},
	{"2023", "2024", "2025"},
	{"Sales", "Costs", "Profit"},
	{"Opex", "Capex", "Payroll"},
	{"Product A", "Product B", "Product C"},
}

func hexColor(s string) color.NRGBA {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// HexOf formats c as #rrggbb.
func HexOf(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func pickColors(rng *rand.Rand, k int) []color.NRGBA {
	idx := rng.Perm(len(palette))
	var out []color.NRGBA
	for _, i := range idx {
		c := hexColor(palette[i])
		ok := true
		for _, o := range out {
			dr, dg, db := float64(c.R)-float64(o.R), float64(c.G)-float64(o.G), float64(c.B)-float64(o.B)
			if math.Sqrt(dr*dr+dg*dg+db*db) < 110 {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, c)
		}
		if len(out) == k {
			break
		}
	}
	return out
}

// niceRange picks an axis maximum and tick step with 4 to 8 intervals.
func niceRange(rng *rand.Rand) (max, step float64) {
	mags := []float64{1, 10, 100, 1000}
	bases := []float64{10, 12, 15, 20, 25, 30, 40, 50, 60, 80}
	for {
		max = bases[rng.IntN(len(bases))] * mags[rng.IntN(len(mags))]
		var cands []float64
		for _, m := range []float64{0.1, 1, 10, 100, 1000} {
			for _, b := range []float64{1, 2, 2.5, 5} {
				s := b * m
				n := max / s
				if n >= 4 && n <= 8 && math.Abs(n-math.Round(n)) < 1e-9 {
					cands = append(cands, s)
				}
			}
		}
		if len(cands) > 0 {
			return max, cands[rng.IntN(len(cands))]
		}
	}
}

func roundTo(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	return math.Round(v*p) / p
}

// Random draws a spec of the given kind.
func Random(rng *rand.Rand, kind string) Spec {
	s := Spec{
		Kind:      kind,
		Width:     560 + rng.IntN(280),
		Height:    360 + rng.IntN(160),
		Grid:      rng.Float64() < 0.7,
		FontSize:  11 + float64(rng.IntN(4)),
		AxisWidth: 1 + float64(rng.IntN(2)),
		GroupFill: 0.55 + 0.25*rng.Float64(),
		BarGap:    float64(rng.IntN(3)),
		LineWidth: 1.5 + 1.5*rng.Float64(),
		Markers:   rng.Float64() < 0.4,
	}
	if rng.Float64() < 0.6 {
		s.Title = []string{"Revenue by segment", "Quarterly results", "Operating costs", "Sales by region", "Key metrics", "Headcount"}[rng.IntN(6)]
	}
	switch r := rng.Float64(); {
	case r < 0.5:
		s.Legend = "top"
	case r < 0.9:
		s.Legend = "right"
	default:
		s.Legend = "none"
	}
	s.Max, s.Step = niceRange(rng)
	if s.Step >= 5 {
		s.Decimals = 0
	} else {
		s.Decimals = 1
	}
	if rng.Float64() < 0.2 {
		s.Prefix = "$"
	} else if s.Max <= 100 && rng.Float64() < 0.2 {
		s.Suffix = "%"
	}
	k := 1 + rng.IntN(3)
	if s.Legend == "none" {
		k = 1
	}
	var n int
	switch kind {
	case BarVertical:
		n = 3 + rng.IntN(5)
		if k == 3 && n > 6 {
			n = 6
		}
		s.DataLabels = rng.Float64() < 0.4
	case BarHorizontal:
		n = 3 + rng.IntN(4)
		s.DataLabels = rng.Float64() < 0.4
	case Line:
		n = 5 + rng.IntN(8)
		if rng.Float64() < 0.3 {
			s.Min = s.Step * float64(1+rng.IntN(2))
			if s.Min >= s.Max-2*s.Step {
				s.Min = 0
			}
		}
		if rng.Float64() < 0.15 {
			a := rng.IntN(2)
			s.Log, s.Min, s.Max, s.Step = true, math.Pow(10, float64(a)), math.Pow(10, float64(a+2+rng.IntN(2))), 0
			s.Prefix, s.Suffix = "", ""
		}
	case Pie:
		n = 3 + rng.IntN(4)
		k = 1
		s.Legend = "right"
	case Scatter:
		n = 12 + rng.IntN(20)
		s.XMax, s.XStep = niceRange(rng)
	}
	var cats []string
	if kind == BarHorizontal && rng.Float64() < 0.5 {
		perm := rng.Perm(len(longCategories))
		for _, i := range perm[:n] {
			cats = append(cats, longCategories[i])
		}
	} else if kind != Scatter {
		set := categorySets[rng.IntN(len(categorySets))]
		if n > len(set) {
			n = len(set)
		}
		start := rng.IntN(len(set) - n + 1)
		cats = append(cats, set[start:start+n]...)
	}
	s.Categories = cats
	names := seriesNames[rng.IntN(len(seriesNames))]
	cols := pickColors(rng, k)
	if kind == Pie {
		cols = pickColors(rng, n)
		n = len(cols)
		s.Categories = s.Categories[:n]
	}
	for j := 0; j < k; j++ {
		ser := Series{Name: names[j], Color: cols[j]}
		span := s.Max - s.Min
		prev := s.Min + span*(0.3+0.4*rng.Float64())
		for i := 0; i < n; i++ {
			var v float64
			switch {
			case kind == Line && s.Log:
				lo, hi := math.Log10(s.Min), math.Log10(s.Max)
				v = math.Pow(10, lo+(hi-lo)*(0.05+0.9*rng.Float64()))
				v = roundTo(v, 2-int(math.Floor(math.Log10(v))))
			case kind == Line:
				v = prev + span*0.18*(2*rng.Float64()-1)
				v = math.Max(s.Min+0.05*span, math.Min(s.Max-0.05*span, v))
				prev = v
				v = roundTo(v, s.Decimals+1)
			case kind == Pie:
				v = float64(5 + rng.IntN(40))
			case kind == Scatter:
				v = roundTo(s.Min+span*(0.05+0.9*rng.Float64()), 2)
				ser.XValues = append(ser.XValues, roundTo(s.XMax*(0.05+0.9*rng.Float64()), 2))
			default:
				v = roundTo(s.Min+span*(0.08+0.89*rng.Float64()), s.Decimals)
			}
			ser.Values = append(ser.Values, v)
		}
		s.Series = append(s.Series, ser)
	}
	if kind == Pie {
		s.SliceColors = cols
	}
	return s
}

// formatNum prints v with dec decimals and thousands separators.
func formatNum(v float64, dec int) string {
	neg := v < 0
	v = math.Abs(v)
	str := strconv.FormatFloat(v, 'f', dec, 64)
	intPart, frac, _ := strings.Cut(str, ".")
	var b strings.Builder
	for i, ch := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

func stepDecimals(step float64) int {
	for d := 0; d < 4; d++ {
		if math.Abs(step*math.Pow(10, float64(d))-math.Round(step*math.Pow(10, float64(d)))) < 1e-9 {
			return d
		}
	}
	return 4
}

// ticks returns the tick values of the value axis.
func (s *Spec) ticks() []float64 {
	var t []float64
	if s.Log {
		for v := s.Min; v <= s.Max*1.0001; v *= 10 {
			t = append(t, v)
		}
		return t
	}
	for i := 0; ; i++ {
		v := s.Min + float64(i)*s.Step
		if v > s.Max+1e-9 {
			break
		}
		t = append(t, roundTo(v, 6))
	}
	return t
}

func (s *Spec) tickLabel(v float64) string {
	d := 0
	if !s.Log {
		d = stepDecimals(s.Step)
	}
	return s.Prefix + formatNum(v, d) + s.Suffix
}
