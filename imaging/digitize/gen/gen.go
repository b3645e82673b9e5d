package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/canvasd/canvasd/imaging/digitize"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Style is a table drawing style.
type Style string

// The three table styles.
const (
	Grid       Style = "grid"       // every cell boxed; spans drawn without inner lines
	Rules      Style = "rules"      // horizontal rules only (top, under headers, above totals, bottom)
	Borderless Style = "borderless" // no lines; optional zebra shading
)

// Styles lists every style in a stable order.
var Styles = []Style{Grid, Rules, Borderless}

// Degrade describes the degradations applied after rendering.
type Degrade struct {
	Scale       float64 `json:"scale"`        // resample factor, 1 = none
	Blur        float64 `json:"blur"`         // Gaussian sigma in pixels, 0 = none
	JPEGQuality int     `json:"jpeg_quality"` // 0 = PNG
}

// Sample is one generated table image with its ground truth.
type Sample struct {
	Name  string `json:"name"`
	Seed  uint64 `json:"seed"`
	Style Style  `json:"style"`
	Font  string `json:"font"`
	// DarkHeader marks a dark header band with white text.
	DarkHeader bool    `json:"dark_header"`
	Degrade    Degrade `json:"degrade"`
	// Scan is set on scanned-look samples (GenerateScanned).
	Scan  *Scan          `json:"scan,omitempty"`
	Truth digitize.Table `json:"table"`
	Image image.Image    `json:"-"`
}

// Family is a font family the generator can draw with.
type Family struct {
	Name          string
	Regular, Bold []byte
}

// GoFamilies are the Go fonts embedded in golang.org/x/image; always
// available, so tests that render tables need no system fonts.
var GoFamilies = []Family{
	{Name: "go", Regular: goregular.TTF, Bold: gobold.TTF},
	{Name: "go-medium", Regular: gomedium.TTF, Bold: gobold.TTF},
}

