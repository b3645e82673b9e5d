package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"testing"
)

// TestDecodeCostBoundsAllocations: DecodeCost, computed from the header,
// is at least what Decode really allocates (runtime TotalAlloc, an upper
// bound of the peak) for every fixture kind, 16-bit and alpha included, and
// for a corrupt 8-bit PNG whose pipelined decode fails and falls back.
func TestDecodeCostBoundsAllocations(t *testing.T) {
	var files = map[string][]byte{}
	for _, name := range []string{"rgb16.png", "rgba16.png", "gray.png", "gray-alpha.png", "palette.png", "palette-trns.png",
		"interlaced.png", "src-rgb.png", "src-rgba.png", "q90-420.jpg", "q90-444.jpg", "gray.jpg",
		"lossy.webp", "alpha-lossy.webp", "lossless.webp", "alpha-lossless.webp", "anim.gif"} {
		files[name] = readFixture(t, name)
	}
	// A large 16-bit RGBA PNG (the attack's kind), and a corrupt 8-bit one.
	big := image.NewNRGBA64(image.Rect(0, 0, 600, 400))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 31)
	}
	var buf bytes.Buffer
	png.Encode(&buf, big)
	files["big16"] = buf.Bytes()
	rgba := image.NewNRGBA(image.Rect(0, 0, 600, 400))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	rgba.Set(0, 0, color.NRGBA{1, 2, 3, 4})
	buf.Reset()
	png.Encode(&buf, rgba)
	files["corrupt8"] = corruptIDAT(t, buf.Bytes())
	for name, b := range files {
		_, w, h, cost, err := DecodeCost(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, _, err := Decode(b, Limits{})
		runtime.ReadMemStats(&after)
		if err != nil && name != "corrupt8" {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if name == "corrupt8" && err == nil {
			t.Fatalf("corrupt8 decoded")
		}
		_ = img
		got := int64(after.TotalAlloc - before.TotalAlloc)
		if got > cost {
			t.Errorf("%s (%dx%d): Decode allocated %d bytes, DecodeCost says %d", name, w, h, got, cost)
		}
		t.Logf("%s %dx%d: allocated %d, cost %d (%.1f B/px)", name, w, h, got, cost, float64(cost)/float64(w*h))
	}
}

// corruptIDAT flips a byte late in the first IDAT chunk and fixes its CRC,
// so the chunk structure is valid but the pixel data is not.
func corruptIDAT(t *testing.T, b []byte) []byte {
	out := append([]byte(nil), b...)
	pos := 8
	for pos+8 < len(out) {
		n := int(binary.BigEndian.Uint32(out[pos:]))
		if string(out[pos+4:pos+8]) == "IDAT" {
			out[pos+8+n*3/4] ^= 0x55
			binary.BigEndian.PutUint32(out[pos+8+n:], crc32.ChecksumIEEE(out[pos+4:pos+8+n]))
			return out
		}
		pos += 12 + n
	}
	t.Fatal("no IDAT")
	return nil
}
