package main

import (
	"fmt"
	"os"

	"github.com/canvasd/canvasd/imaging/chart"
)

// evalCharts runs the chart evaluation owned by package chart over dir.
func evalCharts(dir string) error {
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
	fmt.Print(rep.String())
	return nil
}
