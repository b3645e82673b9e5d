package core

import "time"

// Config holds the server's settings. Zero values take the defaults shown.
type Config struct {
	// PublicURL is the externally visible base URL (e.g. https://canvas.example.com),
	// used to recognise this server's own absolute URLs. Default: derived from the request.
	PublicURL string
	// MaxBodyBytes caps request bodies and uploaded files. Default 30 MB.
	MaxBodyBytes int64
	// MaxPixels caps decoded image size, checked before decoding. Default 50 MP.
	MaxPixels int64
	// AllowedOrigins are extra websocket origin patterns (host or host:port,
	// path.Match syntax) besides the request's own host. Default none.
	AllowedOrigins []string
	// KeepAlive is the NDJSON/SSE keepalive interval. Default 15 s.
	KeepAlive time.Duration
	// WriteTimeout is the deadline of every websocket/stream write. Default 5 s.
	WriteTimeout time.Duration
	// PresenceRate is how many PRESENCE messages a websocket client may send a second. Default 20.
	PresenceRate float64
	// MaxWSMessage is the largest websocket message a client may send. Default 32 KiB.
	MaxWSMessage int64
	// LoginTTL is how long a login token lives. Default 24 h.
	LoginTTL time.Duration
	// SourceCacheBytes bounds the decoded-source LRU of re-crop. Default 512 MiB.
	SourceCacheBytes int64
	// PreviewCacheBytes bounds the canvas preview PNGs kept in memory (one
	// per canvas, valid until the canvas changes) and, separately, the
	// scaled widget images they are drawn from. Default 64 MiB each.
	PreviewCacheBytes int64
	// MipmapCacheBytes bounds the encoded mipmap levels kept in memory.
	// Default 64 MiB.
	MipmapCacheBytes int64
	// FetchAllowHosts are the hosts server-side image fetches may reach. Default none.
	FetchAllowHosts []string
	// UncropRatePerMinute is the per-key rate limit of /uncrop/v1. Default 60.
	UncropRatePerMinute int
	// UncropMaxOutputPixels caps an uncrop result. Default 40 MP.
	UncropMaxOutputPixels int64
	// JobWorkers is the crop-job worker count. Default 2.
	JobWorkers int
	// MaxWebsocketsPerUser is the former name of MaxStreamsPerUser, kept as
	// its default. Default 64.
	MaxWebsocketsPerUser int
	// MaxConcurrentOps bounds concurrent heavy image operations. Default 4.
	MaxConcurrentOps int
	// OpWait is how long a request waits for an operation slot (and its DecodeBudgetBytes share) before 503. Default 2 s.
	OpWait time.Duration
	// ReadHeaderTimeout cuts off clients that send headers too slowly. Default 10 s.
	ReadHeaderTimeout time.Duration
	// RouteTimeout is the read/write deadline of ordinary requests. Default 30 s.
	RouteTimeout time.Duration
	// UploadTimeout is the deadline of multipart uploads. Default 2 min.
	UploadTimeout time.Duration
	// ExpensivePerMinute rate-limits costly routes (re-crop, digitize, uncrop, crop jobs) per token. Default 120.
	ExpensivePerMinute int
	// SecureCookie sets the Secure flag on the session cookie (on when PublicURL is https).
	SecureCookie bool

	// Proxies, anonymous connections and metrics access.
	// TrustedProxies are the peers (IPs or CIDRs) whose X-Forwarded-For and
	// X-Real-IP headers give the client address for per-IP limits. Default
	// none: the peer's own address is the client's.
	TrustedProxies []string
	// MaxAnonConnsPerIP caps the requests in progress (streams included)
	// without a valid token from one client address. Default 64.
	MaxAnonConnsPerIP int
	// MetricsToken, when set, makes GET /metrics require
	// "Authorization: Bearer <MetricsToken>". Default none (open).
	MetricsToken string
	// MetricsAdminOnly serves /metrics only through MetricsHandler (the admin
	// listener); the public listener answers 404. Default false.
	MetricsAdminOnly bool
	// Live-stream caps.

	// MaxStreamsPerUser caps the live streams (websockets and NDJSON
	// ?subscribe streams together) one signed-in user holds open. Default
	// MaxWebsocketsPerUser (64).
	MaxStreamsPerUser int
	// MaxStreamsPerIP caps the live streams anonymous viewers hold open from
	// one client IP (as gin's ClientIP reports it). Default 64.
	MaxStreamsPerIP int
	// Image memory and upload rate.

	// DecodeBudgetBytes bounds the memory of concurrent image decodes: each
	// decode holds its decoded size (from the header, before decoding:
	// width x height x bytes per pixel, 16-bit and alpha included, plus the
	// decoder's intermediate copies) until its operation ends. A request
	// that cannot get its share within OpWait answers 503; one image needing
	// more than the whole budget is refused (413). Default 1 GiB.
	DecodeBudgetBytes int64
	// UploadsPerMinute rate-limits image uploads per user (signed-in
	// callers, whatever token they use) and per client IP (anonymous and
	// link guests). Default 60.
	UploadsPerMinute int
	// Sign-in throttling.
	// LoginFailuresPerAccount is how many failed password sign-ins for one
	// email within LoginFailureWindow close sign-in for that email: for 1 s,
	// and twice as long after each further failure (429 with Retry-After).
	// Default 5.
	LoginFailuresPerAccount int
	// LoginFailuresPerIP is the same per client address. Default 20.
	LoginFailuresPerIP int
	// LoginFailureWindow is how long failures are remembered. Default 15 min.
	LoginFailureWindow time.Duration
	// LoginMaxBackoff caps the delay, so that nobody can lock an account for
	// longer than this after their last failure. Default 15 min.
	LoginMaxBackoff time.Duration
	// Account emails (password reset, email confirmation, test email).

	// SMTPURL is the mail server, smtp://[user:password@]host[:port][?from=address]
	// (STARTTLS when the server offers it; port 25 when none is given). When
	// empty, the server config's email.smtp_host is used if an admin set
	// one; with neither, the server sends no mail and logs each email's
	// link at info level instead. Default empty.
	SMTPURL string
	// PasswordResetTTL is how long a password reset token works. Default 1 h.
	PasswordResetTTL time.Duration
	// EmailConfirmTTL is how long an email confirmation token works. Default 48 h.
	EmailConfirmTTL time.Duration
}

