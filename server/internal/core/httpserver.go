package core

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// HTTP timeouts. Every request starts under the per-route deadlines; a
// stream lifts them itself once it is authorised and has read its body (see
// liftDeadlines), so a client cannot turn them off with a header or a query.
const (
	ReadHeaderTimeout = 10 * time.Second
	routeTimeout      = 30 * time.Second
	uploadTimeout     = 2 * time.Minute
	// streamBodyLimit is the most body bytes a stream request may still
	// hold when it starts; a longer body keeps the deadlines.
	streamBodyLimit = 64 << 10
)

// NewHTTPServer wraps the handler in an http.Server with canvasd's timeouts:
// a slow sender of headers (slowloris) is cut off after ReadHeaderTimeout.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.Cfg.ReadHeaderTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// deadlines sets read and write deadlines on every request: RouteTimeout,
// or UploadTimeout for multipart bodies. Nothing the client sends lifts
// them; only a stream handler does, through liftDeadlines.
func (s *Server) deadlines() gin.HandlerFunc {
	return func(c *gin.Context) {
		d := s.Cfg.RouteTimeout
		if strings.HasPrefix(c.ContentType(), "multipart/") {
			d = s.Cfg.UploadTimeout
		}
		rc := http.NewResponseController(c.Writer)
		now := time.Now()
		rc.SetReadDeadline(now.Add(d))
		rc.SetWriteDeadline(now.Add(d + 5*time.Second))
		c.Next()
	}
}

// LiftDeadlines is called by a stream handler (NDJSON ?subscribe, SSE) at
// the point its stream starts, after authorisation and after it has read
// its request body. What is left of the body is read first, under the
// deadline still in force and up to streamBodyLimit bytes; when the body
// does not end in time the handler is aborted and the connection closed.
// Then the read deadline goes (the server's only read is then
// the one that notices the client leaving) and so does the route's write
// deadline (every stream write sets its own, WriteTimeout). Websockets need
// no call: the upgrade hijacks the connection, which clears its deadlines.
func (s *Server) LiftDeadlines(c *gin.Context) {
	if b := c.Request.Body; b != nil && b != http.NoBody {
		n, err := io.Copy(io.Discard, io.LimitReader(b, streamBodyLimit+1))
		if err != nil || n > streamBodyLimit {
			panic(http.ErrAbortHandler) // closes the connection, quietly
		}
	}
	rc := http.NewResponseController(c.Writer)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}

// trustProxies makes gin take the client address from X-Forwarded-For /
// X-Real-IP only when the peer is one of cfg.TrustedProxies (none by
// default: the peer's own address is the client's).
func (s *Server) trustProxies() {
	if err := s.Gin.SetTrustedProxies(s.Cfg.TrustedProxies); err != nil {
		s.Log.Error().Err(err).Strs("trusted_proxies", s.Cfg.TrustedProxies).Msg("invalid trusted proxies: trusting none")
		s.Gin.SetTrustedProxies(nil)
	}
}

// anonCounter counts the requests in progress without a valid token, per
// client address.
type anonCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (a *anonCounter) acquire(ip string, max int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]int{}
	}
	if a.m[ip] >= max {
		return false
	}
	a.m[ip]++
	return true
}

func (a *anonCounter) release(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m[ip]--; a.m[ip] <= 0 {
		delete(a.m, ip)
	}
}

func (a *anonCounter) Count(ip string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[ip]
}

// anonConns caps the requests in progress that carry no valid token at
// MaxAnonConnsPerIP per client address (NDJSON/SSE streams count while they
// run; a websocket counts until its upgrade, and is then under the stream
// caps). Over the cap the request is answered 429 in its route's dialect
// before anything else runs.
func (s *Server) anonConns() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.hasValidToken(c) {
			c.Next()
			return
		}
		ip := c.ClientIP()
		if !s.Anon.acquire(ip, s.Cfg.MaxAnonConnsPerIP) {
			s.Metrics.Rejected.WithLabelValues("anonymous").Inc()
			c.Header("Retry-After", "1")
			failFor(c.Request.URL.Path)(c, http.StatusTooManyRequests,
				"Too many unauthenticated requests from your address: retry later, or send an access token")
			return
		}
		defer s.Anon.release(ip)
		c.Next()
	}
}

// failFor answers in the dialect of the API a path belongs to.
func failFor(p string) func(*gin.Context, int, string) {
	switch {
	case strings.HasPrefix(p, "/api/v1"):
		return CanvusError
	case strings.HasPrefix(p, "/api/canvas"):
		return DetailError
	case strings.HasPrefix(p, "/uncrop"):
		return ClipdropError
	case strings.HasPrefix(p, "/v1/"):
		return JobError
	}
	return CanvusError
}

// Expensive rate-limits costly routes per user (or per client address for
// anonymous requests); fail answers 429 in the route's dialect.
func (s *Server) Expensive(fail func(*gin.Context, int, string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.ClientIP()
		if t := TokenOf(c); t != nil {
			key = UserRateKey(t.UserID) // per user, not per token: a new token is no new budget
		}
		if ok, wait := s.opLimit.Allow(key, s.Now()); !ok {
			s.Metrics.Rejected.WithLabelValues("rate").Inc()
			c.Header("Retry-After", RetryAfter(wait))
			fail(c, http.StatusTooManyRequests, "Too many requests: slow down and retry after "+RetryAfter(wait)+" s")
			return
		}
		c.Next()
	}
}
