package server

// End-to-end tests of the deal-canvas re-crop (issue 4) over a real port:
// versioned PNGs cut from a real full-page render, the diff summary, every
// validation error's shape, live delivery to websocket viewers and NDJSON
// streams, concurrency and persistence across a restart.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/coder/websocket"
)

// recropPageW x recropPageH is the page render every test crops from.
const recropPageW, recropPageH = 1000, 800

// recropPageColor encodes a pixel's position in its colour, so any crop can
// be checked pixel by pixel: R and G are the low bytes of x and y, B holds
// their high bits.
func recropPageColor(x, y int) [4]uint8 {
	return [4]uint8{uint8(x), uint8(y), uint8((x>>8)<<4 | (y >> 8)), 255}
}

// recropPage is the PNG of the 1000x800 page render.
func recropPage(t testing.TB) []byte {
	t.Helper()
	return memoImage(t, "recrop page", func(buf *bytes.Buffer) error {
		img := image.NewNRGBA(image.Rect(0, 0, recropPageW, recropPageH))
		for y := 0; y < recropPageH; y++ {
			for x := 0; x < recropPageW; x++ {
				c := recropPageColor(x, y)
				copy(img.Pix[y*img.Stride+4*x:], c[:])
			}
		}
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(buf, img)
	})
}

// checkRegion decodes a PNG and fails unless it is exactly the page region r.
func checkRegion(t testing.TB, what string, data []byte, r image.Rectangle) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: decode PNG: %v", what, err)
	}
	b := img.Bounds()
	if b.Dx() != r.Dx() || b.Dy() != r.Dy() {
		t.Fatalf("%s: size %dx%d, want %dx%d (region %v)", what, b.Dx(), b.Dy(), r.Dx(), r.Dy(), r)
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			cr, cg, cb, ca := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			got := [4]uint8{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), uint8(ca >> 8)}
			if want := recropPageColor(r.Min.X+x, r.Min.Y+y); got != want {
				t.Fatalf("%s: pixel (%d,%d) is %v, want page pixel (%d,%d) = %v", what, x, y, got, r.Min.X+x, r.Min.Y+y, want)
			}
		}
	}
}

// recropFixture is a canvas with an owner and an image element cut by the
// server from the page render.
type recropFixture struct {
	e     *testEnv
	owner testUser
	cv    testCanvas
	id    string // element id
}

func bearer(tok string) reqOption { return withHeader("Authorization", "Bearer "+tok) }

func (f *recropFixture) deal(suffix string) string {
	return "/api/canvas/" + f.cv.ID + "/images/" + f.id + suffix
}

// newRecropFixture uploads the page render as `source` with crop_bbox
// {0.1, 0.2, 0.4, 0.3}: version 0 is pixels x 100..500, y 160..400 (400x240).
func newRecropFixture(t *testing.T) *recropFixture {
	t.Helper()
	e := newTestEnv(t)
	owner := e.createUser("owner", false)
	cv := e.createCanvas(owner.Token, "deal")
	r := e.upload(cv.path("/images"), owner.Token,
		testPart{Name: "source", Filename: "page-1.png", ContentType: "image/png", Data: recropPage(t)},
		testPart{Name: "json", Data: []byte(`{"crop_bbox": {"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.3}}`)})
	w := r.expect(t, 200).obj(t)
	return &recropFixture{e: e, owner: owner, cv: cv, id: w.id()}
}

func (f *recropFixture) recrop(t testing.TB, tok string, body any) *testResp {
	t.Helper()
	return f.e.doJSON("POST", f.deal("/recrop"), "", body, bearer(tok))
}

type recropResult struct {
	VersionedURL string          `json:"versioned_url"`
	Version      int             `json:"version"`
	ElementID    string          `json:"element_id"`
	DiffSummary  json.RawMessage `json:"diff_summary"`
}

type diffSummary struct {
	IoU           float64 `json:"iou_with_original"`
	AreaDeltaPct  float64 `json:"area_delta_pct"`
	Hint          string  `json:"hint"`
	IsSignificant bool    `json:"is_significant"`
}

