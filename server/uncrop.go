package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/uncrop"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// uncropMaxInputPixels is the Clipdrop input limit: 10 MP.
const uncropMaxInputPixels = 10_000_000

func (s *Server) adminOnly(c *gin.Context) {
	if !userOf(c).Admin {
		canvusError(c, http.StatusForbidden, "Permission denied: admin only")
	}
}

// creditsJSON is what the credits routes answer for token tk: "credits" is
// what tk may still spend (null = unlimited), the smaller of its user's
// credits ("user_credits") and its own cap ("token_cap").
func creditsJSON(tx *store.Tx, tk *store.Token) gin.H {
	opt := func(n int64, ok bool) any {
		if ok {
			return n
		}
		return nil
	}
	n, ok := tx.Credits(tk)
	un, uok := tx.UserCredits(tk.UserID)
	cn, cok := tx.TokenCap(tk.ID)
	return gin.H{"token_id": tk.ID, "user_id": tk.UserID, "credits": opt(n, ok), "user_credits": opt(un, uok), "token_cap": opt(cn, cok)}
}

func (s *Server) getCredits(c *gin.Context) {
	s.answerCredits(c, s.st.View, nil)
}

// answerCredits runs change (nil: none) on the token of the path inside
// txn (s.st.View or s.st.Write) and answers the token's credits after it.
func (s *Server) answerCredits(c *gin.Context, txn func(func(*store.Tx) error) error, change func(*store.Tx, *store.Token) error) {
	var out gin.H
	err := txn(func(tx *store.Tx) error {
		tk, err := tx.Token(c.Param("tid"))
		if err != nil {
			return err
		}
		if change != nil {
			if err := change(tx, tk); err != nil {
				return err
			}
		}
		out = creditsJSON(tx, tk)
		return nil
	})
	if err != nil {
		canvusStoreError(c, err, "Access token")
		return
	}
	c.JSON(http.StatusOK, out)
}

// setCredits sets uncrop credits. Credits belong to the account: the token in
// the path names its user, and {"credits": N} sets that user's credits, shared
// by all their tokens and logins ({"credits": null} is unlimited), and clears
// this token's own cap unless the body sets one. {"token_cap": N} caps this
// one token further ({"token_cap": null} removes the cap); a cap never raises
// what the user may spend.
func (s *Server) setCredits(c *gin.Context) {
	var req struct {
		Credits  *int64 `json:"credits"`
		TokenCap *int64 `json:"token_cap"`
	}
	raw := map[string]json.RawMessage{}
	if !canvusJSON(c, &raw) {
		return
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &req); err != nil {
		canvusError(c, http.StatusBadRequest, "credits and token_cap must be integers >= 0, or null")
		return
	}
	_, setUser := raw["credits"]
	_, setCap := raw["token_cap"]
	if !setUser && !setCap {
		setUser = true // {} was "unlimited" before token caps existed
	}
	if setUser && !setCap {
		setCap = true // "this key has N credits": no older cap of the key's may hide them
	}
	user, tcap := int64(-1), int64(-1)
	if req.Credits != nil {
		user = *req.Credits
	}
	if req.TokenCap != nil {
		tcap = *req.TokenCap
	}
	if (setUser && req.Credits != nil && user < 0) || (setCap && req.TokenCap != nil && tcap < 0) {
		canvusError(c, http.StatusBadRequest, "credits must be >= 0, or null for unlimited")
		return
	}
	s.answerCredits(c, s.st.Write, func(tx *store.Tx, tk *store.Token) error {
		if setUser {
			if err := tx.SetUserCredits(tk.UserID, user); err != nil {
				return err
			}
		}
		if setCap {
			return tx.SetTokenCap(tk.ID, tcap)
		}
		return nil
	})
}

// userRateKey is the rate-limit key of a signed-in user's requests, whichever
// token or login they come with.
func userRateKey(id uint64) string { return "user:" + strconv.FormatUint(id, 10) }

// parseExtent reads one optional integer form field.
func parseExtent(parts map[string]*uploadPart, name string, lo, hi int) (int, error) {
	p := parts[name]
	if p == nil {
		return 0, nil
	}
	v := strings.Trim(strings.TrimSpace(string(p.data)), `"`)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, got %q", name, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, nil
}

type uncropParams struct {
	ext  uncrop.Extents
	seed int64
}

// uncropWeight is the decode-guard weight of an uncrop beyond its decode:
// the output and the full-size buffers of the fill (upsampled synthesis,
// detail transfer), about 16 bytes per output pixel; the PatchMatch work
// itself runs at a bounded working resolution. Outputs over
// UncropMaxOutputPixels are refused before anything is allocated.
func (s *Server) uncropWeight(iw, ih int, p uncropParams) int64 {
	ow, oh := int64(iw+p.ext.Left+p.ext.Right), int64(ih+p.ext.Up+p.ext.Down)
	if ow <= 0 || oh <= 0 {
		return 0
	}
	return 16 * min(ow*oh, s.cfg.UncropMaxOutputPixels)
}

