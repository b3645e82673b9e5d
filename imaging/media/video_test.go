package media

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The fixtures were made with ffmpeg 5.1 (Debian bookworm) from its
// testsrc pattern; the wanted values are ffprobe's:
//
//	ffmpeg -f lavfi -i testsrc=size=160x90:rate=10 -f lavfi -i sine=frequency=440:sample_rate=8000 -t 1.5 -c:v mpeg4 -q:v 20 -c:a aac -b:a 16k clip.mp4
//	ffmpeg -f lavfi -i testsrc=size=160x90:rate=10 -t 1.5 -c:v mpeg4 -q:v 20 -movflags +faststart faststart.mp4
//	ffmpeg -f lavfi -i testsrc=size=120x200:rate=10 -t 2 -c:v mpeg4 -q:v 20 clip.mov
//	ffmpeg -f lavfi -i testsrc=size=160x90:rate=10 -f lavfi -i sine=frequency=440:sample_rate=8000 -t 1.5 -c:v libvpx -b:v 50k -c:a libopus -b:a 16k clip.webm
//	ffmpeg -f lavfi -i testsrc=size=176x144:rate=10 -t 2.5 -c:v mpeg4 -q:v 20 clip.mkv
//	ffmpeg -f lavfi -i testsrc=size=160x90:rate=10 -t 1.5 -c:v mpeg4 -q:v 20 -movflags frag_keyframe+empty_moov fragmented.mp4
//	ffprobe -v error -show_entries format=duration:stream=width,height -of csv=p=0 FILE
var videoFixtures = []struct {
	file      string
	container string
	dur       time.Duration
	w, h      int
}{
	{"clip.mp4", ContainerMP4, 1500 * time.Millisecond, 160, 90}, // audio track first? either way the video track's size
	{"faststart.mp4", ContainerMP4, 1500 * time.Millisecond, 160, 90},
	{"clip.mov", ContainerQuickTime, 2 * time.Second, 120, 200},
	{"clip.webm", ContainerWebM, 1508 * time.Millisecond, 160, 90},
	{"clip.mkv", ContainerMatroska, 2500 * time.Millisecond, 176, 144},
	// empty_moov: mvhd says 0; no mehd either, so the duration is unknown.
	{"fragmented.mp4", ContainerMP4, 0, 160, 90},
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestProbeVideoFixtures(t *testing.T) {
	for _, tc := range videoFixtures {
		t.Run(tc.file, func(t *testing.T) {
			b := readFixture(t, tc.file)
			got, err := ProbeVideo(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			want := VideoInfo{Container: tc.container, Duration: tc.dur, Width: tc.w, Height: tc.h}
			if d := got.Duration - want.Duration; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("duration %v, want %v", got.Duration, want.Duration)
			}
			got.Duration = want.Duration
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestProbeVideoRejects(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if _, err := ProbeVideo(bytes.NewReader(png), int64(len(png))); !errors.Is(err, ErrNotVideo) {
		t.Errorf("PNG: err = %v, want ErrNotVideo", err)
	}
	// Cut inside the moov box (clip.mp4 has moov after mdat): the header is
	// incomplete, and the probe says so instead of guessing.
	mp4 := readFixture(t, "clip.mp4")
	cut := mp4[:len(mp4)-200]
	if _, err := ProbeVideo(bytes.NewReader(cut), int64(len(cut))); !errors.Is(err, ErrBadVideo) {
		t.Errorf("truncated mp4: err = %v, want ErrBadVideo", err)
	}
	// A box that claims more bytes than the file has.
	bad := append([]byte(nil), mp4[:64]...)
	bad[0], bad[1], bad[2], bad[3] = 0x7f, 0xff, 0xff, 0xff
	if _, err := ProbeVideo(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrBadVideo) {
		t.Errorf("oversized box: err = %v, want ErrBadVideo", err)
	}
	// An EBML file of another DocType.
	webm := readFixture(t, "clip.webm")
	other := bytes.Replace(webm[:64], []byte("webm"), []byte("xxxx"), 1)
	if _, err := ProbeVideo(bytes.NewReader(other), int64(len(other))); !errors.Is(err, ErrNotVideo) {
		t.Errorf("DocType xxxx: err = %v, want ErrNotVideo", err)
	}
}

// TestProbeVideoBoxFlood: a file of a million 8-byte empty boxes stops at
// the element bound.
func TestProbeVideoBoxFlood(t *testing.T) {
	const n = 1 << 20
	b := make([]byte, 8*n)
	for i := 0; i < n; i++ {
		copy(b[8*i:], []byte{0, 0, 0, 8, 'f', 'r', 'e', 'e'})
	}
	r := &countingReader{r: bytes.NewReader(b)}
	_, err := ProbeVideo(r, int64(len(b)))
	if !errors.Is(err, ErrBadVideo) {
		t.Fatalf("err = %v, want ErrBadVideo", err)
	}
	if r.reads > maxElements+10 {
		t.Errorf("%d reads, want at most about %d", r.reads, maxElements)
	}
}

type countingReader struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}
