package digitize

import "image"

// normalizeInverted finds dark filled areas (white text on a dark header
// band, common in presentation tables) and inverts them in place so that
// text is dark on light everywhere. A pixel belongs to such an area when at
// least 55% of the win x win box around it is darker than t; glyph strokes
// never reach that density, filled bands do, including the holes their
// light text leaves. It reports whether anything was inverted.
func normalizeInverted(g *image.Gray, t uint8, win int) bool {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if win < 5 || w < 2*win || h < 2*win {
		return false
	}
	// Integral image of the dark mask.
	sum := make([]int32, (w+1)*(h+1))
	any := false
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		var acc int32
		for x, v := range row {
			if v <= t {
				acc++
			}
			sum[(y+1)*(w+1)+x+1] = sum[y*(w+1)+x+1] + acc
		}
	}
	area := func(x, y, r int) (int32, int32) {
		x0, y0, x1, y1 := max(x-r, 0), max(y-r, 0), min(x+r+1, w), min(y+r+1, h)
		n := sum[y1*(w+1)+x1] - sum[y0*(w+1)+x1] - sum[y1*(w+1)+x0] + sum[y0*(w+1)+x0]
		return n, int32((x1 - x0) * (y1 - y0))
	}
	region := make([]bool, w*h)
	var darkSum, lightSum, darkN, lightN int
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// The larger box also catches the counters of light glyphs
			// ("0", "4"), whose small box is mostly text.
			n, a := area(x, y, win/2)
			if n*100 < a*55 {
				if n2, a2 := area(x, y, win); n2*100 < a2*62 {
					continue
				}
			}
			region[y*w+x] = true
			any = true
			if v := g.Pix[y*g.Stride+x]; v <= t {
				darkSum += int(v)
				darkN++
			} else {
				lightSum += int(v)
				lightN++
			}
		}
	}
	// Only a dark fill with light text is inverted; a mid-grey band with
	// black text is left alone.
	if !any || darkN < win*win*4 || lightN == 0 || darkSum/darkN > 110 || lightSum/lightN < 150 {
		return false
	}
	dark, light := darkSum/darkN, lightSum/lightN
	// Grow the area by two pixels onto fill-coloured pixels, so that the
	// anti-aliased rim of the band does not survive as a thin dark frame
	// that would read as ruling lines. Real rulings differ in colour from
	// the fill and stay.
	for pass := 0; pass < 2; pass++ {
		next := append([]bool(nil), region...)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if v := int(g.Pix[y*g.Stride+x]); region[y*w+x] || v > dark+25 || v < dark-25 {
					continue
				}
				if x > 0 && region[y*w+x-1] || x+1 < w && region[y*w+x+1] || y > 0 && region[(y-1)*w+x] || y+1 < h && region[(y+1)*w+x] {
					next[y*w+x] = true
				}
			}
		}
		region = next
	}
	// Map the fill colour to white and the text colour to black.
	var lut [256]uint8
	for v := range lut {
		f := 255 - 255*(v-dark)/(light-dark)
		lut[v] = uint8(min(max(f, 0), 255))
	}
	// The band's edge separated it visually; keep that as a thin dark
	// outline so that it still reads as a ruling.
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := range row {
			if !region[y*w+x] {
				continue
			}
			edge := x > 0 && !region[y*w+x-1] || x+1 < w && !region[y*w+x+1] || y > 0 && !region[(y-1)*w+x] || y+1 < h && !region[(y+1)*w+x]
			if edge {
				row[x] = 0
			} else {
				row[x] = lut[row[x]]
			}
		}
	}
	return true
}
