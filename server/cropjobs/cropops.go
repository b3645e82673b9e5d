package cropjobs

// The synchronous crop operations of the crop-jobs dialect (/v1/...):
// auto resize & align and background removal, and the request parsing they
// share with banner jobs (margins, background, output format and size).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/product"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// defaultMargins is the minimum margin when a request gives none (Crop.photo's default).
const defaultMargins = "5%"

// answer writes err in the dialect; anything not a *reqError is a 500.
func answerJobErr(c *gin.Context, err error) {
	var jf *core.ReqError
	if errors.As(err, &jf) {
		core.JobError(c, jf.Code, jf.Msg)
		return
	}
	c.Error(err)
	core.JobError(c, http.StatusInternalServerError, "Internal server error")
}

var marginToken = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(px|%)?$`)

// parseMargins reads minimum margins: a string ("5%", "8px", "8", or CSS
// shorthand with 1 to 4 values of one unit: "10px 20px"), a number (pixels),
// or an object {top, right, bottom, left, unit: "px"|"%"}. Empty means the
// default.
func parseMargins(raw json.RawMessage) (product.Margins, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return parseMarginString(defaultMargins)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return product.Margins{}, errors.New("minimum_margins: invalid string")
		}
		return parseMarginString(s)
	case '{':
		var o struct {
			Top, Right, Bottom, Left *float64
			Unit                     string
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return product.Margins{}, fmt.Errorf("minimum_margins: want {top, right, bottom, left, unit}: %v", err)
		}
		m := product.Margins{}
		switch strings.TrimSpace(o.Unit) {
		case "", "px":
		case "%":
			m.Percent = true
		default:
			return m, fmt.Errorf("minimum_margins.unit: want \"px\" or \"%%\", got %q", o.Unit)
		}
		for _, f := range []struct {
			v   *float64
			dst *float64
		}{{o.Top, &m.Top}, {o.Right, &m.Right}, {o.Bottom, &m.Bottom}, {o.Left, &m.Left}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		return m, checkMarginValues(m)
	default:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return product.Margins{}, errors.New("minimum_margins: want a string like \"5%\" or \"8px\", a number of pixels, or an object")
		}
		m := product.Margins{Top: f, Right: f, Bottom: f, Left: f}
		return m, checkMarginValues(m)
	}
}

func parseMarginString(s string) (product.Margins, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 4 {
		return product.Margins{}, fmt.Errorf("minimum_margins %q: want 1 to 4 values like \"5%%\" or \"8px\"", s)
	}
	vals := make([]float64, len(fields))
	unit := ""
	for i, f := range fields {
		m := marginToken.FindStringSubmatch(f)
		if m == nil {
			return product.Margins{}, fmt.Errorf("minimum_margins %q: %q is not a number with px or %%", s, f)
		}
		u := m[2]
		if u == "" {
			u = "px"
		}
		if unit != "" && u != unit {
			return product.Margins{}, fmt.Errorf("minimum_margins %q: mixes px and %%", s)
		}
		unit = u
		vals[i], _ = strconv.ParseFloat(m[1], 64)
	}
	// CSS shorthand: top, right, bottom, left.
	var t, r, b, l float64
	switch len(vals) {
	case 1:
		t, r, b, l = vals[0], vals[0], vals[0], vals[0]
	case 2:
		t, r, b, l = vals[0], vals[1], vals[0], vals[1]
	case 3:
		t, r, b, l = vals[0], vals[1], vals[2], vals[1]
	case 4:
		t, r, b, l = vals[0], vals[1], vals[2], vals[3]
	}
	m := product.Margins{Top: t, Right: r, Bottom: b, Left: l, Percent: unit == "%"}
	return m, checkMarginValues(m)
}

func checkMarginValues(m product.Margins) error {
	for _, v := range []float64{m.Top, m.Right, m.Bottom, m.Left} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return errors.New("minimum_margins must be finite and >= 0")
		}
		if m.Percent && v >= 50 {
			return errors.New("minimum_margins in % must each be below 50")
		}
	}
	return nil
}

// marginsFit checks that m leaves room in a w x h output.
func marginsFit(m product.Margins, w, h int) error {
	t, r, b, l := m.Top, m.Right, m.Bottom, m.Left
	if m.Percent {
		t, b = t*float64(h)/100, b*float64(h)/100
		l, r = l*float64(w)/100, r*float64(w)/100
	}
	if l+r >= float64(w) || t+b >= float64(h) {
		return fmt.Errorf("minimum_margins leave no room in a %dx%d output", w, h)
	}
	return nil
}

// dimension is an output size: {"width": W, "height": H} or "WxH".
type dimension struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

func (d *dimension) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p, err := parseDimension(s)
		if err != nil {
			return err
		}
		*d = p
		return nil
	}
	var o struct {
		Width  json.Number `json:"width"`
		Height json.Number `json:"height"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return errors.New(`an output dimension is {"width": W, "height": H} or "WxH"`)
	}
	w, err1 := strconv.Atoi(o.Width.String())
	h, err2 := strconv.Atoi(o.Height.String())
	if err1 != nil || err2 != nil {
		return fmt.Errorf("output dimension width and height must be whole numbers, got %q x %q", o.Width, o.Height)
	}
	*d = dimension{w, h}
	return nil
}

