package imaging

import (
	"bytes"
	"image"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far. Benchmarks report
// it per op beside wall time: on a shared machine wall time swings with
// other load, CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkRecropCold is a first re-crop: decode the 10 MP page render with
// the pixel guard, crop about 2 MP, encode PNG at BestSpeed.
func BenchmarkRecropCold(b *testing.B) {
	page := heavyPagePNG(b)
	box := heavyPageCropBox()
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		img, _, err := Decode(page, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		out.Reset()
		if err := EncodePNG(&out, CropFrac(img, box)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(out.Len()), "out-bytes")
}

// BenchmarkRecropWarm is a repeated re-crop of a cached source: cache hit,
// crop, encode.
func BenchmarkRecropWarm(b *testing.B) {
	page := heavyPagePNG(b)
	box := heavyPageCropBox()
	cache := NewSourceCache(1 << 30)
	load := func() (*image.NRGBA, error) {
		img, _, err := Decode(page, Limits{})
		return img, err
	}
	if _, _, err := cache.Get("page", load); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		img, hit, err := cache.Get("page", load)
		if err != nil || !hit {
			b.Fatalf("hit=%v err=%v", hit, err)
		}
		out.Reset()
		if err := EncodePNG(&out, CropFrac(img, box)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(out.Len()), "out-bytes")
}

// Parts of the cold path, to see where the time goes.
func BenchmarkDecodeHeavyPage(b *testing.B) {
	page := heavyPagePNG(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, _, err := Decode(page, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

func BenchmarkEncodeCropStdlib(b *testing.B) {
	img, _, err := Decode(heavyPagePNG(b), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	crop := CropFrac(img, heavyPageCropBox())
	var out bytes.Buffer
	cpu0 := cpuTime()
	for b.Loop() {
		out.Reset()
		if err := stdPNGEncoder.Encode(&out, crop); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(out.Len()), "out-bytes")
}
