package chart

import (
	"math"
	"regexp"
	"strings"

	"github.com/canvasd/canvasd/imaging/digitize"
)

// tick is one value-axis label: its pixel position along the axis and value.
type tick struct {
	pos, val float64
	alts     []float64 // val and the values of likely misreadings
}

// numberVariants returns the value of s and the values it would have if
// OCR had read a 0 as 8 (the Go fonts and many UI fonts draw a dotted zero
// that Tesseract reads as 8). At most eight variants.
func numberVariants(s string) []float64 {
	v, ok := parseNumber(s)
	if !ok {
		return nil
	}
	out := []float64{v}
	// A thin minus sign is easily lost.
	if v > 0 {
		out = append(out, -v)
	}
	// "1,000" read as "1.000": a dot before exactly three digits may be a
	// thousands separator.
	if thousandsDot.MatchString(s) {
		if alt, ok := parseNumber(strings.ReplaceAll(s, ".", ",")); ok {
			out = append(out, alt)
		}
	}
	var pos []int
	for i := 0; i < len(s); i++ {
		if s[i] == '8' {
			pos = append(pos, i)
		}
	}
	if len(pos) > 3 {
		pos = pos[:3]
	}
	for mask := 1; mask < 1<<len(pos); mask++ {
		b := []byte(s)
		for k, p := range pos {
			if mask&(1<<k) != 0 {
				b[p] = '0'
			}
		}
		if alt, ok := parseNumber(string(b)); ok {
			out = append(out, alt)
		}
	}
	return out
}

// axisFit maps pixel positions along the value axis to values:
// value = a + b*pos (or 10^(a + b*pos) for a log axis).
type axisFit struct {
	a, b    float64
	log     bool
	inliers int
	ok      bool
	lo, hi  float64 // value range covered by the tick labels
}

func (f axisFit) value(pos float64) float64 {
	v := f.a + f.b*pos
	if f.log {
		return math.Pow(10, v)
	}
	return v
}

func (f axisFit) pos(v float64) float64 {
	if f.log {
		if v <= 0 {
			return math.NaN()
		}
		v = math.Log10(v)
	}
	return (v - f.a) / f.b
}

// span is the axis range in the fitted (linear or log) space.
func (f axisFit) span() float64 {
	if f.log {
		return math.Log10(f.hi) - math.Log10(f.lo)
	}
	return f.hi - f.lo
}

// fitAxis fits tick positions to values robustly: every pair of ticks
// proposes a line (RANSAC over all pairs, there are few ticks), inliers are
// ticks within tol pixels of it, and the best model is refined by least
// squares over its inliers. Linear and log scales compete on inlier count
// and then residual.
func fitAxis(ts []tick, tol float64) axisFit {
	best := axisFit{}
	bestRes := math.Inf(1)
	for _, log := range []bool{false, true} {
		tr := func(v float64) (float64, bool) {
			if !log {
				return v, true
			}
			if v <= 0 {
				return 0, false
			}
			return math.Log10(v), true
		}
		type cand struct {
			k        int
			pos, val float64
			raw      float64
		}
		var cs []cand
		for k, t := range ts {
			alts := t.alts
			if len(alts) == 0 {
				alts = []float64{t.val}
			}
			for _, a := range alts {
				if v, ok := tr(a); ok {
					cs = append(cs, cand{k: k, pos: t.pos, val: v, raw: a})
				}
			}
		}
		for i := range cs {
			for j := i + 1; j < len(cs); j++ {
				if cs[i].k == cs[j].k {
					continue
				}
				dp := cs[j].pos - cs[i].pos
				dv := cs[j].val - cs[i].val
				if math.Abs(dp) < 2 || dv == 0 {
					continue
				}
				b := dv / dp
				a := cs[i].val - b*cs[i].pos
				// Each tick is an inlier through its best-fitting reading.
				inl := map[int]cand{}
				resid := map[int]float64{}
				for _, c := range cs {
					d := math.Abs((c.val-a)/b - c.pos)
					if d > tol {
						continue
					}
					if r, ok := resid[c.k]; !ok || d < r {
						resid[c.k], inl[c.k] = d, c
					}
				}
				if len(inl) < 2 {
					continue
				}
				var sp, sv, spp, spv, res float64
				lo, hi := math.Inf(1), math.Inf(-1)
				for k, c := range inl {
					sp += c.pos
					sv += c.val
					spp += c.pos * c.pos
					spv += c.pos * c.val
					res += resid[k]
					lo, hi = math.Min(lo, c.raw), math.Max(hi, c.raw)
				}
				n := float64(len(inl))
				den := n*spp - sp*sp
				if den == 0 {
					continue
				}
				fb := (n*spv - sp*sv) / den
				fa := (sv - fb*sp) / n
				res /= n
				// Prefer more ticks, then a smaller residual; on a tie the
				// linear scale (tried first) wins.
				if len(inl) > best.inliers || (len(inl) == best.inliers && res < bestRes-1e-9) {
					best = axisFit{a: fa, b: fb, log: log, inliers: len(inl), ok: true, lo: lo, hi: hi}
					bestRes = res
				}
			}
		}
	}
	return best
}

var thousandsDot = regexp.MustCompile(`^[^0-9]*[0-9]{1,3}(\.[0-9]{3})+[^0-9]*$`)

// ocrDigits maps letters Tesseract commonly reads for digits in numeric
// context.
var ocrDigits = strings.NewReplacer("O", "0", "o", "0", "l", "1", "I", "1", "|", "1", "S", "5", "B", "8", "—", "-", "–", "-")

// parseNumber reads a tick or data label such as "1,250", "$40", "12.5%",
// "(20)". It rejects text that is mostly letters.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "'\"`‘’“”:;")
	if s == "" {
		return 0, false
	}
	// A label made only of digit look-alikes ("l0", "O") is a number.
	if strings.Trim(s, "0123456789OolI|,.%$") == "" && strings.ContainsAny(s, "OolI|") && len(s) <= 8 {
		s = ocrDigits.Replace(s)
	}
	digits, letters := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters++
		}
	}
	if digits == 0 || letters > digits {
		return 0, false
	}
	v := digitize.ParseValue(s)
	if v == nil || v.Num == nil {
		v = digitize.ParseValue(ocrDigits.Replace(s))
	}
	if v == nil || v.Num == nil {
		return 0, false
	}
	return *v.Num, true
}
