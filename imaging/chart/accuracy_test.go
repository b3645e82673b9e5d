//go:build accuracy

package chart

import "testing"

// TestAccuracyCharts is the acceptance figure of BENCHMARKS.md ("Batch
// digitize"), enforced: on the whole committed corpus, bar charts have at
// least 90% of their values within ±2% of the axis range and the right series
// count in at least 90% of charts, line charts at least 80% of values, and
// every scatter chart is refused (pies are read: pie.go, TestAccuracyShapes). make test runs it without -race
// (go test -tags accuracy -run '^TestAccuracy' ./imaging/...).
func TestAccuracyCharts(t *testing.T) {
	if raceEnabled {
		t.Fatal("the accuracy tests run without -race: see the test target of the Makefile")
	}
	needOCR(t)
	rep, err := Eval(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	for _, f := range rep.Failures {
		t.Log(f)
	}
	for _, typ := range []string{TypeBarVertical, TypeBarHorizontal, TypeLine} {
		if rep.ByType[typ] == nil || rep.ByType[typ].Charts < 10 {
			t.Fatalf("corpus has too few %s charts", typ)
		}
	}
	for _, typ := range []string{TypeBarVertical, TypeBarHorizontal} {
		if got := rep.ValueRate(typ); got < 0.90 {
			t.Errorf("%s: %.1f%% of values within ±2%%, want >= 90%%", typ, 100*got)
		}
		if got := rep.SeriesRate(typ); got < 0.90 {
			t.Errorf("%s: series count right in %.1f%% of charts, want >= 90%%", typ, 100*got)
		}
	}
	if got := rep.ValueRate(TypeLine); got < 0.80 {
		t.Errorf("line: %.1f%% of values within ±2%%, want >= 80%%", 100*got)
	}
	if rep.Unsupported == 0 || rep.Refused != rep.Unsupported {
		t.Errorf("unsupported charts refused %d/%d", rep.Refused, rep.Unsupported)
	}
}

// Floors of the frozen independent slice: measured 65.7% (bar_vertical) and
// 85.6% (line) of values within ±2% since grey and black series are read
// (55.6% and 56.1% before; BENCHMARKS.md), less about five points.
const (
	indepBarValueFloor  = 0.60
	indepLineValueFloor = 0.80
)

// TestAccuracyIndependentCharts is a floor under the frozen slice of the
// independent corpus (BENCHMARKS.md, "Independent corpus"): gnuplot charts
// with coloured axes and grey or black series, which the recogniser was not
// built for (grey and black series are found by geometry since issue 18;
// legend names still fail). The floor is the measured figure less a margin, so a change
// that loses what does work is caught; it is no acceptance target.
func TestAccuracyIndependentCharts(t *testing.T) {
	if raceEnabled {
		t.Fatal("the accuracy tests run without -race: see the test target of the Makefile")
	}
	needOCR(t)
	rep, err := Eval("../../testdata/digitize/independent/frozen/charts")
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	floors := map[string]float64{TypeBarVertical: indepBarValueFloor, TypeLine: indepLineValueFloor}
	for typ, floor := range floors {
		if rep.ByType[typ] == nil || rep.ByType[typ].Charts < 8 {
			t.Fatalf("independent corpus has too few %s charts", typ)
		}
		if got := rep.ValueRate(typ); got < floor {
			t.Errorf("%s: %.1f%% of values within ±2%%, want >= %.0f%%", typ, 100*got, 100*floor)
		}
	}
}
