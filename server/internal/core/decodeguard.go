package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/gin-gonic/gin"
	"golang.org/x/sync/semaphore"
)

// decodeGuard is the one gate of heavy image work: every decode (uploads,
// re-crop's source, digitize, uncrop, the synchronous crop operations and
// crop jobs) holds, for as long as its pixels are alive, one of
// MaxConcurrentOps operation slots and its weight in bytes of the
// DecodeBudgetBytes memory budget. The weight is imaging.DecodeCost, read
// from the header before any pixel is allocated (16-bit channels, alpha and
// the decoder's intermediate copies count), plus what the operation itself
// allocates. A request that cannot get both within OpWait answers 503 with
// Retry-After; an image whose decode alone exceeds the whole budget is
// refused (413, or 422 for a stored source) instead of waiting for ever (an
// operation larger only with its other buffers runs alone, see weigh). Background
// work (digitize batches, crop jobs) waits as long as its context lives.
//
// Decoded sources kept by re-crop's SourceCache are outside the budget: the
// cache has its own bound (SourceCacheBytes), so image memory stays below
// DecodeBudgetBytes + SourceCacheBytes.
type decodeGuard struct {
	ops    *semaphore.Weighted
	bytes  *semaphore.Weighted
	budget int64
	wait   time.Duration

	held     atomic.Int64 // bytes held now
	freeing  atomic.Bool  // a FreeOSMemory is running
	freeOver int64        // release of at least this many bytes, with nothing else held, returns memory to the OS
}

// freeOSMemoryAbove: after a decode of at least this weight ends and no
// other decode is running, the heap is collected and returned to the OS
// (debug.FreeOSMemory, one at a time, off the request's goroutine), so RSS
// does not stay at the spike. Smaller decodes leave it to the GC.
const freeOSMemoryAbove = 256 << 20

func newDecodeGuard(slots int, budget int64, wait time.Duration) *decodeGuard {
	if slots <= 0 {
		slots = 4
	}
	return &decodeGuard{ops: semaphore.NewWeighted(int64(slots)), bytes: semaphore.NewWeighted(budget),
		budget: budget, wait: wait, freeOver: freeOSMemoryAbove}
}

// ErrDecodeBusy: the slot or the bytes were not free within the wait.
var ErrDecodeBusy = errors.New("server busy: too many image operations in progress")

// OverBudgetError: one operation needs more than the whole budget.
type OverBudgetError struct{ weight, budget int64 }

func (e *OverBudgetError) Error() string {
	return fmt.Sprintf("decoding this image needs about %d MiB, more than the server's whole decode budget of %d MiB",
		(e.weight+(1<<20)-1)>>20, e.budget>>20)
}

// Acquire takes a slot and weight bytes. wait > 0 bounds the wait (then
// errDecodeBusy); wait == 0 waits until ctx ends (then ctx's error).
func (g *decodeGuard) Acquire(ctx context.Context, weight int64, wait time.Duration) error {
	if weight < 0 {
		weight = 0
	}
	if weight > g.budget {
		return &OverBudgetError{weight, g.budget}
	}
	wctx := ctx
	if wait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	busy := func() error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrDecodeBusy
	}
	if err := g.ops.Acquire(wctx, 1); err != nil {
		return busy()
	}
	if err := g.bytes.Acquire(wctx, weight); err != nil {
		g.ops.Release(1)
		return busy()
	}
	g.held.Add(weight)
	return nil
}

// Weigh is the weight of an operation whose largest single decode costs
// decode bytes and whose other buffers (a second decode, its result, the
// encoding) cost extra. Only a decode larger than the whole budget is
// refused; an operation that is larger only with its extra buffers is
// capped at the budget, so it runs alone rather than never.
func (g *decodeGuard) Weigh(decode, extra int64) int64 {
	w := decode + extra
	if decode <= g.budget && w > g.budget {
		w = g.budget
	}
	return w
}

// Release gives back what acquire took.
func (g *decodeGuard) Release(weight int64) {
	if weight < 0 {
		weight = 0
	}
	left := g.held.Add(-weight)
	g.bytes.Release(weight)
	g.ops.Release(1)
	if weight >= g.freeOver && left == 0 && g.freeing.CompareAndSwap(false, true) {
		go func() {
			defer g.freeing.Store(false)
			debug.FreeOSMemory()
		}()
	}
}

// DecodeCost is imaging.DecodeCost under the server's pixel limit.
func (s *Server) DecodeCost(data []byte) (imaging.Format, int, int, int64, error) {
	return imaging.DecodeCost(data, s.Limits())
}

// WithDecodeSlot runs fn holding a slot and weight bytes of the decode
// budget, or answers in the route's dialect: 503 with Retry-After when busy
// past OpWait, 413 when weight exceeds the whole budget.
func (s *Server) WithDecodeSlot(c *gin.Context, fail func(*gin.Context, int, string), weight int64, fn func()) {
	if err := s.Guard.Acquire(c.Request.Context(), weight, s.Cfg.OpWait); err != nil {
		s.GuardFail(c, fail, http.StatusRequestEntityTooLarge, err)
		return
	}
	defer s.Guard.Release(weight)
	fn()
}

// GuardFail answers an acquire error: 503 + Retry-After when busy (or the
// client left), overBudget (413 or 422) when the image exceeds the budget.
func (s *Server) GuardFail(c *gin.Context, fail func(*gin.Context, int, string), overBudget int, err error) {
	var ob *OverBudgetError
	if errors.As(err, &ob) {
		s.Metrics.Rejected.WithLabelValues("decode_budget").Inc()
		fail(c, overBudget, "Image too large for this server: "+ob.Error())
		return
	}
	s.Metrics.Rejected.WithLabelValues("saturated").Inc()
	c.Header("Retry-After", "1")
	fail(c, http.StatusServiceUnavailable, "Server busy: too many image operations in progress, retry shortly")
}
