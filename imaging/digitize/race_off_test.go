//go:build !race

package digitize_test

const raceEnabled = false
