//go:build accuracy

package digitize_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
)

// The held-out scanned-look slice of issue 17 (seed 1717, 10 tables per
// style, 12 images per text kind; make eval-digitize reports it), never
// used for tuning. Floors sit about four points (one table's worth for the
// shape rate) under the figures measured on it (BENCHMARKS.md, "Scanned-look
// pages": numeric cells 53.6 / 81.3 / 71.5%, header cells 52.0 / 56.5 /
// 72.5%, shapes 80 / 80 / 90% for grid / rules / borderless; tokens 77.9%
// KPI cards, 88.7% slide titles). They hold what was reached, not the
// issue's targets (95% numeric and header cells and shapes, 97% tokens),
// which are not met.
const (
	scanHeldoutSeed = 1717
	scanPerStyle    = 10
	scanPerKind     = 12
)

var (
	scanNumericFloor = map[string]float64{"grid": 0.50, "rules": 0.77, "borderless": 0.67}
	scanHeaderFloor  = map[string]float64{"grid": 0.48, "rules": 0.52, "borderless": 0.68}
	scanShapeFloor   = map[string]float64{"grid": 0.70, "rules": 0.70, "borderless": 0.80}
	scanTokenFloor   = map[string]float64{"kpi": 0.74, "title": 0.85}
)

// TestAccuracyScannedHeldout generates the held-out slice into a temporary
// directory (the generator is deterministic) and enforces the floors.
func TestAccuracyScannedHeldout(t *testing.T) {
	if raceEnabled {
		t.Fatal("the accuracy tests run without -race: see the test target of the Makefile")
	}
	needOCR(t)
	fams := append(append([]gen.Family(nil), gen.GoFamilies...), gen.SystemFamilies()...)
	if len(fams) != len(gen.GoFamilies)+3 {
		t.Fatal("system fonts missing: apt-get install fonts-liberation fonts-dejavu-core")
	}
	dir := t.TempDir()
	td, xd := filepath.Join(dir, "tables"), filepath.Join(dir, "text")
	if _, err := gen.WriteScannedSet(td, scanHeldoutSeed, scanPerStyle, fams); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.WriteTextSet(xd, scanHeldoutSeed, scanPerKind, fams, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep, err := digitize.EvalDir(ctx, td)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	seen := 0
	for _, c := range rep.Categories {
		num, ok := scanNumericFloor[c.Category]
		if !ok {
			t.Errorf("unexpected style %q", c.Category)
			continue
		}
		seen++
		if got := c.NumAccuracy(); got < num {
			t.Errorf("%s: numeric cells exact %.1f%% (%d/%d), floor %.0f%%", c.Category, 100*got, c.NumCorrect, c.NumCells, 100*num)
		}
		if got := c.HeaderAccuracy(); got < scanHeaderFloor[c.Category] {
			t.Errorf("%s: header cells exact %.1f%% (%d/%d), floor %.0f%%", c.Category, 100*got, c.HeaderCorrect, c.HeaderCells, 100*scanHeaderFloor[c.Category])
		}
		if got := c.ShapeRate(); got < scanShapeFloor[c.Category] {
			t.Errorf("%s: row and column counts exact %.1f%%, floor %.0f%%", c.Category, 100*got, 100*scanShapeFloor[c.Category])
		}
		if c.Failures > 0 {
			t.Errorf("%s: %d tables failed to read", c.Category, c.Failures)
		}
	}
	if seen != 3 {
		t.Errorf("%d table styles, want 3", seen)
	}
	trep, err := digitize.Reader{}.EvalTextDir(ctx, xd)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + trep.String())
	for _, c := range trep.Categories {
		floor, ok := scanTokenFloor[c.Kind]
		if !ok {
			t.Errorf("unexpected text kind %q", c.Kind)
			continue
		}
		if got := c.TokenAccuracy(); got < floor {
			t.Errorf("%s: tokens exact %.1f%% (%d/%d), floor %.0f%%", c.Kind, 100*got, c.Exact, c.Tokens, 100*floor)
		}
		if c.Boxed != c.TokensBoxed || c.TokensBoxed == 0 {
			t.Errorf("%s: %d of %d tokens have a box", c.Kind, c.Boxed, c.TokensBoxed)
		}
	}
	if t.Failed() {
		for _, d := range append(rep.Details, trep.Details...) {
			t.Log(d)
		}
	}
}
