package main

// removebg mode (issue 18): the whole POST /v1/remove-background request of
// a 10 MP JPEG, on a running canvasd over a real socket: upload, JPEG decode,
// background removal, PNG encode, answer. Requests are sent one at a time;
// it reports the wall time per request (p50, min, max) as the client sees
// it, and the server process's CPU time per request (utime+stime from
// /proc/PID/stat, when it started the server itself).
//
//	canvasbench -mode removebg -requests 10

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
)

// productJPEG draws the 10 MP scene of server.BenchmarkRemoveBackgroundHTTP10MP
// (3650x2740, a rounded red product on an off-white background, Gaussian
// noise sigma 2, seed 91) and encodes it as JPEG quality 90.
func productJPEG(w, h int, box image.Rectangle, noise float64, seed uint64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	bw, bh := float64(box.Dx()), float64(box.Dy())
	bodyTop := float64(box.Min.Y) + 0.25*bh
	r := 0.15 * bw
	cx := float64(box.Min.X) + bw/2
	inside := func(x, y float64) bool {
		x0, x1, y0, y1 := float64(box.Min.X), float64(box.Max.X), bodyTop, float64(box.Max.Y)
		if x >= x0 && x < x1 && y >= y0 && y < y1 {
			qx := math.Max(math.Max(x0+r-x, x-(x1-r)), 0)
			qy := math.Max(math.Max(y0+r-y, y-(y1-r)), 0)
			if qx*qx+qy*qy <= r*r {
				return true
			}
		}
		ex, ey := (x-cx)/(0.22*bw), (y-bodyTop)/(0.25*bh+0.5)
		return ex*ex+ey*ey <= 1
	}
	c8 := func(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }
	for y := range h {
		for x := range w {
			n := rng.NormFloat64() * noise
			var c color.NRGBA
			if inside(float64(x)+0.5, float64(y)+0.5) {
				t := float64(y-box.Min.Y) / bh
				c = color.NRGBA{c8(190 - 60*t + n), c8(40 + 20*t + n), c8(30 + 40*t + n), 255}
			} else {
				c = color.NRGBA{c8(246 + n), c8(244 + n), c8(240 + n), 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	err := imaging.EncodeJPEG(&buf, img, 90)
	return buf.Bytes(), err
}

// procCPU is a process's utime+stime from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // f[0] is field 3 (state)
	ut, _ := strconv.ParseInt(f[11], 10, 64)                 // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)                 // field 15
	return time.Duration(ut+st) * time.Second / 100          // USER_HZ = 100 on Linux
}

func runRemoveBG(c config) error {
	pid, stop, err := ownServer(&c)
	if err != nil {
		return err
	}
	defer stop()
	jpg, err := productJPEG(3650, 2740, image.Rect(1200, 500, 2400, 2400), 2, 91)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image_file", "in.jpg")
	fw.Write(jpg)
	mw.Close()
	fmt.Printf("input: 3650x2740 (10.0 MP) JPEG q90, %d bytes; %d requests one at a time\n", len(jpg), c.requests)
	var lastOut []byte
	post := func() (int, error) {
		req, _ := http.NewRequest("POST", c.url+"/v1/remove-background", bytes.NewReader(body.Bytes()))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%s: %.200s", resp.Status, out)
		}
		lastOut = out
		return len(out), nil
	}
	if _, err := post(); err != nil { // warm-up, untimed
		return err
	}
	durs := make([]time.Duration, 0, c.requests)
	cpu0 := procCPU(pid)
	var outBytes int
	for range c.requests {
		t0 := time.Now()
		n, err := post()
		if err != nil {
			return err
		}
		durs = append(durs, time.Since(t0))
		outBytes = n
	}
	cpu := procCPU(pid) - cpu0
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("whole request: p50 %.0f ms  min %.0f ms  max %.0f ms  (output PNG %d bytes)\n", ms(pct(durs, 0.5)), ms(durs[0]), ms(durs[len(durs)-1]), outBytes)
	if pid > 0 {
		fmt.Printf("server CPU per request: %.0f ms\n", ms(cpu)/float64(c.requests))
	}
	// Breakdown, in this process with the server's own codecs (imaging.Decode
	// and imaging.EncodePNG), after the requests: the 10 MP JPEG decode and
	// the 10 MP RGBA PNG encode of the answer.
	res, _, err := imaging.Decode(lastOut, imaging.Limits{})
	if err != nil {
		return err
	}
	var dec, enc []time.Duration
	for range 3 {
		t0 := time.Now()
		if _, _, err := imaging.Decode(jpg, imaging.Limits{}); err != nil {
			return err
		}
		dec = append(dec, time.Since(t0))
		t0 = time.Now()
		if err := imaging.EncodePNG(io.Discard, res); err != nil {
			return err
		}
		enc = append(enc, time.Since(t0))
	}
	slices.Sort(dec)
	slices.Sort(enc)
	fmt.Printf("breakdown (client process, same codecs, median of 3): JPEG decode %.0f ms, PNG encode of the answer %.0f ms\n", ms(dec[1]), ms(enc[1]))
	return nil
}
