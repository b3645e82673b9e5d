package clipdrop

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/uncrop"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// UncropAPI is POST /uncrop/v1: Clipdrop's uncrop. The account's rate and
// credits are checked first, then the form and the image; the result is
// charged one credit only once it is encoded.
func (s *API) UncropAPI(c *gin.Context) {
	tk := core.TokenOf(c)
	if !s.allow(c, tk) {
		return
	}
	img, p, ok := s.readForm(c)
	if !ok {
		return
	}
	iw, ih, cost, ok := checkInput(c, img.Data)
	if !ok {
		return
	}
	s.WithDecodeSlot(c, core.ClipdropError, s.Guard.Weigh(cost, s.UncropWeight(iw, ih, p)), func() {
		src, _, err := imaging.Decode(img.Data, imaging.Limits{MaxPixels: core.UncropMaxInputPixels})
		if err != nil {
			core.ClipdropError(c, http.StatusBadRequest, "Input image format is not valid: "+err.Error())
			return
		}
		out, code, msg := s.RunUncrop(src, p)
		if code != 0 {
			core.ClipdropError(c, code, msg)
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodeJPEG(&buf, out, 92); err != nil {
			core.ClipdropError(c, http.StatusInternalServerError, "Encoding the result failed")
			return
		}
		s.charge(c, tk, buf.Bytes())
	})
}

// allow checks the account's rate and credits before any upload is read.
// The rate belongs to the account, not the key: a new key or a login does
// not start a fresh budget.
func (s *API) allow(c *gin.Context, tk *store.Token) bool {
	if ok, wait := s.UncropLimit.Allow(core.UserRateKey(tk.UserID), s.Now()); !ok {
		s.Metrics.Rejected.WithLabelValues("rate").Inc()
		c.Header("Retry-After", core.RetryAfter(wait))
		core.ClipdropError(c, http.StatusTooManyRequests, "Too many requests: the limit is "+strconv.Itoa(s.Cfg.UncropRatePerMinute)+" per minute per account")
		return false
	}
	var left int64
	var limited bool
	s.St.View(func(tx *store.Tx) error { left, limited = tx.Credits(tk); return nil })
	if limited && left <= 0 {
		core.ClipdropError(c, http.StatusPaymentRequired, "Your account has no remaining credits")
		return false
	}
	return true
}

// readForm reads the multipart form: image_file, the four extents and seed.
func (s *API) readForm(c *gin.Context) (*core.UploadPart, core.UncropParams, bool) {
	var p core.UncropParams
	parts, ok := s.MultipartParts(c, core.ClipdropError, map[string]bool{"image_file": true},
		map[string]bool{"extend_left": true, "extend_right": true, "extend_up": true, "extend_down": true, "seed": true})
	if !ok {
		return nil, p, false
	}
	img := parts["image_file"]
	if img == nil {
		core.ClipdropError(c, http.StatusBadRequest, "Missing image_file in request")
		return nil, p, false
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"extend_left", &p.Ext.Left}, {"extend_right", &p.Ext.Right}, {"extend_up", &p.Ext.Up}, {"extend_down", &p.Ext.Down}} {
		v, err := core.ParseExtent(parts, f.name, -uncrop.MaxExtent, uncrop.MaxExtent)
		if err != nil {
			core.ClipdropError(c, http.StatusBadRequest, err.Error())
			return nil, p, false
		}
		*f.dst = v
	}
	seed, err := core.ParseExtent(parts, "seed", 0, 100000)
	if err != nil {
		core.ClipdropError(c, http.StatusBadRequest, err.Error())
		return nil, p, false
	}
	p.Seed = int64(seed)
	return img, p, true
}

// checkInput checks the image's format and size from its header and
// returns its size and decode cost.
func checkInput(c *gin.Context, data []byte) (iw, ih int, cost int64, ok bool) {
	format, _, _, err := imaging.Inspect(data, imaging.Limits{MaxPixels: core.UncropMaxInputPixels})
	if errors.Is(err, imaging.ErrTooManyPixels) {
		core.ClipdropError(c, http.StatusBadRequest, "Image resolution is too big: at most 10 megapixels")
		return 0, 0, 0, false
	}
	if err != nil || (format != imaging.FormatJPEG && format != imaging.FormatPNG && format != imaging.FormatWebP) {
		core.ClipdropError(c, http.StatusBadRequest, "Input image format is not valid: JPEG, PNG or WebP expected")
		return 0, 0, 0, false
	}
	_, iw, ih, cost, _ = imaging.DecodeCost(data, imaging.Limits{MaxPixels: core.UncropMaxInputPixels})
	return iw, ih, cost, true
}

// charge takes one credit for the result and answers it as JPEG, with the
// credits left in x-remaining-credits.
func (s *API) charge(c *gin.Context, tk *store.Token, jpeg []byte) {
	remaining := int64(-1)
	err := s.St.Write(func(tx *store.Tx) (err error) { remaining, err = tx.ChargeCredit(tk); return })
	if errors.Is(err, store.ErrNoCredits) {
		core.ClipdropError(c, http.StatusPaymentRequired, "Your account has no remaining credits")
		return
	}
	if err != nil {
		core.ClipdropError(c, http.StatusInternalServerError, "Could not record the credit")
		return
	}
	s.Metrics.CreditsConsumed.Inc()
	if remaining < 0 {
		c.Header("x-remaining-credits", "unlimited")
	} else {
		c.Header("x-remaining-credits", strconv.FormatInt(remaining, 10))
	}
	c.Header("x-credits-consumed", "1")
	c.Data(http.StatusOK, "image/jpeg", jpeg)
}
