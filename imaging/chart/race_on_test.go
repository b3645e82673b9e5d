//go:build race

package chart

// raceEnabled trims the corpus tests: the race detector slows the pixel
// loops about tenfold and the figures are not what it checks.
const raceEnabled = true
