package product

import (
	"errors"
	"image"
	"math/rand/v2"
	"testing"
)

// TestTinyAndOddImages runs every operation over degenerate shapes and
// random content: nothing may panic, and outputs keep their promised size.
func TestTinyAndOddImages(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][2]int{{1, 1}, {1, 7}, {7, 1}, {2, 2}, {3, 50}, {50, 3}, {17, 13}}
	for _, sz := range sizes {
		for trial := range 4 {
			img := image.NewNRGBA(image.Rect(0, 0, sz[0], sz[1]))
			for i := range img.Pix {
				img.Pix[i] = uint8(rng.IntN(256))
			}
			if trial == 0 {
				fillRect(img, img.Rect, [4]uint8{9, 9, 9, 255})
			}
			mask := image.NewGray(img.Rect)
			for i := range mask.Pix {
				if rng.IntN(3) == 0 {
					mask.Pix[i] = 255
				}
			}
			for _, out := range [][2]int{{1, 1}, {5, 40}, {40, 5}, {64, 64}} {
				o, r, err := MaskCrop(img, mask, out[0], out[1], Margins{}, magenta)
				if errors.Is(err, ErrEmptyMask) {
					continue
				}
				if err != nil {
					t.Fatalf("%v -> %v: %v", sz, out, err)
				}
				if o.Rect.Dx() != out[0] || o.Rect.Dy() != out[1] || r.W <= 0 || r.H <= 0 {
					t.Fatalf("%v -> %v: output %v crop %+v", sz, out, o.Rect, r)
				}
				o, _, err = TrimAlign(img, out[0], out[1], Margins{}, nil, 0)
				if err != nil && !errors.Is(err, ErrNoSubject) {
					t.Fatalf("trim %v -> %v: %v", sz, out, err)
				}
				if err == nil && (o.Rect.Dx() != out[0] || o.Rect.Dy() != out[1]) {
					t.Fatalf("trim %v -> %v: output %v", sz, out, o.Rect)
				}
			}
			if o, err := RemoveBackground(img, 0); err == nil && o.Rect.Size() != img.Rect.Size() {
				t.Fatalf("remove background %v: output %v", sz, o.Rect)
			} else if err != nil && !errors.Is(err, ErrNoSubject) {
				t.Fatalf("remove background %v: %v", sz, err)
			}
		}
	}
}

// TestSubImages checks that inputs whose bounds do not start at (0,0) are
// read at the right offsets.
func TestSubImages(t *testing.T) {
	sc := genProduct(t, 400, 300, 30, sceneOpts{})
	big := image.NewNRGBA(image.Rect(0, 0, 500, 400))
	fillRect(big, big.Rect, [4]uint8{0, 0, 0, 255})
	for y := range 300 {
		copy(big.Pix[big.PixOffset(50, 60+y):big.PixOffset(450, 60+y)], sc.img.Pix[sc.img.PixOffset(0, y):sc.img.PixOffset(400, y)])
	}
	sub := big.SubImage(image.Rect(50, 60, 450, 360)).(*image.NRGBA)
	bigMask := maskImage(make([]bool, 500*400), 500, 400)
	for i, v := range sc.mask {
		if v {
			bigMask.Pix[bigMask.PixOffset(50+i%400, 60+i/400)] = 255
		}
	}
	subMask := bigMask.SubImage(sub.Rect)

	_, want, err := TrimAlign(sc.img, 200, 200, Margins{}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := TrimAlign(sub, 200, 200, Margins{}, nil, 0); err != nil || got != want {
		t.Fatalf("TrimAlign on a sub-image: %+v, %v; want %+v", got, err, want)
	}
	_, want, err = MaskCrop(sc.img, maskImage(sc.mask, 400, 300), 300, 100, Margins{}, magenta)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := MaskCrop(sub, subMask, 300, 100, Margins{}, magenta); err != nil || got != want {
		t.Fatalf("MaskCrop on sub-images: %+v, %v; want %+v", got, err, want)
	}
	a, err := RemoveBackground(sc.img, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RemoveBackground(sub, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatalf("RemoveBackground on a sub-image differs at byte %d", i)
		}
	}
}
