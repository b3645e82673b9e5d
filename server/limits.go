package server

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// opSlots bounds concurrent heavy image work (decodes and operations). A
// request that finds every slot busy for longer than opWait answers 503 with
// Retry-After instead of queueing without bound.
type opSlots struct {
	ch   chan struct{}
	wait time.Duration
}

func newOpSlots(n int, wait time.Duration) *opSlots {
	if n <= 0 {
		n = 4
	}
	return &opSlots{ch: make(chan struct{}, n), wait: wait}
}

func (o *opSlots) acquire(c *gin.Context) bool {
	select {
	case o.ch <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(o.wait)
	defer t.Stop()
	select {
	case o.ch <- struct{}{}:
		return true
	case <-t.C:
	case <-c.Request.Context().Done():
	}
	return false
}

func (o *opSlots) release() { <-o.ch }

// withOpSlot runs fn holding a slot, or answers 503 in the route's dialect.
func (s *Server) withOpSlot(c *gin.Context, fail func(*gin.Context, int, string), fn func()) {
	if !s.ops.acquire(c) {
		rejected.WithLabelValues("saturated").Inc()
		c.Header("Retry-After", "1")
		fail(c, http.StatusServiceUnavailable, "Server busy: too many image operations in progress, retry shortly")
		return
	}
	defer s.ops.release()
	fn()
}

// keyLimiter is a per-key token bucket with an injectable clock.
type keyLimiter struct {
	mu    sync.Mutex
	per   rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newKeyLimiter(perMinute int) *keyLimiter {
	return &keyLimiter{per: rate.Limit(float64(perMinute) / 60), burst: perMinute, m: map[string]*rate.Limiter{}}
}

// allow takes one token for key at now; when refused it returns the wait.
func (k *keyLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	l, ok := k.m[key]
	if !ok {
		l = rate.NewLimiter(k.per, k.burst)
		k.m[key] = l
	}
	k.mu.Unlock()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