var dimPattern = regexp.MustCompile(`^\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*$`)

func parseDimension(s string) (dimension, error) {
	m := dimPattern.FindStringSubmatch(s)
	if m == nil {
		return dimension{}, fmt.Errorf("output dimension %q: want WIDTHxHEIGHT, e.g. 1200x628", s)
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	return dimension{w, h}, nil
}

func (d dimension) check() error {
	if d.Width < 1 || d.Height < 1 || d.Width > product.MaxOutputSide || d.Height > product.MaxOutputSide {
		return fmt.Errorf("output size %dx%d: each side must be 1..%d", d.Width, d.Height, product.MaxOutputSide)
	}
	if d.Width*d.Height > product.MaxOutputPixels {
		return fmt.Errorf("output size %dx%d: more than %d pixels", d.Width, d.Height, product.MaxOutputPixels)
	}
	return nil
}

// parseFormat normalises output_format: png (default, also "auto") or jpeg.
func parseFormat(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "png", "auto":
		return "png", nil
	case "jpeg", "jpg":
		return "jpeg", nil
	}
	return "", fmt.Errorf("output_format %q: want png or jpeg", s)
}

// parseBackgroundFor parses background for an output format; "" gives def.
func parseBackgroundFor(s, def, format string) (product.Background, string, error) {
	if strings.TrimSpace(s) == "" {
		s = def
	}
	if s == "" {
		return product.Background{}, "", nil
	}
	bg, err := product.ParseBackground(s)
	if err != nil {
		return bg, "", err
	}
	if bg.Transparent && format == "jpeg" {
		return bg, "", errors.New("background transparent needs output_format png: JPEG has no alpha")
	}
	return bg, strings.ToLower(strings.TrimSpace(s)), nil
}

func extOf(format string) string {
	if format == "jpeg" {
		return "jpg"
	}
	return "png"
}

// encodeOutput encodes an output image in format (png or jpeg).
func encodeOutput(img image.Image, format string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = imaging.EncodeJPEG(&buf, img, 90)
	} else {
		err = imaging.EncodePNG(&buf, img)
	}
	return buf.Bytes(), err
}

// outputURL is the absolute URL of a stored output.
func (s *API) outputURL(c *gin.Context, hash, format string) string {
	p := "/v1/outputs/" + hash + "." + extOf(format)
	if s.Cfg.PublicURL != "" {
		return strings.TrimSuffix(s.Cfg.PublicURL, "/") + p
	}
	if c == nil {
		return p
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + p
}

// urlLoadError maps an image_url load failure to the dialect.
func urlLoadError(field string, err error) *core.ReqError {
	var fe *core.FetchError
	if !errors.As(err, &fe) {
		return &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: field + ": " + err.Error()}
	}
	code := http.StatusUnprocessableEntity
	switch fe.Code {
	case "invalid_url":
		code = http.StatusBadRequest
	case "forbidden_url":
		code = http.StatusForbidden
	case "not_found":
		code = http.StatusNotFound
	case "too_large":
		code = http.StatusRequestEntityTooLarge
	}
	return &core.ReqError{Code: code, Msg: field + ": " + fe.Msg}
}

