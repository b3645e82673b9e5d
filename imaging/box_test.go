package imaging

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"testing"
)

func TestPixelRect(t *testing.T) {
	cases := []struct {
		name string
		box  Box
		w, h int
		want image.Rectangle
	}{
		{"exact", Box{0.1, 0.2, 0.3, 0.4}, 1000, 500, image.Rect(100, 100, 400, 300)},
		{"float error below the start", Box{0.29, 0, 0.01, 1}, 100, 10, image.Rect(29, 0, 30, 10)},
		{"floor start, ceil end", Box{0.105, 0.333, 0.1, 0.334}, 100, 10, image.Rect(10, 3, 21, 7)},
		{"whole page", Whole, 37, 23, image.Rect(0, 0, 37, 23)},
		{"past the edge is clamped", Box{0.9, 0.9, 0.5, 0.5}, 100, 100, image.Rect(90, 90, 100, 100)},
		{"sub-pixel box keeps one pixel", Box{0.5, 0.5, 1e-9, 1e-9}, 100, 100, image.Rect(50, 50, 51, 51)},
		{"off the page pins to the edge", Box{1.2, -0.5, 0.1, 0.2}, 100, 100, image.Rect(99, 0, 100, 1)},
		{"zero width", Box{0.1, 0.1, 0, 0.5}, 100, 100, image.Rectangle{}},
		{"negative height", Box{0.1, 0.1, 0.5, -0.1}, 100, 100, image.Rectangle{}},
		{"empty page", Box{0, 0, 1, 1}, 0, 100, image.Rectangle{}},
		{"NaN", Box{math.NaN(), 0, 0.5, 0.5}, 10, 10, image.Rect(0, 0, 10, 5)},
	}
	for _, c := range cases {
		if got := c.box.PixelRect(c.w, c.h); got != c.want {
			t.Errorf("%s: %+v.PixelRect(%d, %d) = %v, want %v", c.name, c.box, c.w, c.h, got, c.want)
		}
	}
}

// coordPage is a w x h page whose every pixel encodes its own coordinates,
// so any crop can be checked pixel by pixel.
func coordPage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, coordColor(x, y))
		}
	}
	return img
}

func coordColor(x, y int) color.NRGBA {
	return color.NRGBA{uint8(x), uint8(y), uint8(x>>8 | (y>>8)<<4), 255}
}

// regionsPage is a 1200x900 white page with three flat rectangles of known
// colours, rendered and encoded as a real PNG.
var (
	regionRed   = image.Rect(120, 90, 480, 360)   // fractions 0.1, 0.1, 0.3, 0.3
	regionGreen = image.Rect(600, 450, 1080, 810) // 0.5, 0.5, 0.4, 0.4
	regionBlue  = image.Rect(0, 600, 300, 900)    // 0, 2/3, 0.25, 1/3
	red         = color.NRGBA{200, 20, 30, 255}
	green       = color.NRGBA{10, 180, 60, 255}
	blue        = color.NRGBA{20, 40, 220, 255}
	white       = color.NRGBA{255, 255, 255, 255}
)

func regionsPagePNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			p := image.Pt(x, y)
			c := white
			switch {
			case p.In(regionRed):
				c = red
			case p.In(regionGreen):
				c = green
			case p.In(regionBlue):
				c = blue
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return encodeStdPNG(tb, img)
}

