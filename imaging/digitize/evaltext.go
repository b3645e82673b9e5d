package digitize

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// TextScore compares one ReadText result with the lines an image shows.
type TextScore struct {
	// Tokens is the number of whitespace-separated tokens of the truth,
	// Exact how many of them the result has (a multiset match: each
	// result token counts once).
	Tokens, Exact int
	// Lines is the number of truth lines, LinesKept how many of them appear
	// as a contiguous run of tokens of one result line.
	Lines, LinesKept int
	// Missed lists truth tokens without a match, Extra result tokens
	// without one.
	Missed, Extra []string
}

// CompareText scores the lines of res against truth lines.
func CompareText(truth []string, res *TextResult) TextScore {
	var s TextScore
	have := map[string]int{}
	var gotLines [][]string
	for _, l := range res.Lines {
		f := strings.Fields(l.Text)
		gotLines = append(gotLines, f)
		for _, t := range f {
			have[t]++
		}
	}
	for _, line := range truth {
		f := strings.Fields(line)
		s.Lines++
		if containsRun(gotLines, f) {
			s.LinesKept++
		}
		for _, t := range f {
			s.Tokens++
			if have[t] > 0 {
				have[t]--
				s.Exact++
			} else {
				s.Missed = append(s.Missed, t)
			}
		}
	}
	for t, n := range have {
		for ; n > 0; n-- {
			s.Extra = append(s.Extra, t)
		}
	}
	sort.Strings(s.Extra)
	return s
}

func containsRun(lines [][]string, run []string) bool {
	for _, l := range lines {
		for i := 0; i+len(run) <= len(l); i++ {
			ok := true
			for k, t := range run {
				if l[i+k] != t {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// TextCategory aggregates text scores for one kind of image.
type TextCategory struct {
	Kind               string
	Images             int
	Tokens, Exact      int
	Lines, LinesKept   int
	Failures           int
	Durations, CPU     []time.Duration
	TokensBoxed, Boxed int // result tokens, and how many carry a box
}

// TokenAccuracy is the share of truth tokens read exactly.
func (c *TextCategory) TokenAccuracy() float64 { return ratio(c.Exact, c.Tokens) }

// TextEvalReport is the outcome of EvalTextDir.
type TextEvalReport struct {
	Categories []*TextCategory
	Details    []string
}

func (r *TextEvalReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %6s %8s %12s %11s %8s %8s\n", "text", "count", "tokens", "token_exact", "lines_kept", "p50_ms", "cpu_p50")
	for _, c := range r.Categories {
		fmt.Fprintf(&b, "%-12s %6d %8d %11.1f%% %10.1f%% %8d %8d\n", c.Kind, c.Images, c.Tokens, 100*c.TokenAccuracy(),
			100*ratio(c.LinesKept, c.Lines), percentile(c.Durations, 0.5).Milliseconds(), percentile(c.CPU, 0.5).Milliseconds())
	}
	return b.String()
}

type textTruthFile struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	Lines []string `json:"lines"`
}

// EvalTextDir reads every <name>.json text truth in dir (lines of text, as
// package gen writes them) with its image, runs r.ReadText and aggregates
// the scores by kind.
func (r Reader) EvalTextDir(ctx context.Context, dir string) (*TextEvalReport, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("eval: no ground truth in %s", dir)
	}
	sort.Strings(files)
	cats := map[string]*TextCategory{}
	rep := &TextEvalReport{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		var tf textTruthFile
		if err := json.Unmarshal(raw, &tf); err != nil {
			return nil, fmt.Errorf("eval: %s: %w", f, err)
		}
		base := strings.TrimSuffix(f, ".json")
		img, err := loadImage(base)
		if err != nil {
			return nil, err
		}
		c := cats[tf.Kind]
		if c == nil {
			c = &TextCategory{Kind: tf.Kind}
			cats[tf.Kind] = c
		}
		c.Images++
		start, cpu0 := time.Now(), cpuTime()
		res, err := r.ReadText(ctx, img)
		c.Durations = append(c.Durations, time.Since(start))
		c.CPU = append(c.CPU, cpuTime()-cpu0)
		if err != nil {
			c.Failures++
			rep.Details = append(rep.Details, fmt.Sprintf("%s: error %v", filepath.Base(base), err))
			continue
		}
		s := CompareText(tf.Lines, res)
		c.Tokens += s.Tokens
		c.Exact += s.Exact
		c.Lines += s.Lines
		c.LinesKept += s.LinesKept
		for _, l := range res.Lines {
			for _, w := range l.Words {
				c.TokensBoxed++
				if w.BBox[2] > 0 && w.BBox[3] > 0 {
					c.Boxed++
				}
			}
		}
		rep.Details = append(rep.Details, fmt.Sprintf("%s: tokens %d/%d lines %d/%d missed %q extra %q", filepath.Base(base),
			s.Exact, s.Tokens, s.LinesKept, s.Lines, s.Missed, s.Extra))
	}
	for _, c := range cats {
		rep.Categories = append(rep.Categories, c)
	}
	sort.Slice(rep.Categories, func(i, j int) bool { return rep.Categories[i].Kind < rep.Categories[j].Kind })
	return rep, nil
}
