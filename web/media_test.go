package web_test

// Issue 16, media: PDF and video widgets in the browser client (upload
// through the Image tool's file picker, the PDF's page from the server's
// mipmaps, page turning, video playback state), browser (URL) widgets as
// link cards, and the canvas list's thumbnails from the server's canvas
// preview. Real Chromium against a real server; poppler renders the pages.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/internal/pdfgen"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// mediaNeedPoppler fails under CI (skips elsewhere) without pdfinfo.
func mediaNeedPoppler(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		const install = "apt-get install -y poppler-utils"
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
			t.Fatalf("no pdfinfo: %v; install it: %s (CI is set: a missing dependency fails the run)", err, install)
		}
		t.Skipf("no pdfinfo: %v; install it: %s", err, install)
	}
}

// mediaPDF writes a real three-page PDF: page 1 is 200×100 pt, its left
// half red and its right half blue; page 2 is a 100×100 pt green square;
// page 3 is blank.
func mediaPDF() []byte {
	red := "1 0 0 rg 0 0 100 100 re f\n0 0 1 rg 100 0 100 100 re f\n"
	green := "0 0.6 0 rg 0 0 100 100 re f\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 5 0 R 7 0 R] /Count 3 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(red), red),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 6 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(green), green),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> >>",
	}
	return pdfgen.Write(objs)
}

