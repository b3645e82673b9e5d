package digitize

import (
	"context"
	"image"

	"github.com/canvasd/canvasd/imaging/ocr"
)

// ReadTable recognises the table in img. A ruled grid is read in lattice
// mode; anything else (rules-only, borderless) in stream mode. Without
// tesseract the result holds the structure found from ink alone, with empty
// texts and the warning "ocr_unavailable".
func ReadTable(ctx context.Context, img image.Image) (*TableResult, error) {
	return Reader{}.ReadTable(ctx, img)
}

// Reader reads tables and text with one OCR setting. The zero value runs
// tesseract when it is on PATH.
type Reader struct {
	OCR ocr.Engine
}

// ReadTable is ReadTable with r's OCR setting.
func (r Reader) ReadTable(ctx context.Context, img image.Image) (*TableResult, error) {
	p, err := analyze(img)
	if err != nil {
		return nil, err
	}
	p.ocr = r.OCR
	words, warnings, err := p.words(ctx, tablePSM, true)
	if err != nil {
		return nil, err
	}
	res := &TableResult{Warnings: append([]string{}, warnings...)}
	var t *Table
	if xs, ys, ok := p.latticeGrid(words); ok {
		t = p.lattice(xs, ys, words)
		res.Engine = p.engine("lattice")
	} else {
		t = p.stream(words)
		res.Engine = p.engine("stream")
	}
	if t.NRows == 0 || t.NCols == 0 {
		res.Warnings = append(res.Warnings, WarnNoTable)
		t = &Table{Cells: []Cell{}}
	}
	res.Table = *t
	return res, nil
}
