package core

import "github.com/gin-gonic/gin"

// Security headers (issue 13, defect 1: stored XSS through an uploaded SVG).
//
// Every response starts with the strict API set from securityHeaders; two
// kinds of response replace the Content-Security-Policy with their own:
// the web client's files (webCSP, in serveWeb) and stored user content
// (blobCSP, in serveBlob).
const (
	// apiCSP is for JSON, streams and everything else that is not a page:
	// nothing in such a response may run, load or be framed.
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

	// webCSP is the browser client's policy. Scripts and styles come only
	// from the client's own files: no inline <script>, no event-handler
	// attributes, no <style> or style="" (the client styles elements
	// through element.style, which CSP allows). Images are the server's
	// own URLs and the blob: URLs the client makes from fetched binaries;
	// connect-src 'self' covers fetch, the SSE reader and the websocket.
	webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

	// blobCSP is for stored user content (image versions, sources, job
	// outputs, downloads): should a browser ever render one as a document,
	// it is sandboxed (opaque origin, no script) and may load nothing.
	blobCSP = "default-src 'none'; sandbox"
)

// securityHeaders sets the headers every response carries: no MIME
// sniffing, no Referer (URLs carry canvas ids and, for token links, tokens),
// no framing, and the strict API policy.
func (s *Server) securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		c.Next()
	}
}

// inlineBlobTypes are the media types a stored blob may be served inline
// with: raster images, which a browser only ever paints. Everything else
// (SVG, which may carry script, and anything unknown) goes out as an
// attachment; an <img> still renders an SVG attachment, a navigation or an
// <iframe> does not.
var inlineBlobTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}
