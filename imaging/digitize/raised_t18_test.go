package digitize

// Issue 18: the "%"→"*" rule (fixRaisedSuffix) must hold on renderers it
// was not built against. The crops are real: Chromium renders of the dev
// slice of the independent corpus (testdata/digitize/independent/dev,
// seed 19; the frozen slice stays untouched), in DejaVu and Liberation
// fonts. Every cell whose truth ends in "%" (including the parenthesised
// negatives "(15,9)%", whose parentheses reach below the baseline) must
// keep its "%"; every cell whose truth ends in a footnote "*", offered to
// the rule as OCR's misreading "…%", must become "*".

import (
	"encoding/json"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRaisedSuffixOnRenderedCrops(t *testing.T) {
	// The dev slice (Chromium), and the committed corpus (the generator's
	// own footnotes, which the rule was first written for: it must keep
	// reading them).
	for _, dir := range []string{
		filepath.Join("..", "..", "testdata", "digitize", "independent", "dev", "tables"),
		filepath.Join("..", "..", "testdata", "digitize", "tables"),
	} {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) { raisedSuffixOnCorpus(t, dir) })
	}
}

func raisedSuffixOnCorpus(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dev tables in %s (%v)", dir, err)
	}
	var pcts, stars, pctKept, starFixed, parenPcts int
	for _, f := range files {
		var truth struct {
			Font  string `json:"font"`
			Table struct {
				Cells []struct {
					Text string     `json:"text"`
					BBox [4]float64 `json:"bbox"`
				} `json:"cells"`
			} `json:"table"`
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var p *page
		for _, c := range truth.Table.Cells {
			isPct, isStar := strings.HasSuffix(c.Text, "%"), strings.HasSuffix(c.Text, "*") && !strings.Contains(c.Text, "%")
			if !isPct && !isStar {
				continue
			}
			if p == nil {
				fh, err := os.Open(imgPath(f))
				if err != nil {
					t.Fatal(err)
				}
				img, _, err := image.Decode(fh)
				fh.Close()
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if p, err = analyze(img); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
			w, ok := inkBox(p, c.BBox)
			if !ok {
				t.Errorf("%s %q: no ink in the cell", filepath.Base(f), c.Text)
				continue
			}
			if isPct {
				pcts++
				if strings.HasPrefix(c.Text, "(") {
					parenPcts++
				}
				w.text = c.Text
				p.fixRaisedSuffix(&w)
				if w.text == c.Text {
					pctKept++
				} else {
					t.Errorf("%s (%s) %q: a %% on the baseline was rewritten to %q", filepath.Base(f), truth.Font, c.Text, w.text)
				}
				continue
			}
			stars++
			w.text = strings.TrimSuffix(c.Text, "*") + "%"
			p.fixRaisedSuffix(&w)
			if w.text == c.Text {
				starFixed++
			} else {
				t.Logf("%s (%s) %q: the raised * read as %% stays %q", filepath.Base(f), truth.Font, c.Text, w.text)
			}
		}
	}
	t.Logf("%% kept %d/%d (%d parenthesised); raised * misread as %% corrected %d/%d", pctKept, pcts, parenPcts, starFixed, stars)
	if pcts < 20 || stars < 20 {
		t.Fatalf("%s holds %d %% cells and %d footnote cells: too few to test the rule", dir, pcts, stars)
	}
	// The rule still does its job on most raised asterisks (a narrowed rule
	// may give up on a glyph that touches its digit: then "%" stays).
	if float64(starFixed) < 0.8*float64(stars) {
		t.Errorf("only %d of %d raised asterisks misread as %% were corrected", starFixed, stars)
	}
}

// inkBox is the tight box of the ink inside a cell's truth bbox (x, y,
// w, h as shares of the image), a few pixels in from the cell's edges so a
// grid's rulings stay out: the box OCR gives the cell's word.
func inkBox(p *page, bb [4]float64) (word, bool) {
	const margin = 3
	x0, y0 := int(bb[0]*float64(p.w))+margin, int(bb[1]*float64(p.h))+margin
	x1, y1 := int(math.Ceil((bb[0]+bb[2])*float64(p.w)))-margin, int(math.Ceil((bb[1]+bb[3])*float64(p.h)))-margin
	x1, y1 = min(x1, p.w-1), min(y1, p.h-1)
	bx0, by0, bx1, by1 := x1, y1, x0, y0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if p.gray.Pix[y*p.gray.Stride+x] <= p.softT {
				bx0, by0, bx1, by1 = min(bx0, x), min(by0, y), max(bx1, x), max(by1, y)
			}
		}
	}
	if bx1 < bx0 {
		return word{}, false
	}
	return word{x0: float64(bx0), y0: float64(by0), x1: float64(bx1 + 1), y1: float64(by1 + 1)}, true
}

