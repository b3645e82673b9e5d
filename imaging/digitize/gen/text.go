package gen

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// TextKind is a kind of generated text image.
type TextKind string

// The text kinds of issue 17: a row of KPI cards (small label, large bold
// value, small delta line) and a slide title with a subtitle.
const (
	KPICards   TextKind = "kpi"
	SlideTitle TextKind = "title"
)

// TextSample is one generated text image and the lines it shows, in
// reading order (card by card, top to bottom).
type TextSample struct {
	Name  string      `json:"name"`
	Seed  uint64      `json:"seed"`
	Kind  TextKind    `json:"kind"`
	Font  string      `json:"font"`
	Scan  *Scan       `json:"scan,omitempty"`
	Lines []string    `json:"lines"`
	Image image.Image `json:"-"`
}

var kpiLabels = []string{"Revenue", "Gross margin", "Active users", "Net retention", "ARR", "Churn", "Bookings",
	"EBITDA", "Period", "Avg. order value", "Customers", "Pipeline", "Operating margin", "Free cash flow", "Backlog"}

// money returns a currency amount such as "$53.1M", "€234.63" or "£8,412".
func money(rng *rand.Rand) string {
	cur := []string{"$", "$", "€", "£"}[rng.IntN(4)]
	switch rng.IntN(3) {
	case 0:
		return cur + fmt.Sprintf("%.1f", 1+rng.Float64()*98) + []string{"M", "B", "K"}[rng.IntN(3)]
	case 1:
		return cur + fmt.Sprintf("%.2f", 10+rng.Float64()*900)
	default:
		return cur + formatThousands(1000+rng.Float64()*90000, 0)
	}
}

func percent(rng *rand.Rand, signed bool) string {
	v := rng.Float64() * 40
	s := fmt.Sprintf("%.1f%%", v)
	if signed {
		if rng.IntN(3) == 0 {
			return "-" + s
		}
		return "+" + s
	}
	return s
}

func period(rng *rand.Rand) string {
	q, y := 1+rng.IntN(4), 19+rng.IntN(9)
	switch rng.IntN(4) {
	case 0:
		return fmt.Sprintf("Q%d FY%d", q, y)
	case 1:
		return fmt.Sprintf("Q%d %d", q, 2000+y)
	case 2:
		return fmt.Sprintf("H%d FY%d", 1+rng.IntN(2), y)
	default:
		return fmt.Sprintf("FY%d", y)
	}
}

func kpiValue(rng *rand.Rand, label string) string {
	switch label {
	case "Gross margin", "Net retention", "Churn", "Operating margin":
		return percent(rng, false)
	case "Period":
		return period(rng)
	case "Active users", "Customers":
		return formatThousands(100+rng.Float64()*90000, 0)
	}
	return money(rng)
}

var titleTemplates = []string{
	"%[1]s revenue grew %[2]s to %[3]s",
	"%[3]s in bookings for %[1]s",
	"Margin reached %[2]s in %[1]s",
	"%[1]s results: %[3]s, up %[2]s",
}

var subtitleTemplates = []string{
	"Compared with %[1]s: %[2]s and %[3]s",
	"EMEA %[3]s, Americas %[2]s of total",
	"Guidance for %[1]s raised to %[3]s",
}

