package imaging

import (
	"bytes"
	"image"
	"testing"
)

// BenchmarkRecropCold is a first re-crop: decode the 10 MP page render with
// the pixel guard, crop about 2 MP, encode PNG at BestSpeed.
func BenchmarkRecropCold(b *testing.B) {
	page := heavyPagePNG(b)
	box := heavyPageCropBox()
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
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
	b.ReportMetric(float64(out.Len()), "out-bytes")
}

// Parts of the cold path, to see where the time goes.
func BenchmarkDecodeHeavyPage(b *testing.B) {
	page := heavyPagePNG(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(page, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeCropStdlib(b *testing.B) {
	img, _, err := Decode(heavyPagePNG(b), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	crop := CropFrac(img, heavyPageCropBox())
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := stdPNGEncoder.Encode(&out, crop); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len()), "out-bytes")
}
