// Command eval-uncrop measures the uncrop fill on real photos: each photo is
// scaled to about -mp megapixels, a band of -band of its size is cut off one
// side at a time and regenerated, and the band is compared with the truth
// (SSIM on luma, PSNR on RGB) beside two baselines, edge replication and
// mirroring. It also reports the luma step across the seam against the
// photo's own interior gradient.
//
//	eval-uncrop -dir /usr/share/backgrounds/mate/nature [more.jpg ...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/canvasd/canvasd/imaging/uncrop"
)

func main() {
	runtime.SetDefaultGOMAXPROCS()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eval-uncrop:", err)
		os.Exit(1)
	}
}

type config struct {
	dirs     string
	mp       float64
	band     float64
	seed     int64
	work     int
	mode     string
	out      string
	examples string
	exNames  string
	ghosts   int
	ghostSd  uint64
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval-uncrop", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.dirs, "dir", "", "comma-separated directories of photos (.jpg, .jpeg, .png; not recursive)")
	fs.Float64Var(&c.mp, "mp", 0.75, "scale each photo to about this many megapixels")
	fs.Float64Var(&c.band, "band", 0.13, "band cut off each side, as a fraction of the width (left/right) or height (up/down)")
	fs.Int64Var(&c.seed, "seed", 1, "uncrop seed")
	fs.IntVar(&c.work, "work", 0, "uncrop MaxWorkPixels (0 = package default)")
	fs.StringVar(&c.mode, "mode", "auto", "uncrop mode: auto, patchmatch or fast")
	fs.StringVar(&c.out, "out", "", "if set, write each regenerated photo here as PNG")
	fs.StringVar(&c.examples, "examples", "", "if set, write before/after JPEG pairs here (see -example-names)")
	fs.StringVar(&c.exNames, "example-names", "", "comma-separated base names (without extension) of the photos to write pairs of; default the first three")
	fs.IntVar(&c.ghosts, "ghosts", 0, "if > 0, measure ghosts on this many generated scenes instead of the photos (issue 17); -out writes them")
	fs.Uint64Var(&c.ghostSd, "ghost-seed", 17, "seed of the generated ghost scenes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.ghosts > 0 {
		m, ok := map[string]uncrop.Mode{"auto": uncrop.Auto, "patchmatch": uncrop.PatchMatch, "fast": uncrop.Fast}[c.mode]
		if !ok {
			return fmt.Errorf("unknown -mode %q", c.mode)
		}
		return evalGhosts(c.ghosts, c.ghostSd, uncrop.Options{Seed: c.seed, Mode: m, MaxWorkPixels: c.work}, c.out, stdout)
	}
	files, err := listPhotos(c.dirs, fs.Args())
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("no photos: give -dir or files")
	}
	mode := map[string]uncrop.Mode{"auto": uncrop.Auto, "patchmatch": uncrop.PatchMatch, "fast": uncrop.Fast}
	m, ok := mode[c.mode]
	if !ok {
		return fmt.Errorf("unknown -mode %q", c.mode)
	}
	opt := uncrop.Options{Seed: c.seed, Mode: m, MaxWorkPixels: c.work}
	for _, d := range []string{c.out, c.examples} {
		if d != "" {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	return evaluate(c, files, opt, stdout)
}

// listPhotos returns the photo files of the comma-separated dirs plus extra,
// sorted by path so runs are comparable.
func listPhotos(dirs string, extra []string) ([]string, error) {
	var files []string
	for _, d := range strings.Split(dirs, ",") {
		if d == "" {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			return nil, fmt.Errorf("read photo dir: %w", err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && isPhoto(e.Name()) {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	for _, f := range extra {
		if isPhoto(f) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

func isPhoto(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// load decodes a photo and scales it to about mp megapixels.
func load(path string, mp float64) (*image.NRGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	b := src.Bounds()
	s := math.Sqrt(mp * 1e6 / float64(b.Dx()*b.Dy()))
	if s > 1 {
		s = 1
	}
	w, h := max(1, int(float64(b.Dx())*s+0.5)), max(1, int(float64(b.Dy())*s+0.5))
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Rect, src, b, draw.Src, nil)
	return dst, nil
}

// method regenerates truth's band on side from the kept part.
type method struct {
	name string
	fill func(kept *image.NRGBA, ext uncrop.Extents) (*image.NRGBA, error)
}

type acc struct {
	thirds                            [3]float64 // SSIM of the band's third next to the seam, middle, far
	ssim, psnr, jump, interior, ratio float64
	n                                 int
	elapsed                           time.Duration
	times                             []time.Duration
}

func evaluate(c config, files []string, opt uncrop.Options, stdout io.Writer) error {
	methods := []method{
		{"uncrop (" + c.mode + ")", func(k *image.NRGBA, e uncrop.Extents) (*image.NRGBA, error) { return uncrop.Uncrop(k, e, opt) }},
		{"edge replicate", func(k *image.NRGBA, e uncrop.Extents) (*image.NRGBA, error) { return baseline(k, e, clampIdx) }},
		{"mirror", func(k *image.NRGBA, e uncrop.Extents) (*image.NRGBA, error) { return baseline(k, e, mirrorIdx) }},
	}
	res := make([]acc, len(methods))
	var truthJump, truthInterior float64
	var cases, photos int
	sides := []string{"left", "right", "up", "down"}
	for fi, path := range files {
		truth, err := load(path, c.mp)
		if err != nil {
			return err
		}
		photos++
		if c.examples != "" {
			base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			if (c.exNames == "" && fi < 3) || slices.Contains(strings.Split(c.exNames, ","), base) {
				if err := writeExample(c.examples, base, truth, opt); err != nil {
					return err
				}
			}
		}
		W, H := truth.Rect.Dx(), truth.Rect.Dy()
		for _, side := range sides {
			bw := int(math.Round(c.band * float64(W)))
			bh := int(math.Round(c.band * float64(H)))
			kept, band := truth.Rect, truth.Rect
			var ext uncrop.Extents
			switch side {
			case "left":
				kept.Min.X, band.Max.X, ext.Left = bw, bw, bw
			case "right":
				kept.Max.X, band.Min.X, ext.Right = W-bw, W-bw, bw
			case "up":
				kept.Min.Y, band.Max.Y, ext.Up = bh, bh, bh
			case "down":
				kept.Max.Y, band.Min.Y, ext.Down = H-bh, H-bh, bh
			}
			in := image.NewNRGBA(image.Rect(0, 0, kept.Dx(), kept.Dy()))
			draw.Draw(in, in.Rect, truth, kept.Min, draw.Src)
			tj, ti := seamJump(truth, kept, side)
			truthJump += tj
			truthInterior += ti
			tl := lumaOf(truth, band)
			for mi, m := range methods {
				t0 := time.Now()
				got, err := m.fill(in, ext)
				el := time.Since(t0)
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", m.name, path, side, err)
				}
				if got.Rect != truth.Rect {
					return fmt.Errorf("%s %s %s: size %v, want %v", m.name, path, side, got.Rect, truth.Rect)
				}
				r := &res[mi]
				r.ssim += ssim(tl, lumaOf(got, band), band.Dx(), band.Dy())
				r.psnr += psnr(truth, got, band)
				for t, sub := range thirds(band, side) {
					r.thirds[t] += ssim(lumaOf(truth, sub), lumaOf(got, sub), sub.Dx(), sub.Dy())
				}
				j, i := seamJump(got, kept, side)
				r.jump += j
				r.interior += i
				r.ratio += j / math.Max(i, 1e-9)
				r.elapsed += el
				r.times = append(r.times, el)
				r.n++
				if mi == 0 && c.out != "" {
					name := fmt.Sprintf("%02d-%s-%s.png", fi+1, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), side)
					if err := writePNG(filepath.Join(c.out, name), got); err != nil {
						return err
					}
				}
			}
			cases++
		}
	}
	fmt.Fprintf(stdout, "photos: %d, cases: %d (band %.0f%% of each side in turn, ~%.2f MP, seed %d)\n",
		photos, cases, c.band*100, c.mp, c.seed)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tmean SSIM\tSSIM near\tmid\tfar\tmean PSNR dB\tseam jump\tinterior grad\tjump/interior\tmean ms\tp50 ms\t")
	for mi, m := range methods {
		r := res[mi]
		n := float64(r.n)
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t\n", m.name, r.ssim/n,
			r.thirds[0]/n, r.thirds[1]/n, r.thirds[2]/n, r.psnr/n,
			r.jump/n, r.interior/n, r.jump/r.interior, float64(r.elapsed.Milliseconds())/n, p50ms(r.times))
	}
	fmt.Fprintf(tw, "truth (reference)\t1.0000\t1\t1\t1\t-\t%.2f\t%.2f\t%.2f\t-\t-\t\n",
		truthJump/float64(cases), truthInterior/float64(cases), truthJump/truthInterior)
	if err := tw.Flush(); err != nil {
		return err
	}
	ours, rep, mir := res[0], res[1], res[2]
	fmt.Fprintf(stdout, "SSIM margin over edge replicate: %+.4f, over mirror: %+.4f\n", (ours.ssim-rep.ssim)/float64(ours.n), (ours.ssim-mir.ssim)/float64(ours.n))
	fmt.Fprintf(stdout, "target SSIM above both baselines: %v; target seam jump <= 1.5x interior: %v (%.2fx)\n",
		ours.ssim > rep.ssim && ours.ssim > mir.ssim, ours.jump <= 1.5*ours.interior, ours.jump/ours.interior)
	return nil
}

// thirds splits band into three strips parallel to the seam: next to the
// seam first.
func thirds(band image.Rectangle, side string) [3]image.Rectangle {
	var out [3]image.Rectangle
	for i := range out {
		r := band
		switch side {
		case "left", "right":
			a, b := band.Min.X+band.Dx()*i/3, band.Min.X+band.Dx()*(i+1)/3
			r.Min.X, r.Max.X = a, b
		default:
			a, b := band.Min.Y+band.Dy()*i/3, band.Min.Y+band.Dy()*(i+1)/3
			r.Min.Y, r.Max.Y = a, b
		}
		out[i] = r
	}
	if side == "left" || side == "up" {
		out[0], out[2] = out[2], out[0]
	}
	return out
}

func clampIdx(t, n int) int { return min(max(t, 0), n-1) }

func mirrorIdx(t, n int) int {
	// Symmetric reflection with period 2n.
	p := 2 * n
	m := ((t % p) + p) % p
	if m >= n {
		m = p - 1 - m
	}
	return m
}

// baseline extends k by ext (non-negative) mapping each new pixel to a kept
// one with idx on each axis.
func baseline(k *image.NRGBA, ext uncrop.Extents, idx func(t, n int) int) (*image.NRGBA, error) {
	w, h := k.Rect.Dx(), k.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w+ext.Left+ext.Right, h+ext.Up+ext.Down))
	for y := 0; y < out.Rect.Dy(); y++ {
		sy := idx(y-ext.Up, h)
		for x := 0; x < out.Rect.Dx(); x++ {
			sx := idx(x-ext.Left, w)
			copy(out.Pix[out.PixOffset(x, y):][:4], k.Pix[k.PixOffset(k.Rect.Min.X+sx, k.Rect.Min.Y+sy):][:4])
		}
	}
	return out, nil
}

// writeExample writes a before/after pair for the README: the photo at
// about 0.2 MP, and the photo extended by a quarter of its width on the left
// and right and a sixth of its height up and down.
func writeExample(dir, base string, truth *image.NRGBA, opt uncrop.Options) error {
	b := truth.Rect
	s := math.Sqrt(0.2e6 / float64(b.Dx()*b.Dy()))
	before := image.NewNRGBA(image.Rect(0, 0, int(float64(b.Dx())*s), int(float64(b.Dy())*s)))
	xdraw.CatmullRom.Scale(before, before.Rect, truth, b, draw.Src, nil)
	ext := uncrop.Extents{Left: before.Rect.Dx() / 4, Right: before.Rect.Dx() / 4, Up: before.Rect.Dy() / 6, Down: before.Rect.Dy() / 6}
	after, err := uncrop.Uncrop(before, ext, opt)
	if err != nil {
		return err
	}
	for name, img := range map[string]*image.NRGBA{"before": before, "after": after} {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s.jpg", base, name)))
		if err != nil {
			return err
		}
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err = enc.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// p50ms is the median of ts in milliseconds.
func p50ms(ts []time.Duration) float64 {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1000
}
