package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InstallPoppler is the command that installs the PDF tools on Debian.
const InstallPoppler = "apt-get install -y poppler-utils"

// ErrNoPDFTools: pdfinfo, pdftoppm or prlimit is not on PATH.
var ErrNoPDFTools = errors.New("media: PDF tools missing: " + InstallPoppler)

// ErrBadPDF: poppler could not read the file as a PDF (or it is encrypted).
var ErrBadPDF = errors.New("media: not a readable PDF")

// ErrNoPage: the PDF has fewer pages than asked for.
var ErrNoPage = errors.New("media: no such page")

// PDFTools runs poppler-utils with bounds. The zero value is usable: every
// zero field takes its default.
type PDFTools struct {
	// Timeout bounds each child process. Default 20 s.
	Timeout time.Duration
	// MaxMemory bounds each child's address space (prlimit --as), bytes.
	// Default 1 GiB.
	MaxMemory int64
	// MaxCPU bounds each child's CPU time (prlimit --cpu), seconds.
	// Default 20.
	MaxCPU int
	// ThumbSide is the long side of a thumbnail in pixels (pdftoppm
	// -scale-to), so the page's declared size cannot blow up the raster.
	// Default 512; at most 4096.
	ThumbSide int
	// MaxOutput caps what a child may write to stdout, bytes. Default 64 MiB.
	MaxOutput int64
}

func (t PDFTools) withDefaults() PDFTools {
	if t.Timeout <= 0 {
		t.Timeout = 20 * time.Second
	}
	if t.MaxMemory <= 0 {
		t.MaxMemory = 1 << 30
	}
	if t.MaxCPU <= 0 {
		t.MaxCPU = 20
	}
	if t.ThumbSide <= 0 {
		t.ThumbSide = 512
	}
	t.ThumbSide = min(t.ThumbSide, 4096)
	if t.MaxOutput <= 0 {
		t.MaxOutput = 64 << 20
	}
	return t
}

// Check reports whether the tools are installed: nil, or ErrNoPDFTools
// naming the missing binary.
func (t PDFTools) Check() error {
	for _, name := range []string{"pdfinfo", "pdftoppm", "prlimit"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%w (%s not found)", ErrNoPDFTools, name)
		}
	}
	return nil
}

// PDFInfo is what pdfinfo reads of a PDF.
type PDFInfo struct {
	Pages int
	// Width and Height are the first page's size in points (1/72 inch),
	// rotation applied.
	Width, Height float64
}