func (f *recropFixture) mustRecrop(t testing.TB, body any) (recropResult, *diffSummary) {
	t.Helper()
	r := f.recrop(t, f.owner.Token, body)
	if r.Status != 200 {
		t.Fatalf("recrop: %s", r)
	}
	var out recropResult
	r.decode(t, &out)
	var keys map[string]json.RawMessage
	r.decode(t, &keys)
	for _, k := range []string{"versioned_url", "version", "element_id", "diff_summary"} {
		if _, ok := keys[k]; !ok {
			t.Fatalf("recrop response lacks %q: %s", k, r.Body)
		}
	}
	if string(out.DiffSummary) == "null" {
		return out, nil
	}
	var d diffSummary
	if err := json.Unmarshal(out.DiffSummary, &d); err != nil {
		t.Fatalf("diff_summary %s: %v", out.DiffSummary, err)
	}
	return out, &d
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestRecropVersionsPixelsDiffAndCaching covers acceptance items 1 and 2.
func TestRecropVersionsPixelsDiffAndCaching(t *testing.T) {
	f := newRecropFixture(t)
	e := f.e
	get := func(path string, opts ...reqOption) *testResp {
		return e.do("GET", path, "", nil, "", append([]reqOption{bearer(f.owner.Token)}, opts...)...)
	}

	// Version 0: the server's own crop of the source, 400x240.
	v0 := get(f.deal("/versions/0.png")).expect(t, 200)
	checkRegion(t, "version 0", v0.Body, image.Rect(100, 160, 500, 400))
	src := get(f.deal("/source")).expect(t, 200)
	if !bytes.Equal(src.Body, recropPage(t)) {
		t.Fatalf("source: %d bytes differ from the uploaded render", len(src.Body))
	}

	// The original box O = {x 0.1, y 0.2, w 0.4, h 0.3}: edges left 0.1,
	// right 0.5, top 0.2, bottom 0.5; area 0.4*0.3 = 0.12.
	cases := []struct {
		body    map[string]any
		region  image.Rectangle
		iou     float64
		delta   float64
		sig     bool
		hintHas []string
	}{{
		// v1, {x, y, width, height}: only the bottom edge moves, 0.5 -> 0.524.
		// Pixels: x 0.1*1000=100 .. 0.5*1000=500; y 0.2*800=160 ..
		// ceil(0.524*800=419.2)=420 -> 400x260.
		// Area 0.4*0.324 = 0.1296; intersection = O = 0.12; union 0.1296.
		// IoU = 0.12/0.1296 = 0.925925... -> 0.9259.
		// area_delta = (0.1296-0.12)/0.12*100 = 8.00.
		// Not significant: IoU 0.926 >= 0.9 and |8| <= 10.
		body:   map[string]any{"user_bbox": map[string]any{"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.324}},
		region: image.Rect(100, 160, 500, 420),
		iou:    0.9259, delta: 8, sig: false,
		hintHas: []string{"Extended the bottom edge by 2.4% of the page height"},
	}, {
		// v2, {x0, y0, x1, y1}: 0.05..0.55 by 0.1..0.6 contains O.
		// Pixels: x 50..550, y 80..480 -> 500x400.
		// Area 0.5*0.5 = 0.25; intersection = O = 0.12; union 0.25.
		// IoU = 0.12/0.25 = 0.48; area_delta = (0.25-0.12)/0.12*100 = 108.33.
		// Left -0.05, right +0.05 (width); top -0.1, bottom +0.1 (height).
		body:   map[string]any{"user_bbox": map[string]any{"x0": 0.05, "y0": 0.1, "x1": 0.55, "y1": 0.6}, "bbox_mode": "freeform"},
		region: image.Rect(50, 80, 550, 480),
		iou:    0.48, delta: 108.33, sig: true,
		hintHas: []string{"top and bottom edges by 10% of the page height", "left and right edges by 5% of the page width"},
	}, {
		// v3, {left, top, right, bottom}: O shifted right by 0.2004 and down
		// by 0.1502, same size. Pixels: floor(300.4)=300 .. ceil(700.4)=701;
		// floor(0.3502*800=280.16)=280 .. ceil(0.6502*800=520.16)=521 -> 401x241.
		// Intersection: x 0.3004..0.5 = 0.1996, y 0.3502..0.5 = 0.1498,
		// 0.1996*0.1498 = 0.02990008. Union = 0.12+0.12-0.02990008 = 0.21009992.
		// IoU = 0.02990008/0.21009992 = 0.142313... -> 0.1423. area_delta = 0.
		// Significant by IoU alone.
		body:   map[string]any{"user_bbox": map[string]any{"left": 0.3004, "top": 0.3502, "right": 0.7004, "bottom": 0.6502}},
		region: image.Rect(300, 280, 701, 521),
		iou:    0.1423, delta: 0, sig: true,
		hintHas: []string{"Moved the crop right by 20% of the page width", "moved the crop down by 15% of the page height"},
	}}
	var urls []string
	for i, c := range cases {
		res, d := f.mustRecrop(t, c.body)
		want := fmt.Sprintf("/api/canvas/%s/images/%s/versions/%d.png", f.cv.ID, f.id, i+1)
		if res.Version != i+1 || res.VersionedURL != want || res.ElementID != f.id {
			t.Fatalf("recrop %d: %+v, want version %d at %s", i+1, res, i+1, want)
		}
		if d == nil {
			t.Fatalf("recrop %d: diff_summary is null for an element with a source render", i+1)
		}
		if !near(d.IoU, c.iou, 1e-9) || !near(d.AreaDeltaPct, c.delta, 1e-9) || d.IsSignificant != c.sig {
			t.Errorf("recrop %d: diff %+v, want iou %v delta %v significant %v", i+1, *d, c.iou, c.delta, c.sig)
		}
		for _, h := range c.hintHas {
			if !strings.Contains(d.Hint, h) {
				t.Errorf("recrop %d: hint %q lacks %q", i+1, d.Hint, h)
			}
		}
		urls = append(urls, res.VersionedURL)
	}

	// Each version's bytes are exactly the region, and stay so after later
	// versions were made.
	var v3 []byte
	for i, u := range urls {
		r := get(u).expect(t, 200)
		if ct := r.Header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("%s: content-type %q", u, ct)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "private, max-age=157680000, immutable" {
			t.Errorf("%s: cache-control %q", u, cc)
		}
		etag := r.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", u)
		}
		checkRegion(t, u, r.Body, cases[i].region)
		nm := get(u, withHeader("If-None-Match", etag))
		if nm.Status != http.StatusNotModified || len(nm.Body) != 0 {
			t.Errorf("%s with If-None-Match: %d %d bytes, want 304 and no body", u, nm.Status, len(nm.Body))
		}
		v3 = r.Body
	}
	// Without the bearer token a versioned URL is not served.
	if r := e.do("GET", urls[0], "", nil, ""); r.Status != 401 {
		t.Errorf("anonymous version download: %s, want 401", r)
	}

	// The Canvus download returns the current version's bytes.
	dl := e.do("GET", f.cv.path("/images/"+f.id+"/download"), f.owner.Token, nil, "").expect(t, 200)
	if !bytes.Equal(dl.Body, v3) {
		t.Errorf("Canvus download: %d bytes, want version 3's %d bytes", len(dl.Body), len(v3))
	}
	wg := e.mustJSON("GET", f.cv.path("/images/"+f.id), f.owner.Token, nil, 200)
	size := wg.obj("size")
	// The displayed width (400, from version 0) is kept, the height follows 401x241.
	if size.num("width") != 400 || !near(size.num("height"), 400*241.0/401, 1e-4) {
		t.Errorf("widget size %v, want width 400 and height %v", size, 400*241.0/401)
	}

	// The versions list: bbox, time and author of each.
	var list struct {
		ElementID      string `json:"element_id"`
		CurrentVersion int    `json:"current_version"`
		Source         struct {
			Width, Height int
		} `json:"source"`
		Versions []struct {
			Version      int                `json:"version"`
			Kind         string             `json:"kind"`
			BBox         map[string]float64 `json:"bbox"`
			Width        int                `json:"width"`
			Height       int                `json:"height"`
			CreatedAt    string             `json:"created_at"`
			Author       string             `json:"author"`
			AuthorID     uint64             `json:"author_id"`
			VersionedURL string             `json:"versioned_url"`
		} `json:"versions"`
	}
	get(f.deal("/versions")).expect(t, 200).decode(t, &list)
	if list.ElementID != f.id || list.CurrentVersion != 3 || len(list.Versions) != 4 ||
		list.Source.Width != recropPageW || list.Source.Height != recropPageH {
		t.Fatalf("versions list: %+v", list)
	}
	wantBoxes := []map[string]float64{
		{"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.3},
		{"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.324},
		{"x": 0.05, "y": 0.1, "width": 0.5, "height": 0.5},
		{"x": 0.3004, "y": 0.3502, "width": 0.4, "height": 0.3},
	}
	regions := []image.Rectangle{image.Rect(100, 160, 500, 400), cases[0].region, cases[1].region, cases[2].region}
	for i, v := range list.Versions {
		if v.Version != i || v.Author != f.owner.Name || v.AuthorID != f.owner.ID || v.VersionedURL != core.VersionedURL(f.cv.ID, f.id, i) {
			t.Errorf("version %d: %+v", i, v)
		}
		if _, err := time.Parse(time.RFC3339Nano, v.CreatedAt); err != nil {
			t.Errorf("version %d: created_at %q: %v", i, v.CreatedAt, err)
		}
		if v.Width != regions[i].Dx() || v.Height != regions[i].Dy() {
			t.Errorf("version %d: %dx%d, want %v", i, v.Width, v.Height, regions[i])
		}
		for k, want := range wantBoxes[i] {
			if !near(v.BBox[k], want, 1e-9) {
				t.Errorf("version %d: bbox %v, want %v", i, v.BBox, wantBoxes[i])
				break
			}
		}
	}
	if get(f.deal("/versions/4.png")).Status != 404 || get(f.deal("/versions/x.png")).Status != 404 {
		t.Error("a version that does not exist is not 404")
	}
}

// TestRecropDiffNullWithoutSource: an image uploaded with only `data` has no
// distinct source, so diff_summary is null; its whole-image crop still works.
func TestRecropDiffNullWithoutSource(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner", false)
	cv := e.createCanvas(u.Token, "deal")
	w := e.uploadImage(u.Token, cv, "page.png", recropPage(t), "").expect(t, 200).obj(t)
	f := &recropFixture{e: e, owner: u, cv: cv, id: w.id()}
	res, d := f.mustRecrop(t, map[string]any{"user_bbox": map[string]any{"x": 0.25, "y": 0.5, "width": 0.5, "height": 0.25}})
	if d != nil || string(res.DiffSummary) != "null" || res.Version != 1 {
		t.Fatalf("data-only element: %+v, want version 1 and diff_summary null", res)
	}
	r := e.do("GET", res.VersionedURL, "", nil, "", bearer(u.Token)).expect(t, 200)
	checkRegion(t, "data-only recrop", r.Body, image.Rect(250, 400, 750, 600))
	// Data plus a distinct source: the diff is against the declared crop_bbox.
	r2 := e.upload(cv.path("/images"), u.Token,
		testPart{Name: "data", Filename: "crop.png", Data: testPNG(t, 400, 240)},
		testPart{Name: "source", Filename: "page.png", Data: recropPage(t)},
		testPart{Name: "json", Data: []byte(`{"crop_bbox": {"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.3}}`)}).expect(t, 200).obj(t)
	f2 := &recropFixture{e: e, owner: u, cv: cv, id: r2.id()}
	// Same box as the original: IoU 1, delta 0, not significant.
	_, d2 := f2.mustRecrop(t, map[string]any{"user_bbox": map[string]any{"x": 0.1, "y": 0.2, "width": 0.4, "height": 0.3}})
	if d2 == nil || d2.IoU != 1 || d2.AreaDeltaPct != 0 || d2.IsSignificant {
		t.Fatalf("unchanged box: diff %+v, want iou 1, delta 0, not significant", d2)
	}
	// Trimmed right edge 0.5 -> 0.42 (width 0.32): area 0.32*0.3 = 0.096,
	// intersection 0.096, union 0.12 -> IoU 0.8; delta (0.096-0.12)/0.12 = -20%.
	_, d3 := f2.mustRecrop(t, map[string]any{"user_bbox": map[string]any{"x": 0.1, "y": 0.2, "width": 0.32, "height": 0.3}})
	if d3 == nil || !near(d3.IoU, 0.8, 1e-9) || !near(d3.AreaDeltaPct, -20, 1e-9) || !d3.IsSignificant ||
		!strings.Contains(d3.Hint, "Trimmed the right edge by 8% of the page width") {
		t.Fatalf("trimmed right edge: diff %+v", d3)
	}
}

// TestRecropAspectLocked: aspect_locked grows the box to the original crop's
// aspect (400x240 = 5:3), within 1 px, and keeps it on the page.
func TestRecropAspectLocked(t *testing.T) {
	f := newRecropFixture(t)
	for _, b := range []map[string]any{
		{"x": 0.4, "y": 0.4, "width": 0.1, "height": 0.3},   // 100x240 px: grows wide about its centre
		{"x": 0.9, "y": 0.1, "width": 0.1, "height": 0.5},   // grows past the right edge: shifted back
		{"x": 0.0, "y": 0.0, "width": 0.2, "height": 1.0},   // needs more than the page width: shrunk
		{"x": 0.2, "y": 0.45, "width": 0.6, "height": 0.05}, // wide and flat: grows tall
	} {
		res, _ := f.mustRecrop(t, map[string]any{"user_bbox": b, "bbox_mode": "aspect_locked"})
		r := f.e.do("GET", res.VersionedURL, "", nil, "", bearer(f.owner.Token)).expect(t, 200)
		cfg, err := png.DecodeConfig(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(cfg.Width)-float64(cfg.Height)*400/240) > 1+400.0/240 || math.Abs(float64(cfg.Width)*240/400-float64(cfg.Height)) > 1 {
			t.Errorf("box %v: %dx%d is not 5:3 within 1 px", b, cfg.Width, cfg.Height)
		}
		if cfg.Width > recropPageW || cfg.Height > recropPageH {
			t.Errorf("box %v: %dx%d larger than the page", b, cfg.Width, cfg.Height)
		}
		var list struct {
			Versions []struct{ BBox map[string]float64 } `json:"versions"`
		}
		f.e.do("GET", f.deal("/versions"), "", nil, "", bearer(f.owner.Token)).expect(t, 200).decode(t, &list)
		bb := list.Versions[res.Version].BBox
		if bb["x"] < 0 || bb["y"] < 0 || bb["x"]+bb["width"] > 1+1e-9 || bb["y"]+bb["height"] > 1+1e-9 {
			t.Errorf("box %v: stored bbox %v leaves the page", b, bb)
		}
		// The pixels are the region of the stored box.
		x0, y0 := int(math.Floor(bb["x"]*recropPageW+1e-6)), int(math.Floor(bb["y"]*recropPageH+1e-6))
		checkRegion(t, fmt.Sprintf("aspect-locked %v", b), r.Body, image.Rect(x0, y0, x0+cfg.Width, y0+cfg.Height))
		// The user's centre is kept unless the page edge forced a shift.
		cx, cy := b["x"].(float64)+b["width"].(float64)/2, b["y"].(float64)+b["height"].(float64)/2
		if bb["x"] > 0 && bb["x"]+bb["width"] < 1-1e-9 && !near(bb["x"]+bb["width"]/2, cx, 1e-9) {
			t.Errorf("box %v: centre x moved to %v", b, bb["x"]+bb["width"]/2)
		}
		if bb["y"] > 0 && bb["y"]+bb["height"] < 1-1e-9 && !near(bb["y"]+bb["height"]/2, cy, 1e-9) {
			t.Errorf("box %v: centre y moved to %v", b, bb["y"]+bb["height"]/2)
		}
	}
}

// TestRecropValidationErrors checks every error's exact body.
func TestRecropValidationErrors(t *testing.T) {
	f := newRecropFixture(t)
	e := f.e
	type item = map[string]any
	box := func(kv ...any) map[string]any {
		m := map[string]any{"x": 0.1, "y": 0.1, "width": 0.2, "height": 0.2}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		body any
		want []item
	}{
		{"missing user_bbox", `{"bbox_mode":"freeform"}`, []item{{"loc": []any{"body", "user_bbox"}, "msg": "Field required", "type": "missing",
			"input": item{"bbox_mode": "freeform"}}}},
		{"non-number string", item{"user_bbox": box("x", "abc")}, []item{{"loc": []any{"body", "user_bbox", "x"},
			"msg": "Input should be a valid number, unable to parse string as a number", "type": "float_parsing", "input": "abc"}}},
		// Errors come in the body's key order.
		{"non-number null and list", `{"user_bbox": {"x": 0.1, "y": 0.1, "width": null, "height": [1]}}`, []item{
			{"loc": []any{"body", "user_bbox", "width"}, "msg": "Input should be a valid number", "type": "float_type", "input": nil},
			{"loc": []any{"body", "user_bbox", "height"}, "msg": "Input should be a valid number", "type": "float_type", "input": []any{1.0}}}},
		{"above 1", item{"user_bbox": box("width", 1.5)}, []item{{"loc": []any{"body", "user_bbox", "width"},
			"msg": "Input should be less than or equal to 1", "type": "less_than_equal", "input": 1.5, "ctx": item{"le": 1.0}}}},
		{"below 0", item{"user_bbox": box("y", -0.1)}, []item{{"loc": []any{"body", "user_bbox", "y"},
			"msg": "Input should be greater than or equal to 0", "type": "greater_than_equal", "input": -0.1, "ctx": item{"ge": 0.0}}}},
		{"zero area", item{"user_bbox": box("height", 0)}, []item{{"loc": []any{"body", "user_bbox"},
			"msg": "Value error, bounding box has zero area", "type": "value_error",
			"input": box("height", 0.0), "ctx": item{"error": "bounding box has zero area"}}}},
		{"zero area corners", item{"user_bbox": item{"x0": 0.3, "y0": 0.1, "x1": 0.3, "y1": 0.5}}, []item{{"loc": []any{"body", "user_bbox"},
			"msg": "Value error, bounding box has zero area", "type": "value_error",
			"input": item{"x0": 0.3, "y0": 0.1, "x1": 0.3, "y1": 0.5}, "ctx": item{"error": "bounding box has zero area"}}}},
		{"under 1 px", item{"user_bbox": box("width", 0.0005)}, []item{{"loc": []any{"body", "user_bbox"},
			"msg": "Value error, bounding box is under 1 px on the 1000x800 source (0.5 x 160 px)", "type": "value_error",
			"input": box("width", 0.0005), "ctx": item{"error": "bounding box is under 1 px on the 1000x800 source (0.5 x 160 px)"}}}},
		{"past the page edge", item{"user_bbox": box("x", 0.9)}, []item{{"loc": []any{"body", "user_bbox"},
			"msg": "Value error, x + width must be at most 1, got 1.1", "type": "value_error",
			"input": box("x", 0.9), "ctx": item{"error": "x + width must be at most 1, got 1.1"}}}},
		{"missing key", item{"user_bbox": item{"x": 0.1, "y": 0.1, "width": 0.2}}, []item{{"loc": []any{"body", "user_bbox", "height"},
			"msg": "Field required", "type": "missing", "input": item{"x": 0.1, "y": 0.1, "width": 0.2}}}},
		{"unknown bbox_mode", item{"user_bbox": box(), "bbox_mode": "rotated"}, []item{{"loc": []any{"body", "bbox_mode"},
			"msg": "Input should be 'freeform' or 'aspect_locked'", "type": "literal_error", "input": "rotated",
			"ctx": item{"expected": "'freeform' or 'aspect_locked'"}}}},
		{"not an object", item{"user_bbox": []any{0.1, 0.1, 0.2, 0.2}}, []item{{"loc": []any{"body", "user_bbox"},
			"msg": "Input should be a valid dictionary", "type": "dict_type", "input": []any{0.1, 0.1, 0.2, 0.2}}}},
	}
	for _, c := range cases {
		r := f.recrop(t, f.owner.Token, c.body)
		if r.Status != 422 {
			t.Errorf("%s: %s, want 422", c.name, r)
			continue
		}
		var got map[string]any
		r.decode(t, &got)
		want := map[string]any{"detail": c.want}
		// Normalise want through JSON so numbers compare as float64.
		wb, _ := json.Marshal(want)
		var wantN map[string]any
		json.Unmarshal(wb, &wantN)
		if !reflect.DeepEqual(got, wantN) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, r.Body, wb)
		}
	}

	// Invalid JSON: one json_invalid entry at ["body", 0] with ctx.error.
	r := f.recrop(t, f.owner.Token, `{"user_bbox": {"x": 0.1,`)
	var inv struct {
		Detail []struct {
			Loc   []any          `json:"loc"`
			Msg   string         `json:"msg"`
			Type  string         `json:"type"`
			Input map[string]any `json:"input"`
			Ctx   map[string]any `json:"ctx"`
		} `json:"detail"`
	}
	if r.Status != 422 {
		t.Fatalf("invalid JSON: %s", r)
	}
	r.decode(t, &inv)
	if len(inv.Detail) != 1 || !reflect.DeepEqual(inv.Detail[0].Loc, []any{"body", 0.0}) || inv.Detail[0].Msg != "JSON decode error" ||
		inv.Detail[0].Type != "json_invalid" || inv.Detail[0].Input == nil || len(inv.Detail[0].Input) != 0 || inv.Detail[0].Ctx["error"] == "" {
		t.Errorf("invalid JSON: %s", r.Body)
	}

	detail := func(r *testResp, status int, msg string) {
		t.Helper()
		if r.Status != status {
			t.Errorf("%s: want %d", r, status)
			return
		}
		var m map[string]any
		r.decode(t, &m)
		if len(m) != 1 || m["detail"] != msg {
			t.Errorf("%s: want {\"detail\": %q}", r, msg)
		}
	}
	ok := map[string]any{"user_bbox": box()}
	// 401 without a token and with a bad one.
	r = e.doJSON("POST", f.deal("/recrop"), "", ok)
	detail(r, 401, "Not authenticated")
	if r.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("401 without WWW-Authenticate: Bearer: %v", r.Header)
	}
	detail(f.recrop(t, "not-a-real-token", ok), 401, "Invalid or expired token")
	// 403 for a view-only user; an outsider is refused too.
	viewer := e.createUser("viewer", false)
	e.share(f.owner.Token, f.cv, viewer.ID, "view")
	detail(f.recrop(t, viewer.Token, ok), 403, "Permission denied: edit access required")
	// ... but the viewer may read the versions (same read rights as the canvas).
	e.do("GET", f.deal("/versions/0.png"), "", nil, "", bearer(viewer.Token)).expect(t, 200)
	outsider := e.createUser("outsider", false)
	detail(f.recrop(t, outsider.Token, ok), 403, "Permission denied")
	// 404 for an unknown canvas and an unknown element.
	detail(e.doJSON("POST", "/api/canvas/no-such-canvas/images/"+f.id+"/recrop", "", ok, bearer(f.owner.Token)), 404, "Canvas not found")
	detail(e.doJSON("POST", "/api/canvas/"+f.cv.ID+"/images/no-such-element/recrop", "", ok, bearer(f.owner.Token)), 404, "Element not found")
	note := e.createNote(f.owner.Token, f.cv, nil)
	detail(e.doJSON("POST", "/api/canvas/"+f.cv.ID+"/images/"+note.id()+"/recrop", "", ok, bearer(f.owner.Token)), 404, "Element not found")

	// An SVG element: 422 with a clear message.
	svg := e.uploadImage(f.owner.Token, f.cv, "logo.svg", testSVG(120, 80), "").expect(t, 200).obj(t)
	r = e.doJSON("POST", "/api/canvas/"+f.cv.ID+"/images/"+svg.id()+"/recrop", "", ok, bearer(f.owner.Token))
	var sv struct {
		Detail []map[string]any `json:"detail"`
	}
	if r.Status != 422 {
		t.Fatalf("SVG: %s, want 422", r)
	}
	r.decode(t, &sv)
	if len(sv.Detail) != 1 || sv.Detail[0]["type"] != "value_error" || !strings.Contains(fmt.Sprint(sv.Detail[0]["msg"]), "SVG") ||
		!reflect.DeepEqual(sv.Detail[0]["loc"], []any{"path", "element_id"}) || sv.Detail[0]["input"] != svg.id() {
		t.Errorf("SVG: %s", r.Body)
	}

	// None of the refused requests made a version.
	var list struct {
		CurrentVersion int `json:"current_version"`
	}
	e.do("GET", f.deal("/versions"), "", nil, "", bearer(f.owner.Token)).expect(t, 200).decode(t, &list)
	if list.CurrentVersion != 0 {
		t.Errorf("after refused recrops the current version is %d, want 0", list.CurrentVersion)
	}
}

// TestRecropLiveViewers: a websocket viewer gets IMAGE_RECROPPED and an
// NDJSON stream the updated widget.
func TestRecropLiveViewers(t *testing.T) {
	f := newRecropFixture(t)
	e := f.e
	oldHash := e.waitImageHash(f.owner.Token, f.cv, f.id)
	viewer := e.createUser("viewer", false)
	e.share(f.owner.Token, f.cv, viewer.ID, "view")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.URL, "http") + f.cv.path("/ws")
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Private-Token": {viewer.Token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(8 << 20)
	read := func() map[string]any {
		t.Helper()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("ws read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("ws decode %s: %v", data, err)
		}
		return m
	}
	if m := read(); m["type"] != "HELLO" {
		t.Fatalf("first ws message %v, want HELLO", m)
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+f.cv.path("/images?subscribe"), nil)
	req.Header.Set("Private-Token", viewer.Token)
	resp, err := e.Client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", err, resp)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	if !lines.Scan() {
		t.Fatalf("no NDJSON snapshot: %v", lines.Err())
	}

	// {x0..x1} 0.2..0.8 by 0.25..0.5: pixels 200..800 x 200..400 -> 600x200.
	bbox := map[string]any{"x0": 0.2, "y0": 0.25, "x1": 0.8, "y1": 0.5}
	res, d := f.mustRecrop(t, map[string]any{"user_bbox": bbox})

	var ev map[string]any
	for ev == nil {
		if m := read(); m["type"] == "IMAGE_RECROPPED" {
			ev = m
		}
	}
	if ev["element_id"] != f.id || ev["version"] != 1.0 || ev["versioned_url"] != res.VersionedURL {
		t.Errorf("IMAGE_RECROPPED: %v", ev)
	}
	ub, _ := ev["user_bbox"].(map[string]any)
	if !near(ub["x"].(float64), 0.2, 1e-9) || !near(ub["y"].(float64), 0.25, 1e-9) ||
		!near(ub["width"].(float64), 0.6, 1e-9) || !near(ub["height"].(float64), 0.25, 1e-9) {
		t.Errorf("IMAGE_RECROPPED user_bbox %v", ub)
	}
	evDiffJSON, _ := json.Marshal(ev["diff_summary"])
	var evDiff diffSummary
	json.Unmarshal(evDiffJSON, &evDiff)
	if d == nil || evDiff != *d {
		t.Errorf("IMAGE_RECROPPED diff_summary %s, want the response's %+v", evDiffJSON, d)
	}
	widget, _ := ev["widget"].(map[string]any)
	newHash, _ := widget["hash"].(string)
	if widget["id"] != f.id || newHash == "" || newHash == oldHash {
		t.Fatalf("IMAGE_RECROPPED widget %v: hash %q (was %q)", widget, newHash, oldHash)
	}
	// The displayed width 400 is kept; the height follows 600x200: 400/3.
	size, _ := widget["size"].(map[string]any)
	if size["width"] != 400.0 || !near(size["height"].(float64), 400.0/3, 1e-4) {
		t.Errorf("IMAGE_RECROPPED widget size %v, want 400 x 133.33", size)
	}

	var line map[string]any
	for line == nil && lines.Scan() {
		var w map[string]any
		if json.Unmarshal(lines.Bytes(), &w) != nil || w["id"] != f.id {
			continue
		}
		if w["hash"] == newHash {
			line = w
		}
	}
	if line == nil {
		t.Fatalf("NDJSON stream ended without the updated widget: %v", lines.Err())
	}
	if !reflect.DeepEqual(line["size"], widget["size"]) {
		t.Errorf("NDJSON widget size %v, websocket %v", line["size"], widget["size"])
	}
	r := e.do("GET", res.VersionedURL, "", nil, "", bearer(viewer.Token)).expect(t, 200)
	checkRegion(t, "live recrop", r.Body, image.Rect(200, 200, 800, 400))
}

