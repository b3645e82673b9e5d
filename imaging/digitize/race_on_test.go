//go:build accuracy && race

package digitize_test

// raceEnabled: the accuracy tests refuse to run under -race, where the
// figures are not what is checked and the pixel loops run ten times slower.
const raceEnabled = true
