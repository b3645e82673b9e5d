package canvus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/media"
	"github.com/canvasd/canvasd/imaging/mipmap"
	"github.com/canvasd/canvasd/imaging/product"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"
)

const (
	// immutable is the caching of content-addressed answers (the Canvus
	// reference: every mipmaps and assets answer).
	immutable = "private, max-age=157680000, immutable"
)

// Mipmaps serves the Canvus mipmaps and assets API: GET
// /mipmaps/{hash}[/{level}] and /assets/{hash}. The hash is an Image, Pdf
// or Video widget's public "hash" (mipmaps: images and PDF pages); the canvas is named by the canvas-id header and
// the caller needs view access to it; the asset must belong to a widget of
// that canvas, so a hash alone opens nothing.
//
// Levels are made on first request (imaging/mipmap: halving, WebP) under
// the decode guard and kept in a byte-bounded LRU keyed by blob and level;
// a blob's content never changes, so neither does a level.
type Mipmaps struct {
	*API
	cache  *previewCache
	flight singleflight.Group
}

// NewMipmaps returns the mipmaps and assets handlers with their own cache
// of levels, bounded by Config.MipmapCacheBytes.
func (s *API) NewMipmaps() *Mipmaps {
	return &Mipmaps{API: s, cache: newPreviewCache(s.Cfg.MipmapCacheBytes)}
}

// CanvasFromHeader names the canvas of the request by its canvas-id
// header, for canvasAccess, which reads the :id parameter.
func (m *Mipmaps) CanvasFromHeader(c *gin.Context) {
	id := c.GetHeader("canvas-id")
	if id == "" {
		core.CanvusError(c, http.StatusBadRequest, "The canvas-id header is required")
		return
	}
	c.Params = append(c.Params, gin.Param{Key: "id", Value: id})
	c.Next()
}

// asset finds the widget of the request's canvas whose hash is the :hash
// parameter (an Image, Pdf or Video: any widget with a file), or the
// canvas's background image, as an Image.
func (m *Mipmaps) asset(c *gin.Context) (*store.Widget, bool) {
	hash := c.Param("hash")
	cv := core.CanvasOf(c)
	var found *store.Widget
	err := m.St.View(func(tx *store.Tx) error {
		ws, err := tx.Widgets(cv.ID)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if w.Blob != "" && hash != "" && core.PublicHash(w.Blob) == hash {
				found = w
				return nil
			}
		}
		// The canvas's background image (background.go) is an asset too.
		if bg, err := tx.Canvas(cv.ID); err == nil && bg.BackgroundBlob != "" && hash != "" && core.PublicHash(bg.BackgroundBlob) == hash {
			found = &store.Widget{ID: "background", CanvasID: cv.ID, Type: "Image", Blob: bg.BackgroundBlob, Format: bg.BackgroundFormat}
		}
		return nil
	})
	if err != nil {
		core.StoreFail(c, core.CanvusError, err, "Canvas")
		return nil, false
	}
	if found == nil {
		core.CanvusError(c, http.StatusNotFound, "Asset not found")
		return nil, false
	}
	return found, true
}

// mipSource is one page of an asset: its level-0 size, and how to get its
// level-0 pixels and what they weigh.
type mipSource struct {
	key           string // cache key prefix: blob and page
	width, height int
	weight        int64
	pixels        func(ctx context.Context) (image.Image, error)
}

// pdfLevel0 is the long side, in pixels, of a PDF page's level 0: the page
// at 2 pixels per point (144 dpi), at most this.
const pdfLevel0 = 4096

// source reads ?page and the asset's level-0 size: an image's from its
// header (one page), a PDF page's from pdfinfo (pages from 0). Other
// assets answer 501, as the reference says.
func (m *Mipmaps) source(c *gin.Context, w *store.Widget) (*mipSource, int, bool) {
	page := 0
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			core.CanvusError(c, http.StatusBadRequest, "Page must be a non-negative integer")
			return nil, 0, false
		}
		page = n
	}
	pages := 1
	if w.Type == "Pdf" {
		pages = max(w.Pages, 1)
	}
	if page >= pages {
		core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Page %d is out of range: the asset has %d page(s), from 0", page, pages))
		return nil, 0, false
	}
	switch w.Type {
	case "Image":
		data, err := m.St.ReadBlob(w.Blob)
		if err != nil {
			core.CanvusError(c, http.StatusNotFound, "Asset not found")
			return nil, 0, false
		}
		_, wd, ht, cost, err := m.DecodeCost(data)
		if err != nil {
			core.CanvusError(c, http.StatusNotImplemented, "Mipmaps of this image format are not supported")
			return nil, 0, false
		}
		return &mipSource{key: w.Blob, width: wd, height: ht, weight: m.Guard.Weigh(cost, cost/2),
			pixels: func(context.Context) (image.Image, error) {
				img, _, err := imaging.Decode(data, m.Limits())
				return img, err
			}}, pages, true
	case "Pdf":
		path := m.St.BlobPath(w.Blob)
		var info media.PDFInfo
		var err error
		m.WithDecodeSlot(c, core.CanvusError, 0, func() {
			info, err = media.PDFTools{}.Page(c.Request.Context(), path, page+1)
		})
		if c.IsAborted() {
			return nil, 0, false
		}
		if err != nil || info.Width <= 0 || info.Height <= 0 {
			m.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Str("widget_id", w.ID).Msg("mipmap pdf page")
			core.CanvusError(c, http.StatusServiceUnavailable, "The PDF page could not be read")
			return nil, 0, false
		}
		f := math.Min(2, pdfLevel0/math.Max(info.Width, info.Height))
		wd, ht := max(1, int(math.Round(info.Width*f))), max(1, int(math.Round(info.Height*f)))
		side := max(wd, ht)
		weight := int64(wd) * int64(ht) * 4 * 3
		return &mipSource{key: w.Blob + "/p" + strconv.Itoa(page), width: wd, height: ht, weight: m.Guard.Weigh(weight, 0),
			pixels: func(ctx context.Context) (image.Image, error) {
				img, err := media.PDFTools{}.Render(ctx, path, page+1, side)
				if err != nil {
					return nil, err
				}
				// pdftoppm rounds the short side its own way: level 0 is
				// the size info reported.
				if b := img.Bounds(); b.Dx() != wd || b.Dy() != ht {
					return product.Resize(img, wd, ht), nil
				}
				return img, nil
			}}, pages, true
	}
	core.CanvusError(c, http.StatusNotImplemented, "Mipmaps of "+w.Type+" assets are not supported")
	return nil, 0, false
}

