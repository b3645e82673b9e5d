package imaging

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"testing"
)

var update = flag.Bool("update", false, "regenerate the files in testdata")

// encodeStdPNG encodes img with image/png at default compression.
func encodeStdPNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
