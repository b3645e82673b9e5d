package media

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzProbeVideo: any bytes give an info or one of the two errors, never a
// panic, and a width or height is never negative.
func FuzzProbeVideo(f *testing.F) {
	for _, fx := range videoFixtures {
		b := readFixture(f, fx.file)
		f.Add(b[:min(len(b), 4096)])
		if len(b) > 4096 {
			f.Add(b[len(b)-4096:])
		}
	}
	f.Add([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 1, 'f', 't', 'y', 'p', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ProbeVideo(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrBadVideo) && !errors.Is(err, ErrNotVideo) {
				t.Fatalf("error %v is neither ErrBadVideo nor ErrNotVideo", err)
			}
			return
		}
		if info.Width < 0 || info.Height < 0 || info.Duration < 0 || info.Container == "" {
			t.Fatalf("bad info %+v", info)
		}
	})
}
