package imaging

import (
	"encoding/json"
	"testing"
)

var bboxLoc = []any{"body", "user_bbox"}

func TestParseBBoxForms(t *testing.T) {
	cases := []struct {
		raw  string
		want Box
	}{
		{`{"x":0.1,"y":0.2,"width":0.3,"height":0.4}`, Box{0.1, 0.2, 0.3, 0.4}},
		{`{"x0":0.1,"y0":0.2,"x1":0.4,"y1":0.6}`, Box{0.1, 0.2, 0.30000000000000004, 0.39999999999999997}},
		{`{"x0":0.4,"y0":0.6,"x1":0.1,"y1":0.2}`, Box{0.1, 0.2, 0.30000000000000004, 0.39999999999999997}},
		{`{"left":0,"top":0,"right":1,"bottom":1}`, Whole},
		{` {"x":0,"y":0,"width":1,"height":1} `, Whole},
		// pydantic's lax float: numeric strings and booleans are numbers.
		{`{"x":"0.25","y":" 0 ","width":"5e-1","height":true}`, Box{0.25, 0, 0.5, 1}},
		// A repeated key: the last value wins.
		{`{"x":0.9,"x":0.1,"y":0.2,"width":0.3,"height":0.4}`, Box{0.1, 0.2, 0.3, 0.4}},
		// Extra numeric keys are ignored; the fullest convention wins.
		{`{"x":0.1,"y":0.2,"width":0.3,"height":0.4,"x0":0.5,"rotation":0}`, Box{0.1, 0.2, 0.3, 0.4}},
		// x + width over 1 by float rounding only.
		{`{"x":0.7,"y":0.1,"width":0.30000000000000004,"height":0.9}`, Box{0.7, 0.1, 0.30000000000000004, 0.9}},
	}
	for _, c := range cases {
		got, errs := ParseBBox([]byte(c.raw), bboxLoc, 1000, 1000)
		if errs != nil || !boxNear(got, c.want) {
			t.Errorf("ParseBBox(%s) = %+v, %v; want %+v", c.raw, got, errs, c.want)
		}
	}
}

