package imaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// FieldError is one entry of a FastAPI/pydantic v2 validation error body
// (HTTPValidationError.detail). Input holds the offending JSON value
// verbatim (a json.RawMessage) so it re-encodes exactly as received.
type FieldError struct {
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Type  string         `json:"type"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// The three box conventions ParseBBox accepts, in order of preference.
var bboxForms = [][4]string{
	{"x", "y", "width", "height"},
	{"x0", "y0", "x1", "y1"},
	{"left", "top", "right", "bottom"},
}

// bboxEdgeTolerance lets x+width (etc.) exceed 1 by float rounding only.
const bboxEdgeTolerance = 1e-9

// ParseBBox parses the raw JSON value of a user bounding box in fractions of
// the page, as {x, y, width, height}, {x0, y0, x1, y1} or {left, top, right,
// bottom}. The convention is the one with the most keys present (ties go to
// the order above). Corner forms may give the corners in either order.
//
// Errors mirror FastAPI with a pydantic v2 model of dict[str, float] plus
// validators, each located under locPrefix (for example
// []any{"body", "user_bbox"}):
//   - not valid JSON: "json_invalid";
//   - not an object: "dict_type", "Input should be a valid dictionary";
//   - a value that is not a number, for every key present: "float_parsing"
//     for strings ("Input should be a valid number, unable to parse string
//     as a number"), "float_type" for other values ("Input should be a valid
//     number"). As in pydantic's lax mode, numeric strings and booleans are
//     accepted as numbers;
//   - a missing key of the chosen convention: "missing", "Field required",
//     with the whole box as input;
//   - a value outside 0..1: "greater_than_equal" with ctx {"ge": 0} or
//     "less_than_equal" with ctx {"le": 1};
//   - box-level problems, located at locPrefix itself: "value_error"
//     ("Value error, ..."), for a box extending past the page edge, a box of
//     zero area, and, when pageW and pageH are positive, a box under 1 px on
//     that page (pass 0 to skip that check).
//
// Each stage reports all its errors and later stages run only if it passed.
func ParseBBox(raw []byte, locPrefix []any, pageW, pageH int) (Box, []FieldError) {
	loc := func(extra ...any) []any {
		l := make([]any, 0, len(locPrefix)+len(extra))
		return append(append(l, locPrefix...), extra...)
	}
	input := json.RawMessage(bytes.TrimSpace(raw))
	if len(input) == 0 {
		return Box{}, []FieldError{{Loc: loc(), Msg: "Field required", Type: "missing", Input: nil}}
	}
	keys, vals, err := decodeObject(input)
	if err != nil {
		if err == errNotObject {
			return Box{}, []FieldError{{Loc: loc(), Msg: "Input should be a valid dictionary", Type: "dict_type", Input: input}}
		}
		return Box{}, []FieldError{{Loc: loc(), Msg: "JSON decode error", Type: "json_invalid", Input: map[string]any{},
			Ctx: map[string]any{"error": err.Error()}}}
	}

	// Stage 1: every value is a number.
	var errs []FieldError
	nums := make(map[string]float64, len(keys))
	for _, k := range keys {
		v, fe := parseNumber(vals[k])
		if fe != nil {
			fe.Loc = loc(k)
			errs = append(errs, *fe)
			continue
		}
		nums[k] = v
	}
	if len(errs) > 0 {
		return Box{}, errs
	}

	// Stage 2: pick the convention and require its keys.
	form, best := bboxForms[0], -1
	for _, f := range bboxForms {
		n := 0
		for _, k := range f {
			if _, ok := nums[k]; ok {
				n++
			}
		}
		if n > best {
			form, best = f, n
		}
	}
	for _, k := range form {
		if _, ok := nums[k]; !ok {
			errs = append(errs, FieldError{Loc: loc(k), Msg: "Field required", Type: "missing", Input: input})
		}
	}
	if len(errs) > 0 {
		return Box{}, errs
	}

	// Stage 3: each value within 0..1.
	for _, k := range form {
		v := nums[k]
		switch {
		case !(v >= 0): // also NaN
			errs = append(errs, FieldError{Loc: loc(k), Msg: "Input should be greater than or equal to 0",
				Type: "greater_than_equal", Input: vals[k], Ctx: map[string]any{"ge": 0}})
		case v > 1:
			errs = append(errs, FieldError{Loc: loc(k), Msg: "Input should be less than or equal to 1",
				Type: "less_than_equal", Input: vals[k], Ctx: map[string]any{"le": 1}})
		}
	}
	if len(errs) > 0 {
		return Box{}, errs
	}

	// Stage 4: the box itself.
	a, b, c, d := nums[form[0]], nums[form[1]], nums[form[2]], nums[form[3]]
	var box Box
	valueErr := func(msg string) []FieldError {
		return []FieldError{{Loc: loc(), Msg: "Value error, " + msg, Type: "value_error", Input: input,
			Ctx: map[string]any{"error": msg}}}
	}
	if form[0] == "x" {
		if a+c > 1+bboxEdgeTolerance {
			return Box{}, valueErr(fmt.Sprintf("x + width must be at most 1, got %s", fmtNum(a+c)))
		}
		if b+d > 1+bboxEdgeTolerance {
			return Box{}, valueErr(fmt.Sprintf("y + height must be at most 1, got %s", fmtNum(b+d)))
		}
		box = Box{X: a, Y: b, W: math.Min(c, 1-a), H: math.Min(d, 1-b)}
	} else {
		box = Box{X: math.Min(a, c), Y: math.Min(b, d), W: math.Abs(c - a), H: math.Abs(d - b)}
	}
	if box.W <= 0 || box.H <= 0 {
		return Box{}, valueErr("bounding box has zero area")
	}
	if pageW > 0 && pageH > 0 {
		pw, ph := box.W*float64(pageW), box.H*float64(pageH)
		if pw < 1 || ph < 1 {
			return Box{}, valueErr(fmt.Sprintf("bounding box is under 1 px on the %dx%d source (%s x %s px)",
				pageW, pageH, fmtNum(pw), fmtNum(ph)))
		}
	}
	return box, nil
}

func fmtNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

var errNotObject = fmt.Errorf("not a JSON object")

// decodeObject splits a JSON object into its keys (first-seen order) and raw
// values (the last one wins for a repeated key, as in pydantic).
func decodeObject(raw []byte) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		// Valid JSON that is not an object; make sure it is valid throughout.
		if !json.Valid(raw) {
			return nil, nil, fmt.Errorf("invalid JSON")
		}
		return nil, nil, errNotObject
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("unexpected data after the object")
	}
	return keys, vals, nil
}

// parseNumber converts one JSON value the way pydantic v2's lax float does.
func parseNumber(v json.RawMessage) (float64, *FieldError) {
	switch {
	case len(v) == 0:
		return 0, &FieldError{Msg: "Input should be a valid number", Type: "float_type", Input: v}
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			if f, ok := parseNumericString(s); ok {
				return f, nil
			}
		}
		return 0, &FieldError{Msg: "Input should be a valid number, unable to parse string as a number", Type: "float_parsing", Input: v}
	case string(v) == "true":
		return 1, nil
	case string(v) == "false":
		return 0, nil
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil && !isRangeErr(err) { // out of range parses to ±Inf, caught by 0..1
			return 0, &FieldError{Msg: "Input should be a valid number", Type: "float_type", Input: v}
		}
		return f, nil
	}
	return 0, &FieldError{Msg: "Input should be a valid number", Type: "float_type", Input: v}
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseNumericString accepts what pydantic's float parsing of a string
// accepts: surrounding whitespace, a decimal or exponent literal, and
// inf/infinity/nan words. It refuses Go-only forms (hex, underscores).
func parseNumericString(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return f, true
}
