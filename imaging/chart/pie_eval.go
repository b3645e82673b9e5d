package chart

import (
	"fmt"
	"math"
)

// pieShareTol is the acceptance tolerance of issue 17: a slice's share
// within ±2 percentage points.
const pieShareTol = 2.0

func isPieType(t string) bool { return t == TypePie || t == TypeDonut }

// evalKey is the row of the report a truth is counted in: the chart type,
// with "_stacked" for stacked bars.
func evalKey(t truth) string {
	if t.Stacked {
		return t.ChartType + "_stacked"
	}
	return t.ChartType
}

// scorePie counts a pie's or donut's slices: Values the true slices,
// (Eval counted them), Within those whose share is within ±2 points, Names the slices whose label
// was read exactly. True shares are the truth's values normalised to 100
// (the committed corpus stores raw values, ShapeTruth percentages). Slices
// are matched by label, then by colour, then by position when the counts
// agree.
func scorePie(s *TypeScore, t truth, res *Result, note func(string)) {
	if len(t.Series) != 1 {
		note("pie truth without one series")
		return
	}
	tp := t.Series[0].Points
	// Eval counted the values, and the series name of a committed pie
	// truth as a name; a pie's names are its slice labels.
	s.Names += len(tp)
	if t.Series[0].Name != "" {
		s.Names--
	}
	if len(res.Series) == 1 {
		s.SeriesMatch++
	} else {
		note(fmt.Sprintf("%d series, want 1", len(res.Series)))
		return
	}
	total := 0.0
	for _, p := range tp {
		total += p.Y
	}
	got := res.Series[0].Points
	if len(got) != len(tp) {
		note(fmt.Sprintf("%d slices, want %d", len(got), len(tp)))
	}
	taken := make([]bool, len(got))
	for k, p := range tp {
		want := 100 * p.Y / total
		gi := -1
		for i, g := range got {
			if !taken[i] && normLabel(fmt.Sprint(g.X)) == normLabel(fmt.Sprint(p.X)) {
				gi = i
				s.NameMatch++
				break
			}
		}
		if gi < 0 && p.Color != "" {
			best := 80.0
			for i, g := range got {
				if d := hexDist(g.Color, p.Color); !taken[i] && d < best {
					gi, best = i, d
				}
			}
		}
		if gi < 0 && len(got) == len(tp) && !taken[k] {
			gi = k
		}
		if gi < 0 {
			note(fmt.Sprintf("slice %v missing", p.X))
			continue
		}
		taken[gi] = true
		if math.Abs(got[gi].Y-want) <= pieShareTol {
			s.Within++
		} else {
			note(fmt.Sprintf("slice %v got %.1f%% want %.1f%%", p.X, got[gi].Y, want))
		}
	}
}