// systemFonts are common document fonts in Debian packages
// (fonts-liberation, fonts-dejavu-core). Liberation Sans and Serif are
// metric-compatible with Arial and Times New Roman, the usual faces of
// financial reports.
var systemFonts = []struct{ name, regular, bold string }{
	{"liberation-sans", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"},
	{"liberation-serif", "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf", "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"},
	{"dejavu-sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
}

// SystemFamilies returns the system font families that are installed.
func SystemFamilies() []Family {
	var out []Family
	for _, f := range systemFonts {
		r, err1 := os.ReadFile(f.regular)
		b, err2 := os.ReadFile(f.bold)
		if err1 == nil && err2 == nil {
			out = append(out, Family{Name: f.name, Regular: r, Bold: b})
		}
	}
	return out
}

var (
	parsedMu sync.Mutex
	parsed   = map[*byte]*opentype.Font{}
)

func parseFont(ttf []byte) (*opentype.Font, error) {
	parsedMu.Lock()
	defer parsedMu.Unlock()
	if f, ok := parsed[&ttf[0]]; ok {
		return f, nil
	}
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("gen: parse font: %w", err)
	}
	parsed[&ttf[0]] = f
	return f, nil
}

// Options control Generate. The zero value draws with GoFamilies and random
// degradations.
type Options struct {
	// Degrade, when set, replaces the random degradation.
	Degrade *Degrade
	// Families to pick from (by the seed); default GoFamilies.
	Families []Family
	// DarkHeader forces a dark header band with white text (otherwise
	// 15% of tables get one).
	DarkHeader bool
}

var labels = []string{
	"Revenue", "Net sales", "Cost of revenue", "Gross profit", "Research and development",
	"Sales and marketing", "General and administrative", "Operating income", "Interest expense",
	"Other income, net", "Income before taxes", "Income tax expense", "Net income", "Depreciation",
	"Amortization", "EBITDA", "Capital expenditures", "Free cash flow", "Total assets",
	"Total liabilities", "Cash and equivalents", "Accounts receivable", "Inventories",
	"Long-term debt", "Shareholders' equity", "Restructuring charges", "Stock-based compensation",
	"Working capital", "Deferred revenue", "Goodwill", "Dividends paid", "Share repurchases",
	"Segment A", "Segment B", "North America", "Europe", "Asia Pacific", "Subscription", "Services",
}

var pctLabels = []string{"Gross margin", "Operating margin", "Growth", "EBITDA margin", "Effective tax rate", "Return on equity"}

var totalLabels = []string{"Total revenue", "Total operating expenses", "Net income", "Total", "Total assets", "Free cash flow"}

var sectionLabels = []string{"Operating expenses:", "Balance sheet data:", "Cash flow data:", "By region:"}

type cellSpec struct {
	r, c, rs, cs int
	text         string
	bold         bool
	align        int // -1 left, 0 centre, 1 right
}

// content is a generated table before layout.
type content struct {
	nrows, ncols, header int
	cells                []cellSpec
	totalRows            map[int]bool
	groupRules           [][2]int // column ranges underlined under group headers (rules style)
}

func genContent(rng *rand.Rand, style Style) content {
	k := 2 + rng.IntN(4) // numeric columns
	ct := content{ncols: k + 1, totalRows: map[int]bool{}}
	two := rng.Float64() < 0.55
	ct.header = 1
	if two {
		ct.header = 2
	}
	year := 2016 + rng.IntN(8)
	yearFmt := []string{"%d", "%d", "FY%d", "FY %d", "Dec %d"}[rng.IntN(5)]
	quarter := rng.Float64() < 0.15
	corner := []string{"($ in millions)", "(in thousands)", "Metric", "", "USD m"}[rng.IntN(5)]
	hr := ct.header - 1
	if two {
		// Group headers spanning numeric columns.
		if k >= 4 && rng.Float64() < 0.5 {
			split := 2 + rng.IntN(k-3)
			ct.cells = append(ct.cells,
				cellSpec{r: 0, c: 1, rs: 1, cs: split, text: "Actual", bold: true},
				cellSpec{r: 0, c: 1 + split, rs: 1, cs: k - split, text: []string{"Projected", "Forecast", "Estimate"}[rng.IntN(3)], bold: true})
			ct.groupRules = append(ct.groupRules, [2]int{1, 1 + split}, [2]int{1 + split, 1 + k})
		} else {
			txt := []string{"Year ended December 31,", "Fiscal year", "Twelve months ended", "Years ended June 30,"}[rng.IntN(4)]
			ct.cells = append(ct.cells, cellSpec{r: 0, c: 1, rs: 1, cs: k, text: txt, bold: true})
			ct.groupRules = append(ct.groupRules, [2]int{1, 1 + k})
		}
		if style == Grid {
			ct.cells = append(ct.cells, cellSpec{r: 0, c: 0, rs: 2, cs: 1, text: corner, bold: true, align: -1})
		} else {
			ct.cells = append(ct.cells,
				cellSpec{r: 0, c: 0, rs: 1, cs: 1, text: ""},
				cellSpec{r: 1, c: 0, rs: 1, cs: 1, text: corner, bold: true, align: -1})
		}
	} else {
		ct.cells = append(ct.cells, cellSpec{r: 0, c: 0, rs: 1, cs: 1, text: corner, bold: true, align: -1})
	}
	for j := 0; j < k; j++ {
		var t string
		if quarter {
			t = fmt.Sprintf("Q%d %d", j%4+1, year+j/4)
		} else {
			t = fmt.Sprintf(yearFmt, year+j)
		}
		ct.cells = append(ct.cells, cellSpec{r: hr, c: 1 + j, rs: 1, cs: 1, text: t, bold: true})
	}
	// Body.
	n := 5 + rng.IntN(8)
	decimals := 0
	if rng.Float64() < 0.4 {
		decimals = 1
	}
	mag := math.Pow(10, 2+rng.Float64()*3)
	perm := rng.Perm(len(labels))
	section := -1
	if rng.Float64() < 0.3 {
		section = 1 + rng.IntN(n-2)
	}
	r := ct.header
	for i := 0; i < n; i++ {
		if i == section {
			ct.cells = append(ct.cells, cellSpec{r: r, c: 0, rs: 1, cs: 1, text: sectionLabels[rng.IntN(len(sectionLabels))], align: -1, bold: true})
			for j := 0; j < k; j++ {
				ct.cells = append(ct.cells, cellSpec{r: r, c: 1 + j, rs: 1, cs: 1, text: "", align: 1})
			}
			r++
		}
		kind := "num"
		label := labels[perm[i%len(perm)]]
		switch {
		case i == n-1 && rng.Float64() < 0.7:
			kind = "total"
			label = totalLabels[rng.IntN(len(totalLabels))]
		case rng.Float64() < 0.15:
			kind = "pct"
			label = pctLabels[rng.IntN(len(pctLabels))]
		}
		cur := ""
		if (i == 0 || kind == "total") && rng.Float64() < 0.5 {
			cur = []string{"$", "$", "€", "£"}[rng.IntN(4)]
		}
		ct.cells = append(ct.cells, cellSpec{r: r, c: 0, rs: 1, cs: 1, text: label, align: -1, bold: kind == "total"})
		for j := 0; j < k; j++ {
			ct.cells = append(ct.cells, cellSpec{r: r, c: 1 + j, rs: 1, cs: 1, text: numberText(rng, kind, cur, mag, decimals), align: 1, bold: kind == "total"})
		}
		if kind == "total" {
			ct.totalRows[r] = true
		}
		r++
	}
	ct.nrows = r
	return ct
}

func numberText(rng *rand.Rand, kind, cur string, mag float64, decimals int) string {
	p := rng.Float64()
	if p < 0.06 {
		return "—"
	}
	neg := p < 0.2
	var s string
	if kind == "pct" {
		v := rng.Float64() * 60
		s = formatThousands(v, 1) + "%"
	} else {
		v := mag * (0.05 + rng.Float64()*1.5)
		if kind == "total" {
			v *= 2.5
		}
		s = cur + formatThousands(v, decimals)
	}
	if neg {
		s = "(" + s + ")"
	}
	if rng.Float64() < 0.03 {
		s += "*"
	}
	return s
}

func formatThousands(v float64, decimals int) string {
	s := fmt.Sprintf("%.*f", decimals, v)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, ch := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// Generate renders one sample from seed in the given style. Content, font
// and degradation all follow from the seed (and the families offered).
func Generate(seed uint64, style Style, opt Options) (*Sample, error) {
	fams := opt.Families
	if len(fams) == 0 {
		fams = GoFamilies
	}
	rng := rand.New(rand.NewPCG(seed, uint64(len(style))))
	ct := genContent(rng, style)
	size := 13 + rng.Float64()*4
	fam := fams[rng.IntN(len(fams))]
	regFont, err := parseFont(fam.Regular)
	if err != nil {
		return nil, err
	}
	boldFont, err := parseFont(fam.Bold)
	if err != nil {
		return nil, err
	}
	reg, err := opentype.NewFace(regFont, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("gen: face: %w", err)
	}
	bold, err := opentype.NewFace(boldFont, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("gen: face: %w", err)
	}
	faceOf := func(c cellSpec) font.Face {
		if c.bold {
			return bold
		}
		return reg
	}
	pad := int(size * (0.6 + rng.Float64()*0.5))
	if style == Borderless {
		pad = int(size * (0.8 + rng.Float64()*0.5))
	}
	rowH := int(size * (1.7 + rng.Float64()*0.5))
	// Column widths from unspanned cells, then widen for spans.
	colW := make([]int, ct.ncols)
	for _, c := range ct.cells {
		if c.cs == 1 {
			w := font.MeasureString(faceOf(c), c.text).Ceil() + 2*pad
			colW[c.c] = max(colW[c.c], w)
		}
	}
	for j := range colW {
		colW[j] = max(colW[j], int(size*3))
	}
	for _, c := range ct.cells {
		if c.cs > 1 {
			w := font.MeasureString(faceOf(c), c.text).Ceil() + 2*pad
			have := 0
			for j := c.c; j < c.c+c.cs; j++ {
				have += colW[j]
			}
			if have < w {
				extra := (w - have + c.cs - 1) / c.cs
				for j := c.c; j < c.c+c.cs; j++ {
					colW[j] += extra
				}
			}
		}
	}
	marginX, marginY := 6+rng.IntN(24), 6+rng.IntN(20)
	xs := []int{marginX}
	for _, w := range colW {
		xs = append(xs, xs[len(xs)-1]+w)
	}
	ys := []int{marginY}
	for i := 0; i < ct.nrows; i++ {
		ys = append(ys, ys[len(ys)-1]+rowH)
	}
	W, H := xs[len(xs)-1]+marginX, ys[len(ys)-1]+marginY
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	inkV := uint8(rng.IntN(0x40))
	ink := color.RGBA{inkV, inkV, inkV, 255}
	lineCol := color.RGBA{0, 0, 0, 255}
	if rng.Float64() < 0.4 {
		g := uint8(0x40 + rng.IntN(0x50))
		lineCol = color.RGBA{g, g, g, 255}
	}
	fill := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	// Backgrounds first.
	if style == Borderless && rng.Float64() < 0.4 {
		shade := color.RGBA{0xEE, 0xEE, 0xEE, 255}
		if rng.Float64() < 0.5 {
			shade = color.RGBA{0xE8, 0xF0, 0xF8, 255}
		}
		for i := ct.header; i < ct.nrows; i += 2 {
			fill(xs[0], ys[i], xs[len(xs)-1], ys[i+1], shade)
		}
	}
	// Header band: a light tint, or (presentation style) a dark fill with
	// white text and white rulings.
	dark := opt.DarkHeader || rng.Float64() < 0.15
	switch {
	case dark:
		c := []color.RGBA{{0x1F, 0x38, 0x64, 255}, {0x33, 0x33, 0x33, 255}, {0x00, 0x4B, 0x87, 255}}[rng.IntN(3)]
		fill(xs[0], ys[0], xs[len(xs)-1]+1, ys[ct.header]+1, c)
	case style != Grid && rng.Float64() < 0.25:
		fill(xs[0], ys[0], xs[len(xs)-1], ys[ct.header], color.RGBA{0xDD, 0xE4, 0xEE, 255})
	}
	headerLine := func(i int) color.Color {
		if dark && i < ct.header {
			return color.White
		}
		return lineCol
	}
	thin := 1
	switch style {
	case Grid:
		thick := 1 + rng.IntN(2)
		covered := make([][]int, ct.nrows)
		for i := range covered {
			covered[i] = make([]int, ct.ncols)
			for j := range covered[i] {
				covered[i][j] = -1
			}
		}
		for idx, c := range ct.cells {
			for i := c.r; i < c.r+c.rs; i++ {
				for j := c.c; j < c.c+c.cs; j++ {
					covered[i][j] = idx
				}
			}
		}
		// Horizontal segments between rows i-1 and i where owners differ.
		for i := 0; i <= ct.nrows; i++ {
			for j := 0; j < ct.ncols; j++ {
				if i > 0 && i < ct.nrows && covered[i-1][j] == covered[i][j] {
					continue
				}
				t := thin
				if i == 0 || i == ct.nrows {
					t = thick
				}
				col := lineCol
				if dark && i > 0 && i < ct.header {
					col = color.RGBA{255, 255, 255, 255}
				}
				fill(xs[j], ys[i], xs[j+1]+t, ys[i]+t, col)
			}
		}
		for j := 0; j <= ct.ncols; j++ {
			for i := 0; i < ct.nrows; i++ {
				if j > 0 && j < ct.ncols && covered[i][j-1] == covered[i][j] {
					continue
				}
				t := thin
				if j == 0 || j == ct.ncols {
					t = thick
				}
				fill(xs[j], ys[i], xs[j]+t, ys[i+1]+t, headerLine(i))
			}
		}
	case Rules:
		x0, x1 := xs[0], xs[len(xs)-1]
		fill(x0, ys[0], x1, ys[0]+2, lineCol)
		fill(x0, ys[ct.header], x1, ys[ct.header]+1, lineCol)
		fill(x0, ys[ct.nrows]-2, x1, ys[ct.nrows], lineCol)
		if ct.header == 2 {
			for _, g := range ct.groupRules {
				fill(xs[g[0]]+pad/2, ys[1]-1, xs[g[1]]-pad/2, ys[1], lineCol)
			}
		}
		for r := range ct.totalRows {
			fill(xs[1]+pad/2, ys[r], x1, ys[r]+1, lineCol)
		}
	}
	// Text.
	truth := digitize.Table{NRows: ct.nrows, NCols: ct.ncols, HeaderRows: ct.header}
	for _, c := range ct.cells {
		f := faceOf(c)
		x0, x1 := xs[c.c], xs[c.c+c.cs]
		y0, y1 := ys[c.r], ys[c.r+c.rs]
		w := font.MeasureString(f, c.text).Ceil()
		m := f.Metrics()
		var tx int
		switch c.align {
		case -1:
			tx = x0 + pad
		case 1:
			tx = x1 - pad - w
		default:
			tx = (x0 + x1 - w) / 2
		}
		base := (y0+y1)/2 + (m.Ascent.Ceil()-m.Descent.Ceil())/2
		src := image.NewUniform(ink)
		if dark && c.r < ct.header {
			src = image.White
		}
		d := &font.Drawer{Dst: img, Src: src, Face: f, Dot: fixed.P(tx, base)}
		d.DrawString(c.text)
		truth.Cells = append(truth.Cells, digitize.Cell{
			R: c.r, C: c.c, RowSpan: c.rs, ColSpan: c.cs, Text: c.text,
			BBox: [4]float64{float64(x0) / float64(W), float64(y0) / float64(H), float64(x1-x0) / float64(W), float64(y1-y0) / float64(H)},
			Conf: 1, Value: digitize.ParseValue(c.text),
		})
	}
	sortCells(truth.Cells)
	// Degradation.
	var d Degrade
	if opt.Degrade != nil {
		d = *opt.Degrade
	} else {
		d = randomDegrade(rng)
	}
	var out image.Image = img
	if d.Scale != 0 && d.Scale != 1 {
		out = resize(img, d.Scale)
	}
	if d.Blur > 0 {
		out = gaussianBlur(out, d.Blur)
	}
	return &Sample{Seed: seed, Style: style, Font: fam.Name, DarkHeader: dark, Degrade: d, Truth: truth, Image: out}, nil
}

func randomDegrade(rng *rand.Rand) Degrade {
	var d Degrade
	d.Scale = 1
	if rng.Float64() < 0.7 {
		d.Scale = math.Round((0.75+rng.Float64()*1.25)*100) / 100
	}
	if rng.Float64() < 0.3 {
		d.Blur = math.Round((0.4+rng.Float64()*0.5)*100) / 100
	}
	if rng.Float64() < 0.5 {
		d.JPEGQuality = 60 + rng.IntN(36)
	}
	return d
}

func sortCells(cs []digitize.Cell) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].R < cs[j-1].R || cs[j].R == cs[j-1].R && cs[j].C < cs[j-1].C); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func resize(src image.Image, s float64) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, int(math.Round(float64(b.Dx())*s)), int(math.Round(float64(b.Dy())*s))))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