// runUncrop decodes, fills and returns the result image (not encoded).
func (s *Server) runUncrop(src *image.NRGBA, p uncropParams) (*image.NRGBA, int, string) {
	b := src.Bounds()
	ow, oh := int64(b.Dx()+p.ext.Left+p.ext.Right), int64(b.Dy()+p.ext.Up+p.ext.Down)
	if ow <= 0 || oh <= 0 {
		return nil, http.StatusUnprocessableEntity, fmt.Sprintf("Input image is not acceptable: the result would be %dx%d pixels", ow, oh)
	}
	if ow*oh > s.cfg.UncropMaxOutputPixels {
		return nil, http.StatusUnprocessableEntity, fmt.Sprintf("Input image is not acceptable: the result would be %dx%d = %d pixels, more than %d", ow, oh, ow*oh, s.cfg.UncropMaxOutputPixels)
	}
	start := time.Now()
	out, err := uncrop.Uncrop(src, p.ext, uncrop.Options{Seed: p.seed})
	s.metrics.opDuration.WithLabelValues("uncrop").Observe(time.Since(start).Seconds())
	if errors.Is(err, uncrop.ErrEmptyResult) {
		return nil, http.StatusUnprocessableEntity, "Input image is not acceptable: the result would be empty"
	}
	if err != nil {
		return nil, http.StatusInternalServerError, "Uncrop failed"
	}
	return out, 0, ""
}

