package canvus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/media"
	"github.com/canvasd/canvasd/imaging/product"
	"github.com/canvasd/canvasd/imaging/render"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"
)

// Preview defaults.
const (
	// previewTimeout bounds one render, image loads included.
	previewTimeout = 30 * time.Second
)

// Previews serves GET /canvases/:id/preview: a PNG of the canvas drawn
// from its widgets (imaging/render), at most render.DefaultMaxSide pixels
// on its long side, cached until the canvas changes.
//
// The widgets and the canvas's event seq are read in one read transaction,
// so a cached PNG is exactly the state at that seq; every change to a
// canvas moves its seq, so "cached until the canvas changes" is a lookup
// by (canvas, head seq). Concurrent requests for one state render once
// (singleflight). Image pixels are decoded under the server's decode guard,
// one image at a time, and scaled to their box before the next.
type Previews struct {
	*API
	renderer *render.Renderer
	cache    *previewCache        // PNGs by canvas and seq
	images   *imaging.SourceCache // scaled widget images by blob and box size
	flight   singleflight.Group
}

// NewPreviews returns the preview handler with its own caches, of PNGs and
// of scaled widget images, each bounded by Config.PreviewCacheBytes.
func (s *API) NewPreviews() *Previews {
	r, err := render.New()
	if err != nil {
		// The fonts are compiled in; they parse or the build is broken.
		panic(err)
	}
	return &Previews{API: s, renderer: r, cache: newPreviewCache(s.Cfg.PreviewCacheBytes),
		images: imaging.NewSourceCache(s.Cfg.PreviewCacheBytes)}
}

// previewState is a canvas at one seq: the widgets to draw and the blob of
// each image widget.
type previewState struct {
	seq     uint64
	widgets []render.Widget
	blobs   map[string]string
}

func (p *Previews) state(canvasID string) (*previewState, error) {
	st := &previewState{blobs: map[string]string{}}
	err := p.St.View(func(tx *store.Tx) error {
		st.seq = tx.Head(canvasID)
		ws, err := tx.Widgets(canvasID)
		if err != nil {
			return err
		}
		for _, w := range ws {
			props := w.Public()
			if w.Type == "Video" && w.DurationMS > 0 {
				props["duration"] = float64(w.DurationMS) / 1000 // drawn in its label
			}
			st.widgets = append(st.widgets, render.Widget{ID: w.ID, Type: w.Type, Props: props})
			if (w.Type == "Image" || w.Type == "Pdf") && w.Blob != "" {
				st.blobs[w.ID] = w.Blob
			}
		}
		return nil
	})
	return st, err
}

// Get answers GET /canvases/:id/preview. The canvas's head seq is read
// first, alone: a cached or unchanged preview is answered without loading
// a widget.
func (p *Previews) Get(c *gin.Context) {
	cv := core.CanvasOf(c)
	var seq uint64
	if err := p.St.View(func(tx *store.Tx) error { seq = tx.Head(cv.ID); return nil }); err != nil {
		core.StoreFail(c, core.CanvusError, err, "Canvas")
		return
	}
	// The PNG of one (canvas, seq) never changes: the seq is its ETag.
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, previewETag(seq)) {
		c.Header("ETag", previewETag(seq))
		c.Status(http.StatusNotModified)
		return
	}
	png, ok := p.cache.get(cv.ID, seq)
	if !ok {
		// The canvas may have changed since: the state read carries its
		// own seq, which keys the render, the cache and the ETag.
		st, err := p.state(cv.ID)
		if err != nil {
			core.StoreFail(c, core.CanvusError, err, "Canvas")
			return
		}
		seq = st.seq
		key := cv.ID + "@" + strconv.FormatUint(st.seq, 10)
		v, err, _ := p.flight.Do(key, func() (any, error) {
			if b, ok := p.cache.get(cv.ID, st.seq); ok {
				return b, nil // another request drew it meanwhile
			}
			// The render outlives a client that leaves: others may wait on
			// it, and its result is cached.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), previewTimeout)
			defer cancel()
			b, err := p.render(ctx, st)
			if err == nil {
				p.cache.put(cv.ID, st.seq, b)
			}
			return b, err
		})
		if err != nil {
			p.fail(c, cv.ID, err)
			return
		}
		png = v.([]byte)
	}
	etag := previewETag(seq)
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	c.Header("Content-Length", strconv.Itoa(len(png)))
	c.Data(http.StatusOK, "image/png", png)
}

func previewETag(seq uint64) string { return `"preview-` + strconv.FormatUint(seq, 10) + `"` }