func TestCropKnownRegions(t *testing.T) {
	page, _, err := Decode(regionsPagePNG(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		box  Box
		want image.Rectangle
		// colour of each pixel at page coordinates
		fill func(p image.Point) color.NRGBA
	}{
		{"red exactly", Box{0.1, 0.1, 0.3, 0.3}, regionRed, func(image.Point) color.NRGBA { return red }},
		{"green exactly", Box{0.5, 0.5, 0.4, 0.4}, regionGreen, func(image.Point) color.NRGBA { return green }},
		{"blue in thirds", Box{0, 2.0 / 3, 0.25, 1.0 / 3}, regionBlue, func(image.Point) color.NRGBA { return blue }},
		{"red plus the white pixel column it touches", Box{0.0999, 0.1, 0.3001, 0.3}, image.Rect(119, 90, 480, 360),
			func(p image.Point) color.NRGBA {
				if p.X == 119 {
					return white
				}
				return red
			}},
	}
	for _, c := range cases {
		crop := CropFrac(page, c.box)
		if crop.Rect != c.want {
			t.Errorf("%s: crop rect %v, want %v", c.name, crop.Rect, c.want)
			continue
		}
		// The crop shares the page's pixels.
		if &crop.Pix[0] != &page.Pix[page.PixOffset(c.want.Min.X, c.want.Min.Y)] {
			t.Errorf("%s: crop copied the pixels", c.name)
		}
		// Encode and decode again: the PNG holds exactly the region.
		var buf bytes.Buffer
		if err := EncodePNG(&buf, crop); err != nil {
			t.Fatal(err)
		}
		out := ToNRGBA(stdDecodePNG(t, buf.Bytes()))
		if out.Rect != image.Rect(0, 0, c.want.Dx(), c.want.Dy()) {
			t.Fatalf("%s: encoded size %v", c.name, out.Rect)
		}
		bad := 0
		for y := 0; y < c.want.Dy(); y++ {
			for x := 0; x < c.want.Dx(); x++ {
				p := image.Pt(c.want.Min.X+x, c.want.Min.Y+y)
				if got, want := out.NRGBAAt(x, y), c.fill(p); got != want && bad < 3 {
					t.Errorf("%s: pixel %v = %v, want %v", c.name, p, got, want)
					bad++
				}
			}
		}
	}
}

func TestCropCoordinatesPage(t *testing.T) {
	// Odd sizes so that fractions rarely land on pixel edges; the PNG goes
	// through the fast encoder (large) and the pipelined decoder.
	const w, h = 1013, 719
	var buf bytes.Buffer
	if err := EncodePNG(&buf, coordPage(w, h)); err != nil {
		t.Fatal(err)
	}
	page, _, err := Decode(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Box{{0.123, 0.456, 0.3, 0.2}, {0, 0, 1, 1}, {0.999, 0.999, 0.001, 0.001}, {0.5, 0, 0.0001, 1}} {
		crop := CropFrac(page, b)
		x0 := int(math.Floor(b.X * w))
		y0 := int(math.Floor(b.Y * h))
		x1 := int(math.Ceil((b.X + b.W) * w))
		y1 := int(math.Ceil((b.Y + b.H) * h))
		if want := image.Rect(x0, y0, min(x1, w), min(y1, h)); crop.Rect != want {
			t.Errorf("%+v: crop %v, want %v", b, crop.Rect, want)
		}
		for y := crop.Rect.Min.Y; y < crop.Rect.Max.Y; y++ {
			for x := crop.Rect.Min.X; x < crop.Rect.Max.X; x++ {
				if got := crop.NRGBAAt(x, y); got != coordColor(x, y) {
					t.Fatalf("%+v: pixel (%d,%d) = %v", b, x, y, got)
				}
			}
		}
	}
}

func boxNear(a, b Box) bool {
	const eps = 1e-12
	return math.Abs(a.X-b.X) < eps && math.Abs(a.Y-b.Y) < eps && math.Abs(a.W-b.W) < eps && math.Abs(a.H-b.H) < eps
}

func TestAspectLock(t *testing.T) {
	// A 1000x500 page, so fraction and pixel aspects differ.
	cases := []struct {
		name   string
		box    Box
		aspect float64
		want   Box
	}{
		{"grow height to square", Box{0.4, 0.4, 0.2, 0.2}, 1, Box{0.4, 0.3, 0.2, 0.4}},
		{"grow width to 4:1", Box{0.4, 0.4, 0.2, 0.2}, 4, Box{0.3, 0.4, 0.4, 0.2}},
		{"already at the aspect", Box{0.4, 0.4, 0.2, 0.4}, 1, Box{0.4, 0.4, 0.2, 0.4}},
		{"shifted right off the left edge", Box{0, 0.4, 0.2, 0.2}, 4, Box{0, 0.4, 0.4, 0.2}},
		{"shifted up off the bottom edge", Box{0.4, 0.8, 0.2, 0.2}, 1, Box{0.4, 0.6, 0.2, 0.4}},
		{"too tall for the page: shrunk", Box{0.1, 0.1, 0.8, 0.8}, 0.5, Box{0.375, 0, 0.25, 1}},
		{"too wide for the page: shrunk", Box{0.45, 0.1, 0.1, 0.8}, 10, Box{0, 0.4, 1, 0.2}},
		{"bad aspect leaves the box", Box{0.1, 0.1, 0.2, 0.2}, 0, Box{0.1, 0.1, 0.2, 0.2}},
		{"NaN aspect", Box{0.1, 0.1, 0.2, 0.2}, math.NaN(), Box{0.1, 0.1, 0.2, 0.2}},
		{"box past the page is clamped first", Box{0.9, 0.4, 0.2, 0.2}, 1, Box{0.9, 0.4, 0.1, 0.2}},
	}
	for _, c := range cases {
		got := AspectLock(c.box, c.aspect, 1000, 500)
		if !boxNear(got, c.want) {
			t.Errorf("%s: AspectLock(%+v, %v) = %+v, want %+v", c.name, c.box, c.aspect, got, c.want)
		}
		if c.aspect > 0 && !boxNear(got, c.box) {
			if a := got.W * 1000 / (got.H * 500); math.Abs(a-c.aspect) > 1e-9 {
				t.Errorf("%s: pixel aspect %v, want %v", c.name, a, c.aspect)
			}
		}
		if got.X < 0 || got.Y < 0 || got.X+got.W > 1+1e-12 || got.Y+got.H > 1+1e-12 {
			t.Errorf("%s: %+v is off the page", c.name, got)
		}
	}
	if got := AspectLock(Box{0.1, 0.1, 0.2, 0.2}, 2, 0, 500); got != (Box{0.1, 0.1, 0.2, 0.2}) {
		t.Errorf("no page size: %+v", got)
	}
}

func TestIoU(t *testing.T) {
	cases := []struct {
		a, b Box
		want float64
	}{
		{Box{0.1, 0.1, 0.5, 0.5}, Box{0.1, 0.1, 0.5, 0.5}, 1},
		{Box{0, 0, 0.2, 0.2}, Box{0.5, 0.5, 0.2, 0.2}, 0},
		{Box{0, 0, 0.5, 0.5}, Box{0.5, 0, 0.5, 0.5}, 0},                   // sharing an edge
		{Box{0, 0, 0.5, 0.5}, Box{0.25, 0.25, 0.5, 0.5}, 0.0625 / 0.4375}, // 1/7
		{Box{0, 0, 1, 1}, Box{0.25, 0.25, 0.5, 0.5}, 0.25},
		{Box{0.1, 0.1, 0.5, 0.5}, Box{0.1, 0.1, 0.5, 0.62}, 0.25 / 0.31},
		{Box{0.2, 0.2, 0, 0}, Box{0.2, 0.2, 0, 0}, 1},
		{Box{0.2, 0.2, 0, 0}, Box{0.3, 0.2, 0, 0}, 0},
	}
	for _, c := range cases {
		if got := IoU(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("IoU(%+v, %+v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := IoU(c.b, c.a); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("IoU is not symmetric for %+v, %+v", c.a, c.b)
		}
	}
}

func TestDiff(t *testing.T) {
	orig := Box{0.1, 0.1, 0.5, 0.5}
	cases := []struct {
		name string
		user Box
		want DiffSummary
	}{
		{"unchanged", orig, DiffSummary{1, 0, "No change from the original crop.", false}},
		{"bottom extended", Box{0.1, 0.1, 0.5, 0.62},
			DiffSummary{0.8065, 24, "Extended the bottom edge by 12% of the page height.", true}},
		{"bottom extended, left trimmed", Box{0.13, 0.1, 0.47, 0.62},
			// IoU = 0.47*0.5 / (0.25 + 0.47*0.62 - 0.235) = 0.235/0.3064; area (0.2914-0.25)/0.25
			DiffSummary{0.767, 16.56, "Extended the bottom edge by 12% of the page height and trimmed the left edge by 3% of the page width.", true}},
		{"half a percent", Box{0.1, 0.1, 0.505, 0.5},
			DiffSummary{0.9901, 1, "Extended the right edge by 0.5% of the page width.", false}},
		{"moved right", Box{0.15, 0.1, 0.5, 0.5},
			// 0.45*0.5 / (0.5 - 0.225)
			DiffSummary{0.8182, 0, "Moved the crop right by 5% of the page width.", true}},
		{"three clauses", Box{0.05, 0.2, 0.6, 0.5},
			// inter 0.5*0.4 = 0.2; union 0.25+0.3-0.2
			DiffSummary{0.5714, 20, "Moved the crop down by 10% of the page height and extended the left and right edges by 5% of the page width.", true}},
		{"shrunk on all sides", Box{0.12, 0.125, 0.46, 0.45},
			// area 0.207 vs 0.25: -17.2%; IoU = 0.207/0.25
			DiffSummary{0.828, -17.2, "Trimmed the top and bottom edges by 2.5% of the page height and trimmed the left and right edges by 2% of the page width.", true}},
		{"small area change, big shift", Box{0.6, 0.1, 0.3, 0.5},
			DiffSummary{0, -40, "Trimmed the left edge by 50% of the page width and extended the right edge by 30% of the page width.", true}},
	}
	for _, c := range cases {
		if got := Diff(orig, c.user); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	if got := Diff(Box{0.1, 0.1, 0, 0.5}, orig); got.AreaDeltaPct != 0 || math.IsNaN(got.IoUWithOriginal) {
		t.Errorf("zero-area original: %+v", got)
	}
}
