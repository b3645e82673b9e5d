package core

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// Live streams (websockets, NDJSON ?subscribe streams, SSE) outlive the
// request that authenticated them, so each one is tracked here:
//
//   - Caps: a signed-in user may hold Config.MaxStreamsPerUser streams, an
//     anonymous viewer Config.MaxStreamsPerIP per client IP (so one guest
//     cannot lock every guest out, and a public canvas can have thousands of
//     anonymous viewers). Websockets and NDJSON streams count together.
//   - Revocation: a stream re-checks its credentials (its token still
//     exists and is not expired, its user exists and is not blocked) and its
//     canvas access whenever the store's AuthGen moved, both before it
//     delivers an event and, for idle streams, from one watcher goroutine
//     woken by store.AuthChanged (and a 1 s tick for token expiry). A
//     stream that fails ends: websockets close with 4001 (credentials) or
//     4003 (canvas access), NDJSON and SSE responses end.

var (
	// errStreamUnauthorized ends a stream whose token, login or user is gone.
	errStreamUnauthorized = errors.New("credentials revoked")
	// ErrStreamForbidden ends a stream whose viewer lost access to its canvas.
	ErrStreamForbidden = errors.New("canvas access revoked")
)

// liveRegistry is the Server's set of open streams and their counts per key.
type liveRegistry struct {
	mu      sync.Mutex
	streams map[*LiveStream]struct{}
	byKey   map[string]int
	watch   sync.Once
}

// LiveStream is one open stream's credentials.
type LiveStream struct {
	s       *Server
	key     string // cap key ("u:ID" or "ip:ADDR"); "" when not counted
	plain   string // the token the stream authenticated with; "" if anonymous
	tokenID string
	canvas  string // "" when the stream is not about one canvas

	mu      sync.Mutex
	gen     uint64 // AuthGen of the last check
	user    *store.User
	expires time.Time
	ended   error
	cancel  context.CancelCauseFunc
}

// streamKey is the cap key of the caller: its user, or its IP if anonymous.
func streamKey(c *gin.Context) (key string, perIP bool) {
	if u := UserOf(c); u != nil && u.ID != store.GuestUserID {
		return "u:" + strconv.FormatUint(u.ID, 10), false
	}
	return "ip:" + c.ClientIP(), true
}

// OpenStream registers a stream of the caller (about canvas, or "" for
// none). With capped it counts toward the caller's cap and fails (false)
// when the cap is reached. The caller must call close.
func (s *Server) OpenStream(c *gin.Context, canvas string, capped bool) (*LiveStream, bool) {
	ls := &LiveStream{s: s, canvas: canvas, user: UserOf(c), gen: s.St.AuthGen()}
	if tk := TokenOf(c); tk != nil && ls.user != nil {
		ls.plain, ls.tokenID, ls.expires = c.GetString(ctxPlain), tk.ID, tk.ExpiresAt
	}
	r := &s.live
	r.mu.Lock()
	if capped {
		key, perIP := streamKey(c)
		limit := s.Cfg.MaxStreamsPerUser
		if perIP {
			limit = s.Cfg.MaxStreamsPerIP
		}
		if r.byKey[key] >= limit {
			r.mu.Unlock()
			return nil, false
		}
		if r.byKey == nil {
			r.byKey = map[string]int{}
		}
		r.byKey[key]++
		ls.key = key
	}
	if r.streams == nil {
		r.streams = map[*LiveStream]struct{}{}
	}
	r.streams[ls] = struct{}{}
	r.mu.Unlock()
	r.watch.Do(func() { go s.watchStreams() })
	return ls, true
}

// Close unregisters the stream and gives its slot back. Idempotent.
func (ls *LiveStream) Close() {
	r := &ls.s.live
	r.mu.Lock()
	if _, ok := r.streams[ls]; ok {
		delete(r.streams, ls)
		if ls.key != "" {
			if r.byKey[ls.key]--; r.byKey[ls.key] <= 0 {
				delete(r.byKey, ls.key)
			}
		}
	}
	r.mu.Unlock()
}

// Bind sets the function that ends the stream with a cause.
func (ls *LiveStream) Bind(cancel context.CancelCauseFunc) {
	ls.mu.Lock()
	ls.cancel = cancel
	ended := ls.ended
	ls.mu.Unlock()
	if ended != nil {
		cancel(ended)
	}
}

// CurrentUser is the stream's user as of its last check (nil if anonymous).
func (ls *LiveStream) CurrentUser() *store.User {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.user
}

// Check re-reads the stream's credentials and canvas access if AuthGen
// moved (or the token expired) since the last check. It returns
// errStreamUnauthorized or errStreamForbidden once the stream must end,
// and then cancels it.
func (ls *LiveStream) Check() error {
	ls.mu.Lock()
	if ls.ended != nil {
		err := ls.ended
		ls.mu.Unlock()
		return err
	}
	s := ls.s
	gen := s.St.AuthGen()
	now := s.St.Now()
	expired := !ls.expires.IsZero() && now.After(ls.expires)
	if gen == ls.gen && !expired {
		ls.mu.Unlock()
		return nil
	}
	// The reads go through the auth cache, shared by every stream and
	// request: after an AuthGen change each token and canvas is read once.
	user := ls.user
	var end error
	switch {
	case expired:
		end = errStreamUnauthorized
	case ls.tokenID != "":
		u, tk, err := s.Authenticate(ls.plain)
		if err != nil || tk.ID != ls.tokenID {
			end = errStreamUnauthorized
		} else {
			user = u
		}
	}
	if end == nil && ls.canvas != "" {
		cv, err := s.loadCanvas(ls.canvas)
		if err != nil || cv.AccessFor(user) == store.AccessNone {
			end = ErrStreamForbidden
		}
	}
	var cancel context.CancelCauseFunc
	if end != nil {
		ls.ended, cancel = end, ls.cancel
	} else {
		ls.gen, ls.user = gen, user
	}
	ls.mu.Unlock()
	if cancel != nil {
		cancel(end)
	}
	return end
}

// StreamEnd is why a stream's context ended, if revocation ended it.
func StreamEnd(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, errStreamUnauthorized) || errors.Is(cause, ErrStreamForbidden) {
		return cause
	}
	return nil
}

// watchStreams re-checks every open stream when AuthGen moves, and once a
// second for expired login tokens. One goroutine serves every stream.
func (s *Server) watchStreams() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	wake := s.St.AuthChanged()
	for {
		select {
		case <-s.Ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		wake = s.St.AuthChanged() // before the sweep: a change during it wakes the next one
		s.live.mu.Lock()
		all := make([]*LiveStream, 0, len(s.live.streams))
		for ls := range s.live.streams {
			all = append(all, ls)
		}
		s.live.mu.Unlock()
		for _, ls := range all {
			ls.Check()
		}
	}
}
