package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// The pipelined PNG decoder.
//
// image/png inflates, unfilters and converts each row in turn on one
// goroutine, and a 10 MP page spends less than half its decode time in
// inflate. Here one goroutine inflates batches of rows while the caller's
// goroutine unfilters them straight into the *image.NRGBA, so the two run
// on two cores. It handles the PNGs page renders are made of: 8-bit,
// non-interlaced, grey, grey+alpha, RGB, RGBA and palette (with tRNS). For
// anything else (16-bit, sub-byte depths, interlacing, tRNS on grey or RGB)
// and for every malformed file it reports !ok and Decode uses image/png, so
// errors and unusual formats behave exactly as the standard library's. The
// pixels it produces equal ToNRGBA of image/png's result (tested, and
// checked by FuzzDecodePNG).

const pngBatchBytes = 128 * 1024 // inflated bytes per hand-off between the two goroutines

type pngInfo struct {
	width, height int
	colorType     byte
	palette       [256][4]uint8
	idat          [][]byte
}

// parsePNGChunks walks the chunks of b. ok is false for anything the fast
// decoder does not handle, including every structural error.
func parsePNGChunks(b []byte) (pngInfo, bool) {
	var info pngInfo
	if !bytes.HasPrefix(b, pngSignature) {
		return info, false
	}
	pos := len(pngSignature)
	seenIHDR, seenPLTE, seenTRNS, seenIDAT, afterIDAT := false, false, false, false, false
	nPalette := 0
	for {
		if len(b)-pos < 12 {
			return info, false
		}
		n := binary.BigEndian.Uint32(b[pos:])
		if n > 0x7fffffff || int64(n) > int64(len(b)-pos-12) {
			return info, false
		}
		typ := string(b[pos+4 : pos+8])
		data := b[pos+8 : pos+8+int(n)]
		if crc32.ChecksumIEEE(b[pos+4:pos+8+int(n)]) != binary.BigEndian.Uint32(b[pos+8+int(n):]) {
			return info, false
		}
		pos += 12 + int(n)
		if !seenIHDR && typ != "IHDR" {
			return info, false
		}
		if seenIDAT && typ != "IDAT" {
			afterIDAT = true
		}
		switch typ {
		case "IHDR":
			if seenIHDR || n != 13 {
				return info, false
			}
			seenIHDR = true
			w, h := binary.BigEndian.Uint32(data[0:]), binary.BigEndian.Uint32(data[4:])
			if w == 0 || h == 0 || w > 0x7fffffff || h > 0x7fffffff || data[8] != 8 ||
				data[10] != 0 || data[11] != 0 || data[12] != 0 {
				return info, false
			}
			info.width, info.height, info.colorType = int(w), int(h), data[9]
			switch info.colorType {
			case 0, 2, 3, 4, 6:
			default:
				return info, false
			}
		case "PLTE":
			if seenPLTE || seenIDAT || n%3 != 0 || n == 0 || n > 256*3 {
				return info, false
			}
			if info.colorType != 3 && info.colorType != 2 && info.colorType != 6 {
				return info, false
			}
			seenPLTE = true
			nPalette = int(n / 3)
			for i := range info.palette {
				info.palette[i] = [4]uint8{0, 0, 0, 0xff} // image/png's fill for unset entries
			}
			for i := range nPalette {
				info.palette[i] = [4]uint8{data[3*i], data[3*i+1], data[3*i+2], 0xff}
			}
		case "tRNS":
			if info.colorType != 3 || !seenPLTE || seenTRNS || seenIDAT || int(n) > nPalette {
				return info, false
			}
			seenTRNS = true
			for i := range data {
				info.palette[i][3] = data[i]
			}
		case "IDAT":
			if afterIDAT {
				return info, false
			}
			if info.colorType == 3 && !seenPLTE {
				return info, false
			}
			seenIDAT = true
			info.idat = append(info.idat, data)
		case "IEND":
			return info, seenIDAT && n == 0
		}
	}
}

