package core

import (
	"errors"
	"fmt"
	"image"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging/uncrop"
)

// UncropMaxInputPixels is the Clipdrop input limit: 10 MP.
const UncropMaxInputPixels = 10_000_000

// UserRateKey is the rate-limit key of a signed-in user's requests, whichever
// token or login they come with.
func UserRateKey(id uint64) string { return "user:" + strconv.FormatUint(id, 10) }

// ParseExtent reads one optional integer form field.
func ParseExtent(parts map[string]*UploadPart, name string, lo, hi int) (int, error) {
	p := parts[name]
	if p == nil {
		return 0, nil
	}
	v := strings.Trim(strings.TrimSpace(string(p.Data)), `"`)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, got %q", name, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, nil
}

type UncropParams struct {
	Ext  uncrop.Extents
	Seed int64
}

// UncropWeight is the decode-guard weight of an uncrop beyond its decode:
// the output and the full-size buffers of the fill (upsampled synthesis,
// detail transfer), about 16 bytes per output pixel; the PatchMatch work
// itself runs at a bounded working resolution. Outputs over
// UncropMaxOutputPixels are refused before anything is allocated.
func (s *Server) UncropWeight(iw, ih int, p UncropParams) int64 {
	ow, oh := int64(iw+p.Ext.Left+p.Ext.Right), int64(ih+p.Ext.Up+p.Ext.Down)
	if ow <= 0 || oh <= 0 {
		return 0
	}
	return 16 * min(ow*oh, s.Cfg.UncropMaxOutputPixels)
}

// RunUncrop decodes, fills and returns the result image (not encoded).
func (s *Server) RunUncrop(src *image.NRGBA, p UncropParams) (*image.NRGBA, int, string) {
	b := src.Bounds()
	ow, oh := int64(b.Dx()+p.Ext.Left+p.Ext.Right), int64(b.Dy()+p.Ext.Up+p.Ext.Down)
	if ow <= 0 || oh <= 0 {
		return nil, http.StatusUnprocessableEntity, fmt.Sprintf("Input image is not acceptable: the result would be %dx%d pixels", ow, oh)
	}
	if ow*oh > s.Cfg.UncropMaxOutputPixels {
		return nil, http.StatusUnprocessableEntity, fmt.Sprintf("Input image is not acceptable: the result would be %dx%d = %d pixels, more than %d", ow, oh, ow*oh, s.Cfg.UncropMaxOutputPixels)
	}
	start := time.Now()
	out, err := uncrop.Uncrop(src, p.Ext, uncrop.Options{Seed: p.Seed})
	s.Metrics.OpDuration.WithLabelValues("uncrop").Observe(time.Since(start).Seconds())
	if errors.Is(err, uncrop.ErrEmptyResult) {
		return nil, http.StatusUnprocessableEntity, "Input image is not acceptable: the result would be empty"
	}
	if err != nil {
		return nil, http.StatusInternalServerError, "Uncrop failed"
	}
	return out, 0, ""
}
