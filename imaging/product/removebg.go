package product

import (
	"fmt"
	"image"
)

// RemoveBackground makes the background of img transparent.
//
// The background colour is the per-channel median of the border pixels.
// Pixels within CIE76 ΔE deltaE of it (DefaultDeltaE when <= 0) that are
// 4-connected to the border are flood-filled as background; of what remains,
// the largest 8-connected component is the subject and everything else is
// dropped. On the subject's boundary the alpha is the estimated coverage
// (see edgeAlpha), then the whole alpha is feathered by a 3x3 binomial blur,
// so edges are soft over one to two pixels. Colour values are kept where
// alpha > 0 and zeroed where it is 0; an input alpha below 255 is multiplied
// in.
func RemoveBackground(img *image.NRGBA, deltaE float64) (*image.NRGBA, error) {
	if err := checkImage(img); err != nil {
		return nil, fmt.Errorf("remove background: %w", err)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	model := detectBackground(img, deltaE)
	f := &filler{st: classify(img, model), w: w, h: h}
	f.fillFromBorder(stBGLike, stBG)

	// Background-like pixels the fill did not reach are enclosed by the
	// subject (a white label on a bottle): they are part of it.
	st := f.st
	parallelRows(h, func(y0, y1 int) {
		for i := y0 * w; i < y1*w; i++ {
			if st[i] == stBGLike {
				st[i] = stFG
			}
		}
	})
	best, bestN := -1, 0
	f.components(stFG, stSeen, func(seed int, s fillStats) {
		if s.n > bestN {
			best, bestN = seed, s.n
		}
	})
	if best < 0 {
		return nil, fmt.Errorf("remove background: %w", ErrNoSubject)
	}
	f.fill(best%w, best/w, stSeen, stKeep, true)

	alpha := blurAlpha(edgeAlpha(img, st, model), w, h)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			sp := img.Pix[y*img.Stride : y*img.Stride+w*4]
			dp := out.Pix[y*out.Stride : y*out.Stride+w*4]
			ar := alpha[y*w : y*w+w]
			for x, a := range ar {
				if a == 0 {
					continue // already zero
				}
				s := sp[x*4 : x*4+4 : x*4+4]
				d := dp[x*4 : x*4+4 : x*4+4]
				if s[3] != 255 {
					a = uint8((uint32(a)*uint32(s[3]) + 127) / 255)
					if a == 0 {
						continue
					}
				}
				d[0], d[1], d[2], d[3] = s[0], s[1], s[2], a
			}
		}
	})
	return out, nil
}

// edgeAlpha turns the stKeep pixels of st into an alpha channel: 255 inside
// the subject, 0 outside, and on the one-pixel band either side of the
// boundary an estimate of the subject's coverage. The estimate projects the
// pixel onto the line from the background colour to the most distinct subject
// colour within two pixels (the usual known-foreground/known-background
// matting step), so an anti-aliased edge keeps its sub-pixel position instead
// of snapping outwards to the first pixel that crossed the ΔE threshold.
func edgeAlpha(img *image.NRGBA, st []uint8, model bgModel) []uint8 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	bin := make([]uint8, w*h) // 255 where kept
	parallelRows(h, func(y0, y1 int) {
		for i := y0 * w; i < y1*w; i++ {
			if st[i] == stKeep {
				bin[i] = 255
			}
		}
	})
	alpha := make([]uint8, w*h)
	copy(alpha, bin)
	if model.alphaOnly {
		return alpha
	}
	bgR, bgG, bgB := float32(model.color.R), float32(model.color.G), float32(model.color.B)
	estimate := func(x, y int, in bool) uint8 {
		best := float32(-1)
		var fr, fg, fb float32
		for yy := max(y-2, 0); yy <= min(y+2, h-1); yy++ {
			for xx := max(x-2, 0); xx <= min(x+2, w-1); xx++ {
				if bin[yy*w+xx] == 0 {
					continue
				}
				p := img.Pix[yy*img.Stride+xx*4:]
				dr, dg, db := float32(p[0])-bgR, float32(p[1])-bgG, float32(p[2])-bgB
				if d := dr*dr + dg*dg + db*db; d > best {
					best, fr, fg, fb = d, dr, dg, db
				}
			}
		}
		if best < 1 {
			if in {
				return 255
			}
			return 0
		}
		p := img.Pix[y*img.Stride+x*4:]
		a := ((float32(p[0])-bgR)*fr + (float32(p[1])-bgG)*fg + (float32(p[2])-bgB)*fb) / best
		return clamp8(a * 255)
	}
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := bin[y*w : y*w+w]
			up, down := row, row
			if y > 0 {
				up = bin[(y-1)*w : y*w]
			}
			if y < h-1 {
				down = bin[(y+1)*w : (y+2)*w]
			}
			out := alpha[y*w : y*w+w]
			for x, c := range row {
				if c == up[x] && c == down[x] && (x == 0 || c == row[x-1]) && (x == w-1 || c == row[x+1]) {
					continue
				}
				out[x] = estimate(x, y, c != 0)
			}
		}
	})
	return alpha
}

// blurAlpha feathers an alpha channel with a separable [1 2 1]/4 blur on
// each axis (a 3x3 binomial kernel, about one pixel).
func blurAlpha(a []uint8, w, h int) []uint8 {
	hs := make([]uint16, w*h) // horizontal sums, 0..1020
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			in := a[y*w : y*w+w]
			out := hs[y*w : y*w+w]
			if w == 1 {
				out[0] = 4 * uint16(in[0])
				continue
			}
			out[0] = 3*uint16(in[0]) + uint16(in[1])
			for x := 1; x < w-1; x++ {
				out[x] = uint16(in[x-1]) + 2*uint16(in[x]) + uint16(in[x+1])
			}
			out[w-1] = uint16(in[w-2]) + 3*uint16(in[w-1])
		}
	})
	alpha := make([]uint8, w*h)
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			up, mid, down := hs[max(y-1, 0)*w:][:w], hs[y*w:][:w], hs[min(y+1, h-1)*w:][:w]
			out := alpha[y*w : y*w+w]
			for x := range out {
				out[x] = uint8((uint32(up[x]) + 2*uint32(mid[x]) + uint32(down[x]) + 8) / 16)
			}
		}
	})
	return alpha
}
