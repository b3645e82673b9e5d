package digitize

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // testdata images
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Score compares one recognised table with its ground truth.
type Score struct {
	ShapeExact bool
	// Adjacency relations (ICDAR-2013 style): true positives, relations only
	// in the result, relations only in the truth.
	AdjTP, AdjFP, AdjFN int
	// Body cells whose truth is numeric, and how many of them the result
	// reads to the exact value (num and pct) at the same position.
	NumCells, NumCorrect int
	// Header cells with text in the truth, and how many of them the result
	// reads exactly (spaces collapsed) at the same position.
	HeaderCells, HeaderCorrect int
	// Errors lists the numeric cells read wrongly, for diagnosis.
	Errors []string
	// Heuristics counts what two generator-shaped rules do, over every truth
	// cell (header included) matched by position as above.
	Heuristics Heuristics
}

// Heuristics scores two rules of the reader that were built against the
// in-house generator: a flat ink blob OCR missed becomes "—" (the dash
// cell), and a raised final "%" becomes "*" (the footnote marker). "Read"
// counts truth cells whose mark the result has; "Invented" counts result
// cells with the mark where the truth has none (a rule firing wrongly, or
// OCR).
type Heuristics struct {
	DashCells, DashRead, DashInvented int
	StarCells, StarRead, StarInvented int
	// PctAsStar counts truth cells ending in "%" read with "*" and no "%".
	PctAsStar int
}

func (h *Heuristics) add(o Heuristics) {
	h.DashCells += o.DashCells
	h.DashRead += o.DashRead
	h.DashInvented += o.DashInvented
	h.StarCells += o.StarCells
	h.StarRead += o.StarRead
	h.StarInvented += o.StarInvented
	h.PctAsStar += o.PctAsStar
}

// cellAtPoint returns the cell of t whose box contains (x, y), or nil.
func cellAtPoint(t *Table, x, y float64) *Cell {
	for i := range t.Cells {
		g := &t.Cells[i]
		if x >= g.BBox[0] && x < g.BBox[0]+g.BBox[2] && y >= g.BBox[1] && y < g.BBox[1]+g.BBox[3] {
			return g
		}
	}
	return nil
}

// heuristics fills s.Heuristics from every truth cell.
func (s *Score) heuristics(truth, got *Table) {
	h := &s.Heuristics
	for _, c := range truth.Cells {
		hit := cellAtPoint(got, c.BBox[0]+c.BBox[2]/2, c.BBox[1]+c.BBox[3]/2)
		gt := ""
		if hit != nil {
			gt = hit.Text
		}
		tDash, gDash := strings.TrimSpace(c.Text) == "—", strings.Contains(gt, "—")
		switch {
		case tDash:
			h.DashCells++
			if strings.TrimSpace(gt) == "—" {
				h.DashRead++
			}
		case gDash && !strings.ContainsAny(c.Text, "—–−-"):
			h.DashInvented++
		}
		tStar, gStar := strings.Contains(c.Text, "*"), strings.Contains(gt, "*")
		switch {
		case tStar:
			h.StarCells++
			if gStar {
				h.StarRead++
			}
		case gStar:
			h.StarInvented++
			if strings.HasSuffix(strings.TrimSpace(c.Text), "%") && !strings.Contains(gt, "%") {
				h.PctAsStar++
			}
		}
	}
}

// Compare scores got against truth. Numeric cells are matched by position:
// the result cell containing the centre of the truth cell's box.
func Compare(truth, got *Table) Score {
	var s Score
	s.ShapeExact = truth.NRows == got.NRows && truth.NCols == got.NCols
	tr, gr := adjacency(truth), adjacency(got)
	for k, n := range tr {
		m := gr[k]
		s.AdjTP += min(n, m)
		s.AdjFN += max(0, n-m)
	}
	for k, m := range gr {
		s.AdjFP += max(0, m-tr[k])
	}
	for _, c := range truth.Cells {
		if c.R < truth.HeaderRows || c.Value == nil || c.Value.Num == nil {
			continue
		}
		s.NumCells++
		cx, cy := c.BBox[0]+c.BBox[2]/2, c.BBox[1]+c.BBox[3]/2
		var hit *Cell
		for i := range got.Cells {
			g := &got.Cells[i]
			if cx >= g.BBox[0] && cx < g.BBox[0]+g.BBox[2] && cy >= g.BBox[1] && cy < g.BBox[1]+g.BBox[3] {
				hit = g
				break
			}
		}
		if hit != nil && hit.Value != nil && hit.Value.Num != nil && hit.Value.Pct == c.Value.Pct &&
			math.Abs(*hit.Value.Num-*c.Value.Num) <= 1e-9*math.Max(1, math.Abs(*c.Value.Num)) {
			s.NumCorrect++
			continue
		}
		gotText := "<no cell>"
		if hit != nil {
			gotText = hit.Text
		}
		s.Errors = append(s.Errors, fmt.Sprintf("r%d c%d %q -> %q", c.R, c.C, c.Text, gotText))
	}
	for _, c := range truth.Cells {
		want := strings.Join(strings.Fields(c.Text), " ")
		if c.R >= truth.HeaderRows || want == "" {
			continue
		}
		s.HeaderCells++
		hit := cellAtPoint(got, c.BBox[0]+c.BBox[2]/2, c.BBox[1]+c.BBox[3]/2)
		gotText := "<no cell>"
		if hit != nil {
			gotText = strings.Join(strings.Fields(hit.Text), " ")
		}
		if gotText == want {
			s.HeaderCorrect++
			continue
		}
		s.Errors = append(s.Errors, fmt.Sprintf("header r%d c%d %q -> %q", c.R, c.C, c.Text, gotText))
	}
	s.heuristics(truth, got)
	return s
}

