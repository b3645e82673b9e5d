package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/canvasd/canvasd/imaging/chart/chartgen"
)

// evalShapes renders chartgen.ShapesCorpus(seed, n) (pie, donut, stacked
// vertical and stacked horizontal bars in turn) into a temporary directory
// and prints the chart report: pie and donut rows count slice shares within
// ±2 percentage points, the *_stacked rows segment values within ±2% of the
// axis.
func evalShapes(seed uint64, n int, verbose bool) error {
	tmp, err := os.MkdirTemp("", "eval-digitize-shapes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "charts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, it := range chartgen.ShapesCorpus(seed, n) {
		if err := it.Write(dir); err != nil {
			return err
		}
	}
	fmt.Printf("pie, donut and stacked-bar slice, seed %d: %d charts\n", seed, n)
	return evalCharts(dir, verbose)
}
