package canvus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

func (s *API) CreateImage(c *gin.Context) {
	if !s.allowUpload(c) {
		return
	}
	up, ok := s.readImageUpload(c)
	if !ok {
		return
	}
	s.createImage(c, up)
}

// createImage makes an Image widget of an upload read by readImageUpload
// (or imageUploadFrom) and answers it.
func (s *API) createImage(c *gin.Context, up *imageUpload) {
	w := &store.Widget{ID: uuid.NewString(), CanvasID: core.CanvasOf(c).ID, Type: "Image", Props: core.DefaultProps("Image")}
	if up.source != nil && !s.checkSource(c, up) {
		return
	}
	if !s.checkData(c, up) {
		return
	}
	w.Format, w.PixelW, w.PixelH = string(up.format), up.pw, up.ph
	w.Filename = up.data.Filename
	w.Props["original_filename"] = up.data.Filename
	w.Props["size"] = map[string]any{"width": float64(up.pw), "height": float64(up.ph)}

	// Validate the json part before any blob file is written, so that a
	// refused upload leaves no file behind (the write transaction checks again).
	if err := s.St.View(func(tx *store.Tx) error {
		probe := *w
		probe.Props = copyProps(w.Props)
		probe.Props["parent_id"] = rootOf(tx, probe.CanvasID)
		_, err := applyProps(tx, &probe, up.body, true)
		return err
	}); err != nil {
		core.CanvusStoreError(c, err, "Image")
		return
	}
	var hash string
	var err error
	for attempt := 0; ; attempt++ {
		hash, err = s.storeImage(up, w, core.UserOf(c))
		if !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			break
		}
	}
	if err != nil {
		core.CanvusStoreError(c, err, "Image")
		return
	}
	c.JSON(http.StatusOK, w.Public())
	s.fillHashLater(w.CanvasID, w.ID, hash)
}

// imageUpload is a POST …/images request as it is read and checked.
type imageUpload struct {
	data, source *core.UploadPart
	dataGiven    bool // data came as a part (not cropped by us from source)
	body         map[string]json.RawMessage
	cropBox      *imaging.Box
	srcW, srcH   int
	format       imaging.Format
	pw, ph       int
}

// readImageUpload reads the parts (data, source, json) and the json part's
// crop_bbox.
func (s *API) readImageUpload(c *gin.Context) (*imageUpload, bool) {
	parts, ok := s.MultipartParts(c, core.CanvusError, map[string]bool{"data": true, "source": true}, map[string]bool{"json": true})
	if !ok {
		return nil, false
	}
	return imageUploadFrom(c, parts)
}

// imageUploadFrom reads an image upload from its parts (data, source, json).
func imageUploadFrom(c *gin.Context, parts map[string]*core.UploadPart) (*imageUpload, bool) {
	up := &imageUpload{data: parts["data"], source: parts["source"], dataGiven: parts["data"] != nil, body: map[string]json.RawMessage{}}
	if up.data == nil && up.source == nil {
		core.CanvusError(c, http.StatusBadRequest, "Missing 'data' part: the image file is required")
		return nil, false
	}
	if !decodeJSONPart(c, parts, &up.body) {
		return nil, false
	}
	if raw, ok := up.body["crop_bbox"]; ok {
		delete(up.body, "crop_bbox")
		b, errs := imaging.ParseBBox(raw, []any{"crop_bbox"}, 0, 0)
		if len(errs) > 0 {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Invalid crop_bbox: %s at %v", errs[0].Msg, errs[0].Loc))
			return nil, false
		}
		up.cropBox = &b
	}
	return up, true
}

