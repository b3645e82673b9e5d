package product

import (
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	benchMu     sync.Mutex
	benchScenes = map[[2]int]scene{}
)

// benchScene generates (once per size) a noisy product photo.
func benchScene(b *testing.B, w, h int) scene {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if sc, ok := benchScenes[[2]int{w, h}]; ok {
		return sc
	}
	sc := genProduct(b, w, h, 42, sceneOpts{noise: 2, frac: 0.5, cx: 0.45, cy: 0.55})
	benchScenes[[2]int{w, h}] = sc
	return sc
}

// cpuTime is the process's user+system CPU time so far. Reported per op it
// shows the work done even when other processes compete for the 2 cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// reportP50 adds the median iteration time as a metric.
func reportP50(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
}

// loop runs fn b.N times and reports the median wall time per op and the CPU
// time per op.
func loop(b *testing.B, fn func()) {
	var durs []time.Duration
	c0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		fn()
		durs = append(durs, time.Since(t0))
	}
	reportP50(b, durs)
	reportCPU(b, c0)
}

func BenchmarkRemoveBackground10MP(b *testing.B) {
	sc := benchScene(b, 3650, 2740) // 10.0 MP
	loop(b, func() {
		if _, err := RemoveBackground(sc.img, 0); err != nil {
			b.Fatal(err)
		}
	})
}

var bannerSizes = [][2]int{{1920, 600}, {1080, 1080}, {728, 90}}

func maskCrop3(b *testing.B, sc scene, mask image.Image) {
	for _, sz := range bannerSizes {
		if _, _, err := MaskCrop(sc.img, mask, sz[0], sz[1], Margins{Top: 5, Right: 5, Bottom: 5, Left: 5, Percent: true}, Background{Transparent: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMaskCrop12MP3Sizes is one banner job's image work: three sizes
// from a 12 MP photo and its mask (decode and encode not included).
func BenchmarkMaskCrop12MP3Sizes(b *testing.B) {
	sc := benchScene(b, 4000, 3000)
	mask := maskImage(sc.mask, 4000, 3000)
	b.Run("serial", func(b *testing.B) {
		loop(b, func() { maskCrop3(b, sc, mask) })
		b.ReportMetric(float64(b.N)/b.Elapsed().Minutes(), "jobs/min")
	})
	// Two jobs at a time, as with the default worker pool of 2.
	b.Run("workers=2", func(b *testing.B) {
		b.SetParallelism(1)
		b.Logf("%d concurrent jobs", runtime.GOMAXPROCS(0))
		c0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				maskCrop3(b, sc, mask)
			}
		})
		reportCPU(b, c0)
		b.ReportMetric(float64(b.N)/b.Elapsed().Minutes(), "jobs/min")
	})
}

func BenchmarkTrimAlign12MP(b *testing.B) {
	sc := benchScene(b, 4000, 3000)
	loop(b, func() {
		if _, _, err := TrimAlign(sc.img, 1080, 1080, Margins{Top: 5, Right: 5, Bottom: 5, Left: 5, Percent: true}, nil, 0); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkResize(b *testing.B) {
	sc := benchScene(b, 4000, 3000)
	for _, sz := range [][2]int{{1920, 1440}, {400, 300}, {6000, 4500}} {
		b.Run(fmt.Sprintf("12MPto%dx%d", sz[0], sz[1]), func(b *testing.B) {
			loop(b, func() { Resize(sc.img, sz[0], sz[1]) })
		})
	}
}
