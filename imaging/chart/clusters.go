package chart

import (
	"math"
	"sort"
)

// cluster is one series colour.
type cluster struct {
	c     [3]float64
	count int
}

const (
	minSeriesChroma = 45.0 // below this a colour is grey (text, grid, axes)
	assignDist      = 42.0 // max distance from the background→colour segment
	assignAlpha     = 0.45 // min coverage for a pixel to belong to a series
)

// findClusters groups the saturated colours of the image. Seeds are coloured
// pixels with at least two similar neighbours, which drops JPEG ringing and
// most anti-aliasing fringes; lighter versions of an existing colour (the
// anti-aliased edges of bars and lines) are folded into it.
func findClusters(r *raster) []cluster {
	const bits = 4
	const nb = 1 << bits
	type bin struct {
		n int
		s [3]float64
	}
	bins := make([]bin, nb*nb*nb)
	total := 0
	for y := 1; y < r.h-1; y++ {
		for x := 1; x < r.w-1; x++ {
			i := y*r.w + x
			if r.chroma[i] < 40 {
				continue
			}
			p := [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
			sim := 0
			for dy := -1; dy <= 1 && sim < 2; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if dx == 0 && dy == 0 {
						continue
					}
					j := ((y+dy)*r.w + x + dx) * 3
					d := math.Abs(float64(r.rgb[j])-p[0]) + math.Abs(float64(r.rgb[j+1])-p[1]) + math.Abs(float64(r.rgb[j+2])-p[2])
					if d < 45 {
						sim++
					}
				}
			}
			if sim < 2 {
				continue
			}
			k := (int(r.rgb[i*3])>>(8-bits))*nb*nb + (int(r.rgb[i*3+1])>>(8-bits))*nb + int(r.rgb[i*3+2])>>(8-bits)
			bins[k].n++
			for c := 0; c < 3; c++ {
				bins[k].s[c] += p[c]
			}
			total++
		}
	}
	var order []int
	for k := range bins {
		if bins[k].n > 0 {
			order = append(order, k)
		}
	}
	sort.Slice(order, func(a, b int) bool { return bins[order[a]].n > bins[order[b]].n })
	minCount := max(20, int(0.003*float64(total)))
	var cl []cluster
	var sums [][3]float64
	for _, k := range order {
		b := bins[k]
		if b.n < minCount/4 {
			break
		}
		m := [3]float64{b.s[0] / float64(b.n), b.s[1] / float64(b.n), b.s[2] / float64(b.n)}
		merged := false
		for ci := range cl {
			if colorDist(m, cl[ci].c) < 48 || sameHue(m, cl[ci].c, r.bg) {
				cl[ci].count += b.n
				for c := 0; c < 3; c++ {
					sums[ci][c] += b.s[c]
				}
				merged = true
				break
			}
			if a, d := segmentCoverage(m, r.bg, cl[ci].c); d < 30 && a < 0.9 {
				merged = true // a lighter, anti-aliased version of cl[ci]
				break
			}
			if a, d := segmentCoverage(m, [3]float64{}, cl[ci].c); d < 30 && a < 0.95 {
				merged = true // cl[ci] blended with black text or an axis
				break
			}
		}
		if merged || b.n < minCount || chromaOf(m) < minSeriesChroma {
			continue
		}
		cl = append(cl, cluster{c: m, count: b.n})
		sums = append(sums, b.s)
	}
	for ci := range cl {
		for c := 0; c < 3; c++ {
			cl[ci].c[c] = sums[ci][c] / float64(cl[ci].count)
		}
	}
	return cl
}

// labelMap assigns every pixel to the nearest series colour or -1, and
// records its coverage.
type labelMap struct {
	w, h  int
	lab   []int16
	alpha []float32
}

