package main

import (
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/canvasd/canvasd/imaging/uncrop"
	"github.com/canvasd/canvasd/imaging/uncrop/ghostscene"
)

// evalGhosts runs uncrop on n generated ghost scenes (issue 17) and reports
// how many leave a copy of the near-edge object in the new band. With out
// set it writes each scene's output, the object and its best match boxed.
func evalGhosts(n int, seed uint64, opt uncrop.Options, out string, stdout io.Writer) error {
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scene\tkind\tside\tband px\tbest NCC\tmirrored\tghost\tfar detail\tms\t")
	var ghosts int
	var far float64
	var nccs []float64
	var times []time.Duration
	for i := 0; i < n; i++ {
		s := ghostscene.Generate(seed, i)
		l, r, u, d := s.Extents()
		t0 := time.Now()
		got, err := uncrop.Uncrop(s.Img, uncrop.Extents{Left: l, Right: r, Up: u, Down: d}, opt)
		el := time.Since(t0)
		if err != nil {
			return fmt.Errorf("scene %d: %w", i, err)
		}
		g := ghostscene.Measure(s, got)
		if g.IsGhost() {
			ghosts++
		}
		nccs = append(nccs, g.NCC)
		times = append(times, el)
		fd := ghostscene.FarDetail(s, got)
		far += fd
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%.3f\t%v\t%v\t%.2f\t%.0f\t\n", i, s.Kind, s.Side, s.Band, g.NCC, g.Mirrored, g.IsGhost(), fd, float64(el.Microseconds())/1000)
		if out != "" {
			img := image.NewNRGBA(got.Rect)
			draw.Draw(img, img.Rect, got, image.Point{}, draw.Src)
			obj := s.Object.Add(image.Pt(l, u))
			box(img, obj, [3]uint8{255, 255, 255})
			if g.IsGhost() {
				box(img, g.At, [3]uint8{255, 0, 0})
			}
			if err := writePNG(filepath.Join(out, fmt.Sprintf("ghost-%02d.png", i)), img); err != nil {
				return err
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	slices.Sort(nccs)
	fmt.Fprintf(stdout, "ghost scenes: %d (seed %d, %dx%d, band 35-50%%); ghosts (NCC > %.1f): %d of %d; NCC median %.3f, max %.3f; far-third detail %.2f of the original's; uncrop p50 %.0f ms\n",
		n, seed, ghostscene.W, ghostscene.H, ghostscene.GhostNCC, ghosts, n, nccs[len(nccs)/2], nccs[len(nccs)-1], far/float64(n), p50ms(times))
	return nil
}

// box draws a 1 px rectangle outline.
func box(img *image.NRGBA, r image.Rectangle, c [3]uint8) {
	set := func(x, y int) {
		if (image.Point{x, y}).In(img.Rect) {
			p := img.Pix[img.PixOffset(x, y):]
			p[0], p[1], p[2], p[3] = c[0], c[1], c[2], 255
		}
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		set(x, r.Min.Y)
		set(x, r.Max.Y-1)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		set(r.Min.X, y)
		set(r.Max.X-1, y)
	}
}
