package core

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseExtent: extend_* form fields. An accepted value is within the
// bounds and is the integer the text spells.
func FuzzParseExtent(f *testing.F) {
	for _, s := range []string{"", "0", "2000", "-2000", "2001", "-2001", `"12"`, " 7 ", "+5", "1e3", "0x10",
		"9223372036854775808", "١٢", "12abc", `""`, "\"-0\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		parts := map[string]*UploadPart{"extend_left": {Data: []byte(v)}}
		n, err := ParseExtent(parts, "extend_left", -2000, 2000)
		if err != nil {
			if !strings.Contains(err.Error(), "extend_left") {
				t.Fatalf("error does not name the field: %v", err)
			}
			return
		}
		if n < -2000 || n > 2000 {
			t.Fatalf("%q accepted as %d", v, n)
		}
		want, aerr := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
		if aerr != nil || want != n {
			t.Fatalf("%q accepted as %d (Atoi: %d, %v)", v, n, want, aerr)
		}
		if n0, err := ParseExtent(map[string]*UploadPart{}, "extend_left", -2000, 2000); n0 != 0 || err != nil {
			t.Fatalf("absent field: %d %v", n0, err)
		}
	})
}
