package digitize

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseValue parses financial cell text. It understands thousands
// separators, accounting negatives "(1,234.5)" as well as "-1,234.5" and
// "−1,234.5", percentages "12.5%", the currency symbols $ € £ ¥ (before or
// after the sign), a trailing multiple "2.5x", and keeps footnote markers
// ("*", "†", "‡", "§", superscript digits, "(a)"-style suffixes) out of the
// number. Dashes ("—", "–", "-"), "n/a", "nm" and non-numeric text give nil.
func ParseValue(s string) *Value {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	s = stripFootnotes(s)
	if s == "" {
		return nil
	}
	var v Value
	neg, paren := false, false
	// Parentheses: a leading "(" or trailing ")" marks an accounting negative.
	// OCR sometimes loses one of the pair, so one side is enough.
	if strings.HasPrefix(s, "(") || strings.HasSuffix(s, ")") {
		neg, paren = true, true
		s = strings.TrimPrefix(s, "(")
		s = strings.TrimSuffix(s, ")")
		s = strings.TrimSpace(s)
	}
	for changed := true; changed && s != ""; {
		changed = false
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == '$' || r == '€' || r == '£' || r == '¥':
			if v.Currency != "" {
				return nil
			}
			v.Currency = string(r)
			s, changed = strings.TrimSpace(s[n:]), true
		case r == '-' || r == '−' || r == '–' || r == '—':
			if neg {
				return nil
			}
			// "— 2026" is a dash cell run into its neighbour, not a minus.
			if r == '—' && len(s) > n && s[n] == ' ' {
				return nil
			}
			neg = true
			s, changed = strings.TrimSpace(s[n:]), true
		case r == '+':
			s, changed = strings.TrimSpace(s[n:]), true
		case r == '(' && (!neg || paren):
			neg, paren = true, true
			s, changed = strings.TrimSpace(strings.TrimSuffix(s[n:], ")")), true
		}
	}
	// Suffixes: currency after the number ("12 €"), percent, multiple.
	for changed := true; changed && s != ""; {
		changed = false
		r, n := utf8.DecodeLastRuneInString(s)
		switch {
		case r == '%':
			if v.Pct {
				return nil
			}
			v.Pct = true
			s, changed = strings.TrimSpace(s[:len(s)-n]), true
		case r == '€' || r == '£' || r == '$':
			if v.Currency != "" {
				return nil
			}
			v.Currency = string(r)
			s, changed = strings.TrimSpace(s[:len(s)-n]), true
		case (r == 'x' || r == 'X') && len(s) > 1 && isDigit(s[len(s)-2]):
			s, changed = s[:len(s)-1], true
		case r == ')' && neg:
			s, changed = strings.TrimSpace(s[:len(s)-n]), true
		}
	}
	num, ok := parseNumber(s)
	if !ok {
		return nil
	}
	if neg {
		num = -num
	}
	v.Num = &num
	return &v
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// parseNumber accepts digits with "," or thin-space thousands separators and
// an optional "." decimal part; and, strictly grouped (groups of three), the
// European and SI styles: space or no-break space between groups ("1 234",
// "1 234.5", "1 234,5") and "." between groups with a decimal comma
// ("1.234,5"). A comma followed by one or two final digits ("12,5") is a
// decimal comma. "1.234" alone stays 1.234: without a decimal comma the dot
// cannot be told from a decimal point.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	if strings.ContainsAny(s, " \u00a0") || decimalComma(s) || multiDot(s) {
		return parseGroupedNumber(s)
	}
	var b strings.Builder
	digits := 0
	dot := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == ',' || r == '\u2009' || r == '\u202f' || r == '\'':
			if dot {
				return 0, false
			}
		case r == '.':
			if dot {
				return 0, false
			}
			dot = true
			b.WriteRune(r)
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// decimalComma reports whether s writes its decimals after a comma: a "."
// comes before the last ",", or the last "," is followed by one or two
// digits that end s.
func decimalComma(s string) bool {
	i := strings.LastIndexByte(s, ',')
	if i < 0 {
		return false
	}
	tail := s[i+1:]
	if strings.ContainsAny(tail, ".") {
		return false
	}
	if j := strings.IndexByte(s, '.'); j >= 0 && j < i {
		return true
	}
	return len(tail) >= 1 && len(tail) <= 2 && isAllDigits(tail)
}

