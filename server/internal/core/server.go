package core

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

// Server wires the store and the hub to HTTP.
type Server struct {
	Cfg         Config
	St          *store.Store
	Hub         *hub.Hub
	Log         zerolog.Logger
	Gin         *gin.Engine
	Web         fs.FS
	WebProbe    bool // WithWebProbe: the client page exposes window.__canvasd
	Cache       *imaging.SourceCache
	Fetcher     *Fetcher
	Guard       *decodeGuard // every decode's slot and memory weight, see decodeguard.go
	UploadLimit *keyLimiter  // image uploads per user (signed in) or per client IP
	UncropLimit *keyLimiter
	opLimit     *keyLimiter
	Now         func() time.Time

	Bg      sync.WaitGroup // background processing (image hashes, jobs)
	Ctx     context.Context
	cancel  context.CancelFunc
	Streams sync.WaitGroup // open NDJSON/SSE/websocket streams

	live liveRegistry // open streams: caps and credential re-checks

	auth authCache // tokens' users and canvases' sharing, see authenticate

	Anon       anonCounter    // requests in progress without a valid token, per IP (anonConns)
	Logins     *loginThrottle // failed password sign-ins, see throttle.go
	PwCompares atomic.Int64   // bcrypt comparisons made by sign-in (real and dummy)

	Metrics         *Metrics     // this server's registry, see metrics.go
	Viewers         sync.Map     // viewer id -> viewer, for HELLO (canvus/ws.go)
	Fan             wsfan.Pool   // writes websocket frames (canvus/ws.go)
	Batches         *LogRegistry // batch-digitize event logs kept for replay (deal/digitize.go)
	DigitizeTimeout time.Duration
	OCR             ocr.Engine // OCR setting of batch-digitize (WithOCR)
}

// Option adjusts a Server at construction.
type Option func(*Server)

// WithClock replaces the clock of rate limits (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.Now = now } }

// WithMetrics makes the server count into m, which the hub may share
// (NewHub(st, q, m)). Without it the server builds its own.
func WithMetrics(m *Metrics) Option { return func(s *Server) { s.Metrics = m } }

// WithOCR sets how batch-digitize reads text: ocr.Engine{Off: true} reads
// structure only, as if tesseract were missing. Default: tesseract when it
// is on PATH.
func WithOCR(e ocr.Engine) Option { return func(s *Server) { s.OCR = e } }

// WithWeb mounts the browser client at /.
func WithWeb(f fs.FS) Option { return func(s *Server) { s.Web = f } }

// WithWebProbe marks the served client page (<html data-probe="1">) so the
// client exposes its state as window.__canvasd for browser tests to read.
// Off by default: a production page has no such handle.
func WithWebProbe() Option { return func(s *Server) { s.WebProbe = true } }

// New builds a Server. The store's commit hook is wired to the hub here.
// gin's mode is left alone: it is process-wide, and main sets it.
func New(cfg Config, st *store.Store, h *hub.Hub, log zerolog.Logger, opts ...Option) *Server {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Cfg: cfg, St: st, Hub: h, Log: log, Ctx: ctx, cancel: cancel,
		Cache: imaging.NewSourceCache(cfg.SourceCacheBytes)}
	s.Fetcher = NewFetcher(cfg.FetchAllowHosts, cfg.MaxBodyBytes)
	s.Guard = newDecodeGuard(cfg.MaxConcurrentOps, cfg.DecodeBudgetBytes, cfg.OpWait)
	s.UploadLimit = newKeyLimiter(cfg.UploadsPerMinute)
	s.UncropLimit = newKeyLimiter(cfg.UncropRatePerMinute)
	s.opLimit = newKeyLimiter(cfg.ExpensivePerMinute)
	s.Logins = newLoginThrottle(cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerIP, cfg.LoginFailureWindow, cfg.LoginMaxBackoff)
	s.Now = time.Now
	s.DigitizeTimeout = digitizeElementTimeout
	for _, o := range opts {
		o(s)
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	s.Batches = newLogRegistry(batchReplayTTL, batchReplayBytes, func() time.Time { return s.Now() })
	st.SetOnCommit(s.publish)
	s.Gin = gin.New()
	s.Gin.HandleMethodNotAllowed = false
	s.trustProxies()
	s.Gin.Use(s.recoverer(), s.securityHeaders(), s.requestLog(), s.deadlines(), s.anonConns())
	return s
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.Gin }

// Engine exposes the gin engine (route list for tests).
func (s *Server) Engine() *gin.Engine { return s.Gin }

// Shutdown ends every stream and websocket (1001) and waits for background
// work, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.Streams.Wait(); s.Bg.Wait(); close(done) }()
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
		s.Hub.Publish(hub.Message{Canvas: e.CanvasID, Seq: e.Seq, Data: e.Data})
		if e.Type == store.EvCanvasUpdated || e.Type == store.EvCanvasDeleted {
			// The canvas list has its own topic: ephemeral copies of canvas events.
			s.Hub.Publish(hub.Message{Canvas: CanvasListTopic, Data: e.Data})
		}
	}
}

const CanvasListTopic = "_canvases"

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.Log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Msg("handler panic")
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
		s.Metrics.observeHTTP(c, time.Since(start))
		ev := s.Log.Info()
		if c.Writer.Status() >= 500 {
			ev = s.Log.Error()
		}
		ev = ev.Str("request_id", rid).Str("method", c.Request.Method).Str("route", c.FullPath()).
			Int("status", c.Writer.Status()).Int("bytes", c.Writer.Size()).Dur("duration", time.Since(start))
		if u := UserOf(c); u != nil {
			ev = ev.Uint64("user_id", u.ID)
		}
		if len(c.Errors) > 0 {
			ev = ev.Str("error", c.Errors.String())
		}
		ev.Msg("request")
	}
}

const (
	// batchReplayTTL is how long a finished batch-digitize batch's events
	// stay replayable (Server.Batches).
	batchReplayTTL = time.Hour
	// batchReplayBytes bounds the memory of finished batches kept for replay.
	batchReplayBytes = 64 << 20
)

// digitizeElementTimeout bounds the decode and analysis of one
// batch-digitize element (the fetch has its own limits, and waiting for an
// operation slot is not counted); Server.DigitizeTimeout, which tests shorten.
const digitizeElementTimeout = 60 * time.Second
