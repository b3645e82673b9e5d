package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// The strip-parallel PNG encoder.
//
// A PNG's pixel data is one zlib stream. We cut the rows into strips of a
// fixed size (a function of the image width only, so output never depends on
// the number of CPUs), filter and deflate each strip on its own goroutine
// with a fresh compressor, and end every strip but the last with a sync
// flush, which leaves the stream byte-aligned after a non-final block. The
// raw deflate outputs then concatenate into one valid deflate stream, and
// the zlib Adler-32 is combined from the strips' checksums. Each strip
// becomes one IDAT chunk. Decoders see an ordinary PNG; the only cost is
// that the deflate window restarts at each strip boundary.

const (
	// fastPNGMinPixels is the size from which the parallel encoder pays off.
	fastPNGMinPixels = 64 * 1024
	// stripBytes is the target amount of raw (filtered) data per strip.
	stripBytes = 256 * 1024
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngFlateLevel is the zlib level of the strips. klauspost/compress level 1
// is its fastest Huffman+LZ77 encoder, the counterpart of zlib BestSpeed.
const pngFlateLevel = flate.BestSpeed

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, pngFlateLevel) // a valid level cannot fail
	return w
}}

type stripResult struct {
	chunk  []byte // a complete IDAT chunk: length, type, data, CRC
	adler  uint32
	rawLen int64
	done   chan struct{}
}

type stripScratch struct {
	raw []byte // the strip's filtered rows, each with its filter byte
	out bytes.Buffer
}

var stripScratchPool = sync.Pool{New: func() any { return new(stripScratch) }}

func encodePNGFast(w io.Writer, m *image.NRGBA) error {
	b := m.Rect
	width, height := b.Dx(), b.Dy()
	opaque := nrgbaOpaque(m)
	bpp := 4
	colorType := byte(6) // truecolour with alpha
	if opaque {
		bpp, colorType = 3, 2
	}
	rowBytes := width * bpp
	rowsPerStrip := stripBytes / (rowBytes + 1)
	if rowsPerStrip < 1 {
		rowsPerStrip = 1
	}
	nStrips := (height + rowsPerStrip - 1) / rowsPerStrip

	results := make([]stripResult, nStrips)
	for i := range results {
		results[i].done = make(chan struct{})
	}
	var next atomic.Int64
	workers := runtime.GOMAXPROCS(0)
	if workers > nStrips {
		workers = nStrips
	}
	for range workers {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= nStrips {
					return
				}
				y0 := i * rowsPerStrip
				y1 := min(y0+rowsPerStrip, height)
				encodeStrip(m, bpp, y0, y1, i == nStrips-1, &results[i])
				close(results[i].done)
			}
		}()
	}

	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:4], uint32(width))
	binary.BigEndian.PutUint32(hdr[4:8], uint32(height))
	hdr[8] = 8 // bit depth
	hdr[9] = colorType
	// compression, filter and interlace methods are all 0.
	if _, err := w.Write(pngSignature); err != nil {
		drain(results)
		return err
	}
	if err := writeChunk(w, "IHDR", hdr[:]); err != nil {
		drain(results)
		return err
	}
	// zlib header: deflate, 32K window, FLEVEL 0 (fastest); 0x7801 % 31 == 0.
	if err := writeChunk(w, "IDAT", []byte{0x78, 0x01}); err != nil {
		drain(results)
		return err
	}
	var adler uint32 = 1
	for i := range results {
		r := &results[i]
		<-r.done
		adler = adler32Combine(adler, r.adler, r.rawLen)
		_, err := w.Write(r.chunk)
		r.chunk = nil
		if err != nil {
			drain(results[i+1:])
			return err
		}
	}
	var trailer [4]byte
	binary.BigEndian.PutUint32(trailer[:], adler)
	if err := writeChunk(w, "IDAT", trailer[:]); err != nil {
		return err
	}
	return writeChunk(w, "IEND", nil)
}

