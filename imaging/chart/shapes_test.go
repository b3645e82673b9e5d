package chart

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/canvasd/canvasd/imaging/chart/chartgen"
	"github.com/canvasd/canvasd/imaging/ocr"
)

// shapesDevSeed is the development slice of the pie, donut and stacked-bar
// charts (chartgen.ShapesCorpus); the held-out slice is shapesHeldOutSeed
// (accuracy_shapes_test.go), never used for tuning.
const shapesDevSeed = 1771

// TestShapesRendered runs Eval on one rendered pie, donut, stacked vertical
// and stacked horizontal chart (real PNG/JPEG files from the generator,
// degraded) and requires each read as its type with shares within ±2
// points and segment values within ±2% of the axis. The code before pie.go
// answered unsupported_chart for the pie and the donut.
func TestShapesRendered(t *testing.T) {
	needOCR(t)
	dir := t.TempDir()
	for _, it := range chartgen.ShapesCorpus(shapesDevSeed, 4) {
		if err := it.Write(dir); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Eval(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	for _, f := range rep.Failures {
		t.Log(f)
	}
	for _, typ := range []string{TypePie, TypeDonut, TypeBarVertical + "_stacked", TypeBarHorizontal + "_stacked"} {
		s := rep.ByType[typ]
		if s == nil || s.Charts != 1 {
			t.Fatalf("%s: not in the report", typ)
		}
		if s.Errors != 0 || s.TypeMatch != 1 {
			t.Errorf("%s: %d errors, type right in %d/1", typ, s.Errors, s.TypeMatch)
		}
		if got := rep.ValueRate(typ); got < 0.9 {
			t.Errorf("%s: %.1f%% of values within tolerance (%d/%d), want >= 90%%", typ, 100*got, s.Within, s.Values)
		}
	}
	if s := rep.ByType[TypePie]; s != nil && s.NameMatch < s.Names {
		t.Errorf("pie: %d/%d slice labels read from the legend", s.NameMatch, s.Names)
	}
}

// TestPieWithoutOCR: without Tesseract a pie still gives its slices, shares
// summing to 100 in legend-less clockwise order, numbered from 1, with the
// slice colours and the ocr_unavailable warning.
func TestPieWithoutOCR(t *testing.T) {
	noOCR := Reader{OCR: ocr.Engine{Off: true}}
	for _, it := range chartgen.ShapesCorpus(shapesDevSeed, 2) {
		res, err := noOCR.Digitize(context.Background(), render(t, it.Spec, chartgen.Degrade{Scale: 1}))
		if err != nil {
			t.Fatalf("%s: %v", it.Name, err)
		}
		if res.ChartType != it.Truth.ChartType || len(res.Series) != 1 {
			t.Fatalf("%s: chart_type %q with %d series", it.Name, res.ChartType, len(res.Series))
		}
		if !contains(res.Warnings, WarnOCRUnavailable) {
			t.Errorf("%s: warnings %v", it.Name, res.Warnings)
		}
		truth := it.Truth.Series[0].Points
		got := res.Series[0].Points
		if len(got) != len(truth) {
			t.Fatalf("%s: %d slices, want %d", it.Name, len(got), len(truth))
		}
		sum := 0.0
		for k, p := range got {
			sum += p.Y
			if p.X != k+1 {
				t.Errorf("%s: slice %d x = %v, want its number", it.Name, k, p.X)
			}
			// Match the true slice by colour.
			found := false
			for _, tp := range truth {
				if hexDist(p.Color, tp.Color) < 40 {
					found = true
					if math.Abs(p.Y-tp.Y) > pieShareTol {
						t.Errorf("%s: slice %s share %.1f, want %.1f", it.Name, p.Color, p.Y, tp.Y)
					}
				}
			}
			if !found {
				t.Errorf("%s: slice colour %s is none of the true ones", it.Name, p.Color)
			}
		}
		if math.Abs(sum-100) > 0.5 {
			t.Errorf("%s: shares sum to %.2f", it.Name, sum)
		}
	}
}

// TestPieNotBars: a bar chart is never read as a pie, and a square block of
// colour (no disc) is refused rather than read as one.
func TestPieNotBars(t *testing.T) {
	s := specOf(t, chartgen.BarVertical, 7, nil)
	res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if res.ChartType != TypeBarVertical || res.Stacked {
		t.Errorf("bar chart read as %q stacked=%v", res.ChartType, res.Stacked)
	}
	sq := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			c := color.RGBA{255, 255, 255, 255}
			if x >= 100 && x < 250 && y >= 60 && y < 210 {
				c = color.RGBA{0x1f, 0x77, 0xb4, 255}
			}
			sq.SetRGBA(x, y, c)
		}
	}
	if res, err := Digitize(context.Background(), sq); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a square of colour: got %+v, %v; want ErrUnsupported", res, err)
	}
}

// BenchmarkPieChart is one pie of the development slice (a 1:1 PNG) read
// with OCR: the axes pass that fails first, then the pie reader.
func BenchmarkPieChart(b *testing.B) {
	needOCR(b)
	it := chartgen.ShapesCorpus(shapesDevSeed, 1)[0]
	img := render(b, it.Spec, chartgen.Degrade{Scale: 1})
	b.ResetTimer()
	for b.Loop() {
		if _, err := Digitize(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPieSliceLabels: a pie without a legend, its categories printed beside
// the slices, gets each slice's label from the word outside it.
func TestPieSliceLabels(t *testing.T) {
	needOCR(t)
	for seed := uint64(1); seed <= lastSeed(1, 3); seed++ {
		s := chartgen.RandomPie(rand.New(rand.NewPCG(shapesDevSeed, 100+seed)), seed%2 == 0)
		s.Legend, s.SliceLabels, s.Title = "none", true, ""
		truth := chartgen.ShapeTruth(s).Series[0].Points
		res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1}))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(res.Series) != 1 || len(res.Series[0].Points) != len(truth) {
			t.Fatalf("seed %d: %+v", seed, res.Series)
		}
		named := 0
		for _, p := range res.Series[0].Points {
			for _, tp := range truth {
				if hexDist(p.Color, tp.Color) >= 40 {
					continue
				}
				if p.X == tp.X {
					named++
				} else {
					t.Logf("seed %d: slice %s labelled %v, want %v", seed, p.Color, p.X, tp.X)
				}
				if math.Abs(p.Y-tp.Y) > pieShareTol {
					t.Errorf("seed %d: slice %v share %.1f, want %.1f", seed, tp.X, p.Y, tp.Y)
				}
			}
		}
		if named < len(truth)-1 {
			t.Errorf("seed %d: %d/%d slice labels read", seed, named, len(truth))
		}
	}
}