func (p *Previews) render(ctx context.Context, st *previewState) ([]byte, error) {
	start := time.Now()
	defer func() { p.Metrics.OpDuration.WithLabelValues("preview").Observe(time.Since(start).Seconds()) }()
	img, err := p.renderer.Render(ctx, st.widgets, render.Options{LoadImage: p.loader(st)})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := imaging.EncodePNG(&buf, img); err != nil {
		return nil, fmt.Errorf("encode preview: %w", err)
	}
	return buf.Bytes(), nil
}

// loader gives the renderer each image's pixels scaled to its box, and
// each PDF's first page: from the scaled-image cache (keyed by blob and
// box size: a blob never changes, so an entry never goes stale, and a
// change elsewhere on the canvas redraws without decoding again), else
// decoded under the decode guard, one at a time, and scaled before the
// next. A file that is gone, undecodable, or larger than the whole decode
// budget draws as an empty frame; a busy guard fails the render (503,
// nothing cached).
func (p *Previews) loader(st *previewState) render.ImageLoader {
	return func(ctx context.Context, w render.Widget, size image.Point) (image.Image, error) {
		blob := st.blobs[w.ID]
		if blob == "" {
			return nil, nil
		}
		key := fmt.Sprintf("%s@%dx%d", blob, size.X, size.Y)
		load := func() (*image.NRGBA, error) { return p.scaledImage(ctx, blob, size) }
		if w.Type == "Pdf" {
			key = "pdf:" + key
			load = func() (*image.NRGBA, error) { return p.pdfPage(ctx, blob, size) }
		}
		img, _, err := p.images.Get(key, load)
		if errors.Is(err, errNoPixels) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return img, nil
	}
}

// errNoPixels: the widget's file cannot be drawn; its box is drawn empty.
var errNoPixels = errors.New("no pixels")

func (p *Previews) scaledImage(ctx context.Context, blob string, size image.Point) (*image.NRGBA, error) {
	data, err := p.St.ReadBlob(blob)
	if err != nil {
		return nil, errNoPixels
	}
	_, _, _, cost, err := p.DecodeCost(data)
	if err != nil {
		return nil, errNoPixels
	}
	weight := p.Guard.Weigh(cost, int64(size.X)*int64(size.Y)*4)
	if err := p.Guard.Acquire(ctx, weight, p.Cfg.OpWait); err != nil {
		var ob *core.OverBudgetError
		if errors.As(err, &ob) {
			return nil, errNoPixels
		}
		return nil, err
	}
	defer p.Guard.Release(weight)
	img, _, err := imaging.Decode(data, p.Limits())
	if err != nil {
		return nil, errNoPixels
	}
	b := img.Bounds()
	if size.X <= 0 || size.Y <= 0 || (size.X >= b.Dx() && size.Y >= b.Dy()) {
		return img, nil
	}
	return product.Resize(img, min(size.X, b.Dx()), min(size.Y, b.Dy())), nil
}

// pdfPage renders a PDF's first page to fit size (poppler's pdftoppm,
// bounded as imaging/media says) holding one decode-guard slot weighed as
// the page's pixels. A PDF poppler cannot read, or a server without
// poppler, draws the widget's labelled box.
func (p *Previews) pdfPage(ctx context.Context, blob string, size image.Point) (*image.NRGBA, error) {
	side := min(max(size.X, size.Y, 16), render.DefaultMaxSide)
	weight := int64(side) * int64(side) * 4 * 2
	if err := p.Guard.Acquire(ctx, weight, p.Cfg.OpWait); err != nil {
		return nil, err
	}
	defer p.Guard.Release(weight)
	img, err := media.PDFTools{ThumbSide: side}.Thumbnail(ctx, p.St.BlobPath(blob))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errNoPixels
	}
	return imaging.ToNRGBA(img), nil
}

func (p *Previews) fail(c *gin.Context, canvasID string, err error) {
	switch {
	case errors.Is(err, render.ErrEmpty):
		// The Canvus reference's answer for a canvas without a preview.
		core.CanvusError(c, http.StatusNotFound, "Canvas "+canvasID+" doesn't have preview")
	case errors.Is(err, core.ErrDecodeBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.Metrics.Rejected.WithLabelValues("saturated").Inc()
		c.Header("Retry-After", "1")
		core.CanvusError(c, http.StatusServiceUnavailable, "Server busy: too many image operations in progress, retry shortly")
	default:
		p.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Str("canvas_id", canvasID).Msg("canvas preview")
		core.CanvusError(c, http.StatusInternalServerError, "Could not draw the canvas preview")
	}
}
