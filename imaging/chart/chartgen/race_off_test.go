//go:build !race

package chartgen

const raceEnabled = false
