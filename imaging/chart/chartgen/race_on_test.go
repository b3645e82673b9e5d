//go:build race

package chartgen

// raceEnabled trims rendering work in tests; the race detector slows the
// per-pixel loops about tenfold.
const raceEnabled = true
