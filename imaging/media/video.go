package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Video containers ProbeVideo recognises.
const (
	ContainerMP4       = "mp4"
	ContainerQuickTime = "mov"
	ContainerWebM      = "webm"
	ContainerMatroska  = "matroska"
)

// ErrNotVideo: the bytes are not a container ProbeVideo reads.
var ErrNotVideo = errors.New("media: not an MP4, QuickTime, WebM or Matroska file")

// ErrBadVideo: the container is recognised but broken, truncated, or needs
// more than the parse bounds to read.
var ErrBadVideo = errors.New("media: unreadable video container")

// maxElements bounds the boxes (MP4) or elements (EBML) one probe visits,
// and maxDepth how deep it descends: a file of millions of empty boxes
// costs at most this many small reads.
const (
	maxElements = 20000
	maxDepth    = 8
)

// VideoInfo is what the container header says.
type VideoInfo struct {
	Container string
	// Duration is zero when the container does not say (a live WebM, a
	// fragmented MP4 without mehd).
	Duration time.Duration
	// Width and Height are the first video track's presentation size in
	// pixels; zero when the file has no video track.
	Width, Height int
}

// ProbeVideo reads the container header of the size bytes behind r.
func ProbeVideo(r io.ReaderAt, size int64) (VideoInfo, error) {
	var head [12]byte
	n, _ := r.ReadAt(head[:], 0)
	switch {
	case n >= 4 && binary.BigEndian.Uint32(head[:4]) == idEBML:
		return probeEBML(r, size)
	case n >= 8 && isMP4Box(string(head[4:8])):
		return probeMP4(r, size)
	}
	return VideoInfo{}, ErrNotVideo
}

// ---------------------------------------------------------------- MP4

// isMP4Box: the first box of an ISO BMFF or QuickTime file.
func isMP4Box(t string) bool {
	switch t {
	case "ftyp", "moov", "mdat", "wide", "free", "skip", "pnot":
		return true
	}
	return false
}

type mp4 struct {
	r        io.ReaderAt
	visited  int
	info     VideoInfo
	mvhd     bool
	fragDur  uint64 // mehd fragment_duration, in the movie timescale
	scale    uint32
	trackW   float64
	trackH   float64
	isVideo  bool
	haveSize bool
}

func probeMP4(r io.ReaderAt, size int64) (VideoInfo, error) {
	m := &mp4{r: r}
	m.info.Container = ContainerMP4
	if err := m.walk(0, size, 0); err != nil {
		return VideoInfo{}, err
	}
	if !m.mvhd {
		return VideoInfo{}, fmt.Errorf("%w: no moov/mvhd box", ErrBadVideo)
	}
	if m.info.Duration == 0 && m.fragDur > 0 && m.scale > 0 {
		m.info.Duration = ticks(m.fragDur, uint64(m.scale))
	}
	return m.info, nil
}

