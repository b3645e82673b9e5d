package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

var contentTypes = map[imaging.Format]string{
	imaging.FormatPNG: "image/png", imaging.FormatJPEG: "image/jpeg", imaging.FormatGIF: "image/gif",
	imaging.FormatWebP: "image/webp", imaging.FormatSVG: "image/svg+xml",
}

type uploadPart struct {
	data     []byte
	filename string
}

// multipartParts reads the named parts of a multipart body with size limits:
// files up to MaxBodyBytes, fields up to 1 MiB, each name at most once.
// Unknown parts are skipped. It answers the error itself via fail.
func (s *Server) multipartParts(c *gin.Context, fail func(*gin.Context, int, string), files map[string]bool, fields map[string]bool) (map[string]*uploadPart, bool) {
	f, fe := s.readMultipart(c, multipartSpec{
		bodyLimit:    s.cfg.MaxBodyBytes + (1 << 20),
		isFile:       func(name, _ string) bool { return files[name] },
		keep:         func(name string) bool { return files[name] || fields[name] },
		unique:       true,
		notMultipart: "Request must be multipart/form-data",
	})
	if fe != nil {
		fail(c, fe.code, fe.msg)
		return nil, false
	}
	out := map[string]*uploadPart{}
	for name, ps := range f.files {
		out[name] = ps[0]
	}
	for name, vs := range f.values {
		out[name] = &uploadPart{data: []byte(vs[0])}
	}
	return out, true
}

// multipartSpec says how readMultipart reads a body.
type multipartSpec struct {
	bodyLimit int64                            // the whole body
	isFile    func(name, filename string) bool // file parts: up to MaxBodyBytes; others 1 MiB
	keep      func(name string) bool           // nil keeps every part; others are skipped
	unique    bool                             // a kept name given twice is refused
	// notMultipart is the message for a body that is not multipart ("" is
	// "Malformed multipart body: <why>").
	notMultipart string
}

// formFields are the parts of a multipart body: files by field name in
// order (a field may repeat), and text values (repeats appended).
type formFields struct {
	files  map[string][]*uploadPart
	values map[string][]string
}

func (f *formFields) value(names ...string) string {
	for _, n := range names {
		if v := f.values[n]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (f *formFields) filesOf(names ...string) []*uploadPart {
	var out []*uploadPart
	for _, n := range names {
		out = append(out, f.files[n]...)
	}
	return out
}

// readMultipart is the one multipart reader: every dialect's uploads go
// through it, with the limits of sp. Errors come back as a status and a
// message for the dialect's error writer.
func (s *Server) readMultipart(c *gin.Context, sp multipartSpec) (*formFields, *reqError) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, sp.bodyLimit)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		if sp.notMultipart != "" {
			return nil, &reqError{http.StatusBadRequest, sp.notMultipart}
		}
		return nil, badInput("Malformed multipart body: %v", err)
	}
	readFail := func(err error) *reqError {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &reqError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: at most %d bytes", s.cfg.MaxBodyBytes)}
		}
		return badInput("Malformed multipart body: %v", err)
	}
	f := &formFields{files: map[string][]*uploadPart{}, values: map[string][]string{}}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, readFail(err)
		}
		name := part.FormName()
		if sp.keep != nil && !sp.keep(name) {
			io.Copy(io.Discard, part)
			continue
		}
		isFile := sp.isFile(name, part.FileName())
		limit := int64(1 << 20)
		if isFile {
			limit = s.cfg.MaxBodyBytes
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, readFail(err)
		}
		if int64(len(data)) > limit {
			return nil, &reqError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Part '%s' is too large: at most %d bytes", name, limit)}
		}
		if sp.unique && (f.files[name] != nil || f.values[name] != nil) {
			return nil, badInput("Part '%s' given more than once", name)
		}
		if isFile {
			f.files[name] = append(f.files[name], &uploadPart{data: data, filename: part.FileName()})
		} else {
			f.values[name] = append(f.values[name], string(data))
		}
	}
}

// inspectError turns an imaging guard error into a message and status.
func inspectError(part string, err error) (int, string) {
	if errors.Is(err, imaging.ErrTooManyPixels) {
		return http.StatusBadRequest, fmt.Sprintf("Image in '%s' is too large: %v", part, err)
	}
	return http.StatusBadRequest, fmt.Sprintf("'%s' is not an image of an allowed format (JPEG, PNG, WebP, GIF, SVG): %v", part, err)
}

// decodeError turns a failed full decode into a message and status.
func decodeError(part string, err error) (int, string) {
	if errors.Is(err, imaging.ErrTooManyPixels) || errors.Is(err, imaging.ErrUnsupported) {
		return inspectError(part, err)
	}
	return http.StatusBadRequest, fmt.Sprintf("Image in '%s' is corrupt or truncated: %v", part, err)
}

func (s *Server) limits() imaging.Limits { return imaging.Limits{MaxPixels: s.cfg.MaxPixels} }