func normText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		switch r {
		case '–', '−', '-':
			return '—'
		}
		return unicode.ToLower(r)
	}, s)
}

// adjacency returns the multiset of (text, right/down neighbour text)
// relations between non-empty cells.
func adjacency(t *Table) map[string]int {
	grid := make([]*Cell, t.NRows*t.NCols)
	for i := range t.Cells {
		c := &t.Cells[i]
		for r := c.R; r < c.R+c.RowSpan && r < t.NRows; r++ {
			for k := c.C; k < c.C+c.ColSpan && k < t.NCols; k++ {
				grid[r*t.NCols+k] = c
			}
		}
	}
	out := map[string]int{}
	seen := map[[2]*Cell]bool{}
	add := func(a, b *Cell, dir string) {
		if seen[[2]*Cell{a, b}] {
			return
		}
		seen[[2]*Cell{a, b}] = true
		out[normText(a.Text)+"\x00"+dir+"\x00"+normText(b.Text)]++
	}
	for i := range t.Cells {
		c := &t.Cells[i]
		if strings.TrimSpace(c.Text) == "" {
			continue
		}
		for r := c.R; r < c.R+c.RowSpan && r < t.NRows; r++ {
			for k := c.C + c.ColSpan; k < t.NCols; k++ {
				if n := grid[r*t.NCols+k]; n != nil && n != c && strings.TrimSpace(n.Text) != "" {
					add(c, n, "h")
					break
				}
			}
		}
		for k := c.C; k < c.C+c.ColSpan && k < t.NCols; k++ {
			for r := c.R + c.RowSpan; r < t.NRows; r++ {
				if n := grid[r*t.NCols+k]; n != nil && n != c && strings.TrimSpace(n.Text) != "" {
					add(c, n, "v")
					break
				}
			}
		}
	}
	return out
}

// CategoryReport aggregates scores for one table style.
type CategoryReport struct {
	Category             string
	Tables, ShapeExact   int
	AdjTP, AdjFP, AdjFN  int
	NumCells, NumCorrect int
	HeaderCells          int
	HeaderCorrect        int
	Failures             int
	Durations            []time.Duration
	// CPU is process plus tesseract CPU time per table; on a loaded
	// machine it is a steadier cost measure than wall time.
	CPU     []time.Duration
	Lattice int // tables read in lattice mode
	// Heuristics sums the per-table counts of the dash and footnote rules.
	Heuristics Heuristics
}

// ShapeRate is the share of tables whose n_rows and n_cols match.
func (c *CategoryReport) ShapeRate() float64 { return ratio(c.ShapeExact, c.Tables) }

