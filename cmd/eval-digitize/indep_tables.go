package main

// The independent table corpus: HTML tables rendered by headless Chromium
// in the system fonts (DejaVu, Liberation), with number formats the
// in-house generator (imaging/digitize/gen) never draws: thousands
// separators "1,234", "1 234" (no-break space) and "1.234" (with decimal
// comma), real minus signs (U+2212), accounting underlines, superscript
// footnote markers, em-dash cells and percentages. Truth comes from the
// source data, cell boxes from the browser's layout.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canvasd/canvasd/imaging/digitize"
)

// numFormat is how one table prints its numbers.
type numFormat struct {
	Name      string // "comma", "space", "dot"
	Thousands string // separator between digit groups
	Decimal   string // decimal mark
	Minus     string // "−" (U+2212), "-" or "()" for accounting brackets
}

var numFormats = []numFormat{
	{"comma", ",", ".", ""},
	{"space", "\u00a0", ".", ""},
	{"space-comma", "\u00a0", ",", ""},
	{"dot", ".", ",", ""},
}

var htmlFonts = []string{"DejaVu Sans", "DejaVu Serif", "Liberation Sans", "Liberation Serif", "DejaVu Sans Condensed"}

// formatIndep prints v with dec decimals in format f.
func formatIndep(v float64, dec int, f numFormat) string {
	s := fmt.Sprintf("%.*f", dec, math.Abs(v))
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(f.Thousands)
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += f.Decimal + frac
	}
	if v < 0 {
		switch f.Minus {
		case "()":
			out = "(" + out + ")"
		default:
			out = f.Minus + out
		}
	}
	return out
}

type htmlCell struct {
	text  string // as displayed (HTML-escaped on output)
	html  string // markup when it differs from text (superscripts)
	value *digitize.Value
	class string
}

type htmlTable struct {
	style  string // grid, rules, borderless
	font   string
	sizePx float64
	scale  float64
	format numFormat
	rows   [][]htmlCell
}

var indepLabels = []string{"Revenue", "Cost of sales", "Gross margin", "Research", "Marketing", "Administration",
	"Operating result", "Interest", "Other income", "Tax", "Net result", "Headcount", "Orders", "Backlog", "Exports",
	"Capital spending", "Depreciation", "Free cash flow"}