func assign(r *raster, cl []cluster) *labelMap {
	lm := &labelMap{w: r.w, h: r.h, lab: make([]int16, r.w*r.h), alpha: make([]float32, r.w*r.h)}
	chr := make([]float64, len(cl))
	for i, c := range cl {
		chr[i] = chromaOf(c.c)
	}
	for i := range lm.lab {
		lm.lab[i] = -1
		if r.chroma[i] < 18 {
			continue
		}
		p := [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
		best, bestD, bestA := -1, assignDist, 0.0
		for ci, c := range cl {
			a, d := segmentCoverage(p, r.bg, c.c)
			if a < assignAlpha || float64(r.chroma[i]) < 0.45*a*chr[ci] {
				continue
			}
			if d < bestD {
				best, bestD, bestA = ci, d, a
			}
		}
		if best >= 0 {
			lm.lab[i] = int16(best)
			lm.alpha[i] = float32(bestA)
		}
	}
	return lm
}

// refine recomputes each colour from its well-covered pixels, so that a
// cluster seeded by an anti-aliased shade reports the true series colour,
// and drops colours with too few pixels.
func refine(r *raster, cl []cluster, lm *labelMap) []cluster {
	type acc struct {
		ts  []float64
		idx []int
	}
	accs := make([]acc, len(cl))
	for i, l := range lm.lab {
		if l < 0 {
			continue
		}
		p := [3]float64{float64(r.rgb[i*3]), float64(r.rgb[i*3+1]), float64(r.rgb[i*3+2])}
		t, d := rayCoverage(p, r.bg, cl[l].c)
		if d < 25 && t >= 0.5 && t <= 1.25 {
			accs[l].ts = append(accs[l].ts, t)
			accs[l].idx = append(accs[l].idx, i)
		}
	}
	var out []cluster
	biggest := 0
	for i := range cl {
		biggest = max(biggest, len(accs[i].ts))
	}
	for i, c := range cl {
		a := accs[i]
		if len(a.ts) < 12 || float64(len(a.ts)) < 0.03*float64(biggest) {
			continue
		}
		// The series colour is what its best-covered pixels show: the top
		// fifth by coverage along the ray from the background.
		srt := append([]float64(nil), a.ts...)
		sort.Float64s(srt)
		cut := srt[len(srt)*4/5]
		var s [3]float64
		n := 0.0
		for k, t := range a.ts {
			if t >= cut {
				j := a.idx[k]
				s[0] += float64(r.rgb[j*3])
				s[1] += float64(r.rgb[j*3+1])
				s[2] += float64(r.rgb[j*3+2])
				n++
			}
		}
		c.c = [3]float64{s[0] / n, s[1] / n, s[2] / n}
		c.count = len(a.ts)
		out = append(out, c)
	}
	// Merge near-duplicates.
	var merged []cluster
	for _, c := range out {
		dup := false
		for j := range merged {
			_, dk := segmentCoverage(c.c, [3]float64{}, merged[j].c)
			if colorDist(c.c, merged[j].c) < 40 || sameHue(c.c, merged[j].c, r.bg) || (dk < 30 && float64(c.count) < 0.3*float64(merged[j].count)) {
				// Keep the more saturated colour: it is closer to the
				// series colour before blending.
				if colorDist(c.c, r.bg) > colorDist(merged[j].c, r.bg) {
					merged[j].c = c.c
				}
				merged[j].count += c.count
				dup = true
				break
			}
		}
		if !dup {
			merged = append(merged, c)
		}
	}
	return merged
}

// component is a connected region of one series colour.
type component struct {
	cl             int
	x0, y0, x1, y1 int // inclusive bbox
	area           int
	alpha          float64
	id             int
}

func (c component) w() int        { return c.x1 - c.x0 + 1 }
func (c component) h() int        { return c.y1 - c.y0 + 1 }
func (c component) fill() float64 { return float64(c.area) / float64(c.w()*c.h()) }
func (c component) cx() float64   { return float64(c.x0+c.x1+1) / 2 }
func (c component) cy() float64   { return float64(c.y0+c.y1+1) / 2 }

// components labels 8-connected regions of equal series colour.
func components(lm *labelMap) ([]component, []int32) {
	ids := make([]int32, lm.w*lm.h)
	for i := range ids {
		ids[i] = -1
	}
	var comps []component
	stack := make([]int, 0, 1024)
	for start, l := range lm.lab {
		if l < 0 || ids[start] >= 0 {
			continue
		}
		id := int32(len(comps))
		c := component{cl: int(l), x0: lm.w, y0: lm.h, x1: -1, y1: -1, id: int(id)}
		stack = append(stack[:0], start)
		ids[start] = id
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%lm.w, p/lm.w
			c.area++
			c.alpha += float64(lm.alpha[p])
			c.x0, c.x1 = min(c.x0, x), max(c.x1, x)
			c.y0, c.y1 = min(c.y0, y), max(c.y1, y)
			for dy := -1; dy <= 1; dy++ {
				yy := y + dy
				if yy < 0 || yy >= lm.h {
					continue
				}
				for dx := -1; dx <= 1; dx++ {
					xx := x + dx
					if xx < 0 || xx >= lm.w {
						continue
					}
					q := yy*lm.w + xx
					if ids[q] < 0 && lm.lab[q] == l {
						ids[q] = id
						stack = append(stack, q)
					}
				}
			}
		}
		comps = append(comps, c)
	}
	return comps, ids
}

