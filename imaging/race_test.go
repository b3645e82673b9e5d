//go:build race

package imaging

// raceEnabled skips the slowest whole-page comparisons under -race, where
// per-pixel loops run about 20 times slower; they run in plain go test.
const raceEnabled = true
