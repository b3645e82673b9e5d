package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"

	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
	"github.com/canvasd/canvasd/imaging/ocr"
)

func main() {
	runtime.SetDefaultGOMAXPROCS()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eval-digitize:", err)
		os.Exit(1)
	}
}

// committedTableSeed is the first seed of the committed table corpus
// (testdata/digitize/tables); the committed chart corpus is chartgen seed
// 2026 (imaging/chart, TestCorpusUpToDate).
const committedTableSeed = 1000

func run() error {
	tables := flag.String("tables", "testdata/digitize/tables", "directory of table images with ground-truth JSON (\"\" to skip)")
	charts := flag.String("charts", "testdata/digitize/charts", "directory of chart images with ground-truth JSON (\"\" to skip)")
	verbose := flag.Bool("v", false, "print per-table details and per-chart failures")
	generate := flag.Bool("generate", false, "regenerate the table set into -tables instead of evaluating")
	n := flag.Int("n", 24, "tables per style (with -generate or -seed)")
	chartN := flag.Int("chart-n", 40, "charts (with -seed)")
	seed := flag.Uint64("seed", committedTableSeed, "with -generate: first table seed. Without -generate, when given: evaluate a corpus generated "+
		"from this seed in a temporary directory (-n tables per style from seed, seed+1, ...; chartgen.Corpus(seed, -chart-n)) "+
		"instead of -tables and -charts; \"\" in -tables or -charts still skips that half")
	independent := flag.String("generate-independent", "", "write one slice of the independent corpus (Chromium tables, gnuplot charts) from -seed "+
		"into this directory (tables/ and charts/), -n tables per style and -chart-n charts, instead of evaluating")
	scanSeed := flag.Uint64("scan-seed", 0, "evaluate the scanned-look slice generated from this seed (issue 17: skewed, "+
		"downscaled, blurred, noisy, JPEG tables on grey paper, and KPI cards and slide titles) instead of -tables and -charts")
	shapesSeed := flag.Uint64("shapes-seed", 0, "evaluate the pie, donut and stacked-bar slice generated from this seed "+
		"(chartgen.ShapesCorpus(seed, -shapes-n)) instead of -tables and -charts")
	shapesN := flag.Int("shapes-n", 48, "with -shapes-seed: charts (a quarter each pie, donut, stacked vertical, stacked horizontal)")
	scanN := flag.Int("scan-n", 10, "with -scan-seed: tables per style")
	textN := flag.Int("text-n", 12, "with -scan-seed: text images per kind (KPI cards, slide titles)")
	sysFonts := flag.Bool("system-fonts", true, "with -generate or -seed: also draw tables with installed Liberation/DejaVu fonts")
	flag.Parse()
	seedSet := false
	flag.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fams := gen.GoFamilies
	if *sysFonts {
		fams = append(append([]gen.Family(nil), fams...), gen.SystemFamilies()...)
	}
	if *shapesSeed != 0 {
		return evalShapes(*shapesSeed, *shapesN, *verbose)
	}
	if *scanSeed != 0 {
		return evalScanned(ctx, *scanSeed, *scanN, *textN, fams, *verbose)
	}
	if *independent != "" {
		return generateIndependent(ctx, *independent, *seed, *n, *chartN)
	}
	if *generate {
		ss, err := gen.WriteSet(*tables, *seed, *n, fams)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %d tables to %s\n", len(ss), *tables)
		return nil
	}
	if seedSet {
		tmp, err := os.MkdirTemp("", "eval-digitize-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if *tables, err = generateTables(tmp, *tables, *seed, *n, fams); err != nil {
			return err
		}
		if *charts, err = generateCharts(tmp, *charts, *seed, *chartN); err != nil {
			return err
		}
	}
	if !ocr.Available() {
		fmt.Println("warning: tesseract not installed; table text will be empty")
	} else {
		fmt.Println("ocr:", ocr.Version())
	}
	if *tables != "" {
		rep, err := digitize.EvalDir(ctx, *tables)
		if err != nil {
			return err
		}
		if *verbose {
			for _, d := range rep.Details {
				fmt.Println(d)
			}
		}
		fmt.Print(rep.String())
	}
	return evalCharts(*charts, *verbose)
}