type pngBatch struct {
	buf  []byte
	rows int
	err  error
}

// decodePNGFast decodes b if parsePNGChunks accepts it. ok is false when b is
// not handled here or is corrupt; the caller then decodes with image/png.
func decodePNGFast(b []byte) (img *image.NRGBA, ok bool) {
	info, ok := parsePNGChunks(b)
	if !ok {
		return nil, false
	}
	bpp := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[info.colorType]
	width, height := info.width, info.height
	rowLen := 1 + width*bpp
	batchRows := max(1, pngBatchBytes/rowLen)

	readers := make([]io.Reader, len(info.idat))
	for i, d := range info.idat {
		readers[i] = bytes.NewReader(d)
	}
	zr, err := zlib.NewReader(io.MultiReader(readers...))
	if err != nil {
		return nil, false
	}
	defer zr.Close()

	// Three buffers circulate: one being inflated, one being unfiltered,
	// one spare to absorb jitter.
	free := make(chan []byte, 3)
	for range 3 {
		free <- make([]byte, batchRows*rowLen)
	}
	full := make(chan pngBatch, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		for y := 0; y < height; y += batchRows {
			rows := min(batchRows, height-y)
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			_, err := io.ReadFull(zr, buf[:rows*rowLen])
			if err == nil && y+rows == height {
				// All rows read: the stream must end here, which also
				// verifies its Adler-32.
				var one [1]byte
				if n, e := zr.Read(one[:]); n != 0 || e != io.EOF {
					err = errors.New("png: too much pixel data or bad checksum")
				}
			}
			select {
			case full <- pngBatch{buf: buf, rows: rows, err: err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	dst := image.NewNRGBA(image.Rect(0, 0, width, height))
	prev := make([]byte, width*bpp) // the previous unfiltered row (zeros above row 0)
	cur := make([]byte, width*bpp)
	y := 0
	for batch := range full {
		if batch.err != nil {
			return nil, false
		}
		for r := range batch.rows {
			raw := batch.buf[r*rowLen : (r+1)*rowLen]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*width]
			if info.colorType == 6 {
				// RGBA rows are NRGBA rows: unfilter straight into dst.
				if !unfilter(raw[0], out, raw[1:], prev, 4) {
					return nil, false
				}
				prev = out
			} else {
				if !unfilter(raw[0], cur, raw[1:], prev, bpp) {
					return nil, false
				}
				expandRow(out, cur, info.colorType, &info.palette)
				prev, cur = cur, prev
			}
			y++
		}
		free <- batch.buf
	}
	if y != height {
		return nil, false
	}
	return dst, true
}

// unfilter reverses PNG filter ft: dst = src + predictor(dst left, prev).
// dst may not alias src or prev. The Sub, Average and Paeth filters depend
// on the previous pixel, so they run pixel by pixel with the channels of
// 3- and 4-byte pixels unrolled, and Paeth picks its predictor without
// branches (conditional moves): on photos its choice is unpredictable.
func unfilter(ft byte, dst, src, prev []byte, bpp int) bool {
	n := len(src)
	dst, prev = dst[:n], prev[:n]
	switch ft {
	case 0:
		copy(dst, src)
	case 1:
		copy(dst[:bpp], src[:bpp])
		for i := bpp; i < n; i++ {
			dst[i] = src[i] + dst[i-bpp]
		}
	case 2:
		for i := range src {
			dst[i] = src[i] + prev[i]
		}
	case 3:
		for i := 0; i < bpp; i++ {
			dst[i] = src[i] + prev[i]/2
		}
		for i := bpp; i < n; i++ {
			dst[i] = src[i] + uint8((int(dst[i-bpp])+int(prev[i]))/2)
		}
	case 4:
		switch bpp {
		case 3:
			unfilterPaeth3(dst, src, prev)
		case 4:
			unfilterPaeth4(dst, src, prev)
		default:
			unfilterPaethN(dst, src, prev, bpp)
		}
	default:
		return false
	}
	return true
}

// paethPredict is the PNG Paeth predictor of a (left), b (up) and c
// (up-left), written so that the compiler emits conditional moves.
func paethPredict(a, b, c int) int {
	pa := b - c
	pb := a - c
	pc := pa + pb
	pa = (pa ^ (pa >> 63)) - (pa >> 63)
	pb = (pb ^ (pb >> 63)) - (pb >> 63)
	pc = (pc ^ (pc >> 63)) - (pc >> 63)
	p := a
	if pb < pa {
		p, pa = b, pb
	}
	if pc < pa {
		p = c
	}
	return p
}

func unfilterPaeth3(dst, src, prev []byte) {
	var a0, a1, a2, c0, c1, c2 int
	for i := 0; i+2 < len(src); i += 3 {
		s := src[i : i+3 : i+3]
		p := prev[i : i+3 : i+3]
		d := dst[i : i+3 : i+3]
		b0, b1, b2 := int(p[0]), int(p[1]), int(p[2])
		a0 = (paethPredict(a0, b0, c0) + int(s[0])) & 0xff
		a1 = (paethPredict(a1, b1, c1) + int(s[1])) & 0xff
		a2 = (paethPredict(a2, b2, c2) + int(s[2])) & 0xff
		d[0], d[1], d[2] = uint8(a0), uint8(a1), uint8(a2)
		c0, c1, c2 = b0, b1, b2
	}
}

func unfilterPaeth4(dst, src, prev []byte) {
	var a0, a1, a2, a3, c0, c1, c2, c3 int
	for i := 0; i+3 < len(src); i += 4 {
		s := src[i : i+4 : i+4]
		p := prev[i : i+4 : i+4]
		d := dst[i : i+4 : i+4]
		b0, b1, b2, b3 := int(p[0]), int(p[1]), int(p[2]), int(p[3])
		a0 = (paethPredict(a0, b0, c0) + int(s[0])) & 0xff
		a1 = (paethPredict(a1, b1, c1) + int(s[1])) & 0xff
		a2 = (paethPredict(a2, b2, c2) + int(s[2])) & 0xff
		a3 = (paethPredict(a3, b3, c3) + int(s[3])) & 0xff
		d[0], d[1], d[2], d[3] = uint8(a0), uint8(a1), uint8(a2), uint8(a3)
		c0, c1, c2, c3 = b0, b1, b2, b3
	}
}

func unfilterPaethN(dst, src, prev []byte, bpp int) {
	for k := 0; k < bpp; k++ {
		var a, c int
		for j := k; j < len(src); j += bpp {
			b := int(prev[j])
			a = (paethPredict(a, b, c) + int(src[j])) & 0xff
			dst[j] = uint8(a)
			c = b
		}
	}
}

// expandRow converts one unfiltered row of colour type ct to NRGBA.
func expandRow(out, row []byte, ct byte, pal *[256][4]uint8) {
	switch ct {
	case 0:
		for i, v := range row {
			o := out[4*i : 4*i+4 : 4*i+4]
			o[0], o[1], o[2], o[3] = v, v, v, 0xff
		}
	case 2:
		for i, j := 0, 0; j+2 < len(row); i, j = i+4, j+3 {
			o := out[i : i+4 : i+4]
			s := row[j : j+3 : j+3]
			o[0], o[1], o[2], o[3] = s[0], s[1], s[2], 0xff
		}
	case 3:
		for i, p := range row {
			copy(out[4*i:4*i+4], pal[p][:])
		}
	case 4:
		for i := 0; 2*i+1 < len(row); i++ {
			v, a := row[2*i], row[2*i+1]
			o := out[4*i : 4*i+4 : 4*i+4]
			o[0], o[1], o[2], o[3] = v, v, v, a
		}
	}
}
