package chartgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	xdraw "golang.org/x/image/draw"
)

// Degrade is applied to a rendered chart before it is saved.
type Degrade struct {
	Scale float64 `json:"scale"`
	Blur  float64 `json:"blur"`         // Gaussian sigma in output pixels; 0 = none
	JPEG  int     `json:"jpeg_quality"` // 0 = lossless PNG
}

// Point, TruthSeries and Truth are the ground-truth JSON written beside each
// image. The series shape matches what the digitizer returns.
type Point struct {
	X     any     `json:"x"`
	Y     float64 `json:"y"`
	Color string  `json:"color,omitempty"` // pie slices (ShapeTruth)
}

type TruthSeries struct {
	Name   string  `json:"name"`
	Color  string  `json:"color"`
	Points []Point `json:"points"`
}

type Axis struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	Log bool    `json:"log"`
}

type Truth struct {
	ChartType   string        `json:"chart_type"`
	Unsupported bool          `json:"unsupported,omitempty"`
	Series      []TruthSeries `json:"series"`
	Axis        Axis          `json:"axis"`
	DataLabels  bool          `json:"data_labels"`
	Degrade     Degrade       `json:"degrade"`
	Width       int           `json:"width"`
	Height      int           `json:"height"`
	Seed        uint64        `json:"seed"`
	Stacked     bool          `json:"stacked,omitempty"` // ShapeTruth
	Index       int           `json:"index"`
}

// TruthOf returns the ground truth of s (before degradation).
func TruthOf(s Spec) Truth {
	t := Truth{ChartType: s.Kind, Axis: Axis{Min: s.Min, Max: s.Max, Log: s.Log}, DataLabels: s.DataLabels,
		Width: s.Width, Height: s.Height}
	if s.Kind == Pie || s.Kind == Scatter {
		t.Unsupported = true
	}
	for _, ser := range s.Series {
		ts := TruthSeries{Name: ser.Name, Color: HexOf(ser.Color)}
		if s.Legend == "none" {
			ts.Name = ""
		}
		for i, v := range ser.Values {
			var x any
			if s.Kind == Scatter {
				x = ser.XValues[i]
			} else {
				x = s.Categories[i]
			}
			ts.Points = append(ts.Points, Point{X: x, Y: v})
		}
		t.Series = append(t.Series, ts)
	}
	return t
}

// Apply scales, blurs and encodes img. It returns the encoded bytes and the
// file extension (".png" or ".jpg").
func Apply(img image.Image, d Degrade) ([]byte, string, error) {
	out := image.Image(img)
	if d.Scale > 0 && math.Abs(d.Scale-1) > 1e-6 {
		b := img.Bounds()
		w, h := int(math.Round(float64(b.Dx())*d.Scale)), int(math.Round(float64(b.Dy())*d.Scale))
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		out = dst
	}
	if d.Blur > 0 {
		out = gaussian(out, d.Blur)
	}
	var buf bytes.Buffer
	if d.JPEG > 0 {
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: d.JPEG}); err != nil {
			return nil, "", fmt.Errorf("chartgen: jpeg: %w", err)
		}
		return buf.Bytes(), ".jpg", nil
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, "", fmt.Errorf("chartgen: png: %w", err)
	}
	return buf.Bytes(), ".png", nil
}

// gaussian blurs img with a separable kernel of the given sigma.
func gaussian(img image.Image, sigma float64) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rad := int(math.Ceil(sigma * 2.5))
	k := make([]float64, 2*rad+1)
	sum := 0.0
	for i := range k {
		x := float64(i - rad)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	src := make([]float64, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := (y*w + x) * 3
			src[i], src[i+1], src[i+2] = float64(r>>8), float64(g>>8), float64(bb>>8)
		}
	}
	tmp := make([]float64, len(src))
	clamp := func(v, lo, hi int) int { return max(lo, min(hi, v)) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var acc [3]float64
			for j, kv := range k {
				xx := clamp(x+j-rad, 0, w-1)
				i := (y*w + xx) * 3
				acc[0] += kv * src[i]
				acc[1] += kv * src[i+1]
				acc[2] += kv * src[i+2]
			}
			i := (y*w + x) * 3
			tmp[i], tmp[i+1], tmp[i+2] = acc[0], acc[1], acc[2]
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var acc [3]float64
			for j, kv := range k {
				yy := clamp(y+j-rad, 0, h-1)
				i := (yy*w + x) * 3
				acc[0] += kv * tmp[i]
				acc[1] += kv * tmp[i+1]
				acc[2] += kv * tmp[i+2]
			}
			o := dst.PixOffset(x, y)
			dst.Pix[o] = uint8(math.Round(acc[0]))
			dst.Pix[o+1] = uint8(math.Round(acc[1]))
			dst.Pix[o+2] = uint8(math.Round(acc[2]))
			dst.Pix[o+3] = 255
		}
	}
	return dst
}

// Item is one chart of a corpus.
type Item struct {
	Name    string
	Spec    Spec
	Degrade Degrade
	Truth   Truth
}

// kindAt spreads the chart kinds over a corpus: mostly bars and lines, with a
// pie and a scatter chart for the unsupported path.
func kindAt(i int) string {
	switch i % 20 {
	case 7:
		return Pie
	case 17:
		return Scatter
	}
	return []string{BarVertical, BarHorizontal, Line}[i%3]
}

// RandomDegrade draws a degradation: scale 0.75–2×, JPEG quality 60–95 for
// most images, and a slight blur for some.
func RandomDegrade(rng *rand.Rand) Degrade {
	d := Degrade{Scale: math.Round((0.75+1.25*rng.Float64())*100) / 100}
	if rng.Float64() < 0.65 {
		d.JPEG = 60 + rng.IntN(36)
	}
	if rng.Float64() < 0.35 {
		d.Blur = math.Round((0.4+0.5*rng.Float64())*100) / 100
	}
	return d
}

// Corpus draws n charts from seed. The same seed always gives the same
// corpus.
func Corpus(seed uint64, n int) []Item {
	items := make([]Item, 0, n)
	for i := 0; i < n; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		kind := kindAt(i)
		s := Random(rng, kind)
		d := RandomDegrade(rng)
		if i == 0 {
			d = Degrade{Scale: 1}
		}
		t := TruthOf(s)
		t.Degrade, t.Seed, t.Index = d, seed, i
		t.Width = int(math.Round(float64(s.Width) * d.Scale))
		t.Height = int(math.Round(float64(s.Height) * d.Scale))
		items = append(items, Item{Name: fmt.Sprintf("chart_%03d_%s", i, kind), Spec: s, Degrade: d, Truth: t})
	}
	return items
}

// Write renders it into dir as <name>.png or <name>.jpg plus <name>.json.
func (it Item) Write(dir string) error {
	img, err := Render(it.Spec)
	if err != nil {
		return fmt.Errorf("render %s: %w", it.Name, err)
	}
	data, ext, err := Apply(img, it.Degrade)
	if err != nil {
		return fmt.Errorf("degrade %s: %w", it.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, it.Name+ext), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", it.Name, err)
	}
	js, err := json.MarshalIndent(it.Truth, "", "  ")
	if err != nil {
		return fmt.Errorf("truth %s: %w", it.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, it.Name+".json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", it.Name, err)
	}
	return nil
}
