//go:build unix

package wsfan

import "syscall"

// tryWrite writes as much of p as the socket takes now, without waiting:
// one write(2) on the non-blocking descriptor (retried on EINTR and after a
// short write that made progress). The caller holds wmu. It returns how many
// bytes went out; a full socket buffer is not an error.
func (c *Conn) tryWrite(p []byte) (int, error) {
	if c.raw == nil {
		return 0, errNoRaw
	}
	n := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}
