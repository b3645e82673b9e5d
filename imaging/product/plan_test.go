package product

import (
	"math"
	"math/rand/v2"
	"testing"
)

type planCase struct {
	W, H, oW, oH   float64
	box            rectF
	cx, cy         float64
	mT, mR, mB, mL float64
}

// checkPlan verifies the invariants of planMaskCrop for one case.
func checkPlan(t *testing.T, c planCase) {
	t.Helper()
	win, s, fits := planMaskCrop(c.W, c.H, c.oW, c.oH, c.box, c.cx, c.cy, c.mT, c.mR, c.mB, c.mL)
	if !(s > 0) || math.IsInf(s, 0) {
		t.Fatalf("%+v: scale %v", c, s)
	}
	tol := 1e-6 * max(c.W, c.H, c.oW, c.oH)
	ww, wh := win.x1-win.x0, win.y1-win.y0
	// Box plus margins (in input pixels at scale s) inside the window.
	if c.box.x0-c.mL/s < win.x0-tol || c.box.x1+c.mR/s > win.x1+tol ||
		c.box.y0-c.mT/s < win.y0-tol || c.box.y1+c.mB/s > win.y1+tol {
		t.Fatalf("%+v: window %+v (s=%v, fits=%v) does not hold box+margins", c, win, s, fits)
	}
	if math.Abs(ww*s-c.oW) > tol*s+1e-6 || math.Abs(wh*s-c.oH) > tol*s+1e-6 {
		t.Fatalf("%+v: window %vx%v at scale %v is not the output shape", c, ww, wh, s)
	}
	if fits {
		if win.x0 < -tol || win.y0 < -tol || win.x1 > c.W+tol || win.y1 > c.H+tol {
			t.Fatalf("%+v: crop window %+v leaves the image", c, win)
		}
		// Centred on the centroid unless pushed by the image edge.
		if win.x0 > tol && win.x1 < c.W-tol && math.Abs((win.x0+win.x1)/2-c.cx) > tol &&
			win.x0 < c.box.x0-c.mL/s-tol && win.x1 > c.box.x1+c.mR/s+tol {
			t.Fatalf("%+v: free window %+v not centred on x %v", c, win, c.cx)
		}
		return
	}
	// Padded: no window of this shape inside the image may hold the box
	// plus margins. Scan scales (larger s = smaller window).
	sB := min((c.oW-c.mL-c.mR)/(c.box.x1-c.box.x0), (c.oH-c.mT-c.mB)/(c.box.y1-c.box.y0))
	for i := 0; i <= 400; i++ {
		sc := sB * float64(i) / 400
		if sc <= 0 {
			continue
		}
		feasible := func(full, size, lo, hi, m0, m1 float64) bool {
			need0, need1 := lo-m0/sc, hi+m1/sc
			return size <= full*(1-1e-9) && need0 >= 1e-9*full && need1 <= full*(1-1e-9) && need1-need0 <= size*(1-1e-9)
		}
		if feasible(c.W, c.oW/sc, c.box.x0, c.box.x1, c.mL, c.mR) && feasible(c.H, c.oH/sc, c.box.y0, c.box.y1, c.mT, c.mB) {
			t.Fatalf("%+v: padded, but a window at scale %v fits inside the image", c, sc)
		}
	}
}

func randPlanCase(rng *rand.Rand) planCase {
	W, H := float64(50+rng.IntN(4000)), float64(50+rng.IntN(4000))
	x0, x1 := W*rng.Float64(), W*rng.Float64()
	y0, y1 := H*rng.Float64(), H*rng.Float64()
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	x1, y1 = max(x1, x0+1), max(y1, y0+1)
	x1, y1 = min(x1, W), min(y1, H)
	x0, y0 = min(x0, x1-1), min(y0, y1-1)
	if rng.IntN(5) == 0 { // touch an edge
		x0 = 0
	}
	oW, oH := float64(1+rng.IntN(3000)), float64(1+rng.IntN(3000))
	c := planCase{W: W, H: H, oW: oW, oH: oH, box: rectF{x0, y0, x1, y1},
		cx: x0 + (x1-x0)*(0.05+0.9*rng.Float64()), cy: y0 + (y1-y0)*(0.05+0.9*rng.Float64())}
	if rng.IntN(3) > 0 {
		c.mL, c.mR = oW*0.45*rng.Float64(), oW*0.45*rng.Float64()
		c.mT, c.mB = oH*0.45*rng.Float64(), oH*0.45*rng.Float64()
	}
	return c
}

func TestPlanMaskCropProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	fits := 0
	const n = 5000
	for range n {
		c := randPlanCase(rng)
		checkPlan(t, c)
		if _, _, f := planMaskCrop(c.W, c.H, c.oW, c.oH, c.box, c.cx, c.cy, c.mT, c.mR, c.mB, c.mL); f {
			fits++
		}
	}
	if fits == 0 || fits == n {
		t.Fatalf("%d of %d cases fit: both paths must be exercised", fits, n)
	}
}

func FuzzPlanMaskCrop(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(99), uint64(7))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		checkPlan(t, randPlanCase(rand.New(rand.NewPCG(a, b))))
	})
}
