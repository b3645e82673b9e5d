package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/canvasd/canvasd/imaging/media"
)

func mediaFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "imaging", "media", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadMedia creates a Pdf or Video widget (kind "pdfs" or "videos") from
// the committed fixtures and waits for its background hash update.
func (e *testEnv) uploadMedia(token string, c testCanvas, kind, title string) string {
	e.t.Helper()
	file := map[string]string{"pdfs": "two-pages.pdf", "videos": "clip.webm"}[kind]
	id := e.upload(c.path("/"+kind), token, testPart{Name: "data", Filename: file, Data: mediaFixture(e.t, file)},
		testPart{Name: "json", Data: []byte(`{"title":"` + title + `"}`)}).expect(e.t, 200).obj(e.t).id()
	e.eventually(kind+" hash", func() bool { return e.mustJSON("GET", c.path("/"+kind+"/"+id), token, nil, 200).str("hash") != "" })
	return id
}

// TestPdfWidgets: upload, list, get, download, patch (index within the
// page count) and delete a PDF, as the Canvus reference describes; a file
// that is not a PDF answers 400 and stores nothing.
func TestPdfWidgets(t *testing.T) {
	if err := (media.PDFTools{}).Check(); err != nil {
		t.Fatalf("%v", err) // poppler-utils is a test dependency (.ci/run installs it)
	}
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "pdfs")
	pdf := mediaFixture(t, "two-pages.pdf")

	w := e.upload(c.path("/pdfs"), e.Admin, testPart{Name: "data", Filename: "report.pdf", Data: pdf},
		testPart{Name: "json", Data: []byte(`{"title":"A PDF","location":{"x":10,"y":20}}`)}).expect(t, 200).obj(t)
	if w.str("widget_type") != "Pdf" || w.str("title") != "A PDF" || w.num("index") != 1 || w.str("original_filename") != "report.pdf" || w.str("parent_id") != c.Root {
		t.Errorf("created %v", w)
	}
	// The size defaults to the first page's, in points (200x100).
	if sz := w.obj("size"); sz.num("width") != 200 || sz.num("height") != 100 {
		t.Errorf("size %v, want the page's 200x100", sz)
	}
	id := w.id()
	e.eventually("pdf hash", func() bool {
		return len(e.mustJSON("GET", c.path("/pdfs/"+id), e.Admin, nil, 200).str("hash")) == 12
	})
	list := e.doJSON("GET", c.path("/pdfs"), e.Admin, nil).expect(t, 200).list(t)
	if len(list) != 1 || list[0].id() != id {
		t.Errorf("list %v", list)
	}
	dl := e.do("GET", c.path("/pdfs/"+id+"/download"), e.Admin, nil, "").expect(t, 200)
	if !bytes.Equal(dl.Body, pdf) || dl.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: %d bytes, %q", len(dl.Body), dl.Header.Get("Content-Type"))
	}
	if got := e.mustJSON("PATCH", c.path("/pdfs/"+id), e.Admin, map[string]any{"index": 2}, 200); got.num("index") != 2 {
		t.Errorf("patched index %v", got["index"])
	}
	e.doJSON("PATCH", c.path("/pdfs/"+id), e.Admin, map[string]any{"index": 3}).expectMsg(t, 400, "has 2 pages")
	e.doJSON("PATCH", c.path("/pdfs/"+id), e.Admin, map[string]any{"index": 1.5}).expect(t, 400)
	// A Pdf is not a note.
	e.doJSON("GET", c.path("/notes/"+id), e.Admin, nil).expect(t, 404)

	before := len(e.blobFiles())
	e.upload(c.path("/pdfs"), e.Admin, testPart{Name: "data", Filename: "x.pdf", Data: []byte("%PDF-1.4\nnot really\n")}).expectMsg(t, 400, "not a readable PDF")
	e.upload(c.path("/pdfs"), e.Admin, testPart{Name: "data", Filename: "x.pdf", Data: testPNG(t, 8, 8)}).expectMsg(t, 400, "not a PDF")
	e.upload(c.path("/pdfs"), e.Admin, testPart{Name: "json", Data: []byte(`{}`)}).expectMsg(t, 400, "Missing 'data'")
	if after := len(e.blobFiles()); after != before {
		t.Errorf("refused uploads left %d blob files", after-before)
	}

	e.doJSON("DELETE", c.path("/pdfs/"+id), e.Admin, nil).expect(t, 200)
	e.doJSON("GET", c.path("/pdfs/"+id), e.Admin, nil).expect(t, 404)
	e.eventually("the PDF's blob file released", func() bool { return len(e.blobFiles()) == before-1 })
}

