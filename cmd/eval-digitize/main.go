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

func run() error {
	tables := flag.String("tables", "testdata/digitize/tables", "directory of table images with ground-truth JSON")
	charts := flag.String("charts", "testdata/digitize/charts", "directory of chart images with ground-truth JSON (\"\" to skip)")
	verbose := flag.Bool("v", false, "print per-table details")
	generate := flag.Bool("generate", false, "regenerate the table set into -tables instead of evaluating")
	n := flag.Int("n", 24, "with -generate: tables per style")
	seed := flag.Uint64("seed", 1000, "with -generate: first seed")
	sysFonts := flag.Bool("system-fonts", true, "with -generate: also draw with installed Liberation/DejaVu fonts")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *generate {
		fams := gen.GoFamilies
		if *sysFonts {
			fams = append(append([]gen.Family(nil), fams...), gen.SystemFamilies()...)
		}
		ss, err := gen.WriteSet(*tables, *seed, *n, fams)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %d tables to %s\n", len(ss), *tables)
		return nil
	}
	if !ocr.Available() {
		fmt.Println("warning: tesseract not installed; table text will be empty")
	} else {
		fmt.Println("ocr:", ocr.Version())
	}
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
	return evalCharts(*charts)
}
