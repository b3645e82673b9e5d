package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canvasd/canvasd/imaging/chart/chartgen"
	"github.com/canvasd/canvasd/imaging/ocr"
)

var update = flag.Bool("update", false, "regenerate testdata/digitize/charts")

const (
	corpusDir  = "../../testdata/digitize/charts"
	corpusSeed = 2026
	corpusSize = 40
)

// quick trims corpus-wide tests under -race and -short.
func quick() bool { return raceEnabled || testing.Short() }

// lastSeed is the last seed of a seed range, shortened by quick.
func lastSeed(first, last uint64) uint64 {
	if quick() {
		return first
	}
	return last
}

// needOCR skips when tesseract is missing, with the install command, and
// fails instead under CI (CI set to anything but "" / "0" / "false"): a CI
// run never passes by skipping the OCR tests.
func needOCR(tb testing.TB) {
	tb.Helper()
	if ocr.Available() {
		return
	}
	const msg = "tesseract not installed: apt-get install -y tesseract-ocr tesseract-ocr-eng"
	if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
		tb.Fatal(msg + " (CI is set: a missing dependency fails the run)")
	}
	tb.Skip(msg)
}

// render draws a chart spec and returns the decoded image after degradation.
func render(tb testing.TB, s chartgen.Spec, d chartgen.Degrade) image.Image {
	tb.Helper()
	img, err := chartgen.Render(s)
	if err != nil {
		tb.Fatal(err)
	}
	data, _, err := chartgen.Apply(img, d)
	if err != nil {
		tb.Fatal(err)
	}
	out, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func specOf(tb testing.TB, kind string, seed uint64, edit func(*chartgen.Spec)) chartgen.Spec {
	tb.Helper()
	s := chartgen.Random(rand.New(rand.NewPCG(seed, 99)), kind)
	if edit != nil {
		edit(&s)
	}
	return s
}

// TestCorpusUpToDate checks that the committed corpus is exactly what the
// seeded generator renders; -update rewrites it.
func TestCorpusUpToDate(t *testing.T) {
	items := chartgen.Corpus(corpusSeed, corpusSize)
	if *update {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(corpusDir, "chart_*"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, it := range items {
			if err := it.Write(corpusDir); err != nil {
				t.Fatal(err)
			}
		}
	}
	tmp := t.TempDir()
	n := 0
	for i, it := range items {
		if quick() && i%8 != 0 {
			continue
		}
		if err := it.Write(tmp); err != nil {
			t.Fatal(err)
		}
		n++
	}
	files, err := filepath.Glob(filepath.Join(tmp, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2*n {
		t.Fatalf("generator wrote %d files, want %d", len(files), 2*n)
	}
	all, _ := filepath.Glob(filepath.Join(corpusDir, "chart_*"))
	if len(all) != 2*corpusSize {
		t.Errorf("%s holds %d files, want %d", corpusDir, len(all), 2*corpusSize)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(corpusDir, filepath.Base(f)))
		if err != nil {
			t.Fatalf("%v (run go test ./imaging/chart -run TestCorpusUpToDate -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator output (run with -update)", filepath.Base(f))
		}
	}
}

// TestEvalSubset runs Eval end to end on four committed charts, one of each
// kind. It checks the evaluator, not the accuracy: the thresholds are
// enforced on the whole corpus by TestAccuracyCharts (accuracy_test.go, build
// tag accuracy, run without -race by make test).
func TestEvalSubset(t *testing.T) {
	needOCR(t)
	dir := t.TempDir()
	for _, name := range []string{"chart_000_bar_vertical", "chart_001_bar_horizontal", "chart_002_line", "chart_007_pie"} {
		for _, ext := range []string{".png", ".jpg", ".json"} {
			data, err := os.ReadFile(filepath.Join(corpusDir, name+ext))
			if err != nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name+ext), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := Eval(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if len(rep.ByType) != 4 || rep.Unsupported != 0 {
		t.Fatalf("subset eval covered %d types, %d unsupported", len(rep.ByType), rep.Unsupported)
	}
}

func TestUnsupportedCharts(t *testing.T) {
	for _, kind := range []string{chartgen.Scatter} { // pies are read (pie.go)
		for seed := uint64(1); seed <= 3; seed++ {
			img := render(t, specOf(t, kind, seed, nil), chartgen.Degrade{Scale: 1})
			_, err := Digitize(context.Background(), img)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s seed %d: err = %v, want ErrUnsupported", kind, seed, err)
			}
		}
	}
	blank := image.NewGray(image.Rect(0, 0, 300, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	if _, err := Digitize(context.Background(), blank); !errors.Is(err, ErrUnsupported) {
		t.Errorf("blank: err = %v, want ErrUnsupported", err)
	}
}

// TestWithoutOCR checks the pixel-only result: right type and series, values
// in pixels proportional to the true values, and the warnings.
func TestWithoutOCR(t *testing.T) {
	noOCR := Reader{OCR: ocr.Engine{Off: true}}
	for _, kind := range []string{chartgen.BarVertical, chartgen.BarHorizontal} {
		s := specOf(t, kind, 5, func(s *chartgen.Spec) { s.DataLabels = false })
		res, err := noOCR.Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1}))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if res.ChartType != kind {
			t.Errorf("%s: chart_type %q", kind, res.ChartType)
		}
		if !contains(res.Warnings, WarnOCRUnavailable) || !contains(res.Warnings, WarnValuesInPixels) {
			t.Errorf("%s: warnings %v", kind, res.Warnings)
		}
		if res.Engine.OCR != "" || res.Engine.Pipeline != pipelineNamePixels {
			t.Errorf("%s: engine %+v", kind, res.Engine)
		}
		if len(res.Series) != len(s.Series) {
			t.Fatalf("%s: %d series, want %d", kind, len(res.Series), len(s.Series))
		}
		// Pixels per unit should be the same for every bar (axis starts at 0).
		var ratios []float64
		for j, ser := range res.Series {
			if len(ser.Points) != len(s.Categories) {
				t.Fatalf("%s: series %d has %d points, want %d", kind, j, len(ser.Points), len(s.Categories))
			}
		}
		for j := range s.Series {
			// Series order follows the legend, as in the spec.
			for i, v := range s.Series[j].Values {
				ratios = append(ratios, res.Series[j].Points[i].Y/v)
			}
		}
		m := median(ratios)
		for _, r := range ratios {
			if math.Abs(r-m) > 0.03*m+0.5/m {
				t.Errorf("%s: pixel/value ratio %.3f vs median %.3f", kind, r, m)
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestDataLabelsWin: with printed labels the values are the printed numbers,
// not the measured ones.
func TestDataLabelsWin(t *testing.T) {
	needOCR(t)
	s := specOf(t, chartgen.BarVertical, 11, func(s *chartgen.Spec) { s.DataLabels = true })
	res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1.3}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != len(s.Series) {
		t.Fatalf("%d series, want %d", len(res.Series), len(s.Series))
	}
	exact, total := 0, 0
	for j, ser := range s.Series {
		for i, v := range ser.Values {
			total++
			if i < len(res.Series[j].Points) && res.Series[j].Points[i].Y == v {
				exact++
			}
		}
	}
	if float64(exact) < 0.8*float64(total) {
		t.Errorf("%d/%d values equal the printed labels", exact, total)
	}
}

// TestResultJSON checks the wire shape and the table built from the series.
func TestResultJSON(t *testing.T) {
	needOCR(t)
	s := specOf(t, chartgen.Line, 3, func(s *chartgen.Spec) { s.Legend = "top"; s.Log = false })
	res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1}))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"chart_type", "series", "table", "engine", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, js)
		}
	}
	if !strings.Contains(string(js), `"n_rows"`) || !strings.Contains(string(js), `"pipeline":"chart"`) {
		t.Errorf("unexpected JSON %s", js)
	}
	eng := m["engine"].(map[string]any)
	if eng["ocr"] != "tesseract" || !strings.HasPrefix(eng["version"].(string), "tesseract") {
		t.Errorf("engine %v", eng)
	}
	if res.ChartType != TypeLine || len(res.Series) != len(s.Series) {
		t.Fatalf("got %s with %d series", res.ChartType, len(res.Series))
	}
	for j, ser := range res.Series {
		// Tesseract sometimes drops the narrow space in "Product A".
		if strings.ReplaceAll(ser.Name, " ", "") != strings.ReplaceAll(s.Series[j].Name, " ", "") {
			t.Errorf("series %d name %q, want %q", j, ser.Name, s.Series[j].Name)
		}
		if !strings.HasPrefix(ser.Color, "#") || len(ser.Color) != 7 {
			t.Errorf("series %d colour %q", j, ser.Color)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	needOCR(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Digitize(ctx, render(t, specOf(t, chartgen.BarVertical, 2, nil), chartgen.Degrade{Scale: 1}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFitAxis(t *testing.T) {
	// Linear, y grows upwards, one misread label ("50" read as "80").
	ts := []tick{}
	for i, v := range []float64{0, 20, 40, 60, 80, 100} {
		ts = append(ts, tick{pos: 400 - float64(i)*60, val: v, alts: []float64{v}})
	}
	ts[2].val, ts[2].alts = 90, []float64{90}
	f := fitAxis(ts, 3)
	if !f.ok || f.log || f.inliers != 5 {
		t.Fatalf("fit %+v", f)
	}
	if v := f.value(250); math.Abs(v-50) > 1e-6 {
		t.Errorf("value(250) = %v, want 50", v)
	}
	// A dotted zero read as 8 is recovered through its variant.
	ts[2].val, ts[2].alts = 48, numberVariants("48")
	ts[5].alts = numberVariants("188")
	ts[5].val = ts[5].alts[0]
	f = fitAxis(ts, 3)
	if f.inliers != 6 || math.Abs(f.value(100)-100) > 1e-6 {
		t.Errorf("variant fit %+v", f)
	}
	if v := numberVariants("1.500"); !hasValue(v, 1500) || !hasValue(v, -1.5) {
		t.Errorf(`numberVariants("1.500") = %v, want 1500 and -1.5 among them`, v)
	}
	// Log axis.
	ts = nil
	for i, v := range []float64{1, 10, 100, 1000} {
		ts = append(ts, tick{pos: 300 - float64(i)*80, val: v})
	}
	f = fitAxis(ts, 3)
	if !f.ok || !f.log || f.inliers != 4 {
		t.Fatalf("log fit %+v", f)
	}
	if v := f.value(260); math.Abs(v-math.Sqrt(10)) > 1e-6 {
		t.Errorf("log value(260) = %v, want %v", v, math.Sqrt(10))
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{"1,250": 1250, "$40": 40, "12.5%": 12.5, "(20)": -20, "-5": -5, "l0": 10, "O": 0, "2,5OO": 2500} {
		got, ok := parseNumber(in)
		if !ok || got != want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"Revenue", "Jan", "", "Q1"} {
		if v, ok := parseNumber(in); ok {
			t.Errorf("parseNumber(%q) = %v, want no number", in, v)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1,250", "(3.5)", "$1", "12%", "8O0", "ll"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseNumber(s)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("parseNumber(%q) = %v", s, v)
		}
		numberVariants(s)
	})
}

func benchImage(b *testing.B) image.Image {
	s := specOf(b, chartgen.BarVertical, 21, func(s *chartgen.Spec) {
		s.Width, s.Height = 1000, 600
		s.DataLabels = true
	})
	return render(b, s, chartgen.Degrade{Scale: 1, JPEG: 85})
}

// BenchmarkChart digitizes a 1000×600 grouped bar chart with data labels,
// OCR included.
func BenchmarkChart(b *testing.B) {
	needOCR(b)
	img := benchImage(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Digitize(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChartPixels is the same chart without OCR: the pixel analysis
// alone.
func BenchmarkChartPixels(b *testing.B) {
	img := benchImage(b)
	noOCR := Reader{OCR: ocr.Engine{Off: true}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := noOCR.Digitize(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpreadsheetStyle: charts that draw gridlines but no value-axis line.
func TestSpreadsheetStyle(t *testing.T) {
	needOCR(t)
	cases := []struct {
		kind string
		edit func(*chartgen.Spec)
	}{
		{chartgen.BarVertical, func(s *chartgen.Spec) { s.NoYAxisLine, s.Grid = true, true }},
		{chartgen.Line, func(s *chartgen.Spec) { s.NoYAxisLine, s.Grid, s.Log = true, true, false }},
		{chartgen.BarHorizontal, func(s *chartgen.Spec) { s.NoXAxisLine, s.Grid = true, true }},
	}
	if quick() {
		cases = cases[2:]
	}
	for _, tc := range cases {
		for seed := uint64(31); seed <= lastSeed(31, 32); seed++ {
			s := specOf(t, tc.kind, seed, tc.edit)
			if s.Log {
				continue
			}
			res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1.2, JPEG: 90}))
			if err != nil {
				t.Errorf("%s seed %d: %v", tc.kind, seed, err)
				continue
			}
			if res.ChartType != tc.kind || len(res.Series) != len(s.Series) {
				t.Errorf("%s seed %d: got %s with %d series, want %d", tc.kind, seed, res.ChartType, len(res.Series), len(s.Series))
				continue
			}
			within, total := 0, 0
			for j, ser := range s.Series {
				for i, v := range ser.Values {
					total++
					if i < len(res.Series[j].Points) && math.Abs(res.Series[j].Points[i].Y-v) <= 0.02*(s.Max-s.Min) {
						within++
					}
				}
			}
			if float64(within) < 0.9*float64(total) {
				t.Errorf("%s seed %d: %d/%d values within ±2%%", tc.kind, seed, within, total)
			}
		}
	}
}

// TestNotACharts: tables, noise and flat images never panic and are refused
// or, at worst, return a well-formed result.
func TestNotACharts(t *testing.T) {
	var imgs []image.Image
	rng := rand.New(rand.NewPCG(1, 2))
	noise := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	imgs = append(imgs, noise, image.NewRGBA(image.Rect(0, 0, 50, 50)), image.NewGray(image.Rect(0, 0, 10, 10)))
	pattern := "../../testdata/digitize/tables/*-00[0-2].*g"
	if quick() {
		pattern = "../../testdata/digitize/tables/*-000.*g"
	}
	tables, _ := filepath.Glob(pattern)
	for _, f := range tables {
		img, err := decodeFile(f)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for i, img := range imgs {
		res, err := Digitize(context.Background(), img)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, context.Canceled) {
				t.Errorf("image %d: unexpected error %v", i, err)
			}
			continue
		}
		if _, err := json.Marshal(res); err != nil {
			t.Errorf("image %d: result does not marshal: %v", i, err)
		}
	}
}

func hasValue(vs []float64, v float64) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// TestNegativeBars: with negative values the bars grow up and down from a
// zero line inside the plot.
func TestNegativeBars(t *testing.T) {
	needOCR(t)
	for _, kind := range []string{chartgen.BarVertical, chartgen.BarHorizontal} {
		for seed := uint64(41); seed <= lastSeed(41, 42); seed++ {
			s := specOf(t, kind, seed, func(s *chartgen.Spec) {
				s.Min = -2 * s.Step
				for j := range s.Series {
					for i := range s.Series[j].Values {
						if (i+j)%3 == 1 {
							s.Series[j].Values[i] = math.Round(-s.Series[j].Values[i]/s.Max*s.Step*1.8*10) / 10
						}
					}
				}
			})
			res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1.1, JPEG: 90}))
			if err != nil {
				t.Errorf("%s seed %d: %v", kind, seed, err)
				continue
			}
			if res.ChartType != kind || len(res.Series) != len(s.Series) {
				t.Errorf("%s seed %d: got %s with %d series, want %d", kind, seed, res.ChartType, len(res.Series), len(s.Series))
				continue
			}
			within, total := 0, 0
			for j, ser := range s.Series {
				for i, v := range ser.Values {
					total++
					if i < len(res.Series[j].Points) && math.Abs(res.Series[j].Points[i].Y-v) <= 0.02*(s.Max-s.Min) {
						within++
					} else if i < len(res.Series[j].Points) {
						t.Logf("%s seed %d: series %d point %d got %v want %v", kind, seed, j, i, res.Series[j].Points[i].Y, v)
					}
				}
			}
			if float64(within) < 0.9*float64(total) {
				t.Errorf("%s seed %d: %d/%d values within ±2%%", kind, seed, within, total)
			}
		}
	}
}

// TestStackedBars: segments stacked on each other are measured from the
// segment below.
func TestStackedBars(t *testing.T) {
	needOCR(t)
	ran := 0
	for _, kind := range []string{chartgen.BarVertical, chartgen.BarHorizontal} {
		for seed := uint64(51); seed <= 56 && !(quick() && ran >= 2); seed++ {
			s := specOf(t, kind, seed, func(s *chartgen.Spec) {
				s.Stacked, s.DataLabels = true, false
				k := float64(len(s.Series))
				for j := range s.Series {
					for i := range s.Series[j].Values {
						s.Series[j].Values[i] = math.Round(s.Series[j].Values[i]/k*0.95*10) / 10
					}
				}
			})
			if len(s.Series) < 2 {
				continue
			}
			ran++
			res, err := Digitize(context.Background(), render(t, s, chartgen.Degrade{Scale: 1.1, JPEG: 90}))
			if err != nil {
				t.Errorf("%s seed %d: %v", kind, seed, err)
				continue
			}
			if res.ChartType != kind || len(res.Series) != len(s.Series) {
				t.Errorf("%s seed %d: got %s with %d series, want %d", kind, seed, res.ChartType, len(res.Series), len(s.Series))
				continue
			}
			within, total := 0, 0
			for j, ser := range s.Series {
				for i, v := range ser.Values {
					total++
					if i < len(res.Series[j].Points) && math.Abs(res.Series[j].Points[i].Y-v) <= 0.02*(s.Max-s.Min) {
						within++
					} else if i < len(res.Series[j].Points) {
						t.Logf("%s seed %d: series %d point %d got %v want %v", kind, seed, j, i, res.Series[j].Points[i].Y, v)
					}
				}
			}
			if float64(within) < 0.9*float64(total) {
				t.Errorf("%s seed %d: %d/%d values within ±2%%", kind, seed, within, total)
			}
		}
	}
	if ran < 3 && !quick() || ran == 0 {
		t.Fatalf("only %d stacked charts had two or more series", ran)
	}
}

func TestDotThousandsTicks(t *testing.T) {
	words := []word{{text: "0"}, {text: "1.000"}, {text: "2.000"}, {text: "3.000"}}
	var ts []tick
	var idx []int
	for i, w := range words {
		alts := numberVariants(w.text)
		ts = append(ts, tick{pos: float64(100 - 30*i), val: alts[0], alts: alts})
		idx = append(idx, i)
	}
	dotThousandsTicks(ts, idx, words)
	if ts[2].val != 2000 || len(ts[2].alts) != 1 {
		t.Errorf("2.000 beside a plain 0: got %v %v, want 2000 alone", ts[2].val, ts[2].alts)
	}
	words = []word{{text: "0.000"}, {text: "1.000"}, {text: "2.000"}}
	ts, idx = ts[:0], idx[:0]
	for i, w := range words {
		alts := numberVariants(w.text)
		ts = append(ts, tick{pos: float64(100 - 30*i), val: alts[0], alts: alts})
		idx = append(idx, i)
	}
	dotThousandsTicks(ts, idx, words)
	if ts[2].val != 2 {
		t.Errorf("2.000 beside 0.000: got %v, want 2 (three decimals)", ts[2].val)
	}
}

// TestColouredFrame: gnuplot draws its axes in a colour (here #b03a2e);
// the frame is found, repainted grey, and the axes are then found. A chart
// with grey axes has no such frame.
func TestColouredFrame(t *testing.T) {
	img, err := decodeFile("../../testdata/digitize/independent/dev/charts/gnuplot-003-line.png")
	if err != nil {
		t.Fatal(err)
	}
	r := newRaster(img)
	if _, ok := findAxes(r); ok {
		t.Fatal("axes found before repainting the red frame; the test image no longer tests the fallback")
	}
	if !r.neutralizeColouredFrame() {
		t.Fatal("red axis frame not found")
	}
	if _, ok := findAxes(r); !ok {
		t.Error("no axes after repainting the frame grey")
	}
	img, err = decodeFile(filepath.Join(corpusDir, "chart_000_bar_vertical.png"))
	if err != nil {
		t.Fatal(err)
	}
	if newRaster(img).neutralizeColouredFrame() {
		t.Error("a coloured frame found in a chart with grey axes")
	}
}
