package imaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"testing"
)

// Fuzz targets. Plain `go test` runs their seed corpora; run one for real
// with e.g. `go test ./imaging -run '^$' -fuzz FuzzParseBBox -fuzztime 30s`.

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{
		`{"x":0.1,"y":0.2,"width":0.3,"height":0.4}`,
		`{"x0":0.1,"y0":0.2,"x1":0.4,"y1":0.6}`,
		`{"left":0,"top":0,"right":1,"bottom":1}`,
		`{"x":"0.25","y":" 0 ","width":"5e-1","height":true}`,
		`{"x":0.9,"x":0.1,"y":0.2,"width":0.3,"height":0.4}`,
		`{"x":-0.1,"y":2,"width":"nan","height":"inf"}`,
		`{"x":null,"y":[1],"width":{"a":1},"height":1e400}`,
		`{"x":0.1,"y":0.2,"width":0.0002,"height":0.4}`,
		`{"x0":0.3,"y0":0.2,"x1":0.3,"y1":0.4}`,
		`[0.1,0.2]`, `null`, `"s"`, ``, `{`, `{"x":0.1,}`, `{} extra`, `{"\u0000":1}`,
	} {
		f.Add([]byte(s), 3840, 2600)
	}
	f.Fuzz(func(t *testing.T, raw []byte, pageW, pageH int) {
		box, errs := ParseBBox(raw, []any{"body", "user_bbox"}, pageW, pageH)
		if errs != nil {
			if box != (Box{}) {
				t.Errorf("errors with a non-zero box %+v", box)
			}
			if _, err := json.Marshal(errs); err != nil {
				t.Fatalf("errors do not marshal: %v", err)
			}
			for _, e := range errs {
				if e.Type == "" || e.Msg == "" || len(e.Loc) < 2 || e.Loc[0] != "body" || e.Loc[1] != "user_bbox" {
					t.Fatalf("malformed error %+v", e)
				}
			}
			return
		}
		for _, v := range []float64{box.X, box.Y, box.W, box.H} {
			if math.IsNaN(v) || v < 0 || v > 1 {
				t.Fatalf("accepted box %+v has a value outside 0..1", box)
			}
		}
		if box.W <= 0 || box.H <= 0 || box.X+box.W > 1+1e-9 || box.Y+box.H > 1+1e-9 {
			t.Fatalf("accepted box %+v is empty or off the page", box)
		}
		if pageW > 0 && pageH > 0 {
			if r := box.PixelRect(pageW, pageH); r.Empty() || r.Min.X < 0 || r.Max.X > pageW || r.Min.Y < 0 || r.Max.Y > pageH {
				t.Fatalf("accepted box %+v maps to %v on %dx%d", box, r, pageW, pageH)
			}
		}
	})
}

// FuzzInspect is the decode guard: Inspect and Decode must never panic, must
// refuse what the limit refuses before allocating it, and a decoded image
// must have the size Inspect reported.
func FuzzInspect(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(readFixture(f, fx.file))
	}
	f.Add(pngWithHeader(60000, 60000, 6))
	f.Add(pngWithHeader(3, 2, 2))
	f.Add([]byte(`<?xml version="1.0"?><svg width="10" viewBox="0 0 4 2">`))
	f.Add([]byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\x3f\x00\xff\x3f\x00"))
	f.Add(append([]byte("GIF89a"), 0x60, 0xea, 0x60, 0xea, 0x00, 0x00, 0x00, ';'))
	lim := Limits{MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		format, w, h, err := Inspect(b, lim)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrInvalidImage) && !errors.Is(err, ErrTooManyPixels) {
				t.Fatalf("Inspect error outside the taxonomy: %v", err)
			}
			if _, _, derr := Decode(b, lim); derr == nil {
				t.Fatalf("Inspect failed (%v) but Decode succeeded", err)
			}
			return
		}
		if w <= 0 || h <= 0 {
			t.Fatalf("Inspect = %dx%d", w, h)
		}
		if format.IsRaster() && int64(w)*int64(h) > lim.MaxPixels {
			t.Fatalf("Inspect passed %dx%d over the limit", w, h)
		}
		img, f2, err := Decode(b, lim)
		if f2 != format {
			t.Fatalf("Decode format %q, Inspect %q", f2, format)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidImage) && !(format == FormatSVG && errors.Is(err, ErrUnsupported)) {
				t.Fatalf("Decode error outside the taxonomy: %v", err)
			}
			return
		}
		if img.Rect.Dx() != w || img.Rect.Dy() != h || len(img.Pix) != 4*w*h {
			t.Fatalf("decoded %v, Inspect said %dx%d", img.Rect, w, h)
		}
	})
}

// FuzzDecodePNG checks the pipelined PNG decoder against image/png: whatever
// it accepts, image/png accepts, with the same pixels.
func FuzzDecodePNG(f *testing.F) {
	for _, fx := range fixtures {
		if fx.format == FormatPNG {
			f.Add(readFixture(f, fx.file))
		}
	}
	f.Add(pngWithHeader(3, 2, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, w, h, err := Inspect(b, Limits{MaxPixels: 1 << 20}); err != nil || w*h > 1<<20 {
			return
		}
		got, ok := decodePNGFast(b)
		if !ok {
			return
		}
		ref, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("fast decoder accepted what image/png refuses: %v", err)
		}
		if want := nrgbaReference(ref); !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
			t.Fatal("fast decoder pixels differ from image/png")
		}
	})
}
