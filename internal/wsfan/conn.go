package wsfan

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Buffer sizes of a hijacked connection. coder/websocket reads frame
// headers and small payloads through the read buffer (larger payloads are
// read past it); it writes only control frames (pong, close: at most 139
// bytes) through the write buffer, so every control frame reaches Conn.Write
// in one call.
const (
	readBufSize  = 1 << 10
	writeBufSize = 256
)

// Frame returns data as one final, unmasked websocket text frame (RFC 6455
// section 5.2): header and payload in one slice, ready for the wire. A
// server frame is the same bytes for every viewer, so an event is framed
// once and the frame is shared.
func Frame(data []byte) []byte {
	var hdr [maxHeader]byte
	h := header(hdr[:], len(data))
	f := make([]byte, h+len(data))
	copy(f, hdr[:h])
	copy(f[h:], data)
	return f
}

const maxHeader = 10

// header writes the header of a final, unmasked text frame of n bytes into
// hdr and returns its length.
func header(hdr []byte, n int) int {
	hdr[0] = 0x81 // FIN, text
	switch {
	case n < 126:
		hdr[1] = byte(n)
		return 2
	case n <= 0xFFFF:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		return 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		return 10
	}
}

// Conn is the hijacked connection under a *websocket.Conn. Every write to
// the wire holds wmu for a whole frame (or a run of whole frames), so the
// pool's frames and coder/websocket's control frames never interleave.
type Conn struct {
	net.Conn
	raw syscall.RawConn // for non-blocking writes; nil if the conn has no fd (TLS)
	wmu sync.Mutex
}

func newConn(nc net.Conn) *Conn {
	c := &Conn{Conn: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	return c
}

// Write is coder/websocket's path to the wire (through its small write
// buffer): one control frame per call.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.Write(p)
}

// WriteFrames writes whole frames, blocking up to timeout. For the
// handshake's first messages, before the connection joins the pool.
func (c *Conn) WriteFrames(p []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(p, timeout)
}

func (c *Conn) writeLocked(p []byte, timeout time.Duration) error {
	return c.writeBuffersLocked(net.Buffers{p}, timeout)
}

// writeBuffersLocked writes bufs (writev on a TCP conn), blocking up to
// timeout. The caller holds wmu.
func (c *Conn) writeBuffersLocked(bufs net.Buffers, timeout time.Duration) error {
	if timeout > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(timeout))
		defer c.Conn.SetWriteDeadline(time.Time{})
	}
	_, err := bufs.WriteTo(c.Conn)
	return err
}

// errNoRaw: the connection has no file descriptor; writes block in a goroutine.
var errNoRaw = errors.New("wsfan: no raw conn")

// hijackWriter hands coder/websocket a hijacked connection wrapped in Conn,
// with small buffers. It keeps gin's WriteHeaderNow, which Accept calls.
type hijackWriter struct {
	http.ResponseWriter
	conn *Conn
}

func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *hijackWriter) WriteHeaderNow() {
	if w, ok := h.ResponseWriter.(interface{ WriteHeaderNow() }); ok {
		w.WriteHeaderNow()
	}
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	c := newConn(nc)
	h.conn = c
	// net/http's 4 KiB reader (and through it the http connection) is let
	// go: a small reader takes over, holding whatever was read ahead.
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	var src io.Reader = c
	size := readBufSize
	if len(pending) > 0 {
		src = io.MultiReader(bytes.NewReader(append([]byte(nil), pending...)), c)
		size = max(size, len(pending))
	}
	br := bufio.NewReaderSize(src, size)
	if len(pending) > 0 {
		br.Peek(len(pending))
	}
	return c, bufio.NewReadWriter(br, bufio.NewWriterSize(c, writeBufSize)), nil
}

// Accept is websocket.Accept over a hijacked connection the pool can write
// to directly. It returns the protocol library's connection (reads, control
// frames, the close handshake) and the Conn beneath it (frame writes).
func Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions) (*websocket.Conn, *Conn, error) {
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, opts)
	if err != nil {
		return nil, nil, err
	}
	if hw.conn == nil {
		ws.CloseNow()
		return nil, nil, errors.New("wsfan: connection was not hijacked through the wrapper")
	}
	return ws, hw.conn, nil
}
