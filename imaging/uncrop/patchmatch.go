package uncrop

import (
	"image"
	"math"
)

// Patch synthesis tuning.
const (
	pr           = 3         // patch radius: patches are 7x7
	pside        = 2*pr + 1  // patch side
	pvals        = pside * 3 // floats in one patch row
	minKnownSide = 32        // coarsest level keeps at least this many known pixels per side
	maxLevels    = 5
	pmBandRows   = 8 // rows per PatchMatch tile
	// fineSearchRadius bounds the random search below the coarsest level.
	fineSearchRadius = 24

	// Voting weight of a patch: exp(-d/(voteSoft*mean d)) * confGamma^-r,
	// where d is its match distance and r the distance of its centre from
	// the original. The confidence term lets patches that overlap or touch
	// the original dominate, so that structure grows out of the edge
	// (Wexler et al. 2007); it also keeps the fill close to the original's
	// colours, which is what raised SSIM most in the eval.
	voteSoft  = 2.0
	confGamma = 2.5
)

// emSchedule returns the number of EM iterations and of PatchMatch passes
// per EM iteration at pyramid level l (0 = finest) of n.
func emSchedule(l, n int) (em, pm int) {
	switch {
	case l == n-1:
		return 6, 3
	case l == 0:
		return 2, 2
	default:
		return 3, 2
	}
}

// pmLevel is one pyramid level of the working canvas.
type pmLevel struct {
	W, H  int
	k     image.Rectangle // the known part, in canvas coordinates
	known fimg            // the known part's pixels, k.Dx() x k.Dy()
	cv    []float32       // the canvas, W*H*3; known part fixed
	tgt   []bool          // patch centred here overlaps the unknown part
	nx    []int32         // nearest-neighbour field: source patch centre
	ny    []int32
	nd    []float32 // its distance
	ox    []int32   // finest level: offset to the best matching source
	oy    []int32
	pen   []float32 // extra distance of the source patch centred here (distinct content)
}

func newLevel(W, H int, k image.Rectangle, known fimg) *pmLevel {
	L := &pmLevel{W: W, H: H, k: k, known: known,
		cv:  make([]float32, W*H*3),
		tgt: make([]bool, W*H),
		nx:  make([]int32, W*H), ny: make([]int32, W*H), nd: make([]float32, W*H),
	}
	for y := 0; y < k.Dy(); y++ {
		copy(L.cv[((k.Min.Y+y)*W+k.Min.X)*3:][:k.Dx()*3], known.pix[y*k.Dx()*3:][:k.Dx()*3])
	}
	for y := pr; y < H-pr; y++ {
		inY := y-pr >= k.Min.Y && y+pr < k.Max.Y
		for x := pr; x < W-pr; x++ {
			L.tgt[y*W+x] = !(inY && x-pr >= k.Min.X && x+pr < k.Max.X)
		}
	}
	return L
}

func (L *pmLevel) known1(x, y int) bool {
	return x >= L.k.Min.X && x < L.k.Max.X && y >= L.k.Min.Y && y < L.k.Max.Y
}

// source-centre domain: patches that lie wholly in the known part.
func (L *pmLevel) sx0() int { return L.k.Min.X + pr }
func (L *pmLevel) sx1() int { return L.k.Max.X - pr - 1 }
func (L *pmLevel) sy0() int { return L.k.Min.Y + pr }
func (L *pmLevel) sy1() int { return L.k.Max.Y - pr - 1 }

func (L *pmLevel) clampSrc(x, y int) (int, int) {
	return min(max(x, L.sx0()), L.sx1()), min(max(y, L.sy0()), L.sy1())
}

