package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/canvasd/canvasd/imaging/chart"
	"github.com/canvasd/canvasd/imaging/chart/chartgen"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
)

// evalCharts runs the chart evaluation owned by package chart over dir.
func evalCharts(dir string, verbose bool) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Printf("charts: skipped (%v)\n", err)
		return nil
	}
	rep, err := chart.Eval(dir)
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	if verbose {
		for _, f := range rep.Failures {
			fmt.Println(f)
		}
	}
	fmt.Print(rep.String())
	return nil
}

// generateTables writes perStyle tables of every style from seed into
// tmp/tables and returns that directory, or "" when want is "" (skipped).
func generateTables(tmp, want string, seed uint64, perStyle int, fams []gen.Family) (string, error) {
	if want == "" {
		return "", nil
	}
	dir := filepath.Join(tmp, "tables")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ss, err := gen.WriteSet(dir, seed, perStyle, fams)
	if err != nil {
		return "", err
	}
	fmt.Printf("generated %d tables from seed %d\n", len(ss), seed)
	return dir, nil
}

// generateCharts writes chartgen.Corpus(seed, n) into tmp/charts and returns
// that directory, or "" when want is "" (skipped).
func generateCharts(tmp, want string, seed uint64, n int) (string, error) {
	if want == "" || n <= 0 {
		return "", nil
	}
	dir := filepath.Join(tmp, "charts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, it := range chartgen.Corpus(seed, n) {
		if err := it.Write(dir); err != nil {
			return "", err
		}
	}
	fmt.Printf("generated %d charts from seed %d\n", n, seed)
	return dir, nil
}