// inspectInput checks that data is a raster image within the pixel limit.
func (s *API) inspectInput(field string, data []byte) (imaging.Format, int, int, *core.ReqError) {
	f, w, h, err := imaging.Inspect(data, s.Limits())
	if err == nil && f == imaging.FormatSVG {
		err = errors.New("vector images are not accepted")
	}
	if err != nil {
		if errors.Is(err, imaging.ErrTooManyPixels) {
			return "", 0, 0, &core.ReqError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("%s: image too large: %v", field, err)}
		}
		return "", 0, 0, &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("%s: not a PNG, JPEG, WebP or GIF image: %v", field, err)}
	}
	return f, w, h, nil
}

// readCropForm reads a multipart body whose file parts may repeat. Parts with
// a filename (or in fileNames) are files; the rest are text values of at most
// 1 MiB. The whole body is limited to MaxBodyBytes.
func (s *API) readCropForm(c *gin.Context, fileNames map[string]bool) (*core.FormFields, *core.ReqError) {
	return s.ReadMultipart(c, core.MultipartSpec{
		BodyLimit: s.Cfg.MaxBodyBytes,
		IsFile:    func(name, filename string) bool { return fileNames[name] || filename != "" },
	})
}

func isMultipart(c *gin.Context) bool {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// singleImageRequest is what the synchronous operations take: an image (an
// upload or image_url) plus JSON-ish settings.
type singleImageRequest struct {
	data         []byte
	name         string
	margins      json.RawMessage
	dimension    string
	format       string
	background   string
	responseType string
	threshold    float64
}

// readSingleImage reads a synchronous operation's request: JSON with
// image_url, or multipart with an image_file (or image) part and the same
// settings as text fields.
// singleInput reads and inspects the one image of a synchronous route,
// answering the error itself.
func (s *API) singleInput(c *gin.Context) (*singleImageRequest, int, int, bool) {
	r, jf := s.readSingleImage(c)
	if jf == nil {
		var iw, ih int
		if _, iw, ih, jf = s.inspectInput("image", r.data); jf == nil {
			return r, iw, ih, true
		}
	}
	core.JobError(c, jf.Code, jf.Msg)
	return nil, 0, 0, false
}

func (s *API) readSingleImage(c *gin.Context) (*singleImageRequest, *core.ReqError) {
	r := &singleImageRequest{}
	var url string
	if isMultipart(c) {
		f, jf := s.readCropForm(c, map[string]bool{"image_file": true, "image": true})
		if jf != nil {
			return nil, jf
		}
		files := f.FilesOf("image_file", "image")
		if len(files) > 1 {
			return nil, core.BadInput("give one image_file")
		}
		if len(files) == 1 {
			r.data, r.name = files[0].Data, files[0].Filename
		}
		url = f.Value("image_url")
		if m := f.Value("minimum_margins"); m != "" {
			if strings.HasPrefix(strings.TrimSpace(m), "{") {
				r.margins = json.RawMessage(m)
			} else {
				r.margins, _ = json.Marshal(m)
			}
		}
		r.dimension = f.Value("output_dimension", "output_dimensions")
		r.format = f.Value("output_format")
		r.background = f.Value("background")
		r.responseType = f.Value("response_type")
		if t := f.Value("threshold"); t != "" {
			v, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return nil, core.BadInput("threshold must be a number")
			}
			r.threshold = v
		}
	} else {
		body, jf := readJobBody(c)
		if jf != nil {
			return nil, jf
		}
		var req struct {
			ImageURL        string          `json:"image_url"`
			MinimumMargins  json.RawMessage `json:"minimum_margins"`
			OutputDimension json.RawMessage `json:"output_dimension"`
			OutputFormat    string          `json:"output_format"`
			Background      string          `json:"background"`
			ResponseType    string          `json:"response_type"`
			Threshold       float64         `json:"threshold"`
		}
		if err := core.DecodeJSON(body, &req); err != nil {
			return nil, core.BadInput("%v", err)
		}
		url = req.ImageURL
		r.margins, r.format, r.background, r.responseType, r.threshold = req.MinimumMargins, req.OutputFormat, req.Background, req.ResponseType, req.Threshold
		if d := bytes.TrimSpace(req.OutputDimension); len(d) > 0 && string(d) != "null" {
			var str string
			if json.Unmarshal(d, &str) == nil {
				r.dimension = str
			} else {
				var dim dimension
				if err := json.Unmarshal(d, &dim); err != nil {
					return nil, core.BadInput("output_dimension: %v", err)
				}
				r.dimension = fmt.Sprintf("%dx%d", dim.Width, dim.Height)
			}
		}
	}
	if r.data == nil {
		if strings.TrimSpace(url) == "" {
			return nil, core.BadInput("image_url or an image_file upload is required")
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), 30*time.Second)
		data, err := s.LoadImageURL(ctx, c, url)
		cancel()
		if err != nil {
			return nil, urlLoadError("image_url", err)
		}
		r.data = data
	}
	if math.IsNaN(r.threshold) || r.threshold < 0 || r.threshold > 100 {
		return nil, core.BadInput("threshold must be a CIE76 ΔE between 0 and 100 (0 = default %d)", product.DefaultDeltaE)
	}
	return r, nil
}