// assetSource finds the :hash asset (asset) and its mipmap source (source),
// or answers why not.
func (m *Mipmaps) assetSource(c *gin.Context) (*store.Widget, *mipSource, int, bool) {
	w, ok := m.asset(c)
	if !ok {
		return nil, nil, 0, false
	}
	src, pages, ok := m.source(c, w)
	return w, src, pages, ok
}

// Info answers GET /mipmaps/:hash.
func (m *Mipmaps) Info(c *gin.Context) {
	_, src, pages, ok := m.assetSource(c)
	if !ok {
		return
	}
	c.Header("Cache-Control", immutable)
	c.JSON(http.StatusOK, gin.H{
		"resolution": gin.H{"width": src.width, "height": src.height},
		"max_level":  mipmap.MaxLevel(src.width, src.height),
		"pages":      pages,
	})
}

// Level answers GET /mipmaps/:hash/:level.
func (m *Mipmaps) Level(c *gin.Context) {
	w, src, _, ok := m.assetSource(c)
	if !ok {
		return
	}
	top := mipmap.MaxLevel(src.width, src.height)
	level, err := strconv.Atoi(c.Param("level"))
	if err != nil || level < 0 || level > top {
		core.CanvusError(c, http.StatusBadRequest, "Mipmap level "+c.Param("level")+" is outside the valid range 0.."+strconv.Itoa(top))
		return
	}
	key := "mip/" + src.key + "/" + strconv.Itoa(level)
	out, hit := m.cache.get(key, 0)
	if !hit {
		v, err, _ := m.flight.Do(key, func() (any, error) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 2*time.Minute)
			defer cancel()
			// The decode (or the rendered page), the halvings (a third of
			// it at most) and the encoder's buffers.
			if err := m.Guard.Acquire(ctx, src.weight, m.Cfg.OpWait); err != nil {
				return nil, err
			}
			defer m.Guard.Release(src.weight)
			start := time.Now()
			defer func() { m.Metrics.OpDuration.WithLabelValues("mipmap").Observe(time.Since(start).Seconds()) }()
			img, err := src.pixels(ctx)
			if err != nil {
				return nil, err
			}
			lv, err := mipmap.Level(img, level)
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			if err := mipmap.EncodeWebP(&buf, lv); err != nil {
				return nil, err
			}
			m.cache.put(key, 0, buf.Bytes())
			return buf.Bytes(), nil
		})
		if err != nil {
			var ob *core.OverBudgetError
			switch {
			case errors.As(err, &ob):
				core.CanvusError(c, http.StatusRequestEntityTooLarge, "Image too large for this server: "+ob.Error())
			case errors.Is(err, core.ErrDecodeBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				m.Metrics.Rejected.WithLabelValues("saturated").Inc()
				c.Header("Retry-After", "1")
				core.CanvusError(c, http.StatusServiceUnavailable, "Server busy: too many image operations in progress, retry shortly")
			default:
				m.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Str("widget_id", w.ID).Msg("mipmap level")
				core.CanvusError(c, http.StatusInternalServerError, "Could not make the mipmap level")
			}
			return
		}
		out = v.([]byte)
	}
	c.Header("Cache-Control", immutable)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Length", strconv.Itoa(len(out)))
	c.Data(http.StatusOK, "image/webp", out)
}

// Asset answers GET /assets/:hash: the asset's file as stored.
func (m *Mipmaps) Asset(c *gin.Context) {
	w, ok := m.asset(c)
	if !ok {
		return
	}
	ctype := core.ContentTypes[imaging.Format(w.Format)]
	if cur := w.CurrentVersion(); cur != nil && cur.Version > 0 {
		ctype = "image/png"
	}
	if t, ok := mediaTypes[w.Format]; ok && w.Type != "Image" {
		ctype = t
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	m.ServeBlob(c, w.Blob, ctype, "", core.CanvusError)
}
