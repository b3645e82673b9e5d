package digitize

import (
	"encoding/json"
	"math"
	"testing"
)

func TestParseValue(t *testing.T) {
	type want struct {
		num      float64
		pct      bool
		currency string
	}
	cases := []struct {
		in   string
		want *want
	}{
		{"1,234", &want{1234, false, ""}},
		{"(1,234.5)", &want{-1234.5, false, ""}},
		{"(1,234)", &want{-1234, false, ""}},
		{"-42", &want{-42, false, ""}},
		{"−42.0", &want{-42, false, ""}},
		{"12.5%", &want{12.5, true, ""}},
		{"(3.2%)", &want{-3.2, true, ""}},
		{"-3.2 %", &want{-3.2, true, ""}},
		{"$1,234", &want{1234, false, "$"}},
		{"$ 1,234.56", &want{1234.56, false, "$"}},
		{"($1,234)", &want{-1234, false, "$"}},
		{"$(1,234)", &want{-1234, false, "$"}},
		{"-$5", &want{-5, false, "$"}},
		{"€12.0", &want{12, false, "€"}},
		{"£0.5", &want{0.5, false, "£"}},
		{"12 €", &want{12, false, "€"}},
		{"1,234*", &want{1234, false, ""}},
		{"12.5%(a)", &want{12.5, true, ""}},
		{"1,234(1)", &want{1234, false, ""}},
		{"1,234¹", &want{1234, false, ""}},
		{"98²³", &want{98, false, ""}},
		{"1,234†", &want{1234, false, ""}},
		{"7 [2]", &want{7, false, ""}},
		{"(1)", &want{-1, false, ""}},
		{"2.5x", &want{2.5, false, ""}},
		{"2023", &want{2023, false, ""}},
		{".5", &want{0.5, false, ""}},
		{"(1,234", &want{-1234, false, ""}},
		{"0", &want{0, false, ""}},
		{"—", nil},
		{"— 2026", nil},
		{"–", nil},
		{"-", nil},
		{"", nil},
		{"  ", nil},
		{"n/a", nil},
		{"Revenue", nil},
		{"FY2023", nil},
		{"1.2.3", nil},
		{"$", nil},
		{"%", nil},
		{"12%%", nil},
		{"$$5", nil},
		{"--5", nil},
		{"Q1 2023", nil},
		{"x", nil},
	}
	for _, tc := range cases {
		got := ParseValue(tc.in)
		if tc.want == nil {
			if got != nil {
				b, _ := json.Marshal(got)
				t.Errorf("ParseValue(%q) = %s, want null", tc.in, b)
			}
			continue
		}
		if got == nil || got.Num == nil {
			t.Errorf("ParseValue(%q) = nil, want %+v", tc.in, *tc.want)
			continue
		}
		if math.Abs(*got.Num-tc.want.num) > 1e-9 || got.Pct != tc.want.pct || got.Currency != tc.want.currency {
			t.Errorf("ParseValue(%q) = {%v %v %q}, want %+v", tc.in, *got.Num, got.Pct, got.Currency, *tc.want)
		}
	}
}

func TestValueJSON(t *testing.T) {
	b, err := json.Marshal(Cell{R: 1, C: 2, RowSpan: 1, ColSpan: 1, Text: "—", Value: ParseValue("—")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"r":1,"c":2,"rowspan":1,"colspan":1,"text":"—","bbox":[0,0,0,0],"conf":0,"value":null}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
	b, _ = json.Marshal(ParseValue("12.5%"))
	if string(b) != `{"num":12.5,"pct":true,"currency":""}` {
		t.Errorf("value json = %s", b)
	}
	b, _ = json.Marshal(TableResult{Table: Table{NRows: 1, NCols: 1, Cells: []Cell{}}, Engine: Engine{Pipeline: "lattice"}, Warnings: []string{}})
	if string(b) != `{"n_rows":1,"n_cols":1,"header_rows":0,"cells":[],"engine":{"pipeline":"lattice","ocr":"","version":""},"warnings":[]}` {
		t.Errorf("result json = %s", b)
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"(1,234.5)", "12.5%(a)", "$1", "—", "1,234¹"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := ParseValue(s)
		if v != nil && (v.Num == nil || math.IsNaN(*v.Num) || math.IsInf(*v.Num, 0)) {
			t.Fatalf("ParseValue(%q) gave invalid value %+v", s, v)
		}
	})
}

func TestParseValueGroupedStyles(t *testing.T) {
	for in, want := range map[string]float64{
		"1 234": 1234, "1\u00a0234": 1234, "1 234,5": 1234.5, "1.234,5": 1234.5, "−1 234": -1234,
		"12,5": 12.5, "(7,9)": -7.9, "1 234.56": 1234.56, "1,234": 1234, "1.234": 1.234,
	} {
		v := ParseValue(in)
		if v == nil || v.Num == nil || *v.Num != want {
			t.Errorf("ParseValue(%q) = %v, want %v", in, v, want)
		}
	}
	for _, in := range []string{"12 34", "2026 2025", "1 2345", "1.23.4,5"} {
		if v := ParseValue(in); v != nil {
			t.Errorf("ParseValue(%q) = %v, want nil", in, *v.Num)
		}
	}
}

func TestApplyDecimalComma(t *testing.T) {
	mk := func(texts ...string) *Table {
		tb := &Table{}
		for _, s := range texts {
			tb.Cells = append(tb.Cells, Cell{Text: s, Value: ParseValue(s)})
		}
		return tb
	}
	tb := mk("44.847", "82,0%", "Revenue")
	applyDecimalComma(tb)
	if got := *tb.Cells[0].Value.Num; got != 44847 {
		t.Errorf("with a decimal comma elsewhere: 44.847 -> %v, want 44847", got)
	}
	tb = mk("44.847", "82,0%", "12.5")
	applyDecimalComma(tb)
	if got := *tb.Cells[0].Value.Num; got != 44.847 {
		t.Errorf("with a decimal point elsewhere: 44.847 -> %v, want 44.847", got)
	}
}

func TestParseValueMultiDot(t *testing.T) {
	for in, want := range map[string]float64{"886.970.6": 886970.6, "94.412.4": 94412.4, "1.234.567": 1234567} {
		if v := ParseValue(in); v == nil || v.Num == nil || *v.Num != want {
			t.Errorf("ParseValue(%q) = %v, want %v", in, v, want)
		}
	}
}