// responseJSON reports whether the caller asked for JSON instead of the image.
func responseJSON(rt string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(rt)) {
	case "", "stream", "image":
		return false, nil
	case "json", "url", "crop-info":
		return true, nil
	}
	return false, fmt.Errorf("response_type %q: want stream (the image) or json", rt)
}

// inputCost is the decode-guard weight of an inspected input's decode.
func (s *API) inputCost(data []byte) int64 {
	_, _, _, cost, _ := s.DecodeCost(data)
	return cost
}

// decodeInput decodes an inspected input within an operation slot's time.
func (s *API) decodeInput(field string, data []byte) (*image.NRGBA, *core.ReqError) {
	img, _, err := imaging.Decode(data, s.Limits())
	if err != nil {
		if errors.Is(err, imaging.ErrTooManyPixels) {
			return nil, &core.ReqError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("%s: image too large: %v", field, err)}
		}
		return nil, &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("%s: the image could not be decoded: %v", field, err)}
	}
	return img, nil
}

// sendOutput answers the result of a synchronous operation: the image, or
// with asJSON a stored output's URL and the crop coordinates.
func (s *API) sendOutput(c *gin.Context, data []byte, format string, crop *product.Rect, asJSON bool, w, h int) {
	if crop != nil {
		c.Header("X-Crop-Coordinates", fmt.Sprintf("%g,%g,%g,%g", crop.X, crop.Y, crop.W, crop.H))
	}
	if !asJSON {
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusOK, core.ContentTypes[imaging.Format(format)], data)
		return
	}
	hash, err := s.storeOutput(data, core.IDOf(core.UserOf(c)))
	if err != nil {
		answerJobErr(c, err)
		return
	}
	out := gin.H{"output_image_url": s.outputURL(c, hash, format), "width": w, "height": h}
	if crop != nil {
		out["crop_coordinates"] = crop
	}
	c.JSON(http.StatusOK, out)
}

// storeOutput writes a synchronous operation's output and records it for owner.
func (s *API) storeOutput(data []byte, owner uint64) (string, error) {
	for attempt := 0; ; attempt++ {
		h, err := s.St.PutBlobFile(data)
		if err != nil {
			return "", err
		}
		err = s.St.Write(func(tx *store.Tx) error { return tx.AddOutput(h, owner) })
		if err == nil || !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			return h, err
		}
	}
}

