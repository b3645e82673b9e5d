package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/canvasd/canvasd/internal/headless"
	"github.com/chromedp/chromedp"
)

// generateIndependent writes one slice of the independent corpus into
// dir/tables (HTML tables by Chromium, perStyle per style) and dir/charts
// (gnuplot charts). Needs /usr/bin/chromium, gnuplot (gnuplot-nox) and the
// fonts-dejavu and fonts-liberation packages.
func generateIndependent(ctx context.Context, dir string, seed uint64, perStyle, charts int) error {
	td, cd := filepath.Join(dir, "tables"), filepath.Join(dir, "charts")
	for _, d := range []string{td, cd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	user, err := os.MkdirTemp("", "eval-digitize-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(user)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, headless.Options(user,
		chromedp.Flag("hide-scrollbars", true),
	)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	if err := writeHTMLTables(ctx, browser, td, seed, perStyle); err != nil {
		return err
	}
	if err := writeGnuplotCharts(ctx, cd, seed, charts); err != nil {
		return err
	}
	fmt.Printf("wrote %d tables and %d charts from seed %d to %s\n", 3*perStyle, charts, seed, dir)
	return nil
}