// AdjF1 is the cell adjacency F1.
func (c *CategoryReport) AdjF1() float64 {
	p, r := ratio(c.AdjTP, c.AdjTP+c.AdjFP), ratio(c.AdjTP, c.AdjTP+c.AdjFN)
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// NumAccuracy is the numeric-cell exact-value accuracy.
func (c *CategoryReport) NumAccuracy() float64 { return ratio(c.NumCorrect, c.NumCells) }

// HeaderAccuracy is the share of header cells read exactly.
func (c *CategoryReport) HeaderAccuracy() float64 { return ratio(c.HeaderCorrect, c.HeaderCells) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// EvalReport is the outcome of EvalDir.
type EvalReport struct {
	Categories []*CategoryReport
	// Details holds per-table lines (name, scores, numeric errors).
	Details []string
}

func (r *EvalReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %6s %11s %8s %13s %10s %8s %8s %8s\n", "tables", "count", "shape_exact", "adj_f1", "numeric_acc", "header_acc", "p50_ms", "max_ms", "cpu_p50")
	var all, allCPU []time.Duration
	for _, c := range r.Categories {
		p50, mx := percentile(c.Durations, 0.5), percentile(c.Durations, 1)
		all = append(all, c.Durations...)
		allCPU = append(allCPU, c.CPU...)
		fmt.Fprintf(&b, "%-12s %6d %10.1f%% %8.3f %12.1f%% %9.1f%% %8d %8d %8d\n", c.Category, c.Tables, 100*c.ShapeRate(), c.AdjF1(),
			100*c.NumAccuracy(), 100*c.HeaderAccuracy(), p50.Milliseconds(), mx.Milliseconds(), percentile(c.CPU, 0.5).Milliseconds())
	}
	fmt.Fprintf(&b, "%-12s %6d %11s %8s %13s %10s %8d %8d %8d\n", "all", len(all), "", "", "", "", percentile(all, 0.5).Milliseconds(),
		percentile(all, 1).Milliseconds(), percentile(allCPU, 0.5).Milliseconds())
	var h Heuristics
	for _, c := range r.Categories {
		h.add(c.Heuristics)
	}
	fmt.Fprintf(&b, "dash cells read %d/%d, dashes invented %d; footnote * read %d/%d, * invented %d (of them %% read as *: %d)\n",
		h.DashRead, h.DashCells, h.DashInvented, h.StarRead, h.StarCells, h.StarInvented, h.PctAsStar)
	return b.String()
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// sampleFile is the ground-truth JSON written by package gen.
type sampleFile struct {
	Name  string `json:"name"`
	Style string `json:"style"`
	Table Table  `json:"table"`
}

// EvalDir reads every <name>.json ground truth in dir with its <name>.png or
// <name>.jpg image, runs ReadTable, and aggregates the scores by style.
func EvalDir(ctx context.Context, dir string) (*EvalReport, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("eval: no ground truth in %s", dir)
	}
	sort.Strings(files)
	cats := map[string]*CategoryReport{}
	rep := &EvalReport{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		var sf sampleFile
		if err := json.Unmarshal(raw, &sf); err != nil {
			return nil, fmt.Errorf("eval: %s: %w", f, err)
		}
		base := strings.TrimSuffix(f, ".json")
		img, err := loadImage(base)
		if err != nil {
			return nil, err
		}
		c := cats[sf.Style]
		if c == nil {
			c = &CategoryReport{Category: sf.Style}
			cats[sf.Style] = c
		}
		c.Tables++
		start, cpu0 := time.Now(), cpuTime()
		res, err := ReadTable(ctx, img)
		c.Durations = append(c.Durations, time.Since(start))
		c.CPU = append(c.CPU, cpuTime()-cpu0)
		if err != nil {
			c.Failures++
			rep.Details = append(rep.Details, fmt.Sprintf("%s: error %v", filepath.Base(base), err))
			continue
		}
		if res.Engine.Pipeline == "lattice" {
			c.Lattice++
		}
		s := Compare(&sf.Table, &res.Table)
		if s.ShapeExact {
			c.ShapeExact++
		}
		c.AdjTP += s.AdjTP
		c.AdjFP += s.AdjFP
		c.AdjFN += s.AdjFN
		c.NumCells += s.NumCells
		c.NumCorrect += s.NumCorrect
		c.HeaderCells += s.HeaderCells
		c.HeaderCorrect += s.HeaderCorrect
		c.Heuristics.add(s.Heuristics)
		errs := s.Errors
		if len(errs) > 4 {
			errs = append(errs[:4:4], fmt.Sprintf("... %d more", len(s.Errors)-4))
		}
		for i, e := range errs {
			if len(e) > 80 {
				errs[i] = e[:77] + "..."
			}
		}
		rep.Details = append(rep.Details, fmt.Sprintf("%s: %s shape %dx%d want %dx%d header %d want %d, numeric %d/%d %v",
			filepath.Base(base), res.Engine.Pipeline, res.NRows, res.NCols, sf.Table.NRows, sf.Table.NCols,
			res.HeaderRows, sf.Table.HeaderRows, s.NumCorrect, s.NumCells, errs))
	}
	order := map[string]int{"grid": 0, "rules": 1, "borderless": 2}
	for _, c := range cats {
		rep.Categories = append(rep.Categories, c)
	}
	sort.Slice(rep.Categories, func(i, j int) bool {
		oi, iok := order[rep.Categories[i].Category]
		oj, jok := order[rep.Categories[j].Category]
		if iok && jok {
			return oi < oj
		}
		if iok != jok {
			return iok
		}
		return rep.Categories[i].Category < rep.Categories[j].Category
	})
	return rep, nil
}

func loadImage(base string) (image.Image, error) {
	for _, ext := range []string{".png", ".jpg", ".jpeg"} {
		raw, err := os.ReadFile(base + ext)
		if err != nil {
			continue
		}
		img, _, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("eval: decode %s%s: %w", base, ext, err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("eval: no image for %s", base)
}
