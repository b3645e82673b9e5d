package digitize

import (
	"regexp"
	"strings"
)

// Context post-corrections of OCR confusions (issue 17). They fire only
// where the neighbours leave one reading: a digit between digits, a period
// number after Q, H or FY.
var (
	// "Ql", "Q|", "QI" and "Hl" (quarter and half-year one), alone or
	// before a year or punctuation.
	periodOne = regexp.MustCompile(`^([QH])[lI|\]]([^A-Za-z]*)$`)
	// "QlFY26", "QIFY11", "HLFY21": a period and a fiscal year run
	// together (a narrow space lost).
	periodFY = regexp.MustCompile(`^([QH])[lIL|1](FY[0-9lI|O]{2,4})([^A-Za-z]*)$`)
	// "FYl9", "FY2l", "FYO5": fiscal year digits.
	fiscalYear = regexp.MustCompile(`^(FY\s?)([0-9lI|O]{2,4})([^A-Za-z0-9]*)$`)
	// l, I or | between digits (a comma or point may sit between).
	oneBetween = regexp.MustCompile(`([0-9][.,]?)[lI|]([.,]?[0-9])`)
	// O or o between digits.
	zeroBetween = regexp.MustCompile(`([0-9][.,]?)[Oo]([.,]?[0-9])`)
	// O or o ending a digit group ("1O", "2O%", "1,0O0"): after a digit
	// and before the end, a separator or a percent sign.
	zeroAfter = regexp.MustCompile(`([0-9])[Oo]($|[.,%)*])`)
	// A leading S before a digit group, optionally in brackets.
	dollarS = regexp.MustCompile(`^(\(?)S([0-9])`)
)

// postCorrect applies the context corrections to one OCR token. With
// currency set (a column whose other cells carry a currency sign), a
// leading "S" before a digit group is "$".
func postCorrect(s string, currency bool) string {
	if s == "" {
		return s
	}
	if m := periodOne.FindStringSubmatch(s); m != nil {
		return m[1] + "1" + m[2]
	}
	if m := periodFY.FindStringSubmatch(s); m != nil {
		return m[1] + "1 " + postCorrect(m[2]+m[3], currency)
	}
	if m := fiscalYear.FindStringSubmatch(s); m != nil {
		d := strings.NewReplacer("l", "1", "I", "1", "|", "1", "O", "0").Replace(m[2])
		return m[1] + d + m[3]
	}
	// Twice: overlapping matches ("1l1l1") need a second pass.
	for i := 0; i < 2; i++ {
		s = oneBetween.ReplaceAllString(s, "${1}1${2}")
		s = zeroBetween.ReplaceAllString(s, "${1}0${2}")
	}
	s = zeroAfter.ReplaceAllString(s, "${1}0${2}")
	if currency {
		s = dollarS.ReplaceAllString(s, "${1}$$${2}")
	}
	return s
}

// currencyColumns returns the columns of t in which some body cell carries
// a currency sign.
func currencyColumns(t *Table) map[int]bool {
	out := map[int]bool{}
	for _, c := range t.Cells {
		if c.R >= t.HeaderRows && c.Value != nil && c.Value.Currency != "" {
			out[c.C] = true
		}
	}
	return out
}

// fixCurrencyS re-reads a leading "S" before digits as "$" in the currency
// columns of t, and as "5" elsewhere (OCR confuses the two; the column says
// which).
func fixCurrencyS(t *Table) {
	cur := currencyColumns(t)
	for i := range t.Cells {
		c := &t.Cells[i]
		if c.R < t.HeaderRows || !dollarS.MatchString(c.Text) {
			continue
		}
		var text string
		if cur[c.C] {
			text = postCorrect(c.Text, true)
		} else {
			text = dollarS.ReplaceAllString(c.Text, "${1}5${2}")
		}
		if v := ParseValue(text); v != nil {
			c.Text, c.Value = text, v
		}
	}
}

// Number-format repair on scanned pages. At a cap height of 6–9 pixels
// with blur and JPEG, tesseract drops decimal points ("443.6" as "4436")
// and reads thousands commas as points ("85,870" as "85.870"). A table
// prints its numbers in one format: when most of its plain (non-percent)
// numbers agree on comma thousands and d decimals, a reading whose digits
// fit that format but whose separators do not is re-punctuated. Digits
// are never changed, added or dropped.
var (
	commaFormat = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})*(\.([0-9]+))?$`)
	numCore     = regexp.MustCompile(`^([^0-9]*?)([0-9][0-9.,]*[0-9]|[0-9])([^0-9]*)$`)
)

// minFormatShare is the share of a table's plain numbers that must agree on
// a format before it is imposed on the others, and minFormatVotes their
// least number.
const (
	minFormatShare = 0.6
	minFormatVotes = 6
)

// repunctuate fixes the separators of the plain numeric cells of t that
// disagree with the table's majority format.
func repunctuate(t *Table) {
	votes := map[int]int{}
	total := 0
	for _, c := range t.Cells {
		if c.R < t.HeaderRows || c.Value == nil || c.Value.Num == nil || c.Value.Pct {
			continue
		}
		m := numCore.FindStringSubmatch(c.Text)
		if m == nil || len(strings.Map(digitOnly, m[2])) < 4 {
			continue
		}
		total++
		if f := commaFormat.FindStringSubmatch(m[2]); f != nil {
			votes[len(f[3])]++
		}
	}
	dec, best := 0, 0
	for d, n := range votes {
		if n > best {
			dec, best = d, n
		}
	}
	if best < minFormatVotes || float64(best) < minFormatShare*float64(total) {
		return
	}
	for i := range t.Cells {
		c := &t.Cells[i]
		if c.R < t.HeaderRows || c.Value == nil || c.Value.Num == nil || c.Value.Pct || strings.HasSuffix(strings.TrimSpace(c.Text), "%") {
			continue
		}
		m := numCore.FindStringSubmatch(c.Text)
		if m == nil {
			continue
		}
		if f := commaFormat.FindStringSubmatch(m[2]); f != nil && len(f[3]) == dec {
			continue
		}
		digits := strings.Map(digitOnly, m[2])
		if len(digits) <= dec {
			continue
		}
		intPart, frac := digits[:len(digits)-dec], digits[len(digits)-dec:]
		var b strings.Builder
		for k, r := range intPart {
			if k > 0 && (len(intPart)-k)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		if dec > 0 {
			b.WriteString("." + frac)
		}
		text := m[1] + b.String() + m[3]
		if v := ParseValue(text); v != nil && v.Num != nil {
			c.Text, c.Value = text, v
		}
	}
}

func digitOnly(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}
