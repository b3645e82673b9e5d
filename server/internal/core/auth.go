package core

import (
	"bytes"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

const (
	ctxUser   = "canvasd.user"
	ctxToken  = "canvasd.token"
	ctxCanvas = "canvasd.canvas"
	ctxAccess = "canvasd.access"
	ctxLive   = "canvasd.live"  // an SSE stream's liveStream, see sseContext
	ctxPlain  = "canvasd.plain" // the plain token that authenticated the request

	ctxAuthResult = "canvasd.auth_result" // authResult of the request's last token check

	// SessionCookie is the cookie the browser client and Canvus use.
	SessionCookie = "CanvusSession"
)

var errUnauthenticated = errors.New("unauthenticated")

// Authenticate resolves a plain token to its user. Blocked users and expired
// tokens are refused. Results come from s.auth while the store's AuthGen
// says no user, token or canvas changed since they were read.
func (s *Server) Authenticate(plain string) (*store.User, *store.Token, error) {
	if u, tk, ok := s.auth.token(plain, s.St.AuthGen(), s.St.Now()); ok {
		return u, tk, nil
	}
	gen := s.St.AuthGen() // before the read: a change committed after it makes the entry stale
	var u *store.User
	var tk *store.Token
	err := s.St.View(func(tx *store.Tx) error {
		var err error
		if tk, err = tx.TokenByPlain(plain); err != nil {
			return errUnauthenticated
		}
		if u, err = tx.User(tk.UserID); err != nil || u.Blocked {
			return errUnauthenticated
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.auth.putToken(plain, gen, u, tk)
	return cloneUser(u), cloneToken(tk), nil
}

// loadCanvas reads a canvas for an access check, through s.auth.
func (s *Server) loadCanvas(id string) (*store.Canvas, error) {
	if cv, ok := s.auth.canvas(id, s.St.AuthGen()); ok {
		return cv, nil
	}
	gen := s.St.AuthGen()
	var cv *store.Canvas
	err := s.St.View(func(tx *store.Tx) error {
		var err error
		cv, err = tx.Canvas(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.auth.putCanvas(id, gen, cv)
	return cloneCanvas(cv), nil
}

// authCache keeps what every API request reads before its handler runs: a
// token's user and a canvas's sharing settings, so that a request does not
// open two read transactions and decode three records. Each entry holds the
// store's AuthGen from before its data was read and is used only while
// AuthGen still has that value; the store moves AuthGen on to the next
// value with every commit that writes a user, a token or a canvas, before
// that commit's requests are answered. So a revoked token, a blocked user or
// a lowered permission stops working as soon as the request that changed it
// has its 2xx. Callers get copies, never the cached values.
type authCache struct {
	mu       sync.Mutex
	tokens   map[string]tokenEntry // plain token -> its token and user
	canvases map[string]canvasEntry
}

type tokenEntry struct {
	gen uint64
	u   *store.User
	tk  *store.Token
}

type canvasEntry struct {
	gen uint64
	cv  *store.Canvas
}

// authCacheCap bounds each map of authCache; a full map starts over.
const authCacheCap = 10000

func (a *authCache) token(plain string, gen uint64, now time.Time) (*store.User, *store.Token, bool) {
	a.mu.Lock()
	e, ok := a.tokens[plain]
	a.mu.Unlock()
	if !ok || e.gen != gen {
		return nil, nil, false
	}
	if !e.tk.ExpiresAt.IsZero() && now.After(e.tk.ExpiresAt) {
		return nil, nil, false // expired since: the store read refuses it
	}
	return cloneUser(e.u), cloneToken(e.tk), true
}

func (a *authCache) putToken(plain string, gen uint64, u *store.User, tk *store.Token) {
	a.mu.Lock()
	if a.tokens == nil || len(a.tokens) >= authCacheCap {
		a.tokens = map[string]tokenEntry{}
	}
	a.tokens[plain] = tokenEntry{gen: gen, u: u, tk: tk}
	a.mu.Unlock()
}

func (a *authCache) canvas(id string, gen uint64) (*store.Canvas, bool) {
	a.mu.Lock()
	e, ok := a.canvases[id]
	a.mu.Unlock()
	if !ok || e.gen != gen {
		return nil, false
	}
	return cloneCanvas(e.cv), true
}

func (a *authCache) putCanvas(id string, gen uint64, cv *store.Canvas) {
	a.mu.Lock()
	if a.canvases == nil || len(a.canvases) >= authCacheCap {
		a.canvases = map[string]canvasEntry{}
	}
	a.canvases[id] = canvasEntry{gen: gen, cv: cv}
	a.mu.Unlock()
}

func cloneUser(u *store.User) *store.User {
	c := *u
	c.PasswordHash = bytes.Clone(u.PasswordHash)
	c.Groups = slices.Clone(u.Groups)
	return &c
}

func cloneToken(tk *store.Token) *store.Token {
	c := *tk
	return &c
}

func cloneCanvas(cv *store.Canvas) *store.Canvas {
	c := *cv
	c.Users = maps.Clone(cv.Users)
	c.Inherited = maps.Clone(cv.Inherited)
	c.Groups = maps.Clone(cv.Groups)
	c.InheritedGroups = maps.Clone(cv.InheritedGroups)
	return &c
}

// A tokenSource finds a request's token in one place ("" when absent).
type tokenSource func(*gin.Context) string

// privateToken is the Canvus "Private-Token" header.
func privateToken(c *gin.Context) string { return strings.TrimSpace(c.GetHeader("Private-Token")) }

// sessionCookie is the CanvusSession cookie.
func sessionCookie(c *gin.Context) string {
	ck, _ := c.Cookie(SessionCookie)
	return ck
}

// bearerToken returns the token of an "Authorization: Bearer" request.
func bearerToken(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// apiKey is Clipdrop's "x-api-key" header.
func apiKey(c *gin.Context) string { return strings.TrimSpace(c.GetHeader("x-api-key")) }

// dealImageCookie is the session cookie, on the deal routes that answer an
// image (dealCookieRoutes) and only for GET and HEAD: a browser <img> can
// then load versioned URLs, while nothing else of the deal dialect is
// reachable with a credential the browser sends on its own.
func dealImageCookie(c *gin.Context) string {
	if (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && dealCookieRoutes[c.FullPath()] {
		return sessionCookie(c)
	}
	return ""
}

// dealCookieRoutes are the deal routes that answer an image (a version or
// the source render) and so accept the CanvusSession cookie on GET/HEAD.
var dealCookieRoutes = map[string]bool{
	"/api/canvas/:id/images/:wid/versions/:file": true,
	"/api/canvas/:id/images/:wid/source":         true,
}

// authScheme is one dialect's authentication: where its token may be
// (sources, tried in order: the first one present is the token), whether a
// request without a token goes on anonymously (a canvas's link permission
// may then let it in), and how refusals are answered.
type authScheme struct {
	sources   []tokenSource
	anonymous bool
	fail      func(*gin.Context, int, string) // the dialect's error writer
	challenge bool                            // 401s carry "WWW-Authenticate: Bearer"
	missing   string                          // 401 message without a token
	invalid   string                          // message when the token does not authenticate
	// invalidStatus is the status of an invalid token: 401, or 403 for Clipdrop.
	invalidStatus int
}

// The dialects' schemes.
func CanvusScheme(anonymous bool) authScheme {
	return authScheme{sources: []tokenSource{privateToken, sessionCookie, wsProtocolToken}, anonymous: anonymous,
		fail: CanvusError, missing: "Missing access token", invalid: "Invalid access token", invalidStatus: http.StatusUnauthorized}
}

func DealScheme() authScheme {
	return authScheme{sources: []tokenSource{bearerToken, privateToken, wsProtocolToken, dealImageCookie}, anonymous: true,
		fail: DetailError, challenge: true, invalid: "Invalid or expired token", invalidStatus: http.StatusUnauthorized}
}

func JobsScheme() authScheme {
	return authScheme{sources: []tokenSource{bearerToken}, fail: JobError, challenge: true,
		missing: "Not authenticated", invalid: "Invalid or expired token", invalidStatus: http.StatusUnauthorized}
}

func ClipdropScheme() authScheme {
	return authScheme{sources: []tokenSource{apiKey}, fail: ClipdropError,
		missing: "No api key provided", invalid: "Invalid or revoked api key", invalidStatus: http.StatusForbidden}
}

// token is the request's token under a: the first source that has one.
func (a authScheme) token(c *gin.Context) string {
	for _, src := range a.sources {
		if t := src(c); t != "" {
			return t
		}
	}
	return ""
}

// Authenticated is the one auth middleware: it finds the token as scheme a
// says, authenticates it, and sets the caller's user, token and plain
// token on the context, or answers in the dialect's shape.
func (s *Server) Authenticated(a authScheme) gin.HandlerFunc {
	return func(c *gin.Context) {
		plain := a.token(c)
		if plain == "" {
			if a.anonymous {
				c.Next()
				return
			}
			if a.challenge {
				c.Header("WWW-Authenticate", "Bearer")
			}
			a.fail(c, http.StatusUnauthorized, a.missing)
			return
		}
		u, tk, err := s.authenticateReq(c, plain)
		if err != nil {
			if a.challenge {
				c.Header("WWW-Authenticate", "Bearer")
			}
			a.fail(c, a.invalidStatus, a.invalid)
			return
		}
		c.Set(ctxUser, u)
		c.Set(ctxToken, tk)
		c.Set(ctxPlain, plain)
		c.Next()
	}
}

// authResult is one authenticate call's answer, kept on the request so that
// anonConns (which must know whether a request is anonymous before routing)
// and the route's own auth middleware read the token once, not twice.
type authResult struct {
	plain string
	u     *store.User
	tk    *store.Token
	err   error
}

// authenticateReq is authenticate, memoised on c for the plain token.
func (s *Server) authenticateReq(c *gin.Context, plain string) (*store.User, *store.Token, error) {
	if v, ok := c.Get(ctxAuthResult); ok {
		if r := v.(authResult); r.plain == plain {
			return r.u, r.tk, r.err
		}
	}
	u, tk, err := s.Authenticate(plain)
	c.Set(ctxAuthResult, authResult{plain: plain, u: u, tk: tk, err: err})
	return u, tk, err
}

// hasValidToken reports whether the request carries a token that some
// dialect's scheme would authenticate.
func (s *Server) hasValidToken(c *gin.Context) bool {
	for _, a := range []authScheme{CanvusScheme(false), JobsScheme(), ClipdropScheme()} {
		if plain := a.token(c); plain != "" {
			if _, _, err := s.authenticateReq(c, plain); err == nil {
				return true
			}
		}
	}
	return false
}

func UserOf(c *gin.Context) *store.User {
	u, _ := c.Get(ctxUser)
	uu, _ := u.(*store.User)
	return uu
}

func TokenOf(c *gin.Context) *store.Token {
	t, _ := c.Get(ctxToken)
	tt, _ := t.(*store.Token)
	return tt
}

func CanvasOf(c *gin.Context) *store.Canvas {
	v, _ := c.Get(ctxCanvas)
	cv, _ := v.(*store.Canvas)
	return cv
}

func AccessOf(c *gin.Context) string { return c.GetString(ctxAccess) }

func IsWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete || method == http.MethodPut
}

// CanvasAccess loads the canvas named by :id and checks the caller's right:
// view for reads, edit for writes. fail answers in the route's dialect.
func (s *Server) CanvasAccess(fail func(*gin.Context, int, string), need string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := UserOf(c)
		cv, err := s.loadCanvas(c.Param("id"))
		if err != nil {
			if u == nil {
				fail(c, http.StatusUnauthorized, "Missing access token")
				return
			}
			fail(c, http.StatusNotFound, "Canvas not found")
			return
		}
		access := cv.AccessFor(u)
		want := need
		if want == "" {
			want = store.AccessView
			if IsWrite(c.Request.Method) {
				want = store.AccessEdit
			}
		}
		if store.AccessRank(access) < store.AccessRank(want) {
			if u == nil && access == store.AccessNone {
				fail(c, http.StatusUnauthorized, "Missing access token")
				return
			}
			if access == store.AccessNone {
				fail(c, http.StatusForbidden, "Permission denied")
				return
			}
			fail(c, http.StatusForbidden, "Permission denied: "+want+" access required")
			return
		}
		c.Set(ctxCanvas, cv)
		c.Set(ctxAccess, access)
		c.Next()
	}
}
