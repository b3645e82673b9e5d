package uncrop

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time; benchmarks report it per
// op beside wall time, since wall time on a shared 2-core machine depends on
// what else runs.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUncrop4MP is the benchmark: a 4 MP input (2309x1732)
// extended by 500 px on each side, in the mode Auto picks (PatchMatch).
func BenchmarkUncrop4MP(b *testing.B) {
	src := photoLike(b, 2309, 1732, 1)
	ext := Extents{Left: 500, Right: 500, Up: 500, Down: 500}
	for _, mode := range []Mode{Auto, Fast} {
		b.Run(mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuTime(b)
			n := 0
			for b.Loop() {
				if _, err := Uncrop(src, ext, Options{Seed: int64(n), Mode: mode}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime(b)-c0).Milliseconds())/float64(n), "cpu-ms/op")
		})
	}
}

// BenchmarkUncropEval is the eval's case size: about 0.75 MP with a 13%
// band regenerated on one side.
func BenchmarkUncropEval(b *testing.B) {
	src := photoLike(b, 870, 870*9/16, 2)
	ext := Extents{Left: 130}
	for i := 0; b.Loop(); i++ {
		if _, err := Uncrop(src, ext, Options{Seed: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUncropLarge is the largest input (10 MP) extended by 1000 px on
// each side (24 MP out), in both modes; it calibrates patchMatchCost.
func BenchmarkUncropLarge(b *testing.B) {
	src := photoLike(b, 3873, 2582, 3)
	ext := Extents{Left: 1000, Right: 1000, Up: 1000, Down: 1000}
	for _, mode := range []Mode{PatchMatch, Fast} {
		b.Run(mode.String(), func(b *testing.B) {
			c0 := cpuTime(b)
			n := 0
			for b.Loop() {
				if _, err := Uncrop(src, ext, Options{Seed: int64(n), Mode: mode}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime(b)-c0).Milliseconds())/float64(n), "cpu-ms/op")
		})
	}
}