// mediaUpload creates a PDF or video widget (route "pdfs" or "videos")
// through the Canvus API.
func (e *env) mediaUpload(token, cid, route, name string, data []byte, meta map[string]any) map[string]any {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	j, _ := json.Marshal(meta)
	mw.WriteField("json", string(j))
	fw, _ := mw.CreateFormFile("data", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/canvases/"+cid+"/"+route, &buf)
	req.Header.Set("Private-Token", token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var w map[string]any
	json.NewDecoder(res.Body).Decode(&w)
	if res.StatusCode != 200 {
		e.t.Fatalf("upload %s: status %d %v", name, res.StatusCode, w)
	}
	return w
}

// mediaGet answers the status, ETag and body of a GET as the holder of token.
func (e *env) mediaGet(token, path string, hdr map[string]string) (int, string, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
	req.Header.Set("Private-Token", token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("ETag"), b
}

// mediaOfType is the canvas's only widget of type typ, or nil.
func (e *env) mediaOfType(t *testing.T, token, cid, typ string) map[string]any {
	t.Helper()
	ws := e.wbOfType(token, cid, typ)
	if len(ws) > 1 {
		t.Fatalf("%d %s widgets, want at most 1", len(ws), typ)
	}
	if len(ws) == 0 {
		return nil
	}
	return ws[0]
}

// mediaNear reports whether an "r,g,b" pixel is within 8 levels of (r, g, b).
func mediaNear(px string, r, g, b int) bool {
	var pr, pg, pb int
	if _, err := fmt.Sscanf(px, "%d,%d,%d", &pr, &pg, &pb); err != nil {
		return false
	}
	return max(pr-r, r-pr) <= 8 && max(pg-g, g-pg) <= 8 && max(pb-b, b-pb) <= 8
}

// mediaMaxDiff is the largest difference of two same-length byte slices
// (255 when their lengths differ).
func mediaMaxDiff(a, b []byte) int {
	if len(a) != len(b) {
		return 255
	}
	m := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		m = max(m, d, -d)
	}
	return m
}

// mediaPagePixel reads the colour of the shown PDF page at fractions
// (fx, fy) of its image, as "r,g,b".
const mediaPagePixel = `((fx, fy) => {
  const img = document.querySelector('.w-pdf img.pdf-page');
  if (!img || !img.complete || !img.naturalWidth) return '';
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data;
  return d[0] + ',' + d[1] + ',' + d[2];
})`

func TestMediaWidgets(t *testing.T) {
	mediaNeedPoppler(t)
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	bob := e.newUser("Bob Chen", false)
	dir := t.TempDir()

	t.Run("a PDF uploaded with the Image tool's picker shows its page; next page changes index on the server", func(t *testing.T) {
		cid := e.newCanvas(alice, "PDF", nil)
		e.wbNote(alice.Token, cid, "agenda", -400, 0, 200, 150)
		a := e.wbOpen(t, alice.Token, cid)
		accept := evalJS[string](t, a, `document.querySelector('#file-input').accept`)
		if !strings.Contains(accept, "application/pdf") || !strings.Contains(accept, "video/") {
			t.Fatalf("the file picker accepts %q: no PDFs or videos", accept)
		}
		pdf := filepath.Join(dir, "report.pdf")
		if err := os.WriteFile(pdf, mediaPDF(), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, a, "pick the PDF", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{pdf}))
		var w map[string]any
		wbWait(t, "a Pdf widget on the server", 10*time.Second, func() bool { w = e.mediaOfType(t, alice.Token, cid, "Pdf"); return w != nil })
		if w["title"] != "report" || w["index"] != 1.0 {
			t.Fatalf("uploaded PDF: title %v index %v, want report and 1", w["title"], w["index"])
		}
		// Page 1, as the server's page image: red on the left, blue on the right.
		waitJS(t, a, "page 1 drawn", `(() => { const el = document.querySelector('.w-pdf'); const img = el && el.querySelector('img.pdf-page'); return !!img && img.complete && img.naturalWidth > 0 && el.dataset.shownPage === '1' && el.dataset.pages === '3'; })()`, 15*time.Second)
		left := evalJS[string](t, a, mediaPagePixel+`(0.25, 0.5)`)
		right := evalJS[string](t, a, mediaPagePixel+`(0.75, 0.5)`)
		// The page is a lossy WebP level: colours within a few levels.
		if !mediaNear(left, 255, 0, 0) || !mediaNear(right, 0, 0, 255) {
			t.Fatalf("page 1 pixels: left %q right %q, want red and blue", left, right)
		}
		nw := evalJS[float64](t, a, `document.querySelector('.w-pdf img.pdf-page').naturalWidth`)
		nh := evalJS[float64](t, a, `document.querySelector('.w-pdf img.pdf-page').naturalHeight`)
		if nw != 2*nh {
			t.Fatalf("page 1 image is %vx%v, want the 2:1 page", nw, nh)
		}
		if got := evalJS[string](t, a, `document.querySelector('.w-pdf .pdf-pageno').textContent`); got != "1 / 3" {
			t.Fatalf("page label %q, want 1 / 3", got)
		}
		if !evalJS[bool](t, a, `document.querySelector('.w-pdf .pdf-prev').disabled`) {
			t.Fatal("previous page is enabled on page 1")
		}
		wbShot(t, a, "media-pdf-page1")

		run(t, a, "next page", chromedp.Click(chromedp.CSS(".w-pdf .pdf-next")))
		wbWait(t, "index 2 on the server", 5*time.Second, func() bool { return e.mediaOfType(t, alice.Token, cid, "Pdf")["index"] == 2.0 })
		waitJS(t, a, "page 2 drawn", `(() => { const el = document.querySelector('.w-pdf'); const img = el.querySelector('img.pdf-page'); return el.dataset.shownPage === '2' && img.complete && img.naturalWidth > 0 && img.naturalWidth === img.naturalHeight; })()`, 15*time.Second)
		if px := evalJS[string](t, a, mediaPagePixel+`(0.5, 0.5)`); !mediaNear(px, 0, 153, 0) {
			t.Fatalf("page 2 centre pixel %q, want the green square 0,153,0", px)
		}
		// Undo turns the page back, on the server too.
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbWait(t, "index 1 again after undo", 5*time.Second, func() bool { return e.mediaOfType(t, alice.Token, cid, "Pdf")["index"] == 1.0 })

		// A page turn made elsewhere (the API) shows here.
		e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/widgets/"+w["id"].(string), map[string]any{"index": 3}, nil)
		waitJS(t, a, "page 3 drawn", `(() => { const el = document.querySelector('.w-pdf'); const img = el.querySelector('img.pdf-page'); return el.dataset.shownPage === '3' && img.complete && img.naturalWidth > 0 && document.querySelector('.w-pdf .pdf-next').disabled; })()`, 15*time.Second)
		if px := evalJS[string](t, a, mediaPagePixel+`(0.5, 0.5)`); !mediaNear(px, 255, 255, 255) {
			t.Fatalf("page 3 centre pixel %q, want the blank page", px)
		}

		// Delete, then undo: the PDF comes back (uploaded again from the
		// bytes kept at delete), on the page it was on.
		x, y := at(t, a, ".w-pdf .pdf-sheet", 0.5, 0.3)
		run(t, a, "select the PDF", chromedp.MouseClickXY(x, y))
		waitJS(t, a, "PDF selected", `document.querySelector('.w-pdf').classList.contains('selected')`, 2*time.Second)
		wbKey(t, a, "\x7f") // Delete
		wbWait(t, "the PDF deleted on the server", 5*time.Second, func() bool { return e.mediaOfType(t, alice.Token, cid, "Pdf") == nil })
		wbKey(t, a, "z", chromedp.ModifierCtrl)
		wbWait(t, "the PDF back after undo", 10*time.Second, func() bool {
			p := e.mediaOfType(t, alice.Token, cid, "Pdf")
			return p != nil && p["title"] == "report" && p["index"] == 3.0 && p["id"] != w["id"]
		})
	})

	t.Run("a video plays in the page and its playback state is saved; another viewer follows it", func(t *testing.T) {
		cid := e.newCanvas(alice, "Video", map[uint64]string{bob.ID: "edit"})
		e.wbNote(alice.Token, cid, "watch this", -400, 0, 200, 150)
		clip, err := os.ReadFile(filepath.Join("..", "imaging", "media", "testdata", "clip.webm"))
		if err != nil {
			t.Fatal(err)
		}
		a := e.wbOpen(t, alice.Token, cid)
		b := e.wbOpen(t, bob.Token, cid)
		f := filepath.Join(dir, "clip.webm")
		if err := os.WriteFile(f, clip, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, a, "pick the video", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{f}))
		var w map[string]any
		wbWait(t, "a Video widget on the server", 10*time.Second, func() bool { w = e.mediaOfType(t, alice.Token, cid, "Video"); return w != nil })
		if w["playback_state"] != "STOPPED" || wbNum(w, "size", "width") != 160 || wbNum(w, "size", "height") != 90 {
			t.Fatalf("uploaded video: %v", w)
		}
		waitJS(t, a, "video loaded", `(() => { const v = document.querySelector('.w-video video'); return !!v && v.readyState >= 2 && v.videoWidth === 160; })()`, 10*time.Second)
		run(t, a, "play", chromedp.Click(chromedp.CSS(".w-video .video-play")))
		waitJS(t, a, "video playing", `(() => { const v = document.querySelector('.w-video video'); return !v.paused && v.currentTime > 0.2; })()`, 10*time.Second)
		wbWait(t, "PLAYING on the server", 5*time.Second, func() bool { return e.mediaOfType(t, alice.Token, cid, "Video")["playback_state"] == "PLAYING" })
		// Bob's page plays it too.
		waitJS(t, b, "bob's video plays", `(() => { const v = document.querySelector('.w-video video'); return !!v && !v.paused && v.currentTime > 0; })()`, 10*time.Second)
		wbShot(t, a, "media-video-playing")

		run(t, a, "pause", chromedp.Click(chromedp.CSS(".w-video .video-play")))
		wbWait(t, "PAUSED at a position > 0 on the server", 5*time.Second, func() bool {
			v := e.mediaOfType(t, alice.Token, cid, "Video")
			p, _ := v["playback_position"].(float64)
			return v["playback_state"] == "PAUSED" && p > 0
		})
		waitJS(t, b, "bob's video paused", `document.querySelector('.w-video video').paused`, 5*time.Second)
	})

	t.Run("a browser widget is a link card that opens in a new tab, never an iframe", func(t *testing.T) {
		cid := e.newCanvas(alice, "Links", nil)
		var bw struct{ ID string }
		e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/browsers", map[string]any{"url": "https://example.com/docs?q=1", "title": "Example docs",
			"location": map[string]any{"x": 0, "y": 0}, "size": map[string]any{"width": 480, "height": 300}}, &bw)
		a := e.wbOpen(t, alice.Token, cid)
		waitJS(t, a, "link card", `!!document.querySelector('.w-browser a.browser-open')`, 5*time.Second)
		type card struct {
			Href, Target, Rel, Title string
			Frames                   int
		}
		link := evalJS[card](t, a, `(() => { const a = document.querySelector('.w-browser a.browser-open'); return {href: a.href, target: a.target, rel: a.rel, title: document.querySelector('.w-browser .browser-title').textContent, frames: document.querySelectorAll('iframe, object, embed').length}; })()`)
		if link.Href != "https://example.com/docs?q=1" || link.Target != "_blank" || !strings.Contains(link.Rel, "noopener") || link.Title != "Example docs" || link.Frames != 0 {
			t.Fatalf("browser card: %+v", link)
		}
	})
}

