package imaging

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Thresholds for DiffSummary.IsSignificant: a correction is significant when
// the boxes overlap by less than SignificantIoU (IoU < 0.9) or the area
// changes by more than SignificantAreaDeltaPct percent (|delta| > 10).
const (
	SignificantIoU          = 0.9
	SignificantAreaDeltaPct = 10.0
)

// DiffSummary compares a user's corrected crop with the original one.
type DiffSummary struct {
	// IoUWithOriginal is IoU(orig, user), rounded to 4 decimals.
	IoUWithOriginal float64 `json:"iou_with_original"`
	// AreaDeltaPct is (A_user - A_orig) / A_orig * 100, rounded to 2 decimals
	// (0 when the original has no area).
	AreaDeltaPct float64 `json:"area_delta_pct"`
	// Hint is one English sentence saying which edges moved and by how much.
	Hint string `json:"hint"`
	// IsSignificant: IoU < SignificantIoU or |AreaDeltaPct| > SignificantAreaDeltaPct,
	// judged on the unrounded figures.
	IsSignificant bool `json:"is_significant"`
}

// hintEpsilon: edge movements smaller than this fraction of the page (0.05%)
// are not mentioned; they round to 0.0% anyway.
const hintEpsilon = 0.0005

// Diff summarises how user differs from orig.
func Diff(orig, user Box) DiffSummary {
	iou := IoU(orig, user)
	delta := 0.0
	if a := orig.Area(); a > 0 {
		delta = (user.Area() - a) / a * 100
	}
	return DiffSummary{
		IoUWithOriginal: roundTo(iou, 4),
		AreaDeltaPct:    roundTo(delta, 2),
		Hint:            diffHint(orig, user),
		IsSignificant:   iou < SignificantIoU || math.Abs(delta) > SignificantAreaDeltaPct,
	}
}

func roundTo(v float64, decimals int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no "-0" in JSON
	}
	return r
}

type hintClause struct {
	text string
	size float64
}

// diffHint builds the sentence, largest movement first. A side whose two
// edges moved the same way by the same amount is described as a shift.
func diffHint(o, u Box) string {
	var clauses []hintClause
	clauses = append(clauses, axisClauses(o.X, o.X+o.W, u.X, u.X+u.W, "left", "right", "width")...)
	clauses = append(clauses, axisClauses(o.Y, o.Y+o.H, u.Y, u.Y+u.H, "top", "bottom", "height")...)
	if len(clauses) == 0 {
		return "No change from the original crop."
	}
	// Largest first, compared as displayed (to 0.1%) so float noise does
	// not reorder equal movements; ties keep left, right, top, bottom order.
	sort.SliceStable(clauses, func(i, j int) bool {
		return math.Round(clauses[i].size*1000) > math.Round(clauses[j].size*1000)
	})
	var sb strings.Builder
	for i, c := range clauses {
		switch {
		case i == 0:
		case i == len(clauses)-1:
			sb.WriteString(" and ")
		default:
			sb.WriteString(", ")
		}
		sb.WriteString(c.text)
	}
	s := sb.String()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// axisClauses describes one axis: lo/hi are the start/end edges.
func axisClauses(oLo, oHi, uLo, uHi float64, loName, hiName, dim string) []hintClause {
	dLo, dHi := uLo-oLo, uHi-oHi
	movedLo, movedHi := math.Abs(dLo) >= hintEpsilon, math.Abs(dHi) >= hintEpsilon
	if movedLo && movedHi && (dLo > 0) == (dHi > 0) && math.Abs(dLo-dHi) < hintEpsilon {
		dir := hiName // toward the end edge: right or down
		if dLo < 0 {
			dir = loName
		}
		if dir == "top" {
			dir = "up"
		} else if dir == "bottom" {
			dir = "down"
		}
		return []hintClause{{fmt.Sprintf("moved the crop %s by %s of the page %s", dir, pct(dLo), dim), math.Abs(dLo)}}
	}
	loVerb, hiVerb := "trimmed", "extended" // the start edge moving toward the end shrinks the box
	if dLo < 0 {
		loVerb = "extended"
	}
	if dHi < 0 {
		hiVerb = "trimmed"
	}
	if movedLo && movedHi && loVerb == hiVerb && pct(dLo) == pct(dHi) {
		return []hintClause{{fmt.Sprintf("%s the %s and %s edges by %s of the page %s", loVerb, loName, hiName, pct(dLo), dim), math.Abs(dLo)}}
	}
	var out []hintClause
	if movedLo {
		out = append(out, hintClause{fmt.Sprintf("%s the %s edge by %s of the page %s", loVerb, loName, pct(dLo), dim), math.Abs(dLo)})
	}
	if movedHi {
		out = append(out, hintClause{fmt.Sprintf("%s the %s edge by %s of the page %s", hiVerb, hiName, pct(dHi), dim), math.Abs(dHi)})
	}
	return out
}

// pct formats a page fraction as a percentage: whole numbers from 10%,
// one decimal below, without a trailing ".0" ("12%", "3%", "2.5%", "0.4%").
func pct(frac float64) string {
	p := math.Abs(frac) * 100
	var s string
	if math.Round(p*10)/10 >= 10 {
		s = strconv.FormatFloat(math.Round(p), 'f', 0, 64)
	} else {
		s = strconv.FormatFloat(math.Round(p*10)/10, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
	}
	return s + "%"
}
