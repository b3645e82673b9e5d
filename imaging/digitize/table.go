package digitize

import (
	"context"
	"image"
	"regexp"
	"strings"

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
	if p.scanned() && len(warnings) == 0 && p.clean != nil {
		if err := p.rereadNumeric(ctx, t); err != nil {
			return nil, err
		}
	}
	fixCurrencyS(t)
	if p.scanned() {
		repunctuate(t)
	}
	applyDecimalComma(t)
	res.Table = *t
	return res, nil
}

var (
	numToken       = regexp.MustCompile(`[0-9][0-9.,]*[0-9]`)
	dotGrouped     = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{3})+$`)
	decimalPointRe = regexp.MustCompile(`(^|[^0-9])[0-9]+(\.[0-9]{1,2}|\.[0-9]{4,})$|,[0-9]{3}\.[0-9]+$`)
)

// minDotGrouped is how many "1.234"-shaped numbers, and no other dotted
// number, make a table without a decimal comma read its dots as thousands.
const minDotGrouped = 4

// applyDecimalComma re-reads "44.847" as 44847 in a table that writes its
// decimals after a comma ("82,0%", "1.234,5") and never after a point: there
// the dot between digit groups is a thousands separator, which ParseValue
// cannot tell from a single cell. A table of integers only (no decimal
// mark either way) counts as dot-grouped when enough of its numbers are.
func applyDecimalComma(t *Table) {
	comma, dotted, grouped := false, 0, 0
	for _, c := range t.Cells {
		for _, tok := range numToken.FindAllString(c.Text, -1) {
			if decimalPointRe.MatchString(tok) {
				return
			}
			comma = comma || decimalComma(tok)
			if strings.Contains(tok, ".") {
				dotted++
				if dotGrouped.MatchString(tok) {
					grouped++
				}
			}
		}
	}
	// Without a decimal comma, a table whose every dotted number has groups
	// of three after its dots, at least minDotGrouped of them, groups
	// thousands with dots too: decimals of exactly three places in every
	// cell are rare in a financial table, thousands in every cell are not.
	if !comma && (grouped < minDotGrouped || grouped != dotted) {
		return
	}
	for i := range t.Cells {
		c := &t.Cells[i]
		toks := numToken.FindAllString(c.Text, -1)
		if c.Value == nil || len(toks) != 1 || !dotGrouped.MatchString(toks[0]) {
			continue
		}
		if v := ParseValue(strings.Replace(c.Text, toks[0], strings.ReplaceAll(toks[0], ".", ""), 1)); v != nil {
			c.Value = v
		}
	}
}
