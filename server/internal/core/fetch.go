package core

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// FetchError is a failed image_url load, with a machine-readable code.
type FetchError struct {
	Code string // forbidden_url, fetch_failed, too_large, unsupported_format, not_found
	Msg  string
}

func (e *FetchError) Error() string { return e.Code + ": " + e.Msg }

// errForbiddenAddr is returned by the dialer's Control for refused addresses.
var errForbiddenAddr = errors.New("address not allowed")

// blockedPrefixes are never dialed: loopback, private, link-local, CGNAT,
// unspecified, multicast, and their IPv6 counterparts.
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
		"100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96", "2002::/16",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// AddrAllowed reports whether a server-side fetch may connect to ip.
func AddrAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Fetcher loads images from allowlisted hosts. The address check runs at
// connect time (after DNS), so rebinding tricks and redirects are caught.
type Fetcher struct {
	AllowHosts   []string // exact host names, or "*.example.com"
	Timeout      time.Duration
	MaxBytes     int64
	MaxRedirects int
	// AllowAddr is the address policy, checked at connect time and on
	// literal IPs in URLs; nil means AddrAllowed. Tests widen it to reach
	// their loopback fixture server.
	AllowAddr func(netip.AddrPort) bool
	// Resolver replaces the system resolver (tests; nil = default).
	Resolver *net.Resolver
	client   *http.Client
}

func NewFetcher(hosts []string, maxBytes int64) *Fetcher {
	f := &Fetcher{AllowHosts: hosts, Timeout: 10 * time.Second, MaxBytes: maxBytes, MaxRedirects: 3}
	f.Build()
	return f
}

func (f *Fetcher) Build() {
	dialer := &net.Dialer{Timeout: f.Timeout, Resolver: f.Resolver, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !f.addrOK(ap) {
			return fmt.Errorf("%w: %s", errForbiddenAddr, address)
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy: the proxy would make the connection we check
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   f.Timeout,
		ResponseHeaderTimeout: f.Timeout,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    false,
	}
	f.client = &http.Client{Transport: tr, Timeout: f.Timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > f.MaxRedirects {
			return &FetchError{Code: "fetch_failed", Msg: fmt.Sprintf("more than %d redirects", f.MaxRedirects)}
		}
		if err := f.checkURL(req.URL); err != nil {
			return err
		}
		return nil
	}}
}

// addrOK applies the address policy.
func (f *Fetcher) addrOK(ap netip.AddrPort) bool {
	if f.AllowAddr != nil {
		return f.AllowAddr(ap)
	}
	return AddrAllowed(ap.Addr())
}

func (f *Fetcher) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range f.AllowHosts {
		h = strings.ToLower(h)
		if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
			return true
		}
	}
	return false
}

func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &FetchError{Code: "forbidden_url", Msg: "only http and https URLs can be fetched"}
	}
	if u.User != nil {
		return &FetchError{Code: "forbidden_url", Msg: "URLs with credentials are not fetched"}
	}
	if !f.hostAllowed(u.Hostname()) {
		return &FetchError{Code: "forbidden_url", Msg: "host " + u.Hostname() + " is not on the fetch allowlist"}
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !f.addrOK(netip.AddrPortFrom(ip, portOf(u))) {
		return &FetchError{Code: "forbidden_url", Msg: "address " + ip.String() + " is not allowed"}
	}
	return nil
}

