package chartgen

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestCorpusDeterministicAndValid(t *testing.T) {
	a := Corpus(5, 12)
	b := Corpus(5, 12)
	dir := t.TempDir()
	kinds := map[string]int{}
	written := 0
	for i := range a {
		ja, _ := json.Marshal(a[i].Truth)
		jb, _ := json.Marshal(b[i].Truth)
		if string(ja) != string(jb) {
			t.Fatalf("item %d differs between runs", i)
		}
		kinds[a[i].Spec.Kind]++
		d := a[i].Degrade
		if d.Scale < 0.75 || d.Scale > 2 || (d.JPEG != 0 && (d.JPEG < 60 || d.JPEG > 95)) {
			t.Errorf("item %d degrade %+v out of range", i, d)
		}
		tr := a[i].Truth
		for _, s := range tr.Series {
			for _, p := range s.Points {
				if !tr.Unsupported && (p.Y < tr.Axis.Min || p.Y > tr.Axis.Max || math.IsNaN(p.Y)) {
					t.Errorf("item %d value %v outside axis %v", i, p.Y, tr.Axis)
				}
			}
		}
		if (raceEnabled || testing.Short()) && i%4 != 0 {
			continue
		}
		if err := a[i].Write(dir); err != nil {
			t.Fatal(err)
		}
		written++
	}
	for _, k := range []string{BarVertical, BarHorizontal, Line, Pie} {
		if kinds[k] == 0 {
			t.Errorf("no %s chart in corpus", k)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != written {
		t.Fatalf("%d json files, want %d", len(files), written)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tr Truth
		if err := json.Unmarshal(data, &tr); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	items := Corpus(1, 6)
	for b.Loop() {
		for _, it := range items {
			img, err := Render(it.Spec)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := Apply(img, it.Degrade); err != nil {
				b.Fatal(err)
			}
		}
	}
}