// multiDot reports a number with two or more dots and no comma:
// "886.970.6" is "886,970.6" or "886.970,6" with the comma read as a dot, the
// same value either way. The last dot is the decimal mark when one or two
// digits follow it; otherwise all dots separate thousands.
func multiDot(s string) bool {
	return strings.Count(s, ".") >= 2 && !strings.Contains(s, ",")
}

// maxLeadGroup is the longest first digit group of a grouped number: the
// others are exactly three digits long.
const maxLeadGroup = 3

// parseGroupedNumber reads a number in the space- or dot-grouped styles of
// parseNumber. Groups must be three digits (the first one to three), so two
// numbers run together ("12 34", "2026 2025") are refused, not joined.
func parseGroupedNumber(s string) (float64, bool) {
	dec := byte('.')
	if decimalComma(s) {
		dec = ','
	}
	intPart, frac := s, ""
	if multiDot(s) {
		// Every dot but a final decimal one separates thousands.
		s = strings.ReplaceAll(s, ".", ",")
		if i := strings.LastIndexByte(s, ','); len(s)-i-1 <= 2 {
			s = s[:i] + "." + s[i+1:]
		}
		intPart = s
	}
	if i := strings.LastIndexByte(s, dec); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if frac == "" || !isAllDigits(frac) {
			return 0, false
		}
	}
	groups := strings.FieldsFunc(intPart, func(r rune) bool {
		switch r {
		case ' ', '\u00a0', '\u2009', '\u202f':
			return true
		case '.':
			return dec == ','
		case ',':
			return dec == '.'
		}
		return false
	})
	if len(groups) == 0 {
		return 0, false
	}
	for k, g := range groups {
		if g == "" || !isAllDigits(g) || (k > 0 && len(g) != 3) || (k == 0 && len(groups) > 1 && len(g) > maxLeadGroup) {
			return 0, false
		}
	}
	num := strings.Join(groups, "")
	if frac != "" {
		num += "." + frac
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

var footnoteRunes = "*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰#"

// stripFootnotes removes trailing footnote markers: symbols, superscript
// digits, and a parenthesised letter suffix such as "(a)" or a bracketed
// number "[1]" after a number. A parenthesised number suffix "(1)" directly
// after a digit or "%" is also a footnote, since "1,234(1)" cannot be an
// accounting negative.
func stripFootnotes(s string) string {
	for {
		t := strings.TrimSpace(s)
		r, n := utf8.DecodeLastRuneInString(t)
		if n > 0 && strings.ContainsRune(footnoteRunes, r) && len(t) > n {
			s = t[:len(t)-n]
			continue
		}
		if strings.HasSuffix(t, ")") || strings.HasSuffix(t, "]") {
			open := "("
			if strings.HasSuffix(t, "]") {
				open = "["
			}
			i := strings.LastIndex(t, open)
			if i > 0 {
				inner := t[i+1 : len(t)-1]
				before := strings.TrimSpace(t[:i])
				if inner != "" && len(inner) <= 2 && isFootnoteLabel(inner) && before != "" && !strings.HasPrefix(before, "(") {
					last, _ := utf8.DecodeLastRuneInString(before)
					if unicode.IsDigit(last) || last == '%' || open == "[" || !isAllDigits(inner) {
						s = before
						continue
					}
				}
			}
		}
		return t
	}
}

func isFootnoteLabel(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// numericLike reports whether s looks like a number cell even when
// ParseValue rejects it; used for layout heuristics (right-aligned columns).
func numericLike(s string) bool {
	if ParseValue(s) != nil {
		return true
	}
	s = strings.TrimSpace(s)
	switch s {
	case "—", "–", "-", "--", "n/a", "N/A", "nm", "NM", "n.m.":
		return true
	}
	return false
}
