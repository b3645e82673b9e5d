package server

import (
	"bytes"
	"image/color"
	"testing"

	"golang.org/x/image/webp"
)

// TestMipmaps: an uploaded 1024x768 image has the reference's example
// pyramid (max_level 4), each level is a WebP of the halved size with the
// picture's colours, out-of-range levels answer 400, and the asset is the
// uploaded file. The canvas-id header decides access.
func TestMipmaps(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "mipmaps")
	src := testPNG(t, 1024, 768)
	img := e.mustImage(e.Admin, c, "big.png", src)
	hash := e.waitImageHash(e.Admin, c, img.id())
	onCanvas := withHeader("canvas-id", c.ID)

	info := e.do("GET", "/api/v1/mipmaps/"+hash, e.Admin, nil, "", onCanvas).expect(t, 200)
	got := info.obj(t)
	if res := got.obj("resolution"); res.num("width") != 1024 || res.num("height") != 768 || got.num("max_level") != 4 || got.num("pages") != 1 {
		t.Errorf("info %s, want resolution 1024x768, max_level 4, pages 1", info.Body)
	}
	if cc := info.Header.Get("Cache-Control"); cc != "private, max-age=157680000, immutable" {
		t.Errorf("Cache-Control %q", cc)
	}

	for level, want := range map[int][2]int{0: {1024, 768}, 2: {256, 192}, 4: {64, 48}} {
		r := e.do("GET", "/api/v1/mipmaps/"+hash+"/"+itoa(level), e.Admin, nil, "", onCanvas).expect(t, 200)
		if ct := r.Header.Get("Content-Type"); ct != "image/webp" {
			t.Errorf("level %d Content-Type %q", level, ct)
		}
		m, err := webp.Decode(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("level %d is not a WebP: %v", level, err)
		}
		if b := m.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] {
			t.Errorf("level %d is %v, want %dx%d", level, b, want[0], want[1])
		}
		// testPattern: red = x*255/(w-1), green = y*255/(h-1); the centre is
		// about half of each at every level.
		cx := color.NRGBAModel.Convert(m.At(want[0]*3/4, want[1]/4)).(color.NRGBA)
		if cx.R < 170 || cx.R > 212 || cx.G < 43 || cx.G > 85 {
			t.Errorf("level %d pixel at (3/4, 1/4) = %v, want red ≈ 191, green ≈ 64", level, cx)
		}
	}
	e.do("GET", "/api/v1/mipmaps/"+hash+"/5", e.Admin, nil, "", onCanvas).expectMsg(t, 400, "outside the valid range 0..4")
	e.do("GET", "/api/v1/mipmaps/"+hash+"/-1", e.Admin, nil, "", onCanvas).expect(t, 400)
	e.do("GET", "/api/v1/mipmaps/"+hash+"?page=3", e.Admin, nil, "", onCanvas).expect(t, 400)
	e.do("GET", "/api/v1/mipmaps/ffffffffffff", e.Admin, nil, "", onCanvas).expectMsg(t, 404, "Asset not found")
	e.do("GET", "/api/v1/mipmaps/"+hash, e.Admin, nil, "").expectMsg(t, 400, "canvas-id")

	asset := e.do("GET", "/api/v1/assets/"+hash, e.Admin, nil, "", onCanvas).expect(t, 200)
	if !bytes.Equal(asset.Body, src) {
		t.Error("asset is not the uploaded file")
	}

	// Another canvas's id does not open this canvas's hash.
	other := e.createCanvas(e.Admin, "other")
	e.do("GET", "/api/v1/mipmaps/"+hash, e.Admin, nil, "", withHeader("canvas-id", other.ID)).expect(t, 404)
	// Access is the canvas's: none, then view.
	u := e.createUser("mip-reader", false)
	if r := e.do("GET", "/api/v1/assets/"+hash, u.Token, nil, "", onCanvas); r.Status != 403 {
		t.Errorf("user without access: %s, want 403", r)
	}
	e.do("GET", "/api/v1/assets/"+hash, "", nil, "", onCanvas).expect(t, 401)
	e.share(e.Admin, c, u.ID, "view")
	e.do("GET", "/api/v1/mipmaps/"+hash+"/1", u.Token, nil, "", onCanvas).expect(t, 200)
}

func itoa(n int) string { return string(rune('0' + n)) }

// TestMipmapsPdf: a PDF's pages are mipmapped from 0, each at 2 pixels
// per point; a video has no mipmaps (501) but is an asset.
func TestMipmapsPdf(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "mipmaps-pdf")
	id := e.uploadMedia(e.Admin, c, "pdfs", "doc")
	hash := e.mustJSON("GET", c.path("/pdfs/"+id), e.Admin, nil, 200).str("hash")
	onCanvas := withHeader("canvas-id", c.ID)

	// Page 0 is 200x100 pt: 400x200 px, levels 0..2; page 1 100x100 pt.
	for page, want := range map[string][3]float64{"": {400, 200, 2}, "?page=1": {200, 200, 1}} {
		got := e.do("GET", "/api/v1/mipmaps/"+hash+page, e.Admin, nil, "", onCanvas).expect(t, 200).obj(t)
		if res := got.obj("resolution"); res.num("width") != want[0] || res.num("height") != want[1] || got.num("max_level") != want[2] || got.num("pages") != 2 {
			t.Errorf("info%s = %v, want %vx%v, max_level %v, pages 2", page, got, want[0], want[1], want[2])
		}
	}
	r := e.do("GET", "/api/v1/mipmaps/"+hash+"/1", e.Admin, nil, "", onCanvas).expect(t, 200)
	m, err := webp.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 200 || b.Dy() != 100 {
		t.Fatalf("page 0 level 1 is %v, want 200x100", b)
	}
	rgbNear(t, "page 0 left", m.At(50, 50), color.NRGBA{255, 0, 0, 255}, 24)
	rgbNear(t, "page 0 right", m.At(150, 50), color.NRGBA{0, 0, 255, 255}, 24)
	e.do("GET", "/api/v1/mipmaps/"+hash+"?page=2", e.Admin, nil, "", onCanvas).expectMsg(t, 400, "2 page(s)")
	e.do("GET", "/api/v1/mipmaps/"+hash+"/3", e.Admin, nil, "", onCanvas).expect(t, 400)
	a := e.do("GET", "/api/v1/assets/"+hash, e.Admin, nil, "", onCanvas).expect(t, 200)
	if a.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(a.Body, mediaFixture(t, "two-pages.pdf")) {
		t.Errorf("pdf asset: %q, %d bytes", a.Header.Get("Content-Type"), len(a.Body))
	}

	vid := e.uploadMedia(e.Admin, c, "videos", "clip")
	vhash := e.mustJSON("GET", c.path("/videos/"+vid), e.Admin, nil, 200).str("hash")
	e.do("GET", "/api/v1/mipmaps/"+vhash, e.Admin, nil, "", onCanvas).expect(t, 501)
	if v := e.do("GET", "/api/v1/assets/"+vhash, e.Admin, nil, "", onCanvas).expect(t, 200); v.Header.Get("Content-Type") != "video/webm" {
		t.Errorf("video asset Content-Type %q", v.Header.Get("Content-Type"))
	}
}
