package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// HTTP timeouts. Streams (websocket, ?subscribe, SSE) are exempt from the
// per-route deadlines; every other request must be read and answered within
// them.
const (
	ReadHeaderTimeout = 10 * time.Second
	routeTimeout      = 30 * time.Second
	uploadTimeout     = 2 * time.Minute
)

// NewHTTPServer wraps the handler in an http.Server with canvasd's timeouts:
// a slow sender of headers (slowloris) is cut off after ReadHeaderTimeout.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// isStream reports whether the request opens a long-lived stream.
func isStream(c *gin.Context) bool {
	if strings.EqualFold(c.GetHeader("Upgrade"), "websocket") || subscribeRequested(c) {
		return true
	}
	p := c.Request.URL.Path
	return strings.Contains(p, "/batch-digitize")
}

// deadlines sets read and write deadlines on ordinary requests.
func (s *Server) deadlines() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !isStream(c) {
			d := s.cfg.RouteTimeout
			if strings.HasPrefix(c.ContentType(), "multipart/") {
				d = s.cfg.UploadTimeout
			}
			rc := http.NewResponseController(c.Writer)
			now := time.Now()
			rc.SetReadDeadline(now.Add(d))
			rc.SetWriteDeadline(now.Add(d + 5*time.Second))
		}
		c.Next()
	}
}

// expensive rate-limits costly routes per user (or per client address for
// anonymous requests); fail answers 429 in the route's dialect.
func (s *Server) expensive(fail func(*gin.Context, int, string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.ClientIP()
		if t := tokenOf(c); t != nil {
			key = userRateKey(t.UserID) // per user, not per token: a new token is no new budget
		}
		if ok, wait := s.opLimit.allow(key, s.now()); !ok {
			rejected.WithLabelValues("rate").Inc()
			c.Header("Retry-After", retryAfter(wait))
			fail(c, http.StatusTooManyRequests, "Too many requests: slow down and retry after "+retryAfter(wait)+" s")
			return
		}
		c.Next()
	}
}
