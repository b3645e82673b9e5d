package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/web"
	"github.com/rs/zerolog"
)

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, os.Stdout)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			return errors.New("usage: canvasd user add --email E --name N --password P [--admin]")
		}
		return userAdd(args[1:], os.Stdout)
	case "token":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: canvasd token create --email E [--description D]")
		}
		return tokenCreate(args[1:], os.Stdout)
	case "backup":
		return backupCmd(args, os.Stdout)
	case "restore":
		return restoreCmd(args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Println("usage: canvasd [serve|user add|token create|backup|restore] [flags]; see README.md")
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// envFlags fills every flag not given on the command line from CANVASD_<NAME>.
func envFlags(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		key := "CANVASD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", key, e)
			}
		}
	})
	return err
}

type serveConfig struct {
	addr, data, logFormat, bootstrapToken, publicURL, origins, fetchHosts, adminAddr string
	retention, jobWorkers, wsPerUser, uncropRate                                     int
	maxBody, maxPixels                                                               int64
	keepAlive, opWait, readHeaderTimeout, routeTimeout, uploadTimeout                time.Duration
	maxOps, expensivePerMinute                                                       int

	// Proxies, anonymous connections and metrics access.
	trustedProxies, metricsToken string
	maxAnonConnsPerIP            int
	metricsAdminOnly             bool
	// Live-stream caps.
	streamsPerUser, streamsPerIP int
	// Image memory and upload rate.
	decodeBudget     byteSize
	memoryLimit      byteSize
	uploadsPerMinute int
	// Preview and mipmap caches.
	previewCache, mipmapCache byteSize
	// Sign-in throttling.
	loginFailuresPerAccount, loginFailuresPerIP int
	loginFailureWindow, loginMaxBackoff         time.Duration
	// Account emails.
	smtpURL                           string
	passwordResetTTL, emailConfirmTTL time.Duration
	// Cluster mode (cluster.go).
	broker, blobs string
	headCheck     time.Duration
}

