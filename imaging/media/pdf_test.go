package media

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/canvasd/canvasd/internal/pdfgen"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in testdata")

// needPoppler fails the test when poppler-utils is missing under CI, and
// skips it elsewhere, naming the install command either way.
func needPoppler(tb testing.TB) PDFTools {
	tb.Helper()
	tools := PDFTools{}
	if err := tools.Check(); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
			tb.Fatalf("%v", err)
		}
		tb.Skipf("%v", err)
	}
	return tools
}

// twoPagePDF is a minimal PDF 1.4 written byte by byte: page 1 is 200x100
// points, red on its left half and blue on its right; page 2 is 100x100
// and blank. The cross-reference offsets are computed, so poppler reads it
// without repairing it.
func twoPagePDF() []byte {
	content := "1 0 0 rg 0 0 100 100 re f\n0 0 1 rg 100 0 100 100 re f\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> >>",
	}
	return pdfgen.Write(objs)
}

// TestPDFFixture keeps testdata/two-pages.pdf equal to what twoPagePDF
// writes (-update rewrites it).
func TestPDFFixture(t *testing.T) {
	path := filepath.Join("testdata", "two-pages.pdf")
	if *update {
		if err := os.WriteFile(path, twoPagePDF(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFixture(t, "two-pages.pdf"); !bytes.Equal(got, twoPagePDF()) {
		t.Fatal("testdata/two-pages.pdf differs from twoPagePDF(): run go test -run TestPDFFixture -update")
	}
}

func TestPDFInfo(t *testing.T) {
	tools := needPoppler(t)
	info, err := tools.Info(context.Background(), filepath.Join("testdata", "two-pages.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if info != (PDFInfo{Pages: 2, Width: 200, Height: 100}) {
		t.Errorf("info %+v, want 2 pages, first 200x100 pt", info)
	}
}

func TestPDFThumbnail(t *testing.T) {
	tools := needPoppler(t)
	tools.ThumbSide = 64
	img, err := tools.Thumbnail(context.Background(), filepath.Join("testdata", "two-pages.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 64 || b.Dy() != 32 {
		t.Fatalf("thumbnail %v, want 64x32 (long side ThumbSide, page 2:1)", b)
	}
	near := func(x, y int, want color.NRGBA) {
		t.Helper()
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
		if d(c.R, want.R) > 8 || d(c.G, want.G) > 8 || d(c.B, want.B) > 8 {
			t.Errorf("pixel (%d,%d) = %v, want about %v", x, y, c, want)
		}
	}
	near(16, 16, color.NRGBA{255, 0, 0, 255})
	near(48, 16, color.NRGBA{0, 0, 255, 255})
}

func TestPDFBadInput(t *testing.T) {
	tools := needPoppler(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pdf")
	if err := os.WriteFile(junk, []byte("this is not a PDF at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tools.Info(context.Background(), junk); !errors.Is(err, ErrBadPDF) {
		t.Errorf("Info(junk) err = %v, want ErrBadPDF", err)
	}
	if _, err := tools.Thumbnail(context.Background(), junk); !errors.Is(err, ErrBadPDF) {
		t.Errorf("Thumbnail(junk) err = %v, want ErrBadPDF", err)
	}
	// A path that looks like an option is still a path.
	if _, err := tools.Info(context.Background(), "-v"); err == nil {
		t.Error("Info(\"-v\") succeeded: the path was taken as an option")
	}
}

// TestPDFBounds: a page that declares a huge size still renders to
// ThumbSide pixels, and the memory limit stops a child that needs more.
func TestPDFBounds(t *testing.T) {
	tools := needPoppler(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.pdf")
	pdf := bytes.Replace(twoPagePDF(), []byte("/MediaBox [0 0 200 100]"), []byte("/MediaBox [0 0 14400 7200]"), 1)
	// The offsets after the page object moved by 4 bytes; poppler repairs
	// the table, as it does for many real files.
	if err := os.WriteFile(huge, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	tools.ThumbSide = 100
	img, err := tools.Thumbnail(context.Background(), huge)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 50 {
		t.Errorf("thumbnail of a 200x100 inch page: %v, want 100x50", b)
	}
	// 16 MiB of address space is not enough for pdftoppm to start.
	tight := PDFTools{MaxMemory: 16 << 20, Timeout: 10 * time.Second}
	_, err = tight.Thumbnail(context.Background(), filepath.Join("testdata", "two-pages.pdf"))
	if err == nil {
		t.Error("pdftoppm ran within 16 MiB of address space: the limit is not applied")
	}
}

func TestPDFToolsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := PDFTools{}.Check()
	if !errors.Is(err, ErrNoPDFTools) {
		t.Fatalf("err = %v, want ErrNoPDFTools", err)
	}
	if _, lerr := exec.LookPath("pdfinfo"); lerr == nil {
		t.Fatal("PATH override did not hide pdfinfo")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("apt-get install -y poppler-utils")) {
		t.Errorf("err %q does not name the install command", err)
	}
}

func TestPDFPages(t *testing.T) {
	tools := needPoppler(t)
	path := filepath.Join("testdata", "two-pages.pdf")
	p2, err := tools.Page(context.Background(), path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p2 != (PDFInfo{Pages: 2, Width: 100, Height: 100}) {
		t.Errorf("page 2 %+v, want 100x100 of 2 pages", p2)
	}
	if _, err := tools.Page(context.Background(), path, 3); !errors.Is(err, ErrNoPage) {
		t.Errorf("page 3: err = %v, want ErrNoPage", err)
	}
	img, err := tools.Render(context.Background(), path, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 50 || b.Dy() != 50 {
		t.Errorf("page 2 rendered %v, want 50x50", b)
	}
	// Page 2 is blank: white, not page 1's red.
	if c := color.NRGBAModel.Convert(img.At(10, 25)).(color.NRGBA); c.R < 240 || c.G < 240 || c.B < 240 {
		t.Errorf("page 2 pixel %v, want white", c)
	}
}