var (
	pagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)\s*$`)
	sizeLine  = regexp.MustCompile(`(?m)^Page\s+(\d+) size:\s+([0-9.]+) x ([0-9.]+) pts`)
	rotLine   = regexp.MustCompile(`(?m)^Page\s+(\d+) rot:\s+(\d+)\s*$`)
	anySize   = regexp.MustCompile(`(?m)^Page size:\s+([0-9.]+) x ([0-9.]+) pts`)
)

// Info runs pdfinfo on the file at path: the page count and the first
// page's size.
func (t PDFTools) Info(ctx context.Context, path string) (PDFInfo, error) {
	return t.Page(ctx, path, 1)
}

// Page is Info with the size of page n (from 1) instead of the first.
func (t PDFTools) Page(ctx context.Context, path string, n int) (PDFInfo, error) {
	t = t.withDefaults()
	if n < 1 {
		return PDFInfo{}, fmt.Errorf("media: page %d: pages count from 1", n)
	}
	p := strconv.Itoa(n)
	out, err := t.run(ctx, "pdfinfo", "-f", p, "-l", p, "--", path)
	if err != nil {
		return PDFInfo{}, err
	}
	return parsePDFInfo(string(out), n)
}

func parsePDFInfo(s string, page int) (PDFInfo, error) {
	var info PDFInfo
	m := pagesLine.FindStringSubmatch(s)
	if m == nil {
		return info, fmt.Errorf("%w: pdfinfo printed no page count", ErrBadPDF)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return info, fmt.Errorf("%w: page count %q", ErrBadPDF, m[1])
	}
	info.Pages = n
	if page > n {
		return info, fmt.Errorf("%w: page %d of %d", ErrNoPage, page, n)
	}
	want := strconv.Itoa(page)
	var size []string
	for _, sm := range sizeLine.FindAllStringSubmatch(s, -1) {
		if sm[1] == want {
			size = sm[2:]
		}
	}
	if size == nil && page == 1 {
		if sm := anySize.FindStringSubmatch(s); sm != nil {
			size = sm[1:]
		}
	}
	if size != nil {
		info.Width, _ = strconv.ParseFloat(size[0], 64)
		info.Height, _ = strconv.ParseFloat(size[1], 64)
		for _, rm := range rotLine.FindAllStringSubmatch(s, -1) {
			if rm[1] == want && (rm[2] == "90" || rm[2] == "270") {
				info.Width, info.Height = info.Height, info.Width
			}
		}
	}
	return info, nil
}

// Thumbnail renders the first page of the PDF at path to an image whose
// long side is ThumbSide pixels.
func (t PDFTools) Thumbnail(ctx context.Context, path string) (image.Image, error) {
	t = t.withDefaults()
	return t.Render(ctx, path, 1, t.ThumbSide)
}

// Render renders page n (from 1) of the PDF at path to an image whose long
// side is side pixels (at most 4096).
func (t PDFTools) Render(ctx context.Context, path string, n, side int) (image.Image, error) {
	t = t.withDefaults()
	if n < 1 || side < 1 || side > 4096 {
		return nil, fmt.Errorf("media: render page %d at %d px: out of range", n, side)
	}
	p := strconv.Itoa(n)
	out, err := t.run(ctx, "pdftoppm", "-f", p, "-l", p, "-singlefile", "-png",
		"-scale-to", strconv.Itoa(side), "--", path)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("%w: pdftoppm output: %v", ErrBadPDF, err)
	}
	return img, nil
}

// run runs a poppler tool under prlimit and returns its stdout. poppler's
// exit status 1 ("error opening a PDF file") and 3 ("error related to PDF
// permissions") mean the input is bad, 99 with "Wrong page range" a page
// past the last; anything else is the tool's failure.
func (t PDFTools) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	full := append([]string{"--as=" + strconv.FormatInt(t.MaxMemory, 10), "--cpu=" + strconv.Itoa(t.MaxCPU), "--", tool}, args...)
	cmd := exec.CommandContext(ctx, "prlimit", full...)
	cmd.WaitDelay = time.Second
	stdout := &cappedBuffer{max: t.MaxOutput}
	errOut := &cappedBuffer{max: 64 << 10, drop: true}
	cmd.Stdout, cmd.Stderr = stdout, errOut
	err := cmd.Run()
	if stdout.over && !stdout.drop {
		return nil, fmt.Errorf("media: %s wrote more than %d bytes", tool, t.MaxOutput)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("media: %s: %w", tool, ctx.Err())
		}
		msg := strings.TrimSpace(errOut.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 99 && strings.Contains(msg, "Wrong page range") {
			return nil, fmt.Errorf("%w: %s", ErrNoPage, firstLine(msg))
		}
		if errors.As(err, &ee) && (ee.ExitCode() == 1 || ee.ExitCode() == 3) {
			return nil, fmt.Errorf("%w: %s", ErrBadPDF, firstLine(msg))
		}
		return nil, fmt.Errorf("media: %s: %w: %s", tool, err, firstLine(msg))
	}
	return stdout.Bytes(), nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// cappedBuffer keeps at most max bytes. Past that it fails the write,
// which ends the child (its pipe breaks), or with drop set it discards the
// rest (stderr: the first lines say enough).
type cappedBuffer struct {
	bytes.Buffer
	max  int64
	drop bool
	over bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if int64(b.Len()+len(p)) > b.max {
		b.over = true
		if b.drop {
			return len(p), nil
		}
		return 0, io.ErrShortWrite
	}
	return b.Buffer.Write(p)
}