// randomHTMLTable draws the content and look of one table from rng.
func randomHTMLTable(rng *rand.Rand, style string) htmlTable {
	t := htmlTable{style: style, font: htmlFonts[rng.IntN(len(htmlFonts))], sizePx: float64(13 + rng.IntN(5)),
		scale: []float64{1, 1, 1.25, 1.5}[rng.IntN(4)], format: numFormats[rng.IntN(len(numFormats))]}
	t.format.Minus = []string{"−", "−", "()", "-"}[rng.IntN(4)]
	nCols := 3 + rng.IntN(3)
	nRows := 5 + rng.IntN(6)
	year := 2015 + rng.IntN(8)
	head := []htmlCell{{text: ""}}
	for c := 1; c < nCols; c++ {
		head = append(head, htmlCell{text: fmt.Sprint(year - c + 1)})
	}
	t.rows = append(t.rows, head)
	pctCol := -1
	if rng.Float64() < 0.4 {
		pctCol = nCols - 1
		head[pctCol] = htmlCell{text: "Share"}
	}
	labels := rng.Perm(len(indepLabels))
	mag := math.Pow(10, float64(2+rng.IntN(5)))
	dec := 0
	if rng.Float64() < 0.4 {
		dec = 1 + rng.IntN(2)
	}
	for r := 1; r < nRows; r++ {
		row := []htmlCell{{text: indepLabels[labels[r%len(labels)]]}}
		total := r == nRows-1 && rng.Float64() < 0.7
		if total {
			row[0].text = "Total"
		}
		for c := 1; c < nCols; c++ {
			var cell htmlCell
			switch {
			case c == pctCol:
				v := math.Round((rng.Float64()*120-20)*10) / 10
				cell.text = formatIndep(v, 1, t.format) + "%"
				n := v
				cell.value = &digitize.Value{Num: &n, Pct: true}
			case !total && rng.Float64() < 0.08:
				cell.text = "—"
			default:
				v := mag * (0.02 + rng.Float64())
				if rng.Float64() < 0.2 {
					v = -v
				}
				p := math.Pow(10, float64(dec))
				v = math.Round(v*p) / p
				cell.text = formatIndep(v, dec, t.format)
				n := v
				cell.value = &digitize.Value{Num: &n}
				if rng.Float64() < 0.06 {
					cell.html = html.EscapeString(cell.text) + "<sup>*</sup>"
					cell.text += "*"
				}
			}
			if total {
				cell.class = "total"
			}
			row = append(row, cell)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// page returns the HTML document of t; the table sits in #wrap.
func (t htmlTable) page() string {
	var css strings.Builder
	fmt.Fprintf(&css, "body{margin:0;background:#fff}#wrap{display:inline-block;padding:24px;background:#fff}"+
		"table{border-collapse:collapse;font-family:'%s';font-size:%.0fpx;color:#111}"+
		"td,th{padding:%.0fpx %.0fpx;text-align:right;white-space:nowrap}td:first-child,th:first-child{text-align:left}"+
		"th{font-weight:bold}sup{font-size:70%%}", t.font, t.sizePx, t.sizePx*0.35, t.sizePx*0.8)
	switch t.style {
	case "grid":
		css.WriteString("td,th{border:1px solid #444}th{background:#e8e8e8}")
	case "rules":
		css.WriteString("table{border-top:2px solid #000;border-bottom:2px solid #000}th{border-bottom:1px solid #000}" +
			"td.total{border-top:1px solid #000;border-bottom:3px double #000}")
	default:
		css.WriteString("td.total span{text-decoration:underline}")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=utf-8><style>%s</style></head><body><div id=wrap><table>", css.String())
	for r, row := range t.rows {
		b.WriteString("<tr>")
		for c, cell := range row {
			tag := "td"
			if r == 0 {
				tag = "th"
			}
			body := cell.html
			if body == "" {
				body = html.EscapeString(cell.text)
			}
			cls := ""
			if cell.class != "" {
				cls = ` class="` + cell.class + `"`
			}
			fmt.Fprintf(&b, `<%s data-r="%d" data-c="%d"%s><span>%s</span></%s>`, tag, r, c, cls, body, tag)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table></div></body></html>")
	return b.String()
}

// cellBoxJS returns [r, c, x, y, w, h] of every cell relative to #wrap, and
// the size of #wrap, in CSS pixels.
const cellBoxJS = `(() => {
  const w = document.getElementById('wrap').getBoundingClientRect();
  const cells = [...document.querySelectorAll('td,th')].map(e => {
    const r = e.getBoundingClientRect();
    return [+e.dataset.r, +e.dataset.c, r.left - w.left, r.top - w.top, r.width, r.height];
  });
  return {w: w.width, h: w.height, cells};
})()`

type cellBoxes struct {
	W, H  float64
	Cells [][6]float64
}

type tableTruthFile struct {
	Name     string         `json:"name"`
	Seed     uint64         `json:"seed"`
	Style    string         `json:"style"`
	Font     string         `json:"font"`
	Renderer string         `json:"renderer"`
	Format   string         `json:"number_format"`
	Minus    string         `json:"minus"`
	Scale    float64        `json:"scale"`
	Table    digitize.Table `json:"table"`
}

// writeHTMLTables renders perStyle tables of every style from seed into dir
// with Chromium.
func writeHTMLTables(ctx context.Context, browser context.Context, dir string, seed uint64, perStyle int) error {
	for _, style := range []string{"grid", "rules", "borderless"} {
		for i := 0; i < perStyle; i++ {
			sd := seed*1000 + uint64(i)
			rng := rand.New(rand.NewPCG(sd, uint64(len(style))))
			t := randomHTMLTable(rng, style)
			name := fmt.Sprintf("html-%s-%03d", style, i)
			if err := renderHTMLTable(browser, t, sd, filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

func renderHTMLTable(browser context.Context, t htmlTable, seed uint64, base string) error {
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	tab, cancelT := context.WithTimeout(tab, 30*time.Second)
	defer cancelT()
	pageURL := "data:text/html;charset=utf-8," + url.PathEscape(t.page())
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1400, 1000, chromedp.EmulateScale(t.scale)), chromedp.Navigate(pageURL)); err != nil {
		return fmt.Errorf("navigate: %w", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		return fmt.Errorf("fonts: %w", err)
	}
	boxes, err := chromedp.Run(tab, chromedp.Evaluate[cellBoxes](cellBoxJS))
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	png, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.ID("wrap")))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	tb := digitize.Table{NRows: len(t.rows), NCols: len(t.rows[0]), HeaderRows: 1}
	for _, cb := range boxes.Cells {
		r, c := int(cb[0]), int(cb[1])
		cell := t.rows[r][c]
		tb.Cells = append(tb.Cells, digitize.Cell{R: r, C: c, RowSpan: 1, ColSpan: 1, Text: cell.text, Conf: 1, Value: cell.value,
			BBox: [4]float64{cb[2] / boxes.W, cb[3] / boxes.H, cb[4] / boxes.W, cb[5] / boxes.H}})
	}
	if len(tb.Cells) != tb.NRows*tb.NCols {
		return fmt.Errorf("layout gave %d cells, want %d", len(tb.Cells), tb.NRows*tb.NCols)
	}
	tf := tableTruthFile{Name: filepath.Base(base), Seed: seed, Style: t.style, Font: t.font, Renderer: "chromium",
		Format: t.format.Name, Minus: t.format.Minus, Scale: t.scale, Table: tb}
	js, err := json.Marshal(tf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".png", png, 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".json", append(js, '\n'), 0o644)
}