func serveFlags(args []string) (*serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := &serveConfig{}
	fs.StringVar(&c.addr, "addr", ":8080", "listen address")
	fs.StringVar(&c.data, "data", "./data", "data directory (bbolt file and blobs)")
	fs.StringVar(&c.logFormat, "log-format", "console", "log format: json or console")
	fs.StringVar(&c.bootstrapToken, "bootstrap-token", "", "the first admin's access token (first start only); default random")
	fs.StringVar(&c.publicURL, "public-url", "", "externally visible base URL, e.g. https://canvas.example.com")
	fs.StringVar(&c.origins, "allowed-origins", "", "extra websocket origin host patterns, comma-separated")
	fs.StringVar(&c.fetchHosts, "fetch-allow-hosts", "", "hosts server-side image fetches may reach, comma-separated")
	fs.StringVar(&c.adminAddr, "admin-addr", "", "pprof listener (off when empty), e.g. 127.0.0.1:6060")
	fs.IntVar(&c.retention, "event-retention", 10000, "events kept per canvas log")
	fs.IntVar(&c.jobWorkers, "job-workers", 2, "crop job workers")
	fs.IntVar(&c.wsPerUser, "max-websockets-per-user", 64, "former name of --max-streams-per-user, its default")
	fs.IntVar(&c.streamsPerUser, "max-streams-per-user", 0, "concurrent live streams (websockets and NDJSON ?subscribe) per signed-in user (0: --max-websockets-per-user)")
	fs.IntVar(&c.streamsPerIP, "max-streams-per-ip", 64, "concurrent live streams (websockets and NDJSON ?subscribe) of anonymous viewers per client IP")
	fs.IntVar(&c.uncropRate, "uncrop-rate", 60, "uncrop requests per minute per key")
	fs.Int64Var(&c.maxBody, "max-body-bytes", 30<<20, "largest request body / upload")
	fs.Int64Var(&c.maxPixels, "max-pixels", 50_000_000, "largest image in pixels, checked before decoding")
	fs.DurationVar(&c.keepAlive, "keepalive", 15*time.Second, "NDJSON/SSE keepalive interval")
	fs.IntVar(&c.maxOps, "max-concurrent-ops", 4, "concurrent heavy image operations before 503")
	fs.DurationVar(&c.opWait, "op-wait", 2*time.Second, "how long a request waits for an operation slot before 503")
	fs.IntVar(&c.expensivePerMinute, "expensive-per-minute", 120, "re-crop/digitize/uncrop/job requests per minute per token")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time allowed to send request headers")
	fs.DurationVar(&c.routeTimeout, "route-timeout", 30*time.Second, "read/write deadline of ordinary requests (streams exempt)")
	fs.DurationVar(&c.uploadTimeout, "upload-timeout", 2*time.Minute, "read/write deadline of multipart uploads")
	// Proxies, anonymous connections and metrics access.
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "peers (IPs or CIDRs, comma-separated) whose X-Forwarded-For/X-Real-IP are believed; default none")
	fs.IntVar(&c.maxAnonConnsPerIP, "max-anon-conns-per-ip", 64, "requests in progress without a valid token per client address before 429")
	fs.StringVar(&c.metricsToken, "metrics-token", "", "when set, /metrics needs Authorization: Bearer <token>")
	fs.BoolVar(&c.metricsAdminOnly, "metrics-admin-only", false, "serve /metrics only on the --admin-addr listener")
	c.decodeBudget = 1 << 30
	fs.Var(&c.decodeBudget, "decode-budget", "memory budget of concurrent image decodes (bytes, or with KiB/MiB/GiB); an image needing more is refused")
	fs.Var(&c.memoryLimit, "memory-limit", "soft Go heap limit (debug.SetMemoryLimit, GOMEMLIMIT syntax, e.g. 3GiB); default none, or GOMEMLIMIT")
	c.previewCache, c.mipmapCache = 64<<20, 64<<20
	fs.Var(&c.previewCache, "preview-cache", "memory of cached canvas preview PNGs, and as much for their scaled images (bytes, or with KiB/MiB/GiB)")
	fs.Var(&c.mipmapCache, "mipmap-cache", "memory of cached mipmap levels (bytes, or with KiB/MiB/GiB)")
	fs.IntVar(&c.uploadsPerMinute, "uploads-per-minute", 60, "image uploads per minute per user (signed in) or per client IP (guests)")
	// Sign-in throttling.
	fs.IntVar(&c.loginFailuresPerAccount, "login-failures-per-account", 5, "failed password sign-ins per email (per window) before 429 with a doubling delay")
	fs.IntVar(&c.loginFailuresPerIP, "login-failures-per-ip", 20, "failed password sign-ins per client address (per window) before 429 with a doubling delay")
	fs.DurationVar(&c.loginFailureWindow, "login-failure-window", 15*time.Minute, "how long failed sign-ins are remembered")
	fs.DurationVar(&c.loginMaxBackoff, "login-max-backoff", 15*time.Minute, "longest sign-in delay after failures (no lockout lasts longer)")
	// Account emails.
	fs.StringVar(&c.smtpURL, "smtp-url", "", "mail server for account emails, smtp://[user:pass@]host[:port][?from=addr]; when empty, email links are logged instead")
	fs.DurationVar(&c.passwordResetTTL, "password-reset-ttl", time.Hour, "how long a password reset token works")
	fs.DurationVar(&c.emailConfirmTTL, "email-confirm-ttl", 48*time.Hour, "how long an email confirmation token works")
	// Cluster mode (cluster.go).
	fs.StringVar(&c.broker, "broker", "memory", "event fan-out between nodes: memory (one node) or nats://host:port (refused until a shared store exists)")
	fs.StringVar(&c.blobs, "blobs", "", "where blobs live: file://DIR or s3://bucket?region=…&prefix=…; default file://<data>/blobs")
	fs.DurationVar(&c.headCheck, "head-check", time.Second, "with a nats broker, how often each node compares canvas heads with what it delivered")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := envFlags(fs); err != nil {
		return nil, err
	}
	if err := server.CheckSMTPURL(c.smtpURL); err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	if err := checkClusterFlags(c); err != nil {
		return nil, err
	}
	for _, p := range splitList(c.trustedProxies) {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an IP address nor a CIDR", p)
		}
	}
	if c.metricsAdminOnly && c.adminAddr == "" {
		return nil, errors.New("--metrics-admin-only needs --admin-addr")
	}
	if c.logFormat != "json" && c.logFormat != "console" {
		return nil, fmt.Errorf("--log-format must be json or console, got %q", c.logFormat)
	}
	return c, nil
}

// byteSize is a flag of bytes: a plain number or one with a B, KiB, MiB,
// GiB or TiB suffix (GOMEMLIMIT's syntax).
type byteSize int64