// AutoResizeAlign trims the plain background around the subject and centres
// it in the output size with the minimum margins.
func (s *API) AutoResizeAlign(c *gin.Context) {
	r, iw, ih, ok := s.singleInput(c)
	if !ok {
		return
	}
	o, err := alignSettings(r, iw, ih)
	if err != nil {
		core.JobError(c, http.StatusBadRequest, err.Error())
		return
	}
	dim, margins, format, bg, asJSON := o.dim, o.margins, o.format, o.bg, o.asJSON
	var crop product.Rect
	// Decode, the result and its resize buffer, and the encoding.
	weight := s.Guard.Weigh(s.inputCost(r.data), 8*int64(dim.Width)*int64(dim.Height))
	out, ok := s.productOp(c, r, weight, format, "auto_align", func(img *image.NRGBA) (image.Image, error) {
		res, rect, err := product.TrimAlign(img, dim.Width, dim.Height, margins, &bg, r.threshold)
		crop = rect
		return res, err
	})
	if !ok {
		return
	}
	s.sendOutput(c, out, format, &crop, asJSON, dim.Width, dim.Height)
}

// productOp decodes r's image under the decode guard (weight), runs op on
// it, and encodes the result in format; the duration goes to the metrics
// under name. It answers failures (ok false).
func (s *API) productOp(c *gin.Context, r *singleImageRequest, weight int64, format, name string,
	op func(*image.NRGBA) (image.Image, error)) (out []byte, ok bool) {
	s.WithDecodeSlot(c, core.JobError, weight, func() {
		start := time.Now()
		img, jf := s.decodeInput("image", r.data)
		if jf != nil {
			core.JobError(c, jf.Code, jf.Msg)
			return
		}
		res, err := op(img)
		if err != nil {
			productError(c, err)
			return
		}
		if out, err = encodeOutput(res, format); err != nil {
			answerJobErr(c, err)
			return
		}
		s.Metrics.OpDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
	return out, !c.IsAborted()
}

// productError answers a failed product operation: 422 when no subject
// was found, else 400.
func productError(c *gin.Context, err error) {
	code := http.StatusBadRequest
	if errors.Is(err, product.ErrNoSubject) {
		code = http.StatusUnprocessableEntity
	}
	core.JobError(c, code, err.Error())
}

// alignOptions are auto-resize-align's settings, checked.
type alignOptions struct {
	dim     dimension
	margins product.Margins
	format  string
	bg      product.Background
	asJSON  bool
}

// alignSettings checks r's settings for an input of iw x ih: the output
// dimension ("match_to_original" by default), margins that fit it, the
// format, background and response type.
func alignSettings(r *singleImageRequest, iw, ih int) (*alignOptions, error) {
	o := &alignOptions{dim: dimension{iw, ih}}
	var err error
	if d := strings.TrimSpace(r.dimension); d != "" && d != "match_to_original" {
		if o.dim, err = parseDimension(d); err != nil {
			return nil, fmt.Errorf("%w (or \"match_to_original\")", err)
		}
	}
	if err := o.dim.check(); err != nil {
		return nil, err
	}
	if o.margins, err = parseMargins(r.margins); err != nil {
		return nil, err
	}
	if err := marginsFit(o.margins, o.dim.Width, o.dim.Height); err != nil {
		return nil, err
	}
	if o.format, err = parseFormat(r.format); err != nil {
		return nil, err
	}
	if o.bg, _, err = parseBackgroundFor(r.background, "", o.format); err != nil {
		return nil, err
	}
	if o.asJSON, err = responseJSON(r.responseType); err != nil {
		return nil, err
	}
	return o, nil
}

// RemoveBackground answers the input with its background made transparent (PNG).
func (s *API) RemoveBackground(c *gin.Context) {
	r, iw, ih, ok := s.singleInput(c)
	if !ok {
		return
	}
	if f, err := parseFormat(r.format); err != nil || f != "png" {
		core.JobError(c, http.StatusBadRequest, "remove-background answers PNG (the only format here with alpha): output_format must be png")
		return
	}
	asJSON, err := responseJSON(r.responseType)
	if err != nil {
		core.JobError(c, http.StatusBadRequest, err.Error())
		return
	}
	// Decode, then the result (4 B/px) and the masks (5 B/px).
	weight := s.Guard.Weigh(s.inputCost(r.data), 10*int64(iw)*int64(ih))
	out, ok := s.productOp(c, r, weight, "png", "remove_background", func(img *image.NRGBA) (image.Image, error) {
		return product.RemoveBackground(img, r.threshold)
	})
	if !ok {
		return
	}
	s.sendOutput(c, out, "png", nil, asJSON, iw, ih)
}