// TestRaisedSuffixParenthesisedPercent: the frozen slice's one misfire was
// "(17,9)%" in Liberation Sans, whose parentheses reach below the baseline.
// testdata/digitize/raised/suffixes.png is a Chromium render (Debian
// chromium, headless) of suffixes.html: "(17,9)%", "62,1%", "(8.242)<sup>*</sup>"
// and "369<sup>*</sup>" at 11–16 px in Liberation Sans, Liberation Serif
// and DejaVu Sans; suffixes.json names each one's region. Re-render with
//
//	chromium --headless --no-sandbox --hide-scrollbars --window-size=420,570 \
//	  --screenshot=suffixes.png file://$PWD/suffixes.html
func TestRaisedSuffixParenthesisedPercent(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "digitize", "raised")
	raw, err := os.ReadFile(filepath.Join(dir, "suffixes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sheet struct {
		Cells []struct {
			Text string `json:"text"`
			Font string `json:"font"`
			Px   int    `json:"px"`
			Box  [4]int `json:"box"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(raw, &sheet); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(filepath.Join(dir, "suffixes.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	p, err := analyze(img)
	if err != nil {
		t.Fatal(err)
	}
	var pcts, stars int
	for _, c := range sheet.Cells {
		b := c.Box
		w, ok := inkBox(p, [4]float64{float64(b[0]) / float64(p.w), float64(b[1]) / float64(p.h),
			float64(b[2]-b[0]) / float64(p.w), float64(b[3]-b[1]) / float64(p.h)})
		if !ok {
			t.Fatalf("%q %s %dpx: no ink", c.Text, c.Font, c.Px)
		}
		w.text = strings.TrimSuffix(c.Text, "*")
		if strings.HasSuffix(c.Text, "*") {
			w.text += "%" // OCR's misreading of the raised asterisk
		}
		p.fixRaisedSuffix(&w)
		switch {
		case strings.HasSuffix(c.Text, "%"):
			pcts++
			if w.text != c.Text {
				t.Errorf("%q in %s at %d px: a %% on the baseline was rewritten to %q", c.Text, c.Font, c.Px, w.text)
			}
		case w.text != c.Text:
			t.Logf("%q in %s at %d px: the raised * read as %% stays %q", c.Text, c.Font, c.Px, w.text)
		default:
			stars++
		}
	}
	if pcts != 36 {
		t.Fatalf("the sheet holds %d %% cells, want 36", pcts)
	}
	t.Logf("%d %% cells kept, %d of 36 raised * corrected", pcts, stars)
	if stars < 29 { // 80%: the narrowed rule may give up on a few, never rewrite a %
		t.Errorf("only %d of 36 raised asterisks misread as %% were corrected", stars)
	}
}
func imgPath(f string) string {
	p := strings.TrimSuffix(f, ".json") + ".png"
	if _, err := os.Stat(p); err != nil {
		return strings.TrimSuffix(f, ".json") + ".jpg"
	}
	return p
}
