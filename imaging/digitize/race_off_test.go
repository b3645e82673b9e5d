//go:build accuracy && !race

package digitize_test

const raceEnabled = false
