package gen

import (
	"bytes"
	"image"
	"testing"
)

// TestScannedRangesAndDeterminism checks the degradations of issue 17 stay
// in their ranges over many seeds, that a seed always gives the same bytes,
// and that every truth box of a rotated table stays on the page.
func TestScannedRangesAndDeterminism(t *testing.T) {
	var sawGrey, sawWhite, sawNeg, sawPos bool
	for seed := uint64(0); seed < 12; seed++ {
		s, err := GenerateScanned(seed, Styles[seed%3], GoFamilies)
		if err != nil {
			t.Fatal(err)
		}
		sc := *s.Scan
		if sc.SkewDeg < -2 || sc.SkewDeg > 2 || sc.Scale < 0.6 || sc.Scale > 0.9 || sc.JPEGQuality < 50 || sc.JPEGQuality > 80 ||
			sc.Blur < 0 || sc.Blur > 0.8 || sc.Noise < 2 || sc.Noise > 7 || sc.Paper < 212 {
			t.Errorf("seed %d: scan %+v out of range", seed, sc)
		}
		sawGrey, sawWhite = sawGrey || sc.Paper < 255, sawWhite || sc.Paper == 255
		sawNeg, sawPos = sawNeg || sc.SkewDeg < 0, sawPos || sc.SkewDeg > 0
		for _, c := range s.Truth.Cells {
			cx, cy := c.BBox[0]+c.BBox[2]/2, c.BBox[1]+c.BBox[3]/2
			if cx <= 0 || cx >= 1 || cy <= 0 || cy >= 1 {
				t.Errorf("seed %d: cell r%d c%d centre (%.3f, %.3f) off the page", seed, c.R, c.C, cx, cy)
			}
		}
		a, _, _ := s.Encode()
		s2, _ := GenerateScanned(seed, Styles[seed%3], GoFamilies)
		if b, _, _ := s2.Encode(); !bytes.Equal(a, b) {
			t.Errorf("seed %d: two renders differ", seed)
		}
		img, _, err := image.Decode(bytes.NewReader(a))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() < 50 {
			t.Errorf("seed %d: image %v", seed, img.Bounds())
		}
	}
	if !sawGrey || !sawWhite || !sawNeg || !sawPos {
		t.Errorf("12 seeds never gave grey paper (%v), white paper (%v), negative skew (%v) or positive skew (%v)", sawGrey, sawWhite, sawNeg, sawPos)
	}
	for _, k := range []TextKind{KPICards, SlideTitle} {
		a, err := GenerateText(5, k, GoFamilies, true)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := GenerateText(5, k, GoFamilies, true)
		ea, _, _ := (&Sample{Image: a.Image, Degrade: Degrade{JPEGQuality: a.Scan.JPEGQuality}}).Encode()
		eb, _, _ := (&Sample{Image: b.Image, Degrade: Degrade{JPEGQuality: b.Scan.JPEGQuality}}).Encode()
		if !bytes.Equal(ea, eb) || len(a.Lines) < 2 {
			t.Errorf("%s: not deterministic or %d lines", k, len(a.Lines))
		}
	}
}