// drain waits for outstanding strips so no goroutine outlives the call.
func drain(rs []stripResult) {
	for i := range rs {
		<-rs[i].done
	}
}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var buf [8]byte
	binary.BigEndian.PutUint32(buf[:4], uint32(len(data)))
	copy(buf[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(buf[4:8])
	crc.Write(data)
	if _, err := w.Write(buf[:]); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(buf[:4], crc.Sum32())
	_, err := w.Write(buf[:4])
	return err
}

// encodeStrip filters rows [y0,y1) of m and deflates them into r.chunk.
//
// Every row uses the Sub filter (each byte minus the same channel of the
// pixel to its left). On page renders it compresses within a few percent of
// the usual adaptive choice among all five filters, which costs several
// times more CPU than the deflate itself at this level; and it needs no
// previous row, so strips stay independent.
func encodeStrip(m *image.NRGBA, bpp, y0, y1 int, last bool, r *stripResult) {
	s := stripScratchPool.Get().(*stripScratch)
	defer stripScratchPool.Put(s)
	width := m.Rect.Dx()
	rowLen := 1 + width*bpp
	s.raw = grow(s.raw, (y1-y0)*rowLen)
	for y := y0; y < y1; y++ {
		row := s.raw[(y-y0)*rowLen : (y-y0+1)*rowLen]
		row[0] = 1 // Sub
		src := m.Pix[y*m.Stride : y*m.Stride+4*width]
		if bpp == 3 {
			subRowRGB(row[1:], src)
		} else {
			subRowRGBA(row[1:], src)
		}
	}

	s.out.Reset()
	s.out.Write([]byte{0, 0, 0, 0, 'I', 'D', 'A', 'T'})
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(&s.out)
	fw.Write(s.raw) // writes to a bytes.Buffer cannot fail
	if last {
		fw.Close()
	} else {
		fw.Flush()
	}
	flateWriters.Put(fw)

	chunk := make([]byte, s.out.Len()+4)
	copy(chunk, s.out.Bytes())
	binary.BigEndian.PutUint32(chunk[0:4], uint32(len(chunk)-12))
	binary.BigEndian.PutUint32(chunk[len(chunk)-4:], crc32.ChecksumIEEE(chunk[4:len(chunk)-4]))
	r.chunk, r.adler, r.rawLen = chunk, adler32.Checksum(s.raw), int64(len(s.raw))
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// subRowRGB writes the Sub-filtered RGB bytes of an NRGBA row to dst.
func subRowRGB(dst, src []byte) {
	var pr, pg, pb byte
	for i, j := 0, 0; i+3 < len(src) && j+2 < len(dst); i, j = i+4, j+3 {
		s := src[i : i+3 : i+3]
		d := dst[j : j+3 : j+3]
		r, g, b := s[0], s[1], s[2]
		d[0], d[1], d[2] = r-pr, g-pg, b-pb
		pr, pg, pb = r, g, b
	}
}

// subRowRGBA writes the Sub-filtered bytes of an NRGBA row to dst.
func subRowRGBA(dst, src []byte) {
	copy(dst[:4], src[:4])
	for i := 4; i < len(src) && i < len(dst); i++ {
		dst[i] = src[i] - src[i-4]
	}
}

// nrgbaOpaque reports whether every pixel of m has alpha 255.
func nrgbaOpaque(m *image.NRGBA) bool {
	width := m.Rect.Dx()
	var transparent atomic.Bool
	parallelRows(m.Rect.Dy(), width, func(y0, y1 int) {
		for y := y0; y < y1 && !transparent.Load(); y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*width]
			for i := 3; i < len(row); i += 4 {
				if row[i] != 0xff {
					transparent.Store(true)
					return
				}
			}
		}
	})
	return !transparent.Load()
}

// adler32Combine returns the Adler-32 of A||B from adler(A), adler(B) and
// len(B), as zlib's adler32_combine does.
func adler32Combine(a1, a2 uint32, len2 int64) uint32 {
	const base = 65521
	rem := uint64(len2 % base)
	sum1 := uint64(a1 & 0xffff)
	sum2 := (rem * sum1) % base
	sum1 += uint64(a2&0xffff) + base - 1
	sum2 += uint64(a1>>16) + uint64(a2>>16) + base - rem
	if sum1 >= base {
		sum1 -= base
	}
	if sum1 >= base {
		sum1 -= base
	}
	if sum2 >= base<<1 {
		sum2 -= base << 1
	}
	if sum2 >= base {
		sum2 -= base
	}
	return uint32(sum1 | sum2<<16)
}
