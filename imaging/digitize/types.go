package digitize

// Cell is one table cell. R and C are the zero-based top-left grid position;
// RowSpan and ColSpan are at least 1. BBox is x, y, w, h in fractions of the
// image. Conf is the OCR confidence in [0,1] (0 when no OCR ran). Value is the
// parsed number, or nil when the text is not numeric.
type Cell struct {
	R       int        `json:"r"`
	C       int        `json:"c"`
	RowSpan int        `json:"rowspan"`
	ColSpan int        `json:"colspan"`
	Text    string     `json:"text"`
	BBox    [4]float64 `json:"bbox"`
	Conf    float64    `json:"conf"`
	Value   *Value     `json:"value"`
}

// Value is a parsed numeric cell. For percentages Num is the printed number
// (12.5 for "12.5%") and Pct is true. Currency is "$", "€", "£", "¥" or "".
type Value struct {
	Num      *float64 `json:"num"`
	Pct      bool     `json:"pct"`
	Currency string   `json:"currency"`
}

// Table is a recognised table. Cells cover the NRows x NCols grid exactly
// once (empty cells included), in row-major order of their top-left corner.
// HeaderRows counts the leading header rows.
type Table struct {
	NRows      int    `json:"n_rows"`
	NCols      int    `json:"n_cols"`
	HeaderRows int    `json:"header_rows"`
	Cells      []Cell `json:"cells"`
}

// Engine names how a result was produced.
type Engine struct {
	// Pipeline is "lattice" or "stream" for tables, "text" for text.
	Pipeline string `json:"pipeline"`
	// OCR is the OCR engine ("tesseract", or "" when unavailable).
	OCR string `json:"ocr"`
	// Version is the OCR engine version, e.g. "tesseract 5.3.0".
	Version string `json:"version"`
}

// TableResult is the result of ReadTable. Table fields appear at the top
// level of its JSON object.
type TableResult struct {
	Table
	Engine   Engine   `json:"engine"`
	Warnings []string `json:"warnings"`
}

// Line is one line of recognised text; BBox is in fractions of the image and
// Conf in [0,1].
type Line struct {
	Text string     `json:"text"`
	BBox [4]float64 `json:"bbox"`
	Conf float64    `json:"conf"`
	// Words are the line's tokens left to right, each with its box.
	Words []Word `json:"words"`
}

// Word is one token of a line: its text, its box in fractions of the image
// and its OCR confidence in [0,1].
type Word struct {
	Text string     `json:"text"`
	BBox [4]float64 `json:"bbox"`
	Conf float64    `json:"conf"`
}

// TextResult is the result of ReadText. Content is the lines joined by "\n",
// with a blank line between paragraphs.
type TextResult struct {
	Content  string   `json:"content"`
	Lines    []Line   `json:"lines"`
	Engine   Engine   `json:"engine"`
	Warnings []string `json:"warnings"`
}

// Warning codes.
const (
	WarnOCRUnavailable = "ocr_unavailable"
	WarnNoTable        = "no_table_structure"
	WarnNoText         = "no_text"
)

// CellAt returns the cell covering grid position (r, c), or nil.
func (t *Table) CellAt(r, c int) *Cell {
	for i := range t.Cells {
		cl := &t.Cells[i]
		if r >= cl.R && r < cl.R+cl.RowSpan && c >= cl.C && c < cl.C+cl.ColSpan {
			return cl
		}
	}
	return nil
}