// GenerateText renders one text image of kind from seed with a font from
// fams (default GoFamilies), then degrades it with RandomScan when scan is
// true.
func GenerateText(seed uint64, kind TextKind, fams []Family, scan bool) (*TextSample, error) {
	if len(fams) == 0 {
		fams = GoFamilies
	}
	rng := rand.New(rand.NewPCG(seed, uint64(len(kind))+100))
	fam := fams[rng.IntN(len(fams))]
	regF, err := parseFont(fam.Regular)
	if err != nil {
		return nil, err
	}
	boldF, err := parseFont(fam.Bold)
	if err != nil {
		return nil, err
	}
	face := func(f *opentype.Font, size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	type item struct {
		text   string
		face   font.Face
		x, y   int // baseline origin
		colour color.Color
	}
	var items []item
	var lines []string
	var img *image.RGBA
	grey := color.RGBA{0x60, 0x66, 0x70, 255}
	accents := []color.RGBA{{0x11, 0x22, 0x44, 255}, {0x0b, 0x4f, 0x8a, 255}, {0x1b, 0x5e, 0x20, 255}, {0x22, 0x22, 0x22, 255}}
	switch kind {
	case KPICards:
		n := 2 + rng.IntN(3)
		labelSize := 13 + rng.Float64()*5
		valueSize := 34 + rng.Float64()*26
		lab, err := face(regF, labelSize)
		if err != nil {
			return nil, err
		}
		val, err := face(boldF, valueSize)
		if err != nil {
			return nil, err
		}
		perm := rng.Perm(len(kpiLabels))
		cardW := int(valueSize*5.2) + 40
		cardH := int(labelSize*4.2 + valueSize*1.5)
		gap := 16 + rng.IntN(20)
		margin := 20 + rng.IntN(20)
		W := 2*margin + n*cardW + (n-1)*gap
		H := 2*margin + cardH
		img = image.NewRGBA(image.Rect(0, 0, W, H))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		fillCol := []color.RGBA{{0xF3, 0xF5, 0xF8, 255}, {0xFF, 0xFF, 0xFF, 255}, {0xEE, 0xF4, 0xEC, 255}}[rng.IntN(3)]
		border := rng.IntN(2) == 0
		accent := accents[rng.IntN(len(accents))]
		for i := 0; i < n; i++ {
			x0, y0 := margin+i*(cardW+gap), margin
			draw.Draw(img, image.Rect(x0, y0, x0+cardW, y0+cardH), image.NewUniform(fillCol), image.Point{}, draw.Src)
			if border {
				bc := image.NewUniform(color.RGBA{0xC8, 0xCC, 0xD2, 255})
				draw.Draw(img, image.Rect(x0, y0, x0+cardW, y0+1), bc, image.Point{}, draw.Src)
				draw.Draw(img, image.Rect(x0, y0+cardH-1, x0+cardW, y0+cardH), bc, image.Point{}, draw.Src)
				draw.Draw(img, image.Rect(x0, y0, x0+1, y0+cardH), bc, image.Point{}, draw.Src)
				draw.Draw(img, image.Rect(x0+cardW-1, y0, x0+cardW, y0+cardH), bc, image.Point{}, draw.Src)
			}
			label := kpiLabels[perm[i]]
			value := kpiValue(rng, label)
			delta := percent(rng, true) + " vs " + period(rng)
			pad := 16
			ly := y0 + pad + int(labelSize)
			vy := ly + int(valueSize*1.25)
			dy := vy + int(labelSize*1.7)
			items = append(items, item{label, lab, x0 + pad, ly, grey}, item{value, val, x0 + pad, vy, accent},
				item{delta, lab, x0 + pad, dy, grey})
			lines = append(lines, label, value, delta)
		}
	case SlideTitle:
		titleSize := 30 + rng.Float64()*18
		subSize := 15 + rng.Float64()*5
		tf, err := face(boldF, titleSize)
		if err != nil {
			return nil, err
		}
		sf, err := face(regF, subSize)
		if err != nil {
			return nil, err
		}
		title := fmt.Sprintf(titleTemplates[rng.IntN(len(titleTemplates))], period(rng), percent(rng, false), money(rng))
		sub := fmt.Sprintf(subtitleTemplates[rng.IntN(len(subtitleTemplates))], period(rng), percent(rng, false), money(rng))
		margin := 30 + rng.IntN(30)
		W := 2*margin + max(font.MeasureString(tf, title).Ceil(), font.MeasureString(sf, sub).Ceil()) + rng.IntN(80)
		ty := margin + int(titleSize)
		sy := ty + int(subSize*2.2)
		H := sy + margin
		img = image.NewRGBA(image.Rect(0, 0, W, H))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		items = append(items, item{title, tf, margin, ty, accents[rng.IntN(len(accents))]}, item{sub, sf, margin, sy, grey})
		lines = append(lines, title, sub)
	default:
		return nil, fmt.Errorf("gen: unknown text kind %q", kind)
	}
	for _, it := range items {
		d := &font.Drawer{Dst: img, Src: image.NewUniform(it.colour), Face: it.face, Dot: fixed.P(it.x, it.y)}
		d.DrawString(it.text)
	}
	ts := &TextSample{Seed: seed, Kind: kind, Font: fam.Name, Lines: lines, Image: img}
	if scan {
		sc := RandomScan(rand.New(rand.NewPCG(seed, 0x17)))
		// Display text is rarely photographed at an angle beyond a degree
		// or two either; the same ranges as tables.
		ts.Image, _ = sc.Apply(img, seed)
		ts.Scan = &sc
	}
	return ts, nil
}

// WriteTextSet writes n samples of each text kind from seed (scanned look
// when scan is true) into dir as <name>.png|.jpg and <name>.json.
func WriteTextSet(dir string, seed uint64, n int, fams []Family, scan bool) ([]*TextSample, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	var out []*TextSample
	for _, kind := range []TextKind{KPICards, SlideTitle} {
		for i := 0; i < n; i++ {
			ts, err := GenerateText(seed+uint64(i), kind, fams, scan)
			if err != nil {
				return nil, err
			}
			ts.Name = fmt.Sprintf("text-%s-%03d", kind, i)
			s := &Sample{Image: ts.Image}
			if ts.Scan != nil {
				s.Degrade.JPEGQuality = ts.Scan.JPEGQuality
			}
			data, ext, err := s.Encode()
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, ts.Name+ext), data, 0o644); err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			js, err := json.Marshal(ts)
			if err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, ts.Name+".json"), append(js, '\n'), 0o644); err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			out = append(out, ts)
		}
	}
	return out, nil
}
