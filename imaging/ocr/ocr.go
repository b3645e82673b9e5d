package ocr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Word is one recognised word. X, Y, W, H are pixels in the image passed to
// Recognize. Conf is Tesseract's confidence in [0,100]. Block, Par and Line
// are Tesseract's layout indices; words with equal (Block, Par, Line) were
// put on the same line by Tesseract.
type Word struct {
	Text       string
	Conf       float64
	X, Y, W, H int
	Block, Par int
	Line       int
}

// Options control one Recognize call. The zero value is usable.
type Options struct {
	// PSM is Tesseract's page segmentation mode. Default 6 (a single uniform
	// block of text); 11 (sparse text) suits scattered labels.
	PSM int
	// Lang is the traineddata language. Default "eng".
	Lang string
	// Whitelist restricts recognised characters (tessedit_char_whitelist).
	// Default: no restriction.
	Whitelist string
	// DPI is passed as --dpi. Default 300.
	DPI int
}

// ErrUnavailable is returned by Recognize when tesseract is not installed.
var ErrUnavailable = errors.New("ocr: tesseract not installed")

// binary is the program name looked up on PATH.
const binary = "tesseract"

// Engine is an OCR setting, passed by value to whoever reads text. The zero
// value runs tesseract when it is on PATH; an Engine with Off set behaves as
// if tesseract were missing (the structure-only path), whatever is
// installed. Each caller (a server, a test) holds its own: there is no
// process-wide switch.
type Engine struct {
	// Off disables OCR: Available reports false, Recognize returns
	// ErrUnavailable and Version "".
	Off bool
}

func (e Engine) lookPath(name string) (string, error) {
	if e.Off {
		return "", exec.ErrNotFound
	}
	return exec.LookPath(name)
}

// Available reports whether e can run tesseract.
func (e Engine) Available() bool {
	_, err := e.lookPath(binary)
	return err == nil
}

// Available reports whether the tesseract binary is on PATH (the zero
// Engine's Available).
func Available() bool { return Engine{}.Available() }

var (
	versionOnce sync.Once
	versionStr  string
)

// Version is the zero Engine's Version.
func Version() string { return Engine{}.Version() }

// Version returns the first line of `tesseract --version`, e.g.
// "tesseract 5.3.0", or "" when e cannot run tesseract. The binary's
// version is read once per process (it is a fact about the binary on
// PATH, not a setting).
func (e Engine) Version() string {
	if !e.Available() {
		return ""
	}
	versionOnce.Do(func() {
		out, err := exec.Command(binary, "--version").CombinedOutput()
		if err != nil && len(out) == 0 {
			return
		}
		line, _, _ := strings.Cut(string(out), "\n")
		versionStr = strings.TrimSpace(line)
	})
	return versionStr
}

var encPool = &pngPool{}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}
func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// Recognize runs tesseract on img and returns its words (empty-text entries
// and non-word layout rows are dropped). Coordinates are in img's pixel space,
// relative to img.Bounds().Min.
func Recognize(ctx context.Context, img image.Image, opt Options) ([]Word, error) {
	return Engine{}.Recognize(ctx, img, opt)
}

// Recognize runs tesseract as e allows (see the package function Recognize).
func (e Engine) Recognize(ctx context.Context, img image.Image, opt Options) ([]Word, error) {
	path, err := e.lookPath(binary)
	if err != nil {
		return nil, ErrUnavailable
	}
	if opt.PSM == 0 {
		opt.PSM = 6
	}
	if opt.Lang == "" {
		opt.Lang = "eng"
	}
	if opt.DPI == 0 {
		opt.DPI = 300
	}
	var in bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: encPool}
	if err := enc.Encode(&in, toEncodable(img)); err != nil {
		return nil, fmt.Errorf("ocr: encode png: %w", err)
	}
	args := []string{"stdin", "stdout", "-l", opt.Lang, "--psm", strconv.Itoa(opt.PSM), "--dpi", strconv.Itoa(opt.DPI),
		"-c", "preserve_interword_spaces=0"}
	if opt.Whitelist != "" {
		args = append(args, "-c", "tessedit_char_whitelist="+opt.Whitelist)
	}
	args = append(args, "tsv")
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = &in
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ocr: %w", ctx.Err())
		}
		return nil, fmt.Errorf("ocr: tesseract: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	words, err := parseTSV(&out)
	if err != nil {
		return nil, err
	}
	return words, nil
}

// toEncodable converts images the PNG encoder handles slowly or not at all.
func toEncodable(img image.Image) image.Image {
	switch img.(type) {
	case *image.Gray, *image.NRGBA, *image.RGBA, *image.Paletted, *image.Gray16:
		return img
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(x-b.Min.X, y-b.Min.Y, img.At(x, y))
		}
	}
	return dst
}

// parseTSV reads tesseract's TSV output (level page_num block_num par_num
// line_num word_num left top width height conf text).
func parseTSV(r *bytes.Buffer) ([]Word, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var words []Word
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if strings.HasPrefix(line, "level") {
				continue
			}
		}
		f := strings.SplitN(line, "\t", 12)
		if len(f) < 12 || f[0] != "5" {
			continue
		}
		text := strings.TrimSpace(f[11])
		if text == "" {
			continue
		}
		var n [10]int
		for i := 1; i <= 9; i++ {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				return nil, fmt.Errorf("ocr: parse tsv field %d %q: %w", i, f[i], err)
			}
			n[i] = v
		}
		conf, err := strconv.ParseFloat(f[10], 64)
		if err != nil {
			return nil, fmt.Errorf("ocr: parse tsv conf %q: %w", f[10], err)
		}
		words = append(words, Word{Text: text, Conf: conf, Block: n[2], Par: n[3], Line: n[4],
			X: n[6], Y: n[7], W: n[8], H: n[9]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ocr: read tsv: %w", err)
	}
	return words, nil
}
