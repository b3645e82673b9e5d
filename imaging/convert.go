package imaging

import (
	"image"
	"image/color"
	"runtime"
	"sync"
)

// ToNRGBA returns img as *image.NRGBA with the same bounds. An *image.NRGBA
// is returned as is; every other type is copied into a new image, with fast
// paths for the types the standard and x/image decoders produce (YCbCr,
// NYCbCrA, RGBA, Paletted, Gray, Gray16, NRGBA64) and color.NRGBAModel for
// the rest. Results equal color.NRGBAModel.Convert pixel by pixel, except
// for the non-premultiplied 16-bit and Y'CbCr-with-alpha types, where going
// through the model's premultiplied 16-bit values would lose precision:
// NRGBA64 keeps the high byte of each channel and NYCbCrA converts its
// Y'CbCr with color.YCbCrToRGB and keeps its alpha.
func ToNRGBA(img image.Image) *image.NRGBA {
	return toNRGBA(img, false)
}

// toNRGBA is ToNRGBA; when owned is true the caller gives up img, so an
// *image.RGBA may be converted in place and its pixel slice reused.
func toNRGBA(img image.Image, owned bool) *image.NRGBA {
	switch m := img.(type) {
	case *image.NRGBA:
		return m
	case *image.RGBA:
		return rgbaToNRGBA(m, owned)
	case *image.YCbCr:
		return ycbcrToNRGBA(m, nil, 0)
	case *image.NYCbCrA:
		return ycbcrToNRGBA(&m.YCbCr, m.A, m.AStride)
	case *image.Paletted:
		return palettedToNRGBA(m)
	case *image.Gray:
		return grayToNRGBA(m)
	case *image.Gray16:
		return gray16ToNRGBA(m)
	case *image.NRGBA64:
		return nrgba64ToNRGBA(m)
	}
	return genericToNRGBA(img)
}

// parallelRows runs fn over [y0,y1) bands of rows [0,h) on up to GOMAXPROCS
// goroutines. Small images run inline: a goroutine costs more than it saves.
func parallelRows(h, pixelsPerRow int, fn func(y0, y1 int)) {
	n := runtime.GOMAXPROCS(0)
	if n > h {
		n = h
	}
	if n <= 1 || h*pixelsPerRow < 1<<18 {
		fn(0, h)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		y0, y1 := h*i/n, h*(i+1)/n
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(y0, y1)
		}()
	}
	wg.Wait()
}

func rgbaToNRGBA(m *image.RGBA, owned bool) *image.NRGBA {
	b := m.Rect
	var dst *image.NRGBA
	if owned {
		// Opaque pixels are identical in both models: reuse the slice.
		dst = &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: b}
	} else {
		dst = image.NewNRGBA(b)
	}
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+4*w]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i := 0; i+3 < len(src); i += 4 {
				r, g, bl, a := src[i], src[i+1], src[i+2], src[i+3]
				switch a {
				case 0xff:
				case 0:
					r, g, bl = 0, 0, 0
				default:
					// Same arithmetic as color.NRGBAModel on 16-bit values.
					a16 := uint32(a) * 0x101
					r = uint8((uint32(r) * 0x101 * 0xffff / a16) >> 8)
					g = uint8((uint32(g) * 0x101 * 0xffff / a16) >> 8)
					bl = uint8((uint32(bl) * 0x101 * 0xffff / a16) >> 8)
				}
				out[i], out[i+1], out[i+2], out[i+3] = r, g, bl, a
			}
		}
	})
	return dst
}

// ycbcrToNRGBA converts m, with an optional alpha plane (NYCbCrA).
func ycbcrToNRGBA(m *image.YCbCr, alpha []uint8, aStride int) *image.NRGBA {
	b := m.Rect
	dst := image.NewNRGBA(b)
	var hs, vs uint // chroma shifts: x>>hs, y>>vs
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	}
	w := b.Dx()
	// Offsets follow image.YCbCr.COffset, which divides absolute coordinates.
	cx0 := b.Min.X >> hs
	cy0 := b.Min.Y >> vs
	parallelRows(b.Dy(), w, func(r0, r1 int) {
		for row := r0; row < r1; row++ {
			y := b.Min.Y + row
			yp := m.Y[row*m.YStride : row*m.YStride+w]
			crow := ((y >> vs) - cy0) * m.CStride
			out := dst.Pix[row*dst.Stride : row*dst.Stride+4*w]
			var ap []uint8
			if alpha != nil {
				ap = alpha[row*aStride : row*aStride+w]
			}
			for i := range yp {
				ci := crow + ((b.Min.X + i) >> hs) - cx0
				r, g, bl := color.YCbCrToRGB(yp[i], m.Cb[ci], m.Cr[ci])
				a := uint8(0xff)
				if ap != nil {
					a = ap[i]
				}
				o := out[4*i : 4*i+4 : 4*i+4]
				o[0], o[1], o[2], o[3] = r, g, bl, a
			}
		}
	})
	return dst
}

func palettedToNRGBA(m *image.Paletted) *image.NRGBA {
	var lut [256][4]uint8 // indices past the palette stay transparent black
	for i, c := range m.Palette {
		if i >= 256 {
			break
		}
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		lut[i] = [4]uint8{n.R, n.G, n.B, n.A}
	}
	b := m.Rect
	dst := image.NewNRGBA(b)
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+w]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i, p := range src {
				copy(out[4*i:4*i+4], lut[p][:])
			}
		}
	})
	return dst
}

func grayToNRGBA(m *image.Gray) *image.NRGBA {
	b := m.Rect
	dst := image.NewNRGBA(b)
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+w]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i, v := range src {
				o := out[4*i : 4*i+4 : 4*i+4]
				o[0], o[1], o[2], o[3] = v, v, v, 0xff
			}
		}
	})
	return dst
}

func gray16ToNRGBA(m *image.Gray16) *image.NRGBA {
	b := m.Rect
	dst := image.NewNRGBA(b)
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+2*w]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i := 0; i < w; i++ {
				v := src[2*i] // high byte, as color.NRGBAModel does (>>8)
				o := out[4*i : 4*i+4 : 4*i+4]
				o[0], o[1], o[2], o[3] = v, v, v, 0xff
			}
		}
	})
	return dst
}

func nrgba64ToNRGBA(m *image.NRGBA64) *image.NRGBA {
	b := m.Rect
	dst := image.NewNRGBA(b)
	w := b.Dx()
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+8*w]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i := 0; i < w; i++ {
				s := src[8*i : 8*i+8 : 8*i+8]
				o := out[4*i : 4*i+4 : 4*i+4]
				o[0], o[1], o[2], o[3] = s[0], s[2], s[4], s[6]
			}
		}
	})
	return dst
}

func genericToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA))
		}
	}
	return dst
}
