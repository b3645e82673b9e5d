package server

import (
	"io/fs"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/imaging/ocr"
	"github.com/canvasd/canvasd/server/canvus"
	"github.com/canvasd/canvasd/server/clipdrop"
	"github.com/canvasd/canvasd/server/cropjobs"
	"github.com/canvasd/canvasd/server/deal"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/rs/zerolog"
)

// Version is the server's version string, shown by /server-info.
var Version = "0.1.0"

// Server is one canvasd server: the shared core (store, hub, limits,
// metrics, transports; server/internal/core) and the four dialects' handlers,
// wired by routes.
type Server struct {
	*core.Server
	canvus   *canvus.API
	deal     *deal.API
	clipdrop *clipdrop.API
	cropjobs *cropjobs.API
}

// Config is the server's configuration (see server/internal/core/config.go).
type Config = core.Config

// Metrics is a server's Prometheus registry and collectors.
type Metrics = core.Metrics

// Option adjusts a Server at construction.
type Option = core.Option

// NewMetrics builds a registry of its own (one per server).
func NewMetrics() *Metrics { return core.NewMetrics() }

// WithClock replaces the clock of rate limits (tests).
func WithClock(now func() time.Time) Option { return core.WithClock(now) }

// WithMetrics makes the server count into m, which the hub may share
// (NewHub(st, q, m)). Without it the server builds its own.
func WithMetrics(m *Metrics) Option { return core.WithMetrics(m) }

// WithOCR sets how batch-digitize reads text: ocr.Engine{Off: true} reads
// structure only, as if tesseract were missing. Default: tesseract when it
// is on PATH.
func WithOCR(e ocr.Engine) Option { return core.WithOCR(e) }

// WithWeb mounts the browser client at /.
func WithWeb(f fs.FS) Option { return core.WithWeb(f) }

// WithWebProbe makes the browser client expose its state to tests
// (window.__canvasd); see core.WithWebProbe.
func WithWebProbe() Option { return core.WithWebProbe() }

// New builds a Server. The store's commit hook is wired to the hub here.
// gin's mode is left alone: it is process-wide, and main sets it.
func New(cfg Config, st *store.Store, h *hub.Hub, log zerolog.Logger, opts ...Option) *Server {
	c := core.New(cfg, st, h, log, opts...)
	s := &Server{Server: c, canvus: canvus.New(c), deal: deal.New(c), clipdrop: clipdrop.New(c), cropjobs: cropjobs.New(c)}
	s.routes()
	return s
}

// Start launches background workers (the crop-job workers, which first
// queue the jobs a previous run left unfinished). Call once, before serving.
func (s *Server) Start() { s.cropjobs.Start() }

// The session cookie's name and the websocket close codes of our own, for
// clients of the package (see server/internal/core).
const (
	SessionCookie        = core.SessionCookie
	StatusSlowConsumer   = core.StatusSlowConsumer
	StatusAccessRevoked  = core.StatusAccessRevoked
	StatusUnauthorized   = core.StatusUnauthorized
	StatusTooManySockets = core.StatusTooManySockets
)
