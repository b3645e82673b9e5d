package product

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/")

// checkGolden compares img with testdata/name. Float rounding may differ
// across CPUs (FMA), so a pixel may be off by a couple of levels; anything
// more is a change in behaviour.
func checkGolden(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	defer f.Close()
	dec, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	want := toNRGBA(dec)
	if want.Rect.Size() != img.Rect.Size() {
		t.Fatalf("%s: size %v, golden %v", name, img.Rect.Size(), want.Rect.Size())
	}
	off := 0
	for i := range img.Pix {
		d := absDiff(img.Pix[i], want.Pix[i])
		if d > 8 {
			t.Fatalf("%s: byte %d (pixel %d,%d) = %d, golden %d", name, i, (i/4)%img.Rect.Dx(), (i/4)/img.Rect.Dx(), img.Pix[i], want.Pix[i])
		}
		if d > 2 {
			off++
		}
	}
	if off > len(img.Pix)/1000 {
		t.Fatalf("%s: %d bytes differ from the golden image by more than 2 levels", name, off)
	}
}

// TestGoldenOutputs pins the rendered outputs. Regenerate with
// `go test ./imaging/product -run Golden -update` after checking the new
// images by eye (the scene comes from math/rand/v2 PCG, so a change to
// genProduct also needs -update).
func TestGoldenOutputs(t *testing.T) {
	sc := genProduct(t, 240, 180, 77, sceneOpts{noise: 1.5})
	mask := maskImage(sc.mask, 240, 180)

	out, _, err := MaskCrop(sc.img, mask, 300, 60, Margins{Top: 4, Bottom: 4}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "maskcrop_pad_300x60.png", out)

	out, _, err = MaskCrop(sc.img, mask, 90, 120, Margins{Top: 10, Right: 10, Bottom: 10, Left: 10, Percent: true}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "maskcrop_90x120.png", out)

	out, _, err = TrimAlign(sc.img, 160, 120, Margins{Top: 8, Right: 8, Bottom: 8, Left: 8}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "trimalign_160x120.png", out)

	out, err = RemoveBackground(sc.img, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "removebg_240x180.png", out)
}
