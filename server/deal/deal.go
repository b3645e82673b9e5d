package deal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// The deal-canvas image pipeline dialect: /api/canvas/{deal_id}/images/...
// A deal_id is a canvas id and an element_id a widget id.

// DealFail answers in the deal dialect, with FastAPI's wording for 401.
func DealFail(c *gin.Context, code int, msg string) {
	if code == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", "Bearer")
		msg = "Not authenticated"
	}
	core.DetailError(c, code, msg)
}

func boxOf(b *[4]float64) *imaging.Box {
	if b == nil {
		return nil
	}
	return &imaging.Box{X: b[0], Y: b[1], W: b[2], H: b[3]}
}

// loadElement reads the image element for the deal routes.
func (s *API) loadElement(c *gin.Context) (*store.Widget, bool) {
	var w *store.Widget
	err := s.St.View(func(tx *store.Tx) (err error) { w, err = tx.Widget(core.CanvasOf(c).ID, c.Param("wid")); return })
	if err != nil || w.Type != "Image" {
		core.DetailError(c, http.StatusNotFound, "Element not found")
		return nil, false
	}
	return w, true
}

func fieldErr(loc []any, msg, typ string, input any) imaging.FieldError {
	return imaging.FieldError{Loc: loc, Msg: msg, Type: typ, Input: input}
}

// parseRecrop validates the body in the HTTPValidationError shape.
func parseRecrop(body []byte, pageW, pageH int) (imaging.Box, string, []imaging.FieldError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		if len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{' {
			return imaging.Box{}, "", []imaging.FieldError{{Loc: []any{"body", 0}, Msg: "JSON decode error", Type: "json_invalid",
				Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()}}}
		}
		var any_ any
		if json.Unmarshal(body, &any_) == nil {
			return imaging.Box{}, "", []imaging.FieldError{fieldErr([]any{"body"}, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type", json.RawMessage(body))}
		}
		return imaging.Box{}, "", []imaging.FieldError{{Loc: []any{"body", 0}, Msg: "JSON decode error", Type: "json_invalid",
			Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()}}}
	}
	var errs []imaging.FieldError
	mode := "freeform"
	if raw, ok := obj["bbox_mode"]; ok && string(raw) != "null" {
		var m string
		if err := json.Unmarshal(raw, &m); err != nil {
			errs = append(errs, fieldErr([]any{"body", "bbox_mode"}, "Input should be a valid string", "string_type", raw))
		} else if m != "freeform" && m != "aspect_locked" {
			e := fieldErr([]any{"body", "bbox_mode"}, "Input should be 'freeform' or 'aspect_locked'", "literal_error", m)
			e.Ctx = map[string]any{"expected": "'freeform' or 'aspect_locked'"}
			errs = append(errs, e)
		} else {
			mode = m
		}
	}
	raw, ok := obj["user_bbox"]
	if !ok {
		errs = append([]imaging.FieldError{fieldErr([]any{"body", "user_bbox"}, "Field required", "missing", json.RawMessage(body))}, errs...)
		return imaging.Box{}, "", errs
	}
	box, berrs := imaging.ParseBBox(raw, []any{"body", "user_bbox"}, pageW, pageH)
	errs = append(berrs, errs...)
	return box, mode, errs
}

// recropRequest reads and checks a recrop: the caller is signed in, the
// element has a raster source render, and the body's box (aspect-locked
// to version 0 when asked) is valid. It answers failures.
func (s *API) recropRequest(c *gin.Context) (*store.Widget, imaging.Box, bool) {
	if core.UserOf(c) == nil {
		c.Header("WWW-Authenticate", "Bearer")
		core.DetailError(c, http.StatusUnauthorized, "Not authenticated")
		return nil, imaging.Box{}, false
	}
	body, err := core.ReadBody(c, core.MaxJSONBody)
	if err != nil {
		core.DetailError(c, http.StatusRequestEntityTooLarge, "Request body too large")
		return nil, imaging.Box{}, false
	}
	w, ok := s.loadElement(c)
	if !ok {
		return nil, imaging.Box{}, false
	}
	if w.Format == string(imaging.FormatSVG) {
		core.ValidationError(c, []imaging.FieldError{fieldErr([]any{"path", "element_id"},
			"Value error, element is an SVG image: vector elements have no full-page render to re-crop", "value_error", w.ID)})
		return nil, imaging.Box{}, false
	}
	if w.SourceBlob == "" {
		core.ValidationError(c, []imaging.FieldError{fieldErr([]any{"path", "element_id"},
			"Value error, element has no source render to re-crop", "value_error", w.ID)})
		return nil, imaging.Box{}, false
	}
	box, mode, errs := parseRecrop(body, w.SourceW, w.SourceH)
	if len(errs) > 0 {
		core.ValidationError(c, errs)
		return nil, imaging.Box{}, false
	}
	v0 := w.Versions[0]
	if mode == "aspect_locked" && v0.Width > 0 && v0.Height > 0 {
		box = imaging.AspectLock(box, float64(v0.Width)/float64(v0.Height), w.SourceW, w.SourceH)
	}
	return w, box, true
}

