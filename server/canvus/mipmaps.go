package canvus

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/mipmap"
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
// /mipmaps/{hash}[/{level}] and /assets/{hash}. The hash is an image
// widget's public "hash"; the canvas is named by the canvas-id header and
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

// asset finds the image widget of the request's canvas whose hash is the
// :hash parameter, and checks ?page (images have one page, page 0).
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
	if found.Type != "Image" {
		core.CanvusError(c, http.StatusNotImplemented, "Mipmaps of "+found.Type+" assets are not supported")
		return nil, false
	}
	if p := c.Query("page"); p != "" && p != "0" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 {
			core.CanvusError(c, http.StatusBadRequest, "Page must be a non-negative integer")
		} else {
			core.CanvusError(c, http.StatusBadRequest, "Page "+p+" is out of range: the asset has 1 page")
		}
		return nil, false
	}
	return found, true
}

// size reads the asset's pixel size from its header.
func (m *Mipmaps) size(c *gin.Context, w *store.Widget) ([]byte, int64, int, int, bool) {
	data, err := m.St.ReadBlob(w.Blob)
	if err != nil {
		core.CanvusError(c, http.StatusNotFound, "Asset not found")
		return nil, 0, 0, 0, false
	}
	_, wd, ht, cost, err := m.DecodeCost(data)
	if err != nil {
		core.CanvusError(c, http.StatusNotImplemented, "Mipmaps of this image format are not supported")
		return nil, 0, 0, 0, false
	}
	return data, cost, wd, ht, true
}

// Info answers GET /mipmaps/:hash.
func (m *Mipmaps) Info(c *gin.Context) {
	w, ok := m.asset(c)
	if !ok {
		return
	}
	_, _, wd, ht, ok := m.size(c, w)
	if !ok {
		return
	}
	c.Header("Cache-Control", immutable)
	c.JSON(http.StatusOK, gin.H{
		"resolution": gin.H{"width": wd, "height": ht},
		"max_level":  mipmap.MaxLevel(wd, ht),
		"pages":      1,
	})
}

// Level answers GET /mipmaps/:hash/:level.
func (m *Mipmaps) Level(c *gin.Context) {
	w, ok := m.asset(c)
	if !ok {
		return
	}
	data, cost, wd, ht, ok := m.size(c, w)
	if !ok {
		return
	}
	top := mipmap.MaxLevel(wd, ht)
	level, err := strconv.Atoi(c.Param("level"))
	if err != nil || level < 0 || level > top {
		core.CanvusError(c, http.StatusBadRequest, "Mipmap level "+c.Param("level")+" is outside the valid range 0.."+strconv.Itoa(top))
		return
	}
	key := "mip/" + w.Blob + "/" + strconv.Itoa(level)
	out, hit := m.cache.get(key, 0)
	if !hit {
		v, err, _ := m.flight.Do(key, func() (any, error) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 2*time.Minute)
			defer cancel()
			// The decode, the halvings (a third of the decode at most) and
			// the encoder's buffers.
			weight := m.Guard.Weigh(cost, cost/2)
			if err := m.Guard.Acquire(ctx, weight, m.Cfg.OpWait); err != nil {
				return nil, err
			}
			defer m.Guard.Release(weight)
			img, _, err := imaging.Decode(data, m.Limits())
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
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	m.ServeBlob(c, w.Blob, ctype, "", core.CanvusError)
}
