package chartgen

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Donut is the chart_type of a pie with a hole (a Spec of kind Pie with
// Hole > 0). Stacked bar charts keep their bar kind and set Stacked.
const Donut = "donut"

// sliceLabelShrink: with SliceLabels the pie takes this share of the
// radius it would have, leaving room for the labels beside it.
const sliceLabelShrink = 0.72

// pieFinish draws the white slice separators and the donut hole over the
// slices of a pie, and with SliceLabels each category outside its slice.
func (r *renderer) pieFinish(cx, cy, rad float64) error {
	s, c := r.s, r.c
	if s.SliceEdge > 0 && len(s.Series) > 0 {
		total := 0.0
		for _, v := range s.Series[0].Values {
			total += v
		}
		a := -math.Pi/2 + s.StartDeg*math.Pi/180
		for _, v := range s.Series[0].Values {
			c.segment(pt{cx, cy}, pt{cx + (rad+1)*math.Cos(a), cy + (rad+1)*math.Sin(a)}, s.SliceEdge, white)
			a += 2 * math.Pi * v / total
		}
	}
	if s.Hole > 0 {
		c.fillCircle(cx, cy, rad*s.Hole, white)
	}
	if !s.SliceLabels || len(s.Series) == 0 {
		return nil
	}
	total := 0.0
	for _, v := range s.Series[0].Values {
		total += v
	}
	a := -math.Pi/2 + s.StartDeg*math.Pi/180
	for i, v := range s.Series[0].Values {
		da := 2 * math.Pi * v / total
		m := a + da/2
		st := r.st()
		st.halign = -1
		if math.Cos(m) < 0 {
			st.halign = 1
		}
		x, y := cx+(rad+8)*math.Cos(m), cy+(rad+8+r.capH/2)*math.Sin(m)
		if err := c.text(s.Categories[i], x, y, st); err != nil {
			return err
		}
		a += da
	}
	return nil
}

// RandomPie draws a pie (donut false) or donut chart: 3 to 7 slices of
// distinct palette colours (Random's), values 5 to 44, a
// legend on the right, a random start angle, and white separators in some.
func RandomPie(rng *rand.Rand, donut bool) Spec {
	s := Random(rng, Pie)
	s.StartDeg = float64(rng.IntN(360))
	if rng.Float64() < 0.4 {
		s.SliceEdge = 1 + float64(rng.IntN(3))
	}
	if donut {
		s.Hole = 0.4 + 0.25*rng.Float64()
	}
	return s
}

// RandomStacked draws a stacked bar chart of the given bar kind: 2 or 3
// series with a legend, 3 to 7 categories, no data labels, every segment at
// least 5% of the axis and every stack within 97% of it.
func RandomStacked(rng *rand.Rand, kind string) Spec {
	s := Random(rng, kind)
	s.Stacked, s.DataLabels = true, false
	if s.Legend == "none" {
		s.Legend = "top"
	}
	k := 2 + rng.IntN(2)
	names := seriesNames[rng.IntN(len(seriesNames))]
	cols := pickColors(rng, k)
	s.Min = 0
	span := s.Max
	s.Series = s.Series[:0]
	totals := make([]float64, len(s.Categories))
	for i := range totals {
		totals[i] = span * (0.35 + 0.62*rng.Float64())
	}
	for j := range cols {
		s.Series = append(s.Series, Series{Name: names[j], Color: cols[j]})
	}
	for _, tot := range totals {
		// Split tot into k shares of at least 5% of the axis each.
		w := make([]float64, k)
		sum := 0.0
		for j := range w {
			w[j] = 0.3 + rng.Float64()
			sum += w[j]
		}
		free := tot - float64(k)*0.05*span
		for j := range w {
			v := roundTo(0.05*span+free*w[j]/sum, s.Decimals)
			s.Series[j].Values = append(s.Series[j].Values, v)
		}
	}
	return s
}

// ShapeTruth is the ground truth of a pie, donut or stacked bar chart: for
// pies one series whose points are the slices in drawing order (clockwise),
// y the share in percent (the axis is 0–100, so ±2% of the axis is ±2
// percentage points) and color the slice colour; for stacked bars the
// series as TruthOf gives them (segment values, not running totals) with
// Stacked set.
func ShapeTruth(s Spec) Truth {
	t := TruthOf(s)
	t.Stacked = s.Stacked
	if s.Kind != Pie {
		return t
	}
	t.Unsupported = false
	if s.Hole > 0 {
		t.ChartType = Donut
	}
	t.Axis = Axis{Min: 0, Max: 100}
	total := 0.0
	for _, v := range s.Series[0].Values {
		total += v
	}
	ts := TruthSeries{Name: "", Color: ""}
	for i, v := range s.Series[0].Values {
		ts.Points = append(ts.Points, Point{X: s.Categories[i], Y: roundTo(100*v/total, 2), Color: HexOf(s.SliceColors[i])})
	}
	t.Series = []TruthSeries{ts}
	return t
}

// shapeKinds cycles through the four shapes of a shapes corpus.
var shapeKinds = []string{Pie, Donut, BarVertical, BarHorizontal}

// ShapesCorpus draws n pie, donut and stacked bar charts from seed (in turn:
// pie, donut, stacked vertical, stacked horizontal), with RandomDegrade's
// degradations. The same seed always gives the same corpus; it is separate
// from Corpus, whose seeded output is committed.
func ShapesCorpus(seed uint64, n int) []Item {
	items := make([]Item, 0, n)
	for i := 0; i < n; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		kind := shapeKinds[i%len(shapeKinds)]
		var s Spec
		name := kind
		switch kind {
		case Pie, Donut:
			s = RandomPie(rng, kind == Donut)
		default:
			s = RandomStacked(rng, kind)
			name = kind + "_stacked"
		}
		d := RandomDegrade(rng)
		t := ShapeTruth(s)
		t.Degrade, t.Seed, t.Index = d, seed, i
		t.Width = int(math.Round(float64(s.Width) * d.Scale))
		t.Height = int(math.Round(float64(s.Height) * d.Scale))
		items = append(items, Item{Name: fmt.Sprintf("shape_%03d_%s", i, name), Spec: s, Degrade: d, Truth: t})
	}
	return items
}
