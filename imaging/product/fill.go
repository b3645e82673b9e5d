package product

// Scanline flood fill over a byte-per-pixel state bitmap. A map-keyed or
// per-pixel recursive fill is far too slow at 10 MP; this one touches each
// pixel a small constant number of times and keeps one stack entry per run.

type point struct{ x, y int32 }

// fillStats describes the pixels one fill changed; the box is [x0,x1)x[y0,y1).
type fillStats struct {
	n              int
	x0, y0, x1, y1 int
}

// filler owns the explicit stack so repeated fills reuse it.
type filler struct {
	st    []uint8
	w, h  int
	stack []point
}

// fill changes the connected region of value from that contains (sx,sy) to
// value to (from != to), with 4-connectivity, or 8-connectivity when diag.
func (f *filler) fill(sx, sy int, from, to uint8, diag bool) fillStats {
	st, w, h := f.st, f.w, f.h
	s := fillStats{x0: w, y0: h}
	if st[sy*w+sx] != from {
		return s
	}
	stack := append(f.stack[:0], point{int32(sx), int32(sy)})
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := int(p.x), int(p.y)
		row := st[y*w : y*w+w]
		if row[x] != from {
			continue
		}
		xl, xr := x, x
		for xl > 0 && row[xl-1] == from {
			xl--
		}
		for xr < w-1 && row[xr+1] == from {
			xr++
		}
		for i := xl; i <= xr; i++ {
			row[i] = to
		}
		s.n += xr - xl + 1
		s.x0, s.x1 = min(s.x0, xl), max(s.x1, xr+1)
		s.y0, s.y1 = min(s.y0, y), max(s.y1, y+1)
		lo, hi := xl, xr
		if diag {
			lo, hi = max(0, xl-1), min(w-1, xr+1)
		}
		for _, ny := range [2]int{y - 1, y + 1} {
			if ny < 0 || ny >= h {
				continue
			}
			nrow := st[ny*w : ny*w+w]
			in := false
			for i := lo; i <= hi; i++ {
				if nrow[i] == from {
					if !in {
						stack = append(stack, point{int32(i), int32(ny)})
						in = true
					}
				} else {
					in = false
				}
			}
		}
	}
	f.stack = stack
	return s
}

// fillFromBorder fills every region of value from that touches the image
// border, 4-connected.
func (f *filler) fillFromBorder(from, to uint8) {
	w, h := f.w, f.h
	for x := range w {
		f.fill(x, 0, from, to, false)
		f.fill(x, h-1, from, to, false)
	}
	for y := range h {
		f.fill(0, y, from, to, false)
		f.fill(w-1, y, from, to, false)
	}
}

// components labels every 8-connected region of value from as to, calling
// fn with a seed pixel index and the region's stats.
func (f *filler) components(from, to uint8, fn func(seed int, s fillStats)) {
	for i, v := range f.st {
		if v != from {
			continue
		}
		s := f.fill(i%f.w, i/f.w, from, to, true)
		fn(i, s)
	}
}