func TestCanvasListThumbnails(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	full := e.newCanvas(alice, "Quarterly review", nil)
	e.wbNote(alice.Token, full, "Revenue up 12%", 0, 0, 300, 200)
	e.wbNote(alice.Token, full, "Hiring plan", 360, 40, 260, 180)
	e.uploadImage(alice.Token, full, "chart.png", chartPNG(480, 300), map[string]any{"location": map[string]any{"x": 60, "y": 280}})
	empty := e.newCanvas(alice, "Blank", nil)

	// The server's preview of each: a PNG with an ETag, and 404 when empty.
	code, etag, want := e.mediaGet(alice.Token, "/api/v1/canvases/"+full+"/preview", nil)
	if code != 200 || etag == "" || !bytes.HasPrefix(want, []byte("\x89PNG")) {
		t.Fatalf("preview: %d %q %d bytes", code, etag, len(want))
	}
	if code, _, _ := e.mediaGet(alice.Token, "/api/v1/canvases/"+empty+"/preview", nil); code != 404 {
		t.Fatalf("empty canvas preview: %d, want 404", code)
	}

	ctx, console := e.cspTab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
	defer checkNoCSPViolations(t, ctx, "list", console)
	// Every preview answer the page gets, by status.
	statuses := make(chan int64, 64)
	if err := chromedp.Listen(ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && strings.HasSuffix(r.Response.URL, "/"+full+"/preview") {
			statuses <- r.Response.Status
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf(`.canvas-card[data-id=%q]`, full)
	waitJS(t, ctx, "thumbnail shown", `(() => { const img = document.querySelector('`+card+` .card-preview img'); return !!img && img.complete && img.naturalWidth > 0; })()`, 10*time.Second)
	// The page's CSP (connect-src 'self') keeps its blob: URLs from being
	// fetched: the shown image's pixels are read through a canvas.
	got := evalJS[string](t, ctx, `(() => {
		const img = document.querySelector('`+card+` .card-preview img');
		const c = document.createElement('canvas');
		c.width = img.naturalWidth; c.height = img.naturalHeight;
		const g = c.getContext('2d');
		g.drawImage(img, 0, 0);
		const d = g.getImageData(0, 0, c.width, c.height).data;
		let s = ''; for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
		return c.width + 'x' + c.height + ':' + btoa(s);
	})()`)
	dims, b64, _ := strings.Cut(got, ":")
	shown, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	rb := ref.Bounds()
	if wantDims := fmt.Sprintf("%dx%d", rb.Dx(), rb.Dy()); dims != wantDims || rb.Dx() == 0 {
		t.Fatalf("thumbnail is %s, the preview PNG %s", dims, wantDims)
	}
	refRGBA := image.NewNRGBA(rb)
	draw.Draw(refRGBA, rb, ref, rb.Min, draw.Src)
	if diff := mediaMaxDiff(shown, refRGBA.Pix); diff > 1 {
		t.Fatalf("the thumbnail's pixels differ from the server's preview PNG by up to %d levels", diff)
	}
	// The empty canvas shows a placeholder, not a broken image.
	ecard := fmt.Sprintf(`.canvas-card[data-id=%q]`, empty)
	waitJS(t, ctx, "empty placeholder", `(() => { const t = document.querySelector('`+ecard+` .thumb'); return !!t && t.dataset.state === 'empty' && !t.querySelector('img') && t.textContent.includes('Empty canvas'); })()`, 10*time.Second)
	wbShot(t, ctx, "media-list")

	// Back to the list after a visit: the image is revalidated by its ETag (304), not fetched again.
	select {
	case s := <-statuses:
		if s != 200 {
			t.Fatalf("first preview answer %d, want 200", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no preview response seen")
	}
	run(t, ctx, "open the canvas", chromedp.Click(chromedp.CSS(card+` .card-name`)))
	waitJS(t, ctx, "canvas open", `!!document.querySelector('#viewport')`, 5*time.Second)
	evalJS[bool](t, ctx, `(history.back(), true)`)
	waitJS(t, ctx, "thumbnail again", `(() => { const img = document.querySelector('`+card+` .card-preview img'); return !!img && img.complete && img.naturalWidth > 0; })()`, 10*time.Second)
	// A new list page asks again with If-None-Match; the canvas did not
	// change, so the answer is a 304 and the kept image stays.
	select {
	case s := <-statuses:
		if s != 304 {
			t.Fatalf("preview asked again: %d, want 304 (If-None-Match with the ETag)", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the list did not revalidate the preview")
	}
}

// mediaTextPDF writes a real one-page US-letter PDF with a title, a few
// lines of text and a bar chart, drawn with the standard Helvetica font.
func mediaTextPDF() []byte {
	var c strings.Builder
	c.WriteString("0.31 0.27 0.9 rg 0 742 612 50 re f\n")
	c.WriteString("BT /F1 22 Tf 1 1 1 rg 48 760 Td (Launch plan: Q3 review) Tj ET\n")
	lines := []string{"Goals", "- Ship the canvas client to every team", "- Halve onboarding time", "- Keep uptime above 99.9%", "", "Revenue by quarter"}
	y := 700
	for i, l := range lines {
		size := 13
		if i == 0 || i == len(lines)-1 {
			size = 16
		}
		fmt.Fprintf(&c, "BT /F1 %d Tf 0.11 0.13 0.19 rg 48 %d Td (%s) Tj ET\n", size, y, l)
		y -= 26
	}
	for i, h := range []int{120, 170, 150, 230} {
		fmt.Fprintf(&c, "0.39 0.4 0.95 rg %d 300 60 %d re f\n", 80+i*110, h)
		fmt.Fprintf(&c, "BT /F1 12 Tf 0.3 0.32 0.4 rg %d 280 Td (Q%d) Tj ET\n", 100+i*110, i+1)
	}
	content := c.String()
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	return pdfgen.Write(objs)
}

// TestMediaReadme makes the README's media screenshots from a real run
// (-update writes docs/screenshots/media.png and canvas-list.png): a
// canvas with a PDF, a playing video, a link card and notes, and the
// canvas list with the previews of four canvases.
func TestMediaReadme(t *testing.T) {
	mediaNeedPoppler(t)
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	at := func(x, y, w, h float64) map[string]any {
		return map[string]any{"location": map[string]any{"x": x, "y": y}, "size": map[string]any{"width": w, "height": h}}
	}
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }

	retro := e.newCanvas(alice, "Team retro", nil)
	e.wbNote(alice.Token, retro, "What went well", 0, 0, 260, 200)
	e.wbNote(alice.Token, retro, "What to change", 300, 0, 260, 200)
	e.wbNote(alice.Token, retro, "Actions", 600, 0, 260, 200)
	e.newCanvas(alice, "Blank", nil)
	review := e.newCanvas(alice, "Quarterly review", nil)
	e.uploadImage(alice.Token, review, "chart.png", chartPNG(480, 300), with(at(0, 0, 480, 300), "title", "Revenue"))
	e.wbNote(alice.Token, review, "Revenue up 12%", 520, 0, 260, 160)
	e.wbNote(alice.Token, review, "Hiring plan", 520, 190, 260, 110)

	launch := e.newCanvas(alice, "Launch plan", nil)
	pdf := e.mediaUpload(alice.Token, launch, "pdfs", "launch-plan.pdf", mediaTextPDF(), with(at(0, 0, 408, 528), "title", "Launch plan.pdf"))
	clip, err := os.ReadFile(filepath.Join("..", "imaging", "media", "testdata", "clip.webm"))
	if err != nil {
		t.Fatal(err)
	}
	e.mediaUpload(alice.Token, launch, "videos", "demo.webm", clip, with(at(448, 0, 480, 270), "title", "Product demo"))
	var bw struct{ ID string }
	e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+launch+"/browsers", with(with(at(448, 310, 480, 218), "url", "https://example.com/launch/checklist"), "title", "Launch checklist"), &bw)
	e.wbNote(alice.Token, launch, "Demo at the all-hands on Friday", 968, 0, 240, 180)

	a := e.wbOpen(t, alice.Token, launch)
	evalJS[bool](t, a, `(() => { const v = window.__canvasd.view; v.view = {x: 40, y: 80, z: 0.85}; v.render(); return true; })()`)
	waitJS(t, a, "the PDF page is drawn", `(() => { const img = document.querySelector('.w-pdf img.pdf-page'); return !!img && img.complete && img.naturalWidth > 0; })()`, 15*time.Second)
	waitJS(t, a, "the video is loaded", `(() => { const v = document.querySelector('.w-video video'); return !!v && v.readyState >= 2; })()`, 10*time.Second)
	run(t, a, "play", chromedp.Click(chromedp.CSS(".w-video .video-play")))
	waitJS(t, a, "the video plays", `(() => { const v = document.querySelector('.w-video video'); return !v.paused && v.currentTime > 0.3; })()`, 10*time.Second)
	run(t, a, "pause", chromedp.Click(chromedp.CSS(".w-video .video-play")))
	wbWait(t, "PAUSED stored", 5*time.Second, func() bool { return e.mediaOfType(t, alice.Token, launch, "Video")["playback_state"] == "PAUSED" })
	moveMouse(t, a, 1200, 700)
	if got := e.mediaOfType(t, alice.Token, launch, "Pdf")["id"]; got != pdf["id"] {
		t.Fatalf("pdf %v, want %v", got, pdf["id"])
	}
	wb3Readme(t, a, "media")

	l, console := e.cspTab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
	defer checkNoCSPViolations(t, l, "list", console)
	waitJS(t, l, "every thumbnail", `(() => { const ts = [...document.querySelectorAll('.canvas-card .thumb')]; return ts.length === 4 && ts.every((t) => t.dataset.state === 'empty' || (t.dataset.state === 'image' && t.querySelector('img').complete && t.querySelector('img').naturalWidth > 0)) && ts.filter((t) => t.dataset.state === 'image').length === 3; })()`, 15*time.Second)
	wb3Readme(t, l, "canvas-list")
}