func (s *Server) uncropAPI(c *gin.Context) {
	tk := tokenOf(c)
	// The rate belongs to the account, not the key: a new key or a login
	// does not start a fresh budget.
	if ok, wait := s.uncropLimit.allow(userRateKey(tk.UserID), s.now()); !ok {
		s.metrics.rejected.WithLabelValues("rate").Inc()
		c.Header("Retry-After", retryAfter(wait))
		clipdropError(c, http.StatusTooManyRequests, "Too many requests: the limit is "+strconv.Itoa(s.cfg.UncropRatePerMinute)+" per minute per account")
		return
	}
	var left int64
	var limited bool
	s.st.View(func(tx *store.Tx) error { left, limited = tx.Credits(tk); return nil })
	if limited && left <= 0 {
		clipdropError(c, http.StatusPaymentRequired, "Your account has no remaining credits")
		return
	}
	parts, ok := s.multipartParts(c, clipdropError, map[string]bool{"image_file": true},
		map[string]bool{"extend_left": true, "extend_right": true, "extend_up": true, "extend_down": true, "seed": true})
	if !ok {
		return
	}
	img := parts["image_file"]
	if img == nil {
		clipdropError(c, http.StatusBadRequest, "Missing image_file in request")
		return
	}
	var p uncropParams
	for _, f := range []struct {
		name string
		dst  *int
	}{{"extend_left", &p.ext.Left}, {"extend_right", &p.ext.Right}, {"extend_up", &p.ext.Up}, {"extend_down", &p.ext.Down}} {
		v, err := parseExtent(parts, f.name, -uncrop.MaxExtent, uncrop.MaxExtent)
		if err != nil {
			clipdropError(c, http.StatusBadRequest, err.Error())
			return
		}
		*f.dst = v
	}
	seed, err := parseExtent(parts, "seed", 0, 100000)
	if err != nil {
		clipdropError(c, http.StatusBadRequest, err.Error())
		return
	}
	p.seed = int64(seed)
	format, _, _, err := imaging.Inspect(img.data, imaging.Limits{MaxPixels: uncropMaxInputPixels})
	if errors.Is(err, imaging.ErrTooManyPixels) {
		clipdropError(c, http.StatusBadRequest, "Image resolution is too big: at most 10 megapixels")
		return
	}
	if err != nil || (format != imaging.FormatJPEG && format != imaging.FormatPNG && format != imaging.FormatWebP) {
		clipdropError(c, http.StatusBadRequest, "Input image format is not valid: JPEG, PNG or WebP expected")
		return
	}
	_, iw, ih, cost, _ := imaging.DecodeCost(img.data, imaging.Limits{MaxPixels: uncropMaxInputPixels})
	s.withDecodeSlot(c, clipdropError, s.guard.weigh(cost, s.uncropWeight(iw, ih, p)), func() {
		src, _, err := imaging.Decode(img.data, imaging.Limits{MaxPixels: uncropMaxInputPixels})
		if err != nil {
			clipdropError(c, http.StatusBadRequest, "Input image format is not valid: "+err.Error())
			return
		}
		out, code, msg := s.runUncrop(src, p)
		if code != 0 {
			clipdropError(c, code, msg)
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodeJPEG(&buf, out, 92); err != nil {
			clipdropError(c, http.StatusInternalServerError, "Encoding the result failed")
			return
		}
		remaining := int64(-1)
		err = s.st.Write(func(tx *store.Tx) (err error) { remaining, err = tx.ChargeCredit(tk); return })
		if errors.Is(err, store.ErrNoCredits) {
			clipdropError(c, http.StatusPaymentRequired, "Your account has no remaining credits")
			return
		}
		if err != nil {
			clipdropError(c, http.StatusInternalServerError, "Could not record the credit")
			return
		}
		s.metrics.creditsConsumed.Inc()
		if remaining < 0 {
			c.Header("x-remaining-credits", "unlimited")
		} else {
			c.Header("x-remaining-credits", strconv.FormatInt(remaining, 10))
		}
		c.Header("x-credits-consumed", "1")
		c.Data(http.StatusOK, "image/jpeg", buf.Bytes())
	})
}

// canvasUncrop extends an image widget in place: a new version on the same
// line as re-crop, the widget resized so the original part keeps its
// on-canvas scale and position, and IMAGE_UNCROPPED to every viewer.
func (s *Server) canvasUncrop(c *gin.Context) {
	var req struct {
		Left  *int   `json:"extend_left"`
		Right *int   `json:"extend_right"`
		Up    *int   `json:"extend_up"`
		Down  *int   `json:"extend_down"`
		Seed  *int64 `json:"seed"`
	}
	if !canvusJSON(c, &req) {
		return
	}
	var p uncropParams
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"extend_left", req.Left, &p.ext.Left}, {"extend_right", req.Right, &p.ext.Right}, {"extend_up", req.Up, &p.ext.Up}, {"extend_down", req.Down, &p.ext.Down}} {
		if f.v == nil {
			continue
		}
		if *f.v < -uncrop.MaxExtent || *f.v > uncrop.MaxExtent {
			canvusError(c, http.StatusBadRequest, fmt.Sprintf("%s must be between -2000 and 2000, got %d", f.name, *f.v))
			return
		}
		*f.dst = *f.v
	}
	if req.Seed != nil {
		if *req.Seed < 0 || *req.Seed > 100000 {
			canvusError(c, http.StatusBadRequest, fmt.Sprintf("seed must be between 0 and 100000, got %d", *req.Seed))
			return
		}
		p.seed = *req.Seed
	}
	w, ok := s.loadWidget(c, "Image")
	if !ok {
		return
	}
	if w.Format == string(imaging.FormatSVG) {
		canvusError(c, http.StatusBadRequest, "SVG images cannot be uncropped")
		return
	}
	data, err := s.st.ReadBlob(w.Blob)
	if err != nil {
		canvusError(c, http.StatusInternalServerError, "Could not read the image")
		return
	}
	_, iw, ih, cost, _ := s.decodeCost(data)
	s.withDecodeSlot(c, canvusError, s.guard.weigh(cost, s.uncropWeight(iw, ih, p)), func() {
		src, _, err := imaging.Decode(data, s.limits())
		if err != nil {
			canvusError(c, http.StatusBadRequest, "The image cannot be decoded: "+err.Error())
			return
		}
		out, code, msg := s.runUncrop(src, p)
		if code != 0 {
			if code == http.StatusUnprocessableEntity {
				code = http.StatusBadRequest
			}
			canvusError(c, code, strings.TrimPrefix(msg, "Input image is not acceptable: "))
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodePNG(&buf, out); err != nil {
			canvusError(c, http.StatusInternalServerError, "Encoding the result failed")
			return
		}
		ob := out.Bounds()
		resize := func(nw *store.Widget, oldW, oldH int) {
			size, _ := nw.Props["size"].(map[string]any)
			width, _ := size["width"].(float64)
			k := 1.0
			if oldW > 0 && width > 0 {
				k = width / float64(oldW) // canvas units per pixel of the original
			}
			nw.Props["size"] = map[string]any{"width": round6(float64(ob.Dx()) * k), "height": round6(float64(ob.Dy()) * k)}
			if loc, ok := nw.Props["location"].(map[string]any); ok {
				x, _ := loc["x"].(float64)
				y, _ := loc["y"].(float64)
				nw.Props["location"] = map[string]any{"x": round6(x - float64(p.ext.Left)*k), "y": round6(y - float64(p.ext.Up)*k)}
			}
		}
		nw, err := s.newVersionSized(c, w.CanvasID, w.ID, buf.Bytes(), ob.Dx(), ob.Dy(), nil, "uncrop", resize,
			func(nw *store.Widget, v int) (string, map[string]any) {
				return store.EvImageUncropped, map[string]any{"element_id": nw.ID, "version": v,
					"versioned_url": versionedURL(nw.CanvasID, nw.ID, v),
					"extents":       map[string]int{"extend_left": p.ext.Left, "extend_right": p.ext.Right, "extend_up": p.ext.Up, "extend_down": p.ext.Down},
					"seed":          p.seed}
			})
		if err != nil {
			canvusStoreError(c, err, "Image")
			return
		}
		c.JSON(http.StatusOK, nw.Public())
	})
}
