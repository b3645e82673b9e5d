package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

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
