package imaging

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
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

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.BestSpeed) // BestSpeed is a valid level
	return w
}}

type stripResult struct {
	chunk  []byte // a complete IDAT chunk: length, type, data, CRC
	adler  uint32
	rawLen int64
	done   chan struct{}
}

type stripScratch struct {
	cur, prev []byte // packed rows (no filter byte)
	cand      [5][]byte
	out       bytes.Buffer
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
func encodeStrip(m *image.NRGBA, bpp, y0, y1 int, last bool, r *stripResult) {
	s := stripScratchPool.Get().(*stripScratch)
	defer stripScratchPool.Put(s)
	width := m.Rect.Dx()
	n := width * bpp
	s.cur = grow(s.cur, n)
	s.prev = grow(s.prev, n)
	for i := range s.cand {
		s.cand[i] = grow(s.cand[i], n+1)
	}
	if y0 > 0 {
		packRow(s.prev, m, y0-1, bpp)
	} else {
		clear(s.prev)
	}

	s.out.Reset()
	s.out.Write([]byte{0, 0, 0, 0, 'I', 'D', 'A', 'T'})
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(&s.out)
	ad := adler32.New()
	var rawLen int64
	for y := y0; y < y1; y++ {
		packRow(s.cur, m, y, bpp)
		row := filterRow(s.cur, s.prev, bpp, &s.cand)
		fw.Write(row) // writes to a bytes.Buffer cannot fail
		ad.Write(row)
		rawLen += int64(len(row))
		s.cur, s.prev = s.prev, s.cur
	}
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
	r.chunk, r.adler, r.rawLen = chunk, ad.Sum32(), rawLen
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// packRow copies row y (relative to m.Rect.Min.Y) of m into dst as RGB or RGBA.
func packRow(dst []byte, m *image.NRGBA, y, bpp int) {
	width := m.Rect.Dx()
	off := y * m.Stride
	src := m.Pix[off : off+4*width]
	if bpp == 4 {
		copy(dst, src)
		return
	}
	dst = dst[:3*width]
	for i, j := 0, 0; i+3 < len(src); i, j = i+4, j+3 {
		d := dst[j : j+3 : j+3]
		d[0], d[1], d[2] = src[i], src[i+1], src[i+2]
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

// filterRow picks a PNG filter for cur (given the previous row prev) by the
// usual minimum-sum-of-absolute-differences heuristic and returns the
// filter byte followed by the filtered row, in one of cand's buffers.
func filterRow(cur, prev []byte, bpp int, cand *[5][]byte) []byte {
	n := len(cur)
	// Up.
	up := cand[2][:n+1]
	up[0] = 2
	sumUp := 0
	{
		d, c, p := up[1:n+1], cur[:n], prev[:n]
		for i := range d {
			v := c[i] - p[i]
			d[i] = v
			sumUp += absInt8(v)
		}
	}
	best, bestSum := up, sumUp
	if bestSum == 0 {
		return best
	}
	// Sub.
	sub := cand[1][:n+1]
	sub[0] = 1
	sum := 0
	{
		d := sub[1 : n+1]
		copy(d[:bpp], cur[:bpp])
		for i := 0; i < bpp; i++ {
			sum += absInt8(cur[i])
		}
		c := cur[:n]
		for i := bpp; i < n; i++ {
			v := c[i] - c[i-bpp]
			d[i] = v
			sum += absInt8(v)
		}
	}
	if sum < bestSum {
		best, bestSum = sub, sum
		if bestSum == 0 {
			return best
		}
	}
	// Paeth.
	pa := cand[4][:n+1]
	pa[0] = 4
	sum = 0
	{
		d, c, p := pa[1:n+1], cur[:n], prev[:n]
		for i := 0; i < bpp; i++ {
			v := c[i] - p[i]
			d[i] = v
			sum += absInt8(v)
		}
		for i := bpp; i < n && sum < bestSum; i++ {
			v := c[i] - paeth(c[i-bpp], p[i], p[i-bpp])
			d[i] = v
			sum += absInt8(v)
		}
	}
	if sum < bestSum {
		best = pa
	}
	return best
}

func absInt8(v byte) int {
	if v < 128 {
		return int(v)
	}
	return 256 - int(v)
}

// paeth is the PNG Paeth predictor of a (left), b (up) and c (up-left).
func paeth(a, b, c byte) byte {
	pc := int(c)
	pa := int(b) - pc
	pb := int(a) - pc
	pcc := pa + pb
	if pa < 0 {
		pa = -pa
	}
	if pb < 0 {
		pb = -pb
	}
	if pcc < 0 {
		pcc = -pcc
	}
	if pa <= pb && pa <= pcc {
		return a
	}
	if pb <= pcc {
		return b
	}
	return c
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
