//go:build accuracy

package imaging

import (
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccuracyFastPNG compares the pipelined PNG decoder pixel for pixel with
// image/png (through the colour model, not through ToNRGBA) on every PNG test
// image of the repository, the 10 MP heavy page included, and checks that
// the fast path refuses only what it documents (16-bit and sub-byte depths,
// interlacing, tRNS on grey or RGB). Decode, which falls back to image/png,
// must match on every file. make test runs it without -race, in the accuracy
// step; TestDecodeFastPNG covers the small fixtures under -race.
func TestAccuracyFastPNG(t *testing.T) {
	if raceEnabled {
		t.Fatal("the accuracy tests run without -race: see the test target of the Makefile")
	}
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".png") && strings.Contains(filepath.ToSlash(path), "/testdata/") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	heavy, _ := filepath.Abs(heavyPageFile)
	sawHeavy, fast := false, 0
	for _, path := range files {
		if abs, _ := filepath.Abs(path); abs == heavy {
			sawHeavy = true
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := nrgbaReference(stdDecodePNG(t, b))
		img, ok := decodePNGFast(b)
		if expect := fastPathExpected(b); ok != expect {
			t.Errorf("%s: fast path taken = %v, want %v", path, ok, expect)
		}
		if ok {
			fast++
			diffNRGBA(t, path+" (fast decoder)", img, want, 0)
		}
		got, f, err := Decode(b, Limits{})
		if err != nil || f != FormatPNG {
			t.Errorf("%s: Decode = %q, %v", path, f, err)
			continue
		}
		diffNRGBA(t, path+" (Decode)", got, want, 0)
	}
	if !sawHeavy {
		t.Errorf("the heavy page %s is not among the %d test images", heavyPageFile, len(files))
	}
	if len(files) < 50 || fast < len(files)/2 {
		t.Errorf("compared %d PNG files, %d on the fast path: the walk is broken", len(files), fast)
	}
	t.Logf("%d PNG test images, %d on the fast path", len(files), fast)
}

// fastPathExpected reads the IHDR and chunk types of a well-formed PNG and
// says whether the fast decoder claims to handle it: 8-bit, not interlaced,
// a known colour type, and tRNS only with a palette.
func fastPathExpected(b []byte) bool {
	const sig = 8
	if len(b) < sig+8+13 || string(b[sig+4:sig+8]) != "IHDR" {
		return false
	}
	ihdr := b[sig+8:]
	depth, ct, interlace := ihdr[8], ihdr[9], ihdr[12]
	if depth != 8 || interlace != 0 || (ct != 0 && ct != 2 && ct != 3 && ct != 4 && ct != 6) {
		return false
	}
	for pos := sig; pos+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		if string(b[pos+4:pos+8]) == "tRNS" && ct != 3 {
			return false
		}
		pos += 12 + n
	}
	return true
}
