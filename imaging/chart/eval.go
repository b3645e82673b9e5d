package chart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode the corpus
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// truth is the ground-truth JSON written by chartgen beside each image.
type truth struct {
	ChartType   string `json:"chart_type"`
	Unsupported bool   `json:"unsupported"`
	Stacked     bool   `json:"stacked"`
	Series      []struct {
		Name   string `json:"name"`
		Color  string `json:"color"`
		Points []struct {
			X     any     `json:"x"`
			Y     float64 `json:"y"`
			Color string  `json:"color"`
		} `json:"points"`
	} `json:"series"`
	Axis struct {
		Min, Max float64
		Log      bool
	} `json:"axis"`
}

// TypeScore holds the figures of one chart type.
type TypeScore struct {
	Charts      int
	Errors      int // Digitize failed on a supported chart
	TypeMatch   int // chart_type as expected
	SeriesMatch int // same number of series
	Values      int // ground-truth values
	Within      int // values within ±2% of the axis range
	NameMatch   int // series whose legend name was read exactly
	Names       int
}

// EvalReport summarises Eval over a corpus directory.
type EvalReport struct {
	ByType      map[string]*TypeScore
	Unsupported int // scatter charts in the corpus
	Refused     int // of those, refused with ErrUnsupported
	OCR         bool
	Elapsed     time.Duration
	Failures    []string // per-chart notes for values outside tolerance
}

// ValueRate is the share of values within ±2% of the axis range for one type.
func (r EvalReport) ValueRate(typ string) float64 {
	s := r.ByType[typ]
	if s == nil || s.Values == 0 {
		return 0
	}
	return float64(s.Within) / float64(s.Values)
}

// SeriesRate is the share of charts of one type with the right series count.
func (r EvalReport) SeriesRate(typ string) float64 {
	s := r.ByType[typ]
	if s == nil || s.Charts == 0 {
		return 0
	}
	return float64(s.SeriesMatch) / float64(s.Charts)
}

// String prints one line per chart type.
func (r EvalReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chart digitize eval (ocr=%v, %s)\n", r.OCR, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "%-22s %6s %6s %9s %13s %14s %10s\n", "type", "charts", "errors", "type_ok", "series_count", "values_±2%", "names")
	var types []string
	for t := range r.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	pct := func(a, b int) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	}
	for _, t := range types {
		s := r.ByType[t]
		fmt.Fprintf(&b, "%-22s %6d %6d %9s %13s %14s %10s\n", t, s.Charts, s.Errors, pct(s.TypeMatch, s.Charts),
			pct(s.SeriesMatch, s.Charts), fmt.Sprintf("%s (%d/%d)", pct(s.Within, s.Values), s.Within, s.Values), pct(s.NameMatch, s.Names))
	}
	fmt.Fprintf(&b, "unsupported (scatter) refused: %d/%d\n", r.Refused, r.Unsupported)
	return b.String()
}

