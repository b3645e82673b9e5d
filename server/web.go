package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// serveWeb serves the embedded browser client; unknown paths get index.html
// so client-side routes (/c/<canvas>) load the app.
func (s *Server) serveWeb(c *gin.Context) {
	p := strings.TrimPrefix(path.Clean(c.Request.URL.Path), "/")
	if p == "" {
		p = "index.html"
	}
	if st, err := fs.Stat(s.web, p); err != nil || st.IsDir() {
		p = "index.html"
	}
	if p == "index.html" {
		c.Header("Cache-Control", "no-cache")
	}
	c.FileFromFS(p, http.FS(s.web))
}
