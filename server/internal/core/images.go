package core

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

var ContentTypes = map[imaging.Format]string{
	imaging.FormatPNG: "image/png", imaging.FormatJPEG: "image/jpeg", imaging.FormatGIF: "image/gif",
	imaging.FormatWebP: "image/webp", imaging.FormatSVG: "image/svg+xml",
}

type UploadPart struct {
	Data     []byte
	Filename string
}

// MultipartParts reads the named parts of a multipart body with size limits:
// files up to MaxBodyBytes, fields up to 1 MiB, each name at most once.
// Unknown parts are skipped. It answers the error itself via fail.
func (s *Server) MultipartParts(c *gin.Context, fail func(*gin.Context, int, string), files map[string]bool, fields map[string]bool) (map[string]*UploadPart, bool) {
	f, fe := s.ReadMultipart(c, MultipartSpec{
		BodyLimit:    s.Cfg.MaxBodyBytes + (1 << 20),
		IsFile:       func(name, _ string) bool { return files[name] },
		keep:         func(name string) bool { return files[name] || fields[name] },
		unique:       true,
		notMultipart: "Request must be multipart/form-data",
	})
	if fe != nil {
		fail(c, fe.Code, fe.Msg)
		return nil, false
	}
	out := map[string]*UploadPart{}
	for name, ps := range f.files {
		out[name] = ps[0]
	}
	for name, vs := range f.Values {
		out[name] = &UploadPart{Data: []byte(vs[0])}
	}
	return out, true
}

// MultipartSpec says how readMultipart reads a body.
type MultipartSpec struct {
	BodyLimit int64                            // the whole body
	IsFile    func(name, filename string) bool // file parts: up to MaxBodyBytes; others 1 MiB
	keep      func(name string) bool           // nil keeps every part; others are skipped
	unique    bool                             // a kept name given twice is refused
	// notMultipart is the message for a body that is not multipart ("" is
	// "Malformed multipart body: <why>").
	notMultipart string
}

// FormFields are the parts of a multipart body: files by field name in
// order (a field may repeat), and text values (repeats appended).
type FormFields struct {
	files  map[string][]*UploadPart
	Values map[string][]string
}

func (f *FormFields) Value(names ...string) string {
	for _, n := range names {
		if v := f.Values[n]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (f *FormFields) FilesOf(names ...string) []*UploadPart {
	var out []*UploadPart
	for _, n := range names {
		out = append(out, f.files[n]...)
	}
	return out
}

// ReadMultipart is the one multipart reader: every dialect's uploads go
// through it, with the limits of sp. Errors come back as a status and a
// message for the dialect's error writer.
func (s *Server) ReadMultipart(c *gin.Context, sp MultipartSpec) (*FormFields, *ReqError) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, sp.BodyLimit)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		if sp.notMultipart != "" {
			return nil, &ReqError{http.StatusBadRequest, sp.notMultipart}
		}
		return nil, BadInput("Malformed multipart body: %v", err)
	}
	readFail := func(err error) *ReqError {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &ReqError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: at most %d bytes", s.Cfg.MaxBodyBytes)}
		}
		return BadInput("Malformed multipart body: %v", err)
	}
	f := &FormFields{files: map[string][]*UploadPart{}, Values: map[string][]string{}}
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
		isFile := sp.IsFile(name, part.FileName())
		limit := int64(1 << 20)
		if isFile {
			limit = s.Cfg.MaxBodyBytes
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, readFail(err)
		}
		if int64(len(data)) > limit {
			return nil, &ReqError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Part '%s' is too large: at most %d bytes", name, limit)}
		}
		if sp.unique && (f.files[name] != nil || f.Values[name] != nil) {
			return nil, BadInput("Part '%s' given more than once", name)
		}
		if isFile {
			f.files[name] = append(f.files[name], &UploadPart{Data: data, Filename: part.FileName()})
		} else {
			f.Values[name] = append(f.Values[name], string(data))
		}
	}
}

// InspectError turns an imaging guard error into a message and status.
func InspectError(part string, err error) (int, string) {
	if errors.Is(err, imaging.ErrTooManyPixels) {
		return http.StatusBadRequest, fmt.Sprintf("Image in '%s' is too large: %v", part, err)
	}
	return http.StatusBadRequest, fmt.Sprintf("'%s' is not an image of an allowed format (JPEG, PNG, WebP, GIF, SVG): %v", part, err)
}

// DecodeError turns a failed full decode into a message and status.
func DecodeError(part string, err error) (int, string) {
	if errors.Is(err, imaging.ErrTooManyPixels) || errors.Is(err, imaging.ErrUnsupported) {
		return InspectError(part, err)
	}
	return http.StatusBadRequest, fmt.Sprintf("Image in '%s' is corrupt or truncated: %v", part, err)
}

func (s *Server) Limits() imaging.Limits { return imaging.Limits{MaxPixels: s.Cfg.MaxPixels} }

func NameOf(u *store.User) string {
	if u == nil {
		return "Guest"
	}
	return u.Name
}

// PublicHash is the short content hash the Canvus API shows.
func PublicHash(blob string) string {
	if len(blob) > 12 {
		return blob[:12]
	}
	return blob
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

// ContentDisposition builds an attachment header with an ASCII fallback and
// an RFC 5987 UTF-8 filename.
func ContentDisposition(name string) string {
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

// ServeBlob sends an immutable blob with caching headers. Only raster types
// are served inline; anything else (SVG above all, which can carry script)
// is forced to an attachment. Every blob gets the sandboxing blobCSP.
func (s *Server) ServeBlob(c *gin.Context, blob, ctype, disposition string, fail func(*gin.Context, int, string)) {
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
	f, err := s.St.OpenBlob(blob)
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