func (s *Server) createImage(c *gin.Context) {
	if !s.allowUpload(c) {
		return
	}
	up, ok := s.readImageUpload(c)
	if !ok {
		return
	}
	w := &store.Widget{ID: uuid.NewString(), CanvasID: canvasOf(c).ID, Type: "Image", Props: defaultProps("Image")}
	if up.source != nil && !s.checkSource(c, up) {
		return
	}
	if !s.checkData(c, up) {
		return
	}
	w.Format, w.PixelW, w.PixelH = string(up.format), up.pw, up.ph
	w.Filename = up.data.filename
	w.Props["original_filename"] = up.data.filename
	w.Props["size"] = map[string]any{"width": float64(up.pw), "height": float64(up.ph)}

	// Validate the json part before any blob file is written, so that a
	// refused upload leaves no file behind (the write transaction checks again).
	if err := s.st.View(func(tx *store.Tx) error {
		probe := *w
		probe.Props = copyProps(w.Props)
		probe.Props["parent_id"] = rootOf(tx, probe.CanvasID)
		_, err := applyProps(tx, &probe, up.body, true)
		return err
	}); err != nil {
		canvusStoreError(c, err, "Image")
		return
	}
	var hash string
	var err error
	for attempt := 0; ; attempt++ {
		hash, err = s.storeImage(up, w, userOf(c))
		if !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			break
		}
	}
	if err != nil {
		canvusStoreError(c, err, "Image")
		return
	}
	c.JSON(http.StatusOK, w.Public())
	s.fillHashLater(w.CanvasID, w.ID, hash)
}

// imageUpload is a POST …/images request as it is read and checked.
type imageUpload struct {
	data, source *uploadPart
	dataGiven    bool // data came as a part (not cropped by us from source)
	body         map[string]json.RawMessage
	cropBox      *imaging.Box
	srcW, srcH   int
	format       imaging.Format
	pw, ph       int
}

