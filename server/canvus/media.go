package canvus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"

	"github.com/canvasd/canvasd/imaging/media"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// mediaTypes is the Content-Type of each stored media format.
var mediaTypes = map[string]string{
	"pdf":                    "application/pdf",
	media.ContainerMP4:       "video/mp4",
	media.ContainerQuickTime: "video/quicktime",
	media.ContainerWebM:      "video/webm",
	media.ContainerMatroska:  "video/x-matroska",
}

// CreateMedia answers POST /canvases/:id/pdfs and /videos: a multipart
// upload of a mandatory data part (the file) and an optional json part (the
// widget's fields), as for images. The file is checked before anything is
// stored: a PDF must open in poppler's pdfinfo (its page count and first
// page size are kept), a video must be an MP4, QuickTime, WebM or Matroska
// file whose header gives its frame size (and duration, when it says). The
// widget's size defaults to the page size in points or the frame size in
// pixels.
func (s *API) CreateMedia(typ string) gin.HandlerFunc {
	what := map[string]string{"Pdf": "PDF", "Video": "Video"}[typ]
	return func(c *gin.Context) {
		parts, ok := s.uploadParts(c)
		if !ok {
			return
		}
		data := parts["data"]
		if data == nil {
			core.CanvusError(c, http.StatusBadRequest, "Missing 'data' part: the "+what+" file is required")
			return
		}
		body := map[string]json.RawMessage{}
		if !decodeJSONPart(c, parts, &body) {
			return
		}
		s.createMedia(c, typ, data, body)
	}
}

// createMedia makes a PDF or video widget of the file data with the fields
// of body (a json part), and answers it (CreateMedia, UploadToFolder).
func (s *API) createMedia(c *gin.Context, typ string, data *core.UploadPart, body map[string]json.RawMessage) {
	w := &store.Widget{ID: uuid.NewString(), CanvasID: core.CanvasOf(c).ID, Type: typ, Props: core.DefaultProps(typ)}
	var ok2 bool
	if typ == "Pdf" {
		ok2 = s.probePDF(c, w, data.Data)
	} else {
		ok2 = s.probeVideo(c, w, data.Data)
	}
	if !ok2 {
		return
	}
	w.Filename = data.Filename
	w.Props["original_filename"] = data.Filename

	// The json part is checked before the blob file is written, so a
	// refused upload leaves no file behind; the write checks again.
	if err := s.St.View(func(tx *store.Tx) error {
		probe := *w
		probe.Props = copyProps(w.Props)
		probe.Props["parent_id"] = rootOf(tx, probe.CanvasID)
		_, err := applyProps(tx, &probe, body, true)
		return err
	}); err != nil {
		core.CanvusStoreError(c, err, typ)
		return
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = s.storeMedia(data.Data, w, body)
		if !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			break
		}
	}
	if err != nil {
		core.CanvusStoreError(c, err, typ)
		return
	}
	c.JSON(http.StatusOK, w.Public())
	s.fillHashLater(w.CanvasID, w.ID, w.Blob)
}

// storeMedia writes the blob file, then the widget in one transaction.
func (s *API) storeMedia(data []byte, w *store.Widget, body map[string]json.RawMessage) error {
	h, err := s.St.PutBlobFile(data)
	if err != nil {
		return err
	}
	return s.St.Write(func(tx *store.Tx) error {
		nw := *w
		nw.Blob = h
		nw.Props = copyProps(w.Props)
		nw.Props["parent_id"] = rootOf(tx, nw.CanvasID)
		raise, err := applyProps(tx, &nw, body, true)
		if err != nil {
			return err
		}
		if _, given := body["depth"]; !given || raise {
			top, err := core.TopDepth(tx, nw.CanvasID, nw.ParentID(), nw.ID)
			if err != nil {
				return err
			}
			nw.Props["depth"] = top + 1
		}
		if err := tx.AddBlobRef(h); err != nil {
			return err
		}
		*w = nw
		return tx.CreateWidget(&nw)
	})
}

// probePDF reads the page count and first page size with pdfinfo, holding
// one operation slot of the decode guard so that concurrent uploads cannot
// start unbounded poppler processes.
func (s *API) probePDF(c *gin.Context, w *store.Widget, data []byte) bool {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		core.CanvusError(c, http.StatusBadRequest, "File in 'data' is not a PDF: no %PDF- header")
		return false
	}
	f, err := os.CreateTemp("", "canvasd-*.pdf")
	if err != nil {
		core.CanvusStoreError(c, err, "Pdf")
		return false
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		core.CanvusStoreError(c, err, "Pdf")
		return false
	}
	var info media.PDFInfo
	s.WithDecodeSlot(c, core.CanvusError, 0, func() {
		info, err = media.PDFTools{}.Info(c.Request.Context(), f.Name())
	})
	if c.IsAborted() {
		return false
	}
	switch {
	case errors.Is(err, media.ErrBadPDF):
		core.CanvusError(c, http.StatusBadRequest, "File in 'data' is not a readable PDF: "+strings.TrimPrefix(err.Error(), media.ErrBadPDF.Error()+": "))
		return false
	case errors.Is(err, media.ErrNoPDFTools):
		s.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Msg("pdf upload")
		core.CanvusError(c, http.StatusServiceUnavailable, "This server cannot read PDFs: poppler-utils is not installed")
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		core.CanvusError(c, http.StatusServiceUnavailable, "Reading the PDF took too long")
		return false
	case err != nil:
		s.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Msg("pdf upload")
		core.CanvusError(c, http.StatusBadRequest, "File in 'data' could not be read as a PDF")
		return false
	}
	w.Format, w.Pages = "pdf", info.Pages
	if info.Width > 0 && info.Height > 0 && info.Width < 1e6 && info.Height < 1e6 {
		w.Props["size"] = map[string]any{"width": math.Round(info.Width), "height": math.Round(info.Height)}
	}
	return true
}

// probeVideo reads the container header: no frame is decoded.
func (s *API) probeVideo(c *gin.Context, w *store.Widget, data []byte) bool {
	info, err := media.ProbeVideo(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		msg := "File in 'data' is not an MP4, QuickTime, WebM or Matroska video"
		if errors.Is(err, media.ErrBadVideo) {
			msg = fmt.Sprintf("File in 'data' is a damaged video: %v", strings.TrimPrefix(err.Error(), media.ErrBadVideo.Error()+": "))
		}
		core.CanvusError(c, http.StatusBadRequest, msg)
		return false
	}
	if info.Width == 0 || info.Height == 0 {
		core.CanvusError(c, http.StatusBadRequest, "File in 'data' has no video track")
		return false
	}
	w.Format, w.PixelW, w.PixelH, w.DurationMS = info.Container, info.Width, info.Height, info.Duration.Milliseconds()
	w.Props["size"] = map[string]any{"width": float64(info.Width), "height": float64(info.Height)}
	return true
}

// DownloadMedia answers GET …/pdfs/:wid/download and …/videos/:wid/download:
// the file as uploaded, as an attachment with its original name.
func (s *API) DownloadMedia(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		w, ok := s.loadWidget(c, typ)
		if !ok {
			return
		}
		name := w.Filename
		if fn, _ := w.Props["original_filename"].(string); fn != "" {
			name = fn
		}
		ctype := mediaTypes[w.Format]
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		s.ServeBlob(c, w.Blob, ctype, core.ContentDisposition(name), core.CanvusError)
	}
}
