package uncrop

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelRows splits rows 0..n-1 into fixed tiles of tileRows rows and runs
// fn(tile, y0, y1) for each, on up to GOMAXPROCS goroutines. The tiling does
// not depend on GOMAXPROCS, and fn must write only to memory owned by its
// tile, so the result does not depend on scheduling.
func parallelRows(n, tileRows int, fn func(tile, y0, y1 int)) {
	if n <= 0 {
		return
	}
	tileRows = max(1, tileRows)
	tiles := (n + tileRows - 1) / tileRows
	workers := min(runtime.GOMAXPROCS(0), tiles)
	run := func(t int) { fn(t, t*tileRows, min(n, (t+1)*tileRows)) }
	if workers <= 1 {
		for t := 0; t < tiles; t++ {
			run(t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := int(next.Add(1)) - 1
				if t >= tiles {
					return
				}
				run(t)
			}
		}()
	}
	wg.Wait()
}

// mix is the splitmix64 finaliser, a good 64-bit hash.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hash3 hashes a seed with two more words.
func hash3(seed, a, b uint64) uint64 {
	return mix(mix(mix(seed)^a) ^ b)
}

// rng is a small xorshift generator; each pixel or tile seeds its own from
// hash3, so draws never depend on the order work is scheduled in.
type rng struct{ s uint64 }

func newRNG(h uint64) rng {
	if h == 0 {
		h = 0x2545f4914f6cdd1d
	}
	return rng{h}
}

func (r *rng) next() uint64 {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return r.s * 0x2545f4914f6cdd1d
}

// intn returns a number in 0..n-1 (n > 0).
func (r *rng) intn(n int) int {
	return int((r.next() >> 33) % uint64(n))
}
