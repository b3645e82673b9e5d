package server

import (
	"context"
	"io/fs"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/ocr"
	"github.com/canvasd/canvasd/internal/wsfan"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
)

// Version is the server's version string, shown by /server-info.
var Version = "0.1.0"

// Server wires the store and the hub to HTTP.
type Server struct {
	cfg         Config
	st          *store.Store
	hub         *hub.Hub
	log         zerolog.Logger
	engine      *gin.Engine
	web         fs.FS
	cache       *imaging.SourceCache
	fetcher     *Fetcher
	guard       *decodeGuard // every decode's slot and memory weight, see decodeguard.go
	uploadLimit *keyLimiter  // image uploads per user (signed in) or per client IP
	uncropLimit *keyLimiter
	opLimit     *keyLimiter
	now         func() time.Time

	bg      sync.WaitGroup // background processing (image hashes, jobs)
	ctx     context.Context
	cancel  context.CancelFunc
	streams sync.WaitGroup // open NDJSON/SSE/websocket streams

	live liveRegistry // open streams: caps and credential re-checks

	auth authCache // tokens' users and canvases' sharing, see authenticate

	anon       anonCounter    // requests in progress without a valid token, per IP (anonConns)
	logins     *loginThrottle // failed password sign-ins, see throttle.go
	pwCompares atomic.Int64   // bcrypt comparisons made by sign-in (real and dummy)

	metrics         *Metrics     // this server's registry, see metrics.go
	viewers         sync.Map     // viewer id -> viewer, for HELLO (ws.go)
	fan             wsfan.Pool   // writes websocket frames (ws.go)
	jobs            *jobRunner   // crop-job queue and workers (jobs.go)
	batches         *logRegistry // batch-digitize event logs kept for replay (digitize.go)
	digitizeTimeout time.Duration
	ocr             ocr.Engine // OCR setting of batch-digitize (WithOCR)
}

// Option adjusts a Server at construction.
type Option func(*Server)

// WithClock replaces the clock of rate limits (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMetrics makes the server count into m, which the hub may share
// (NewHub(st, q, m)). Without it the server builds its own.
func WithMetrics(m *Metrics) Option { return func(s *Server) { s.metrics = m } }

// WithOCR sets how batch-digitize reads text: ocr.Engine{Off: true} reads
// structure only, as if tesseract were missing. Default: tesseract when it
// is on PATH.
func WithOCR(e ocr.Engine) Option { return func(s *Server) { s.ocr = e } }

// WithWeb mounts the browser client at /.
func WithWeb(f fs.FS) Option { return func(s *Server) { s.web = f } }

// New builds a Server. The store's commit hook is wired to the hub here.
// gin's mode is left alone: it is process-wide, and main sets it.
func New(cfg Config, st *store.Store, h *hub.Hub, log zerolog.Logger, opts ...Option) *Server {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, st: st, hub: h, log: log, ctx: ctx, cancel: cancel,
		cache: imaging.NewSourceCache(cfg.SourceCacheBytes)}
	s.fetcher = newFetcher(cfg.FetchAllowHosts, cfg.MaxBodyBytes)
	s.guard = newDecodeGuard(cfg.MaxConcurrentOps, cfg.DecodeBudgetBytes, cfg.OpWait)
	s.uploadLimit = newKeyLimiter(cfg.UploadsPerMinute)
	s.uncropLimit = newKeyLimiter(cfg.UncropRatePerMinute)
	s.opLimit = newKeyLimiter(cfg.ExpensivePerMinute)
	s.logins = newLoginThrottle(cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerIP, cfg.LoginFailureWindow, cfg.LoginMaxBackoff)
	s.now = time.Now
	s.digitizeTimeout = digitizeElementTimeout
	for _, o := range opts {
		o(s)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.jobs = newJobRunner(s)
	s.batches = newLogRegistry(batchReplayTTL, batchReplayBytes, func() time.Time { return s.now() })
	st.SetOnCommit(s.publish)
	s.engine = gin.New()
	s.engine.HandleMethodNotAllowed = false
	s.trustProxies()
	s.engine.Use(s.recoverer(), s.securityHeaders(), s.requestLog(), s.deadlines(), s.anonConns())
	s.routes()
	return s
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine exposes the gin engine (route list for tests).
func (s *Server) Engine() *gin.Engine { return s.engine }

// Shutdown ends every stream and websocket (1001) and waits for background
// work, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.streams.Wait(); s.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publish hands committed events to the hub, in seq order.
func (s *Server) publish(evs []store.Event) {
	for _, e := range evs {
		s.hub.Publish(hub.Message{Canvas: e.CanvasID, Seq: e.Seq, Data: e.Data})
		if e.Type == store.EvCanvasUpdated || e.Type == store.EvCanvasDeleted {
			// The canvas list has its own topic: ephemeral copies of canvas events.
			s.hub.Publish(hub.Message{Canvas: canvasListTopic, Data: e.Data})
		}
	}
}

const canvasListTopic = "_canvases"

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Msg("handler panic")
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"msg": "Internal server error"})
			}
		}()
		c.Next()
	}
}

func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		rid := c.GetHeader("X-Request-ID")
		if rid == "" || len(rid) > 128 {
			rid = store.RandomToken(8)
		}
		c.Header("X-Request-ID", rid)
		c.Set("request_id", rid)
		c.Next()
		s.metrics.observeHTTP(c, time.Since(start))
		ev := s.log.Info()
		if c.Writer.Status() >= 500 {
			ev = s.log.Error()
		}
		ev = ev.Str("request_id", rid).Str("method", c.Request.Method).Str("route", c.FullPath()).
			Int("status", c.Writer.Status()).Int("bytes", c.Writer.Size()).Dur("duration", time.Since(start))
		if u := userOf(c); u != nil {
			ev = ev.Uint64("user_id", u.ID)
		}
		if len(c.Errors) > 0 {
			ev = ev.Str("error", c.Errors.String())
		}
		ev.Msg("request")
	}
}

// Start launches background workers (the crop-job workers, which first
// queue the jobs a previous run left unfinished). Call once, before serving.
func (s *Server) Start() {
	s.jobs.start()
}