// dist is the sum of squared differences between the patches centred at
// (tx, ty) and (sx, sy), plus the source's saliency penalty; it stops early
// once it reaches bound.
func (L *pmLevel) dist(tx, ty, sx, sy int, bound float32) float32 {
	W := L.W
	var d float32
	if L.pen != nil {
		if d = L.pen[sy*W+sx]; d >= bound {
			return d
		}
	}
	for dy := -pr; dy <= pr; dy++ {
		a := L.cv[((ty+dy)*W+tx-pr)*3:][:pvals]
		b := L.cv[((sy+dy)*W+sx-pr)*3:][:pvals]
		for i := range a {
			e := a[i] - b[i]
			d += e * e
		}
		if d >= bound {
			return d
		}
	}
	return d
}

// mirrorFill sets the unknown part of the canvas to src, an image of the
// known part's size, reflected across its edges.
func (L *pmLevel) mirrorFill(src fimg) {
	for y := 0; y < L.H; y++ {
		my := reflect(y-L.k.Min.Y, L.k.Dy())
		for x := 0; x < L.W; x++ {
			if L.known1(x, y) {
				continue
			}
			mx := reflect(x-L.k.Min.X, L.k.Dx())
			copy(L.cv[(y*L.W+x)*3:][:3], src.pix[(my*src.w+mx)*3:][:3])
		}
	}
}

// initNNF gives every target patch a source: the better of a random one, the
// reflection of its position, and (if up is not nil) the match of the
// corresponding patch one level coarser.
func (L *pmLevel) initNNF(seed uint64, tag uint64, up *pmLevel) {
	var fx, fy float32
	if up != nil {
		fx = float32(up.k.Dx()) / float32(L.k.Dx())
		fy = float32(up.k.Dy()) / float32(L.k.Dy())
	}
	sw, sh := L.sx1()-L.sx0()+1, L.sy1()-L.sy0()+1
	parallelRows(L.H, pmBandRows, func(tile, y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < L.W; x++ {
				i := y*L.W + x
				if !L.tgt[i] {
					continue
				}
				r := newRNG(hash3(seed, tag, uint64(i)))
				bx, by := L.sx0()+r.intn(sw), L.sy0()+r.intn(sh)
				bd := L.dist(x, y, bx, by, math.MaxFloat32)
				try := func(cx, cy int) {
					cx, cy = L.clampSrc(cx, cy)
					if d := L.dist(x, y, cx, cy, bd); d < bd {
						bx, by, bd = cx, cy, d
					}
				}
				try(reflect(x-L.k.Min.X, L.k.Dx())+L.k.Min.X, reflect(y-L.k.Min.Y, L.k.Dy())+L.k.Min.Y)
				if up != nil {
					u := (float32(x-L.k.Min.X)+0.5)*fx - 0.5 + float32(up.k.Min.X)
					v := (float32(y-L.k.Min.Y)+0.5)*fy - 0.5 + float32(up.k.Min.Y)
					cu := min(max(int(u+0.5), pr), up.W-pr-1)
					cv := min(max(int(v+0.5), pr), up.H-pr-1)
					if c := cv*up.W + cu; up.tgt[c] {
						ox := float32(int(up.nx[c])-cu) / fx
						oy := float32(int(up.ny[c])-cv) / fy
						try(x+int(math.Round(float64(ox))), y+int(math.Round(float64(oy))))
					}
				}
				L.nx[i], L.ny[i], L.nd[i] = int32(bx), int32(by), bd
			}
		}
	})
}

// recomputeDist refreshes the distances after the canvas changed.
func (L *pmLevel) recomputeDist() {
	parallelRows(L.H, pmBandRows, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < L.W; x++ {
				if i := y*L.W + x; L.tgt[i] {
					L.nd[i] = L.dist(x, y, int(L.nx[i]), int(L.ny[i]), math.MaxFloat32)
				}
			}
		}
	})
}