// Eval digitizes every image in dir that has a ground-truth JSON beside it
// and scores the results.
func Eval(dir string) (EvalReport, error) {
	rep := EvalReport{ByType: map[string]*TypeScore{}, OCR: ocrAvailable()}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return rep, fmt.Errorf("eval: %w", err)
	}
	start := time.Now()
	type job struct {
		base, path string
		t          truth
	}
	var jobs []job
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != ".png" && ext != ".jpg" && ext != ".jpeg" {
			continue
		}
		base := strings.TrimSuffix(name, ext)
		js, err := os.ReadFile(filepath.Join(dir, base+".json"))
		if err != nil {
			continue
		}
		var t truth
		if err := json.Unmarshal(js, &t); err != nil {
			return rep, fmt.Errorf("eval: %s: %w", base, err)
		}
		jobs = append(jobs, job{base: base, path: filepath.Join(dir, name), t: t})
	}
	// Digitize in parallel (Tesseract runs single-threaded per call).
	type outcome struct {
		res *Result
		err error
	}
	outs := make([]outcome, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := decodeFile(jobs[i].path)
				if err != nil {
					outs[i].err = fmt.Errorf("decode: %w", err)
					continue
				}
				outs[i].res, outs[i].err = Digitize(context.Background(), img)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, jb := range jobs {
		base, t := jb.base, jb.t
		res, derr := outs[i].res, outs[i].err
		if t.Unsupported && !isPieType(t.ChartType) {
			rep.Unsupported++
			if errors.Is(derr, ErrUnsupported) {
				rep.Refused++
			} else {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %s not refused", base, t.ChartType))
			}
			continue
		}
		s := rep.ByType[evalKey(t)]
		if s == nil {
			s = &TypeScore{}
			rep.ByType[evalKey(t)] = s
		}
		s.Charts++
		for _, ser := range t.Series {
			s.Values += len(ser.Points)
			if ser.Name != "" {
				s.Names++
			}
		}
		if derr != nil {
			s.Errors++
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", base, derr))
			continue
		}
		if res.ChartType == t.ChartType && res.Stacked == t.Stacked {
			s.TypeMatch++
		}
		if isPieType(t.ChartType) {
			scorePie(s, t, res, func(n string) { rep.Failures = append(rep.Failures, base+": "+n) })
			continue
		}
		if len(res.Series) == len(t.Series) {
			s.SeriesMatch++
		} else {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d series, want %d", base, len(res.Series), len(t.Series)))
		}
		within, names, notes := scoreChart(t, res)
		s.Within += within
		s.NameMatch += names
		for _, n := range notes {
			rep.Failures = append(rep.Failures, base+": "+n)
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// scoreChart matches predicted series to true ones (by name, then by
// colour) and counts the true values the prediction gets within ±2% of the
// axis range. Points are matched by category label, else by position.
func scoreChart(t truth, res *Result) (within, names int, notes []string) {
	span := t.Axis.Max - t.Axis.Min
	tr := func(v float64) float64 { return v }
	if t.Axis.Log {
		span = math.Log10(t.Axis.Max) - math.Log10(t.Axis.Min)
		tr = func(v float64) float64 {
			if v <= 0 {
				return math.Inf(-1)
			}
			return math.Log10(v)
		}
	}
	tol := 0.02 * span
	taken := make([]bool, len(res.Series))
	for _, ts := range t.Series {
		pi := -1
		for i, ps := range res.Series {
			if !taken[i] && ts.Name != "" && normLabel(ps.Name) == normLabel(ts.Name) {
				pi = i
				break
			}
		}
		if pi >= 0 {
			names++
		} else {
			best := math.Inf(1)
			for i, ps := range res.Series {
				if taken[i] {
					continue
				}
				if d := hexDist(ps.Color, ts.Color); d < best && d < 80 {
					pi, best = i, d
				}
			}
		}
		if pi < 0 {
			notes = append(notes, fmt.Sprintf("series %q not found", ts.Name))
			continue
		}
		taken[pi] = true
		ps := res.Series[pi]
		for k, tp := range ts.Points {
			var got *Point
			for j := range ps.Points {
				if normLabel(fmt.Sprint(ps.Points[j].X)) == normLabel(fmt.Sprint(tp.X)) {
					got = &ps.Points[j]
					break
				}
			}
			if got == nil && len(ps.Points) == len(ts.Points) {
				got = &ps.Points[k]
			}
			if got == nil {
				notes = append(notes, fmt.Sprintf("%q x=%v missing", ts.Name, tp.X))
				continue
			}
			if math.Abs(tr(got.Y)-tr(tp.Y)) <= tol {
				within++
			} else {
				notes = append(notes, fmt.Sprintf("%q x=%v got %v want %v", ts.Name, tp.X, got.Y, tp.Y))
			}
		}
	}
	return within, names, notes
}

func normLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

func hexDist(a, b string) float64 {
	var ar, ag, ab, br, bg, bb int
	if _, err := fmt.Sscanf(a, "#%02x%02x%02x", &ar, &ag, &ab); err != nil {
		return math.Inf(1)
	}
	if _, err := fmt.Sscanf(b, "#%02x%02x%02x", &br, &bg, &bb); err != nil {
		return math.Inf(1)
	}
	return colorDist([3]float64{float64(ar), float64(ag), float64(ab)}, [3]float64{float64(br), float64(bg), float64(bb)})
}