// mergeFringes folds colours that only occur along the edges of another
// colour (the anti-aliased or JPEG-blurred rim of a line or bar) into that
// colour. Two real series touch only where they cross or abut, so most of a
// real series lies away from every other series.
func mergeFringes(cl []cluster, lm *labelMap, bg [3]float64) []cluster {
	if len(cl) < 2 {
		return cl
	}
	w, h := lm.w, lm.h
	const rad = 2
	near := make([][]bool, len(cl))
	for ci := range cl {
		m := make([]bool, w*h)
		tmp := make([]bool, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if lm.lab[y*w+x] != int16(ci) {
					continue
				}
				for dx := -rad; dx <= rad; dx++ {
					if xx := x + dx; xx >= 0 && xx < w {
						tmp[y*w+xx] = true
					}
				}
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !tmp[y*w+x] {
					continue
				}
				for dy := -rad; dy <= rad; dy++ {
					if yy := y + dy; yy >= 0 && yy < h {
						m[yy*w+x] = true
					}
				}
			}
		}
		near[ci] = m
	}
	count := make([]int, len(cl))
	adj := make([][]int, len(cl))
	for ci := range adj {
		adj[ci] = make([]int, len(cl))
	}
	for i, l := range lm.lab {
		if l < 0 {
			continue
		}
		count[l]++
		for cj := range cl {
			if cj != int(l) && near[cj][i] {
				adj[l][cj]++
			}
		}
	}
	target := make([]int, len(cl))
	for ci := range cl {
		target[ci] = ci
		best := 0.0
		for cj := range cl {
			if cj == ci || count[cj] <= count[ci] {
				continue
			}
			// Only a blend of cj with the background or with dark ink can
			// be its fringe; a distinct hue is a series of its own.
			_, dl := segmentCoverage(cl[ci].c, bg, cl[cj].c)
			_, dd := segmentCoverage(cl[ci].c, [3]float64{}, cl[cj].c)
			if dl > 45 && dd > 25 {
				continue
			}
			if f := float64(adj[ci][cj]) / float64(max(count[ci], 1)); f > 0.7 && f > best {
				target[ci], best = cj, f
			}
		}
	}
	// Follow chains and reindex.
	newIdx := make([]int, len(cl))
	var out []cluster
	for ci := range cl {
		if target[ci] == ci {
			newIdx[ci] = len(out)
			out = append(out, cl[ci])
		}
	}
	if len(out) == len(cl) {
		return cl
	}
	root := func(c int) int {
		for i := 0; i < len(cl) && target[c] != c; i++ {
			c = target[c]
		}
		return c
	}
	for i, l := range lm.lab {
		if l >= 0 {
			lm.lab[i] = int16(newIdx[root(int(l))])
		}
	}
	return out
}