// pmPass is one PatchMatch pass: propagation from the previous neighbour
// (left/up when forward, right/down otherwise) and random search around the
// current best. Tiles are bands of rows; a neighbour in another band is read
// from the snapshot taken before the pass, so bands never read each other's
// work in progress and the result does not depend on scheduling.
func (L *pmLevel) pmPass(seed, tag uint64, forward bool, searchR int, snapX, snapY []int32) {
	copy(snapX, L.nx)
	copy(snapY, L.ny)
	W := L.W
	sx0, sx1, sy0, sy1 := L.sx0(), L.sx1(), L.sy0(), L.sy1()
	maxR := min(max(sx1-sx0, sy1-sy0), searchR)
	step := 1
	if !forward {
		step = -1
	}
	parallelRows(L.H, pmBandRows, func(tile, y0, y1 int) {
		ys, ye := y0, y1
		xs, xe := 0, W
		if !forward {
			ys, ye = y1-1, y0-1
			xs, xe = W-1, -1
		}
		for y := ys; y != ye; y += step {
			for x := xs; x != xe; x += step {
				i := y*W + x
				if !L.tgt[i] {
					continue
				}
				bx, by, bd := int(L.nx[i]), int(L.ny[i]), L.nd[i]
				try := func(cx, cy int) {
					if cx < sx0 || cx > sx1 || cy < sy0 || cy > sy1 || (cx == bx && cy == by) {
						return
					}
					if d := L.dist(x, y, cx, cy, bd); d < bd {
						bx, by, bd = cx, cy, d
					}
				}
				// Horizontal neighbour: same row, always this tile.
				if n := x - step; n >= 0 && n < W && L.tgt[i-step] {
					try(int(L.nx[i-step])+step, int(L.ny[i-step]))
				}
				// Vertical neighbour: this tile's work, or the snapshot.
				if ny := y - step; ny >= 0 && ny < L.H {
					j := ny*W + x
					if L.tgt[j] {
						if ny >= y0 && ny < y1 {
							try(int(L.nx[j]), int(L.ny[j])+step)
						} else {
							try(int(snapX[j]), int(snapY[j])+step)
						}
					}
				}
				r := newRNG(hash3(seed, tag, uint64(i)))
				for R := maxR; R >= 1; R /= 2 {
					cx := bx + r.intn(2*R+1) - R
					cy := by + r.intn(2*R+1) - R
					cx, cy = min(max(cx, sx0), sx1), min(max(cy, sy0), sy1)
					try(cx, cy)
				}
				L.nx[i], L.ny[i], L.nd[i] = int32(bx), int32(by), bd
			}
		}
	})
}

// vote sets every unknown pixel to the weighted mean of what the source
// patches of all target patches covering it say it should be. With
// recordOff it also keeps, per pixel, the offset to the source pixel of the
// best-weighted covering patch, for the full-resolution detail transfer.
func (L *pmLevel) vote(recordOff bool) {
	W, H := L.W, L.H
	rowSum := make([]float64, H)
	rowN := make([]int, H)
	parallelRows(H, pmBandRows, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < W; x++ {
				if i := y*W + x; L.tgt[i] {
					rowSum[y] += float64(L.nd[i])
					rowN[y]++
				}
			}
		}
	})
	var sum float64
	var n int
	for y := range rowSum {
		sum += rowSum[y]
		n += rowN[y]
	}
	h := float32(sum/float64(max(n, 1))) + 1
	wgt := make([]float32, W*H)
	parallelRows(H, pmBandRows, func(_, y0, y1 int) {
		for i := y0 * W; i < y1*W; i++ {
			if L.tgt[i] {
				x, y := i%W, i/W
				dx := float64(max(L.k.Min.X-x, x-(L.k.Max.X-1), 0))
				dy := float64(max(L.k.Min.Y-y, y-(L.k.Max.Y-1), 0))
				conf := math.Pow(confGamma, -math.Sqrt(dx*dx+dy*dy))
				wgt[i] = float32(conf * math.Exp(float64(-L.nd[i]/(h*voteSoft))))
			}
		}
	})
	if recordOff {
		L.ox, L.oy = make([]int32, W*H), make([]int32, W*H)
	}
	parallelRows(H, pmBandRows, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < W; x++ {
				if L.known1(x, y) {
					continue
				}
				var r, g, b, ws, bw float32
				var box, boy int32
				for dy := -pr; dy <= pr; dy++ {
					cy := y - dy
					if cy < pr || cy >= H-pr {
						continue
					}
					for dx := -pr; dx <= pr; dx++ {
						cx := x - dx
						if cx < pr || cx >= W-pr {
							continue
						}
						c := cy*W + cx
						if !L.tgt[c] {
							continue
						}
						w := wgt[c]
						o := ((int(L.ny[c])+dy)*W + int(L.nx[c]) + dx) * 3
						r += w * L.cv[o]
						g += w * L.cv[o+1]
						b += w * L.cv[o+2]
						ws += w
						if w > bw {
							bw, box, boy = w, L.nx[c]-int32(cx), L.ny[c]-int32(cy)
						}
					}
				}
				if ws == 0 {
					continue
				}
				o := (y*W + x) * 3
				L.cv[o], L.cv[o+1], L.cv[o+2] = r/ws, g/ws, b/ws
				if recordOff {
					L.ox[y*W+x], L.oy[y*W+x] = box, boy
				}
			}
		}
	})
}

