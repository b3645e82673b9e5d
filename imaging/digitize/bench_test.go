//go:build unix

package digitize_test

import (
	"context"
	"image"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/digitize/gen"
	"golang.org/x/image/draw"
)

// table1000x600 renders a 6-column, 12-14 row table of the given style and
// resamples it to exactly 1000x600 pixels.
func table1000x600(tb testing.TB, style gen.Style) (image.Image, *digitize.Table) {
	tb.Helper()
	for seed := uint64(1); seed < 500; seed++ {
		s, err := gen.Generate(seed, style, gen.Options{Degrade: &gen.Degrade{Scale: 1}})
		if err != nil {
			tb.Fatal(err)
		}
		if s.Truth.NCols != 6 || s.Truth.NRows < 12 || s.Truth.NRows > 14 {
			continue
		}
		dst := image.NewRGBA(image.Rect(0, 0, 1000, 600))
		draw.BiLinear.Scale(dst, dst.Bounds(), s.Image, s.Image.Bounds(), draw.Src, nil)
		return dst, &s.Truth
	}
	tb.Fatal("no suitable seed")
	return nil, nil
}

// BenchmarkTable1000x600 measures ReadTable with OCR on a 1000x600 table
// image, per element, and reports the median as p50-ms.
func BenchmarkTable1000x600(b *testing.B) {
	needOCR(b)
	for _, style := range []gen.Style{gen.Grid, gen.Rules, gen.Borderless} {
		b.Run(string(style), func(b *testing.B) {
			img, truth := table1000x600(b, style)
			var durs []time.Duration
			var res *digitize.TableResult
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				var err error
				res, err = digitize.ReadTable(context.Background(), img)
				if err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(durs)), "cpu-ms/op")
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
			sc := digitize.Compare(truth, &res.Table)
			b.ReportMetric(float64(sc.NumCorrect)/float64(max(1, sc.NumCells)), "numeric-acc")
		})
	}
}

// cpuTime is this process's plus its waited-for children's (tesseract) CPU
// time: on a shared machine a steadier cost figure than wall time.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}