func (c *Config) defaults() {
	orDefault(&c.MaxBodyBytes, 30<<20)
	orDefault(&c.MaxPixels, 50_000_000)
	orDefault(&c.KeepAlive, 15*time.Second)
	orDefault(&c.WriteTimeout, 5*time.Second)
	orDefault(&c.PresenceRate, 20)
	orDefault(&c.MaxWSMessage, 32<<10)
	orDefault(&c.LoginTTL, 24*time.Hour)
	orDefault(&c.SourceCacheBytes, 512<<20)
	orDefault(&c.PreviewCacheBytes, 64<<20)
	orDefault(&c.MipmapCacheBytes, 64<<20)
	orDefault(&c.UncropRatePerMinute, 60)
	orDefault(&c.UncropMaxOutputPixels, 40_000_000)
	orDefault(&c.JobWorkers, 2)
	orDefault(&c.ReadHeaderTimeout, ReadHeaderTimeout)
	orDefault(&c.RouteTimeout, routeTimeout)
	orDefault(&c.UploadTimeout, uploadTimeout)
	orDefault(&c.ExpensivePerMinute, 120)
	orDefault(&c.MaxConcurrentOps, 4)
	orDefault(&c.OpWait, 2*time.Second)
	orDefault(&c.MaxWebsocketsPerUser, 64)
	// Proxies, anonymous connections and metrics access.
	orDefault(&c.MaxAnonConnsPerIP, 64)
	// Live-stream caps.
	orDefault(&c.MaxStreamsPerUser, c.MaxWebsocketsPerUser)
	orDefault(&c.MaxStreamsPerIP, 64)
	orDefault(&c.DecodeBudgetBytes, 1<<30)
	orDefault(&c.UploadsPerMinute, 60)
	// Sign-in throttling.
	orDefault(&c.LoginFailuresPerAccount, 5)
	orDefault(&c.LoginFailuresPerIP, 20)
	orDefault(&c.LoginFailureWindow, 15*time.Minute)
	orDefault(&c.LoginMaxBackoff, 15*time.Minute)
	// Account emails.
	orDefault(&c.PasswordResetTTL, time.Hour)
	orDefault(&c.EmailConfirmTTL, 48*time.Hour)
}

// orDefault sets *p to d when it is zero or negative (unset).
func orDefault[T int | int64 | float64 | time.Duration](p *T, d T) {
	if *p <= 0 {
		*p = d
	}
}