// upsampleFrom sets the unknown part of L's canvas from the coarser level C.
func (L *pmLevel) upsampleFrom(C *pmLevel) {
	fx := float32(C.k.Dx()) / float32(L.k.Dx())
	fy := float32(C.k.Dy()) / float32(L.k.Dy())
	parallelRows(L.H, 16, func(_, y0, y1 int) {
		var c [3]float32
		for y := y0; y < y1; y++ {
			v := (float32(y-L.k.Min.Y)+0.5)*fy - 0.5 + float32(C.k.Min.Y)
			for x := 0; x < L.W; x++ {
				if L.known1(x, y) {
					continue
				}
				u := (float32(x-L.k.Min.X)+0.5)*fx - 0.5 + float32(C.k.Min.X)
				bilinear(C.cv, C.W, C.H, u, v, &c)
				copy(L.cv[(y*L.W+x)*3:][:3], c[:])
			}
		}
	})
}

// scaleExt scales an extension length, keeping a non-zero one non-zero.
func scaleExt(n int, s float64) int {
	if n <= 0 {
		return 0
	}
	return max(1, int(math.Round(float64(n)/s)))
}

// synthesize runs the coarse-to-fine synthesis for an output of W x H with
// the original keep at "at", on a working canvas of at most work pixels. It
// returns the finest level, or nil when the known part is too small for
// patches.
func synthesize(W, H int, at image.Rectangle, keep *image.NRGBA, seed uint64, work int) *pmLevel {
	s := max(1, math.Sqrt(float64(W)*float64(H)/float64(work)))
	type geo struct {
		kw, kh, l, r, u, d int
	}
	g := geo{
		kw: max(1, int(math.Round(float64(at.Dx())/s))),
		kh: max(1, int(math.Round(float64(at.Dy())/s))),
		l:  scaleExt(at.Min.X, s), r: scaleExt(W-at.Max.X, s),
		u: scaleExt(at.Min.Y, s), d: scaleExt(H-at.Max.Y, s),
	}
	if g.kw < pside || g.kh < pside {
		return nil
	}
	geos := []geo{g}
	for len(geos) < maxLevels {
		p := geos[len(geos)-1]
		n := geo{
			kw: int(math.Round(float64(p.kw) / 2)), kh: int(math.Round(float64(p.kh) / 2)),
			l: scaleExt(p.l, 2), r: scaleExt(p.r, 2), u: scaleExt(p.u, 2), d: scaleExt(p.d, 2),
		}
		if min(n.kw, n.kh) < minKnownSide {
			break
		}
		geos = append(geos, n)
	}
	// Known images, finest first.
	knowns := make([]fimg, len(geos))
	knowns[0] = downNRGBA(keep, g.kw, g.kh)
	for i := 1; i < len(geos); i++ {
		knowns[i] = down(knowns[i-1], geos[i].kw, geos[i].kh)
	}
	// Which distinct regions continue across the seam is decided on the
	// finest level, where a blob near the edge is still apart from it.
	edges := [4]bool{at.Min.X > 0, at.Max.X < W, at.Min.Y > 0, at.Max.Y < H}
	sal0, ex0 := newSaliency(knowns[0], edges, nil)
	var prev *pmLevel
	n := len(geos)
	for l := n - 1; l >= 0; l-- {
		g := geos[l]
		// Pad every new side by a patch radius, so that the outermost
		// new pixels are covered by as many patches as any other.
		for _, e := range []*int{&g.l, &g.r, &g.u, &g.d} {
			if *e > 0 {
				*e += pr
			}
		}
		k := image.Rect(g.l, g.u, g.l+g.kw, g.u+g.kh)
		L := newLevel(g.l+g.kw+g.r, g.u+g.kh+g.d, k, knowns[l])
		snapX, snapY := make([]int32, L.W*L.H), make([]int32, L.W*L.H)
		sal := sal0
		if l > 0 {
			ex := downMask(ex0, knowns[0].w, knowns[0].h, knowns[l].w, knowns[l].h)
			sal, _ = newSaliency(knowns[l], edges, ex)
		}
		L.pen = L.patchPenalty(sal)
		if prev == nil {
			// Start from the reflection with distinct objects painted
			// out, so that none is mirrored into the new area.
			L.mirrorFill(sal.generic)
		} else {
			L.upsampleFrom(prev)
		}
		L.initNNF(seed, uint64(l)<<32, prev)
		em, pm := emSchedule(l, n)
		for e := 0; e < em; e++ {
			if e > 0 {
				L.recomputeDist()
			}
			for p := 0; p < pm; p++ {
				tag := uint64(l)<<32 | uint64(e+1)<<16 | uint64(p+1)
				// Finer levels start from the upsampled coarser
				// field, so a local random search is enough there.
				searchR := math.MaxInt
				if l < n-1 {
					searchR = fineSearchRadius
				}
				L.pmPass(seed, tag, p%2 == 0, searchR, snapX, snapY)
			}
			L.vote(l == 0 && e == em-1)
		}
		prev = L
	}
	prev.seamCorrect()
	return prev
}