func (b *byteSize) String() string {
	if b == nil || *b == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(v string) error {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("want a byte count such as 1073741824 or 1GiB, got %q", v)
	}
	*b = byteSize(n * mult)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newLogger(format string, w io.Writer) zerolog.Logger {
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

func serve(args []string, out io.Writer) error {
	c, err := serveFlags(args)
	if err != nil {
		return err
	}
	log := newLogger(c.logFormat, os.Stderr)
	if c.memoryLimit > 0 {
		// A soft limit makes the GC collect harder near it, so RSS comes
		// back down after a spike instead of staying at GOGC's 4x the live heap.
		debug.SetMemoryLimit(int64(c.memoryLimit))
	}
	blobs, closeBlobs, err := openBlobs(context.Background(), c.blobs)
	if err != nil {
		return err
	}
	defer closeBlobs()
	st, err := store.Open(c.data, store.Options{EventRetention: c.retention, Blobs: blobs, Logf: func(f string, a ...any) { log.Warn().Msgf(f, a...) }})
	if err != nil {
		return err
	}
	var h *hub.Hub
	hubOpts, closeBroker, err := brokerOptions(c, log, &h)
	if err != nil {
		st.Close()
		return err
	}
	defer closeBroker()
	m := server.NewMetrics()
	clusterMetrics := server.ClusterHubMetrics(m, func(what string, err error) { log.Warn().Err(err).Msg(what) })
	h = server.NewHub(st, 0, append([]server.HubOption{server.HubMetrics(m), clusterMetrics}, hubOpts...)...)
	srv := server.New(server.Config{
		PublicURL: c.publicURL, MaxBodyBytes: c.maxBody, MaxPixels: c.maxPixels,
		AllowedOrigins: splitList(c.origins), FetchAllowHosts: splitList(c.fetchHosts),
		KeepAlive: c.keepAlive, JobWorkers: c.jobWorkers, MaxWebsocketsPerUser: c.wsPerUser,
		UncropRatePerMinute: c.uncropRate, SecureCookie: strings.HasPrefix(c.publicURL, "https://"),
		MaxConcurrentOps: c.maxOps, OpWait: c.opWait, ExpensivePerMinute: c.expensivePerMinute,
		ReadHeaderTimeout: c.readHeaderTimeout, RouteTimeout: c.routeTimeout, UploadTimeout: c.uploadTimeout,
		TrustedProxies: splitList(c.trustedProxies), MaxAnonConnsPerIP: c.maxAnonConnsPerIP,
		MetricsToken: c.metricsToken, MetricsAdminOnly: c.metricsAdminOnly,
		MaxStreamsPerUser: c.streamsPerUser, MaxStreamsPerIP: c.streamsPerIP,
		DecodeBudgetBytes: int64(c.decodeBudget), UploadsPerMinute: c.uploadsPerMinute,
		PreviewCacheBytes: int64(c.previewCache), MipmapCacheBytes: int64(c.mipmapCache),
		// Sign-in throttling.
		LoginFailuresPerAccount: c.loginFailuresPerAccount, LoginFailuresPerIP: c.loginFailuresPerIP,
		LoginFailureWindow: c.loginFailureWindow, LoginMaxBackoff: c.loginMaxBackoff,
		// Account emails.
		SMTPURL: c.smtpURL, PasswordResetTTL: c.passwordResetTTL, EmailConfirmTTL: c.emailConfirmTTL,
	}, st, h, log, server.WithWeb(web.FS()), server.WithMetrics(m))

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		st.Close()
		return err
	}
	base := c.publicURL
	if base == "" {
		base = "http://" + displayAddr(ln.Addr().String())
	}
	plain, created, err := server.Bootstrap(st, c.bootstrapToken)
	if err != nil {
		st.Close()
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		fmt.Fprintf(out, "canvasd: created the admin user %s.\nSign in (shown once): %s/#token=%s\n", server.BootstrapEmail, base, plain)
	}
	log.Info().Str("addr", ln.Addr().String()).Str("data", c.data).Msg("canvasd serving")

	hs := srv.NewHTTPServer()
	if c.adminAddr != "" {
		go serveAdmin(c.adminAddr, log, srv.MetricsHandler())
	}
	srv.Start()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		log.Info().Str("signal", s.String()).Msg("shutting down")
	case err := <-errc:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Streams and websockets end first (1001), then in-flight requests finish.
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.Shutdown(ctx) }()
	if err := hs.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("http shutdown")
	}
	<-shutdownErr
	h.Close(ctx)
	return st.Close()
}

func displayAddr(a string) string {
	if strings.HasPrefix(a, "[::]:") || strings.HasPrefix(a, "0.0.0.0:") {
		return "localhost:" + a[strings.LastIndex(a, ":")+1:]
	}
	return a
}
