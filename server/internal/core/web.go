package core

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// ServeWeb serves the embedded browser client; unknown paths get index.html
// so client-side routes (/c/<canvas>) load the app.
func (s *Server) ServeWeb(c *gin.Context) {
	c.Header("Content-Security-Policy", webCSP)
	p := strings.TrimPrefix(path.Clean(c.Request.URL.Path), "/")
	if p == "" {
		p = "index.html"
	}
	if st, err := fs.Stat(s.Web, p); err != nil || st.IsDir() {
		p = "index.html"
	}
	if p == "index.html" {
		// Not through http.FileServer: it redirects any ".../index.html"
		// request to "./", which loops for "/" and for client routes.
		data, err := fs.ReadFile(s.Web, p)
		if err != nil {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"msg": "Not found"})
			return
		}
		if s.WebProbe {
			data = bytes.Replace(data, []byte("<html "), []byte(`<html data-probe="1" `), 1)
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", data)
		return
	}
	c.FileFromFS(p, http.FS(s.Web))
}