// Seam correction tuning, in working pixels.
const seamDepth = 2 // known rows/columns the residual is measured on

// seamScales splits the seam residual into bands by smoothing radius along
// the seam; a band of radius s fades over about s pixels, as a harmonic
// (Laplace) extension of that wavelength would.
var seamScales = []struct{ smooth, decay float64 }{
	{0, 1.5}, {2, 3}, {6, 8}, {16, 20}, {48, 48},
}

// voteAt is what the target patches covering (x, y) say its value is.
func (L *pmLevel) voteAt(x, y int, out *[3]float32) bool {
	W, H := L.W, L.H
	var r, g, b, ws float32
	for dy := -pr; dy <= pr; dy++ {
		cy := y - dy
		if cy < pr || cy >= H-pr {
			continue
		}
		for dx := -pr; dx <= pr; dx++ {
			cx := x - dx
			if cx < pr || cx >= W-pr {
				continue
			}
			c := cy*W + cx
			if !L.tgt[c] {
				continue
			}
			o := ((int(L.ny[c])+dy)*W + int(L.nx[c]) + dx) * 3
			r += L.cv[o]
			g += L.cv[o+1]
			b += L.cv[o+2]
			ws++
		}
	}
	if ws == 0 {
		return false
	}
	out[0], out[1], out[2] = r/ws, g/ws, b/ws
	return true
}