// readImageUpload reads the parts (data, source, json) and the json part's
// crop_bbox.
func (s *Server) readImageUpload(c *gin.Context) (*imageUpload, bool) {
	parts, ok := s.multipartParts(c, canvusError, map[string]bool{"data": true, "source": true}, map[string]bool{"json": true})
	if !ok {
		return nil, false
	}
	up := &imageUpload{data: parts["data"], source: parts["source"], dataGiven: parts["data"] != nil, body: map[string]json.RawMessage{}}
	if up.data == nil && up.source == nil {
		canvusError(c, http.StatusBadRequest, "Missing 'data' part: the image file is required")
		return nil, false
	}
	if j := parts["json"]; j != nil {
		if err := decodeJSON(j.data, &up.body); err != nil {
			canvusError(c, http.StatusBadRequest, "Invalid 'json' part: "+err.Error())
			return nil, false
		}
	}
	if raw, ok := up.body["crop_bbox"]; ok {
		delete(up.body, "crop_bbox")
		b, errs := imaging.ParseBBox(raw, []any{"crop_bbox"}, 0, 0)
		if len(errs) > 0 {
			canvusError(c, http.StatusBadRequest, fmt.Sprintf("Invalid crop_bbox: %s at %v", errs[0].Msg, errs[0].Loc))
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
func (s *Server) checkSource(c *gin.Context, up *imageUpload) bool {
	f, sw, sh, cost, err := s.decodeCost(up.source.data)
	if err == nil && f == imaging.FormatSVG {
		err = errors.New("a source render must be a raster image")
	}
	if err != nil {
		code, msg := inspectError("source", err)
		canvusError(c, code, msg)
		return false
	}
	up.srcW, up.srcH = sw, sh
	box := imaging.Whole
	if up.cropBox != nil {
		box = *up.cropBox
	}
	if up.data == nil {
		if r := box.PixelRect(sw, sh); r.Empty() {
			canvusError(c, http.StatusBadRequest, "crop_bbox is smaller than one pixel of the source")
			return false
		}
	}
	s.withDecodeSlot(c, canvusError, cost, func() {
		img, _, err := imaging.Decode(up.source.data, s.limits())
		if err != nil {
			code, msg := decodeError("source", err)
			canvusError(c, code, msg)
			return
		}
		if up.data != nil {
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodePNG(&buf, imaging.CropFrac(img, box)); err != nil {
			canvusStoreError(c, err, "Image")
			return
		}
		up.data = &uploadPart{data: buf.Bytes(), filename: strings.TrimSuffix(up.source.filename, filepath.Ext(up.source.filename)) + "-crop.png"}
	})
	return !c.IsAborted()
}

// checkData inspects the image and, for a raster part the client sent,
// decodes it whole under the decode guard.
func (s *Server) checkData(c *gin.Context, up *imageUpload) bool {
	format, pw, ph, cost, err := s.decodeCost(up.data.data)
	if err != nil {
		code, msg := inspectError("data", err)
		canvusError(c, code, msg)
		return false
	}
	up.format, up.pw, up.ph = format, pw, ph
	if format.IsRaster() && up.dataGiven {
		s.withDecodeSlot(c, canvusError, cost, func() {
			if _, _, err := imaging.Decode(up.data.data, s.limits()); err != nil {
				code, msg := decodeError("data", err)
				canvusError(c, code, msg)
			}
		})
	}
	return !c.IsAborted()
}

// storeImage writes the blob files (data, and source when given) and then
// the widget with its version 0 in one transaction; it returns the data's
// hash. store.ErrBlobGone (a file collected meanwhile) means: try again.
func (s *Server) storeImage(up *imageUpload, w *store.Widget, u *store.User) (string, error) {
	h, err := s.st.PutBlobFile(up.data.data)
	if err != nil {
		return "", err
	}
	w.Blob = h
	v0 := store.Version{Version: 0, Blob: h, Width: up.pw, Height: up.ph, Kind: "original", AuthorID: idOf(u), Author: nameOf(u)}
	if up.source != nil {
		sh, err := s.st.PutBlobFile(up.source.data)
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
	return h, s.st.Write(func(tx *store.Tx) error {
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
			nw.Props["depth"] = topDepth(tx, nw.CanvasID, nw.ParentID(), nw.ID) + 1
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
func (s *Server) allowUpload(c *gin.Context) bool {
	key := "ip:" + c.ClientIP()
	if u := userOf(c); u != nil {
		key = "user:" + strconv.FormatUint(u.ID, 10)
	}
	ok, wait := s.uploadLimit.allow(key, s.now())
	if !ok {
		s.metrics.rejected.WithLabelValues("rate").Inc()
		c.Header("Retry-After", retryAfter(wait))
		canvusError(c, http.StatusTooManyRequests, fmt.Sprintf("Too many uploads: at most %d a minute, retry after %s s", s.cfg.UploadsPerMinute, retryAfter(wait)))
	}
	return ok
}

func nameOf(u *store.User) string {
	if u == nil {
		return "Guest"
	}
	return u.Name
}

func copyProps(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// publicHash is the short content hash the Canvus API shows.
func publicHash(blob string) string {
	if len(blob) > 12 {
		return blob[:12]
	}
	return blob
}

// fillHashLater is the background processing that sets an image's hash after
// create and publishes the change, as Canvus does.
func (s *Server) fillHashLater(canvasID, widgetID, blob string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.st.Write(func(tx *store.Tx) error {
			w, err := tx.Widget(canvasID, widgetID)
			if err != nil {
				return nil // deleted meanwhile
			}
			if h, _ := w.Props["hash"].(string); h != "" || w.Blob != blob {
				return nil
			}
			w.Props["hash"] = publicHash(blob)
			return tx.UpdateWidget(w, store.EvWidgetUpdated, nil)
		})
		if err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Error().Err(err).Str("widget_id", widgetID).Msg("fill image hash")
		}
	}()
}

// safeFilename strips what must never reach a header or a path: control
// characters, quotes and path separators.
func safeFilename(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == '"':
			return '_'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		name = "image"
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

// contentDisposition builds an attachment header with an ASCII fallback and
// an RFC 5987 UTF-8 filename.
func contentDisposition(name string) string {
	name = safeFilename(name)
	ascii := strings.Map(func(r rune) rune {
		if r > 126 || r < 32 {
			return '_'
		}
		return r
	}, name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": ascii})
	if v == "" {
		v = "attachment"
	}
	if ascii != name {
		v += "; filename*=UTF-8''" + urlPathEscape(name)
	}
	return v
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// serveBlob sends an immutable blob with caching headers. Only raster types
// are served inline; anything else (SVG above all, which can carry script)
// is forced to an attachment. Every blob gets the sandboxing blobCSP.
func (s *Server) serveBlob(c *gin.Context, blob, ctype, disposition string, fail func(*gin.Context, int, string)) {
	etag := `"` + blob + `"`
	if !inlineBlobTypes[ctype] {
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		if disposition == "" {
			disposition = "attachment"
		}
	}
	c.Header("Cache-Control", "private, max-age=157680000, immutable")
	c.Header("ETag", etag)
	if disposition != "" {
		c.Header("Content-Disposition", disposition)
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", blobCSP)
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	f, err := s.st.OpenBlob(blob)
	if err != nil {
		fail(c, http.StatusNotFound, "File not found")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fail(c, http.StatusInternalServerError, "File unreadable")
		return
	}
	c.Header("Content-Type", ctype)
	c.Header("Content-Length", strconv.FormatInt(st.Size(), 10))
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		io.Copy(c.Writer, f)
	}
}

func (s *Server) downloadImage(c *gin.Context) {
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
	ctype := contentTypes[imaging.Format(w.Format)]
	if cur := w.CurrentVersion(); cur != nil && cur.Version > 0 {
		ctype = "image/png"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	s.serveBlob(c, w.Blob, ctype, contentDisposition(name), canvusError)
}
