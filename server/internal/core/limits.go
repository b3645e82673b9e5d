package core

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyLimiter is a per-key token bucket with an injectable clock. Its map
// stays bounded: a bucket unused for as long as it takes to fill up again is
// the same as a new one, so a sweep (at most once per refill period, or when
// the map reaches maxKeys) drops those; if the map is still at maxKeys, the
// least recently used half goes too (such a key starts again with a full
// bucket, which needs maxKeys live keys within one refill period).
type keyLimiter struct {
	mu        sync.Mutex
	per       rate.Limit
	burst     int
	m         map[string]*keyBucket
	maxKeys   int
	lastSweep time.Time
}

type keyBucket struct {
	l    *rate.Limiter
	seen time.Time // the latest now it was used at
}

// keyLimiterMaxKeys bounds the buckets one keyLimiter keeps.
const keyLimiterMaxKeys = 100_000

func newKeyLimiter(perMinute int) *keyLimiter {
	return &keyLimiter{per: rate.Limit(float64(perMinute) / 60), burst: perMinute, m: map[string]*keyBucket{},
		maxKeys: keyLimiterMaxKeys}
}

// refill is how long an unused bucket takes to be full again.
func (k *keyLimiter) refill() time.Duration {
	if k.per <= 0 {
		return time.Hour
	}
	return time.Duration(float64(k.burst) / float64(k.per) * float64(time.Second))
}

// Allow takes one token for key at now; when refused it returns the wait.
func (k *keyLimiter) Allow(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(now)
	b, ok := k.m[key]
	if !ok {
		b = &keyBucket{l: rate.NewLimiter(k.per, k.burst)}
		k.m[key] = b
	}
	if now.After(b.seen) {
		b.seen = now
	}
	r := b.l.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (k *keyLimiter) sweepLocked(now time.Time) {
	full := k.refill()
	if len(k.m) < k.maxKeys && now.Sub(k.lastSweep) < full {
		return
	}
	k.lastSweep = now
	for key, b := range k.m {
		if now.Sub(b.seen) >= full {
			delete(k.m, key)
		}
	}
	if len(k.m) < k.maxKeys {
		return
	}
	type aged struct {
		key  string
		seen time.Time
	}
	all := make([]aged, 0, len(k.m))
	for key, b := range k.m {
		all = append(all, aged{key, b.seen})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seen.Before(all[j].seen) })
	for _, a := range all[:len(all)-k.maxKeys/2] {
		delete(k.m, a.key)
	}
}

func RetryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
