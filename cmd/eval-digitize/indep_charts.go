package main

// The independent chart corpus: bar and line charts drawn by gnuplot's
// pngcairo terminal in DejaVu and Liberation fonts, with grey and black
// series, coloured axes, tick labels in several thousands styles and real
// minus signs. The truth is the data the script plots.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type chartPoint struct {
	X string  `json:"x"`
	Y float64 `json:"y"`
}

type chartSeries struct {
	Name   string       `json:"name"`
	Color  string       `json:"color"`
	Points []chartPoint `json:"points"`
}

type chartTruthFile struct {
	ChartType string        `json:"chart_type"`
	Series    []chartSeries `json:"series"`
	Axis      struct {
		Min float64 `json:"min"`
		Max float64 `json:"max"`
		Log bool    `json:"log"`
	} `json:"axis"`
	Renderer  string `json:"renderer"`
	Font      string `json:"font"`
	AxisColor string `json:"axis_color"`
	Format    string `json:"number_format"`
	Minus     string `json:"minus"`
	Seed      uint64 `json:"seed"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

var (
	gpFonts     = []string{"DejaVu Sans", "Liberation Sans", "Liberation Serif", "DejaVu Serif"}
	gpColors    = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"}
	gpGreys     = []string{"#000000", "#808080", "#555555", "#b0b0b0"}
	gpAxes      = []string{"#000000", "#808080", "#1f4e9c", "#b03a2e", "#2e7d32"}
	gpSeries    = []string{"North", "South", "East", "West", "Online", "Retail", "Export", "Domestic", "Plan", "Actual"}
	gpCatalogue = [][]string{
		{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		{"Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"},
		{"Oslo", "Lima", "Perth", "Kyiv", "Quito", "Rome", "Doha", "Turin"},
		{"FY16", "FY17", "FY18", "FY19", "FY20", "FY21", "FY22", "FY23"},
	}
)

type gpChart struct {
	kind       string // bar_vertical or line
	w, h       int
	font       string
	fontSize   int
	axis       string
	format     numFormat
	min, max   float64
	step       float64
	categories []string
	series     []chartSeries
	key        string // gnuplot key placement, "" = no key
	grid       bool
	title      string
}

// randomGPChart draws one chart from rng.
func randomGPChart(rng *rand.Rand, kind string) gpChart {
	c := gpChart{kind: kind, w: 640 + 40*rng.IntN(9), h: 400 + 40*rng.IntN(6), font: gpFonts[rng.IntN(len(gpFonts))],
		fontSize: 10 + rng.IntN(3), axis: gpAxes[rng.IntN(len(gpAxes))], format: numFormats[rng.IntN(len(numFormats))],
		grid: rng.Float64() < 0.5}
	c.format.Minus = []string{"−", "−", "-"}[rng.IntN(3)]
	cats := gpCatalogue[rng.IntN(len(gpCatalogue))]
	n := 4 + rng.IntN(4)
	if kind == "line" {
		n = 6 + rng.IntN(5)
	}
	n = min(n, len(cats))
	off := rng.IntN(len(cats) - n + 1)
	c.categories = cats[off : off+n]
	// Nice axis: a step of 1, 2 or 5 times a power of ten, 4-8 steps;
	// large steps show the thousands separators.
	c.step = []float64{1, 2, 5}[rng.IntN(3)] * math.Pow(10, float64(rng.IntN(5)))
	steps := 4 + rng.IntN(5)
	negSteps := 0
	if rng.Float64() < 0.3 {
		negSteps = 1 + rng.IntN(2)
	}
	c.min, c.max = -float64(negSteps)*c.step, float64(steps-negSteps)*c.step
	nSeries := 1 + rng.IntN(3)
	cols := rng.Perm(len(gpColors))
	names := rng.Perm(len(gpSeries))
	greyAt := -1
	if rng.Float64() < 0.5 {
		greyAt = rng.IntN(nSeries)
	}
	span := c.max - c.min
	for s := 0; s < nSeries; s++ {
		ser := chartSeries{Name: gpSeries[names[s]], Color: gpColors[cols[s]]}
		if s == greyAt {
			ser.Color = gpGreys[rng.IntN(len(gpGreys))]
		}
		for _, cat := range c.categories {
			lo := math.Max(c.min, 0)
			if negSteps > 0 && rng.Float64() < 0.3 {
				lo = c.min
			}
			v := lo + (c.max-lo)*(0.08+0.88*rng.Float64())
			q := c.step / 10
			v = math.Round(v/q) * q
			if math.Abs(v) < 0.02*span {
				v = 0.05 * span
			}
			ser.Points = append(ser.Points, chartPoint{X: cat, Y: v})
		}
		c.series = append(c.series, ser)
	}
	if nSeries > 1 || rng.Float64() < 0.3 {
		c.key = []string{"top left", "top right", "outside right top", "below center horizontal"}[rng.IntN(4)]
	}
	if rng.Float64() < 0.4 {
		c.title = []string{"Sales by region", "Monthly volume", "Results", "Orders per site"}[rng.IntN(4)]
	}
	return c
}

func (c gpChart) tickLabel(v float64) string {
	dec := 0
	if c.step < 1 {
		dec = 1
	}
	if math.Abs(v) < 1e-9 {
		return "0"
	}
	return formatIndep(v, dec, c.format)
}

func gpQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// script returns the gnuplot script that draws c into out.
func (c gpChart) script(out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set encoding utf8\nset terminal pngcairo size %d,%d font %s background rgb \"white\"\nset output %s\n",
		c.w, c.h, gpQuote(fmt.Sprintf("%s,%d", c.font, c.fontSize)), gpQuote(out))
	fmt.Fprintf(&b, "set border 3 lc rgb %s lw 1.5\nset xtics nomirror scale 0 textcolor rgb \"#222222\"\n", gpQuote(c.axis))
	var ticks []string
	for v := c.min; v <= c.max+c.step/2; v += c.step {
		ticks = append(ticks, fmt.Sprintf("%s %g", gpQuote(c.tickLabel(v)), v))
	}
	fmt.Fprintf(&b, "set ytics nomirror out textcolor rgb \"#222222\" (%s)\nset yrange [%g:%g]\n", strings.Join(ticks, ", "), c.min, c.max)
	if c.min < 0 {
		fmt.Fprintf(&b, "set xzeroaxis lt 1 lc rgb %s lw 1\n", gpQuote(c.axis))
	}
	if c.grid {
		b.WriteString("set grid ytics lc rgb \"#dddddd\" lw 1 lt 1\n")
	}
	if c.key != "" {
		fmt.Fprintf(&b, "set key %s noautotitle\n", c.key)
	} else {
		b.WriteString("unset key\n")
	}
	if c.title != "" {
		fmt.Fprintf(&b, "set title %s\n", gpQuote(c.title))
	}
	b.WriteString("$d << EOD\n")
	for i, cat := range c.categories {
		b.WriteString(gpQuote(cat))
		for _, s := range c.series {
			fmt.Fprintf(&b, " %g", s.Points[i].Y)
		}
		b.WriteString("\n")
	}
	b.WriteString("EOD\n")
	var plots []string
	if c.kind == "bar_vertical" {
		b.WriteString("set style data histograms\nset style histogram clustered gap 1\nset style fill solid 1.0 noborder\n")
		for i, s := range c.series {
			u := fmt.Sprintf("%d", i+2)
			if i == 0 {
				u += ":xtic(1)"
			}
			plots = append(plots, fmt.Sprintf("$d using %s title %s lc rgb %s", u, gpQuote(s.Name), gpQuote(s.Color)))
		}
	} else {
		fmt.Fprintf(&b, "set xrange [-0.5:%g]\n", float64(len(c.categories))-0.5)
		for i, s := range c.series {
			u := fmt.Sprintf("0:%d", i+2)
			if i == 0 {
				u += ":xtic(1)"
			}
			plots = append(plots, fmt.Sprintf("$d using %s title %s with linespoints lw 2 pt 7 ps 0.8 lc rgb %s", u, gpQuote(s.Name), gpQuote(s.Color)))
		}
	}
	b.WriteString("plot " + strings.Join(plots, ", \\\n  ") + "\n")
	return b.String()
}

// writeGnuplotCharts draws n charts from seed into dir, alternating vertical
// bars and lines.
func writeGnuplotCharts(ctx context.Context, dir string, seed uint64, n int) error {
	for i := 0; i < n; i++ {
		kind := []string{"bar_vertical", "line"}[i%2]
		sd := seed*1000 + uint64(i)
		rng := rand.New(rand.NewPCG(sd, 7))
		c := randomGPChart(rng, kind)
		name := fmt.Sprintf("gnuplot-%03d-%s", i, kind)
		out := filepath.Join(dir, name+".png")
		cmd := exec.CommandContext(ctx, "gnuplot")
		cmd.Stdin = strings.NewReader(c.script(out))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: gnuplot: %v: %s", name, err, stderr.String())
		}
		t := chartTruthFile{ChartType: kind, Series: c.series, Renderer: "gnuplot pngcairo", Font: c.font, AxisColor: c.axis,
			Format: c.format.Name, Minus: c.format.Minus, Seed: sd, Width: c.w, Height: c.h}
		if c.key == "" {
			for i := range t.Series {
				t.Series[i].Name = ""
			}
		}
		t.Axis.Min, t.Axis.Max = c.min, c.max
		js, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
