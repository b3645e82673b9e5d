package conformance_test

// The files the examples upload (curl -F data=@file), made here with real
// bytes: JPEG and PNG pictures, a three-page PDF, an MP4 container with a
// movie header (2 s) and a 1280x720 video track header.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path"
	"strings"

	"github.com/canvasd/canvasd/internal/pdfgen"
)

// testFile returns the bytes of a documented upload and the Content-Type
// curl sends for it (by extension).
func testFile(name string) ([]byte, string, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg":
		w, h := 320, 180
		if name == "image.jpg" { // the uncrop seed's input: kept small, uncrop is costly under -race
			w, h = 160, 90
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, picture(w, h), &jpeg.Options{Quality: 85}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "image/jpeg", nil
	case ".png":
		var buf bytes.Buffer
		if err := png.Encode(&buf, picture(160, 90)); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "image/png", nil
	case ".pdf":
		return samplePDF(), "application/pdf", nil
	case ".mp4":
		return tinyMP4(), "video/mp4", nil
	}
	return nil, "", fmt.Errorf("no test file for %q", name)
}

// picture is a gradient with a dark box: real content, not one flat colour.
func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 180, 255}
			if x > w/4 && x < w/2 && y > h/4 && y < 3*h/4 {
				c = color.RGBA{30, 30, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// samplePDF is a valid PDF 1.4 file (with its xref table) of three 200x100
// pages, the first holding a filled rectangle: the PDF examples turn to
// page 2 (index) and ask for mipmaps of page 1 (from 0), which a server
// that reads the page count refuses on a one-page file.
func samplePDF() []byte {
	content := "0 0 1 rg 20 20 80 60 re f\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 5 0 R 6 0 R] /Count 3 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Resources << >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Resources << >> >>",
	}
	return pdfgen.Write(objs)
}

// tinyMP4 is an ISO BMFF file: ftyp, moov (mvhd: timescale 1000, duration
// 2000; trak/tkhd: 1280x720; mdia with mdhd and a 'vide' hdlr) and an mdat.
func tinyMP4() []byte {
	box := func(typ string, parts ...[]byte) []byte {
		body := bytes.Join(parts, nil)
		out := make([]byte, 8, 8+len(body))
		binary.BigEndian.PutUint32(out, uint32(8+len(body)))
		copy(out[4:], typ)
		return append(out, body...)
	}
	u32 := func(vs ...uint32) []byte {
		out := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.BigEndian.PutUint32(out[4*i:], v)
		}
		return out
	}
	matrix := u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
	mvhd := box("mvhd", u32(0, 0, 0, 1000, 2000, 0x10000), []byte{1, 0, 0, 0}, make([]byte, 8), matrix, make([]byte, 24), u32(2))
	tkhd := box("tkhd", u32(3, 0, 0, 1, 0, 2000), make([]byte, 8), []byte{0, 0, 0, 0, 0, 0, 0, 0}, matrix, u32(1280<<16, 720<<16))
	mdhd := box("mdhd", u32(0, 0, 0, 1000, 2000), []byte{0x55, 0xc4, 0, 0})
	hdlr := box("hdlr", u32(0, 0), []byte("vide"), make([]byte, 12), []byte("VideoHandler\x00"))
	moov := box("moov", mvhd, box("trak", tkhd, box("mdia", mdhd, hdlr)))
	ftyp := box("ftyp", []byte("isom"), u32(0x200), []byte("isomiso2mp41"))
	return bytes.Join([][]byte{ftyp, moov, box("mdat", make([]byte, 16))}, nil)
}
