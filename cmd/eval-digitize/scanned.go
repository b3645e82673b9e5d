package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
	"github.com/canvasd/canvasd/imaging/ocr"
)

// evalScanned generates the scanned-look slice of seed (perStyle tables per
// style with gen.WriteScannedSet, perKind text images per kind with
// gen.WriteTextSet) into a temporary directory and prints the table and
// text reports.
func evalScanned(ctx context.Context, seed uint64, perStyle, perKind int, fams []gen.Family, verbose bool) error {
	tmp, err := os.MkdirTemp("", "eval-digitize-scan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	td, xd := filepath.Join(tmp, "tables"), filepath.Join(tmp, "text")
	if _, err := gen.WriteScannedSet(td, seed, perStyle, fams); err != nil {
		return err
	}
	if _, err := gen.WriteTextSet(xd, seed, perKind, fams, true); err != nil {
		return err
	}
	fmt.Printf("scanned-look slice, seed %d: %d tables per style, %d text images per kind\n", seed, perStyle, perKind)
	if !ocr.Available() {
		fmt.Println("warning: tesseract not installed; text will be empty")
	} else {
		fmt.Println("ocr:", ocr.Version())
	}
	rep, err := digitize.EvalDir(ctx, td)
	if err != nil {
		return err
	}
	trep, err := digitize.Reader{}.EvalTextDir(ctx, xd)
	if err != nil {
		return err
	}
	if verbose {
		for _, d := range rep.Details {
			fmt.Println(d)
		}
		for _, d := range trep.Details {
			fmt.Println(d)
		}
	}
	fmt.Print(rep.String())
	fmt.Print(trep.String())
	return nil
}
