package digitize

import (
	"context"
	"image"
)

// ReadTable recognises the table in img. A ruled grid is read in lattice
// mode; anything else (rules-only, borderless) in stream mode. Without
// tesseract the result holds the structure found from ink alone, with empty
// texts and the warning "ocr_unavailable".
func ReadTable(ctx context.Context, img image.Image) (*TableResult, error) {
	p, err := analyze(img)
	if err != nil {
		return nil, err
	}
	words, warnings, err := p.words(ctx, tablePSM, true)
	if err != nil {
		return nil, err
	}
	res := &TableResult{Warnings: append([]string{}, warnings...)}
	var t *Table
	if xs, ys, ok := p.latticeGrid(words); ok {
		t = p.lattice(xs, ys, words)
		res.Engine = engine("lattice")
	} else {
		t = p.stream(words)
		res.Engine = engine("stream")
	}
	if t.NRows == 0 || t.NCols == 0 {
		res.Warnings = append(res.Warnings, WarnNoTable)
		t = &Table{Cells: []Cell{}}
	}
	res.Table = *t
	return res, nil
}