func ticks(n, perSecond uint64) time.Duration {
	s := float64(n) / float64(perSecond)
	if s > float64(math.MaxInt64)/float64(time.Second) {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// walk visits the boxes in [off, end), descending into the containers that
// hold what is read. Media data (mdat) is skipped by offset, never read.
func (m *mp4) walk(off, end int64, depth int) error {
	for off+8 <= end {
		if m.visited++; m.visited > maxElements {
			return fmt.Errorf("%w: more than %d boxes", ErrBadVideo, maxElements)
		}
		var h [16]byte
		if _, err := m.r.ReadAt(h[:8], off); err != nil {
			return fmt.Errorf("%w: box header at %d: %v", ErrBadVideo, off, err)
		}
		size := int64(binary.BigEndian.Uint32(h[:4]))
		typ := string(h[4:8])
		hdr := int64(8)
		switch size {
		case 0: // to the end of the enclosing box
			size = end - off
		case 1: // 64-bit size follows
			if _, err := m.r.ReadAt(h[8:16], off+8); err != nil {
				return fmt.Errorf("%w: large box size at %d: %v", ErrBadVideo, off, err)
			}
			u := binary.BigEndian.Uint64(h[8:16])
			if u > math.MaxInt64 {
				return fmt.Errorf("%w: box %q size %d", ErrBadVideo, typ, u)
			}
			size, hdr = int64(u), 16
		}
		if size < hdr || size > end-off {
			return fmt.Errorf("%w: box %q at %d has size %d, %d bytes left", ErrBadVideo, typ, off, size, end-off)
		}
		body, bodyEnd := off+hdr, off+size
		switch typ {
		case "ftyp":
			if err := m.ftyp(body, bodyEnd); err != nil {
				return err
			}
		case "moov", "mdia", "mvex":
			if depth < maxDepth {
				if err := m.walk(body, bodyEnd, depth+1); err != nil {
					return err
				}
			}
		case "trak":
			if depth < maxDepth {
				m.trackW, m.trackH, m.isVideo, m.haveSize = 0, 0, false, false
				if err := m.walk(body, bodyEnd, depth+1); err != nil {
					return err
				}
				if m.isVideo && m.haveSize && m.info.Width == 0 {
					m.info.Width, m.info.Height = int(math.Round(m.trackW)), int(math.Round(m.trackH))
				}
			}
		case "mvhd":
			if err := m.mvhdBox(body, bodyEnd); err != nil {
				return err
			}
		case "mehd":
			if err := m.mehdBox(body, bodyEnd); err != nil {
				return err
			}
		case "tkhd":
			if err := m.tkhdBox(body, bodyEnd); err != nil {
				return err
			}
		case "hdlr":
			// version/flags(4) pre_defined(4) handler_type(4)
			var b [12]byte
			if bodyEnd-body >= 12 {
				if _, err := m.r.ReadAt(b[:], body); err != nil {
					return fmt.Errorf("%w: hdlr: %v", ErrBadVideo, err)
				}
				if string(b[8:12]) == "vide" {
					m.isVideo = true
				}
			}
		}
		off = bodyEnd
	}
	return nil
}

func (m *mp4) ftyp(body, end int64) error {
	if end-body < 4 {
		return fmt.Errorf("%w: short ftyp", ErrBadVideo)
	}
	var b [4]byte
	if _, err := m.r.ReadAt(b[:], body); err != nil {
		return fmt.Errorf("%w: ftyp: %v", ErrBadVideo, err)
	}
	if string(b[:]) == "qt  " {
		m.info.Container = ContainerQuickTime
	}
	return nil
}

// mvhdBox reads the movie timescale and duration: version 0 has 32-bit
// times, version 1 64-bit.
func (m *mp4) mvhdBox(body, end int64) error {
	var b [32]byte
	n := min(int64(len(b)), end-body)
	if n < 20 {
		return fmt.Errorf("%w: short mvhd", ErrBadVideo)
	}
	if _, err := m.r.ReadAt(b[:n], body); err != nil {
		return fmt.Errorf("%w: mvhd: %v", ErrBadVideo, err)
	}
	var scale uint32
	var dur uint64
	switch b[0] {
	case 0: // version, flags(3), creation(4), modification(4), timescale(4), duration(4)
		scale, dur = binary.BigEndian.Uint32(b[12:16]), uint64(binary.BigEndian.Uint32(b[16:20]))
		if dur == math.MaxUint32 {
			dur = 0 // "unknown"
		}
	case 1: // version, flags(3), creation(8), modification(8), timescale(4), duration(8)
		if n < 32 {
			return fmt.Errorf("%w: short mvhd v1", ErrBadVideo)
		}
		scale, dur = binary.BigEndian.Uint32(b[20:24]), binary.BigEndian.Uint64(b[24:32])
		if dur == math.MaxUint64 {
			dur = 0
		}
	default:
		return fmt.Errorf("%w: mvhd version %d", ErrBadVideo, b[0])
	}
	if scale == 0 {
		return fmt.Errorf("%w: mvhd timescale 0", ErrBadVideo)
	}
	m.mvhd, m.scale = true, scale
	m.info.Duration = ticks(dur, uint64(scale))
	return nil
}

func (m *mp4) mehdBox(body, end int64) error {
	var b [12]byte
	n := min(int64(len(b)), end-body)
	if n < 8 {
		return fmt.Errorf("%w: short mehd", ErrBadVideo)
	}
	if _, err := m.r.ReadAt(b[:n], body); err != nil {
		return fmt.Errorf("%w: mehd: %v", ErrBadVideo, err)
	}
	if b[0] == 1 && n == 12 {
		m.fragDur = binary.BigEndian.Uint64(b[4:12])
	} else {
		m.fragDur = uint64(binary.BigEndian.Uint32(b[4:8]))
	}
	return nil
}

// tkhdBox reads the track's width and height, 16.16 fixed point, the last
// 8 bytes of the box (84 bytes in version 0, 96 in version 1).
func (m *mp4) tkhdBox(body, end int64) error {
	var v [1]byte
	if end-body < 1 {
		return fmt.Errorf("%w: empty tkhd", ErrBadVideo)
	}
	if _, err := m.r.ReadAt(v[:], body); err != nil {
		return fmt.Errorf("%w: tkhd: %v", ErrBadVideo, err)
	}
	at := int64(76)
	if v[0] == 1 {
		at = 88
	}
	if end-body < at+8 {
		return fmt.Errorf("%w: short tkhd", ErrBadVideo)
	}
	var b [8]byte
	if _, err := m.r.ReadAt(b[:], body+at); err != nil {
		return fmt.Errorf("%w: tkhd: %v", ErrBadVideo, err)
	}
	m.trackW = float64(binary.BigEndian.Uint32(b[0:4])) / 65536
	m.trackH = float64(binary.BigEndian.Uint32(b[4:8])) / 65536
	m.haveSize = m.trackW > 0 && m.trackH > 0
	return nil
}

// ---------------------------------------------------------------- EBML

// EBML element ids (with their length marker bits, as written).
const (
	idEBML          = 0x1A45DFA3
	idDocType       = 0x4282
	idSegment       = 0x18538067
	idInfo          = 0x1549A966
	idTimecodeScale = 0x2AD7B1
	idDuration      = 0x4489
	idTracks        = 0x1654AE6B
	idTrackEntry    = 0xAE
	idTrackType     = 0x83
	idVideo         = 0xE0
	idPixelWidth    = 0xB0
	idPixelHeight   = 0xBA
	idDisplayWidth  = 0x54B0
	idDisplayHeight = 0x54BA
	idDisplayUnit   = 0x54B2
	idCluster       = 0x1F43B675
)

type ebml struct {
	r       io.ReaderAt
	visited int
	info    VideoInfo
	scale   uint64 // TimecodeScale, ns per tick
	dur     float64
	hasDur  bool
	// The current TrackEntry.
	trackType           uint64
	pixW, pixH          uint64
	dispW, dispH, dispU uint64
	gotInfo, gotTracks  bool
}

func probeEBML(r io.ReaderAt, size int64) (VideoInfo, error) {
	e := &ebml{r: r, scale: 1000000}
	if err := e.walk(0, size, 0, 0); err != nil {
		return VideoInfo{}, err
	}
	if e.info.Container == "" {
		return VideoInfo{}, fmt.Errorf("%w: no EBML DocType", ErrBadVideo)
	}
	if !e.gotInfo {
		return VideoInfo{}, fmt.Errorf("%w: no Segment Info", ErrBadVideo)
	}
	if e.hasDur && e.dur > 0 {
		ns := e.dur * float64(e.scale)
		if ns < float64(math.MaxInt64) {
			e.info.Duration = time.Duration(ns)
		}
	}
	return e.info, nil
}

// vint reads an EBML variable-length integer at off: the count of leading
// zero bits of the first byte gives the length. For ids the marker bit is
// kept; for sizes it is cleared, and all value bits set means unknown.
func (e *ebml) vint(off int64, keepMarker bool) (val uint64, n int, unknown bool, err error) {
	var b [8]byte
	if _, err := e.r.ReadAt(b[:1], off); err != nil {
		return 0, 0, false, err
	}
	l := 1
	for mask := byte(0x80); l <= 8 && b[0]&mask == 0; mask >>= 1 {
		l++
	}
	if l > 8 || (keepMarker && l > 4) {
		return 0, 0, false, fmt.Errorf("bad vint %#x", b[0])
	}
	if l > 1 {
		if _, err := e.r.ReadAt(b[1:l], off+1); err != nil {
			return 0, 0, false, err
		}
	}
	v := uint64(b[0])
	if !keepMarker {
		v &= uint64(0xFF >> l)
	}
	allOnes := v == uint64(0xFF>>l)
	for i := 1; i < l; i++ {
		v = v<<8 | uint64(b[i])
		allOnes = allOnes && b[i] == 0xFF
	}
	return v, l, !keepMarker && allOnes, nil
}

// walk visits the elements in [off, end). parent is the enclosing id.
func (e *ebml) walk(off, end int64, depth int, parent uint64) error {
	for off < end {
		if e.visited++; e.visited > maxElements {
			return fmt.Errorf("%w: more than %d elements", ErrBadVideo, maxElements)
		}
		id, idLen, _, err := e.vint(off, true)
		if err != nil {
			return fmt.Errorf("%w: element id at %d: %v", ErrBadVideo, off, err)
		}
		size, sizeLen, unknown, err := e.vint(off+int64(idLen), false)
		if err != nil {
			return fmt.Errorf("%w: element size at %d: %v", ErrBadVideo, off, err)
		}
		body := off + int64(idLen+sizeLen)
		var bodyEnd int64
		if unknown {
			// Unknown size (live streams): the element runs to the end of
			// its parent. Only masters may have it.
			if id != idSegment && id != idCluster {
				return fmt.Errorf("%w: element %#x of unknown size", ErrBadVideo, id)
			}
			bodyEnd = end
		} else {
			if size > uint64(end-body) {
				// A truncated file may still have its Info and Tracks.
				if id == idCluster || id == idSegment {
					size = uint64(end - body)
				} else {
					return fmt.Errorf("%w: element %#x at %d has size %d, %d bytes left", ErrBadVideo, id, off, size, end-body)
				}
			}
			bodyEnd = body + int64(size)
		}
		switch id {
		case idEBML, idInfo, idTracks, idVideo:
			if depth < maxDepth {
				if err := e.walk(body, bodyEnd, depth+1, id); err != nil {
					return err
				}
			}
			if id == idInfo {
				e.gotInfo = true
			}
			if id == idTracks {
				e.gotTracks = true
			}
		case idSegment:
			if depth < maxDepth {
				if err := e.walk(body, bodyEnd, depth+1, id); err != nil {
					return err
				}
			}
		case idTrackEntry:
			if depth < maxDepth {
				e.trackType, e.pixW, e.pixH, e.dispW, e.dispH, e.dispU = 0, 0, 0, 0, 0, 0
				if err := e.walk(body, bodyEnd, depth+1, id); err != nil {
					return err
				}
				if e.trackType == 1 && e.info.Width == 0 && e.pixW > 0 && e.pixH > 0 && e.pixW < 1<<20 && e.pixH < 1<<20 {
					e.info.Width, e.info.Height = int(e.pixW), int(e.pixH)
					// DisplayWidth/Height in pixels (DisplayUnit 0) is the
					// presentation size (anamorphic video).
					if e.dispU == 0 && e.dispW > 0 && e.dispH > 0 && e.dispW < 1<<20 && e.dispH < 1<<20 {
						e.info.Width, e.info.Height = int(e.dispW), int(e.dispH)
					}
				}
			}
		case idCluster:
			// Frames start here. Info and Tracks come before the first
			// Cluster in every muxer's output; once both are read, stop.
			if e.gotInfo && e.gotTracks {
				return nil
			}
			if unknown {
				return nil // cannot skip it; what was read is what there is
			}
		case idDocType:
			s, err := e.str(body, bodyEnd)
			if err != nil {
				return err
			}
			switch s {
			case "webm":
				e.info.Container = ContainerWebM
			case "matroska":
				e.info.Container = ContainerMatroska
			default:
				return fmt.Errorf("%w: EBML DocType %q", ErrNotVideo, s)
			}
		case idTimecodeScale:
			if parent == idInfo {
				v, err := e.uint(body, bodyEnd)
				if err != nil {
					return err
				}
				if v > 0 {
					e.scale = v
				}
			}
		case idDuration:
			if parent == idInfo {
				f, err := e.float(body, bodyEnd)
				if err != nil {
					return err
				}
				if !math.IsNaN(f) && !math.IsInf(f, 0) && f > 0 {
					e.dur, e.hasDur = f, true
				}
			}
		case idTrackType, idPixelWidth, idPixelHeight, idDisplayWidth, idDisplayHeight, idDisplayUnit:
			v, err := e.uint(body, bodyEnd)
			if err != nil {
				return err
			}
			switch {
			case id == idTrackType && parent == idTrackEntry:
				e.trackType = v
			case parent != idVideo:
			case id == idPixelWidth:
				e.pixW = v
			case id == idPixelHeight:
				e.pixH = v
			case id == idDisplayWidth:
				e.dispW = v
			case id == idDisplayHeight:
				e.dispH = v
			case id == idDisplayUnit:
				e.dispU = v
			}
		}
		if unknown {
			return nil
		}
		off = bodyEnd
	}
	return nil
}

func (e *ebml) read(body, end int64, max int64) ([]byte, error) {
	n := end - body
	if n < 0 || n > max {
		return nil, fmt.Errorf("%w: element of %d bytes where at most %d fit", ErrBadVideo, n, max)
	}
	b := make([]byte, n)
	if _, err := e.r.ReadAt(b, body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadVideo, err)
	}
	return b, nil
}

func (e *ebml) uint(body, end int64) (uint64, error) {
	b, err := e.read(body, end, 8)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func (e *ebml) float(body, end int64) (float64, error) {
	b, err := e.read(body, end, 8)
	if err != nil {
		return 0, err
	}
	switch len(b) {
	case 0:
		return 0, nil
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("%w: float of %d bytes", ErrBadVideo, len(b))
}

func (e *ebml) str(body, end int64) (string, error) {
	b, err := e.read(body, end, 64)
	if err != nil {
		return "", err
	}
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b), nil
}