// TestVideoWidgets: a video's size comes from its container header, its
// playback fields are checked, and it downloads as uploaded.
func TestVideoWidgets(t *testing.T) {
	e := newTestEnv(t)
	c := e.createCanvas(e.Admin, "videos")
	for _, fx := range []struct {
		file, ctype string
		w, h        float64
	}{
		{"clip.mp4", "video/mp4", 160, 90},
		{"clip.webm", "video/webm", 160, 90},
		{"clip.mov", "video/quicktime", 120, 200},
	} {
		data := mediaFixture(t, fx.file)
		w := e.upload(c.path("/videos"), e.Admin, testPart{Name: "data", Filename: fx.file, Data: data},
			testPart{Name: "json", Data: []byte(`{"title":"A video"}`)}).expect(t, 200).obj(t)
		if w.str("widget_type") != "Video" || w.str("playback_state") != "STOPPED" || w.num("playback_position") != 0 || w.str("title") != "A video" {
			t.Errorf("%s: created %v", fx.file, w)
		}
		if sz := w.obj("size"); sz.num("width") != fx.w || sz.num("height") != fx.h {
			t.Errorf("%s: size %v, want %vx%v from the container", fx.file, sz, fx.w, fx.h)
		}
		dl := e.do("GET", c.path("/videos/"+w.id()+"/download"), e.Admin, nil, "").expect(t, 200)
		if !bytes.Equal(dl.Body, data) || dl.Header.Get("Content-Type") != fx.ctype {
			t.Errorf("%s: download %d bytes, %q", fx.file, len(dl.Body), dl.Header.Get("Content-Type"))
		}
		got := e.mustJSON("PATCH", c.path("/videos/"+w.id()), e.Admin, map[string]any{"playback_state": "PLAYING", "playback_position": 0.5}, 200)
		if got.str("playback_state") != "PLAYING" || got.num("playback_position") != 0.5 {
			t.Errorf("%s: patched %v", fx.file, got)
		}
	}
	list := e.doJSON("GET", c.path("/videos"), e.Admin, nil).expect(t, 200).list(t)
	if len(list) != 3 {
		t.Fatalf("list has %d videos, want 3", len(list))
	}
	id := list[0].id()
	e.doJSON("PATCH", c.path("/videos/"+id), e.Admin, map[string]any{"playback_state": "DANCING"}).expectMsg(t, 400, "STOPPED, PLAYING, PAUSED")
	e.doJSON("PATCH", c.path("/videos/"+id), e.Admin, map[string]any{"playback_position": -1}).expect(t, 400)
	e.upload(c.path("/videos"), e.Admin, testPart{Name: "data", Filename: "x.mp4", Data: testPNG(t, 8, 8)}).expectMsg(t, 400, "not an MP4")
	cut := mediaFixture(t, "clip.mp4")
	e.upload(c.path("/videos"), e.Admin, testPart{Name: "data", Filename: "cut.mp4", Data: cut[:len(cut)-300]}).expectMsg(t, 400, "damaged video")
	e.doJSON("DELETE", c.path("/videos/"+id), e.Admin, nil).expect(t, 200)
	if n := len(e.doJSON("GET", c.path("/videos"), e.Admin, nil).expect(t, 200).list(t)); n != 2 {
		t.Errorf("%d videos after delete, want 2", n)
	}
}