// gaussianBlur applies a separable Gaussian blur with the given sigma.
func gaussianBlur(src image.Image, sigma float64) image.Image {
	b := src.Bounds()
	in := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(in, in.Bounds(), src, b.Min, draw.Src)
	r := int(math.Ceil(sigma * 3))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := -r; i <= r; i++ {
		k[i+r] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
		sum += k[i+r]
	}
	for i := range k {
		k[i] /= sum
	}
	W, H := in.Rect.Dx(), in.Rect.Dy()
	tmp := image.NewRGBA(in.Rect)
	pass := func(dst, srcImg *image.RGBA, dx, dy int) {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				var acc [3]float64
				for i := -r; i <= r; i++ {
					xx := min(max(x+i*dx, 0), W-1)
					yy := min(max(y+i*dy, 0), H-1)
					o := srcImg.PixOffset(xx, yy)
					for c := 0; c < 3; c++ {
						acc[c] += k[i+r] * float64(srcImg.Pix[o+c])
					}
				}
				o := dst.PixOffset(x, y)
				for c := 0; c < 3; c++ {
					dst.Pix[o+c] = uint8(math.Round(acc[c]))
				}
				dst.Pix[o+3] = 255
			}
		}
	}
	pass(tmp, in, 1, 0)
	out := image.NewRGBA(in.Rect)
	pass(out, tmp, 0, 1)
	return out
}