func portOf(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// Fetch loads an image. Only PNG, JPEG and WebP (by magic bytes) pass.
func (f *Fetcher) Fetch(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &FetchError{Code: "invalid_url", Msg: err.Error()}
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &FetchError{Code: "invalid_url", Msg: err.Error()}
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/webp")
	resp, err := f.client.Do(req)
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			return nil, fe
		}
		if errors.Is(err, errForbiddenAddr) {
			return nil, &FetchError{Code: "forbidden_url", Msg: "the URL resolves to an address that is not allowed"}
		}
		return nil, &FetchError{Code: "fetch_failed", Msg: netErrMsg(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{Code: "fetch_failed", Msg: "the image URL answered " + resp.Status}
	}
	if resp.ContentLength > f.MaxBytes {
		return nil, &FetchError{Code: "too_large", Msg: fmt.Sprintf("image is larger than %d bytes", f.MaxBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		return nil, &FetchError{Code: "fetch_failed", Msg: "reading the image failed: " + netErrMsg(err)}
	}
	if int64(len(data)) > f.MaxBytes {
		return nil, &FetchError{Code: "too_large", Msg: fmt.Sprintf("image is larger than %d bytes", f.MaxBytes)}
	}
	if err := rasterOnly(data); err != nil {
		return nil, err
	}
	return data, nil
}

func rasterOnly(data []byte) error {
	format, err := imaging.Sniff(data)
	if err != nil || (format != imaging.FormatPNG && format != imaging.FormatJPEG && format != imaging.FormatWebP) {
		return &FetchError{Code: "unsupported_format", Msg: "only PNG, JPEG and WebP images are accepted"}
	}
	return nil
}

// netErrMsg describes a failed fetch without the addresses in Go's error
// text (the resolver's, the server's own): "could not resolve host", a
// timeout, a refused or reset connection, a TLS failure, or a generic message.
func netErrMsg(err error) string {
	var dnsErr *net.DNSError
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		return "could not resolve host"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "the image URL did not answer in time"
	case errors.Is(err, context.Canceled):
		return "the fetch was cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection was closed before the image was received"
	case errors.As(err, &tlsErr), errors.As(err, &recErr):
		return "TLS handshake failed"
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "tls:") {
		return "TLS handshake failed"
	}
	return "could not fetch the image"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// LoadImageURL reads an image_url: this server's own URLs straight from the
// store (checking the caller's view right), anything else through the
// guarded fetcher.
func (s *Server) LoadImageURL(ctx context.Context, c *gin.Context, raw string) ([]byte, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return nil, &FetchError{Code: "invalid_url", Msg: "image_url is not a URL"}
	}
	if s.isOwnURL(c, u) {
		data, err := s.readOwnURL(UserOf(c), u.Path)
		if err != nil {
			return nil, err
		}
		return data, rasterOnly(data)
	}
	return s.Fetcher.Fetch(ctx, raw)
}

func (s *Server) isOwnURL(c *gin.Context, u *url.URL) bool {
	if u.Scheme == "" && u.Host == "" {
		return strings.HasPrefix(u.Path, "/")
	}
	if s.Cfg.PublicURL != "" {
		if pu, err := url.Parse(s.Cfg.PublicURL); err == nil && strings.EqualFold(pu.Host, u.Host) && pu.Scheme == u.Scheme {
			return true
		}
	}
	return c != nil && strings.EqualFold(u.Host, c.Request.Host) && (u.Scheme == "http" || u.Scheme == "https")
}

// readOwnURL resolves the paths of this server's image assets.
func (s *Server) readOwnURL(u *store.User, p string) ([]byte, error) {
	p = path.Clean(p)
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var canvasID, widgetID, blob string
	version := -1
	switch {
	case len(parts) == 7 && parts[0] == "api" && parts[1] == "canvas" && parts[3] == "images" && parts[5] == "versions" && strings.HasSuffix(parts[6], ".png"):
		canvasID, widgetID = parts[2], parts[4]
		n, err := strconv.Atoi(strings.TrimSuffix(parts[6], ".png"))
		if err != nil || n < 0 {
			return nil, &FetchError{Code: "not_found", Msg: "no such version"}
		}
		version = n
	case len(parts) == 7 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "canvases" && parts[4] == "images" && parts[6] == "download":
		canvasID, widgetID = parts[3], parts[5]
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "outputs":
		h := strings.SplitN(parts[2], ".", 2)[0]
		if !s.OutputVisible(u, h) {
			return nil, &FetchError{Code: "not_found", Msg: "no such output"}
		}
		blob = h
	default:
		return nil, &FetchError{Code: "forbidden_url", Msg: "this server's URL " + p + " is not an image asset"}
	}
	if blob == "" {
		err := s.St.View(func(tx *store.Tx) error {
			cv, err := tx.Canvas(canvasID)
			if err != nil || cv.AccessFor(u) == store.AccessNone {
				return &FetchError{Code: "not_found", Msg: "no such canvas"}
			}
			w, err := tx.Widget(canvasID, widgetID)
			if err != nil || w.Type != "Image" {
				return &FetchError{Code: "not_found", Msg: "no such image element"}
			}
			if version < 0 {
				blob = w.Blob
			} else if version < len(w.Versions) {
				blob = w.Versions[version].Blob
			} else {
				return &FetchError{Code: "not_found", Msg: "no such version"}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	data, err := s.St.ReadBlob(blob)
	if err != nil {
		return nil, &FetchError{Code: "not_found", Msg: "image file missing"}
	}
	return data, nil
}

// OutputVisible says whether a crop-job output may be read by u: outputs
// are private to their job's owner (any owner's for an admin), and never
// visible to guests.
func (s *Server) OutputVisible(u *store.User, hash string) bool {
	if u == nil || u.ID == store.GuestUserID {
		return false
	}
	owner := u.ID
	if u.Admin {
		owner = 0 // anyone's
	}
	ok := false
	s.St.View(func(tx *store.Tx) error { ok = tx.OutputOwned(hash, owner); return nil })
	return ok
}