// TestParseBBoxErrors checks every error shape exactly, as the JSON a client
// gets in HTTPValidationError.detail.
func TestParseBBoxErrors(t *testing.T) {
	cases := []struct {
		name         string
		raw          string
		pageW, pageH int
		want         string
	}{
		{"missing field", `{"x":0.1,"y":0.2,"width":0.3}`, 0, 0,
			`[{"loc":["body","user_bbox","height"],"msg":"Field required","type":"missing","input":{"x":0.1,"y":0.2,"width":0.3}}]`},
		{"missing corners", `{"x0":0.1,"y1":0.2}`, 0, 0,
			`[{"loc":["body","user_bbox","y0"],"msg":"Field required","type":"missing","input":{"x0":0.1,"y1":0.2}},` +
				`{"loc":["body","user_bbox","x1"],"msg":"Field required","type":"missing","input":{"x0":0.1,"y1":0.2}}]`},
		{"empty object", `{}`, 0, 0,
			`[{"loc":["body","user_bbox","x"],"msg":"Field required","type":"missing","input":{}},` +
				`{"loc":["body","user_bbox","y"],"msg":"Field required","type":"missing","input":{}},` +
				`{"loc":["body","user_bbox","width"],"msg":"Field required","type":"missing","input":{}},` +
				`{"loc":["body","user_bbox","height"],"msg":"Field required","type":"missing","input":{}}]`},
		{"absent", ``, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Field required","type":"missing","input":null}]`},
		{"string not a number", `{"x":"abc","y":0.2,"width":0.3,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox","x"],"msg":"Input should be a valid number, unable to parse string as a number","type":"float_parsing","input":"abc"}]`},
		{"null, list and object", `{"x":null,"y":[1],"width":{"a":1},"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox","x"],"msg":"Input should be a valid number","type":"float_type","input":null},` +
				`{"loc":["body","user_bbox","y"],"msg":"Input should be a valid number","type":"float_type","input":[1]},` +
				`{"loc":["body","user_bbox","width"],"msg":"Input should be a valid number","type":"float_type","input":{"a":1}}]`},
		{"non-number in an extra key", `{"x":0.1,"y":0.2,"width":0.3,"height":0.4,"label":"fig 1"}`, 0, 0,
			`[{"loc":["body","user_bbox","label"],"msg":"Input should be a valid number, unable to parse string as a number","type":"float_parsing","input":"fig 1"}]`},
		{"below 0", `{"x":-0.1,"y":0.2,"width":0.3,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox","x"],"msg":"Input should be greater than or equal to 0","type":"greater_than_equal","input":-0.1,"ctx":{"ge":0}}]`},
		{"above 1", `{"x":0.1,"y":0.2,"width":1.5,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox","width"],"msg":"Input should be less than or equal to 1","type":"less_than_equal","input":1.5,"ctx":{"le":1}}]`},
		{"several out of range", `{"left":2,"top":-1,"right":0.5,"bottom":"1e400"}`, 0, 0,
			`[{"loc":["body","user_bbox","left"],"msg":"Input should be less than or equal to 1","type":"less_than_equal","input":2,"ctx":{"le":1}},` +
				`{"loc":["body","user_bbox","top"],"msg":"Input should be greater than or equal to 0","type":"greater_than_equal","input":-1,"ctx":{"ge":0}},` +
				`{"loc":["body","user_bbox","bottom"],"msg":"Input should be less than or equal to 1","type":"less_than_equal","input":"1e400","ctx":{"le":1}}]`},
		{"nan", `{"x":"nan","y":0.2,"width":0.3,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox","x"],"msg":"Input should be greater than or equal to 0","type":"greater_than_equal","input":"nan","ctx":{"ge":0}}]`},
		{"zero area", `{"x":0.1,"y":0.2,"width":0,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Value error, bounding box has zero area","type":"value_error","input":{"x":0.1,"y":0.2,"width":0,"height":0.4},"ctx":{"error":"bounding box has zero area"}}]`},
		{"zero area corners", `{"x0":0.3,"y0":0.2,"x1":0.3,"y1":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Value error, bounding box has zero area","type":"value_error","input":{"x0":0.3,"y0":0.2,"x1":0.3,"y1":0.4},"ctx":{"error":"bounding box has zero area"}}]`},
		{"past the right edge", `{"x":0.8,"y":0.2,"width":0.3,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Value error, x + width must be at most 1, got 1.1","type":"value_error","input":{"x":0.8,"y":0.2,"width":0.3,"height":0.4},"ctx":{"error":"x + width must be at most 1, got 1.1"}}]`},
		{"past the bottom edge", `{"x":0.1,"y":0.7,"width":0.3,"height":0.4}`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Value error, y + height must be at most 1, got 1.1","type":"value_error","input":{"x":0.1,"y":0.7,"width":0.3,"height":0.4},"ctx":{"error":"y + height must be at most 1, got 1.1"}}]`},
		{"under 1 px", `{"x":0.1,"y":0.2,"width":0.0002,"height":0.4}`, 3840, 2600,
			`[{"loc":["body","user_bbox"],"msg":"Value error, bounding box is under 1 px on the 3840x2600 source (0.768 x 1040 px)","type":"value_error","input":{"x":0.1,"y":0.2,"width":0.0002,"height":0.4},"ctx":{"error":"bounding box is under 1 px on the 3840x2600 source (0.768 x 1040 px)"}}]`},
		{"not an object", `[0.1,0.2,0.3,0.4]`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Input should be a valid dictionary","type":"dict_type","input":[0.1,0.2,0.3,0.4]}]`},
		{"null", `null`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Input should be a valid dictionary","type":"dict_type","input":null}]`},
		{"a string", `"0,0,1,1"`, 0, 0,
			`[{"loc":["body","user_bbox"],"msg":"Input should be a valid dictionary","type":"dict_type","input":"0,0,1,1"}]`},
	}
	for _, c := range cases {
		box, errs := ParseBBox([]byte(c.raw), bboxLoc, c.pageW, c.pageH)
		if errs == nil {
			t.Errorf("%s: no error, got box %+v", c.name, box)
			continue
		}
		got, err := json.Marshal(errs)
		if err != nil {
			t.Fatalf("%s: marshal: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	// Without a page size the 1 px check is skipped.
	if _, errs := ParseBBox([]byte(`{"x":0.1,"y":0.2,"width":0.0002,"height":0.4}`), bboxLoc, 0, 0); errs != nil {
		t.Errorf("1 px check without a page: %v", errs)
	}
	// Invalid JSON is reported, not a panic.
	_, errs := ParseBBox([]byte(`{"x":0.1,`), bboxLoc, 0, 0)
	if len(errs) != 1 || errs[0].Type != "json_invalid" {
		t.Errorf("invalid JSON: %+v", errs)
	}
	// The prefix is copied, not aliased.
	prefix := make([]any, 2, 10)
	copy(prefix, bboxLoc)
	_, errs = ParseBBox([]byte(`{}`), prefix, 0, 0)
	if errs[0].Loc[2] != "x" || errs[1].Loc[2] != "y" {
		t.Errorf("loc aliasing: %v %v", errs[0].Loc, errs[1].Loc)
	}
}