// recropSource is w's decoded source render, from the source cache. A miss
// decodes under the decode guard; its weight is held until release, which
// the caller defers until the crop is encoded. Waiters on another
// request's load share its image. It answers failures.
func (s *API) recropSource(c *gin.Context, w *store.Widget) (*image.NRGBA, func(), bool) {
	var held int64 = -1
	release := func() {
		if held >= 0 {
			s.Guard.Release(held)
		}
	}
	src, _, err := s.Cache.Get(w.SourceBlob, func() (*image.NRGBA, error) {
		data, err := s.St.ReadBlob(w.SourceBlob)
		if err != nil {
			return nil, err
		}
		_, _, _, cost, err := s.DecodeCost(data)
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Acquire(c.Request.Context(), cost, s.Cfg.OpWait); err != nil {
			return nil, err
		}
		held = cost
		img, _, err := imaging.Decode(data, s.Limits())
		return img, err
	})
	if err != nil {
		var ob *core.OverBudgetError
		switch {
		case errors.Is(err, core.ErrDecodeBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			s.GuardFail(c, core.DetailError, http.StatusUnprocessableEntity, err)
		case errors.As(err, &ob):
			s.Metrics.Rejected.WithLabelValues("decode_budget").Inc()
			core.ValidationError(c, []imaging.FieldError{fieldErr([]any{"path", "element_id"},
				"Value error, element's source render is too large for this server: "+ob.Error(), "value_error", w.ID)})
		case errors.Is(err, imaging.ErrInvalidImage), errors.Is(err, imaging.ErrUnsupported), errors.Is(err, imaging.ErrTooManyPixels):
			// A store written before uploads were fully decoded may hold a
			// corrupt source: the request is fine, the element is not.
			core.ValidationError(c, []imaging.FieldError{fieldErr([]any{"path", "element_id"},
				"Value error, element's source render cannot be decoded: "+err.Error(), "value_error", w.ID)})
		default:
			c.Error(err)
			core.DetailError(c, http.StatusInternalServerError, "Could not read the source render")
		}
		return nil, release, false
	}
	return src, release, true
}

func (s *API) Recrop(c *gin.Context) {
	w, box, ok := s.recropRequest(c)
	if !ok {
		return
	}
	v0 := w.Versions[0]
	start := time.Now()
	src, release, ok := s.recropSource(c, w)
	defer release()
	if !ok {
		return
	}
	crop := imaging.CropFrac(src, box)
	var buf bytes.Buffer
	if err := imaging.EncodePNG(&buf, crop); err != nil {
		c.Error(err)
		core.DetailError(c, http.StatusInternalServerError, "Could not encode the crop")
		return
	}
	cw, ch := crop.Bounds().Dx(), crop.Bounds().Dy()
	var diff *imaging.DiffSummary
	if w.SourceBlob != v0.Blob && v0.BBox != nil {
		d := imaging.Diff(*boxOf(v0.BBox), box)
		diff = &d
	}
	out, err := s.newVersion(c, w.CanvasID, w.ID, buf.Bytes(), cw, ch, &box, "recrop", func(nw *store.Widget, v int) (string, map[string]any) {
		return store.EvImageRecropped, map[string]any{
			"element_id": nw.ID, "version": v, "versioned_url": core.VersionedURL(nw.CanvasID, nw.ID, v),
			"user_bbox":    map[string]float64{"x": box.X, "y": box.Y, "width": box.W, "height": box.H},
			"diff_summary": diff,
		}
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			core.DetailError(c, http.StatusNotFound, "Element not found")
			return
		}
		c.Error(err)
		core.DetailError(c, http.StatusInternalServerError, "Could not store the new version")
		return
	}
	s.Metrics.OpDuration.WithLabelValues("recrop").Observe(time.Since(start).Seconds())
	c.JSON(http.StatusOK, gin.H{"versioned_url": core.VersionedURL(out.CanvasID, out.ID, out.CurrentVersion().Version),
		"version": out.CurrentVersion().Version, "element_id": out.ID, "diff_summary": diff})
}

// newVersion stores png as the element's next version in one transaction:
// blob reference, version bump, widget update (hash, and size with the
// displayed width kept and the height following the new aspect) and one event.
// keepScale is false: the width stays; event() names the event and its fields.
func (s *API) newVersion(c *gin.Context, canvasID, widgetID string, png []byte, pw, ph int, box *imaging.Box, kind string,
	event func(w *store.Widget, version int) (string, map[string]any)) (*store.Widget, error) {
	return s.NewVersionSized(c, canvasID, widgetID, png, pw, ph, box, kind, nil, event)
}

func versionJSON(w *store.Widget, v store.Version) gin.H {
	var bbox any
	if v.BBox != nil {
		bbox = gin.H{"x": v.BBox[0], "y": v.BBox[1], "width": v.BBox[2], "height": v.BBox[3]}
	}
	return gin.H{"version": v.Version, "kind": v.Kind, "bbox": bbox, "width": v.Width, "height": v.Height,
		"created_at": store.FormatTime(v.CreatedAt), "author": v.Author, "author_id": v.AuthorID,
		"versioned_url": core.VersionedURL(w.CanvasID, w.ID, v.Version)}
}

func (s *API) ListVersions(c *gin.Context) {
	w, ok := s.loadElement(c)
	if !ok {
		return
	}
	out := make([]gin.H, 0, len(w.Versions))
	for _, v := range w.Versions {
		out = append(out, versionJSON(w, v))
	}
	var src any
	if w.SourceBlob != "" {
		src = gin.H{"width": w.SourceW, "height": w.SourceH, "url": fmt.Sprintf("/api/canvas/%s/images/%s/source", w.CanvasID, w.ID)}
	}
	c.JSON(http.StatusOK, gin.H{"element_id": w.ID, "current_version": w.CurrentVersion().Version, "source": src, "versions": out})
}

func (s *API) GetVersion(c *gin.Context) {
	w, ok := s.loadElement(c)
	if !ok {
		return
	}
	name := c.Param("file")
	if !strings.HasSuffix(name, ".png") {
		core.DetailError(c, http.StatusNotFound, "Version not found")
		return
	}
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".png"))
	if err != nil || n < 0 || n >= len(w.Versions) {
		core.DetailError(c, http.StatusNotFound, "Version not found")
		return
	}
	v := w.Versions[n]
	ctype, disposition := "image/png", ""
	if n == 0 { // the original may be any format
		if f, err := s.sniffBlob(v.Blob); err == nil {
			ctype = core.ContentTypes[f]
			if !f.IsRaster() {
				// An uploaded SVG is never shown inline on this origin
				// (serveBlob: attachment, sandbox CSP); <img> still renders it.
				disposition = core.ContentDisposition(svgAttachmentName(w))
			}
		}
	}
	s.ServeBlob(c, v.Blob, ctype, disposition, core.DetailError)
}

func (s *API) sniffBlob(hash string) (imaging.Format, error) {
	f, err := s.St.OpenBlob(hash)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	return imaging.Sniff(head[:n])
}

func (s *API) GetSource(c *gin.Context) {
	w, ok := s.loadElement(c)
	if !ok {
		return
	}
	if w.SourceBlob == "" {
		core.DetailError(c, http.StatusNotFound, "Element has no source render")
		return
	}
	f, err := s.sniffBlob(w.SourceBlob)
	if err != nil {
		core.DetailError(c, http.StatusNotFound, "Source not found")
		return
	}
	s.ServeBlob(c, w.SourceBlob, core.ContentTypes[f], "", core.DetailError)
}

// svgAttachmentName is the download name of an SVG original: the uploaded
// name with an .svg extension.
func svgAttachmentName(w *store.Widget) string {
	name := w.Filename
	if fn, _ := w.Props["original_filename"].(string); fn != "" {
		name = fn
	}
	if name == "" {
		name = "image"
	}
	return strings.TrimSuffix(name, filepath.Ext(name)) + ".svg"
}
