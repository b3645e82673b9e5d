//go:build !unix

package wsfan

// tryWrite: without a non-blocking write, every batch goes to a flusher
// goroutine.
func (c *Conn) tryWrite(p []byte) (int, error) { return 0, errNoRaw }