// Encode returns the sample image bytes: JPEG at the degradation's quality,
// or PNG when the quality is 0. It also returns the file extension.
func (s *Sample) Encode() ([]byte, string, error) {
	var buf bytes.Buffer
	if s.Degrade.JPEGQuality > 0 {
		if err := jpeg.Encode(&buf, s.Image, &jpeg.Options{Quality: s.Degrade.JPEGQuality}); err != nil {
			return nil, "", fmt.Errorf("gen: jpeg: %w", err)
		}
		return buf.Bytes(), ".jpg", nil
	}
	gray := toGrayIfNeutral(s.Image)
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, gray); err != nil {
		return nil, "", fmt.Errorf("gen: png: %w", err)
	}
	return buf.Bytes(), ".png", nil
}

// toGrayIfNeutral keeps colour when any pixel is noticeably coloured, and
// otherwise stores grey to keep committed testdata small.
func toGrayIfNeutral(img image.Image) image.Image {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if absDiff(r, g) > 0x800 || absDiff(g, bb) > 0x800 {
				return img
			}
		}
	}
	// Sixteen grey levels: visually the same anti-aliased text, and PNG
	// stores it at 4 bits per pixel.
	pal := make(color.Palette, 16)
	for i := range pal {
		v := uint8(i * 17)
		pal[i] = color.Gray{Y: v}
	}
	g := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g.Pix[y*g.Stride+x] = uint8((r>>8 + 8) / 17)
		}
	}
	return g
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// WriteSet generates perStyle samples of every style starting at seed, with
// fonts from fams (default GoFamilies), and
// writes <name>.png|.jpg plus <name>.json (the Sample without its image) into
// dir. It returns the samples written.
func WriteSet(dir string, seed uint64, perStyle int, fams []Family) ([]*Sample, error) {
	return writeSet(dir, seed, perStyle, func(sd uint64, st Style) (*Sample, error) {
		return Generate(sd, st, Options{Families: fams})
	})
}

// WriteScannedSet is WriteSet with GenerateScanned: tables that look
// scanned or photographed (issue 17).
func WriteScannedSet(dir string, seed uint64, perStyle int, fams []Family) ([]*Sample, error) {
	return writeSet(dir, seed, perStyle, func(sd uint64, st Style) (*Sample, error) {
		return GenerateScanned(sd, st, fams)
	})
}

func writeSet(dir string, seed uint64, perStyle int, generate func(uint64, Style) (*Sample, error)) ([]*Sample, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	var out []*Sample
	for _, st := range Styles {
		for i := 0; i < perStyle; i++ {
			sd := seed + uint64(i)
			s, err := generate(sd, st)
			if err != nil {
				return nil, err
			}
			s.Name = fmt.Sprintf("%s-%03d", st, i)
			data, ext, err := s.Encode()
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, s.Name+ext), data, 0o644); err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			js, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.Name+".json"), append(js, '\n'), 0o644); err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}