// TestRecropConcurrentAndRestart: concurrent recrops of one element get
// distinct consecutive versions, and every version survives a restart.
func TestRecropConcurrentAndRestart(t *testing.T) {
	f := newRecropFixture(t)
	e := f.e
	const n = 8
	regions := make([]image.Rectangle, n)
	versions := make([]int, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		// Box i: x 0.05*i .. 0.05*i+0.3, y 0.1 .. 0.4 -> pixels 50i..50i+300, 80..320.
		regions[i] = image.Rect(50*i, 80, 50*i+300, 320)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"user_bbox": map[string]any{"x": 0.05 * float64(i), "y": 0.1, "width": 0.3, "height": 0.3}})
			req, _ := http.NewRequest("POST", e.URL+f.deal("/recrop"), bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+f.owner.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.Client.Do(req)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var out recropResult
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
				errs[i] = fmt.Sprintf("status %d: %v", resp.StatusCode, err)
				return
			}
			versions[i] = out.Version
		}(i)
	}
	wg.Wait()
	seen := map[int]int{}
	for i := 0; i < n; i++ {
		if errs[i] != "" {
			t.Fatalf("recrop %d: %s", i, errs[i])
		}
		if j, dup := seen[versions[i]]; dup {
			t.Fatalf("recrops %d and %d both got version %d", j, i, versions[i])
		}
		seen[versions[i]] = i
	}
	for v := 1; v <= n; v++ {
		if _, ok := seen[v]; !ok {
			t.Fatalf("versions %v are not 1..%d", versions, n)
		}
	}
	before := map[int][]byte{}
	for i := 0; i < n; i++ {
		r := e.do("GET", core.VersionedURL(f.cv.ID, f.id, versions[i]), "", nil, "", bearer(f.owner.Token)).expect(t, 200)
		checkRegion(t, fmt.Sprintf("concurrent recrop %d (version %d)", i, versions[i]), r.Body, regions[i])
		before[versions[i]] = r.Body
	}
	before[0] = e.do("GET", f.deal("/versions/0.png"), "", nil, "", bearer(f.owner.Token)).expect(t, 200).Body
	cur := e.do("GET", f.cv.path("/images/"+f.id+"/download"), f.owner.Token, nil, "").expect(t, 200).Body
	if !bytes.Equal(cur, before[n]) {
		t.Errorf("download before restart is not version %d", n)
	}

	e.Restart()
	for v := 0; v <= n; v++ {
		r := e.do("GET", core.VersionedURL(f.cv.ID, f.id, v), "", nil, "", bearer(f.owner.Token)).expect(t, 200)
		if !bytes.Equal(r.Body, before[v]) {
			t.Errorf("version %d after restart: %d bytes differ from the %d before", v, len(r.Body), len(before[v]))
		}
	}
	var list struct {
		CurrentVersion int `json:"current_version"`
		Versions       []struct {
			Version int                `json:"version"`
			BBox    map[string]float64 `json:"bbox"`
		} `json:"versions"`
	}
	e.do("GET", f.deal("/versions"), "", nil, "", bearer(f.owner.Token)).expect(t, 200).decode(t, &list)
	if list.CurrentVersion != n || len(list.Versions) != n+1 {
		t.Fatalf("versions after restart: %+v", list)
	}
	for i := 0; i < n; i++ {
		if bb := list.Versions[versions[i]].BBox; !near(bb["x"], 0.05*float64(i), 1e-9) {
			t.Errorf("version %d after restart: bbox %v, want x %v", versions[i], bb, 0.05*float64(i))
		}
	}
	cur2 := e.do("GET", f.cv.path("/images/"+f.id+"/download"), f.owner.Token, nil, "").expect(t, 200).Body
	if !bytes.Equal(cur2, before[n]) {
		t.Errorf("download after restart is not version %d", n)
	}
	// And it keeps counting: the next recrop is version n+1.
	res, _ := f.mustRecrop(t, map[string]any{"user_bbox": map[string]any{"x": 0.5, "y": 0.5, "width": 0.5, "height": 0.5}})
	if res.Version != n+1 {
		t.Errorf("recrop after restart: version %d, want %d", res.Version, n+1)
	}
}