// checkSource inspects the source render and decodes it whole under the
// decode guard, which also refuses a truncated or corrupt file here rather
// than at re-crop. Without a data part the server makes the data by
// cropping the source.
func (s *API) checkSource(c *gin.Context, up *imageUpload) bool {
	f, sw, sh, cost, err := s.DecodeCost(up.source.Data)
	if err == nil && f == imaging.FormatSVG {
		err = errors.New("a source render must be a raster image")
	}
	if err != nil {
		code, msg := core.InspectError("source", err)
		core.CanvusError(c, code, msg)
		return false
	}
	up.srcW, up.srcH = sw, sh
	box := imaging.Whole
	if up.cropBox != nil {
		box = *up.cropBox
	}
	if up.data == nil {
		if r := box.PixelRect(sw, sh); r.Empty() {
			core.CanvusError(c, http.StatusBadRequest, "crop_bbox is smaller than one pixel of the source")
			return false
		}
	}
	s.WithDecodeSlot(c, core.CanvusError, cost, func() {
		img, _, err := imaging.Decode(up.source.Data, s.Limits())
		if err != nil {
			code, msg := core.DecodeError("source", err)
			core.CanvusError(c, code, msg)
			return
		}
		if up.data != nil {
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodePNG(&buf, imaging.CropFrac(img, box)); err != nil {
			core.CanvusStoreError(c, err, "Image")
			return
		}
		up.data = &core.UploadPart{Data: buf.Bytes(), Filename: strings.TrimSuffix(up.source.Filename, filepath.Ext(up.source.Filename)) + "-crop.png"}
	})
	return !c.IsAborted()
}

// checkData inspects the image and, for a raster part the client sent,
// decodes it whole under the decode guard.
func (s *API) checkData(c *gin.Context, up *imageUpload) bool {
	format, pw, ph, cost, err := s.DecodeCost(up.data.Data)
	if err != nil {
		code, msg := core.InspectError("data", err)
		core.CanvusError(c, code, msg)
		return false
	}
	up.format, up.pw, up.ph = format, pw, ph
	if format.IsRaster() && up.dataGiven {
		s.WithDecodeSlot(c, core.CanvusError, cost, func() {
			if _, _, err := imaging.Decode(up.data.Data, s.Limits()); err != nil {
				code, msg := core.DecodeError("data", err)
				core.CanvusError(c, code, msg)
			}
		})
	}
	return !c.IsAborted()
}

// storeImage writes the blob files (data, and source when given) and then
// the widget with its version 0 in one transaction; it returns the data's
// hash. store.ErrBlobGone (a file collected meanwhile) means: try again.
func (s *API) storeImage(up *imageUpload, w *store.Widget, u *store.User) (string, error) {
	h, err := s.St.PutBlobFile(up.data.Data)
	if err != nil {
		return "", err
	}
	w.Blob = h
	v0 := store.Version{Version: 0, Blob: h, Width: up.pw, Height: up.ph, Kind: "original", AuthorID: core.IDOf(u), Author: core.NameOf(u)}
	if up.source != nil {
		sh, err := s.St.PutBlobFile(up.source.Data)
		if err != nil {
			return "", err
		}
		w.SourceBlob, w.SourceW, w.SourceH = sh, up.srcW, up.srcH
		if up.cropBox != nil {
			v0.BBox = &[4]float64{up.cropBox.X, up.cropBox.Y, up.cropBox.W, up.cropBox.H}
		} else if !up.dataGiven {
			v0.BBox = &[4]float64{0, 0, 1, 1}
		}
	} else if up.format != imaging.FormatSVG {
		w.SourceBlob, w.SourceW, w.SourceH = h, up.pw, up.ph
		v0.BBox = &[4]float64{0, 0, 1, 1}
	}
	return h, s.St.WriteAs(core.IDOf(u), func(tx *store.Tx) error {
		nw := *w
		nw.Props = copyProps(w.Props)
		nw.Props["parent_id"] = rootOf(tx, nw.CanvasID)
		nw.Versions = []store.Version{v0}
		nw.Versions[0].CreatedAt = tx.Now()
		raise, err := applyProps(tx, &nw, up.body, true)
		if err != nil {
			return err
		}
		if _, given := up.body["depth"]; !given || raise {
			top, err := core.TopDepth(tx, nw.CanvasID, nw.ParentID(), nw.ID)
			if err != nil {
				return err
			}
			nw.Props["depth"] = top + 1
		}
		for _, b := range store.WidgetBlobs(&nw) {
			if err := tx.AddBlobRef(b); err != nil {
				return err
			}
		}
		*w = nw
		return tx.CreateWidget(&nw)
	})
}

// allowUpload takes one upload from the caller's budget (per user when
// signed in, whatever the token; per client IP for anonymous and link
// guests), or answers 429 with Retry-After.
func (s *API) allowUpload(c *gin.Context) bool {
	key := "ip:" + c.ClientIP()
	if u := core.UserOf(c); u != nil {
		key = "user:" + strconv.FormatUint(u.ID, 10)
	}
	ok, wait := s.UploadLimit.Allow(key, s.Now())
	if !ok {
		s.Metrics.Rejected.WithLabelValues("rate").Inc()
		c.Header("Retry-After", core.RetryAfter(wait))
		core.CanvusError(c, http.StatusTooManyRequests, fmt.Sprintf("Too many uploads: at most %d a minute, retry after %s s", s.Cfg.UploadsPerMinute, core.RetryAfter(wait)))
	}
	return ok
}

func copyProps(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// fillHashLater is the background processing that sets an image's hash after
// create and publishes the change, as Canvus does.
func (s *API) fillHashLater(canvasID, widgetID, blob string) {
	s.Bg.Add(1)
	go func() {
		defer s.Bg.Done()
		err := s.St.Write(func(tx *store.Tx) error {
			w, err := tx.Widget(canvasID, widgetID)
			if err != nil {
				return nil // deleted meanwhile
			}
			if h, _ := w.Props["hash"].(string); h != "" || w.Blob != blob {
				return nil
			}
			w.Props["hash"] = core.PublicHash(blob)
			return tx.UpdateWidget(w, store.EvWidgetUpdated, nil)
		})
		if err != nil && !errors.Is(err, store.ErrClosed) {
			s.Log.Error().Err(err).Str("widget_id", widgetID).Msg("fill image hash")
		}
	}()
}

func (s *API) DownloadImage(c *gin.Context) {
	w, ok := s.loadWidget(c, "Image")
	if !ok {
		return
	}
	name := w.Filename
	if fn, _ := w.Props["original_filename"].(string); fn != "" {
		name = fn
	}
	if w.Blob != "" && len(w.Versions) > 1 && filepath.Ext(name) != ".png" {
		name = strings.TrimSuffix(name, filepath.Ext(name)) + ".png" // later versions are PNG
	}
	ctype := core.ContentTypes[imaging.Format(w.Format)]
	if cur := w.CurrentVersion(); cur != nil && cur.Version > 0 {
		ctype = "image/png"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	s.ServeBlob(c, w.Blob, ctype, core.ContentDisposition(name), core.CanvusError)
}