// seamCorrect removes the low-frequency step between the known part and the
// synthesis. On the known side of each edge the residual between the known
// pixels and what the synthesis would have put there is measured and
// smoothed along the edge; it is then added to the new pixels, fading with
// their distance from the nearest known pixel. This is a cheap stand-in for
// Poisson blending.
func (L *pmLevel) seamCorrect() {
	k := L.k
	kw, kh := k.Dx(), k.Dy()
	// Residuals along the four edges, indexed along the edge.
	resid := func(n int, at func(i, d int) (int, int)) [][][3]float32 {
		raw := make([][3]float32, n)
		for i := 0; i < n; i++ {
			var s [3]float32
			var c float32
			for d := 0; d < seamDepth; d++ {
				x, y := at(i, d)
				var v [3]float32
				if !L.voteAt(x, y, &v) {
					continue
				}
				o := (y*L.W + x) * 3
				for j := 0; j < 3; j++ {
					s[j] += L.cv[o+j] - v[j]
				}
				c++
			}
			if c > 0 {
				for j := range s {
					raw[i][j] = s[j] / c
				}
			}
		}
		return bands(raw)
	}
	var left, right, top, bottom [][][3]float32
	if k.Min.X > 0 {
		left = resid(kh, func(i, d int) (int, int) { return k.Min.X + d, k.Min.Y + i })
	}
	if k.Max.X < L.W {
		right = resid(kh, func(i, d int) (int, int) { return k.Max.X - 1 - d, k.Min.Y + i })
	}
	if k.Min.Y > 0 {
		top = resid(kw, func(i, d int) (int, int) { return k.Min.X + i, k.Min.Y + d })
	}
	if k.Max.Y < L.H {
		bottom = resid(kw, func(i, d int) (int, int) { return k.Min.X + i, k.Max.Y - 1 - d })
	}
	parallelRows(L.H, 16, func(_, y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < L.W; x++ {
				if L.known1(x, y) {
					continue
				}
				// Nearest known pixel and the edges it lies on.
				qx, qy := min(max(x, k.Min.X), k.Max.X-1), min(max(y, k.Min.Y), k.Max.Y-1)
				dx, dy := float64(x-qx), float64(y-qy)
				d := math.Sqrt(dx*dx + dy*dy)
				var c [3]float32
				var n float32
				add := func(e [][][3]float32, i int) {
					if e == nil {
						return
					}
					for b, sc := range seamScales {
						f := float32(math.Exp(-d / sc.decay))
						for j := 0; j < 3; j++ {
							c[j] += f * e[b][i][j]
						}
					}
					n++
				}
				if x < k.Min.X {
					add(left, qy-k.Min.Y)
				} else if x >= k.Max.X {
					add(right, qy-k.Min.Y)
				}
				if y < k.Min.Y {
					add(top, qx-k.Min.X)
				} else if y >= k.Max.Y {
					add(bottom, qx-k.Min.X)
				}
				if n == 0 {
					continue
				}
				f := 1 / n
				o := (y*L.W + x) * 3
				for j := 0; j < 3; j++ {
					L.cv[o+j] += f * c[j]
				}
			}
		}
	})
}

// bands splits a residual along an edge into len(seamScales) parts, each
// the difference of two box smoothings (the last one is the smoothest
// itself), so that they add up to the residual.
func bands(raw [][3]float32) [][][3]float32 {
	n := len(raw)
	smooth := func(r int) [][3]float32 {
		out := make([][3]float32, n)
		if r == 0 {
			copy(out, raw)
			return out
		}
		// Prefix sums for an O(n) box filter.
		pre := make([][3]float64, n+1)
		for i := range raw {
			for j := 0; j < 3; j++ {
				pre[i+1][j] = pre[i][j] + float64(raw[i][j])
			}
		}
		for i := range out {
			lo, hi := max(0, i-r), min(n-1, i+r)
			for j := 0; j < 3; j++ {
				out[i][j] = float32((pre[hi+1][j] - pre[lo][j]) / float64(hi-lo+1))
			}
		}
		return out
	}
	sm := make([][][3]float32, len(seamScales))
	for b, sc := range seamScales {
		sm[b] = smooth(int(sc.smooth))
	}
	out := make([][][3]float32, len(seamScales))
	for b := range sm {
		out[b] = make([][3]float32, n)
		for i := range out[b] {
			for j := 0; j < 3; j++ {
				v := sm[b][i][j]
				if b+1 < len(sm) {
					v -= sm[b+1][i][j]
				}
				out[b][i][j] = v
			}
		}
	}
	return out
}
