package gen

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	for _, st := range Styles {
		a, err := Generate(7, st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(7, st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ea, _, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		eb, _, _ := b.Encode()
		if !bytes.Equal(ea, eb) {
			t.Errorf("%s: same seed gave different images", st)
		}
		c, _ := Generate(8, st, Options{})
		if ec, _, _ := c.Encode(); bytes.Equal(ea, ec) {
			t.Errorf("%s: different seeds gave the same image", st)
		}
	}
}

func TestTruthCoversGrid(t *testing.T) {
	var sawSpan, sawNeg, sawPct, sawDash, sawRowspan bool
	for seed := uint64(0); seed < 20; seed++ {
		for _, st := range Styles {
			s, err := Generate(seed, st, Options{Degrade: &Degrade{Scale: 1}})
			if err != nil {
				t.Fatal(err)
			}
			tr := s.Truth
			cover := make([]int, tr.NRows*tr.NCols)
			for _, c := range tr.Cells {
				for r := c.R; r < c.R+c.RowSpan; r++ {
					for k := c.C; k < c.C+c.ColSpan; k++ {
						cover[r*tr.NCols+k]++
					}
				}
				b := c.BBox
				if b[0] < 0 || b[1] < 0 || b[0]+b[2] > 1.0001 || b[1]+b[3] > 1.0001 || b[2] <= 0 || b[3] <= 0 {
					t.Fatalf("seed %d %s: bad bbox %v", seed, st, b)
				}
				sawSpan = sawSpan || c.ColSpan > 1
				sawRowspan = sawRowspan || c.RowSpan > 1
				sawDash = sawDash || c.Text == "—"
				if c.Value != nil && *c.Value.Num < 0 {
					sawNeg = true
				}
				if c.Value != nil && c.Value.Pct {
					sawPct = true
				}
			}
			for i, n := range cover {
				if n != 1 {
					t.Fatalf("seed %d %s: slot %d covered %d times", seed, st, i, n)
				}
			}
			if b := s.Image.Bounds(); b.Dx() < 100 || b.Dy() < 50 {
				t.Fatalf("image too small: %v", b)
			}
		}
	}
	if !sawSpan || !sawNeg || !sawPct || !sawDash || !sawRowspan {
		t.Errorf("content lacks variety: span %v rowspan %v neg %v pct %v dash %v", sawSpan, sawRowspan, sawNeg, sawPct, sawDash)
	}
}

func TestWriteSet(t *testing.T) {
	dir := t.TempDir()
	ss, err := WriteSet(dir, 42, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 6 {
		t.Fatalf("wrote %d samples, want 6", len(ss))
	}
	for _, s := range ss {
		matches, _ := filepath.Glob(filepath.Join(dir, s.Name+".*"))
		if len(matches) != 2 {
			t.Fatalf("%s: files %v", s.Name, matches)
		}
		for _, m := range matches {
			if filepath.Ext(m) == ".json" {
				continue
			}
			f, err := os.Open(m)
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := image.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			if img.Bounds().Dx() != s.Image.Bounds().Dx() {
				t.Errorf("%s: decoded width %d, want %d", m, img.Bounds().Dx(), s.Image.Bounds().Dx())
			}
		}
	}
}
