package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
)

// productScene is a generated product photo with its ground truth: a shaded
// "bottle" (a rounded body and an elliptical cap) with hard edges on a plain
// or noisy background.
type productScene struct {
	img  *image.NRGBA
	mask *image.Gray // 255 where the product is
	box  image.Rectangle
	area int
}

// genScene draws a product filling about box (the true bounds are computed
// from the drawn pixels). noise is a Gaussian sigma in 8-bit levels.
func genScene(tb testing.TB, w, h int, box image.Rectangle, noise float64, seed uint64) productScene {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	bg := color.NRGBA{246, 244, 240, 255}
	sc := productScene{img: image.NewNRGBA(image.Rect(0, 0, w, h)), mask: image.NewGray(image.Rect(0, 0, w, h))}
	bw, bh := float64(box.Dx()), float64(box.Dy())
	bodyTop := float64(box.Min.Y) + 0.25*bh
	r := 0.15 * bw
	cx := float64(box.Min.X) + bw/2
	inside := func(x, y float64) bool {
		// Rounded rectangle body.
		x0, x1, y0, y1 := float64(box.Min.X), float64(box.Max.X), bodyTop, float64(box.Max.Y)
		if x >= x0 && x < x1 && y >= y0 && y < y1 {
			qx := math.Max(math.Max(x0+r-x, x-(x1-r)), 0)
			qy := math.Max(math.Max(y0+r-y, y-(y1-r)), 0)
			if qx*qx+qy*qy <= r*r {
				return true
			}
		}
		// Elliptical cap.
		ex, ey := (x-cx)/(0.22*bw), (y-bodyTop)/(0.25*bh+0.5)
		return ex*ex+ey*ey <= 1
	}
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := range h {
		for x := range w {
			n := 0.0
			if noise > 0 {
				n = rng.NormFloat64() * noise
			}
			var c color.NRGBA
			if inside(float64(x)+0.5, float64(y)+0.5) {
				t := float64(y-box.Min.Y) / bh
				c = color.NRGBA{clamp8(190 - 60*t + n), clamp8(40 + 20*t + n), clamp8(30 + 40*t + n), 255}
				sc.mask.Pix[y*sc.mask.Stride+x] = 255
				sc.area++
				minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
			} else {
				c = color.NRGBA{clamp8(float64(bg.R) + n), clamp8(float64(bg.G) + n), clamp8(float64(bg.B) + n), 255}
			}
			sc.img.SetNRGBA(x, y, c)
		}
	}
	sc.box = image.Rect(minX, minY, maxX+1, maxY+1)
	return sc
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

func pngOf(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// jobClient talks the crop-jobs dialect with one bearer token.
type jobClient struct {
	t     testing.TB
	base  string
	token string
}

func (e *liveEnv) jobs(token string) *jobClient {
	return &jobClient{t: e.t, base: e.http.URL, token: token}
}

type part struct {
	name, filename string
	data           []byte
}

func multipartOf(tb testing.TB, parts ...part) ([]byte, string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func (j *jobClient) do(method, path string, body []byte, ctype string) (int, []byte, http.Header) {
	j.t.Helper()
	req, err := http.NewRequest(method, j.base+path, bytes.NewReader(body))
	if err != nil {
		j.t.Fatal(err)
	}
	if j.token != "" {
		req.Header.Set("Authorization", "Bearer "+j.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		j.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (j *jobClient) get(url string) (int, []byte) {
	j.t.Helper()
	code, b, _ := j.do("GET", strings.TrimPrefix(url, j.base), nil, "")
	return code, b
}

func (j *jobClient) postJSON(path string, v any) (int, map[string]any) {
	j.t.Helper()
	b, _ := json.Marshal(v)
	code, body, _ := j.do("POST", path, b, "application/json")
	var m map[string]any
	json.Unmarshal(body, &m)
	if m == nil {
		m = map[string]any{"raw": string(body)}
	}
	return code, m
}

// bannerParts builds a multipart banner request.
func bannerParts(tb testing.TB, inputs []productScene, masks []image.Image, fields map[string]string) ([]byte, string) {
	var parts []part
	for i, in := range inputs {
		parts = append(parts, part{"input_files", fmt.Sprintf("in%d.png", i), pngOf(tb, in.img)})
	}
	for i, m := range masks {
		parts = append(parts, part{"mask_files", fmt.Sprintf("mask%d.png", i), pngOf(tb, m)})
	}
	for k, v := range fields {
		parts = append(parts, part{k, "", []byte(v)})
	}
	return multipartOf(tb, parts...)
}

func (j *jobClient) submitBanner(inputs []productScene, masks []image.Image, fields map[string]string) (int, map[string]any) {
	j.t.Helper()
	body, ct := bannerParts(j.t, inputs, masks, fields)
	code, b, _ := j.do("POST", "/v1/banners/with-mask", body, ct)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return code, m
}

type statusResp struct {
	Jobs []struct {
		JobID        string   `json:"job_id"`
		Status       string   `json:"status"`
		JobLabels    []string `json:"job_labels"`
		ErrorMessage string   `json:"error_message"`
	} `json:"jobs"`
	Results []struct {
		OutputImageURL  string     `json:"output_image_url"`
		CropCoordinates cropCoords `json:"crop_coordinates"`
		JobID           string     `json:"job_id"`
		InputIndex      int        `json:"input_index"`
		Width, Height   int
		WidgetID        string `json:"widget_id"`
	} `json:"results"`
	ErrorMessage string `json:"error_message"`
	Total        int    `json:"total"`
}

type cropCoords struct {
	X, Y, Width, Height float64
}

func (j *jobClient) status(req map[string]any) (int, statusResp) {
	j.t.Helper()
	b, _ := json.Marshal(req)
	code, body, _ := j.do("POST", "/v1/banners/with-mask/status", b, "application/json")
	var s statusResp
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &s); err != nil {
			j.t.Fatalf("status body %s: %v", body, err)
		}
	}
	return code, s
}

// wait polls a job until it is final.
func (j *jobClient) wait(id string) statusResp {
	j.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, s := j.status(map[string]any{"job_id": id})
		if code != http.StatusOK || len(s.Jobs) != 1 {
			j.t.Fatalf("status of %s: %d %+v", id, code, s)
		}
		if st := s.Jobs[0].Status; st == store.JobCompleted || st == store.JobFailed {
			return s
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("job %s still %s", id, s.Jobs[0].Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newUserToken creates a user through the Canvus API and returns its token.
func (e *liveEnv) newUserToken(name string) string {
	e.t.Helper()
	u := e.mustJSON("POST", "/api/v1/users", fmt.Sprintf(`{"email":%q,"name":%q}`, name+"@example.com", name))
	id := int(u["id"].(float64))
	tk := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", id), `{"description":"jobs"}`)
	return tk["plain_token"].(string)
}

// blobCount counts the blob files of the data directory.
func blobCount(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, string(filepath.Separator)+"tmp"+string(filepath.Separator)) {
			n++
		}
		return nil
	})
	return n
}

func decodePNG(tb testing.TB, b []byte) *image.NRGBA {
	tb.Helper()
	img, _, err := imaging.Decode(b, imaging.Limits{MaxPixels: 100_000_000})
	if err != nil {
		tb.Fatalf("decode output: %v (%d bytes: %.80q)", err, len(b), b)
	}
	return img
}

func TestAutoResizeAlignCropWithinOnePixel(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	cases := []struct {
		w, h  int
		box   image.Rectangle
		noise float64
	}{
		{320, 240, image.Rect(75, 45, 195, 200), 0},
		{400, 300, image.Rect(210, 30, 350, 280), 3},
		{250, 350, image.Rect(20, 150, 130, 330), 2},
	}
	for i, tc := range cases {
		sc := genScene(t, tc.w, tc.h, tc.box, tc.noise, uint64(i+1))
		body, ct := multipartOf(t, part{"image_file", "p.png", pngOf(t, sc.img)},
			part{"minimum_margins", "", []byte("20px")}, part{"output_dimension", "", []byte("300x300")},
			part{"response_type", "", []byte("json")})
		code, b, _ := jc.do("POST", "/v1/auto-resize-align", body, ct)
		if code != http.StatusOK {
			t.Fatalf("case %d: %d %s", i, code, b)
		}
		var r struct {
			OutputImageURL  string     `json:"output_image_url"`
			CropCoordinates cropCoords `json:"crop_coordinates"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		cc := r.CropCoordinates
		got := [4]float64{cc.X * float64(tc.w), cc.Y * float64(tc.h), (cc.X + cc.Width) * float64(tc.w), (cc.Y + cc.Height) * float64(tc.h)}
		want := [4]float64{float64(sc.box.Min.X), float64(sc.box.Min.Y), float64(sc.box.Max.X), float64(sc.box.Max.Y)}
		for k := range got {
			if math.Abs(got[k]-want[k]) > 1 {
				t.Errorf("case %d: crop edges %v px, truth %v: edge %d off by more than 1 px", i, got, want, k)
			}
		}
		// The stored output is the owner's, 600x600, with the subject inside the margins.
		code, img := jc.get(r.OutputImageURL)
		if code != http.StatusOK {
			t.Fatalf("case %d: output %d", i, code)
		}
		out := decodePNG(t, img)
		if out.Rect.Dx() != 300 || out.Rect.Dy() != 300 {
			t.Fatalf("case %d: output %v, want 300x300", i, out.Rect)
		}
		sb := subjectBounds(out)
		if sb.Empty() || sb.Min.X < 19 || sb.Min.Y < 19 || sb.Max.X > 281 || sb.Max.Y > 281 {
			t.Errorf("case %d: subject at %v in the output, outside the 20 px margins", i, sb)
		}
		if cxo, cyo := float64(sb.Min.X+sb.Max.X)/2, float64(sb.Min.Y+sb.Max.Y)/2; math.Abs(cxo-150) > 2 || math.Abs(cyo-150) > 2 {
			t.Errorf("case %d: subject centre (%.1f, %.1f), want (150, 150)", i, cxo, cyo)
		}
	}

	// The default answer is the image itself, with the coordinates in a header.
	sc := genScene(t, 320, 240, image.Rect(100, 50, 200, 200), 0, 9)
	body, ct := multipartOf(t, part{"image_file", "p.png", pngOf(t, sc.img)}, part{"output_dimension", "", []byte("200x100")},
		part{"output_format", "", []byte("jpeg")}, part{"background", "", []byte("white")})
	code, b, hdr := jc.do("POST", "/v1/auto-resize-align", body, ct)
	if code != http.StatusOK || hdr.Get("Content-Type") != "image/jpeg" || hdr.Get("X-Crop-Coordinates") == "" {
		t.Fatalf("stream answer: %d %s %v", code, hdr.Get("Content-Type"), hdr)
	}
	if out := decodePNG(t, b); out.Rect.Dx() != 200 || out.Rect.Dy() != 100 {
		t.Fatalf("stream output %v", out.Rect)
	}
	// Bad requests answer in the dialect.
	for _, bad := range []struct {
		parts []part
		code  int
	}{
		{[]part{{"output_dimension", "", []byte("600x600")}}, http.StatusBadRequest},
		{[]part{{"image_file", "p.png", []byte("not an image")}}, http.StatusUnprocessableEntity},
		{[]part{{"image_file", "p.png", pngOf(t, sc.img)}, {"minimum_margins", "", []byte("60%")}}, http.StatusBadRequest},
		{[]part{{"image_file", "p.png", pngOf(t, sc.img)}, {"output_format", "", []byte("jpeg")}, {"background", "", []byte("transparent")}}, http.StatusBadRequest},
		{[]part{{"image_file", "p.png", pngOf(t, image.NewNRGBA(image.Rect(0, 0, 50, 50)))}}, http.StatusUnprocessableEntity},
	} {
		body, ct := multipartOf(t, bad.parts...)
		code, b, _ := jc.do("POST", "/v1/auto-resize-align", body, ct)
		var m map[string]any
		if code != bad.code || json.Unmarshal(b, &m) != nil || m["error_message"] == "" || m["error_message"] == nil {
			t.Errorf("bad request %q: %d %s, want %d with error_message", bad.parts[0].name, code, b, bad.code)
		}
	}
	if code, _, _ := e.jobs("").do("POST", "/v1/auto-resize-align", body, ct); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
}

// subjectBounds is the bounding box of the product-coloured pixels (red
// dominant) of an output.
func subjectBounds(img *image.NRGBA) image.Rectangle {
	r := image.Rectangle{}
	b := img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			if c.A > 127 && int(c.R)-int(c.G) > 60 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func TestRemoveBackgroundAlphaIoU(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	for i, box := range []image.Rectangle{image.Rect(100, 50, 260, 280), image.Rect(15, 20, 150, 125), image.Rect(250, 150, 390, 295)} {
		sc := genScene(t, 400, 300, box, 0, uint64(10+i))
		body, ct := multipartOf(t, part{"image_file", "p.png", pngOf(t, sc.img)})
		code, b, hdr := jc.do("POST", "/v1/remove-background", body, ct)
		if code != http.StatusOK || hdr.Get("Content-Type") != "image/png" {
			t.Fatalf("case %d: %d %s", i, code, b)
		}
		out := decodePNG(t, b)
		if out.Rect != sc.img.Rect {
			t.Fatalf("case %d: output %v, want %v", i, out.Rect, sc.img.Rect)
		}
		inter, union := 0, 0
		for y := range 300 {
			for x := range 400 {
				fg := out.NRGBAAt(x, y).A > 127
				truth := sc.mask.GrayAt(x, y).Y > 0
				if fg && truth {
					inter++
				}
				if fg || truth {
					union++
				}
			}
		}
		if iou := float64(inter) / float64(union); iou < 0.98 {
			t.Errorf("case %d: alpha IoU %.4f, want >= 0.98", i, iou)
		} else {
			t.Logf("case %d: alpha IoU %.4f", i, iou)
		}
	}
	// JSON with the URL of an earlier output of the caller's: read from the store.
	sc := genScene(t, 400, 300, image.Rect(100, 60, 300, 260), 0, 20)
	body, ct := multipartOf(t, part{"image_file", "p.png", pngOf(t, sc.img)}, part{"response_type", "", []byte("json")},
		part{"output_dimension", "", []byte("match_to_original")})
	code, b, _ := jc.do("POST", "/v1/auto-resize-align", body, ct)
	if code != http.StatusOK {
		t.Fatalf("align: %d %s", code, b)
	}
	var first struct {
		URL string `json:"output_image_url"`
	}
	json.Unmarshal(b, &first)
	code, m := jc.postJSON("/v1/remove-background", map[string]any{"image_url": first.URL, "response_type": "json"})
	if code != http.StatusOK || m["output_image_url"] == nil {
		t.Fatalf("remove-background of own URL: %d %v", code, m)
	}
	// Another user may not read (or use) this user's outputs.
	other := e.jobs(e.newUserToken("mallory"))
	if code, _ := other.get(m["output_image_url"].(string)); code != http.StatusNotFound {
		t.Errorf("other user reading an output: %d, want 404", code)
	}
	if code, m := other.postJSON("/v1/remove-background", map[string]any{"image_url": first.URL}); code != http.StatusNotFound {
		t.Errorf("other user using an output URL: %d %v, want 404", code, m)
	}
	if code, m := jc.postJSON("/v1/remove-background", map[string]any{"image_url": "http://127.0.0.1:1/x.png"}); code != http.StatusForbidden {
		t.Errorf("loopback URL: %d %v, want 403", code, m)
	}
}

// maskOf returns a scene's mask as an image.
func maskOf(sc productScene) image.Image { return sc.mask }

func TestBannerJobOutputsExactSizeMaskInside(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{JobWorkers: 2}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	scenes := []productScene{
		genScene(t, 450, 300, image.Rect(190, 75, 280, 260), 2, 31), // central
		genScene(t, 400, 400, image.Rect(10, 150, 100, 390), 2, 32), // near the bottom-left edge
		genScene(t, 500, 250, image.Rect(50, 20, 450, 235), 0, 33),  // wide: padding for tall outputs
	}
	masks := []image.Image{maskOf(scenes[0]), maskOf(scenes[1]), maskOf(scenes[2])}
	dims := `[{"width":600,"height":314},{"width":150,"height":300},{"width":250,"height":250},"160x90"]`
	code, m := jc.submitBanner(scenes, masks, map[string]string{"output_dimensions": dims, "job_labels": `["sizes"]`,
		"minimum_margins": "4%", "background": "#336699", "output_format": "png"})
	if code != http.StatusOK || m["status"] != "pending" || m["job_id"] == nil {
		t.Fatalf("submit: %d %v", code, m)
	}
	st := jc.wait(m["job_id"].(string))
	if st.Jobs[0].Status != store.JobCompleted {
		t.Fatalf("job %+v %s", st.Jobs[0], st.ErrorMessage)
	}
	wantDims := [][2]int{{600, 314}, {150, 300}, {250, 250}, {160, 90}}
	if len(st.Results) != len(scenes)*len(wantDims) {
		t.Fatalf("%d results, want %d", len(st.Results), len(scenes)*len(wantDims))
	}
	padded := 0
	for k, r := range st.Results {
		sc := scenes[r.InputIndex]
		wd := wantDims[k%len(wantDims)]
		code, b := jc.get(r.OutputImageURL)
		if code != http.StatusOK {
			t.Fatalf("result %d: GET output %d", k, code)
		}
		out := decodePNG(t, b)
		if out.Rect.Dx() != wd[0] || out.Rect.Dy() != wd[1] {
			t.Fatalf("result %d: output %dx%d, want %dx%d", k, out.Rect.Dx(), out.Rect.Dy(), wd[0], wd[1])
		}
		// The mask's box, mapped through the crop coordinates, lies inside
		// the output with the 4% margins.
		// The product's pixels are all in frame, inside the 4% margins, and
		// the scale is right: the whole product, not a part of it.
		mx, my := 0.04*float64(wd[0]), 0.04*float64(wd[1])
		sb := subjectBounds(out)
		if sb.Empty() || float64(sb.Min.X) < mx-1 || float64(sb.Min.Y) < my-1 || float64(sb.Max.X) > float64(wd[0])-mx+1 || float64(sb.Max.Y) > float64(wd[1])-my+1 {
			t.Errorf("result %d (%dx%d, input %d): product pixels at %v, outside the margins", k, wd[0], wd[1], r.InputIndex, sb)
		}
		if got, want := float64(sb.Dx())/float64(sb.Dy()), float64(sc.box.Dx())/float64(sc.box.Dy()); math.Abs(got/want-1) > 0.1 {
			t.Errorf("result %d: product box %v has aspect %.3f, the mask's is %.3f: cut off", k, sb, got, want)
		}
		// Where the output is a plain crop of the input (no padding), the
		// crop coordinates say where the mask lands.
		cc := r.CropCoordinates
		W, H := float64(sc.img.Rect.Dx()), float64(sc.img.Rect.Dy())
		if math.Abs(cc.Width*W/(cc.Height*H)/(float64(wd[0])/float64(wd[1]))-1) < 0.01 {
			mapX := func(x float64) float64 { return (x/W - cc.X) / cc.Width * float64(wd[0]) }
			mapY := func(y float64) float64 { return (y/H - cc.Y) / cc.Height * float64(wd[1]) }
			x0, x1 := mapX(float64(sc.box.Min.X)), mapX(float64(sc.box.Max.X))
			y0, y1 := mapY(float64(sc.box.Min.Y)), mapY(float64(sc.box.Max.Y))
			if math.Abs(float64(sb.Min.X)-x0) > 2 || math.Abs(float64(sb.Max.X)-x1) > 2 || math.Abs(float64(sb.Min.Y)-y0) > 2 || math.Abs(float64(sb.Max.Y)-y1) > 2 {
				t.Errorf("result %d: product pixels at %v, crop coordinates put it at (%.1f,%.1f)-(%.1f,%.1f)", k, sb, x0, y0, x1, y1)
			}
		} else {
			padded++
		}
	}
	// The scenes are chosen so that both paths run.
	if padded == 0 || padded == len(st.Results) {
		t.Errorf("%d of %d outputs padded: want both plain crops and padded ones", padded, len(st.Results))
	}
}

func TestBannerJobLifecycleLabelsPagingAndFailure(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{JobWorkers: 2}, store.Options{NoSync: true}, 0)
	alice := e.jobs(e.newUserToken("alice"))
	bob := e.jobs(e.newUserToken("bob"))
	sc := genScene(t, 240, 180, image.Rect(80, 40, 170, 160), 1, 41)
	empty := image.NewGray(sc.img.Rect) // no white: the job fails when it runs
	submit := func(jc *jobClient, labels string, mask image.Image) string {
		code, m := jc.submitBanner([]productScene{sc}, []image.Image{mask}, map[string]string{
			"output_dimensions": "120x60,60x60", "job_labels": labels})
		if code != http.StatusOK {
			t.Fatalf("submit: %d %v", code, m)
		}
		return m["job_id"].(string)
	}
	var ids []string
	for i := range 5 {
		label := "lot-a"
		if i%2 == 1 {
			label = "lot-b"
		}
		mask := image.Image(sc.mask)
		if i == 2 {
			mask = empty
		}
		ids = append(ids, submit(alice, label+",all", mask))
	}
	sc = genScene(t, 240, 180, image.Rect(60, 30, 150, 170), 1, 42) // bob's own photo
	bobJob := submit(bob, "lot-a", sc.mask)
	for _, id := range ids {
		alice.wait(id)
	}
	bob.wait(bobJob)

	// The empty mask failed its job only.
	_, s := alice.status(map[string]any{"job_labels": []string{"all"}})
	if s.Total != 5 || len(s.Jobs) != 5 {
		t.Fatalf("all of alice's: %+v", s)
	}
	for i, j := range s.Jobs {
		if j.JobID != ids[i] {
			t.Fatalf("order: job %d is %s, want %s", i, j.JobID, ids[i])
		}
		want := store.JobCompleted
		if i == 2 {
			want = store.JobFailed
		}
		if j.Status != want {
			t.Errorf("job %d: %s (%s), want %s", i, j.Status, j.ErrorMessage, want)
		}
	}
	if !strings.Contains(s.ErrorMessage, "no white") || !strings.Contains(s.ErrorMessage, ids[2]) {
		t.Errorf("error_message %q", s.ErrorMessage)
	}
	if len(s.Results) != 4*2 {
		t.Errorf("%d results, want 8 (4 completed jobs x 2 sizes)", len(s.Results))
	}
	_, one := alice.status(map[string]any{"job_id": ids[2]})
	if one.Jobs[0].Status != store.JobFailed || !strings.Contains(one.ErrorMessage, "no white") || len(one.Results) != 0 {
		t.Errorf("failed job status %+v", one)
	}

	// Label filter and paging: alice's lot-a jobs are ids 0, 2, 4; bob's job is not hers.
	_, s = alice.status(map[string]any{"job_labels": []string{"lot-a"}, "start": 1, "limit": 1})
	if s.Total != 3 || len(s.Jobs) != 1 || s.Jobs[0].JobID != ids[2] {
		t.Fatalf("lot-a page 2: %+v", s)
	}
	_, s = alice.status(map[string]any{"job_labels": []string{"lot-a"}, "start": 2, "limit": 5})
	if len(s.Jobs) != 1 || s.Jobs[0].JobID != ids[4] || len(s.Results) != 2 || s.Results[0].JobID != ids[4] {
		t.Fatalf("lot-a page 3: %+v", s)
	}
	if got := s.Jobs[0].JobLabels; len(got) != 2 || got[0] != "lot-a" || got[1] != "all" {
		t.Errorf("labels %v", got)
	}
	_, s = alice.status(map[string]any{"job_labels": []string{"lot-b"}})
	if s.Total != 2 || s.Jobs[0].JobID != ids[1] || s.Jobs[1].JobID != ids[3] {
		t.Fatalf("lot-b: %+v", s)
	}
	_, s = bob.status(map[string]any{"job_labels": []string{"lot-a"}})
	if s.Total != 1 || s.Jobs[0].JobID != bobJob {
		t.Fatalf("bob's lot-a: %+v", s)
	}
	if code, _ := bob.status(map[string]any{"job_id": ids[0]}); code != http.StatusNotFound {
		t.Errorf("bob reading alice's job: %d, want 404", code)
	}
	if code, _ := bob.get(strings.TrimPrefix(mustResults(t, alice, ids[0])[0], e.http.URL)); code != http.StatusNotFound {
		t.Errorf("bob reading alice's output: %d, want 404", code)
	}
	admin := e.jobs(e.token)
	if _, s = admin.status(map[string]any{"job_labels": []string{"lot-a"}}); s.Total != 4 {
		t.Errorf("admin sees %d lot-a jobs, want 4", s.Total)
	}
	if code, _ := admin.get(mustResults(t, alice, ids[0])[0]); code != http.StatusOK {
		t.Errorf("admin reading an output: %d", code)
	}
	for _, bad := range []map[string]any{
		{"limit": 0}, {"limit": 101}, {"start": -1}, {"job_id": 5},
	} {
		if code, _ := alice.status(bad); code != http.StatusBadRequest {
			t.Errorf("status %v: %d, want 400", bad, code)
		}
	}
	if code, _ := e.jobs("").status(map[string]any{}); code != http.StatusUnauthorized {
		t.Errorf("status without token: %d", code)
	}
}

func mustResults(tb testing.TB, jc *jobClient, id string) []string {
	tb.Helper()
	_, s := jc.status(map[string]any{"job_id": id})
	var out []string
	for _, r := range s.Results {
		out = append(out, r.OutputImageURL)
	}
	if len(out) == 0 {
		tb.Fatalf("job %s has no results", id)
	}
	return out
}

func TestBannerJobBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	sc := genScene(t, 200, 100, image.Rect(50, 20, 150, 90), 0, 51)
	wrongAspect := image.NewGray(image.Rect(0, 0, 100, 100))
	before := blobCount(t, e.st.Dir())
	cases := []struct {
		name   string
		inputs []productScene
		masks  []image.Image
		fields map[string]string
		code   int
	}{
		{"no dimensions", []productScene{sc}, []image.Image{sc.mask}, nil, http.StatusBadRequest},
		{"11 dimensions", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": strings.Repeat("10x10,", 10) + "10x10"}, http.StatusBadRequest},
		{"no mask", []productScene{sc}, nil, map[string]string{"output_dimensions": "10x10"}, http.StatusBadRequest},
		{"mask aspect", []productScene{sc}, []image.Image{wrongAspect}, map[string]string{"output_dimensions": "10x10"}, http.StatusUnprocessableEntity},
		{"margins", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "minimum_margins": "6px"}, http.StatusBadRequest},
		{"format", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "output_format": "gif"}, http.StatusBadRequest},
		{"jpeg transparent", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "output_format": "jpeg", "background": "transparent"}, http.StatusBadRequest},
		{"background", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "background": "mauve-ish"}, http.StatusBadRequest},
		{"canvas", []productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "canvas_id": "no-such-canvas"}, http.StatusNotFound},
	}
	for _, tc := range cases {
		code, m := jc.submitBanner(tc.inputs, tc.masks, tc.fields)
		if code != tc.code || m["error_message"] == nil || m["error_message"] == "" {
			t.Errorf("%s: %d %v, want %d with error_message", tc.name, code, m, tc.code)
		}
	}
	// A viewer of a canvas may not place outputs on it.
	cv := e.canvas()
	viewerTok := e.newUserToken("viewer")
	var viewerID float64
	for _, u := range func() []any {
		code, b := e.do("GET", "/api/v1/users", "")
		var us []any
		if code == http.StatusOK {
			json.Unmarshal(b, &us)
		}
		return us
	}() {
		if um := u.(map[string]any); um["email"] == "viewer@example.com" {
			viewerID = um["id"].(float64)
		}
	}
	e.mustJSON("POST", "/api/v1/canvases/"+cv+"/permissions", fmt.Sprintf(`{"users":[{"id":%v,"permission":"view"}]}`, viewerID))
	if code, m := e.jobs(viewerTok).submitBanner([]productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10", "canvas_id": cv}); code != http.StatusForbidden {
		t.Errorf("viewer placing on canvas: %d %v, want 403", code, m)
	}
	// JSON: a URL this server may not fetch.
	code, m := jc.postJSON("/v1/banners/with-mask", map[string]any{"input_files": []string{"http://10.0.0.1/a.png"},
		"mask_files": []string{"http://10.0.0.1/m.png"}, "output_dimensions": []any{map[string]any{"width": 10, "height": 10}}})
	if code != http.StatusForbidden {
		t.Errorf("private URL: %d %v, want 403", code, m)
	}
	if after := blobCount(t, e.st.Dir()); after != before {
		t.Errorf("blob files %d -> %d after refused requests", before, after)
	}
	if _, s := jc.status(map[string]any{}); s.Total != 0 {
		t.Errorf("%d jobs stored by refused requests", s.Total)
	}
	if code, _ := e.jobs("nope").submitBanner([]productScene{sc}, []image.Image{sc.mask}, map[string]string{"output_dimensions": "10x10"}); code != http.StatusUnauthorized {
		t.Errorf("bad token: %d", code)
	}
}

func TestBannerJobJSONURLsAndCanvasBroadcast(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	cv := e.canvas()
	sc := genScene(t, 400, 300, image.Rect(150, 60, 260, 280), 2, 61)
	// Put the input and its mask on the canvas, then name them by their URLs.
	upload := func(name string, img image.Image) string {
		body, ct := multipartOf(t, part{"data", name, pngOf(t, img)})
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/canvases/"+cv+"/images", bytes.NewReader(body))
		req.Header.Set("Private-Token", e.token)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var w map[string]any
		json.NewDecoder(resp.Body).Decode(&w)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload: %d %v", resp.StatusCode, w)
		}
		return "/api/v1/canvases/" + cv + "/images/" + w["id"].(string) + "/download"
	}
	inURL, maskURL := upload("in.png", sc.img), e.http.URL+upload("mask.png", sc.mask)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws := e.dial(ctx, cv, "")
	defer ws.CloseNow()
	if m := readMsg(ctx, t, ws); m.Type != "HELLO" {
		t.Fatalf("first message %q", m.Type)
	}
	code, m := jc.postJSON("/v1/banners/with-mask", map[string]any{
		"input_files": []any{map[string]any{"url": inURL}}, "mask_files": []string{maskURL},
		"output_dimensions": []any{map[string]any{"width": 300, "height": 150}, "150x150"},
		"job_labels":        []string{"canvas"}, "minimum_margins": map[string]any{"top": 10, "bottom": 10, "left": 5, "right": 5, "unit": "px"},
		"background": "transparent", "output_format": "png", "canvas_id": cv,
	})
	if code != http.StatusOK {
		t.Fatalf("submit: %d %v", code, m)
	}
	st := jc.wait(m["job_id"].(string))
	if st.Jobs[0].Status != store.JobCompleted || len(st.Results) != 2 {
		t.Fatalf("job: %+v", st)
	}
	want := map[string]bool{}
	for _, r := range st.Results {
		if r.WidgetID == "" {
			t.Fatalf("result without widget: %+v", r)
		}
		want[r.WidgetID] = true
	}
	for len(want) > 0 {
		msg := readMsg(ctx, t, ws)
		if msg.Type != "WIDGET_CREATED" || msg.Widget["widget_type"] != "Image" {
			continue
		}
		id, _ := msg.Widget["id"].(string)
		if !want[id] {
			t.Fatalf("unexpected widget %v", msg.Widget)
		}
		delete(want, id)
	}
	// The widget's file is the output.
	code, img := jc.get(st.Results[0].OutputImageURL)
	if code != http.StatusOK {
		t.Fatalf("output: %d", code)
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/canvases/"+cv+"/images/"+st.Results[0].WidgetID+"/download", nil)
	req.Header.Set("Private-Token", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, img) {
		t.Fatalf("widget download (%d bytes) differs from the output (%d bytes)", len(got), len(img))
	}
	// 300x150 with 10 px top and bottom margins cannot be cut from the
	// 400x300 input around a 220 px tall product: it is scaled down and the
	// sides are padded with the transparent background.
	out := decodePNG(t, img)
	if out.Rect.Dx() != 300 || out.Rect.Dy() != 150 {
		t.Fatalf("output %v, want 300x150", out.Rect)
	}
	if l, r := out.NRGBAAt(0, 75), out.NRGBAAt(299, 75); l.A != 0 || r.A != 0 {
		t.Errorf("padding not transparent: left %v right %v", l, r)
	}
	if c := out.NRGBAAt(150, 75); c.A != 255 {
		t.Errorf("centre pixel %v, want opaque input", c)
	}
}

// BenchmarkBannerJobs runs banner jobs of a 12 MP input with 3 output sizes
// on 2 workers and reports jobs per minute (submission to completion).
func BenchmarkBannerJobs(b *testing.B) {
	e := newLiveEnv(b, server.Config{JobWorkers: 2}, store.Options{}, 0)
	jc := e.jobs(e.token)
	sc := genScene(b, 4000, 3000, image.Rect(1500, 700, 2600, 2700), 2, 71)
	var ibuf bytes.Buffer
	if err := imaging.EncodeJPEG(&ibuf, sc.img, 90); err != nil {
		b.Fatal(err)
	}
	body, ct := multipartOf(b, part{"input_files", "in.jpg", ibuf.Bytes()}, part{"mask_files", "m.png", pngOf(b, sc.mask)},
		part{"output_dimensions", "", []byte("1200x628,1080x1080,300x600")}, part{"minimum_margins", "", []byte("5%")})
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	ids := make([]string, b.N)
	var wg sync.WaitGroup
	for i := range b.N {
		code, resp, _ := jc.do("POST", "/v1/banners/with-mask", body, ct)
		if code != http.StatusOK {
			b.Fatalf("submit: %d %s", code, resp)
		}
		var m map[string]any
		json.Unmarshal(resp, &m)
		ids[i] = m["job_id"].(string)
	}
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if s := jc.wait(id); s.Jobs[0].Status != store.JobCompleted {
				b.Errorf("job %s: %s", id, s.ErrorMessage)
			}
		}(id)
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Minutes(), "jobs/min")
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/job")
}

// BenchmarkRemoveBackgroundHTTP10MP times POST /v1/remove-background of a
// 10 MP JPEG end to end (upload, decode, removal, PNG encode, answer) and
// reports the p50.
func BenchmarkRemoveBackgroundHTTP10MP(b *testing.B) {
	e := newLiveEnv(b, server.Config{}, store.Options{}, 0)
	jc := e.jobs(e.token)
	sc := genScene(b, 3650, 2740, image.Rect(1200, 500, 2400, 2400), 2, 91)
	var ibuf bytes.Buffer
	if err := imaging.EncodeJPEG(&ibuf, sc.img, 90); err != nil {
		b.Fatal(err)
	}
	body, ct := multipartOf(b, part{"image_file", "in.jpg", ibuf.Bytes()})
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		t0 := time.Now()
		code, resp, _ := jc.do("POST", "/v1/remove-background", body, ct)
		if code != http.StatusOK {
			b.Fatalf("%d %s", code, resp)
		}
		durs = append(durs, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCropParamsParsing(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, server.Config{}, store.Options{NoSync: true}, 0)
	jc := e.jobs(e.token)
	sc := genScene(t, 120, 90, image.Rect(40, 20, 80, 80), 0, 101)
	img := pngOf(t, sc.img)
	align := func(fields map[string]any) (int, []byte) {
		fields["image_file"] = img
		var parts []part
		for k, v := range fields {
			switch v := v.(type) {
			case []byte:
				parts = append(parts, part{k, "p.png", v})
			case string:
				parts = append(parts, part{k, "", []byte(v)})
			}
		}
		body, ct := multipartOf(t, parts...)
		code, b, _ := jc.do("POST", "/v1/auto-resize-align", body, ct)
		return code, b
	}
	for _, tc := range []struct {
		margins, dim string
		code         int
	}{
		{"10%", "100x100", 200}, {"8px", "100x100", 200}, {"8", "100x100", 200}, {"1px 2px 3px 4px", "100x100", 200},
		{`{"top":5,"bottom":5,"unit":"%"}`, "100x100", 200}, {"0", "match_to_original", 200},
		{"5em", "100x100", 400}, {"10px 5%", "100x100", 400}, {"-3px", "100x100", 400}, {`{"top":1,"unit":"cm"}`, "100x100", 400},
		{"1 2 3 4 5", "100x100", 400}, {"50%", "100x100", 400}, {"8px", "0x5", 400}, {"8px", "abc", 400}, {"8px", "20000x10", 400},
	} {
		if code, b := align(map[string]any{"minimum_margins": tc.margins, "output_dimension": tc.dim}); code != tc.code {
			t.Errorf("margins %q dim %q: %d %s, want %d", tc.margins, tc.dim, code, b, tc.code)
		}
	}
	// CSS order: "10px 20px" is 10 top and bottom, 20 left and right. A
	// wide output makes the height the limit: the product spans 10..90.
	code, b := align(map[string]any{"minimum_margins": "10px 20px", "output_dimension": "200x100", "background": "#000000"})
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	sb := subjectBounds(decodePNG(t, b))
	if sb.Min.Y < 9 || sb.Max.Y > 91 || sb.Min.Y > 11 || sb.Max.Y < 89 || sb.Min.X < 20 || sb.Max.X > 180 {
		t.Errorf("product at %v in 200x100 with 10px 20px margins", sb)
	}
	// The operation metrics are exported.
	resp, err := http.Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`canvasd_operation_duration_seconds_count{op="auto_align"}`, "canvasd_job_queue_depth"} {
		if !bytes.Contains(m, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
